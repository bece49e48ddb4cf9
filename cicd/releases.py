"""Releases: pipeline executions read as Heroku reads releases, and starting new ones.

Defines `Release` (one execution: commit, message, trigger, status, timing), reading the recent
history (`recent_releases`), choosing from it (`newest_succeeded`, `resolve_commit`,
`resolve_execution`) and starting an execution at a commit (`start_release`) or at a published
release's object version (`start_promoted`). For a promoted pipeline an execution's source
revision is an S3 object version, and its commit comes from that version's manifest
(`with_manifests`). Following an execution until it ends lives in `progress`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from botocore.client import BaseClient

from cicd.contract import S3_VERSION_REVISION
from cicd.errors import Refused, UsageError
from cicd.formatting import commit_message, short_id, short_sha
from cicd.layout import PipelineLayout, ReleaseSource, Source
from cicd.manifests import Manifests

# How far back `promote`, `rollback` and SHA-prefix lookups search: one full page of history.
HISTORY_DEPTH = 100
PAGE_SIZE = 100

ROLLBACK_TRIGGERS = {"ManualRollback", "AutomatedRollback"}
TERMINAL_STATUSES = {"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"}

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHA_PREFIX = re.compile(r"^[0-9a-f]{7,39}$")


@dataclass(frozen=True)
class Release:
    """One pipeline execution, newest-first lists of which make the release history."""

    execution_id: str
    status: str
    commit: str | None = None
    message: str | None = None
    trigger: str = "-"
    started: datetime | None = None
    updated: datetime | None = None
    rollback_target: str | None = None
    is_rollback: bool = False
    # Promoted pipelines: the S3 object version deployed, and why its manifest could not be read.
    version_id: str | None = None
    manifest_problem: str | None = None

    def duration(self, now: datetime) -> timedelta | None:
        """Wall time so far for a running execution; start to last update for a finished one."""
        if self.started is None:
            return None
        end = self.updated if self.status in TERMINAL_STATUSES else now
        return None if end is None else end - self.started

    def describe_commit(self) -> str:
        """`commit abc1234 "Fix login"`."""
        message = f' "{self.message}"' if self.message else ""
        return f"commit {short_sha(self.commit)}{message}"

    def describe(self) -> str:
        """`1a2b3c4d (commit abc1234 "Fix login")`: how commands name a release in prose."""
        return f"{short_id(self.execution_id)} ({self.describe_commit()})"


def _revision_fields(revision: Mapping[str, Any] | None, source: Source | None) -> dict[str, Any]:
    """Commit and message of a GitHub revision; the object version of a release revision."""
    if revision is None:
        return {}
    if isinstance(source, ReleaseSource):
        return {"version_id": revision.get("revisionId")}
    return {
        "commit": revision.get("revisionId"),
        "message": commit_message(revision.get("revisionSummary")),
    }


def release_from_summary(summary: Mapping[str, Any], source: Source | None) -> Release:
    """A `Release` from one `list_pipeline_executions` summary.

    The revision is the one of the source action (the GitHub or the Release action) when
    present, else the first source revision: the pipelines have a single source.
    """
    revisions: list[Mapping[str, Any]] = list(summary.get("sourceRevisions", []))
    action = source.action_name if source else None
    revision = next(
        (r for r in revisions if r.get("actionName") == action),
        revisions[0] if revisions else None,
    )
    trigger = summary.get("trigger", {}).get("triggerType", "-")
    target = summary.get("rollbackMetadata", {}).get("rollbackTargetPipelineExecutionId")
    return Release(
        execution_id=str(summary["pipelineExecutionId"]),
        status=str(summary.get("status", "-")),
        trigger=trigger,
        started=summary.get("startTime"),
        updated=summary.get("lastUpdateTime"),
        rollback_target=target,
        is_rollback=summary.get("executionType") == "ROLLBACK" or trigger in ROLLBACK_TRIGGERS,
        **_revision_fields(revision, source),
    )


def release_from_execution(execution: Mapping[str, Any], source: Source | None = None) -> Release:
    """A `Release` from a `get_pipeline_execution()["pipelineExecution"]` document."""
    revisions: list[Mapping[str, Any]] = list(execution.get("artifactRevisions", []))
    revision = revisions[0] if revisions else None
    trigger = execution.get("trigger", {}).get("triggerType", "-")
    return Release(
        execution_id=str(execution["pipelineExecutionId"]),
        status=str(execution.get("status", "-")),
        trigger=trigger,
        rollback_target=execution.get("rollbackMetadata", {}).get(
            "rollbackTargetPipelineExecutionId"
        ),
        is_rollback=execution.get("executionType") == "ROLLBACK" or trigger in ROLLBACK_TRIGGERS,
        **_revision_fields(revision, source),
    )


def recent_releases(
    codepipeline: BaseClient, layout: PipelineLayout, limit: int = HISTORY_DEPTH
) -> list[Release]:
    """Up to `limit` executions of the pipeline, newest first (the order AWS returns)."""
    releases: list[Release] = []
    token: str | None = None
    while len(releases) < limit:
        request: dict[str, Any] = {
            "pipelineName": layout.name,
            "maxResults": min(PAGE_SIZE, limit - len(releases)),
        }
        if token:
            request["nextToken"] = token
        page = codepipeline.list_pipeline_executions(**request)
        releases.extend(
            release_from_summary(summary, layout.source)
            for summary in page.get("pipelineExecutionSummaries", [])
        )
        token = page.get("nextToken")
        if not token:
            break
    return releases[:limit]


def with_manifest(release: Release, layout: PipelineLayout, manifests: Manifests) -> Release:
    """`release` with the commit and message of its manifest, for a promoted pipeline.

    When the manifest cannot be read, `manifest_problem` says why and the commit stays unknown.
    """
    promoted = layout.promoted
    if promoted is None or release.version_id is None or release.commit is not None:
        return release
    found = manifests.lookup(promoted.location, release.version_id)
    if isinstance(found, str):
        return replace(release, manifest_problem=found)
    return replace(release, commit=found.commit, message=commit_message(found.message))


def with_manifests(
    releases: Sequence[Release], layout: PipelineLayout, manifests: Manifests
) -> list[Release]:
    """`with_manifest` for each release (a no-op list copy for GitHub-built pipelines)."""
    return [with_manifest(release, layout, manifests) for release in releases]


def newest_succeeded(releases: Sequence[Release]) -> Release | None:
    """The newest Succeeded execution in a newest-first list, if any."""
    return next((r for r in releases if r.status == "Succeeded"), None)


def validate_commit(given: str) -> str:
    """`given` lowercased if it looks like a full or abbreviated SHA; UsageError otherwise."""
    commit = given.strip().lower()
    if not (_FULL_SHA.match(commit) or _SHA_PREFIX.match(commit)):
        raise UsageError(
            f"--commit {given!r} is not a commit SHA",
            "give 7 to 40 hexadecimal characters, as `git rev-parse HEAD` prints",
        )
    return commit


def commit_matches(commit: str | None, given: str) -> bool:
    """True when `given` (full or abbreviated, any case) names `commit`."""
    return commit is not None and commit.lower().startswith(given.strip().lower())


def resolve_commit(given: str, releases: Sequence[Release]) -> str:
    """The full SHA for `given`: itself when full, else the one known commit it abbreviates.

    CodePipeline needs the full SHA to fetch a commit, and only commits that were released
    before can be expanded offline, so an unknown abbreviation is a usage error.
    """
    commit = validate_commit(given)
    if _FULL_SHA.match(commit):
        return commit
    known = sorted({r.commit for r in releases if r.commit and commit_matches(r.commit, commit)})
    if len(known) == 1:
        return known[0]
    if not known:
        raise UsageError(
            f"commit {commit} was never released by this pipeline, so it cannot be expanded",
            "pass the full 40-character SHA (`git rev-parse <sha>`)",
        )
    raise UsageError(
        f"commit {commit} is ambiguous: {', '.join(c[:12] for c in known)}",
        "pass more characters of the SHA",
    )


def resolve_execution(given: str, releases: Sequence[Release]) -> Release | None:
    """The release whose execution id starts with `given`; None if no listed one does."""
    matches = [r for r in releases if r.execution_id.startswith(given.strip().lower())]
    if len(matches) > 1:
        raise UsageError(
            f"execution id {given} is ambiguous ({len(matches)} executions start with it)",
            "pass more characters, or the full id from `cicd releases --json`",
        )
    return matches[0] if matches else None


def get_release(
    codepipeline: BaseClient, pipeline: str, execution_id: str, source: Source | None = None
) -> Release:
    """One execution by its full id (NotFound when the pipeline has no such execution)."""
    response = codepipeline.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=execution_id
    )
    return release_from_execution(response["pipelineExecution"], source)


def start_release(codepipeline: BaseClient, layout: PipelineLayout, commit: str | None) -> str:
    """Start the pipeline at `commit` (the branch head when None); returns the execution id.

    Only for pipelines that build from GitHub; a promoted one starts with `start_promoted`.
    """
    if layout.promoted is not None:
        raise Refused(
            f"{layout.name} deploys releases published by another stage, it builds nothing itself",
            "start it with `cicd promote` (see `cicd status` for the release waiting)",
        )
    request: dict[str, Any] = {"name": layout.name}
    if commit:
        request["sourceRevisions"] = [
            {
                "actionName": layout.source.action_name,
                "revisionType": "COMMIT_ID",
                "revisionValue": commit,
            }
        ]
    return str(codepipeline.start_pipeline_execution(**request)["pipelineExecutionId"])


def start_promoted(codepipeline: BaseClient, layout: PipelineLayout, version_id: str) -> str:
    """Start a promoted pipeline on one published release (an object version); returns the id."""
    promoted = layout.promoted
    if promoted is None:
        raise Refused(f"{layout.name} builds from GitHub: start it at a commit instead")
    response = codepipeline.start_pipeline_execution(
        name=layout.name,
        sourceRevisions=[
            {
                "actionName": promoted.action_name,
                "revisionType": S3_VERSION_REVISION,
                "revisionValue": version_id,
            }
        ],
    )
    return str(response["pipelineExecutionId"])


def promotion_commit(
    source: Sequence[Release],
    target: Sequence[Release],
    *,
    source_name: str,
    target_name: str,
    commit: str | None = None,
) -> Release:
    """The release of `source` to promote, refusing when there is none or it is already live.

    The newest successful one, or with `commit` the newest successful one of that commit.
    Pure: both histories are newest-first lists from `recent_releases`.
    """
    succeeded = [r for r in source if r.status == "Succeeded" and r.commit is not None]
    if commit is not None:
        candidate = next((r for r in succeeded if commit_matches(r.commit, commit)), None)
        if candidate is None:
            raise Refused(
                f"commit {commit} never succeeded in {source_name} among its last "
                f"{len(source)} executions",
                "release it there first and wait for it to succeed",
            )
    elif succeeded:
        candidate = succeeded[0]
    else:
        raise Refused(
            f"nothing to promote: {source_name} has no successful release with a known commit "
            f"among its last {len(source)} executions",
            "release it first (`cicd release`) and wait for it to succeed",
        )
    live = newest_succeeded(target)
    if live is not None and live.commit == candidate.commit:
        what = "commit you asked to promote" if commit else "newest successful release of"
        raise Refused(
            f"{target_name} already runs commit {short_sha(candidate.commit)} "
            f"(execution {short_id(live.execution_id)}), the {what}"
            + ("" if commit else f" {source_name}"),
            "nothing to promote until a newer commit succeeds upstream",
        )
    return candidate
