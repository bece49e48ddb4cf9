"""What a promotion's preflight knows and what it found: plain, frozen data.

`PreflightFacts` is what `cicd.aws.preflight` reads about the target pipeline right now (its
watched alarms' states, deployments running in its CodeDeploy groups, executions in progress,
who is subscribed to its release topic, the structure version its live release ran on);
`cicd.decide.preflight` turns them into `Finding`s. Nothing here calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cicd.model.pipeline import DeploymentWindow
from cicd.model.status import Unknown


@dataclass(frozen=True)
class Finding:
    """One reason a promotion would fail (`blocking`) or is less safe than it reads."""

    check: str
    """Which check: window, alarms, deployment, approvers, rollback, rejected, config, release."""
    blocking: bool
    reason: str
    hint: str | None = None
    quiet: bool = False
    """Listed by --preflight only; a plain promote does not warn about it (a first release,
    an approval without a topic: the stack chose that)."""


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    """OK, ALARM or INSUFFICIENT_DATA as CloudWatch says; MISSING when no such alarm exists."""
    reason: str | None = None


@dataclass(frozen=True)
class Subscribers:
    """The release topic's subscriptions: confirmed ones count, PendingConfirmation does not."""

    confirmed: int
    pending: int


@dataclass(frozen=True)
class WindowState:
    """The Deploy stage's window now: open, or when it opens (None: not within a year, or not
    evaluated here)."""

    window: DeploymentWindow
    open: bool
    opens: datetime | None


@dataclass(frozen=True)
class PreflightFacts:
    """What the target looks like now; an `Unknown` where a read was denied."""

    now: datetime
    alarms: tuple[AlarmState, ...] | Unknown = ()
    running_deployments: tuple[str, ...] | Unknown = ()
    """`application/group: deployment id (status)` for each CodeDeploy deployment running."""
    executions_in_progress: tuple[str, ...] = ()
    """Ids of the target's executions that are InProgress (other than none: idle)."""
    subscribers: Subscribers | Unknown | None = None
    """None: the approval has no topic (or there is no approval)."""
    live_execution: str | None = None
    """The newest successful, non-rollback execution: what a rollback would return to."""
    live_version: int | Unknown | None = None
    """The pipeline structure version `live_execution` ran on (None: not known)."""
    earlier: list[Finding] = field(default_factory=list)
    """Refusals of the release-choosing checks (rejected, never published, config), as found."""
