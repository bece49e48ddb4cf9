"""Default CloudWatch alarms that tell CodeDeploy to stop and roll back a bad release.

Defines `ReleaseAlarms`, which creates, per deployment target it is given, the alarms a deployment
group should watch. It does not attach them to a deployment group or send notifications: pass
`alarm_names` to the deployment group's alarm configuration. Two measures:

- `count` (the default, as before 2.x): absolute counts per period. ALB target group: target 5XX
  responses and unhealthy hosts; Lambda function (optionally one alias): errors and throttles.
  Missing data is not breaching.
- `rate`: shares and percentiles, by CloudWatch metric math, each behind a minimum-traffic
  guard. ALB: the 5XX share of requests (`alb-5xx-rate`), p99 `TargetResponseTime`
  (`alb-p99-latency`) and unhealthy hosts; Lambda: the error share of invocations
  (`lambda-error-rate`) and throttles. Below `min_requests` per period a share is not judged
  (the expression yields 0: one failure in two requests is not a 50 % error rate); with no
  requests at all the expression has no datapoint, and the rate alarms then treat missing data
  as BREACHING by default: ALB and Lambda publish these metrics only while requests arrive, so a
  period without data proves nothing, and a release must not pass on it. Unhealthy hosts and
  throttles stay counts (one unhealthy host or one throttle is bad at any traffic) that treat
  missing data as not breaching. Each alarm's treatment can be changed (`missing_data`).
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.naming import NamingContext

# CloudWatch allows alarm names up to 255 characters.
ALARM_NAME_MAX = 255

DEFAULT_PERIOD_SECONDS = 60
DEFAULT_EVALUATION_PERIODS = 3
DEFAULT_DATAPOINTS_TO_ALARM = 2
DEFAULT_ALB_5XX_THRESHOLD = 5.0
DEFAULT_ALB_UNHEALTHY_HOSTS_THRESHOLD = 1.0
DEFAULT_LAMBDA_ERRORS_THRESHOLD = 1.0
DEFAULT_LAMBDA_THROTTLES_THRESHOLD = 1.0
DEFAULT_ERROR_RATE_PERCENT = 5.0
DEFAULT_P99_LATENCY_MS = 1500
DEFAULT_MIN_REQUESTS = 10

MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
MISSING_DATA_VALUES: tuple[MissingData, ...] = ("breaching", "notBreaching", "ignore", "missing")

RATE_ALARMS = {
    "alb-5xx-rate": "breaching",
    "alb-p99-latency": "breaching",
    "alb-unhealthy-hosts": "notBreaching",
    "lambda-error-rate": "breaching",
    "lambda-throttles": "notBreaching",
}
"""The alarms of the `rate` measure and the missing-data treatment each has by default."""
COUNT_ALARMS = {
    "alb-target-5xx": "notBreaching",
    "alb-unhealthy-hosts": "notBreaching",
    "lambda-errors": "notBreaching",
    "lambda-throttles": "notBreaching",
}
"""The alarms of the `count` measure and the missing-data treatment each has by default."""


class ReleaseAlarmsArgs(TypedDict):
    """Inputs of `ReleaseAlarms`. Give an ALB target, a Lambda target, or both."""

    service: str
    """Service name for alarm names and tags (`{service}-{stage}-<alarm>`)."""
    stage: str
    """Environment stage for alarm names and tags, e.g. `prod`."""
    target_group_arn_suffix: NotRequired[pulumi.Input[str]]
    """`arn_suffix` of the ALB target group. Requires `load_balancer_arn_suffix`.
    Default: no ALB alarms."""
    load_balancer_arn_suffix: NotRequired[pulumi.Input[str]]
    """`arn_suffix` of the load balancer. Requires `target_group_arn_suffix`.
    Default: no ALB alarms."""
    function_name: NotRequired[pulumi.Input[str]]
    """Name of the Lambda function. Default: no Lambda alarms."""
    alias: NotRequired[pulumi.Input[str]]
    """Lambda alias whose traffic is watched (`Resource` dimension `function:alias`); requires
    `function_name`. Default: the function's metrics across all versions."""
    period_seconds: NotRequired[int]
    """Length of one evaluation period, a multiple of 60. Default: 60."""
    evaluation_periods: NotRequired[int]
    """Number of most recent periods evaluated. Default: 3."""
    datapoints_to_alarm: NotRequired[int]
    """Breaching periods among those that trigger the alarm, at most `evaluation_periods`.
    Default: 2 (two bad minutes out of three, so one blip does not roll back)."""
    alb_5xx_threshold: NotRequired[float]
    """Target 5XX responses per period at or above which a period breaches. Default: 5."""
    alb_unhealthy_hosts_threshold: NotRequired[float]
    """Unhealthy hosts (maximum over the period) at or above which a period breaches.
    Default: 1."""
    lambda_errors_threshold: NotRequired[float]
    """Invocation errors per period at or above which a period breaches. Default: 1."""
    lambda_throttles_threshold: NotRequired[float]
    """Throttled invocations per period at or above which a period breaches. Default: 1."""
    measure: NotRequired[Literal["count", "rate"]]
    """`count`: absolute counts per period (`alb_5xx_threshold`, `lambda_errors_threshold`).
    `rate`: the 5XX and error shares and p99 latency behind a minimum-traffic guard.
    Default: `count` (what this component created before `measure` existed)."""
    error_rate_percent: NotRequired[float]
    """`rate`: the 5XX share of requests (ALB) or error share of invocations (Lambda), in
    percent, at or above which a period breaches. Default: 5."""
    p99_latency_ms: NotRequired[float]
    """`rate`, ALB: p99 `TargetResponseTime` in milliseconds at or above which a period breaches.
    Default: 1500."""
    min_requests: NotRequired[int]
    """`rate`: requests (or invocations) per period below which a share is not judged (the
    period counts as 0, not breaching). Default: 10."""
    missing_data: NotRequired[Mapping[str, MissingData]]
    """Treatment of missing data per alarm role (`alb-5xx-rate`, `lambda-throttles`, ...).
    Default: `RATE_ALARMS` / `COUNT_ALARMS`: breaching for the rate alarms, not breaching for
    counts."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags; the naming context's `cicd:*` tags always win. Default: none."""


class ReleaseAlarms(pulumi.ComponentResource):
    """CloudWatch alarms for deployment rollback, per ALB and/or Lambda target."""

    alarm_names: pulumi.Output[list[str]]
    """Names of every alarm created, for a deployment group's alarm configuration."""
    alarm_arns: pulumi.Output[list[str]]
    """ARNs of every alarm created, in the same order as `alarm_names`."""

    def __init__(
        self, name: str, args: ReleaseAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        naming = NamingContext.current(args["service"], args["stage"])
        target_group = args.get("target_group_arn_suffix")
        load_balancer = args.get("load_balancer_arn_suffix")
        function_name = args.get("function_name")
        alias = args.get("alias")
        period = args.get("period_seconds", DEFAULT_PERIOD_SECONDS)
        evaluation_periods = args.get("evaluation_periods", DEFAULT_EVALUATION_PERIODS)
        datapoints = args.get("datapoints_to_alarm", DEFAULT_DATAPOINTS_TO_ALARM)
        alb_5xx = args.get("alb_5xx_threshold", DEFAULT_ALB_5XX_THRESHOLD)
        alb_unhealthy = args.get(
            "alb_unhealthy_hosts_threshold", DEFAULT_ALB_UNHEALTHY_HOSTS_THRESHOLD
        )
        lambda_errors = args.get("lambda_errors_threshold", DEFAULT_LAMBDA_ERRORS_THRESHOLD)
        lambda_throttles = args.get(
            "lambda_throttles_threshold", DEFAULT_LAMBDA_THROTTLES_THRESHOLD
        )
        measure = args.get("measure", "count")
        error_rate = args.get("error_rate_percent", DEFAULT_ERROR_RATE_PERCENT)
        p99_ms = args.get("p99_latency_ms", DEFAULT_P99_LATENCY_MS)
        min_requests = args.get("min_requests", DEFAULT_MIN_REQUESTS)
        defaults = RATE_ALARMS if measure == "rate" else COUNT_ALARMS
        missing = {**defaults, **args.get("missing_data", {})}
        tags = {**args.get("tags", {}), **naming.tags}
        _validate(
            target_group=target_group,
            load_balancer=load_balancer,
            function_name=function_name,
            alias=alias,
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints=datapoints,
            thresholds={
                "alb_5xx_threshold": alb_5xx,
                "alb_unhealthy_hosts_threshold": alb_unhealthy,
                "lambda_errors_threshold": lambda_errors,
                "lambda_throttles_threshold": lambda_throttles,
            },
        )
        _validate_rate(
            measure=measure,
            error_rate=error_rate,
            p99_ms=p99_ms,
            min_requests=min_requests,
            missing_data=args.get("missing_data", {}),
            defaults=defaults,
        )

        super().__init__("delivery:cicd:ReleaseAlarms", name, None, opts)

        def alarm(
            role: str,
            description: str,
            namespace: str,
            metric: str,
            statistic: str,
            threshold: float,
            dimensions: Mapping[str, pulumi.Input[str]],
        ) -> aws.cloudwatch.MetricAlarm:
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                name=naming.name(role, ALARM_NAME_MAX),
                alarm_description=description,
                namespace=namespace,
                metric_name=metric,
                statistic=statistic,
                dimensions=dimensions,
                period=period,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data=missing[role],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )

        def guarded(
            role: str,
            description: str,
            threshold: float,
            namespace: str,
            dimensions: Mapping[str, pulumi.Input[str]],
            traffic: tuple[str, str],
            measured: Mapping[str, tuple[str, str]],
            expression: str,
        ) -> aws.cloudwatch.MetricAlarm:
            """A metric-math alarm: `expression` over `measured`, judged only when the traffic
            metric reached `min_requests` in the period (else 0), no datapoint without traffic."""
            queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = []
            for query_id, (metric, stat) in {traffic[0]: (traffic[1], "Sum"), **measured}.items():
                queries.append(
                    {
                        "id": query_id,
                        "return_data": False,
                        "metric": {
                            "namespace": namespace,
                            "metric_name": metric,
                            "stat": stat,
                            "period": period,
                            "dimensions": dimensions,
                        },
                    }
                )
            queries.append(
                {
                    "id": "judged",
                    "label": description,
                    "return_data": True,
                    "expression": f"IF({traffic[0]} >= {min_requests}, {expression}, 0)",
                }
            )
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                name=naming.name(role, ALARM_NAME_MAX),
                alarm_description=description,
                metric_queries=queries,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data=missing[role],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )

        alarms: list[aws.cloudwatch.MetricAlarm] = []
        if target_group is not None and load_balancer is not None:
            alb_dimensions = {"TargetGroup": target_group, "LoadBalancer": load_balancer}
            if measure == "rate":
                # HTTPCode_Target_5XX_Count has no datapoint in a period without 5XX: FILL makes
                # it 0 so the share exists whenever requests do.
                alarms.append(
                    guarded(
                        "alb-5xx-rate",
                        f"Targets answer {error_rate:g}% or more of requests with 5XX: roll back.",
                        error_rate,
                        "AWS/ApplicationELB",
                        alb_dimensions,
                        ("requests", "RequestCount"),
                        {"errors": ("HTTPCode_Target_5XX_Count", "Sum")},
                        "100 * FILL(errors, 0) / requests",
                    )
                )
                # TargetResponseTime is in seconds.
                alarms.append(
                    guarded(
                        "alb-p99-latency",
                        f"p99 target response time is {p99_ms:g} ms or more: roll back.",
                        p99_ms / 1000,
                        "AWS/ApplicationELB",
                        alb_dimensions,
                        ("requests", "RequestCount"),
                        {"latency": ("TargetResponseTime", "p99")},
                        "latency",
                    )
                )
            else:
                alarms.append(
                    alarm(
                        "alb-target-5xx",
                        "Targets behind the load balancer answer with 5XX errors: roll back.",
                        "AWS/ApplicationELB",
                        "HTTPCode_Target_5XX_Count",
                        "Sum",
                        alb_5xx,
                        alb_dimensions,
                    )
                )
            alarms.append(
                alarm(
                    "alb-unhealthy-hosts",
                    "Targets fail the load balancer's health check: roll back.",
                    "AWS/ApplicationELB",
                    "UnHealthyHostCount",
                    "Maximum",
                    alb_unhealthy,
                    alb_dimensions,
                )
            )
        if function_name is not None:
            lambda_dimensions: dict[str, pulumi.Input[str]] = {"FunctionName": function_name}
            if alias is not None:
                lambda_dimensions["Resource"] = pulumi.Output.concat(function_name, ":", alias)
            if measure == "rate":
                alarms.append(
                    guarded(
                        "lambda-error-rate",
                        f"{error_rate:g}% or more of the function's invocations fail: roll back.",
                        error_rate,
                        "AWS/Lambda",
                        lambda_dimensions,
                        ("invocations", "Invocations"),
                        {"errors": ("Errors", "Sum")},
                        "100 * FILL(errors, 0) / invocations",
                    )
                )
            else:
                alarms.append(
                    alarm(
                        "lambda-errors",
                        "The function's invocations fail: roll back.",
                        "AWS/Lambda",
                        "Errors",
                        "Sum",
                        lambda_errors,
                        lambda_dimensions,
                    )
                )
            # A count in both measures: throttled requests are not in Invocations, and each
            # one is a request turned away, at any traffic.
            alarms.append(
                alarm(
                    "lambda-throttles",
                    "The function's invocations are throttled: roll back.",
                    "AWS/Lambda",
                    "Throttles",
                    "Sum",
                    lambda_throttles,
                    lambda_dimensions,
                )
            )

        self.alarm_names = pulumi.Output.all(*[a.name for a in alarms])
        self.alarm_arns = pulumi.Output.all(*[a.arn for a in alarms])
        self.register_outputs({"alarm_names": self.alarm_names, "alarm_arns": self.alarm_arns})


def _validate_rate(
    *,
    measure: str,
    error_rate: float,
    p99_ms: float,
    min_requests: int,
    missing_data: Mapping[str, str],
    defaults: Mapping[str, str],
) -> None:
    if measure not in ("count", "rate"):
        raise ValueError(f"release alarms: measure {measure!r} must be 'count' or 'rate'")
    if not 0 < error_rate <= 100:
        raise ValueError(
            f"release alarms: error_rate_percent {error_rate!r} must be above 0 and at most 100"
        )
    if p99_ms <= 0:
        raise ValueError(f"release alarms: p99_latency_ms {p99_ms!r} must be positive")
    if min_requests < 1:
        raise ValueError(
            f"release alarms: min_requests {min_requests!r} must be at least 1 (a share of "
            "no requests is not a share)"
        )
    for role, value in missing_data.items():
        if role not in defaults:
            raise ValueError(
                f"release alarms: missing_data names {role!r}, which the {measure} measure "
                f"does not create; its alarms: {', '.join(defaults)}"
            )
        if value not in MISSING_DATA_VALUES:
            raise ValueError(
                f"release alarms: missing_data[{role!r}] {value!r} must be one of "
                f"{', '.join(MISSING_DATA_VALUES)}"
            )


def _validate(
    *,
    target_group: object,
    load_balancer: object,
    function_name: object,
    alias: object,
    period: int,
    evaluation_periods: int,
    datapoints: int,
    thresholds: Mapping[str, float],
) -> None:
    if (target_group is None) != (load_balancer is None):
        given, missing = (
            ("target_group_arn_suffix", "load_balancer_arn_suffix")
            if load_balancer is None
            else ("load_balancer_arn_suffix", "target_group_arn_suffix")
        )
        raise ValueError(
            f"release alarms: {given} is set but {missing} is not; ALB alarms need both "
            "(the `arn_suffix` outputs of the target group and of the load balancer)"
        )
    if alias is not None and function_name is None:
        raise ValueError(
            "release alarms: alias is set but function_name is not; give the Lambda "
            "function_name the alias belongs to"
        )
    if target_group is None and function_name is None:
        raise ValueError(
            "release alarms: no target given; set target_group_arn_suffix and "
            "load_balancer_arn_suffix (ALB) or function_name (Lambda), or both"
        )
    if period <= 0 or period % 60:
        raise ValueError(
            f"release alarms: period_seconds {period!r} must be a positive multiple of 60 "
            "(ALB and Lambda metrics are published per minute)"
        )
    if evaluation_periods < 1:
        raise ValueError(
            f"release alarms: evaluation_periods {evaluation_periods!r} must be at least 1"
        )
    if not 1 <= datapoints <= evaluation_periods:
        raise ValueError(
            f"release alarms: datapoints_to_alarm {datapoints!r} must be between 1 and "
            f"evaluation_periods ({evaluation_periods})"
        )
    for key, value in thresholds.items():
        if value < 0:
            raise ValueError(f"release alarms: {key} {value!r} must not be negative")
