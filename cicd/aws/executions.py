"""Pipeline executions: reading them as releases, starting them, and what each one ran.

Reading: `recent_releases` (the newest executions, as `Release`s), `history_since` (every page
back to a moment, for metrics), `get_release` (one by id); `release_from_summary` and
`release_from_execution` read AWS's two documents of an execution. For a promoted pipeline an
execution's source revision is an S3 object version, and its commit comes from that version's
manifest (`cicd.aws.manifests.with_manifest`).

Starting: `start_release` (a pipeline that builds from GitHub, at the branch head or a commit)
and `start_promoted` (a promoted pipeline, on one published release's object version).

What an execution ran: `action_runs` (every action, all pages), `with_builds` (the CodeBuild
builds behind them, their logs and test report totals) and `gather_info`, everything `cicd
info` shows. Each read past the execution itself is attempted on its own (`partial.attempt`):
a missing permission shows as `unknown (needs ...)` in place of what it would have shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from cicd.aws.clients import Clients
from cicd.aws.manifests import Manifests, with_manifest
from cicd.aws.partial import attempt
from cicd.aws.variables import kind_and_note
from cicd.contract import S3_VERSION_REVISION
from cicd.errors import Refused
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseSource, Source
from cicd.model.release import ROLLBACK_TRIGGERS, Release
from cicd.model.run import ActionRun, ExecutionInfo, TestTotals
from cicd.model.status import Unknown
from cicd.text import commit_message

# How far back `promote`, `rollback` and SHA-prefix lookups search: one full page of history.
HISTORY_DEPTH = 100
PAGE_SIZE = 100
_BATCH = 100  # batch_get_builds and batch_get_reports take at most 100 ids a call


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
    kind, note = kind_and_note(execution)
    return Release(
        execution_id=str(execution["pipelineExecutionId"]),
        status=str(execution.get("status", "-")),
        trigger=trigger,
        rollback_target=execution.get("rollbackMetadata", {}).get(
            "rollbackTargetPipelineExecutionId"
        ),
        is_rollback=execution.get("executionType") == "ROLLBACK" or trigger in ROLLBACK_TRIGGERS,
        kind=kind,
        note=note,
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


def history_since(
    codepipeline: BaseClient, layout: PipelineLayout, since: datetime
) -> list[Release]:
    """Every execution that started at or after `since`, newest first: all the pages needed."""
    found: list[Release] = []
    request: dict[str, Any] = {"pipelineName": layout.name, "maxResults": PAGE_SIZE}
    while True:
        page = codepipeline.list_pipeline_executions(**request)
        summaries = page.get("pipelineExecutionSummaries", [])
        releases = [release_from_summary(s, layout.source) for s in summaries]
        found += [r for r in releases if r.started is not None and r.started >= since]
        older = any(r.started is not None and r.started < since for r in releases)
        if older or not page.get("nextToken"):
            return found
        request["nextToken"] = page["nextToken"]


def failed_stage(codepipeline: BaseClient, pipeline: str, execution_id: str) -> str | None:
    """The stage of the action that failed in an execution (None if no action failed)."""
    runs = action_runs(codepipeline, pipeline, execution_id)
    return next((r.stage for r in runs if r.status == "Failed"), None)


def _output_location(detail: Mapping[str, Any]) -> tuple[str, str] | None:
    for artifact in detail.get("output", {}).get("outputArtifacts", []):
        where = artifact.get("s3location") or {}
        if where.get("bucket") and where.get("key"):
            return str(where["bucket"]), str(where["key"])
    return None


def _action_run(detail: Mapping[str, Any]) -> ActionRun:
    result = detail.get("output", {}).get("executionResult", {})
    provider = str(detail.get("input", {}).get("actionTypeId", {}).get("provider", "?"))
    error = result.get("errorDetails", {}).get("message")
    return ActionRun(
        stage=str(detail.get("stageName", "?")),
        action=str(detail.get("actionName", "?")),
        status=str(detail.get("status", "?")),
        provider=provider,
        started=detail.get("startTime"),
        updated=detail.get("lastUpdateTime"),
        summary=result.get("externalExecutionSummary"),
        error=error,
        external_id=result.get("externalExecutionId"),
        url=result.get("externalExecutionUrl"),
        updated_by=detail.get("updatedBy"),
        log_stream_arn=result.get("logStreamARN"),
        project=detail.get("input", {}).get("configuration", {}).get("ProjectName"),
        output_location=_output_location(detail),
    )


def action_runs(codepipeline: BaseClient, pipeline: str, execution_id: str) -> list[ActionRun]:
    """Every action the execution ran, all pages, in the order they started."""
    runs: list[ActionRun] = []
    request: dict[str, Any] = {
        "pipelineName": pipeline,
        "filter": {"pipelineExecutionId": execution_id},
        "maxResults": 100,
    }
    while True:
        page = codepipeline.list_action_executions(**request)
        runs.extend(_action_run(d) for d in page.get("actionExecutionDetails", []))
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    return sorted(runs, key=lambda r: (r.started is None, r.started or datetime.min))


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield list(items[start : start + _BATCH])


def builds_by_id(codebuild: BaseClient, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for chunk in _chunks(ids):
        for build in codebuild.batch_get_builds(ids=chunk).get("builds", []):
            found[str(build["id"])] = build
    return found


def test_totals(codebuild: BaseClient, report_arns: Sequence[str]) -> dict[str, TestTotals]:
    """Each test report's totals by report ARN (CodeBuild counts statuses in upper case)."""
    totals: dict[str, TestTotals] = {}
    for chunk in _chunks(report_arns):
        for report in codebuild.batch_get_reports(reportArns=chunk).get("reports", []):
            summary = report.get("testSummary") or {}
            counts: Mapping[str, int] = summary.get("statusCounts", {})
            totals[str(report["arn"])] = TestTotals(
                report=str(report.get("name") or report["arn"].rsplit("/", 1)[-1]),
                total=int(summary.get("total", sum(counts.values()))),
                passed=int(counts.get("SUCCEEDED", 0)),
                failed=int(counts.get("FAILED", 0)) + int(counts.get("ERROR", 0)),
                skipped=int(counts.get("SKIPPED", 0)),
            )
    return totals


def with_builds(
    clients: Clients, runs: Sequence[ActionRun], *, tests: bool = True
) -> tuple[list[ActionRun], Unknown | None]:
    """CodeBuild actions with their build's log location and (with `tests`) test totals."""
    ids = [r.external_id for r in runs if r.provider == "CodeBuild" and r.external_id]
    if not ids:
        return list(runs), None
    builds = attempt(lambda: builds_by_id(clients.codebuild, ids))
    if isinstance(builds, Unknown):
        return [replace(r, tests=builds) if r.provider == "CodeBuild" else r for r in runs], builds
    arns = [arn for build in builds.values() for arn in build.get("reportArns", [])]
    totals = attempt(lambda: test_totals(clients.codebuild, arns)) if arns and tests else {}
    enriched: list[ActionRun] = []
    for run in runs:
        build = builds.get(run.external_id or "")
        if run.provider != "CodeBuild" or build is None:
            enriched.append(run)
            continue
        logs = build.get("logs", {})
        suites: tuple[TestTotals, ...] | Unknown = (
            totals
            if isinstance(totals, Unknown)
            else tuple(totals[a] for a in build.get("reportArns", []) if a in totals)
        )
        enriched.append(
            replace(
                run,
                project=run.project or build.get("projectName"),
                log_group=logs.get("groupName"),
                log_stream=logs.get("streamName"),
                tests=suites if tests else None,
            )
        )
    return enriched, None


def gather_info(
    clients: Clients,
    manifests: Manifests,
    ref: PipelineRef,
    layout: PipelineLayout,
    listed: Release,
) -> ExecutionInfo:
    """`listed` (from the history, with its times) read whole."""
    execution = clients.codepipeline.get_pipeline_execution(
        pipelineName=layout.name, pipelineExecutionId=listed.execution_id
    )["pipelineExecution"]
    fresh = release_from_execution(execution, layout.source)
    release = with_manifest(
        replace(
            listed,
            status=fresh.status,
            version_id=listed.version_id or fresh.version_id,
            commit=listed.commit or fresh.commit,
            message=listed.message or fresh.message,
            kind=fresh.kind or ("code" if layout.declares_release_variables else None),
            note=fresh.note,
        ),
        layout,
        manifests,
    )
    runs = attempt(lambda: action_runs(clients.codepipeline, layout.name, listed.execution_id))
    builds_unknown: Unknown | None = None
    if not isinstance(runs, Unknown):
        runs, builds_unknown = with_builds(clients, runs)
    trigger = execution.get("trigger", {})
    return ExecutionInfo(
        ref=ref,
        layout=layout,
        region=clients.region,
        release=release,
        status_summary=execution.get("statusSummary"),
        trigger_type=str(trigger.get("triggerType", listed.trigger)),
        trigger_detail=trigger.get("triggerDetail") or None,
        actions=runs if isinstance(runs, Unknown) else tuple(runs),
        builds_unknown=builds_unknown,
    )
