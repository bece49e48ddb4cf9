"""`cicd metrics` when it cannot read where a failed release failed: it says so in a note.

The failure still counts (as unclassified); the note names the permission that was missing. The
helpers are test_metrics.py's (its window: 2025-04-01 12:00 to 2025-05-01 12:00 UTC).
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, StubbedAws, expect_discovery
from tests.cicd.test_metrics import _published, _summary, at


def _prod_with_one_failed_release(aws: StubbedAws) -> None:
    expect_discovery(
        aws.tagging, stage=None, service="web", found=[("web-prod-pipeline", "web", "prod")]
    )
    _published(aws, {})
    aws.expect_pipeline("web", "prod")
    failed = _summary(2, "Failed", at(4, 12, 10), at(4, 12, 10, 20), commit=2)
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [failed]},
        {"pipelineName": "web-prod-pipeline", "maxResults": 100},
    )
    aws.codepipeline.add_client_error(
        "list_action_executions", service_error_code="AccessDeniedException"
    )


def test_a_failure_whose_stage_cannot_be_read_is_counted_unclassified_and_the_note_says_why(
    cli: CliRunner,
) -> None:
    aws = StubbedAws()
    _prod_with_one_failed_release(aws)

    result = cli("metrics", "-s", "web", "--json", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    [web] = json.loads(result.out)["services"]
    assert web["changeFailureRate"]["unclassified"] == 1
    assert web["notes"] == [
        "where Failed releases failed is unknown (needs codepipeline:ListActionExecutions)",
        "no published metrics in the window",
    ]


def test_metrics_json_gives_a_window_of_part_days_to_the_hundredth_of_a_day(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging, stage=None, service="web", found=[("web-prod-pipeline", "web", "prod")]
    )
    _published(aws, {})
    aws.expect_pipeline("web", "prod")
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": "web-prod-pipeline", "maxResults": 100},
    )

    result = cli("metrics", "-s", "web", "--since", "39h", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    assert json.loads(result.out)["window"]["days"] == 1.62


def test_metrics_of_a_service_without_a_production_pipeline_says_what_to_check(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging, stage=None, service="web", found=[("web-dev-pipeline", "web", "dev")]
    )

    result = cli("metrics", "-s", "web", clients=aws.clients())

    assert result.code == 5
    assert result.err.splitlines() == [
        "cicd: no prod pipeline of service web in eu-west-1",
        "hint: check --region, --service and --stage (the production environment)",
    ]
