"""`cicd.aws.executions` against stubbed CodePipeline and CodeBuild: which executions a window
of history holds, test totals read from CodeBuild's reports, and what `cicd info` gathers.

The commands built on it are tests/cicd/test_info_logs_open.py, test_releases.py and others.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cicd.aws import executions
from cicd.aws.manifests import Manifests
from cicd.aws.pipelines import parse_layout
from cicd.errors import Refused
from cicd.model import run
from cicd.model.pipeline import PipelineRef
from cicd.model.release import Release
from cicd.model.run import ActionRun
from cicd.model.status import Unknown
from tests.cicd.aws_fakes import (
    NOW,
    RELEASE_BUCKET,
    StubbedAws,
    execution,
    execution_id,
    pipeline_declaration,
    promoted_declaration,
    sha,
    summary,
)

REPORT_ARN = "arn:aws:codebuild:eu-west-1:123456789012:report/shop-prod-unit:0a1b2c3d"
BUILD_ID = "shop-prod-build:11112222-3333-4444-5555-666677778888"
VERSION = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def test_history_since_keeps_reading_past_a_page_that_ends_exactly_at_the_cutoff() -> None:
    aws = StubbedAws()
    layout = parse_layout(pipeline_declaration("shop", "prod"))
    request = {"pipelineName": layout.name, "maxResults": 100}
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [summary(3, minutes_ago=0), summary(2, minutes_ago=60)],
            "nextToken": "page-2",
        },
        request,
    )
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [summary(1, minutes_ago=60), summary(0, minutes_ago=61)]},
        request | {"nextToken": "page-2"},
    )

    found = executions.history_since(aws.client("codepipeline"), layout, NOW - timedelta(hours=1))

    aws.verify()
    assert [r.execution_id for r in found] == [execution_id(3), execution_id(2), execution_id(1)]


def test_history_since_of_a_pipeline_that_never_ran_is_empty() -> None:
    aws = StubbedAws()
    layout = parse_layout(pipeline_declaration("shop", "prod"))
    aws.codepipeline.add_response("list_pipeline_executions", {})

    assert executions.history_since(aws.client("codepipeline"), layout, NOW) == []


def test_a_test_report_without_a_name_is_named_by_the_last_part_of_its_arn() -> None:
    aws = StubbedAws()
    aws.codebuild.add_response(
        "batch_get_reports",
        {
            "reports": [
                {
                    "arn": REPORT_ARN,
                    "testSummary": {"total": 4, "statusCounts": {}, "durationInNanoSeconds": 1},
                }
            ]
        },
        {"reportArns": [REPORT_ARN]},
    )

    totals = executions.test_totals(aws.client("codebuild"), [REPORT_ARN])

    assert totals == {REPORT_ARN: run.TestTotals("shop-prod-unit:0a1b2c3d", 4, 0, 0, 0)}


def test_a_report_that_counts_no_failures_has_zero_failed() -> None:
    aws = StubbedAws()
    aws.codebuild.add_response(
        "batch_get_reports",
        {
            "reports": [
                {
                    "arn": REPORT_ARN,
                    "name": "unit",
                    "testSummary": {
                        "total": 5,
                        "statusCounts": {"SUCCEEDED": 3, "ERROR": 1, "SKIPPED": 1},
                        "durationInNanoSeconds": 1,
                    },
                }
            ]
        },
    )

    totals = executions.test_totals(aws.client("codebuild"), [REPORT_ARN])

    assert totals == {REPORT_ARN: run.TestTotals("unit", 5, 3, 1, 1)}


def test_builds_that_cannot_be_read_leave_only_codebuild_actions_with_unknown_tests() -> None:
    aws = StubbedAws()
    aws.codebuild.add_client_error(
        "batch_get_builds",
        service_error_code="AccessDeniedException",
        service_message="not allowed",
        expected_params={"ids": [BUILD_ID]},
    )
    build = ActionRun("Build", "Build", "Succeeded", "CodeBuild", external_id=BUILD_ID)
    deploy = ActionRun("Deploy", "web", "Succeeded", "CodeDeploy", external_id="d-ABCDEF123")

    runs, unknown = executions.with_builds(aws.clients(), [build, deploy])

    aws.verify()
    assert isinstance(unknown, Unknown)
    assert runs[0].tests == unknown
    assert runs[1] == deploy


def _info_stubs(aws: StubbedAws, document: dict[str, object], name: str) -> None:
    aws.codepipeline.add_response(
        "get_pipeline_execution",
        {"pipelineExecution": document},
        {"pipelineName": name, "pipelineExecutionId": execution_id(5)},
    )


def test_info_of_a_promoted_execution_reads_the_object_version_not_a_commit() -> None:
    aws = StubbedAws()
    layout = parse_layout(promoted_declaration("shop", "prod", bucket=RELEASE_BUCKET))
    _info_stubs(aws, execution(5, version=VERSION)["pipelineExecution"], layout.name)
    aws.stub("s3").add_client_error(
        "get_object", service_error_code="NoSuchVersion", service_message="gone"
    )
    aws.codepipeline.add_response("list_action_executions", {"actionExecutionDetails": []})
    listed = Release(execution_id(5), "Succeeded")

    info = executions.gather_info(
        aws.clients(),
        Manifests(lambda: aws.client("s3")),
        PipelineRef(layout.name),
        layout,
        listed,
    )

    aws.verify()
    assert (info.release.version_id, info.release.commit) == (VERSION, None)
    assert info.release.manifest_problem is not None


def test_info_takes_the_trigger_from_the_execution_and_falls_back_to_the_listing() -> None:
    aws = StubbedAws()
    layout = parse_layout(pipeline_declaration("shop", "prod"))
    triggered = execution(5, commit=1)["pipelineExecution"] | {
        "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": "alice"}
    }
    untriggered = {k: v for k, v in triggered.items() if k != "trigger"}
    manifests = Manifests(lambda: aws.client("s3"))
    listed = Release(execution_id(5), "Succeeded", trigger="WebhookV2")
    gathered = []
    for document in (triggered, untriggered):
        _info_stubs(aws, document, layout.name)
        aws.codepipeline.add_response("list_action_executions", {"actionExecutionDetails": []})
        info = executions.gather_info(
            aws.clients(), manifests, PipelineRef(layout.name), layout, listed
        )
        gathered.append((info.trigger_type, info.trigger_detail))

    aws.verify()
    assert gathered == [("StartPipelineExecution", "alice"), ("WebhookV2", None)]


def test_info_says_when_the_builds_of_an_execution_could_not_be_read() -> None:
    aws = StubbedAws()
    layout = parse_layout(pipeline_declaration("shop", "prod"))
    _info_stubs(aws, execution(5, commit=1)["pipelineExecution"], layout.name)
    aws.codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "pipelineExecutionId": execution_id(5),
                    "stageName": "Build",
                    "actionName": "Build",
                    "status": "Succeeded",
                    "startTime": NOW,
                    "input": {"actionTypeId": _codebuild_type()},
                    "output": {"executionResult": {"externalExecutionId": BUILD_ID}},
                }
            ]
        },
    )
    aws.codebuild.add_client_error(
        "batch_get_builds", service_error_code="AccessDeniedException", service_message="no"
    )

    info = executions.gather_info(
        aws.clients(),
        Manifests(lambda: aws.client("s3")),
        PipelineRef(layout.name),
        layout,
        Release(execution_id(5), "Succeeded"),
    )

    aws.verify()
    assert isinstance(info.builds_unknown, Unknown)


def _codebuild_type() -> dict[str, str]:
    return {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}


def test_an_action_run_carries_its_project_and_placeholders_for_what_aws_left_out() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "pipelineExecutionId": execution_id(5),
                    "startTime": NOW,
                    "input": {
                        "actionTypeId": _codebuild_type(),
                        "configuration": {"ProjectName": "shop-prod-build"},
                    },
                }
            ]
        },
        {
            "pipelineName": "shop-prod-pipeline",
            "filter": {"pipelineExecutionId": execution_id(5)},
            "maxResults": 100,
        },
    )

    runs = executions.action_runs(aws.client("codepipeline"), "shop-prod-pipeline", execution_id(5))

    assert [(r.stage, r.action, r.status, r.provider, r.project) for r in runs] == [
        ("?", "?", "?", "CodeBuild", "shop-prod-build")
    ]


def test_starting_a_release_of_a_promoted_pipeline_is_refused_pointing_at_promote() -> None:
    layout = parse_layout(promoted_declaration("shop", "prod", bucket=RELEASE_BUCKET))

    with pytest.raises(Refused) as raised:
        executions.start_release(StubbedAws().client("codepipeline"), layout, None)

    assert raised.value.message == (
        f"{layout.name} deploys releases published by another stage, it builds nothing itself"
    )
    assert raised.value.hint == (
        "start it with `cicd promote` (see `cicd status` for the release waiting)"
    )


def test_an_execution_read_by_id_carries_its_trigger_and_a_rollback_trigger_marks_it() -> None:
    aws = StubbedAws()
    manual = execution(5, commit=1)["pipelineExecution"] | {
        "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": "alice"}
    }
    rolled = execution(6, commit=1)["pipelineExecution"] | {
        "trigger": {"triggerType": "ManualRollback", "triggerDetail": "bob"}
    }
    for n, document in ((5, manual), (6, rolled)):
        aws.codepipeline.add_response(
            "get_pipeline_execution",
            {"pipelineExecution": document},
            {"pipelineName": "shop-prod-pipeline", "pipelineExecutionId": execution_id(n)},
        )

    first = executions.get_release(
        aws.client("codepipeline"), "shop-prod-pipeline", execution_id(5)
    )
    second = executions.get_release(
        aws.client("codepipeline"), "shop-prod-pipeline", execution_id(6)
    )

    aws.verify()
    assert (first.trigger, first.is_rollback) == ("StartPipelineExecution", False)
    assert (second.trigger, second.is_rollback) == ("ManualRollback", True)


def test_an_execution_of_type_rollback_is_a_rollback_of_its_target_even_without_a_trigger() -> None:
    aws = StubbedAws()
    document = {
        k: v for k, v in execution(7, commit=1)["pipelineExecution"].items() if k != "trigger"
    } | {
        "executionType": "ROLLBACK",
        "rollbackMetadata": {"rollbackTargetPipelineExecutionId": execution_id(4)},
    }
    aws.codepipeline.add_response("get_pipeline_execution", {"pipelineExecution": document})

    release = executions.get_release(
        aws.client("codepipeline"), "shop-prod-pipeline", execution_id(7)
    )

    assert (release.trigger, release.is_rollback, release.rollback_target) == (
        "-",
        True,
        execution_id(4),
    )


def test_promoting_into_a_pipeline_that_builds_from_github_is_refused_saying_so() -> None:
    layout = parse_layout(pipeline_declaration("shop", "prod"))

    with pytest.raises(Refused) as raised:
        executions.start_promoted(StubbedAws().client("codepipeline"), layout, VERSION)

    assert raised.value.message == (
        f"{layout.name} builds from GitHub: start it at a commit instead"
    )


def test_a_listed_rollback_names_the_execution_it_restores() -> None:
    layout = parse_layout(pipeline_declaration("shop", "prod"))

    release = executions.release_from_summary(summary(7, commit=2, rollback_of=5), layout.source)

    assert (release.is_rollback, release.rollback_target) == (True, execution_id(5))


def test_a_listed_revision_of_an_action_not_named_like_the_source_is_still_its_commit() -> None:
    layout = parse_layout(pipeline_declaration("shop", "prod"))
    listed = summary(7, commit=2)
    listed["sourceRevisions"][0]["actionName"] = "Checkout"

    release = executions.release_from_summary(listed, layout.source)

    assert (release.commit, release.message) == (sha(2), "Change 2")


def test_a_full_page_of_recent_releases_asks_aws_for_no_more_even_when_more_exist() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [summary(n, commit=n) for n in (3, 2)],
            "nextToken": "more",
        },
        {"pipelineName": "shop-prod-pipeline", "maxResults": 2},
    )
    layout = parse_layout(pipeline_declaration("shop", "prod"))

    releases = executions.recent_releases(aws.client("codepipeline"), layout, limit=2)

    assert [r.execution_id for r in releases] == [execution_id(3), execution_id(2)]
    aws.codepipeline.assert_no_pending_responses()


def test_recent_releases_beyond_one_page_follow_the_next_token_for_the_rest() -> None:
    aws = StubbedAws()
    first = [summary(n, commit=n) for n in range(100, 100 - executions.PAGE_SIZE, -1)]
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": first, "nextToken": "page-2"},
        {"pipelineName": "shop-prod-pipeline", "maxResults": executions.PAGE_SIZE},
    )
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [summary(n, commit=n) for n in (9, 8, 7)]},
        {"pipelineName": "shop-prod-pipeline", "maxResults": 2, "nextToken": "page-2"},
    )
    layout = parse_layout(pipeline_declaration("shop", "prod"))

    releases = executions.recent_releases(
        aws.client("codepipeline"), layout, limit=executions.PAGE_SIZE + 2
    )

    assert len(releases) == executions.PAGE_SIZE + 2
    assert [r.execution_id for r in releases[-2:]] == [execution_id(9), execution_id(8)]
