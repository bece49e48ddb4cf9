"""`cicd.decide.quarantine` with unreadable manifests and commits that share a prefix: what
`cicd reject`/`restore` and `cicd rollback` of a promoted pipeline are told.
"""

from __future__ import annotations

import pytest

from cicd.decide.quarantine import published_by, resolve_releases
from cicd.errors import UsageError
from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import Manifest, PublishedVersion

LOCATION = ReleaseLocation("web-releases", "web/release.zip")


def _manifest(commit: str, execution: str | None = None) -> Manifest:
    return Manifest(
        commit=commit,
        message="Change",
        repository="acme/web",
        service="web",
        pipeline_execution_id=execution,
    )


def test_the_version_an_execution_published_is_found_past_an_unreadable_manifest() -> None:
    versions = [PublishedVersion("v-broken"), PublishedVersion("v-good")]
    manifests: dict[str, Manifest | str] = {
        "v-broken": "not a zip archive",
        "v-good": _manifest("a" * 40, "exec-1"),
    }

    assert published_by(versions, manifests.__getitem__, "exec-1") == versions[1]
    assert published_by(versions[:1], manifests.__getitem__, "exec-1") is None


def test_a_version_named_exactly_whose_manifest_cannot_be_read_carries_why() -> None:
    versions = [PublishedVersion("v-broken-1234")]

    found = resolve_releases(
        "v-broken-1234", versions, lambda v: "the manifest is not JSON", LOCATION, warn=print
    )

    assert [(c.version.version_id, c.manifest, c.problem) for c in found] == [
        ("v-broken-1234", None, "the manifest is not JSON")
    ]


def test_a_commit_prefix_of_two_published_commits_asks_for_more_characters() -> None:
    versions = [PublishedVersion("v1"), PublishedVersion("v2")]
    manifests = {"v1": _manifest("abc1234" + "1" * 33), "v2": _manifest("abc1234" + "2" * 33)}

    with pytest.raises(UsageError) as error:
        resolve_releases("abc1234", versions, manifests.__getitem__, LOCATION, warn=print)

    assert (error.value.message, error.value.hint) == (
        "commit abc1234 is ambiguous at s3://web-releases/web/release.zip: abc123411111, "
        "abc123422222",
        "pass more characters of the SHA",
    )
