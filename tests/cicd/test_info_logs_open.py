"""`cicd info`, `cicd logs` and `cicd open`: one release seen whole, its logs, its console page.

Stubbed: CodePipeline (moto has no ListActionExecutions), CodeBuild reports, CloudWatch Logs
paging and CodeDeploy deployment targets; each stub checks the request against AWS's model.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.cicd.aws_fakes import (
    NOW,
    CliRunner,
    StubbedAws,
    execution_id,
    expect_discovery,
    sha,
    summary,
)
from tests.cicd.docs import assert_documented_shape

STAGING = "web-staging-pipeline"
BUILD_ID = "web-staging-build:1f2e3d4c-0000-4000-8000-000000000001"
UNIT_ID = "web-staging-unit:1f2e3d4c-0000-4000-8000-000000000002"
REPORT = "arn:aws:codebuild:eu-west-1:123456789012:report/web-staging-unit-junit:5e6f"
PACKAGE_STREAM = (
    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codepipeline/web-staging-pipeline"
    ":log-stream:Package/0a1b2c3d"
)


def detail(
    stage: str,
    action: str,
    provider: str,
    *,
    status: str = "Succeeded",
    minute: int = 0,
    seconds: int = 60,
    n: int = 9,
    result: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One `list_action_executions` entry of execution `n`, started `minute` after 11:00."""
    started = NOW - timedelta(hours=1) + timedelta(minutes=minute)
    category = {"CodeBuild": "Build", "Commands": "Compute", "Manual": "Approval"}.get(
        provider, "Deploy"
    )
    return {
        "pipelineExecutionId": execution_id(n),
        "actionExecutionId": f"{action}-{n}",
        "stageName": stage,
        "actionName": action,
        "startTime": started,
        "lastUpdateTime": started + timedelta(seconds=seconds),
        "status": status,
        "input": {
            "actionTypeId": {
                "category": category,
                "owner": "AWS",
                "provider": provider,
                "version": "1",
            },
            "configuration": extra.pop("configuration", {}),
        },
        "output": {"executionResult": result or {}},
        **extra,
    }


ACTIONS = [
    detail("Source", "GitHub", "CodeStarSourceConnection", seconds=2),
    detail(
        "Build",
        "Build",
        "CodeBuild",
        minute=1,
        seconds=185,
        configuration={"ProjectName": "web-staging-build"},
        result={"externalExecutionId": BUILD_ID},
    ),
    detail(
        "Build",
        "Package",
        "Commands",
        minute=5,
        seconds=20,
        result={"logStreamARN": PACKAGE_STREAM},
    ),
    detail(
        "Test",
        "unit",
        "CodeBuild",
        minute=6,
        seconds=62,
        status="Failed",
        configuration={"ProjectName": "web-staging-unit"},
        result={
            "externalExecutionId": UNIT_ID,
            "errorDetails": {"code": "JobFailed", "message": "Build terminated with state: FAILED"},
        },
    ),
]


def _staging(aws: StubbedAws, *, n: int = 9, status: str = "Failed") -> None:
    expect_discovery(
        aws.tagging, stage="staging", service="web", found=[(STAGING, "web", "staging")]
    )
    aws.expect_pipeline("web", "staging")
    aws.expect_history(
        STAGING,
        [summary(n, status=status, commit=9, message="Faster search", minutes_ago=60)],
        100,
    )


def _actions(aws: StubbedAws, *, pages: int = 2) -> None:
    request = {
        "pipelineName": STAGING,
        "filter": {"pipelineExecutionId": execution_id(9)},
        "maxResults": 100,
    }
    middle = len(ACTIONS) // 2 if pages == 2 else len(ACTIONS)
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": ACTIONS[:middle], **({"nextToken": "p2"} if pages == 2 else {})},
        request,
    )
    if pages == 2:
        aws.codepipeline.add_response(
            "list_action_executions",
            {"actionExecutionDetails": ACTIONS[middle:]},
            {**request, "nextToken": "p2"},
        )


def _builds(aws: StubbedAws) -> None:
    aws.codebuild.add_response(
        "batch_get_builds",
        {
            "builds": [
                {
                    "id": BUILD_ID,
                    "projectName": "web-staging-build",
                    "logs": {"groupName": "/aws/codebuild/web-staging-build", "streamName": "b1"},
                },
                {
                    "id": UNIT_ID,
                    "projectName": "web-staging-unit",
                    "reportArns": [REPORT],
                    "logs": {"groupName": "/aws/codebuild/web-staging-unit", "streamName": "u1"},
                },
            ]
        },
        {"ids": [BUILD_ID, UNIT_ID]},
    )


def _reports(aws: StubbedAws) -> None:
    aws.codebuild.add_response(
        "batch_get_reports",
        {
            "reports": [
                {
                    "arn": REPORT,
                    "name": "web-staging-unit-junit",
                    "testSummary": {
                        "total": 43,
                        "statusCounts": {"SUCCEEDED": 40, "FAILED": 2, "SKIPPED": 1},
                        "durationInNanoSeconds": 1,
                    },
                }
            ]
        },
        {"reportArns": [REPORT]},
    )


def _info(aws: StubbedAws) -> None:
    _staging(aws)
    aws.expect_execution(STAGING, 9, status="Failed", commit=9, status_summary="unit failed")
    _actions(aws)
    _builds(aws)
    _reports(aws)


def test_info_shows_each_action_with_its_tests_trigger_and_links(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _info(aws)

    result = cli("info", "-s", "web", "-e", "staging", clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:6] == [
        f"=== Release {execution_id(9)} of {STAGING} (service web, stage staging)",
        "Status:    Failed: unit failed",
        f'Commit:    commit {sha(9)[:7]} "Faster search"',
        "Trigger:   WebhookV2",
        "Started:   2025-05-01 11:00:00 UTC (1h ago), duration 5m 00s",
        "Console:   https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{STAGING}/executions/{execution_id(9)}/timeline?region=eu-west-1",
    ]
    unit = next(line for line in lines if line.startswith("Test "))
    assert unit.split()[:3] == ["Test", "unit", "Failed"]
    assert unit.endswith(
        "1m 02s    web-staging-unit-junit: 40 passed, 2 failed, 1 skipped; Build terminated "
        "with state: FAILED"
    )
    assert (
        "  Build  https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/"
        "web-staging-build/build/web-staging-build%3A1f2e3d4c-0000-4000-8000-000000000001/"
        "?region=eu-west-1"
    ) in lines


def test_info_marks_the_test_totals_it_may_not_read_and_still_succeeds(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_execution(STAGING, 9, status="Failed", commit=9)
    _actions(aws, pages=1)
    _builds(aws)
    aws.codebuild.add_client_error("batch_get_reports", service_error_code="AccessDeniedException")

    result = cli("info", "-s", "web", "-e", "staging", execution_id(9)[:8], clients=aws.clients())

    assert result.code == 0, result.err
    assert "tests unknown (needs codebuild:BatchGetReports)" in result.out


def test_info_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    _info(aws)

    result = cli("info", "-s", "web", "-e", "staging", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("info", document)
    unit = next(a for a in document["actions"] if a["action"] == "unit")
    assert unit["tests"] == [
        {"report": "web-staging-unit-junit", "total": 43, "passed": 40, "failed": 2, "skipped": 1}
    ]


def test_info_of_a_production_release_names_who_approved_it_and_why(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod", approval=True)
    aws.expect_history("web-prod-pipeline", [summary(9, commit=9)], 100)
    aws.expect_execution("web-prod-pipeline", 9, commit=9)
    aws.codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                detail(
                    "Approval",
                    "Approve",
                    "Manual",
                    minute=10,
                    seconds=600,
                    updatedBy="arn:aws:iam::123456789012:user/bob",
                    result={"externalExecutionSummary": "QA signed off"},
                )
            ]
        },
        {
            "pipelineName": "web-prod-pipeline",
            "filter": {"pipelineExecutionId": execution_id(9)},
            "maxResults": 100,
        },
    )

    result = cli("info", "--pipeline", "web-prod-pipeline", clients=aws.clients())

    assert result.code == 0, result.err
    assert (
        "Approval:  approved by arn:aws:iam::123456789012:user/bob, 2025-05-01 11:20:00 UTC "
        '(40m ago): "QA signed off"'
    ) in result.out


def test_logs_pages_through_a_whole_build_log_until_the_token_stops_changing(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    _actions(aws)
    _builds(aws)
    stream = {"logGroupName": "/aws/codebuild/web-staging-unit", "logStreamName": "u1"}
    for token, following, lines in (
        (None, "f1", ["one", "two"]),
        ("f1", "f2", ["three"]),
        ("f2", "f2", []),
    ):
        aws.logs.add_response(
            "get_log_events",
            {
                "events": [{"timestamp": 1746097200000, "message": f"{m}\n"} for m in lines],
                "nextForwardToken": following,
                "nextBackwardToken": "b",
            },
            {**stream, "startFromHead": True, **({"nextToken": token} if token else {})},
        )

    result = cli(
        "logs", "-s", "web", "-e", "staging", "--action", "unit", "--lines", "0",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == ["[unit] one", "[unit] two", "[unit] three"]


def test_logs_of_every_action_reads_the_last_lines_and_the_commands_log(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    _actions(aws)
    _builds(aws)
    for group, name, message in (
        ("/aws/codebuild/web-staging-build", "b1", "npm run build"),
        ("/aws/codepipeline/web-staging-pipeline", "Package/0a1b2c3d", "wrote manifest"),
        ("/aws/codebuild/web-staging-unit", "u1", "2 failed"),
    ):
        aws.logs.add_response(
            "get_log_events",
            {"events": [{"timestamp": 1746097200000, "message": message}], "nextForwardToken": "f"},
            {"logGroupName": group, "logStreamName": name, "startFromHead": False, "limit": 50},
        )

    result = cli("logs", "-s", "web", "-e", "staging", "--lines", "50", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        "[GitHub] no logs (this action writes none)",
        "[Build] npm run build",
        "[Package] wrote manifest",
        "[unit] 2 failed",
    ]


def test_logs_of_a_failed_deployment_show_the_failed_hooks_and_their_log_tail(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    deploy = detail(
        "Deploy",
        "web",
        "CodeDeploy",
        status="Failed",
        result={"externalExecutionId": "d-7Q2EXAMPLE"},
    )
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [deploy]},
        {
            "pipelineName": STAGING,
            "filter": {"pipelineExecutionId": execution_id(9)},
            "maxResults": 100,
        },
    )
    aws.codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": "d-7Q2EXAMPLE",
                "status": "Failed",
                "errorInformation": {"code": "HEALTH_CONSTRAINTS", "message": "too few healthy"},
            }
        },
        {"deploymentId": "d-7Q2EXAMPLE"},
    )
    aws.codedeploy.add_response(
        "list_deployment_targets",
        {"targetIds": ["i-0abc"]},
        {"deploymentId": "d-7Q2EXAMPLE", "targetFilters": {"TargetStatus": ["Failed"]}},
    )
    aws.codedeploy.add_response(
        "batch_get_deployment_targets",
        {
            "deploymentTargets": [
                {
                    "deploymentTargetType": "InstanceTarget",
                    "instanceTarget": {
                        "targetId": "i-0abc",
                        "lifecycleEvents": [
                            {"lifecycleEventName": "BeforeInstall", "status": "Succeeded"},
                            {
                                "lifecycleEventName": "ApplicationStart",
                                "status": "Failed",
                                "diagnostics": {
                                    "errorCode": "ScriptFailed",
                                    "scriptName": "scripts/start.sh",
                                    "message": "exit code 1",
                                    "logTail": "starting web\nport 8080 in use",
                                },
                            },
                        ],
                    },
                }
            ]
        },
        {"deploymentId": "d-7Q2EXAMPLE", "targetIds": ["i-0abc"]},
    )

    result = cli("logs", "-s", "web", "-e", "staging", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        "[web] deployment d-7Q2EXAMPLE Failed: too few healthy",
        "[web] i-0abc ApplicationStart Failed: ScriptFailed scripts/start.sh: exit code 1",
        "[web]   starting web",
        "[web]   port 8080 in use",
    ]


def test_logs_tail_keeps_reading_a_running_build_until_it_ends(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws, status="InProgress")
    running = [*ACTIONS[:1], {**ACTIONS[1], "status": "InProgress"}]
    request = {
        "pipelineName": STAGING,
        "filter": {"pipelineExecutionId": execution_id(9)},
        "maxResults": 100,
    }
    aws.codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": running}, request
    )
    aws.codebuild.add_response(
        "batch_get_builds",
        {"builds": [{"id": BUILD_ID, "logs": {"groupName": "g", "streamName": "s"}}]},
        {"ids": [BUILD_ID]},
    )
    stream = {"logGroupName": "g", "logStreamName": "s"}
    aws.logs.add_response(
        "get_log_events",
        {"events": [{"timestamp": 1, "message": "compiling"}], "nextForwardToken": "t1"},
        {**stream, "startFromHead": False, "limit": 200},
    )
    aws.codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": running}, request
    )
    aws.logs.add_response(
        "get_log_events",
        {"events": [{"timestamp": 2, "message": "linking"}], "nextForwardToken": "t2"},
        {**stream, "startFromHead": True, "nextToken": "t1"},
    )
    aws.codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": ACTIONS[:2]}, request
    )
    aws.logs.add_response(
        "get_log_events",
        {"events": [], "nextForwardToken": "t2"},
        {**stream, "startFromHead": True, "nextToken": "t2"},
    )

    result = cli(
        "logs", "-s", "web", "-e", "staging", "--action", "Build", "--tail", "--interval", "3",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == ["[Build] compiling", "[Build] linking"]
    assert cli.sleeps == [3.0, 3.0]


def test_logs_of_an_action_the_release_did_not_run_lists_those_it_did(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    _actions(aws)
    _builds(aws)

    result = cli("logs", "-s", "web", "-e", "staging", "--action", "smoke", clients=aws.clients())

    assert result.code == 5
    assert result.err == (
        f"cicd: execution {execution_id(9)[:8]} of {STAGING} ran no action smoke\n"
        "hint: its actions: GitHub, Build, Package, unit\n"
    )


def test_logs_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    _staging(aws)
    _actions(aws, pages=1)
    _builds(aws)
    aws.logs.add_response(
        "get_log_events",
        {"events": [{"timestamp": 1746097200000, "message": "2 failed"}], "nextForwardToken": "f"},
        {
            "logGroupName": "/aws/codebuild/web-staging-unit",
            "logStreamName": "u1",
            "startFromHead": False,
            "limit": 200,
        },
    )

    result = cli(
        "logs", "-s", "web", "-e", "staging", "--action", "unit", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("logs", document)
    assert document == [
        {
            "action": "unit",
            "source": "codebuild",
            "timestamp": "2025-05-01T11:00:00+00:00",
            "message": "2 failed",
        }
    ]


def test_open_prints_the_console_url_and_opens_it_on_a_terminal(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod")
    url = (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "web-prod-pipeline/view?region=eu-west-1"
    )

    result = cli("open", "--pipeline", "web-prod-pipeline", clients=aws.clients(), terminal=True)

    assert (result.code, result.out, cli.opened) == (0, url + "\n", [url])


def test_open_of_an_execution_only_prints_when_not_on_a_terminal(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod")
    aws.expect_history("web-prod-pipeline", [summary(9, commit=9)], 100)

    result = cli(
        "open", "--pipeline", "web-prod-pipeline", execution_id(9)[:8], clients=aws.clients()
    )

    assert result.out.endswith(f"/executions/{execution_id(9)}/timeline?region=eu-west-1\n")
    assert cli.opened == []


def test_open_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    aws.expect_pipeline("web", "prod")

    result = cli(
        "open", "--pipeline", "web-prod-pipeline", "--json", clients=aws.clients(), terminal=True
    )

    document = json.loads(result.out)
    assert_documented_shape("open", document)
    assert document["opened"] is False and cli.opened == []
