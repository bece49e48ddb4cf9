"""What `cicd status` shows: stages, what is live, what waits, deployments, the connection.

`gather_status` makes the AWS calls and returns plain data; `render_status` turns it into lines.
Each read is attempted on its own (`partial.attempt`): a read the user may not make shows as
`unknown (needs <action>)` and the rest is still shown.

For a pipeline that builds from GitHub, the connection check exists because a PENDING
connection is the first thing to break a new environment: the GitHub App handshake has to be
completed once by a person in the console. A promoted pipeline has no connection; instead it
shows the newest published release when that is newer than what it runs, with the `cicd
promote` command that deploys it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from cicd.aws import Clients
from cicd.contract import APPROVAL_STAGE, CONNECTIONS_CONSOLE_URL, DEPLOY_STAGE, ENVIRONMENTS
from cicd.discovery import PipelineRef, named_pipeline
from cicd.formatting import (
    PLAIN,
    Style,
    format_when,
    short_id,
    short_sha,
    short_version,
    table,
    truncate,
)
from cicd.layout import DeployTarget, PipelineLayout
from cicd.manifests import Manifests
from cicd.partial import Unknown, attempt
from cicd.published import Waiting, published_versions, waiting_release
from cicd.releases import Release, newest_succeeded, recent_releases, with_manifest

# Deployments in these states hold the deployment group: a new one would queue behind them.
RUNNING_DEPLOYMENT_STATUSES = ["Created", "Queued", "InProgress", "Ready"]
STATUS_HISTORY = 25


@dataclass(frozen=True)
class StageStatus:
    name: str
    status: str
    execution_id: str | None
    commit: str | None
    message: str | None
    changed: datetime | None


@dataclass(frozen=True)
class RunningDeployment:
    target: DeployTarget
    deployment_id: str
    status: str
    created: datetime | None
    overview: Mapping[str, int]


@dataclass(frozen=True)
class PipelineStatus:
    """Everything `status` shows about one pipeline; `Unknown` where a read was denied."""

    ref: PipelineRef
    layout: PipelineLayout
    # None: not read (the overview table reads only history and published releases).
    stages: tuple[StageStatus, ...] | Unknown | None
    # The newest successful execution (what runs), and the newest execution of any status.
    live: Release | Unknown | None
    latest: Release | Unknown | None
    deployments: tuple[RunningDeployment, ...] | Unknown | None
    # None for a promoted pipeline (it has no GitHub connection), or when not read.
    connection_status: str | Unknown | None
    # Promoted pipelines only: a newer published release than the live one, if any.
    waiting: Waiting | Unknown | None
    region: str

    @property
    def promotes_from(self) -> str | None:
        return self.ref.promotes_from


def stage_statuses(
    state: Mapping[str, Any], releases: Sequence[Release]
) -> tuple[StageStatus, ...]:
    """Each stage's latest execution, with its commit looked up in the recent history."""
    by_id = {r.execution_id: r for r in releases}
    statuses: list[StageStatus] = []
    for stage in state.get("stageStates", []):
        latest = stage.get("latestExecution") or {}
        execution_id = latest.get("pipelineExecutionId")
        release = by_id.get(execution_id) if execution_id else None
        changes = [
            a["latestExecution"]["lastStatusChange"]
            for a in stage.get("actionStates", [])
            if a.get("latestExecution", {}).get("lastStatusChange")
        ]
        statuses.append(
            StageStatus(
                name=str(stage.get("stageName", "?")),
                status=str(latest.get("status", "never run")),
                execution_id=execution_id,
                commit=release.commit if release else None,
                message=release.message if release else None,
                changed=max(changes) if changes else None,
            )
        )
    return tuple(statuses)


def running_deployments(
    codedeploy: BaseClient, targets: Sequence[DeployTarget]
) -> tuple[RunningDeployment, ...]:
    """Deployments that have not finished, for each CodeDeploy deploy target."""
    running: list[RunningDeployment] = []
    for target in targets:
        ids = codedeploy.list_deployments(
            applicationName=target.application,
            deploymentGroupName=target.deployment_group,
            includeOnlyStatuses=RUNNING_DEPLOYMENT_STATUSES,
        ).get("deployments", [])
        for deployment_id in ids:
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            running.append(
                RunningDeployment(
                    target=target,
                    deployment_id=str(deployment_id),
                    status=str(info.get("status", "?")),
                    created=info.get("createTime"),
                    overview=dict(info.get("deploymentOverview", {})),
                )
            )
    return tuple(running)


def connection_status(codeconnections: BaseClient, connection_arn: str) -> str:
    """PENDING, AVAILABLE or ERROR."""
    response = codeconnections.get_connection(ConnectionArn=connection_arn)
    return str(response["Connection"]["ConnectionStatus"])


def _with_manifests_for(
    history: Sequence[Release], ids: set[str], layout: PipelineLayout, manifests: Manifests
) -> list[Release]:
    """Manifests only for the executions shown: each costs a couple of ranged GETs."""
    return [with_manifest(r, layout, manifests) if r.execution_id in ids else r for r in history]


def _promotes_from(clients: Clients, ref: PipelineRef, layout: PipelineLayout) -> PipelineRef:
    """`ref` with its cicd:promotes-from tag, read when the pipeline was named, not found."""
    if ref.promotes_from is not None or layout.arn is None:
        return ref
    tagged = attempt(lambda: named_pipeline(clients.codepipeline, layout.name, layout.arn))
    if isinstance(tagged, Unknown):
        return ref
    return PipelineRef(
        ref.name, ref.service or tagged.service, ref.stage or tagged.stage, tagged.promotes_from
    )


def gather_status(
    clients: Clients,
    manifests: Manifests,
    ref: PipelineRef,
    layout: PipelineLayout,
    *,
    detail: bool = True,
) -> PipelineStatus:
    """Read what `status` shows; with `detail=False` only the history and published releases
    (for the service x environment table), not the stages, deployments and connection."""
    state = (
        attempt(lambda: clients.codepipeline.get_pipeline_state(name=layout.name))
        if detail
        else None
    )
    read = attempt(lambda: recent_releases(clients.codepipeline, layout, STATUS_HISTORY))
    history: list[Release] = [] if isinstance(read, Unknown) else read
    live = newest_succeeded(history)
    shown = {r.execution_id for r in (live, history[0] if history else None) if r}
    if isinstance(state, Mapping):
        shown |= {
            str(s["latestExecution"]["pipelineExecutionId"])
            for s in state.get("stageStates", [])
            if s.get("latestExecution", {}).get("pipelineExecutionId")
        }
    history = _with_manifests_for(history, shown, layout, manifests)
    live = newest_succeeded(history)
    promoted = layout.promoted
    waiting: Waiting | Unknown | None = None
    if promoted is not None:
        ref = _promotes_from(clients, ref, layout)
        versions = attempt(lambda: published_versions(clients.s3, promoted.location, limit=1))
        waiting = (
            versions
            if isinstance(versions, Unknown)
            else waiting_release(versions, history, manifests, promoted.location)
        )
    github = layout.github
    stages: tuple[StageStatus, ...] | Unknown | None = (
        stage_statuses(state, history) if isinstance(state, Mapping) else state
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
    )


def connection_lines(status: str | Unknown, connection_arn: str, region: str) -> list[str]:
    """The connection's state, and the one-time fix when it is not usable."""
    lines = [f"GitHub connection: {status}  ({connection_arn})"]
    url = CONNECTIONS_CONSOLE_URL.format(region=region)
    if status == "PENDING":
        lines += [
            "  The GitHub App handshake was never completed, so no release can fetch code.",
            f"  Fix it once: open {url}",
            '  select this connection, choose "Update pending connection" and install or pick',
            "  the GitHub App.",
        ]
    elif status != "AVAILABLE" and not isinstance(status, Unknown):
        lines += [
            f"  The connection is unusable. Open {url} to see why; a deleted GitHub App",
            "  installation needs the connection updated again.",
        ]
    return lines


def _progress(overview: Mapping[str, int]) -> str:
    total = sum(overview.values())
    if not total:
        return "no instances reported yet"
    return f"{overview.get('Succeeded', 0)}/{total} targets done"


def describe_live(live: Release | Unknown | None) -> str:
    """`commit abc1234 "Fix login" (execution 1a2b3c4d, release 3HL4kqtJ…)` or why not."""
    if isinstance(live, Unknown):
        return str(live)
    if live is None:
        return "nothing yet (no successful release)"
    commit = f"commit {short_sha(live.commit)}" if live.commit else "commit unknown"
    message = f' "{live.message}"' if live.message else ""
    problem = f" [{live.manifest_problem}]" if live.manifest_problem else ""
    release = f", release {short_version(live.version_id)}" if live.version_id else ""
    return f"{commit}{message} (execution {short_id(live.execution_id)}{release}){problem}"


def promote_command(status: PipelineStatus) -> str:
    """The exact `cicd promote` command that deploys the waiting release to this pipeline."""
    ref = status.ref
    source = ref.promotes_from or "STAGE"
    if ref.service and ref.stage:
        return f"cicd promote --service {ref.service} --from {source} --to {ref.stage}"
    return f"cicd promote --from {source} --to-pipeline {status.layout.name}"


def waiting_lines(status: PipelineStatus, now: datetime) -> list[str]:
    """For a promoted pipeline: the newer published release, and how to deploy it."""
    waiting = status.waiting
    if waiting is None:
        return ["Waiting to be promoted: nothing newer is published"]
    if isinstance(waiting, Unknown):
        return [f"Waiting to be promoted: {waiting}"]
    if waiting.release is None:
        return [f"Waiting to be promoted: the newest published release is {waiting.problem}"]
    release = waiting.release
    published = format_when(release.version.published, now)
    if waiting.running is not None:
        return [
            f"On its way: {release.describe()}, published {published}: execution "
            f"{short_id(waiting.running.execution_id)} is {waiting.running.status}"
        ]
    return [
        f"Waiting to be promoted: {release.describe()}, published {published}",
        f"  {promote_command(status)}",
    ]


def _header(status: PipelineStatus, now: datetime) -> list[str]:
    layout = status.layout
    lines = [f"=== {status.ref.describe()}"]
    promoted, github = layout.promoted, layout.github
    if promoted is not None:
        source = status.promotes_from or "another stage"
        lines.append(f"Source: releases published by {source} ({promoted.location.url()})")
    elif github is not None:
        lines.append(f"Source: {github.repository}@{github.branch}")
        if status.connection_status is not None:
            lines += connection_lines(
                status.connection_status, github.connection_arn, status.region
            )
    lines.append(f"Live: {describe_live(status.live)}")
    if promoted is not None:
        lines += waiting_lines(status, now)
    if layout.publishes_to is not None:
        lines.append(f"Publishes proven releases to {layout.publishes_to.url()}")
    return lines


def _stage_lines(
    stages: tuple[StageStatus, ...] | Unknown | None,
    ref: PipelineRef,
    now: datetime,
    style: Style,
) -> list[str]:
    if stages is None:
        return []
    if isinstance(stages, Unknown):
        return [f"Stages: {stages}"]
    rows = [
        [
            s.name,
            style.status(s.status),
            short_sha(s.commit),
            short_id(s.execution_id) if s.execution_id else "-",
            format_when(s.changed, now),
            truncate(s.message or "", 50),
        ]
        for s in stages
    ]
    lines = table(["STAGE", "STATUS", "COMMIT", "EXECUTION", "CHANGED", "MESSAGE"], rows)
    waiting = next(
        (s for s in stages if s.name == APPROVAL_STAGE and s.status == "InProgress"), None
    )
    if waiting is not None:
        commit = f" --commit {short_sha(waiting.commit)}" if waiting.commit else ""
        lines.append(
            f"Commit {short_sha(waiting.commit)} waits for approval: "
            f"`cicd approve {ref.options()}{commit}` or "
            f"`cicd reject {ref.options()}{commit} --reason TEXT`"
        )
    return lines


def render_status(status: PipelineStatus, now: datetime, style: Style = PLAIN) -> list[str]:
    layout = status.layout
    lines = [*_header(status, now), "", *_stage_lines(status.stages, status.ref, now, style), ""]
    targets = ", ".join(t.describe() for t in layout.deploy_targets) or "none"
    lines.append(f"Deploy targets: {targets}")
    if layout.verifications:
        lines.append(f"Verified after {DEPLOY_STAGE} by: {', '.join(layout.verifications)}")
    deployments = status.deployments
    if isinstance(deployments, Unknown):
        lines.append(f"Deployments in progress: {deployments}")
    elif deployments:
        lines.append("Deployments in progress:")
        lines += [
            f"  {d.target.describe()}  {d.deployment_id}  {style.status(d.status)}  "
            f"{_progress(d.overview)}  created {format_when(d.created, now)}"
            for d in deployments
        ]
    elif deployments is not None:
        lines.append("No CodeDeploy deployment in progress.")
    return lines


# ---------------------------------------------------------------------------------------------
# Every environment at once: one row per service, one column per environment.

WAITS_MARKER = "*"


def overview_cell(status: PipelineStatus, style: Style = PLAIN) -> str:
    """`512572f Succeeded`: the live commit and the newest execution's status.

    When the newest execution is not the live one: `512572f, then 4b3c2a1 InProgress`. A
    promoted pipeline with a newer published release waiting gets the marker `*`.
    """
    live, latest = status.live, status.latest
    if isinstance(live, Unknown):
        return str(live)
    waits = (
        f" {WAITS_MARKER}"
        if isinstance(status.waiting, Waiting) and status.waiting.running is None
        else ""
    )
    if isinstance(status.waiting, Unknown):
        waits = f" ({status.waiting})"
    if latest is None or isinstance(latest, Unknown):
        return "never released" + waits
    if live is None:
        return f"none live, {short_sha(latest.commit)} {style.status(latest.status)}" + waits
    if latest.execution_id == live.execution_id:
        return f"{short_sha(live.commit)} {style.status(live.status)}" + waits
    return (
        f"{short_sha(live.commit)}, then {short_sha(latest.commit)} "
        f"{style.status(latest.status)}{waits}"
    )


def render_overview(
    statuses: Sequence[PipelineStatus], now: datetime, style: Style = PLAIN
) -> list[str]:
    """The service x environment table, then what waits to be promoted and how."""
    stages = [e for e in ENVIRONMENTS if any(s.ref.stage == e for s in statuses)]
    stages += sorted({s.ref.stage for s in statuses if s.ref.stage and s.ref.stage not in stages})
    services = sorted({s.ref.service or s.layout.name for s in statuses})
    cells = {(s.ref.service or s.layout.name, s.ref.stage): s for s in statuses}
    rows = [
        [
            service,
            *(
                overview_cell(cells[(service, stage)], style) if (service, stage) in cells else "-"
                for stage in stages
            ),
        ]
        for service in services
    ]
    lines = table(["SERVICE", *(stage.upper() for stage in stages)], rows)
    waiting = [
        s for s in statuses if isinstance(s.waiting, Waiting) and s.waiting.release is not None
    ]
    waiting = [s for s in waiting if isinstance(s.waiting, Waiting) and s.waiting.running is None]
    if waiting:
        lines += ["", f"{WAITS_MARKER} a newer proven release waits to be promoted:"]
        for s in waiting:
            assert isinstance(s.waiting, Waiting) and s.waiting.release is not None
            lines.append(
                f"  {s.ref.service} {s.ref.stage}: {s.waiting.release.describe()}, published "
                f"{format_when(s.waiting.release.version.published, now)}"
            )
            lines.append(f"    {promote_command(s)}")
    lines += ["", "Details per stage: cicd status --service SERVICE"]
    return lines
