"""What one execution ran: its actions, their builds' test totals, and their log lines.

Plain, frozen data: `ActionRun` (one action as CodePipeline ran it, with the build or deployment
behind it), `TestTotals` (one CodeBuild test report's summary), `ExecutionInfo` (everything
`cicd info` shows), `LogLine` and `Stream` (where an action's log is, and how far it was read),
and, for following a running execution, `StageEvent` (a stage reached a status) and `Outcome`
(where following stopped).
`cicd.aws.executions` and `cicd.aws.logs` read them; nothing here calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE, execution_console_url
from cicd.model.config import DeployRecord
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import Release
from cicd.model.scan import ScanSummary
from cicd.model.status import Unknown
from cicd.text import format_duration


@dataclass(frozen=True)
class TestTotals:
    """One CodeBuild test report's summary."""

    report: str
    total: int
    passed: int
    failed: int
    skipped: int

    def describe(self) -> str:
        other = self.total - self.passed - self.failed - self.skipped
        rest = f", {other} other" if other else ""
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped{rest}"


@dataclass(frozen=True)
class ActionRun:
    """One action of the execution as CodePipeline ran it, with what it ran elsewhere."""

    stage: str
    action: str
    status: str
    provider: str
    started: datetime | None = None
    updated: datetime | None = None
    summary: str | None = None
    error: str | None = None
    external_id: str | None = None
    url: str | None = None
    updated_by: str | None = None
    log_stream_arn: str | None = None
    project: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    tests: tuple[TestTotals, ...] | Unknown | None = None
    output_location: tuple[str, str] | None = None
    """(bucket, key) of the action's first output artifact in the artifact store."""

    @property
    def duration(self) -> str:
        if self.started is None or self.updated is None:
            return "-"
        return format_duration(self.updated - self.started)


@dataclass(frozen=True)
class ExecutionInfo:
    """Everything `cicd info` shows about one execution."""

    ref: PipelineRef
    layout: PipelineLayout
    region: str
    release: Release
    status_summary: str | None
    trigger_type: str
    trigger_detail: str | None
    actions: tuple[ActionRun, ...] | Unknown
    builds_unknown: Unknown | None = None
    # Its deploy record (the config it ran with), or why it cannot be read; `record_location`
    # is where it is, None for a pipeline without runtime config (nothing was read).
    record: DeployRecord | str | None = None
    record_location: str | None = None
    # The summary of the SBOM the release carries (a service with `scan:`), None when it has
    # none or was not looked for, or why it cannot be read.
    scan: ScanSummary | str | None = None
    scan_read: bool = False
    """Whether the release was looked at for an SBOM (a promoted release, or a build that ran
    the scan); when False, `scan` None says nothing."""

    @property
    def console_url(self) -> str:
        return execution_console_url(self.region, self.layout.name, self.release.execution_id)

    @property
    def approval(self) -> ActionRun | None:
        if isinstance(self.actions, Unknown):
            return None
        return next(
            (a for a in self.actions if a.stage == APPROVAL_STAGE and a.action == APPROVAL_ACTION),
            None,
        )


@dataclass(frozen=True)
class LogLine:
    action: str
    source: str  # "codebuild", "commands" or "codedeploy"
    message: str
    timestamp: datetime | None = None


@dataclass(frozen=True)
class Stream:
    """Where an action's log is, and how far it was read (`token`, for --tail)."""

    action: str
    source: str
    group: str
    name: str
    token: str | None = None


OutcomeKind = Literal["succeeded", "ended", "timed_out", "awaits_approval", "held_by_window"]


@dataclass(frozen=True)
class StageEvent:
    """A stage of the followed execution reached `status`; `detail` explains failures."""

    stage: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """Where following stopped: the execution's status then, and why following stopped."""

    kind: OutcomeKind
    status: str
    detail: str = ""
    stage: str | None = None
