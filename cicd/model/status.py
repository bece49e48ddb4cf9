"""What `cicd status` knows about a pipeline, and the stand-in for what it could not read.

Plain, frozen data: `Unknown` (a value a command could not read for lack of permission: its
text names the IAM action), `StageStatus`, `RunningDeployment` and `PipelineStatus`.
`cicd.aws.status` reads them; nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cicd.model.controls import Freeze
from cicd.model.pipeline import DeployTarget, PipelineLayout, PipelineRef
from cicd.model.release import Release, Waiting


@dataclass(frozen=True)
class Unknown:
    """A value the command could not read; `reason` is what to print in its place."""

    reason: str

    def __str__(self) -> str:
        return self.reason


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
    # The Deploy stage's inbound transition (None: not read, or no Deploy stage).
    freeze: Freeze | Unknown | None = None

    @property
    def promotes_from(self) -> str | None:
        return self.ref.promotes_from
