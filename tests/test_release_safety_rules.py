"""Issue 20's release-safety guardrails: each rule fails a bad stack with its message and passes a
good one; the sample stacks pass them (test_policy_rules.py runs every rule on every stack)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from guardrails import RULES_BY_NAME, UNKNOWN, Resource, evaluate

STACK = "urn:pulumi:test::gh-aws-delivery::"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CANARY = "aws:synthetics/canary:Canary"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
# A Monday: the window measurements below start from it.
NOW = {"now": "2026-12-07T08:00:00+01:00"}


def res(typ: str, name: str, props: Mapping[str, Any]) -> Resource:
    return Resource(type=typ, name=name, urn=f"{STACK}{typ}::{name}", props=props)


def tags(stage: str = "prod", service: str = "web") -> dict[str, str]:
    return {"cicd:service": service, "cicd:stage": stage}


def messages(rule: str, *resources: Resource, config: Any = None) -> list[str]:
    return [f.message for f in evaluate(resources, config, [RULES_BY_NAME[rule]])]


def count_alarm(threshold: float, missing: str = "notBreaching", stage: str = "prod") -> Resource:
    return res(
        ALARM,
        "web-alarms-web-alb-target-5xx",
        {
            "name": f"web-{stage}-alb-target-5xx",
            "metricName": "HTTPCode_Target_5XX_Count",
            "statistic": "Sum",
            "threshold": threshold,
            "period": 60,
            "evaluationPeriods": 3,
            "treatMissingData": missing,
            "tags": tags(stage),
        },
    )


def rate_alarm(missing: str = "breaching", period: int = 60, periods: int = 3) -> Resource:
    return res(
        ALARM,
        "web-alarms-web-alb-5xx-rate",
        {
            "name": "web-prod-alb-5xx-rate",
            "metricQueries": [
                {"id": "requests", "metric": {"metricName": "RequestCount", "period": period}},
                {"id": "judged", "expression": "IF(requests >= 10, 1, 0)", "returnData": True},
            ],
            "threshold": 5,
            "evaluationPeriods": periods,
            "treatMissingData": missing,
            "tags": tags(),
        },
    )


def canary(stage: str = "prod") -> Resource:
    return res(CANARY, "web-traffic-web-canary", {"name": f"web-{stage}-web", "tags": tags(stage)})


def group(*alarms: str, stage: str = "prod") -> Resource:
    props: dict[str, Any] = {"deploymentGroupName": f"web-{stage}-web", "tags": tags(stage)}
    if alarms:
        props["alarmConfiguration"] = {"enabled": True, "alarms": list(alarms)}
    return res(GROUP, "web-deploy-web", props)


def pipeline(
    *,
    stage: str = "prod",
    bake: Mapping[str, int] | None = None,
    window: str | None = None,
    approval_minutes: int | None = None,
    lambda_alarms: str | None = None,
) -> Resource:
    deploy_action: dict[str, Any] = {
        "name": "web",
        "category": "Deploy",
        "provider": "CodeDeploy",
        "configuration": {"DeploymentGroupName": f"web-{stage}-web"},
    }
    if lambda_alarms is not None:
        deploy_action = {
            "name": "web",
            "category": "Deploy",
            "provider": "Lambda",
            "configuration": {"FunctionName": "web", "Alarms": lambda_alarms},
        }
    deploy: dict[str, Any] = {"name": "Deploy", "actions": [deploy_action]}
    if bake:
        deploy["onSuccess"] = {
            "condition": {
                "result": "ROLLBACK",
                "rules": [
                    {
                        "name": f"bake-{alarm}",
                        "ruleTypeId": {"provider": "CloudWatchAlarm"},
                        "configuration": {"AlarmName": alarm, "WaitTime": str(minutes)},
                    }
                    for alarm, minutes in bake.items()
                ],
            }
        }
    if window:
        deploy["beforeEntry"] = {
            "condition": {
                "result": "FAIL",
                "rules": [
                    {
                        "name": "deployment-window",
                        "ruleTypeId": {"provider": "DeploymentWindow"},
                        "configuration": {"Cron": window, "TimeZone": "Europe/Berlin"},
                    }
                ],
            }
        }
    stages: list[dict[str, Any]] = [{"name": "Source", "actions": []}]
    if approval_minutes is not None:
        approve = {"name": "Approve", "category": "Approval", "provider": "Manual"}
        stages.append(
            {"name": "Approval", "actions": [{**approve, "timeoutInMinutes": approval_minutes}]}
        )
    stages.append(deploy)
    return res(
        PIPELINE,
        "web-pipeline-pipeline",
        {"name": f"web-{stage}-pipeline", "stages": stages, "tags": tags(stage)},
    )


# --- alarm-fires-at-low-traffic ------------------------------------------------------------------


def test_a_count_above_one_without_synthetic_traffic_cannot_fire_at_low_traffic() -> None:
    watched = group("web-prod-alb-target-5xx")
    assert messages("alarm-fires-at-low-traffic", count_alarm(5), watched) == [
        "service web: alarm web-prod-alb-target-5xx counts HTTPCode_Target_5XX_Count (Sum >= 5 a "
        "period) and no synthetic traffic reaches web: fewer requests than that can never fire "
        "it; send it synthetic traffic (deploy.traffic), or measure a share behind a "
        "minimum-traffic guard (deploy.alarm_defaults.measure: rate), or lower the threshold to 1"
    ]
    assert messages("alarm-fires-at-low-traffic", count_alarm(5), watched, canary()) == [], (
        "synthetic traffic on the service makes it fire"
    )
    assert messages("alarm-fires-at-low-traffic", count_alarm(1), watched) == [], (
        "a count of 1 fires on the first event"
    )
    assert messages("alarm-fires-at-low-traffic", count_alarm(5)) == [], "not watched: not judged"


def test_metric_math_that_passes_on_missing_data_without_traffic_is_refused() -> None:
    watched = group("web-prod-alb-5xx-rate")
    assert messages("alarm-fires-at-low-traffic", rate_alarm("notBreaching"), watched) == [
        "service web: alarm web-prod-alb-5xx-rate treats missing data as notBreaching and no "
        "synthetic traffic reaches web: with no requests its expression has no datapoint and the "
        "alarm passes; send it synthetic traffic (deploy.traffic), or measure a share behind a "
        "minimum-traffic guard (deploy.alarm_defaults.measure: rate), or treat missing data as "
        "breaching (deploy.alarm_defaults.missing_data)"
    ]
    assert messages("alarm-fires-at-low-traffic", rate_alarm("breaching"), watched) == []
    assert messages("alarm-fires-at-low-traffic", rate_alarm("missing"), watched, canary()) == []
    staging_canary = canary("staging")
    assert (
        len(messages("alarm-fires-at-low-traffic", rate_alarm("ignore"), watched, staging_canary))
        == 1
    ), "another stage's canary sends this one no traffic"


# --- bake-covers-alarm-evaluation ----------------------------------------------------------------


def test_a_bake_shorter_than_an_alarms_evaluation_span_is_refused() -> None:
    slow = rate_alarm(period=300, periods=4)  # 20 minutes
    short = pipeline(bake={"web-prod-alb-5xx-rate": 15})
    assert messages("bake-covers-alarm-evaluation", slow, short) == [
        "service web: stage Deploy bakes 15 min, but alarm web-prod-alb-5xx-rate needs 20 min to "
        "evaluate (4 periods): the bake ends before it could fire; set deploy.bake_minutes to at "
        "least 20, or evaluate the alarm over fewer or shorter periods"
    ]
    assert (
        messages("bake-covers-alarm-evaluation", slow, pipeline(bake={"web-prod-alb-5xx-rate": 20}))
        == []
    )
    assert messages("bake-covers-alarm-evaluation", rate_alarm(), short) == [], "3 minutes fit"
    assert messages("bake-covers-alarm-evaluation", pipeline(bake={"named-elsewhere": 1})) == [], (
        "an alarm not declared in the stack cannot be measured"
    )


# --- deployment-window-opens ---------------------------------------------------------------------


def test_a_window_that_never_opens_is_refused() -> None:
    never = pipeline(window="* * 9-15 31 FEB ? *")
    assert messages("deployment-window-opens", never, config={"deployment-window-opens": NOW}) == [
        "service web: the deployment window of stage Deploy ('* * 9-15 31 FEB ? *', "
        "Europe/Berlin) never opens in the next 400 days, so nothing can ever deploy; fix "
        "deploy.window.cron"
    ]
    past = pipeline(window="* * 9-15 ? * MON-FRI 2020")
    assert (
        len(messages("deployment-window-opens", past, config={"deployment-window-opens": NOW})) == 1
    )
    weekdays = pipeline(window="* * 9-15 ? * MON-FRI")
    assert (
        messages("deployment-window-opens", weekdays, config={"deployment-window-opens": NOW}) == []
    )
    unreadable = pipeline(window="* * 9-15 L * ? *")
    assert messages("deployment-window-opens", unreadable) == [], "L is not judged, not refused"


# --- approval-outlasts-closed-window -------------------------------------------------------------


def test_an_approval_that_times_out_while_the_window_is_closed_is_refused() -> None:
    config = {"approval-outlasts-closed-window": NOW}
    weekdays = "* * 9-15 ? * MON-FRI"
    short = pipeline(window=weekdays, approval_minutes=480)
    assert messages("approval-outlasts-closed-window", short, config=config) == [
        "service web: the approval times out after 480 min, but the window of stage Deploy "
        "('* * 9-15 ? * MON-FRI', Europe/Berlin) stays closed for up to 3900 min (65 h): a release "
        "approved-for-later expires before it may deploy; set approval.timeout_minutes to at "
        "least 3900"
    ]
    long = pipeline(window=weekdays, approval_minutes=3900)
    assert messages("approval-outlasts-closed-window", long, config=config) == []
    nightly = pipeline(window="* * 0-21 ? * *", approval_minutes=120)
    assert messages("approval-outlasts-closed-window", nightly, config=config) == [], (
        "closed two hours a night: a two-hour approval outlasts it"
    )
    assert messages("approval-outlasts-closed-window", pipeline(approval_minutes=5)) == [], (
        "no window: never closed"
    )


# --- prod-stage-watches-alarms -------------------------------------------------------------------


def test_a_production_stage_that_watches_no_alarm_is_refused() -> None:
    assert messages("prod-stage-watches-alarms", pipeline(), group()) == [
        "service web: production stage Deploy deploys without watching any alarm, so nothing "
        "stops or rolls back a bad release; set deploy.default_alarms: true or list deploy.alarms"
    ]
    assert messages("prod-stage-watches-alarms", pipeline(), group("web-prod-5xx")) == []
    assert messages("prod-stage-watches-alarms", pipeline(bake={"web-prod-5xx": 10}), group()) == []
    assert messages("prod-stage-watches-alarms", pipeline(lambda_alarms="web-prod-errors")) == []
    assert len(messages("prod-stage-watches-alarms", pipeline(lambda_alarms=""))) == 1
    assert messages("prod-stage-watches-alarms", pipeline(stage="dev"), group(stage="dev")) == [], (
        "only production stages"
    )


def test_unknown_values_in_a_preview_are_not_judged() -> None:
    unknown_missing = rate_alarm()
    props = {**unknown_missing.props, "treatMissingData": UNKNOWN}
    alarm = res(ALARM, unknown_missing.name, props)
    assert messages("alarm-fires-at-low-traffic", alarm, group("web-prod-alb-5xx-rate")) == []


@pytest.mark.parametrize(
    "rule",
    [
        "alarm-fires-at-low-traffic",
        "bake-covers-alarm-evaluation",
        "deployment-window-opens",
        "approval-outlasts-closed-window",
        "prod-stage-watches-alarms",
    ],
)
def test_each_release_safety_rule_is_mandatory_and_says_how_to_fix(rule: str) -> None:
    found = RULES_BY_NAME[rule]
    assert found.enforcement == "mandatory"
    assert found.remediation and found.description
