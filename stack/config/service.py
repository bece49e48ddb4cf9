"""One service: where its release comes from and how it is built, tested, approved and deployed.

A service either builds from GitHub (`repository` and `branch`: Source, Build, Test) or deploys
what another stage proved (`promote_from`: its Source is that stage's published release, and
there is no Build or Test, because the release was built and tested once, upstream).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from stack.config.base import (
    CONFIG_PATH_PATTERN,
    KMS_KEY_ARN_PATTERN,
    NAME_PATTERN,
    REMOVE,
    REPOSITORY_PATTERN,
    ExecutionMode,
    Finding,
    Problems,
    _Model,
    _no_duplicates,
    _unique_names,
)
from stack.config.build import BuildSettings, TestSuite
from stack.config.deploy import DeploySettings
from stack.config.notify import ApprovalSettings, NotificationSettings

# Keys that only a service built from GitHub has: a promoted release carries its own commit and
# was built and tested upstream, so these would silently mean nothing.
GITHUB_ONLY = ("repository", "branch", "file_paths", "build", "tests", "pull_requests", "scan")

PullRequestEvent = Literal["OPEN", "UPDATED", "CLOSED"]
Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
"""Most severe first: InspectorScan's four thresholds, in that order."""


class RuntimeConfigSettings(_Model):
    """Where the service's runtime configuration (config vars) lives in this stage: one
    Parameter Store parameter per variable, `<path>/<NAME>`. Hosts, the function and the
    release task read the versions each release pinned; `cicd config` changes them."""

    path: str | None = Field(
        default=None,
        pattern=CONFIG_PATH_PATTERN,
        description="Parameter Store path, e.g. /web/prod; default: /<service>/<stage>",
    )
    kms_key_arn: str | None = Field(
        default=None,
        pattern=KMS_KEY_ARN_PATTERN,
        description="customer managed key of its SecureStrings; default: aws/ssm",
    )

    @field_validator("path")
    @classmethod
    def _not_reserved(cls, path: str | None) -> str | None:
        # PutParameter: "Parameter names can't be prefixed with "aws" or "ssm" (case-insensitive)".
        if path is not None and path.split("/")[1].lower().startswith(("aws", "ssm")):
            raise ValueError("must not start with aws or ssm, which Parameter Store reserves")
        return path


class PullRequestSettings(_Model):
    """Build and Test on pull requests into the service's branch, in a pipeline of their own
    (`{service}-{stage}-pr`) that has no Deploy and no Publish (docs/pull-requests-and-deploys.md).
    """

    # GitPullRequestFilter.events: "Valid Values: OPEN | UPDATED | CLOSED", 1 to 3 items.
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitPullRequestFilter.html
    events: list[PullRequestEvent] = Field(
        default_factory=lambda: ["OPEN", "UPDATED"],
        min_length=1,
        max_length=3,
        description="pull request events that start a run; default: OPEN and UPDATED",
    )
    artifact_expire_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="days a pull request run's artifacts are kept; default: 3",
    )
    require_check: bool = Field(
        default=False,
        description="a ruleset on `branch` of `repository` requiring the run's commit status "
        "(needs github.manage_repository and githubToken); default: false",
    )

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: list[PullRequestEvent]) -> list[PullRequestEvent]:
        _no_duplicates(list[str](events))
        return events


class ScanSettings(_Model):
    """Amazon Inspector's source code scan (CodePipeline's InspectorScan action) in Build,
    before the build runs: vulnerable dependencies fail the release, and the SBOM it writes
    goes into the release next to release-manifest.json."""

    fail_on: Severity = Field(
        default="high",
        description="fail on one vulnerability of this severity or worse; default: high",
    )

    @property
    def thresholds(self) -> dict[str, int]:
        """The InspectorScan thresholds: 0 (fail on the first) for `fail_on` and worse."""
        worst = SEVERITIES[: SEVERITIES.index(self.fail_on) + 1]
        return dict.fromkeys(list[str](worst), 0)


class ServiceSettings(_Model):
    """One service: where its code lives and how it is built, tested, approved and deployed."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    repository: (
        Annotated[str, Field(pattern=REPOSITORY_PATTERN, description="GitHub owner/repo")] | None
    ) = None
    branch: str | None = Field(
        default=None,
        max_length=255,
        # Plain branch names only: the name reaches a shell command (the release manifest).
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
    )
    file_paths: list[str] = Field(default_factory=list, max_length=8)
    promote_from: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        default=None, description="deploy the releases this stage published instead of building"
    )
    promotion: Literal["automatic", "manual"] | None = Field(
        default=None,
        description="automatic: each release the upstream publishes starts this pipeline; "
        "manual: only `cicd promote` does. Default: automatic",
    )
    execution_mode: ExecutionMode | None = None
    build: BuildSettings = Field(default_factory=BuildSettings)
    tests: list[TestSuite] = Field(default_factory=list, max_length=10)
    pull_requests: PullRequestSettings | None = Field(
        default=None,
        description="run Build and Test on pull requests into `branch`; default: pushes only",
    )
    scan: ScanSettings | None = Field(
        default=None, description="scan the source with Amazon Inspector; default: no scan"
    )
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    runtime_config: RuntimeConfigSettings = Field(default_factory=RuntimeConfigSettings)
    deploy: DeploySettings

    @field_validator("tests")
    @classmethod
    def _unique_suites(cls, tests: list[TestSuite]) -> list[TestSuite]:
        # A field validator runs even when sibling keys are invalid, so this is always reported.
        _unique_names("test suite", [t.name for t in tests])
        return tests

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        p: list[Finding] = []
        if self.promote_from is not None:
            for key in GITHUB_ONLY:
                if key in self.model_fields_set:
                    why = (
                        f"a service promoted from {self.promote_from} deploys the release "
                        f"{self.promote_from} built, tested and proved; {key} belongs there. "
                        "Per-environment values belong to runtime configuration (docs/promotion.md)"
                    )
                    p.append(Finding((key,), why, REMOVE))
        else:
            if self.promotion is not None:
                why = "applies to a service with promote_from; this one builds from GitHub"
                p.append(Finding(("promotion",), why, REMOVE))
            for key in ("repository", "branch"):
                if getattr(self, key) is None:
                    why = (
                        "required key is missing: a service builds from GitHub (repository and "
                        "branch) or deploys another stage's releases (promote_from)"
                    )
                    p.append(Finding((key,), why))
        if p:
            raise Problems(p)
        return self

    @model_validator(mode="after")
    def _parallel_cannot_roll_back(self) -> Self:
        # "For pipelines in PARALLEL mode, stage rollback is not available. Similarly, failure
        # conditions with a rollback result type cannot be added to a PARALLEL mode pipeline."
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html
        if self.execution_mode != "PARALLEL":
            return self
        p: list[Finding] = []
        deploy = self.deploy
        if deploy.stage_rollback_on_failure:
            why = (
                "stage rollback is on (the default), and AWS offers no stage rollback to a "
                "PARALLEL pipeline; set it to false (CodeDeploy's own rollback still applies), or "
                "use execution_mode QUEUED or SUPERSEDED"
            )
            p.append(Finding(("deploy", "stage_rollback_on_failure"), why))
        if deploy.bake_minutes:
            why = (
                "a bake rolls the stage back when an alarm fires, and AWS offers no stage "
                "rollback to a PARALLEL pipeline; set it to 0, or use execution_mode QUEUED or "
                "SUPERSEDED"
            )
            p.append(Finding(("deploy", "bake_minutes"), why))
        if p:
            raise Problems(p)
        return self

    def config_path(self, stage: str) -> str:
        """The Parameter Store path of this service's configuration in `stage`."""
        return self.runtime_config.path or f"/{self.name}/{stage}"

    @property
    def promoted(self) -> bool:
        return self.promote_from is not None

    @property
    def automatic_promotion(self) -> bool:
        """Whether a release the upstream publishes starts this pipeline by itself."""
        return self.promoted and self.promotion != "manual"

    def unheard_approval(self, production: bool) -> bool:
        """True when an approval waits for people nobody notifies, and that is not allowed."""
        required = self.approval.require_subscriber
        if required is None:
            required = production
        return self.approval.enabled and required and not self.notifications.has_subscriber
