"""Following a release to its end or to a waypoint: `--wait` on promote, `cicd follow`, what is
said at an approval and at a closed deployment window, and the exit codes for each.

CodePipeline is stubbed (moto has no pipeline state); staging's release bucket is moto's S3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.cicd.aws_fakes import (
    APPROVAL_TOKEN,
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    action_state,
    execution_id,
    expect_discovery,
    session,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

PROD = "web-prod-pipeline"
DEV = "web-dev-pipeline"


@pytest.fixture
def prod() -> Iterator[tuple[StubbedAws, ReleaseBucket]]:
    with mock_aws():
        s3 = session().client("s3")
        bucket = ReleaseBucket(s3)
        stubs = StubbedAws({"s3": s3})
        yield stubs, bucket
        stubs.verify()


def _promote_started(
    aws: StubbedAws, bucket: ReleaseBucket, preflight: bool = True, **pipeline: object
) -> str:
    """Prod runs release 1; staging published release 2, which promote starts as execution 9."""
    live = bucket.publish(1)
    newest = bucket.publish(2, message="Faster search")
    expect_discovery(
        aws.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    aws.expect_promoted_pipeline("web", "prod", **pipeline)
    aws.expect_history(PROD, [summary(8, version=live)], 100)
    if preflight:
        aws.expect_idle_groups("web", "prod")
    aws.codepipeline.add_response(
        "start_pipeline_execution",
        {"pipelineExecutionId": execution_id(9)},
        {
            "name": PROD,
            "sourceRevisions": [
                {
                    "actionName": "Release",
                    "revisionType": "S3_OBJECT_VERSION_ID",
                    "revisionValue": newest,
                }
            ],
        },
    )
    return newest


def _at_approval(aws: StubbedAws, version: str) -> None:
    aws.expect_execution(PROD, 9, status="InProgress", version=version)
    aws.expect_state(
        PROD,
        stage_state("Source", 9, "Succeeded"),
        stage_state(
            "Approval",
            9,
            "InProgress",
            [
                action_state("Describe", "Succeeded"),
                action_state("Approve", "InProgress", token=APPROVAL_TOKEN),
            ],
        ),
        stage_state("Deploy", 8, "Succeeded"),
    )


def test_wait_stops_at_the_approval_with_who_can_approve_and_the_exact_commands(
    prod: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = prod
    version = _promote_started(aws, bucket)
    _at_approval(aws, version)
    aws.expect_execution(PROD, 9, status="InProgress", version=version)  # the guide's read

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--wait",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 7
    out = result.out.splitlines()
    at = out.index("  Approval   InProgress")
    assert out[at + 1 :] == [
        f"Release {execution_id(9)[:8]} waits for approval in {PROD}: commit {sha(2)[:7]} "
        '"Faster search"',
        f"  Who can approve: anyone allowed codepipeline:PutApprovalResult on {PROD}/Approval/"
        "Approve (whoever may assume the stack's role web-prod-approver); the release topic's "
        "subscribers were notified.",
        f"  Approve: cicd approve --service web --stage prod --commit {sha(2)[:7]} --wait",
        f"  Reject:  cicd reject --service web --stage prod --commit {sha(2)[:7]} --reason TEXT",
    ]
    assert result.err == (
        f"cicd: release {execution_id(9)[:8]} of {PROD} waits for approval; stopped following\n"
        "hint: answer it with the commands above; `cicd follow --service web --stage prod "
        f"{execution_id(9)[:8]}` follows it again\n"
    )


def test_wait_with_json_prints_the_document_with_where_following_stopped(
    prod: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = prod
    version = _promote_started(aws, bucket)
    _at_approval(aws, version)
    aws.expect_execution(PROD, 9, status="InProgress", version=version)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--wait", "--json",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 7
    document = json.loads(result.out)
    assert_documented_shape("promote", document)
    assert document["followed"] == {
        "outcome": "awaits_approval",
        "status": "InProgress",
        "detail": None,
        "stage": "Approval",
    }
    assert (document["versionId"], document["commit"]) == (version, sha(2))


def test_through_approval_keeps_following_to_the_end(
    prod: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = prod
    version = _promote_started(aws, bucket)
    _at_approval(aws, version)
    aws.expect_execution(PROD, 9, status="InProgress", version=version)
    aws.expect_execution(PROD, 9, status="Succeeded", version=version)
    aws.expect_state(
        PROD, stage_state("Approval", 9, "Succeeded"), stage_state("Deploy", 9, "Succeeded")
    )

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--wait",
        "--through-approval", "--interval", "5",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert "waits for approval" in result.out
    assert result.out.endswith(f"Release {execution_id(9)[:8]} of {PROD} succeeded.\n")
    assert cli.sleeps == [5.0]


def test_wait_stops_where_a_deployment_window_holds_the_release_and_says_until_when(
    prod: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = prod
    # 2025-05-01 is a Thursday; 12:00 UTC is 14:00 in Berlin, two hours before the window.
    version = _promote_started(
        aws, bucket, preflight=False, approval=False, window="* * 16-17 ? * MON-FRI"
    )
    aws.expect_execution(PROD, 9, status="InProgress", version=version)
    held = stage_state("Deploy", 8, "Succeeded")
    held["inboundExecution"] = {
        "pipelineExecutionId": execution_id(9),
        "status": "InProgress",
        "type": "STANDARD",
    }
    held["beforeEntryConditionState"] = {
        "latestExecution": {"status": "InProgress", "summary": "outside the window"}
    }
    aws.expect_state(PROD, stage_state("Source", 9, "Succeeded"), held)

    # Without an approval to wait at, the preflight refuses a closed window (test_preflight.py);
    # this test is about following a release that got there anyway.
    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--wait", "--skip-preflight",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 8
    assert (
        f"Release {execution_id(9)[:8]} is held before Deploy of {PROD} by its deployment "
        'window (cron "* * 16-17 ? * MON-FRI", Europe/Berlin) until 2025-05-01 16:00 '
        "Europe/Berlin (14:00 UTC, in 2h).\n"
    ) in result.out
    assert result.err.startswith(
        f"cicd: release {execution_id(9)[:8]} of {PROD} is held before Deploy until its "
        "deployment window opens; stopped following\n"
    )


def _dev(aws: StubbedAws, history: list[dict[str, object]]) -> None:
    expect_discovery(aws.tagging, stage="dev", service="web", found=[(DEV, "web", "dev")])
    aws.expect_pipeline("web", "dev")
    aws.expect_history(DEV, history, 100)


def test_follow_attaches_to_the_newest_running_release(aws: StubbedAws, cli: CliRunner) -> None:
    _dev(aws, [summary(9, status="InProgress", commit=9), summary(8, commit=8)])
    aws.expect_execution(DEV, 9, status="Succeeded", commit=9)
    aws.expect_state(
        DEV, stage_state("Build", 9, "Succeeded"), stage_state("Deploy", 9, "Succeeded")
    )

    result = cli("follow", "-s", "web", "-e", "dev", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f'Release {execution_id(9)[:8]} (commit {sha(9)[:7]} "Change 9") of {DEV} (service web, '
        "stage dev), InProgress.",
        f"Following execution {execution_id(9)[:8]} of {DEV} (Ctrl-C stops following, not the "
        "release)",
        "  Build      Succeeded",
        "  Deploy     Succeeded",
        f"Release {execution_id(9)[:8]} of {DEV} succeeded.",
    ]


def test_follow_of_a_release_that_failed_reports_how_it_ended(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _dev(aws, [summary(9, commit=9, status="Failed"), summary(8, commit=8)])
    aws.expect_execution(DEV, 9, status="Failed", commit=9, status_summary="unit tests failed")
    aws.expect_state(DEV, stage_state("Test", 9, "Failed"))

    result = cli("follow", "-s", "web", "-e", "dev", execution_id(9)[:8], clients=aws.clients())

    assert result.code == 1
    assert result.err.startswith(
        f"cicd: release {execution_id(9)[:8]} of {DEV} ended Failed: unit tests failed\n"
    )


def test_follow_without_a_running_release_refuses_and_says_what_ran_last(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _dev(aws, [summary(8, commit=8)])

    result = cli("follow", "-s", "web", "-e", "dev", clients=aws.clients())

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: nothing runs in {DEV}: the newest release {execution_id(8)[:8]} ended Succeeded\n"
    )


def test_follow_json_has_the_documented_shape(aws: StubbedAws, cli: CliRunner) -> None:
    _dev(aws, [summary(9, status="InProgress", commit=9)])
    aws.expect_execution(DEV, 9, status="Succeeded", commit=9)
    aws.expect_state(DEV, stage_state("Deploy", 9, "Succeeded"))

    result = cli("follow", "-s", "web", "-e", "dev", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("follow", document)
    assert document["command"] == "follow"
    assert document["followed"]["outcome"] == "succeeded"


def test_approve_with_wait_follows_on_even_while_the_state_still_shows_the_approval(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod", approval=True)
    waiting = stage_state(
        "Approval", 9, "InProgress", [action_state("Approve", "InProgress", token=APPROVAL_TOKEN)]
    )
    aws.expect_state(PROD, waiting)
    aws.expect_execution(PROD, 9, status="InProgress", commit=9)
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
    aws.expect_execution(PROD, 9, status="InProgress", commit=9)
    aws.expect_state(PROD, waiting)  # AWS has not caught up with the answer yet
    aws.expect_execution(PROD, 9, status="Succeeded", commit=9)
    aws.expect_state(
        PROD, stage_state("Approval", 9, "Succeeded"), stage_state("Deploy", 9, "Succeeded")
    )

    result = cli("approve", "--pipeline", PROD, "--wait", clients=aws.clients())

    assert result.code == 0, result.err
    assert "waits for approval" not in result.out
    assert result.out.endswith(f"Release {execution_id(9)[:8]} of {PROD} succeeded.\n")
