"""`cicd status`: what runs where, for every service x environment or one service stage by stage.

parse (`register`) -> gather (`gather_status`: the pipeline's state, history, published
releases and their rejections, deployments and connection, each read attempted on its own) ->
decide (what is live; what newer release waits, `cicd.decide.promotion.waiting_release`, never
a rejected one; whether Deploy is frozen) -> print (`cicd.render.status`, or `--json`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import replace

from cicd.aws.controls import freeze_in_state
from cicd.aws.executions import recent_releases
from cicd.aws.partial import attempt
from cicd.aws.pipelines import find_pipelines, read_layout
from cicd.aws.published import published_versions
from cicd.aws.quarantine import rejection_of
from cicd.aws.status import (
    connection_status,
    running_deployments,
    stage_statuses,
    with_manifests_for,
    with_promotes_from,
)
from cicd.cli.context import Context, select_pipeline
from cicd.cli.options import Commands
from cicd.decide.commits import newest_succeeded
from cicd.decide.promotion import waiting_release
from cicd.errors import ExitCode, NotFound
from cicd.model.controls import Freeze
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import PublishedVersion, Rejection, Release, Waiting
from cicd.model.status import PipelineStatus, StageStatus, Unknown
from cicd.render.documents import pipeline_status_document
from cicd.render.status import render_overview, render_status

STATUS_HISTORY = 25
# Published versions `status` looks at for a promoted pipeline: the newest, and the ones it
# passes over when they are rejected (one ListObjectVersions page either way).
STATUS_VERSIONS = 10


def register(commands: Commands) -> None:
    commands.add(
        "status",
        run_status,
        "what runs where: every service x environment, or one service stage by stage",
        "Show what runs where. Without filters (or with only --stage): a service x environment "
        "table of the live commit and the latest status, marking a newer proven release that "
        "waits to be promoted (never a rejected one) and a frozen Deploy. With --service: "
        "each environment stage by stage, running CodeDeploy deployments, the GitHub "
        "connection, and the exact promote command (like `heroku ps` and `heroku "
        "pipelines:info`).",
        "  cicd status\n  cicd status --service web\n  cicd status -s web -e prod --json\n",
        commands.target,
    )


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    statuses, detail = _statuses(args, ctx)
    now = ctx.now()
    ctx.emit({"pipelines": [pipeline_status_document(s, now) for s in statuses]})
    if not detail:
        ctx.say(*render_overview(statuses, now, ctx.style))
        return ExitCode.OK
    for index, status in enumerate(statuses):
        ctx.say(*([""] if index else []), *render_status(status, now, ctx.style))
    return ExitCode.OK


def _statuses(args: argparse.Namespace, ctx: Context) -> tuple[list[PipelineStatus], bool]:
    """The pipelines `status` shows, and whether in detail (per stage) or as the table."""
    if args.pipeline or (args.stage and args.service):
        ref, layout = select_pipeline(args, ctx)
        return [gather_status(ctx, ref, layout)], True
    refs = find_pipelines(ctx.clients.tagging, stage=args.stage, service=args.service)
    if not refs:
        scope = "".join(
            f" {name} {value}"
            for name, value in (("for service", args.service), ("in stage", args.stage))
            if value
        )
        raise NotFound(
            f"no pipeline tagged with a cicd stage{scope} in {ctx.clients.region}",
            "check --region (and --service), or name the pipeline with --pipeline NAME",
        )
    detail = args.service is not None
    return [
        gather_status(ctx, ref, read_layout(ctx.clients.codepipeline, ref.name), detail=detail)
        for ref in refs
    ], detail


def gather_status(
    ctx: Context, ref: PipelineRef, layout: PipelineLayout, *, detail: bool = True
) -> PipelineStatus:
    """Read what `status` shows; with `detail=False` only the state (for a freeze), the history
    and the published releases (for the service x environment table), not the stages'
    commits, deployments and connection."""
    clients, manifests = ctx.clients, ctx.manifests
    # Both views read the state: the table too shows a frozen Deploy.
    state = attempt(lambda: clients.codepipeline.get_pipeline_state(name=layout.name))
    read = attempt(lambda: recent_releases(clients.codepipeline, layout, STATUS_HISTORY))
    history: list[Release] = [] if isinstance(read, Unknown) else read
    live = newest_succeeded(history)
    shown = {r.execution_id for r in (live, history[0] if history else None) if r}
    if detail and isinstance(state, Mapping):
        shown |= {
            str(s["latestExecution"]["pipelineExecutionId"])
            for s in state.get("stageStates", [])
            if s.get("latestExecution", {}).get("pipelineExecutionId")
        }
    history = with_manifests_for(history, shown, layout, manifests)
    live = newest_succeeded(history)
    promoted = layout.promoted
    waiting: Waiting | Unknown | None = None
    if promoted is not None:
        ref = with_promotes_from(clients, ref, layout)
        versions = attempt(
            lambda: published_versions(clients.s3, promoted.location, limit=STATUS_VERSIONS)
        )
        unchecked: list[Unknown] = []

        def rejected(version: PublishedVersion) -> Rejection | None:
            found = attempt(lambda: rejection_of(clients.s3, promoted.location, version.version_id))
            if isinstance(found, Unknown):
                unchecked.append(found)
                return None
            return found

        waiting = (
            versions
            if isinstance(versions, Unknown)
            else waiting_release(
                versions,
                history,
                lambda version_id: manifests.lookup(promoted.location, version_id),
                promoted.location,
                rejected,
            )
        )
        if isinstance(waiting, Waiting) and unchecked:
            waiting = replace(waiting, unchecked=str(unchecked[0]))
    github = layout.github
    stages: tuple[StageStatus, ...] | Unknown | None = (
        (stage_statuses(state, history) if isinstance(state, Mapping) else state)
        if detail
        else None
    )
    freeze: Freeze | Unknown | None = (
        freeze_in_state(state) if isinstance(state, Mapping) else state
    )
    return PipelineStatus(
        ref=ref,
        layout=layout,
        stages=stages,
        live=read if isinstance(read, Unknown) else live,
        latest=read if isinstance(read, Unknown) else (history[0] if history else None),
        deployments=(
            attempt(lambda: running_deployments(clients.codedeploy, layout.codedeploy_targets))
            if detail
            else None
        ),
        connection_status=(
            attempt(lambda: connection_status(clients.codeconnections, github.connection_arn))
            if github is not None and detail
            else None
        ),
        waiting=waiting,
        region=clients.region,
        freeze=freeze,
    )
