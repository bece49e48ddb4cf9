"""`cicd status` without --service: every service x environment at once, as in the sample stacks
(web and thumbnailer; dev and staging build from GitHub, staging publishes, prod is promoted).

CodePipeline and tag discovery are stubbed; staging's release bucket is moto's S3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.cicd.aws_fakes import (
    CONNECTION_ARN,
    RELEASE_BUCKET,
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    execution_id,
    expect_discovery,
    session,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

SAMPLE: list[tuple[str, str, str] | tuple[str, str, str, str]] = [
    *(
        (f"{service}-{stage}-pipeline", service, stage)
        for stage in ("dev", "staging")
        for service in ("thumbnailer", "web")
    ),
    *(
        (f"{service}-prod-pipeline", service, "prod", "staging")
        for service in ("thumbnailer", "web")
    ),
]


@pytest.fixture
def sample() -> Iterator[tuple[StubbedAws, ReleaseBucket]]:
    with mock_aws():
        s3 = session().client("s3")
        bucket = ReleaseBucket(s3)
        stubs = StubbedAws({"s3": s3})
        yield stubs, bucket
        stubs.verify()


def _built(aws: StubbedAws, service: str, stage: str, history: list[dict[str, object]]) -> None:
    options = {"publish_to": RELEASE_BUCKET} if stage == "staging" else {}
    aws.expect_pipeline(service, stage, targets=[], **options)
    # The table reads each pipeline's state too, for a frozen Deploy.
    aws.expect_state(f"{service}-{stage}-pipeline", stage_state("Deploy"))
    aws.expect_history(f"{service}-{stage}-pipeline", history, 25)


def _promoted(aws: StubbedAws, service: str, history: list[dict[str, object]]) -> None:
    aws.expect_promoted_pipeline(service, "prod", targets=[])
    aws.expect_state(f"{service}-prod-pipeline", stage_state("Deploy"))
    aws.expect_history(f"{service}-prod-pipeline", history, 25)


def _sample_history(aws: StubbedAws, bucket: ReleaseBucket) -> tuple[str, str]:
    thumb_live = bucket.publish(11, service="thumbnailer", message="Resize faster")
    web_live = bucket.publish(1, message="Add basket")
    web_waiting = bucket.publish(2, message="Faster search")
    expect_discovery(aws.tagging, stage=None, service=None, found=SAMPLE)
    _built(aws, "thumbnailer", "dev", [summary(40, commit=12)])
    _built(
        aws,
        "web",
        "dev",
        [summary(31, status="InProgress", commit=3), summary(30, commit=2)],
    )
    _built(aws, "thumbnailer", "staging", [summary(20, commit=11)])
    _built(aws, "web", "staging", [summary(21, commit=2)])
    _promoted(aws, "thumbnailer", [summary(10, version=thumb_live)])
    _promoted(aws, "web", [summary(11, version=web_live)])
    return web_live, web_waiting


def test_status_without_filters_shows_every_service_in_every_environment(
    sample: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = sample
    _, waiting = _sample_history(aws, bucket)

    result = cli("status", clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["SERVICE", "DEV", "STAGING", "PROD"]
    assert lines[1].split() == [
        "thumbnailer",
        sha(12)[:7],
        "Succeeded",
        sha(11)[:7],
        "Succeeded",
        sha(11)[:7],
        "Succeeded",
    ]
    assert lines[2].split() == [
        "web",
        f"{sha(2)[:7]},",
        "then",
        sha(3)[:7],
        "InProgress",
        sha(2)[:7],
        "Succeeded",
        sha(1)[:7],
        "Succeeded",
        "*",
    ]
    assert lines[4] == "* a newer proven release waits to be promoted:"
    assert lines[5].startswith(
        f'  web prod: release {waiting[:12]} (commit {sha(2)[:7]} "Faster search"), published '
    )
    assert lines[6] == "    cicd promote --service web --from staging --to prod"
    assert lines[-1] == "Details per stage: cicd status --service SERVICE"


def test_status_table_marks_a_cell_it_may_not_read_and_still_succeeds(
    sample: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, _ = sample
    found = [("web-dev-pipeline", "web", "dev")]
    expect_discovery(aws.tagging, stage="dev", service=None, found=found)
    aws.expect_pipeline("web", "dev", targets=[])
    aws.expect_state("web-dev-pipeline", stage_state("Deploy"))
    aws.codepipeline.add_client_error(
        "list_pipeline_executions", service_error_code="AccessDeniedException"
    )

    result = cli("status", "--stage", "dev", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split(None, 1) == [
        "web",
        "unknown (needs codepipeline:ListPipelineExecutions)",
    ]


def test_status_json_lists_every_pipeline_with_what_waits(
    sample: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = sample
    live, waiting = _sample_history(aws, bucket)

    result = cli("status", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("status", document)
    pipelines = {(p["service"], p["stage"]): p for p in document["pipelines"]}
    prod = pipelines[("web", "prod")]
    assert prod["source"] == {
        "kind": "release",
        "repository": None,
        "branch": None,
        "connectionArn": None,
        "connectionStatus": None,
        "location": f"s3://{RELEASE_BUCKET}/releases/web/release.zip",
        "promotesFrom": "staging",
    }
    assert (prod["live"]["commit"], prod["live"]["versionId"]) == (sha(1), live)
    assert prod["waiting"]["release"]["versionId"] == waiting
    assert prod["waiting"]["command"] == "cicd promote --service web --from staging --to prod"
    assert prod["stages"] is None and prod["deployments"] is None
    assert pipelines[("web", "dev")]["latest"]["executionId"] == execution_id(31)


def test_status_of_a_service_marks_what_it_may_not_read_and_shows_the_rest(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging, stage="dev", service="web", found=[("web-dev-pipeline", "web", "dev")]
    )
    aws.expect_pipeline("web", "dev")
    aws.expect_state("web-dev-pipeline", stage_state("Deploy", 3, "Succeeded"))
    aws.expect_history("web-dev-pipeline", [summary(3, commit=3)], 25)
    aws.codedeploy.add_client_error("list_deployments", service_error_code="AccessDeniedException")
    aws.codeconnections.add_client_error(
        "get_connection", service_error_code="AccessDeniedException"
    )

    result = cli("status", "-s", "web", "-e", "dev", clients=aws.clients())

    assert result.code == 0, result.err
    assert (
        f"GitHub connection: unknown (needs codeconnections:GetConnection)  ({CONNECTION_ARN})"
        in result.out
    )
    assert "Deployments in progress: unknown (needs codedeploy:ListDeployments)" in result.out
    assert f"Deploy  Succeeded  {sha(3)[:7]}" in result.out


def _one_pipeline(aws: StubbedAws) -> None:
    aws.expect_pipeline("web", "dev", targets=[])
    aws.expect_state("web-dev-pipeline", stage_state("Deploy", 3, "Succeeded"))
    aws.expect_history("web-dev-pipeline", [summary(3, commit=3, minutes_ago=90)], 25)
    aws.codeconnections.add_response(
        "get_connection",
        {"Connection": {"ConnectionStatus": "AVAILABLE"}},
        {"ConnectionArn": CONNECTION_ARN},
    )


def test_status_on_a_terminal_colours_statuses(aws: StubbedAws, cli: CliRunner) -> None:
    _one_pipeline(aws)

    result = cli("status", "--pipeline", "web-dev-pipeline", clients=aws.clients(), terminal=True)

    assert "\x1b[32mSucceeded\x1b[0m" in result.out


def test_no_color_turns_colour_off_even_on_a_terminal(
    aws: StubbedAws, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    _one_pipeline(aws)

    result = cli("status", "--pipeline", "web-dev-pipeline", clients=aws.clients(), terminal=True)

    assert result.code == 0 and "\x1b[" not in result.out
