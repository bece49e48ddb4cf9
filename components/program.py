"""The stack program: validated settings in, one ServicePipeline per service, outputs out.

Defines `declare_stack(settings)`, used by `__main__.py`. Resources shared by every service of a
stage (the GitHub connection and the artifact bucket) are declared once here and passed in, so a
platform team can serve several services from one stack with one GitHub handshake.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.artifact_store import ArtifactStore
from components.build_project import BuildVariable
from components.config import (
    BuildSettings,
    DeploySettings,
    GitHubSettings,
    ServiceSettings,
    Settings,
)
from components.connection import GitHubConnection
from components.deployment import TargetArgs
from components.github_oidc import GitHubActionsOidc, GitHubActionsOidcArgs
from components.github_repository import GitHubRepositorySettings
from components.service_pipeline import (
    AlarmTargetArgs,
    BuildArgs,
    DeployArgs,
    NotifyArgs,
    ServicePipeline,
    ServicePipelineArgs,
    TestSuiteArgs,
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
                "green_fleet": "DISCOVER_EXISTING"
                if t.blue_green.green_fleet == "discover_existing"
                else "COPY_AUTO_SCALING_GROUP",
                "terminate_blue_after_minutes": t.blue_green.terminate_blue_after_minutes,
                "ready_wait_minutes": t.blue_green.ready_wait_minutes,
            }
        if t.function_name and t.alias:
            target["function_name"] = t.function_name
            target["alias"] = t.alias
        targets.append(target)
        if deploy.default_alarms:
            if deploy.platform == "lambda" and t.function_name and t.alias:
                default_alarms[t.name] = {"function_name": t.function_name, "alias": t.alias}
            elif t.load_balancer and t.load_balancer.target_group_arn_suffix:
                default_alarms[t.name] = {
                    "target_group_arn_suffix": t.load_balancer.target_group_arn_suffix,
                    "load_balancer_arn_suffix": t.load_balancer.load_balancer_arn_suffix or "",
                }
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
    return args


def service_args(
    settings: Settings,
    service: ServiceSettings,
    connection_arn: pulumi.Input[str],
    store: ArtifactStore,
) -> ServicePipelineArgs:
    """The ServicePipeline inputs for one configured service, sharing connection and bucket."""
    notify: NotifyArgs = {
        "email": list(service.notifications.emails),
        "https": list(service.notifications.https),
    }
    if service.notifications.slack:
        notify["slack"] = {
            "workspace_id": service.notifications.slack.workspace_id,
            "channel_id": service.notifications.slack.channel_id,
        }
    tests: list[TestSuiteArgs] = [{"name": t.name, **build_args(t)} for t in service.tests]
    args: ServicePipelineArgs = {
        "service": service.name,
        "stage": settings.stage,
        "repository": service.repository,
        "branch": service.branch,
        "file_paths": list(service.file_paths),
        "connection_arn": connection_arn,
        "artifact_bucket_name": store.bucket_name,
        "artifact_bucket_arn": store.bucket_arn,
        # The plain config value: the pipeline must know at declaration time whether a key exists.
        "artifact_kms_key_arn": settings.artifacts.kms_key_arn,
        "build": build_args(service.build),
        "tests": tests,
        "deploy": deploy_args(service.deploy),
        "execution_mode": settings.execution_mode(service),
        "log_retention_days": settings.environment.log_retention_days,
        "protect": settings.environment.protected,
    }
    if service.notifications.has_subscriber:
        args["notify"] = notify
    if service.approval.enabled:
        args["approval_timeout_minutes"] = service.approval.timeout_minutes
    return args


def declare_stack(settings: Settings) -> dict[str, Any]:
    """Declare every resource of the stack; return the values to export."""
    project = pulumi.get_project()
    protect = settings.environment.protected
    if settings.connection.arn:
        connection = GitHubConnection(
            "github",
            {
                "service": project,
                "stage": settings.stage,
                "existing_connection_arn": settings.connection.arn,
            },
        )
    else:
        connection = GitHubConnection(
            "github",
            {
                "service": project,
                "stage": settings.stage,
                "connection_name": settings.connection.name or "",
                "protect": protect,
            },
        )
    store = ArtifactStore(
        "artifacts",
        {
            "service": project,
            "stage": settings.stage,
            "kms_key_arn": settings.artifacts.kms_key_arn,
            "expire_days": settings.artifacts.expire_days,
            "noncurrent_expire_days": settings.artifacts.noncurrent_expire_days,
            "force_destroy": settings.artifacts.force_destroy,
            "protect": protect,
        },
    )
    services: dict[str, Any] = {}
    for service in settings.services:
        chain = ServicePipeline(
            service.name, service_args(settings, service, connection.arn, store)
        )
        services[service.name] = {
            "pipeline_name": chain.pipeline_name,
            "pipeline_url": chain.pipeline_url,
            "build_project": chain.build_project_name,
            "test_projects": chain.test_project_names,
            "codedeploy_application": chain.application_name,
            "deployment_groups": chain.deployment_group_names,
            "release_topic_arn": chain.topic_arn,
            "approver_policy_arn": chain.approver_policy_arn,
        }
    outputs: dict[str, Any] = {}
    if settings.github is not None:
        outputs.update(declare_github_side(settings, settings.github))
    return {
        **outputs,
        "connection_arn": connection.arn,
        "connection_status": connection.status,
        "connection_console_url": connection.console_url,
        "artifact_bucket": store.bucket_name,
        "services": services,
    }


def declare_github_side(settings: Settings, github: GitHubSettings) -> dict[str, Any]:
    """OIDC roles for GitHub Actions and, when managed, the repository's environment/variables."""
    project = pulumi.get_project()
    oidc_args: GitHubActionsOidcArgs = {
        # One pair of roles per stack, shared by all its services: named after the project.
        "service": project,
        "stage": settings.stage,
        "repository": github.repository,
        "managed_services": [s.name for s in settings.services],
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
