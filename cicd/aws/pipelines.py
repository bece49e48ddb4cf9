"""Find the stacks' pipelines and read their structure: the Resource Groups Tagging API and
`get_pipeline`.

Finding: `find_pipelines` pages through every resource tagged with a `cicd:stage` (and a
`cicd:service`) in the account and region, so the CLI needs no list of pipeline names;
`named_pipeline` reads the tags of a pipeline named with `--pipeline`. Choosing one of several
matches is a decision (`cicd.decide.pipelines`).

Reading: a pipeline made by the stacks has one of two sources: it builds from GitHub (a
CodeConnections action) or it is promoted (an S3 action reading the release another stage
published). The source, the deploy targets, the verification suites, the publish location and
the release topic (the approval's NotificationArn) are read from the pipeline rather than
assumed, so the CLI keeps working when a stack adds a deploy target or renames a CodeDeploy
group. So is the runtime config: the path, KMS key and record bucket come from the Deploy
stage's `Configure` action's environment variables, the release variables from the pipeline's
declared `variables`. `parse_layout` reads a `get_pipeline` document (no call); `read_layout` is
the call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.contract import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    CONFIGURE_ACTION,
    DEPLOY_PROVIDERS,
    DEPLOY_STAGE,
    DESCRIBE_ACTION,
    ENVIRONMENTS,
    PUBLISH_STAGE,
    PULL_REQUEST_KIND,
    RELEASE_SOURCE_PROVIDER,
    RELEASE_TASK_ACTION,
    SOURCE_PROVIDER,
    SOURCE_STAGE,
    TAG_PIPELINE_KIND,
    TAG_PROMOTES_FROM,
    TAG_SERVICE,
    TAG_STAGE,
    VERIFY_PREFIX,
)
from cicd.errors import NotFound
from cicd.model.config import RuntimeConfig
from cicd.model.pipeline import (
    DeploymentWindow,
    DeployTarget,
    GitHubSource,
    PipelineLayout,
    PipelineRef,
    ReleaseLocation,
    ReleaseSource,
    Source,
)

# The service-level filter `codepipeline` is the documented `service[:resourceType]` form that
# certainly matches pipelines, whose ARNs carry no resource type (arn:aws:codepipeline:r:a:NAME).
# It also matches webhooks and custom action types, which `_pipeline_name` drops by ARN shape.
RESOURCE_TYPE_FILTERS = ["codepipeline"]


def _pipeline_name(arn: str) -> str | None:
    """The pipeline name in a CodePipeline ARN; None for webhook and action-type ARNs."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "codepipeline":
        return None
    resource = parts[5]
    return None if ":" in resource or "/" in resource else resource


def tag_filters(stage: str | None, service: str | None) -> list[dict[str, Any]]:
    """TagFilters for GetResources: a stage (or any stage) and optionally one service."""
    filters: list[dict[str, Any]] = [
        {"Key": TAG_STAGE, "Values": [stage]} if stage else {"Key": TAG_STAGE}
    ]
    if service:
        filters.append({"Key": TAG_SERVICE, "Values": [service]})
    return filters


def find_pipelines(
    tagging: BaseClient, *, stage: str | None, service: str | None
) -> list[PipelineRef]:
    """Every pipeline tagged with `stage` (any stage when None) and `service` (any when None)."""
    found: list[PipelineRef] = []
    token = ""
    while True:
        request: dict[str, Any] = {
            "TagFilters": tag_filters(stage, service),
            "ResourceTypeFilters": RESOURCE_TYPE_FILTERS,
        }
        if token:
            request["PaginationToken"] = token
        page = tagging.get_resources(**request)
        for mapping in page.get("ResourceTagMappingList", []):
            name = _pipeline_name(mapping["ResourceARN"])
            if name is None:
                continue
            tags = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
            if tags.get(TAG_PIPELINE_KIND) == PULL_REQUEST_KIND:
                # Builds and tests pull requests; it has no releases to list, promote or undo.
                continue
            found.append(
                PipelineRef(
                    name, tags.get(TAG_SERVICE), tags.get(TAG_STAGE), tags.get(TAG_PROMOTES_FROM)
                )
            )
        token = page.get("PaginationToken", "")
        if not token:
            break
    return sorted(found, key=_environment_order)


def _environment_order(ref: PipelineRef) -> tuple[int, str, str]:
    position = ENVIRONMENTS.index(ref.stage) if ref.stage in ENVIRONMENTS else len(ENVIRONMENTS)
    return (position, ref.service or "", ref.name)


def ref_from_tags(name: str, tags: Sequence[Mapping[str, str]]) -> PipelineRef:
    """A `PipelineRef` from `list_tags_for_resource` tags (lower-case `key`/`value`)."""
    by_key = {tag["key"]: tag["value"] for tag in tags}
    return PipelineRef(
        name, by_key.get(TAG_SERVICE), by_key.get(TAG_STAGE), by_key.get(TAG_PROMOTES_FROM)
    )


def named_pipeline(codepipeline: BaseClient, name: str, arn: str | None) -> PipelineRef:
    """The tags of a pipeline named on the command line (one ListTagsForResource call)."""
    if arn is None:
        return PipelineRef(name)
    tags: list[Mapping[str, str]] = []
    request: dict[str, Any] = {"resourceArn": arn}
    while True:
        page = codepipeline.list_tags_for_resource(**request)
        tags.extend(page.get("tags", []))
        if not page.get("nextToken"):
            return ref_from_tags(name, tags)
        request["nextToken"] = page["nextToken"]


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


def _bake_alarms(stage: Mapping[str, Any]) -> list[str]:
    """The AlarmName of each CloudWatchAlarm rule in a stage's on-success conditions."""
    return [
        str(rule["configuration"]["AlarmName"])
        for condition in stage.get("onSuccess", {}).get("conditions", [])
        for rule in condition.get("rules", [])
        if rule.get("ruleTypeId", {}).get("provider") == "CloudWatchAlarm"
        and rule.get("configuration", {}).get("AlarmName")
    ]


def _artifact_bucket(pipeline: Mapping[str, Any]) -> str | None:
    """The S3 artifact store's bucket: `artifactStore`, or the one of `artifactStores` (V2
    pipelines declared with a list of one store are reported either way)."""
    stores = [pipeline.get("artifactStore"), *dict(pipeline.get("artifactStores") or {}).values()]
    return next(
        (str(s["location"]) for s in stores if s and s.get("type") == "S3" and s.get("location")),
        None,
    )


def _environment(action: Mapping[str, Any]) -> dict[str, str]:
    """A CodeBuild action's `EnvironmentVariables`: a JSON list of {name, value, type}."""
    text = action.get("configuration", {}).get("EnvironmentVariables")
    try:
        declared = json.loads(text) if text else []
    except ValueError:
        return {}
    if not isinstance(declared, list):
        return {}
    return {
        str(item["name"]): str(item.get("value", ""))
        for item in declared
        if isinstance(item, dict) and "name" in item
    }


def _runtime_config(action: Mapping[str, Any], artifact_bucket: str | None) -> RuntimeConfig | None:
    """The config path, key and record bucket the Configure action is given; None without a
    CONFIG_PATH (cicd would have to guess where the config lives)."""
    environment = _environment(action)
    path = environment.get("CONFIG_PATH", "").rstrip("/")
    if not path:
        return None
    return RuntimeConfig(
        path=path,
        kms_key_arn=environment.get("CONFIG_KMS_KEY_ARN") or None,
        record_bucket=environment.get("RECORD_BUCKET") or artifact_bucket,
    )


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
    release_topic: str | None = None
    windows = [window for stage in stages for window in _windows(stage)]
    artifact_bucket = _artifact_bucket(pipeline)
    runtime_config: RuntimeConfig | None = None
    release_task = False
    alarms: list[str] = []
    approval_timeout: int | None = None
    evidence = False
    for stage in stages:
        if stage["name"] == DEPLOY_STAGE:
            alarms.extend(_bake_alarms(stage))
        for action in stage.get("actions", []):
            provider = str(action.get("actionTypeId", {}).get("provider", ""))
            config: Mapping[str, str] = action.get("configuration", {})
            if stage["name"] == SOURCE_STAGE and source is None:
                source = _source(action, provider)
            elif stage["name"] == DEPLOY_STAGE and action["name"] == CONFIGURE_ACTION:
                runtime_config = _runtime_config(action, artifact_bucket)
            elif stage["name"] == DEPLOY_STAGE and action["name"] == RELEASE_TASK_ACTION:
                release_task = True
            elif stage["name"] == DEPLOY_STAGE and provider in DEPLOY_PROVIDERS:
                targets.append(_deploy_target(action, provider))
                alarms.extend(a.strip() for a in config.get("Alarms", "").split(",") if a.strip())
            elif stage["name"] == DEPLOY_STAGE and str(action["name"]).startswith(VERIFY_PREFIX):
                verifications.append(str(action["name"]))
            elif (
                stage["name"] == PUBLISH_STAGE
                and provider == RELEASE_SOURCE_PROVIDER
                and config.get("BucketName")
                and config.get("ObjectKey")
            ):
                publishes_to = ReleaseLocation(config["BucketName"], config["ObjectKey"])
            elif stage["name"] == APPROVAL_STAGE and action.get("name") == DESCRIBE_ACTION:
                evidence = "ALARM_NAMES" in _environment(action)
            elif stage["name"] == APPROVAL_STAGE and action.get("name") == APPROVAL_ACTION:
                release_topic = config.get("NotificationArn") or None
                timeout = action.get("timeoutInMinutes")
                approval_timeout = int(timeout) if timeout is not None else None
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
        release_topic=release_topic,
        config=runtime_config,
        release_task=release_task,
        variables=tuple(str(v["name"]) for v in pipeline.get("variables", []) if "name" in v),
        execution_mode=pipeline.get("executionMode"),
        artifact_bucket=artifact_bucket,
        watched_alarms=tuple(dict.fromkeys(alarms)),
        version=int(pipeline["version"]) if pipeline.get("version") is not None else None,
        approval_timeout_minutes=approval_timeout,
        approval_evidence=evidence,
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
