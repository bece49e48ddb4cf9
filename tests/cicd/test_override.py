"""`cicd override`: OverrideStageCondition on Deploy for the execution whose deployment window or
bake is being evaluated, announced on the release topic. CodePipeline, SNS and STS are stubbed
(moto has no OverrideStageCondition or GetPipelineState).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cicd.aws_fakes import (
    NOW,
    REGION,
    CliRunner,
    Result,
    StubbedAws,
    execution_id,
    pipeline_arn,
    promoted_declaration,
    stage_state,
)
from tests.cicd.docs import assert_documented_shape

PROD = "web-prod-pipeline"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:web-prod-releases"
ALICE = "arn:aws:sts::123456789012:assumed-role/release-managers/alice"
WINDOW = "cron(0 9-16 ? * MON-THU *)"


def _prod(aws: StubbedAws, *, topic: str | None = TOPIC, window: str | None = WINDOW) -> None:
    """web's prod pipeline (promoted from staging), found by its tags, approval notifying
    `topic`, Deploy with a deployment window."""
    declaration = promoted_declaration("web", "prod", bucket="acme-staging-releases", window=window)
    if topic:
        approve = next(s for s in declaration["stages"] if s["name"] == "Approval")["actions"][-1]
        approve["configuration"]["NotificationArn"] = topic
    aws.tagging.add_response(
        "get_resources",
        {
            "ResourceTagMappingList": [
                {
                    "ResourceARN": pipeline_arn(PROD),
                    "Tags": [
                        {"Key": "cicd:service", "Value": "web"},
                        {"Key": "cicd:stage", "Value": "prod"},
                        {"Key": "cicd:promotes-from", "Value": "staging"},
                    ],
                }
            ]
        },
    )
    aws.codepipeline.add_response("get_pipeline", {"pipeline": declaration}, {"name": PROD})


def _condition(status: str) -> dict[str, Any]:
    """A stage condition state: the stage's summary, and the one condition's execution."""
    return {
        "latestExecution": {"status": status},
        "conditionStates": [{"latestExecution": {"status": status, "lastStatusChange": NOW}}],
    }


def _state(aws: StubbedAws, *stages: dict[str, Any]) -> None:
    aws.expect_state(PROD, *stages)


def _caller(aws: StubbedAws) -> None:
    aws.stub("sts").add_response(
        "get_caller_identity", {"Arn": ALICE, "Account": "123456789012", "UserId": "AROA:alice"}
    )


def _override(aws: StubbedAws, n: int, condition_type: str) -> None:
    aws.codepipeline.add_response(
        "override_stage_condition",
        {},
        {
            "pipelineName": PROD,
            "stageName": "Deploy",
            "pipelineExecutionId": execution_id(n),
            "conditionType": condition_type,
        },
    )


def _published(aws: StubbedAws, n: int, label: str, reason: str) -> None:
    message = "\n".join(
        [
            f"The {label} of Deploy in {PROD} was overridden for execution {execution_id(n)}: it "
            "goes on without waiting for it.",
            f"By: {ALICE}",
            f"Reason: {reason}",
            f"At: {NOW.isoformat()}",
            f"Execution: https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
            f"{PROD}/executions/{execution_id(n)}/timeline?region={REGION}",
            f"(execution {execution_id(n)[:8]}; sent by cicd override)",
        ]
    )
    aws.stub("sns").add_response(
        "publish",
        {"MessageId": "5e1b7c3a-0000-4000-8000-000000000001"},
        {"TopicArn": TOPIC, "Subject": f"web prod: {label} overridden", "Message": message},
    )


def _baking(n: int) -> dict[str, Any]:
    deploy = stage_state("Deploy", n, "InProgress")
    deploy["onSuccessConditionState"] = _condition("InProgress")
    return deploy


def _override_bake(cli: CliRunner, aws: StubbedAws, *extra: str) -> Result:
    """`cicd override` of web's prod bake, reason "hotfix", with `extra` arguments."""
    return cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "bake",
        "--reason",
        "hotfix",
        *extra,
        clients=aws.clients(),
    )


def test_override_of_the_bake_overrides_on_success_for_the_execution_in_deploy_and_announces_it(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    _state(aws, stage_state("Approval", 8, "Succeeded"), _baking(8))
    _caller(aws)
    _override(aws, 8, "ON_SUCCESS")
    _published(aws, 8, "bake", "hotfix INC-4711")

    result = cli(
        "override",
        "--service",
        "web",
        "--stage",
        "prod",
        "--condition",
        "bake",
        "--reason",
        "hotfix INC-4711",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[:2] == [
        f"Overrode the bake of Deploy in {PROD} (service web, stage prod) for execution "
        f"{execution_id(8)[:8]}: it goes on now.",
        f"Announced on {TOPIC}.",
    ]


def test_override_of_the_window_overrides_before_entry_for_the_inbound_execution(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    deploy = stage_state("Deploy", 5, "Succeeded")
    deploy["beforeEntryConditionState"] = _condition("InProgress")
    deploy["inboundExecution"] = {"pipelineExecutionId": execution_id(9), "status": "InProgress"}
    _state(aws, stage_state("Approval", 9, "Succeeded"), deploy)
    _caller(aws)
    _override(aws, 9, "BEFORE_ENTRY")
    _published(aws, 9, "deployment window", "CAB approved")

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "window",
        "--reason",
        "CAB approved",
        "--json",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("override", document)
    assert document == {
        "command": "override",
        "pipeline": PROD,
        "service": "web",
        "stage": "prod",
        "executionId": execution_id(9),
        "condition": "window",
        "conditionType": "BEFORE_ENTRY",
        "reason": "CAB approved",
        "by": ALICE,
        "topicArn": TOPIC,
        "messageId": "5e1b7c3a-0000-4000-8000-000000000001",
        "announceProblem": None,
        "followed": None,
    }


def test_override_of_the_window_without_an_inbound_execution_takes_the_one_that_passed_approval(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    deploy = stage_state("Deploy", 5, "Succeeded")
    deploy["beforeEntryConditionState"] = _condition("InProgress")
    _state(aws, stage_state("Approval", 9, "Succeeded"), deploy)
    _caller(aws)
    _override(aws, 9, "BEFORE_ENTRY")
    _published(aws, 9, "deployment window", "CAB approved")

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "window",
        "--reason",
        "CAB approved",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err


def test_override_of_a_window_that_failed_refuses_and_says_to_release_again_inside_it(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    deploy = stage_state("Deploy", 9, "Failed")
    deploy["beforeEntryConditionState"] = _condition("Failed")
    _state(aws, deploy)

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "window",
        "--reason",
        "late",
        clients=aws.clients(),
    )

    assert result.code == 3
    assert result.err.splitlines() == [
        f"cicd: no deployment window check is in progress at Deploy of {PROD}; its last "
        "evaluation ended Failed at 2025-05-01 12:00:00 UTC",
        "hint: AWS checks the window when a release reaches Deploy, and one that arrives outside "
        "it fails there; a failed condition cannot be overridden. Release it again inside the "
        "window: `cicd promote --service web --from staging --to prod --commit SHA`",
    ]


def test_override_of_the_window_on_a_pipeline_without_one_refuses_before_reading_its_state(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws, window=None)

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "window",
        "--reason",
        "late",
        clients=aws.clients(),
    )

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: Deploy of {PROD} has no deployment window: nothing to override\n"
    )


def test_override_of_a_bake_that_is_not_running_refuses(aws: StubbedAws, cli: CliRunner) -> None:
    _prod(aws)
    _state(aws, stage_state("Deploy", 8, "Succeeded"))

    result = _override_bake(cli, aws)

    assert result.code == 3
    assert result.err.splitlines()[0] == f"cicd: no bake is in progress in Deploy of {PROD}"


def test_override_without_a_release_topic_says_so_and_still_overrides(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws, topic=None)
    _state(aws, _baking(8))
    _caller(aws)
    _override(aws, 8, "ON_SUCCESS")

    result = _override_bake(cli, aws, "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["topicArn"], document["messageId"], document["announceProblem"]) == (
        None,
        None,
        "the pipeline has no release topic (its approval has no NotificationArn)",
    )


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "AuthorizationError",
            "access denied: your AWS identity lacks sns:Publish (AWS said: denied)",
        ),
        (
            "KMSAccessDenied",
            "the release topic's KMS key refused the message (KMSAccessDenied); publishing to "
            "an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on its key, granted "
            "by the key policy and your IAM policy",
        ),
    ],
)
def test_override_whose_announcement_is_refused_still_overrides_and_says_why(
    aws: StubbedAws, cli: CliRunner, code: str, problem: str
) -> None:
    _prod(aws)
    _state(aws, _baking(8))
    _caller(aws)
    _override(aws, 8, "ON_SUCCESS")
    aws.stub("sns").add_client_error("publish", service_error_code=code, service_message="denied")

    result = _override_bake(cli, aws)

    assert result.code == 0, result.err
    assert result.err == (
        f"cicd: the bake is overridden, but the announcement on {TOPIC} failed: {problem}\n"
    )


def test_override_of_an_execution_that_is_no_longer_the_latest_is_refused_with_what_to_do(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    _state(aws, _baking(8))
    _caller(aws)
    aws.codepipeline.add_client_error(
        "override_stage_condition", service_error_code="NotLatestPipelineExecutionException"
    )

    result = _override_bake(cli, aws)

    assert result.code == 3
    assert result.err.splitlines() == [
        f"cicd: execution {execution_id(8)[:8]} is no longer the latest in Deploy of {PROD}, so "
        "AWS will not override its condition",
        "hint: run `cicd override` again: it reads which execution waits now",
    ]


def test_override_with_an_empty_reason_is_a_usage_error_before_any_call(cli: CliRunner) -> None:
    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "bake",
        "--reason",
        " ",
        clients=StubbedAws().clients(),
    )

    assert (result.code, result.err) == (
        2,
        "cicd: --reason is empty: say why the condition is overridden\n",
    )


def test_override_of_the_window_with_wait_follows_past_the_window(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws, topic=None)
    deploy = stage_state("Deploy", 5, "Succeeded")
    deploy["beforeEntryConditionState"] = _condition("InProgress")
    deploy["inboundExecution"] = {"pipelineExecutionId": execution_id(9), "status": "InProgress"}
    _state(aws, stage_state("Approval", 9, "Succeeded"), deploy)
    _caller(aws)
    _override(aws, 9, "BEFORE_ENTRY")
    # The first poll may still show the condition running: following must not stop there.
    aws.expect_execution(PROD, 9, status="InProgress")
    _state(aws, stage_state("Approval", 9, "Succeeded"), deploy)
    aws.expect_execution(PROD, 9, status="Succeeded")
    _state(aws, stage_state("Approval", 9, "Succeeded"), stage_state("Deploy", 9, "Succeeded"))

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "window",
        "--reason",
        "CAB",
        "--wait",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"Release {execution_id(9)[:8]} of {PROD} succeeded."


def test_override_whose_caller_cannot_be_told_still_overrides_and_its_json_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws, topic=None)
    _state(aws, _baking(8))
    aws.stub("sts").add_client_error("get_caller_identity", service_error_code="AccessDenied")
    _override(aws, 8, "ON_SUCCESS")

    result = _override_bake(cli, aws, "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["conditionType"], document["by"]) == ("ON_SUCCESS", None)
