"""`cicd logs`: a release's logs (`heroku logs`): CodeBuild and Commands actions from CloudWatch
Logs, and for CodeDeploy the deployment's error and its failed hooks' log tails.

parse (`register`) -> gather (the execution's actions and builds, then each action's log,
`cicd.aws.logs`; with --tail, new lines until the actions end) -> print, `[action] line`.
"""

from __future__ import annotations

import argparse

from cicd.aws.executions import action_runs, with_builds
from cicd.aws.logs import deployment_lines, read_more, read_stream, stream_of
from cicd.aws.partial import attempt
from cicd.cli.context import Context, choose_execution, select_pipeline
from cicd.cli.options import DEFAULT_INTERVAL, Commands, add_execution_argument, positive_number
from cicd.errors import ExitCode, NotFound
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import Release
from cicd.model.run import ActionRun, LogLine, Stream
from cicd.model.status import Unknown
from cicd.render.documents import log_lines_document
from cicd.text import short_id


def register(commands: Commands) -> None:
    logs = commands.add(
        "logs",
        run_logs,
        "a release's build, command and deployment logs",
        "Print a release's logs: each CodeBuild action's log (build, tests, verification), "
        "Commands actions' logs, and for CodeDeploy the deployment's error and the lifecycle "
        "hooks of failed instances with their log tails (like `heroku logs`).",
        "  cicd logs --service web --stage dev             # the newest execution\n"
        "  cicd logs -s web -e dev --action unit --lines 0 # all of one action\n"
        "  cicd logs -s web -e dev --action Build --tail   # follow a running build\n",
        commands.target,
    )
    add_execution_argument(logs, "the newest execution")
    logs.add_argument("--action", metavar="NAME", help="only this action (e.g. Build, unit)")
    logs.add_argument(
        "--lines",
        type=int,
        default=200,
        metavar="N",
        help="the last N lines of each log (0: all of it, page by page; default: 200)",
    )
    logs.add_argument(
        "--tail", action="store_true", help="keep printing new lines until the actions end"
    )
    logs.add_argument(
        "--interval",
        type=positive_number,
        default=DEFAULT_INTERVAL / 2,
        metavar="SECONDS",
        help=f"seconds between polls with --tail (default: {DEFAULT_INTERVAL / 2:g})",
    )


def _log_lines(ctx: Context, run: ActionRun, lines: int) -> tuple[list[LogLine], Stream | None]:
    stream = stream_of(run)
    if stream is not None:
        return read_stream(ctx.clients.logs, stream, lines=lines)
    if run.provider == "CodeDeploy":
        return deployment_lines(ctx.clients.codedeploy, run), None
    note = run.error or run.summary or "no logs (this action writes none)"
    return [LogLine(run.action, run.provider.lower(), note)], None


def _print(ctx: Context, lines: list[LogLine], collected: list[LogLine]) -> None:
    collected.extend(lines)
    ctx.say(*(f"[{line.action}] {line.message}" for line in lines))


def run_logs(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    release = choose_execution(args, ctx, layout)
    runs, _ = with_builds(
        ctx.clients,
        action_runs(ctx.clients.codepipeline, layout.name, release.execution_id),
        tests=False,
    )
    if args.action:
        chosen = [r for r in runs if r.action.lower() == args.action.lower()]
        if not chosen:
            names = ", ".join(dict.fromkeys(r.action for r in runs)) or "none yet"
            raise NotFound(
                f"execution {short_id(release.execution_id)} of {layout.name} ran no action "
                f"{args.action}",
                f"its actions: {names}",
            )
        runs = chosen
    ctx.say(f"=== Logs of release {release.describe()} of {ref.describe()}")
    collected: list[LogLine] = []
    tailing: list[Stream] = []
    for run in runs:
        found = attempt(lambda run=run: _log_lines(ctx, run, args.lines))
        if isinstance(found, Unknown):
            _print(ctx, [LogLine(run.action, run.provider.lower(), str(found))], collected)
            continue
        lines, stream = found
        _print(ctx, lines, collected)
        if stream is not None and run.status == "InProgress":
            tailing.append(stream)
    if args.tail:
        _tail(args, ctx, layout, release, tailing, collected)
    ctx.emit(log_lines_document(collected))
    return ExitCode.OK


def _tail(
    args: argparse.Namespace,
    ctx: Context,
    layout: PipelineLayout,
    release: Release,
    streams: list[Stream],
    collected: list[LogLine],
) -> None:
    """Keep reading the running actions' streams until their actions end."""
    while streams:
        ctx.sleep(args.interval)
        runs = {
            r.action: r
            for r in action_runs(ctx.clients.codepipeline, layout.name, release.execution_id)
        }
        still: list[Stream] = []
        for stream in streams:
            lines, stream = read_more(ctx.clients.logs, stream)
            _print(ctx, lines, collected)
            run = runs.get(stream.action)
            if (run is not None and run.status == "InProgress") or lines:
                still.append(stream)
        streams = still
