"""Rate alarms (issue 20): shares and p99 by metric math, minimum-traffic guards, missing data."""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pytest

from components.limits import RATE_ALARMS_PER_TARGET, default_alarms_per_target
from components.release_alarms import RATE_ALARMS, ReleaseAlarms, ReleaseAlarmsArgs
from tests.harness import Recorder, Resource, run_pulumi

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET_GROUP = "targetgroup/orders-prod/73e2d6bc24d8a067"
LOAD_BALANCER = "app/orders-prod/50dc6c495c0c9188"
ALB = {"TargetGroup": TARGET_GROUP, "LoadBalancer": LOAD_BALANCER}


def _alb(**extra: Any) -> ReleaseAlarmsArgs:
    args = {
        "service": "orders",
        "stage": "prod",
        "target_group_arn_suffix": TARGET_GROUP,
        "load_balancer_arn_suffix": LOAD_BALANCER,
        "measure": "rate",
        **extra,
    }
    return cast(ReleaseAlarmsArgs, args)


def _lambda(**extra: Any) -> ReleaseAlarmsArgs:
    args = {
        "service": "orders",
        "stage": "prod",
        "function_name": "orders-prod-api",
        "alias": "live",
        "measure": "rate",
        **extra,
    }
    return cast(ReleaseAlarmsArgs, args)


def _run(args: ReleaseAlarmsArgs) -> list[str]:
    names: list[str] = []

    def program() -> Any:
        return ReleaseAlarms("alarms", args).alarm_names.apply(names.extend)

    run_pulumi(program)
    return names


def _queries(alarm: Resource) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in alarm.inputs["metricQueries"]}


def test_an_alb_target_gets_a_guarded_5xx_share_of_its_requests(mocks: Recorder) -> None:
    names = _run(_alb())

    assert names == [
        "orders-prod-alb-5xx-rate",
        "orders-prod-alb-p99-latency",
        "orders-prod-alb-unhealthy-hosts",
    ]
    alarm = mocks.one(ALARM, "alarms-alb-5xx-rate")
    queries = _queries(alarm)
    assert queries["judged"]["expression"] == (
        "IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)"
    ), "the share is judged only from 10 requests a period, and 0 below"
    assert queries["judged"]["returnData"] is True
    for query_id, metric in (("requests", "RequestCount"), ("errors", "HTTPCode_Target_5XX_Count")):
        stat = queries[query_id]["metric"]
        assert (stat["namespace"], stat["metricName"], stat["stat"], stat["period"]) == (
            "AWS/ApplicationELB",
            metric,
            "Sum",
            60,
        ), query_id
        assert stat["dimensions"] == ALB, f"{query_id} is the target group's"
        assert queries[query_id]["returnData"] is False
    assert alarm.inputs["threshold"] == 5, "5 % of requests by default"
    assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.inputs["treatMissingData"] == "breaching", "no requests cannot pass a release"
    assert "metricName" not in alarm.inputs and "namespace" not in alarm.inputs


def test_an_alb_target_gets_a_guarded_p99_latency_in_seconds(mocks: Recorder) -> None:
    _run(_alb(p99_latency_ms=800, min_requests=25))

    alarm = mocks.one(ALARM, "alarms-alb-p99-latency")
    queries = _queries(alarm)
    assert queries["judged"]["expression"] == "IF(requests >= 25, latency, 0)"
    latency = queries["latency"]["metric"]
    assert (latency["metricName"], latency["stat"]) == ("TargetResponseTime", "p99")
    assert latency["dimensions"] == ALB
    assert alarm.inputs["threshold"] == 0.8, "TargetResponseTime is in seconds"
    assert alarm.inputs["treatMissingData"] == "breaching"


def test_unhealthy_hosts_and_throttles_stay_counts_that_do_not_need_traffic(
    mocks: Recorder,
) -> None:
    _run(_alb())
    hosts = mocks.one(ALARM, "alarms-alb-unhealthy-hosts").inputs
    assert (hosts["metricName"], hosts["statistic"], hosts["threshold"]) == (
        "UnHealthyHostCount",
        "Maximum",
        1,
    )
    assert hosts["treatMissingData"] == "notBreaching"


def test_a_lambda_alias_gets_a_guarded_error_share_of_its_invocations(mocks: Recorder) -> None:
    names = _run(_lambda(error_rate_percent=2.5))

    assert names == ["orders-prod-lambda-error-rate", "orders-prod-lambda-throttles"]
    alarm = mocks.one(ALARM, "alarms-lambda-error-rate")
    queries = _queries(alarm)
    assert queries["judged"]["expression"] == (
        "IF(invocations >= 10, 100 * FILL(errors, 0) / invocations, 0)"
    )
    dimensions = {"FunctionName": "orders-prod-api", "Resource": "orders-prod-api:live"}
    for query_id, metric in (("invocations", "Invocations"), ("errors", "Errors")):
        stat = queries[query_id]["metric"]
        assert (stat["namespace"], stat["metricName"], stat["stat"]) == (
            "AWS/Lambda",
            metric,
            "Sum",
        )
        assert stat["dimensions"] == dimensions, f"{query_id} is the alias's"
    assert alarm.inputs["threshold"] == 2.5
    assert alarm.inputs["treatMissingData"] == "breaching"
    throttles = mocks.one(ALARM, "alarms-lambda-throttles").inputs
    assert (throttles["metricName"], throttles["statistic"], throttles["threshold"]) == (
        "Throttles",
        "Sum",
        1,
    )
    assert throttles["treatMissingData"] == "notBreaching"


def test_missing_data_is_chosen_per_alarm(mocks: Recorder) -> None:
    _run(_alb(missing_data={"alb-p99-latency": "missing", "alb-unhealthy-hosts": "breaching"}))

    treatment = {r.name: r.inputs["treatMissingData"] for r in mocks.of_type(ALARM)}
    assert treatment == {
        "alarms-alb-5xx-rate": "breaching",
        "alarms-alb-p99-latency": "missing",
        "alarms-alb-unhealthy-hosts": "breaching",
    }


def test_the_rate_alarm_counts_the_limits_assume_are_what_release_alarms_creates(
    mocks: Recorder,
) -> None:
    assert len(_run(_alb())) == RATE_ALARMS_PER_TARGET["server"]
    assert len(_run(_lambda())) == RATE_ALARMS_PER_TARGET["lambda"]
    assert default_alarms_per_target("server", "count") == 2
    assert set(RATE_ALARMS) == {
        "alb-5xx-rate",
        "alb-p99-latency",
        "alb-unhealthy-hosts",
        "lambda-error-rate",
        "lambda-throttles",
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"measure": "ratio"}, r"measure 'ratio' must be 'count' or 'rate'"),
        ({"error_rate_percent": 0}, r"error_rate_percent 0 must be above 0 and at most 100"),
        ({"error_rate_percent": 150}, r"error_rate_percent 150 must be above 0"),
        ({"p99_latency_ms": -5}, r"p99_latency_ms -5 must be positive"),
        ({"min_requests": 0}, r"min_requests 0 must be at least 1"),
        (
            {"missing_data": {"alb-target-5xx": "breaching"}},
            r"missing_data names 'alb-target-5xx', which the rate measure does not create",
        ),
        (
            {"missing_data": {"alb-5xx-rate": "sometimes"}},
            r"missing_data\['alb-5xx-rate'\] 'sometimes' must be one of breaching",
        ),
    ],
)
def test_invalid_rate_args_fail_with_a_message_naming_the_arg(
    mocks: Recorder, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_pulumi(lambda: ReleaseAlarms("alarms", _alb(**extra)))
    assert mocks.resources == []


def test_an_output_alias_still_makes_the_resource_dimension(mocks: Recorder) -> None:
    _run(_lambda(alias=pulumi.Output.from_input("blue")))
    stat = _queries(mocks.one(ALARM, "alarms-lambda-error-rate"))["errors"]["metric"]
    assert stat["dimensions"]["Resource"] == "orders-prod-api:blue"
