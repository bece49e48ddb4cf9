"""`cicd retry` (RetryStageExecution) and `cicd stop` (StopPipelineExecution), CodePipeline
stubbed: moto has neither, nor GetPipelineState.
"""

from __future__ import annotations

import json

import pytest

from tests.cicd.aws_fakes import (
    CliRunner,
    StubbedAws,
    action_state,
    execution_id,
    expect_discovery,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

PIPELINE = "web-staging-pipeline"


def _staging(aws: StubbedAws) -> None:
    aws.expect_pipeline("web", "staging", targets=[])


def _expect_retry(aws: StubbedAws, n: int, stage: str, mode: str) -> None:
    aws.codepipeline.add_response(
        "retry_stage_execution",
        {"pipelineExecutionId": execution_id(n)},
        {
            "pipelineName": PIPELINE,
            "stageName": stage,
            "pipelineExecutionId": execution_id(n),
            "retryMode": mode,
        },
    )


def _failed_in_deploy(aws: StubbedAws, status: str = "Failed") -> None:
    _staging(aws)
    aws.expect_state(
        PIPELINE,
        stage_state("Source", 6, "Succeeded"),
        stage_state("Test", 6, "Succeeded"),
        stage_state("Deploy", 6, status),
    )
    aws.expect_history(PIPELINE, [summary(6, status=status, commit=6, message="Faster search")], 1)


# ---------------------------------------------------------------------------------------------
# retry


def test_retry_retries_the_failed_actions_of_the_stage_where_the_newest_execution_failed(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _failed_in_deploy(aws)
    _expect_retry(aws, 6, "Deploy", "FAILED_ACTIONS")

    result = cli("retry", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"Retrying Deploy (its failed actions) of execution {execution_id(6)[:8]} (commit "
        f'{sha(6)[:7]} "Faster search") in {PIPELINE}; it was Failed.'
    )


def test_retry_with_all_actions_asks_for_all_actions_and_prints_the_documented_json(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _failed_in_deploy(aws)
    _expect_retry(aws, 6, "Deploy", "ALL_ACTIONS")

    result = cli("retry", "--pipeline", PIPELINE, "--all-actions", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("retry", document)
    assert (
        document["command"],
        document["service"],
        document["stage"],
        document["retriedStage"],
        document["retryMode"],
        document["stageStatus"],
        document["commit"],
    ) == ("retry", None, None, "Deploy", "ALL_ACTIONS", "Failed", sha(6))


def test_retry_of_a_stopped_stage_retries_it(aws: StubbedAws, cli: CliRunner) -> None:
    # "For a pipeline execution in a Stopped state, the actions in the stage where the
    # execution stopped can be retried." (pipelines-stop.html)
    _failed_in_deploy(aws, status="Stopped")
    _expect_retry(aws, 6, "Deploy", "FAILED_ACTIONS")

    result = cli("retry", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0].endswith("; it was Stopped.")


@pytest.mark.parametrize(
    ("newest", "message", "hint"),
    [
        (
            summary(7, status="Succeeded", commit=7),
            f"nothing to retry in {PIPELINE}: the newest execution (execution "
            f"{execution_id(7)[:8]}) is Succeeded",
            "it succeeded: nothing failed",
        ),
        (
            summary(7, status="Superseded", commit=7),
            f"nothing to retry in {PIPELINE}: the newest execution (execution "
            f"{execution_id(7)[:8]}) is Superseded",
            "a newer execution replaced it; release again to run this commit",
        ),
        (
            summary(8, status="Succeeded", rollback_of=5),
            f"nothing to retry in {PIPELINE}: the newest execution (a rollback "
            f"{execution_id(8)[:8]}) is Succeeded",
            "it succeeded: nothing failed",
        ),
    ],
)
def test_retry_refuses_when_the_newest_execution_did_not_fail(
    aws: StubbedAws, cli: CliRunner, newest: dict[str, object], message: str, hint: str
) -> None:
    _staging(aws)
    aws.expect_state(PIPELINE, stage_state("Deploy", 7, "Succeeded"))
    aws.expect_history(PIPELINE, [newest], 1)

    result = cli("retry", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 3
    assert result.err.splitlines() == [f"cicd: {message}", f"hint: {hint}"]


def test_retry_refuses_when_another_execution_has_entered_the_failed_stage_since(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_state(PIPELINE, stage_state("Deploy", 5, "Succeeded"))
    aws.expect_history(PIPELINE, [summary(6, status="Failed", commit=6)], 1)

    result = cli("retry", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: execution {execution_id(6)[:8]} of {PIPELINE} ended Failed, but no stage shows "
        "it failed any more"
    )


def test_retry_that_aws_finds_not_retryable_is_refused_with_the_reasons(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _failed_in_deploy(aws)
    aws.codepipeline.add_client_error(
        "retry_stage_execution",
        service_error_code="StageNotRetryableException",
        service_message="Another retry attempt is in progress",
    )

    result = cli("retry", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 3
    assert result.err.splitlines()[0] == (
        f"cicd: AWS cannot retry Deploy of execution {execution_id(6)[:8]} in {PIPELINE}: "
        "Another retry attempt is in progress"
    )


def test_retry_with_wait_follows_the_retried_execution(aws: StubbedAws, cli: CliRunner) -> None:
    _failed_in_deploy(aws)
    _expect_retry(aws, 6, "Deploy", "FAILED_ACTIONS")
    aws.expect_execution(PIPELINE, 6, status="Succeeded")
    aws.expect_state(PIPELINE, stage_state("Deploy", 6, "Succeeded"))

    result = cli("retry", "--pipeline", PIPELINE, "--wait", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"Release {execution_id(6)[:8]} of {PIPELINE} succeeded."


# ---------------------------------------------------------------------------------------------
# stop


def _expect_stop(aws: StubbedAws, n: int, *, abandon: bool, reason: str) -> None:
    aws.codepipeline.add_response(
        "stop_pipeline_execution",
        {"pipelineExecutionId": execution_id(n)},
        {
            "pipelineName": PIPELINE,
            "pipelineExecutionId": execution_id(n),
            "abandon": abandon,
            "reason": reason,
        },
    )


HISTORY = [
    summary(9, status="Succeeded", commit=9),
    summary(8, status="InProgress", commit=8, message="Bad config"),
    summary(7, status="Succeeded", commit=7),
]


def test_stop_stops_the_newest_running_execution_letting_its_actions_finish(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    _expect_stop(aws, 8, abandon=False, reason="bad config")

    result = cli("stop", "--pipeline", PIPELINE, "--reason", "bad config", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f'Stopping execution {execution_id(8)[:8]} (commit {sha(8)[:7]} "Bad config") of '
        f"{PIPELINE}: the actions in progress finish, no others start."
    )


def test_stop_of_a_named_execution_with_abandon_abandons_and_prints_the_documented_json(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    _expect_stop(aws, 8, abandon=True, reason="stuck deploy")

    result = cli(
        "stop",
        "--pipeline",
        PIPELINE,
        execution_id(8)[:8],
        "--abandon",
        "--reason",
        "stuck deploy",
        "--json",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("stop", document)
    assert (
        document["command"],
        document["executionId"],
        document["abandon"],
        document["reason"],
    ) == (
        "stop",
        execution_id(8),
        True,
        "stuck deploy",
    )


def test_stop_refuses_when_nothing_runs(aws: StubbedAws, cli: CliRunner) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, [summary(9, commit=9)], 100)

    result = cli("stop", "--pipeline", PIPELINE, "--reason", "x", clients=aws.clients())

    assert result.code == 3
    assert result.err.startswith(f"cicd: nothing runs in {PIPELINE}")


def test_stop_of_a_named_execution_that_ended_refuses(aws: StubbedAws, cli: CliRunner) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)

    result = cli(
        "stop", "--pipeline", PIPELINE, execution_id(7)[:8], "--reason", "x", clients=aws.clients()
    )

    assert result.code == 3
    assert result.err == (
        f"cicd: execution {execution_id(7)[:8]} of {PIPELINE} already ended Succeeded: nothing "
        "to stop\n"
    )


def test_stop_with_a_reason_longer_than_aws_allows_is_a_usage_error_before_any_call(
    cli: CliRunner,
) -> None:
    result = cli(
        "stop", "--pipeline", PIPELINE, "--reason", "x" * 201, clients=StubbedAws().clients()
    )

    assert result.code == 2
    assert result.err.startswith(
        "cicd: --reason is 201 characters; AWS allows at most 200 for a stopped execution\n"
    )


@pytest.mark.parametrize(
    ("code", "message", "hint"),
    [
        (
            "PipelineExecutionNotStoppableException",
            f"AWS cannot stop execution {execution_id(8)[:8]} of {PIPELINE}: it is finishing",
            "it may have ended meanwhile; `cicd info` shows how it ended",
        ),
        (
            "DuplicatedStopRequestException",
            f"execution {execution_id(8)[:8]} of {PIPELINE} is already being stopped",
            "to stop it without waiting for the actions in progress, run again with --abandon",
        ),
    ],
)
def test_stop_that_aws_refuses_is_refused_with_what_to_do(
    aws: StubbedAws, cli: CliRunner, code: str, message: str, hint: str
) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    aws.codepipeline.add_client_error(
        "stop_pipeline_execution", service_error_code=code, service_message="it is finishing"
    )

    result = cli("stop", "--pipeline", PIPELINE, "--reason", "x", clients=aws.clients())

    assert result.code == 3
    assert result.err.splitlines() == [f"cicd: {message}", f"hint: {hint}"]


def test_stop_with_wait_follows_until_it_has_stopped_and_succeeds(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    _expect_stop(aws, 8, abandon=False, reason="bad config")
    aws.expect_execution(PIPELINE, 8, status="Stopping")
    aws.expect_state(PIPELINE, stage_state("Deploy", 8, "Stopping"))
    aws.expect_execution(PIPELINE, 8, status="Stopped")
    aws.expect_state(PIPELINE, stage_state("Deploy", 8, "Stopped"))

    result = cli(
        "stop",
        "--pipeline",
        PIPELINE,
        "--reason",
        "bad config",
        "--wait",
        "--json",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    assert json.loads(result.out)["followed"] == {
        "outcome": "ended",
        "status": "Stopped",
        "detail": None,
        "stage": None,
    }
    assert cli.sleeps == [10.0]


def test_stop_with_wait_that_times_out_exits_6(aws: StubbedAws, cli: CliRunner) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    _expect_stop(aws, 8, abandon=False, reason="bad config")
    for _ in range(2):
        aws.expect_execution(PIPELINE, 8, status="Stopping")
        aws.expect_state(PIPELINE, stage_state("Deploy", 8, "Stopping"))

    result = cli(
        "stop",
        "--pipeline",
        PIPELINE,
        "--reason",
        "bad config",
        "--wait",
        "--timeout",
        "5",
        "--interval",
        "5",
        clients=aws.clients(),
    )

    assert result.code == 6
    assert result.err.startswith(f"cicd: execution {execution_id(8)[:8]} of {PIPELINE} is still")


def test_retry_of_a_pipeline_found_by_stage_names_the_command_service_and_stage_in_its_json(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging, stage="staging", service="web", found=[(PIPELINE, "web", "staging")]
    )
    _failed_in_deploy(aws)
    _expect_retry(aws, 6, "Deploy", "FAILED_ACTIONS")

    result = cli("retry", "--service", "web", "--stage", "staging", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["command"], document["service"], document["stage"]) == (
        "retry",
        "web",
        "staging",
    )


def test_stop_with_wait_of_an_execution_at_the_approval_follows_on_until_it_has_stopped(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_history(PIPELINE, HISTORY, 100)
    _expect_stop(aws, 8, abandon=False, reason="bad config")
    aws.expect_execution(PIPELINE, 8, status="Stopping")
    aws.expect_state(
        PIPELINE,
        stage_state(
            "Approval", 8, "InProgress", [action_state("Approve", "InProgress", token="t")]
        ),
    )
    aws.expect_execution(PIPELINE, 8, status="Stopped")
    aws.expect_state(PIPELINE, stage_state("Approval", 8, "Stopped"))

    result = cli(
        "stop", "--pipeline", PIPELINE, "--reason", "bad config", "--wait", clients=aws.clients()
    )

    assert result.code == 0, result.err
    assert (
        result.out.splitlines()[-1] == f"Execution {execution_id(8)[:8]} of {PIPELINE} is Stopped."
    )
    assert cli.sleeps == [10.0]


def test_retry_with_all_actions_says_it_retries_all_the_actions_of_the_stage(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _failed_in_deploy(aws)
    _expect_retry(aws, 6, "Deploy", "ALL_ACTIONS")

    result = cli("retry", "--pipeline", PIPELINE, "--all-actions", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith(
        f"Retrying Deploy (all its actions) of execution {execution_id(6)[:8]} "
    )
