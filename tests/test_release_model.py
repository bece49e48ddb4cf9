"""Heroku's release model in the sample stacks, under Pulumi's mocks: the release task, config
vars that are releases, and the steps that refuse a rejected release.

Every stack file runs through the real `__main__.py` (upstream first). What is checked is what
CodePipeline, CodeBuild and IAM would be given: where the release task and the Configure step sit
in Deploy and on which artifact, their VPC and configuration path, the pipeline's variables, and
that each role reads exactly one service's configuration.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cicd import contract
from components import pipeline as pipeline_component
from components import release_config
from stack.config import ConfigError
from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    Resource,
    StackRun,
    flatten_stack_config,
    iter_stacks,
    run_program,
    run_stacks,
)

STACKS = dict(iter_stacks())
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT_TYPE = "aws:codebuild/project:Project"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
SSM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter"
# The sample stacks' release task VPCs (Pulumi.staging.yaml, Pulumi.prod.yaml).
VPCS = {
    "staging": (
        "vpc-01a2b3c4d",
        ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"],
        ["sg-0c3d4e5f607182930"],
    ),
    "prod": (
        "vpc-05e6f7a8b",
        ["subnet-09f8e7d6c5b4a3921", "subnet-08e7d6c5b4a392817"],
        ["sg-07d6c5b4a39281706"],
    ),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(STACKS)


def pipeline(run: StackRun, service: str) -> Resource:
    return run.recorder.one(PIPELINE, f"{service}-pipeline-pipeline")


def deploy_stage(run: StackRun, service: str) -> dict[str, Any]:
    [stage] = [s for s in pipeline(run, service).inputs["stages"] if s["name"] == "Deploy"]
    return stage


def project(run: StackRun, name: str) -> Resource:
    return next(r for r in run.recorder.of_type(PROJECT_TYPE) if r.inputs["name"] == name)


def statements(document: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def environment(action: dict[str, Any]) -> dict[str, str]:
    return {
        v["name"]: v["value"] for v in json.loads(action["configuration"]["EnvironmentVariables"])
    }


def test_the_names_cicd_reads_are_the_ones_the_pipeline_declares() -> None:
    assert (contract.CONFIGURE_ACTION, contract.RELEASE_TASK_ACTION, contract.DEPLOY_ARTIFACT) == (
        pipeline_component.CONFIGURE_ACTION,
        pipeline_component.RELEASE_TASK_ACTION,
        pipeline_component.DEPLOY_ARTIFACT,
    )
    assert (
        contract.CONFIG_SNAPSHOT_FILE,
        contract.DEPLOY_RECORDS_PREFIX,
        contract.UNSET_VALUE,
        contract.RELEASE_KIND_VARIABLE,
        contract.RELEASE_NOTE_VARIABLE,
        contract.TAG_REJECTED,
        contract.RELEASE_OPTIONS_FILE,
    ) == (
        release_config.SNAPSHOT_FILE,
        release_config.RECORDS_PREFIX,
        release_config.UNSET_VALUE,
        release_config.RELEASE_KIND_VARIABLE,
        release_config.RELEASE_NOTE_VARIABLE,
        release_config.TAG_REJECTED,
        release_config.RELEASE_OPTIONS_FILE,
    )
    assert release_config.ACTION == contract.CONFIGURE_ACTION
    assert release_config.OUTPUT_ARTIFACT == contract.DEPLOY_ARTIFACT


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_release_task_runs_once_before_the_deploy_action_on_the_pinned_release(
    runs: dict[str, StackRun], stack: str
) -> None:
    deploy = deploy_stage(runs[stack], "web")
    order = [(a["name"], a["provider"], a["runOrder"]) for a in deploy["actions"]]
    assert order == [
        ("Configure", "CodeBuild", 1),
        ("ReleaseTask", "CodeBuild", 2),
        ("web", "CodeDeploy", 3),
        ("verify-smoke", "CodeBuild", 4),
    ], "the migration runs before the new code takes traffic, once"
    configure, task, web, verify = deploy["actions"]
    assert configure["outputArtifacts"] == [contract.DEPLOY_ARTIFACT]
    assert (
        task["inputArtifacts"]
        == web["inputArtifacts"]
        == verify["inputArtifacts"]
        == [contract.DEPLOY_ARTIFACT]
    ), "the task migrates for the very release (and configuration) that is deployed"
    assert task["configuration"] == {"ProjectName": f"web-{stack}-release-task"}
    # A failed task fails the stage, which rolls back like any Deploy failure.
    assert deploy["onFailure"] == {"result": "ROLLBACK"}
    built = project(runs[stack], f"web-{stack}-release-task")
    assert built.inputs["source"]["buildspec"] == "buildspec-release.yml"
    vpc_id, subnets, groups = VPCS[stack]
    assert built.inputs["vpcConfig"] == {
        "vpcId": vpc_id,
        "subnets": subnets,
        "securityGroupIds": groups,
    }
    variables = {v["name"]: v["value"] for v in built.inputs["environment"]["environmentVariables"]}
    assert variables == {"SERVICE": "web", "STAGE": stack, "CONFIG_PATH": f"/web/{stack}"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_release_tasks_role_reads_exactly_its_services_configuration(
    runs: dict[str, StackRun], stack: str
) -> None:
    grants = statements(
        runs[stack].recorder.one(ROLE_POLICY, "web-release-task-policy").inputs["policy"]
    )
    path = f"{SSM}/web/{stack}"
    ssm = {sid: s for sid, s in grants.items() if any(a.startswith("ssm:") for a in s["Action"])}
    assert {sid: (s["Action"], s["Resource"]) for sid, s in ssm.items()} == {
        f"ListConfigWeb{stack.title()}": (["ssm:GetParametersByPath"], path),
        f"ReadConfigWeb{stack.title()}": (["ssm:GetParameters", "ssm:GetParameter"], f"{path}/*"),
    }
    # Its network interface goes only into the configured subnets, for CodeBuild only.
    _, subnets, groups = VPCS[stack]
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    permission = grants["LetCodeBuildUseTheInterface"]
    assert permission["Condition"] == {
        "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
        "ArnEquals": {"ec2:Subnet": sorted(f"{arn}:subnet/{s}" for s in subnets)},
    }
    assert grants["BuildNetworkInterface"]["Resource"] == [
        f"{arn}:network-interface/*",
        *sorted(f"{arn}:subnet/{s}" for s in subnets),
        *sorted(f"{arn}:security-group/{g}" for g in groups),
    ]


def test_a_service_without_a_release_task_deploys_right_after_its_configuration_is_pinned(
    runs: dict[str, StackRun],
) -> None:
    for stack, run in runs.items():
        names = [a["name"] for a in deploy_stage(run, "thumbnailer")["actions"]]
        assert names[:2] == ["Configure", "thumbnailer"], stack
    assert [a["name"] for a in deploy_stage(runs["dev"], "web")["actions"]] == ["Configure", "web"]
    assert not [
        r for r in runs["dev"].recorder.of_type(PROJECT_TYPE) if "release-task" in r.inputs["name"]
    ]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_pipeline_pins_its_services_configuration_and_declares_the_release_variables(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    for service in ("web", "thumbnailer"):
        declared = pipeline(run, service)
        assert declared.inputs["variables"] == [
            {
                "name": "RELEASE_KIND",
                "defaultValue": "code",
                "description": "code: a new build or release; config: a configuration change",
            },
            {
                "name": "RELEASE_NOTE",
                "defaultValue": "-",
                "description": "why this release runs (cicd config names the changed keys)",
            },
        ]
        configure = deploy_stage(run, service)["actions"][0]
        assert configure["configuration"]["ProjectName"] == f"{PROJECT}-{stack}-configure"
        assert configure["namespace"] == "ConfigVariables"
        variables = environment(configure)
        expected = {
            "PIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}",
            "PIPELINE_NAME": f"{service}-{stack}-pipeline",
            "SERVICE": service,
            "STAGE": stack,
            "CONFIG_PATH": f"/{service}/{stack}",
            "RELEASE_KIND": "#{variables.RELEASE_KIND}",
            "RELEASE_NOTE": "#{variables.RELEASE_NOTE}",
            "RECORD_BUCKET": run.recorder.one("aws:s3/bucket:Bucket", "artifacts-bucket").state[
                "bucket"
            ],
        }
        if stack == "prod":
            expected |= {
                "RELEASE_BUCKET": variables["RELEASE_BUCKET"],
                "RELEASE_KEY": f"releases/{service}/release.zip",
                "RELEASE_VERSION": "#{ReleaseSource.VersionId}",
            }
            assert variables["RELEASE_BUCKET"].startswith(f"{PROJECT}-staging-releases-")
        assert variables == expected
        exported = run.exports["services"][service]
        assert exported["config_path"] == f"/{service}/{stack}"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_configure_step_lists_the_stages_paths_and_reads_its_pipelines_and_no_value(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    grants = statements(
        run.recorder.one(ROLE_POLICY, "release-steps-configure-policy").inputs["policy"]
    )
    ssm = [s for s in grants.values() if any(a.startswith("ssm:") for a in s["Action"])]
    assert sorted((s["Action"][0], s["Resource"]) for s in ssm) == [
        ("ssm:GetParametersByPath", f"{SSM}/thumbnailer/{stack}"),
        ("ssm:GetParametersByPath", f"{SSM}/web/{stack}"),
    ], "names and versions only: no GetParameters, no decryption"
    assert not any(a.startswith("kms:Decrypt") for s in ssm for a in s["Action"])
    assert grants["ReadPipelineExecutions"]["Resource"] == sorted(
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{s}-{stack}-pipeline"
        for s in ("thumbnailer", "web")
    )
    tags = grants.get("ReadReleaseTags")
    if stack == "prod":
        assert tags is not None
        assert [r.rsplit("/", 2)[-2:] for r in tags["Resource"]] == [
            ["thumbnailer", "release.zip"],
            ["web", "release.zip"],
        ]
    else:
        assert tags is None, "nothing is promoted here"


def test_prods_describe_step_checks_the_release_for_a_rejection_before_the_approval(
    runs: dict[str, StackRun],
) -> None:
    run = runs["prod"]
    for service in ("web", "thumbnailer"):
        [approval] = [s for s in pipeline(run, service).inputs["stages"] if s["name"] == "Approval"]
        describe, approve = approval["actions"]
        assert (describe["runOrder"], approve["runOrder"]) == (1, 2)
        variables = environment(describe)
        assert variables["RELEASE_KEY"] == f"releases/{service}/release.zip"
        assert variables["RELEASE_VERSION"] == "#{ReleaseSource.VersionId}"
    grants = statements(
        run.recorder.one(ROLE_POLICY, "release-steps-describe-policy").inputs["policy"]
    )
    assert grants["ReadReleaseTags"]["Action"] == [
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
    ]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_each_service_gets_a_reader_policy_for_exactly_its_path(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    for service in ("web", "thumbnailer"):
        declared = run.recorder.one(POLICY, f"{service}-config-readers")
        assert declared.inputs["name"] == f"{service}-{stack}-config-readers"
        grants = statements(declared.inputs["policy"])
        path = f"{SSM}/{service}/{stack}"
        assert {sid: s["Resource"] for sid, s in grants.items()} == {
            f"ListConfig{service.title()}{stack.title()}": path,
            f"ReadConfig{service.title()}{stack.title()}": f"{path}/*",
        }, "the samples use aws/ssm: no key grant"


def _with(stack: str, change: Any) -> dict[str, str]:
    flat, _ = flatten_stack_config(STACKS[stack])
    services = json.loads(flat[f"{PROJECT}:services"])
    change(services)
    flat[f"{PROJECT}:services"] = json.dumps(services)
    return flat


def test_config_mistakes_of_the_new_keys_are_all_reported_at_once(
    runs: dict[str, StackRun],
) -> None:
    def break_everything(services: list[dict[str, Any]]) -> None:
        web, thumbnailer = services
        web["runtime_config"] = {"path": "/web/staging/", "kms_key_arn": "alias/web"}
        thumbnailer["runtime_config"] = {"path": "/aws/thumbnailer"}
        web["deploy"]["release_task"] = {
            "vpc": {"vpc_id": "vpc-1", "subnet_ids": [], "security_group_ids": ["sg-x"]},
            "environment": {"DB_PASSWORD": "hunter2"},
            "timeout_minutes": 1,
        }

    with pytest.raises(ConfigError) as raised:
        run_program("staging", _with("staging", break_everything))
    message = str(raised.value)
    for key, why in (
        ("services[0].runtime_config.path", "String should match pattern"),
        ("services[0].runtime_config.kms_key_arn", "String should match pattern"),
        ("services[1].runtime_config.path", "must not start with aws or ssm"),
        ("services[0].deploy.release_task.vpc.vpc_id", "String should match pattern"),
        ("services[0].deploy.release_task.vpc.subnet_ids", "at least 1 item"),
        ("services[0].deploy.release_task.vpc.security_group_ids[0]", "String should match"),
        ("services[0].deploy.release_task.timeout_minutes", "greater than or equal to 5"),
        ("services[0].deploy.release_task.environment.DB_PASSWORD", "looks like a secret"),
    ):
        assert f"{PROJECT}:{key}:" in message and why in message, (key, message)
    assert "nothing was deployed" in message


def test_two_services_cannot_read_each_others_configuration(runs: dict[str, StackRun]) -> None:
    def nest(services: list[dict[str, Any]]) -> None:
        services[0]["runtime_config"] = {"path": "/shop"}
        services[1]["runtime_config"] = {"path": "/shop/thumbnailer"}

    with pytest.raises(
        ConfigError,
        match=r"services\[1\]\.runtime_config\.path: /shop/thumbnailer lies under web's path /shop",
    ):
        run_program("dev", _with("dev", nest))

    def share(services: list[dict[str, Any]]) -> None:
        for service in services:
            service["runtime_config"] = {"path": "/shop"}

    with pytest.raises(ConfigError, match=r"/shop is also thumbnailer's configuration path"):
        run_program("dev", _with("dev", share))
