"""`--json` on the commands not pinned elsewhere: releases, release, approve, reject, rollback.

Each document is compared with the example in docs/cicd.md ("JSON output"); `status`, `promote`,
`follow`, `info`, `logs`, `open` and `metrics` are pinned in their own test files. Also: the
release history is read page by page, and JSON mode never prompts.
"""

from __future__ import annotations

import json

from cicd.aws.published import published_versions
from cicd.model.pipeline import ReleaseLocation
from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    RELEASE_BUCKET,
    CliRunner,
    MotoWorld,
    StubbedAws,
    action_state,
    execution_id,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

PROD = "web-prod-pipeline"


def test_releases_json_has_the_documented_shape(world: MotoWorld, cli: CliRunner) -> None:
    name = world.create_pipeline("web", "dev")
    world.record(name, commit=1)

    result = cli("releases", "--pipeline", name, "--json", clients=world.clients())

    assert result.code == 0, result.err
    assert_documented_shape("releases", json.loads(result.out))


def test_release_json_has_the_documented_shape(world: MotoWorld, cli: CliRunner) -> None:
    name = world.create_pipeline("web", "dev")

    result = cli(
        "release", "--pipeline", name, "--commit", sha(4), "--json", clients=world.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("release", document)
    assert (document["commit"], document["followed"]) == (sha(4), None)


def _waiting(aws: StubbedAws) -> None:
    aws.expect_pipeline("web", "prod", approval=True)
    aws.expect_state(
        PROD,
        stage_state(
            "Approval",
            3,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
    )
    aws.expect_execution(PROD, 3, status="InProgress", commit=7)


def _answer(aws: StubbedAws, status: str, summary_text: str) -> None:
    aws.codepipeline.add_response(
        "put_approval_result",
        {},
        {
            "pipelineName": PROD,
            "stageName": "Approval",
            "actionName": "Approve",
            "result": {"summary": summary_text, "status": status},
            "token": APPROVAL_TOKEN,
        },
    )


def test_approve_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    _waiting(aws)
    _answer(aws, "Approved", "QA signed off")

    result = cli(
        "approve", "--pipeline", PROD, "--reason", "QA signed off", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("approve", document)
    assert (document["approved"], document["commit"], document["reason"]) == (
        True,
        sha(7),
        "QA signed off",
    )


def test_reject_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    _waiting(aws)
    _answer(aws, "Rejected", "breaks checkout")

    result = cli(
        "reject", "--pipeline", PROD, "--reason", "breaks checkout", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("reject", document)
    assert (document["approved"], document["followed"]) == (False, None)


def test_rollback_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    aws.expect_pipeline("web", "prod")
    aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    aws.expect_history(PROD, [summary(5, commit=5), summary(3, commit=3)], 100)
    aws.codepipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(99)},
        {"pipelineName": PROD, "stageName": "Deploy", "targetPipelineExecutionId": execution_id(3)},
    )

    result = cli("rollback", "--pipeline", PROD, "--yes", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("rollback", document)
    assert (document["rollbackFrom"]["commit"], document["rollbackTo"]["commit"]) == (
        sha(5),
        sha(3),
    )


def test_rollback_with_json_but_without_yes_refuses_instead_of_prompting(cli: CliRunner) -> None:
    result = cli("rollback", "--pipeline", PROD, "--json", clients=StubbedAws().clients())

    assert (result.code, result.out) == (3, "")
    assert result.err.startswith("cicd: rollback with --json cannot ask for confirmation\n")


def test_published_versions_follow_the_listing_pages_until_the_key_is_done(
    aws: StubbedAws,
) -> None:
    key = "releases/web/release.zip"
    request = {"Bucket": RELEASE_BUCKET, "Prefix": key, "MaxKeys": 100}
    aws.stub("s3").add_response(
        "list_object_versions",
        {
            "Versions": [{"Key": key, "VersionId": "v3"}, {"Key": key, "VersionId": "v2"}],
            "IsTruncated": True,
            "NextKeyMarker": key,
            "NextVersionIdMarker": "v2",
        },
        request,
    )
    aws.stub("s3").add_response(
        "list_object_versions",
        {
            "Versions": [
                {"Key": key, "VersionId": "v1"},
                {"Key": key + ".bak", "VersionId": "x"},
            ],
            "IsTruncated": True,
            "NextKeyMarker": key + ".bak",
            "NextVersionIdMarker": "x",
        },
        {**request, "KeyMarker": key, "VersionIdMarker": "v2"},
    )

    versions = published_versions(aws.client("s3"), ReleaseLocation(RELEASE_BUCKET, key))

    assert [v.version_id for v in versions] == ["v3", "v2", "v1"]
