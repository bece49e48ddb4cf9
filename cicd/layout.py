"""Read a pipeline's structure (`get_pipeline`) into the parts the commands rely on.

The source connection and the deploy targets are read from the pipeline rather than assumed, so
the CLI keeps working when a stack adds a deploy target or renames a CodeDeploy group. Parsing is
pure (`parse_layout`); `read_layout` is the one AWS call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.contract import APPROVAL_STAGE, DEPLOY_STAGE, SOURCE_PROVIDER, SOURCE_STAGE
from cicd.errors import NotFound


@dataclass(frozen=True)
class SourceAction:
    """The GitHub source: which connection, repository and branch the pipeline builds."""

    action_name: str
    connection_arn: str
    repository: str
    branch: str


@dataclass(frozen=True)
class DeployTarget:
    """One action of the Deploy stage: a CodeDeploy group or a Lambda function alias."""

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
class PipelineLayout:
    """The stages of one pipeline and the parts of them the commands act on."""

    name: str
    stages: tuple[str, ...]
    source: SourceAction
    deploy_targets: tuple[DeployTarget, ...]

    @property
    def has_approval(self) -> bool:
        return APPROVAL_STAGE in self.stages

    @property
    def codedeploy_targets(self) -> tuple[DeployTarget, ...]:
        return tuple(t for t in self.deploy_targets if t.provider == "CodeDeploy")


def parse_layout(pipeline: Mapping[str, Any]) -> PipelineLayout:
    """The layout of a `get_pipeline()["pipeline"]` document.

    Raises NotFound when the pipeline has no CodeConnections source in a `Source` stage: such a
    pipeline was not made by this project, and guessing what to release would be unsafe.
    """
    name = str(pipeline["name"])
    stages: list[Mapping[str, Any]] = list(pipeline.get("stages", []))
    source: SourceAction | None = None
    targets: list[DeployTarget] = []
    for stage in stages:
        for action in stage.get("actions", []):
            provider = str(action.get("actionTypeId", {}).get("provider", ""))
            config: Mapping[str, str] = action.get("configuration", {})
            if stage["name"] == SOURCE_STAGE and provider == SOURCE_PROVIDER and source is None:
                source = SourceAction(
                    action_name=str(action["name"]),
                    connection_arn=config.get("ConnectionArn", ""),
                    repository=config.get("FullRepositoryId", ""),
                    branch=config.get("BranchName", ""),
                )
            if stage["name"] == DEPLOY_STAGE:
                targets.append(
                    DeployTarget(
                        action_name=str(action["name"]),
                        provider=provider,
                        application=config.get("ApplicationName"),
                        deployment_group=config.get("DeploymentGroupName"),
                        function=config.get("FunctionName"),
                        alias=config.get("FunctionAlias"),
                    )
                )
    if source is None:
        raise NotFound(
            f"pipeline {name} has no {SOURCE_PROVIDER} action in a {SOURCE_STAGE} stage, "
            "so it was not created by this project",
            "pass the name of a pipeline created by the gh-aws-delivery stacks",
        )
    return PipelineLayout(
        name=name,
        stages=tuple(str(stage["name"]) for stage in stages),
        source=source,
        deploy_targets=tuple(targets),
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
    return parse_layout(response["pipeline"])
