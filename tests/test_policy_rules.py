"""The guardrails (policy/guardrails): each rule passes a compliant resource and fails a bad one
with its message; every sample stack passes every rule; configuration and unknown values.

The resources here are small hand-made stacks shaped as the engine passes them (camelCase
inputs, JSON policy text). The sample stacks are what Pulumi's mocks record for the real program.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from guardrails import RULES, RULES_BY_NAME, UNKNOWN, Resource, evaluate

from stack.offline import iter_stacks
from stack.plan.evaluate import evaluate as evaluate_plans
from stack.plan.evaluate import guardrail_resources

STACK = "urn:pulumi:test::gh-aws-delivery::"


def res(typ: str, name: str, props: Mapping[str, Any], **dependencies: list[str]) -> Resource:
    return Resource(
        type=typ,
        name=name,
        urn=f"{STACK}{typ}::{name}",
        props=props,
        property_dependencies=dependencies,
    )


def urn(typ: str, name: str) -> str:
    return f"{STACK}{typ}::{name}"


def messages(rule: str, *resources: Resource, config: Any = None) -> list[str]:
    return [f.message for f in evaluate(resources, config, [RULES_BY_NAME[rule]])]


def doc(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- S3 buckets ----------------------------------------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_URN = urn(BUCKET, "artifacts-bucket")


def bucket() -> Resource:
    return res(BUCKET, "artifacts-bucket", {"bucket": "acme-artifacts"})


def setting(typ: str, name: str, props: Mapping[str, Any]) -> Resource:
    return res(typ, name, {"bucket": "artifacts-bucket-id", **props}, bucket=[BUCKET_URN])


def encryption(algorithm: str = "AES256") -> Resource:
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}
    return setting(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-encryption",
        {"rules": [rule]},
    )


def versioning(status: str = "Enabled") -> Resource:
    return setting(
        "aws:s3/bucketVersioning:BucketVersioning",
        "artifacts-versioning",
        {"versioningConfiguration": {"status": status}},
    )


def public_access(**off: bool) -> Resource:
    flags = {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    return setting(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "artifacts-public-access",
        {**flags, **off},
    )


TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::acme-artifacts", "arn:aws:s3:::acme-artifacts/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_policy(policy: Any) -> Resource:
    return setting("aws:s3/bucketPolicy:BucketPolicy", "artifacts-policy", {"policy": policy})


def test_an_encrypted_bucket_passes_and_one_without_encryption_fails() -> None:
    assert messages("s3-bucket-encrypted", bucket(), encryption()) == []
    assert messages("s3-bucket-encrypted", bucket(), encryption("aws:kms")) == []
    assert messages("s3-bucket-encrypted", bucket()) == [
        "bucket artifacts-bucket (acme-artifacts) has no default encryption: declare an "
        "aws.s3.BucketServerSideEncryptionConfiguration for it (SSE-S3 or a KMS key)"
    ]


def test_a_bucket_is_linked_to_its_settings_by_dependency_even_when_its_id_is_unknown() -> None:
    unknown_id = res(
        encryption().type,
        "artifacts-encryption",
        {"bucket": UNKNOWN, "rules": encryption().props["rules"]},
        bucket=[BUCKET_URN],
    )
    other = res(BUCKET, "other-bucket", {"bucket": "acme-other"})
    found = messages("s3-bucket-encrypted", bucket(), other, unknown_id)
    assert found == [
        "bucket other-bucket (acme-other) has no default encryption: declare an "
        "aws.s3.BucketServerSideEncryptionConfiguration for it (SSE-S3 or a KMS key)"
    ]


def test_a_versioned_bucket_passes_and_a_suspended_or_unversioned_one_fails() -> None:
    assert messages("s3-bucket-versioned", bucket(), versioning()) == []
    assert messages("s3-bucket-versioned", bucket(), versioning("Suspended")) == [
        "bucket artifacts-bucket (acme-artifacts) is not versioned (status Suspended): declare "
        "an aws.s3.BucketVersioning with status Enabled"
    ]
    assert messages("s3-bucket-versioned", bucket()) == [
        "bucket artifacts-bucket (acme-artifacts) is not versioned (no aws.s3.BucketVersioning): "
        "declare an aws.s3.BucketVersioning with status Enabled"
    ]


def test_a_bucket_blocking_all_public_access_passes_and_a_partial_block_fails() -> None:
    assert messages("s3-bucket-public-access-blocked", bucket(), public_access()) == []
    partial = public_access(blockPublicPolicy=False, restrictPublicBuckets=False)
    assert messages("s3-bucket-public-access-blocked", bucket(), partial) == [
        "bucket artifacts-bucket (acme-artifacts): public access block artifacts-public-access "
        "leaves blockPublicPolicy, restrictPublicBuckets off; set all four to true"
    ]
    assert messages("s3-bucket-public-access-blocked", bucket()) == [
        "bucket artifacts-bucket (acme-artifacts) has no public access block: declare an "
        "aws.s3.BucketPublicAccessBlock with all four settings true"
    ]


def test_a_bucket_denying_plain_http_passes_and_one_without_that_deny_fails() -> None:
    assert messages("s3-bucket-tls-only", bucket(), bucket_policy(doc(TLS_DENY))) == []
    only_objects = {**TLS_DENY, "Resource": "arn:aws:s3:::acme-artifacts/*"}
    expected = [
        "bucket artifacts-bucket (acme-artifacts) accepts requests without TLS: its bucket policy "
        'needs a Deny of s3:* for Principal * on the bucket and bucket/* when aws:SecureTransport is "false"'
    ]
    assert messages("s3-bucket-tls-only", bucket(), bucket_policy(doc(only_objects))) == expected
    allow = {**TLS_DENY, "Effect": "Allow"}
    assert messages("s3-bucket-tls-only", bucket(), bucket_policy(doc(allow))) == expected
    assert messages("s3-bucket-tls-only", bucket()) == expected


def test_a_bucket_policy_unknown_in_a_preview_is_not_judged_but_a_missing_one_is() -> None:
    assert messages("s3-bucket-tls-only", bucket(), bucket_policy(UNKNOWN)) == []
    assert len(messages("s3-bucket-tls-only", bucket())) == 1


# --- CodeBuild ----------------------------------------------------------------------------------

PROJECT = "aws:codebuild/project:Project"


def project(**props: Any) -> Resource:
    base: dict[str, Any] = {
        "name": "web-dev-build",
        "source": {"type": "CODEPIPELINE"},
        "environment": {"privilegedMode": False, "environmentVariables": []},
        "logsConfig": {"cloudwatchLogs": {"status": "ENABLED"}},
    }
    base.update(props)
    return res(PROJECT, "web-build-project", base)


def test_a_project_with_logs_passes_and_one_with_every_log_disabled_fails() -> None:
    assert messages("codebuild-logging-enabled", project()) == []
    assert messages("codebuild-logging-enabled", project(logsConfig=None)) == []  # AWS default
    s3_only = {"cloudwatchLogs": {"status": "DISABLED"}, "s3Logs": {"status": "ENABLED"}}
    assert messages("codebuild-logging-enabled", project(logsConfig=s3_only)) == []
    none = {"cloudwatchLogs": {"status": "DISABLED"}, "s3Logs": {"status": "DISABLED"}}
    assert messages("codebuild-logging-enabled", project(logsConfig=none)) == [
        "CodeBuild project web-dev-build keeps no logs (CloudWatch Logs and S3 logs both "
        "disabled): enable logsConfig.cloudwatchLogs"
    ]


def test_privileged_mode_fails_unless_the_project_is_allow_listed() -> None:
    privileged = project(environment={"privilegedMode": True})
    assert messages("codebuild-privileged-mode-allow-listed", project()) == []
    assert messages("codebuild-privileged-mode-allow-listed", privileged) == [
        "CodeBuild project web-dev-build runs in privileged mode, which can escape the build "
        "container: turn privileged off, or add the project to the allowedProjects of "
        "codebuild-privileged-mode-allow-listed"
    ]
    allowed = {"codebuild-privileged-mode-allow-listed": {"allowedProjects": ["web-*-build"]}}
    assert messages("codebuild-privileged-mode-allow-listed", privileged, config=allowed) == []


@pytest.mark.parametrize(
    ("variable", "why"),
    [
        ({"name": "NPM_TOKEN", "type": "PLAINTEXT", "value": "abc123"}, "its name says secret"),
        ({"name": "DB_PASSWORD", "value": "hunter2"}, "its name says secret"),
        (
            {"name": "BOOT", "type": "PLAINTEXT", "value": "AKIAABCDEFGHIJKLMNOP"},
            "its value looks like an AWS access key id",
        ),
        (
            {"name": "X", "type": "PLAINTEXT", "value": "ghp_" + "a" * 36},
            "its value looks like a GitHub token",
        ),
    ],
)
def test_a_plaintext_variable_that_looks_secret_fails(variable: dict[str, str], why: str) -> None:
    bad = project(environment={"environmentVariables": [variable]})
    assert messages("codebuild-no-plaintext-secrets", bad) == [
        f"CodeBuild project web-dev-build: environment variable {variable['name']} is PLAINTEXT "
        f"but {why}; store it in Secrets Manager or Parameter Store and reference it (type "
        "SECRETS_MANAGER or PARAMETER_STORE)"
    ]


def test_referenced_secrets_and_ordinary_plaintext_variables_pass() -> None:
    fine = project(
        environment={
            "environmentVariables": [
                {"name": "NPM_TOKEN", "type": "SECRETS_MANAGER", "value": "arn:aws:...:npm"},
                {"name": "API_KEY", "type": "PARAMETER_STORE", "value": "/web/api-key"},
                {"name": "STAGE", "type": "PLAINTEXT", "value": "dev"},
                {"name": "GITHUB_TOKEN", "type": "PLAINTEXT", "value": ""},
            ]
        }
    )
    assert messages("codebuild-no-plaintext-secrets", fine) == []


def test_a_source_url_with_credentials_fails_and_a_plain_one_passes() -> None:
    plain = project(source={"type": "GITHUB", "location": "https://github.com/acme/web.git"})
    assert messages("no-credentials-in-source-urls", plain) == []
    leaky = project(
        source={"type": "GITHUB", "location": "https://x-access-token:ghs_abc@github.com/acme/web"}
    )
    assert messages("no-credentials-in-source-urls", leaky) == [
        "CodeBuild project web-dev-build: source location https://***@github.com/acme/web "
        "carries credentials; use a CodeConnections connection or a source credential "
        "(aws.codebuild.SourceCredential) instead"
    ]
    secondary = project(secondarySources=[{"location": "https://bob@bitbucket.org/acme/lib"}])
    assert len(messages("no-credentials-in-source-urls", secondary)) == 1


# --- IAM and KMS --------------------------------------------------------------------------------

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCOPED = {
    "Sid": "Pipelines",
    "Effect": "Allow",
    "Action": "codepipeline:*",
    "Resource": "arn:aws:codepipeline:eu-west-1:111111111111:web-*",
}


def test_named_and_scoped_service_actions_pass_but_star_and_not_action_fail() -> None:
    good = res(ROLE_POLICY, "deploy-permissions", {"policy": doc(SCOPED)})
    assert messages("iam-no-star-actions", good) == []
    star = res(
        ROLE_POLICY,
        "deploy-permissions",
        {"policy": doc({"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"})},
    )
    assert messages("iam-no-star-actions", star) == [
        'policy deploy-permissions: statement All allows every action ("*"); name the actions '
        "it needs"
    ]
    not_action = res(
        POLICY,
        "ops",
        {"policy": doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})},
    )
    assert messages("iam-no-star-actions", not_action) == [
        "identity policy ops: statement #1 allows every action except iam:* (NotAction); list "
        "the actions it needs in Action instead"
    ]


def test_deny_statements_may_use_star_and_not_action() -> None:
    denies = doc(
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"x": "y"}}},
        {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
    )
    assert messages("iam-no-star-actions", res(POLICY, "guard", {"policy": denies})) == []


def test_star_is_refused_in_trust_inline_and_resource_policies_too() -> None:
    star = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    role = res(
        ROLE,
        "r",
        {"assumeRolePolicy": doc(star), "inlinePolicies": [{"name": "i", "policy": doc(star)}]},
    )
    topic = res("aws:sns/topicPolicy:TopicPolicy", "t", {"policy": doc(star)})
    assert messages("iam-no-star-actions", role, topic) == [
        'trust policy of role r: statement #1 allows every action ("*"); name the actions it needs',
        'inline policy i of role r: statement #1 allows every action ("*"); name the actions it needs',
        'resource policy t: statement #1 allows every action ("*"); name the actions it needs',
    ]


BOUNDARY_DOC = doc(
    {
        "Sid": "ProjectServicesOnly",
        "Effect": "Allow",
        "Action": ["s3:*", "codebuild:*"],
        "Resource": "*",
    }
)


def boundary_and_role(linked: bool) -> tuple[Resource, Resource]:
    boundary = res(POLICY, "boundary-policy", {"name": "acme-dev-boundary", "policy": BOUNDARY_DOC})
    role = res(
        ROLE,
        "build-role",
        {"permissionsBoundary": "arn:aws:iam::111111111111:policy/acme-dev-boundary"}
        if linked
        else {},
        **({"permissionsBoundary": [boundary.urn]} if linked else {}),
    )
    return boundary, role


def test_service_wildcards_on_every_resource_are_advisory_except_in_a_boundary() -> None:
    assert messages("iam-service-wildcards-scoped", *boundary_and_role(linked=True)) == []
    found = evaluate(
        boundary_and_role(linked=False), None, [RULES_BY_NAME["iam-service-wildcards-scoped"]]
    )
    assert [(f.enforcement, f.message) for f in found] == [
        (
            "advisory",
            "identity policy boundary-policy: statement ProjectServicesOnly allows all of "
            'codebuild:*, s3:* on every resource ("*"); scope Resource to the ARNs it manages',
        )
    ]
    scoped = res(ROLE_POLICY, "deploy", {"policy": doc(SCOPED)})
    assert messages("iam-service-wildcards-scoped", scoped) == []


def test_a_boundary_is_still_refused_a_star_action() -> None:
    boundary, role = boundary_and_role(linked=True)
    star = res(
        POLICY,
        "boundary-policy",
        {
            "name": "acme-dev-boundary",
            "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        },
    )
    assert messages("iam-no-star-actions", star, role) == [
        'boundary policy boundary-policy: statement #1 allows every action ("*"); name the '
        "actions it needs"
    ]
    assert messages("iam-no-star-actions", boundary, role) == []


KEY = "aws:kms/key:Key"
ACCOUNT_ADMIN = {
    "Sid": "AccountAdministersKey",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def test_a_key_policy_gives_kms_star_to_the_account_root_only() -> None:
    service = {
        "Sid": "SnsUse",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    assert (
        messages("kms-key-policy-scoped", res(KEY, "k", {"policy": doc(ACCOUNT_ADMIN, service)}))
        == []
    )
    role_admin = {**ACCOUNT_ADMIN, "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci"}}
    assert messages("kms-key-policy-scoped", res(KEY, "k", {"policy": doc(role_admin)})) == [
        "key policy of k: statement AccountAdministersKey gives kms:* to "
        "arn:aws:iam::111111111111:role/ci; only an account root may administer a key (AWS's "
        "default key policy): grant other principals the actions they use"
    ]
    anyone = {**service, "Sid": "Anyone", "Principal": "*"}
    assert messages("kms-key-policy-scoped", res(KEY, "k", {"policy": doc(anyone)})) == [
        "key policy of k: statement Anyone lets anyone (Principal *) use the key without a "
        "condition; name the principals or add a condition"
    ]


def test_kms_star_in_a_key_policy_is_not_a_star_action() -> None:
    assert messages("iam-no-star-actions", res(KEY, "k", {"policy": doc(ACCOUNT_ADMIN)})) == []


# --- Pipelines and deployments ------------------------------------------------------------------

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"


def action(name: str, category: str, provider: str, **configuration: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": category,
        "provider": provider,
        "configuration": configuration,
    }


def pipeline(
    stage: str = "prod",
    *,
    approval: bool = True,
    rollback: bool = True,
    strategy: str = "Canary10Percent5Minutes",
    kind: str = "V2",
) -> Resource:
    stages: list[dict[str, Any]] = [
        {"name": "Source", "actions": [action("Release", "Source", "S3")]},
    ]
    if approval:
        stages.append({"name": "Approval", "actions": [action("Approve", "Approval", "Manual")]})
    deploy: dict[str, Any] = {
        "name": "Deploy",
        "actions": [
            action("web", "Deploy", "CodeDeploy"),
            action("fn", "Deploy", "Lambda", DeployStrategy=strategy),
        ],
    }
    if rollback:
        deploy["onFailure"] = {"result": "ROLLBACK"}
    stages.append(deploy)
    stages.append({"name": "Publish", "actions": [action("Publish", "Deploy", "S3")]})
    return res(
        PIPELINE,
        "web-pipeline-pipeline",
        {
            "name": f"web-{stage}-pipeline",
            "pipelineType": kind,
            "stages": stages,
            "tags": {"cicd:stage": stage},
        },
    )


def group(
    stage: str = "prod", config: str = "CodeDeployDefault.OneAtATime", rollback: bool = True
) -> Resource:
    return res(
        GROUP,
        "web-deploy-web",
        {
            "deploymentGroupName": f"web-{stage}-web",
            "deploymentConfigName": config,
            "autoRollbackConfiguration": {"enabled": rollback, "events": ["DEPLOYMENT_FAILURE"]},
            "tags": {"cicd:stage": stage},
        },
    )


def test_a_v2_pipeline_passes_and_a_v1_or_untyped_one_fails() -> None:
    assert messages("pipeline-type-v2", pipeline()) == []
    assert messages("pipeline-type-v2", pipeline(kind="V1")) == [
        'pipeline web-prod-pipeline is type V1: set pipeline_type="V2" (stage conditions, '
        "rollback and triggers need V2)"
    ]


def test_a_production_pipeline_needs_a_manual_approval_before_it_deploys() -> None:
    assert messages("prod-pipeline-manual-approval", pipeline()) == []
    assert messages("prod-pipeline-manual-approval", pipeline(approval=False)) == [
        "production pipeline web-prod-pipeline has no manual approval before stage Deploy: "
        "enable approval for the service (approval.enabled: true)"
    ]
    assert messages("prod-pipeline-manual-approval", pipeline("dev", approval=False)) == []


def test_production_stages_come_from_the_rule_configuration() -> None:
    config = {"prod-pipeline-manual-approval": {"productionStages": ["prod", "dr"]}}
    dr = pipeline("dr", approval=False)
    assert len(messages("prod-pipeline-manual-approval", dr, config=config)) == 1
    assert messages("prod-pipeline-manual-approval", dr) == []


def test_production_deploys_roll_back_automatically_at_stage_and_group_level() -> None:
    assert messages("prod-automatic-rollback", pipeline(), group()) == []
    assert messages("prod-automatic-rollback", pipeline(rollback=False), group(rollback=False)) == [
        "production pipeline web-prod-pipeline: stage Deploy does not roll back on failure "
        "(onFailure.result not set); set deploy.stage_rollback_on_failure: true",
        "production deployment group web-prod-web does not roll back automatically on "
        "DEPLOYMENT_FAILURE; set deploy.auto_rollback: true",
    ]
    assert messages("prod-automatic-rollback", pipeline("dev", rollback=False)) == []


def test_production_never_deploys_all_at_once() -> None:
    assert messages("prod-deployment-not-all-at-once", pipeline(), group()) == []
    bad = messages(
        "prod-deployment-not-all-at-once",
        pipeline(strategy="AllAtOnce"),
        group(config="CodeDeployDefault.AllAtOnce"),
    )
    assert bad == [
        "production deployment group web-prod-web deploys all at once "
        "(CodeDeployDefault.AllAtOnce); use a one-at-a-time, half, canary or linear deployment "
        "config",
        "production pipeline web-prod-pipeline: Lambda action fn shifts all traffic at once "
        "(DeployStrategy AllAtOnce); use a canary or linear strategy",
    ]
    dev = messages(
        "prod-deployment-not-all-at-once",
        pipeline("dev", strategy="AllAtOnce"),
        group("dev", config="CodeDeployDefault.AllAtOnce"),
    )
    assert dev == []


def test_a_custom_deployment_config_with_no_healthy_hosts_is_all_at_once() -> None:
    custom = res(
        "aws:codedeploy/deploymentConfig:DeploymentConfig",
        "web-deploy-config",
        {
            "deploymentConfigName": "web-prod-zero",
            "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 0.0},
        },
    )
    assert messages("prod-deployment-not-all-at-once", group(config="web-prod-zero"), custom) == [
        "production deployment group web-prod-web deploys all at once (web-prod-zero: minimum "
        "healthy hosts 0); use a one-at-a-time, half, canary or linear deployment config"
    ]


# --- Configuration and the sample stacks --------------------------------------------------------


def test_every_rule_has_a_description_a_remediation_and_a_known_severity() -> None:
    assert len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.description.endswith(".") and rule.remediation, rule.name
        assert rule.enforcement in ("mandatory", "advisory"), rule.name
        assert rule.severity in ("low", "medium", "high", "critical"), rule.name
        assert set(rule.defaults) == set(rule.config_schema), rule.name


def test_a_rule_can_be_made_advisory_or_disabled_by_configuration() -> None:
    rule = [RULES_BY_NAME["pipeline-type-v2"]]
    v1 = pipeline(kind="V1")
    [advisory] = evaluate([v1], {"pipeline-type-v2": "advisory"}, rule)
    assert advisory.enforcement == "advisory"
    assert evaluate([v1], {"pipeline-type-v2": {"enforcementLevel": "disabled"}}, rule) == []
    assert evaluate([v1], {"all": "disabled"}, rule) == []


def test_a_configuration_naming_an_unknown_rule_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown rules \['pipeline-v3'\]"):
        evaluate([], {"pipeline-v3": "advisory"})
    with pytest.raises(ValueError, match="enforcementLevel 'warn' is not one of"):
        evaluate([], {"pipeline-type-v2": "warn"})


@pytest.fixture(scope="module")
def sample_runs() -> dict[str, Any]:
    return {name: run for name, (_, run) in evaluate_plans([n for n, _ in iter_stacks()]).items()}


def test_every_sample_stack_passes_every_guardrail(sample_runs: dict[str, Any]) -> None:
    for stack, run in sample_runs.items():
        findings = evaluate(guardrail_resources(run))
        assert findings == [], f"{stack}: {[f.message for f in findings]}"


def test_the_sample_stacks_give_each_rule_something_to_check(sample_runs: dict[str, Any]) -> None:
    """The pass above is not vacuous: buckets, projects, policies, key policies, production
    pipelines and deployment groups are all there, and the boundary is recognized as one."""
    from guardrails.model import Stack
    from guardrails.rules import documents

    prod = Stack(guardrail_resources(sample_runs["prod"]))
    kinds = {d.kind for d in documents(prod)}
    assert {"identity", "boundary", "trust", "resource", "key"} <= kinds
    assert any(r.tags.get("cicd:stage") == "prod" for r in prod.of_type(PIPELINE))
    assert len(list(prod.of_type(GROUP))) == 2
    staging = Stack(guardrail_resources(sample_runs["staging"]))
    # Artifacts, releases, and web's pull-request artifacts.
    assert len(list(staging.of_type(BUCKET))) == 3
