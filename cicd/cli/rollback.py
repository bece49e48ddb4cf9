"""`cicd rollback`: roll the Deploy stage back to the previous release (`heroku rollback`).

parse (`register`) -> gather (the pipeline's state and history; manifests and kinds of the
releases looked at) -> decide (`cicd.decide.rollback`: which release, and that Deploy is idle)
-> show the change, code and config (`cicd.cli.config.review_rollback`, which also refuses to
cross a release that contracted the schema unless --force) and ask (`confirm`; refused without
a terminal unless --yes) -> roll back -> follow with --wait.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from cicd.aws.executions import HISTORY_DEPTH, recent_releases
from cicd.aws.manifests import with_manifest
from cicd.aws.rollback import roll_back
from cicd.aws.variables import with_kind
from cicd.cli.config import review_rollback
from cicd.cli.context import Context, execution_by_id, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands
from cicd.decide.rollback import RollbackPlan, check_deploy_idle, check_deploy_stage, plan_rollback
from cicd.errors import Refused
from cicd.render.documents import release_document, started_document


def register(commands: Commands) -> None:
    rollback = commands.add(
        "rollback",
        run_rollback,
        "roll the Deploy stage back to the previous release",
        "Roll the Deploy stage back to the previous successful release of another commit (after "
        "a config release: the release before it), or to --to EXECUTION_ID (like `heroku "
        "rollback`). Code and config go back together: AWS reuses the target's variables and "
        "artifacts, and the Configure step re-pins the config versions it ran with. Shows the "
        "change and asks first; refuses to cross a release that contracted the schema "
        "(contracts_schema) unless --force.",
        "  cicd rollback --service web --stage prod\n"
        "  cicd rollback -s web -e prod --to 1a2b3c4d --yes --wait\n",
        commands.target,
        commands.wait,
    )
    rollback.add_argument(
        "--to", metavar="EXECUTION_ID", help="roll back to this execution (id or its prefix)"
    )
    rollback.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a TTY)"
    )
    rollback.add_argument(
        "--force",
        action="store_true",
        help="roll back even across a release that contracted the schema (contracts_schema)",
    )


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.json and not args.yes:
        raise Refused(
            "rollback with --json cannot ask for confirmation",
            "pass --yes to confirm non-interactively",
        )
    ref, layout = select_pipeline(args, ctx)
    check_deploy_stage(layout)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    check_deploy_idle(state, layout.name)
    releases = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    plan = plan_rollback(
        layout.name,
        releases,
        execution_by_id(ctx, layout, args.to, releases) if args.to else None,
        resolve=lambda release: with_kind(
            ctx.clients.codepipeline, layout, with_manifest(release, layout, ctx.manifests)
        ),
    )
    ctx.human.write(plan.describe())
    config = review_rollback(args, ctx, layout, releases, plan)
    confirm(plan, stdin=ctx.stdin, out=ctx.human, assume_yes=args.yes)
    execution_id = roll_back(ctx.clients.codepipeline, plan.pipeline, plan.target)
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
        **config,
    )
    return follow_release(args, ctx, ref, layout, execution_id, document)


def confirm(plan: RollbackPlan, *, stdin: TextIO, out: TextIO, assume_yes: bool) -> None:
    """Ask on the terminal; Refused on anything but yes, or when there is no terminal."""
    if assume_yes:
        return
    if not stdin.isatty():
        raise Refused(
            "rollback needs confirmation and stdin is not a terminal",
            "pass --yes to confirm non-interactively",
        )
    out.write("Proceed? [y/N] ")
    out.flush()
    if stdin.readline().strip().lower() not in {"y", "yes"}:
        raise Refused("rollback cancelled: nothing changed")
