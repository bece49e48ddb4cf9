"""One release, whole: what `cicd info` shows, and the action list `cicd logs` starts from.

`gather_info` reads the execution (`get_pipeline_execution`), every action it ran
(`list_action_executions`, all pages), the CodeBuild builds behind them (`batch_get_builds`)
and their test reports (`batch_get_reports`). Each read past the execution itself is attempted
on its own (`partial.attempt`): a missing permission shows as `unknown (needs ...)` in place of
what it would have shown. `render_info` turns the result into lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from cicd.aws import Clients
from cicd.contract import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    build_console_url,
    deployment_console_url,
    execution_console_url,
)
from cicd.discovery import PipelineRef
from cicd.formatting import (
    PLAIN,
    Style,
    format_duration,
    format_when,
    short_id,
    short_version,
    table,
    truncate,
)
from cicd.layout import PipelineLayout
from cicd.manifests import Manifests
from cicd.partial import Unknown, attempt
from cicd.releases import Release, release_from_execution, with_manifest

_BATCH = 100  # batch_get_builds and batch_get_reports take at most 100 ids a call


@dataclass(frozen=True)
class TestTotals:
    """One CodeBuild test report's summary."""

    report: str
    total: int
    passed: int
    failed: int
    skipped: int

    def describe(self) -> str:
        other = self.total - self.passed - self.failed - self.skipped
        rest = f", {other} other" if other else ""
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped{rest}"


@dataclass(frozen=True)
class ActionRun:
    """One action of the execution as CodePipeline ran it, with what it ran elsewhere."""

    stage: str
    action: str
    status: str
    provider: str
    started: datetime | None = None
    updated: datetime | None = None
    summary: str | None = None
    error: str | None = None
    external_id: str | None = None
    url: str | None = None
    updated_by: str | None = None
    log_stream_arn: str | None = None
    project: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    tests: tuple[TestTotals, ...] | Unknown | None = None

    @property
    def duration(self) -> str:
        if self.started is None or self.updated is None:
            return "-"
        return format_duration(self.updated - self.started)


@dataclass(frozen=True)
class ExecutionInfo:
    """Everything `cicd info` shows about one execution."""

    ref: PipelineRef
    layout: PipelineLayout
    region: str
    release: Release
    status_summary: str | None
    trigger_type: str
    trigger_detail: str | None
    actions: tuple[ActionRun, ...] | Unknown
    builds_unknown: Unknown | None = None

    @property
    def console_url(self) -> str:
        return execution_console_url(self.region, self.layout.name, self.release.execution_id)

    @property
    def approval(self) -> ActionRun | None:
        if isinstance(self.actions, Unknown):
            return None
        return next(
            (a for a in self.actions if a.stage == APPROVAL_STAGE and a.action == APPROVAL_ACTION),
            None,
        )


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


def action_url(run: ActionRun, region: str) -> str | None:
    """The console page of what the action ran: its build, its deployment, or AWS's link."""
    if run.url:
        return run.url
    if run.provider == "CodeBuild" and run.project and run.external_id:
        return build_console_url(region, run.project, run.external_id)
    if run.provider == "CodeDeploy" and run.external_id:
        return deployment_console_url(region, run.external_id)
    return None


def _result(run: ActionRun) -> str:
    parts: list[str] = []
    if isinstance(run.tests, Unknown):
        parts.append(f"tests {run.tests}")
    elif run.tests:
        parts += [f"{t.report}: {t.describe()}" for t in run.tests]
    if run.error:
        parts.append(run.error)
    elif run.summary and run.stage != APPROVAL_STAGE:
        parts.append(run.summary)
    return truncate("; ".join(parts), 120)


def render_info(info: ExecutionInfo, now: datetime, style: Style = PLAIN) -> list[str]:
    release = info.release
    lines = [f"=== Release {release.execution_id} of {info.ref.describe()}"]
    summary = f": {info.status_summary}" if info.status_summary else ""
    lines.append(f"Status:    {style.status(release.status)}{summary}")
    version = f" (release {short_version(release.version_id)})" if release.version_id else ""
    problem = f" [{release.manifest_problem}]" if release.manifest_problem else ""
    lines.append(f"Commit:    {release.describe_commit()}{version}{problem}")
    by = f" by {info.trigger_detail}" if info.trigger_detail else ""
    lines.append(f"Trigger:   {info.trigger_type}{by}")
    lines.append(
        f"Started:   {format_when(release.started, now)}, "
        f"duration {format_duration(release.duration(now))}"
    )
    if release.rollback_target:
        lines.append(f"Restores:  execution {short_id(release.rollback_target)} (a rollback)")
    approval = info.approval
    if approval is not None:
        comment = f': "{approval.summary}"' if approval.summary else ""
        who = f" by {approval.updated_by}" if approval.updated_by else ""
        verdict = {"Succeeded": "approved", "Failed": "rejected or timed out"}.get(
            approval.status, approval.status
        )
        lines.append(f"Approval:  {verdict}{who}, {format_when(approval.updated, now)}{comment}")
    lines.append(f"Console:   {info.console_url}")
    lines.append("")
    if isinstance(info.actions, Unknown):
        lines.append(f"Actions: {info.actions}")
        return lines
    rows = [
        [
            run.stage,
            run.action,
            style.status(run.status),
            format_when(run.started, now),
            run.duration,
            _result(run),
        ]
        for run in info.actions
    ]
    lines += table(["STAGE", "ACTION", "STATUS", "STARTED", "DURATION", "RESULT"], rows)
    links = [(run.action, url) for run in info.actions if (url := action_url(run, info.region))]
    if links:
        width = max(len(name) for name, _ in links)
        lines += ["", "Links:", *(f"  {name:<{width}}  {url}" for name, url in links)]
    return lines


def info_document(info: ExecutionInfo, release_document: Mapping[str, Any]) -> dict[str, Any]:
    """`cicd info --json`."""
    actions = info.actions

    def tests(run: ActionRun) -> list[dict[str, Any]] | None:
        if not isinstance(run.tests, tuple):
            return None
        return [
            {
                "report": t.report,
                "total": t.total,
                "passed": t.passed,
                "failed": t.failed,
                "skipped": t.skipped,
            }
            for t in run.tests
        ]

    unknown = {"actions": str(actions)} if isinstance(actions, Unknown) else {}
    if info.builds_unknown is not None:
        unknown["tests"] = str(info.builds_unknown)
    approval = info.approval
    return {
        "pipeline": info.layout.name,
        "service": info.ref.service,
        "stage": info.ref.stage,
        "release": dict(release_document),
        "statusSummary": info.status_summary,
        "trigger": {"type": info.trigger_type, "detail": info.trigger_detail},
        "approval": (
            {
                "status": approval.status,
                "by": approval.updated_by,
                "comment": approval.summary,
                "at": approval.updated.isoformat() if approval.updated else None,
            }
            if approval
            else None
        ),
        "consoleUrl": info.console_url,
        "actions": (
            [
                {
                    "stage": run.stage,
                    "action": run.action,
                    "provider": run.provider,
                    "status": run.status,
                    "startTime": run.started.isoformat() if run.started else None,
                    "lastUpdateTime": run.updated.isoformat() if run.updated else None,
                    "summary": run.summary,
                    "error": run.error,
                    "externalId": run.external_id,
                    "url": action_url(run, info.region),
                    "tests": tests(run),
                }
                for run in actions
            ]
            if not isinstance(actions, Unknown)
            else None
        ),
        "unknown": unknown,
    }
