"""`cicd.aws.status`: each stage's latest execution from the pipeline state, the deployments
still running, and the tags a pipeline named with --pipeline gets.

`cicd status` itself is tests/cicd/test_status.py and test_status_overview.py.
"""

from __future__ import annotations

from datetime import timedelta

from cicd.aws import status
from cicd.aws.pipelines import parse_layout
from cicd.model.pipeline import DeployTarget, PipelineRef
from cicd.model.release import Release
from cicd.model.status import RunningDeployment, StageStatus
from tests.cicd.aws_fakes import (
    NOW,
    RELEASE_BUCKET,
    StubbedAws,
    action_state,
    execution_id,
    pipeline_arn,
    pipeline_state,
    promoted_declaration,
    sha,
    stage_state,
)


def test_a_named_pipeline_keeps_its_name_and_gains_service_stage_and_upstream() -> None:
    aws = StubbedAws()
    layout = parse_layout(
        promoted_declaration("shop", "prod", bucket=RELEASE_BUCKET),
        pipeline_arn("shop-prod-pipeline"),
    )
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {
            "tags": [
                {"key": "cicd:service", "value": "shop"},
                {"key": "cicd:stage", "value": "prod"},
                {"key": "cicd:promotes-from", "value": "staging"},
            ]
        },
        {"resourceArn": pipeline_arn("shop-prod-pipeline")},
    )

    ref = status.with_promotes_from(aws.clients(), PipelineRef(layout.name), layout)

    aws.verify()
    assert ref == PipelineRef(layout.name, "shop", "prod", "staging")


def test_stage_statuses_read_a_stage_without_actions_and_actions_that_never_ran() -> None:
    bare = {
        "stageName": "Deploy",
        "latestExecution": {"pipelineExecutionId": execution_id(2), "status": "InProgress"},
    }
    state = pipeline_state(
        "shop-prod-pipeline",
        stage_state(
            "Source",
            2,
            "Succeeded",
            [action_state("Never"), action_state("GitHub", "Succeeded", changed_minutes_ago=5)],
        ),
        bare,
    )
    releases = [Release(execution_id(2), "InProgress", commit=sha(2), message="Change 2")]

    statuses = status.stage_statuses(state, releases)

    assert statuses == (
        StageStatus(
            "Source", "Succeeded", execution_id(2), sha(2), "Change 2", NOW - timedelta(minutes=5)
        ),
        StageStatus("Deploy", "InProgress", execution_id(2), sha(2), "Change 2", None),
    )


def test_a_running_deployment_carries_when_it_was_created() -> None:
    aws = StubbedAws()
    target = DeployTarget("web", "CodeDeploy", "shop-prod-app", "shop-prod-web")
    aws.codedeploy.add_response("list_deployments", {"deployments": ["d-ABCDEF123"]})
    aws.codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": "d-ABCDEF123",
                "status": "InProgress",
                "createTime": NOW,
                "deploymentOverview": {"InProgress": 1},
            }
        },
        {"deploymentId": "d-ABCDEF123"},
    )

    running = status.running_deployments(aws.client("codedeploy"), [target])

    aws.verify()
    assert running == (
        RunningDeployment(target, "d-ABCDEF123", "InProgress", NOW, {"InProgress": 1}),
    )
