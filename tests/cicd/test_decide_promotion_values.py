"""`cicd.decide.promotion`: what `cicd promote` refuses, word for word, for a target that
builds from GitHub (`promotion_commit`, with and without `--commit`) and for a promoted one
(`choose_release`, `check_promotes_from`, `check_not_live`), and what `cicd status` shows
waiting (`waiting_release`).
"""

from __future__ import annotations

from typing import Any

import pytest

from cicd.decide.promotion import (
    check_not_live,
    check_promotes_from,
    choose_release,
    promotion_commit,
)
from cicd.errors import ManifestError, Refused
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseLocation, ReleaseSource
from cicd.model.release import (
    Manifest,
    PublishedRelease,
    PublishedVersion,
    RejectedRelease,
    Rejection,
    Release,
)

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


# ---------------------------------------------------------------------------------------------
# A promoted target (prod): the published release it deploys.


def _location() -> ReleaseLocation:
    return ReleaseLocation("web-releases", "web/release.zip")


def _manifest(commit: str = C) -> Manifest:
    return Manifest(commit=commit, message="Faster search", repository="acme/web", service="web")


def _choose(versions: list[PublishedVersion], **options: Any) -> PublishedRelease:
    options.setdefault("commit", None)
    options.setdefault("read", lambda v: _manifest())
    return choose_release(
        versions, location=_location(), source_stage="staging", warn=print, **options
    )


def test_nothing_published_says_when_the_source_stage_publishes() -> None:
    with pytest.raises(Refused) as refused:
        _choose([])

    assert (refused.value.message, refused.value.hint) == (
        "nothing to promote: staging has published no release to s3://web-releases/web/release.zip",
        "staging publishes a release when its Deploy stage (deploy, verification, bake) succeeds",
    )


def test_every_release_rejected_reports_each_skipped_version_and_how_to_lift_a_rejection() -> None:
    versions = [PublishedVersion("v2"), PublishedVersion("v1")]
    skipped: list[RejectedRelease] = []

    with pytest.raises(Refused) as refused:
        _choose(versions, rejected=lambda v: Rejection(reason="slow"), skipped=skipped.append)

    assert [s.version.version_id for s in skipped] == ["v2", "v1"]
    assert (refused.value.message, refused.value.hint) == (
        "nothing to promote: every one of the 2 newest releases staging published to "
        "s3://web-releases/web/release.zip is rejected",
        "publish a fixed release from staging, or lift a rejection made by mistake with "
        "`cicd unreject`",
    )


def test_a_commit_searched_among_only_unreadable_manifests_says_none_is_readable() -> None:
    def unreadable(version: PublishedVersion) -> Manifest:
        raise ManifestError("not a zip archive")

    with pytest.raises(Refused) as refused:
        _choose([PublishedVersion("v1")], commit="1234567", read=unreadable)

    assert refused.value.message == (
        "commit 1234567 was never published by staging: none of the 1 newest releases at "
        "s3://web-releases/web/release.zip was built from it (none has a readable manifest)"
    )


def _target() -> PipelineLayout:
    return PipelineLayout(
        name="web-prod-pipeline",
        stages=("Source", "Deploy"),
        source=ReleaseSource("Source", _location()),
        deploy_targets=(),
    )


def test_a_promoted_target_without_its_promotes_from_tag_says_to_update_its_stack() -> None:
    with pytest.raises(Refused) as refused:
        check_promotes_from(PipelineRef("web-prod-pipeline", "web", "prod"), _target(), "staging")

    assert refused.value.hint == (
        "update its stack: the stacks tag every promoted pipeline with the stage it promotes from"
    )


def test_a_target_promoting_from_another_stage_says_how_to_promote_to_it() -> None:
    named = PipelineRef("web-prod-pipeline", promotes_from="qa")

    with pytest.raises(Refused) as refused:
        check_promotes_from(named, _target(), "staging")

    assert (refused.value.message, refused.value.hint) == (
        "web-prod-pipeline promotes from qa, not from staging (tag cicd:promotes-from)",
        "promote to its stage from qa: `cicd promote --from qa --to its stage`",
    )


def test_promoting_the_release_the_target_runs_says_how_to_pick_an_older_one() -> None:
    candidate = PublishedRelease(_location(), PublishedVersion("v1"), _manifest())

    with pytest.raises(Refused) as refused:
        check_not_live(
            candidate, [Release(B, "Succeeded", version_id="v1")], target_name="web-prod-pipeline"
        )

    assert (refused.value.message, refused.value.hint) == (
        'web-prod-pipeline already runs release v1 (commit 1234567 "Faster search") (execution '
        "bbbbbbbb), the release you asked to promote",
        "nothing to promote until a newer release is published; pick an older one with --commit",
    )
