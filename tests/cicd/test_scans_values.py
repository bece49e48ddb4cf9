"""`cicd.aws.scans`: which SBOM of several a release's scan is read from, the size limit, and
the one-line reasons S3's refusals become (the `scan:` line of `cicd info`).

Parsing and the end-to-end `cicd info` are tests/cicd/test_info_scan.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from moto import mock_aws

from cicd.aws import scans
from cicd.aws.pipelines import parse_layout
from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import Release
from cicd.model.run import ActionRun
from cicd.model.scan import ScanSummary
from tests.cicd.aws_fakes import (
    ReleaseBucket,
    StubbedAws,
    execution_id,
    pipeline_declaration,
    release_key,
    session,
)
from tests.cicd.test_info_scan import sbom

LOCATION = ReleaseLocation("acme-staging-releases", "releases/web/release.zip")
VERSION = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


@pytest.fixture
def bucket() -> Iterator[ReleaseBucket]:
    with mock_aws():
        yield ReleaseBucket(session().client("s3"))


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in members:
            archive.writestr(name, body)
    return buffer.getvalue()


def test_of_several_sboms_the_first_by_name_is_read(bucket: ReleaseBucket) -> None:
    body = _zip(
        ("sbom/web.json", json.dumps(sbom("high", components=2)).encode()),
        ("sbom/api.json", json.dumps(sbom(components=7)).encode()),
    )
    version = bucket.publish(4, body=body)

    found = scans.read_scan(bucket.s3, ReleaseLocation(bucket.name, release_key("web")), version)

    assert isinstance(found, ScanSummary)
    assert (found.file, found.components) == ("sbom/api.json", 7)


def test_an_sbom_of_exactly_the_limit_is_read_and_one_byte_more_is_not(
    bucket: ReleaseBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.dumps(sbom()).encode()
    location = ReleaseLocation(bucket.name, release_key("web"))
    at_limit = bucket.publish(4, body=_zip(("sbom/sbom.json", document)))
    over = bucket.publish(5, body=_zip(("sbom/sbom.json", document + b" ")))
    monkeypatch.setattr(scans, "MAX_SBOM_BYTES", len(document))

    assert isinstance(scans.read_scan(bucket.s3, location, at_limit), ScanSummary)
    assert scans.read_scan(bucket.s3, location, over) == (
        f"unknown (sbom/sbom.json is {len(document) + 1} bytes, too big to read)"
    )


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("AccessDenied", f"unknown (needs s3:GetObjectVersion on {LOCATION.url()})"),
        ("InvalidRange", f"unknown (the release {LOCATION.url()} is gone: InvalidRange)"),
        ("NoSuchVersion", f"unknown (the release {LOCATION.url()} is gone: NoSuchVersion)"),
        ("SlowDown", f"unknown (SlowDown reading {LOCATION.url()})"),
        ("", f"unknown (AWS error reading {LOCATION.url()})"),
    ],
)
def test_what_s3_refuses_becomes_a_one_line_reason(code: str, reason: str) -> None:
    aws = StubbedAws()
    aws.stub("s3").add_client_error("get_object", service_error_code=code, service_message="no")

    assert scans.read_scan(aws.client("s3"), LOCATION, VERSION) == reason


def test_a_scan_without_a_package_says_there_is_no_release_in_those_words() -> None:
    actions = [
        ActionRun(stage="Build", action="Scan", status="Succeeded", provider="InspectorScan"),
    ]
    release = Release(execution_id=execution_id(9), status="Failed")

    assert scans.release_object(
        parse_layout(pipeline_declaration("web", "staging")), release, actions
    ) == ("no release: the scan ran, but Package did not make one (see the Build stage)")


def test_a_build_artifact_read_without_a_version_needs_get_object_not_get_object_version() -> None:
    aws = StubbedAws()
    aws.stub("s3").add_client_error("get_object", service_error_code="AccessDenied")

    assert scans.read_scan(aws.client("s3"), LOCATION, None) == (
        f"unknown (needs s3:GetObject on {LOCATION.url()})"
    )
