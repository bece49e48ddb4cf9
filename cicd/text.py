"""Small pure helpers that turn AWS values into the text the commands print.

Nothing here reads AWS or writes to a stream; the commands decide what to print where. Colour
is decided once per run (`Style.for_stream`): only on a terminal, never with NO_COLOR set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

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


def relative(moment: datetime, now: datetime) -> str:
    """`5m ago`, `3h ago`, `2d ago`, `in 10m`: how long ago (or until) `moment`, coarsely."""
    seconds = int((now - moment).total_seconds())
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        amount = "just now" if not ahead else "in under a minute"
        return amount
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            return f"in {text}" if ahead else f"{text} ago"
    return "just now"  # unreachable: seconds >= 60 matched "m"


def format_when(moment: datetime | None, now: datetime) -> str:
    """`2025-05-01 11:55:00 UTC (5m ago)`: absolute for the record, relative for the reader."""
    if moment is None:
        return "-"
    return f"{format_time(moment)} ({relative(moment, now)})"


def iso(moment: datetime | None) -> str | None:
    """A timestamp for JSON output: ISO 8601 with its offset, or None."""
    return moment.isoformat() if moment is not None else None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def visible_len(text: str) -> int:
    """The width of `text` on a terminal: colour codes take no room."""
    return len(_ANSI.sub("", text))


_STATUS_COLOURS: Mapping[str, str] = {
    "Succeeded": "32",  # green
    "Failed": "31",  # red
    "Stopped": "31",
    "Cancelled": "31",
    "Superseded": "33",  # yellow
    "InProgress": "36",  # cyan
    "Stopping": "33",
}


@dataclass(frozen=True)
class Style:
    """How to decorate text for the reader: colour only on a terminal without NO_COLOR."""

    colour: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO, environ: Mapping[str, str]) -> Style:
        # https://no-color.org: a NO_COLOR that is present and not empty turns colour off.
        tty = getattr(stream, "isatty", lambda: False)()
        return cls(bool(tty) and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb")

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and text else text

    def status(self, text: str) -> str:
        """An execution or stage status in its colour (green succeeded, red failed, ...)."""
        first = text.split(" ", 1)[0]
        code = _STATUS_COLOURS.get(first)
        return self.paint(text, code) if code else text

    def bold(self, text: str) -> str:
        return self.paint(text, "1")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


PLAIN = Style()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns under `header`, two spaces apart, without trailing blanks.

    Cells may carry colour codes: widths count only what shows.
    """
    widths = [visible_len(cell) for cell in header]
    for row in rows:
        widths = [max(width, visible_len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines: list[str] = []
    for row in (header, *rows):
        cells = [
            cell + " " * (width - visible_len(cell))
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
