"""`cicd.model.release`: how releases, published releases and rejections are named in prose
(`cicd status`, `cicd promote`, `cicd rollback`), how long a release ran, and the rejection
an object version's S3 tags record (the tag keys are the contract's).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import Manifest, PublishedRelease, PublishedVersion, Rejection, Release

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
C = "1234567" + "0" * 33


def test_a_rejection_says_only_what_its_tags_record() -> None:
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    assert Rejection().describe() == "rejected"
    assert Rejection(reason="breaks checkout").describe() == 'rejected: "breaks checkout"'
    assert Rejection("arn:aws:iam::1:user/ops", at, "slow").describe() == (
        'rejected by arn:aws:iam::1:user/ops at 2026-11-02 09:30:00 UTC: "slow"'
    )


def test_a_rejection_is_read_from_the_object_versions_tags() -> None:
    tags = [
        {"Key": "cicd:rejected", "Value": "True"},
        {"Key": "cicd:rejected-by", "Value": "arn:aws:iam::1:user/ops"},
        {"Key": "cicd:rejected-at", "Value": "2026-11-02T09:30:00Z"},
        {"Key": "cicd:rejected-reason", "Value": "breaks checkout"},
    ]

    assert Rejection.from_tags(tags) == Rejection(
        "arn:aws:iam::1:user/ops", datetime(2026, 11, 2, 9, 30, tzinfo=UTC), "breaks checkout"
    )
    assert Rejection.from_tags([{"Key": "cicd:rejected", "Value": "false"}]) is None
    assert Rejection.from_tags([]) is None


def test_how_long_a_release_ran_ends_at_its_last_update_once_it_ended() -> None:
    now = T0 + timedelta(hours=2)
    ended = Release("a", "Succeeded", started=T0, updated=T0 + timedelta(minutes=12))
    running = Release("b", "InProgress", started=T0, updated=T0 + timedelta(minutes=12))

    assert ended.duration(now) == timedelta(minutes=12)
    assert running.duration(now) == timedelta(hours=2)


def test_a_release_is_named_by_its_commit_and_a_config_release_adds_its_note() -> None:
    plain = Release("aaaaaaaa-1111", "Succeeded", commit=C, kind="code", note="ignored")
    config = Release(
        "aaaaaaaa-1111", "Succeeded", commit=C, message="Fix", kind="config", note="config: set X"
    )

    assert plain.describe() == "aaaaaaaa (commit 1234567)"
    assert config.describe() == 'aaaaaaaa (commit 1234567 "Fix", config: set X)'


def test_a_published_release_without_a_message_is_named_by_version_and_commit() -> None:
    manifest = Manifest(commit=C, message="", repository="acme/web", service="web")
    release = PublishedRelease(ReleaseLocation("b", "k"), PublishedVersion("v1"), manifest)

    assert release.describe() == "release v1 (commit 1234567)"
