"""`cicd.aws.controls` against stubbed CodePipeline: the exact words of AWS's refusals to
override a condition, retry a stage or stop an execution (message and hint, exit 3).

The commands are tests/cicd/test_override.py and test_retry_stop.py.
"""

from __future__ import annotations

import pytest

from cicd.aws import controls
from cicd.errors import ExitCode, Refused
from tests.cicd.aws_fakes import StubbedAws, execution_id

PIPELINE = "shop-prod-pipeline"


def test_a_condition_aws_will_not_override_is_refused_with_what_aws_allows() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_client_error(
        "override_stage_condition",
        service_error_code="ConditionNotOverridableException",
        service_message="The condition result is SKIP.",
        expected_params={
            "pipelineName": PIPELINE,
            "stageName": "Deploy",
            "pipelineExecutionId": execution_id(4),
            "conditionType": "BEFORE_ENTRY",
        },
    )

    with pytest.raises(Refused) as raised:
        controls.override_condition(
            aws.client("codepipeline"), PIPELINE, "Deploy", execution_id(4), "BEFORE_ENTRY"
        )

    assert raised.value.exit_code == ExitCode.REFUSED
    assert raised.value.message == (
        f"AWS does not allow overriding the BEFORE_ENTRY condition of Deploy in {PIPELINE} for "
        f"execution {execution_id(4)[:8]}: The condition result is SKIP."
    )
    assert raised.value.hint == (
        "AWS overrides a condition only while it runs, and never one whose result is SKIP; "
        "`cicd status` shows where the release is"
    )


def test_a_stage_aws_cannot_retry_is_refused_with_when_a_stage_is_retryable() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_client_error(
        "retry_stage_execution",
        service_error_code="StageNotRetryableException",
        service_message="No failed actions.",
    )

    with pytest.raises(Refused) as raised:
        controls.retry_stage(
            aws.client("codepipeline"), PIPELINE, "Deploy", execution_id(4), "FAILED_ACTIONS"
        )

    assert raised.value.hint == (
        "a stage is retryable when some of its actions failed and none runs; after the "
        "pipeline's structure changed, or while another retry runs, it is not"
    )


def test_retrying_an_execution_that_is_no_longer_the_latest_says_what_to_do_instead() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_client_error(
        "retry_stage_execution",
        service_error_code="NotLatestPipelineExecutionException",
        service_message="Not the latest.",
    )

    with pytest.raises(Refused) as raised:
        controls.retry_stage(
            aws.client("codepipeline"), PIPELINE, "Deploy", execution_id(4), "ALL_ACTIONS"
        )

    assert raised.value.message == (
        f"execution {execution_id(4)[:8]} is no longer the latest in Deploy of {PIPELINE}: "
        "AWS retries only the latest"
    )
    assert raised.value.hint == (
        "`cicd status` shows what runs there now; release again to deploy this commit"
    )


def test_an_unstoppable_execution_without_a_reason_from_aws_gets_cicds_own() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_client_error(
        "stop_pipeline_execution",
        service_error_code="PipelineExecutionNotStoppableException",
        service_message="",
    )

    with pytest.raises(Refused) as raised:
        controls.stop_execution(
            aws.client("codepipeline"), PIPELINE, execution_id(4), abandon=False, reason="r"
        )

    assert raised.value.message == (
        f"AWS cannot stop execution {execution_id(4)[:8]} of {PIPELINE}: "
        "it is not in a stoppable state"
    )
