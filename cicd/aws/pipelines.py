"""Find a service's pipeline in an environment by the tags the stacks put on it.

Uses the Resource Groups Tagging API (one call pages through every tagged resource of the
account and region), so the CLI needs no list of pipeline names. `--pipeline NAME` bypasses all
of this. Choosing between several matches is a pure function (`choose_pipeline`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

from cicd.contract import ENVIRONMENTS, TAG_PROMOTES_FROM, TAG_SERVICE, TAG_STAGE, pipeline_name
from cicd.errors import NotFound, Refused

# The service-level filter `codepipeline` is the documented `service[:resourceType]` form that
# certainly matches pipelines, whose ARNs carry no resource type (arn:aws:codepipeline:r:a:NAME).
# It also matches webhooks and custom action types, which `_pipeline_name` drops by ARN shape.
RESOURCE_TYPE_FILTERS = ["codepipeline"]


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


def services_of(refs: Sequence[PipelineRef]) -> list[str]:
    return sorted({ref.service for ref in refs if ref.service})


def require_single_service(
    refs: Sequence[PipelineRef], *, stage: str | None, service: str | None
) -> None:
    """Refuse to guess between services: the user must say which one with --service."""
    services = services_of(refs)
    if service is None and len(services) > 1:
        where = f"stage {stage}" if stage else "this account and region"
        raise Refused(
            f"{where} has pipelines for several services: {', '.join(services)}",
            f"choose one with --service (for example --service {services[0]})",
        )


def choose_pipeline(
    refs: Sequence[PipelineRef], *, stage: str, service: str | None, region: str
) -> PipelineRef:
    """The single pipeline of `service` in `stage`; refuses or fails with what was found."""
    if not refs:
        expected = pipeline_name(service, stage) if service else f"SERVICE-{stage}-pipeline"
        raise NotFound(
            f"no pipeline tagged {TAG_STAGE}={stage}"
            + (f" and {TAG_SERVICE}={service}" if service else "")
            + f" in {region} (expected a pipeline like {expected})",
            "check --region and --service, or name the pipeline with --pipeline NAME",
        )
    require_single_service(refs, stage=stage, service=service)
    if len(refs) > 1:
        names = ", ".join(ref.name for ref in refs)
        raise Refused(
            f"several pipelines are tagged {TAG_STAGE}={stage} for one service: {names}",
            "name the one you mean with --pipeline NAME",
        )
    return refs[0]


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


def locate_pipeline(
    tagging: BaseClient, *, stage: str, service: str | None, region: str
) -> PipelineRef:
    """Find and choose the pipeline of `service` (or the only service) in `stage`.

    When a named service has no pipeline, the NotFound message lists the services the stage does
    have, which turns a typo into a one-glance fix.
    """
    refs = find_pipelines(tagging, stage=stage, service=service)
    if not refs and service is not None:
        others = services_of(find_pipelines(tagging, stage=stage, service=None))
        if others:
            raise NotFound(
                f"no pipeline for service {service} in stage {stage} ({region})",
                f"services with a pipeline in {stage}: {', '.join(others)}",
            )
    return choose_pipeline(refs, stage=stage, service=service, region=region)
