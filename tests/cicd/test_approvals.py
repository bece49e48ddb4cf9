"""`cicd approve` and `cicd reject`, with CodePipeline stubbed (moto has no approvals)."""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    CliRunner,
    StubbedAws,
    action_state,
    execution_id,
    expect_discovery,
    sha,
    stage_state,
)

PIPELINE = "shop-prod-pipeline"


def _waiting_for_approval(aws: StubbedAws, *, commit: int | None = 7) -> None:
    """Execution 3 of commit 7 waits at Approval; the test expects its source to be read."""
    aws.expect_pipeline("shop", "prod", approval=True)
    aws.expect_state(
        PIPELINE,
        stage_state("Source", 3, "Succeeded", [action_state("GitHub", "Succeeded", revision=7)]),
        stage_state("Build", 3, "Succeeded"),
        stage_state("Test", 3, "Succeeded"),
        stage_state(
            "Approval",
            3,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
        stage_state("Deploy", 2, "Succeeded"),
    )
    aws.expect_execution(PIPELINE, 3, status="InProgress", commit=commit)


def _expect_answer(aws: StubbedAws, status: str, summary: str) -> None:
    aws.codepipeline.add_response(
        "put_approval_result",
        {},
        {
            "pipelineName": PIPELINE,
            "stageName": "Approval",
            "actionName": "Approve",
            "result": {"summary": summary, "status": status},
            "token": APPROVAL_TOKEN,
        },
    )


def test_approve_answers_the_waiting_approval_with_its_token(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(aws.tagging, stage="prod", service=None, found=[(PIPELINE, "shop", "prod")])
    _waiting_for_approval(aws)
    _expect_answer(aws, "Approved", "Approved with cicd")

    result = cli("approve", "--stage", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith(
        f'Approved commit {sha(7)[:7]} "Change 7" (execution {execution_id(3)[:8]}) in {PIPELINE}.'
    )


def test_approve_with_the_waiting_commit_and_a_reason_records_the_reason(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting_for_approval(aws)
    _expect_answer(aws, "Approved", "QA signed off")

    result = cli(
        "approve",
        "--pipeline",
        PIPELINE,
        "--commit",
        sha(7)[:10].upper(),
        "--reason",
        "QA signed off",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err


def test_approve_refuses_when_a_different_commit_waits(aws: StubbedAws, cli: CliRunner) -> None:
    _waiting_for_approval(aws)

    result = cli("approve", "--pipeline", PIPELINE, "--commit", sha(8), clients=aws.clients())

    assert result.code == 3
    assert f"the release waiting in {PIPELINE} is commit {sha(7)[:7]}, not {sha(8)}" in result.err


def test_approve_with_commit_falls_back_to_the_source_stage_revision_of_that_execution(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting_for_approval(aws, commit=None)
    _expect_answer(aws, "Approved", "Approved with cicd")

    result = cli("approve", "--pipeline", PIPELINE, "--commit", sha(7)[:7], clients=aws.clients())

    assert result.code == 0, result.err
    assert f"Approved commit {sha(7)[:7]} (execution" in result.out


def test_approve_with_commit_refuses_when_the_waiting_commit_cannot_be_told(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("shop", "prod", approval=True)
    aws.expect_state(
        PIPELINE,
        stage_state("Source", 4, "InProgress", [action_state("GitHub", "InProgress", revision=9)]),
        stage_state(
            "Approval",
            3,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
    )
    aws.expect_execution(PIPELINE, 3, status="InProgress", commit=None)

    result = cli("approve", "--pipeline", PIPELINE, "--commit", sha(9), clients=aws.clients())

    assert result.code == 3
    assert f"cannot tell which commit waits for approval in {PIPELINE}" in result.err


def test_approve_refuses_when_nothing_waits(aws: StubbedAws, cli: CliRunner) -> None:
    aws.expect_pipeline("shop", "prod", approval=True)
    aws.expect_state(
        PIPELINE,
        stage_state("Approval", 2, "Succeeded", [action_state("Approve", "Succeeded")]),
    )

    result = cli("approve", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: nothing waits for approval in {PIPELINE} (the last approval ended Succeeded)\n"
    )


def test_approve_refuses_on_a_pipeline_without_an_approval_stage(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = aws.expect_pipeline("shop", "dev")
    aws.expect_state(name, stage_state("Deploy", 2, "Succeeded"))

    result = cli("approve", "--pipeline", name, clients=aws.clients())

    assert result.code == 3
    assert "shop-dev-pipeline has no Approval stage" in result.err


def test_reject_sends_rejected_with_the_reason(aws: StubbedAws, cli: CliRunner) -> None:
    _waiting_for_approval(aws)
    _expect_answer(aws, "Rejected", "breaks checkout")

    result = cli(
        "reject", "--pipeline", PIPELINE, "--reason", "breaks checkout", clients=aws.clients()
    )

    assert result.code == 0, result.err
    assert result.out.startswith(f"Rejected commit {sha(7)[:7]}")


def test_reject_without_a_reason_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("reject", "--pipeline", PIPELINE)

    assert result.code == 2
    assert "the following arguments are required: --reason" in result.err


def test_approve_with_wait_follows_the_execution_through_deploy(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting_for_approval(aws)
    _expect_answer(aws, "Approved", "Approved with cicd")
    aws.expect_execution(PIPELINE, 3, status="Succeeded", commit=7)
    aws.expect_state(
        PIPELINE,
        stage_state("Approval", 3, "Succeeded"),
        stage_state("Deploy", 3, "Succeeded"),
    )

    result = cli("approve", "--pipeline", PIPELINE, "--wait", clients=aws.clients())

    assert result.code == 0, result.err
    assert "  Approval   Succeeded\n  Deploy     Succeeded\n" in result.out
    assert result.out.endswith(f"Release {execution_id(3)[:8]} of {PIPELINE} succeeded.\n")


def test_approve_json_names_the_approve_command_and_the_pipeline_found(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(aws.tagging, stage="prod", service=None, found=[(PIPELINE, "shop", "prod")])
    _waiting_for_approval(aws)
    _expect_answer(aws, "Approved", "Approved with cicd")

    result = cli("approve", "--stage", "prod", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["command"], document["stage"], document["executionId"]) == (
        "approve",
        "prod",
        execution_id(3),
    )
