"""Start a rollback of the Deploy stage (`rollback_stage`), and word AWS's refusals.

Choosing the target is `cicd.decide.rollback`; this module makes the one call.
"""

from __future__ import annotations

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.contract import DEPLOY_STAGE
from cicd.errors import Refused
from cicd.model.release import Release

# AWS rolls a stage back only to an execution started under the pipeline's current structure;
# any `pulumi up` that changes the pipeline starts a new one. These are its refusals:
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_RollbackStage.html
STRUCTURE_REFUSALS = {"PipelineExecutionOutdatedException", "UnableToRollbackStageException"}


def roll_back(codepipeline: BaseClient, pipeline: str, target: Release) -> str:
    """Roll `pipeline`'s Deploy stage back to `target`; returns the rollback execution's id.

    When AWS refuses because the target ran on an older pipeline structure, the refusal says
    so and what to do instead (redeploy that commit), rather than AWS's generic text.
    """
    try:
        response = codepipeline.rollback_stage(
            pipelineName=pipeline,
            stageName=DEPLOY_STAGE,
            targetPipelineExecutionId=target.execution_id,
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in STRUCTURE_REFUSALS:
            raise
        outdated = code == "PipelineExecutionOutdatedException"
        raise Refused(
            f"AWS cannot roll {pipeline} back to {target.describe()}: "
            + (
                "it ran on an earlier version of the pipeline, "
                if outdated
                else "most likely it ran on an earlier version of the pipeline, "
            )
            + "and a stage rolls back only to executions of the current structure (every "
            "`pulumi up` that changes the pipeline starts a new one)",
            f"redeploy that commit instead: {redeploy_hint(target)}",
        ) from error
    return str(response["pipelineExecutionId"])


def redeploy_hint(target: Release) -> str:
    """The command that puts the target's commit back without a stage rollback."""
    commit = target.commit or "<sha>"
    return f"`cicd promote ... --commit {commit}` (promoted) or `cicd release --commit {commit}`"
