"""`cicd promote`: deploy in one environment what another proved (`heroku pipelines:promote`).

parse (`register`) -> gather (the target's layout; for a promoted target the versions of its
upstream's release object, the manifests and the tags (a rejection) of the versions looked at,
else the upstream's history) -> decide (`cicd.decide.promotion`: which release, never a
rejected one, and whether it may go) -> preflight (`cicd.cli.preflight`: the window, the
watched alarms, deployments running, approvers, rollback; refuses on what would make the
promotion fail, warns on the rest; `--preflight` only reports, `--skip-preflight` skips it) ->
start the target's pipeline -> follow with --wait.
"""

from __future__ import annotations

import argparse

from cicd.aws.executions import HISTORY_DEPTH, recent_releases, start_promoted, start_release
from cicd.aws.manifests import with_manifest
from cicd.aws.partial import attempt
from cicd.aws.pipelines import named_pipeline, read_layout
from cicd.aws.published import published_versions
from cicd.aws.quarantine import rejection_of
from cicd.cli.config import check_promotion_config
from cicd.cli.context import Context, locate_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands, service_option
from cicd.cli.preflight import Preflight, preflight_only, run_preflight
from cicd.contract import ENVIRONMENTS, TAG_PROMOTES_FROM
from cicd.decide.commits import validate_commit
from cicd.decide.promotion import (
    check_not_live,
    check_promotes_from,
    check_same_repository,
    check_service,
    choose_release,
    promotion_commit,
)
from cicd.errors import UsageError
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import PublishedVersion, RejectedRelease, Rejection
from cicd.model.status import Unknown
from cicd.render.documents import (
    published_document,
    rejected_release_document,
    started_document,
)
from cicd.text import format_when, short_sha


def register(commands: Commands) -> None:
    promote = commands.add(
        "promote",
        run_promote,
        "deploy in one environment what another proved",
        "Deploy in one environment what another proved (like `heroku pipelines:promote`). "
        "A promoted pipeline (prod) is started on the release its upstream published for "
        "the commit (default: the newest not rejected with `cicd reject RELEASE`); a "
        "pipeline that builds from GitHub is started at the upstream's newest successful "
        "commit and rebuilds it. Refuses when the commit was "
        "never published or succeeded upstream, is rejected, or the target already runs it.",
        "  cicd promote --service web --from staging --to prod\n"
        "  cicd promote --service web --from staging --to prod --commit 1a2b3c4 --wait\n"
        "  cicd promote --from staging --to-pipeline web-prod-pipeline   # no tag:GetResources\n"
        "  cicd promote --service web --from staging --to prod --preflight   # start nothing\n",
        commands.wait,
    )
    promote.add_argument("-s", "--service", **service_option())
    promote.add_argument(
        "--commit",
        metavar="SHA",
        help="promote the release of this commit (full or abbreviated) instead of the newest",
    )
    promote.add_argument(
        "--from", dest="source_stage", choices=ENVIRONMENTS, help="promote from this stage"
    )
    promote.add_argument(
        "--to", dest="target_stage", choices=ENVIRONMENTS, help="promote to this stage"
    )
    promote.add_argument(
        "--from-pipeline",
        metavar="NAME",
        help="upstream pipeline by name, skipping the tag lookup (GitHub-built targets only: "
        "a promoted target reads its release location, never the upstream pipeline)",
    )
    promote.add_argument(
        "--to-pipeline", metavar="NAME", help="target pipeline by name, skipping the tag lookup"
    )
    promote.add_argument(
        "--allow-missing-config",
        action="store_true",
        help="promote even when the target lacks config keys the source has (default: refuse)",
    )
    checks = promote.add_mutually_exclusive_group()
    checks.add_argument(
        "--preflight",
        action="store_true",
        help="only check whether the promotion would go through now, one reason a line; start "
        "nothing (exit 0: clear, 3: it would fail)",
    )
    checks.add_argument(
        "--skip-preflight",
        action="store_true",
        help="promote without the preflight checks (window, alarms, deployments running, "
        "approvers, rollback); the release, rejection and config checks still run",
    )


def run_promote(args: argparse.Namespace, ctx: Context) -> int:
    if args.source_stage is None and args.from_pipeline is None:
        raise UsageError(
            "promote from where? pass --from dev|staging|prod, or --from-pipeline NAME"
        )
    if args.source_stage is not None and args.source_stage == args.target_stage:
        raise UsageError(f"--from and --to are both {args.source_stage}: nothing to promote")
    commit = validate_commit(args.commit) if args.commit else None
    target_ref, target = _promote_target(args, ctx)
    preflight = Preflight(args, ctx, target_ref, target)
    preflight.collect("config", lambda: check_promotion_config(args, ctx, target_ref, target))
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
        return _promote_release(args, ctx, target_ref, target, commit, preflight)
    return _promote_commit(args, ctx, target_ref, target, commit, preflight)


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


def _promote_release(
    args: argparse.Namespace,
    ctx: Context,
    ref: PipelineRef,
    target: PipelineLayout,
    commit: str | None,
    preflight: Preflight,
) -> int:
    """Start a promoted pipeline on a release its upstream published; never reads upstream."""
    promoted = target.promoted
    assert promoted is not None
    check_promotes_from(ref, target, args.source_stage)
    versions = published_versions(ctx.clients.s3, promoted.location)
    skipped: list[RejectedRelease] = []
    unchecked: list[Unknown] = []

    def rejected(version: PublishedVersion) -> Rejection | None:
        found = attempt(lambda: rejection_of(ctx.clients.s3, promoted.location, version.version_id))
        if not isinstance(found, Unknown):
            return found
        if not unchecked:
            ctx.warn(
                f"cannot tell whether releases are rejected ({found}); {target.name}'s own "
                "checks still refuse a rejected release"
            )
        unchecked.append(found)
        return None

    candidate = preflight.collect(
        "release",
        lambda: choose_release(
            versions,
            lambda version: ctx.manifests.read(promoted.location, version.version_id),
            promoted.location,
            commit=commit,
            source_stage=args.source_stage,
            warn=ctx.warn,
            rejected=rejected,
            skipped=skipped.append,
        ),
    )
    for passed in skipped:
        ctx.say(f"Skipping {passed.describe()}: {passed.rejection.describe()}.")
    history = recent_releases(ctx.clients.codepipeline, target, HISTORY_DEPTH)
    if candidate is not None:
        preflight.collect("release", lambda: check_service(candidate, ref, target))
        preflight.collect(
            "release", lambda: check_not_live(candidate, history, target_name=target.name)
        )
    if args.preflight:
        return preflight_only(
            preflight,
            history,
            commit=candidate.manifest.commit if candidate else None,
            release=published_document(candidate) if candidate else None,
        )
    assert candidate is not None, "a refusal was raised by collect"
    run_preflight(preflight, history)
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
        skippedRejected=[rejected_release_document(r) for r in skipped],
    )
    return follow_release(args, ctx, ref, target, execution_id, document)


def _promote_commit(
    args: argparse.Namespace,
    ctx: Context,
    target_ref: PipelineRef,
    target: PipelineLayout,
    commit: str | None,
    preflight: Preflight,
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
    check_same_repository(source, target)
    upstream = recent_releases(ctx.clients.codepipeline, source)
    if source.promoted is not None:
        upstream = [
            with_manifest(r, source, ctx.manifests) if r.status == "Succeeded" else r
            for r in upstream
        ]
    history = recent_releases(ctx.clients.codepipeline, target)
    candidate = preflight.collect(
        "release",
        lambda: promotion_commit(
            upstream, history, source_name=source.name, target_name=target.name, commit=commit
        ),
    )
    if args.preflight:
        return preflight_only(
            preflight, history, commit=candidate.commit if candidate else None, release=None
        )
    assert candidate is not None, "a refusal was raised by collect"
    run_preflight(preflight, history)
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
        skippedRejected=[],
    )
    return follow_release(args, ctx, target_ref, target, execution_id, document)
