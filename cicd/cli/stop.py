"""`cicd stop`: stop a running release, letting its actions in progress finish or abandoning them.

parse (`register`; the reason is checked against AWS's limit before anything is read) -> gather
(the execution named, or the newest running one) -> decide (it has not ended) ->
StopPipelineExecution -> with --wait, follow until it has stopped.

"Stop and wait" (the default) lets the actions in progress finish and starts no more; "stop and
abandon" (--abandon) abandons them, which AWS warns "can lead to failed tasks or out of sequence
tasks". Either way the stage unlocks and, unless Deploy is frozen, takes the next release
(https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html).
"""

from __future__ import annotations

import argparse

from cicd.aws.controls import stop_execution
from cicd.cli.context import Context, choose_execution, select_pipeline
from cicd.cli.following import follow
from cicd.cli.options import Commands, add_execution_argument
from cicd.decide.controls import check_stop_reason, check_stoppable
from cicd.decide.progress import outcome_error
from cicd.errors import ExitCode
from cicd.render.documents import outcome_document, started_document
from cicd.render.following import follow_command
from cicd.text import short_id


def register(commands: Commands) -> None:
    stop = commands.add(
        "stop",
        run_stop,
        "stop a running release",
        "Stop an execution (default: the newest running one). CodePipeline lets the actions in "
        "progress finish and starts no more; with --abandon it abandons them at once (AWS: "
        "this can lead to failed or out-of-sequence tasks). The stopped stage can be retried "
        "with `cicd retry`. The stage the execution unlocks takes the next release: freeze "
        "Deploy first (`cicd freeze`) to hold it. With --wait, follows until it has stopped.",
        '  cicd stop --service web --stage prod --reason "bad config"\n'
        '  cicd stop -s web -e prod 7e0b5c1d --abandon --reason "stuck deploy" --wait\n',
        commands.target,
        commands.wait,
    )
    add_execution_argument(stop, "the newest running execution")
    stop.add_argument(
        "--abandon",
        action="store_true",
        help="abandon the actions in progress instead of letting them finish",
    )
    stop.add_argument(
        "--reason", required=True, metavar="TEXT", help="why (at most 200 characters)"
    )


def run_stop(args: argparse.Namespace, ctx: Context) -> int:
    reason = check_stop_reason(args.reason)
    ref, layout = select_pipeline(args, ctx)
    release = choose_execution(args, ctx, layout, running=True)
    check_stoppable(release, layout.name)
    execution_id = stop_execution(
        ctx.clients.codepipeline,
        layout.name,
        release.execution_id,
        abandon=args.abandon,
        reason=reason,
    )
    how = (
        "abandoning the actions in progress"
        if args.abandon
        else "the actions in progress finish, no others start"
    )
    ctx.say(
        f"Stopping execution {short_id(execution_id)} ({release.describe_commit()}) of "
        f"{ref.describe()}: {how}."
    )
    document = started_document(
        "stop",
        layout,
        ref.service,
        ref.stage,
        execution_id,
        commit=release.commit,
        message=release.message,
        version_id=release.version_id,
        abandon=bool(args.abandon),
        reason=reason,
    )
    if not args.wait:
        ctx.say(f"Not following it: `{follow_command(ref, execution_id)}` follows it.")
        ctx.emit({**document, "followed": None})
        return ExitCode.OK
    # Until it has stopped: an approval or a window on the way is no reason to stop following.
    outcome = follow(
        ctx,
        layout.name,
        execution_id,
        interval=args.interval,
        timeout=args.timeout,
        through_approval=True,
        through_window=True,
        at_approval=lambda: [],
        at_window=lambda stage: [],
    )
    ctx.emit({**document, "followed": outcome_document(outcome)})
    if outcome.kind == "timed_out":
        error = outcome_error(
            outcome, layout.name, execution_id, follow_again=follow_command(ref, execution_id)
        )
        assert error is not None
        raise error
    if outcome.kind != "succeeded":
        ctx.say(f"Execution {short_id(execution_id)} of {layout.name} is {outcome.status}.")
    return ExitCode.OK
