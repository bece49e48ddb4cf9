"""`cicd.aws.approvals`: the commit a waiting execution's Source stage shows in the pipeline
state, and the approver's evidence read across pages of action executions.

`cicd approve` itself is tests/cicd/test_approvals.py and test_approve_evidence.py.
"""

from __future__ import annotations

from typing import Any

from cicd.aws import approvals
from tests.cicd.aws_fakes import (
    NOW,
    StubbedAws,
    action_state,
    execution_id,
    pipeline_state,
    sha,
    stage_state,
)

PIPELINE = "shop-prod-pipeline"


def test_a_source_stage_that_never_ran_shows_no_commit() -> None:
    state = pipeline_state(PIPELINE, stage_state("Source", actions=[action_state("GitHub")]))

    assert approvals.source_commit_in_state(state, execution_id(3)) is None


def test_the_commit_is_the_first_source_action_that_shows_a_revision() -> None:
    state = pipeline_state(
        PIPELINE,
        stage_state(
            "Source",
            3,
            "Succeeded",
            [action_state("Unused"), action_state("GitHub", "Succeeded", revision=7)],
        ),
    )

    assert approvals.source_commit_in_state(state, execution_id(3)) == sha(7)


def _describe(variables: dict[str, str]) -> dict[str, Any]:
    return {
        "pipelineExecutionId": execution_id(3),
        "stageName": "Approval",
        "actionName": "Describe",
        "status": "Succeeded",
        "startTime": NOW,
        "output": {"outputVariables": variables},
    }


def test_the_evidence_is_found_on_a_later_page_of_action_executions() -> None:
    aws = StubbedAws()
    request = {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": execution_id(3)}}
    aws.codepipeline.add_response("list_action_executions", {"nextToken": "page-2"}, request)
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [_describe({"LIVE_COMMIT": sha(1), "BAKE": "30"})]},
        request | {"nextToken": "page-2"},
    )

    evidence = approvals.approval_evidence(aws.client("codepipeline"), PIPELINE, execution_id(3))

    aws.verify()
    assert evidence == {"LIVE_COMMIT": sha(1), "BAKE": "30"}
