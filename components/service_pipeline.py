"""A complete delivery chain for one service in one stage, from one call.

Defines `ServicePipeline`, which composes the other components: GitHub connection and artifact
store (created, or shared ones passed in), the build project and one project per test suite, the
CodeDeploy application and groups (with default alarms when asked), the release topic and its
subscribers, the V2 pipeline, the pipeline's notification rule, and the approvers' policy.
It holds no AWS logic of its own: each concern lives in its component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, NotRequired, TypedDict

import pulumi

from components.approver_policy import ApproverPolicy
from components.artifact_store import ArtifactStore
from components.build_project import BuildProject, BuildProjectArgs
from components.build_project import BuildSettingsArgs as BuildArgs
from components.connection import GitHubConnection
from components.deployment import Deployment, DeploymentArgs, MinimumHealthyHostsArgs, TargetArgs
from components.pipeline import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    ApprovalArgs,
    DeliveryPipeline,
    DeliveryPipelineArgs,
    LambdaTargetRef,
    ServerTargetRef,
)
from components.pipeline import DeployArgs as PipelineDeployArgs
from components.release_alarms import ReleaseAlarms
from components.release_notifications import (
    PipelineNotificationRule,
    ReleaseNotifications,
    ReleaseNotificationsArgs,
    SlackChannelArgs,
)

TYPE = "delivery:cicd:ServicePipeline"


class TestSuiteArgs(BuildArgs):
    name: str
    """Stable key: names the project `{service}-{stage}-test-{name}` and the Test action."""


class AlarmTargetArgs(TypedDict):
    """What default alarms measure for one deploy target (an ALB target group or a function)."""

    target_group_arn_suffix: NotRequired[str]
    load_balancer_arn_suffix: NotRequired[str]
    function_name: NotRequired[str]
    alias: NotRequired[str]


class DeployArgs(TypedDict):
    platform: Literal["server", "lambda"]
    targets: Sequence[TargetArgs]
    strategy: NotRequired[str]
    """Omitted: all at once for the platform."""
    minimum_healthy_hosts: NotRequired[MinimumHealthyHostsArgs]
    auto_rollback: NotRequired[bool]
    """Omitted: True."""
    alarm_names: NotRequired[Sequence[str]]
    """Existing alarms that stop (and roll back) a release. Omitted: none."""
    default_alarms: NotRequired[Mapping[str, AlarmTargetArgs]]
    """Create standard alarms per target key (5XX/unhealthy hosts, or Lambda errors/throttles).
    Omitted: none are created."""
    rollback_on_alarm: NotRequired[bool]
    """Omitted: True when any alarm is watched."""
    rollback_on_failure: NotRequired[bool]
    """Pipeline stage rollback when Deploy fails. Omitted: True."""
    bake_minutes: NotRequired[int]
    """Watch the alarms this long after Deploy succeeds. Omitted: 0 (no bake)."""
    window: NotRequired[Mapping[str, str]]
    """`{cron, time_zone}` during which Deploy may start. Omitted: any time."""


class NotifyArgs(TypedDict):
    email: NotRequired[Sequence[str]]
    https: NotRequired[Sequence[str]]
    slack: NotRequired[SlackChannelArgs]


class ServicePipelineArgs(TypedDict):
    service: str
    stage: str
    repository: str
    """GitHub `owner/repo` of the application."""
    branch: str
    """The branch whose pushes release to this stage."""
    deploy: DeployArgs
    file_paths: NotRequired[Sequence[str]]
    """Omitted: every push to the branch triggers a release."""
    connection_arn: NotRequired[pulumi.Input[str]]
    """A shared GitHub connection. Omitted: a new connection is created (needs the handshake)."""
    artifact_bucket_name: NotRequired[pulumi.Input[str]]
    """A shared artifact bucket (give its ARN too). Omitted: a new ArtifactStore is created."""
    artifact_bucket_arn: NotRequired[pulumi.Input[str]]
    artifact_kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The shared bucket's KMS key ARN (a plain value or Output of a str). Omitted: SSE-S3."""
    build: NotRequired[BuildArgs]
    """Omitted: `buildspec.yml` on a small Linux image."""
    tests: NotRequired[Sequence[TestSuiteArgs]]
    """Omitted: no Test stage."""
    approval_timeout_minutes: NotRequired[int]
    """Add a manual approval before Deploy that waits this long. Omitted: no approval."""
    notify: NotRequired[NotifyArgs]
    """Who hears about releases. Omitted: a topic is still created when there is an approval,
    so subscribers can be added later; otherwise no topic."""
    execution_mode: NotRequired[Literal["QUEUED", "SUPERSEDED", "PARALLEL"]]
    """Omitted: SUPERSEDED."""
    log_retention_days: NotRequired[int]
    """Omitted: 14."""
    protect: NotRequired[bool]
    """Protect stateful resources created here (connection, bucket, topic). Omitted: False."""
    tags: NotRequired[Mapping[str, str]]


class ServicePipeline(pulumi.ComponentResource):
    """Connection -> build -> tests -> (approval) -> deploy for one service and stage."""

    pipeline_name: pulumi.Output[str]
    pipeline_arn: pulumi.Output[str]
    pipeline_url: pulumi.Output[str]
    connection_arn: pulumi.Output[str]
    artifact_bucket_name: pulumi.Output[str]
    build_project_name: pulumi.Output[str]
    test_project_names: pulumi.Output[dict[str, str]]
    application_name: pulumi.Output[str]
    deployment_group_names: pulumi.Output[dict[str, str]]
    topic_arn: pulumi.Output[str | None]
    approver_policy_arn: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: ServicePipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        service, stage = args["service"], args["stage"]
        deploy = args["deploy"]
        tests = list(args.get("tests") or [])
        approval_timeout = args.get("approval_timeout_minutes")
        notify = args.get("notify") or {}
        protect = args.get("protect", False)
        retention = args.get("log_retention_days", 14)
        tags = dict(args.get("tags") or {})
        default_alarms = dict(deploy.get("default_alarms") or {})
        child = pulumi.ResourceOptions(parent=self)
        if ("artifact_bucket_name" in args) != ("artifact_bucket_arn" in args):
            raise ValueError(
                f"ServicePipeline {name!r}: give both artifact_bucket_name and "
                "artifact_bucket_arn for a shared bucket, or neither to create one"
            )

        connection_arn = args.get("connection_arn")
        if connection_arn is None:
            connection_arn = GitHubConnection(
                f"{name}-connection",
                {"service": service, "stage": stage, "protect": protect, "tags": tags},
                opts=child,
            ).arn
        if "artifact_bucket_name" in args:
            bucket_name = args["artifact_bucket_name"]
            bucket_arn = args.get("artifact_bucket_arn", "")
            kms_key_arn = args.get("artifact_kms_key_arn")
        else:
            store = ArtifactStore(
                f"{name}-artifacts",
                {"service": service, "stage": stage, "protect": protect, "tags": tags},
                opts=child,
            )
            # A store created here uses SSE-S3, so there is no key to pass on.
            bucket_name, bucket_arn, kms_key_arn = store.bucket_name, store.bucket_arn, None

        def project(role: str, settings: BuildArgs) -> BuildProject:
            project_args: BuildProjectArgs = {
                "service": service,
                "stage": stage,
                "role": role,
                "artifact_bucket_arn": bucket_arn,
                "artifact_bucket_name": bucket_name,
                "kms_key_arn": kms_key_arn,
                "log_retention_days": retention,
                "tags": tags,
            }
            # `__annotations__`, not `__optional_keys__`: with postponed annotations every
            # TypedDict key counts as required at run time, so the optional set is empty.
            for key in BuildArgs.__annotations__:
                if key in settings:
                    project_args[key] = settings[key]  # type: ignore[literal-required]
            return BuildProject(f"{name}-{role}", project_args, opts=child)

        build = project("build", args.get("build") or {})
        suites = {t["name"]: project(f"test-{t['name']}", t) for t in tests}

        topic = None
        if approval_timeout is not None or notify:
            topic_args: ReleaseNotificationsArgs = {
                "service": service,
                "stage": stage,
                "email": list(notify.get("email") or []),
                "https": list(notify.get("https") or []),
                "protect_topic": protect,
                "tags": tags,
            }
            if "slack" in notify:
                topic_args["slack"] = notify["slack"]
            topic = ReleaseNotifications(f"{name}-releases", topic_args, opts=child)

        alarm_names: list[pulumi.Input[str] | pulumi.Output[list[str]]] = list(
            deploy.get("alarm_names") or []
        )
        for key, measured in default_alarms.items():
            alarms = ReleaseAlarms(
                f"{name}-alarms-{key}",
                {"service": service, "stage": stage, "tags": tags, **measured},
                opts=child,
            )
            alarm_names.append(alarms.alarm_names)
        watched = pulumi.Output.all(*alarm_names).apply(_flatten)
        watches_alarms = bool(alarm_names)

        deployment_args: DeploymentArgs = {
            "service": service,
            "stage": stage,
            "platform": deploy["platform"],
            "targets": deploy["targets"],
            "auto_rollback": deploy.get("auto_rollback", True),
            "rollback_on_alarm": deploy.get("rollback_on_alarm", watches_alarms),
            "tags": tags,
        }
        if deploy.get("strategy"):
            deployment_args["strategy"] = deploy.get("strategy", "")
        if "minimum_healthy_hosts" in deploy:
            deployment_args["minimum_healthy_hosts"] = deploy["minimum_healthy_hosts"]
        if watches_alarms:
            deployment_args["alarm_names"] = watched
        if topic is not None:
            deployment_args["trigger_topic_arn"] = topic.topic_arn
            deployment_args["trigger_topic_kms_key_arn"] = topic.kms_key_arn
        deployment = Deployment(f"{name}-deploy", deployment_args, opts=child)

        server_targets: list[ServerTargetRef] = []
        lambda_targets: list[LambdaTargetRef] = []
        for target in deploy["targets"]:
            key = target["name"]
            if deploy["platform"] == "server":
                server_targets.append(
                    {
                        "name": key,
                        "application_name": deployment.application_name,
                        "deployment_group_name": deployment.deployment_group_names.apply(
                            lambda groups, k=key: groups[k]
                        ),
                        "deployment_group_arn": deployment.deployment_group_arns.apply(
                            lambda groups, k=key: groups[k]
                        ),
                    }
                )
            else:
                lambda_targets.append(
                    {
                        "name": key,
                        "function_name": target.get("function_name", ""),
                        "alias": target.get("alias", ""),
                    }
                )

        pipeline_deploy: PipelineDeployArgs = {
            "platform": deploy["platform"],
            "server_targets": server_targets,
            "application_arn": deployment.application_arn,
            "deployment_config_name": deployment.deployment_config_name,
            "lambda_targets": lambda_targets,
            "rollback_on_failure": deploy.get("rollback_on_failure", True),
            "bake_minutes": deploy.get("bake_minutes", 0),
        }
        if deploy.get("strategy") and deploy["platform"] == "lambda":
            pipeline_deploy["lambda_strategy"] = deploy.get("strategy", "")
        if watches_alarms:
            pipeline_deploy["alarm_names"] = watched
        if "window" in deploy:
            pipeline_deploy["window"] = deploy["window"]
        pipeline_args: DeliveryPipelineArgs = {
            "service": service,
            "stage": stage,
            "source": {
                "connection_arn": connection_arn,
                "repository": args["repository"],
                "branch": args["branch"],
                "file_paths": list(args.get("file_paths") or []),
            },
            "artifact_bucket_name": bucket_name,
            "artifact_bucket_arn": bucket_arn,
            "kms_key_arn": kms_key_arn,
            "build": {
                "name": "Build",
                "project_name": build.project_name,
                "project_arn": build.project_arn,
            },
            "tests": [
                {"name": key, "project_name": p.project_name, "project_arn": p.project_arn}
                for key, p in suites.items()
            ],
            "deploy": pipeline_deploy,
            "tags": tags,
        }
        if approval_timeout is not None:
            approval: ApprovalArgs = {"timeout_minutes": approval_timeout}
            if topic is not None:
                approval["topic_arn"] = topic.topic_arn
                approval["topic_kms_key_arn"] = topic.kms_key_arn
            pipeline_args["approval"] = approval
        if "execution_mode" in args:
            pipeline_args["execution_mode"] = args["execution_mode"]
        pipeline = DeliveryPipeline(f"{name}-pipeline", pipeline_args, opts=child)

        approver_policy_arn: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if topic is not None:
            PipelineNotificationRule(
                f"{name}-notify",
                {
                    "service": service,
                    "stage": stage,
                    "pipeline_arn": pipeline.pipeline_arn,
                    "topic_arn": topic.topic_arn,
                    "tags": tags,
                },
                opts=child,
            )
        if approval_timeout is not None:
            approver_policy_arn = ApproverPolicy(
                f"{name}-approvers",
                {
                    "service": service,
                    "stage": stage,
                    "pipeline_arn": pipeline.pipeline_arn,
                    "approval_stage_name": APPROVAL_STAGE,
                    "approval_action_name": APPROVAL_ACTION,
                    "tags": tags,
                },
                opts=child,
            ).policy_arn

        self.pipeline_name = pipeline.pipeline_name
        self.pipeline_arn = pipeline.pipeline_arn
        self.pipeline_url = pipeline.console_url
        self.connection_arn = pulumi.Output.from_input(connection_arn)
        self.artifact_bucket_name = pulumi.Output.from_input(bucket_name)
        self.build_project_name = build.project_name
        self.test_project_names = pulumi.Output.all(
            **{k: p.project_name for k, p in suites.items()}
        ).apply(dict)
        self.application_name = deployment.application_name
        self.deployment_group_names = deployment.deployment_group_names
        self.topic_arn = topic.topic_arn if topic else pulumi.Output.from_input(None)
        self.approver_policy_arn = approver_policy_arn
        self.register_outputs(
            {
                "pipeline_name": self.pipeline_name,
                "pipeline_arn": self.pipeline_arn,
                "pipeline_url": self.pipeline_url,
                "connection_arn": self.connection_arn,
                "artifact_bucket_name": self.artifact_bucket_name,
                "build_project_name": self.build_project_name,
                "test_project_names": self.test_project_names,
                "application_name": self.application_name,
                "deployment_group_names": self.deployment_group_names,
                "topic_arn": self.topic_arn,
                "approver_policy_arn": self.approver_policy_arn,
            }
        )


def _flatten(values: Sequence[str | Sequence[str]]) -> list[str]:
    """Alarm names from config (strings) and from created alarms (lists), in one list."""
    out: list[str] = []
    for value in values:
        out.extend([value] if isinstance(value, str) else value)
    return out
