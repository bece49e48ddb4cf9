"""Published releases: the versions of a stage's release object in S3.

A stage that others promote from publishes each release that passed its Deploy stage (deploy,
verification, bake) as a new version of one S3 object; the object's versions, newest first, are
the stage's proven releases, newest first. Only the release location is read, never the
upstream's pipeline: the upstream may live in another AWS account that the user cannot see.
Reading a version's manifest is `cicd.aws.manifests`; choosing one is `cicd.decide.promotion`.
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import PublishedVersion

# How many published releases `promote --commit` searches, newest first: about three months of
# daily releases. Older versions usually expire with the bucket's lifecycle rule anyway.
PUBLISHED_DEPTH = 100
_PAGE_SIZE = 100


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
