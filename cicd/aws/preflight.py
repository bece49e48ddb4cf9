"""What a promotion's preflight reads about the target, now: calls that return plain data.

- `watched_alarms`: the pipeline's own (bake rules, Lambda actions' `Alarms`) plus the alarms in
  each CodeDeploy group's alarm configuration (CodeDeploy GetDeploymentGroup, when enabled).
- `alarm_states`: CloudWatch DescribeAlarms by name, metric and composite alarms alike; a name
  CloudWatch does not know is MISSING (a watch on a missing alarm can never fire).
- `running_deployments`: CodeDeploy ListDeployments per group with the statuses that are not
  final (Created, Queued, InProgress, Baking, Ready).
- `subscribers`: SNS ListSubscriptionsByTopic; a subscription whose ARN is `PendingConfirmation`
  receives nothing until confirmed, so it does not count
  (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html).
- `execution_version`: the structure version an execution started under (GetPipelineExecution's
  `pipelineVersion`), for whether a stage rollback to it is possible.

Deciding what these mean is `cicd.decide.preflight`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.client import BaseClient

from cicd.model.pipeline import DeployTarget
from cicd.model.preflight import AlarmState, Subscribers

# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_ListDeployments.html
RUNNING_DEPLOYMENT_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
# DescribeAlarms takes at most 100 names per call.
_ALARM_PAGE = 100


def group_alarms(codedeploy: BaseClient, target: DeployTarget) -> list[str]:
    """The alarms a CodeDeploy group stops a deployment on (none when its monitoring is off)."""
    if target.application is None or target.deployment_group is None:
        return []
    group = codedeploy.get_deployment_group(
        applicationName=target.application, deploymentGroupName=target.deployment_group
    )["deploymentGroupInfo"]
    configuration: dict[str, Any] = group.get("alarmConfiguration") or {}
    if not configuration.get("enabled"):
        return []
    return [str(alarm["name"]) for alarm in configuration.get("alarms", []) if alarm.get("name")]


def alarm_states(cloudwatch: BaseClient, names: Sequence[str]) -> list[AlarmState]:
    """The state of each alarm named, in the order given."""
    found: dict[str, AlarmState] = {}
    unique = list(dict.fromkeys(names))
    for start in range(0, len(unique), _ALARM_PAGE):
        request: dict[str, Any] = {
            "AlarmNames": unique[start : start + _ALARM_PAGE],
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            page = cloudwatch.describe_alarms(**request)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[str(alarm["AlarmName"])] = AlarmState(
                    str(alarm["AlarmName"]),
                    str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
                    alarm.get("StateReason"),
                )
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    return [found.get(name, AlarmState(name, "MISSING")) for name in unique]


def running_deployments(codedeploy: BaseClient, target: DeployTarget) -> list[str]:
    """`application/group: id` of each deployment to the target's group that has not ended."""
    if target.application is None or target.deployment_group is None:
        return []
    found: list[str] = []
    request: dict[str, Any] = {
        "applicationName": target.application,
        "deploymentGroupName": target.deployment_group,
        "includeOnlyStatuses": RUNNING_DEPLOYMENT_STATUSES,
    }
    while True:
        page = codedeploy.list_deployments(**request)
        found.extend(
            f"{target.application}/{target.deployment_group}: {deployment}"
            for deployment in page.get("deployments", [])
        )
        if not page.get("nextToken"):
            return found
        request["nextToken"] = page["nextToken"]


def subscribers(sns: BaseClient, topic_arn: str) -> Subscribers:
    """How many of the topic's subscriptions are confirmed, and how many wait for it."""
    confirmed = pending = 0
    request: dict[str, Any] = {"TopicArn": topic_arn}
    while True:
        page = sns.list_subscriptions_by_topic(**request)
        for subscription in page.get("Subscriptions", []):
            if subscription.get("SubscriptionArn") == "PendingConfirmation":
                pending += 1
            else:
                confirmed += 1
        if not page.get("NextToken"):
            return Subscribers(confirmed, pending)
        request["NextToken"] = page["NextToken"]


def execution_version(codepipeline: BaseClient, pipeline: str, execution_id: str) -> int | None:
    """The pipeline structure version the execution started under (None if AWS does not say)."""
    execution = codepipeline.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    version = execution.get("pipelineVersion")
    return int(version) if version is not None else None
