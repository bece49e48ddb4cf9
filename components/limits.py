"""AWS limits a stack can exceed, and the counts of what components create against them.

Pure constants, imported by the components (which refuse an impossible combination before
declaring anything) and by the config checks (which report it with the key to change). Each one
cites where AWS states it.
"""

from __future__ import annotations

CONDITION_RULES_MAX = 5
"""Rules in one stage condition; the bake is one CloudWatchAlarm rule per alarm.
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Condition.html"""

DEPLOYMENT_GROUP_ALARMS_MAX = 10
"""Alarms in a CodeDeploy deployment group's alarm configuration (AlarmsLimitExceededException).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codedeploy-deploymentgroup-alarmconfiguration.html"""

LAMBDA_ACTION_ALARMS_MAX = 10
"""Alarms the CodePipeline Lambda deploy action watches (its `Alarms` list).
https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-LambdaDeploy.html"""

DEFAULT_ALARMS_PER_TARGET = 2
"""Alarms `ReleaseAlarms` creates per target with the `count` measure: 5XX and unhealthy hosts
for an ALB target group, errors and throttles for a Lambda function (a test counts what it
declares)."""

RATE_ALARMS_PER_TARGET = {"server": 3, "lambda": 2}
"""Alarms `ReleaseAlarms` creates per target with the `rate` measure: 5XX share, p99 latency
and unhealthy hosts for an ALB target group; error share and throttles for a Lambda function."""

TRAFFIC_ALARMS_PER_TARGET = 1
"""Alarms `SyntheticTraffic` creates per target: its canary's success."""


def default_alarms_per_target(platform: str, measure: str) -> int:
    """How many alarms `ReleaseAlarms` creates for one target of `platform` with `measure`."""
    return RATE_ALARMS_PER_TARGET[platform] if measure == "rate" else DEFAULT_ALARMS_PER_TARGET


def watched_alarms_problem(
    *,
    listed: int,
    targets_with_defaults: int,
    bake: bool,
    per_target: int = DEFAULT_ALARMS_PER_TARGET,
    traffic_targets: int = 0,
) -> str | None:
    """Why a release cannot watch this many alarms, or None when AWS allows it.

    `listed` alarms are named in config; `targets_with_defaults` targets get `per_target`
    default ones each; `traffic_targets` targets have synthetic traffic, one alarm each.
    """
    created = per_target * targets_with_defaults
    traffic = TRAFFIC_ALARMS_PER_TARGET * traffic_targets
    watched = listed + created + traffic
    counted = (
        f"{watched} alarms ({listed} listed"
        + (
            f", {created} created as defaults for {targets_with_defaults} target(s)"
            if created
            else ""
        )
        + (f", {traffic} for synthetic traffic" if traffic else "")
        + ")"
    )
    combine = "watch fewer, or combine several into one CloudWatch composite alarm and list that"
    if bake and watched > CONDITION_RULES_MAX:
        return (
            f"the bake watches {counted}, one CloudWatchAlarm rule each, but a stage condition "
            f"holds at most {CONDITION_RULES_MAX} rules; {combine}"
        )
    limit = min(DEPLOYMENT_GROUP_ALARMS_MAX, LAMBDA_ACTION_ALARMS_MAX)
    if watched > limit:
        return (
            f"the release watches {counted}, but a CodeDeploy deployment group (and the Lambda "
            f"deploy action) watch at most {limit}; {combine}"
        )
    return None
