"""Published releases: the versions of a stage's release object, and choosing one to promote.

A stage that others promote from publishes each release that passed its Deploy stage (deploy,
verification, bake) as a new version of one S3 object; the object's versions, newest first, are
the stage's proven releases, newest first. A promoted pipeline's executions name the version they
deployed. Everything here reads the release location only, never the upstream's pipeline: the
upstream may live in another AWS account that the user cannot see.

`published_versions` lists (the one AWS call besides the manifests); `choose_release`,
`check_not_live` and `waiting_release` decide, reading manifests through `Manifests`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from botocore.client import BaseClient

from cicd.errors import Refused
from cicd.formatting import format_time, short_id, short_sha, short_version
from cicd.layout import ReleaseLocation
from cicd.manifests import Manifest, ManifestError, Manifests
from cicd.releases import TERMINAL_STATUSES, Release, commit_matches, newest_succeeded

# How many published releases `promote --commit` searches, newest first: about three months of
# daily releases. Older versions usually expire with the bucket's lifecycle rule anyway.
PUBLISHED_DEPTH = 100
_PAGE_SIZE = 100


@dataclass(frozen=True)
class PublishedVersion:
    """One version of the release object: one proven release."""

    version_id: str
    published: datetime | None = None


@dataclass(frozen=True)
class PublishedRelease:
    """A published version with its manifest."""

    location: ReleaseLocation
    version: PublishedVersion
    manifest: Manifest

    @property
    def message(self) -> str:
        lines = self.manifest.message.strip().splitlines()
        return lines[0] if lines else ""

    def describe(self) -> str:
        """`release 3HL4kqtJ… (commit abc1234 "Fix login")`."""
        message = f' "{self.message}"' if self.message else ""
        return (
            f"release {short_version(self.version.version_id)} "
            f"(commit {short_sha(self.manifest.commit)}{message})"
        )


def published_versions(
    s3: BaseClient, location: ReleaseLocation, limit: int = PUBLISHED_DEPTH
) -> list[PublishedVersion]:
    """Up to `limit` versions of the release object, newest first (S3's order for one key).

    Delete markers are not releases and are skipped; other keys under the same prefix (the
    listing is by prefix) are ignored.
    """
    found: list[PublishedVersion] = []
    request: dict[str, Any] = {
        "Bucket": location.bucket,
        "Prefix": location.key,
        "MaxKeys": _PAGE_SIZE,
    }
    while len(found) < limit:
        page = s3.list_object_versions(**request)
        versions = page.get("Versions", [])
        for version in versions:
            if version.get("Key") == location.key:
                found.append(
                    PublishedVersion(str(version["VersionId"]), version.get("LastModified"))
                )
        # Keys come in order: once a later key shows up, this key's versions are all listed.
        if any(str(v.get("Key", "")) > location.key for v in versions):
            break
        if not page.get("IsTruncated"):
            break
        request["KeyMarker"] = page.get("NextKeyMarker")
        request["VersionIdMarker"] = page.get("NextVersionIdMarker")
    return found[:limit]


def _release(
    manifests: Manifests, location: ReleaseLocation, version: PublishedVersion
) -> PublishedRelease:
    return PublishedRelease(location, version, manifests.read(location, version.version_id))


def choose_release(
    versions: Sequence[PublishedVersion],
    manifests: Manifests,
    location: ReleaseLocation,
    *,
    commit: str | None,
    source_stage: str,
    warn: TextIO = sys.stderr,
) -> PublishedRelease:
    """The newest published release, or the newest one built from `commit`.

    Refuses when nothing was published, or when `commit` is not among the published releases
    (the upstream stage never released it successfully). While searching for a commit, a
    version whose manifest cannot be read is reported on `warn` and skipped: it cannot be shown
    to be that commit. The newest release must be readable to be promoted by default.
    """
    if not versions:
        raise Refused(
            f"nothing to promote: {source_stage} has published no release to {location.url()}",
            f"{source_stage} publishes a release when its Deploy stage (deploy, verification, "
            "bake) succeeds",
        )
    if commit is None:
        return _release(manifests, location, versions[0])
    newest: PublishedRelease | None = None
    for version in versions:
        try:
            candidate = _release(manifests, location, version)
        except ManifestError as error:
            warn.write(f"cicd: skipping a release whose manifest is unreadable: {error.message}\n")
            continue
        newest = newest or candidate
        if commit_matches(candidate.manifest.commit, commit):
            return candidate
    found = (
        f"newest is {newest.describe()}, published {format_time(newest.version.published)}"
        if newest
        else "none has a readable manifest"
    )
    raise Refused(
        f"commit {commit} was never published by {source_stage}: none of the {len(versions)} "
        f"newest releases at {location.url()} was built from it ({found})",
        f"{source_stage} publishes a commit only once its release there succeeded; release it "
        f"to {source_stage} first (`cicd status --stage {source_stage}` shows what runs there)",
    )


def check_not_live(
    candidate: PublishedRelease, target_history: Sequence[Release], *, target_name: str
) -> None:
    """Refuse when the target's newest successful execution deployed this very version."""
    live = newest_succeeded(target_history)
    if live is not None and live.version_id == candidate.version.version_id:
        raise Refused(
            f"{target_name} already runs {candidate.describe()} (execution "
            f"{short_id(live.execution_id)}), the release you asked to promote",
            "nothing to promote until a newer release is published; pick an older one with "
            "--commit",
        )


@dataclass(frozen=True)
class Waiting:
    """What a promoted pipeline could deploy next: a newer release, and whether it is underway."""

    release: PublishedRelease | None
    problem: str | None = None
    running: Release | None = None


def waiting_release(
    versions: Sequence[PublishedVersion],
    history: Sequence[Release],
    manifests: Manifests,
    location: ReleaseLocation,
) -> Waiting | None:
    """The newest published release when it is newer than what the pipeline last deployed.

    None when nothing was published or the newest release is the one live. "Newer" is by
    position in the version list (S3's order), which is publication order. When an execution of
    that version is still running (e.g. waiting for approval), `running` names it.
    """
    if not versions:
        return None
    newest = versions[0]
    live = newest_succeeded(history)
    if live is not None and live.version_id == newest.version_id:
        return None
    running = next(
        (
            r
            for r in history
            if r.version_id == newest.version_id and r.status not in TERMINAL_STATUSES
        ),
        None,
    )
    looked_up = manifests.lookup(location, newest.version_id)
    if isinstance(looked_up, str):
        return Waiting(None, problem=looked_up, running=running)
    return Waiting(PublishedRelease(location, newest, looked_up), running=running)
