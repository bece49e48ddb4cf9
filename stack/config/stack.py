"""`Settings`, the whole of one stack file: its stage, the stage-wide concerns (`stage`), and
its services (`service`).

`Settings` is what one stack (one environment) declares; its cross-concern checks are in `checks`.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from stack.config.base import (
    NAME_PATTERN,
    REMOVE,
    ExecutionMode,
    Finding,
    Problems,
    _Model,
    _unique_names,
)
from stack.config.checks import Parts, cross_problems
from stack.config.service import ServiceSettings
from stack.config.stage import (
    ArtifactSettings,
    ConnectionSettings,
    DashboardSettings,
    EnvironmentSettings,
    GitHubSettings,
    ReleaseSettings,
    ReportSettings,
    UpstreamSettings,
)


class Settings(_Model):
    """Everything one stack (one environment) declares."""

    stage: Annotated[str, Field(pattern=NAME_PATTERN)]
    connection: ConnectionSettings | None = None
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    environment: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    services: list[ServiceSettings] = Field(min_length=1)
    github: GitHubSettings | None = None
    releases: ReleaseSettings | None = None
    upstreams: dict[Annotated[str, Field(pattern=NAME_PATTERN)], UpstreamSettings] = Field(
        default_factory=dict
    )
    report: ReportSettings | None = None
    dashboard: DashboardSettings | None = None

    @field_validator("services")
    @classmethod
    def _unique_services(cls, services: list[ServiceSettings]) -> list[ServiceSettings]:
        _unique_names("service", [s.name for s in services])
        return services

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        p = cross_problems(
            Parts(
                stage=self.stage,
                environment=self.environment,
                artifacts=self.artifacts,
                services=list(enumerate(self.services)),
                releases=self.releases,
                upstreams=self.upstreams,
                has_connection=self.connection is not None,
            )
        )
        if p:
            raise Problems(p)
        return self

    @model_validator(mode="after")
    def _dashboard_needs_report(self) -> Self:
        if self.dashboard is not None and self.dashboard.enabled and self.report is None:
            why = (
                "the dashboard shows the metrics the delivery reporter publishes, and report "
                "is not set; set report (e.g. report: {github: true}) or remove dashboard"
            )
            raise Problems([Finding(("dashboard",), why, REMOVE)])
        return self

    def execution_mode(self, service: ServiceSettings) -> ExecutionMode:
        """The service's mode, else QUEUED in production (never supersede a release mid-deploy)."""
        if service.execution_mode:
            return service.execution_mode
        return "QUEUED" if self.environment.production else "SUPERSEDED"
