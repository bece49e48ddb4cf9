"""Follow one execution until it ends, printing each stage as it starts and finishes.

`follow` polls `get_pipeline_execution` (is it over?) and `get_pipeline_state` (which stage is
where) every `interval` seconds, through an injected `sleep` so tests never wait. Deciding what
to print from one state snapshot is pure (`stage_events`). Line-based output keeps CI logs
readable; nothing here redraws the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.client import BaseClient

from cicd.errors import ReleaseFailed, TimedOut
from cicd.formatting import short_id
from cicd.releases import TERMINAL_STATUSES

Sleep = Callable[[float], None]

DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3600.0


@dataclass(frozen=True)
class StageEvent:
    """A stage of the followed execution reached `status`; `detail` explains failures."""

    stage: str
    status: str
    detail: str = ""

    def line(self) -> str:
        detail = f"  {self.detail}" if self.detail else ""
        return f"  {self.stage:<10} {self.status}{detail}"


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


def follow(
    codepipeline: BaseClient,
    pipeline: str,
    execution_id: str,
    *,
    out: TextIO,
    sleep: Sleep,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Print stage transitions until the execution ends; raise unless it Succeeded."""
    out.write(
        f"Following execution {short_id(execution_id)} of {pipeline} "
        "(Ctrl-C stops following, not the release)\n"
    )
    out.flush()
    seen: dict[str, str] = {}
    failure = ""
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
            out.write(event.line() + "\n")
        out.flush()
        if status in TERMINAL_STATUSES:
            _finish(status, execution, pipeline, execution_id, failure, out)
            return
        if poll < polls:
            sleep(interval)
    raise TimedOut(
        f"execution {short_id(execution_id)} of {pipeline} is still running after {int(timeout)}s",
        "it keeps running in AWS; check on it with `cicd status` or `cicd releases`",
    )


def _finish(
    status: str,
    execution: Mapping[str, Any],
    pipeline: str,
    execution_id: str,
    failure: str,
    out: TextIO,
) -> None:
    if status == "Succeeded":
        out.write(f"Release {short_id(execution_id)} of {pipeline} succeeded.\n")
        return
    summary = execution.get("statusSummary") or failure
    reason = f": {summary}" if summary else ""
    hint = {
        "Superseded": "a newer execution replaced it; follow that one with `cicd status`",
        "Stopped": "someone stopped it; `cicd releases` shows what runs now",
    }.get(status, "see the failed action's logs in the CodePipeline console")
    raise ReleaseFailed(
        f"release {short_id(execution_id)} of {pipeline} ended {status}{reason}", hint
    )
