"""Releases as the CLI speaks of them: executions, manifests, published releases, approvals.

Plain, frozen data: `Release` (one pipeline execution: commit, message, trigger, status,
timing), `Manifest` (what `release-manifest.json` says), `PublishedVersion` and
`PublishedRelease` (one version of a stage's release object, with its manifest), `Waiting` (what
a promoted pipeline could deploy next), `PendingApproval`, and `Rejection` / `RejectedRelease` (a
published release marked rejected by the tags on its object version). `cicd.aws` reads them;
nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cicd.contract import TAG_REJECTED, TAG_REJECTED_AT, TAG_REJECTED_BY, TAG_REJECTED_REASON
from cicd.model.pipeline import ReleaseLocation
from cicd.text import short_id, short_sha, short_version

ROLLBACK_TRIGGERS = {"ManualRollback", "AutomatedRollback"}
TERMINAL_STATUSES = {"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"}


@dataclass(frozen=True)
class Release:
    """One pipeline execution, newest-first lists of which make the release history."""

    execution_id: str
    status: str
    commit: str | None = None
    message: str | None = None
    trigger: str = "-"
    started: datetime | None = None
    updated: datetime | None = None
    rollback_target: str | None = None
    is_rollback: bool = False
    # Promoted pipelines: the S3 object version deployed, and why its manifest could not be read.
    version_id: str | None = None
    manifest_problem: str | None = None
    # Its RELEASE_KIND (`code`, `config`) and RELEASE_NOTE variables, when read (None: not read,
    # or a pipeline that declares neither).
    kind: str | None = None
    note: str | None = None

    def duration(self, now: datetime) -> timedelta | None:
        """Wall time so far for a running execution; start to last update for a finished one."""
        if self.started is None:
            return None
        end = self.updated if self.status in TERMINAL_STATUSES else now
        return None if end is None else end - self.started

    def describe_commit(self) -> str:
        """`commit abc1234 "Fix login"`."""
        message = f' "{self.message}"' if self.message else ""
        return f"commit {short_sha(self.commit)}{message}"

    def describe(self) -> str:
        """`1a2b3c4d (commit abc1234 "Fix login")`: how commands name a release in prose; a
        config release adds its note: `(commit abc1234 "Fix login", config: set X by ...)`."""
        note = f", {self.note}" if self.kind == "config" and self.note else ""
        return f"{short_id(self.execution_id)} ({self.describe_commit()}{note})"


@dataclass(frozen=True)
class Manifest:
    """What `release-manifest.json` says about one published release (schema 1).

    `stage`, `pipeline` and `pipeline_execution_id` name where the release was BUILT: in a
    dev -> staging -> prod chain, prod's manifest still names dev.
    """

    commit: str
    message: str
    repository: str
    service: str
    branch: str | None = None
    stage: str | None = None
    pipeline: str | None = None
    pipeline_execution_id: str | None = None
    build_id: str | None = None
    created: datetime | None = None
    # The release contracts the schema (drops or renames what the previous release uses):
    # `cicd rollback` refuses to cross it without --force.
    contracts_schema: bool = False


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


@dataclass(frozen=True)
class Waiting:
    """What a promoted pipeline could deploy next: a newer release, and whether it is underway."""

    release: PublishedRelease | None
    problem: str | None = None
    running: Release | None = None
    # Newer published releases passed over because they are rejected, newest first; and why
    # rejections could not be checked (a denied tag read), when they could not.
    rejected: tuple[RejectedRelease, ...] = ()
    unchecked: str | None = None


@dataclass(frozen=True)
class PendingApproval:
    """The approval action waiting for an answer, and the execution it holds back."""

    pipeline: str
    execution_id: str
    token: str
    since: datetime | None
    commit: str | None = None
    message: str | None = None
    version_id: str | None = None
    # Why the commit is unknown, when a promoted release's manifest could not be read.
    problem: str | None = None


# The four tags that mark a published release rejected, in the order cicd writes them.
REJECTION_TAG_KEYS = (TAG_REJECTED, TAG_REJECTED_REASON, TAG_REJECTED_BY, TAG_REJECTED_AT)


@dataclass(frozen=True)
class Rejection:
    """A release marked rejected: who, when and why (from its object version's tags)."""

    by: str | None = None
    at: datetime | None = None
    reason: str | None = None

    def describe(self) -> str:
        """`rejected by arn:... at 2025-05-01 10:00:00 UTC: "breaks checkout"`."""
        by = f" by {self.by}" if self.by else ""
        at = f" at {self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.at else ""
        why = f': "{self.reason}"' if self.reason else ""
        return f"rejected{by}{at}{why}"

    @classmethod
    def from_tags(cls, tags: Sequence[Mapping[str, str]]) -> Rejection | None:
        """The rejection an S3 tag set (`[{"Key": ..., "Value": ...}]`) records, or None.

        Only `cicd:rejected` = `true` rejects; the other keys are read as they are (a time that
        does not parse is kept out rather than guessed).
        """
        values = {str(tag.get("Key")): str(tag.get("Value", "")) for tag in tags}
        if values.get(TAG_REJECTED, "").lower() != "true":
            return None
        at: datetime | None = None
        text = values.get(TAG_REJECTED_AT)
        if text:
            try:
                at = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                at = None
        return cls(
            by=values.get(TAG_REJECTED_BY) or None,
            at=at,
            reason=values.get(TAG_REJECTED_REASON) or None,
        )


@dataclass(frozen=True)
class RejectedRelease:
    """A published version that carries a rejection (skipped by promote, not offered by status)."""

    version: PublishedVersion
    rejection: Rejection
    manifest: Manifest | None = None

    def describe(self) -> str:
        """`release 3HL4kqtJ… (commit abc1234 "Fix login")`, the commit when its manifest was
        read."""
        if self.manifest is None:
            return f"release {short_version(self.version.version_id)}"
        message = self.manifest.message.strip().splitlines()
        said = f' "{message[0]}"' if message else ""
        return (
            f"release {short_version(self.version.version_id)} "
            f"(commit {short_sha(self.manifest.commit)}{said})"
        )
