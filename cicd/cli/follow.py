"""`cicd follow`: follow a release already running until it ends or waits for someone.

parse (`register`) -> gather (the newest running execution, or the one named) -> follow
(`cicd.cli.following`), exit codes as for `--wait`.
"""

from __future__ import annotations

import argparse

from cicd.aws.manifests import with_manifest
from cicd.cli.context import Context, choose_execution, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands, add_execution_argument
from cicd.render.documents import started_document


def register(commands: Commands) -> None:
    follow = commands.add(
        "follow",
        run_follow,
        "follow a running release until it ends or waits for someone",
        "Follow a release already running (started by a push, by someone else, or left "
        "after Ctrl-C) until it ends or waits for an approval or a deployment window.",
        "  cicd follow --service web --stage prod          # the newest running release\n"
        "  cicd follow -s web -e prod 1a2b3c4d --through-approval\n",
        commands.target,
        commands.follow,
    )
    add_execution_argument(follow, "the newest running execution")


def run_follow(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    release = with_manifest(
        choose_execution(args, ctx, layout, running=True), layout, ctx.manifests
    )
    document = started_document(
        "follow",
        layout,
        ref.service,
        ref.stage,
        release.execution_id,
        commit=release.commit,
        message=release.message,
        version_id=release.version_id,
    )
    ctx.say(f"Release {release.describe()} of {ref.describe()}, {release.status}.")
    return follow_release(args, ctx, ref, layout, release.execution_id, document, always=True)
