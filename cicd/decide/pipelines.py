"""Which pipeline a command means, from the ones found by their tags: refuse rather than guess.

`choose_pipeline` takes what `cicd.aws.pipelines.find_pipelines` found for a stage (and maybe a
service) and returns the single pipeline, or raises NotFound (nothing matched; the message says
what was expected) or Refused (several services or several pipelines: the user must say which).
Pure: no AWS calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from cicd.contract import TAG_SERVICE, TAG_STAGE, pipeline_name
from cicd.errors import NotFound, Refused
from cicd.model.pipeline import PipelineRef


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
