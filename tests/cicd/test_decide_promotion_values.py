"""`cicd.decide.promotion.promotion_commit` (`cicd promote` to a stage that builds from
GitHub): its refusals word for word, with and without `--commit`.
"""

from __future__ import annotations

import pytest

from cicd.decide.promotion import promotion_commit
from cicd.errors import Refused
from cicd.model.release import Release

A = "aaaaaaaa-1111-2222-3333-444444444444"
B = "bbbbbbbb-1111-2222-3333-444444444444"
C = "1234567" + "0" * 33


def _refusal(commit: str | None) -> tuple[str, str | None]:
    source = [Release(A, "Succeeded", commit=C)]
    target = [Release(B, "Succeeded", commit=C)]
    with pytest.raises(Refused) as refused:
        promotion_commit(source, target, source_name="staging", target_name="prod", commit=commit)
    return refused.value.message, refused.value.hint


def test_promoting_the_newest_success_prod_already_runs_names_the_source_stage() -> None:
    assert _refusal(None) == (
        "prod already runs commit 1234567 (execution bbbbbbbb), the newest successful release "
        "of staging",
        "nothing to promote until a newer commit succeeds upstream",
    )


def test_promoting_a_named_commit_prod_already_runs_says_it_is_the_one_asked_for() -> None:
    assert _refusal("1234567")[0] == (
        "prod already runs commit 1234567 (execution bbbbbbbb), the commit you asked to promote"
    )


def test_promoting_a_commit_that_never_succeeded_upstream_says_to_release_it_there_first() -> None:
    with pytest.raises(Refused) as refused:
        promotion_commit(
            [Release(A, "Failed", commit=C)],
            [],
            source_name="staging",
            target_name="prod",
            commit="1234567",
        )

    assert (refused.value.message, refused.value.hint) == (
        "commit 1234567 never succeeded in staging among its last 1 executions",
        "release it there first and wait for it to succeed",
    )


def test_a_waiting_release_whose_manifest_cannot_be_read_still_names_its_running_execution() -> (
    None
):
    from cicd.decide.promotion import waiting_release
    from cicd.model.pipeline import ReleaseLocation
    from cicd.model.release import PublishedVersion

    running = Release(B, "InProgress", version_id="v-new")
    history = [running, Release(A, "Succeeded", version_id="v-old")]
    versions = [PublishedVersion("v-new"), PublishedVersion("v-old")]

    waiting = waiting_release(
        versions, history, lambda v: "the manifest is not JSON", ReleaseLocation("b", "k")
    )

    assert waiting is not None
    assert (waiting.release, waiting.problem, waiting.running) == (
        None,
        "the manifest is not JSON",
        running,
    )
