"""The commands that look at one release: info, follow, logs and open.

Each picks an execution the same way (`choose_execution`): an id or a unique prefix of one, the
newest execution of `--commit`, or by default the newest one (for `follow`, the newest one still
running). None of them changes anything in AWS.
"""

from __future__ import annotations

import argparse

from cicd.context import Context, follow_release, select_pipeline
from cicd.contract import execution_console_url, pipeline_console_url
from cicd.documents import release_document, started_document
from cicd.errors import ExitCode, NotFound, Refused
from cicd.executions import ActionRun, action_runs, gather_info, info_document, render_info
from cicd.executions import with_builds as runs_with_builds
from cicd.formatting import short_id
from cicd.layout import PipelineLayout
from cicd.logs import LogLine, Stream, deployment_lines, read_more, read_stream, stream_of
from cicd.partial import Unknown, attempt
from cicd.releases import (
    HISTORY_DEPTH,
    TERMINAL_STATUSES,
    Release,
    commit_matches,
    get_release,
    recent_releases,
    resolve_execution,
    validate_commit,
    with_manifest,
)

_UUID_LENGTH = 36


def choose_execution(
    args: argparse.Namespace, ctx: Context, layout: PipelineLayout, *, running: bool = False
) -> Release:
    """The execution named by EXECUTION or --commit, else the newest (or newest running)."""
    given: str | None = getattr(args, "execution", None)
    commit = validate_commit(args.commit) if getattr(args, "commit", None) else None
    history = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    if given:
        found = resolve_execution(given, history)
        if found is not None:
            return found
        if len(given) == _UUID_LENGTH:
            return get_release(ctx.clients.codepipeline, layout.name, given.lower(), layout.source)
        raise NotFound(
            f"no execution starting with {given} among the last {len(history)} of {layout.name}",
            "pass the full execution id (`cicd releases --json` prints them)",
        )
    if commit is not None:
        for release in history:
            release = with_manifest(release, layout, ctx.manifests)
            if commit_matches(release.commit, commit):
                return release
        raise NotFound(
            f"no execution of commit {commit} among the last {len(history)} of {layout.name}"
        )
    if not history:
        raise NotFound(f"{layout.name} has no executions yet")
    if not running:
        return history[0]
    active = next((r for r in history if r.status not in TERMINAL_STATUSES), None)
    if active is None:
        raise Refused(
            f"nothing runs in {layout.name}: the newest release {short_id(history[0].execution_id)}"
            f" ended {history[0].status}",
            "follow a given one with `cicd follow ... EXECUTION`, or see it with `cicd info`",
        )
    return active


def run_info(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    info = gather_info(ctx.clients, ctx.manifests, ref, layout, choose_execution(args, ctx, layout))
    now = ctx.now()
    document = release_document(info.release, now)
    assert document is not None
    ctx.emit(info_document(info, document))
    ctx.say(*render_info(info, now, ctx.style))
    return ExitCode.OK


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
    runs, _ = runs_with_builds(
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
    ctx.emit(
        [
            {
                "action": line.action,
                "source": line.source,
                "timestamp": line.timestamp.isoformat() if line.timestamp else None,
                "message": line.message,
            }
            for line in collected
        ]
    )
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
