"""Following a release: `--wait` on the commands that start or answer one, and `cicd follow`.

`follow_release` is what those commands end with: with --wait it follows the execution, tells
people what to do at an approval or a deployment window, puts the outcome into the command's
JSON document as `followed`, and turns a release that did not succeed into its error and exit
code. `follow` is the loop: it polls `get_pipeline_execution` (is it over?) and
`get_pipeline_state` (which stage is where) every `interval` seconds, through the context's
`sleep` so tests never wait, and stops at a waypoint a person or the clock must pass unless told
to go through it. What each snapshot means is `cicd.decide.progress`; the words are
`cicd.render.following`. Line-based output keeps CI logs readable; nothing redraws the terminal.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from cicd.aws.executions import get_release
from cicd.aws.manifests import with_manifest
from cicd.cli.context import Context
from cicd.contract import APPROVAL_STAGE
from cicd.decide.progress import awaiting_approval, held_stage, outcome_error, stage_events
from cicd.decide.window import next_opening
from cicd.errors import ExitCode
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import TERMINAL_STATUSES
from cicd.model.run import Outcome
from cicd.render.documents import outcome_document
from cicd.render.following import (
    approval_lines,
    follow_command,
    following_line,
    stage_line,
    window_lines,
)
from cicd.text import short_id


def follow(
    ctx: Context,
    pipeline: str,
    execution_id: str,
    *,
    interval: float,
    timeout: float,
    through_approval: bool,
    through_window: bool,
    at_approval: Callable[[], list[str]],
    at_window: Callable[[str], list[str]],
) -> Outcome:
    """Print stage transitions until the execution ends or stops at a waypoint.

    `at_approval` and `at_window` give the lines to print when the execution reaches the
    manual approval, or waits to enter a stage its deployment window holds.
    """
    codepipeline, out = ctx.clients.codepipeline, ctx.human
    out.write(following_line(pipeline, execution_id) + "\n")
    out.flush()
    seen: dict[str, str] = {}
    told: set[str] = set()
    failure = ""
    status = "?"
    polls = max(1, math.ceil(timeout / interval))
    for poll in range(polls + 1):
        execution = codepipeline.get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        status = str(execution.get("status", "?"))
        state = codepipeline.get_pipeline_state(name=pipeline)
        for event in stage_events(state, execution_id, seen):
            seen[event.stage] = event.status
            failure = event.detail or failure
            out.write(stage_line(event, ctx.style) + "\n")
        if status in TERMINAL_STATUSES:
            out.flush()
            if status == "Succeeded":
                out.write(f"Release {short_id(execution_id)} of {pipeline} succeeded.\n")
                return Outcome("succeeded", status)
            return Outcome("ended", status, str(execution.get("statusSummary") or failure))
        if awaiting_approval(state, execution_id) and "approval" not in told:
            told.add("approval")
            out.writelines(line + "\n" for line in at_approval())
            if not through_approval:
                out.flush()
                return Outcome("awaits_approval", status, stage=APPROVAL_STAGE)
        held = held_stage(state, execution_id)
        if held is not None and f"window:{held}" not in told:
            told.add(f"window:{held}")
            out.writelines(line + "\n" for line in at_window(held))
            if not through_window:
                out.flush()
                return Outcome("held_by_window", status, stage=held)
        out.flush()
        if poll < polls:
            ctx.sleep(interval)
    return Outcome("timed_out", status, f"still running after {int(timeout)}s")


def _at_approval(
    ctx: Context, ref: PipelineRef, layout: PipelineLayout, execution_id: str
) -> list[str]:
    release = with_manifest(
        get_release(ctx.clients.codepipeline, layout.name, execution_id, layout.source),
        layout,
        ctx.manifests,
    )
    return approval_lines(ref, layout.name, release)


def _at_window(ctx: Context, layout: PipelineLayout, execution_id: str, stage: str) -> list[str]:
    window = layout.window(stage)
    now = ctx.now()
    opening = next_opening(window.cron, window.time_zone, now) if window else None
    return window_lines(layout.name, execution_id, stage, window, opening, now)


def follow_release(
    args: argparse.Namespace,
    ctx: Context,
    ref: PipelineRef,
    layout: PipelineLayout,
    execution_id: str,
    document: dict[str, Any],
    *,
    always: bool = False,
    approved: bool = False,
) -> int:
    """With --wait (or `always`), follow the execution; emit `document`; return the exit code.

    The outcome goes into the document as `followed`; a release that did not succeed raises
    the matching error after the document is printed, so scripts get both. `approved`: the
    command just answered the approval, which the pipeline state may not show for a moment, so
    following never stops there.
    """
    outcome: Outcome | None = None
    if always or getattr(args, "wait", False):
        outcome = follow(
            ctx,
            layout.name,
            execution_id,
            interval=args.interval,
            timeout=args.timeout,
            through_approval=approved or args.through_approval,
            through_window=args.through_window,
            # Just answered: the state may lag behind, and there is nothing to tell.
            at_approval=(lambda: [])
            if approved
            else (lambda: _at_approval(ctx, ref, layout, execution_id)),
            at_window=lambda stage: _at_window(ctx, layout, execution_id, stage),
        )
    else:
        ctx.say(
            "Not following it: `cicd status` shows where it is; "
            f"`{follow_command(ref, execution_id)}` follows it."
        )
    ctx.emit({**document, "followed": outcome_document(outcome)})
    if outcome is not None:
        error = outcome_error(
            outcome, layout.name, execution_id, follow_again=follow_command(ref, execution_id)
        )
        if error is not None:
            raise error
    return ExitCode.OK
