"""`cicd.text`: how values read in the commands' output: unknowns as `-`, JSON timestamps,
commit messages from CodeConnections' revision summary, cut text, relative times, and when
colour is used.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from cicd.text import Style, commit_message, iso, relative, short_sha, short_version, truncate

NOW = datetime(2026, 11, 2, 9, 30, 5, tzinfo=UTC)


def test_json_timestamps_are_iso_8601_with_their_offset_and_none_when_unknown() -> None:
    assert iso(datetime(2026, 11, 2, 9, 30, 5, tzinfo=UTC)) == "2026-11-02T09:30:05+00:00"
    assert iso(None) is None


def test_an_unknown_commit_or_object_version_reads_as_a_dash() -> None:
    assert (short_sha(None), short_sha(""), short_version(None)) == ("-", "-", "-")
    assert short_version("0123456789abcdefXYZ") == "0123456789ab"


def test_a_revision_summary_whose_commit_message_is_not_text_has_no_message() -> None:
    assert commit_message('{"ProviderType": "GitHub", "CommitMessage": null}') is None
    assert commit_message('{"ProviderType": "GitHub", "CommitMessage": "Fix\\nbody"}') == "Fix"


def test_text_exactly_as_wide_as_allowed_is_not_cut() -> None:
    assert truncate("abcde", 5) == "abcde"
    assert truncate("abcdef", 5) == "abcd…"


def test_relative_times_read_ahead_and_behind_in_the_largest_whole_unit() -> None:
    assert relative(NOW - timedelta(seconds=30), NOW) == "just now"
    assert relative(NOW + timedelta(seconds=30), NOW) == "in under a minute"
    assert relative(NOW - timedelta(hours=3, minutes=5), NOW) == "3h ago"
    assert relative(NOW + timedelta(minutes=10), NOW) == "in 10m"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "colour"),
    [
        (_Terminal(), {"TERM": "xterm-256color"}, True),
        (_Terminal(), {"TERM": "xterm", "NO_COLOR": "1"}, False),
        (_Terminal(), {"TERM": "xterm", "NO_COLOR": ""}, True),  # no-color.org: empty = unset
        (_Terminal(), {"TERM": "dumb"}, False),
        (io.StringIO(), {"TERM": "xterm"}, False),  # piped
        (object(), {"TERM": "xterm"}, False),  # a stream without isatty
    ],
)
def test_colour_only_on_a_terminal_without_no_color_that_is_not_dumb(
    stream: object, environ: dict[str, str], colour: bool
) -> None:
    assert Style.for_stream(stream, environ).colour is colour  # type: ignore[arg-type]


def test_statuses_are_coloured_by_their_first_word_and_other_text_is_left_plain() -> None:
    style = Style(colour=True)

    assert style.status("Failed (Deploy)") == "\x1b[31mFailed (Deploy)\x1b[0m"
    assert style.status("Queued") == "Queued"
    assert style.paint("", "1") == ""
    assert Style(colour=False).status("Failed") == "Failed"


def test_bold_text_is_bold_on_a_terminal_and_plain_elsewhere() -> None:
    assert Style(colour=True).bold("web-prod") == "\x1b[1mweb-prod\x1b[0m"
    assert Style(colour=False).bold("web-prod") == "web-prod"
