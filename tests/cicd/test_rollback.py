"""`cicd rollback`, with CodePipeline stubbed (moto has no get_pipeline_state or rollback_stage)."""

from __future__ import annotations

from typing import Any

import pytest

from cicd.decide.rollback import plan_rollback
from cicd.errors import Refused
from cicd.model.release import Release
from tests.cicd.aws_fakes import (
    CliRunner,
    StubbedAws,
    execution_id,
    pipeline_declaration,
    sha,
    stage_state,
    summary,
)

PIPELINE = "shop-prod-pipeline"


def _deployed(
    aws: StubbedAws, history: list[dict[str, Any]], deploy_status: str = "Succeeded"
) -> None:
    aws.expect_pipeline("shop", "prod")
    aws.expect_state(
        PIPELINE,
        stage_state("Source", 5, "Succeeded"),
        stage_state("Deploy", 5, deploy_status),
    )
    if deploy_status == "Succeeded":
        aws.expect_history(PIPELINE, history, 100)


def _expect_rollback_to(aws: StubbedAws, n: int) -> None:
    aws.codepipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(99)},
        {
            "pipelineName": PIPELINE,
            "stageName": "Deploy",
            "targetPipelineExecutionId": execution_id(n),
        },
    )


HISTORY = [
    summary(5, commit=5, message="Break checkout", minutes_ago=10),
    summary(4, commit=4, status="Failed", minutes_ago=20),
    summary(3, commit=3, message="Good one", minutes_ago=30),
    summary(2, commit=2, minutes_ago=40),
]


def test_rollback_with_yes_goes_to_the_previous_successful_release_and_shows_the_change(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _deployed(aws, HISTORY)
    _expect_rollback_to(aws, 3)

    result = cli("rollback", "--pipeline", PIPELINE, "--yes", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith(
        f"Roll back Deploy of {PIPELINE}\n"
        f'  from {execution_id(5)[:8]} (commit {sha(5)[:7]} "Break checkout")\n'
        f'  to   {execution_id(3)[:8]} (commit {sha(3)[:7]} "Good one")\n'
        f"Rollback started: execution {execution_id(99)}.\n"
    )


def test_rollback_asks_on_a_terminal_and_proceeds_on_yes(aws: StubbedAws, cli: CliRunner) -> None:
    _deployed(aws, HISTORY)
    _expect_rollback_to(aws, 3)

    result = cli("rollback", "--pipeline", PIPELINE, clients=aws.clients(), stdin="y\n", tty=True)

    assert result.code == 0, result.err
    assert "Proceed? [y/N] Rollback started" in result.out


def test_rollback_answered_no_on_the_terminal_changes_nothing(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _deployed(aws, HISTORY)

    result = cli("rollback", "--pipeline", PIPELINE, clients=aws.clients(), stdin="n\n", tty=True)

    assert result.code == 3
    assert result.err == "cicd: rollback cancelled: nothing changed\n"


def test_rollback_without_a_terminal_or_yes_refuses_instead_of_waiting(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _deployed(aws, HISTORY)

    result = cli("rollback", "--pipeline", PIPELINE, clients=aws.clients(), stdin="y\n")

    assert result.code == 3
    assert result.err == (
        "cicd: rollback needs confirmation and stdin is not a terminal\n"
        "hint: pass --yes to confirm non-interactively\n"
    )


def test_rollback_refuses_while_a_deployment_runs(aws: StubbedAws, cli: CliRunner) -> None:
    _deployed(aws, HISTORY, deploy_status="InProgress")

    result = cli("rollback", "--pipeline", PIPELINE, "--yes", clients=aws.clients())

    assert result.code == 3
    assert (
        f"Deploy of {PIPELINE} is busy with execution {execution_id(5)[:8]} (InProgress)"
        in result.err
    )


def test_rollback_to_an_execution_prefix_rolls_back_to_it(aws: StubbedAws, cli: CliRunner) -> None:
    _deployed(aws, HISTORY)
    _expect_rollback_to(aws, 2)

    result = cli(
        "rollback",
        "--pipeline",
        PIPELINE,
        "--to",
        execution_id(2)[:8],
        "--yes",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    assert f"  to   {execution_id(2)[:8]} (commit {sha(2)[:7]}" in result.out


def test_rollback_to_a_full_id_older_than_the_history_reads_that_execution(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _deployed(aws, HISTORY)
    aws.expect_execution(PIPELINE, 1, commit=1)
    _expect_rollback_to(aws, 1)

    result = cli(
        "rollback", "--pipeline", PIPELINE, "--to", execution_id(1), "--yes", clients=aws.clients()
    )

    assert result.code == 0, result.err


def test_rollback_to_a_failed_execution_is_refused(aws: StubbedAws, cli: CliRunner) -> None:
    _deployed(aws, HISTORY)

    result = cli(
        "rollback",
        "--pipeline",
        PIPELINE,
        "--to",
        execution_id(4)[:8],
        "--yes",
        clients=aws.clients(),
    )

    assert result.code == 3
    assert f"execution {execution_id(4)[:8]} of {PIPELINE} ended Failed" in result.err


def test_rollback_to_an_unknown_prefix_is_not_found(aws: StubbedAws, cli: CliRunner) -> None:
    _deployed(aws, HISTORY)

    result = cli(
        "rollback", "--pipeline", PIPELINE, "--to", "deadbeef", "--yes", clients=aws.clients()
    )

    assert result.code == 5
    assert f"no execution starting with deadbeef among the last 4 of {PIPELINE}" in result.err


def _release(
    n: int, commit: int, status: str = "Succeeded", rollback_of: int | None = None
) -> Release:
    return Release(
        execution_id=execution_id(n),
        status=status,
        commit=sha(commit),
        is_rollback=rollback_of is not None,
        rollback_target=execution_id(rollback_of) if rollback_of is not None else None,
    )


def test_previous_release_skips_releases_of_the_commit_already_live() -> None:
    history = [_release(5, 5), _release(4, 5), _release(3, 3)]

    assert plan_rollback(PIPELINE, history).target == history[2]


def test_after_a_rollback_the_previous_release_is_counted_from_the_restored_one() -> None:
    history = [_release(6, 3, rollback_of=3), _release(5, 5), _release(3, 3), _release(2, 2)]

    plan = plan_rollback(PIPELINE, history)

    assert (plan.current.execution_id, plan.target.execution_id) == (
        execution_id(6),
        execution_id(2),
    )


def test_rollback_refuses_when_no_earlier_release_of_another_commit_succeeded() -> None:
    with pytest.raises(
        Refused, match="no earlier successful release of another commit in the last 2"
    ):
        plan_rollback(PIPELINE, [_release(5, 5), _release(4, 4, status="Failed")])


def test_rollback_refuses_when_nothing_was_ever_deployed() -> None:
    with pytest.raises(
        Refused, match=f"nothing to roll back: {PIPELINE} has no successful release"
    ):
        plan_rollback(PIPELINE, [_release(4, 4, status="Failed")])


def test_rollback_to_the_commit_already_live_is_refused() -> None:
    history = [_release(5, 5), _release(4, 5)]

    with pytest.raises(Refused, match="rolling back to it changes nothing"):
        plan_rollback(PIPELINE, history, history[1])


def test_rollback_to_a_rollback_execution_points_at_the_release_it_restored() -> None:
    history = [_release(7, 7), _release(6, 3, rollback_of=3), _release(3, 3)]

    with pytest.raises(Refused, match="is itself a rollback") as refused:
        plan_rollback(PIPELINE, history, history[1])
    assert (
        refused.value.hint == f"roll back to the release it restored {execution_id(3)[:8]} instead"
    )


def test_rollback_refuses_on_a_pipeline_without_a_deploy_stage(
    aws: StubbedAws, cli: CliRunner
) -> None:
    declaration = pipeline_declaration("shop", "prod")
    declaration["stages"] = [s for s in declaration["stages"] if s["name"] != "Deploy"]
    aws.codepipeline.add_response("get_pipeline", {"pipeline": declaration}, {"name": PIPELINE})

    result = cli("rollback", "--pipeline", PIPELINE, "--yes", clients=aws.clients())

    assert (result.code, result.err) == (3, f"cicd: {PIPELINE} has no Deploy stage to roll back\n")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("PipelineExecutionOutdatedException", "it ran on an earlier version of the pipeline"),
        ("UnableToRollbackStageException", "most likely it ran on an earlier version"),
    ],
)
def test_a_rollback_refused_after_a_pipeline_change_says_why_and_what_to_do(
    aws: StubbedAws, cli: CliRunner, code: str, reason: str
) -> None:
    """AWS rolls back only to executions of the current pipeline structure (issue 9, point 6)."""
    _deployed(aws, HISTORY)
    aws.codepipeline.add_client_error(
        "rollback_stage",
        service_error_code=code,
        service_message="The specified pipeline execution is outdated",
        expected_params={
            "pipelineName": PIPELINE,
            "stageName": "Deploy",
            "targetPipelineExecutionId": execution_id(3),
        },
    )

    result = cli("rollback", "--pipeline", PIPELINE, "--yes", clients=aws.clients())

    assert result.code == 3, result.err
    [message, hint] = result.err.splitlines()
    assert message.startswith(f"cicd: AWS cannot roll {PIPELINE} back to {execution_id(3)[:8]}")
    assert reason in message
    assert "a stage rolls back only to executions of the current structure" in message
    assert hint == (
        f"hint: redeploy that commit instead: `cicd promote ... --commit {sha(3)}` (promoted) "
        f"or `cicd release --commit {sha(3)}`"
    )
