"""Read the scan summary of a release: the SBOM the source scan put into it, under `sbom/`.

`parse_sbom` reads one SBOM's JSON (no call): CycloneDX, as Amazon Inspector writes it
(`components`, and `vulnerabilities` each with `ratings[].severity`). `read_scan` opens the
release zip with ranged GETs (`cicd.aws.manifests.RangedObject`: the archive's directory, then
the one member) and returns the summary, None when the release has no SBOM, or a one-line
reason it cannot be read. Which object is the release is the caller's choice: a promoted
release's object version, or the `Package` action's output artifact of a build.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.aws.manifests import RangedObject
from cicd.aws.permissions import iam_action
from cicd.contract import BUILD_STAGE, PACKAGE_ACTION, SBOM_FOLDER, SCAN_PROVIDER
from cicd.model.pipeline import PipelineLayout, ReleaseLocation
from cicd.model.release import Release
from cicd.model.run import ActionRun
from cicd.model.scan import SEVERITIES, ScanSummary
from cicd.model.status import Unknown

# An SBOM lists every package of the source: a few MB for a large application. Reading more
# than this is refused rather than inflated in memory.
MAX_SBOM_BYTES = 32 * 1024 * 1024


def _severity(vulnerability: Mapping[str, Any]) -> str:
    """The worst severity among a vulnerability's ratings, `other` when none is one we know."""
    ratings = vulnerability.get("ratings")
    found = {
        str(r.get("severity", "")).lower()
        for r in (ratings if isinstance(ratings, list) else [])
        if isinstance(r, Mapping)
    }
    return next((s for s in SEVERITIES if s in found), "other")


def parse_sbom(text: bytes | str, file: str) -> ScanSummary:
    """The summary of one SBOM; ValueError saying what is wrong when it is not CycloneDX JSON."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{file} is not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise ValueError(f"{file} is not a CycloneDX document (no bomFormat CycloneDX)")
    # Absent (or null) means none; anything but a list is a broken document.
    components = document.get("components")
    components = [] if components is None else components
    vulnerabilities = document.get("vulnerabilities")
    vulnerabilities = [] if vulnerabilities is None else vulnerabilities
    if not isinstance(components, list) or not isinstance(vulnerabilities, list):
        raise ValueError(f"{file}: components and vulnerabilities must be lists")
    counts = dict.fromkeys([*SEVERITIES, "other"], 0)
    for vulnerability in vulnerabilities:
        if isinstance(vulnerability, Mapping):
            counts[_severity(vulnerability)] += 1
    return ScanSummary(
        file=file,
        format=f"CycloneDX {document.get('specVersion', '?')}",
        components=len(components),
        vulnerabilities=counts,
    )


def release_object(
    layout: PipelineLayout, release: Release, actions: Sequence[ActionRun] | Unknown
) -> tuple[ReleaseLocation, str | None] | str | None:
    """Where this execution's release is, to look for an SBOM in; None when there is none to
    look for; a reason when the release should carry one but cannot be found.

    A promoted pipeline deploys a published object version, which carries the SBOM of the
    stage that built it (when that stage scanned). A pipeline that builds looks only when its
    execution ran the scan: the release is then the `Package` action's output artifact.
    """
    promoted = layout.promoted
    if promoted is not None:
        return (promoted.location, release.version_id) if release.version_id else None
    if isinstance(actions, Unknown):
        return None
    if not any(a.provider == SCAN_PROVIDER for a in actions):
        return None
    package = next(
        (a for a in actions if a.stage == BUILD_STAGE and a.action == PACKAGE_ACTION), None
    )
    if package is None or package.output_location is None or package.status != "Succeeded":
        return "no release: the scan ran, but Package did not make one (see the Build stage)"
    bucket, key = package.output_location
    return ReleaseLocation(bucket, key), None


def read_scan(
    s3: BaseClient, location: ReleaseLocation, version_id: str | None
) -> ScanSummary | str | None:
    """The release's scan summary; None without an SBOM; a short reason when unreadable."""
    try:
        reader = RangedObject(s3, location, version_id)
        with zipfile.ZipFile(reader) as archive:
            members = sorted(
                (
                    info
                    for info in archive.infolist()
                    if info.filename.startswith(f"{SBOM_FOLDER}/")
                    and info.filename.endswith(".json")
                ),
                key=lambda info: info.filename,
            )
            if not members:
                return None
            member = members[0]
            if member.file_size > MAX_SBOM_BYTES:
                return f"unknown ({member.filename} is {member.file_size} bytes, too big to read)"
            return parse_sbom(archive.read(member), member.filename)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"AccessDenied", "AccessDeniedException"}:
            # S3 authorizes a GetObject with versionId as s3:GetObjectVersion, one without (a
            # build's output artifact) as s3:GetObject (S3 API reference, GetObject, versionId).
            action = iam_action("GetObject") if version_id else "s3:GetObject"
            return f"unknown (needs {action} on {location.url()})"
        if code in {"NoSuchKey", "NoSuchVersion", "InvalidRange"}:
            return f"unknown (the release {location.url()} is gone: {code})"
        return f"unknown ({code or 'AWS error'} reading {location.url()})"
    except (zipfile.BadZipFile, ValueError, RuntimeError, EOFError) as error:
        return f"unknown ({error})"
