"""Answer the manual approval a release waits at, and find the commit it waits with.

`with_commit` reads the waiting execution's source revision (for a promoted pipeline: the
manifest of the release version it deploys); `answer` sends Approved or Rejected. Finding what
waits, and checking it against `--commit`, are decisions (`cicd.decide.approvals`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from botocore.client import BaseClient

from cicd.aws.executions import get_release
from cicd.aws.manifests import Manifests, with_manifest
from cicd.contract import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    DESCRIBE_ACTION,
    EVIDENCE_OUTPUTS,
    SOURCE_STAGE,
)
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import PendingApproval


def source_commit_in_state(state: Mapping[str, Any], execution_id: str) -> str | None:
    """The Source stage's current revision, when that stage last ran for `execution_id`."""
    stage = next(
        (s for s in state.get("stageStates", []) if s.get("stageName") == SOURCE_STAGE), None
    )
    if stage is None or stage.get("latestExecution", {}).get("pipelineExecutionId") != execution_id:
        return None
    for action in stage.get("actionStates", []):
        revision = action.get("currentRevision", {}).get("revisionId")
        if revision:
            return str(revision)
    return None


def with_commit(
    codepipeline: BaseClient,
    state: Mapping[str, Any],
    pending: PendingApproval,
    layout: PipelineLayout,
    manifests: Manifests,
) -> PendingApproval:
    """`pending` with the commit it waits with: the execution's source revision.

    For a promoted pipeline the revision is an object version, and the commit is the one its
    manifest names.
    """
    release = get_release(codepipeline, pending.pipeline, pending.execution_id, layout.source)
    revision = source_commit_in_state(state, pending.execution_id)
    if layout.promoted is not None:
        version = release.version_id or revision
        release = with_manifest(replace(release, version_id=version), layout, manifests)
        return replace(
            pending,
            commit=release.commit,
            message=release.message,
            version_id=version,
            problem=release.manifest_problem,
        )
    return replace(pending, commit=release.commit or revision, message=release.message)


def answer(
    codepipeline: BaseClient, pending: PendingApproval, *, approved: bool, summary: str
) -> None:
    """Send Approved or Rejected for the pending approval."""
    codepipeline.put_approval_result(
        pipelineName=pending.pipeline,
        stageName=APPROVAL_STAGE,
        actionName=APPROVAL_ACTION,
        result={"summary": summary, "status": "Approved" if approved else "Rejected"},
        token=pending.token,
    )


def approval_evidence(
    codepipeline: BaseClient, pipeline: str, execution_id: str
) -> dict[str, str] | None:
    """The evidence the waiting execution's Describe step exported (its output variables, as
    CodePipeline keeps them with the execution), or None when it exported none."""
    request: dict[str, Any] = {
        "pipelineName": pipeline,
        "filter": {"pipelineExecutionId": execution_id},
    }
    while True:
        page = codepipeline.list_action_executions(**request)
        for detail in page.get("actionExecutionDetails", []):
            if (
                detail.get("stageName") == APPROVAL_STAGE
                and detail.get("actionName") == DESCRIBE_ACTION
            ):
                variables = detail.get("output", {}).get("outputVariables", {})
                if any(name in variables for name in EVIDENCE_OUTPUTS):
                    return {str(k): str(v) for k, v in variables.items()}
                return None
        if not page.get("nextToken"):
            return None
        request["nextToken"] = page["nextToken"]
