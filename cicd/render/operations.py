"""What the release controls print for scripts, and what an override says on the release topic.

The `--json` documents of `freeze`, `unfreeze`, `override`, `retry`, `stop`, `reject RELEASE`
and `unreject` (docs/cicd.md, "JSON output"; a test pins every key), built from the shapes in
`cicd.render.documents`; and `override_announcement`, the subject and message published when a
stage condition is overridden. Nothing here reads AWS or writes to a stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cicd.contract import execution_console_url
from cicd.model.controls import Candidate, Freeze
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseLocation
from cicd.model.release import Rejection
from cicd.render.documents import freeze_document, rejection_document
from cicd.text import iso, short_id

# SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than
# 100 characters long." (Publish API reference)
SUBJECT_MAX = 99


def frozen_pipeline_document(
    ref: PipelineRef,
    layout: PipelineLayout,
    *,
    changed: bool,
    before: Freeze | None,
    **extra: Any,
) -> dict[str, Any]:
    """One pipeline in `freeze --json` / `unfreeze --json`."""
    return {
        "pipeline": layout.name,
        "service": ref.service,
        "stage": ref.stage,
        "changed": changed,
        "before": freeze_document(before),
        **extra,
    }


def candidate_document(
    candidate: Candidate, location: ReleaseLocation, **extra: Any
) -> dict[str, Any]:
    """A published release named on the command line (`reject RELEASE`, `unreject`)."""
    manifest = candidate.manifest
    return {
        "location": location.url(),
        "versionId": candidate.version.version_id,
        "published": iso(candidate.version.published),
        "commit": manifest.commit if manifest else None,
        "message": manifest.message.strip().splitlines()[0]
        if manifest and manifest.message.strip()
        else None,
        "manifestProblem": candidate.problem,
        **extra,
    }


def rejected_document(
    command: str,
    service: str | None,
    releases: Sequence[dict[str, Any]],
    rejection: Rejection | None,
) -> dict[str, Any]:
    """`reject RELEASE --json` (with the rejection written) and `unreject --json` (null)."""
    return {
        "command": command,
        "service": service,
        "rejection": rejection_document(rejection),
        "releases": list(releases),
    }


def override_announcement(
    *,
    label: str,
    ref: PipelineRef,
    layout: PipelineLayout,
    execution_id: str,
    by: str,
    reason: str,
    at: datetime,
    region: str,
) -> tuple[str, str]:
    """The subject and message published to the release topic when a condition is overridden."""
    where = " ".join(p for p in (ref.service, ref.stage) if p) or layout.name
    subject = f"{where}: {label} overridden"[:SUBJECT_MAX]
    message = "\n".join(
        [
            f"The {label} of Deploy in {layout.name} was overridden for execution "
            f"{execution_id}: it goes on without waiting for it.",
            f"By: {by}",
            f"Reason: {reason}",
            f"At: {at.isoformat()}",
            f"Execution: {execution_console_url(region, layout.name, execution_id)}",
            f"(execution {short_id(execution_id)}; sent by cicd override)",
        ]
    )
    return subject, message
