"""Delivery metrics from pipeline history: the four DORA measures, per service.

Definitions (docs/cicd.md repeats them; the window is [start, now), by execution start time):

- Deployment frequency: successful production releases (executions that are not rollbacks and
  ended Succeeded) in the window, per day and per week.
- Lead time for changes: for each of those releases, its end minus the start of the FIRST
  execution of the same commit in any environment of the service (builds are the earliest
  trace of a commit CodePipeline keeps: commit times are not in it). Histories of the other
  environments are read back to `LOOKBACK` before the window. Median and 90th percentile.
- Change failure rate: changes are production releases that reached Deploy: Succeeded ones, and
  Failed ones whose failed action is in the Deploy stage (deploy, verification, bake). Failures
  are those Failed ones, plus Succeeded ones followed by a rollback (a rollback execution started
  after the release and before the next change). Releases that failed before Deploy (rejected
  approval, closed window) changed nothing and count in neither. When where an execution
  failed cannot be read, it counts as a failure and is reported as unclassified.
- Time to restore: for each failure, from the failure (a Failed release's end, or the start of
  the rollback that followed a Succeeded one) to the end of the next successful production
  execution of any kind (often the rollback itself). Median.

Computing is pure (`compute`, `first_builds`); reading every page of history back to the window
(and lookback) is `cicd.aws.executions.history_since`, and where a Failed release failed is
`cicd.aws.executions.failed_stage`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from cicd.contract import DEPLOY_STAGE
from cicd.model.metrics import Failure, PublishedMetrics, ServiceMetrics
from cicd.model.release import Release
from cicd.model.status import Unknown

LOOKBACK = timedelta(days=30)


def compute(
    service: str,
    pipeline: str,
    prod: Sequence[Release],
    first_builds: Mapping[str, datetime],
    failed_in: Callable[[Release], str | Unknown | None],
    *,
    start: datetime,
    end: datetime,
) -> ServiceMetrics:
    """The metrics of one service from its production history (any order) in the window.

    `first_builds` maps a commit to the start of its first execution anywhere; `failed_in` says
    in which stage a Failed execution failed (or Unknown).
    """
    ordered = sorted(
        (r for r in prod if r.started is not None and start <= r.started < end),
        key=lambda r: r.started or start,
    )
    succeeded = [r for r in ordered if r.status == "Succeeded" and not r.is_rollback]
    lead_times: list[timedelta] = []
    unknown_commits = 0
    for release in succeeded:
        first = first_builds.get(release.commit or "")
        if first is None or release.updated is None:
            unknown_commits += 1
            continue
        lead_times.append(release.updated - min(first, release.started or first))
    changes: list[tuple[Release, str | None]] = []
    for release in ordered:
        if release.is_rollback:
            continue
        if release.status == "Succeeded":
            changes.append((release, None))
        elif release.status == "Failed":
            stage = failed_in(release)
            if isinstance(stage, Unknown):
                changes.append((release, "unclassified"))
            elif stage == DEPLOY_STAGE:
                changes.append((release, "failed in Deploy"))
    failures: list[Failure] = []
    for index, (release, kind) in enumerate(changes):
        next_change = changes[index + 1][0].started if index + 1 < len(changes) else None
        at: datetime | None = release.updated if kind else None
        if kind is None:
            rollback = next(
                (
                    r
                    for r in ordered
                    if r.is_rollback
                    and r.started is not None
                    and release.started is not None
                    and r.started > release.started
                    and (next_change is None or r.started < next_change)
                ),
                None,
            )
            if rollback is None:
                continue
            kind, at = "followed by a rollback", rollback.started
        if at is None or release.started is None:
            continue
        restored = next(
            (
                r.updated
                for r in ordered
                if r.status == "Succeeded"
                and r.updated is not None
                and r.started is not None
                and r.started > release.started
                and r.updated >= at
            ),
            None,
        )
        failures.append(Failure(release, kind, at, restored))
    return ServiceMetrics(
        service=service,
        pipeline=pipeline,
        start=start,
        end=end,
        releases=len(succeeded),
        lead_times=tuple(lead_times),
        lead_unknown=unknown_commits,
        changes=len(changes),
        failures=tuple(failures),
        executions_read=len(prod),
    )


def first_builds(histories: Sequence[Sequence[Release]]) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for history in histories:
        for release in history:
            if release.commit and release.started and not release.is_rollback:
                known = first.get(release.commit)
                first[release.commit] = min(known, release.started) if known else release.started
    return first


SOURCES = ("auto", "published", "executions")


def use_published(requested: str, published: PublishedMetrics | Unknown | None) -> bool:
    """Whether to show the published metrics: when asked (`published`), or by default (`auto`)
    when the window holds any; never when they could not be read."""
    if requested == "executions" or not isinstance(published, PublishedMetrics):
        return False
    return requested == "published" or published.has_data
