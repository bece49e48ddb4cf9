"""`cicd releases` as text: the release history, newest first, as a table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cicd.model.release import Release
from cicd.text import (
    PLAIN,
    Style,
    format_duration,
    format_when,
    short_id,
    short_sha,
    short_version,
    table,
    truncate,
)


def release_rows(
    releases: Sequence[Release], now: datetime, *, promoted: bool = False, style: Style = PLAIN
) -> list[str]:
    """The releases table; promoted pipelines get a RELEASE column (the object version)."""
    rows = [
        [
            short_id(r.execution_id),
            style.status(r.status),
            short_sha(r.commit),
            truncate(r.message or r.manifest_problem or "-", 50),
            *([short_version(r.version_id)] if promoted else []),
            r.trigger,
            format_when(r.started, now),
            format_duration(r.duration(now)),
        ]
        for r in releases
    ]
    header = ["ID", "STATUS", "COMMIT", "MESSAGE", *(["RELEASE"] if promoted else [])]
    return table([*header, "TRIGGER", "STARTED", "DURATION"], rows)
