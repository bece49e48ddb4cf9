"""Pulumi components for a GitHub -> AWS delivery chain, one service and one stage per instance.

The public API is what this module exports: the components (each `Component(name, args, opts)`,
with `args` a TypedDict whose optional keys document what happens when omitted) and their
argument types. `ServicePipeline` is the whole chain for one service in one stage; the others
are its parts, usable alone. Type tokens (`delivery:cicd:<Component>`) and child logical names
(`{name}-<role>`) are a contract: a change to either is a breaking change with an alias
(see CHANGELOG.md). Importing this package declares nothing.
"""

from components.approver_policy import ApproverPolicy, ApproverPolicyArgs
from components.approver_role import ApproverRole, ApproverRoleArgs
from components.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.boundary import PermissionsBoundary, PermissionsBoundaryArgs
from components.build_project import (
    BuildProject,
    BuildProjectArgs,
    BuildSettingsArgs,
    BuildVariable,
    ConfigAccessArgs,
    VpcArgs,
)
from components.connection import GitHubConnection, GitHubConnectionArgs
from components.delivery_dashboard import (
    DashboardServiceArgs,
    DeliveryDashboard,
    DeliveryDashboardArgs,
)
from components.delivery_reporter import (
    DeliveryReporter,
    DeliveryReporterArgs,
    ReportedPipelineArgs,
)
from components.deployment import (
    BlueGreenArgs,
    Deployment,
    DeploymentArgs,
    MinimumHealthyHostsArgs,
    TargetArgs,
)
from components.github_oidc import GitHubActionsOidc, GitHubActionsOidcArgs
from components.github_repository import (
    GitHubRepositorySettings,
    GitHubRepositorySettingsArgs,
    RequiredStatusChecks,
    RequiredStatusChecksArgs,
)
from components.pipeline import ConfigureArgs, DeliveryPipeline, DeliveryPipelineArgs, ScanArgs
from components.promotion import PromotionTrigger, PromotionTriggerArgs, Upstream, UpstreamArgs
from components.pull_requests import PullRequestPipeline, PullRequestPipelineArgs
from components.release_alarms import ReleaseAlarms, ReleaseAlarmsArgs
from components.release_channel import ReleaseChannel, ReleaseChannelArgs, ReleaseConsumerArgs
from components.release_notifications import (
    PipelineNotificationRule,
    PipelineNotificationRuleArgs,
    ReleaseNotifications,
    ReleaseNotificationsArgs,
    SlackChannelArgs,
)
from components.release_steps import ReleaseSteps, ReleaseStepsArgs, ReleaseStepsRef
from components.runtime_config import RuntimeConfig, RuntimeConfigArgs
from components.service_pipeline import (
    AlarmTargetArgs,
    DeployArgs,
    NotifyArgs,
    PromotedSourceArgs,
    PullRequestsArgs,
    ReleaseChannelRef,
    ReleaseTaskArgs,
    RuntimeConfigSettingsArgs,
    ServicePipeline,
    ServicePipelineArgs,
    TestSuiteArgs,
    TrafficArgs,
    VerifySuiteArgs,
)
from components.synthetic_traffic import SyntheticTraffic, SyntheticTrafficArgs

__version__ = "2.0.0"

__all__ = [
    "AlarmTargetArgs",
    "ApproverPolicy",
    "ApproverPolicyArgs",
    "ApproverRole",
    "ApproverRoleArgs",
    "ArtifactStore",
    "ArtifactStoreArgs",
    "BlueGreenArgs",
    "BuildProject",
    "BuildProjectArgs",
    "BuildSettingsArgs",
    "BuildVariable",
    "ConfigAccessArgs",
    "ConfigureArgs",
    "DashboardServiceArgs",
    "DeliveryDashboard",
    "DeliveryDashboardArgs",
    "DeliveryPipeline",
    "DeliveryPipelineArgs",
    "DeliveryReporter",
    "DeliveryReporterArgs",
    "DeployArgs",
    "Deployment",
    "DeploymentArgs",
    "GitHubActionsOidc",
    "GitHubActionsOidcArgs",
    "GitHubConnection",
    "GitHubConnectionArgs",
    "GitHubRepositorySettings",
    "GitHubRepositorySettingsArgs",
    "MinimumHealthyHostsArgs",
    "NotifyArgs",
    "PermissionsBoundary",
    "PermissionsBoundaryArgs",
    "PipelineNotificationRule",
    "PipelineNotificationRuleArgs",
    "PromotedSourceArgs",
    "PromotionTrigger",
    "PromotionTriggerArgs",
    "PullRequestPipeline",
    "PullRequestPipelineArgs",
    "PullRequestsArgs",
    "ReleaseAlarms",
    "ReleaseAlarmsArgs",
    "ReleaseChannel",
    "ReleaseChannelArgs",
    "ReleaseChannelRef",
    "ReleaseConsumerArgs",
    "ReleaseNotifications",
    "ReleaseNotificationsArgs",
    "ReleaseSteps",
    "ReleaseStepsArgs",
    "ReleaseStepsRef",
    "ReleaseTaskArgs",
    "ReportedPipelineArgs",
    "RequiredStatusChecks",
    "RequiredStatusChecksArgs",
    "RuntimeConfig",
    "RuntimeConfigArgs",
    "RuntimeConfigSettingsArgs",
    "ScanArgs",
    "ServicePipeline",
    "ServicePipelineArgs",
    "SlackChannelArgs",
    "SyntheticTraffic",
    "SyntheticTrafficArgs",
    "TargetArgs",
    "TestSuiteArgs",
    "TrafficArgs",
    "Upstream",
    "UpstreamArgs",
    "VerifySuiteArgs",
    "VpcArgs",
    "__version__",
]
