"""The `--json` documents: one function per shape, so each shape is written down once.

The shapes are a public interface (docs/cicd.md, "JSON output"; a test pins every key). Keys
are camelCase like AWS's own JSON; times are ISO 8601 with their offset; a value the command
could not read is null, with the reason under the document's `unknown` map (for example
`{"deployments": "unknown (needs codedeploy:ListDeployments)"}`). Adding a key is compatible;
renaming or removing one is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cicd.model.config import DeployRecord
from cicd.model.controls import Freeze
from cicd.model.metrics import PublishedMetrics, ServiceMetrics, median, percentile
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import PublishedRelease, RejectedRelease, Rejection, Release, Waiting
from cicd.model.run import ActionRun, ExecutionInfo, LogLine, Outcome
from cicd.model.status import PipelineStatus, StageStatus, Unknown
from cicd.render.info import action_url, record_document, scan_document
from cicd.render.status import promote_command


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def release_document(release: Release | None, now: datetime) -> dict[str, Any] | None:
    """One execution as a release (`cicd releases --json` lists these)."""
    if release is None:
        return None
    duration = release.duration(now)
    return {
        "executionId": release.execution_id,
        "status": release.status,
        "commit": release.commit,
        "message": release.message,
        "trigger": release.trigger,
        "startTime": _iso(release.started),
        "lastUpdateTime": _iso(release.updated),
        "durationSeconds": int(duration.total_seconds()) if duration is not None else None,
        "rollbackTarget": release.rollback_target,
        "versionId": release.version_id,
        "manifestProblem": release.manifest_problem,
        "kind": release.kind,
        "note": release.note,
    }


def published_document(release: PublishedRelease) -> dict[str, Any]:
    """A published release: the object version and what its manifest says."""
    manifest = release.manifest
    return {
        "location": release.location.url(),
        "versionId": release.version.version_id,
        "published": _iso(release.version.published),
        "commit": manifest.commit,
        "message": release.message,
        "repository": manifest.repository,
        "builtBy": manifest.pipeline,
        "builtByExecution": manifest.pipeline_execution_id,
    }


def freeze_document(freeze: Freeze | None) -> dict[str, Any] | None:
    """The Deploy stage's inbound transition: frozen or not, who changed it last, when, why."""
    if freeze is None:
        return None
    return {
        "frozen": freeze.frozen,
        "by": freeze.changed_by,
        "at": _iso(freeze.changed_at),
        "reason": freeze.reason,
    }


def rejection_document(rejection: Rejection | None) -> dict[str, Any] | None:
    """Who rejected a published release, when and why (null: not rejected)."""
    if rejection is None:
        return None
    return {"by": rejection.by, "at": _iso(rejection.at), "reason": rejection.reason}


def rejected_release_document(rejected: RejectedRelease) -> dict[str, Any]:
    """A published release passed over because it is rejected."""
    return {
        "versionId": rejected.version.version_id,
        "commit": rejected.manifest.commit if rejected.manifest else None,
        "rejection": rejection_document(rejected.rejection),
    }


def _source(layout: PipelineLayout, status: PipelineStatus) -> dict[str, Any]:
    """Both kinds of source in one shape: the keys of the other kind are null."""
    promoted, github = layout.promoted, layout.github
    connection = status.connection_status
    return {
        "kind": "release" if promoted is not None else "github",
        "repository": github.repository if github else None,
        "branch": github.branch if github else None,
        "connectionArn": github.connection_arn if github else None,
        "connectionStatus": connection if isinstance(connection, str) else None,
        "location": promoted.location.url() if promoted else None,
        "promotesFrom": status.promotes_from if promoted else None,
    }


def _stage(stage: StageStatus) -> dict[str, Any]:
    return {
        "name": stage.name,
        "status": stage.status,
        "executionId": stage.execution_id,
        "commit": stage.commit,
        "message": stage.message,
        "changed": _iso(stage.changed),
    }


def _waiting(status: PipelineStatus) -> dict[str, Any] | None:
    waiting = status.waiting
    if not isinstance(waiting, Waiting):
        return None
    running = waiting.running
    return {
        "release": published_document(waiting.release) if waiting.release else None,
        "problem": waiting.problem,
        "runningExecutionId": running.execution_id if running else None,
        "runningStatus": running.status if running else None,
        "command": promote_command(status) if running is None and waiting.release else None,
        "rejected": [rejected_release_document(r) for r in waiting.rejected],
    }


def pipeline_status_document(status: PipelineStatus, now: datetime) -> dict[str, Any]:
    """One pipeline in `cicd status --json` (`{"pipelines": [...]}`)."""
    layout = status.layout
    unknown = {
        key: str(value)
        for key, value in (
            ("stages", status.stages),
            ("live", status.live),
            ("latest", status.latest),
            ("deployments", status.deployments),
            ("connectionStatus", status.connection_status),
            ("waiting", status.waiting),
            ("freeze", status.freeze),
        )
        if isinstance(value, Unknown)
    }
    if isinstance(status.waiting, Waiting) and status.waiting.unchecked:
        unknown["rejected"] = status.waiting.unchecked
    stages = status.stages
    deployments = status.deployments
    return {
        "pipeline": layout.name,
        "service": status.ref.service,
        "stage": status.ref.stage,
        "source": _source(layout, status),
        "live": release_document(status.live, now) if isinstance(status.live, Release) else None,
        "latest": (
            release_document(status.latest, now) if isinstance(status.latest, Release) else None
        ),
        "waiting": _waiting(status),
        "stages": [_stage(s) for s in stages] if isinstance(stages, tuple) else None,
        "deployTargets": [t.describe() for t in layout.deploy_targets],
        "verifications": list(layout.verifications),
        "publishesTo": layout.publishes_to.url() if layout.publishes_to else None,
        "freeze": freeze_document(status.freeze) if isinstance(status.freeze, Freeze) else None,
        "deployments": (
            [
                {
                    "target": d.target.describe(),
                    "deploymentId": d.deployment_id,
                    "status": d.status,
                    "created": _iso(d.created),
                    "overview": dict(d.overview),
                }
                for d in deployments
            ]
            if isinstance(deployments, tuple)
            else None
        ),
        "unknown": unknown,
    }


def started_document(
    command: str,
    layout: PipelineLayout,
    service: str | None,
    stage: str | None,
    execution_id: str,
    *,
    commit: str | None,
    message: str | None,
    version_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What `release`, `promote`, `approve`, `reject` and `rollback` print with --json; the
    follow outcome is added as `followed` (null without --wait)."""
    return {
        "command": command,
        "pipeline": layout.name,
        "service": service,
        "stage": stage,
        "executionId": execution_id,
        "commit": commit,
        "message": message,
        "versionId": version_id,
        **extra,
    }


def outcome_document(outcome: Outcome | None) -> Mapping[str, Any] | None:
    """Where following stopped: the `followed` key of the documents above (null without it)."""
    if outcome is None:
        return None
    return {
        "outcome": outcome.kind,
        "status": outcome.status,
        "detail": outcome.detail or None,
        "stage": outcome.stage,
    }


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
    if isinstance(info.record, str):
        unknown["deployRecord"] = info.record
    if isinstance(info.scan, str):
        unknown["scan"] = info.scan
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
        "deployRecord": record_document(
            info.record if isinstance(info.record, DeployRecord) else None, info.record_location
        ),
        "scan": scan_document(info.scan),
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


def _seconds(value: timedelta | None) -> int | None:
    return int(value.total_seconds()) if value is not None else None


def metrics_document(m: ServiceMetrics) -> dict[str, Any]:
    kinds = [f.kind for f in m.failures]
    return {
        "service": m.service,
        "pipeline": m.pipeline,
        "source": "executions",
        "executionsRead": m.executions_read,
        "deploymentFrequency": {
            "releases": m.releases,
            "perDay": round(m.per_day, 3),
            "perWeek": round(m.per_day * 7, 3),
        },
        "leadTime": {
            "count": len(m.lead_times),
            "medianSeconds": _seconds(median(m.lead_times)),
            "p90Seconds": _seconds(percentile(m.lead_times, 0.9)),
            "unknownCommits": m.lead_unknown,
        },
        "changeFailureRate": {
            "changes": m.changes,
            "failures": len(m.failures),
            "rate": round(m.failure_rate, 4) if m.failure_rate is not None else None,
            "failedInDeploy": kinds.count("failed in Deploy"),
            "followedByRollback": kinds.count("followed by a rollback"),
            "unclassified": kinds.count("unclassified"),
        },
        "timeToRestore": {
            "count": len(m.restore_times),
            "medianSeconds": _seconds(median(m.restore_times)),
            "notRestored": sum(1 for f in m.failures if f.restored is None),
        },
        "notes": list(m.notes),
    }


def published_metrics_document(m: PublishedMetrics) -> dict[str, Any]:
    """`cicd metrics --json` for a service whose published metrics were read: the same shape,
    null where CloudWatch holds no such figure (where a release failed, which failures were not
    restored)."""
    return {
        "service": m.service,
        "pipeline": m.pipeline,
        "source": "published",
        "executionsRead": 0,
        "deploymentFrequency": {
            "releases": m.succeeded,
            "perDay": round(m.per_day, 3),
            "perWeek": round(m.per_day * 7, 3),
        },
        "leadTime": {
            "count": m.lead_count,
            "medianSeconds": _seconds(m.lead_median),
            "p90Seconds": _seconds(m.lead_p90),
            "unknownCommits": None,
        },
        "changeFailureRate": {
            "changes": m.changes,
            "failures": m.failed,
            "rate": round(m.failure_rate, 4) if m.failure_rate is not None else None,
            "failedInDeploy": None,
            "followedByRollback": None,
            "unclassified": None,
        },
        "timeToRestore": {
            "count": m.restore_count,
            "medianSeconds": _seconds(m.restore_median),
            "notRestored": None,
        },
        "notes": [f"{m.started} releases started, {m.rolled_back} rollbacks started"],
    }


def log_lines_document(lines: Sequence[LogLine]) -> list[dict[str, Any]]:
    """`cicd logs --json`: every line printed, in order."""
    return [
        {
            "action": line.action,
            "source": line.source,
            "timestamp": line.timestamp.isoformat() if line.timestamp else None,
            "message": line.message,
        }
        for line in lines
    ]
