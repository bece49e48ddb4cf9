"""Read a pipeline's structure (`get_pipeline`) into the parts the commands rely on.

A pipeline made by the stacks has one of two sources: it builds from GitHub (a CodeConnections
action) or it is promoted (an S3 action reading the release another stage published). The
source, the deploy targets, the verification suites and the publish location are read from the
pipeline rather than assumed, so the CLI keeps working when a stack adds a deploy target or
renames a CodeDeploy group. Parsing is pure (`parse_layout`); `read_layout` is the one AWS call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.contract import (
    APPROVAL_STAGE,
    DEPLOY_PROVIDERS,
    DEPLOY_STAGE,
    PUBLISH_STAGE,
    RELEASE_SOURCE_PROVIDER,
    SOURCE_PROVIDER,
    SOURCE_STAGE,
    VERIFY_PREFIX,
)
from cicd.errors import NotFound


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


def _source(action: Mapping[str, Any], provider: str) -> Source | None:
    config: Mapping[str, str] = action.get("configuration", {})
    name = str(action["name"])
    if provider == SOURCE_PROVIDER:
        return GitHubSource(
            action_name=name,
            connection_arn=config.get("ConnectionArn", ""),
            repository=config.get("FullRepositoryId", ""),
            branch=config.get("BranchName", ""),
        )
    if provider == RELEASE_SOURCE_PROVIDER and config.get("S3Bucket") and config.get("S3ObjectKey"):
        return ReleaseSource(name, ReleaseLocation(config["S3Bucket"], config["S3ObjectKey"]))
    return None


def _deploy_target(action: Mapping[str, Any], provider: str) -> DeployTarget:
    config: Mapping[str, str] = action.get("configuration", {})
    return DeployTarget(
        action_name=str(action["name"]),
        provider=provider,
        application=config.get("ApplicationName"),
        deployment_group=config.get("DeploymentGroupName"),
        function=config.get("FunctionName"),
        alias=config.get("FunctionAlias"),
    )


def _windows(stage: Mapping[str, Any]) -> list[DeploymentWindow]:
    """The DeploymentWindow rules of a stage's before-entry conditions."""
    found: list[DeploymentWindow] = []
    for condition in stage.get("beforeEntry", {}).get("conditions", []):
        for rule in condition.get("rules", []):
            config: Mapping[str, str] = rule.get("configuration", {})
            if (
                rule.get("ruleTypeId", {}).get("provider") == "DeploymentWindow"
                and "Cron" in config
            ):
                found.append(
                    DeploymentWindow(
                        str(stage["name"]), config["Cron"], config.get("TimeZone", "UTC")
                    )
                )
    return found


def parse_layout(pipeline: Mapping[str, Any], arn: str | None = None) -> PipelineLayout:
    """The layout of a `get_pipeline()["pipeline"]` document.

    Raises NotFound when the `Source` stage has neither a CodeConnections action nor an S3
    release action: such a pipeline was not made by this project, and guessing what to release
    would be unsafe.
    """
    name = str(pipeline["name"])
    stages: list[Mapping[str, Any]] = list(pipeline.get("stages", []))
    source: Source | None = None
    targets: list[DeployTarget] = []
    verifications: list[str] = []
    publishes_to: ReleaseLocation | None = None
    windows = [window for stage in stages for window in _windows(stage)]
    for stage in stages:
        for action in stage.get("actions", []):
            provider = str(action.get("actionTypeId", {}).get("provider", ""))
            config: Mapping[str, str] = action.get("configuration", {})
            if stage["name"] == SOURCE_STAGE and source is None:
                source = _source(action, provider)
            elif stage["name"] == DEPLOY_STAGE and provider in DEPLOY_PROVIDERS:
                targets.append(_deploy_target(action, provider))
            elif stage["name"] == DEPLOY_STAGE and str(action["name"]).startswith(VERIFY_PREFIX):
                verifications.append(str(action["name"]))
            elif (
                stage["name"] == PUBLISH_STAGE
                and provider == RELEASE_SOURCE_PROVIDER
                and config.get("BucketName")
                and config.get("ObjectKey")
            ):
                publishes_to = ReleaseLocation(config["BucketName"], config["ObjectKey"])
    if source is None:
        raise NotFound(
            f"pipeline {name} has neither a {SOURCE_PROVIDER} (GitHub) nor an "
            f"{RELEASE_SOURCE_PROVIDER} release action in a {SOURCE_STAGE} stage, so it was not "
            "created by this project",
            "pass the name of a pipeline created by the gh-aws-delivery stacks",
        )
    return PipelineLayout(
        name=name,
        stages=tuple(str(stage["name"]) for stage in stages),
        source=source,
        deploy_targets=tuple(targets),
        verifications=tuple(verifications),
        publishes_to=publishes_to,
        arn=arn,
        windows=tuple(windows),
    )


def read_layout(codepipeline: BaseClient, name: str) -> PipelineLayout:
    """`get_pipeline` for `name`, parsed; NotFound names the region searched."""
    try:
        response = codepipeline.get_pipeline(name=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "PipelineNotFoundException":
            raise
        raise NotFound(
            f"pipeline {name} not found in {codepipeline.meta.region_name}",
            "check --pipeline and --region, or drop --pipeline to find it by --service/--stage",
        ) from error
    arn = response.get("metadata", {}).get("pipelineArn")
    return parse_layout(response["pipeline"], arn=str(arn) if arn else None)
