"""What the release controls act on: a frozen Deploy, a stage condition in progress, a failed
stage to retry, and a published release marked rejected.

Plain, frozen data: `Freeze` (the Deploy stage's inbound transition, as GetPipelineState reports
it), `HeldCondition` (a stage condition an execution waits on), `RetryableStage` and
`Candidate` (a published version named on the command line, with its manifest or why it has
none). A release's rejection (`Rejection`, `RejectedRelease`) is in `cicd.model.release`, beside
the published releases it marks. `cicd.aws` reads them; nothing here calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cicd.model.release import Manifest, PublishedVersion


@dataclass(frozen=True)
class Freeze:
    """The Deploy stage's inbound transition: `frozen` when it is disabled.

    `changed_by` and `changed_at` are who last changed it and when (for an enabled transition:
    who unfroze it); `reason` is the disabled reason (None when enabled).
    """

    frozen: bool
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class HeldCondition:
    """A stage condition in progress for one execution: what `cicd override` overrides."""

    stage: str
    condition_type: str  # BEFORE_ENTRY or ON_SUCCESS
    execution_id: str
    since: datetime | None = None


@dataclass(frozen=True)
class RetryableStage:
    """The stage where the newest execution failed (or was stopped): what `cicd retry` retries."""

    stage: str
    execution_id: str
    status: str


@dataclass(frozen=True)
class Candidate:
    """A published version named on the command line, with its manifest or why it has none."""

    version: PublishedVersion
    manifest: Manifest | None
    problem: str | None = None
