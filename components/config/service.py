"""One service: where its code comes from and how it is built, tested, approved and deployed."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from components.config.base import (
    NAME_PATTERN,
    REPOSITORY_PATTERN,
    ExecutionMode,
    _Model,
    _unique_names,
)
from components.config.build import BuildSettings, TestSuite
from components.config.deploy import DeploySettings
from components.config.notify import ApprovalSettings, NotificationSettings


class ServiceSettings(_Model):
    """One service: where its code lives and how it is built, tested, approved and deployed."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    repository: Annotated[str, Field(pattern=REPOSITORY_PATTERN, description="GitHub owner/repo")]
    branch: str = Field(min_length=1, max_length=255)
    file_paths: list[str] = Field(default_factory=list, max_length=8)
    execution_mode: ExecutionMode | None = None
    build: BuildSettings = Field(default_factory=BuildSettings)
    tests: list[TestSuite] = Field(default_factory=list, max_length=10)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    deploy: DeploySettings

    @field_validator("tests")
    @classmethod
    def _unique_suites(cls, tests: list[TestSuite]) -> list[TestSuite]:
        # A field validator runs even when sibling keys are invalid, so this is always reported.
        _unique_names("test suite", [t.name for t in tests])
        return tests

    def unheard_approval(self, production: bool) -> bool:
        """True when an approval waits for people nobody notifies, and that is not allowed."""
        required = self.approval.require_subscriber
        if required is None:
            required = production
        return self.approval.enabled and required and not self.notifications.has_subscriber
