"""`releases`, `status`, `approve` and `rollback` on promoted pipelines, whose executions name an
S3 object version: commits and messages come from each release's manifest.

The release bucket is moto's S3 with real zips; CodePipeline is moto where it has the call
(`releases`) and stubbed where it does not (pipeline state, approvals, rollback).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    CONNECTION_ARN,
    RELEASE_BUCKET,
    CliRunner,
    MotoWorld,
    ReleaseBucket,
    StubbedAws,
    action_state,
    execution_id,
    expect_discovery,
    release_zip,
    session,
    sha,
    stage_state,
    summary,
)

PROD = "web-prod-pipeline"
WHERE = f"s3://{RELEASE_BUCKET}/releases/web/release.zip"


# ---------------------------------------------------------------------------------------------
# releases (moto)


def test_releases_of_a_promoted_pipeline_show_each_releases_commit_and_message(
    world: MotoWorld, cli: CliRunner
) -> None:
    bucket = world.release_bucket()
    prod = world.create_promoted_pipeline("web", "prod")
    first = bucket.publish(1, message="Add basket")
    second = bucket.publish(2, message="Faster search\n\nLong body")
    world.record(prod, version=first, minutes_ago=120)
    newest = world.record(prod, version=second, trigger="StartPipelineExecution", minutes_ago=30)

    result = cli("releases", "--pipeline", prod, clients=world.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].split() == [
        "ID",
        "STATUS",
        "COMMIT",
        "MESSAGE",
        "RELEASE",
        "TRIGGER",
        "STARTED",
        "DURATION",
    ]
    assert lines[2].split()[:6] == [
        newest[:8],
        "Succeeded",
        sha(2)[:7],
        "Faster",
        "search",
        second[:12],
    ]
    assert lines[3].split()[2:6] == [sha(1)[:7], "Add", "basket", first[:12]]

    listed = json.loads(cli("releases", "--pipeline", prod, "--json", clients=world.clients()).out)
    assert [(r["commit"], r["message"], r["versionId"]) for r in listed] == [
        (sha(2), "Faster search", second),
        (sha(1), "Add basket", first),
    ]


def test_releases_show_why_a_manifest_is_unreadable_and_still_succeed(
    world: MotoWorld, cli: CliRunner
) -> None:
    bucket = world.release_bucket()
    prod = world.create_promoted_pipeline("web", "prod")
    broken = bucket.publish(1, body=release_zip(None, payload_bytes=10))
    world.record(prod, version=broken)

    result = cli("releases", "--pipeline", prod, "--json", clients=world.clients())

    assert result.code == 0, result.err
    [release] = json.loads(result.out)
    assert release["commit"] is None
    assert release["manifestProblem"] == (
        f"release manifest of {WHERE} version {broken}: the zip has no release-manifest.json "
        "at its root (it holds 2 entries: appspec.yml, app/bundle.bin)"
    )


# ---------------------------------------------------------------------------------------------
# Stubbed CodePipeline, moto S3.


@pytest.fixture
def promoted() -> Iterator[tuple[StubbedAws, ReleaseBucket]]:
    """Stubs for everything but S3 (moto, with staging's release bucket) and CodeDeploy (moto)."""
    with mock_aws():
        s3 = session().client("s3")
        codedeploy = session().client("codedeploy")
        bucket = ReleaseBucket(s3)
        stubs = StubbedAws({"s3": s3, "codedeploy": codedeploy})
        yield stubs, bucket
        stubs.verify()


def _connection(aws: StubbedAws) -> None:
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": "AVAILABLE"}},
        {"ConnectionArn": CONNECTION_ARN},
    )


def _github_stage(aws: StubbedAws, stage: str, n: int, commit: int, **options: object) -> None:
    name = aws.expect_pipeline("web", stage, targets=[], **options)
    aws.expect_state(name, stage_state("Deploy", n, "Succeeded"))
    aws.expect_history(name, [summary(n, commit=commit)], 25)
    _connection(aws)


def test_status_of_a_service_shows_what_runs_in_each_environment_and_what_waits_for_prod(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    live = bucket.publish(1, message="Add basket")
    waiting = bucket.publish(2, message="Faster search")
    expect_discovery(
        aws.tagging,
        stage=None,
        service="web",
        found=[
            (PROD, "web", "prod", "staging"),
            ("web-dev-pipeline", "web", "dev"),
            ("web-staging-pipeline", "web", "staging"),
        ],
    )
    _github_stage(aws, "dev", 30, 3)
    _github_stage(aws, "staging", 20, 2, verify=["smoke"], publish_to=RELEASE_BUCKET)
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(
        PROD,
        stage_state("Source", 10, "Succeeded"),
        stage_state("Approval", 10, "Succeeded"),
        stage_state("Deploy", 10, "Succeeded"),
    )
    aws.expect_history(PROD, [summary(10, version=live)], 25)

    result = cli("status", "--service", "web", clients=aws.clients())

    assert result.code == 0, result.err
    out = result.out
    assert "Live: commit " + sha(3)[:7] in out and "Live: commit " + sha(2)[:7] in out
    assert f"Publishes proven releases to {WHERE}" in out
    prod = out[out.index(f"=== {PROD}") :].splitlines()
    assert prod[:5] == [
        f"=== {PROD} (service web, stage prod)",
        f"Source: releases published by staging ({WHERE})",
        f'Live: commit {sha(1)[:7]} "Add basket" (execution {execution_id(10)[:8]}, '
        f"release {live[:12]})",
        f'Waiting to be promoted: release {waiting[:12]} (commit {sha(2)[:7]} "Faster search"), '
        "published " + prod[3].split("published ")[1],
        "  cicd promote --service web --from staging --to prod",
    ]
    assert prod[7].split()[:3] == ["Source", "Succeeded", sha(1)[:7]]
    assert "GitHub connection" not in "\n".join(prod)


def test_status_of_a_promoted_pipeline_running_the_newest_release_has_nothing_waiting(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    newest = bucket.publish(1)
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, stage_state("Deploy", 10, "Succeeded"))
    aws.expect_history(PROD, [summary(10, version=newest)], 25)
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "cicd:promotes-from", "value": "staging"}]},
        {"resourceArn": f"arn:aws:codepipeline:eu-west-1:123456789012:{PROD}"},
    )

    result = cli("status", "--pipeline", PROD, clients=aws.clients())

    assert result.code == 0, result.err
    assert f"Source: releases published by staging ({WHERE})" in result.out
    assert "Waiting to be promoted: nothing newer is published" in result.out


def expect_newest_on_its_way(promoted: tuple[StubbedAws, ReleaseBucket]) -> str:
    """prod's web: release 1 of staging live, release 2 waiting at prod's approval; returns
    release 2's version."""
    aws, bucket = promoted
    live = bucket.publish(1)
    newest = bucket.publish(2)
    expect_discovery(
        aws.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(
        PROD,
        stage_state(
            "Approval",
            11,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
        stage_state("Deploy", 10, "Succeeded"),
    )
    aws.expect_history(
        PROD, [summary(11, status="InProgress", version=newest), summary(10, version=live)], 25
    )
    return newest


def test_status_says_when_the_newest_release_is_already_on_its_way(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, _ = promoted
    newest = expect_newest_on_its_way(promoted)

    result = cli("status", "--service", "web", "--stage", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert (
        f'On its way: release {newest[:12]} (commit {sha(2)[:7]} "Change 2"), published '
    ) in result.out
    assert f"execution {execution_id(11)[:8]} is InProgress" in result.out
    assert f"Commit {sha(2)[:7]} waits for approval" in result.out
    assert "cicd promote" not in result.out


def _waiting_in_prod(aws: StubbedAws, version: str) -> None:
    aws.expect_promoted_pipeline("web", "prod")
    aws.expect_state(
        PROD,
        stage_state("Source", 3, "Succeeded"),
        stage_state(
            "Approval",
            3,
            "InProgress",
            [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)],
        ),
        stage_state("Deploy", 2, "Succeeded"),
    )
    aws.expect_execution(PROD, 3, status="InProgress", version=version)


def test_approve_with_commit_reads_the_waiting_releases_commit_from_its_manifest(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    _waiting_in_prod(aws, bucket.publish(7, message="Faster search"))
    aws.codepipeline.add_response(
        "put_approval_result",
        {},
        {
            "pipelineName": PROD,
            "stageName": "Approval",
            "actionName": "Approve",
            "result": {"summary": "Approved with cicd", "status": "Approved"},
            "token": APPROVAL_TOKEN,
        },
    )

    result = cli("approve", "--pipeline", PROD, "--commit", sha(7)[:7], clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith(
        f'Approved commit {sha(7)[:7]} "Faster search" (execution {execution_id(3)[:8]})'
    )


def test_reject_with_another_commit_refuses_for_a_promoted_pipeline(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    _waiting_in_prod(aws, bucket.publish(7))

    result = cli(
        "reject", "--pipeline", PROD, "--commit", sha(8), "--reason", "no", clients=aws.clients()
    )

    assert result.code == 3
    assert f"the release waiting in {PROD} is commit {sha(7)[:7]}, not {sha(8)}" in result.err


def test_approve_with_commit_refuses_when_the_waiting_manifest_is_unreadable(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    broken = bucket.publish(7, body=b"junk")
    _waiting_in_prod(aws, broken)

    result = cli("approve", "--pipeline", PROD, "--commit", sha(7), clients=aws.clients())

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: cannot tell which commit waits for approval in {PROD} (its release manifest: "
        f"release manifest of {WHERE} version {broken}: not a zip archive"
    )


def test_rollback_of_a_promoted_pipeline_goes_to_the_previous_release_of_another_commit(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    never_read = bucket.publish(0)
    good = bucket.publish(1, message="Good one")
    same = bucket.publish(2)
    live = bucket.publish(2, message="Break checkout")
    aws.expect_promoted_pipeline("web", "prod")
    aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    aws.expect_history(
        PROD,
        [
            summary(5, version=live),
            summary(4, version=same),
            summary(3, version=good),
            summary(2, version=never_read),
        ],
        100,
    )
    aws.codepipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(99)},
        {
            "pipelineName": PROD,
            "stageName": "Deploy",
            "targetPipelineExecutionId": execution_id(3),
        },
    )

    # The release rolled back is then marked rejected (tests/cicd/test_quarantine.py).
    aws.stub("sts").add_response(
        "get_caller_identity", {"Arn": "arn:aws:iam::123456789012:user/bob"}
    )

    result = cli("rollback", "--pipeline", PROD, "--yes", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith(
        f"Roll back Deploy of {PROD}\n"
        f'  from {execution_id(5)[:8]} (commit {sha(2)[:7]} "Break checkout")\n'
        f'  to   {execution_id(3)[:8]} (commit {sha(1)[:7]} "Good one")\n'
    )
    assert never_read not in {get["VersionId"] for get in bucket.gets}
