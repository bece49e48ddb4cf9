"""Read the manifest of a published release without downloading the release.

A published release is one version of an S3 object: a zip holding the deployable bundle and
`release-manifest.json` at its root (which commit, repository, branch, where it was built). A
bundle can be hundreds of megabytes while the manifest is a few hundred bytes, so the zip is read
through HTTP Range requests (`GetObject` with `Range` and `VersionId`): the end of the archive
(its central directory) and then the one member. Python's `zipfile` does the zip parsing, over a
file object whose reads become ranged GETs (`RangedObject`).

`parse_manifest` reads the JSON (no call); `Manifests` reads and caches one manifest per object
version for the length of one command; `with_manifest` gives a promoted pipeline's release the
commit and message of the version it deployed. Listing which versions exist is
`cicd.aws.published`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.aws.permissions import iam_action
from cicd.contract import MANIFEST_NAME
from cicd.errors import CicdError, ManifestError, NotFound
from cicd.model.pipeline import PipelineLayout, ReleaseLocation
from cicd.model.release import Manifest, Release
from cicd.text import commit_message

SCHEMA = 1
# The end of a zip holds its end-of-central-directory record (22 bytes plus a comment of up to
# 64 KiB) and usually the whole central directory: one GET of this size finds both.
TAIL_BYTES = 64 * 1024
# Later reads (the member's local header and data) fetch at least this much at a time.
MIN_FETCH_BYTES = 16 * 1024
# A manifest is a few hundred bytes; refusing big ones keeps a corrupt or hostile zip from
# making the CLI inflate a large member.
MAX_MANIFEST_BYTES = 64 * 1024

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchBucket"}
_DENIED = {"AccessDenied", "AccessDeniedException", "AllAccessDisabled"}


def _text(document: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and key != "message" and not value.strip()):
        shown = "missing" if value is None else f"{json.dumps(value)[:60]}"
        raise ValueError(f"'{key}' must be a non-empty string, got {shown}")
    return value


def parse_manifest(text: bytes | str) -> Manifest:
    """The manifest in `text`; ValueError saying what is wrong when it is not a valid one.

    Unknown keys are ignored (later schema-1 additions); a different `schema` is an error,
    since its meaning may have changed.
    """
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    schema = document.get("schema")
    if schema != SCHEMA or isinstance(schema, bool):
        raise ValueError(
            f"'schema' is {json.dumps(schema)}, this cicd reads schema {SCHEMA}"
            + (" (upgrade cicd)" if isinstance(schema, int) and schema > SCHEMA else "")
        )
    given = str(_text(document, "commit", required=True))
    commit = given.lower()
    if not _FULL_SHA.match(commit):
        raise ValueError(f"'commit' must be a 40-character hex SHA, got {given[:60]!r}")
    created_text = _text(document, "created", required=False)
    created: datetime | None = None
    if created_text is not None:
        try:
            created = datetime.fromisoformat(created_text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"'created' is not an ISO 8601 time: {created_text[:60]!r}") from None
    contracts = document.get("contracts_schema", False)
    if not isinstance(contracts, bool):
        raise ValueError(
            f"'contracts_schema' must be true or false, got {json.dumps(contracts)[:60]}"
        )
    return Manifest(
        commit=commit,
        message=str(_text(document, "message", required=True)),
        repository=str(_text(document, "repository", required=True)),
        service=str(_text(document, "service", required=True)),
        branch=_text(document, "branch", required=False),
        stage=_text(document, "stage", required=False),
        pipeline=_text(document, "pipeline", required=False),
        pipeline_execution_id=_text(document, "pipeline_execution_id", required=False),
        build_id=_text(document, "build_id", required=False),
        created=created,
        contracts_schema=contracts,
    )


class RangedObject(io.RawIOBase):
    """A read-only, seekable file over one S3 object version; every read is a ranged GET.

    The first GET fetches the last `TAIL_BYTES` (which also tells the object's size); bytes
    already fetched are served from memory. `requests` and `fetched` count what was read.
    `version_id` None reads the current version (a build's artifact, whose key is unique).
    """

    def __init__(self, s3: BaseClient, location: ReleaseLocation, version_id: str | None) -> None:
        super().__init__()
        self._s3, self._location, self._version = s3, location, version_id
        self._segments: list[tuple[int, bytes]] = []
        self._position = 0
        self.requests = 0
        self.fetched = 0
        self._size = 0
        start, data, self._size = self._get(f"bytes=-{TAIL_BYTES}")
        self._segments.append((start, data))

    def _get(self, byte_range: str) -> tuple[int, bytes, int]:
        request = {"Bucket": self._location.bucket, "Key": self._location.key, "Range": byte_range}
        if self._version is not None:
            request["VersionId"] = self._version
        response = self._s3.get_object(**request)
        data: bytes = response["Body"].read()
        self.requests += 1
        self.fetched += len(data)
        match = _CONTENT_RANGE.match(str(response.get("ContentRange") or ""))
        if match is None:
            # No Content-Range: S3 sent the whole object (an empty one, or a range it ignored).
            return 0, data, len(data)
        return int(match.group(1)), data, int(match.group(3))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(f"seek before the start of {self._location.url()}")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        length = min(len(view), max(0, self._size - self._position))
        if length == 0:
            return 0
        data = self._bytes(self._position, length)
        view[:length] = data
        self._position += length
        return length

    def _bytes(self, start: int, length: int) -> bytes:
        for first, data in self._segments:
            if first <= start and start + length <= first + len(data):
                return data[start - first : start - first + length]
        end = min(self._size, start + max(length, MIN_FETCH_BYTES)) - 1
        first, data, _ = self._get(f"bytes={start}-{end}")
        self._segments.append((first, data))
        return data[start - first : start - first + length]


def read_manifest_bytes(s3: BaseClient, location: ReleaseLocation, version_id: str) -> bytes:
    """The raw `release-manifest.json` of one object version, read with ranged GETs.

    Raises ValueError naming what is wrong with the archive; AWS errors propagate.
    """
    reader = RangedObject(s3, location, version_id)
    try:
        with zipfile.ZipFile(reader) as archive:
            try:
                info = archive.getinfo(MANIFEST_NAME)
            except KeyError:
                names = archive.namelist()
                found = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
                raise ValueError(
                    f"the zip has no {MANIFEST_NAME} at its root (it holds {len(names)} "
                    f"entries: {found or 'none'})"
                ) from None
            if info.file_size > MAX_MANIFEST_BYTES:
                raise ValueError(
                    f"{MANIFEST_NAME} is {info.file_size} bytes, more than a manifest can be "
                    f"({MAX_MANIFEST_BYTES})"
                )
            return archive.read(info)
    except zipfile.BadZipFile as error:
        raise ValueError(f"not a zip archive ({error})") from None
    except (RuntimeError, NotImplementedError, EOFError) as error:
        raise ValueError(f"unreadable zip archive ({error})") from None


ManifestOrProblem = Manifest | str


class Manifests:
    """Manifests by object version, each read at most once per command run.

    `read` raises (ManifestError, NotFound, or the AWS error); `lookup` returns a one-line
    problem instead, for listings that show what they can.
    """

    def __init__(self, s3: Callable[[], BaseClient]) -> None:
        self._s3 = s3
        self._cache: dict[tuple[str, str, str], Manifest | CicdError | ClientError] = {}

    def read(self, location: ReleaseLocation, version_id: str) -> Manifest:
        key = (location.bucket, location.key, version_id)
        if key not in self._cache:
            self._cache[key] = self._read(location, version_id)
        found = self._cache[key]
        if isinstance(found, Exception):
            raise found
        return found

    def _read(
        self, location: ReleaseLocation, version_id: str
    ) -> Manifest | CicdError | ClientError:
        where = f"{location.url()} version {version_id}"
        try:
            return parse_manifest(read_manifest_bytes(self._s3(), location, version_id))
        except ValueError as error:
            return ManifestError(
                f"release manifest of {where}: {error}",
                "the Package action of the pipeline that built it writes the manifest; "
                "publish a new release from a fixed pipeline",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _MISSING or code == "InvalidRange":
                reason = "is empty" if code == "InvalidRange" else f"does not exist ({code})"
                return NotFound(
                    f"release {where} {reason}",
                    "old versions expire with the bucket's lifecycle rule; promote a newer one",
                )
            return error

    def lookup(self, location: ReleaseLocation, version_id: str) -> ManifestOrProblem:
        """The manifest, or a short reason it cannot be shown (never raises for AWS refusals)."""
        try:
            return self.read(location, version_id)
        except CicdError as error:
            return error.message
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            said = str(error.response.get("Error", {}).get("Message", "")).lower()
            if code in _DENIED and "kms" in said:
                # SSE-KMS objects also need the key: S3 answers AccessDenied naming KMS.
                return "unknown (needs kms:Decrypt on the release location's key)"
            if code in _DENIED:
                return f"unknown (needs {iam_action('GetObject')})"
            return f"unknown ({code or 'AWS error'} reading {location.url()})"


def with_manifest(release: Release, layout: PipelineLayout, manifests: Manifests) -> Release:
    """`release` with the commit and message of its manifest, for a promoted pipeline.

    When the manifest cannot be read, `manifest_problem` says why and the commit stays unknown.
    """
    promoted = layout.promoted
    if promoted is None or release.version_id is None or release.commit is not None:
        return release
    found = manifests.lookup(promoted.location, release.version_id)
    if isinstance(found, str):
        return replace(release, manifest_problem=found)
    return replace(release, commit=found.commit, message=commit_message(found.message))


def with_manifests(
    releases: Sequence[Release], layout: PipelineLayout, manifests: Manifests
) -> list[Release]:
    """`with_manifest` for each release (a no-op list copy for GitHub-built pipelines)."""
    return [with_manifest(release, layout, manifests) for release in releases]
