"""`cicd releases` (the release history, like `heroku releases`) and `cicd release` (start one,
like `git push heroku`).

releases: parse -> gather (the recent executions, for a promoted pipeline each one's manifest,
and for a pipeline with release variables each one's kind and note) -> print
(`cicd.render.releases`). release: parse -> gather (the layout, and for an
abbreviated --commit the history that expands it, `cicd.decide.commits`) -> start -> follow
with --wait.
"""

from __future__ import annotations

import argparse

from cicd.aws.executions import recent_releases, start_release
from cicd.aws.manifests import with_manifests
from cicd.aws.variables import KIND_DEPTH, with_kinds
from cicd.cli.context import Context, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands, positive_int
from cicd.decide.commits import resolve_commit, validate_commit
from cicd.errors import ExitCode, Refused
from cicd.render.documents import release_document, started_document
from cicd.render.releases import release_rows
from cicd.text import short_sha


def register(commands: Commands) -> None:
    releases = commands.add(
        "releases",
        run_releases,
        "recent releases of one pipeline, newest first (like heroku releases)",
        "List recent releases (pipeline executions), newest first: id, commit, message, "
        "trigger, status, start and duration (like `heroku releases`); on pipelines with "
        "runtime config also each release's kind (code or config), with a config release's "
        "note as its message.",
        "  cicd releases --service web --stage dev\n"
        "  cicd releases -s web -e prod --limit 50 --json\n",
        commands.target,
    )
    releases.add_argument(
        "--limit", type=positive_int, default=15, metavar="N", help="how many (default: 15)"
    )
    release = commands.add(
        "release",
        run_release,
        "start a release of the branch head or of one commit",
        "Start a release: the head of the pipeline's branch, or one commit (like "
        "`git push heroku`). Pipelines promoted from another stage refuse: use promote.",
        "  cicd release --service web --stage dev --wait\n"
        "  cicd release -s web -e dev --commit 1a2b3c4d5e6f...  # full or a released prefix\n",
        commands.target,
        commands.wait,
    )
    release.add_argument("--commit", metavar="SHA", help="release this commit, not the head")


def run_releases(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    releases = with_manifests(
        recent_releases(ctx.clients.codepipeline, layout, args.limit), layout, ctx.manifests
    )
    releases, kinds_unknown = with_kinds(ctx.clients.codepipeline, layout, releases)
    now = ctx.now()
    ctx.emit([release_document(r, now) for r in releases])
    ctx.say(f"=== {ref.describe()} releases, newest first")
    if not releases:
        ctx.say("No releases yet: start one with `cicd release`.")
        return ExitCode.OK
    kinds = layout.declares_release_variables
    ctx.say(
        *release_rows(
            releases, now, promoted=layout.promoted is not None, kinds=kinds, style=ctx.style
        )
    )
    if kinds_unknown is not None:
        ctx.warn(f"the kind of each release is {kinds_unknown}")
    elif kinds and len(releases) > KIND_DEPTH:
        ctx.say(f"KIND is read for the newest {KIND_DEPTH} only (one call each).")
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
