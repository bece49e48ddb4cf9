"""Answer the manual approval a release waits at (`approve` / `reject`).

Finding what waits is pure (`find_pending_approval` reads a `get_pipeline_state` document); the
commit it waits with comes from that execution's source revision (for a promoted pipeline: the
manifest of the release version it deploys); `answer` sends the result.
Approvals are refused rather than guessed: nothing waiting, or a different commit waiting than
the one named, ends the command without touching the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE, SOURCE_STAGE
from cicd.errors import Refused
from cicd.formatting import short_sha
from cicd.layout import PipelineLayout
from cicd.manifests import Manifests
from cicd.releases import commit_matches, get_release, with_manifest


@dataclass(frozen=True)
class PendingApproval:
    """The approval action waiting for an answer, and the execution it holds back."""

    pipeline: str
    execution_id: str
    token: str
    since: datetime | None
    commit: str | None = None
    message: str | None = None
    version_id: str | None = None
    # Why the commit is unknown, when a promoted release's manifest could not be read.
    problem: str | None = None


def _stage(state: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    return next((s for s in state.get("stageStates", []) if s.get("stageName") == name), None)


def find_pending_approval(state: Mapping[str, Any], pipeline: str) -> PendingApproval:
    """The InProgress `Approval`/`Approve` action with its token; Refused when none waits."""
    stage = _stage(state, APPROVAL_STAGE)
    if stage is None:
        raise Refused(
            f"{pipeline} has no {APPROVAL_STAGE} stage: its releases deploy without approval"
        )
    action = next(
        (a for a in stage.get("actionStates", []) if a.get("actionName") == APPROVAL_ACTION),
        None,
    )
    latest = (action or {}).get("latestExecution", {})
    if latest.get("status") != "InProgress" or not latest.get("token"):
        last = latest.get("status")
        was = f" (the last approval ended {last})" if last else ""
        raise Refused(
            f"nothing waits for approval in {pipeline}{was}",
            "`cicd status` shows where the latest release is",
        )
    execution_id = stage.get("latestExecution", {}).get("pipelineExecutionId", "")
    return PendingApproval(
        pipeline=pipeline,
        execution_id=str(execution_id),
        token=str(latest["token"]),
        since=latest.get("lastStatusChange"),
    )


def source_commit_in_state(state: Mapping[str, Any], execution_id: str) -> str | None:
    """The Source stage's current revision, when that stage last ran for `execution_id`."""
    stage = _stage(state, SOURCE_STAGE)
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


def check_commit(pending: PendingApproval, expected: str | None) -> None:
    """Refuse when `--commit` was given and a different (or unknown) commit waits."""
    if expected is None:
        return
    if pending.commit is None:
        why = f" (its release manifest: {pending.problem})" if pending.problem else ""
        raise Refused(
            f"cannot tell which commit waits for approval in {pending.pipeline}{why}, "
            f"so it cannot be checked against {expected}",
            "run again without --commit after checking the execution in the console",
        )
    if not commit_matches(pending.commit, expected):
        raise Refused(
            f"the release waiting in {pending.pipeline} is commit {short_sha(pending.commit)}, "
            f"not {expected}",
            "`cicd status` shows what waits; approve it without --commit or wait for yours",
        )


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
