"""Every stack file in the repo, run through the real `__main__.py` under Pulumi's mocks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stack.config import ConfigError
from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    ROOT,
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
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
APP = "aws:codedeploy/application:Application"
SNAPSHOT = ROOT / "tests" / "snapshots" / "stateful_urns.json"
# Types holding data or identity that must survive a refactor: a renamed logical name would
# replace them (a new bucket, a new connection needing a new GitHub handshake, a new topic
# whose subscribers must confirm again).
STATEFUL = {
    "aws:s3/bucket:Bucket",
    "aws:codeconnections/connection:Connection",
    "aws:sns/topic:Topic",
    "aws:kms/key:Key",
    "aws:cloudwatch/logGroup:LogGroup",
    PIPELINE,
    # The delivery reporter's token and the events waiting in its dead-letter queue.
    "aws:secretsmanager/secret:Secret",
    "aws:sqs/queue:Queue",
}
UNTAGGABLE = {
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:cloudwatch/eventPermission:EventPermission",
    "aws:kms/alias:Alias",
    "aws:s3/bucketNotification:BucketNotification",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:codedeploy/deploymentConfig:DeploymentConfig",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sns/topicSubscription:TopicSubscription",
    # The delivery reporter's and the dashboard's: these types take no tags in AWS.
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:lambda/permission:Permission",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:cloudwatch/dashboard:Dashboard",
}


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    """Each stack evaluated once for the whole module (about a second each), upstream first."""
    return run_stacks(STACKS)


def pipelines(run: StackRun) -> dict[str, Resource]:
    """The release pipelines by service (pull-request pipelines, which release nothing, apart)."""
    return {
        r.inputs["name"].removesuffix(f"-{stage_of(run)}-pipeline"): r
        for r in run.recorder.of_type(PIPELINE)
        if "cicd:pipeline-kind" not in r.inputs["tags"]
    }


def stage_of(run: StackRun) -> str:
    return run.recorder.of_type(PIPELINE)[0].inputs["tags"]["cicd:stage"]


def deploy_action(pipeline: Resource, provider: str) -> dict[str, Any]:
    """The first action of the Deploy stage with this provider (CodeDeploy, Lambda)."""
    actions = [a for a in stage(pipeline, "Deploy")["actions"] if a["provider"] == provider]
    assert actions, f"{pipeline.inputs['name']}: no {provider} action in Deploy"
    return actions[0]


def stage(pipeline: Resource, name: str) -> dict[str, Any]:
    found = [s for s in pipeline.inputs["stages"] if s["name"] == name]
    assert found, f"{pipeline.inputs['name']} has no {name} stage"
    return found[0]


def stage_names(pipeline: Resource) -> list[str]:
    return [s["name"] for s in pipeline.inputs["stages"]]


def test_there_is_one_stack_file_per_environment() -> None:
    assert set(STACKS) == {"dev", "staging", "prod"}


# The stage layout of every sample pipeline: the flow the product exists for. dev builds
# `develop`; staging builds `main` once, verifies it with test traffic and publishes what it
# proved; prod builds nothing, and deploys what staging published after an approval.
LAYOUT = {
    "dev": ["Source", "Build", "Test", "Deploy"],
    "staging": ["Source", "Build", "Test", "Deploy", "Publish"],
    "prod": ["Source", "Approval", "Deploy"],
}


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_each_stack_declares_a_complete_chain_per_service(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    by_service = pipelines(run)
    assert set(by_service) == {"web", "thumbnailer"}
    for service, pipeline in by_service.items():
        assert pipeline.inputs["pipelineType"] == "V2"
        assert stage_names(pipeline) == LAYOUT[stack], service
        assert run.exports["services"][service]["pipeline_name"] == f"{service}-{stack}-pipeline"
    connections = run.recorder.of_type("aws:codeconnections/connection:Connection")
    assert len(connections) == (0 if stack == "prod" else 1), "prod reads no GitHub"
    artifact_buckets = [
        b
        for b in run.recorder.of_type("aws:s3/bucket:Bucket")
        if "artifacts" in b.name and "pr-artifacts" not in b.name
    ]
    assert len(artifact_buckets) == 1, "one artifact bucket shared by services"
    # Pull-request runs keep theirs apart, one bucket per service that tests pull requests.
    pr_buckets = [
        b.name for b in run.recorder.of_type("aws:s3/bucket:Bucket") if "pr-art" in b.name
    ]
    assert pr_buckets == (["web-pr-artifacts-bucket"] if stack == "staging" else [])
    assert run.exports["github_deploy_role_arn"].endswith(
        f":role/{PROJECT}/{PROJECT}-{stack}-gha-deploy"
    )


@pytest.mark.parametrize("stack", [s for s in sorted(STACKS) if "Build" in LAYOUT[s]])
def test_pipeline_actions_are_wired_to_the_created_resources(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    rec = run.recorder
    connection = rec.one("aws:codeconnections/connection:Connection")
    bucket = rec.one("aws:s3/bucket:Bucket", "artifacts-bucket")
    project_names = {r.inputs["name"] for r in rec.of_type(PROJECT_TYPE)}
    for service, pipeline in pipelines(run).items():
        source = stage(pipeline, "Source")["actions"][0]
        assert source["configuration"]["ConnectionArn"] == connection.state["arn"], service
        assert source["configuration"]["BranchName"] == ("develop" if stack == "dev" else "main")
        assert source["configuration"]["FullRepositoryId"] == f"acme/{service}"
        assert pipeline.inputs["artifactStores"][0]["location"] == bucket.state["bucket"]
        # The source scan, when configured, runs beside these two (tests/test_pull_requests_scan.py).
        build, package = [a for a in stage(pipeline, "Build")["actions"] if a["name"] != "Scan"]
        assert build["configuration"]["ProjectName"] == f"{service}-{stack}-build"
        assert build["configuration"]["ProjectName"] in project_names
        assert build["outputArtifacts"] == ["BuildArtifact"]
        # The manifest is added after the build, before anything deploys the artifact.
        assert (package["name"], package["runOrder"]) == ("Package", 2)
        assert package["configuration"]["ProjectName"] == f"{PROJECT}-{stack}-package"
        assert package["configuration"]["ProjectName"] in project_names
        scanned = service == "web" and stack == "staging"
        assert (package["inputArtifacts"], package["outputArtifacts"]) == (
            ["BuildArtifact", "ScanArtifact"] if scanned else ["BuildArtifact"],
            ["ReleaseArtifact"],
        )
        configure, *rest = stage(pipeline, "Deploy")["actions"]
        # Configure takes the release and hands on the release with its pinned configuration,
        # which everything after it in Deploy takes.
        assert (configure["name"], configure["runOrder"]) == ("Configure", 1)
        assert (configure["inputArtifacts"], configure["outputArtifacts"]) == (
            ["ReleaseArtifact"],
            ["DeployArtifact"],
        )
        assert configure["configuration"]["ProjectName"] == f"{PROJECT}-{stack}-configure"
        assert configure["configuration"]["ProjectName"] in project_names
        for action in rest:
            assert action["inputArtifacts"] == ["DeployArtifact"], action["name"]
        for test in stage(pipeline, "Test")["actions"]:
            assert test["configuration"]["ProjectName"] == f"{service}-{stack}-test-{test['name']}"
            assert test["configuration"]["ProjectName"] in project_names
            assert test["runOrder"] == 1, "suites run in parallel"
        trigger = pipeline.inputs["triggers"][0]["gitConfiguration"]
        assert trigger["sourceActionName"] == source["name"]
        assert trigger["pushes"][0]["branches"]["includes"] == [
            source["configuration"]["BranchName"]
        ]
        role = next(
            r for r in rec.of_type("aws:iam/role:Role") if r.name == f"{service}-pipeline-role"
        )
        assert pipeline.inputs["roleArn"] == role.state["arn"]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_deploy_actions_name_the_created_codedeploy_app_and_groups(
    runs: dict[str, StackRun], stack: str
) -> None:
    rec = runs[stack].recorder
    web = pipelines(runs[stack])["web"]
    action = deploy_action(web, "CodeDeploy")
    app = rec.one(APP, "web-deploy-app")
    group = rec.one(GROUP, "web-deploy-web")
    assert action["configuration"]["ApplicationName"] == app.state["name"] == f"web-{stack}"
    assert action["configuration"]["DeploymentGroupName"] == group.inputs["deploymentGroupName"]
    assert group.inputs["appName"] == app.state["name"]
    lambda_action = deploy_action(pipelines(runs[stack])["thumbnailer"], "Lambda")
    assert lambda_action["configuration"]["FunctionName"] == f"thumbnailer-{stack}"
    assert lambda_action["configuration"]["FunctionAlias"] == "live"
    assert rec.one(APP, "thumbnailer-deploy-app").inputs["computePlatform"] == "Lambda"


def test_environments_differ_the_way_real_ones_do(runs: dict[str, StackRun]) -> None:
    def web(stack: str) -> Resource:
        return pipelines(runs[stack])["web"]

    def config_of(stack: str) -> str:
        return runs[stack].recorder.one(GROUP, "web-deploy-web").inputs["deploymentConfigName"]

    assert config_of("dev") == "CodeDeployDefault.AllAtOnce"
    assert config_of("staging") == "CodeDeployDefault.HalfAtATime"
    assert config_of("prod") == "CodeDeployDefault.OneAtATime"
    assert "Approval" not in stage_names(web("dev"))
    assert "Approval" not in stage_names(web("staging"))
    assert "Approval" in stage_names(web("prod"))
    assert web("dev").inputs["executionMode"] == "SUPERSEDED"
    assert web("prod").inputs["executionMode"] == "QUEUED"
    retention = {
        stack: {
            r.inputs["retentionInDays"]
            for r in runs[stack].recorder.of_type("aws:cloudwatch/logGroup:LogGroup")
        }
        for stack in STACKS
    }
    assert retention == {"dev": {14}, "staging": {30}, "prod": {365}}
    lambda_strategy = {
        stack: deploy_action(pipelines(runs[stack])["thumbnailer"], "Lambda")["configuration"][
            "DeployStrategy"
        ]
        for stack in STACKS
    }
    assert lambda_strategy == {
        "dev": "AllAtOnce",
        "staging": "Linear10PercentEvery1Minute",
        "prod": "Canary10Percent5Minutes",
    }


def test_build_settings_from_config_reach_the_codebuild_projects(runs: dict[str, StackRun]) -> None:
    rec = runs["dev"].recorder
    functional = next(
        r for r in rec.of_type(PROJECT_TYPE) if r.inputs["name"] == "web-dev-test-functional"
    )
    assert functional.inputs["environment"]["computeType"] == "BUILD_GENERAL1_MEDIUM"
    assert functional.inputs["buildTimeout"] == 45
    assert functional.inputs["source"]["buildspec"] == "buildspec-functional.yml"
    build = next(r for r in rec.of_type(PROJECT_TYPE) if r.inputs["name"] == "web-dev-build")

    def variables(project: Resource) -> dict[str, tuple[str, str]]:
        return {
            v["name"]: (v["type"], v["value"])
            for v in project.inputs["environment"]["environmentVariables"]
        }

    assert variables(build) == {
        "SERVICE": ("PLAINTEXT", "web"),
        "NPM_TOKEN": (
            "SECRETS_MANAGER",
            "arn:aws:secretsmanager:eu-west-1:111111111111:secret:web/npm-token-AbCdEf",
        ),
    }, "a build that any stage may deploy carries no stage and no runtime values"
    assert variables(functional)["STAGE"] == ("PLAINTEXT", "dev"), "tests run in their stage"


def test_trigger_lifecycle_and_subscribers_follow_the_stack_file(runs: dict[str, StackRun]) -> None:
    dev_push = pipelines(runs["dev"])["web"].inputs["triggers"][0]["gitConfiguration"]["pushes"][0]
    assert dev_push["filePaths"] == {
        "includes": ["app/**", "scripts/**", "appspec.yml", "buildspec*.yml"]
    }
    staging_push = pipelines(runs["staging"])["web"].inputs["triggers"][0]["gitConfiguration"]
    assert "filePaths" not in staging_push["pushes"][0]
    assert staging_push["pushes"][0]["branches"] == {"includes": ["main"]}
    for service, pipeline in pipelines(runs["prod"]).items():
        assert not pipeline.inputs.get("triggers"), f"{service}: prod is started by releases"
    lifecycle = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    days = {
        stack: runs[stack]
        .recorder.one(lifecycle, "artifacts-lifecycle")
        .inputs["rules"][0]["expiration"]["days"]
        for stack in STACKS
    }
    assert days == {"dev": 14, "staging": 30, "prod": 90}
    prod = runs["prod"].recorder
    emails = sorted(
        r.inputs["endpoint"] for r in prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    )
    assert emails == [
        "media-team@example.com",
        "release-managers@example.com",
        "web-team@example.com",
    ]
    slack = prod.one("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration").inputs
    assert (slack["slackTeamId"], slack["slackChannelId"]) == ("T07EA123LEP", "C07EZ1ABC23")


def test_production_approval_names_the_commit_and_links_to_it(runs: dict[str, StackRun]) -> None:
    prod = runs["prod"].recorder
    describe, approve = stage(pipelines(runs["prod"])["web"], "Approval")["actions"]
    # The release's manifest is read first: an S3 source alone knows no commit.
    assert (describe["name"], describe["provider"], describe["runOrder"]) == (
        "Describe",
        "CodeBuild",
        1,
    )
    assert describe["namespace"] == "ReleaseVariables"
    assert describe["inputArtifacts"] == ["ReleaseArtifact"]
    describer = prod.one(PROJECT_TYPE, "release-steps-describe-project")
    assert describe["configuration"]["ProjectName"] == describer.inputs["name"]
    assert "exported-variables" in describer.inputs["source"]["buildspec"]
    assert (approve["category"], approve["provider"], approve["name"], approve["runOrder"]) == (
        "Approval",
        "Manual",
        "Approve",
        2,
    )
    config = approve["configuration"]
    assert config["CustomData"] == (
        "Release web to prod: commit #{ReleaseVariables.COMMIT_ID} - "
        "#{ReleaseVariables.COMMIT_MESSAGE} (proved in staging). Commits since the live "
        "#{ReleaseVariables.LIVE_COMMIT}: #{ReleaseVariables.COMMITS_AHEAD}. staging "
        "verification: #{ReleaseVariables.VERIFICATION}; bake #{ReleaseVariables.BAKE}. Watched "
        'alarms now: #{ReleaseVariables.ALARMS}. Deploy: window cron "* * 9-15 ? * MON-FRI" '
        "(Europe/Berlin)."
    )
    # What changed since what prod runs: GitHub's compare view, the path Describe computes.
    assert config["ExternalEntityLink"] == (
        "https://github.com/#{ReleaseVariables.REPOSITORY}/#{ReleaseVariables.CHANGES_PATH}"
    )
    topic = prod.one("aws:sns/topic:Topic", "web-releases-topic")
    assert config["NotificationArn"] == topic.state["arn"]
    assert approve["timeoutInMinutes"] == 4320
    # Announced once: by the action (with the commit), not also by the notification rule.
    rule = prod.one(
        "aws:codestarnotifications/notificationRule:NotificationRule", "web-notify-rule"
    )
    assert rule.inputs["targets"] == [{"address": topic.state["arn"], "type": "SNS"}]
    assert not any("approval" in e for e in rule.inputs["eventTypeIds"]), rule.inputs[
        "eventTypeIds"
    ]


def test_production_watches_alarms_bakes_rolls_back_and_keeps_a_window(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["prod"].recorder
    deploy = stage(pipelines(runs["prod"])["web"], "Deploy")
    assert deploy["onFailure"] == {"result": "ROLLBACK"}
    rules = deploy["onSuccess"]["condition"]["rules"]
    created = {
        r.inputs["name"]
        for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.name.startswith("web-")
    }
    watched = {r["configuration"]["AlarmName"] for r in rules}
    assert watched == created | {"web-prod-p99-latency"}
    assert {r["configuration"]["WaitTime"] for r in rules} == {"15"}
    assert deploy["onSuccess"]["condition"]["result"] == "ROLLBACK"
    window = deploy["beforeEntry"]["condition"]["rules"][0]
    assert window["ruleTypeId"]["provider"] == "DeploymentWindow"
    assert window["configuration"] == {"Cron": "* * 9-15 ? * MON-FRI", "TimeZone": "Europe/Berlin"}
    group = rec.one(GROUP, "web-deploy-web").inputs
    assert set(group["alarmConfiguration"]["alarms"]) == watched
    assert group["autoRollbackConfiguration"]["events"] == [
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
    ]
    lambda_deploy = deploy_action(pipelines(runs["prod"])["thumbnailer"], "Lambda")
    lambda_alarms = {
        r.inputs["name"]
        for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.name.startswith("thumbnailer-")
    }
    assert set(lambda_deploy["configuration"]["Alarms"].split(",")) == lambda_alarms


def test_github_side_differs_per_environment(runs: dict[str, StackRun]) -> None:
    env = "github:index/repositoryEnvironment:RepositoryEnvironment"
    prod_env = runs["prod"].recorder.one(env).inputs
    assert prod_env["environment"] == "prod"
    assert prod_env["reviewers"][0]["users"] == [1234567]
    assert prod_env["reviewers"][0]["teams"] == [7654321]
    dev_env = runs["dev"].recorder.one(env).inputs
    assert not dev_env.get("reviewers"), "dev deploys without a human gate"
    ruleset = "github:index/repositoryRuleset:RepositoryRuleset"
    assert [len(runs[s].recorder.of_type(ruleset)) for s in ("dev", "staging", "prod")] == [0, 0, 1]
    oidc = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
    assert len(runs["staging"].recorder.of_type(oidc)) == 1, (
        "staging creates the account's provider"
    )
    assert runs["prod"].recorder.of_type(oidc) == [], "prod reuses it by ARN"
    deploy_var = next(
        r
        for r in runs["prod"].recorder.of_type(
            "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
        )
        if r.inputs["variableName"] == "PULUMI_DEPLOY_ROLE_ARN"
    )
    assert deploy_var.inputs["value"] == runs["prod"].exports["github_deploy_role_arn"]


def test_dev_has_none_of_the_production_gates(runs: dict[str, StackRun]) -> None:
    rec = runs["dev"].recorder
    for service, pipeline in pipelines(runs["dev"]).items():
        deploy = stage(pipeline, "Deploy")
        assert "onSuccess" not in deploy and "beforeEntry" not in deploy, service
        assert deploy["onFailure"] == {"result": "ROLLBACK"}
    # The delivery reporter's two alarms watch reporting to GitHub, never a release.
    gates = [
        a.name
        for a in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.name not in {"delivery-reporter-dead-letters-alarm", "delivery-reporter-errors-alarm"}
    ]
    assert gates == []
    assert rec.of_type("aws:sns/topic:Topic") == []
    group = rec.one(GROUP, "web-deploy-web").inputs
    assert "alarmConfiguration" not in group
    assert group["autoRollbackConfiguration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}


def test_only_production_protects_and_retains_its_stateful_resources(
    runs: dict[str, StackRun],
) -> None:
    prod = runs["prod"].recorder
    bucket = prod.one("aws:s3/bucket:Bucket")
    assert (bucket.protect, bucket.retain_on_delete, bucket.inputs["forceDestroy"]) == (
        True,
        True,
        False,
    )
    for topic in prod.of_type("aws:sns/topic:Topic"):
        assert topic.protect and topic.retain_on_delete, topic.name
    for key in prod.of_type("aws:kms/key:Key"):
        assert key.protect and key.retain_on_delete, key.name
    assert runs["staging"].recorder.one("aws:codeconnections/connection:Connection").read, (
        "staging adopts the shared connection"
    )
    # Prod deploys from staging's releases: destroying staging must not take them along.
    releases = runs["staging"].recorder.one("aws:s3/bucket:Bucket", "releases-bucket")
    assert (releases.protect, releases.retain_on_delete) == (True, True)
    dev = runs["dev"].recorder
    assert not any(r.protect for r in dev.resources), [r.name for r in dev.resources if r.protect]
    assert dev.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_taggable_resource_names_service_stage_and_manager(
    runs: dict[str, StackRun], stack: str
) -> None:
    for r in runs[stack].recorder.resources:
        if not r.custom or r.typ in UNTAGGABLE or r.read or not r.typ.startswith("aws:"):
            continue  # GitHub resources have no tags; AWS ones all must
        tags = r.inputs.get("tags")
        assert tags, f"{r.typ} {r.name} has no tags"
        assert tags["cicd:stage"] == stack, r.name
        assert tags["cicd:managed-by"] == f"pulumi:{PROJECT}/{stack}", r.name
        assert tags["cicd:service"] in {"web", "thumbnailer", PROJECT}, r.name


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_children_are_parented_to_their_components(runs: dict[str, StackRun], stack: str) -> None:
    components = {r.urn for r in runs[stack].recorder.resources if not r.custom}
    for r in runs[stack].recorder.resources:
        if r.typ.startswith("aws:"):
            assert r.parent in components, f"{r.name} is not inside a component"


def stateful_urns(runs: dict[str, StackRun]) -> dict[str, list[str]]:
    return {
        stack: sorted(
            run.recorder.engine_urn(r) for r in run.recorder.resources if r.typ in STATEFUL
        )
        for stack, run in sorted(runs.items())
    }


def test_stateful_resource_urns_match_the_snapshot(runs: dict[str, StackRun]) -> None:
    """A changed URN means Pulumi would replace the resource: add an alias, then the snapshot.

    Regenerate after an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_stacks.py
    """
    current = stateful_urns(runs)
    import os

    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for stack in current:
        missing = sorted(set(expected.get(stack, [])) - set(current[stack]))
        assert not missing, (
            f"{stack}: these stateful resources would be replaced or deleted: {missing}"
        )
    assert current == expected


def test_a_stack_with_config_mistakes_declares_nothing_and_lists_them_all(tmp_path: Path) -> None:
    flat, secrets = flatten_stack_config(STACKS["prod"])
    services = json.loads(flat[f"{PROJECT}:services"])
    services[0]["deploy"]["strategy"] = "CodeDeployDefault.AllAtOnse"
    services[1]["build"] = {"environment": {"SIGNING_KEY": "abc123"}}
    flat[f"{PROJECT}:services"] = json.dumps(services)
    flat[f"{PROJECT}:artifact"] = "{}"
    with pytest.raises(ConfigError) as caught:
        run_program("prod", flat, secrets)
    message = str(caught.value)
    assert "4 problem(s)" in message
    assert f"{PROJECT}:artifact: unknown key" in message
    assert "services[0].deploy.strategy" in message
    assert "services[1].build.environment.SIGNING_KEY: looks like a secret" in message
    # prod's services are promoted: a build there would mean nothing, so it is refused too.
    assert f"{PROJECT}:services[1].build: a service promoted from staging deploys" in message
    assert f"fix: pulumi config rm --path '{PROJECT}:services[1].build'" in message


def test_outputs_give_people_what_they_need_after_pulumi_up(runs: dict[str, StackRun]) -> None:
    dev = runs["dev"].exports
    assert dev["connection_status"] == "PENDING", "a new connection waits for the GitHub handshake"
    assert dev["connection_console_url"].endswith(f"region={REGION}")
    assert dev["artifact_bucket"] == f"{PROJECT}-dev-artifacts-{ACCOUNT}-{REGION}"
    web = dev["services"]["web"]
    assert web["build_project"] == "web-dev-build"
    assert web["test_projects"] == {
        "unit": "web-dev-test-unit",
        "functional": "web-dev-test-functional",
    }
    assert web["codedeploy_application"] == "web-dev"
    assert web["deployment_groups"] == {"web": "web-dev-web"}
    assert web["pipeline_url"].startswith(
        f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/"
    )
    prod = runs["prod"].exports["services"]["web"]
    assert prod["approver_role_arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/web-prod-approver"
    ), "people assume it to approve"
