"""Build once, promote the artifact: the sample stacks, and a cross-account variant, under mocks.

Every stack file runs through the real `__main__.py`, upstream first, and prod's stack reference
is answered with staging's real exports, as after the first `pulumi up`s. The assertions follow
the values from one stack into the other: prod's source is the bucket staging created, the rule
that starts prod matches the object staging's pipeline writes, and so on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    Resource,
    StackRun,
    flatten_stack_config,
    iter_stacks,
    qualified_stack,
    run_program,
    run_stacks,
)

STACKS = dict(iter_stacks())
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT_TYPE = "aws:codebuild/project:Project"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CONSUMER_ACCOUNT = "222222222222"


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(STACKS)


def pipeline(run: StackRun, service: str) -> Resource:
    return run.recorder.one(PIPELINE, f"{service}-pipeline-pipeline")


def stage(resource: Resource, name: str) -> dict[str, Any]:
    found = [s for s in resource.inputs["stages"] if s["name"] == name]
    assert found, f"{resource.inputs['name']} has no {name} stage"
    return found[0]


def policy(run: StackRun, name: str) -> dict[str, dict[str, Any]]:
    """An inline role policy's statements by Sid."""
    document = json.loads(run.recorder.one(ROLE_POLICY, name).inputs["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def release_bucket(run: StackRun) -> str:
    return run.recorder.one("aws:s3/bucket:Bucket", "releases-bucket").state["bucket"]


# Same account: the sample stacks ---------------------------------------------------------------


@pytest.mark.parametrize("service", ["web", "thumbnailer"])
def test_prod_builds_nothing_and_its_source_is_stagings_release(
    runs: dict[str, StackRun], service: str
) -> None:
    prod = pipeline(runs["prod"], service)
    assert [s["name"] for s in prod.inputs["stages"]] == ["Source", "Approval", "Deploy"]
    [source] = stage(prod, "Source")["actions"]
    assert (source["name"], source["category"], source["provider"]) == ("Release", "Source", "S3")
    assert source["configuration"] == {
        "S3Bucket": release_bucket(runs["staging"]),
        "S3ObjectKey": f"releases/{service}/release.zip",
        # EventBridge (or cicd) starts it; polling would start it twice per release.
        "PollForSourceChanges": "false",
    }
    assert source["outputArtifacts"] == ["ReleaseArtifact"]
    assert prod.inputs["tags"]["cicd:promotes-from"] == "staging"
    assert not prod.inputs.get("triggers")
    names = {p.inputs["name"] for p in runs["prod"].recorder.of_type(PROJECT_TYPE)}
    assert not any(n.endswith(("-build", "-package")) or "-test-" in n for n in names), names


@pytest.mark.parametrize("service", ["web", "thumbnailer"])
def test_staging_publishes_to_that_location_only_after_deploy_and_verification(
    runs: dict[str, StackRun], service: str
) -> None:
    staging = pipeline(runs["staging"], service)
    names = [s["name"] for s in staging.inputs["stages"]]
    assert names[-2:] == ["Deploy", "Publish"], "a stage of its own, after Deploy succeeded"
    deploy = stage(staging, "Deploy")
    verify = [a for a in deploy["actions"] if a["name"].startswith("verify-")]
    deploys = [a for a in deploy["actions"] if a["category"] == "Deploy"]
    assert deploys and verify
    assert all(a["runOrder"] == deploys[0]["runOrder"] + 1 for a in verify), (
        "verification follows the deploy"
    )
    [publish] = stage(staging, "Publish")["actions"]
    assert (publish["category"], publish["provider"], publish["name"]) == (
        "Deploy",
        "S3",
        "Publish",
    )
    assert publish["configuration"] == {
        "BucketName": release_bucket(runs["staging"]),
        "ObjectKey": f"releases/{service}/release.zip",
        "Extract": "false",
    }
    # What staging deployed is the release plus staging's configuration snapshot; what it
    # publishes is the release alone: configuration is each stage's own.
    assert publish["inputArtifacts"] == ["ReleaseArtifact"], "the release staging deployed"
    configure, *rest = deploy["actions"]
    assert (configure["name"], configure["inputArtifacts"], configure["outputArtifacts"]) == (
        "Configure",
        ["ReleaseArtifact"],
        ["DeployArtifact"],
    )
    for action in rest:
        assert action["inputArtifacts"] == ["DeployArtifact"], action["name"]


def test_the_release_location_is_a_versioned_private_bucket_that_sends_events(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder
    assert rec.one("aws:s3/bucketVersioning:BucketVersioning", "releases-versioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    assert rec.one("aws:s3/bucketNotification:BucketNotification", "releases-events").inputs[
        "eventbridge"
    ]
    block = rec.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "releases-public-access"
    )
    assert all(
        block.inputs[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    [rule] = rec.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "releases-lifecycle"
    ).inputs["rules"]
    assert "expiration" not in rule, "the newest release never expires: it is the next promotion"
    assert rule["noncurrentVersionExpiration"] == {
        "noncurrentDays": 90,
        "newerNoncurrentVersions": 10,
    }
    assert runs["staging"].exports["releases"] == {
        "stage": "staging",
        "bucket": release_bucket(runs["staging"]),
        "bucket_arn": f"arn:aws:s3:::{release_bucket(runs['staging'])}",
        "kms_key_arn": None,
        "account": ACCOUNT,
        "region": REGION,
        "consumers": ["prod"],
        "services": ["web", "thumbnailer"],
    }
    assert "releases" not in runs["dev"].exports, "nothing promotes from dev"


def test_an_eventbridge_rule_starts_prods_web_pipeline_on_exactly_the_published_version(
    runs: dict[str, StackRun],
) -> None:
    prod = runs["prod"]
    rule = prod.recorder.one(RULE, "web-promotion-rule")
    assert rule.inputs["name"] == "web-prod-promote"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "account": [ACCOUNT],
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [release_bucket(runs["staging"])]},
            "object": {"key": ["releases/web/release.zip"]},
        },
    }
    target = prod.recorder.one(TARGET, "web-promotion-target")
    role = prod.recorder.one(ROLE, "web-promotion-role")
    assert target.inputs["rule"] == rule.inputs["name"]
    assert target.inputs["arn"] == pipeline(prod, "web").state["arn"]
    assert target.inputs["roleArn"] == role.state["arn"]
    assert target.inputs["inputTransformer"] == {
        "inputPaths": {"revisionValue": "$.detail.object.version-id"},
        "inputTemplate": json.dumps(
            {
                "sourceRevisions": [
                    {
                        "actionName": "Release",
                        "revisionType": "S3_OBJECT_VERSION_ID",
                        "revisionValue": "<revisionValue>",
                    }
                ]
            }
        ),
    }
    # The role may start that one pipeline, and only EventBridge, for that rule, may assume it.
    assert policy(prod, "web-promotion-policy") == {
        "StartThisPipelineOnly": {
            "Sid": "StartThisPipelineOnly",
            "Effect": "Allow",
            "Action": "codepipeline:StartPipelineExecution",
            "Resource": pipeline(prod, "web").state["arn"],
        }
    }
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": rule.state["arn"]},
    }


REPORTER_RULE = "delivery-reporter-rule"


def test_manual_promotion_declares_no_trigger(runs: dict[str, StackRun]) -> None:
    # The delivery reporter's rule reports on the pipelines; it starts none.
    rules = {r.name for r in runs["prod"].recorder.of_type(RULE)} - {REPORTER_RULE}
    assert rules == {"web-promotion-rule"}, "thumbnailer is promoted only by cicd promote"


def test_publishing_role_writes_only_its_own_release_object(runs: dict[str, StackRun]) -> None:
    bucket = f"arn:aws:s3:::{release_bucket(runs['staging'])}"
    for service in ("web", "thumbnailer"):
        grants = policy(runs["staging"], f"{service}-pipeline-policy")
        assert grants["PublishRelease"]["Resource"] == f"{bucket}/releases/{service}/release.zip"
        assert grants["PublishBucketSettings"]["Resource"] == bucket
        writes = [
            s
            for s in grants.values()
            if any(a.startswith("s3:Put") for a in _list(s["Action"]))
            and any(r.startswith(bucket) for r in _list(s["Resource"]))
        ]
        assert [s["Sid"] for s in writes] == ["PublishRelease"], service
        assert "EncryptRelease" not in grants, "same account: SSE-S3, no key"


def test_promoted_role_reads_only_its_own_release_object(runs: dict[str, StackRun]) -> None:
    bucket = f"arn:aws:s3:::{release_bucket(runs['staging'])}"
    for service in ("web", "thumbnailer"):
        grants = policy(runs["prod"], f"{service}-pipeline-policy")
        assert grants["ReadRelease"]["Resource"] == f"{bucket}/releases/{service}/release.zip"
        assert grants["ReadRelease"]["Action"] == [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging",
        ]
        assert grants["ReleaseBucketSettings"]["Resource"] == bucket
        assert "UseGitHubConnection" not in grants, "prod reads no GitHub"
        assert not any(
            r.startswith(bucket)
            for s in grants.values()
            if any(a.startswith("s3:Put") for a in _list(s["Action"]))
            for r in _list(s["Resource"])
        ), service


def test_verification_gets_the_endpoint_and_may_call_only_its_target(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder

    def variables(name: str) -> dict[str, str]:
        project = rec.one(PROJECT_TYPE, f"{name}-project")
        return {
            v["name"]: v["value"] for v in project.inputs["environment"]["environmentVariables"]
        }

    assert variables("web-verify-smoke") == {
        "SERVICE": "web",
        "STAGE": "staging",
        "VERIFY_TARGET": "web",
        "ENDPOINT_URL": "https://web.staging.example.com",
    }
    assert variables("thumbnailer-verify-smoke") == {
        "SERVICE": "thumbnailer",
        "STAGE": "staging",
        "VERIFY_TARGET": "thumbnailer",
        "FUNCTION_NAME": "thumbnailer-staging",
        "FUNCTION_ALIAS": "live",
    }
    web_smoke = rec.one(PROJECT_TYPE, "web-verify-smoke-project").inputs
    assert web_smoke["source"]["buildspec"] == "buildspec-smoke.yml"
    assert web_smoke["buildTimeout"] == 15
    grants = policy(runs["staging"], "thumbnailer-verify-smoke-policy")
    assert grants["InvokeVerifiedFunctions"]["Resource"] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:thumbnailer-staging:live"
    ]
    assert "InvokeVerifiedFunctions" not in policy(runs["staging"], "web-verify-smoke-policy")
    deploy = stage(pipeline(runs["staging"], "thumbnailer"), "Deploy")
    assert [(a["name"], a["provider"], a["runOrder"]) for a in deploy["actions"]] == [
        ("Configure", "CodeBuild", 1),
        ("thumbnailer", "Lambda", 2),
        ("verify-smoke", "CodeBuild", 3),
        # The metric analysis (deploy.analysis), beside the suite: test_metric_analysis.py.
        ("verify-analysis", "CodeBuild", 3),
    ]
    assert deploy["actions"][2]["configuration"] == {
        "ProjectName": "thumbnailer-staging-verify-smoke"
    }
    # A failed verification fails the stage, whose rollback puts the previous release back.
    assert deploy["onFailure"] == {"result": "ROLLBACK"}


def test_the_stages_package_step_may_read_only_the_stages_pipelines_executions(
    runs: dict[str, StackRun],
) -> None:
    # One package project serves the stage; it reads the executions of the pipelines it
    # packages and no other.
    grants = policy(runs["staging"], "release-steps-package-policy")
    assert grants["ReadPipelineExecutions"] == {
        "Sid": "ReadPipelineExecutions",
        "Effect": "Allow",
        "Action": ["codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions"],
        "Resource": [
            f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:thumbnailer-staging-pipeline",
            f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pipeline",
        ],
    }
    packager = runs["staging"].recorder.one(PROJECT_TYPE, "release-steps-package-project")
    for service, repository in (("web", "acme/web"), ("thumbnailer", "acme/thumbnailer")):
        actions = stage(pipeline(runs["staging"], service), "Build")["actions"]
        package = next(a for a in actions if a["name"] == "Package")
        assert package["configuration"]["ProjectName"] == packager.inputs["name"]
        # What differs per pipeline reaches the shared project as the action's variables.
        assert json.loads(package["configuration"]["EnvironmentVariables"]) == [
            {
                "name": "PIPELINE_EXECUTION_ID",
                "value": "#{codepipeline.PipelineExecutionId}",
                "type": "PLAINTEXT",
            },
            {"name": "SERVICE", "value": service, "type": "PLAINTEXT"},
            {"name": "STAGE", "value": "staging", "type": "PLAINTEXT"},
            {"name": "REPOSITORY", "value": repository, "type": "PLAINTEXT"},
            {"name": "BRANCH", "value": "main", "type": "PLAINTEXT"},
            {
                "name": "PIPELINE_NAME",
                "value": f"{service}-staging-pipeline",
                "type": "PLAINTEXT",
            },
        ]


def test_a_stage_that_only_promotes_has_no_package_project(runs: dict[str, StackRun]) -> None:
    projects = {p.name for p in runs["prod"].recorder.of_type(PROJECT_TYPE)}
    assert "release-steps-package-project" not in projects
    # prod's thumbnailer waits for approval: the stage's describe project reads its manifest.
    assert "release-steps-describe-project" in projects


# Across accounts: staging publishes for a prod in another account ----------------------------


@pytest.fixture(scope="module")
def crossing() -> dict[str, StackRun]:
    """staging publishes for prod in account 222222222222; prod says where staging runs."""
    flat, secrets = flatten_stack_config(STACKS["staging"])
    flat[f"{PROJECT}:releases"] = json.dumps(
        {"consumers": [{"stage": "prod", "account": CONSUMER_ACCOUNT}], "kms_key": "create"}
    )
    staging = run_program("staging", flat, secrets)
    flat, secrets = flatten_stack_config(STACKS["prod"])
    flat[f"{PROJECT}:upstreams"] = json.dumps({"staging": {"account": ACCOUNT}})
    # prod runs in its own account: its OIDC provider is that account's (the account checks
    # refuse one of another account).
    github = json.loads(flat[f"{PROJECT}:github"])
    github["oidc_provider_arn"] = github["oidc_provider_arn"].replace(ACCOUNT, CONSUMER_ACCOUNT)
    flat[f"{PROJECT}:github"] = json.dumps(github)
    prod = run_program(
        "prod",
        flat,
        secrets,
        {qualified_stack("staging"): staging.exports},
        account=CONSUMER_ACCOUNT,
    )
    return {"staging": staging, "prod": prod}


def test_only_the_consumer_account_may_read_releases_and_only_under_releases(
    crossing: dict[str, StackRun],
) -> None:
    staging = crossing["staging"]
    bucket = release_bucket(staging)
    document = json.loads(
        staging.recorder.one("aws:s3/bucketPolicy:BucketPolicy", "releases-policy").inputs["policy"]
    )
    grants = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    consumer = {"AWS": f"arn:aws:iam::{CONSUMER_ACCOUNT}:root"}
    assert grants == [
        {
            "Sid": "ConsumerProdReadsObjects",
            "Effect": "Allow",
            "Principal": consumer,
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{bucket}/releases/*",
        },
        {
            "Sid": "ConsumerProdListsObjects",
            "Effect": "Allow",
            "Principal": consumer,
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringLike": {"s3:prefix": "releases/*"}},
        },
        {
            "Sid": "ConsumerProdReadsBucketSettings",
            "Effect": "Allow",
            "Principal": consumer,
            "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation"],
            "Resource": f"arn:aws:s3:::{bucket}",
        },
        {
            # The consumer quarantines a release it rolled back, where it is published.
            "Sid": "ConsumerProdTagsObjects",
            "Effect": "Allow",
            "Principal": consumer,
            "Action": [
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionTagging",
            ],
            "Resource": f"arn:aws:s3:::{bucket}/releases/*",
        },
    ]
    [deny] = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_release_key_lets_only_the_consumer_account_decrypt_and_only_through_s3(
    crossing: dict[str, StackRun],
) -> None:
    staging = crossing["staging"]
    key = staging.recorder.one("aws:kms/key:Key", "releases-key")
    assert key.protect and key.inputs["enableKeyRotation"]
    statements = json.loads(key.inputs["policy"])["Statement"]
    principals = {json.dumps(s["Principal"]): s for s in statements}
    assert set(principals) == {
        json.dumps({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
        json.dumps({"AWS": f"arn:aws:iam::{CONSUMER_ACCOUNT}:root"}),
    }
    consumer = principals[json.dumps({"AWS": f"arn:aws:iam::{CONSUMER_ACCOUNT}:root"})]
    assert consumer["Action"] == "kms:Decrypt"
    assert consumer["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    }
    encryption = staging.recorder.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "releases-encryption",
    ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    # The pipeline encrypts what it publishes with that key, and may use it for nothing else.
    [publish] = stage(pipeline(staging, "web"), "Publish")["actions"]
    assert publish["configuration"]["KMSEncryptionKeyARN"] == key.state["arn"]
    grants = policy(staging, "web-pipeline-policy")
    assert grants["EncryptRelease"]["Resource"] == key.state["arn"]
    assert staging.exports["releases"]["kms_key_arn"] == key.state["arn"]


def test_release_events_are_forwarded_to_the_consumer_accounts_bus_only(
    crossing: dict[str, StackRun],
) -> None:
    staging = crossing["staging"]
    bucket = release_bucket(staging)
    rule = staging.recorder.one(RULE, "releases-forward")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": "releases/"}]}},
    }
    bus = f"arn:aws:events:{REGION}:{CONSUMER_ACCOUNT}:event-bus/default"
    target = staging.recorder.one(TARGET, "releases-forward-prod")
    assert (target.inputs["arn"], target.inputs["rule"]) == (bus, rule.inputs["name"])
    assert "inputTransformer" not in target.inputs, "EventBridge refuses one on another's bus"
    assert policy(staging, "releases-forward-policy") == {
        "PutEventsOnConsumerBuses": {
            "Sid": "PutEventsOnConsumerBuses",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": [bus],
        }
    }


def test_the_consumer_admits_the_upstream_accounts_events_and_decrypts_with_its_key(
    crossing: dict[str, StackRun],
) -> None:
    prod = crossing["prod"]
    permission = prod.recorder.one(
        "aws:cloudwatch/eventPermission:EventPermission", "upstream-staging-events"
    )
    assert permission.inputs == {
        "principal": ACCOUNT,
        "statementId": f"{PROJECT}-prod-releases-from-staging",
        "action": "events:PutEvents",
        "eventBusName": "default",
    }
    rule = prod.recorder.one(RULE, "web-promotion-rule")
    assert json.loads(rule.inputs["eventPattern"])["account"] == [ACCOUNT]
    key = crossing["staging"].exports["releases"]["kms_key_arn"]
    assert policy(prod, "web-pipeline-policy")["DecryptRelease"] == {
        "Sid": "DecryptRelease",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key,
    }


def test_same_account_promotion_admits_no_other_account(runs: dict[str, StackRun]) -> None:
    assert not runs["prod"].recorder.of_type("aws:cloudwatch/eventPermission:EventPermission")
    staging = runs["staging"].recorder
    keys = [k.name for k in staging.of_type("aws:kms/key:Key")]
    assert "releases-key" not in keys, "SSE-S3 suffices within one account"
    forwarding = {r.name for r in staging.of_type(RULE)} - {REPORTER_RULE}
    assert forwarding == set(), "nothing to forward"
    document = json.loads(
        staging.one("aws:s3/bucketPolicy:BucketPolicy", "releases-policy").inputs["policy"]
    )
    assert [s["Sid"] for s in document["Statement"]] == ["DenyInsecureTransport"]


def test_the_stack_files_promote_in_one_direction_and_each_upstream_publishes_for_its_consumer(
    runs: dict[str, StackRun],
) -> None:
    """The graph of the repo's stack files: what one stack alone cannot check."""
    import yaml

    def config(stack: str) -> dict[str, Any]:
        return yaml.safe_load(Path(STACKS[stack]).read_text())["config"]

    for stack in STACKS:
        for upstream in config(stack).get(f"{PROJECT}:upstreams", {}):
            assert upstream in STACKS, f"{stack} promotes from {upstream}, which has no stack file"
            consumers = [
                c["stage"]
                for c in config(upstream).get(f"{PROJECT}:releases", {}).get("consumers", [])
            ]
            assert stack in consumers, f"{upstream} does not publish for {stack}"
            assert runs[upstream].exports["releases"]["consumers"] == consumers


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_cli_and_the_components_agree_on_every_promotion_name() -> None:
    """cicd may not import the components: this test is what keeps the two sides in step."""
    from cicd import contract
    from components import naming, pipeline, release_channel

    assert contract.TAG_PROMOTES_FROM == naming.TAG_PROMOTES_FROM
    assert (contract.RELEASE_SOURCE_ACTION, contract.VERIFY_PREFIX) == (
        pipeline.RELEASE_ACTION,
        pipeline.VERIFY_PREFIX,
    )
    assert (contract.PUBLISH_STAGE, contract.PUBLISH_ACTION) == (
        pipeline.PUBLISH_STAGE,
        pipeline.PUBLISH_ACTION,
    )
    assert (contract.SOURCE_STAGE, contract.DEPLOY_STAGE, contract.APPROVAL_ACTION) == (
        pipeline.SOURCE_STAGE,
        pipeline.DEPLOY_STAGE,
        pipeline.APPROVAL_ACTION,
    )
    assert contract.MANIFEST_NAME == release_channel.MANIFEST_FILE
