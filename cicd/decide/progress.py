"""Where a followed execution is, from one state snapshot: pure, no AWS calls.

`stage_events` lists the stages that changed since the last poll; `awaiting_approval` and
`held_stage` tell when the execution waits at a waypoint a person or the clock must pass (a
manual approval, a stage held by its deployment window). `outcome_error` turns where following
stopped (`Outcome`) into the error and exit code the CLI reports. The polling loop that feeds
these is `cicd.cli.following`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE
from cicd.errors import AwaitsApproval, CicdError, HeldByWindow, ReleaseFailed, TimedOut
from cicd.model.run import Outcome, StageEvent
from cicd.text import short_id


def _failure_detail(stage: Mapping[str, Any]) -> str:
    """`action: error message (link)` for the first failed action of a stage."""
    for action in stage.get("actionStates", []):
        latest = action.get("latestExecution", {})
        if latest.get("status") == "Failed":
            message = latest.get("errorDetails", {}).get("message") or latest.get("summary", "")
            url = latest.get("externalExecutionUrl")
            link = f" ({url})" if url else ""
            return f"{action.get('actionName', '?')}: {message}{link}".strip()
    return ""


def stage_events(
    state: Mapping[str, Any], execution_id: str, seen: Mapping[str, str]
) -> list[StageEvent]:
    """Stages of `execution_id` whose status differs from `seen` (stage name -> last status).

    Stages the execution has not reached still show an older execution's status: those are
    skipped by matching the stage's latest execution id.
    """
    events: list[StageEvent] = []
    for stage in state.get("stageStates", []):
        latest = stage.get("latestExecution", {})
        if latest.get("pipelineExecutionId") != execution_id:
            continue
        name, status = str(stage.get("stageName", "?")), str(latest.get("status", "?"))
        if seen.get(name) == status:
            continue
        detail = _failure_detail(stage) if status == "Failed" else ""
        events.append(StageEvent(name, status, detail))
    return events


def awaiting_approval(state: Mapping[str, Any], execution_id: str) -> bool:
    """True while `execution_id` waits at the manual approval action."""
    for stage in state.get("stageStates", []):
        if stage.get("stageName") != APPROVAL_STAGE:
            continue
        latest = stage.get("latestExecution", {})
        if latest.get("pipelineExecutionId") != execution_id or latest.get("status") != (
            "InProgress"
        ):
            return False
        return any(
            a.get("actionName") == APPROVAL_ACTION
            and a.get("latestExecution", {}).get("status") == "InProgress"
            for a in stage.get("actionStates", [])
        )
    return False


def held_stage(state: Mapping[str, Any], execution_id: str) -> str | None:
    """The stage `execution_id` waits to enter while its before-entry condition is evaluated.

    The condition state carries no execution id: the execution is taken to be the one waiting
    when it is listed as inbound to that stage, or when it has passed the stage before and has
    not entered this one.
    """
    previous_done = False
    for stage in state.get("stageStates", []):
        latest = stage.get("latestExecution", {})
        inbound = [stage.get("inboundExecution") or {}, *stage.get("inboundExecutions", [])]
        condition = stage.get("beforeEntryConditionState", {}).get("latestExecution", {})
        here = latest.get("pipelineExecutionId") == execution_id
        if condition.get("status") == "InProgress" and (
            any(i.get("pipelineExecutionId") == execution_id for i in inbound)
            or (previous_done and not here)
        ):
            return str(stage.get("stageName", "?"))
        previous_done = here and latest.get("status") == "Succeeded"
    return None


def outcome_error(
    outcome: Outcome, pipeline: str, execution_id: str, *, follow_again: str
) -> CicdError | None:
    """The error (and exit code) for an outcome; None when the release succeeded.

    `follow_again` is the command that re-attaches to this execution.
    """
    release = f"release {short_id(execution_id)} of {pipeline}"
    if outcome.kind == "succeeded":
        return None
    if outcome.kind == "awaits_approval":
        return AwaitsApproval(
            f"{release} waits for approval; stopped following",
            f"answer it with the commands above; `{follow_again}` follows it again",
        )
    if outcome.kind == "held_by_window":
        return HeldByWindow(
            f"{release} is held before {outcome.stage} until its deployment window opens; "
            "stopped following",
            f"`{follow_again}` follows it again (add --through-window to wait it out)",
        )
    if outcome.kind == "timed_out":
        return TimedOut(
            f"execution {short_id(execution_id)} of {pipeline} is {outcome.detail}",
            f"it keeps running in AWS; `{follow_again}` follows it again",
        )
    reason = f": {outcome.detail}" if outcome.detail else ""
    hint = {
        "Superseded": "a newer execution replaced it; follow that one with `cicd status`",
        "Stopped": "someone stopped it; `cicd releases` shows what runs now",
    }.get(outcome.status, "see the failed action's logs with `cicd logs`, or `cicd info`")
    return ReleaseFailed(f"{release} ended {outcome.status}{reason}", hint)
