"""Issue 21 under mocks: the sample stacks' delivery reporter, its dashboard, and their config.

The reporter: the rule's event pattern, the function it invokes (and only from that rule), the
token's secret, the encrypted dead-letter queue both EventBridge and Lambda fail over to, the
alarms on both, and IAM as values. The dashboard: its body as JSON (widgets, metrics, alarms,
the log query over the reporter's log) and the picture of it in docs/cicd.md. The config:
every new key's mistakes, with key, value and fix.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from components.delivery_dashboard import dashboard_body, dashboard_diagram
from components.reporter_function import METRIC_NAMES, METRICS_NAMESPACE
from stack.config import parse_settings
from tests.harness import ACCOUNT, PROJECT, REGION, ROOT, StackRun, iter_stacks, run_stacks
from tests.test_config import errors_of, stack_raw

NS = PROJECT
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


def _statements(run: StackRun) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.recorder.one(POLICY, "delivery-reporter-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def _pipeline_arn(name: str) -> str:
    return f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{name}"


@pytest.mark.parametrize(
    ("stack", "pipelines"),
    [
        (
            "dev",
            ["web-dev-pipeline", "thumbnailer-dev-pipeline", "web-dev-pr", "thumbnailer-dev-pr"],
        ),
        (
            "staging",
            [
                "web-staging-pipeline",
                "thumbnailer-staging-pipeline",
                "web-staging-pr",
                "thumbnailer-staging-pr",
            ],
        ),
        # Promoted pipelines build nothing, so they have no pull-request twin to watch.
        ("prod", ["web-prod-pipeline", "thumbnailer-prod-pipeline"]),
    ],
)
def test_the_rule_matches_pipeline_and_stage_events_of_exactly_the_stages_pipelines(
    runs: dict[str, StackRun], stack: str, pipelines: list[str]
) -> None:
    rule = runs[stack].recorder.one(RULE, "delivery-reporter-rule")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.codepipeline"],
        "detail-type": [
            "CodePipeline Pipeline Execution State Change",
            "CodePipeline Stage Execution State Change",
        ],
        "detail": {"pipeline": pipelines},
    }
    statements = _statements(runs[stack])
    assert statements["ReadOwnPipelinesExecutions"]["Resource"] == [
        _pipeline_arn(p) for p in pipelines
    ]
    # Every real pipeline of the stack is watched.
    declared = {
        r.inputs["name"] for r in runs[stack].recorder.of_type("aws:codepipeline/pipeline:Pipeline")
    }
    assert declared <= set(pipelines)


def test_the_rule_invokes_the_function_which_only_that_rule_may_invoke(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder
    rule = rec.one(RULE, "delivery-reporter-rule")
    function = rec.one(FUNCTION, "delivery-reporter-function")
    queue = rec.one(QUEUE, "delivery-reporter-dead-letters")
    target = rec.one(TARGET, "delivery-reporter-target").inputs
    assert target["rule"] == rule.inputs["name"]
    assert target["arn"] == function.state["arn"]
    assert target["deadLetterConfig"] == {"arn": queue.state["arn"]}
    permission = rec.one(PERMISSION, "delivery-reporter-invoke").inputs
    assert permission == {
        "action": "lambda:InvokeFunction",
        "function": function.inputs["name"],
        "principal": "events.amazonaws.com",
        "sourceArn": rule.state["arn"],
    }
    invoke = rec.one(INVOKE_CONFIG, "delivery-reporter-async").inputs
    assert invoke["destinationConfig"] == {"onFailure": {"destination": queue.state["arn"]}}
    assert invoke["maximumRetryAttempts"] == 2


def test_the_dead_letter_queue_is_encrypted_written_only_by_the_rule_and_alarmed(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder
    queue = rec.one(QUEUE, "delivery-reporter-dead-letters")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    policy = json.loads(
        rec.one(QUEUE_POLICY, "delivery-reporter-dead-letters-policy").inputs["policy"]
    )
    assert policy["Statement"] == [
        {
            "Sid": "EventBridgeDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue.state["arn"],
            "Condition": {
                "ArnEquals": {"aws:SourceArn": rec.one(RULE, "delivery-reporter-rule").state["arn"]}
            },
        }
    ]
    depth = rec.one(ALARM, "delivery-reporter-dead-letters-alarm").inputs
    assert (depth["namespace"], depth["metricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert depth["dimensions"] == {"QueueName": queue.inputs["name"]}
    assert (depth["comparisonOperator"], depth["threshold"]) == ("GreaterThanThreshold", 0)
    errors = rec.one(ALARM, "delivery-reporter-errors-alarm").inputs
    assert (errors["namespace"], errors["metricName"], errors["statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert errors["dimensions"] == {"FunctionName": "gh-aws-delivery-staging-reporter"}


def test_the_token_goes_into_secrets_manager_and_only_the_function_reads_it(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["prod"].recorder
    secret = rec.one(SECRET, "delivery-reporter-token")
    assert secret.inputs["name"] == "gh-aws-delivery-prod-github-token"
    version = rec.one(SECRET_VERSION, "delivery-reporter-token-value").inputs
    # The stack's secret config value, still a secret: the plan shows it as a placeholder.
    assert "ghp" not in json.dumps(version, default=str)
    function = rec.one(FUNCTION, "delivery-reporter-function").inputs
    assert function["environment"]["variables"] == {"GITHUB_TOKEN_SECRET_ARN": secret.state["arn"]}
    assert _statements(runs["prod"])["ReadGitHubToken"] == {
        "Sid": "ReadGitHubToken",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": secret.state["arn"],
    }


def test_the_functions_role_is_least_privilege_and_bounded(runs: dict[str, StackRun]) -> None:
    run = runs["staging"]
    statements = _statements(run)
    assert set(statements) == {
        "ReadOwnPipelinesExecutions",
        "WriteOwnLog",
        "PublishDeliveryMetrics",
        "SendFailedEventsToDeadLetterQueue",
        "ReadGitHubToken",
    }
    assert statements["PublishDeliveryMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}
    }
    assert statements["WriteOwnLog"]["Resource"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/gh-aws-delivery-staging-reporter:*"
    )
    queue = run.recorder.one(QUEUE, "delivery-reporter-dead-letters")
    assert statements["SendFailedEventsToDeadLetterQueue"]["Resource"] == queue.state["arn"]
    role = run.recorder.one(ROLE, "delivery-reporter-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert role["permissionsBoundary"].endswith(":policy/gh-aws-delivery-staging-boundary")


def test_the_function_ships_its_module_and_what_the_events_do_not_say(
    runs: dict[str, StackRun],
) -> None:
    def shipped(stack: str) -> dict[str, Any]:
        code = runs[stack].recorder.one(FUNCTION, "delivery-reporter-function").inputs["code"]
        assert set(code.assets) == {"reporter_function.py", "pipelines.json"}
        return json.loads(code.assets["pipelines.json"].text)

    staging = shipped("staging")
    assert staging["web-staging-pipeline"] == {
        "service": "web",
        "stage": "staging",
        "repository": "acme/web",
        "production": False,
        "environment_url": "https://web.staging.example.com",
    }
    prod = shipped("prod")
    # A promoted release's repository and commit come from its Describe action, per execution.
    assert prod["web-prod-pipeline"]["repository"] is None
    assert prod["web-prod-pipeline"]["production"] is True
    assert prod["web-prod-pipeline"]["environment_url"] == "https://web.example.com"
    function = runs["prod"].recorder.one(FUNCTION, "delivery-reporter-function").inputs
    assert (function["runtime"], function["handler"]) == (
        "python3.12",
        "reporter_function.handler",
    )


def _body(run: StackRun) -> dict[str, Any]:
    return json.loads(
        run.recorder.one(DASHBOARD, "delivery-dashboard-dashboard").inputs["dashboardBody"]
    )


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_stage_declares_one_dashboard_named_after_it(
    runs: dict[str, StackRun], stack: str
) -> None:
    (board,) = runs[stack].recorder.of_type(DASHBOARD)
    assert board.inputs["dashboardName"] == f"gh-aws-delivery-{stack}-delivery"


def test_the_dashboard_shows_every_delivery_metric_of_each_service_in_its_stage(
    runs: dict[str, StackRun],
) -> None:
    widgets = _body(runs["prod"])["widgets"]
    metrics = {
        (m[1], m[3], m[5])
        for w in widgets
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    }
    assert {m[0] for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]} == {
        METRICS_NAMESPACE
    }
    assert metrics == {
        (name, service, "prod") for name in METRIC_NAMES for service in ("web", "thumbnailer")
    }
    stats = {
        w["properties"]["title"]: w["properties"]["stat"] for w in widgets if w["type"] == "metric"
    }
    assert stats == {
        "Releases per day": "Sum",
        "Lead time, p50": "p50",
        "Restore time, p50": "p50",
    }
    assert all(
        w["properties"]["region"] == REGION for w in widgets if w["type"] in ("metric", "log")
    )


def test_the_alarm_widgets_show_each_services_release_alarms_and_the_reporters(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["prod"].recorder
    widgets = {
        w["properties"]["title"]: w["properties"]["alarms"]
        for w in _body(runs["prod"])["widgets"]
        if w["type"] == "alarm"
    }
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    web_alarms = {
        a.inputs["name"] for a in rec.of_type(ALARM) if a.inputs["name"].startswith("web-prod")
    }
    assert set(widgets["web alarms"]) == {arn + n for n in web_alarms | {"web-prod-p99-latency"}}
    assert widgets["Reporting to GitHub"] == [
        arn + "gh-aws-delivery-prod-reporter-dead-letters",
        arn + "gh-aws-delivery-prod-reporter-errors",
    ]


def test_a_service_without_alarms_gets_a_note_not_an_empty_alarm_widget(
    runs: dict[str, StackRun],
) -> None:
    widgets = _body(runs["dev"])["widgets"]
    assert not any(
        w["type"] == "alarm" and w["properties"]["title"] == "web alarms" for w in widgets
    )
    notes = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert any(
        n.startswith("### web alarms\nNo alarm watches web's releases in dev") for n in notes
    )


def test_the_last_releases_come_from_the_reporters_log(runs: dict[str, StackRun]) -> None:
    (log,) = [w for w in _body(runs["staging"])["widgets"] if w["type"] == "log"]
    query = log["properties"]["query"]
    assert query.startswith("SOURCE '/aws/lambda/gh-aws-delivery-staging-reporter' |")
    assert 'filter record = "release"' in query
    assert query.endswith("| limit 20")
    log_group = runs["staging"].recorder.one(
        "aws:cloudwatch/logGroup:LogGroup", "delivery-reporter-log"
    )
    assert log_group.inputs["name"] == "/aws/lambda/gh-aws-delivery-staging-reporter"
    assert log_group.inputs["retentionInDays"] == 30


def test_widgets_fit_the_24_column_grid_without_overlapping(runs: dict[str, StackRun]) -> None:
    for stack, run in runs.items():
        cells: set[tuple[int, int]] = set()
        for w in _body(run)["widgets"]:
            assert w["x"] >= 0 and w["x"] + w["width"] <= 24, (stack, w)
            area = {
                (x, y)
                for x in range(w["x"], w["x"] + w["width"])
                for y in range(w["y"], w["y"] + w["height"])
            }
            assert not cells & area, (stack, w["properties"].get("title"))
            cells |= area


def test_the_picture_in_docs_cicd_is_the_staging_dashboard_drawn_from_its_body(
    runs: dict[str, StackRun],
) -> None:
    text = (ROOT / "docs" / "cicd.md").read_text()
    found = re.search(r"<!-- dashboard:staging -->\n```text\n(.*?)\n```", text, re.S)
    assert found, "docs/cicd.md has no dashboard picture between its markers"
    assert found.group(1) == dashboard_diagram(_body(runs["staging"]))


def test_the_diagram_draws_each_widget_at_its_place() -> None:
    body = dashboard_body(
        title="p", stage="s", region=REGION, services=[("a", ["arn:a"])], log_group_name="/g"
    )
    picture = dashboard_diagram(body).splitlines()
    assert picture[0] == "+" + "-" * 71 + "+"
    assert picture[1].startswith("| p: delivery in s ")
    assert picture[3].startswith("| Releases per day ")
    assert picture[4].startswith("| [metric] ")
    assert "| a alarms " in picture[9] and "| [alarm] " in picture[10]
    assert picture[-1] == picture[0]


# Config ----------------------------------------------------------------------------------------


def test_the_sample_stacks_report_to_github_and_declare_the_dashboard() -> None:
    for stack in ("dev", "staging", "prod"):
        settings = parse_settings(NS, stack, stack_raw(stack), github_token="secret")
        assert settings.report is not None and settings.report.github
        assert settings.dashboard is not None and settings.dashboard.enabled


def test_reporting_to_github_without_a_token_names_both_ways_to_give_one() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["github"]["manage_repository"] = False
    message = errors_of(raw, "staging", github_token="missing")
    assert f"{NS}:report.github: reporting to GitHub needs a token" in message
    assert f"pulumi config set --path '{NS}:report.token_secret_arn' <secret-arn>" in message
    assert message.count("problem") == 1 or "1 problem(s)" in message


def test_reporting_without_a_token_says_the_token_is_not_set_and_shows_report_github_true() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["github"]["manage_repository"] = False
    lines = errors_of(raw, "staging", github_token="missing").splitlines()
    at = lines.index(
        f"  - {NS}:report.github: reporting to GitHub needs a token: {NS}:githubToken is not set, "
        "and report.token_secret_arn is not set"
    )
    assert lines[at + 1] == "      received: true"


def test_a_plaintext_token_is_refused_for_reporting() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["github"]["manage_repository"] = False
    message = errors_of(raw, "staging", github_token="plaintext")
    assert "set in plaintext; it must be a secret" in message


def test_an_existing_secret_serves_instead_of_the_token() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["github"]["manage_repository"] = False
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:github-AbCdEf"
    raw["report"] = {"token_secret_arn": arn}
    settings = parse_settings(NS, "staging", raw, github_token="missing")
    assert settings.report is not None and settings.report.token_secret_arn == arn


def test_report_key_mistakes_are_each_named_with_the_value_and_fix() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["report"] = {
        "github": False,
        "token_secret_arn": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:x",
        "token_kms_key_arn": "arn:aws:kms:eu-west-1:111111111111:key/k",
        "gihub": True,
    }
    message = errors_of(raw, "staging")
    assert f"{NS}:report.gihub" in message
    raw["report"].pop("gihub")
    message = errors_of(raw, "staging")
    assert f"{NS}:report.token_secret_arn: github is false, so no token is read" in message
    raw["report"] = {"token_kms_key_arn": "arn:aws:kms:eu-west-1:111111111111:key/k"}
    message = errors_of(raw, "staging")
    assert f"{NS}:report.token_kms_key_arn: applies with token_secret_arn" in message
    assert f"fix: pulumi config rm --path '{NS}:report.token_kms_key_arn'" in message
    raw["report"] = {"token_secret_arn": "not-an-arn"}
    message = errors_of(raw, "staging")
    assert f"{NS}:report.token_secret_arn" in message and '"not-an-arn"' in message


def test_a_dashboard_without_the_reporter_is_an_error_naming_the_fix() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    del raw["report"]
    message = errors_of(raw, "staging")
    assert (
        f"{NS}:dashboard: the dashboard shows the metrics the delivery reporter publishes"
        in message
    )
    assert f"fix: pulumi config rm --path '{NS}:dashboard'" in message


def test_dashboard_releases_shown_is_bounded() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["dashboard"] = {"releases_shown": 0}
    message = errors_of(raw, "staging")
    assert f"{NS}:dashboard.releases_shown" in message
    assert "received: 0" in message


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the pattern forms used here: lists of exact values, nested."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and _matches(value, event[key]) for key, value in pattern.items()
        )
    return event in pattern


def test_awss_sample_events_of_the_stages_pipelines_match_and_others_do_not(
    runs: dict[str, StackRun],
) -> None:
    from tests.test_reporter_function import PIPELINE_SUCCEEDED, stage_event

    pattern = json.loads(
        runs["staging"].recorder.one(RULE, "delivery-reporter-rule").inputs["eventPattern"]
    )
    deploy = stage_event("Deploy", "STARTED", "web-staging-pipeline")
    pr = {
        **PIPELINE_SUCCEEDED,
        "detail": {**PIPELINE_SUCCEEDED["detail"], "pipeline": "web-staging-pr"},
    }
    assert _matches(pattern, deploy)
    assert _matches(pattern, pr)
    assert not _matches(pattern, stage_event("Deploy", "STARTED", "web-prod-pipeline"))
    action = {**deploy, "detail-type": "CodePipeline Action Execution State Change"}
    assert not _matches(pattern, action), "action events would multiply invocations"


def test_the_deploy_role_manages_the_reporter_and_dashboard_only_by_the_stages_names(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder
    policy = json.loads(rec.one(POLICY, "github-actions-deploy-permissions").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    reporter = statements["DeliveryReporterByName"]
    assert reporter["Action"] == ["lambda:*", "sqs:*", "secretsmanager:*", "logs:*"]
    bases = ("web-staging-", "thumbnailer-staging-", "gh-aws-delivery-staging-")
    assert all(any(base + "*" in arn for base in bases) for arn in reporter["Resource"])
    assert f"arn:aws:lambda:*:{ACCOUNT}:function:gh-aws-delivery-staging-*" in reporter["Resource"]
    assert set(statements["DashboardsByName"]["Resource"]) == {
        f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{base}*" for base in bases
    }
    passed = statements["PassRolesToTheServicesThatUseThem"]["Condition"]["StringEquals"]
    assert "lambda.amazonaws.com" in passed["iam:PassedToService"]
