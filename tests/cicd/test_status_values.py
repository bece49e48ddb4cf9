"""`cicd status`' lines where the other status tests look only for a fragment.

A running deployment's progress before any target finished, an unusable connection's lines, and
the overview's sections (what waits, what is frozen) as whole lines. The stubs are those of
test_status.py, test_status_overview.py and test_freeze.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.cicd.aws_fakes import (
    CONNECTION_ARN,
    CONSOLE_URL,
    NOW,
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    execution_id,
    expect_discovery,
    sha,
    stage_state,
    summary,
)
from tests.cicd.test_freeze import ALICE, deploy_state
from tests.cicd.test_promoted_pipelines import PROD, expect_newest_on_its_way, promoted
from tests.cicd.test_status_overview import _sample_history, sample

__all__ = ["promoted", "sample"]  # the fixtures, used by name

DEPLOYMENT = "d-4BCDEFGH1"


def _prod_with_a_deployment(aws: StubbedAws, overview: dict[str, int], connection: str) -> str:
    name = aws.expect_pipeline("shop", "prod")
    aws.expect_state(name, stage_state("Deploy", 6, "InProgress"))
    aws.expect_history(name, [summary(6, status="InProgress", commit=6)], 25)
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": connection}},
        {"ConnectionArn": CONNECTION_ARN},
    )
    aws.codedeploy.add_response(
        "list_deployments",
        {"deployments": [DEPLOYMENT]},
        {
            "applicationName": "shop-prod-app",
            "deploymentGroupName": "shop-prod-web",
            "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Ready"],
        },
    )
    aws.codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": DEPLOYMENT,
                "status": "InProgress",
                "createTime": NOW - timedelta(minutes=5),
                "deploymentOverview": overview,
            }
        },
        {"deploymentId": DEPLOYMENT},
    )
    return name


def test_a_deployment_no_target_finished_yet_shows_none_of_its_targets_done(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = _prod_with_a_deployment(aws, {"InProgress": 2, "Pending": 1}, "AVAILABLE")

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[-2:] == [
        "Deployments in progress:",
        f"  CodeDeploy shop-prod-app/shop-prod-web  {DEPLOYMENT}  InProgress  0/3 targets done  "
        "created 2025-05-01 11:55:00 UTC (5m ago)",
    ]


def test_a_deployment_with_no_instance_reported_says_so(aws: StubbedAws, cli: CliRunner) -> None:
    name = _prod_with_a_deployment(aws, {"InProgress": 0, "Succeeded": 0}, "AVAILABLE")

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == (
        f"  CodeDeploy shop-prod-app/shop-prod-web  {DEPLOYMENT}  InProgress  no instances "
        "reported yet  created 2025-05-01 11:55:00 UTC (5m ago)"
    )


def test_an_unusable_connection_is_named_with_its_state_then_the_fix(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = _prod_with_a_deployment(aws, {"Succeeded": 1}, "ERROR")

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    start = lines.index(f"GitHub connection: ERROR  ({CONNECTION_ARN})")
    assert lines[start : start + 3] == [
        f"GitHub connection: ERROR  ({CONNECTION_ARN})",
        f"  The connection is unusable. Open {CONSOLE_URL} to see why; a deleted GitHub App",
        "  installation needs the connection updated again.",
    ]


def test_the_overview_says_when_the_waiting_release_was_published(
    sample: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = sample
    _, waiting = _sample_history(aws, bucket)

    result = cli("status", clients=aws.clients())

    assert result.code == 0, result.err
    line = result.out.splitlines()[5]
    assert re.fullmatch(
        rf'  web prod: release {waiting[:12]} \(commit {sha(2)[:7]} "Faster search"\), published '
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(.+\)",
        line,
    ), line


def test_the_overview_sets_the_frozen_section_apart_with_an_empty_line(
    aws: StubbedAws, cli: CliRunner
) -> None:
    found = [("web-prod-pipeline", "web", "prod")]
    expect_discovery(aws.tagging, stage=None, service=None, found=found)
    aws.expect_pipeline("web", "prod", targets=[])
    aws.expect_state("web-prod-pipeline", deploy_state(frozen=True, reason=None))
    aws.expect_history("web-prod-pipeline", [summary(3, commit=3)], 25)

    result = cli("status", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        f"web      {sha(3)[:7]} Succeeded [frozen]",
        "",
        "[frozen] no release enters Deploy:",
        f"  web prod: frozen since 2025-05-01 10:00:00 UTC (2h ago) by {ALICE}",
        "    cicd unfreeze --service web --stage prod",
        "",
        "Details per stage: cicd status --service SERVICE",
    ]


def test_a_promoted_pipeline_running_the_newest_release_has_a_line_saying_nothing_waits(
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
    assert "Waiting to be promoted: nothing newer is published" in result.out.splitlines()


def test_status_json_names_a_github_source_with_its_connection(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = _prod_with_a_deployment(aws, {"Succeeded": 1}, "AVAILABLE")

    result = cli("status", "--pipeline", name, "--json", clients=aws.clients())

    assert result.code == 0, result.err
    [pipeline] = json.loads(result.out)["pipelines"]
    assert pipeline["source"] == {
        "kind": "github",
        "repository": "acme/shop",
        "branch": "main",
        "connectionArn": CONNECTION_ARN,
        "connectionStatus": "AVAILABLE",
        "location": None,
        "promotesFrom": None,
    }


def test_status_json_lists_the_stages_and_the_running_deployment_with_its_progress(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = _prod_with_a_deployment(aws, {"InProgress": 2, "Succeeded": 1}, "AVAILABLE")

    result = cli("status", "--pipeline", name, "--json", clients=aws.clients())

    assert result.code == 0, result.err
    [pipeline] = json.loads(result.out)["pipelines"]
    assert pipeline["stages"] == [
        {
            "name": "Deploy",
            "status": "InProgress",
            "executionId": execution_id(6),
            "commit": sha(6),
            "message": "Change 6",
            "changed": None,
        }
    ]
    assert pipeline["deployments"] == [
        {
            "target": "CodeDeploy shop-prod-app/shop-prod-web",
            "deploymentId": DEPLOYMENT,
            "status": "InProgress",
            "created": "2025-05-01T11:55:00+00:00",
            "overview": {"InProgress": 2, "Succeeded": 1},
        }
    ]
    assert pipeline["unknown"] == {}


def test_status_json_names_the_connection_state_it_may_not_read(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = aws.expect_pipeline("shop", "prod", targets=[])
    aws.expect_state(name, stage_state("Deploy", 6, "Succeeded"))
    aws.expect_history(name, [summary(6, commit=6)], 25)
    aws.codeconnections.add_client_error(
        "get_connection", service_error_code="AccessDeniedException"
    )

    result = cli("status", "--pipeline", name, "--json", clients=aws.clients())

    assert result.code == 0, result.err
    [pipeline] = json.loads(result.out)["pipelines"]
    assert pipeline["unknown"] == {
        "connectionStatus": "unknown (needs codeconnections:GetConnection)"
    }
    assert pipeline["source"]["connectionStatus"] is None


def test_status_json_of_a_release_on_its_way_names_its_execution_and_offers_no_command(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, _ = promoted
    newest = expect_newest_on_its_way(promoted)

    result = cli("status", "-s", "web", "-e", "prod", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    [pipeline] = json.loads(result.out)["pipelines"]
    waiting = pipeline["waiting"]
    assert waiting["release"]["versionId"] == newest
    assert (waiting["runningExecutionId"], waiting["runningStatus"], waiting["command"]) == (
        execution_id(11),
        "InProgress",
        None,
    )


def _prod_with_history(aws: StubbedAws, history: list[dict[str, object]]) -> str:
    name = aws.expect_pipeline("shop", "prod", targets=[])
    aws.expect_state(name, stage_state("Deploy", 6, "Failed"))
    aws.expect_history(name, history, 25)
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": "AVAILABLE"}},
        {"ConnectionArn": CONNECTION_ARN},
    )
    return name


def test_status_of_a_pipeline_that_never_succeeded_says_nothing_is_live_yet(
    aws: StubbedAws, cli: CliRunner
) -> None:
    name = _prod_with_history(aws, [summary(6, status="Failed", commit=6)])

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "Live: nothing yet (no successful release)" in lines
    header = next(line for line in lines if line.startswith("STAGE"))
    assert header.split() == ["STAGE", "STATUS", "COMMIT", "EXECUTION", "CHANGED", "MESSAGE"]


def test_the_live_release_without_a_commit_message_is_named_by_its_commit_only(
    aws: StubbedAws, cli: CliRunner
) -> None:
    live = summary(6, commit=6)
    del live["sourceRevisions"][0]["revisionSummary"]
    name = _prod_with_history(aws, [live])

    result = cli("status", "--pipeline", name, clients=aws.clients())

    assert result.code == 0, result.err
    assert f"Live: commit {sha(6)[:7]} (execution {execution_id(6)[:8]})" in (
        result.out.splitlines()
    )


class _Denied:
    status_code = 403


def _deny_tag_reads(**_: object) -> tuple[_Denied, dict[str, object]]:
    return _Denied(), {
        "Error": {"Code": "AccessDenied", "Message": "denied"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }


def test_status_of_a_release_waiting_whose_rejection_cannot_be_read_says_so(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    live = bucket.publish(1)
    bucket.publish(2)
    aws.client("s3").meta.events.register("before-call.s3.GetObjectTagging", _deny_tag_reads)
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, stage_state("Deploy", 10, "Succeeded"))
    aws.expect_history(PROD, [summary(10, version=live)], 25)
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "cicd:promotes-from", "value": "staging"}]},
        {"resourceArn": f"arn:aws:codepipeline:eu-west-1:123456789012:{PROD}"},
    )

    result = cli("status", "--pipeline", PROD, clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    waiting = next(i for i, line in enumerate(lines) if line.startswith("Waiting to be promoted"))
    assert lines[waiting + 2] == (
        "  rejections not checked: unknown (needs s3:GetObjectVersionTagging)"
    )


def test_status_names_the_commit_of_a_stage_whose_latest_execution_is_neither_live_nor_newest(
    promoted: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = promoted
    versions = [bucket.publish(n) for n in (1, 2, 3)]
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(
        PROD, stage_state("Approval", 12, "InProgress"), stage_state("Deploy", 11, "Failed")
    )
    aws.expect_history(
        PROD,
        [
            summary(12, status="InProgress", version=versions[2]),
            summary(11, status="Failed", version=versions[1]),
            summary(10, version=versions[0]),
        ],
        25,
    )
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "cicd:promotes-from", "value": "staging"}]},
        {"resourceArn": f"arn:aws:codepipeline:eu-west-1:123456789012:{PROD}"},
    )

    result = cli("status", "--pipeline", PROD, clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    deploy = next(line for line in lines if line.startswith("Deploy "))
    assert deploy.split()[:4] == ["Deploy", "Failed", sha(2)[:7], execution_id(11)[:8]]
