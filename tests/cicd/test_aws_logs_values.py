"""`cicd.aws.logs` against stubbed CodeDeploy and CloudWatch Logs: the lines `cicd logs` gets for
a deployment's failed targets of every kind, and for a stream read again with --tail.

The command itself is tests/cicd/test_info_logs_open.py.
"""

from __future__ import annotations

from typing import Any

from cicd.aws import logs
from cicd.model.run import ActionRun, LogLine, Stream
from tests.cicd.aws_fakes import NOW, StubbedAws

DEPLOYMENT = "d-ABCDEF123"
RUN = ActionRun("Deploy", "web", "Failed", "CodeDeploy", external_id=DEPLOYMENT)
FAILED_HOOK = {
    "lifecycleEventName": "AfterAllowTraffic",
    "status": "Failed",
    "diagnostics": {"errorCode": "ScriptFailed"},
    "endTime": NOW,
}


def _deployment(aws: StubbedAws, *pages: dict[str, Any]) -> None:
    aws.codedeploy.add_response(
        "get_deployment",
        {"deploymentInfo": {"deploymentId": DEPLOYMENT, "status": "Failed"}},
        {"deploymentId": DEPLOYMENT},
    )
    request: dict[str, Any] = {
        "deploymentId": DEPLOYMENT,
        "targetFilters": {"TargetStatus": ["Failed"]},
    }
    for page in pages:
        aws.codedeploy.add_response("list_deployment_targets", page, dict(request))
        if "nextToken" in page:
            request["nextToken"] = page["nextToken"]


def test_an_action_without_a_deployment_says_so_under_its_own_name() -> None:
    run = ActionRun("Deploy", "web", "Failed", "CodeDeploy")

    assert logs.deployment_lines(StubbedAws().client("codedeploy"), run) == [
        LogLine("web", "codedeploy", "no deployment was created")
    ]


def test_failed_targets_are_listed_across_pages_and_read_in_one_batch() -> None:
    aws = StubbedAws()
    _deployment(aws, {"targetIds": ["i-1"], "nextToken": "page-2"}, {"targetIds": ["i-2"]})
    aws.codedeploy.add_response(
        "batch_get_deployment_targets",
        {"deploymentTargets": []},
        {"deploymentId": DEPLOYMENT, "targetIds": ["i-1", "i-2"]},
    )

    lines = logs.deployment_lines(aws.client("codedeploy"), RUN)

    aws.verify()
    assert lines == [LogLine("web", "codedeploy", f"deployment {DEPLOYMENT} Failed")]


def test_a_deployment_with_no_failed_targets_gives_only_its_own_line() -> None:
    aws = StubbedAws()
    _deployment(aws, {})

    lines = logs.deployment_lines(aws.client("codedeploy"), RUN)

    aws.verify()
    assert lines == [LogLine("web", "codedeploy", f"deployment {DEPLOYMENT} Failed")]


def test_an_ecs_targets_failed_hook_is_named_by_its_target_even_without_a_message() -> None:
    aws = StubbedAws()
    _deployment(aws, {"targetIds": ["svc:web"]})
    aws.codedeploy.add_response(
        "batch_get_deployment_targets",
        {
            "deploymentTargets": [
                {
                    "deploymentTargetType": "ECSTarget",
                    "ecsTarget": {"targetId": "svc:web", "lifecycleEvents": [FAILED_HOOK]},
                }
            ]
        },
    )

    lines = logs.deployment_lines(aws.client("codedeploy"), RUN)

    assert lines[1:] == [
        LogLine("web", "codedeploy", "svc:web AfterAllowTraffic Failed: ScriptFailed: ", NOW)
    ]


def test_targets_without_hooks_or_of_a_kind_cicd_does_not_read_add_no_lines() -> None:
    aws = StubbedAws()
    _deployment(aws, {"targetIds": ["i-1", "x-1"]})
    aws.codedeploy.add_response(
        "batch_get_deployment_targets",
        {
            "deploymentTargets": [
                {"deploymentTargetType": "InstanceTarget", "instanceTarget": {"targetId": "i-1"}},
                {"deploymentTargetType": "CloudFormationTarget"},
            ]
        },
    )

    lines = logs.deployment_lines(aws.client("codedeploy"), RUN)

    aws.verify()
    assert lines == [LogLine("web", "codedeploy", f"deployment {DEPLOYMENT} Failed")]


def test_reading_more_of_a_stream_with_nothing_new_keeps_no_lines_and_the_new_token() -> None:
    aws = StubbedAws()
    stream = Stream("Build", "codebuild", "/aws/codebuild/shop", "build/1", token="f/1")
    aws.logs.add_response(
        "get_log_events",
        {"nextForwardToken": "f/2"},
        {
            "logGroupName": "/aws/codebuild/shop",
            "logStreamName": "build/1",
            "startFromHead": True,
            "nextToken": "f/1",
        },
    )

    lines, after = logs.read_more(aws.client("logs"), stream)

    aws.verify()
    assert (lines, after.token) == ([], "f/2")
