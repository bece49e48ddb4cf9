"""`cicd.text.iso`: the timestamps of JSON output."""

from __future__ import annotations

from datetime import UTC, datetime

from cicd.text import iso


def test_json_timestamps_are_iso_8601_with_their_offset_and_none_when_unknown() -> None:
    assert iso(datetime(2026, 11, 2, 9, 30, 5, tzinfo=UTC)) == "2026-11-02T09:30:05+00:00"
    assert iso(None) is None
