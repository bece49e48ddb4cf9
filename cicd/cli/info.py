"""`cicd info`: one release whole (`heroku releases:info`): each stage and action with status,
timing and error, test report totals, who started and who approved it, console links.

parse (`register`) -> gather (`cicd.aws.executions.gather_info`: the execution, its actions,
their builds and test reports, each read past the execution attempted on its own; with runtime
config, its deploy record: the kind of release and the config versions it ran with; for a
release that may carry an SBOM, `cicd.aws.scans`: its scan summary) -> print
(`cicd.render.info`, or `--json`).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from cicd.aws.executions import gather_info
from cicd.aws.scans import read_scan, release_object
from cicd.cli.config import read_record
from cicd.cli.context import Context, choose_execution, select_pipeline
from cicd.cli.options import Commands, add_execution_argument
from cicd.errors import ExitCode
from cicd.render.documents import info_document, release_document
from cicd.render.info import render_info


def register(commands: Commands) -> None:
    info = commands.add(
        "info",
        run_info,
        "one release whole: actions, tests, trigger, approver, links",
        "Show one release whole: each stage and action with status, timing and error, test "
        "report totals per suite, who or what started it, who approved it and why, the "
        "rollback it restored, its kind (code or config) and note, the config versions it ran "
        "with (never values), and console links (like `heroku releases:info`).",
        "  cicd info --service web --stage prod            # the newest release\n"
        "  cicd info -s web -e prod 1a2b3c4d\n"
        "  cicd info -s web -e staging --commit 1a2b3c4 --json\n",
        commands.target,
    )
    add_execution_argument(info, "the newest execution")


def run_info(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    info = gather_info(ctx.clients, ctx.manifests, ref, layout, choose_execution(args, ctx, layout))
    if layout.config is not None:
        record, location = read_record(ctx, layout, info.release)
        info = replace(info, record=record, record_location=location)
    where = release_object(layout, info.release, info.actions)
    if isinstance(where, str):
        info = replace(info, scan=where, scan_read=True)
    elif where is not None:
        info = replace(info, scan=read_scan(ctx.clients.s3, *where), scan_read=True)
    now = ctx.now()
    document = release_document(info.release, now)
    assert document is not None
    ctx.emit(info_document(info, document))
    ctx.say(*render_info(info, now, ctx.style))
    return ExitCode.OK
