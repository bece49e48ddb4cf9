"""Rejected (quarantined) releases: which published release a command means, and the tags that
mark it. Pure, no AWS calls.

A published release is rejected by four tags on its object version (design: `cicd:rejected` =
`true`, `-reason`, `-by`, `-at`). S3 replaces a version's whole tag set on every write and
allows at most 10 tags, so `merge_rejection` keeps the tags already there and refuses when the
result would not fit; `without_rejection` is the reverse. `resolve_releases` finds what
`RELEASE` on the command line names: a version id (or a unique prefix of one) or a commit SHA
(every listed version built from it). `published_by` is the version a publishing stage's
execution published, for `cicd rollback`.

S3's rules for a tag value (S3 user guide, "Categorizing your storage using tags"; AWS tagging
rules): up to 256 Unicode characters, letters, digits, spaces and `+ - = . _ : / @`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from cicd.contract import TAG_REJECTED, TAG_REJECTED_AT, TAG_REJECTED_BY, TAG_REJECTED_REASON
from cicd.errors import NotFound, Refused, UsageError
from cicd.model.controls import Candidate
from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import REJECTION_TAG_KEYS, Manifest, PublishedVersion
from cicd.text import short_version

TAG_VALUE_MAX = 256
MAX_TAGS = 10
TAG_VALUE_CHARACTERS = "letters, digits, spaces and + - = . _ : / @"
_TAG_PUNCTUATION = set("+-=._:/@")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
# A version id prefix must be this long: S3's version ids are 32 characters, and a shorter
# prefix is too easy to match by accident when marking a release.
MIN_PREFIX = 7

TagSet = list[dict[str, str]]
Lookup = Callable[[str], Manifest | str]


def _tag_character(character: str) -> bool:
    category = unicodedata.category(character)
    return category[0] in {"L", "N"} or category == "Zs" or character in _TAG_PUNCTUATION


def check_tag_value(text: str, option: str = "--reason") -> str:
    """`text` when S3 accepts it as a tag value (and it is not empty); UsageError otherwise."""
    if not text.strip():
        raise UsageError(f"{option} is empty: say why the release is rejected")
    if len(text) > TAG_VALUE_MAX:
        raise UsageError(
            f"{option} is {len(text)} characters; an S3 tag value holds at most {TAG_VALUE_MAX}",
            "shorten it; link the incident ticket",
        )
    refused = sorted({c for c in text if not _tag_character(c)})
    if refused:
        raise UsageError(
            f"{option} contains characters S3 does not accept in a tag value: "
            + " ".join(repr(c) for c in refused),
            f"allowed: {TAG_VALUE_CHARACTERS}; cicd does not rewrite a reason, so reword it",
        )
    return text


def tag_safe(text: str) -> str:
    """`text` with every character S3 refuses in a tag value replaced by `_`, cut to 256 (for
    the caller's ARN, whose session names may hold `,`)."""
    return "".join(c if _tag_character(c) else "_" for c in text)[:TAG_VALUE_MAX]


def tag_time(moment: datetime) -> str:
    """`2026-12-03T10:00:00Z`: the UTC time written to `cicd:rejected-at`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rejection_tags(reason: str, by: str, at: datetime) -> dict[str, str]:
    """The four tags that mark a release rejected (values already valid tag values)."""
    return {
        TAG_REJECTED: "true",
        TAG_REJECTED_REASON: reason,
        TAG_REJECTED_BY: tag_safe(by),
        TAG_REJECTED_AT: tag_time(at),
    }


def merge_rejection(
    existing: Sequence[Mapping[str, str]], marks: Mapping[str, str], where: str
) -> TagSet:
    """`existing` with the rejection tags set (replacing earlier ones), the other tags kept.

    Refused when the merged set would exceed S3's 10 tags: the write would fail, and dropping
    another tool's tags to make room is not cicd's call.
    """
    kept = [
        {"Key": str(tag["Key"]), "Value": str(tag["Value"])}
        for tag in existing
        if tag["Key"] not in REJECTION_TAG_KEYS
    ]
    merged = kept + [{"Key": key, "Value": value} for key, value in marks.items()]
    if len(merged) > MAX_TAGS:
        raise Refused(
            f"{where} carries {len(kept)} other tags; with the {len(marks)} that mark it "
            f"rejected it would have {len(merged)}, and S3 allows {MAX_TAGS} per object version",
            "remove tags it no longer needs (aws s3api put-object-tagging --version-id ...), "
            "then reject it again",
        )
    return merged


def without_rejection(existing: Sequence[Mapping[str, str]]) -> TagSet:
    """`existing` without the rejection tags."""
    return [
        {"Key": str(tag["Key"]), "Value": str(tag["Value"])}
        for tag in existing
        if tag["Key"] not in REJECTION_TAG_KEYS
    ]


def resolve_releases(
    given: str,
    versions: Sequence[PublishedVersion],
    lookup: Lookup,
    location: ReleaseLocation,
    *,
    warn: Callable[[str], None],
) -> list[Candidate]:
    """The published releases `given` names, newest first.

    A version id, or a prefix of at least 7 characters matching one listed version, names that
    version. Otherwise a commit SHA (7 to 40 hex digits) names every listed version built from
    that commit: a commit published twice is rejected (or restored) twice, so promote cannot
    fall back to its other copy. Versions whose manifest cannot be read cannot be shown to be a
    commit; they are reported through `warn` and skipped.
    """
    text = given.strip()
    if len(text) < MIN_PREFIX:
        raise UsageError(
            f"RELEASE {given!r} is too short: give an object version id (or at least "
            f"{MIN_PREFIX} characters of one) or a commit SHA of 7 to 40 hex digits",
            "`cicd status --service SERVICE` and `cicd promote` name the published releases",
        )
    matches = [v for v in versions if v.version_id.startswith(text)]
    exact = [v for v in matches if v.version_id == text]
    if exact or len(matches) == 1:
        version = (exact or matches)[0]
        found = lookup(version.version_id)
        if isinstance(found, str):
            return [Candidate(version, None, found)]
        return [Candidate(version, found)]
    if len(matches) > 1:
        raise UsageError(
            f"RELEASE {given} is ambiguous: {len(matches)} versions at {location.url()} start "
            f"with it ({', '.join(short_version(v.version_id) for v in matches[:5])})",
            "pass more characters of the version id",
        )
    if not _SHA.match(text.lower()):
        raise NotFound(
            f"no published release at {location.url()} has a version id starting with {text} "
            f"(among the {len(versions)} newest)",
            "version ids are case-sensitive; `cicd status --service SERVICE` shows them",
        )
    commit = text.lower()
    found_releases: list[Candidate] = []
    for version in versions:
        manifest = lookup(version.version_id)
        if isinstance(manifest, str):
            warn(f"skipping version {short_version(version.version_id)}: {manifest}")
            continue
        if manifest.commit.startswith(commit):
            found_releases.append(Candidate(version, manifest))
    commits = {c.manifest.commit for c in found_releases if c.manifest}
    if len(commits) > 1:
        raise UsageError(
            f"commit {commit} is ambiguous at {location.url()}: "
            + ", ".join(sorted(c[:12] for c in commits)),
            "pass more characters of the SHA",
        )
    if not found_releases:
        raise NotFound(
            f"no published release at {location.url()} was built from commit {commit} "
            f"(among the {len(versions)} newest) and no version id starts with {text}",
            "a commit is published only once its release succeeded upstream",
        )
    return found_releases


def published_by(
    versions: Sequence[PublishedVersion], lookup: Lookup, execution_id: str
) -> PublishedVersion | None:
    """The version whose manifest names `execution_id` as the execution that built it."""
    for version in versions:
        manifest = lookup(version.version_id)
        if not isinstance(manifest, str) and manifest.pipeline_execution_id == execution_id:
            return version
    return None
