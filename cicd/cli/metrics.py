"""`cicd metrics`: delivery metrics, the four DORA measures, per service.

parse (`register`, `parse_since`) -> gather (the metrics the stage's reporter published to
CloudWatch, one GetMetricData call; or every page of each service's production history in the
window, the other environments' histories a lookback further, and where Failed releases failed)
-> decide (`cicd.decide.metrics.use_published`, then `compute`, whose docstring defines each
measure) -> print (`cicd.render.metrics`, or `--json`), naming the source used.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from cicd.aws.executions import failed_stage, history_since
from cicd.aws.manifests import with_manifests
from cicd.aws.metrics import read_published
from cicd.aws.partial import attempt
from cicd.aws.pipelines import find_pipelines, read_layout
from cicd.cli.context import Context
from cicd.cli.options import Commands, service_option
from cicd.contract import ENVIRONMENTS
from cicd.decide.metrics import LOOKBACK, SOURCES, compute, first_builds, use_published
from cicd.errors import ExitCode, NotFound
from cicd.model.metrics import PublishedMetrics, ServiceMetrics
from cicd.model.pipeline import PipelineRef
from cicd.model.release import Release
from cicd.model.status import Unknown
from cicd.render.documents import metrics_document, published_metrics_document
from cicd.render.metrics import SOURCE_EXECUTIONS, render_metrics, render_published
from cicd.text import format_time

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


def register(commands: Commands) -> None:
    metrics = commands.add(
        "metrics",
        run_metrics,
        "delivery metrics: frequency, lead time, failure rate, time to restore",
        "Delivery metrics from pipeline history (the four DORA measures): deployment "
        "frequency, lead time for changes, change failure rate and time to restore, for the "
        "production environment of each service.",
        "  cicd metrics\n  cicd metrics --service web --since 90d --json\n",
    )
    metrics.add_argument("-s", "--service", **service_option())
    metrics.add_argument(
        "-e",
        "--stage",
        choices=ENVIRONMENTS,
        default="prod",
        help="the production environment (default: prod)",
    )
    metrics.add_argument(
        "--since",
        type=parse_since,
        default="30d",
        metavar="WHEN",
        help="window start: 30d, 12w, or a date like 2025-04-01 (default: 30d)",
    )
    metrics.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="published: the CloudWatch metrics the stage's reporter publishes; executions: "
        "computed from pipeline history; auto (default): published when the window has any",
    )


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
    results: list[ServiceMetrics | PublishedMetrics] = []
    for prod in prods:
        service = str(prod.service)
        published: PublishedMetrics | Unknown | None = None
        if args.source != "executions":
            published = attempt(
                lambda s=service, p=prod: read_published(
                    ctx.clients.cloudwatch, s, args.stage, p.name, start, end
                )
            )
        if use_published(args.source, published):
            assert isinstance(published, PublishedMetrics)
            results.append(published)
            continue
        computed = service_metrics(
            ctx,
            service,
            prod,
            [r for r in refs if r.service == prod.service and r.stage != args.stage],
            start,
            end,
        )
        why = (
            f"published metrics are {published}"
            if isinstance(published, Unknown)
            else "no published metrics in the window"
            if published is not None
            else None
        )
        results.append(replace(computed, notes=(*computed.notes, why)) if why else computed)
    window = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": round((end - start).total_seconds() / 86400, 2),
        "environment": args.stage,
        "lookbackDays": LOOKBACK.days,
    }
    ctx.emit(
        {
            "window": window,
            "services": [
                published_metrics_document(m)
                if isinstance(m, PublishedMetrics)
                else metrics_document(m)
                for m in results
            ],
        }
    )
    ctx.say(
        f"Delivery metrics of {args.stage}, {format_time(start)} to {format_time(end)} "
        f"({window['days']:g} days; other environments read {LOOKBACK.days} days further back)"
    )
    for m in results:
        if isinstance(m, PublishedMetrics):
            ctx.say("", *render_published(m))
        else:
            lines = render_metrics(m)
            ctx.say("", *lines[:1], SOURCE_EXECUTIONS, *lines[1:])
    computed = [m for m in results if isinstance(m, ServiceMetrics)]
    if computed:
        read = sum(m.executions_read for m in computed)
        ctx.say("", f"Read {read} executions of {len(refs)} pipelines, every page in the window.")
    return ExitCode.OK


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
    prod = with_manifests(
        history_since(codepipeline, prod_layout, start), prod_layout, ctx.manifests
    )
    histories: list[list[Release]] = [prod]
    read = len(prod)
    for ref in others:
        layout = read_layout(codepipeline, ref.name)
        history = with_manifests(
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
        service, prod_layout.name, prod, first_builds(histories), failed_in, start=start, end=end
    )
    notes = (f"where Failed releases failed is {unclassified[0]}",) if unclassified else ()
    return replace(metrics, executions_read=read, notes=notes)
