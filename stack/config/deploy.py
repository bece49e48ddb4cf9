"""How a service is released: platform, targets, strategy, alarms, bake and window.

Defines `DeploySettings` and its parts (targets, load balancer, blue/green, minimum healthy hosts,
deployment window). Problems that need several keys of one deploy block are found here; problems
that span the stack live in `checks`.
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from components.limits import (
    TRAFFIC_ALARMS_PER_TARGET,
    default_alarms_per_target,
    watched_alarms_problem,
)
from components.metric_analysis import KINDS
from components.release_alarms import COUNT_ALARMS, RATE_ALARMS, MissingData
from stack.config.base import (
    NAME_PATTERN,
    REMOVE,
    Finding,
    LambdaStrategy,
    Problems,
    ServerStrategy,
    _Model,
    _unique_names,
)
from stack.config.build import BuildSettings, TestSuite


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

    green_fleet: Literal["copy_auto_scaling_group"] = Field(
        default="copy_auto_scaling_group",
        description="CodeDeploy copies the Auto Scaling group for each release",
    )

    @field_validator("green_fleet", mode="before")
    @classmethod
    def _pipeline_can_name_no_instances(cls, value: object) -> object:
        if value == "discover_existing":
            # CodePipeline's CodeDeploy action passes only ApplicationName and
            # DeploymentGroupName: a pipeline run cannot name the green instances, which
            # DISCOVER_EXISTING needs at CreateDeployment (targetInstances).
            # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeDeploy.html
            raise ValueError(
                "discover_existing needs the green instances named when each deployment is "
                "created, and CodePipeline's CodeDeploy action can only name the application "
                "and deployment group; use copy_auto_scaling_group (the default), which lets "
                "CodeDeploy copy the Auto Scaling group"
            )
        return value

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
    endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="base URL that verification suites send test traffic to",
    )
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


class VerifySuite(TestSuite):
    """A verification suite: after the deploy action, test traffic against the new release.

    Runs as a CodeBuild project (the same settings as a test suite) in the Deploy stage, on the
    release artifact, so every stage verifies the very release it runs with the very test that
    shipped with it. It gets the endpoint of `target` as environment variables.
    """

    target: str | None = Field(
        default=None, description="the deploy target it verifies; default: the only target"
    )
    timeout_minutes: int = Field(default=15, ge=5, le=2160)


class VpcSettings(_Model):
    """Where the release task runs to reach private resources (a database). CodeBuild gives a
    build in a VPC no public IP: the subnets need a NAT gateway or VPC endpoints to reach AWS."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, max_length=16
    )
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, max_length=5
    )


class ReleaseTask(BuildSettings):
    """Runs once per release in Deploy, before the deploy actions, on the release itself: a
    schema migration. A failure deploys nothing and fails the stage."""

    buildspec: str = "buildspec-release.yml"
    timeout_minutes: int = Field(default=30, ge=5, le=2160)
    vpc: VpcSettings | None = None


class AlarmDefaults(_Model):
    """How the alarms `default_alarms` creates measure a release (`components.release_alarms`).

    `rate` (the default): the 5XX share of the target group's requests and their p99 latency
    (server), the error share of the alias's invocations (Lambda), each judged only from
    `min_requests` requests a minute, plus unhealthy hosts and throttles as counts. `count`: the
    absolute counts of before (5XX responses, errors), for a stack that depends on them.
    """

    measure: Literal["rate", "count"] = "rate"
    error_rate_percent: float = Field(
        default=5.0, gt=0, le=100, description="5XX / error share that breaches, in percent"
    )
    p99_latency_ms: int = Field(
        default=1500, ge=1, le=600_000, description="server: p99 response time that breaches"
    )
    min_requests: int = Field(
        default=10,
        ge=1,
        le=1_000_000,
        description="requests a minute below which no share is judged",
    )
    missing_data: dict[str, MissingData] = Field(
        default_factory=dict,
        description="per alarm role: breaching (rate default), notBreaching, ignore, missing",
    )

    @model_validator(mode="after")
    def _known_roles(self) -> Self:
        known = RATE_ALARMS if self.measure == "rate" else COUNT_ALARMS
        unknown = [role for role in self.missing_data if role not in known]
        if unknown:
            raise ValueError(
                f"missing_data names {', '.join(unknown)}, which measure {self.measure!r} does "
                f"not create; its alarms: {', '.join(known)}"
            )
        return self


class TrafficSettings(_Model):
    """Synthetic traffic (`components.synthetic_traffic`): a CloudWatch Synthetics canary per
    target runs the smoke suite's checks on a schedule, and its alarm joins the watched ones."""

    checks_file: str = Field(
        default="templates/smoke/checks.py",
        description="the smoke suite's checks.py, relative to the Pulumi project",
    )
    every_minutes: int = Field(default=1, ge=1, le=60, description="how often the canary runs")
    failed_runs: int = Field(default=2, ge=1, le=5, description="failed runs in a row that alarm")
    runtime_version: str = Field(
        default="syn-python-selenium-14.0", pattern=r"^syn-python-selenium-[0-9]+\.[0-9]+$"
    )
    targets: list[str] = Field(default_factory=list, description="empty: every target")

    @field_validator("checks_file")
    @classmethod
    def _checks_exist(cls, path: str) -> str:
        if not Path(path).is_file():
            raise ValueError(
                f"no file {path!r} (relative to the Pulumi project); copy smoke/checks.py "
                "from the application repository, or point at it"
            )
        return path


class AnalysisMetric(_Model):
    name: Literal["error-rate", "p99-latency", "p99-duration"] = Field(
        description="error-rate (%), p99-latency (server, ms), p99-duration (Lambda, ms)"
    )
    max: float = Field(gt=0, description="the most a measurement may show and still pass")


class AnalysisSettings(_Model):
    """Metric analysis in Deploy (`components.metric_analysis`), after verification: CloudWatch
    measured every `interval_minutes`, `count` times; more than `failure_limit` failures fails
    the stage, more than `inconclusive_limit` intervals without `min_requests` requests fails it
    as inconclusive (never a pass)."""

    target: str | None = Field(default=None, description="default: the only target")
    metrics: list[AnalysisMetric] = Field(min_length=1, max_length=5)
    interval_minutes: int = Field(default=1, ge=1, le=60)
    count: int = Field(default=10, ge=1, le=120)
    failure_limit: int = Field(default=0, ge=0, le=120)
    inconclusive_limit: int = Field(default=1, ge=0, le=120)
    min_requests: int = Field(default=10, ge=1, le=1_000_000)

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, metrics: list[AnalysisMetric]) -> list[AnalysisMetric]:
        _unique_names("analysis metric", [m.name for m in metrics])
        return metrics


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
    alarm_defaults: AlarmDefaults = Field(default_factory=AlarmDefaults)
    rollback_on_alarm: bool = False
    stage_rollback_on_failure: bool = True
    bake_minutes: int = Field(default=0, ge=0, le=1440)
    window: DeploymentWindow | None = None
    verify: list[VerifySuite] = Field(default_factory=list, max_length=10)
    release_task: ReleaseTask | None = None
    traffic: TrafficSettings | None = None
    analysis: AnalysisSettings | None = None

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, targets: list[DeployTarget]) -> list[DeployTarget]:
        _unique_names("target", [t.name for t in targets])
        return targets

    @field_validator("verify")
    @classmethod
    def _unique_verify(cls, suites: list[VerifySuite]) -> list[VerifySuite]:
        _unique_names("verify suite", [s.name for s in suites])
        return suites

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        p = self._server_problems() if self.platform == "server" else self._lambda_problems()
        p += self._alarm_problems() + self._verify_problems() + self._traffic_problems()
        p += self._analysis_problems()
        if p:
            raise Problems(p)
        return self

    def _server_problems(self) -> list[Finding]:
        p: list[Finding] = []
        if self.minimum_healthy_hosts and self.strategy:
            p.append(Finding(("strategy",), "give strategy or minimum_healthy_hosts, not both"))
        if self.strategy and self.strategy not in ServerStrategy.__args__:
            allowed = list(ServerStrategy.__args__)
            p.append(Finding(("strategy",), f"for platform server use one of {allowed}"))
        for i, t in enumerate(self.targets):
            at = ("targets", i)
            if not (t.ec2_tag_filters or t.autoscaling_groups):
                why = f"target {t.name!r} needs ec2_tag_filters and/or autoscaling_groups"
                p.append(Finding(at, why))
            if t.function_name or t.alias:
                p.append(Finding(at, "function_name and alias are for platform lambda"))
            if t.blue_green and not t.autoscaling_groups:
                why = "blue_green copies an Auto Scaling group: list one"
                p.append(Finding((*at, "autoscaling_groups"), why))
            if t.blue_green and not t.load_balancer:
                why = "blue_green shifts traffic: give load_balancer.target_group"
                p.append(Finding((*at, "load_balancer"), why))
            lb = t.load_balancer
            if self.default_alarms and not (
                lb and lb.target_group_arn_suffix and lb.load_balancer_arn_suffix
            ):
                why = (
                    "default_alarms measures the ALB: give load_balancer.target_group_arn_suffix "
                    "and load_balancer.load_balancer_arn_suffix"
                )
                p.append(Finding((*at, "load_balancer"), why))
        return p

    def _lambda_problems(self) -> list[Finding]:
        p: list[Finding] = []
        if self.minimum_healthy_hosts:
            p.append(Finding(("minimum_healthy_hosts",), "applies to platform server only"))
        if self.strategy and self.strategy not in LambdaStrategy.__args__:
            allowed = list(LambdaStrategy.__args__)
            p.append(Finding(("strategy",), f"for platform lambda use one of {allowed}"))
        for i, t in enumerate(self.targets):
            if not (t.function_name and t.alias):
                why = f"target {t.name!r} needs function_name and alias"
                p.append(Finding(("targets", i), why))
            if t.ec2_tag_filters or t.autoscaling_groups or t.blue_green or t.load_balancer:
                why = "EC2, Auto Scaling and load balancer keys are for platform server"
                p.append(Finding(("targets", i), why))
            if t.endpoint:
                why = (
                    "endpoint is for platform server; verification of a Lambda target gets "
                    "FUNCTION_NAME and FUNCTION_ALIAS instead"
                )
                p.append(Finding(("targets", i, "endpoint"), why, REMOVE))
        return p

    @property
    def watched_alarms(self) -> int:
        """How many alarms a release watches: those listed, and those default_alarms creates."""
        created = self.default_alarms_per_target * len(self.targets) if self.default_alarms else 0
        return len(self.alarms) + created + TRAFFIC_ALARMS_PER_TARGET * len(self.traffic_targets)

    @property
    def traffic_targets(self) -> list[DeployTarget]:
        """The targets `traffic` exercises: those it names, or every target."""
        if self.traffic is None:
            return []
        named = set(self.traffic.targets)
        return [t for t in self.targets if not named or t.name in named]

    @property
    def default_alarms_per_target(self) -> int:
        """How many alarms `default_alarms` creates for each target, with `alarm_defaults`."""
        return default_alarms_per_target(self.platform, self.alarm_defaults.measure)

    def _alarm_problems(self) -> list[Finding]:
        p: list[Finding] = []
        watched = self.watched_alarms
        if self.rollback_on_alarm and not watched:
            why = "needs alarms to watch: list names in alarms or set default_alarms: true"
            p.append(Finding(("rollback_on_alarm",), why))
        if self.bake_minutes and not watched:
            why = "watches alarms: list names in alarms or set default_alarms: true"
            p.append(Finding(("bake_minutes",), why))
        targets = len(self.targets) if self.default_alarms else 0
        why = watched_alarms_problem(
            listed=len(self.alarms),
            targets_with_defaults=targets,
            bake=bool(self.bake_minutes),
            per_target=self.default_alarms_per_target,
            traffic_targets=len(self.traffic_targets),
        )
        if why is not None:
            bake_rules = bool(self.bake_minutes) and "stage condition" in why
            p.append(Finding(("bake_minutes",) if bake_rules else ("alarms",), why))
        return p

    def _verify_problems(self) -> list[Finding]:
        p: list[Finding] = []
        names = [t.name for t in self.targets]
        for i, suite in enumerate(self.verify):
            if suite.target is None and len(names) > 1:
                why = f"several targets ({', '.join(names)}): name the one this suite verifies"
                p.append(Finding(("verify", i, "target"), why))
                continue
            target = self.verified_target(suite)
            if target is None:
                why = f"is not a target of this service; targets: {', '.join(names)}"
                p.append(Finding(("verify", i, "target"), why))
            elif self.platform == "server" and not target.endpoint:
                why = (
                    f"verifying target {target.name!r} sends it test traffic: give the target's "
                    "endpoint (its base URL, e.g. https://web.staging.example.com)"
                )
                at = ("targets", names.index(target.name), "endpoint")
                p.append(Finding(at, why))
        return p

    def _traffic_problems(self) -> list[Finding]:
        p: list[Finding] = []
        if self.traffic is None:
            return p
        names = [t.name for t in self.targets]
        for i, name in enumerate(self.traffic.targets):
            if name not in names:
                why = f"is not a target of this service; targets: {', '.join(names)}"
                p.append(Finding(("traffic", "targets", i), why))
        if self.platform == "server":
            for t in self.traffic_targets:
                if not t.endpoint:
                    why = (
                        f"synthetic traffic to target {t.name!r} needs its endpoint (the base URL "
                        "the canary sends the smoke checks to)"
                    )
                    p.append(Finding(("targets", names.index(t.name), "endpoint"), why))
        return p

    @property
    def analysed_target(self) -> DeployTarget | None:
        """The target `analysis` measures: the named one, or the only one; None if unknown."""
        if self.analysis is None:
            return None
        if self.analysis.target is None:
            return self.targets[0] if len(self.targets) == 1 else None
        return next((t for t in self.targets if t.name == self.analysis.target), None)

    def _analysis_problems(self) -> list[Finding]:
        p: list[Finding] = []
        analysis = self.analysis
        if analysis is None:
            return p
        names = [t.name for t in self.targets]
        for i, suite in enumerate(self.verify):
            if suite.name == "analysis":
                why = "the metric analysis runs as action verify-analysis: rename this suite"
                p.append(Finding(("verify", i, "name"), why))
        target = self.analysed_target
        if target is None:
            why = f"name the target it measures; targets: {', '.join(names)}"
            p.append(Finding(("analysis", "target"), why))
            return p
        allowed = list(KINDS[self.platform])
        for i, metric in enumerate(analysis.metrics):
            if metric.name not in allowed:
                why = f"{metric.name!r} is not measured for platform {self.platform}; use {allowed}"
                p.append(Finding(("analysis", "metrics", i, "name"), why))
        lb = target.load_balancer
        if self.platform == "server" and not (
            lb and lb.target_group_arn_suffix and lb.load_balancer_arn_suffix
        ):
            why = (
                "analysis measures the ALB: give load_balancer.target_group_arn_suffix and "
                "load_balancer.load_balancer_arn_suffix"
            )
            p.append(Finding(("targets", names.index(target.name), "load_balancer"), why))
        return p

    def verified_target(self, suite: VerifySuite) -> DeployTarget | None:
        """The target `suite` verifies: the named one, or the only one; None if unknown."""
        if suite.target is None:
            return self.targets[0] if len(self.targets) == 1 else None
        return next((t for t in self.targets if t.name == suite.target), None)

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
