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

Computing is pure (`compute`); reading pages every history until the window (and lookback) is
covered (`history_since`) and reads where Failed releases failed (`failed_stage`).
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.client import BaseClient

from cicd.context import Context
from cicd.contract import DEPLOY_STAGE
from cicd.discovery import PipelineRef, find_pipelines
from cicd.errors import ExitCode, NotFound
from cicd.executions import action_runs
from cicd.formatting import format_duration, format_time
from cicd.layout import PipelineLayout, read_layout
from cicd.manifests import Manifests
from cicd.partial import Unknown, attempt
from cicd.releases import PAGE_SIZE, Release, release_from_summary, with_manifest

LOOKBACK = timedelta(days=30)
_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True)
class Since:
    """The window's start: a duration before now, or a date."""

    ago: timedelta | None = None
    date: datetime | None = None

    def start(self, now: datetime) -> datetime:
        return self.date if self.date is not None else now - (self.ago or timedelta())


def parse_since(text: str) -> Since:
    """`30d`, `12w`, `48h`, or an ISO date (`2025-04-01`, UTC): argparse's `type` for --since."""
    match = _SINCE.match(text.strip())
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise argparse.ArgumentTypeError("the window must be longer than 0")
        return Since(ago=amount * _UNITS[match.group(2)])
    try:
        date = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration (30d, 12w, 48h) nor a date (2025-04-01)"
        ) from None
    return Since(date=date if date.tzinfo else date.replace(tzinfo=UTC))


def history_since(
    codepipeline: BaseClient, layout: PipelineLayout, since: datetime
) -> list[Release]:
    """Every execution that started at or after `since`, newest first: all the pages needed."""
    found: list[Release] = []
    request: dict[str, Any] = {"pipelineName": layout.name, "maxResults": PAGE_SIZE}
    while True:
        page = codepipeline.list_pipeline_executions(**request)
        summaries = page.get("pipelineExecutionSummaries", [])
        releases = [release_from_summary(s, layout.source) for s in summaries]
        found += [r for r in releases if r.started is not None and r.started >= since]
        older = any(r.started is not None and r.started < since for r in releases)
        if older or not page.get("nextToken"):
            return found
        request["nextToken"] = page["nextToken"]


def failed_stage(codepipeline: BaseClient, pipeline: str, execution_id: str) -> str | None:
    """The stage of the action that failed in an execution (None if no action failed)."""
    runs = action_runs(codepipeline, pipeline, execution_id)
    return next((r.stage for r in runs if r.status == "Failed"), None)


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


def _first_builds(histories: Sequence[Sequence[Release]]) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for history in histories:
        for release in history:
            if release.commit and release.started and not release.is_rollback:
                known = first.get(release.commit)
                first[release.commit] = min(known, release.started) if known else release.started
    return first


def _with_commits(
    releases: Sequence[Release], layout: PipelineLayout, manifests: Manifests
) -> list[Release]:
    return [with_manifest(r, layout, manifests) for r in releases]


def service_metrics(
    ctx: Context,
    service: str,
    prod_ref: PipelineRef,
    others: Sequence[PipelineRef],
    start: datetime,
    end: datetime,
) -> ServiceMetrics:
    codepipeline = ctx.clients.codepipeline
    prod_layout = read_layout(codepipeline, prod_ref.name)
    prod = _with_commits(
        history_since(codepipeline, prod_layout, start), prod_layout, ctx.manifests
    )
    histories: list[list[Release]] = [prod]
    read = len(prod)
    for ref in others:
        layout = read_layout(codepipeline, ref.name)
        history = _with_commits(
            history_since(codepipeline, layout, start - LOOKBACK), layout, ctx.manifests
        )
        read += len(history)
        histories.append(history)
    unclassified: list[str] = []

    def failed_in(release: Release) -> str | Unknown | None:
        found = attempt(lambda: failed_stage(codepipeline, prod_layout.name, release.execution_id))
        if isinstance(found, Unknown):
            unclassified.append(str(found))
        return found

    metrics = compute(
        service, prod_layout.name, prod, _first_builds(histories), failed_in, start=start, end=end
    )
    notes = (f"where Failed releases failed is {unclassified[0]}",) if unclassified else ()
    return replace(metrics, executions_read=read, notes=notes)


def _seconds(value: timedelta | None) -> int | None:
    return int(value.total_seconds()) if value is not None else None


def metrics_document(m: ServiceMetrics) -> dict[str, Any]:
    kinds = [f.kind for f in m.failures]
    return {
        "service": m.service,
        "pipeline": m.pipeline,
        "executionsRead": m.executions_read,
        "deploymentFrequency": {
            "releases": m.releases,
            "perDay": round(m.per_day, 3),
            "perWeek": round(m.per_day * 7, 3),
        },
        "leadTime": {
            "count": len(m.lead_times),
            "medianSeconds": _seconds(median(m.lead_times)),
            "p90Seconds": _seconds(percentile(m.lead_times, 0.9)),
            "unknownCommits": m.lead_unknown,
        },
        "changeFailureRate": {
            "changes": m.changes,
            "failures": len(m.failures),
            "rate": round(m.failure_rate, 4) if m.failure_rate is not None else None,
            "failedInDeploy": kinds.count("failed in Deploy"),
            "followedByRollback": kinds.count("followed by a rollback"),
            "unclassified": kinds.count("unclassified"),
        },
        "timeToRestore": {
            "count": len(m.restore_times),
            "medianSeconds": _seconds(median(m.restore_times)),
            "notRestored": sum(1 for f in m.failures if f.restored is None),
        },
        "notes": list(m.notes),
    }


def render_metrics(m: ServiceMetrics) -> list[str]:
    lead = median(m.lead_times)
    p90 = percentile(m.lead_times, 0.9)
    unknown = f"; {m.lead_unknown} with an unknown commit" if m.lead_unknown else ""
    rate = m.failure_rate
    kinds = [f.kind for f in m.failures]
    restore = median(m.restore_times)
    open_failures = sum(1 for f in m.failures if f.restored is None)
    lines = [
        f"=== {m.service} ({m.pipeline})",
        f"Deployment frequency:  {m.releases} successful releases: {m.per_day:.2f}/day, "
        f"{m.per_day * 7:.1f}/week",
        "Lead time for changes: "
        + (
            f"median {format_duration(lead)}, 90th percentile {format_duration(p90)}, over "
            f"{len(m.lead_times)} releases{unknown}"
            if lead is not None
            else f"no release to measure{unknown}"
        ),
        "  (from the first build of each commit in any environment: commit times are not "
        "in CodePipeline)",
        "Change failure rate:   "
        + (
            f"{len(m.failures)} of {m.changes} changes ({rate:.0%}): "
            f"{kinds.count('failed in Deploy')} failed in Deploy, "
            f"{kinds.count('followed by a rollback')} followed by a rollback"
            + (f", {kinds.count('unclassified')} unclassified" if "unclassified" in kinds else "")
            if rate is not None
            else "no change reached production"
        ),
        "Time to restore:       "
        + (
            f"median {format_duration(restore)} over {len(m.restore_times)} failures"
            if restore is not None
            else "no failure to restore from"
        )
        + (f"; {open_failures} not restored yet" if open_failures else ""),
    ]
    lines += [f"Note: {note}" for note in m.notes]
    return lines


def run_metrics(args: argparse.Namespace, ctx: Context) -> int:
    end = ctx.now()
    start = args.since.start(end)
    refs = find_pipelines(ctx.clients.tagging, stage=None, service=args.service)
    prods = [r for r in refs if r.stage == args.stage and r.service]
    if not prods:
        scope = f" of service {args.service}" if args.service else ""
        raise NotFound(
            f"no {args.stage} pipeline{scope} in {ctx.clients.region}",
            "check --region, --service and --stage (the production environment)",
        )
    results = [
        service_metrics(
            ctx,
            str(prod.service),
            prod,
            [r for r in refs if r.service == prod.service and r.stage != args.stage],
            start,
            end,
        )
        for prod in prods
    ]
    window = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": round((end - start).total_seconds() / 86400, 2),
        "environment": args.stage,
        "lookbackDays": LOOKBACK.days,
    }
    ctx.emit({"window": window, "services": [metrics_document(m) for m in results]})
    ctx.say(
        f"Delivery metrics of {args.stage}, {format_time(start)} to {format_time(end)} "
        f"({window['days']:g} days; other environments read {LOOKBACK.days} days further back)"
    )
    for m in results:
        ctx.say("", *render_metrics(m))
    read = sum(m.executions_read for m in results)
    ctx.say("", f"Read {read} executions of {len(refs)} pipelines, every page in the window.")
    return ExitCode.OK
