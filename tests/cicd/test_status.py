"""`cicd status`: CodeDeploy in moto; pipeline state, connection and tag lookup stubbed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    CONNECTION_ARN,
    CONSOLE_URL,
    CliRunner,
    StubbedAws,
    action_state,
    codedeploy_target,
    execution_id,
    expect_discovery,
    lambda_target,
    session,
    sha,
    stage_state,
    summary,
)

PIPELINE = "shop-dev-pipeline"


@pytest.fixture
def deploys() -> Iterator[StubbedAws]:
    """Stubs for everything but CodeDeploy, which is moto with the dev web group created."""
    with mock_aws():
        codedeploy = session().client("codedeploy")
        codedeploy.create_application(applicationName="shop-dev-app", computePlatform="Server")
        codedeploy.create_deployment_group(
            applicationName="shop-dev-app",
            deploymentGroupName="shop-dev-web",
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        )
        stubs = StubbedAws({"codedeploy": codedeploy})
        yield stubs
        stubs.verify()


def _start_deployment(stubs: StubbedAws) -> str:
    response = stubs.client("codedeploy").create_deployment(
        applicationName="shop-dev-app",
        deploymentGroupName="shop-dev-web",
        revision={
            "revisionType": "S3",
            "s3Location": {"bucket": "shop-dev-artifacts", "key": "build.zip", "bundleType": "zip"},
        },
    )
    return str(response["deploymentId"])


def _pipeline_in_dev(stubs: StubbedAws, connection: str = "AVAILABLE", **options: object) -> None:
    expect_discovery(stubs.tagging, stage="dev", service="shop", found=[(PIPELINE, "shop", "dev")])
    stubs.expect_pipeline("shop", "dev", **options)
    stubs.expect_state(
        PIPELINE,
        stage_state("Source", 4, "Succeeded", [action_state("GitHub", "Succeeded", revision=4)]),
        stage_state(
            "Build", 4, "Succeeded", [action_state("Build", "Succeeded", changed_minutes_ago=3)]
        ),
        stage_state(
            "Test", 4, "InProgress", [action_state("unit", "InProgress", changed_minutes_ago=2)]
        ),
        stage_state("Deploy", 3, "Succeeded"),
    )
    stubs.expect_history(
        PIPELINE,
        [summary(4, status="InProgress", commit=4, message="Faster search"), summary(3, commit=3)],
        25,
    )
    stubs.codeconnections.add_response(
        "get_connection",
        {
            "Connection": {
                "ConnectionArn": CONNECTION_ARN,
                "ConnectionStatus": connection,
                "ProviderType": "GitHub",
            }
        },
        {"ConnectionArn": CONNECTION_ARN},
    )


def test_status_shows_each_stage_with_its_commit_and_the_running_deployment(
    deploys: StubbedAws, cli: CliRunner
) -> None:
    _pipeline_in_dev(deploys)
    deployment = _start_deployment(deploys)

    result = cli("status", "--service", "shop", "--stage", "dev", clients=deploys.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:4] == [
        f"=== {PIPELINE} (service shop, stage dev)",
        "Source: acme/shop@main",
        f"GitHub connection: AVAILABLE  ({CONNECTION_ARN})",
        f'Live: commit {sha(3)[:7]} "Change 3" (execution {execution_id(3)[:8]})',
    ]
    rows = {line.split()[0]: line.split() for line in lines[5:10]}
    assert rows["STAGE"][:4] == ["STAGE", "STATUS", "COMMIT", "EXECUTION"]
    assert rows["Source"][:4] == ["Source", "Succeeded", sha(4)[:7], execution_id(4)[:8]]
    assert rows["Test"][:4] == ["Test", "InProgress", sha(4)[:7], execution_id(4)[:8]]
    assert rows["Test"][-2:] == ["Faster", "search"]
    assert "2025-05-01 11:57:00 UTC" in " ".join(rows["Build"])
    assert rows["Deploy"][:4] == ["Deploy", "Succeeded", sha(3)[:7], execution_id(3)[:8]]
    assert "Deploy targets: CodeDeploy shop-dev-app/shop-dev-web" in lines
    assert "Deployments in progress:" in lines
    assert any(
        line.startswith(f"  CodeDeploy shop-dev-app/shop-dev-web  {deployment}  Created")
        for line in lines
    )


def test_status_says_when_no_deployment_is_running(deploys: StubbedAws, cli: CliRunner) -> None:
    _pipeline_in_dev(deploys)

    result = cli("status", "--service", "shop", "--stage", "dev", clients=deploys.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "No CodeDeploy deployment in progress."


def test_status_of_a_pending_connection_says_where_to_finish_the_github_handshake(
    deploys: StubbedAws, cli: CliRunner
) -> None:
    _pipeline_in_dev(deploys, connection="PENDING")

    result = cli("status", "--service", "shop", "--stage", "dev", clients=deploys.clients())

    assert result.code == 0, result.err
    assert f"GitHub connection: PENDING  ({CONNECTION_ARN})" in result.out
    assert f"  Fix it once: open {CONSOLE_URL}\n" in result.out
    assert 'select this connection, choose "Update pending connection"' in result.out


def test_status_of_a_broken_connection_points_to_the_console(
    deploys: StubbedAws, cli: CliRunner
) -> None:
    _pipeline_in_dev(deploys, connection="ERROR")

    result = cli("status", "--service", "shop", "--stage", "dev", clients=deploys.clients())

    assert f"The connection is unusable. Open {CONSOLE_URL}" in result.out


def test_status_lists_lambda_targets_without_asking_codedeploy(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("shop", "dev", targets=[lambda_target("shop", "dev")])
    aws.expect_state(PIPELINE, stage_state("Deploy", 3, "Succeeded"))
    aws.expect_history(PIPELINE, [summary(3, commit=3)], 25)
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": "AVAILABLE"}},
        {"ConnectionArn": CONNECTION_ARN},
    )

    result = cli("status", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 0, result.err
    assert "Deploy targets: Lambda shop-dev-api:live" in result.out


def test_status_points_at_a_waiting_approval(aws: StubbedAws, cli: CliRunner) -> None:
    name = aws.expect_pipeline("shop", "prod", approval=True)
    aws.expect_state(
        name,
        stage_state(
            "Approval",
            6,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
    )
    aws.expect_history(name, [summary(6, status="InProgress", commit=6)], 25)
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": "AVAILABLE"}},
        {"ConnectionArn": CONNECTION_ARN},
    )
    aws.codedeploy.add_response(
        "list_deployments",
        {"deployments": []},
        {
            "applicationName": "shop-prod-app",
            "deploymentGroupName": "shop-prod-web",
            "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Ready"],
        },
    )

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert (
        f"Commit {sha(6)[:7]} waits for approval: `cicd approve --pipeline {name} --commit "
        f"{sha(6)[:7]}` or `cicd reject --pipeline {name} --commit {sha(6)[:7]} --reason TEXT`"
    ) in result.out


def test_status_without_a_stage_shows_every_environment_of_the_service_in_order(
    aws: StubbedAws, cli: CliRunner
) -> None:
    found = [("shop-prod-pipeline", "shop", "prod"), ("shop-dev-pipeline", "shop", "dev")]
    expect_discovery(aws.tagging, stage=None, service="shop", found=found)
    for stage in ("dev", "prod"):
        name = aws.expect_pipeline("shop", stage, targets=[])
        aws.expect_state(name, stage_state("Deploy", 1, "Succeeded"))
        aws.expect_history(name, [summary(1, commit=1)], 25)
        aws.codeconnections.add_response(
            "get_connection",
            {"Connection": {"ConnectionStatus": "AVAILABLE"}},
            {"ConnectionArn": CONNECTION_ARN},
        )

    result = cli("status", "--service", "shop", clients=aws.clients())

    assert result.code == 0, result.err
    headings = [line for line in result.out.splitlines() if line.startswith("===")]
    assert headings == [
        "=== shop-dev-pipeline (service shop, stage dev)",
        "=== shop-prod-pipeline (service shop, stage prod)",
    ]


def test_status_with_no_tagged_pipeline_is_not_found(aws: StubbedAws, cli: CliRunner) -> None:
    expect_discovery(aws.tagging, stage=None, service=None)

    result = cli("status", clients=aws.clients())

    assert result.code == 5
    assert result.err.splitlines() == [
        "cicd: no pipeline tagged with a cicd stage in eu-west-1",
        "hint: check --region (and --service), or name the pipeline with --pipeline NAME",
    ]


def test_codedeploy_target_fixture_matches_the_stacks_naming() -> None:
    assert codedeploy_target("shop", "dev")["configuration"] == {
        "ApplicationName": "shop-dev-app",
        "DeploymentGroupName": "shop-dev-web",
    }
