"""`cicd override`: let the release that waits on Deploy's deployment window or bake go on now.

parse (`register`) -> gather (the pipeline's layout and state; who is asking) -> decide
(`cicd.decide.controls.held_condition`: which execution's condition is being evaluated, or why
there is nothing to override) -> OverrideStageCondition -> announce it on the release topic
(the approval's NotificationArn) with the reason and who -> follow with --wait.

The override comes first: an announcement of an override that then failed would be false. When
the announcement fails, the override has happened all the same, and the command says so.
"""

from __future__ import annotations

import argparse
from typing import Any

from botocore.exceptions import ClientError

from cicd.aws.announce import announce
from cicd.aws.clients import MAX_ATTEMPTS
from cicd.aws.controls import override_condition
from cicd.aws.errors import from_client_error
from cicd.aws.partial import attempt
from cicd.aws.quarantine import caller_arn
from cicd.cli.context import Context, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands
from cicd.contract import DEPLOY_STAGE
from cicd.decide.controls import (
    CONDITIONS,
    check_announced_reason,
    check_deploy_stage,
    condition_label,
    held_condition,
)
from cicd.errors import CicdError, Refused
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.status import Unknown
from cicd.render.operations import override_announcement
from cicd.text import short_id

UNKNOWN_CALLER = "an unknown caller"


def register(commands: Commands) -> None:
    override = commands.add(
        "override",
        run_override,
        "let a release past Deploy's deployment window or bake, now",
        "Override the Deploy stage's condition for the release it holds now: its deployment "
        "window (`--condition window`, AWS's BEFORE_ENTRY condition) or its bake "
        "(`--condition bake`, the ON_SUCCESS condition watching the alarms). Refused when that "
        "condition is not being evaluated: a release that reached Deploy outside its window has "
        "failed, and a failed condition cannot be overridden. The override is announced on the "
        "release topic with the reason and who overrode it.",
        '  cicd override --service web --stage prod --condition bake --reason "hotfix INC-4711"\n'
        '  cicd override -s web -e prod --condition window --reason "CAB approved" --wait\n',
        commands.target,
        commands.wait,
    )
    override.add_argument(
        "--condition",
        required=True,
        choices=tuple(CONDITIONS),
        help="window: the deployment window (entry condition); bake: the alarm watch after "
        "the deploy (success condition)",
    )
    override.add_argument(
        "--reason", required=True, metavar="TEXT", help="why; said on the release topic"
    )


def redeploy_command(ref: PipelineRef, layout: PipelineLayout) -> str:
    """The command that releases a commit to this pipeline again (inside the window)."""
    if layout.promoted is not None:
        source = ref.promotes_from or "STAGE"
        if ref.service and ref.stage:
            return (
                f"`cicd promote --service {ref.service} --from {source} --to {ref.stage} "
                "--commit SHA`"
            )
        return f"`cicd promote --from {source} --to-pipeline {layout.name} --commit SHA`"
    return f"`cicd release {ref.options()} --commit SHA`"


def run_override(args: argparse.Namespace, ctx: Context) -> int:
    reason = check_announced_reason(args.reason)
    ref, layout = select_pipeline(args, ctx)
    check_deploy_stage(layout)
    label = condition_label(args.condition)
    if args.condition == "window" and layout.window(DEPLOY_STAGE) is None:
        raise Refused(
            f"{DEPLOY_STAGE} of {layout.name} has no deployment window: nothing to override",
            "a stack's `deploy.window` adds one",
        )
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    held = held_condition(
        state, args.condition, layout.name, redeploy=redeploy_command(ref, layout)
    )
    found = attempt(lambda: caller_arn(ctx.clients.sts))
    by = UNKNOWN_CALLER if isinstance(found, Unknown) else found
    override_condition(
        ctx.clients.codepipeline, layout.name, held.stage, held.execution_id, held.condition_type
    )
    ctx.say(
        f"Overrode the {label} of {DEPLOY_STAGE} in {ref.describe()} for execution "
        f"{short_id(held.execution_id)}: it goes on now."
    )
    message_id, problem = _announce(ctx, ref, layout, held.execution_id, label, by, reason)
    document: dict[str, Any] = {
        "command": "override",
        "pipeline": layout.name,
        "service": ref.service,
        "stage": ref.stage,
        "executionId": held.execution_id,
        "condition": args.condition,
        "conditionType": held.condition_type,
        "reason": reason,
        "by": None if by == UNKNOWN_CALLER else by,
        "topicArn": layout.release_topic,
        "messageId": message_id,
        "announceProblem": problem,
    }
    # Past the window on purpose: following must not stop at the condition just overridden.
    following = argparse.Namespace(
        **{**vars(args), "through_window": True} if args.condition == "window" else vars(args)
    )
    return follow_release(following, ctx, ref, layout, held.execution_id, document)


def _announce(
    ctx: Context,
    ref: PipelineRef,
    layout: PipelineLayout,
    execution_id: str,
    label: str,
    by: str,
    reason: str,
) -> tuple[str | None, str | None]:
    """Publish the override on the release topic: (message id, None) or (None, the problem)."""
    topic = layout.release_topic
    if topic is None:
        problem = "the pipeline has no release topic (its approval has no NotificationArn)"
        ctx.say(f"Not announced: {problem}.")
        return None, problem
    subject, message = override_announcement(
        label=label,
        ref=ref,
        layout=layout,
        execution_id=execution_id,
        by=by,
        reason=reason,
        at=ctx.now(),
        region=ctx.clients.region,
    )
    try:
        message_id = announce(ctx.clients.sns, topic, subject, message)
    except ClientError as error:
        problem = from_client_error(error, max_attempts=MAX_ATTEMPTS).message
    except CicdError as error:
        problem = f"{error.message}; {error.hint}" if error.hint else error.message
    else:
        ctx.say(f"Announced on {topic}.")
        return message_id, None
    ctx.warn(f"the {label} is overridden, but the announcement on {topic} failed: {problem}")
    return None, problem
