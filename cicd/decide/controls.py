"""What the release controls may do, decided before any change: pure, no AWS calls.

- `check_freeze_reason`, `check_stop_reason` and `check_announced_reason` hold a reason to
  AWS's limits before anything is sent (a clear usage error, never a silent rewrite);
- `check_deploy_stage` refuses a pipeline without a Deploy stage;
- `held_condition` finds the execution whose deployment window or bake is being evaluated now
  (`cicd override`), refusing with what to do instead when none is;
- `retryable_stage` finds the failed (or stopped) stage of the newest execution (`cicd retry`);
- `check_stoppable` refuses an execution that has already ended (`cicd stop`);
- `over_30_days` tells when re-enabling a transition no longer resumes by itself.

The state documents are `get_pipeline_state` answers; the histories come from `cicd.aws`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cicd.contract import DEPLOY_STAGE
from cicd.errors import Refused, UsageError
from cicd.model.controls import Freeze, HeldCondition, RetryableStage
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import TERMINAL_STATUSES, Release
from cicd.text import format_time, short_id

# DisableStageTransition's `reason` (API reference): 1-300 characters matching this pattern.
FREEZE_REASON_MAX = 300
FREEZE_REASON_CHARACTERS = "letters a-z A-Z, digits 0-9, spaces and ! @ ( ) . * ? -"
_FREEZE_REASON = re.compile(r"[a-zA-Z0-9!@ ().*?\-]+")
# StopPipelineExecution's `reason`: at most 200 characters, any.
STOP_REASON_MAX = 200
# An override's reason goes only into the message on the release topic.
ANNOUNCED_REASON_MAX = 1000
# "Pipeline execution won't resume for a transition that has been disabled more than 30 days
# unless a new change is detected or you manually rerun the pipeline." (CodePipeline user guide,
# transitions.html)
RESUME_LIMIT = timedelta(days=30)

# `--condition` on the command line -> the condition type and the GetPipelineState key.
CONDITIONS: dict[str, tuple[str, str]] = {
    "window": ("BEFORE_ENTRY", "beforeEntryConditionState"),
    "bake": ("ON_SUCCESS", "onSuccessConditionState"),
}
RETRYABLE_STATUSES = ("Failed", "Stopped")


def check_freeze_reason(reason: str) -> str:
    """`reason` when AWS accepts it for DisableStageTransition; UsageError naming what does not."""
    if not reason:
        raise UsageError(
            "--reason is empty: a freeze needs a reason (1 to 300 characters)",
            f"allowed characters: {FREEZE_REASON_CHARACTERS}",
        )
    if len(reason) > FREEZE_REASON_MAX:
        raise UsageError(
            f"--reason is {len(reason)} characters; AWS allows at most {FREEZE_REASON_MAX} for "
            "a disabled transition",
            "shorten it; put the details in the incident ticket and the reason's id here",
        )
    if not _FREEZE_REASON.fullmatch(reason):
        refused = sorted({c for c in reason if not _FREEZE_REASON.fullmatch(c)})
        shown = " ".join(repr(c) for c in refused)
        raise UsageError(
            f"--reason contains characters AWS does not accept for a disabled transition: {shown}",
            f"allowed characters: {FREEZE_REASON_CHARACTERS} (no _ , : / # or quotes); cicd "
            "does not rewrite a reason, so reword it",
        )
    return reason


def check_stop_reason(reason: str) -> str:
    """`reason` when it fits StopPipelineExecution (1 to 200 characters)."""
    if not reason.strip():
        raise UsageError("--reason is empty: say why the execution is stopped")
    if len(reason) > STOP_REASON_MAX:
        raise UsageError(
            f"--reason is {len(reason)} characters; AWS allows at most {STOP_REASON_MAX} for "
            "a stopped execution",
            "shorten it",
        )
    return reason


def check_announced_reason(reason: str) -> str:
    """An override's reason: one line of at most 1000 characters, said on the release topic."""
    if not reason.strip():
        raise UsageError("--reason is empty: say why the condition is overridden")
    if len(reason) > ANNOUNCED_REASON_MAX or "\n" in reason:
        raise UsageError(
            f"--reason must be one line of at most {ANNOUNCED_REASON_MAX} characters",
            "shorten it; link the incident ticket",
        )
    return reason


def check_deploy_stage(layout: PipelineLayout) -> None:
    """Refuse on a pipeline without a Deploy stage: there is nothing to freeze or override."""
    if DEPLOY_STAGE not in layout.stages:
        raise Refused(f"{layout.name} has no {DEPLOY_STAGE} stage")


def _stage(state: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((s for s in state.get("stageStates", []) if s.get("stageName") == name), {})


def deploy_execution(state: Mapping[str, Any]) -> str | None:
    """The execution running in Deploy now (None when Deploy is idle)."""
    latest = _stage(state, DEPLOY_STAGE).get("latestExecution", {})
    execution = latest.get("pipelineExecutionId")
    if execution and latest.get("status") in {"InProgress", "Stopping"}:
        return str(execution)
    return None


def inbound_executions(state: Mapping[str, Any]) -> list[str]:
    """The executions waiting at Deploy's entry, as GetPipelineState lists them."""
    stage = _stage(state, DEPLOY_STAGE)
    inbound = [stage.get("inboundExecution") or {}, *stage.get("inboundExecutions", [])]
    return list(
        dict.fromkeys(
            str(i["pipelineExecutionId"]) for i in inbound if i.get("pipelineExecutionId")
        )
    )


def _waiting_to_enter_deploy(state: Mapping[str, Any]) -> str | None:
    """The execution waiting at Deploy's entry: the one listed as inbound, or (when AWS lists
    none) the one that passed the stage before Deploy and has not entered it."""
    ids = inbound_executions(state)
    if len(ids) == 1:
        return ids[0]
    if ids:
        return None  # several wait: which one the condition evaluates is not reported
    stages = list(state.get("stageStates", []))
    names = [str(s.get("stageName")) for s in stages]
    position = names.index(DEPLOY_STAGE) if DEPLOY_STAGE in names else 0
    if position == 0:
        return None
    before = stages[position - 1].get("latestExecution", {})
    here = stages[position].get("latestExecution", {}).get("pipelineExecutionId")
    if before.get("status") == "Succeeded" and before.get("pipelineExecutionId") != here:
        return str(before["pipelineExecutionId"])
    return None


def held_condition(
    state: Mapping[str, Any], condition: str, pipeline: str, *, redeploy: str
) -> HeldCondition:
    """The Deploy condition (`window` or `bake`) in progress now, and the execution it holds.

    Refused (exit 3) when none is in progress, saying what AWS does instead: the window is
    checked when a release reaches Deploy and a release outside it fails there, and a failed
    condition cannot be overridden; `redeploy` is the command that releases it again.
    """
    condition_type, key = CONDITIONS[condition]
    stage = _stage(state, DEPLOY_STAGE)
    conditions = stage.get(key) or {}
    status = (conditions.get("latestExecution") or {}).get("status")
    # The stage-level summary has no time; each condition's own latest execution has one.
    changes = [
        c["latestExecution"]["lastStatusChange"]
        for c in conditions.get("conditionStates", [])
        if (c.get("latestExecution") or {}).get("lastStatusChange")
    ]
    changed = max(changes) if changes else None
    if status == "InProgress":
        if condition == "bake":
            execution = stage.get("latestExecution", {}).get("pipelineExecutionId")
        else:
            execution = _waiting_to_enter_deploy(state)
        if not execution:
            raise Refused(
                f"the {_LABELS[condition]} of {DEPLOY_STAGE} in {pipeline} is being evaluated, "
                "but AWS does not say for which execution",
                "override it in the console (the stage's condition), or wait for one "
                "execution to be waiting",
            )
        return HeldCondition(DEPLOY_STAGE, condition_type, str(execution), changed)
    at = f" at {format_time(changed)}" if changed else ""
    ended = f"; its last evaluation ended {status}{at}" if status else ""
    if condition == "window":
        raise Refused(
            f"no deployment window check is in progress at {DEPLOY_STAGE} of {pipeline}{ended}",
            "AWS checks the window when a release reaches Deploy, and one that arrives outside "
            "it fails there; a failed condition cannot be overridden. Release it again inside "
            f"the window: {redeploy}",
        )
    raise Refused(
        f"no bake is in progress in {DEPLOY_STAGE} of {pipeline}{ended}",
        "the bake (the on-success condition watching the alarms) runs after Deploy's actions "
        "succeed; `cicd status` shows where the release is",
    )


_LABELS = {"window": "deployment window", "bake": "bake"}


def condition_label(condition: str) -> str:
    """`deployment window` or `bake`: how people name the condition."""
    return _LABELS[condition]


def retryable_stage(
    state: Mapping[str, Any], newest: Release | None, pipeline: str
) -> RetryableStage:
    """The stage where the newest execution failed or was stopped; Refused when none can be
    retried (AWS retries only the latest execution of a stage)."""
    if newest is None:
        raise Refused(f"nothing to retry: {pipeline} has no executions yet")
    if newest.status not in RETRYABLE_STATUSES:
        what = "a rollback" if newest.is_rollback else "execution"
        hint = {
            "Superseded": "a newer execution replaced it; release again to run this commit",
            "Succeeded": "it succeeded: nothing failed",
        }.get(newest.status, "`cicd follow` follows it; retry once a stage has failed")
        raise Refused(
            f"nothing to retry in {pipeline}: the newest execution ({what} "
            f"{short_id(newest.execution_id)}) is {newest.status}",
            hint,
        )
    for stage in state.get("stageStates", []):
        latest = stage.get("latestExecution", {})
        if (
            latest.get("pipelineExecutionId") == newest.execution_id
            and latest.get("status") in RETRYABLE_STATUSES
        ):
            return RetryableStage(
                str(stage.get("stageName")), newest.execution_id, str(latest["status"])
            )
    raise Refused(
        f"execution {short_id(newest.execution_id)} of {pipeline} ended {newest.status}, but no "
        "stage shows it failed any more: another execution has entered that stage since",
        "AWS cannot retry an execution another one superseded; release again instead",
    )


def check_stoppable(release: Release, pipeline: str) -> None:
    """Refuse to stop an execution that has already ended."""
    if release.status in TERMINAL_STATUSES:
        raise Refused(
            f"execution {short_id(release.execution_id)} of {pipeline} already ended "
            f"{release.status}: nothing to stop"
        )


def over_30_days(freeze: Freeze | None, now: datetime) -> bool:
    """True when the transition has been disabled for more than 30 days: AWS then does not
    resume the pipeline on re-enabling it."""
    return bool(
        freeze is not None
        and freeze.frozen
        and freeze.changed_at is not None
        and now - freeze.changed_at > RESUME_LIMIT
    )
