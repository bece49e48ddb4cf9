"""The release controls' CodePipeline calls: freeze and unfreeze Deploy, override a stage
condition, retry a failed stage, stop an execution; and reading a freeze from the pipeline state.

Each call is one request; AWS's refusals that have a known cause are worded here (exit 3), with
what to do instead. Which execution, stage or condition a command means is decided before these
run (`cicd.decide.controls`); nothing here chooses.

AWS facts these rely on (API reference pages of each operation): DisableStageTransition takes a
`reason` of 1-300 characters of `[a-zA-Z0-9!@ ().*?-]`; EnableStageTransition takes none;
OverrideStageCondition overrides only BEFORE_ENTRY and ON_SUCCESS conditions, of the latest
execution; RetryStageExecution retries `FAILED_ACTIONS` or `ALL_ACTIONS` of the latest
execution's failed stage; StopPipelineExecution takes `abandon` and a `reason` of at most 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.contract import DEPLOY_STAGE
from cicd.errors import Refused
from cicd.model.controls import Freeze
from cicd.text import short_id

TRANSITION = "Inbound"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _said(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip()


def freeze_in_state(state: Mapping[str, Any]) -> Freeze | None:
    """The Deploy stage's inbound transition in a `get_pipeline_state` document (None without a
    Deploy stage or when AWS reports no transition state)."""
    stage = next(
        (s for s in state.get("stageStates", []) if s.get("stageName") == DEPLOY_STAGE), None
    )
    transition = (stage or {}).get("inboundTransitionState")
    if transition is None:
        return None
    enabled = bool(transition.get("enabled", True))
    return Freeze(
        frozen=not enabled,
        changed_by=transition.get("lastChangedBy") or None,
        changed_at=transition.get("lastChangedAt"),
        reason=(transition.get("disabledReason") or None) if not enabled else None,
    )


def freeze_deploy(codepipeline: BaseClient, pipeline: str, reason: str) -> None:
    """Disable the transition into Deploy: nothing new enters it until it is enabled again."""
    codepipeline.disable_stage_transition(
        pipelineName=pipeline, stageName=DEPLOY_STAGE, transitionType=TRANSITION, reason=reason
    )


def unfreeze_deploy(codepipeline: BaseClient, pipeline: str) -> None:
    """Enable the transition into Deploy again."""
    codepipeline.enable_stage_transition(
        pipelineName=pipeline, stageName=DEPLOY_STAGE, transitionType=TRANSITION
    )


def override_condition(
    codepipeline: BaseClient, pipeline: str, stage: str, execution_id: str, condition_type: str
) -> None:
    """Override a condition in progress; AWS's refusals worded (exit 3)."""
    try:
        codepipeline.override_stage_condition(
            pipelineName=pipeline,
            stageName=stage,
            pipelineExecutionId=execution_id,
            conditionType=condition_type,
        )
    except ClientError as error:
        code = _code(error)
        if code == "ConditionNotOverridableException":
            raise Refused(
                f"AWS does not allow overriding the {condition_type} condition of {stage} in "
                f"{pipeline} for execution {short_id(execution_id)}: {_said(error)}",
                "AWS overrides a condition only while it runs, and never one whose result is "
                "SKIP; `cicd status` shows where the release is",
            ) from error
        if code == "NotLatestPipelineExecutionException":
            raise Refused(
                f"execution {short_id(execution_id)} is no longer the latest in {stage} of "
                f"{pipeline}, so AWS will not override its condition",
                "run `cicd override` again: it reads which execution waits now",
            ) from error
        raise


def retry_stage(
    codepipeline: BaseClient, pipeline: str, stage: str, execution_id: str, mode: str
) -> str:
    """Retry the stage of `execution_id` (`FAILED_ACTIONS` or `ALL_ACTIONS`); the execution id."""
    try:
        response = codepipeline.retry_stage_execution(
            pipelineName=pipeline,
            stageName=stage,
            pipelineExecutionId=execution_id,
            retryMode=mode,
        )
    except ClientError as error:
        code = _code(error)
        if code == "StageNotRetryableException":
            raise Refused(
                f"AWS cannot retry {stage} of execution {short_id(execution_id)} in {pipeline}: "
                f"{_said(error)}",
                "a stage is retryable when some of its actions failed and none runs; after the "
                "pipeline's structure changed, or while another retry runs, it is not",
            ) from error
        if code == "NotLatestPipelineExecutionException":
            raise Refused(
                f"execution {short_id(execution_id)} is no longer the latest in {stage} of "
                f"{pipeline}: AWS retries only the latest",
                "`cicd status` shows what runs there now; release again to deploy this commit",
            ) from error
        raise
    return str(response["pipelineExecutionId"])


def stop_execution(
    codepipeline: BaseClient, pipeline: str, execution_id: str, *, abandon: bool, reason: str
) -> str:
    """Stop an execution (finishing or abandoning the actions in progress); the execution id."""
    try:
        response = codepipeline.stop_pipeline_execution(
            pipelineName=pipeline,
            pipelineExecutionId=execution_id,
            abandon=abandon,
            reason=reason,
        )
    except ClientError as error:
        code = _code(error)
        if code == "PipelineExecutionNotStoppableException":
            raise Refused(
                f"AWS cannot stop execution {short_id(execution_id)} of {pipeline}: "
                f"{_said(error) or 'it is not in a stoppable state'}",
                "it may have ended meanwhile; `cicd info` shows how it ended",
            ) from error
        if code == "DuplicatedStopRequestException":
            raise Refused(
                f"execution {short_id(execution_id)} of {pipeline} is already being stopped",
                "to stop it without waiting for the actions in progress, run again with --abandon"
                if not abandon
                else "wait for it to stop: `cicd follow` follows it",
            ) from error
        raise
    return str(response["pipelineExecutionId"])
