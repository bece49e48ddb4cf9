"""Settings the program passes on to the components, for keys the sample stack files leave at
their defaults: each changed in a copy of a sample and followed to the resource it reaches.

Found by `make mutation`: a mutant of `stack/program.py` that dropped or renamed these passed
the whole suite, because every sample takes the default.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest

from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    ROOT,
    StackRun,
    flatten_stack_config,
    iter_stacks,
    qualified_stack,
    run_program,
    run_stacks,
)

NS = PROJECT
PROJECT_TYPE = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BRANCH_POLICY = (
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
)
STACKS = dict(iter_stacks())


def staging_with(edit: Any) -> StackRun:
    flat, secrets = flatten_stack_config(ROOT / "Pulumi.staging.yaml")
    services = json.loads(flat[f"{NS}:services"])
    edit(services[0])
    flat[f"{NS}:services"] = json.dumps(services)
    return run_program("staging", flat, secrets)


def build_project(run: StackRun) -> dict[str, Any]:
    return next(
        r.inputs
        for r in run.recorder.of_type(PROJECT_TYPE)
        if r.inputs["name"] == "web-staging-build"
    )


def test_build_variables_of_every_kind_reach_the_build_project_with_their_type() -> None:
    def edit(web: dict[str, Any]) -> None:
        web["build"]["environment"].update(
            LOG_LEVEL={"value": "debug"}, FEATURE_FLAGS={"parameter": "/web/staging/flags"}
        )

    variables = {
        v["name"]: (v["type"], v["value"])
        for v in build_project(staging_with(edit))["environment"]["environmentVariables"]
    }
    assert variables["LOG_LEVEL"] == ("PLAINTEXT", "debug")
    assert variables["FEATURE_FLAGS"] == ("PARAMETER_STORE", "/web/staging/flags")
    assert variables["NPM_TOKEN"][0] == "SECRETS_MANAGER"


def test_the_build_image_given_is_the_one_the_build_project_runs() -> None:
    image = "aws/codebuild/amazonlinux-x86_64-standard:4.0"
    run = staging_with(lambda web: web["build"].update(image=image))
    assert build_project(run)["environment"]["image"] == image


def statements(policy: str) -> dict[str, dict[str, Any]]:
    """A policy document's statements by Sid."""
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def role_policy(run: StackRun, name: str) -> dict[str, dict[str, Any]]:
    return statements(run.recorder.one(ROLE_POLICY, name).inputs["policy"])


@pytest.fixture(scope="module")
def samples() -> dict[str, StackRun]:
    """Every sample stack file as it is, upstream stages first."""
    return run_stacks(STACKS)


# staging with three defaults the samples never take changed at once (they touch disjoint keys):
# web's config path left to its default, a self-managed state backend, two deploy branches.
STATE_BUCKET_ARN = "arn:aws:s3:::acme-pulumi-state"
DEPLOY_BRANCHES = ["main", "release/*"]


@pytest.fixture(scope="module")
def staging_changed() -> StackRun:
    flat, secrets = flatten_stack_config(STACKS["staging"])
    services = json.loads(flat[f"{NS}:services"])
    assert services[0]["name"] == "web"
    del services[0]["runtime_config"]["path"]
    flat[f"{NS}:services"] = json.dumps(services)
    github = json.loads(flat[f"{NS}:github"])
    assert github["manage_repository"] is True, "the repository side must be managed here"
    github.update(state_bucket_arn=STATE_BUCKET_ARN, deploy_branches=DEPLOY_BRANCHES)
    flat[f"{NS}:github"] = json.dumps(github)
    return run_program("staging", flat, secrets)


def test_a_services_default_config_path_is_the_one_the_configure_step_may_list(
    staging_changed: StackRun,
) -> None:
    ssm = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter"
    grants = role_policy(staging_changed, "release-steps-configure-policy")
    listed = sorted(
        s["Resource"] for s in grants.values() if s["Action"] == ["ssm:GetParametersByPath"]
    )
    # web has no runtime_config.path: its default, /<service>/<stage>.
    assert listed == [f"{ssm}/thumbnailer/staging", f"{ssm}/web/staging"]
    assert staging_changed.exports["services"]["web"]["config_path"] == "/web/staging"


def test_the_state_bucket_given_is_the_one_the_github_actions_roles_may_use(
    staging_changed: StackRun,
) -> None:
    run = staging_changed
    preview_role = run.recorder.one(ROLE, "github-actions-preview-role")
    preview = run.recorder.one(ROLE_POLICY, "github-actions-preview-state")
    assert preview.inputs["role"] == preview_role.inputs["name"]
    grants = statements(preview.inputs["policy"])
    assert grants["StateBucket"]["Resource"] == STATE_BUCKET_ARN
    assert grants["StateObjectsRead"]["Resource"] == f"{STATE_BUCKET_ARN}/*"
    deploy = role_policy(run, "github-actions-deploy-permissions")
    assert deploy["StateBucket"]["Resource"] == STATE_BUCKET_ARN
    assert deploy["StateObjects"]["Resource"] == f"{STATE_BUCKET_ARN}/*"


def test_the_deploy_branches_given_are_the_ones_the_github_environment_deploys_from(
    staging_changed: StackRun,
) -> None:
    policies = staging_changed.recorder.of_type(BRANCH_POLICY)
    assert sorted(p.inputs["branchPattern"] for p in policies) == DEPLOY_BRANCHES
    assert {p.inputs["environment"] for p in policies} == {"staging"}


def test_prod_warns_naming_a_promoted_service_staging_does_not_publish(
    samples: dict[str, StackRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warnings.append(message))
    staging = copy.deepcopy(samples["staging"].exports)
    assert staging["releases"]["services"] == ["web", "thumbnailer"]
    staging["releases"]["services"] = ["web"]
    flat, secrets = flatten_stack_config(STACKS["prod"])
    run_program("prod", flat, secrets, {qualified_stack("staging"): staging})
    assert (
        f"stack {qualified_stack('staging')} does not publish thumbnailer; "
        "those pipelines wait until it does"
    ) in warnings


def test_an_upstream_named_by_bucket_and_key_is_read_and_decrypted_from_them() -> None:
    bucket = "acme-staging-releases"
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    flat, secrets = flatten_stack_config(STACKS["prod"])
    flat[f"{NS}:upstreams"] = json.dumps({"staging": {"bucket": bucket, "kms_key_arn": key}})
    run = run_program("prod", flat, secrets)
    assert not run.recorder.of_type("pulumi:pulumi:StackReference")
    for service in ("web", "thumbnailer"):
        grants = role_policy(run, f"{service}-pipeline-policy")
        assert grants["ReadRelease"]["Resource"] == (
            f"arn:aws:s3:::{bucket}/releases/{service}/release.zip"
        ), service
        assert grants["DecryptRelease"] == {
            "Sid": "DecryptRelease",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key,
        }, service


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_each_sample_exports_its_github_preview_roles_arn(
    samples: dict[str, StackRun], stack: str
) -> None:
    run = samples[stack]
    preview = run.recorder.one(ROLE, "github-actions-preview-role")
    deploy = run.recorder.one(ROLE, "github-actions-deploy-role")
    assert preview.state["arn"].endswith(f"/{PROJECT}-{stack}-gha-preview")
    assert run.exports["github_preview_role_arn"] == preview.state["arn"]
    assert run.exports["github_deploy_role_arn"] == deploy.state["arn"]
    assert preview.state["arn"] != deploy.state["arn"]


def test_prods_describe_step_may_read_the_executions_of_the_staging_pipelines_it_promotes_from(
    samples: dict[str, StackRun],
) -> None:
    # The approval's evidence (verification, bake) is read from the same-account upstream's runs.
    policy = role_policy(samples["prod"], "release-steps-describe-policy")
    read = policy["ReadPipelineExecutions"]["Resource"]
    for service in ("web", "thumbnailer"):
        arn = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{service}-staging-pipeline"
        assert arn in read, f"prod's describe step cannot read {arn}"


def test_an_alb_targets_analysis_measures_cloudwatchs_targetgroup_and_loadbalancer_dimensions() -> (
    None
):
    # AWS/ApplicationELB's per-target-group metrics carry both dimensions, by these names
    # (ELB User Guide for Application Load Balancers, "CloudWatch metrics").
    from stack.config.deploy import DeployTarget
    from stack.program import analysis_dimensions

    target = DeployTarget.model_validate(
        {
            "name": "web",
            "autoscaling_groups": ["web-asg"],
            "load_balancer": {
                "target_group": "web-prod",
                "target_group_arn_suffix": "targetgroup/web-prod/73e2d6bc24d8a067",
                "load_balancer_arn_suffix": "app/web-prod/50dc6c495c0c9188",
            },
        }
    )
    assert analysis_dimensions(target) == {
        "TargetGroup": "targetgroup/web-prod/73e2d6bc24d8a067",
        "LoadBalancer": "app/web-prod/50dc6c495c0c9188",
    }
