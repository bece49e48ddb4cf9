"""`cicd retry`: run the failed stage of the newest release again (`heroku releases:retry`).

parse (`register`) -> gather (the pipeline's state and its newest execution) -> decide
(`cicd.decide.controls.retryable_stage`: the stage where that execution failed or was stopped,
or why nothing can be retried) -> RetryStageExecution (`FAILED_ACTIONS`, or `ALL_ACTIONS` with
--all-actions) -> follow with --wait.

AWS retries only the latest execution of a stage, and not one another execution has entered
since (RetryStageExecution API reference; "Another execution enters the failed stage and
supersedes the failed execution. At this point, the failed execution cannot be retried.").
"""

from __future__ import annotations

import argparse

from cicd.aws.controls import retry_stage
from cicd.aws.executions import recent_releases
from cicd.aws.manifests import with_manifest
from cicd.cli.context import Context, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands
from cicd.decide.controls import retryable_stage
from cicd.render.documents import started_document
from cicd.text import short_id

FAILED_ACTIONS, ALL_ACTIONS = "FAILED_ACTIONS", "ALL_ACTIONS"


def register(commands: Commands) -> None:
    retry = commands.add(
        "retry",
        run_retry,
        "run the failed stage of the newest release again",
        "Retry the stage where the newest execution failed or was stopped (like `heroku "
        "releases:retry`): its failed actions (default), or all its actions with "
        "--all-actions. Refused when the newest execution did not fail, or another execution "
        "has entered that stage since: AWS retries only the latest.",
        "  cicd retry --service web --stage staging\n"
        "  cicd retry -s web -e prod --all-actions --wait\n",
        commands.target,
        commands.wait,
    )
    retry.add_argument(
        "--all-actions",
        action="store_true",
        help="run every action of the stage again (ALL_ACTIONS), not only the failed ones "
        "(FAILED_ACTIONS, the default)",
    )


def run_retry(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    codepipeline = ctx.clients.codepipeline
    state = codepipeline.get_pipeline_state(name=layout.name)
    history = recent_releases(codepipeline, layout, 1)
    newest = history[0] if history else None
    target = retryable_stage(state, newest, layout.name)
    assert newest is not None  # retryable_stage refuses an empty history
    mode = ALL_ACTIONS if args.all_actions else FAILED_ACTIONS
    execution_id = retry_stage(codepipeline, layout.name, target.stage, target.execution_id, mode)
    release = with_manifest(newest, layout, ctx.manifests)
    which = "all its actions" if args.all_actions else "its failed actions"
    ctx.say(
        f"Retrying {target.stage} ({which}) of execution {short_id(execution_id)} "
        f"({release.describe_commit()}) in {ref.describe()}; it was {target.status}."
    )
    document = started_document(
        "retry",
        layout,
        ref.service,
        ref.stage,
        execution_id,
        commit=release.commit,
        message=release.message,
        version_id=release.version_id,
        retriedStage=target.stage,
        retryMode=mode,
        stageStatus=target.status,
    )
    return follow_release(args, ctx, ref, layout, execution_id, document)
