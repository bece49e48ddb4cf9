"""The stack-file schema: per-environment settings, parsed and validated before any resource exists.

Defines frozen pydantic models for each concern in a stack file (`connection`, `artifacts`,
`environment`, `services`, `github`) and `load_settings`, which reads them from Pulumi config and
raises one `ConfigError` listing *every* problem: key path, value received, what is allowed, and the
`pulumi config set --path` command that fixes it. It does not declare resources.

Secrets never pass through here as plain values: build variables reference Parameter Store or
Secrets Manager by name/ARN, and a plaintext variable whose name looks like a secret is an error.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,20}[a-z0-9]$"
REPOSITORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
# Names that must never hold a plaintext value; matched against `_`-separated name parts.
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE")

ServerStrategy = Literal[
    "CodeDeployDefault.AllAtOnce", "CodeDeployDefault.HalfAtATime", "CodeDeployDefault.OneAtATime"
]
LambdaStrategy = Literal[
    "CodeDeployDefault.LambdaAllAtOnce",
    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
]
ComputeType = Literal[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]
ExecutionMode = Literal["QUEUED", "SUPERSEDED", "PARALLEL"]


class ConfigError(pulumi.RunError):
    """Invalid stack config. A `RunError`, so Pulumi prints the message without a traceback."""


class _Model(BaseModel):
    # Unknown keys are errors: a typo must never silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Problems(ValueError):
    """Several problems found by one validator, each with its key path below the model."""

    def __init__(self, items: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(msg for _, msg in items))
        self.items = items


def _unique_names(what: str, names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{what} names must be unique; repeated: {duplicates}")


def _no_duplicates(items: list[str]) -> list[str]:
    duplicates = sorted({i for i in items if items.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate entries {duplicates}; each must appear once")
    return items


# Build environment ---------------------------------------------------------------------------


class EnvVar(_Model):
    """One build variable: exactly one of `value` (plaintext), `parameter` or `secret`."""

    value: str | None = None
    parameter: str | None = Field(
        default=None,
        pattern=r"^/?[A-Za-z0-9_.\-/]+$",
        description="SSM Parameter Store name, e.g. /web/prod/api-url",
    )
    secret: str | None = Field(
        default=None,
        description="Secrets Manager secret ARN or name, optionally ':json-key' after it",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("value", "parameter", "secret") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of value, parameter, secret (got {given or 'none'})"
            )
        return self


def _coerce_env(raw: Any) -> Any:
    # `NAME: text` is shorthand for `NAME: {value: text}`, the common plaintext case.
    if isinstance(raw, Mapping):
        return {
            k: ({"value": v} if isinstance(v, str | int | float | bool) else v)
            for k, v in raw.items()
        }
    return raw


def looks_secret(name: str) -> bool:
    """True when a variable name suggests a credential (API_TOKEN, DB_PASSWORD, SIGNING_KEY...)."""
    parts = re.split(r"[_\-]", name.upper())
    # Exact parts catch API_KEY without flagging MONKEY; suffixes catch APITOKEN or DBPASSWORD.
    return any(
        part in SECRET_NAME_PARTS or part.endswith(("TOKEN", "SECRET", "PASSWORD", "CREDENTIALS"))
        for part in parts
    )


class BuildSettings(_Model):
    """A CodeBuild project. Every key is optional; the defaults describe a small Linux build."""

    buildspec: str = "buildspec.yml"
    compute_type: ComputeType = "BUILD_GENERAL1_SMALL"
    image: str = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    environment: dict[str, EnvVar] = Field(default_factory=dict)
    cache: Literal["none", "local", "s3"] = "local"
    timeout_minutes: int = Field(default=30, ge=5, le=2160)
    privileged: bool = False

    @field_validator("environment", mode="before")
    @classmethod
    def _shorthand(cls, raw: Any) -> Any:
        return _coerce_env(raw)

    @field_validator("environment")
    @classmethod
    def _names(cls, env: dict[str, EnvVar]) -> dict[str, EnvVar]:
        # Plaintext secrets are found on the raw config (see `_plaintext_secrets`), so they are
        # reported even when another variable in the same map is invalid.
        problems = []
        for name in env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                problems.append(f"{name!r} is not a valid variable name")
            elif name.startswith("CODEBUILD_"):
                problems.append(f"{name!r} uses the CODEBUILD_ prefix, which AWS reserves")
        if problems:
            raise ValueError("; ".join(problems))
        return env


class TestSuite(BuildSettings):
    """A test suite: its own CodeBuild project, one parallel action in the Test stage."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    buildspec: str = ""  # resolved to buildspec-<name>.yml below
    timeout_minutes: int = Field(default=60, ge=5, le=2160)

    @model_validator(mode="after")
    def _default_buildspec(self) -> Self:
        if not self.buildspec:
            object.__setattr__(self, "buildspec", f"buildspec-{self.name}.yml")
        return self


# Deployment ----------------------------------------------------------------------------------


class TagFilter(_Model):
    key: str = Field(min_length=1, max_length=128)
    value: str = Field(min_length=1, max_length=256)


class LoadBalancer(_Model):
    """The ALB target group a Server deployment group sits behind."""

    target_group: str = Field(min_length=1, max_length=32, description="target group *name*")
    target_group_arn_suffix: str | None = Field(
        default=None,
        pattern=r"^targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$",
        description="for default alarms, e.g. targetgroup/web-prod/73e2d6bc24d8a067",
    )
    load_balancer_arn_suffix: str | None = Field(
        default=None,
        pattern=r"^app/[A-Za-z0-9-]+/[0-9a-f]+$",
        description="for default alarms, e.g. app/web-prod/50dc6c495c0c9188",
    )


class BlueGreen(_Model):
    """Blue/green for Auto Scaling groups: deploy to a green fleet, then shift the ALB to it."""

    green_fleet: Literal["discover_existing", "copy_auto_scaling_group"] = "discover_existing"

    terminate_blue_after_minutes: int = Field(default=60, ge=0, le=2880)
    ready_wait_minutes: int = Field(
        default=0, ge=0, le=2880, description="0: reroute as soon as green is healthy"
    )


class MinimumHealthyHosts(_Model):
    type: Literal["FLEET_PERCENT", "HOST_COUNT"]
    value: int = Field(ge=0)

    @model_validator(mode="after")
    def _percent_range(self) -> Self:
        if self.type == "FLEET_PERCENT" and self.value > 99:
            raise ValueError("FLEET_PERCENT must be 0-99 (100 would never let a host go down)")
        return self


class DeployTarget(_Model):
    """One deployment group (Server) or one function alias (Lambda); one Deploy action each."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    # Server platform
    ec2_tag_filters: list[TagFilter] = Field(default_factory=list)
    autoscaling_groups: list[str] = Field(default_factory=list)
    load_balancer: LoadBalancer | None = None
    blue_green: BlueGreen | None = None
    # Lambda platform
    function_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    alias: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")


class DeploymentWindow(_Model):
    """When prod may be entered: a CodePipeline DeploymentWindow rule (6-7 field cron)."""

    cron: str = Field(description="e.g. '* * 9-15 ? * MON-FRI' = weekdays 09:00-16:00")
    time_zone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        fields = cron.split()
        if len(fields) not in (6, 7):
            raise ValueError(
                "needs 6 or 7 space-separated fields (seconds minutes hours day-of-month month "
                f"day-of-week [year]); got {len(fields)}"
            )
        if fields[0] != "*":
            raise ValueError("the seconds field must be '*'")
        if not all(re.fullmatch(r"[0-9A-Za-z*?/,#LW-]+", f) for f in fields):
            raise ValueError("fields may only contain digits, names, and * ? / , - # L W")
        if "?" not in (fields[3], fields[5]):
            raise ValueError("one of day-of-month or day-of-week must be '?'")
        return cron

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)"
            ) from None
        return zone


class DeploySettings(_Model):
    """How a service is released: platform, targets, traffic strategy and the safety nets."""

    platform: Literal["server", "lambda"]
    strategy: str = Field(
        default="",
        description="a CodeDeployDefault.* name for the platform; empty: all at once",
    )
    minimum_healthy_hosts: MinimumHealthyHosts | None = None
    targets: list[DeployTarget] = Field(min_length=1)
    auto_rollback: bool = True
    alarms: list[str] = Field(default_factory=list, max_length=10)
    default_alarms: bool = False
    rollback_on_alarm: bool = False
    stage_rollback_on_failure: bool = True
    bake_minutes: int = Field(default=0, ge=0, le=1440)
    window: DeploymentWindow | None = None

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, targets: list[DeployTarget]) -> list[DeployTarget]:
        _unique_names("target", [t.name for t in targets])
        return targets

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        p: list[tuple[tuple[str | int, ...], str]] = []
        server_strategies = ServerStrategy.__args__
        lambda_strategies = LambdaStrategy.__args__
        if self.platform == "server":
            if self.minimum_healthy_hosts and self.strategy:
                p.append((("strategy",), "give strategy or minimum_healthy_hosts, not both"))
            if self.strategy and self.strategy not in server_strategies:
                p.append(
                    (("strategy",), f"for platform server use one of {list(server_strategies)}")
                )
            for i, t in enumerate(self.targets):
                at = ("targets", i)
                if not (t.ec2_tag_filters or t.autoscaling_groups):
                    p.append(
                        (at, f"target {t.name!r} needs ec2_tag_filters and/or autoscaling_groups")
                    )
                if t.function_name or t.alias:
                    p.append((at, "function_name and alias are for platform lambda"))
                if t.blue_green and not t.autoscaling_groups:
                    p.append(
                        (
                            (*at, "autoscaling_groups"),
                            "blue_green copies an Auto Scaling group: list one",
                        )
                    )
                if t.blue_green and not t.load_balancer:
                    p.append(
                        (
                            (*at, "load_balancer"),
                            "blue_green shifts traffic: give load_balancer.target_group",
                        )
                    )
                lb = t.load_balancer
                if self.default_alarms and not (
                    lb and lb.target_group_arn_suffix and lb.load_balancer_arn_suffix
                ):
                    p.append(
                        (
                            (*at, "load_balancer"),
                            "default_alarms measures the ALB: give "
                            "load_balancer.target_group_arn_suffix and "
                            "load_balancer.load_balancer_arn_suffix",
                        )
                    )
        else:
            if self.minimum_healthy_hosts:
                p.append((("minimum_healthy_hosts",), "applies to platform server only"))
            if self.strategy and self.strategy not in lambda_strategies:
                p.append(
                    (("strategy",), f"for platform lambda use one of {list(lambda_strategies)}")
                )
            for i, t in enumerate(self.targets):
                if not (t.function_name and t.alias):
                    p.append((("targets", i), f"target {t.name!r} needs function_name and alias"))
                if t.ec2_tag_filters or t.autoscaling_groups or t.blue_green or t.load_balancer:
                    p.append(
                        (
                            ("targets", i),
                            "EC2, Auto Scaling and load balancer keys are for platform server",
                        )
                    )
        watched = bool(self.alarms or self.default_alarms)
        if self.rollback_on_alarm and not watched:
            p.append(
                (
                    ("rollback_on_alarm",),
                    "needs alarms to watch: list names in alarms or set default_alarms: true",
                )
            )
        if self.bake_minutes and not watched:
            p.append(
                (
                    ("bake_minutes",),
                    "watches alarms: list names in alarms or set default_alarms: true",
                )
            )
        if p:
            raise Problems(p)
        return self

    @property
    def resolved_strategy(self) -> str:
        """The deployment config name, with the platform's all-at-once default when empty."""
        if self.strategy:
            return self.strategy
        return (
            "CodeDeployDefault.AllAtOnce"
            if self.platform == "server"
            else "CodeDeployDefault.LambdaAllAtOnce"
        )


# Approval and notifications ------------------------------------------------------------------


class ApprovalSettings(_Model):
    """A manual approval between Test and Deploy, announced on the service's topic."""

    enabled: bool = False
    timeout_minutes: int = Field(default=1440, ge=5, le=10080)
    require_subscriber: bool | None = Field(
        default=None,
        description="true: an approval nobody hears about is a config error; "
        "default: true in production, false elsewhere",
    )


class SlackSettings(_Model):
    workspace_id: str = Field(pattern=r"^[A-Z0-9]{9,11}$", description="AWS Chatbot workspace ID")
    channel_id: str = Field(pattern=r"^[A-Z0-9]{9,11}$", description="Slack channel ID")


class NotificationSettings(_Model):
    emails: Annotated[list[str], AfterValidator(_no_duplicates)] = Field(default_factory=list)
    https: Annotated[list[str], AfterValidator(_no_duplicates)] = Field(default_factory=list)
    slack: SlackSettings | None = None

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        bad = [e for e in emails if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e)]
        if bad:
            raise ValueError(f"not email addresses: {bad}")
        return emails

    @field_validator("https")
    @classmethod
    def _https(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not u.startswith("https://")]
        if bad:
            raise ValueError(f"endpoints must start with https:// (got {bad})")
        return urls

    @property
    def has_subscriber(self) -> bool:
        return bool(self.emails or self.https or self.slack)


# Service and stack ----------------------------------------------------------------------------


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


def cross_problems(
    artifacts: ArtifactSettings | None,
    environment: EnvironmentSettings,
    services: list[tuple[int, ServiceSettings]],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that span concerns: the stage's protection against its artifacts and approvals.

    Takes parts, not `Settings`, so `parse_settings` can still check the parts that are valid
    when other keys are not, and every problem is reported in one round.
    """
    p: list[tuple[tuple[str | int, ...], str]] = []
    for i, service in services:
        if service.unheard_approval(environment.production):
            p.append(
                (
                    ("services", i, "notifications"),
                    "approval is enabled and requires a subscriber (the default in "
                    "production), but notifications has no emails, https or slack: nobody "
                    "would be asked to approve",
                )
            )
    if artifacts is not None and artifacts.force_destroy and environment.protected:
        p.append(
            (
                ("artifacts", "force_destroy"),
                "is true but the environment is protected, and a protected stage keeps its "
                "artifacts; set it to false",
            )
        )
    return p


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


# Reading and reporting -----------------------------------------------------------------------

TOP_LEVEL_KEYS = ("connection", "artifacts", "environment", "services", "github")
TOKEN_KEY = "githubToken"


def parse_settings(
    namespace: str,
    stage: str,
    raw: Mapping[str, Any],
    *,
    github_token: Literal["missing", "plaintext", "secret"] = "missing",
    github_provider_owner: str | None = None,
) -> Settings:
    """Validate raw config values (already JSON-decoded) into `Settings`, or raise `ConfigError`.

    `raw` maps top-level keys (without namespace) to values; keys outside `TOP_LEVEL_KEYS` are
    reported as unknown. `github_token` says how `githubToken` is set (its value never comes
    here); `github_provider_owner` is the pulumi-github provider's `github:owner`, if set.
    Pure: does not touch Pulumi's runtime, so it is easy to test.
    """
    problems: list[str] = []
    problems.extend(
        _github_problems(namespace, raw.get("github"), github_token, github_provider_owner)
    )
    for key in sorted(set(raw) - set(TOP_LEVEL_KEYS)):
        problems.append(
            _problem(
                namespace,
                (key,),
                raw[key],
                f"unknown key; this project reads {', '.join(TOP_LEVEL_KEYS)}",
                f"pulumi config rm {namespace}:{key}",
            )
        )
    problems.extend(_plaintext_secrets(namespace, raw.get("services")))
    data = {k: raw[k] for k in TOP_LEVEL_KEYS if k in raw}
    settings: Settings | None = None
    try:
        settings = Settings.model_validate({"stage": stage, **data})
    except ValidationError as exc:
        for err in exc.errors():
            problems.extend(_describe_all(namespace, err))
        problems.extend(p for p in _partial_cross_problems(namespace, data) if p not in problems)
    if problems or settings is None:
        raise ConfigError(
            f"Stack config for stage {stage!r} has {len(problems)} problem(s); "
            "nothing was deployed:\n" + "\n".join(problems)
        )
    return settings


def _partial_cross_problems(namespace: str, data: Mapping[str, Any]) -> list[str]:
    """`cross_problems` over the parts of an invalid config that are valid on their own."""

    def valid(model: type[_Model], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError:
            return None

    environment = valid(EnvironmentSettings, data.get("environment", {}))
    if environment is None:
        return []
    artifacts = valid(ArtifactSettings, data.get("artifacts", {}))
    raw_services = data.get("services")
    services = [
        (i, service)
        for i, raw in enumerate(raw_services if isinstance(raw_services, list) else [])
        if (service := valid(ServiceSettings, raw)) is not None
    ]
    return [
        _problem(
            namespace,
            loc,
            _dig(data, loc),
            why,
            f"pulumi config set --path '{namespace}:{_path(loc)}' <value>",
        )
        for loc, why in cross_problems(artifacts, environment, services)
    ]


def _github_problems(
    namespace: str, github: Any, token: str, provider_owner: str | None
) -> list[str]:
    """Cross-key problems of the GitHub side that no single model can see."""
    if not isinstance(github, Mapping):
        return []
    found = []
    if github.get("manage_repository", True) and token != "secret":
        found.append(
            _problem(
                namespace,
                ("github", "manage_repository"),
                True,
                f"managing the GitHub repository needs a token in {namespace}:{TOKEN_KEY}, "
                + ("set in plaintext; it must be a secret" if token == "plaintext" else "not set"),
                f"pulumi config set --secret {TOKEN_KEY} (prompts), or set "
                f"github.manage_repository to false",
            )
        )
    repository = github.get("repository")
    if provider_owner and isinstance(repository, str) and "/" in repository:
        owner = repository.split("/", 1)[0]
        if owner.lower() != provider_owner.lower():
            found.append(
                _problem(
                    namespace,
                    ("github", "repository"),
                    repository,
                    f"its owner {owner!r} differs from the GitHub provider's owner "
                    f"{provider_owner!r} (github:owner), so the provider would manage another "
                    "organisation's repository",
                    f"pulumi config set github:owner {owner} (or fix github.repository)",
                )
            )
    return found


def _plaintext_secrets(namespace: str, services: Any) -> list[str]:
    """Problems for build variables whose name looks secret but whose value is plaintext."""
    found = []
    for i, service in enumerate(services if isinstance(services, list) else []):
        if not isinstance(service, Mapping):
            continue
        projects: list[tuple[tuple[str | int, ...], Any]] = [(("build",), service.get("build"))]
        tests = service.get("tests")
        projects += [
            (("tests", j), t) for j, t in enumerate(tests if isinstance(tests, list) else [])
        ]
        for at, project in projects:
            env = project.get("environment") if isinstance(project, Mapping) else None
            for name, value in (env or {}).items() if isinstance(env, Mapping) else ():
                plaintext = not isinstance(value, Mapping) or "value" in value
                if plaintext and looks_secret(str(name)):
                    loc = ("services", i, *at, "environment", name)
                    found.append(
                        _problem(
                            namespace,
                            loc,
                            "(plaintext value hidden)",
                            "looks like a secret but is plaintext; keep it in Secrets Manager or "
                            "Parameter Store and reference it",
                            f"pulumi config set --path '{namespace}:{_path(loc)}.secret' "
                            f"<secret-arn> (and remove .value)",
                        )
                    )
    return found


def load_settings(config: pulumi.Config | None = None) -> Settings:
    """Read this project's keys from the running stack's config and validate them.

    When `config` is omitted, the project's own namespace is used. Values set with `--secret`
    under this project's keys are rejected: secrets belong in Secrets Manager/SSM references.
    """
    from pulumi.runtime import config as runtime_config

    config = config or pulumi.Config()
    namespace = config.name
    token_key = f"{namespace}:{TOKEN_KEY}"
    token: Literal["missing", "plaintext", "secret"] = "missing"
    if runtime_config.get_config(token_key) is not None:
        # The CLI's language host may pass secret keys by environment rather than by API.
        secret = runtime_config.is_config_secret(token_key) or (
            token_key in runtime_config.get_config_secret_keys_env()
        )
        token = "secret" if secret else "plaintext"
    raw: dict[str, Any] = {}
    for key in _keys_in_namespace(namespace):
        text = config.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text)
        except json.JSONDecodeError:
            raw[key] = text
    return parse_settings(
        namespace,
        pulumi.get_stack(),
        raw,
        github_token=token,
        github_provider_owner=pulumi.Config("github").get("owner"),
    )


def _keys_in_namespace(namespace: str) -> list[str]:
    # Pulumi has no public API to list config keys; the runtime map (set by the language host
    # via PULUMI_CONFIG, or by tests) is the only way to see typos such as `servics`.
    from pulumi.runtime import config as runtime_config

    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    # The token is read where it is used (`require_secret`), never into plain settings.
    return sorted(
        k[len(prefix) :]
        for k in everything
        if k.startswith(prefix) and k[len(prefix) :] not in OTHER_KEYS
    )


# Keys in this namespace that other parts of the program read (see `__main__.py`).
OTHER_KEYS: set[str] = {TOKEN_KEY}


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _problem(namespace: str, loc: tuple[Any, ...], received: Any, why: str, fix: str) -> str:
    shown = json.dumps(received, default=str) if received is not _MISSING else "(not set)"
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"  - {namespace}:{_path(loc)}: {why}\n      received: {shown}\n      fix: {fix}"


_MISSING = object()


def _describe_all(namespace: str, err: Any) -> list[str]:
    """One line per problem; a `Problems` error expands into its items, each at its own path."""
    error = (err.get("ctx") or {}).get("error")
    if not isinstance(error, Problems):
        return [_describe(namespace, err)]
    lines = []
    for sub, msg in error.items:
        received = _dig(err.get("input"), sub)
        loc = (*err["loc"], *sub)
        fix = f"pulumi config set --path '{namespace}:{_path(loc)}' <value>"
        lines.append(_problem(namespace, loc, received, msg, fix))
    return lines


def _dig(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        found = (isinstance(value, Mapping) and part in value) or (
            isinstance(part, int) and isinstance(value, list) and part < len(value)
        )
        if not found:
            return _MISSING
        container: Any = value
        value = container[part]
    return value


def _describe(namespace: str, err: Any) -> str:
    loc = tuple(p for p in err["loc"] if p != "stage") or ("stage",)
    kind = err["type"]
    received = err.get("input", _MISSING)
    path = _path(loc)
    if kind == "missing":
        received = _MISSING
        fix = f"pulumi config set --path '{namespace}:{path}' <value>"
        why = "required key is missing"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        why = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
        fix = f"pulumi config rm --path '{namespace}:{path}'"
    else:
        why = err["msg"].removeprefix("Value error, ")
        fix = f"pulumi config set --path '{namespace}:{path}' <{_hint(kind)}>"
    if loc == ("stage",):
        fix = "rename the stack: stack names must be lowercase, e.g. dev, staging, prod"
    return _problem(namespace, loc, received, why, fix)


def _hint(kind: str) -> str:
    return {
        "bool_parsing": "true|false",
        "bool_type": "true|false",
        "int_parsing": "number",
        "int_type": "number",
        "string_type": "text",
        "list_type": "list",
        "literal_error": "one of the allowed values",
        "string_pattern_mismatch": "value matching the pattern",
    }.get(kind, "value")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found by walking `loc` from `Settings`."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
