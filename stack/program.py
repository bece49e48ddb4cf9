"""The stack program: validated settings in, one ServicePipeline per service, outputs out.

Defines `declare_stack(settings)`, used by `__main__.py`. Resources shared by every service of a
stage (the GitHub connection, the artifact bucket, the release channel this stage publishes to
and the upstream stages it promotes from) are declared once here and passed in, so a platform
team can serve several services from one stack with one GitHub handshake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi

from components.artifact_store import ArtifactStore
from components.boundary import PermissionsBoundary
from components.build_project import BuildVariable
from components.connection import GitHubConnection
from components.delivery_dashboard import DashboardServiceArgs, DeliveryDashboard
from components.delivery_reporter import (
    DeliveryReporter,
    DeliveryReporterArgs,
    ReportedPipelineArgs,
)
from components.deployment import TargetArgs
from components.github_oidc import GitHubActionsOidc, GitHubActionsOidcArgs
from components.github_repository import GitHubRepositorySettings, RequiredStatusChecks
from components.pipeline import pipeline_physical_name
from components.promotion import RELEASES_OUTPUT, Upstream, UpstreamArgs
from components.pull_requests import status_context
from components.release_channel import ReleaseChannel, ReleaseChannelArgs, release_object_key
from components.release_steps import ReleaseSteps, ReleaseStepsArgs, ReleaseStepsRef
from components.service_pipeline import (
    AlarmTargetArgs,
    BuildArgs,
    DeployArgs,
    NotifyArgs,
    ReleaseChannelRef,
    ReleaseTaskArgs,
    RuntimeConfigSettingsArgs,
    ServicePipeline,
    ServicePipelineArgs,
    VerifySuiteArgs,
)
from stack.config import (
    BuildSettings,
    DeploySettings,
    DeployTarget,
    GitHubSettings,
    ServiceSettings,
    Settings,
)


def build_args(build: BuildSettings) -> BuildArgs:
    variables: list[BuildVariable] = []
    for var_name, var in build.environment.items():
        if var.parameter is not None:
            variables.append({"name": var_name, "type": "PARAMETER_STORE", "value": var.parameter})
        elif var.secret is not None:
            variables.append({"name": var_name, "type": "SECRETS_MANAGER", "value": var.secret})
        else:
            variables.append({"name": var_name, "type": "PLAINTEXT", "value": var.value or ""})
    return {
        "buildspec": build.buildspec,
        "compute_type": build.compute_type,
        "image": build.image,
        "environment": variables,
        "cache": build.cache,
        "timeout_minutes": build.timeout_minutes,
        "privileged": build.privileged,
    }


def alarm_settings(deploy: DeploySettings) -> AlarmTargetArgs:
    """How the default alarms measure: `deploy.alarm_defaults`, as ReleaseAlarms inputs."""
    settings = deploy.alarm_defaults
    measured: AlarmTargetArgs = {"measure": settings.measure}
    if settings.measure == "rate":
        measured["error_rate_percent"] = settings.error_rate_percent
        measured["p99_latency_ms"] = settings.p99_latency_ms
        measured["min_requests"] = settings.min_requests
    if settings.missing_data:
        measured["missing_data"] = dict(settings.missing_data)
    return measured


def analysis_dimensions(target: DeployTarget) -> dict[str, str]:
    """The CloudWatch dimensions an analysis of `target` measures (validated with the config)."""
    if target.function_name and target.alias:
        return {
            "FunctionName": target.function_name,
            "Resource": f"{target.function_name}:{target.alias}",
        }
    lb = target.load_balancer
    assert lb and lb.target_group_arn_suffix and lb.load_balancer_arn_suffix, "validated"
    return {"TargetGroup": lb.target_group_arn_suffix, "LoadBalancer": lb.load_balancer_arn_suffix}


def deploy_args(deploy: DeploySettings) -> DeployArgs:
    targets: list[TargetArgs] = []
    default_alarms: dict[str, AlarmTargetArgs] = {}
    for t in deploy.targets:
        target: TargetArgs = {"name": t.name}
        if t.ec2_tag_filters:
            target["ec2_tag_filters"] = [
                {"key": f.key, "value": f.value} for f in t.ec2_tag_filters
            ]
        if t.autoscaling_groups:
            target["autoscaling_groups"] = list(t.autoscaling_groups)
        if t.load_balancer:
            target["target_group"] = t.load_balancer.target_group
        if t.blue_green:
            target["blue_green"] = {
                "green_fleet": "COPY_AUTO_SCALING_GROUP",
                "terminate_blue_after_minutes": t.blue_green.terminate_blue_after_minutes,
                "ready_wait_minutes": t.blue_green.ready_wait_minutes,
            }
        if t.endpoint:
            target["endpoint"] = t.endpoint
        if t.function_name and t.alias:
            target["function_name"] = t.function_name
            target["alias"] = t.alias
        targets.append(target)
        if deploy.default_alarms:
            measured: AlarmTargetArgs | None = None
            if deploy.platform == "lambda" and t.function_name and t.alias:
                measured = {"function_name": t.function_name, "alias": t.alias}
            elif t.load_balancer and t.load_balancer.target_group_arn_suffix:
                measured = {
                    "target_group_arn_suffix": t.load_balancer.target_group_arn_suffix,
                    "load_balancer_arn_suffix": t.load_balancer.load_balancer_arn_suffix or "",
                }
            if measured is not None:
                measured.update(alarm_settings(deploy))
                default_alarms[t.name] = measured
    args: DeployArgs = {
        "platform": deploy.platform,
        "targets": targets,
        "strategy": deploy.resolved_strategy,
        "auto_rollback": deploy.auto_rollback,
        "alarm_names": list(deploy.alarms),
        "default_alarms": default_alarms,
        "rollback_on_alarm": deploy.rollback_on_alarm,
        "rollback_on_failure": deploy.stage_rollback_on_failure,
        "bake_minutes": deploy.bake_minutes,
    }
    if deploy.minimum_healthy_hosts:
        args["minimum_healthy_hosts"] = {
            "type": deploy.minimum_healthy_hosts.type,
            "value": deploy.minimum_healthy_hosts.value,
        }
        del args["strategy"]
    if deploy.window:
        args["window"] = {"cron": deploy.window.cron, "time_zone": deploy.window.time_zone}
    if deploy.release_task is not None:
        task = deploy.release_task
        release_task: ReleaseTaskArgs = {**build_args(task)}
        if task.vpc is not None:
            release_task["vpc"] = {
                "vpc_id": task.vpc.vpc_id,
                "subnet_ids": list(task.vpc.subnet_ids),
                "security_group_ids": list(task.vpc.security_group_ids),
            }
        args["release_task"] = release_task
    if deploy.traffic is not None:
        traffic = deploy.traffic
        args["traffic"] = {
            "targets": [t.name for t in deploy.traffic_targets],
            "checks_file": traffic.checks_file,
            "every_minutes": traffic.every_minutes,
            "failed_runs": traffic.failed_runs,
            "runtime_version": traffic.runtime_version,
        }
    analysed = deploy.analysed_target
    if deploy.analysis is not None and analysed is not None:
        analysis = deploy.analysis
        args["analysis"] = {
            "dimensions": analysis_dimensions(analysed),
            "metrics": [{"name": m.name, "max": m.max} for m in analysis.metrics],
            "interval_minutes": analysis.interval_minutes,
            "count": analysis.count,
            "failure_limit": analysis.failure_limit,
            "inconclusive_limit": analysis.inconclusive_limit,
            "min_requests": analysis.min_requests,
        }
    verify: list[VerifySuiteArgs] = []
    for suite in deploy.verify:
        verified = deploy.verified_target(suite)
        assert verified is not None, "validated with the config"
        verify.append({"name": suite.name, "target": verified.name, **build_args(suite)})
    if verify:
        args["verify"] = verify
    return args


def service_args(
    settings: Settings,
    service: ServiceSettings,
    shared: Shared,
) -> ServicePipelineArgs:
    """The ServicePipeline inputs for one configured service, sharing what the stage shares."""
    args: ServicePipelineArgs = {
        "service": service.name,
        "stage": settings.stage,
        "artifact_bucket_name": shared.store.bucket_name,
        "artifact_bucket_arn": shared.store.bucket_arn,
        # The plain config value: the pipeline must know at declaration time whether a key exists.
        "artifact_kms_key_arn": settings.artifacts.kms_key_arn,
        "deploy": deploy_args(service.deploy),
        "execution_mode": settings.execution_mode(service),
        "log_retention_days": settings.environment.log_retention_days,
        "protect": settings.environment.protected,
        "permissions_boundary": shared.boundary,
        "release_steps": shared.release_steps,
        "runtime_config": runtime_config_args(settings, service),
    }
    if service.promote_from is not None:
        upstream = shared.upstreams[service.promote_from]
        args["promoted_from"] = {
            "upstream_stage": service.promote_from,
            "bucket_name": upstream.bucket_name,
            "bucket_arn": upstream.bucket_arn,
            "kms_key_arn": upstream.kms_key_arn,
            "upstream_account_id": upstream.account_id,
            "automatic": service.automatic_promotion,
        }
    else:
        assert shared.connection is not None, "validated: GitHub services need a connection"
        args["repository"] = service.repository or ""
        args["branch"] = service.branch or ""
        args["file_paths"] = list(service.file_paths)
        args["connection_arn"] = shared.connection.arn
        args["build"] = build_args(service.build)
        args["tests"] = [{"name": t.name, **build_args(t)} for t in service.tests]
        if service.pull_requests is not None:
            args["pull_requests"] = {
                "events": list(service.pull_requests.events),
                "artifact_expire_days": service.pull_requests.artifact_expire_days,
            }
        if service.scan is not None:
            args["scan"] = {"thresholds": dict(service.scan.thresholds)}
    if shared.channel is not None:
        channel: ReleaseChannelRef = {
            "bucket_name": shared.channel.bucket_name,
            "bucket_arn": shared.channel.bucket_arn,
        }
        if shared.channel_key_arn is not None:
            channel["kms_key_arn"] = shared.channel_key_arn
        args["publish_to"] = channel
    notify = notify_args(service)
    if notify is not None:
        args["notify"] = notify
    if service.approval.enabled:
        args["approval_timeout_minutes"] = service.approval.timeout_minutes
        if service.approval.approvers:
            args["approvers"] = list(service.approval.approvers)
    return args


def runtime_config_args(settings: Settings, service: ServiceSettings) -> RuntimeConfigSettingsArgs:
    """Where the service's configuration lives in this stage, its default path resolved."""
    config: RuntimeConfigSettingsArgs = {"path": service.config_path(settings.stage)}
    if service.runtime_config.kms_key_arn:
        config["kms_key_arn"] = service.runtime_config.kms_key_arn
    return config


def notify_args(service: ServiceSettings) -> NotifyArgs | None:
    if not service.notifications.has_subscriber:
        return None
    notify: NotifyArgs = {
        "email": list(service.notifications.emails),
        "https": list(service.notifications.https),
    }
    if service.notifications.slack:
        notify["slack"] = {
            "workspace_id": service.notifications.slack.workspace_id,
            "channel_id": service.notifications.slack.channel_id,
        }
    return notify


@dataclass(frozen=True)
class Shared:
    """What every service of the stage shares: declared once per stack."""

    store: ArtifactStore
    connection: GitHubConnection | None
    channel: ReleaseChannel | None
    channel_key_arn: pulumi.Output[str] | None
    """The release channel's KMS key when config asks for one (known at declaration time)."""
    upstreams: Mapping[str, Upstream]
    boundary: pulumi.Output[str]
    """The permissions boundary every role of the stage carries."""
    release_steps: ReleaseStepsRef
    """The package and describe projects every pipeline of the stage runs."""


def declare_stack(settings: Settings) -> dict[str, Any]:
    """Declare every resource of the stack; return the values to export."""
    boundary = PermissionsBoundary(
        "boundary", {"stage": settings.stage, "protect": settings.environment.protected}
    ).policy_arn
    store = _artifact_store(settings)
    upstreams = {name: _upstream(settings, name) for name in settings.upstreams}
    # Before the pipelines: prod's describe step asks GitHub with the reporter's token. The
    # dashboard, which shows the pipelines' alarms, comes after them.
    reporter = declare_reporter(settings, boundary)
    shared = Shared(
        store=store,
        connection=_connection(settings),
        channel=(channel := _release_channel(settings, boundary)),
        channel_key_arn=(
            channel.kms_key_arn.apply(lambda arn: arn or "")
            if channel is not None and settings.releases and settings.releases.kms_key
            else None
        ),
        upstreams=upstreams,
        boundary=boundary,
        release_steps=_release_steps(settings, store, boundary, upstreams, reporter),
    )
    services: dict[str, Any] = {}
    chains: dict[str, ServicePipeline] = {}
    for service in settings.services:
        chain = ServicePipeline(service.name, service_args(settings, service, shared))
        chains[service.name] = chain
        services[service.name] = {
            "pipeline_name": chain.pipeline_name,
            "pipeline_url": chain.pipeline_url,
            "source": f"promoted from {service.promote_from}"
            if service.promote_from
            else f"{service.repository}@{service.branch}",
            "build_project": chain.build_project_name,
            "test_projects": chain.test_project_names,
            "verify_projects": chain.verify_project_names,
            "codedeploy_application": chain.application_name,
            "deployment_groups": chain.deployment_group_names,
            "release_topic_arn": chain.topic_arn,
            "approver_role_arn": chain.approver_role_arn,
            "config_path": chain.config_path,
            "config_reader_policy_arn": chain.config_reader_policy_arn,
            "release_task_project": chain.release_task_project_name,
            "pull_request_pipeline": chain.pull_request_pipeline_name,
            "pull_request_status_context": chain.pull_request_status_context,
        }
    outputs: dict[str, Any] = {}
    outputs.update(declare_reporting(settings, reporter, chains))
    if settings.github is not None:
        outputs.update(declare_github_side(settings, settings.github, boundary))
    _required_checks(settings)
    if shared.connection is not None:
        outputs.update(
            connection_arn=shared.connection.arn,
            connection_status=shared.connection.status,
            connection_console_url=shared.connection.console_url,
        )
    if shared.channel is not None and settings.releases is not None:
        outputs[RELEASES_OUTPUT] = {
            "stage": settings.stage,
            "bucket": shared.channel.bucket_name,
            "bucket_arn": shared.channel.bucket_arn,
            "kms_key_arn": shared.channel.kms_key_arn,
            "account": shared.channel.account_id,
            "region": shared.channel.region,
            "consumers": [c.stage for c in settings.releases.consumers],
            "services": [s.name for s in settings.services],
        }
    return {**outputs, "artifact_bucket": shared.store.bucket_name, "services": services}


def _required_checks(settings: Settings) -> None:
    """A ruleset per application repository branch whose pull-request check is required
    (`pull_requests.require_check`; validated to come with a managed GitHub side)."""
    for service in settings.services:
        reviews = service.pull_requests
        if reviews is None or not reviews.require_check:
            continue
        RequiredStatusChecks(
            f"{service.name}-required-checks",
            {
                "repository": service.repository or "",
                "branch": service.branch or "",
                "checks": [status_context(service.name, settings.stage)],
                "github_token": pulumi.Config().require_secret("githubToken"),
            },
        )


def _artifact_store(settings: Settings) -> ArtifactStore:
    return ArtifactStore(
        "artifacts",
        {
            "service": pulumi.get_project(),
            "stage": settings.stage,
            "kms_key_arn": settings.artifacts.kms_key_arn,
            "expire_days": settings.artifacts.expire_days,
            "noncurrent_expire_days": settings.artifacts.noncurrent_expire_days,
            "force_destroy": settings.artifacts.force_destroy,
            "protect": settings.environment.protected,
        },
    )


def _release_steps(
    settings: Settings,
    store: ArtifactStore,
    boundary: pulumi.Output[str],
    upstreams: Mapping[str, Upstream],
    reporter: DeliveryReporter | None,
) -> ReleaseStepsRef:
    """One package, one describe and one configure project for the whole stage, each made only
    when some pipeline runs it: pipelines pass what differs per service as action variables.
    Describe counts the commits an approval adds with the reporter's GitHub token, when the
    stage reports to GitHub; otherwise it asks GitHub anonymously."""
    built = [s for s in settings.services if s.promote_from is None]
    promoted = [s for s in settings.services if s.promote_from is not None]
    args: ReleaseStepsArgs = {
        "service": pulumi.get_project(),
        "stage": settings.stage,
        "artifact_bucket_name": store.bucket_name,
        "artifact_bucket_arn": store.bucket_arn,
        "kms_key_arn": settings.artifacts.kms_key_arn,
        "packaged_pipelines": [pipeline_physical_name(s.name, settings.stage) for s in built],
        # Only an approval of a promoted release shows the manifest.
        "describe": any(s.approval.enabled for s in promoted),
        # Every pipeline pins its configuration first in Deploy.
        "configured_pipelines": [
            pipeline_physical_name(s.name, settings.stage) for s in settings.services
        ],
        "config_paths": [s.config_path(settings.stage) for s in settings.services],
        # Describe and Configure refuse a promoted release tagged rejected where it is published.
        # The approval's evidence: what each promoted pipeline runs now, the upstream's proof
        # (readable only in this account), and the state of the alarms a release is watched by
        # (the defaults are named `{service}-{stage}-*`, components.naming).
        "evidence_pipelines": [
            pipeline_physical_name(s.name, settings.stage) for s in promoted if s.approval.enabled
        ],
        "upstream_pipelines": [
            pipeline_physical_name(s.name, s.promote_from or "")
            for s in promoted
            if s.approval.enabled and _same_account(settings, s.promote_from or "")
        ],
        "watched_alarms": sorted(
            {
                name
                for s in promoted
                if s.approval.enabled
                for name in (f"{s.name}-{settings.stage}-*", *s.deploy.alarms)
            }
        ),
        "release_objects": [
            pulumi.Output.concat(
                upstreams[s.promote_from or ""].bucket_arn, "/", release_object_key(s.name)
            )
            for s in promoted
        ],
        "log_retention_days": settings.environment.log_retention_days,
        "permissions_boundary": boundary,
    }
    report = settings.report
    if args["describe"] and reporter is not None and report is not None and report.github:
        # Reporting to GitHub, the reporter has a secret (made from githubToken, or given).
        args["github_token_secret_arn"] = cast("pulumi.Output[str]", reporter.secret_arn)
        if report.token_kms_key_arn:
            args["github_token_kms_key_arn"] = report.token_kms_key_arn
    return ReleaseSteps("release-steps", args).refs


def _connection(settings: Settings) -> GitHubConnection | None:
    """The stage's GitHub connection, when a service builds from GitHub."""
    connection = settings.connection
    if connection is None:
        return None
    project = pulumi.get_project()
    if connection.arn:
        return GitHubConnection(
            "github",
            {
                "service": project,
                "stage": settings.stage,
                "existing_connection_arn": connection.arn,
            },
        )
    return GitHubConnection(
        "github",
        {
            "service": project,
            "stage": settings.stage,
            "connection_name": connection.name or "",
            "protect": settings.environment.protected,
        },
    )


def _release_channel(settings: Settings, boundary: pulumi.Output[str]) -> ReleaseChannel | None:
    """Where this stage publishes what it proved, when other stages promote from it."""
    releases = settings.releases
    if releases is None:
        return None
    args: ReleaseChannelArgs = {
        "stage": settings.stage,
        "consumers": [
            {"stage": c.stage, "account_id": c.account} if c.account else {"stage": c.stage}
            for c in releases.consumers
        ],
        "keep_days": releases.keep_days,
        "protect": releases.protect,
        "permissions_boundary": boundary,
    }
    if releases.kms_key == "create":
        args["create_kms_key"] = True
    elif releases.kms_key is not None:
        args["kms_key_arn"] = releases.kms_key
    return ReleaseChannel("releases", args)


def _upstream(settings: Settings, name: str) -> Upstream:
    """A stage this stack promotes from: its release location, by stack reference or config."""
    upstream = settings.upstreams[name]
    args: UpstreamArgs = {
        "stage": settings.stage,
        "upstream_stage": name,
        "services": [s.name for s in settings.services if s.promote_from == name],
    }
    if upstream.bucket:
        args["bucket_name"] = upstream.bucket
        if upstream.kms_key_arn:
            args["kms_key_arn"] = upstream.kms_key_arn
    else:
        args["stack_name"] = upstream.stack or (
            f"{pulumi.get_organization()}/{pulumi.get_project()}/{name}"
        )
    if upstream.account:
        args["account_id"] = upstream.account
    return Upstream(f"upstream-{name}", args)


def declare_github_side(
    settings: Settings, github: GitHubSettings, boundary: pulumi.Output[str]
) -> dict[str, Any]:
    """OIDC roles for GitHub Actions and, when managed, the repository's environment/variables."""
    project = pulumi.get_project()
    oidc_args: GitHubActionsOidcArgs = {
        # One pair of roles per stack, shared by all its services: named after the project.
        "service": project,
        "stage": settings.stage,
        "repository": github.repository,
        "managed_services": [s.name for s in settings.services],
        "permissions_boundary": boundary,
    }
    if github.oidc_provider_arn:
        oidc_args["oidc_provider_arn"] = github.oidc_provider_arn
    if github.state_bucket_arn:
        oidc_args["state_bucket_arn"] = github.state_bucket_arn
    if github.state_kms_key_arn:
        oidc_args["state_kms_key_arn"] = github.state_kms_key_arn
    oidc = GitHubActionsOidc("github-actions", oidc_args)
    if github.manage_repository:
        GitHubRepositorySettings(
            "github-repository",
            {
                "repository": github.repository,
                "stage": settings.stage,
                "stack_name": pulumi.get_stack(),
                "preview_role_arn": oidc.preview_role_arn,
                "deploy_role_arn": oidc.deploy_role_arn,
                # Validated as a secret before anything was declared; stays one in state.
                "github_token": pulumi.Config().require_secret("githubToken"),
                "reviewer_user_ids": list(github.reviewers.users),
                "reviewer_team_ids": list(github.reviewers.teams),
                "deploy_branches": list(github.deploy_branches),
                "owns_ruleset": github.owns_ruleset,
            },
        )
    return {
        "github_preview_role_arn": oidc.preview_role_arn,
        "github_deploy_role_arn": oidc.deploy_role_arn,
        "github_oidc_provider_arn": oidc.oidc_provider_arn,
    }


def _same_account(settings: Settings, upstream: str) -> bool:
    """Whether the upstream stage's pipelines are in this stack's account (no `account:` on
    it), where the describe step may read their executions; another account's it cannot."""
    found = settings.upstreams.get(upstream)
    return found is not None and found.account is None


def reported_pipeline(settings: Settings, service: ServiceSettings) -> ReportedPipelineArgs:
    """What the reporter knows of one service's pipeline: its repository (when it builds from
    GitHub) and the first deploy target's endpoint, shown on GitHub as the environment's URL."""
    pipeline: ReportedPipelineArgs = {
        "name": pipeline_physical_name(service.name, settings.stage),
        "service": service.name,
    }
    if service.repository:
        pipeline["repository"] = service.repository
    endpoint = next((t.endpoint for t in service.deploy.targets if t.endpoint), None)
    if endpoint:
        pipeline["environment_url"] = endpoint
    return pipeline


def declare_reporter(settings: Settings, boundary: pulumi.Output[str]) -> DeliveryReporter | None:
    """The delivery reporter (`report:`), when set. It names the pipelines by their physical
    names, so it needs none of them declared first."""
    report = settings.report
    if report is None:
        return None
    project = pulumi.get_project()
    args: DeliveryReporterArgs = {
        "service": project,
        "stage": settings.stage,
        "pipelines": [reported_pipeline(settings, s) for s in settings.services],
        "production": settings.environment.production,
        "log_retention_days": settings.environment.log_retention_days,
        "permissions_boundary": boundary,
    }
    if report.github:
        if report.token_secret_arn:
            args["token_secret_arn"] = report.token_secret_arn
            if report.token_kms_key_arn:
                args["token_kms_key_arn"] = report.token_kms_key_arn
        else:
            # Validated as a secret before anything was declared; stays one in state.
            args["github_token"] = pulumi.Config().require_secret("githubToken")
    return DeliveryReporter("delivery-reporter", args)


def declare_reporting(
    settings: Settings, reporter: DeliveryReporter | None, chains: Mapping[str, ServicePipeline]
) -> dict[str, Any]:
    """The reporter's outputs and the stage's dashboard (`dashboard:`, validated to come with
    `report:`), when set."""
    if reporter is None:
        return {}
    project = pulumi.get_project()
    outputs: dict[str, Any] = {
        "delivery_reporter": {
            "function": reporter.function_name,
            "dead_letter_queue_arn": reporter.queue_arn,
            "alarms": reporter.alarm_names,
        }
    }
    dashboard = settings.dashboard
    if dashboard is not None and dashboard.enabled:
        shown: list[DashboardServiceArgs] = [
            {"name": s.name, "alarm_names": chains[s.name].alarm_names} for s in settings.services
        ]
        board = DeliveryDashboard(
            "delivery-dashboard",
            {
                "service": project,
                "stage": settings.stage,
                "services": shown,
                "log_group_name": reporter.log_group_name,
                "reporter_alarm_names": reporter.alarm_names,
                "releases_shown": dashboard.releases_shown,
            },
        )
        outputs["delivery_dashboard"] = board.dashboard_name
    return outputs
