"""What `cicd status` shows: stages, running CodeDeploy deployments and the GitHub connection.

`gather_status` makes the AWS calls and returns plain data; `render_status` turns it into lines.
The connection check exists because a PENDING connection is the first thing to break a new
environment: the GitHub App handshake has to be completed once by a person in the console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from cicd.aws import Clients
from cicd.contract import APPROVAL_STAGE, CONNECTIONS_CONSOLE_URL
from cicd.discovery import PipelineRef
from cicd.formatting import format_time, short_id, short_sha, table, truncate
from cicd.layout import DeployTarget, PipelineLayout
from cicd.releases import Release, recent_releases

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
    ref: PipelineRef
    layout: PipelineLayout
    stages: tuple[StageStatus, ...]
    deployments: tuple[RunningDeployment, ...]
    connection_status: str
    region: str


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


def gather_status(clients: Clients, ref: PipelineRef, layout: PipelineLayout) -> PipelineStatus:
    state = clients.codepipeline.get_pipeline_state(name=layout.name)
    releases = recent_releases(clients.codepipeline, layout, STATUS_HISTORY)
    return PipelineStatus(
        ref=ref,
        layout=layout,
        stages=stage_statuses(state, releases),
        deployments=running_deployments(clients.codedeploy, layout.codedeploy_targets),
        connection_status=connection_status(clients.codeconnections, layout.source.connection_arn),
        region=clients.region,
    )


def connection_lines(status: str, connection_arn: str, region: str) -> list[str]:
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
    elif status != "AVAILABLE":
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


def render_status(status: PipelineStatus) -> list[str]:
    layout = status.layout
    source = layout.source
    lines = [
        f"=== {status.ref.describe()}",
        f"Source: {source.repository}@{source.branch}",
        *connection_lines(status.connection_status, source.connection_arn, status.region),
        "",
    ]
    rows = [
        [
            s.name,
            s.status,
            short_sha(s.commit),
            short_id(s.execution_id) if s.execution_id else "-",
            format_time(s.changed),
            truncate(s.message or "", 50),
        ]
        for s in status.stages
    ]
    lines += table(["STAGE", "STATUS", "COMMIT", "EXECUTION", "CHANGED", "MESSAGE"], rows)
    waiting = next(
        (s for s in status.stages if s.name == APPROVAL_STAGE and s.status == "InProgress"), None
    )
    if waiting is not None:
        lines.append(
            f"Commit {short_sha(waiting.commit)} waits for approval: `cicd approve` or "
            "`cicd reject --reason TEXT`"
        )
    lines.append("")
    targets = ", ".join(t.describe() for t in layout.deploy_targets) or "none"
    lines.append(f"Deploy targets: {targets}")
    if status.deployments:
        lines.append("Deployments in progress:")
        lines += [
            f"  {d.target.describe()}  {d.deployment_id}  {d.status}  "
            f"{_progress(d.overview)}  created {format_time(d.created)}"
            for d in status.deployments
        ]
    else:
        lines.append("No CodeDeploy deployment in progress.")
    return lines
