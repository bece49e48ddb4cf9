"""Follow one execution until it ends or waits for someone, printing each stage as it passes.

`follow` polls `get_pipeline_execution` (is it over?) and `get_pipeline_state` (which stage is
where) every `interval` seconds, through an injected `sleep` so tests never wait. It stops at a
waypoint a person or the clock must pass: a manual approval (unless `through_approval`), or a
stage held by its deployment window (unless `through_window`), after printing what the `Guide`
says there (who can approve and the exact commands; until when the window is closed). It
returns an `Outcome`; `outcome_error` turns it into the error and exit code the CLI reports.

Deciding what to print from one state snapshot is pure (`stage_events`, `awaiting_approval`,
`held_stage`). Line-based output keeps CI logs readable; nothing here redraws the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from botocore.client import BaseClient

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE
from cicd.errors import AwaitsApproval, CicdError, HeldByWindow, ReleaseFailed, TimedOut
from cicd.formatting import PLAIN, Style, short_id
from cicd.releases import TERMINAL_STATUSES

Sleep = Callable[[float], None]

DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3600.0

OutcomeKind = Literal["succeeded", "ended", "timed_out", "awaits_approval", "held_by_window"]


@dataclass(frozen=True)
class StageEvent:
    """A stage of the followed execution reached `status`; `detail` explains failures."""

    stage: str
    status: str
    detail: str = ""

    def line(self, style: Style = PLAIN) -> str:
        detail = f"  {self.detail}" if self.detail else ""
        return f"  {self.stage:<10} {style.status(self.status)}{detail}"


@dataclass(frozen=True)
class Outcome:
    """Where following stopped: the execution's status then, and why following stopped."""

    kind: OutcomeKind
    status: str
    detail: str = ""
    stage: str | None = None


def _generic_approval() -> list[str]:
    return ["  Answer it with `cicd approve` or `cicd reject --reason TEXT`."]


def _generic_window(stage: str) -> list[str]:
    return [f"  {stage} opens when its deployment window does."]


@dataclass(frozen=True)
class Guide:
    """What to tell people at a waypoint; the command that follows knows the service, stage,
    commit and window, and supplies the lines."""

    approval: Callable[[], list[str]] = field(default=_generic_approval)
    window: Callable[[str], list[str]] = field(default=_generic_window)


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


def follow(
    codepipeline: BaseClient,
    pipeline: str,
    execution_id: str,
    *,
    out: TextIO,
    sleep: Sleep,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    through_approval: bool = False,
    through_window: bool = False,
    guide: Guide | None = None,
    style: Style | None = None,
) -> Outcome:
    """Print stage transitions until the execution ends or stops at a waypoint."""
    guide, style = guide or Guide(), style or PLAIN
    out.write(
        f"Following execution {short_id(execution_id)} of {pipeline} "
        "(Ctrl-C stops following, not the release)\n"
    )
    out.flush()
    seen: dict[str, str] = {}
    told: set[str] = set()
    failure = ""
    status = "?"
    polls = max(1, math.ceil(timeout / interval))
    for poll in range(polls + 1):
        execution = codepipeline.get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        status = str(execution.get("status", "?"))
        state = codepipeline.get_pipeline_state(name=pipeline)
        for event in stage_events(state, execution_id, seen):
            seen[event.stage] = event.status
            failure = event.detail or failure
            out.write(event.line(style) + "\n")
        if status in TERMINAL_STATUSES:
            out.flush()
            if status == "Succeeded":
                out.write(f"Release {short_id(execution_id)} of {pipeline} succeeded.\n")
                return Outcome("succeeded", status)
            return Outcome("ended", status, str(execution.get("statusSummary") or failure))
        if awaiting_approval(state, execution_id) and "approval" not in told:
            told.add("approval")
            out.writelines(line + "\n" for line in guide.approval())
            if not through_approval:
                out.flush()
                return Outcome("awaits_approval", status, stage=APPROVAL_STAGE)
        held = held_stage(state, execution_id)
        if held is not None and f"window:{held}" not in told:
            told.add(f"window:{held}")
            out.writelines(line + "\n" for line in guide.window(held))
            if not through_window:
                out.flush()
                return Outcome("held_by_window", status, stage=held)
        out.flush()
        if poll < polls:
            sleep(interval)
    return Outcome("timed_out", status, f"still running after {int(timeout)}s")


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
