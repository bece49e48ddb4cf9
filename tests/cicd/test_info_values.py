"""`cicd info`'s words and JSON in the cases the whole-release tests do not reach.

An approval nobody signed, an action with an id but no console page, builds that cannot be read,
a deploy record without config: each changes a line or a key a reader relies on. The stubs are
test_info_logs_open.py's (one staging release of web, execution 9).
"""

from __future__ import annotations

import json
from typing import Any

from cicd.model.config import DeployRecord
from cicd.render.info import record_lines
from tests.cicd.aws_fakes import CliRunner, StubbedAws, execution_id, sha, summary
from tests.cicd.test_info_logs_open import (
    ACTIONS,
    BUILD_ID,
    STAGING,
    UNIT_ID,
    _staging,
    detail,
)

LINKS = [
    "",
    "Links:",
    "  Build  https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/"
    "web-staging-build/build/web-staging-build%3A1f2e3d4c-0000-4000-8000-000000000001/"
    "?region=eu-west-1",
    "  unit   https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/"
    "web-staging-unit/build/web-staging-unit%3A1f2e3d4c-0000-4000-8000-000000000002/"
    "?region=eu-west-1",
]


def _one_page(aws: StubbedAws, actions: list[dict[str, Any]], pipeline: str = STAGING) -> None:
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": actions},
        {
            "pipelineName": pipeline,
            "filter": {"pipelineExecutionId": execution_id(9)},
            "maxResults": 100,
        },
    )


def _builds_denied(aws: StubbedAws, actions: list[dict[str, Any]]) -> None:
    _staging(aws)
    aws.expect_execution(STAGING, 9, status="Failed", commit=9)
    _one_page(aws, actions)
    aws.codebuild.add_client_error("batch_get_builds", service_error_code="AccessDeniedException")


def test_info_ends_with_a_table_of_actions_and_a_links_section_of_their_console_pages(
    aws: StubbedAws, cli: CliRunner
) -> None:
    # A source action's id is the commit, not a deployment: it has no console page of its own.
    source = detail(
        "Source",
        "GitHub",
        "CodeStarSourceConnection",
        seconds=2,
        result={"externalExecutionId": sha(9)},
    )
    _builds_denied(aws, [source, *ACTIONS[1:]])

    result = cli("info", "-s", "web", "-e", "staging", clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = next(line for line in lines if line.startswith("STAGE"))
    assert header.split() == ["STAGE", "ACTION", "STATUS", "STARTED", "DURATION", "RESULT"]
    assert lines[-len(LINKS) :] == LINKS


def test_info_json_names_the_builds_it_could_not_read_under_unknown(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _builds_denied(aws, ACTIONS)

    result = cli("info", "-s", "web", "-e", "staging", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["unknown"] == {"tests": "unknown (needs codebuild:BatchGetBuilds)"}
    assert [a["tests"] for a in document["actions"] if a["action"] in ("Build", "unit")] == [
        None,
        None,
    ]
    assert {BUILD_ID, UNIT_ID} <= {a["externalId"] for a in document["actions"]}


def _unsigned_approval(aws: StubbedAws) -> None:
    aws.expect_pipeline("web", "prod", approval=True)
    aws.expect_history("web-prod-pipeline", [summary(9, commit=9)], 100)
    aws.expect_execution("web-prod-pipeline", 9, commit=9)
    approval = detail("Approval", "Approve", "Manual", minute=10, seconds=600, status="InProgress")
    del approval["lastUpdateTime"]
    _one_page(aws, [approval], "web-prod-pipeline")


def test_info_of_an_approval_nobody_has_answered_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _unsigned_approval(aws)

    result = cli("info", "--pipeline", "web-prod-pipeline", clients=aws.clients())

    assert result.code == 0, result.err
    assert "Approval:  InProgress, -" in result.out.splitlines()


def test_info_json_of_an_approval_nobody_has_answered_has_no_time(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _unsigned_approval(aws)

    result = cli("info", "--pipeline", "web-prod-pipeline", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    assert json.loads(result.out)["approval"] == {
        "status": "InProgress",
        "by": None,
        "comment": None,
        "at": None,
    }


def test_a_deploy_record_without_config_says_none_was_recorded() -> None:
    record = DeployRecord(
        pipeline="web-prod-pipeline",
        execution_id=execution_id(9),
        kind="release",
        note="-",
        rollback_of=None,
        commit=sha(9),
        contracts_schema=False,
        config=None,
    )

    assert record_lines(record) == ["Config:    none recorded"]
