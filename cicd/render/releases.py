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
    releases: Sequence[Release],
    now: datetime,
    *,
    promoted: bool = False,
    kinds: bool = False,
    style: Style = PLAIN,
) -> list[str]:
    """The releases table; promoted pipelines get a RELEASE column (the object version), and
    pipelines with release variables a KIND column, a config release's note as its message
    (like Heroku's "Set FEATURE_X config vars")."""
    rows = [
        [
            short_id(r.execution_id),
            style.status(r.status),
            *([r.kind or "-"] if kinds else []),
            short_sha(r.commit),
            truncate(_message(r), 50),
            *([short_version(r.version_id)] if promoted else []),
            r.trigger,
            format_when(r.started, now),
            format_duration(r.duration(now)),
        ]
        for r in releases
    ]
    header = [
        "ID",
        "STATUS",
        *(["KIND"] if kinds else []),
        "COMMIT",
        "MESSAGE",
        *(["RELEASE"] if promoted else []),
    ]
    return table([*header, "TRIGGER", "STARTED", "DURATION"], rows)


def _message(release: Release) -> str:
    if release.kind == "config" and release.note:
        # Who made the change (an ARN) would crowd out what changed; `info` shows the whole note.
        return release.note.split(" by arn:", 1)[0]
    return release.message or release.manifest_problem or "-"
