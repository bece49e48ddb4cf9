"""What every command shares: the run's `Context`, choosing the pipeline, following a release.

`Context` holds the AWS clients, the manifest cache, the streams, the clock and the output mode
(`--json`, colour). `select_pipeline` applies --pipeline / --service / --stage the same way for
every command. `follow_release` follows an execution with `--wait` (or `cicd follow`), tells
people what to do at an approval or a deployment window, and turns the outcome into the
command's JSON document and exit code.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from cicd import progress
from cicd.aws import Clients
from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE, ENVIRONMENTS, approver_policy_name
from cicd.discovery import PipelineRef, locate_pipeline
from cicd.errors import ExitCode, UsageError
from cicd.formatting import PLAIN, Style, relative, short_id, short_sha
from cicd.layout import PipelineLayout, read_layout
from cicd.manifests import Manifests
from cicd.releases import get_release, with_manifest
from cicd.window import next_opening


@dataclass(frozen=True)
class Context:
    """What a command may touch besides its arguments; tests replace every part."""

    clients: Clients
    manifests: Manifests
    out: TextIO
    err: TextIO
    stdin: TextIO
    sleep: progress.Sleep
    now: Callable[[], datetime]
    style: Style = PLAIN
    json: bool = False
    # Opens a URL in a browser; returns False when there is none (tests record instead).
    open_url: Callable[[str], bool] = field(default=lambda url: False)
    _quiet: TextIO = field(default_factory=io.StringIO)

    @property
    def human(self) -> TextIO:
        """Where text for people goes: stdout, or nowhere when stdout carries JSON."""
        return self._quiet if self.json else self.out

    def say(self, *lines: str) -> None:
        """Print lines for people (nothing in --json mode)."""
        for line in lines:
            self.human.write(line + "\n")
        self.human.flush()

    def emit(self, document: Any) -> None:
        """Print the command's JSON document (only in --json mode)."""
        if self.json:
            self.out.write(json.dumps(document, indent=2) + "\n")
            self.out.flush()


def _stage_or_usage(args: argparse.Namespace) -> str:
    stage: str | None = args.stage
    if stage is None:
        raise UsageError(
            "which environment? pass --stage "
            + "|".join(ENVIRONMENTS)
            + " (or set CICD_STAGE), or name the pipeline with --pipeline NAME"
        )
    return stage


def select_pipeline(args: argparse.Namespace, ctx: Context) -> tuple[PipelineRef, PipelineLayout]:
    """The pipeline named with --pipeline, or found by --stage and --service."""
    if args.pipeline:
        ref = PipelineRef(args.pipeline)
    else:
        ref = locate_pipeline(
            ctx.clients.tagging,
            stage=_stage_or_usage(args),
            service=args.service,
            region=ctx.clients.region,
        )
    return ref, read_layout(ctx.clients.codepipeline, ref.name)


def _approval_lines(
    ctx: Context, ref: PipelineRef, layout: PipelineLayout, execution_id: str
) -> list[str]:
    release = with_manifest(
        get_release(ctx.clients.codepipeline, layout.name, execution_id, layout.source),
        layout,
        ctx.manifests,
    )
    target = ref.options()
    commit = f" --commit {short_sha(release.commit)}" if release.commit else ""
    policy = (
        f" (the stack's approver policy {approver_policy_name(ref.service, ref.stage)})"
        if ref.service and ref.stage
        else ""
    )
    return [
        f"Release {short_id(execution_id)} waits for approval in {layout.name}: "
        f"{release.describe_commit()}",
        f"  Who can approve: anyone allowed codepipeline:PutApprovalResult on "
        f"{layout.name}/{APPROVAL_STAGE}/{APPROVAL_ACTION}{policy}; the release topic's "
        "subscribers were notified.",
        f"  Approve: cicd approve {target}{commit} --wait",
        f"  Reject:  cicd reject {target}{commit} --reason TEXT",
    ]


def _window_lines(ctx: Context, layout: PipelineLayout, execution_id: str, stage: str) -> list[str]:
    release = f"Release {short_id(execution_id)}"
    window = layout.window(stage)
    if window is None:
        return [f"{release} waits to enter {stage} of {layout.name}: its entry condition runs."]
    now = ctx.now()
    opening = next_opening(window.cron, window.time_zone, now)
    until = (
        f"until {opening:%Y-%m-%d %H:%M} {window.time_zone} "
        f"({opening.astimezone(UTC):%H:%M} UTC, {relative(opening, now)})"
        if opening is not None
        else "until the window opens"
    )
    return [
        f'{release} is held before {stage} of {layout.name} by its deployment window (cron "'
        f'{window.cron}", {window.time_zone}) {until}.'
    ]


def follow_command(ref: PipelineRef, layout: PipelineLayout, execution_id: str) -> str:
    return f"cicd follow {ref.options()} {short_id(execution_id)}"


def outcome_document(outcome: progress.Outcome | None) -> Mapping[str, Any] | None:
    if outcome is None:
        return None
    return {
        "outcome": outcome.kind,
        "status": outcome.status,
        "detail": outcome.detail or None,
        "stage": outcome.stage,
    }


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
    outcome: progress.Outcome | None = None
    if always or getattr(args, "wait", False):
        outcome = progress.follow(
            ctx.clients.codepipeline,
            layout.name,
            execution_id,
            out=ctx.human,
            sleep=ctx.sleep,
            interval=args.interval,
            timeout=args.timeout,
            through_approval=approved or args.through_approval,
            through_window=args.through_window,
            guide=progress.Guide(
                # Just answered: the state may lag behind, and there is nothing to tell.
                approval=(lambda: [])
                if approved
                else (lambda: _approval_lines(ctx, ref, layout, execution_id)),
                window=lambda stage: _window_lines(ctx, layout, execution_id, stage),
            ),
            style=ctx.style,
        )
    else:
        ctx.say(
            "Not following it: `cicd status` shows where it is; "
            f"`{follow_command(ref, layout, execution_id)}` follows it."
        )
    ctx.emit({**document, "followed": outcome_document(outcome)})
    if outcome is not None:
        error = progress.outcome_error(
            outcome,
            layout.name,
            execution_id,
            follow_again=follow_command(ref, layout, execution_id),
        )
        if error is not None:
            raise error
    return ExitCode.OK
