"""One function per subcommand: find the pipeline, call the modules that do the work, print.

Each `run_*` takes the parsed arguments and a `Context` (clients, streams, clock, sleep) and
returns an exit code or raises a `CicdError`. Parsing arguments and turning errors into messages
is `cli`'s job; deciding what to release or roll back is the job of the modules called here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from cicd import approvals, progress, rollback
from cicd.aws import Clients
from cicd.contract import ENVIRONMENTS
from cicd.discovery import (
    PipelineRef,
    find_pipelines,
    locate_pipeline,
    require_single_service,
)
from cicd.errors import ExitCode, NotFound, Refused, UsageError
from cicd.formatting import format_duration, format_time, short_id, short_sha, table, truncate
from cicd.layout import PipelineLayout, read_layout
from cicd.releases import (
    HISTORY_DEPTH,
    Release,
    get_release,
    promotion_commit,
    recent_releases,
    resolve_commit,
    resolve_execution,
    start_release,
    validate_commit,
)
from cicd.status import gather_status, render_status

_UUID_LENGTH = 36


@dataclass(frozen=True)
class Context:
    """What a command may touch besides its arguments; tests replace every part."""

    clients: Clients
    out: TextIO
    stdin: TextIO
    sleep: progress.Sleep
    now: Callable[[], datetime]

    def say(self, *lines: str) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()


def _stage_or_usage(args: argparse.Namespace) -> str:
    stage: str | None = args.stage
    if stage is None:
        raise UsageError(
            "which environment? pass --stage "
            + "|".join(ENVIRONMENTS)
            + " (or set CICD_STAGE), or name the pipeline with --pipeline NAME"
        )
    return stage


def _pipeline(args: argparse.Namespace, ctx: Context) -> tuple[PipelineRef, PipelineLayout]:
    if args.pipeline:
        ref = PipelineRef(args.pipeline)
    else:
        ref = locate_pipeline(
            ctx.clients.tagging,
            stage=_stage_or_usage(args),
            service=args.service,
            region=ctx.clients.region,
        )
    return ref, read_layout(ctx.clients.codepipeline, ref.name)


def _follow(args: argparse.Namespace, ctx: Context, pipeline: str, execution_id: str) -> int:
    if args.wait:
        progress.follow(
            ctx.clients.codepipeline,
            pipeline,
            execution_id,
            out=ctx.out,
            sleep=ctx.sleep,
            interval=args.interval,
            timeout=args.timeout,
        )
    else:
        ctx.say("Not following it: check on it with `cicd status`, or pass --wait to follow.")
    return ExitCode.OK


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    if args.pipeline or args.stage:
        ref, layout = _pipeline(args, ctx)
        ctx.say(*render_status(gather_status(ctx.clients, ref, layout)))
        return ExitCode.OK
    refs = find_pipelines(ctx.clients.tagging, stage=None, service=args.service)
    if not refs:
        scope = f" for service {args.service}" if args.service else ""
        raise NotFound(
            f"no pipeline tagged with a cicd stage{scope} in {ctx.clients.region}",
            "check --region (and --service), or name the pipeline with --pipeline NAME",
        )
    require_single_service(refs, stage=None, service=args.service)
    for index, ref in enumerate(refs):
        layout = read_layout(ctx.clients.codepipeline, ref.name)
        ctx.say(*([""] if index else []), *render_status(gather_status(ctx.clients, ref, layout)))
    return ExitCode.OK


def _release_json(release: Release, now: datetime) -> dict[str, object]:
    duration = release.duration(now)
    return {
        "executionId": release.execution_id,
        "status": release.status,
        "commit": release.commit,
        "message": release.message,
        "trigger": release.trigger,
        "startTime": release.started.isoformat() if release.started else None,
        "lastUpdateTime": release.updated.isoformat() if release.updated else None,
        "durationSeconds": int(duration.total_seconds()) if duration is not None else None,
        "rollbackTarget": release.rollback_target,
    }


def release_rows(releases: Sequence[Release], now: datetime) -> list[str]:
    rows = [
        [
            short_id(r.execution_id),
            r.status,
            short_sha(r.commit),
            truncate(r.message or "-", 50),
            r.trigger,
            format_time(r.started),
            format_duration(r.duration(now)),
        ]
        for r in releases
    ]
    header = ["ID", "STATUS", "COMMIT", "MESSAGE", "TRIGGER", "STARTED", "DURATION"]
    return table(header, rows)


def run_releases(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = _pipeline(args, ctx)
    releases = recent_releases(ctx.clients.codepipeline, layout, args.limit)
    now = ctx.now()
    if args.json:
        ctx.say(json.dumps([_release_json(r, now) for r in releases], indent=2))
        return ExitCode.OK
    ctx.say(f"=== {ref.describe()} releases, newest first")
    if not releases:
        ctx.say("No releases yet: start one with `cicd release`.")
        return ExitCode.OK
    ctx.say(*release_rows(releases, now))
    return ExitCode.OK


def run_release(args: argparse.Namespace, ctx: Context) -> int:
    commit = validate_commit(args.commit) if args.commit else None
    ref, layout = _pipeline(args, ctx)
    if commit is not None and len(commit) < 40:
        # AWS needs the full SHA: expand an abbreviation from the commits released before.
        commit = resolve_commit(commit, recent_releases(ctx.clients.codepipeline, layout))
    execution_id = start_release(ctx.clients.codepipeline, layout, commit)
    at = f"commit {short_sha(commit)}" if commit else f"the head of {layout.source.branch}"
    ctx.say(f"Started release {execution_id} of {ref.describe()} at {at}.")
    return _follow(args, ctx, layout.name, execution_id)


def run_promote(args: argparse.Namespace, ctx: Context) -> int:
    if args.source_stage == args.target_stage:
        raise UsageError(f"--from and --to are both {args.source_stage}: nothing to promote")
    region = ctx.clients.region
    source_ref = locate_pipeline(
        ctx.clients.tagging, stage=args.source_stage, service=args.service, region=region
    )
    target_ref = locate_pipeline(
        ctx.clients.tagging,
        stage=args.target_stage,
        service=args.service or source_ref.service,
        region=region,
    )
    source = read_layout(ctx.clients.codepipeline, source_ref.name)
    target = read_layout(ctx.clients.codepipeline, target_ref.name)
    if source.source.repository != target.source.repository:
        raise Refused(
            f"{source.name} builds {source.source.repository} but {target.name} builds "
            f"{target.source.repository}: a commit of one cannot be released by the other"
        )
    candidate = promotion_commit(
        recent_releases(ctx.clients.codepipeline, source),
        recent_releases(ctx.clients.codepipeline, target),
        source_name=source.name,
        target_name=target.name,
    )
    execution_id = start_release(ctx.clients.codepipeline, target, candidate.commit)
    ctx.say(
        f"Promoting {candidate.describe()} from {args.source_stage} to {args.target_stage}.",
        f"Started release {execution_id} of {target_ref.describe()}.",
    )
    return _follow(args, ctx, target.name, execution_id)


def _answer_approval(args: argparse.Namespace, ctx: Context, *, approved: bool) -> int:
    expected = validate_commit(args.commit) if args.commit else None
    _, layout = _pipeline(args, ctx)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    pending = approvals.find_pending_approval(state, layout.name)
    pending = approvals.with_commit(ctx.clients.codepipeline, state, pending)
    approvals.check_commit(pending, expected)
    default_summary = "Approved with cicd" if approved else ""
    approvals.answer(
        ctx.clients.codepipeline,
        pending,
        approved=approved,
        summary=args.reason or default_summary,
    )
    verb = "Approved" if approved else "Rejected"
    message = f' "{pending.message}"' if pending.message else ""
    ctx.say(
        f"{verb} commit {short_sha(pending.commit)}{message} "
        f"(execution {short_id(pending.execution_id)}) in {layout.name}."
    )
    if not approved:
        return ExitCode.OK
    return _follow(args, ctx, layout.name, pending.execution_id)


def run_approve(args: argparse.Namespace, ctx: Context) -> int:
    return _answer_approval(args, ctx, approved=True)


def run_reject(args: argparse.Namespace, ctx: Context) -> int:
    return _answer_approval(args, ctx, approved=False)


def _rollback_target(
    args: argparse.Namespace, ctx: Context, layout: PipelineLayout, releases: Sequence[Release]
) -> Release | None:
    if not args.to:
        return None
    found = resolve_execution(args.to, releases)
    if found is not None:
        return found
    if len(args.to) == _UUID_LENGTH:
        return get_release(ctx.clients.codepipeline, layout.name, args.to.lower())
    raise NotFound(
        f"no execution starting with {args.to} among the last {len(releases)} of {layout.name}",
        "pass the full execution id (`cicd releases --json` prints them)",
    )


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    _, layout = _pipeline(args, ctx)
    rollback.check_deploy_stage(layout)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    rollback.check_deploy_idle(state, layout.name)
    releases = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    plan = rollback.plan_rollback(
        layout.name, releases, _rollback_target(args, ctx, layout, releases)
    )
    ctx.out.write(plan.describe())
    rollback.confirm(plan, stdin=ctx.stdin, out=ctx.out, assume_yes=args.yes)
    execution_id = rollback.roll_back(ctx.clients.codepipeline, plan)
    ctx.say(f"Rollback started: execution {execution_id}.")
    return _follow(args, ctx, layout.name, execution_id)
