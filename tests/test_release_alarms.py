"""Release alarms: metrics and dimensions per target, documented defaults, clear errors."""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pytest

from components.release_alarms import ReleaseAlarms, ReleaseAlarmsArgs
from tests.harness import (
    ACCOUNT,
    REGION,
    Recorder,
    Resource,
    run_pulumi,
)

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET_GROUP = "targetgroup/orders-prod/73e2d6bc24d8a067"
LOAD_BALANCER = "app/orders-prod/50dc6c495c0c9188"


def _alb() -> ReleaseAlarmsArgs:
    return {
        "service": "orders",
        "stage": "prod",
        "target_group_arn_suffix": TARGET_GROUP,
        "load_balancer_arn_suffix": LOAD_BALANCER,
    }


def _lambda() -> ReleaseAlarmsArgs:
    return {"service": "orders", "stage": "prod", "function_name": "orders-prod-api"}


def _run(args: ReleaseAlarmsArgs) -> dict[str, Any]:
    outputs: dict[str, Any] = {}

    def program() -> Any:
        alarms = ReleaseAlarms("alarms", args)
        return pulumi.Output.all(names=alarms.alarm_names, arns=alarms.alarm_arns).apply(
            outputs.update
        )

    run_pulumi(program)
    return outputs


def _alarm(mocks: Recorder, role: str) -> Resource:
    return mocks.one(ALARM, f"alarms-{role}")


def test_an_alb_target_gets_5xx_and_unhealthy_host_alarms_on_its_target_group(
    mocks: Recorder,
) -> None:
    outputs = _run(_alb())

    assert sorted(r.name for r in mocks.of_type(ALARM)) == [
        "alarms-alb-target-5xx",
        "alarms-alb-unhealthy-hosts",
    ], "an ALB target gets exactly two alarms"
    dimensions = {"TargetGroup": TARGET_GROUP, "LoadBalancer": LOAD_BALANCER}
    errors = _alarm(mocks, "alb-target-5xx").inputs
    assert (errors["namespace"], errors["metricName"], errors["statistic"]) == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "Sum",
    ), "5xx alarm metric"
    assert errors["dimensions"] == dimensions, "5xx alarm dimensions"
    assert errors["threshold"] == 5, "5xx alarm default threshold"
    unhealthy = _alarm(mocks, "alb-unhealthy-hosts").inputs
    assert (unhealthy["metricName"], unhealthy["statistic"]) == (
        "UnHealthyHostCount",
        "Maximum",
    ), "unhealthy hosts alarm metric"
    assert unhealthy["dimensions"] == dimensions, "unhealthy hosts alarm dimensions"
    assert unhealthy["threshold"] == 1, "unhealthy hosts alarm default threshold"
    assert outputs["names"] == ["orders-prod-alb-target-5xx", "orders-prod-alb-unhealthy-hosts"]
    assert outputs["arns"] == [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:orders-prod-alb-target-5xx",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:orders-prod-alb-unhealthy-hosts",
    ]


def test_every_alarm_uses_the_documented_defaults_and_ignores_missing_data(
    mocks: Recorder,
) -> None:
    args = _alb()
    args["function_name"] = "orders-prod-api"
    _run(args)

    assert len(mocks.of_type(ALARM)) == 4, "ALB and Lambda targets together get four alarms"
    for alarm in mocks.of_type(ALARM):
        settings = {
            key: alarm.inputs[key]
            for key in (
                "period",
                "evaluationPeriods",
                "datapointsToAlarm",
                "comparisonOperator",
                "treatMissingData",
            )
        }
        assert settings == {
            "period": 60,
            "evaluationPeriods": 3,
            "datapointsToAlarm": 2,
            "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "treatMissingData": "notBreaching",
        }, f"{alarm.name} settings"
        assert alarm.inputs["tags"]["cicd:service"] == "orders", f"{alarm.name} tags"
        assert alarm.parent == mocks.one("delivery:cicd:ReleaseAlarms").urn, f"{alarm.name} parent"


def test_a_lambda_function_gets_errors_and_throttles_alarms_on_the_function(
    mocks: Recorder,
) -> None:
    outputs = _run(_lambda())

    assert sorted(r.name for r in mocks.of_type(ALARM)) == [
        "alarms-lambda-errors",
        "alarms-lambda-throttles",
    ], "a Lambda target gets exactly two alarms"
    for role, metric in (("lambda-errors", "Errors"), ("lambda-throttles", "Throttles")):
        inputs = _alarm(mocks, role).inputs
        assert (inputs["namespace"], inputs["metricName"], inputs["statistic"]) == (
            "AWS/Lambda",
            metric,
            "Sum",
        ), f"{role} alarm metric"
        assert inputs["dimensions"] == {"FunctionName": "orders-prod-api"}, f"{role} dimensions"
        assert inputs["threshold"] == 1, f"{role} default threshold"
    assert outputs["names"] == ["orders-prod-lambda-errors", "orders-prod-lambda-throttles"]


def test_a_lambda_alias_becomes_the_resource_dimension(mocks: Recorder) -> None:
    args = _lambda()
    args["alias"] = pulumi.Output.from_input("live")
    _run(args)

    for role in ("lambda-errors", "lambda-throttles"):
        assert _alarm(mocks, role).inputs["dimensions"] == {
            "FunctionName": "orders-prod-api",
            "Resource": "orders-prod-api:live",
        }, f"{role} dimensions with an alias"


def test_thresholds_and_periods_come_from_the_args(mocks: Recorder) -> None:
    args = _alb()
    args["function_name"] = "orders-prod-api"
    args.update(
        period_seconds=300,
        evaluation_periods=2,
        datapoints_to_alarm=1,
        alb_5xx_threshold=20,
        alb_unhealthy_hosts_threshold=2,
        lambda_errors_threshold=3,
        lambda_throttles_threshold=10,
    )
    _run(args)

    thresholds = {r.name: r.inputs["threshold"] for r in mocks.of_type(ALARM)}
    assert thresholds == {
        "alarms-alb-target-5xx": 20,
        "alarms-alb-unhealthy-hosts": 2,
        "alarms-lambda-errors": 3,
        "alarms-lambda-throttles": 10,
    }
    for alarm in mocks.of_type(ALARM):
        assert (
            alarm.inputs["period"],
            alarm.inputs["evaluationPeriods"],
            alarm.inputs["datapointsToAlarm"],
        ) == (300, 2, 1), f"{alarm.name} evaluation settings"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, r"no target given; set target_group_arn_suffix and load_balancer_arn_suffix"),
        (
            {"target_group_arn_suffix": TARGET_GROUP},
            r"target_group_arn_suffix is set but load_balancer_arn_suffix is not",
        ),
        (
            {"load_balancer_arn_suffix": LOAD_BALANCER},
            r"load_balancer_arn_suffix is set but target_group_arn_suffix is not",
        ),
        ({"alias": "live"}, r"alias is set but function_name is not"),
        (
            {"function_name": "f", "period_seconds": 90},
            r"period_seconds 90 must be a positive multiple of 60",
        ),
        (
            {"function_name": "f", "evaluation_periods": 2, "datapoints_to_alarm": 3},
            r"datapoints_to_alarm 3 must be between 1 and evaluation_periods \(2\)",
        ),
        (
            {"function_name": "f", "lambda_errors_threshold": -1},
            r"lambda_errors_threshold -1 must not be negative",
        ),
    ],
)
def test_invalid_args_fail_with_a_message_naming_the_arg(
    mocks: Recorder, args: dict[str, Any], message: str
) -> None:
    # Deliberately incomplete or inconsistent args: the point is the runtime check.
    full = cast(ReleaseAlarmsArgs, {"service": "orders", "stage": "prod", **args})

    with pytest.raises(ValueError, match=message):
        run_pulumi(lambda: ReleaseAlarms("alarms", full))
    assert mocks.resources == [], "nothing is declared when the args are invalid"
