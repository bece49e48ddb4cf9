"""What a pipeline is to the CLI: how it was found, where its releases come from, what it deploys.

Plain, frozen data: `PipelineRef` (a pipeline found by its tags, or named), and `PipelineLayout`
(its stages, its source, its deploy targets, verification suites, deployment windows, the
location it publishes proven releases to, and its runtime config: the `Configure` action, a
`ReleaseTask` action, the pipeline variables it declares) with the parts they are made of.
`cicd.aws.pipelines` reads them from AWS; nothing here calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from cicd.contract import APPROVAL_STAGE, RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE
from cicd.model.config import RuntimeConfig


@dataclass(frozen=True)
class PipelineRef:
    """A pipeline found by its tags (or named with --pipeline, then service and stage are None).

    `promotes_from` is the `cicd:promotes-from` tag: the stage a promoted pipeline deploys
    releases of (None for a pipeline that builds from GitHub, or when not looked up).
    """

    name: str
    service: str | None = None
    stage: str | None = None
    promotes_from: str | None = None

    def describe(self) -> str:
        if self.service and self.stage:
            return f"{self.name} (service {self.service}, stage {self.stage})"
        return self.name

    def options(self) -> str:
        """How to name this pipeline to cicd again: `--service web --stage prod`, or
        `--pipeline NAME` when its tags are not known."""
        if self.service and self.stage:
            return f"--service {self.service} --stage {self.stage}"
        return f"--pipeline {self.name}"


@dataclass(frozen=True)
class ReleaseLocation:
    """The S3 object whose versions are a stage's published (proven) releases."""

    bucket: str
    key: str

    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class GitHubSource:
    """The GitHub source: which connection, repository and branch the pipeline builds."""

    action_name: str
    connection_arn: str
    repository: str
    branch: str


@dataclass(frozen=True)
class ReleaseSource:
    """The source of a promoted pipeline: the release object another stage publishes."""

    action_name: str
    location: ReleaseLocation


Source = GitHubSource | ReleaseSource


@dataclass(frozen=True)
class DeployTarget:
    """One deploy action of the Deploy stage: a CodeDeploy group or a Lambda function alias."""

    action_name: str
    provider: str
    application: str | None = None
    deployment_group: str | None = None
    function: str | None = None
    alias: str | None = None

    def describe(self) -> str:
        if self.provider == "CodeDeploy":
            return f"CodeDeploy {self.application}/{self.deployment_group}"
        if self.provider == "Lambda":
            alias = f":{self.alias}" if self.alias else ""
            return f"Lambda {self.function}{alias}"
        return f"{self.provider} action {self.action_name}"


@dataclass(frozen=True)
class DeploymentWindow:
    """A stage's DeploymentWindow entry rule: the stage is entered only while `cron` matches."""

    stage: str
    cron: str
    time_zone: str


@dataclass(frozen=True)
class PipelineLayout:
    """The stages of one pipeline and the parts of them the commands act on."""

    name: str
    stages: tuple[str, ...]
    source: Source
    deploy_targets: tuple[DeployTarget, ...]
    verifications: tuple[str, ...] = ()
    publishes_to: ReleaseLocation | None = None
    arn: str | None = None
    windows: tuple[DeploymentWindow, ...] = ()
    # The release topic: the Approve action's NotificationArn (None without one).
    release_topic: str | None = None
    # Runtime config: the Deploy stage's Configure action (None: a stack from before runtime
    # config), whether a ReleaseTask action runs, the pipeline-level variables declared, the
    # execution mode and the artifact bucket (where deploy records are written).
    config: RuntimeConfig | None = None
    release_task: bool = False
    variables: tuple[str, ...] = ()
    execution_mode: str | None = None
    artifact_bucket: str | None = None
    # What a release is watched by (issue 20): the alarms of the Deploy stage's bake rules
    # (CloudWatchAlarm rules of its on-success condition) and of its Lambda deploy actions
    # (`Alarms`); CodeDeploy groups hold theirs in the group, read by `cicd.aws.preflight`.
    watched_alarms: tuple[str, ...] = ()
    # The pipeline's structure version (`get_pipeline`'s `version`): a stage rolls back only to
    # an execution started under the current one. None when AWS did not say.
    version: int | None = None
    # The Approve action's `timeoutInMinutes` (None: not declared, AWS's default applies).
    approval_timeout_minutes: int | None = None
    # Whether the Describe step before the approval computes the approver's evidence (it is
    # given the pipeline and the watched alarms); False for stacks from before issue 20.
    approval_evidence: bool = False

    @property
    def declares_release_variables(self) -> bool:
        """True when `cicd config` can start a release saying what kind it is and why."""
        return {RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE} <= set(self.variables)

    @property
    def has_approval(self) -> bool:
        return APPROVAL_STAGE in self.stages

    @property
    def codedeploy_targets(self) -> tuple[DeployTarget, ...]:
        return tuple(t for t in self.deploy_targets if t.provider == "CodeDeploy")

    def window(self, stage: str) -> DeploymentWindow | None:
        return next((w for w in self.windows if w.stage == stage), None)

    @property
    def promoted(self) -> ReleaseSource | None:
        """The release source when this pipeline is promoted from another stage, else None."""
        return self.source if isinstance(self.source, ReleaseSource) else None

    @property
    def github(self) -> GitHubSource | None:
        """The GitHub source when this pipeline builds from GitHub, else None."""
        return self.source if isinstance(self.source, GitHubSource) else None
