"""`cicd status` as text: one pipeline stage by stage, or every service x environment at once.

`render_status` prints one pipeline: a frozen Deploy (who froze it, when, why), its source (and
the GitHub connection's state, with the one-time fix when it is PENDING), what is live, what
waits to be promoted and the exact `cicd promote` command (never a rejected release), the
stages, deploy targets and running deployments. `render_overview` prints
the service x environment table. Both take a `PipelineStatus` and return lines; nothing here
reads AWS or writes to a stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from cicd.contract import APPROVAL_STAGE, CONNECTIONS_CONSOLE_URL, DEPLOY_STAGE, ENVIRONMENTS
from cicd.model.controls import Freeze
from cicd.model.pipeline import PipelineRef
from cicd.model.release import Release, Waiting
from cicd.model.status import PipelineStatus, StageStatus, Unknown
from cicd.text import (
    PLAIN,
    Style,
    format_when,
    short_id,
    short_sha,
    short_version,
    table,
    truncate,
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


def unfreeze_command(status: PipelineStatus) -> str:
    """The exact `cicd unfreeze` command that lets releases into this pipeline's Deploy again."""
    return f"cicd unfreeze {status.ref.options()}"


def freeze_lines(status: PipelineStatus, now: datetime) -> list[str]:
    """A frozen Deploy: since when, by whom, why, and how to lift it (nothing when not frozen)."""
    freeze = status.freeze
    if isinstance(freeze, Unknown):
        return [f"Frozen: {freeze}"]
    if freeze is None or not freeze.frozen:
        return []
    by = f" by {freeze.changed_by}" if freeze.changed_by else ""
    why = f': "{freeze.reason}"' if freeze.reason else ""
    return [
        f"FROZEN: no release enters {DEPLOY_STAGE} since {format_when(freeze.changed_at, now)}"
        f"{by}{why}",
        f"  `{unfreeze_command(status)}` lifts it",
    ]


def _rejected_lines(waiting: Waiting) -> list[str]:
    lines = [f"  passed over: {r.describe()} is {r.rejection.describe()}" for r in waiting.rejected]
    if waiting.unchecked:
        lines.append(f"  rejections not checked: {waiting.unchecked}")
    return lines


def waiting_lines(status: PipelineStatus, now: datetime) -> list[str]:
    """For a promoted pipeline: the newer published release, and how to deploy it."""
    waiting = status.waiting
    if waiting is None:
        return ["Waiting to be promoted: nothing newer is published"]
    if isinstance(waiting, Unknown):
        return [f"Waiting to be promoted: {waiting}"]
    if waiting.release is None:
        if waiting.problem is None:
            return [
                "Waiting to be promoted: nothing (every newer published release is rejected)",
                *_rejected_lines(waiting),
            ]
        return [
            f"Waiting to be promoted: the newest published release is {waiting.problem}",
            *_rejected_lines(waiting),
        ]
    release = waiting.release
    published = format_when(release.version.published, now)
    if waiting.running is not None:
        return [
            f"On its way: {release.describe()}, published {published}: execution "
            f"{short_id(waiting.running.execution_id)} is {waiting.running.status}",
            *_rejected_lines(waiting),
        ]
    return [
        f"Waiting to be promoted: {release.describe()}, published {published}",
        f"  {promote_command(status)}",
        *_rejected_lines(waiting),
    ]


def _header(status: PipelineStatus, now: datetime) -> list[str]:
    layout = status.layout
    lines = [f"=== {status.ref.describe()}", *freeze_lines(status, now)]
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
FROZEN_MARKER = "[frozen]"


def overview_cell(status: PipelineStatus, style: Style = PLAIN) -> str:
    """`512572f Succeeded`: the live commit and the newest execution's status.

    When the newest execution is not the live one: `512572f, then 4b3c2a1 InProgress`. A
    promoted pipeline with a newer published release waiting gets the marker `*`.
    """
    live, latest = status.live, status.latest
    if isinstance(live, Unknown):
        return str(live)
    waiting = status.waiting
    waits = (
        f" {WAITS_MARKER}"
        if isinstance(waiting, Waiting)
        and waiting.running is None
        and (waiting.release is not None or waiting.problem is not None)
        else ""
    )
    if isinstance(waiting, Unknown):
        waits = f" ({waiting})"
    if isinstance(status.freeze, Freeze) and status.freeze.frozen:
        waits += f" {FROZEN_MARKER}"
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
    frozen = [s for s in statuses if isinstance(s.freeze, Freeze) and s.freeze.frozen]
    if frozen:
        lines += ["", f"{FROZEN_MARKER} no release enters Deploy:"]
        for s in frozen:
            assert isinstance(s.freeze, Freeze)
            by = f" by {s.freeze.changed_by}" if s.freeze.changed_by else ""
            why = f': "{s.freeze.reason}"' if s.freeze.reason else ""
            where = " ".join(part for part in (s.ref.service or s.layout.name, s.ref.stage) if part)
            lines.append(
                f"  {where}: frozen since {format_when(s.freeze.changed_at, now)}{by}{why}"
            )
            lines.append(f"    {unfreeze_command(s)}")
    lines += ["", "Details per stage: cicd status --service SERVICE"]
    return lines
