"""A complete delivery chain for one service in one stage, from one call.

Defines `ServicePipeline`, which composes the other components: the GitHub connection and
artifact store (created, or shared ones passed in), the build project and one project per test
suite (for a service built from GitHub), the CodeDeploy application and groups (with default
alarms when asked), one project per verification suite, the release task's project, the runtime
configuration's reader policy, the release topic and its subscribers, the V2 pipeline, its
notification rule, the approvers' role and, for a service promoted from another stage, the
EventBridge trigger that starts it on each new release.
It holds no AWS logic of its own: each concern lives in its component.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import pulumi

from components.approver_role import ApproverRole, ApproverRoleArgs
from components.artifact_store import ArtifactStore
from components.aws_context import aws_context
from components.build_project import (
    BuildProject,
    BuildProjectArgs,
    BuildVariable,
    ConfigAccessArgs,
    VpcArgs,
)
from components.build_project import BuildSettingsArgs as BuildArgs
from components.connection import GitHubConnection
from components.deployment import Deployment, DeploymentArgs, MinimumHealthyHostsArgs, TargetArgs
from components.limits import default_alarms_per_target, watched_alarms_problem
from components.metric_analysis import ANALYSIS_BUILDSPEC, KINDS, analysis_spec
from components.pipeline import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    RELEASE_ACTION,
    ApprovalArgs,
    ConfigureArgs,
    DeliveryPipeline,
    DeliveryPipelineArgs,
    LambdaTargetRef,
    PipelineDeployArgs,
    ProjectRef,
    PublishArgs,
    ReleaseSourceArgs,
    ScanArgs,
    ServerTargetRef,
    pipeline_physical_name,
)
from components.promotion import PromotionTrigger, PromotionTriggerArgs
from components.pull_requests import PullRequestPipeline, PullRequestPipelineArgs
from components.release_alarms import MissingData, ReleaseAlarms
from components.release_channel import release_object_key
from components.release_notifications import (
    PipelineNotificationRule,
    ReleaseNotifications,
    ReleaseNotificationsArgs,
    SlackChannelArgs,
)
from components.release_steps import ReleaseSteps, ReleaseStepsArgs, ReleaseStepsRef
from components.runtime_config import RuntimeConfig, RuntimeConfigArgs, check_path
from components.synthetic_traffic import SyntheticTraffic, SyntheticTrafficArgs

TYPE = "delivery:cicd:ServicePipeline"


class TestSuiteArgs(BuildArgs):
    name: str
    """Stable key: names the project `{service}-{stage}-test-{name}` and the Test action."""


class VerifySuiteArgs(BuildArgs):
    name: str
    """Stable key: names the project `{service}-{stage}-verify-{name}` and the action
    `verify-{name}`."""
    target: str
    """The deploy target whose endpoint it tests: ENDPOINT_URL (server) or FUNCTION_NAME and
    FUNCTION_ALIAS (Lambda, which the project may then invoke), with VERIFY_TARGET."""


class ReleaseTaskArgs(BuildArgs):
    """Runs once per release in Deploy, before the deploy actions, on the release artifact (a
    schema migration): `buildspec-release.yml` from the release unless `buildspec` says
    otherwise. It reads the service's runtime configuration (CONFIG_PATH, and the release's
    pinned `config-snapshot.json`)."""

    vpc: NotRequired[VpcArgs]
    """Run it in a VPC, e.g. to reach the database. Omitted: outside any VPC."""


class RuntimeConfigSettingsArgs(TypedDict):
    """Where the service's configuration lives in this stage (`components.runtime_config`)."""

    path: str
    """The Parameter Store path, e.g. `/web/prod`: parameters are `<path>/<NAME>`."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer managed key of its SecureStrings. Omitted: aws/ssm."""


class AlarmTargetArgs(TypedDict):
    """What default alarms measure for one deploy target (an ALB target group or a function)."""

    target_group_arn_suffix: NotRequired[str]
    """Server: `arn_suffix` of the target's ALB target group, with `load_balancer_arn_suffix`.
    Omitted: no ALB alarms."""
    load_balancer_arn_suffix: NotRequired[str]
    """Server: `arn_suffix` of that target group's load balancer."""
    function_name: NotRequired[str]
    """Lambda: the function. Omitted: no Lambda alarms."""
    alias: NotRequired[str]
    """Lambda: the alias whose traffic is watched. Omitted: every version's."""
    measure: NotRequired[Literal["count", "rate"]]
    """`ReleaseAlarms`' measure: absolute counts, or shares and p99 behind a minimum-traffic
    guard. Omitted: `count`."""
    error_rate_percent: NotRequired[float]
    """`rate`: the 5XX / error share that breaches. Omitted: 5."""
    p99_latency_ms: NotRequired[float]
    """`rate`, server: the p99 response time that breaches. Omitted: 1500."""
    min_requests: NotRequired[int]
    """`rate`: requests a period below which no share is judged. Omitted: 10."""
    missing_data: NotRequired[Mapping[str, MissingData]]
    """Missing-data treatment per alarm role. Omitted: `ReleaseAlarms`' defaults."""


class TrafficArgs(TypedDict):
    """Synthetic traffic (`SyntheticTraffic`): a canary per target running the smoke checks."""

    targets: Sequence[str]
    """The target keys it exercises (servers need an `endpoint`)."""
    checks_file: str
    """The smoke suite's checks module (`templates/smoke/checks.py` is the template)."""
    every_minutes: NotRequired[int]
    """How often each canary runs. Omitted: 1."""
    failed_runs: NotRequired[int]
    """Failed runs in a row that put its alarm in ALARM. Omitted: 2."""
    runtime_version: NotRequired[str]
    """A `syn-python-selenium-*` runtime. Omitted: `synthetic_traffic.DEFAULT_RUNTIME`."""


class AnalysisMetricArgs(TypedDict):
    name: str
    """`error-rate` (percent), `p99-latency` (server, ms) or `p99-duration` (Lambda, ms)."""
    max: float
    """The most a measurement may show and still succeed."""


class AnalysisArgs(TypedDict):
    """A metric analysis in Deploy (`components.metric_analysis`): measured every interval."""

    dimensions: Mapping[str, str]
    """The measured target's CloudWatch dimensions: `TargetGroup` and `LoadBalancer` (ALB
    `arn_suffix`es) or `FunctionName` and `Resource` (`function:alias`)."""
    metrics: Sequence[AnalysisMetricArgs]
    """What is measured, each with its maximum."""
    interval_minutes: NotRequired[int]
    """Minutes between measurements. Omitted: 1."""
    count: NotRequired[int]
    """Measurements of each metric for success. Omitted: 10."""
    failure_limit: NotRequired[int]
    """Failed measurements a metric may have. Omitted: 0."""
    inconclusive_limit: NotRequired[int]
    """Measurements without enough data a metric may have. Omitted: 1."""
    min_requests: NotRequired[int]
    """Requests (invocations) an interval needs to be judged. Omitted: 10."""


class DeployArgs(TypedDict):
    platform: Literal["server", "lambda"]
    """What releases run on: instances with the CodeDeploy agent, or Lambda functions."""
    targets: Sequence[TargetArgs]
    """Where releases go: one deployment group and one Deploy action per target."""
    strategy: NotRequired[str]
    """Omitted: all at once for the platform."""
    minimum_healthy_hosts: NotRequired[MinimumHealthyHostsArgs]
    """Server: how many instances stay healthy during a release (a custom deployment config).
    Omitted: `strategy`."""
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
    verify: NotRequired[Sequence[VerifySuiteArgs]]
    """Suites that send test traffic to the deployed release. Omitted: no verification."""
    release_task: NotRequired[ReleaseTaskArgs]
    """Run a task once per release before the deploy actions (migrations). Omitted: none."""
    traffic: NotRequired[TrafficArgs]
    """Synthetic traffic to some targets, whose alarms the release watches too. Omitted: none."""
    analysis: NotRequired[AnalysisArgs]
    """Measure the release after verification; failed or inconclusive fails Deploy.
    Omitted: no analysis."""


class PullRequestsArgs(TypedDict):
    """Build and Test on pull requests, in a pipeline of their own (`PullRequestPipeline`)."""

    events: NotRequired[Sequence[str]]
    """Pull request events that start a run (OPEN, UPDATED, CLOSED). Omitted: OPEN, UPDATED."""
    artifact_expire_days: NotRequired[int]
    """Days the runs' artifacts are kept, in a bucket of their own. Omitted: 3."""


class NotifyArgs(TypedDict):
    email: NotRequired[Sequence[str]]
    """Email addresses subscribed to the release topic. Omitted: none."""
    https: NotRequired[Sequence[str]]
    """`https://` endpoints subscribed to the release topic. Omitted: none."""
    slack: NotRequired[SlackChannelArgs]
    """A Slack channel the release topic posts to through AWS Chatbot. Omitted: none."""


class PromotedSourceArgs(TypedDict):
    """Where the upstream stage publishes this service's releases (`components.promotion`)."""

    upstream_stage: str
    """The stage promoted from; tags the pipeline `cicd:promotes-from`."""
    bucket_name: pulumi.Input[str]
    """The upstream's release bucket (`Upstream.bucket_name`)."""
    bucket_arn: pulumi.Input[str]
    """ARN of that bucket (`Upstream.bucket_arn`)."""
    kms_key_arn: NotRequired[pulumi.Input[str | None]]
    """The key releases are encrypted with. Omitted: SSE-S3."""
    upstream_account_id: pulumi.Input[str]
    """The account the release events come from."""
    automatic: NotRequired[bool]
    """Start on each new release (an EventBridge rule). Omitted: True. False: only `cicd
    promote` (or the console) starts the pipeline."""


class ReleaseChannelRef(TypedDict):
    """Where this stage publishes the releases it proved (`components.release_channel`)."""

    bucket_name: pulumi.Input[str]
    """This stage's release bucket (`ReleaseChannel.bucket_name`)."""
    bucket_arn: pulumi.Input[str]
    """ARN of that bucket (`ReleaseChannel.bucket_arn`)."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Encrypt releases with this key. Omitted: the bucket's default encryption."""


class ServicePipelineArgs(TypedDict):
    service: str
    """The service: names every resource `{service}-{stage}-<role>` and tags it `cicd:service`."""
    stage: str
    """The stage, e.g. dev: naming and the `cicd:stage` tag."""
    deploy: DeployArgs
    """How releases are deployed, verified, watched and rolled back."""
    repository: NotRequired[str]
    """GitHub `owner/repo` of the application. Give it (and `branch`) to build from GitHub, or
    `promoted_from` instead."""
    branch: NotRequired[str]
    """The branch whose pushes release to this stage."""
    file_paths: NotRequired[Sequence[str]]
    """Omitted: every push to the branch triggers a release."""
    promoted_from: NotRequired[PromotedSourceArgs]
    """Deploy the releases another stage proved: no Build and no Test. Omitted: build from
    GitHub."""
    release_steps: NotRequired[ReleaseStepsRef]
    """The stage's shared package, describe and configure projects. Omitted: this service
    makes its own (`ReleaseSteps`)."""
    runtime_config: NotRequired[RuntimeConfigSettingsArgs]
    """The service's runtime configuration in this stage: a reader policy for its hosts (or
    function), and a Configure action that pins the versions each release runs with. Omitted:
    neither (the hosts read whatever they are configured to read)."""
    publish_to: NotRequired[ReleaseChannelRef]
    """Publish each release this stage proves, after Deploy, verification and bake. Omitted:
    nothing is published."""
    connection_arn: NotRequired[pulumi.Input[str]]
    """A shared GitHub connection. Omitted: a new connection is created (needs the handshake)
    when building from GitHub."""
    artifact_bucket_name: NotRequired[pulumi.Input[str]]
    """A shared artifact bucket (give its ARN too). Omitted: a new ArtifactStore is created."""
    artifact_bucket_arn: NotRequired[pulumi.Input[str]]
    """ARN of the shared bucket named in `artifact_bucket_name`."""
    artifact_kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The shared bucket's KMS key ARN (a plain value or Output of a str). Omitted: SSE-S3."""
    build: NotRequired[BuildArgs]
    """Omitted: `buildspec.yml` on a small Linux image. The build gets no STAGE variable: what
    it produces may be deployed to any stage."""
    tests: NotRequired[Sequence[TestSuiteArgs]]
    """Omitted: no Test stage."""
    pull_requests: NotRequired[PullRequestsArgs]
    """Also build and test each pull request into `branch` (with the push trigger's
    `file_paths`) in a separate pipeline, `{service}-{stage}-pr`, with its own projects, role
    and fast-expiring artifact bucket, and no Deploy or Publish; with `scan`, it scans too.
    Omitted: pushes only."""
    scan: NotRequired[ScanArgs]
    """Scan the source with Amazon Inspector in Build and keep the SBOM in the release.
    Omitted: no scan."""
    approval_timeout_minutes: NotRequired[int]
    """Add a manual approval before Deploy that waits this long. Omitted: no approval."""
    approvers: NotRequired[Sequence[str]]
    """With an approval: IAM principals who may assume the approver role. Omitted: this
    account's IAM, so whoever an administrator allows `sts:AssumeRole` on the role."""
    github_token_secret_arn: NotRequired[pulumi.Input[str]]
    """With an approval of a promoted release: ARN of a Secrets Manager secret holding a
    GitHub token that may read the repository's contents (a `DeliveryReporter`'s
    `secret_arn`), which this service's own describe project sends to GitHub's compare API to
    count the commits since the live release (`ReleaseStepsArgs.github_token_secret_arn`).
    Omitted: GitHub is asked anonymously, so the count is "?" for a private repository. With
    `release_steps`, give it to the shared `ReleaseSteps` instead."""
    github_token_kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer managed key that encrypts `github_token_secret_arn`. Omitted: the secret
    uses the AWS managed key."""
    notify: NotRequired[NotifyArgs]
    """Who hears about releases. Omitted: a topic is still created when there is an approval,
    so subscribers can be added later; otherwise no topic."""
    execution_mode: NotRequired[Literal["QUEUED", "SUPERSEDED", "PARALLEL"]]
    """Omitted: SUPERSEDED."""
    log_retention_days: NotRequired[int]
    """Omitted: 14."""
    protect: NotRequired[bool]
    """Protect stateful resources created here (connection, bucket, topic). Omitted: False."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every taggable resource. Omitted: only the naming tags."""


class ServicePipeline(pulumi.ComponentResource):
    """Source, (build, tests), (approval), deploy, verify, (publish): one service's chain."""

    pipeline_name: pulumi.Output[str]
    """Name of the pipeline, `{service}-{stage}-pipeline`."""
    pipeline_arn: pulumi.Output[str]
    """ARN of the pipeline."""
    pipeline_url: pulumi.Output[str]
    """The pipeline's page in the CodePipeline console."""
    connection_arn: pulumi.Output[str | None]
    """The GitHub connection the source uses (created or shared); None when promoted."""
    artifact_bucket_name: pulumi.Output[str]
    """The artifact bucket (created or shared)."""
    build_project_name: pulumi.Output[str | None]
    """The Build action's project; None when promoted."""
    test_project_names: pulumi.Output[dict[str, str]]
    """Test project name per suite `name`."""
    verify_project_names: pulumi.Output[dict[str, str]]
    """Verification project name per suite `name`."""
    application_name: pulumi.Output[str]
    """The CodeDeploy application."""
    deployment_group_names: pulumi.Output[dict[str, str]]
    """Deployment group name per target `name`."""
    topic_arn: pulumi.Output[str | None]
    """The release topic; None without an approval or `notify`."""
    approver_role_arn: pulumi.Output[str | None]
    """The role people assume to approve releases (`ApproverRole`); None without an
    approval."""
    release_object_key: pulumi.Output[str | None]
    """Key of the release object this stage publishes (with `publish_to`); None otherwise."""
    config_path: pulumi.Output[str | None]
    """The runtime configuration's Parameter Store path; None without `runtime_config`."""
    config_reader_policy_arn: pulumi.Output[str | None]
    """Managed policy to attach to the hosts' (or function's) role; None without
    `runtime_config`."""
    release_task_project_name: pulumi.Output[str | None]
    """The release task's project; None without `deploy.release_task`."""
    pull_request_pipeline_name: pulumi.Output[str | None]
    """The pull-request pipeline, `{service}-{stage}-pr`; None without `pull_requests`."""
    pull_request_status_context: pulumi.Output[str | None]
    """The commit status its runs are reported under (`cicd/{service}-{stage}-pr`), for branch
    protection to require; None without `pull_requests`."""
    alarm_names: pulumi.Output[list[str]]
    """Every alarm the release watches (named and default); empty without any."""

    def __init__(
        self, name: str, args: ServicePipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = dict(args.get("tags") or {})
        self._validate()

        bucket_name, bucket_arn, kms_key_arn = self._artifacts()
        artifacts = (bucket_name, bucket_arn, kms_key_arn)
        connection_arn = self._connection()
        builds = self._builds(bucket_name, bucket_arn, kms_key_arn)
        config = self._runtime_config()
        topic = self._topic()
        watched = self._alarms(artifacts)
        deployment = self._deployment(topic, watched)
        task = self._release_task(artifacts)
        verifiers = self._verifiers(bucket_name, bucket_arn, kms_key_arn)
        analysis = self._analysis(artifacts)
        pipeline = self._pipeline(
            connection_arn, artifacts, builds, verifiers, deployment, watched, topic, task, analysis
        )
        self._notifications(pipeline, topic)
        approvers = self._approvers(pipeline)
        self._trigger(pipeline)
        reviews = self._pull_requests(connection_arn, builds)

        self.pipeline_name = pipeline.pipeline_name
        self.pipeline_arn = pipeline.pipeline_arn
        self.pipeline_url = pipeline.console_url
        self.connection_arn = pulumi.Output.from_input(connection_arn)
        self.artifact_bucket_name = pulumi.Output.from_input(bucket_name)
        self.build_project_name = pulumi.Output.from_input(
            builds.build["project_name"] if builds.build else None
        )
        self.test_project_names = _names(builds.tests)
        self.verify_project_names = _names(verifiers)
        self.application_name = deployment.application_name
        self.deployment_group_names = deployment.deployment_group_names
        self.topic_arn = topic.topic_arn if topic else pulumi.Output.from_input(None)
        self.approver_role_arn = approvers
        self.release_object_key = pulumi.Output.from_input(
            release_object_key(args["service"]) if "publish_to" in args else None
        )
        self.config_path = config.path if config else pulumi.Output.from_input(None)
        self.config_reader_policy_arn = (
            config.reader_policy_arn if config else pulumi.Output.from_input(None)
        )
        self.release_task_project_name = pulumi.Output.from_input(
            task.project_name if task else None
        )
        self.pull_request_pipeline_name = (
            reviews.pipeline_name if reviews else pulumi.Output.from_input(None)
        )
        self.pull_request_status_context = (
            reviews.status_context if reviews else pulumi.Output.from_input(None)
        )
        self.alarm_names = watched if watched is not None else pulumi.Output.from_input([])
        self.register_outputs(
            {
                "pipeline_name": self.pipeline_name,
                "pipeline_arn": self.pipeline_arn,
                "pipeline_url": self.pipeline_url,
                "connection_arn": self.connection_arn,
                "artifact_bucket_name": self.artifact_bucket_name,
                "build_project_name": self.build_project_name,
                "test_project_names": self.test_project_names,
                "verify_project_names": self.verify_project_names,
                "application_name": self.application_name,
                "deployment_group_names": self.deployment_group_names,
                "topic_arn": self.topic_arn,
                "approver_role_arn": self.approver_role_arn,
                "release_object_key": self.release_object_key,
                "config_path": self.config_path,
                "config_reader_policy_arn": self.config_reader_policy_arn,
                "release_task_project_name": self.release_task_project_name,
                "pull_request_pipeline_name": self.pull_request_pipeline_name,
                "pull_request_status_context": self.pull_request_status_context,
                "alarm_names": self.alarm_names,
            }
        )

    # Checks ----------------------------------------------------------------------------------

    def _validate(self) -> None:
        args, name = self._args, self._name
        if ("artifact_bucket_name" in args) != ("artifact_bucket_arn" in args):
            raise ValueError(
                f"ServicePipeline {name!r}: give both artifact_bucket_name and "
                "artifact_bucket_arn for a shared bucket, or neither to create one"
            )
        github = "repository" in args and "branch" in args
        if github == ("promoted_from" in args):
            raise ValueError(
                f"ServicePipeline {name!r}: give repository and branch (build from GitHub) or "
                "promoted_from (deploy another stage's releases), exactly one"
            )
        if "promoted_from" in args and ("build" in args or args.get("tests")):
            raise ValueError(
                f"ServicePipeline {name!r}: a promoted service deploys what was built and "
                "tested upstream; remove build and tests"
            )
        for key in ("pull_requests", "scan"):
            if "promoted_from" in args and key in args:
                raise ValueError(
                    f"ServicePipeline {name!r}: {key} applies to a service built from GitHub; "
                    f"this one deploys the releases {args['promoted_from']['upstream_stage']} "
                    f"proved. Give {key} to the service there"
                )
        for key in ("github_token_secret_arn", "github_token_kms_key_arn"):
            if key in args and "release_steps" in args:
                raise ValueError(
                    f"ServicePipeline {name!r}: {key} applies to this service's own describe "
                    "project, and release_steps are shared: give it to the shared ReleaseSteps "
                    "(ReleaseStepsArgs), or remove it"
                )
        if "github_token_kms_key_arn" in args and "github_token_secret_arn" not in args:
            raise ValueError(
                f"ServicePipeline {name!r}: github_token_kms_key_arn applies to "
                "github_token_secret_arn; give the secret too, or remove the key"
            )
        if "runtime_config" in args:
            try:
                check_path(args["runtime_config"]["path"])
            except ValueError as error:
                raise ValueError(f"ServicePipeline {name!r}: {error}") from None
        deploy = args["deploy"]
        for target in deploy["targets"]:
            if target.get("blue_green", {}).get("green_fleet") == "DISCOVER_EXISTING":
                raise ValueError(
                    f"ServicePipeline {name!r}: target {target['name']!r} uses DISCOVER_EXISTING, "
                    "which needs the green instances named at each CreateDeployment; "
                    "CodePipeline's CodeDeploy action names only the application and deployment "
                    "group. Use COPY_AUTO_SCALING_GROUP"
                )
        defaults = deploy.get("default_alarms") or {}
        why = watched_alarms_problem(
            listed=len(deploy.get("alarm_names") or []),
            targets_with_defaults=len(defaults),
            bake=bool(deploy.get("bake_minutes")),
            # The most any target gets: a mix of measures is counted at its largest.
            per_target=max(
                (
                    default_alarms_per_target(deploy["platform"], m.get("measure", "count"))
                    for m in defaults.values()
                ),
                default=0,
            ),
            traffic_targets=len((deploy.get("traffic") or {}).get("targets") or []),
        )
        if why is not None:
            raise ValueError(f"ServicePipeline {name!r}: {why}")
        targets = {t["name"]: t for t in deploy["targets"]}
        for key in (deploy.get("traffic") or {}).get("targets") or []:
            if key not in targets:
                raise ValueError(
                    f"ServicePipeline {name!r}: traffic names target {key!r}; targets: "
                    f"{', '.join(targets)}"
                )
            if deploy["platform"] == "server" and "endpoint" not in targets[key]:
                raise ValueError(
                    f"ServicePipeline {name!r}: traffic to target {key!r} needs its endpoint"
                )
        analysis = deploy.get("analysis")
        for metric in (analysis or {}).get("metrics") or []:
            if metric["name"] not in KINDS[deploy["platform"]]:
                raise ValueError(
                    f"ServicePipeline {name!r}: analysis metric {metric['name']!r} is not one "
                    f"of {', '.join(KINDS[deploy['platform']])} ({deploy['platform']})"
                )
        if analysis is not None and not analysis["metrics"]:
            raise ValueError(f"ServicePipeline {name!r}: analysis needs at least one metric")
        if analysis is not None and any(
            v["name"] == "analysis" for v in deploy.get("verify") or []
        ):
            raise ValueError(
                f"ServicePipeline {name!r}: verify suite 'analysis' would share its action name "
                "with the metric analysis (verify-analysis); rename the suite"
            )
        for suite in deploy.get("verify") or []:
            target = targets.get(suite["target"])
            if target is None:
                raise ValueError(
                    f"ServicePipeline {name!r}: verify suite {suite['name']!r} names target "
                    f"{suite['target']!r}; targets: {', '.join(targets)}"
                )
            if args["deploy"]["platform"] == "server" and "endpoint" not in target:
                raise ValueError(
                    f"ServicePipeline {name!r}: verify suite {suite['name']!r} tests target "
                    f"{suite['target']!r}, which has no endpoint; give the target's base URL"
                )

    # Steps -----------------------------------------------------------------------------------

    def _artifacts(
        self,
    ) -> tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None]:
        args = self._args
        if "artifact_bucket_name" in args:
            return (
                args["artifact_bucket_name"],
                args.get("artifact_bucket_arn", ""),
                args.get("artifact_kms_key_arn"),
            )
        store = ArtifactStore(
            f"{self._name}-artifacts",
            {
                "service": args["service"],
                "stage": args["stage"],
                "protect": args.get("protect", False),
                "tags": self._tags,
            },
            opts=self._child,
        )
        # A store created here uses SSE-S3, so there is no key to pass on.
        return store.bucket_name, store.bucket_arn, None

    def _connection(self) -> pulumi.Input[str] | None:
        args = self._args
        if "promoted_from" in args:
            return None
        if "connection_arn" in args:
            return args["connection_arn"]
        return GitHubConnection(
            f"{self._name}-connection",
            {
                "service": args["service"],
                "stage": args["stage"],
                "protect": args.get("protect", False),
                "tags": self._tags,
            },
            opts=self._child,
        ).arn

    def _project(
        self,
        role: str,
        settings: BuildArgs,
        artifacts: tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None],
        *,
        stage_variable: bool = True,
        extra_environment: Sequence[BuildVariable] = (),
        invoke_function_arns: Sequence[pulumi.Input[str]] = (),
        vpc: VpcArgs | None = None,
        read_config: ConfigAccessArgs | None = None,
        read_metrics: bool = False,
    ) -> BuildProject:
        args = self._args
        bucket_name, bucket_arn, kms_key_arn = artifacts
        project_args: BuildProjectArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "role": role,
            "artifact_bucket_arn": bucket_arn,
            "artifact_bucket_name": bucket_name,
            "kms_key_arn": kms_key_arn,
            "log_retention_days": args.get("log_retention_days", 14),
            "tags": self._tags,
        }
        # `__annotations__`, not `__optional_keys__`: with postponed annotations every
        # TypedDict key counts as required at run time, so the optional set is empty.
        for key in BuildArgs.__annotations__:
            if key in settings:
                project_args[key] = settings[key]  # type: ignore[literal-required]
        if extra_environment:
            project_args["environment"] = [*extra_environment, *settings.get("environment", [])]
        if not stage_variable:
            project_args["stage_variable"] = False
        if invoke_function_arns:
            project_args["invoke_function_arns"] = list(invoke_function_arns)
        if vpc is not None:
            project_args["vpc"] = vpc
        if read_config is not None:
            project_args["read_config"] = read_config
        if read_metrics:
            project_args["read_metrics"] = True
        if "permissions_boundary" in args:
            project_args["permissions_boundary"] = args["permissions_boundary"]
        return BuildProject(f"{self._name}-{role}", project_args, opts=self._child)

    def _builds(
        self,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str] | None,
    ) -> Builds:
        """The projects a pipeline runs besides verification: build, package, tests, describe."""
        args = self._args
        artifacts = (bucket_name, bucket_arn, kms_key_arn)
        promoted = "promoted_from" in args
        steps = self._release_steps(bucket_name, bucket_arn, kms_key_arn)
        if promoted:
            return Builds(None, None, {}, steps.get("describe"), steps.get("configure"))
        # One build is deployed to every stage that promotes it: it gets no STAGE to depend on.
        build = self._project("build", args.get("build") or {}, artifacts, stage_variable=False)
        suites = {
            t["name"]: self._project(f"test-{t['name']}", t, artifacts)
            for t in args.get("tests") or []
        }
        return Builds(
            _ref("Build", build), steps.get("package"), suites, None, steps.get("configure")
        )

    def _release_steps(
        self,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str] | None,
    ) -> ReleaseStepsRef:
        """The stage's shared release manifest projects, or a pair of this service's own."""
        args = self._args
        if "release_steps" in args:
            return args["release_steps"]
        promoted = "promoted_from" in args
        configured = "runtime_config" in args
        if promoted and "approval_timeout_minutes" not in args and not configured:
            return {}
        steps_args: ReleaseStepsArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "artifact_bucket_name": bucket_name,
            "artifact_bucket_arn": bucket_arn,
            "kms_key_arn": kms_key_arn,
            "log_retention_days": args.get("log_retention_days", 14),
            "tags": self._tags,
        }
        pipeline = pipeline_physical_name(args["service"], args["stage"])
        if promoted:
            steps_args["describe"] = "approval_timeout_minutes" in args
            promoted_from = args["promoted_from"]
            if steps_args["describe"]:
                # The approval's evidence (components.approval_evidence): this pipeline's
                # history, the upstream's proof (an ARN in this account: another account's
                # pipeline stays unreadable, and the evidence says so), the watched alarms.
                steps_args["evidence_pipelines"] = [pipeline]
                steps_args["upstream_pipelines"] = [
                    pipeline_physical_name(args["service"], promoted_from["upstream_stage"])
                ]
                steps_args["watched_alarms"] = [
                    f"{args['service']}-{args['stage']}-*",
                    *(args["deploy"].get("alarm_names") or []),
                ]
                if "github_token_secret_arn" in args:
                    steps_args["github_token_secret_arn"] = args["github_token_secret_arn"]
                if "github_token_kms_key_arn" in args:
                    steps_args["github_token_kms_key_arn"] = args["github_token_kms_key_arn"]
            steps_args["release_objects"] = [
                pulumi.Output.concat(
                    promoted_from["bucket_arn"], "/", release_object_key(args["service"])
                )
            ]
        else:
            steps_args["packaged_pipelines"] = [pipeline]
        if configured:
            steps_args["configured_pipelines"] = [pipeline]
            steps_args["config_paths"] = [args["runtime_config"]["path"]]
        if "permissions_boundary" in args:
            steps_args["permissions_boundary"] = args["permissions_boundary"]
        return ReleaseSteps(f"{self._name}-release", steps_args, opts=self._child).refs

    def _runtime_config(self) -> RuntimeConfig | None:
        args = self._args
        settings = args.get("runtime_config")
        if settings is None:
            return None
        config_args: RuntimeConfigArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "path": settings["path"],
            "tags": self._tags,
        }
        if "kms_key_arn" in settings:
            config_args["kms_key_arn"] = settings["kms_key_arn"]
        return RuntimeConfig(f"{self._name}-config", config_args, opts=self._child)

    def _release_task(
        self,
        artifacts: tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None],
    ) -> BuildProject | None:
        args = self._args
        task = args["deploy"].get("release_task")
        if task is None:
            return None
        # `_project` copies only the build settings; `vpc` is passed on its own.
        settings: BuildArgs = {**task}
        settings.setdefault("buildspec", "buildspec-release.yml")
        config = args.get("runtime_config")
        read: ConfigAccessArgs | None = None
        environment: list[BuildVariable] = []
        if config is not None:
            read = {"path": config["path"]}
            if "kms_key_arn" in config:
                read["kms_key_arn"] = config["kms_key_arn"]
            environment.append(_plain("CONFIG_PATH", config["path"]))
        return self._project(
            "release-task",
            settings,
            artifacts,
            extra_environment=environment,
            vpc=task.get("vpc"),
            read_config=read,
        )

    def _topic(self) -> ReleaseNotifications | None:
        args = self._args
        notify = args.get("notify") or {}
        if "approval_timeout_minutes" not in args and not notify:
            return None
        topic_args: ReleaseNotificationsArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "email": list(notify.get("email") or []),
            "https": list(notify.get("https") or []),
            "protect_topic": args.get("protect", False),
            "tags": self._tags,
        }
        if "slack" in notify:
            topic_args["slack"] = notify["slack"]
        if "permissions_boundary" in args:
            topic_args["permissions_boundary"] = args["permissions_boundary"]
        return ReleaseNotifications(f"{self._name}-releases", topic_args, opts=self._child)

    def _alarms(
        self,
        artifacts: tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None],
    ) -> pulumi.Output[list[str]] | None:
        """Every alarm the release watches: the named ones, the defaults created here, and the
        synthetic traffic's."""
        args = self._args
        deploy = args["deploy"]
        names: list[pulumi.Input[str] | pulumi.Output[list[str]]] = list(
            deploy.get("alarm_names") or []
        )
        for key, measured in (deploy.get("default_alarms") or {}).items():
            alarms = ReleaseAlarms(
                f"{self._name}-alarms-{key}",
                {
                    "service": args["service"],
                    "stage": args["stage"],
                    "tags": self._tags,
                    **measured,
                },
                opts=self._child,
            )
            names.append(alarms.alarm_names)
        traffic = deploy.get("traffic")
        targets = {t["name"]: t for t in deploy["targets"]}
        for key in (traffic or {}).get("targets") or []:
            assert traffic is not None
            target = targets[key]
            traffic_args: SyntheticTrafficArgs = {
                "service": args["service"],
                "stage": args["stage"],
                "target": key,
                "checks_file": traffic["checks_file"],
                "artifact_bucket_name": artifacts[0],
                "artifact_bucket_arn": artifacts[1],
                "artifact_kms_key_arn": artifacts[2],
                "tags": self._tags,
            }
            if deploy["platform"] == "server":
                traffic_args["endpoint"] = target.get("endpoint", "")
            else:
                traffic_args["function_name"] = target.get("function_name", "")
                traffic_args["alias"] = target.get("alias", "")
            if "every_minutes" in traffic:
                traffic_args["every_minutes"] = traffic["every_minutes"]
            if "failed_runs" in traffic:
                traffic_args["failed_runs"] = traffic["failed_runs"]
            if "runtime_version" in traffic:
                traffic_args["runtime_version"] = traffic["runtime_version"]
            if "permissions_boundary" in args:
                traffic_args["permissions_boundary"] = args["permissions_boundary"]
            canary = SyntheticTraffic(f"{self._name}-traffic-{key}", traffic_args, opts=self._child)
            names.append(canary.alarm_names)
        if not names:
            return None
        return pulumi.Output.all(*names).apply(_flatten)

    def _deployment(
        self, topic: ReleaseNotifications | None, watched: pulumi.Output[list[str]] | None
    ) -> Deployment:
        args = self._args
        deploy = args["deploy"]
        deployment_args: DeploymentArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "platform": deploy["platform"],
            "targets": deploy["targets"],
            "auto_rollback": deploy.get("auto_rollback", True),
            "rollback_on_alarm": deploy.get("rollback_on_alarm", watched is not None),
            "tags": self._tags,
        }
        if deploy.get("strategy"):
            deployment_args["strategy"] = deploy.get("strategy", "")
        if "minimum_healthy_hosts" in deploy:
            deployment_args["minimum_healthy_hosts"] = deploy["minimum_healthy_hosts"]
        if watched is not None:
            deployment_args["alarm_names"] = watched
        if topic is not None:
            deployment_args["trigger_topic_arn"] = topic.topic_arn
            deployment_args["trigger_topic_kms_key_arn"] = topic.kms_key_arn
        if "permissions_boundary" in args:
            deployment_args["permissions_boundary"] = args["permissions_boundary"]
        return Deployment(f"{self._name}-deploy", deployment_args, opts=self._child)

    def _verifiers(
        self,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str] | None,
    ) -> dict[str, BuildProject]:
        args = self._args
        deploy = args["deploy"]
        targets = {t["name"]: t for t in deploy["targets"]}
        where = aws_context(self)
        verifiers: dict[str, BuildProject] = {}
        for suite in deploy.get("verify") or []:
            target = targets[suite["target"]]
            endpoint = [_plain("VERIFY_TARGET", target["name"])]
            invoke: list[pulumi.Input[str]] = []
            if deploy["platform"] == "server":
                endpoint.append(_plain("ENDPOINT_URL", target.get("endpoint", "")))
            else:
                function, alias = target.get("function_name", ""), target.get("alias", "")
                endpoint += [_plain("FUNCTION_NAME", function), _plain("FUNCTION_ALIAS", alias)]
                invoke.append(
                    pulumi.Output.format(
                        "arn:aws:lambda:{0}:{1}:function:{2}:{3}",
                        where.region,
                        where.account_id,
                        function,
                        alias,
                    )
                )
            verifiers[suite["name"]] = self._project(
                f"verify-{suite['name']}",
                suite,
                (bucket_name, bucket_arn, kms_key_arn),
                extra_environment=endpoint,
                invoke_function_arns=invoke,
            )
        return verifiers

    def _analysis(
        self,
        artifacts: tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None],
    ) -> BuildProject | None:
        analysis = self._args["deploy"].get("analysis")
        if analysis is None:
            return None
        interval = analysis.get("interval_minutes", 1)
        count = analysis.get("count", 10)
        spec = analysis_spec(
            dimensions=analysis["dimensions"],
            metrics=[dict(m) for m in analysis["metrics"]],
            interval_minutes=interval,
            count=count,
            failure_limit=analysis.get("failure_limit", 0),
            inconclusive_limit=analysis.get("inconclusive_limit", 1),
            min_requests=analysis.get("min_requests", 10),
        )
        settings: BuildArgs = {
            "buildspec": ANALYSIS_BUILDSPEC,
            # The measurements, and time for CloudWatch to publish the last minute's data.
            "timeout_minutes": interval * count + 10,
            "environment": [_plain("ANALYSIS_SPEC", json.dumps(spec, separators=(",", ":")))],
        }
        return self._project("analysis", settings, artifacts, read_metrics=True)

    def _pipeline(
        self,
        connection_arn: pulumi.Input[str] | None,
        artifacts: tuple[pulumi.Input[str], pulumi.Input[str], pulumi.Input[str] | None],
        builds: Builds,
        verifiers: Mapping[str, BuildProject],
        deployment: Deployment,
        watched: pulumi.Output[list[str]] | None,
        topic: ReleaseNotifications | None,
        task: BuildProject | None,
        analysis: BuildProject | None = None,
    ) -> DeliveryPipeline:
        args = self._args
        bucket_name, bucket_arn, kms_key_arn = artifacts
        deploy = self._pipeline_deploy(deployment, verifiers, watched)
        if task is not None:
            deploy["release_task"] = _ref("ReleaseTask", task)
        if analysis is not None:
            deploy["analysis"] = _ref("Analysis", analysis)
        config = args.get("runtime_config")
        if config is not None:
            configure = builds.configure
            assert configure is not None, "the release steps include configure with a config"
            configure_args: ConfigureArgs = {"project": configure, "config_path": config["path"]}
            if "kms_key_arn" in config:
                configure_args["kms_key_arn"] = config["kms_key_arn"]
            deploy["configure"] = configure_args
        pipeline_args: DeliveryPipelineArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "artifact_bucket_name": bucket_name,
            "artifact_bucket_arn": bucket_arn,
            "kms_key_arn": kms_key_arn,
            "deploy": deploy,
            "tags": self._tags,
        }
        promoted = args.get("promoted_from")
        if promoted is not None:
            release: ReleaseSourceArgs = {
                "bucket_name": promoted["bucket_name"],
                "bucket_arn": promoted["bucket_arn"],
                "object_key": release_object_key(args["service"]),
                "upstream_stage": promoted["upstream_stage"],
            }
            if "kms_key_arn" in promoted:
                release["kms_key_arn"] = promoted["kms_key_arn"]
            pipeline_args["release_source"] = release
            if builds.describe is not None:
                pipeline_args["describe"] = builds.describe
        else:
            build, package = builds.build, builds.package
            assert connection_arn is not None and build and package, "validated in _validate"
            pipeline_args["source"] = {
                "connection_arn": connection_arn,
                "repository": args.get("repository", ""),
                "branch": args.get("branch", ""),
                "file_paths": list(args.get("file_paths") or []),
            }
            pipeline_args["build"] = build
            pipeline_args["package"] = package
            pipeline_args["tests"] = [_ref(key, p) for key, p in builds.tests.items()]
        channel = args.get("publish_to")
        if channel is not None:
            publish: PublishArgs = {
                "bucket_name": channel["bucket_name"],
                "bucket_arn": channel["bucket_arn"],
                "object_key": release_object_key(args["service"]),
            }
            if "kms_key_arn" in channel:
                publish["kms_key_arn"] = channel["kms_key_arn"]
            pipeline_args["publish"] = publish
        if "approval_timeout_minutes" in args:
            approval: ApprovalArgs = {"timeout_minutes": args["approval_timeout_minutes"]}
            if topic is not None:
                approval["topic_arn"] = topic.topic_arn
                approval["topic_kms_key_arn"] = topic.kms_key_arn
            pipeline_args["approval"] = approval
        if "scan" in args:
            pipeline_args["scan"] = args["scan"]
        if "execution_mode" in args:
            pipeline_args["execution_mode"] = args["execution_mode"]
        if "permissions_boundary" in args:
            pipeline_args["permissions_boundary"] = args["permissions_boundary"]
        return DeliveryPipeline(f"{self._name}-pipeline", pipeline_args, opts=self._child)

    def _pipeline_deploy(
        self,
        deployment: Deployment,
        verifiers: Mapping[str, BuildProject],
        watched: pulumi.Output[list[str]] | None,
    ) -> PipelineDeployArgs:
        deploy = self._args["deploy"]
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
            "verify": [_ref(key, p) for key, p in verifiers.items()],
            "rollback_on_failure": deploy.get("rollback_on_failure", True),
            "bake_minutes": deploy.get("bake_minutes", 0),
        }
        if deploy.get("strategy") and deploy["platform"] == "lambda":
            pipeline_deploy["lambda_strategy"] = deploy.get("strategy", "")
        if watched is not None:
            pipeline_deploy["alarm_names"] = watched
        if "window" in deploy:
            pipeline_deploy["window"] = deploy["window"]
        return pipeline_deploy

    def _notifications(
        self, pipeline: DeliveryPipeline, topic: ReleaseNotifications | None
    ) -> None:
        if topic is None:
            return
        PipelineNotificationRule(
            f"{self._name}-notify",
            {
                "service": self._args["service"],
                "stage": self._args["stage"],
                "pipeline_arn": pipeline.pipeline_arn,
                "topic_arn": topic.topic_arn,
                "tags": self._tags,
            },
            opts=self._child,
        )

    def _approvers(self, pipeline: DeliveryPipeline) -> pulumi.Output[str | None]:
        args = self._args
        if "approval_timeout_minutes" not in args:
            return pulumi.Output.from_input(None)
        role_args: ApproverRoleArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "pipeline_arn": pipeline.pipeline_arn,
            "approval_stage_name": APPROVAL_STAGE,
            "approval_action_name": APPROVAL_ACTION,
            "tags": self._tags,
        }
        if args.get("approvers"):
            role_args["principals"] = list(args.get("approvers") or [])
        promoted = args.get("promoted_from")
        if promoted is not None:
            role_args["release_object_arn"] = pulumi.Output.concat(
                promoted["bucket_arn"], "/", release_object_key(args["service"])
            )
            if "kms_key_arn" in promoted:
                role_args["release_kms_key_arn"] = promoted["kms_key_arn"]
        if "permissions_boundary" in args:
            role_args["permissions_boundary"] = args["permissions_boundary"]
        return ApproverRole(f"{self._name}-approvers", role_args, opts=self._child).role_arn

    def _trigger(self, pipeline: DeliveryPipeline) -> None:
        promoted = self._args.get("promoted_from")
        if promoted is None or not promoted.get("automatic", True):
            return
        trigger: PromotionTriggerArgs = {
            "service": self._args["service"],
            "stage": self._args["stage"],
            "pipeline_arn": pipeline.pipeline_arn,
            "source_action": RELEASE_ACTION,
            "bucket_name": promoted["bucket_name"],
            "upstream_account_id": promoted["upstream_account_id"],
            "tags": self._tags,
        }
        if "permissions_boundary" in self._args:
            trigger["permissions_boundary"] = self._args["permissions_boundary"]
        PromotionTrigger(f"{self._name}-promotion", trigger, opts=self._child)

    def _pull_requests(
        self, connection_arn: pulumi.Input[str] | None, builds: Builds
    ) -> PullRequestPipeline | None:
        """The pull-request pipeline, with projects and an artifact bucket of its own.

        Its own projects: a pull request's code runs with roles that reach only the pull
        request bucket, never the release pipeline's artifacts. Its own bucket: CodePipeline
        picks the artifact keys ("A folder to contain the pipeline artifacts is created for you
        based on the name of the pipeline", API_ArtifactStore), so no lifecycle rule on a
        prefix of the shared bucket could be sure to expire only pull-request runs.
        """
        args = self._args
        settings = args.get("pull_requests")
        if settings is None:
            return None
        assert connection_arn is not None and builds.build, "validated in _validate"
        store = ArtifactStore(
            f"{self._name}-pr-artifacts",
            {
                "service": args["service"],
                "stage": args["stage"],
                "purpose": "pr-artifacts",
                "expire_days": settings.get("artifact_expire_days", 3),
                "noncurrent_expire_days": 1,
                # Nothing in it outlives a few days, and no release depends on it.
                "force_destroy": True,
                "tags": self._tags,
            },
            opts=self._child,
        )
        artifacts = (store.bucket_name, store.bucket_arn, None)
        build = self._project("pr-build", args.get("build") or {}, artifacts, stage_variable=False)
        tests = [
            _ref(t["name"], self._project(f"pr-test-{t['name']}", t, artifacts))
            for t in args.get("tests") or []
        ]
        pipeline_args: PullRequestPipelineArgs = {
            "service": args["service"],
            "stage": args["stage"],
            "connection_arn": connection_arn,
            "repository": args.get("repository", ""),
            "branch": args.get("branch", ""),
            "file_paths": list(args.get("file_paths") or []),
            "build": _ref("Build", build),
            "tests": tests,
            "artifact_bucket_name": store.bucket_name,
            "artifact_bucket_arn": store.bucket_arn,
            "tags": self._tags,
        }
        if "events" in settings:
            pipeline_args["events"] = list(settings["events"])
        if "scan" in args:
            # The same thresholds: a pull request fails on what would fail its release.
            pipeline_args["scan"] = args["scan"]
        if "permissions_boundary" in args:
            pipeline_args["permissions_boundary"] = args["permissions_boundary"]
        return PullRequestPipeline(f"{self._name}-pull-requests", pipeline_args, opts=self._child)


@dataclass(frozen=True)
class Builds:
    """The CodeBuild projects of a pipeline apart from verification."""

    build: ProjectRef | None
    package: ProjectRef | None
    tests: Mapping[str, BuildProject]
    describe: ProjectRef | None
    configure: ProjectRef | None = None


def _plain(name: str, value: str) -> BuildVariable:
    return {"name": name, "type": "PLAINTEXT", "value": value}


def _ref(name: str, project: BuildProject) -> ProjectRef:
    return {"name": name, "project_name": project.project_name, "project_arn": project.project_arn}


def _names(projects: Mapping[str, BuildProject]) -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.all(**{k: p.project_name for k, p in projects.items()}).apply(dict)


def _flatten(values: Sequence[str | Sequence[str]]) -> list[str]:
    """Alarm names from config (strings) and from created alarms (lists), in one list."""
    out: list[str] = []
    for value in values:
        out.extend([value] if isinstance(value, str) else value)
    return out
