"""The commands that show and change releases: status, releases, release, promote, approve,
reject, rollback. (info, follow, logs and open are in `observe`; metrics in `metrics`.)

Each `run_*` takes the parsed arguments and a `Context` (clients, streams, clock, sleep, output
mode) and returns an exit code or raises a `CicdError`. Each prints text for people, or with
--json one document (`documents`). Parsing arguments and turning errors into messages is `cli`'s
job; deciding what to release or roll back is the job of the modules called here.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from cicd import approvals, rollback
from cicd.context import Context, follow_release, select_pipeline
from cicd.contract import TAG_PROMOTES_FROM
from cicd.discovery import PipelineRef, find_pipelines, locate_pipeline, named_pipeline
from cicd.documents import (
    pipeline_status_document,
    published_document,
    release_document,
    started_document,
)
from cicd.errors import ExitCode, NotFound, Refused, UsageError
from cicd.formatting import (
    PLAIN,
    Style,
    format_duration,
    format_when,
    short_id,
    short_sha,
    short_version,
    table,
    truncate,
)
from cicd.layout import PipelineLayout, read_layout
from cicd.published import check_not_live, choose_release, published_versions
from cicd.releases import (
    HISTORY_DEPTH,
    Release,
    get_release,
    promotion_commit,
    recent_releases,
    resolve_commit,
    resolve_execution,
    start_promoted,
    start_release,
    validate_commit,
    with_manifest,
    with_manifests,
)
from cicd.status import PipelineStatus, gather_status, render_overview, render_status

_UUID_LENGTH = 36


def _statuses(args: argparse.Namespace, ctx: Context) -> tuple[list[PipelineStatus], bool]:
    """The pipelines `status` shows, and whether in detail (per stage) or as the table."""
    if args.pipeline or (args.stage and args.service):
        ref, layout = select_pipeline(args, ctx)
        return [gather_status(ctx.clients, ctx.manifests, ref, layout)], True
    refs = find_pipelines(ctx.clients.tagging, stage=args.stage, service=args.service)
    if not refs:
        scope = "".join(
            f" {name} {value}"
            for name, value in (("for service", args.service), ("in stage", args.stage))
            if value
        )
        raise NotFound(
            f"no pipeline tagged with a cicd stage{scope} in {ctx.clients.region}",
            "check --region (and --service), or name the pipeline with --pipeline NAME",
        )
    detail = args.service is not None
    return [
        gather_status(
            ctx.clients,
            ctx.manifests,
            ref,
            read_layout(ctx.clients.codepipeline, ref.name),
            detail=detail,
        )
        for ref in refs
    ], detail


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    statuses, detail = _statuses(args, ctx)
    now = ctx.now()
    ctx.emit({"pipelines": [pipeline_status_document(s, now) for s in statuses]})
    if not detail:
        ctx.say(*render_overview(statuses, now, ctx.style))
        return ExitCode.OK
    for index, status in enumerate(statuses):
        ctx.say(*([""] if index else []), *render_status(status, now, ctx.style))
    return ExitCode.OK


def release_rows(
    releases: Sequence[Release], now: datetime, *, promoted: bool = False, style: Style = PLAIN
) -> list[str]:
    """The releases table; promoted pipelines get a RELEASE column (the object version)."""
    rows = [
        [
            short_id(r.execution_id),
            style.status(r.status),
            short_sha(r.commit),
            truncate(r.message or r.manifest_problem or "-", 50),
            *([short_version(r.version_id)] if promoted else []),
            r.trigger,
            format_when(r.started, now),
            format_duration(r.duration(now)),
        ]
        for r in releases
    ]
    header = ["ID", "STATUS", "COMMIT", "MESSAGE", *(["RELEASE"] if promoted else [])]
    return table([*header, "TRIGGER", "STARTED", "DURATION"], rows)


def run_releases(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    releases = with_manifests(
        recent_releases(ctx.clients.codepipeline, layout, args.limit), layout, ctx.manifests
    )
    now = ctx.now()
    ctx.emit([release_document(r, now) for r in releases])
    ctx.say(f"=== {ref.describe()} releases, newest first")
    if not releases:
        ctx.say("No releases yet: start one with `cicd release`.")
        return ExitCode.OK
    ctx.say(*release_rows(releases, now, promoted=layout.promoted is not None, style=ctx.style))
    return ExitCode.OK


def run_release(args: argparse.Namespace, ctx: Context) -> int:
    commit = validate_commit(args.commit) if args.commit else None
    ref, layout = select_pipeline(args, ctx)
    github = layout.github
    if github is None:
        raise Refused(
            f"{layout.name} deploys releases another stage published; it builds nothing itself",
            "deploy a published release with `cicd promote` (`cicd status` shows the one waiting)",
        )
    if commit is not None and len(commit) < 40:
        # AWS needs the full SHA: expand an abbreviation from the commits released before.
        commit = resolve_commit(commit, recent_releases(ctx.clients.codepipeline, layout))
    execution_id = start_release(ctx.clients.codepipeline, layout, commit)
    at = f"commit {short_sha(commit)}" if commit else f"the head of {github.branch}"
    ctx.say(f"Started release {execution_id} of {ref.describe()} at {at}.")
    document = started_document(
        "release", layout, ref.service, ref.stage, execution_id, commit=commit, message=None
    )
    return follow_release(args, ctx, ref, layout, execution_id, document)


def _promote_target(args: argparse.Namespace, ctx: Context) -> tuple[PipelineRef, PipelineLayout]:
    if args.to_pipeline:
        layout = read_layout(ctx.clients.codepipeline, args.to_pipeline)
        return named_pipeline(ctx.clients.codepipeline, layout.name, layout.arn), layout
    if args.target_stage is None:
        raise UsageError(
            "promote to where? pass --to dev|staging|prod, or --to-pipeline NAME",
        )
    ref = locate_pipeline(
        ctx.clients.tagging,
        stage=args.target_stage,
        service=args.service,
        region=ctx.clients.region,
    )
    return ref, read_layout(ctx.clients.codepipeline, ref.name)


def run_promote(args: argparse.Namespace, ctx: Context) -> int:
    if args.source_stage is None and args.from_pipeline is None:
        raise UsageError(
            "promote from where? pass --from dev|staging|prod, or --from-pipeline NAME"
        )
    if args.source_stage is not None and args.source_stage == args.target_stage:
        raise UsageError(f"--from and --to are both {args.source_stage}: nothing to promote")
    commit = validate_commit(args.commit) if args.commit else None
    target_ref, target = _promote_target(args, ctx)
    if target.promoted is not None:
        if args.from_pipeline or args.source_stage is None:
            tagged = f" (its {TAG_PROMOTES_FROM} tag says {target_ref.promotes_from})"
            raise UsageError(
                f"{target.name} deploys the releases published to "
                f"{target.promoted.location.url()}, not a pipeline's: pass --from STAGE"
                + (tagged if target_ref.promotes_from else ""),
                "cicd reads only the release location, never the upstream pipeline (it may be in "
                "another account)",
            )
        return _promote_release(args, ctx, target_ref, target, commit)
    return _promote_commit(args, ctx, target_ref, target, commit)


def _check_promotes_from(ref: PipelineRef, layout: PipelineLayout, source_stage: str) -> None:
    if ref.promotes_from is None:
        raise Refused(
            f"{layout.name} deploys published releases but carries no {TAG_PROMOTES_FROM} "
            f"tag, so cicd cannot check that it promotes from {source_stage}",
            "update its stack: the stacks tag every promoted pipeline with the stage it "
            "promotes from",
        )
    if ref.promotes_from != source_stage:
        stage = ref.stage or "its stage"
        raise Refused(
            f"{layout.name} promotes from {ref.promotes_from}, not from {source_stage} "
            f"(tag {TAG_PROMOTES_FROM})",
            f"promote to {stage} from {ref.promotes_from}: `cicd promote --from "
            f"{ref.promotes_from} --to {stage}`",
        )


def _promote_release(
    args: argparse.Namespace,
    ctx: Context,
    ref: PipelineRef,
    target: PipelineLayout,
    commit: str | None,
) -> int:
    """Start a promoted pipeline on a release its upstream published; never reads upstream."""
    promoted = target.promoted
    assert promoted is not None
    _check_promotes_from(ref, target, args.source_stage)
    versions = published_versions(ctx.clients.s3, promoted.location)
    candidate = choose_release(
        versions,
        ctx.manifests,
        promoted.location,
        commit=commit,
        source_stage=args.source_stage,
        warn=ctx.err,
    )
    if ref.service and candidate.manifest.service != ref.service:
        raise Refused(
            f"{candidate.describe()} at {promoted.location.url()} was built for service "
            f"{candidate.manifest.service}, but {target.name} deploys {ref.service}",
            "the release location is shared by mistake: check the stacks' release locations",
        )
    check_not_live(
        candidate,
        recent_releases(ctx.clients.codepipeline, target, HISTORY_DEPTH),
        target_name=target.name,
    )
    execution_id = start_promoted(ctx.clients.codepipeline, target, candidate.version.version_id)
    manifest = candidate.manifest
    built = f" by {manifest.pipeline}" if manifest.pipeline else ""
    to = args.target_stage or ref.stage or target.name
    ctx.say(
        f"Promoting {candidate.describe()} from {args.source_stage} to {to}.",
        f"  object version {candidate.version.version_id} of {promoted.location.url()}, "
        f"published {format_when(candidate.version.published, ctx.now())}, built{built} from "
        f"{manifest.repository}@{short_sha(manifest.commit)}",
        f"Started release {execution_id} of {ref.describe()}.",
    )
    document = started_document(
        "promote",
        target,
        ref.service,
        ref.stage,
        execution_id,
        commit=manifest.commit,
        message=candidate.message,
        version_id=candidate.version.version_id,
        promotedFrom=args.source_stage,
        rebuilds=False,
        release=published_document(candidate),
    )
    return follow_release(args, ctx, ref, target, execution_id, document)


def _promote_commit(
    args: argparse.Namespace,
    ctx: Context,
    target_ref: PipelineRef,
    target: PipelineLayout,
    commit: str | None,
) -> int:
    """The target builds from GitHub: start it at the commit that succeeded upstream."""
    if args.from_pipeline:
        source = read_layout(ctx.clients.codepipeline, args.from_pipeline)
    else:
        source_ref = locate_pipeline(
            ctx.clients.tagging,
            stage=args.source_stage,
            service=target_ref.service or args.service,
            region=ctx.clients.region,
        )
        source = read_layout(ctx.clients.codepipeline, source_ref.name)
    upstream_stage = args.source_stage or source.name
    target_stage = args.target_stage or target_ref.stage or target.name
    if source.github and target.github and source.github.repository != target.github.repository:
        raise Refused(
            f"{source.name} builds {source.github.repository} but {target.name} builds "
            f"{target.github.repository}: a commit of one cannot be released by the other"
        )
    upstream = recent_releases(ctx.clients.codepipeline, source)
    if source.promoted is not None:
        upstream = [
            with_manifest(r, source, ctx.manifests) if r.status == "Succeeded" else r
            for r in upstream
        ]
    candidate = promotion_commit(
        upstream,
        recent_releases(ctx.clients.codepipeline, target),
        source_name=source.name,
        target_name=target.name,
        commit=commit,
    )
    execution_id = start_release(ctx.clients.codepipeline, target, candidate.commit)
    ctx.say(
        f"Promoting {candidate.describe()} from {upstream_stage} to {target_stage}.",
        f"  {target.name} builds from GitHub, so it rebuilds commit "
        f"{short_sha(candidate.commit)} itself; it does not deploy what {upstream_stage} built.",
        f"Started release {execution_id} of {target_ref.describe()}.",
    )
    document = started_document(
        "promote",
        target,
        target_ref.service,
        target_ref.stage,
        execution_id,
        commit=candidate.commit,
        message=candidate.message,
        promotedFrom=upstream_stage,
        rebuilds=True,
        release=None,
    )
    return follow_release(args, ctx, target_ref, target, execution_id, document)


def _answer_approval(args: argparse.Namespace, ctx: Context, *, approved: bool) -> int:
    expected = validate_commit(args.commit) if args.commit else None
    ref, layout = select_pipeline(args, ctx)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    pending = approvals.find_pending_approval(state, layout.name)
    pending = approvals.with_commit(ctx.clients.codepipeline, state, pending, layout, ctx.manifests)
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
    document = started_document(
        "approve" if approved else "reject",
        layout,
        ref.service,
        ref.stage,
        pending.execution_id,
        commit=pending.commit,
        message=pending.message,
        version_id=pending.version_id,
        approved=approved,
        reason=args.reason,
    )
    if not approved:
        ctx.emit({**document, "followed": None})
        return ExitCode.OK
    return follow_release(args, ctx, ref, layout, pending.execution_id, document, approved=True)


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
        return get_release(ctx.clients.codepipeline, layout.name, args.to.lower(), layout.source)
    raise NotFound(
        f"no execution starting with {args.to} among the last {len(releases)} of {layout.name}",
        "pass the full execution id (`cicd releases --json` prints them)",
    )


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.json and not args.yes:
        raise Refused(
            "rollback with --json cannot ask for confirmation",
            "pass --yes to confirm non-interactively",
        )
    ref, layout = select_pipeline(args, ctx)
    rollback.check_deploy_stage(layout)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    rollback.check_deploy_idle(state, layout.name)
    releases = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    plan = rollback.plan_rollback(
        layout.name,
        releases,
        _rollback_target(args, ctx, layout, releases),
        resolve=lambda release: with_manifest(release, layout, ctx.manifests),
    )
    ctx.human.write(plan.describe())
    rollback.confirm(plan, stdin=ctx.stdin, out=ctx.human, assume_yes=args.yes)
    execution_id = rollback.roll_back(ctx.clients.codepipeline, plan)
    ctx.say(f"Rollback started: execution {execution_id}.")
    now = ctx.now()
    document = started_document(
        "rollback",
        layout,
        ref.service,
        ref.stage,
        execution_id,
        commit=plan.target.commit,
        message=plan.target.message,
        version_id=plan.target.version_id,
        rollbackFrom=release_document(plan.current, now),
        rollbackTo=release_document(plan.target, now),
    )
    return follow_release(args, ctx, ref, layout, execution_id, document)
