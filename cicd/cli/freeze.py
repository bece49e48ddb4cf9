"""`cicd freeze` and `cicd unfreeze`: hold every release before Deploy, and let them in again.

parse (`register`; the reason is checked against AWS's limits before anything is read) ->
gather (the pipeline of one service, or of every service of the stage by its tags; each one's
state, for what the freeze changes) -> decide (`cicd.decide.controls`: already frozen? disabled
for more than 30 days?) -> Disable/EnableStageTransition of Deploy's inbound transition ->
print.

What AWS does with a disabled transition is documented in docs/cicd.md ("Freezing Deploy"):
executions already past it carry on; in SUPERSEDED mode waiting ones are superseded and only the
newest enters on unfreeze; after 30 days a re-enable does not resume by itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from cicd.aws.controls import freeze_deploy, freeze_in_state, unfreeze_deploy
from cicd.aws.partial import attempt
from cicd.aws.pipelines import find_pipelines, read_layout
from cicd.cli.context import Context, select_pipeline
from cicd.cli.options import Commands
from cicd.decide.controls import (
    check_deploy_stage,
    check_freeze_reason,
    deploy_execution,
    inbound_executions,
    over_30_days,
)
from cicd.errors import CicdError, ExitCode, NotFound, UsageError
from cicd.model.controls import Freeze
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.status import Unknown
from cicd.render.operations import frozen_pipeline_document
from cicd.text import format_when, short_id

_SCOPE = (
    "With --service (or --pipeline): that service's pipeline; without: every service of the "
    "stage, found by its tags."
)


def register(commands: Commands) -> None:
    freeze = commands.add(
        "freeze",
        run_freeze,
        "hold every release before Deploy (a deploy freeze)",
        "Disable the transition into the Deploy stage: no release enters Deploy until "
        "`cicd unfreeze`. Releases already in Deploy carry on. " + _SCOPE + " The reason is "
        "recorded by AWS and shown by `cicd status`: 1 to 300 letters, digits, spaces and "
        "! @ ( ) . * ? - (AWS's rule; cicd refuses anything else rather than rewrite it).",
        '  cicd freeze --stage prod --reason "Black Friday until Monday"\n'
        '  cicd freeze --service web --stage prod --reason "incident 4711"\n',
        commands.target,
    )
    freeze.add_argument("--reason", required=True, metavar="TEXT", help="why (shown to all)")
    commands.add(
        "unfreeze",
        run_unfreeze,
        "let releases into Deploy again",
        "Enable the transition into the Deploy stage again. In SUPERSEDED mode only the newest "
        "release that waited enters; after more than 30 days frozen AWS does not resume by "
        "itself and the release must be started again. " + _SCOPE,
        "  cicd unfreeze --stage prod\n  cicd unfreeze --service web --stage prod\n",
        commands.target,
    )


def _pipelines(args: argparse.Namespace, ctx: Context) -> list[tuple[PipelineRef, PipelineLayout]]:
    """The pipeline named or found for one service, or every pipeline of the stage."""
    if args.pipeline or args.service:
        return [select_pipeline(args, ctx)]
    if args.stage is None:
        raise UsageError(
            "which environment? pass --stage dev|staging|prod (or set CICD_STAGE), and "
            "--service to act on one service only"
        )
    refs = find_pipelines(ctx.clients.tagging, stage=args.stage, service=None)
    if not refs:
        raise NotFound(
            f"no pipeline tagged with stage {args.stage} in {ctx.clients.region}",
            "check --region, or name the pipeline with --pipeline NAME",
        )
    return [(ref, read_layout(ctx.clients.codepipeline, ref.name)) for ref in refs]


def _scope(args: argparse.Namespace, ref: PipelineRef) -> str:
    if args.pipeline or args.service:
        return ref.options()
    return f"--stage {args.stage}"


def _state(ctx: Context, layout: PipelineLayout) -> Mapping[str, Any] | Unknown:
    return attempt(lambda: ctx.clients.codepipeline.get_pipeline_state(name=layout.name))


def _by(freeze: Freeze) -> str:
    by = f" by {freeze.changed_by}" if freeze.changed_by else ""
    why = f': "{freeze.reason}"' if freeze.reason else ""
    return f"{by}{why}"


Act = Callable[[PipelineRef, PipelineLayout, Mapping[str, Any] | Unknown], dict[str, Any]]


def _each(args: argparse.Namespace, ctx: Context, verb: str, act: Act) -> list[dict[str, Any]]:
    """Run `act(ref, layout, state)` on every pipeline; when one fails after others changed,
    say which changed before reporting the failure."""
    targets = _pipelines(args, ctx)
    for _, layout in targets:
        check_deploy_stage(layout)
    done: list[str] = []
    documents: list[dict[str, Any]] = []
    for ref, layout in targets:
        try:
            document = act(ref, layout, _state(ctx, layout))
        except (ClientError, CicdError):
            if done:
                undo = "unfreeze" if verb == "froze" else "freeze"
                ctx.warn(
                    f"{verb} {', '.join(done)} before this failed; "
                    f"`cicd {undo} {_scope(args, ref)}` undoes it"
                )
            raise
        if document["changed"]:
            done.append(layout.name)
        documents.append(document)
    return documents


def run_freeze(args: argparse.Namespace, ctx: Context) -> int:
    reason = check_freeze_reason(args.reason)

    def freeze(
        ref: PipelineRef, layout: PipelineLayout, state: Mapping[str, Any] | Unknown
    ) -> dict[str, Any]:
        before = freeze_in_state(state) if isinstance(state, Mapping) else None
        running = deploy_execution(state) if isinstance(state, Mapping) else None
        if before is not None and before.frozen:
            ctx.say(
                f"{ref.describe()} is already frozen since "
                f"{format_when(before.changed_at, ctx.now())}{_by(before)}; nothing changed."
            )
            return frozen_pipeline_document(
                ref, layout, changed=False, before=before, inDeploy=running
            )
        freeze_deploy(ctx.clients.codepipeline, layout.name, reason)
        ctx.say(
            f"Froze Deploy of {ref.describe()}: no release enters it until "
            f"`cicd unfreeze {ref.options()}`."
        )
        if running:
            ctx.say(
                f"  Execution {short_id(running)} is in Deploy now and carries on: a freeze "
                "holds only what has not entered."
            )
        return frozen_pipeline_document(ref, layout, changed=True, before=before, inDeploy=running)

    documents = _each(args, ctx, "froze", freeze)
    ctx.emit({"command": "freeze", "reason": reason, "pipelines": documents})
    return ExitCode.OK


def run_unfreeze(args: argparse.Namespace, ctx: Context) -> int:
    now = ctx.now()

    def unfreeze(
        ref: PipelineRef, layout: PipelineLayout, state: Mapping[str, Any] | Unknown
    ) -> dict[str, Any]:
        before = freeze_in_state(state) if isinstance(state, Mapping) else None
        waiting = inbound_executions(state) if isinstance(state, Mapping) else []
        if before is not None and not before.frozen:
            ctx.say(f"{ref.describe()} is not frozen; nothing changed.")
            return frozen_pipeline_document(
                ref, layout, changed=False, before=before, waiting=waiting, resumes=None
            )
        unfreeze_deploy(ctx.clients.codepipeline, layout.name)
        since = (
            f", frozen since {format_when(before.changed_at, now)}{_by(before)}"
            if before is not None
            else ""
        )
        ctx.say(f"Unfroze Deploy of {ref.describe()}{since}.")
        stale = over_30_days(before, now)
        if stale and before is not None and before.changed_at is not None:
            days = (now - before.changed_at).days
            ctx.warn(
                f"{layout.name} was frozen for {days} days: after more than 30 days AWS does not "
                "resume by itself; start the release again (`cicd promote` or `cicd release`)"
            )
        elif len(waiting) == 1:
            ctx.say(
                f"  Execution {short_id(waiting[0])} waits at Deploy's entry: the newest waiting "
                "release enters now."
            )
        elif waiting:
            ctx.say(
                f"  Executions {', '.join(short_id(w) for w in waiting)} wait at Deploy's entry; "
                "AWS documents only SUPERSEDED mode, where the newest enters."
            )
        return frozen_pipeline_document(
            ref,
            layout,
            changed=True,
            before=before,
            waiting=waiting,
            resumes=None if before is None else not stale,
        )

    documents = _each(args, ctx, "unfroze", unfreeze)
    ctx.emit({"command": "unfreeze", "pipelines": documents})
    return ExitCode.OK
