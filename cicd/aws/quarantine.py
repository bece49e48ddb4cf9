"""Rejected releases in S3: the tags on a published release's object version, and who asks.

`release_tags` reads one version's tag set (GetObjectTagging with its VersionId) and
`put_release_tags` replaces it (PutObjectTagging has no merge: the caller merges, see
`cicd.decide.quarantine`); `rejection_of` is the rejection a version carries, if any.
`caller_arn` is the identity the CLI runs as (STS GetCallerIdentity, which needs no permission),
recorded as who rejected a release or overrode a condition.

S3 authorizes tagging a given version as s3:GetObjectVersionTagging and
s3:PutObjectVersionTagging (S3 API reference, GetObjectTagging and PutObjectTagging, versionId).
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import Rejection

TagSet = list[dict[str, str]]


def release_tags(s3: BaseClient, location: ReleaseLocation, version_id: str) -> TagSet:
    """The tag set of one version of the release object."""
    response = s3.get_object_tagging(Bucket=location.bucket, Key=location.key, VersionId=version_id)
    tags: list[dict[str, Any]] = response.get("TagSet", [])
    return [{"Key": str(tag["Key"]), "Value": str(tag.get("Value", ""))} for tag in tags]


def put_release_tags(
    s3: BaseClient, location: ReleaseLocation, version_id: str, tags: TagSet
) -> None:
    """Replace the tag set of one version of the release object with `tags`."""
    s3.put_object_tagging(
        Bucket=location.bucket,
        Key=location.key,
        VersionId=version_id,
        Tagging={"TagSet": [dict(tag) for tag in tags]},
    )


def rejection_of(s3: BaseClient, location: ReleaseLocation, version_id: str) -> Rejection | None:
    """The rejection one version carries, or None."""
    return Rejection.from_tags(release_tags(s3, location, version_id))


def caller_arn(sts: BaseClient) -> str:
    """The ARN of the identity making the calls (an IAM user or an assumed role's session)."""
    return str(sts.get_caller_identity()["Arn"])
