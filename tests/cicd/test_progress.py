"""`--wait`: following an execution to its end, with a recorded (never real) sleep."""

from __future__ import annotations

from typing import Any

from tests.cicd.aws_fakes import (
    CliRunner,
    StubbedAws,
    action_state,
    execution_id,
    stage_state,
)

PIPELINE = "shop-dev-pipeline"


def _release_started(aws: StubbedAws) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.codepipeline.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": execution_id(9)}, {"name": PIPELINE}
    )


def _poll(aws: StubbedAws, status: str, *stages: dict[str, Any], summary: str = "") -> None:
    aws.expect_execution(PIPELINE, 9, status=status, status_summary=summary)
    aws.expect_state(PIPELINE, *stages)


def test_wait_prints_each_stage_of_this_execution_once_and_exits_zero_on_success(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _release_started(aws)
    _poll(
        aws,
        "InProgress",
        stage_state("Source", 9, "Succeeded"),
        stage_state("Build", 9, "InProgress"),
        stage_state("Test", 8, "Succeeded"),
        stage_state("Deploy", 8, "Succeeded"),
    )
    _poll(
        aws,
        "InProgress",
        stage_state("Source", 9, "Succeeded"),
        stage_state("Build", 9, "Succeeded"),
        stage_state("Test", 9, "InProgress"),
        stage_state("Deploy", 8, "Succeeded"),
    )
    _poll(
        aws,
        "Succeeded",
        stage_state("Source", 9, "Succeeded"),
        stage_state("Build", 9, "Succeeded"),
        stage_state("Test", 9, "Succeeded"),
        stage_state("Deploy", 9, "Succeeded"),
    )

    result = cli(
        "release", "--pipeline", PIPELINE, "--wait", "--interval", "2", clients=aws.clients()
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        f"Following execution {execution_id(9)[:8]} of {PIPELINE} "
        "(Ctrl-C stops following, not the release)",
        "  Source     Succeeded",
        "  Build      InProgress",
        "  Build      Succeeded",
        "  Test       InProgress",
        "  Test       Succeeded",
        "  Deploy     Succeeded",
        f"Release {execution_id(9)[:8]} of {PIPELINE} succeeded.",
    ]
    assert cli.sleeps == [2.0, 2.0]


def test_wait_exits_one_naming_the_failed_action_and_its_error(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _release_started(aws)
    _poll(
        aws,
        "Failed",
        stage_state("Build", 9, "Succeeded"),
        stage_state(
            "Test",
            9,
            "Failed",
            [
                action_state("unit", "Failed", error="3 tests failed"),
                action_state("integration", "Succeeded"),
            ],
        ),
    )

    result = cli("release", "--pipeline", PIPELINE, "--wait", clients=aws.clients())

    assert result.code == 1
    assert (
        "  Test       Failed  unit: 3 tests failed (https://console.aws.amazon.com/codebuild/logs)"
        in result.out
    )
    assert result.err.startswith(
        f"cicd: release {execution_id(9)[:8]} of {PIPELINE} ended Failed: unit: 3 tests failed"
    )
    assert cli.sleeps == []


def test_wait_on_a_superseded_execution_exits_one_and_says_a_newer_one_replaced_it(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _release_started(aws)
    _poll(
        aws, "Superseded", stage_state("Build", 9, "Succeeded"), summary="Superseded by a newer run"
    )

    result = cli("release", "--pipeline", PIPELINE, "--wait", clients=aws.clients())

    assert result.code == 1
    assert result.err == (
        f"cicd: release {execution_id(9)[:8]} of {PIPELINE} ended Superseded: "
        "Superseded by a newer run\n"
        "hint: a newer execution replaced it; follow that one with `cicd status`\n"
    )


def test_wait_gives_up_after_the_timeout_with_exit_six_and_the_release_keeps_running(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _release_started(aws)
    for _ in range(3):
        _poll(aws, "InProgress", stage_state("Build", 9, "InProgress"))

    result = cli(
        "release",
        "--pipeline",
        PIPELINE,
        "--wait",
        "--interval",
        "2",
        "--timeout",
        "4",
        clients=aws.clients(),
    )

    assert result.code == 6
    assert f"execution {execution_id(9)[:8]} of {PIPELINE} is still running after 4s" in result.err
    assert result.out.count("Build      InProgress") == 1
    assert cli.sleeps == [2.0, 2.0]


def test_wait_interval_must_be_positive(cli: CliRunner) -> None:
    result = cli("release", "--pipeline", PIPELINE, "--wait", "--interval", "0")

    assert result.code == 2
    assert "argument --interval: 0 must be more than 0 seconds" in result.err
