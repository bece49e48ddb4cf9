"""`cicd info` and the scan a release carries: the SBOM under `sbom/` in the release zip.

Pure: parsing a CycloneDX SBOM into counts, and which object is the release. Against moto's S3:
reading the SBOM out of a release with ranged GETs (a published object version, or a build's
artifact), a release with none, and a broken one. End to end (CodePipeline and CodeBuild
stubbed, S3 in moto): a staging build that ran the scan, a promoted prod release without one.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from cicd.aws.pipelines import parse_layout
from cicd.aws.scans import parse_sbom, read_scan, release_object
from cicd.model.pipeline import PipelineLayout, ReleaseLocation
from cicd.model.release import Release
from cicd.model.run import ActionRun
from cicd.model.status import Unknown
from tests.cicd.aws_fakes import (
    REGION,
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    execution_id,
    manifest,
    pipeline_declaration,
    promoted_declaration,
    release_key,
    session,
    summary,
)
from tests.cicd.docs import assert_documented_shape
from tests.cicd.test_info_logs_open import detail

ARTIFACTS = "acme-staging-artifacts"
RELEASE_ARTIFACT_KEY = "web-staging-pipeline/ReleaseArt/Ab12Cd3"


def sbom(*severities: str | None, components: int = 3) -> dict[str, Any]:
    """A CycloneDX 1.5 SBOM as Inspector's scan writes it: components, then vulnerabilities
    with their ratings (None: a vulnerability without a rating)."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": f"pkg{i}"} for i in range(components)],
        "vulnerabilities": [
            {"id": f"CVE-2025-{i:04d}", "ratings": [] if s is None else [{"severity": s}]}
            for i, s in enumerate(severities)
        ],
    }


def release(document: dict[str, Any] | None, *, sbom_document: Any = None) -> bytes:
    """A release zip: the manifest, a file of the app, and `sbom/sbom.json` when given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("appspec.yml", "version: 0.0\nos: linux\n")
        if document is not None:
            archive.writestr("release-manifest.json", json.dumps(document))
        if sbom_document is not None:
            body = sbom_document if isinstance(sbom_document, bytes) else json.dumps(sbom_document)
            archive.writestr("sbom/sbom.json", body)
    return buffer.getvalue()


# --- Parsing ----------------------------------------------------------------------------------


def test_an_sbom_is_counted_by_the_worst_rating_of_each_vulnerability() -> None:
    document = sbom("CRITICAL", "high", "medium", None, "info", components=5)
    document["vulnerabilities"][2]["ratings"].append({"severity": "high", "source": "nvd"})
    found = parse_sbom(json.dumps(document), "sbom/sbom.json")
    assert found.components == 5
    assert found.vulnerabilities == {"critical": 1, "high": 2, "medium": 0, "low": 0, "other": 2}
    assert found.total == 5
    assert found.format == "CycloneDX 1.5"
    assert found.describe() == (
        "5 components; vulnerabilities: 1 critical, 2 high, 0 medium, 0 low, 2 other"
    )


def test_a_clean_sbom_says_none() -> None:
    assert parse_sbom(json.dumps(sbom()), "sbom/x.json").describe() == (
        "3 components; vulnerabilities: none"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"{not json", "sbom/x.json is not valid JSON"),
        (b'{"bomFormat": "SPDX"}', "sbom/x.json is not a CycloneDX document"),
        (b'{"bomFormat": "CycloneDX", "components": {}}', "must be lists"),
    ],
)
def test_what_is_not_a_cyclonedx_sbom_is_refused_with_what_is_wrong(
    text: bytes, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_sbom(text, "sbom/x.json")


# --- Which object is the release ---------------------------------------------------------------


def _layout(promoted: bool) -> PipelineLayout:
    declaration = (
        promoted_declaration("web", "prod", bucket="acme-staging-releases")
        if promoted
        else pipeline_declaration("web", "staging")
    )
    return parse_layout(declaration)


def _release(version: str | None = None) -> Release:
    return Release(execution_id=execution_id(9), status="Succeeded", version_id=version)


def _scan_actions(*, package_status: str = "Succeeded") -> list[ActionRun]:
    return [
        ActionRun(stage="Build", action="Scan", status="Succeeded", provider="InspectorScan"),
        ActionRun(
            stage="Build",
            action="Package",
            status=package_status,
            provider="CodeBuild",
            output_location=(ARTIFACTS, RELEASE_ARTIFACT_KEY)
            if package_status == "Succeeded"
            else None,
        ),
    ]


def test_a_promoted_release_is_its_published_version() -> None:
    where = release_object(_layout(True), _release("v3"), Unknown("not read"))
    assert where == (ReleaseLocation("acme-staging-releases", release_key("web")), "v3")


def test_a_build_that_ran_the_scan_looks_in_what_package_made() -> None:
    where = release_object(_layout(False), _release(), _scan_actions())
    assert where == (ReleaseLocation(ARTIFACTS, RELEASE_ARTIFACT_KEY), None)


def test_a_build_without_a_scan_is_not_looked_at() -> None:
    actions = [ActionRun(stage="Build", action="Package", status="Succeeded", provider="CodeBuild")]
    assert release_object(_layout(False), _release(), actions) is None


def test_a_scan_that_stopped_the_release_says_there_is_no_release() -> None:
    where = release_object(_layout(False), _release(), _scan_actions(package_status="Failed"))
    assert isinstance(where, str) and "Package did not make one" in where


# --- Reading it from S3 (moto) ------------------------------------------------------------------


@pytest.fixture
def bucket() -> Iterator[ReleaseBucket]:
    with mock_aws():
        yield ReleaseBucket(session().client("s3"))


def test_the_sbom_is_read_from_a_published_version_with_ranged_gets(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4, body=release(manifest(4), sbom_document=sbom("high")))
    location = ReleaseLocation(bucket.name, release_key("web"))
    found = read_scan(bucket.s3, location, version)
    assert not isinstance(found, str) and found is not None
    assert (found.file, found.vulnerabilities["high"], found.components) == ("sbom/sbom.json", 1, 3)
    assert all(get["Range"] and get["VersionId"] == version for get in bucket.gets)


def test_a_release_without_an_sbom_has_no_scan(bucket: ReleaseBucket) -> None:
    version = bucket.publish(4, body=release(manifest(4)))
    assert read_scan(bucket.s3, ReleaseLocation(bucket.name, release_key("web")), version) is None


def test_an_unreadable_sbom_or_release_is_a_reason_not_a_failure(bucket: ReleaseBucket) -> None:
    location = ReleaseLocation(bucket.name, release_key("web"))
    version = bucket.publish(4, body=release(manifest(4), sbom_document=b"[1, 2"))
    assert "is not valid JSON" in str(read_scan(bucket.s3, location, version))
    version = bucket.publish(5, body=b"not a zip at all")
    assert "unknown (" in str(read_scan(bucket.s3, location, version))
    missing = ReleaseLocation(bucket.name, "releases/nothing/release.zip")
    assert "is gone: NoSuchKey" in str(read_scan(bucket.s3, missing, None))


# --- `cicd info` end to end --------------------------------------------------------------------


def _staging_actions() -> list[dict[str, Any]]:
    package = detail("Build", "Package", "CodeBuild", minute=4, seconds=30)
    package["output"]["outputArtifacts"] = [
        {
            "name": "ReleaseArtifact",
            "s3location": {"bucket": ARTIFACTS, "key": RELEASE_ARTIFACT_KEY},
        }
    ]
    return [
        detail("Source", "GitHub", "CodeStarSourceConnection", seconds=2),
        detail("Build", "Scan", "InspectorScan", minute=1, seconds=120),
        package,
    ]


def test_info_of_a_scanned_build_shows_the_sboms_counts(cli: CliRunner) -> None:
    with mock_aws():
        s3 = session().client("s3")
        s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=ARTIFACTS,
            Key=RELEASE_ARTIFACT_KEY,
            Body=release(
                manifest(9), sbom_document=sbom("critical", "high", "low", components=412)
            ),
        )
        aws = StubbedAws({"s3": s3})
        for as_json in (False, True):
            aws.expect_pipeline("web", "staging")
            aws.expect_history("web-staging-pipeline", [summary(9, commit=9)], 100)
            aws.expect_execution("web-staging-pipeline", 9, commit=9)
            aws.codepipeline.add_response(
                "list_action_executions",
                {"actionExecutionDetails": _staging_actions()},
                {
                    "pipelineName": "web-staging-pipeline",
                    "filter": {"pipelineExecutionId": execution_id(9)},
                    "maxResults": 100,
                },
            )
            args = ["info", "--pipeline", "web-staging-pipeline", *(["--json"] if as_json else [])]
            result = cli(*args, clients=aws.clients())
            assert result.code == 0, result.err
            if as_json:
                document = json.loads(result.out)
                assert_documented_shape("info", document)
                assert document["scan"] == {
                    "file": "sbom/sbom.json",
                    "format": "CycloneDX 1.5",
                    "components": 412,
                    "vulnerabilities": {
                        "critical": 1,
                        "high": 1,
                        "medium": 0,
                        "low": 1,
                        "other": 0,
                    },
                    "total": 3,
                }
            else:
                assert (
                    "Scan:      sbom/sbom.json (CycloneDX 1.5): 412 components; vulnerabilities: "
                    "1 critical, 1 high, 0 medium, 1 low"
                ) in result.out.splitlines()
        aws.verify()


def test_info_of_a_promoted_release_without_an_sbom_says_it_was_not_scanned(
    cli: CliRunner,
) -> None:
    with mock_aws():
        bucket = ReleaseBucket(session().client("s3"))
        version = bucket.publish(9, body=release(manifest(9)))
        aws = StubbedAws({"s3": bucket.s3})
        aws.expect_promoted_pipeline("web", "prod")
        aws.expect_history("web-prod-pipeline", [summary(9, version=version)], 100)
        aws.expect_execution("web-prod-pipeline", 9, version=version)
        aws.codepipeline.add_response(
            "list_action_executions",
            {"actionExecutionDetails": []},
            {
                "pipelineName": "web-prod-pipeline",
                "filter": {"pipelineExecutionId": execution_id(9)},
                "maxResults": 100,
            },
        )

        result = cli("info", "--pipeline", "web-prod-pipeline", "--json", clients=aws.clients())

        assert result.code == 0, result.err
        document = json.loads(result.out)
        assert document["scan"] is None and "scan" not in document["unknown"]
        aws.expect_promoted_pipeline("web", "prod")
        aws.expect_history("web-prod-pipeline", [summary(9, version=version)], 100)
        aws.expect_execution("web-prod-pipeline", 9, version=version)
        aws.codepipeline.add_response(
            "list_action_executions",
            {"actionExecutionDetails": []},
            {
                "pipelineName": "web-prod-pipeline",
                "filter": {"pipelineExecutionId": execution_id(9)},
                "maxResults": 100,
            },
        )
        result = cli("info", "--pipeline", "web-prod-pipeline", clients=aws.clients())
        assert result.code == 0, result.err
        assert (
            "Scan:      none: the release carries no SBOM (sbom/), so it was not scanned"
            in result.out.splitlines()
        )
        aws.verify()
