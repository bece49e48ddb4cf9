"""`cicd.aws.preflight` against stubbed CodeDeploy, CloudWatch and SNS: the alarms a group
stops on, and every page of alarms, running deployments and subscriptions.

What promote's preflight decides from them is tests/cicd/test_preflight.py.
"""

from __future__ import annotations

from typing import Any

from cicd.aws import preflight
from cicd.model.pipeline import DeployTarget
from cicd.model.preflight import AlarmState, Subscribers
from tests.cicd.aws_fakes import PREFLIGHT_STATUSES, StubbedAws

TARGET = DeployTarget("web", "CodeDeploy", "shop-prod-app", "shop-prod-web")
TOPIC = "arn:aws:sns:eu-west-1:123456789012:shop-prod-releases"


def test_a_group_with_monitoring_on_stops_on_each_named_alarm() -> None:
    aws = StubbedAws()
    aws.codedeploy.add_response(
        "get_deployment_group",
        {
            "deploymentGroupInfo": {
                "alarmConfiguration": {
                    "enabled": True,
                    "alarms": [{"name": "shop-prod-5xx"}, {"name": "shop-prod-latency"}],
                }
            }
        },
        {"applicationName": "shop-prod-app", "deploymentGroupName": "shop-prod-web"},
    )

    assert preflight.group_alarms(aws.client("codedeploy"), TARGET) == [
        "shop-prod-5xx",
        "shop-prod-latency",
    ]


def test_alarm_states_are_read_from_every_page() -> None:
    aws = StubbedAws()
    cloudwatch = aws.stub("cloudwatch")
    request: dict[str, Any] = {
        "AlarmNames": ["a", "b"],
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
    }
    cloudwatch.add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "a", "StateValue": "OK"}], "NextToken": "page-2"},
        request,
    )
    cloudwatch.add_response(
        "describe_alarms",
        {"CompositeAlarms": [{"AlarmName": "b", "StateValue": "ALARM", "StateReason": "5xx"}]},
        request | {"NextToken": "page-2"},
    )

    states = preflight.alarm_states(aws.client("cloudwatch"), ["a", "b"])

    aws.verify()
    assert states == [AlarmState("a", "OK"), AlarmState("b", "ALARM", "5xx")]


def test_running_deployments_are_listed_from_every_page() -> None:
    aws = StubbedAws()
    request: dict[str, Any] = {
        "applicationName": "shop-prod-app",
        "deploymentGroupName": "shop-prod-web",
        "includeOnlyStatuses": PREFLIGHT_STATUSES,
    }
    aws.codedeploy.add_response(
        "list_deployments", {"deployments": ["d-1"], "nextToken": "page-2"}, request
    )
    aws.codedeploy.add_response(
        "list_deployments", {"deployments": ["d-2"]}, request | {"nextToken": "page-2"}
    )

    running = preflight.running_deployments(aws.client("codedeploy"), TARGET)

    aws.verify()
    assert running == ["shop-prod-app/shop-prod-web: d-1", "shop-prod-app/shop-prod-web: d-2"]


def test_subscribers_are_counted_over_every_page() -> None:
    aws = StubbedAws()
    sns = aws.stub("sns")
    sns.add_response(
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": f"{TOPIC}:1"}], "NextToken": "page-2"},
        {"TopicArn": TOPIC},
    )
    sns.add_response(
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation"}]},
        {"TopicArn": TOPIC, "NextToken": "page-2"},
    )

    found = preflight.subscribers(aws.client("sns"), TOPIC)

    aws.verify()
    assert found == Subscribers(1, 1)
