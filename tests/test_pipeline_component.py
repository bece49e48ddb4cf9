"""DeliveryPipeline and ServicePipeline used on their own, as another team would."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.pipeline import DeliveryPipeline, lambda_deploy_strategy, rule_name
from components.service_pipeline import ServicePipeline
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/abc"
BUCKET_ARN = "arn:aws:s3:::artifacts"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"


def pipeline_args(**extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "service": "api",
        "stage": "qa",
        "source": {"connection_arn": CONNECTION, "repository": "acme/api", "branch": "release"},
        "artifact_bucket_name": "artifacts",
        "artifact_bucket_arn": BUCKET_ARN,
        "build": {
            "name": "Build",
            "project_name": "api-qa-build",
            "project_arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/api-qa-build",
        },
        "package": {
            "name": "Package",
            "project_name": "api-qa-package",
            "project_arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/api-qa-package",
        },
        "deploy": {
            "platform": "server",
            "server_targets": [
                {
                    "name": "api",
                    "application_name": "api-qa",
                    "deployment_group_name": "api-qa-api",
                    "deployment_group_arn": f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:api-qa/api-qa-api",
                }
            ],
            "application_arn": f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:api-qa",
            "deployment_config_name": "CodeDeployDefault.AllAtOnce",
        },
    }
    args.update(extra)
    return args


def run_pipeline(mocks: Recorder, **extra: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {}

    def program() -> Any:
        p = DeliveryPipeline("p", pipeline_args(**extra))  # type: ignore[arg-type]
        return pulumi.Output.all(p.pipeline_name, p.console_url, p.approval_action_arn).apply(
            lambda v: outputs.update(name=v[0], url=v[1], approval=v[2])
        )

    run_pulumi(program)
    return outputs


def test_a_minimal_pipeline_has_source_build_deploy_and_a_push_trigger(mocks: Recorder) -> None:
    outputs = run_pipeline(mocks)
    pipeline = mocks.one(PIPELINE)
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "Build", "Deploy"]
    assert pipeline.inputs["executionMode"] == "SUPERSEDED"
    assert pipeline.inputs["artifactStores"] == [{"type": "S3", "location": "artifacts"}]
    push = pipeline.inputs["triggers"][0]["gitConfiguration"]["pushes"][0]
    assert push == {"branches": {"includes": ["release"]}}, "no file filter unless asked"
    assert outputs["name"] == "api-qa-pipeline"
    assert outputs["url"] == (
        f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/api-qa-pipeline/view?region={REGION}"
    )
    assert outputs["approval"] is None


def test_file_paths_filter_the_trigger_and_kms_encrypts_artifacts(mocks: Recorder) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    args = pipeline_args(kms_key_arn=key, execution_mode="PARALLEL")
    args["deploy"]["rollback_on_failure"] = False  # PARALLEL pipelines have no stage rollback
    args["source"]["file_paths"] = ["src/**"]
    run_pulumi(lambda: DeliveryPipeline("p", args).pipeline_arn)  # type: ignore[arg-type]
    pipeline = mocks.one(PIPELINE)
    push = pipeline.inputs["triggers"][0]["gitConfiguration"]["pushes"][0]
    assert push["filePaths"] == {"includes": ["src/**"]}
    assert pipeline.inputs["artifactStores"][0]["encryptionKey"] == {"id": key, "type": "KMS"}
    assert pipeline.inputs["executionMode"] == "PARALLEL"
    grants = {
        s["Sid"]: s
        for s in json.loads(mocks.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])[
            "Statement"
        ]
    }
    assert grants["ArtifactKey"]["Resource"] == key


def test_approval_without_topic_still_names_the_commit(mocks: Recorder) -> None:
    outputs = run_pipeline(mocks, approval={"timeout_minutes": 60})
    approval = next(s for s in mocks.one(PIPELINE).inputs["stages"] if s["name"] == "Approval")
    action = approval["actions"][0]
    assert "NotificationArn" not in action["configuration"]
    assert "#{SourceVariables.CommitId}" in action["configuration"]["CustomData"]
    assert action["timeoutInMinutes"] == 60
    assert (
        outputs["approval"]
        == f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:api-qa-pipeline/Approval/Approve"
    )


def test_pipeline_trust_is_limited_to_this_pipeline(mocks: Recorder) -> None:
    run_pipeline(mocks)
    trust = json.loads(mocks.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "codepipeline.amazonaws.com"}
    assert (
        trust["Condition"]["ArnLike"]["aws:SourceArn"]
        == f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:api-qa-pipeline"
    )


def test_parallel_with_stage_rollback_is_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="PARALLEL pipelines have no stage rollback"):
        run_pipeline(mocks, execution_mode="PARALLEL")


def test_bake_without_alarms_is_refused(mocks: Recorder) -> None:
    args = pipeline_args()
    args["deploy"]["bake_minutes"] = 10
    with pytest.raises(ValueError, match="bake_minutes=10 watches alarms"):
        run_pulumi(lambda: DeliveryPipeline("p", args))  # type: ignore[arg-type]


def test_lambda_platform_needs_lambda_targets(mocks: Recorder) -> None:
    args = pipeline_args()
    args["deploy"] = {"platform": "lambda"}
    with pytest.raises(ValueError, match="platform lambda needs lambda_targets"):
        run_pulumi(lambda: DeliveryPipeline("p", args))  # type: ignore[arg-type]


def test_stage_rollback_can_be_turned_off(mocks: Recorder) -> None:
    args = pipeline_args()
    args["deploy"]["rollback_on_failure"] = False
    run_pulumi(lambda: DeliveryPipeline("p", args).pipeline_arn)  # type: ignore[arg-type]
    deploy = next(s for s in mocks.one(PIPELINE).inputs["stages"] if s["name"] == "Deploy")
    assert "onFailure" not in deploy


@pytest.mark.parametrize(
    ("codedeploy", "action"),
    [
        ("CodeDeployDefault.LambdaAllAtOnce", "AllAtOnce"),
        ("CodeDeployDefault.LambdaCanary10Percent30Minutes", "Canary10Percent30Minutes"),
        ("CodeDeployDefault.LambdaLinear10PercentEvery2Minutes", "Linear10PercentEvery2Minutes"),
    ],
)
def test_lambda_strategies_map_to_the_deploy_action_names(codedeploy: str, action: str) -> None:
    assert lambda_deploy_strategy(codedeploy) == action


def test_bake_rule_names_are_stable_per_alarm_and_valid() -> None:
    assert rule_name("bake", "web prod/5xx") == rule_name("bake", "web prod/5xx")
    assert rule_name("bake", "a") != rule_name("bake", "b")
    assert " " not in rule_name("bake", "web prod/5xx") and "/" not in rule_name(
        "bake", "web prod/5xx"
    )


def test_a_service_pipeline_alone_creates_its_own_connection_and_bucket(mocks: Recorder) -> None:
    def program() -> Any:
        chain = ServicePipeline(
            "orders",
            {
                "service": "orders",
                "stage": "dev",
                "repository": "acme/orders",
                "branch": "main",
                "tests": [{"name": "unit"}],
                "deploy": {
                    "platform": "server",
                    "targets": [
                        {"name": "orders", "ec2_tag_filters": [{"key": "app", "value": "orders"}]}
                    ],
                },
            },
        )
        return chain.pipeline_name

    run_pulumi(program)
    connection = mocks.one("aws:codeconnections/connection:Connection")
    bucket = mocks.one("aws:s3/bucket:Bucket")
    pipeline = mocks.one(PIPELINE)
    source = pipeline.inputs["stages"][0]["actions"][0]["configuration"]
    assert source["ConnectionArn"] == connection.state["arn"]
    assert pipeline.inputs["artifactStores"][0]["location"] == bucket.state["bucket"]
    assert mocks.of_type("aws:sns/topic:Topic") == [], "no approval and no subscribers: no topic"
    assert {r.typ for r in mocks.resources if not r.custom} >= {
        "delivery:cicd:ServicePipeline",
        "delivery:cicd:GitHubConnection",
        "delivery:cicd:ArtifactStore",
        "delivery:cicd:BuildProject",
        "delivery:cicd:Deployment",
        "delivery:cicd:DeliveryPipeline",
        "delivery:cicd:ReleaseSteps",
    }
    # Its own package step, allowed to read only this pipeline's executions.
    package = mocks.one("aws:codebuild/project:Project", "orders-release-package-project")
    assert package.inputs["name"] == "orders-dev-package"
    build_stage = pipeline.inputs["stages"][1]
    assert build_stage["actions"][1]["configuration"]["ProjectName"] == "orders-dev-package"
    grants = json.loads(
        mocks.one("aws:iam/rolePolicy:RolePolicy", "orders-release-package-policy").inputs["policy"]
    )
    read = next(s for s in grants["Statement"] if s["Sid"] == "ReadPipelineExecutions")
    assert read["Resource"] == [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-dev-pipeline"]
    assert "orders-release-describe-project" not in {
        r.name for r in mocks.of_type("aws:codebuild/project:Project")
    }, "nothing is promoted here: no describe step"


def test_a_shared_bucket_needs_both_name_and_arn(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="give both artifact_bucket_name and artifact_bucket_arn"):
        run_pulumi(
            lambda: ServicePipeline(
                "orders",
                {
                    "service": "orders",
                    "stage": "dev",
                    "repository": "acme/orders",
                    "branch": "main",
                    "artifact_bucket_name": "shared",
                    "deploy": {
                        "platform": "server",
                        "targets": [{"name": "o", "autoscaling_groups": ["a"]}],
                    },
                },
            )
        )


def service(**deploy: Any) -> dict[str, Any]:
    return {
        "service": "orders",
        "stage": "dev",
        "repository": "acme/orders",
        "branch": "main",
        "deploy": {
            "platform": "server",
            "targets": [{"name": "orders", "autoscaling_groups": ["orders-asg"]}],
            **deploy,
        },
    }


def test_a_service_pipeline_refuses_a_green_fleet_it_cannot_name(mocks: Recorder) -> None:
    args = service()
    args["deploy"]["targets"][0]["blue_green"] = {"green_fleet": "DISCOVER_EXISTING"}
    with pytest.raises(ValueError, match="CodePipeline's CodeDeploy action names only"):
        run_pulumi(lambda: ServicePipeline("orders", args))  # type: ignore[arg-type]


def test_a_service_pipeline_refuses_more_alarms_than_aws_watches(mocks: Recorder) -> None:
    too_many = service(alarm_names=[f"a{n}" for n in range(11)])
    with pytest.raises(ValueError, match="watch at most 10"):
        run_pulumi(lambda: ServicePipeline("orders", too_many))  # type: ignore[arg-type]
    bake = service(alarm_names=[f"a{n}" for n in range(6)], bake_minutes=5)
    with pytest.raises(ValueError, match="a stage condition holds at most 5 rules"):
        run_pulumi(lambda: ServicePipeline("orders", bake))  # type: ignore[arg-type]
