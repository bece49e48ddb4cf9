"""CodeDeploy: one application per service, one deployment group per target, with rollback.

Defines `Deployment` for the Server platform (EC2 tag sets and/or Auto Scaling groups, in-place or
blue/green behind an ALB target group) and the Lambda platform (function + alias, canary/linear).
The service role carries AWS's managed policy for the platform. It does not start deployments:
the pipeline's Deploy stage does (see `components.pipeline` for how Lambda is released).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import policy_document, service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext

TYPE = "delivery:cicd:Deployment"

MANAGED_POLICY = {
    "server": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole",
    "lambda": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
}
# Events that trigger an automatic rollback. DEPLOYMENT_STOP_ON_ALARM only matters when alarms
# are attached, and AWS rejects it without an alarm configuration.
ROLLBACK_ON_FAILURE = "DEPLOYMENT_FAILURE"
ROLLBACK_ON_ALARM = "DEPLOYMENT_STOP_ON_ALARM"


class TagFilter(TypedDict):
    key: str
    """EC2 tag key."""
    value: str
    """EC2 tag value: an instance matches when it has `key` with this value."""


class BlueGreenArgs(TypedDict):
    green_fleet: NotRequired[Literal["DISCOVER_EXISTING", "COPY_AUTO_SCALING_GROUP"]]
    """Where the new (green) instances come from. Omitted: COPY_AUTO_SCALING_GROUP, CodeDeploy
    copies the group for each release (the copy, and the group name CodeDeploy then records on
    the deployment group, live outside Pulumi's state). DISCOVER_EXISTING only works for
    deployments created outside CodePipeline, which name the green instances themselves
    (`ServicePipeline` refuses it)."""
    terminate_blue_after_minutes: NotRequired[int]
    """Keep the old (blue) fleet this long after success, for a fast manual switch back.
    Omitted: 60."""
    ready_wait_minutes: NotRequired[int]
    """Wait this long for someone to continue before rerouting. Omitted: 0 (reroute at once)."""


class TargetArgs(TypedDict):
    name: str
    """Stable key of the target; names the deployment group `{service}-{stage}-{name}`."""
    ec2_tag_filters: NotRequired[Sequence[TagFilter]]
    """Server: instances with ALL of these tags (one tag set). Omitted: none."""
    autoscaling_groups: NotRequired[Sequence[str]]
    """Server: Auto Scaling group names. Omitted: none."""
    target_group: NotRequired[str]
    """Server: ALB target group name; traffic is blocked during in-place deploys, shifted for
    blue/green. Omitted: no load balancer handling."""
    blue_green: NotRequired[BlueGreenArgs]
    """Server: deploy to a copy of the ASG and shift traffic. Omitted: in-place."""
    endpoint: NotRequired[str]
    """Server: the base URL verification suites send test traffic to (CodeDeploy ignores it).
    Omitted: the target cannot be verified."""
    function_name: NotRequired[str]
    """Lambda: the function to shift traffic for."""
    alias: NotRequired[str]
    """Lambda: the alias whose traffic shifts between versions."""


class MinimumHealthyHostsArgs(TypedDict):
    type: Literal["FLEET_PERCENT", "HOST_COUNT"]
    """Whether `value` counts percent of the fleet or instances."""
    value: int
    """How many instances (or percent of the fleet) must stay healthy during a release."""


class DeploymentArgs(TypedDict):
    service: str
    """Naming: the service; the application is `{service}-{stage}`."""
    stage: str
    """Naming: the stage, e.g. dev."""
    platform: Literal["server", "lambda"]
    """What releases run on: instances with the CodeDeploy agent, or Lambda functions."""
    targets: Sequence[TargetArgs]
    """One deployment group per target."""
    strategy: NotRequired[str]
    """A CodeDeployDefault.* config for the platform. Omitted: all at once (or the custom
    config from minimum_healthy_hosts)."""
    minimum_healthy_hosts: NotRequired[MinimumHealthyHostsArgs]
    """Server: create a custom deployment config with this floor. Omitted: use `strategy`."""
    auto_rollback: NotRequired[bool]
    """Roll back automatically when a deployment fails. Omitted: True. False is sent to AWS
    explicitly (enabled: false), so turning it off is visible in the diff."""
    alarm_names: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """CloudWatch alarms that stop a deployment when they fire. Omitted: none."""
    rollback_on_alarm: NotRequired[bool]
    """Also roll back when an alarm stops a deployment. Omitted: True when alarms are given."""
    trigger_topic_arn: NotRequired[pulumi.Input[str]]
    """SNS topic told about failed, stopped and rolled-back deployments. Omitted: no triggers."""
    trigger_topic_kms_key_arn: NotRequired[pulumi.Input[str]]
    """The topic's KMS key, which the service role may then use to publish. Omitted: none."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def trigger_key_policy(key_arn: str) -> str:
    """Lets the service role encrypt trigger messages for an SSE-KMS topic, with that key only."""
    return policy_document(
        [
            {
                "Sid": "EncryptTriggerMessages",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": key_arn,
            }
        ]
    )


def blue_green_launch_policy() -> str:
    """What CodeDeploy needs beyond AWSCodeDeployRole to copy an ASG built from a launch template.

    AWS documents these as required and they cannot be scoped to ARNs known in advance (the
    green instances do not exist yet), so the pass-role is limited to handing roles to EC2.
    """
    return policy_document(
        [
            {
                "Sid": "LaunchGreenFleet",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateTags"],
                "Resource": "*",  # AWS forces it: the green fleet's ARNs are not known yet.
            },
            {
                "Sid": "PassInstanceProfileRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",  # the ASG's instance role is not managed by this stack.
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
        ]
    )


class Deployment(pulumi.ComponentResource):
    """A CodeDeploy application with one deployment group per target."""

    application_name: pulumi.Output[str]
    """Name of the CodeDeploy application."""
    application_arn: pulumi.Output[str]
    """ARN of the CodeDeploy application."""
    deployment_group_names: pulumi.Output[dict[str, str]]
    """Deployment group name per target `name`."""
    deployment_group_arns: pulumi.Output[dict[str, str]]
    """Deployment group ARN per target `name`."""
    deployment_config_name: pulumi.Output[str]
    """The deployment config every group uses: `strategy`, the custom config made for
    `minimum_healthy_hosts`, or the platform's all-at-once default."""
    role_arn: pulumi.Output[str]
    """ARN of the CodeDeploy service role."""

    def __init__(
        self, name: str, args: DeploymentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        platform = args["platform"]
        targets = list(args["targets"])
        minimum = args.get("minimum_healthy_hosts")
        strategy = args.get("strategy") or (
            "CodeDeployDefault.AllAtOnce"
            if platform == "server"
            else "CodeDeployDefault.LambdaAllAtOnce"
        )
        auto_rollback = args.get("auto_rollback", True)
        alarm_names = args.get("alarm_names")
        rollback_on_alarm = args.get("rollback_on_alarm", alarm_names is not None)
        topic_arn = args.get("trigger_topic_arn")
        tags = {**naming.tags, **(args.get("tags") or {})}
        child = pulumi.ResourceOptions(parent=self)
        if not targets:
            raise ValueError(f"Deployment {name!r}: targets is empty; give at least one target")
        if minimum and platform != "server":
            raise ValueError(
                f"Deployment {name!r}: minimum_healthy_hosts is for platform 'server' "
                f"(got platform {platform!r}); use a Lambda canary/linear strategy instead"
            )
        if rollback_on_alarm and alarm_names is None:
            raise ValueError(
                f"Deployment {name!r}: rollback_on_alarm=True needs alarm_names; pass the alarms "
                "to watch or set rollback_on_alarm=False"
            )

        account_id = aws_context(self).account_id
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("codedeploy", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"CodeDeploy service role for {args['service']} ({args['stage']})",
            assume_role_policy=account_id.apply(
                lambda a: service_trust_policy("codedeploy.amazonaws.com", a)
            ),
            managed_policy_arns=[MANAGED_POLICY[platform]],
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        topic_key = args.get("trigger_topic_kms_key_arn")
        if topic_arn is not None and topic_key is not None:
            # AWSCodeDeployRole already allows sns:Publish; an encrypted topic also needs its key.
            aws.iam.RolePolicy(
                f"{name}-trigger-key",
                role=role.id,
                policy=pulumi.Output.from_input(topic_key).apply(trigger_key_policy),
                opts=child,
            )
        if any("blue_green" in t for t in targets):
            aws.iam.RolePolicy(
                f"{name}-blue-green",
                role=role.id,
                policy=blue_green_launch_policy(),
                opts=child,
            )
        application = aws.codedeploy.Application(
            f"{name}-app",
            name=naming.name("", 100),
            compute_platform="Server" if platform == "server" else "Lambda",
            tags=tags,
            opts=child,
        )
        config_name: pulumi.Input[str] = strategy
        if minimum:
            custom = aws.codedeploy.DeploymentConfig(
                f"{name}-config",
                deployment_config_name=naming.name("min-healthy", 100),
                compute_platform="Server",
                minimum_healthy_hosts={"type": minimum["type"], "value": minimum["value"]},
                opts=child,
            )
            config_name = custom.id

        rollback_events = [ROLLBACK_ON_FAILURE] + ([ROLLBACK_ON_ALARM] if rollback_on_alarm else [])
        names: dict[str, pulumi.Output[str]] = {}
        arns: dict[str, pulumi.Output[str]] = {}
        alarm_configuration: aws.codedeploy.DeploymentGroupAlarmConfigurationArgsDict | None = None
        if alarm_names is not None:
            alarm_configuration = {
                "enabled": True,
                "alarms": alarm_names,
                # An alarm that cannot be read must stop the release, not be skipped silently.
                "ignore_poll_alarm_failure": False,
            }
        triggers: list[aws.codedeploy.DeploymentGroupTriggerConfigurationArgsDict] = []
        if topic_arn is not None:
            triggers.append(
                {
                    "trigger_name": "release-problems",
                    "trigger_target_arn": topic_arn,
                    "trigger_events": ["DeploymentFailure", "DeploymentStop", "DeploymentRollback"],
                }
            )
        for target in targets:
            placement = _placement(target, platform)
            group = aws.codedeploy.DeploymentGroup(
                f"{name}-{target['name']}",
                app_name=application.name,
                deployment_group_name=naming.name(target["name"], 100),
                service_role_arn=role.arn,
                deployment_config_name=config_name,
                deployment_style=placement.style,
                ec2_tag_sets=placement.ec2_tag_sets,
                autoscaling_groups=placement.autoscaling_groups,
                load_balancer_info=placement.load_balancer_info,
                blue_green_deployment_config=placement.blue_green,
                auto_rollback_configuration={
                    # Sent even when False, so disabling rollback is an explicit, visible change.
                    "enabled": auto_rollback,
                    "events": rollback_events if auto_rollback else [],
                },
                alarm_configuration=alarm_configuration,
                trigger_configurations=triggers,
                tags=tags,
                # After a blue/green release the green copy is the deployment group's Auto
                # Scaling group: AWS changes it, so Pulumi must not put the old one back.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    ignore_changes=["autoscalingGroups"] if "blue_green" in target else None,
                ),
            )
            names[target["name"]] = group.deployment_group_name
            arns[target["name"]] = group.arn

        self.application_name = application.name
        self.application_arn = application.arn
        self.deployment_group_names = pulumi.Output.all(**names).apply(dict)
        self.deployment_group_arns = pulumi.Output.all(**arns).apply(dict)
        self.deployment_config_name = pulumi.Output.from_input(config_name)
        self.role_arn = role.arn
        self.register_outputs(
            {
                "application_name": self.application_name,
                "application_arn": self.application_arn,
                "deployment_group_names": self.deployment_group_names,
                "deployment_group_arns": self.deployment_group_arns,
                "deployment_config_name": self.deployment_config_name,
                "role_arn": self.role_arn,
            }
        )


@dataclass(frozen=True)
class _Placement:
    """Where and how a deployment group releases: the platform-specific group settings."""

    style: aws.codedeploy.DeploymentGroupDeploymentStyleArgsDict
    ec2_tag_sets: list[aws.codedeploy.DeploymentGroupEc2TagSetArgsDict] | None = None
    autoscaling_groups: list[str] | None = None
    load_balancer_info: aws.codedeploy.DeploymentGroupLoadBalancerInfoArgsDict | None = None
    blue_green: aws.codedeploy.DeploymentGroupBlueGreenDeploymentConfigArgsDict | None = None


def _placement(target: TargetArgs, platform: str) -> _Placement:
    if platform == "lambda":
        # Lambda groups always shift traffic between alias versions; which function and alias
        # comes from each deployment's AppSpec.
        return _Placement(
            style={"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"}
        )
    tag_filters = target.get("ec2_tag_filters") or []
    tag_sets: list[aws.codedeploy.DeploymentGroupEc2TagSetArgsDict] | None = None
    if tag_filters:
        tag_sets = [
            {
                "ec2_tag_filters": [
                    {"key": f["key"], "value": f["value"], "type": "KEY_AND_VALUE"}
                    for f in tag_filters
                ]
            }
        ]
    asgs = list(target.get("autoscaling_groups") or []) or None
    target_group = target.get("target_group")
    lb_info: aws.codedeploy.DeploymentGroupLoadBalancerInfoArgsDict | None = (
        {"target_group_infos": [{"name": target_group}]} if target_group else None
    )
    blue_green = target.get("blue_green")
    if blue_green is None:
        return _Placement(
            style={
                "deployment_type": "IN_PLACE",
                # With a target group, instances leave the ALB while they are updated.
                "deployment_option": (
                    "WITH_TRAFFIC_CONTROL" if target_group else "WITHOUT_TRAFFIC_CONTROL"
                ),
            },
            ec2_tag_sets=tag_sets,
            autoscaling_groups=asgs,
            load_balancer_info=lb_info,
        )
    ready_wait = blue_green.get("ready_wait_minutes", 0)
    return _Placement(
        style={"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"},
        autoscaling_groups=asgs,
        load_balancer_info=lb_info,
        blue_green={
            "green_fleet_provisioning_option": {
                "action": blue_green.get("green_fleet", "COPY_AUTO_SCALING_GROUP")
            },
            "deployment_ready_option": (
                {"action_on_timeout": "STOP_DEPLOYMENT", "wait_time_in_minutes": ready_wait}
                if ready_wait
                else {"action_on_timeout": "CONTINUE_DEPLOYMENT"}
            ),
            "terminate_blue_instances_on_deployment_success": {
                "action": "TERMINATE",
                "termination_wait_time_in_minutes": blue_green.get(
                    "terminate_blue_after_minutes", 60
                ),
            },
        },
    )
