"""What `--wait` and `cicd follow` print: stages as they pass, and what to do at a waypoint.

`stage_line` is one stage reaching a status; `approval_lines` tells who can approve the waiting
release and the exact commands; `window_lines` until when a deployment window holds it. Lines
in, nothing printed: `cicd.cli.following` writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cicd.contract import APPROVAL_ACTION, APPROVAL_STAGE, approver_role_name
from cicd.model.pipeline import DeploymentWindow, PipelineRef
from cicd.model.release import Release
from cicd.model.run import StageEvent
from cicd.text import PLAIN, Style, relative, short_id, short_sha


def stage_line(event: StageEvent, style: Style = PLAIN) -> str:
    detail = f"  {event.detail}" if event.detail else ""
    return f"  {event.stage:<10} {style.status(event.status)}{detail}"


def following_line(pipeline: str, execution_id: str) -> str:
    return (
        f"Following execution {short_id(execution_id)} of {pipeline} "
        "(Ctrl-C stops following, not the release)"
    )


def follow_command(ref: PipelineRef, execution_id: str) -> str:
    """The command that follows this execution again."""
    return f"cicd follow {ref.options()} {short_id(execution_id)}"


def approval_lines(ref: PipelineRef, pipeline: str, release: Release) -> list[str]:
    """Who can approve `release`, waiting in `pipeline`, and the commands that answer it."""
    target = ref.options()
    commit = f" --commit {short_sha(release.commit)}" if release.commit else ""
    policy = (
        f" (whoever may assume the stack's role {approver_role_name(ref.service, ref.stage)})"
        if ref.service and ref.stage
        else ""
    )
    return [
        f"Release {short_id(release.execution_id)} waits for approval in {pipeline}: "
        f"{release.describe_commit()}",
        f"  Who can approve: anyone allowed codepipeline:PutApprovalResult on "
        f"{pipeline}/{APPROVAL_STAGE}/{APPROVAL_ACTION}{policy}; the release topic's "
        "subscribers were notified.",
        f"  Approve: cicd approve {target}{commit} --wait",
        f"  Reject:  cicd reject {target}{commit} --reason TEXT",
    ]


def window_lines(
    pipeline: str,
    execution_id: str,
    stage: str,
    window: DeploymentWindow | None,
    opening: datetime | None,
    now: datetime,
) -> list[str]:
    """Why the release waits before `stage`: its deployment window, and when it opens next."""
    release = f"Release {short_id(execution_id)}"
    if window is None:
        return [f"{release} waits to enter {stage} of {pipeline}: its entry condition runs."]
    until = (
        f"until {opening:%Y-%m-%d %H:%M} {window.time_zone} "
        f"({opening.astimezone(UTC):%H:%M} UTC, {relative(opening, now)})"
        if opening is not None
        else "until the window opens"
    )
    return [
        f'{release} is held before {stage} of {pipeline} by its deployment window (cron "'
        f'{window.cron}", {window.time_zone}) {until}.'
    ]
