"""`cicd.decide.commits`: which execution or commit a user means, with the exact hint of an
ambiguous SHA, execution ids as AWS writes them (lower-case UUIDs), and the newest execution
of a commit (`cicd info --commit`, `cicd logs --commit`).
"""

from __future__ import annotations

import pytest

from cicd.decide.commits import (
    newest_of_commit,
    newest_succeeded,
    resolve_commit,
    resolve_execution,
    validate_commit,
)
from cicd.errors import NotFound, UsageError
from cicd.model.release import Release

PIPELINE = "web-prod-pipeline"
A = "abcdef12-1111-2222-3333-444444444444"
B = "bcdef123-1111-2222-3333-444444444444"
C1 = "abc1234" + "1" * 33
C2 = "abc1234" + "2" * 33


def test_an_abbreviated_sha_of_two_released_commits_asks_for_more_characters() -> None:
    releases = [Release(A, "Succeeded", commit=C1), Release(B, "Succeeded", commit=C2)]

    with pytest.raises(UsageError) as error:
        resolve_commit("abc1234", releases)

    assert (error.value.message, error.value.hint) == (
        "commit abc1234 is ambiguous: abc123411111, abc123422222",
        "pass more characters of the SHA",
    )


def test_an_execution_id_prefix_finds_the_lower_case_id_aws_returns_whatever_its_case() -> None:
    releases = [Release(A, "Succeeded"), Release(B, "Failed")]

    assert resolve_execution("abcdef12", releases) == releases[0]
    assert resolve_execution("ABCDEF12", releases) == releases[0]


def test_the_newest_execution_of_a_commit_is_found_resolving_only_until_it_matches() -> None:
    history = [Release(B, "Succeeded", commit=C2), Release(A, "Succeeded", commit=C1)]
    resolved: list[str] = []

    def resolve(release: Release) -> Release:
        resolved.append(release.execution_id)
        return release

    assert newest_of_commit(history, C2[:9], resolve, PIPELINE) == history[0]
    assert resolved == [B]
    with pytest.raises(
        NotFound, match=f"no execution of commit 999 among the last 2 of {PIPELINE}"
    ):
        newest_of_commit(history, "999", resolve, PIPELINE)


def test_a_history_without_a_success_has_nothing_live() -> None:
    assert newest_succeeded([Release(A, "Failed"), Release(B, "InProgress")]) is None


def test_a_commit_that_is_not_hex_says_what_a_sha_looks_like() -> None:
    with pytest.raises(UsageError) as error:
        validate_commit("main")

    assert (error.value.message, error.value.hint) == (
        "--commit 'main' is not a commit SHA",
        "give 7 to 40 hexadecimal characters, as `git rev-parse HEAD` prints",
    )
