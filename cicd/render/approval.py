"""What `cicd approve` shows before it asks: the evidence the approval carries.

The same facts as the approval's CustomData and link (exported by the Describe step,
`components.approval_evidence`), plus what is true now: the watched alarms' state at this
moment and the deployment window's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC

from cicd.model.preflight import AlarmState, WindowState
from cicd.model.status import Unknown
from cicd.text import short_sha


def evidence_lines(
    evidence: Mapping[str, str],
    alarms_now: Sequence[AlarmState] | Unknown,
    window: WindowState | None,
) -> list[str]:
    """A heading and one line per fact."""
    repository, candidate = evidence.get("REPOSITORY", "?"), evidence.get("COMMIT_ID", "?")
    live = evidence.get("LIVE_COMMIT", "?")
    path = evidence.get("CHANGES_PATH", f"commit/{candidate}")
    if len(live) == 40:
        changes = f"{evidence.get('COMMITS_AHEAD', '?')} commits since the live {short_sha(live)}"
    else:
        changes = f"nothing live to compare with ({live})"
    if isinstance(alarms_now, Unknown):
        now = str(alarms_now)
    else:
        now = ", ".join(f"{a.name} {a.state}" for a in alarms_now) or "none"
    if window is None:
        when = "no deployment window"
    elif window.open:
        when = f"open now ({window.window.cron}, {window.window.time_zone})"
    elif window.opens is not None:
        when = (
            f"closed; opens {window.opens:%Y-%m-%d %H:%M} {window.window.time_zone} "
            f"({window.opens.astimezone(UTC):%H:%M} UTC): approving sooner fails at Deploy"
        )
    else:
        when = f"closed ({window.window.cron}, {window.window.time_zone})"
    return [
        f"Evidence for commit {short_sha(candidate)}:",
        f"  changes: {changes}: https://github.com/{repository}/{path}",
        f"  upstream verification: {evidence.get('VERIFICATION', '?')}; "
        f"bake {evidence.get('BAKE', '?')}",
        f"  alarms when it reached the approval: {evidence.get('ALARMS', '?')}",
        f"  alarms now: {now}",
        f"  window: {when}",
    ]
