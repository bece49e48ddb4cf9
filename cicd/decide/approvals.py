"""What waits for approval, and whether it is the commit the user named: pure, no AWS calls.

`find_pending_approval` reads a `get_pipeline_state` document: the `Approval`/`Approve` action
in progress, with its token. `check_commit` refuses when `--commit` names another (or an
unknown) commit than the one waiting. Approvals are refused rather than guessed: nothing
waiting, or a different commit waiting than the one named, ends the command without touching
the pipeline. Sending the answer is `cicd.aws.approvals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE
from cicd.decide.commits import commit_matches
from cicd.errors import Refused
from cicd.model.release import PendingApproval
from cicd.text import short_sha


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
