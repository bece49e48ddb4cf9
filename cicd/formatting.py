"""Small pure helpers that turn AWS values into the text the commands print.

Nothing here reads AWS or writes to a stream; the commands decide what to print where.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

SHORT_SHA = 7
SHORT_ID = 8
SHORT_VERSION = 12


def short_sha(commit: str | None) -> str:
    """The first seven characters of a commit SHA, as git and GitHub show it; `-` if unknown."""
    return commit[:SHORT_SHA] if commit else "-"


def short_id(execution_id: str) -> str:
    """The first eight characters of an execution id: unique enough to pass back to `--to`."""
    return execution_id[:SHORT_ID]


def short_version(version_id: str | None) -> str:
    """The first twelve characters of an S3 object version id (they are 32 long); `-` if none."""
    return version_id[:SHORT_VERSION] if version_id else "-"


def commit_message(revision_summary: str | None) -> str | None:
    """The commit message's first line from a source revision summary.

    CodeConnections sources report `{"ProviderType": "GitHub", "CommitMessage": "..."}` as JSON;
    other sources report plain text, which is used as it is.
    """
    if not revision_summary:
        return None
    text = revision_summary
    try:
        parsed = json.loads(revision_summary)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        message = parsed.get("CommitMessage")
        text = message if isinstance(message, str) else ""
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line or None


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` characters, ending with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def format_duration(delta: timedelta | None) -> str:
    """`42s`, `3m 05s`, `1h 02m`; `-` when unknown."""
    if delta is None:
        return "-"
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_time(moment: datetime | None) -> str:
    """A timestamp in UTC, to the second, so output reads the same on every machine."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns under `header`, two spaces apart, without trailing blanks."""
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines: list[str] = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines
