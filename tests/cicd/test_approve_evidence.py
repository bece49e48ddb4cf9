"""`cicd approve` without --yes: the evidence the approval carries, shown before it asks.

CodePipeline and CloudWatch are botocore Stubbers. The pipeline's Describe step is the one the
stacks declare for a promoted release (given ALARM_NAMES), here in front of a GitHub-built
pipeline's approval so that only the evidence is new to the test.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cicd.model.pipeline import DeploymentWindow
from cicd.model.preflight import AlarmState, WindowState
from cicd.model.status import Unknown
from cicd.render.approval import evidence_lines
from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    CliRunner,
    StubbedAws,
    action_state,
    execution_id,
    expect_discovery,
    lambda_target,
    pipeline_declaration,
    sha,
    stage_state,
)

PIPELINE = "shop-prod-pipeline"
LIVE = sha(6)
EVIDENCE = {
    "COMMIT_ID": sha(7),
    "COMMIT_MESSAGE": "Change 7",
    "REPOSITORY": "acme/shop",
    "LIVE_COMMIT": LIVE,
    "CHANGES_PATH": f"compare/{LIVE}...{sha(7)}",
    "COMMITS_AHEAD": "4",
    "VERIFICATION": "smoke Succeeded",
    "BAKE": "15m 0s",
    "ALARMS": "shop-prod-errors OK",
}


def _declaration() -> dict[str, Any]:
    target = lambda_target("shop", "prod")
    target["configuration"]["Alarms"] = "shop-prod-errors"
    declaration = pipeline_declaration("shop", "prod", approval=True, targets=[target])
    [approval] = [s for s in declaration["stages"] if s["name"] == "Approval"]
    environment = [
        {"name": "PIPELINE_NAME", "value": PIPELINE, "type": "PLAINTEXT"},
        {"name": "ALARM_NAMES", "value": "shop-prod-errors", "type": "PLAINTEXT"},
    ]
    approval["actions"].insert(
        0,
        {
            "name": "Describe",
            "actionTypeId": {
                "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"
            },
            "configuration": {
                "ProjectName": "shop-prod-describe",
                "EnvironmentVariables": json.dumps(environment),
            },
            "runOrder": 1,
            "namespace": "ReleaseVariables",
        },
    )  # fmt: skip
    approval["actions"][1]["runOrder"] = 2
    return declaration


def _waiting(aws: StubbedAws, *, evidence: bool = True) -> None:
    expect_discovery(aws.tagging, stage="prod", service="shop", found=[(PIPELINE, "shop", "prod")])
    aws.codepipeline.add_response("get_pipeline", {"pipeline": _declaration()}, {"name": PIPELINE})
    aws.expect_state(
        PIPELINE,
        stage_state("Source", 3, "Succeeded", [action_state("GitHub", "Succeeded", revision=7)]),
        stage_state(
            "Approval",
            3,
            "InProgress",
            [
                action_state("Describe", "Succeeded"),
                action_state("Approve", "InProgress", token=APPROVAL_TOKEN),
            ],
        ),
        stage_state("Deploy", 2, "Succeeded"),
    )
    aws.expect_execution(PIPELINE, 3, status="InProgress", commit=7)
    if not evidence:
        return
    aws.codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "pipelineExecutionId": execution_id(3),
                    "stageName": "Approval",
                    "actionName": "Describe",
                    "status": "Succeeded",
                    "output": {"outputVariables": EVIDENCE},
                }
            ]
        },
        {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": execution_id(3)}},
    )
    aws.stub("cloudwatch").add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "shop-prod-errors", "StateValue": "ALARM"}]},
        {"AlarmNames": ["shop-prod-errors"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
    )


def _answered(aws: StubbedAws) -> None:
    aws.codepipeline.add_response(
        "put_approval_result",
        {},
        {
            "pipelineName": PIPELINE,
            "stageName": "Approval",
            "actionName": "Approve",
            "result": {"summary": "Approved with cicd", "status": "Approved"},
            "token": APPROVAL_TOKEN,
        },
    )


EVIDENCE_LINES = [
    f"Evidence for commit {sha(7)[:7]}:",
    f"  changes: 4 commits since the live {LIVE[:7]}: "
    f"https://github.com/acme/shop/compare/{LIVE}...{sha(7)}",
    "  upstream verification: smoke Succeeded; bake 15m 0s",
    "  alarms when it reached the approval: shop-prod-errors OK",
    "  alarms now: shop-prod-errors ALARM",
    "  window: no deployment window",
]


def test_approve_prints_the_evidence_then_approves_when_not_on_a_terminal(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting(aws)
    _answered(aws)

    result = cli("approve", "-s", "shop", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[: len(EVIDENCE_LINES)] == EVIDENCE_LINES
    assert result.out.splitlines()[len(EVIDENCE_LINES)].startswith(f"Approved commit {sha(7)[:7]}")


def test_approve_on_a_terminal_asks_and_sends_nothing_unless_told_yes(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting(aws)  # no put_approval_result: the stub fails on any answer sent

    result = cli(
        "approve", "-s", "shop", "-e", "prod", clients=aws.clients(), stdin="n\n", tty=True
    )

    assert result.code == 3
    assert result.out.splitlines()[: len(EVIDENCE_LINES)] == EVIDENCE_LINES
    assert result.out.endswith(f"Approve commit {sha(7)[:7]} in {PIPELINE}? [y/N] ")
    assert result.err.startswith("cicd: not approved: nothing was sent")


def test_approve_on_a_terminal_approves_on_yes(aws: StubbedAws, cli: CliRunner) -> None:
    _waiting(aws)
    _answered(aws)

    result = cli(
        "approve", "-s", "shop", "-e", "prod", clients=aws.clients(), stdin="y\n", tty=True
    )

    assert result.code == 0, result.err
    assert "Approved commit" in result.out


def test_approve_with_yes_neither_reads_the_evidence_nor_asks(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _waiting(aws, evidence=False)
    _answered(aws)

    result = cli("approve", "-s", "shop", "-e", "prod", "--yes", clients=aws.clients(), tty=True)

    assert result.code == 0, result.err
    assert "Evidence" not in result.out


# --- evidence_lines, each fact's forms ---------------------------------------------------------

LIVE = "0123456789abcdef0123456789abcdef01234567"
CANDIDATE = "fedcba9876543210fedcba9876543210fedcba98"
WINDOW = DeploymentWindow(stage="Deploy", cron="* 9-16 ? * MON-THU *", time_zone="Europe/Paris")


def test_evidence_lines_show_each_fact_of_the_approval_and_the_state_now() -> None:
    lines = evidence_lines(
        {
            "REPOSITORY": "acme/web",
            "COMMIT_ID": CANDIDATE,
            "LIVE_COMMIT": LIVE,
            "CHANGES_PATH": f"compare/{LIVE}...{CANDIDATE}",
            "COMMITS_AHEAD": "3",
            "VERIFICATION": "smoke passed",
            "BAKE": "30 min, no alarm",
            "ALARMS": "web-prod-5xx OK",
        },
        (AlarmState("web-prod-5xx", "OK"), AlarmState("web-prod-p99", "ALARM")),
        WindowState(WINDOW, open=True, opens=None),
    )
    assert lines == [
        "Evidence for commit fedcba9:",
        f"  changes: 3 commits since the live 0123456: https://github.com/acme/web/compare/{LIVE}...{CANDIDATE}",
        "  upstream verification: smoke passed; bake 30 min, no alarm",
        "  alarms when it reached the approval: web-prod-5xx OK",
        "  alarms now: web-prod-5xx OK, web-prod-p99 ALARM",
        "  window: open now (* 9-16 ? * MON-THU *, Europe/Paris)",
    ]


def test_evidence_without_its_variables_shows_question_marks_and_the_commit_link() -> None:
    lines = evidence_lines({}, (), None)
    assert lines == [
        "Evidence for commit ?:",
        "  changes: nothing live to compare with (?): https://github.com/?/commit/?",
        "  upstream verification: ?; bake ?",
        "  alarms when it reached the approval: ?",
        "  alarms now: none",
        "  window: no deployment window",
    ]


def test_nothing_live_says_why_and_links_the_candidate() -> None:
    lines = evidence_lines(
        {"REPOSITORY": "acme/web", "COMMIT_ID": CANDIDATE, "LIVE_COMMIT": "none"}, (), None
    )
    assert lines[1] == (
        f"  changes: nothing live to compare with (none): https://github.com/acme/web/commit/{CANDIDATE}"
    )


def test_alarms_that_cannot_be_read_now_say_what_is_needed() -> None:
    lines = evidence_lines({}, Unknown("unknown (needs cloudwatch:DescribeAlarms)"), None)
    assert lines[4] == "  alarms now: unknown (needs cloudwatch:DescribeAlarms)"


def test_a_closed_window_says_when_it_opens_in_its_zone_and_in_utc() -> None:
    opens = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    lines = evidence_lines({}, (), WindowState(WINDOW, open=False, opens=opens))
    assert lines[5] == (
        "  window: closed; opens 2026-12-07 09:00 Europe/Paris (08:00 UTC): approving sooner "
        "fails at Deploy"
    )


def test_a_closed_window_that_does_not_open_within_reach_names_its_rule() -> None:
    lines = evidence_lines({}, (), WindowState(WINDOW, open=False, opens=None))
    assert lines[5] == "  window: closed (* 9-16 ? * MON-THU *, Europe/Paris)"
