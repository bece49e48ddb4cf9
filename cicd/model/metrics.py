"""Delivery metrics of one service, and the statistics that summarize them.

Plain, frozen data: `ServiceMetrics` (what `cicd.decide.metrics.compute` measured in a window:
releases, lead times, changes and failures) and `Failure`; `median` and `percentile` summarize
durations. Nothing here reads AWS.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cicd.model.release import Release


@dataclass(frozen=True)
class Failure:
    release: Release
    kind: str  # "failed in Deploy", "followed by a rollback", "unclassified"
    at: datetime
    restored: datetime | None


@dataclass(frozen=True)
class ServiceMetrics:
    service: str
    pipeline: str
    start: datetime
    end: datetime
    releases: int
    lead_times: tuple[timedelta, ...]
    lead_unknown: int
    changes: int
    failures: tuple[Failure, ...]
    executions_read: int
    notes: tuple[str, ...] = field(default=())

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def per_day(self) -> float:
        return self.releases / self.days if self.days else 0.0

    @property
    def failure_rate(self) -> float | None:
        return len(self.failures) / self.changes if self.changes else None

    @property
    def restore_times(self) -> tuple[timedelta, ...]:
        return tuple(f.restored - f.at for f in self.failures if f.restored is not None)


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile (the 0.9 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


@dataclass(frozen=True)
class PublishedMetrics:
    """What a stage's delivery reporter published for one service over a window (CloudWatch
    namespace `Delivery`): counts, and the statistics CloudWatch computed from the samples."""

    service: str
    pipeline: str
    stage: str
    start: datetime
    end: datetime
    started: int
    succeeded: int
    failed: int
    rolled_back: int
    lead_count: int
    lead_median: timedelta | None
    lead_p90: timedelta | None
    restore_count: int
    restore_median: timedelta | None

    @property
    def has_data(self) -> bool:
        return bool(self.started or self.succeeded or self.failed or self.rolled_back)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def per_day(self) -> float:
        return self.succeeded / self.days if self.days else 0.0

    @property
    def changes(self) -> int:
        return self.succeeded + self.failed

    @property
    def failure_rate(self) -> float | None:
        """Failed over finished releases (a rollback is counted apart, not as a failure)."""
        return self.failed / self.changes if self.changes else None
