"""Release manifests: parsing and validation, and reading them from S3 with Range requests.

Reads go to a versioned bucket in moto's S3 holding real zips (a 2 MB incompressible payload
and the manifest); `ReleaseBucket.gets` records each GetObject's Range and the bytes returned.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from cicd.aws.manifests import (
    MAX_MANIFEST_BYTES,
    TAIL_BYTES,
    ManifestError,
    Manifests,
    parse_manifest,
)
from cicd.aws.published import published_versions
from cicd.errors import NotFound
from cicd.model.pipeline import ReleaseLocation
from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    ReleaseBucket,
    StubbedAws,
    manifest,
    release_key,
    release_zip,
    session,
    sha,
)

LOCATION = ReleaseLocation(RELEASE_BUCKET, release_key("web"))
WHERE = f"s3://{RELEASE_BUCKET}/releases/web/release.zip"


@pytest.fixture
def bucket() -> Iterator[ReleaseBucket]:
    with mock_aws():
        yield ReleaseBucket(session().client("s3"))


def _manifests(bucket: ReleaseBucket) -> Manifests:
    return Manifests(lambda: bucket.s3)


# ---------------------------------------------------------------------------------------------
# Parsing (pure).


def test_a_valid_manifest_is_read_with_every_field() -> None:
    parsed = parse_manifest(json.dumps(manifest(4, message="Faster search\n\nbody")))

    assert parsed.commit == sha(4)
    assert (parsed.message, parsed.repository, parsed.service) == (
        "Faster search\n\nbody",
        "acme/web",
        "web",
    )
    assert (parsed.stage, parsed.pipeline, parsed.branch) == (
        "staging",
        "web-staging-pipeline",
        "main",
    )
    assert parsed.created == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    assert parsed.build_id == manifest(4)["build_id"]


def test_unknown_keys_are_ignored_and_optional_ones_may_be_absent() -> None:
    document = manifest(4, future_field={"x": 1})
    for key in ("branch", "stage", "pipeline", "pipeline_execution_id", "build_id", "created"):
        del document[key]

    parsed = parse_manifest(json.dumps(document))

    assert (parsed.commit, parsed.stage, parsed.created) == (sha(4), None, None)


def test_an_upper_case_sha_is_read_in_lower_case() -> None:
    assert parse_manifest(json.dumps(manifest(4, commit=sha(4).upper()))).commit == sha(4)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"commit": None}, "'commit' must be a non-empty string, got missing"),
        ({"commit": "main"}, "'commit' must be a 40-character hex SHA, got 'main'"),
        ({"repository": 7}, "'repository' must be a non-empty string, got 7"),
        ({"service": ""}, "'service' must be a non-empty string"),
        ({"schema": 2}, "'schema' is 2, this cicd reads schema 1 (upgrade cicd)"),
        ({"schema": "1"}, "'schema' is \"1\", this cicd reads schema 1"),
        ({"created": "yesterday"}, "'created' is not an ISO 8601 time: 'yesterday'"),
        ({"contracts_schema": "yes"}, "'contracts_schema' must be true or false, got \"yes\""),
    ],
)
def test_a_malformed_manifest_says_which_field_is_wrong(
    change: dict[str, object], problem: str
) -> None:
    document = {k: v for k, v in {**manifest(4), **change}.items() if v is not None}

    with pytest.raises(ValueError) as raised:
        parse_manifest(json.dumps(document))

    assert str(raised.value).startswith(problem)


def test_a_manifest_that_is_not_json_or_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_manifest(b"{commit")
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        parse_manifest("[]")


# ---------------------------------------------------------------------------------------------
# Reading from S3.


def test_the_manifest_is_read_with_range_requests_without_downloading_the_bundle(
    bucket: ReleaseBucket,
) -> None:
    version = bucket.publish(4, message="Faster search")

    found = _manifests(bucket).read(LOCATION, version)

    assert (found.commit, found.message) == (sha(4), "Faster search")
    size = bucket.size(version)
    assert size > 2_000_000
    assert all(get["Range"] and get["VersionId"] == version for get in bucket.gets)
    assert bucket.gets[0]["Range"] == f"bytes=-{TAIL_BYTES}"
    assert sum(get["bytes"] for get in bucket.gets) <= TAIL_BYTES + 16 * 1024
    assert len(bucket.gets) <= 2


def test_a_manifest_at_the_start_of_the_zip_costs_one_more_small_range(
    bucket: ReleaseBucket,
) -> None:
    version = bucket.publish(4, manifest_first=True)

    found = _manifests(bucket).read(LOCATION, version)

    assert found.commit == sha(4)
    assert [get["Range"] for get in bucket.gets] == [f"bytes=-{TAIL_BYTES}", "bytes=0-16383"]
    assert sum(get["bytes"] for get in bucket.gets) < bucket.size(version) / 20


def test_a_large_manifest_at_the_start_is_read_whole_across_more_ranges(
    bucket: ReleaseBucket,
) -> None:
    # Random hex deflates to about half: the manifest's compressed bytes span several ranges.
    padding = random.Random(4).randbytes(24_000).hex()
    document = manifest(4, padding=padding)
    version = bucket.publish(4, body=release_zip(document, manifest_first=True))

    found = _manifests(bucket).read(LOCATION, version)

    assert found.commit == sha(4)
    assert len(bucket.gets) > 2


def test_a_small_release_is_read_from_the_one_tail_request(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4, payload_bytes=100, manifest_first=True)

    assert _manifests(bucket).read(LOCATION, version).commit == sha(4)
    assert len(bucket.gets) == 1


def test_each_version_is_read_once_per_run(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4)
    manifests = _manifests(bucket)

    manifests.read(LOCATION, version)
    reads = len(bucket.gets)
    manifests.read(LOCATION, version)
    manifests.lookup(LOCATION, version)

    assert len(bucket.gets) == reads


def test_a_release_without_a_manifest_names_the_object_version_and_what_it_holds(
    bucket: ReleaseBucket,
) -> None:
    version = bucket.publish(4, body=release_zip(None, payload_bytes=100))

    with pytest.raises(ManifestError) as raised:
        _manifests(bucket).read(LOCATION, version)

    assert raised.value.message == (
        f"release manifest of {WHERE} version {version}: the zip has no release-manifest.json "
        "at its root (it holds 2 entries: appspec.yml, app/bundle.bin)"
    )
    assert raised.value.exit_code == 3


def test_a_malformed_manifest_in_s3_names_the_object_version_and_the_field(
    bucket: ReleaseBucket,
) -> None:
    version = bucket.publish(4, body=release_zip(manifest(4, commit="HEAD")))

    with pytest.raises(ManifestError) as raised:
        _manifests(bucket).read(LOCATION, version)

    assert raised.value.message == (
        f"release manifest of {WHERE} version {version}: 'commit' must be a 40-character hex "
        "SHA, got 'HEAD'"
    )
    assert raised.value.hint == (
        "the Package action of the pipeline that built it writes the manifest; "
        "publish a new release from a fixed pipeline"
    )


def test_an_object_that_is_not_a_zip_is_refused(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4, body=b"<html>not a release</html>")

    with pytest.raises(ManifestError, match=f"version {version}: not a zip archive"):
        _manifests(bucket).read(LOCATION, version)


def test_an_oversized_manifest_is_not_inflated(bucket: ReleaseBucket) -> None:
    padded = manifest(4, padding="x" * (MAX_MANIFEST_BYTES + 1))
    version = bucket.publish(4, body=release_zip(padded, payload_bytes=100))

    with pytest.raises(ManifestError, match="more than a manifest can be"):
        _manifests(bucket).read(LOCATION, version)


def test_a_version_that_no_longer_exists_is_not_found(bucket: ReleaseBucket) -> None:
    bucket.publish(4)

    with pytest.raises(NotFound, match=f"release {WHERE} version gone does not exist") as raised:
        _manifests(bucket).read(LOCATION, "gone")

    assert raised.value.hint == (
        "old versions expire with the bucket's lifecycle rule; promote a newer one"
    )


def test_an_empty_release_object_is_not_found_and_said_to_be_empty() -> None:
    # S3 answers a range request on an empty object with InvalidRange (HTTP 416).
    aws = StubbedAws()
    aws.stub("s3").add_client_error(
        "get_object", service_error_code="InvalidRange", http_status_code=416
    )

    with pytest.raises(NotFound) as raised:
        Manifests(lambda: aws.client("s3")).read(LOCATION, "v1")

    assert raised.value.message == f"release {WHERE} version v1 is empty"


def test_lookup_returns_the_problem_instead_of_raising(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4, body=b"junk")

    problem = _manifests(bucket).lookup(LOCATION, version)

    assert isinstance(problem, str) and problem.endswith(
        "not a zip archive (File is not a zip file)"
    )


def test_published_versions_are_newest_first_and_ignore_other_keys_and_delete_markers(
    bucket: ReleaseBucket,
) -> None:
    first = bucket.publish(1, payload_bytes=10)
    bucket.s3.put_object(Bucket=RELEASE_BUCKET, Key=release_key("web") + ".bak", Body=b"x")
    second = bucket.publish(2, payload_bytes=10)
    bucket.s3.delete_object(Bucket=RELEASE_BUCKET, Key=release_key("web"))

    assert [v.version_id for v in published_versions(bucket.s3, LOCATION)] == [second, first]
    assert [v.version_id for v in published_versions(bucket.s3, LOCATION, limit=1)] == [second]


def test_lookup_names_the_permission_a_denied_read_needs() -> None:
    from botocore.exceptions import ClientError

    class Denying:
        def __init__(self, message: str) -> None:
            self.message = message

        def get_object(self, **_: object) -> None:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": self.message}}, "GetObject"
            )

    plain = Manifests(lambda: Denying("Access Denied"))  # pyright: ignore[reportArgumentType]
    kms = Manifests(
        lambda: Denying("User is not authorized to perform: kms:Decrypt")  # pyright: ignore[reportArgumentType]
    )

    assert plain.lookup(LOCATION, "v1") == "unknown (needs s3:GetObjectVersion)"
    assert kms.lookup(LOCATION, "v1") == "unknown (needs kms:Decrypt on the release location's key)"


def test_lookup_of_an_aws_error_without_a_code_still_names_the_object_it_read() -> None:
    aws = StubbedAws()
    aws.stub("s3").add_client_error("get_object", service_error_code="", http_status_code=500)

    assert Manifests(lambda: aws.client("s3")).lookup(LOCATION, "v1") == (
        f"unknown (AWS error reading {LOCATION.url()})"
    )
