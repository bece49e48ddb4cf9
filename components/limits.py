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
"""Alarms `ReleaseAlarms` creates per target: 5XX and unhealthy hosts for an ALB target group,
errors and throttles for a Lambda function (a test counts what it declares)."""


def watched_alarms_problem(*, listed: int, targets_with_defaults: int, bake: bool) -> str | None:
    """Why a release cannot watch this many alarms, or None when AWS allows it.

    `listed` alarms are named in config; `targets_with_defaults` targets get the default ones.
    """
    created = DEFAULT_ALARMS_PER_TARGET * targets_with_defaults
    watched = listed + created
    counted = f"{watched} alarms ({listed} listed" + (
        f", {created} created as defaults for {targets_with_defaults} target(s))"
        if created
        else ")"
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
