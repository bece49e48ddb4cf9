"""The stack-wide concerns (connection, artifacts, environment, GitHub) and `Settings`, the whole.

`Settings` is what one stack (one environment) declares; its cross-concern checks are in `checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from components.config.base import (
    NAME_PATTERN,
    REPOSITORY_PATTERN,
    ExecutionMode,
    Problems,
    _Model,
    _unique_names,
)
from components.config.checks import cross_problems
from components.config.service import ServiceSettings


class ConnectionSettings(_Model):
    """The GitHub connection: bring an existing one (`arn`) or create one (`name`)."""

    arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]+$",
    )
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.@_-]{1,32}$")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if bool(self.arn) == bool(self.name):
            raise ValueError(
                "give exactly one of arn (reuse an existing, already authorised connection) or "
                "name (create a new one, then complete the handshake in the console)"
            )
        return self


class ArtifactSettings(_Model):
    force_destroy: bool = False
    expire_days: int = Field(default=30, ge=1, le=3650)
    noncurrent_expire_days: int = Field(default=7, ge=1, le=3650)
    kms_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$"
    )


class EnvironmentSettings(_Model):
    """Stage-wide behaviour. `production: true` switches the safe defaults on."""

    production: bool = False
    protect: bool | None = Field(default=None, description="default: same as production")
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 14

    @property
    def protected(self) -> bool:
        return self.production if self.protect is None else self.protect


class Reviewers(_Model):
    users: list[int] = Field(default_factory=list, max_length=6, description="GitHub user IDs")
    teams: list[int] = Field(default_factory=list, max_length=6, description="GitHub team IDs")


class GitHubSettings(_Model):
    """The infrastructure repository's side: OIDC roles in AWS, environments in GitHub."""

    repository: Annotated[str, Field(pattern=REPOSITORY_PATTERN, description="this repo")]
    manage_repository: bool = Field(
        default=True, description="manage environments, variables, ruleset (needs githubToken)"
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$",
        description="omit in the one stack per account that creates the provider",
    )
    owns_ruleset: bool = False
    reviewers: Reviewers = Field(default_factory=Reviewers)
    deploy_branches: list[str] = Field(default_factory=lambda: ["main"], min_length=1)
    state_bucket_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$")
    state_kms_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$"
    )


class Settings(_Model):
    """Everything one stack (one environment) declares."""

    stage: Annotated[str, Field(pattern=NAME_PATTERN)]
    connection: ConnectionSettings
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    environment: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    services: list[ServiceSettings] = Field(min_length=1)
    github: GitHubSettings | None = None

    @field_validator("services")
    @classmethod
    def _unique_services(cls, services: list[ServiceSettings]) -> list[ServiceSettings]:
        _unique_names("service", [s.name for s in services])
        return services

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        p = cross_problems(self.artifacts, self.environment, list(enumerate(self.services)))
        if p:
            raise Problems(p)
        return self

    def execution_mode(self, service: ServiceSettings) -> ExecutionMode:
        """The service's mode, else QUEUED in production (never supersede a release mid-deploy)."""
        if service.execution_mode:
            return service.execution_mode
        return "QUEUED" if self.environment.production else "SUPERSEDED"
