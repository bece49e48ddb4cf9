"""`cicd info` as text: one release whole, its actions in a table, and console links.

`render_info` takes an `ExecutionInfo` and returns lines; `action_url` is the console page of
what an action ran (its build, its deployment, or AWS's own link); `record_lines` and
`record_document` say what config the release ran with, from its deploy record (names and
versions only); `scan_text` and `scan_document` what its SBOM counts. Nothing here reads AWS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cicd.contract import (
    APPROVAL_STAGE,
    SBOM_FOLDER,
    build_console_url,
    deployment_console_url,
)
from cicd.model.config import ConfigSnapshot, DeployRecord
from cicd.model.run import ActionRun, ExecutionInfo
from cicd.model.scan import ScanSummary
from cicd.model.status import Unknown
from cicd.text import (
    PLAIN,
    Style,
    format_duration,
    format_when,
    short_id,
    short_version,
    table,
    truncate,
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
    if release.kind:
        lines.append(f"Kind:      {release.kind}")
    if release.note and release.note != "-":
        lines.append(f"Note:      {release.note}")
    lines.append(
        f"Started:   {format_when(release.started, now)}, "
        f"duration {format_duration(release.duration(now))}"
    )
    if release.rollback_target:
        lines.append(f"Restores:  execution {short_id(release.rollback_target)} (a rollback)")
    if info.record_location is not None:
        lines += record_lines(info.record)
    if info.scan_read:
        lines.append(f"Scan:      {scan_text(info.scan)}")
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


def scan_text(scan: ScanSummary | str | None) -> str:
    """What `cicd info` says of the SBOM a release carries (looked for, so None means none)."""
    if isinstance(scan, str):
        return scan
    if scan is None:
        return f"none: the release carries no SBOM ({SBOM_FOLDER}/), so it was not scanned"
    return f"{scan.file} ({scan.format}): {scan.describe()}"


def scan_document(scan: ScanSummary | str | None) -> dict[str, Any] | None:
    """The `scan` of `cicd info --json`: the SBOM's counts; null when none was read."""
    if not isinstance(scan, ScanSummary):
        return None
    return {
        "file": scan.file,
        "format": scan.format,
        "components": scan.components,
        "vulnerabilities": dict(scan.vulnerabilities),
        "total": scan.total,
    }


def _source_words(snapshot: ConfigSnapshot) -> str:
    if snapshot.source.startswith("rollback:"):
        return f"the versions {short_id(snapshot.source.removeprefix('rollback:'))} ran with"
    return "the newest versions when Deploy started"


def pins_text(snapshot: ConfigSnapshot) -> str:
    """`DATABASE_URL v3, FEATURE_X v7` (or `no parameters`)."""
    versions = snapshot.versions()
    return ", ".join(f"{k} v{v}" for k, v in sorted(versions.items())) or "no parameters"


def record_lines(record: DeployRecord | str | None) -> list[str]:
    """What `cicd info` says of the config a release ran with."""
    if isinstance(record, str):
        return [f"Config:    {record}"]
    if record is None:
        return [
            "Config:    no deploy record (the execution did not reach Deploy, or ran before "
            "runtime config)"
        ]
    lines: list[str] = []
    snapshot = record.config
    if snapshot is None:
        lines.append("Config:    none recorded")
    else:
        lines.append(
            f"Config:    {snapshot.path}, {_source_words(snapshot)}: {pins_text(snapshot)}"
        )
    if record.contracts_schema:
        lines.append(
            "Schema:    this release contracts the schema: `cicd rollback` refuses to cross it "
            "without --force"
        )
    return lines


def record_document(record: DeployRecord | None, location: str | None) -> dict[str, Any] | None:
    """The `deployRecord` of `cicd info --json`: what the Configure step recorded."""
    if record is None:
        return None
    snapshot = record.config
    return {
        "location": location,
        "kind": record.kind,
        "note": record.note,
        "rollbackOf": record.rollback_of,
        "commit": record.commit,
        "contractsSchema": record.contracts_schema,
        "config": (
            {
                "path": snapshot.path,
                "source": snapshot.source,
                "parameters": [{"name": p.name, "version": p.version} for p in snapshot.parameters],
            }
            if snapshot is not None
            else None
        ),
    }
