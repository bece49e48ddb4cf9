"""`cicd open`: the console URL of a pipeline or release, opened in a browser on a terminal.

parse (`register`) -> gather (the pipeline, and the execution when one is named) -> print the
URL (and open it when stdout is a terminal, unless --no-browser).
"""

from __future__ import annotations

import argparse

from cicd.cli.context import Context, choose_execution, select_pipeline
from cicd.cli.options import Commands
from cicd.contract import execution_console_url, pipeline_console_url
from cicd.errors import ExitCode


def register(commands: Commands) -> None:
    opener = commands.add(
        "open",
        run_open,
        "the console URL of a pipeline or release (opened on a terminal)",
        "Print the console URL of a release (or of the pipeline, without EXECUTION), and "
        "open it in a browser when run on a terminal.",
        "  cicd open --service web --stage prod\n"
        "  cicd open -s web -e prod 1a2b3c4d --no-browser\n",
        commands.target,
    )
    opener.add_argument(
        "execution", nargs="?", metavar="EXECUTION", help="execution id or a unique prefix"
    )
    opener.add_argument(
        "--no-browser", action="store_true", help="only print the URL, even on a terminal"
    )


def run_open(args: argparse.Namespace, ctx: Context) -> int:
    _, layout = select_pipeline(args, ctx)
    region = ctx.clients.region
    if args.execution:
        release = choose_execution(args, ctx, layout)
        url = execution_console_url(region, layout.name, release.execution_id)
    else:
        url = pipeline_console_url(region, layout.name)
    interactive = not ctx.json and not args.no_browser and ctx.out.isatty()
    opened = bool(interactive and ctx.open_url(url))
    ctx.emit({"url": url, "opened": opened})
    ctx.say(url)
    if interactive and not opened:
        ctx.say("(no browser could be opened here: copy the URL)")
    return ExitCode.OK
