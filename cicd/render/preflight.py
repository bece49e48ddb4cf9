"""What `cicd promote --preflight` prints: one reason a line, and its `--json` document.

The document's shape is in docs/cicd.md ("JSON output", `cicd promote --preflight --json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.preflight import Finding, PreflightFacts, WindowState
from cicd.model.status import Unknown
from cicd.text import short_sha


def _window_line(window: WindowState | None) -> str:
    if window is None:
        return "window: none (Deploy may start at any time)"
    described = f'cron "{window.window.cron}", {window.window.time_zone}'
    if window.open:
        return f"window: open now ({described})"
    if window.opens is None:
        return f"window: closed, opening not known ({described})"
    return (
        f"window: closed, opens {window.opens:%Y-%m-%d %H:%M} {window.window.time_zone} "
        f"({window.opens.astimezone(UTC):%H:%M} UTC; {described})"
    )


def preflight_lines(
    ref: PipelineRef,
    target: PipelineLayout,
    findings: Sequence[Finding],
    commit: str | None,
    window: WindowState | None,
    facts: PreflightFacts,
) -> list[str]:
    """A heading, the window and alarms, then each finding on its own line."""
    what = f"commit {short_sha(commit)}" if commit else "the release"
    blocking = [f for f in findings if f.blocking]
    verdict = (
        f"would fail ({len(blocking)} reason{'s' if len(blocking) != 1 else ''})"
        if blocking
        else "is clear"
    )
    lines = [
        f"Preflight: promoting {what} to {ref.describe()} {verdict}.",
        f"  {_window_line(window)}",
    ]
    if isinstance(facts.alarms, Unknown):
        lines.append(f"  alarms: {facts.alarms}")
    elif facts.alarms:
        states = ", ".join(f"{a.name} {a.state}" for a in facts.alarms)
        lines.append(f"  alarms watched: {states}")
    else:
        lines.append("  alarms watched: none")
    for finding in findings:
        label = "refuse" if finding.blocking else "warn"
        lines.append(f"{label}: {finding.reason}")
    return lines


def preflight_document(
    ref: PipelineRef,
    target: PipelineLayout,
    findings: Sequence[Finding],
    commit: str | None,
    release: dict[str, Any] | None,
    window: WindowState | None,
    facts: PreflightFacts,
) -> dict[str, Any]:
    """`cicd promote --preflight --json`."""
    alarms = facts.alarms
    return {
        "command": "promote",
        "preflight": True,
        "pipeline": target.name,
        "service": ref.service,
        "stage": ref.stage,
        "commit": commit,
        "release": release,
        "clear": not any(f.blocking for f in findings),
        "findings": [
            {"check": f.check, "blocking": f.blocking, "reason": f.reason, "hint": f.hint}
            for f in findings
        ],
        "window": None
        if window is None
        else {
            "cron": window.window.cron,
            "timeZone": window.window.time_zone,
            "open": window.open,
            "opens": window.opens.isoformat() if window.opens else None,
        },
        "alarms": None
        if isinstance(alarms, Unknown)
        else [{"name": a.name, "state": a.state} for a in alarms],
    }
