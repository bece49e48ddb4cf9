"""What `cicd status` reads about a pipeline: stages, what is live, what waits, deployments,
the connection.

`stage_statuses` reads a `get_pipeline_state` document; `running_deployments` and
`connection_status` read CodeDeploy and CodeConnections; `with_promotes_from` reads the tags of
a pipeline named with `--pipeline`. `cicd.cli.status` gathers these into a `PipelineStatus`,
each read attempted on its own (`partial.attempt`), and `cicd.render.status` prints it.

For a pipeline that builds from GitHub, the connection check exists because a PENDING
connection is the first thing to break a new environment: the GitHub App handshake has to be
completed once by a person in the console. A promoted pipeline has no connection; instead it
shows the newest published release when that is newer than what it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.client import BaseClient

from cicd.aws.clients import Clients
from cicd.aws.manifests import Manifests, with_manifest
from cicd.aws.partial import attempt
from cicd.aws.pipelines import named_pipeline
from cicd.model.pipeline import DeployTarget, PipelineLayout, PipelineRef
from cicd.model.release import Release
from cicd.model.status import RunningDeployment, StageStatus, Unknown

# Deployments in these states hold the deployment group: a new one would queue behind them.
RUNNING_DEPLOYMENT_STATUSES = ["Created", "Queued", "InProgress", "Ready"]


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


def with_manifests_for(
    history: Sequence[Release], ids: set[str], layout: PipelineLayout, manifests: Manifests
) -> list[Release]:
    """Manifests only for the executions shown: each costs a couple of ranged GETs."""
    return [with_manifest(r, layout, manifests) if r.execution_id in ids else r for r in history]


def with_promotes_from(clients: Clients, ref: PipelineRef, layout: PipelineLayout) -> PipelineRef:
    """`ref` with its cicd:promotes-from tag, read when the pipeline was named, not found."""
    if ref.promotes_from is not None or layout.arn is None:
        return ref
    tagged = attempt(lambda: named_pipeline(clients.codepipeline, layout.name, layout.arn))
    if isinstance(tagged, Unknown):
        return ref
    return PipelineRef(
        ref.name, ref.service or tagged.service, ref.stage or tagged.stage, tagged.promotes_from
    )
