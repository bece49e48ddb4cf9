"""Connection, artifact store, build projects and CodeDeploy, each used on its own."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.artifact_store import ArtifactStore
from components.build_project import BuildProject
from components.connection import GitHubConnection
from components.deployment import Deployment
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

BUCKET_ARN = "arn:aws:s3:::shared-artifacts"


def policy(resource: Any, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def statements_by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


# Connection ---------------------------------------------------------------------------------


def test_a_new_connection_is_a_github_connection_with_naming_tags(mocks: Recorder) -> None:
    outputs: dict[str, Any] = {}

    def program() -> Any:
        c = GitHubConnection("gh", {"service": "web", "stage": "dev"})
        return pulumi.Output.all(c.arn, c.status, c.console_url).apply(
            lambda v: outputs.update(arn=v[0], status=v[1], url=v[2])
        )

    run_pulumi(program)
    connection = mocks.one("aws:codeconnections/connection:Connection")
    assert connection.inputs["providerType"] == "GitHub"
    assert connection.inputs["name"] == "web-dev-github"
    assert connection.inputs["tags"]["cicd:stage"] == "dev"
    assert outputs["status"] == "PENDING"
    assert (
        outputs["url"]
        == f"https://console.aws.amazon.com/codesuite/settings/connections?region={REGION}"
    )
    assert connection.protect is False


def test_an_existing_connection_is_read_not_created(mocks: Recorder) -> None:
    arn = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/abc"
    run_pulumi(
        lambda: (
            GitHubConnection(
                "gh", {"service": "web", "stage": "prod", "existing_connection_arn": arn}
            ).arn
        )
    )
    connection = mocks.one("aws:codeconnections/connection:Connection")
    assert connection.read, "an existing connection is read with .get, not created"
    assert connection.state["arn"] == arn
    assert connection.urn.endswith("::gh-connection")


def test_connection_name_and_existing_arn_together_are_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="not both"):
        run_pulumi(
            lambda: GitHubConnection(
                "gh",
                {
                    "service": "web",
                    "stage": "dev",
                    "existing_connection_arn": "arn",
                    "connection_name": "x",
                },
            )
        )


# Artifact store -----------------------------------------------------------------------------


def test_artifact_bucket_is_private_encrypted_versioned_tls_only_and_expires(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: (
            ArtifactStore(
                "art", {"service": "web", "stage": "dev", "force_destroy": True}
            ).bucket_arn
        )
    )
    bucket = mocks.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == f"web-dev-artifacts-{ACCOUNT}-{REGION}"
    assert bucket.inputs["forceDestroy"] is True
    block = mocks.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    ownership = mocks.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    versioning = mocks.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    sse = mocks.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "AES256"}
    rule = mocks.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ][0]
    assert rule["expiration"]["days"] == 30
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 7
    statement = policy(mocks.one("aws:s3/bucketPolicy:BucketPolicy"))["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert bucket.protect is False


def test_a_kms_key_switches_the_bucket_to_sse_kms(mocks: Recorder) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    run_pulumi(
        lambda: (
            ArtifactStore("art", {"service": "web", "stage": "prod", "kms_key_arn": key}).bucket_arn
        )
    )
    sse = mocks.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}


def test_a_protected_bucket_is_protected_and_retained(mocks: Recorder) -> None:
    run_pulumi(
        lambda: (
            ArtifactStore("art", {"service": "web", "stage": "prod", "protect": True}).bucket_arn
        )
    )
    bucket = mocks.one("aws:s3/bucket:Bucket")
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert bucket.inputs["forceDestroy"] is False


def test_protect_with_force_destroy_is_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="force_destroy=False"):
        run_pulumi(
            lambda: ArtifactStore(
                "art", {"service": "web", "stage": "prod", "protect": True, "force_destroy": True}
            )
        )


# Build projects -----------------------------------------------------------------------------


def make_build(**extra: Any) -> Any:
    args: dict[str, Any] = {
        "service": "web",
        "stage": "dev",
        "role": "build",
        "artifact_bucket_arn": BUCKET_ARN,
        "artifact_bucket_name": "shared-artifacts",
        **extra,
    }
    return BuildProject("b", args).project_arn  # type: ignore[arg-type]


def test_build_project_reads_its_buildspec_from_the_repo_and_runs_unprivileged(
    mocks: Recorder,
) -> None:
    run_pulumi(lambda: make_build(buildspec="ci/build.yml", timeout_minutes=20))
    project = mocks.one("aws:codebuild/project:Project")
    assert project.inputs["name"] == "web-dev-build"
    assert project.inputs["source"] == {"type": "CODEPIPELINE", "buildspec": "ci/build.yml"}
    assert project.inputs["artifacts"] == {"type": "CODEPIPELINE"}
    assert project.inputs["environment"]["privilegedMode"] is False
    assert project.inputs["environment"]["computeType"] == "BUILD_GENERAL1_SMALL"
    assert project.inputs["buildTimeout"] == 20
    assert project.inputs["cache"]["type"] == "LOCAL"
    log_group = mocks.one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["name"] == "/aws/codebuild/web-dev-build"
    assert (
        project.inputs["logsConfig"]["cloudwatchLogs"]["groupName"]
        == "/aws/codebuild/web-dev-build"
    )
    assert log_group.inputs["retentionInDays"] == 14


def test_build_variables_keep_secrets_as_references(mocks: Recorder) -> None:
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:npm-AbCdEf"
    run_pulumi(
        lambda: make_build(
            environment=[
                {"name": "MODE", "type": "PLAINTEXT", "value": "fast"},
                {"name": "API_URL", "type": "PARAMETER_STORE", "value": "/web/dev/api"},
                {"name": "NPM_TOKEN", "type": "SECRETS_MANAGER", "value": secret},
            ]
        )
    )
    variables = {
        v["name"]: (v["type"], v["value"])
        for v in mocks.one("aws:codebuild/project:Project").inputs["environment"][
            "environmentVariables"
        ]
    }
    assert variables["NPM_TOKEN"] == ("SECRETS_MANAGER", secret)
    assert variables["API_URL"] == ("PARAMETER_STORE", "/web/dev/api")
    assert variables["SERVICE"] == ("PLAINTEXT", "web")
    grants = statements_by_sid(policy(mocks.one("aws:iam/rolePolicy:RolePolicy")))
    assert grants["ReferencedSecrets"]["Resource"] == [secret]
    assert grants["ReferencedSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert grants["ReferencedParameters"]["Resource"] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/web/dev/api"
    ]


def test_build_role_is_scoped_to_its_own_logs_reports_and_the_artifact_bucket(
    mocks: Recorder,
) -> None:
    run_pulumi(lambda: make_build(cache="s3"))
    grants = statements_by_sid(policy(mocks.one("aws:iam/rolePolicy:RolePolicy")))
    assert grants["OwnLogs"]["Resource"].endswith(
        "log-group:/aws/codebuild/web-dev-build:log-stream:*"
    )
    assert grants["OwnTestReports"]["Resource"] == (
        f"arn:aws:codebuild:{REGION}:{ACCOUNT}:report-group/web-dev-build-*"
    )
    assert grants["ArtifactObjectsWrite"]["Resource"] == f"{BUCKET_ARN}/*"
    assert grants["OwnCache"]["Resource"] == f"{BUCKET_ARN}/cache/web-dev-build/*"
    assert "ReferencedSecrets" not in grants
    trust = policy(mocks.one("aws:iam/role:Role"), "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/web-dev-build"
    }
    project = mocks.one("aws:codebuild/project:Project")
    assert project.inputs["cache"] == {
        "type": "S3",
        "location": "shared-artifacts/cache/web-dev-build",
    }


def test_privileged_mode_is_only_on_when_asked(mocks: Recorder) -> None:
    run_pulumi(lambda: make_build(privileged=True))
    assert (
        mocks.one("aws:codebuild/project:Project").inputs["environment"]["privilegedMode"] is True
    )


# CodeDeploy ---------------------------------------------------------------------------------


def make_deployment(**extra: Any) -> Any:
    args: dict[str, Any] = {
        "service": "web",
        "stage": "staging",
        "platform": "server",
        "targets": [
            {
                "name": "web",
                "ec2_tag_filters": [{"key": "app", "value": "web"}],
                "autoscaling_groups": ["web-asg"],
            }
        ],
    }
    args.update(extra)
    return Deployment("d", args).deployment_group_names  # type: ignore[arg-type]


def test_server_groups_use_tag_sets_asgs_and_roll_back_on_failure(mocks: Recorder) -> None:
    run_pulumi(lambda: make_deployment(strategy="CodeDeployDefault.HalfAtATime"))
    app = mocks.one("aws:codedeploy/application:Application")
    assert app.inputs["computePlatform"] == "Server"
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["deploymentGroupName"] == "web-staging-web"
    assert group.inputs["deploymentConfigName"] == "CodeDeployDefault.HalfAtATime"
    assert group.inputs["ec2TagSets"] == [
        {"ec2TagFilters": [{"key": "app", "value": "web", "type": "KEY_AND_VALUE"}]}
    ]
    assert group.inputs["autoscalingGroups"] == ["web-asg"]
    assert group.inputs["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE"],
    }
    assert "alarmConfiguration" not in group.inputs
    role = mocks.one("aws:iam/role:Role")
    assert role.inputs["managedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
    ]


def test_alarms_stop_and_roll_back_deployments(mocks: Recorder) -> None:
    run_pulumi(lambda: make_deployment(alarm_names=["web-5xx"]))
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["alarmConfiguration"]["alarms"] == ["web-5xx"]
    assert group.inputs["alarmConfiguration"]["enabled"] is True
    assert group.inputs["autoRollbackConfiguration"]["events"] == [
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
    ]


def test_disabled_rollback_is_sent_explicitly(mocks: Recorder) -> None:
    run_pulumi(lambda: make_deployment(auto_rollback=False))
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["autoRollbackConfiguration"] == {"enabled": False, "events": []}


@pytest.mark.parametrize(
    ("platform", "targets", "expected"),
    [
        ("server", None, "CodeDeployDefault.AllAtOnce"),
        (
            "lambda",
            [{"name": "fn", "function_name": "thumb", "alias": "live"}],
            "CodeDeployDefault.LambdaAllAtOnce",
        ),
    ],
)
def test_without_a_strategy_each_platform_deploys_all_at_once(
    mocks: Recorder, platform: str, targets: list[dict[str, str]] | None, expected: str
) -> None:
    """The default docs/configuration.md documents ("platform's all-at-once")."""
    extra: dict[str, Any] = {"platform": platform}
    if targets:
        extra["targets"] = targets
    run_pulumi(lambda: make_deployment(**extra))
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup").inputs
    assert group["deploymentConfigName"] == expected
    application = mocks.one("aws:codedeploy/application:Application").inputs
    assert application["name"] == "web-staging"


def test_minimum_healthy_hosts_creates_a_custom_config_used_by_the_group(mocks: Recorder) -> None:
    run_pulumi(
        lambda: make_deployment(minimum_healthy_hosts={"type": "FLEET_PERCENT", "value": 75})
    )
    config = mocks.one("aws:codedeploy/deploymentConfig:DeploymentConfig")
    assert config.inputs["deploymentConfigName"] == "web-staging-min-healthy"
    assert config.inputs["computePlatform"] == "Server"
    assert config.inputs["minimumHealthyHosts"] == {"type": "FLEET_PERCENT", "value": 75}
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["deploymentConfigName"] == "d-config-id"


def test_blue_green_copies_the_auto_scaling_group_and_shifts_the_target_group(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: make_deployment(
            targets=[
                {
                    "name": "web",
                    "autoscaling_groups": ["web-asg"],
                    "target_group": "web-tg",
                    "blue_green": {"terminate_blue_after_minutes": 30},
                }
            ]
        )
    )
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup").inputs
    assert group["deploymentStyle"] == {
        "deploymentType": "BLUE_GREEN",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert group["loadBalancerInfo"] == {"targetGroupInfos": [{"name": "web-tg"}]}
    config = group["blueGreenDeploymentConfig"]
    # CodePipeline's CodeDeploy action cannot name green instances: CodeDeploy copies the ASG.
    assert config["greenFleetProvisioningOption"] == {"action": "COPY_AUTO_SCALING_GROUP"}
    # CodeDeploy records the copy as the group's ASG after each release; Pulumi leaves it.
    resource = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert resource.ignore_changes == ["autoscalingGroups"]
    assert config["terminateBlueInstancesOnDeploymentSuccess"] == {
        "action": "TERMINATE",
        "terminationWaitTimeInMinutes": 30,
    }
    assert mocks.one("aws:iam/rolePolicy:RolePolicy").name == "d-blue-green"


def test_lambda_groups_use_the_lambda_platform_and_its_managed_policy(mocks: Recorder) -> None:
    run_pulumi(
        lambda: make_deployment(
            platform="lambda",
            strategy="CodeDeployDefault.LambdaCanary10Percent5Minutes",
            targets=[{"name": "fn", "function_name": "thumb", "alias": "live"}],
        )
    )
    assert mocks.one("aws:codedeploy/application:Application").inputs["computePlatform"] == "Lambda"
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup").inputs
    assert group["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
    assert mocks.one("aws:iam/role:Role").inputs["managedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
    ]


def test_rollback_on_alarm_without_alarms_is_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="rollback_on_alarm=True needs alarm_names"):
        run_pulumi(lambda: make_deployment(rollback_on_alarm=True))


def test_the_default_alarm_count_the_limits_assume_is_what_release_alarms_creates(
    mocks: Recorder,
) -> None:
    from components.limits import DEFAULT_ALARMS_PER_TARGET
    from components.release_alarms import ReleaseAlarms

    def program() -> Any:
        ReleaseAlarms(
            "alb",
            {
                "service": "web",
                "stage": "qa",
                "target_group_arn_suffix": "targetgroup/web/1",
                "load_balancer_arn_suffix": "app/web/2",
            },
        )
        ReleaseAlarms("fn", {"service": "fn", "stage": "qa", "function_name": "f", "alias": "live"})

    run_pulumi(program)
    alarms = mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    for prefix in ("alb-", "fn-"):
        assert len([a for a in alarms if a.name.startswith(prefix)]) == DEFAULT_ALARMS_PER_TARGET
