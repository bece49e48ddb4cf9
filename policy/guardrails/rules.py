"""The guardrails: what no stack of this project may declare, as plain Python rules.

Defines `RULES` (each a `Rule`: name, description, enforcement, severity, the check and its
configuration) and `evaluate`, which runs them over one stack's resources and returns the
findings. The same rules run in two places: `cicd plan --check` (offline, over the resources
Pulumi's mocks recorded) and the Pulumi policy pack in `policy/` (`guardrails.pack`, over what
the engine sends during `pulumi preview`/`up`). This module imports neither Pulumi nor
pulumi-policy. It does not fix anything: each message says what is wrong and what to change.

Decisions the rules encode (docs/plan-and-policy.md explains them):
- Every S3 bucket is checked, not only the artifact store: the release channel holds the very
  artifacts prod deploys.
- `"*"` actions and `NotAction` are refused in Allow statements of every policy document,
  identity or resource policy, the permissions boundary included (a `"*"` boundary is no
  ceiling). Deny statements may use both: they only take permissions away.
- Whole-service wildcards (`s3:*`) on `"Resource": "*"` are an advisory finding in identity
  policies, except in a permissions boundary, whose Allow is a ceiling that grants nothing.
- KMS key policies are resource policies: `kms:*` is allowed there only for account root
  principals, which is AWS's default key policy (it hands access control to IAM); any other
  principal with `kms:*`, or anyone (`*`) without a condition, is refused.
- "Production" is a resource's `cicd:stage` tag in `productionStages` (default: prod).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrails import release_safety
from guardrails.model import (
    Enforcement,
    Finding,
    Resource,
    Severity,
    Stack,
    as_list,
    is_unknown,
    policy_document,
    statements,
)

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
ENCRYPTION_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PROJECT = "aws:codebuild/project:Project"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
DEPLOYMENT_CONFIG = "aws:codedeploy/deploymentConfig:DeploymentConfig"
ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
INLINE_POLICIES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
RESOURCE_POLICIES = (
    BUCKET_POLICY,
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:secretsmanager/secretPolicy:SecretPolicy",
)
KEY_POLICIES = ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy")

STAGE_TAG = "cicd:stage"
"""The tag every resource of this project carries (components/naming.py, cicd/contract.py)."""
ALL_AT_ONCE_CONFIGS = frozenset(
    {
        "CodeDeployDefault.AllAtOnce",
        "CodeDeployDefault.LambdaAllAtOnce",
        "CodeDeployDefault.ECSAllAtOnce",
    }
)
# Deploy-category actions that change what runs. `S3` (this project's Publish) only writes the
# release for the stages downstream: there is nothing to roll back to on a failure there.
NON_ROLLBACK_DEPLOY_PROVIDERS = frozenset({"S3"})

SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)", re.IGNORECASE
)
SECRET_VALUES = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "a private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
}
CREDENTIALS_IN_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.IGNORECASE)
ACCOUNT_ROOT = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$")

Check = Callable[[Stack, Mapping[str, Any]], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class Rule:
    """One guardrail. `check` yields `(urn, message)` per violation; `defaults` is its config."""

    name: str
    description: str
    enforcement: Enforcement
    severity: Severity
    check: Check
    remediation: str
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON schema of each configuration property (the pack's `PolicyConfigSchema`)."""
    defaults: Mapping[str, Any] = field(default_factory=dict)


# Helpers ---------------------------------------------------------------------------------------


def _label(resource: Resource) -> str:
    return resource.name


def _buckets(stack: Stack) -> Iterator[Resource]:
    return stack.of_type(BUCKET, BUCKET_V2)


def _bucket_display(bucket: Resource) -> str:
    physical = bucket.props.get("bucket")
    if isinstance(physical, str) and physical:
        return f"{bucket.name} ({physical})"
    return bucket.name


def _production(resource: Resource, config: Mapping[str, Any]) -> bool:
    stage = resource.tags.get(STAGE_TAG)
    return isinstance(stage, str) and stage in set(config.get("productionStages") or ())


def _stages(pipeline: Resource) -> list[Mapping[str, Any]]:
    return [s for s in as_list(pipeline.props.get("stages")) if isinstance(s, Mapping)]


def _actions(stage: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [a for a in as_list(stage.get("actions")) if isinstance(a, Mapping)]


def _deploys(action: Mapping[str, Any]) -> bool:
    return (
        action.get("category") == "Deploy"
        and action.get("provider") not in NON_ROLLBACK_DEPLOY_PROVIDERS
    )


def _pipeline_display(pipeline: Resource) -> str:
    name = pipeline.props.get("name")
    return name if isinstance(name, str) and name else pipeline.name


# S3 --------------------------------------------------------------------------------------------


def _bucket_encrypted(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for bucket in _buckets(stack):
        inline = bucket.props.get("serverSideEncryptionConfiguration")
        if inline:
            continue
        settings = stack.settings_of(bucket, ENCRYPTION) + stack.settings_of(bucket, ENCRYPTION_V2)
        if not settings:
            yield (
                bucket.urn,
                f"bucket {_bucket_display(bucket)} has no default encryption: declare an "
                "aws.s3.BucketServerSideEncryptionConfiguration for it (SSE-S3 or a KMS key)",
            )
            continue
        for setting in settings:
            rules = as_list(setting.props.get("rules"))
            algorithms = [
                r.get("applyServerSideEncryptionByDefault", {}).get("sseAlgorithm")
                for r in rules
                if isinstance(r, Mapping)
            ]
            if any(is_unknown(a) for a in algorithms) or is_unknown(setting.props.get("rules")):
                continue
            if not any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algorithms):
                yield (
                    setting.urn,
                    f"bucket {_bucket_display(bucket)}: encryption {setting.name} sets no "
                    f"default algorithm (found {algorithms or 'no rules'}); use AES256 or aws:kms",
                )


def _bucket_versioned(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for bucket in _buckets(stack):
        inline = bucket.props.get("versioning")
        if isinstance(inline, Mapping) and inline.get("enabled") is True:
            continue
        settings = stack.settings_of(bucket, VERSIONING) + stack.settings_of(bucket, VERSIONING_V2)
        statuses = [s.get("versioningConfiguration.status") for s in settings]
        if any(is_unknown(s) for s in statuses):
            continue
        if "Enabled" not in statuses:
            found = f"status {statuses[0]}" if statuses else "no aws.s3.BucketVersioning"
            yield (
                bucket.urn,
                f"bucket {_bucket_display(bucket)} is not versioned ({found}): declare an "
                "aws.s3.BucketVersioning with status Enabled",
            )


_PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _bucket_private(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for bucket in _buckets(stack):
        blocks = stack.settings_of(bucket, PUBLIC_ACCESS)
        if not blocks:
            yield (
                bucket.urn,
                f"bucket {_bucket_display(bucket)} has no public access block: declare an "
                "aws.s3.BucketPublicAccessBlock with all four settings true",
            )
            continue
        for block in blocks:
            values = {flag: block.props.get(flag) for flag in _PUBLIC_ACCESS_FLAGS}
            off = [f for f, v in values.items() if v is not True and not is_unknown(v)]
            if off:
                yield (
                    block.urn,
                    f"bucket {_bucket_display(bucket)}: public access block {block.name} leaves "
                    f"{', '.join(off)} off; set all four to true",
                )


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, Mapping) and principal.get("AWS") == "*"):
        return False
    if not {"*", "s3:*"} & set(as_list(statement.get("Action"))):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    secure = condition.get("Bool")
    if not isinstance(secure, Mapping):
        return False
    return str(secure.get("aws:SecureTransport")).lower() == "false"


def _bucket_tls_only(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for bucket in _buckets(stack):
        policies = stack.settings_of(bucket, BUCKET_POLICY)
        documents = [s.props.get("policy") for s in policies]
        if any(is_unknown(d) for d in documents):
            continue  # a policy built from the bucket's ARN: known at `pulumi up`
        for document in documents:
            for statement in statements(policy_document(document)):
                if not _denies_insecure_transport(statement):
                    continue
                resources = [str(r) for r in as_list(statement.get("Resource"))]
                if "*" in resources or (
                    any(r.endswith("/*") for r in resources)
                    and any(not r.endswith("/*") for r in resources)
                ):
                    break
            else:
                continue
            break
        else:
            yield (
                bucket.urn,
                f"bucket {_bucket_display(bucket)} accepts requests without TLS: its bucket "
                "policy needs a Deny of s3:* for Principal * on the bucket and bucket/* when "
                'aws:SecureTransport is "false"',
            )


# CodeBuild -------------------------------------------------------------------------------------


def _logging_on(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for project in stack.of_type(PROJECT):
        cloudwatch = project.get("logsConfig.cloudwatchLogs.status", "ENABLED")
        s3 = project.get("logsConfig.s3Logs.status", "DISABLED")
        if is_unknown(cloudwatch) or is_unknown(s3):
            continue
        if cloudwatch == "DISABLED" and s3 != "ENABLED":
            yield (
                project.urn,
                f"CodeBuild project {_project_name(project)} keeps no logs (CloudWatch Logs and "
                "S3 logs both disabled): enable logsConfig.cloudwatchLogs",
            )


def _project_name(project: Resource) -> str:
    name = project.props.get("name")
    return name if isinstance(name, str) and name else project.name


def _privileged(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    allowed = [str(p) for p in config.get("allowedProjects") or ()]
    for project in stack.of_type(PROJECT):
        if project.get("environment.privilegedMode") is not True:
            continue
        name = _project_name(project)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed):
            continue
        yield (
            project.urn,
            f"CodeBuild project {name} runs in privileged mode, which can escape the build "
            "container: turn privileged off, or add the project to the allowedProjects of "
            "codebuild-privileged-mode-allow-listed",
        )


def _plaintext_secrets(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for project in stack.of_type(PROJECT):
        variables = as_list(project.get("environment.environmentVariables"))
        for variable in variables:
            if not isinstance(variable, Mapping):
                continue
            kind = variable.get("type", "PLAINTEXT")
            value = variable.get("value")
            if kind != "PLAINTEXT" or not isinstance(value, str) or not value:
                continue
            name = str(variable.get("name"))
            looks = [what for what, pattern in SECRET_VALUES.items() if pattern.search(value)]
            if SECRET_NAME.search(name) or looks:
                why = f"its value looks like {looks[0]}" if looks else "its name says secret"
                yield (
                    project.urn,
                    f"CodeBuild project {_project_name(project)}: environment variable {name} "
                    f"is PLAINTEXT but {why}; store it in Secrets Manager or Parameter Store "
                    "and reference it (type SECRETS_MANAGER or PARAMETER_STORE)",
                )


def _source_urls(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for project in stack.of_type(PROJECT):
        sources = [project.props.get("source"), *as_list(project.props.get("secondarySources"))]
        for source in sources:
            if not isinstance(source, Mapping):
                continue
            location = source.get("location")
            if isinstance(location, str) and CREDENTIALS_IN_URL.search(location):
                yield (
                    project.urn,
                    f"CodeBuild project {_project_name(project)}: source location "
                    f"{_redact(location)} carries credentials; use a CodeConnections connection "
                    "or a source credential (aws.codebuild.SourceCredential) instead",
                )
    for pipeline in stack.of_type(PIPELINE):
        for stage in _stages(pipeline):
            for action in _actions(stage):
                configuration = action.get("configuration")
                if not isinstance(configuration, Mapping):
                    continue
                for key, value in sorted(configuration.items()):
                    if isinstance(value, str) and CREDENTIALS_IN_URL.search(value):
                        yield (
                            pipeline.urn,
                            f"pipeline {_pipeline_display(pipeline)}: action {action.get('name')} "
                            f"{key} {_redact(value)} carries credentials; use a connection",
                        )


def _redact(url: str) -> str:
    return re.sub(r"://[^/@\s]+@", "://***@", url)


# IAM and KMS -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    resource: Resource
    kind: str
    """identity, boundary, trust, resource or key."""
    where: str
    """How a message names it: `policy of role-policy-x`, `trust policy of role-y`, ..."""
    document: Mapping[str, Any]


def documents(stack: Stack) -> Iterator[Document]:
    """Every policy document the stack declares, with what kind of policy it is."""
    boundaries = _boundary_urns(stack)
    for resource in stack.resources:
        if resource.type == MANAGED_POLICY:
            kind = "boundary" if resource.urn in boundaries else "identity"
            found = [(kind, f"{kind} policy {resource.name}", resource.props.get("policy"))]
        elif resource.type in INLINE_POLICIES:
            found = [("identity", f"policy {resource.name}", resource.props.get("policy"))]
        elif resource.type == ROLE:
            trust = resource.props.get("assumeRolePolicy")
            found = [("trust", f"trust policy of role {resource.name}", trust)]
            for inline in as_list(resource.props.get("inlinePolicies")):
                if isinstance(inline, Mapping):
                    label = f"inline policy {inline.get('name')} of role {resource.name}"
                    found.append(("identity", label, inline.get("policy")))
        elif resource.type in RESOURCE_POLICIES:
            policy = resource.props.get("policy")
            found = [("resource", f"resource policy {resource.name}", policy)]
        elif resource.type in KEY_POLICIES:
            found = [("key", f"key policy of {resource.name}", resource.props.get("policy"))]
        else:
            continue
        for kind, where, text in found:
            document = policy_document(text)
            if document is not None:
                yield Document(resource, kind, where, document)


def _boundary_urns(stack: Stack) -> set[str]:
    """Managed policies some role of the stack carries as its permissions boundary."""
    urns = stack.referenced_by(ROLE, "permissionsBoundary")
    arns = {
        r.props.get("permissionsBoundary")
        for r in stack.of_type(ROLE)
        if isinstance(r.props.get("permissionsBoundary"), str)
    }
    for policy in stack.of_type(MANAGED_POLICY):
        name = policy.props.get("name")
        if isinstance(name, str) and any(str(a).endswith(f"/{name}") for a in arns):
            urns.add(policy.urn)
    return urns & {p.urn for p in stack.of_type(MANAGED_POLICY)}


def _sid(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid}" if sid else f"statement #{index + 1}"


def _no_star_actions(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for doc in documents(stack):
        for index, statement in enumerate(statements(doc.document)):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                excluded = ", ".join(map(str, as_list(statement.get("NotAction"))))
                yield (
                    doc.resource.urn,
                    f"{doc.where}: {_sid(statement, index)} allows every action except "
                    f"{excluded} (NotAction); list the actions it needs in Action instead",
                )
            if {"*", "*:*"} & {str(a) for a in as_list(statement.get("Action"))}:
                yield (
                    doc.resource.urn,
                    f'{doc.where}: {_sid(statement, index)} allows every action ("*"); '
                    "name the actions it needs",
                )


def _service_wildcards(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for doc in documents(stack):
        if doc.kind != "identity":
            continue
        for index, statement in enumerate(statements(doc.document)):
            if statement.get("Effect") != "Allow":
                continue
            everywhere = "*" in as_list(statement.get("Resource")) or "NotResource" in statement
            services = sorted(
                str(a)
                for a in as_list(statement.get("Action"))
                if re.fullmatch(r"[\w-]+:\*", str(a))
            )
            if everywhere and services:
                yield (
                    doc.resource.urn,
                    f"{doc.where}: {_sid(statement, index)} allows all of {', '.join(services)} "
                    'on every resource ("*"); scope Resource to the ARNs it manages',
                )


def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, Mapping):
        return [str(p) for values in principal.values() for p in as_list(values)]
    return []


def _key_policies(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for doc in documents(stack):
        if doc.kind != "key":
            continue
        for index, statement in enumerate(statements(doc.document)):
            if statement.get("Effect") != "Allow":
                continue
            principals = _principals(statement)
            if "*" in principals and not statement.get("Condition"):
                yield (
                    doc.resource.urn,
                    f"{doc.where}: {_sid(statement, index)} lets anyone (Principal *) use the "
                    "key without a condition; name the principals or add a condition",
                )
            if "kms:*" in as_list(statement.get("Action")):
                others = [p for p in principals if not ACCOUNT_ROOT.match(p)]
                if others:
                    yield (
                        doc.resource.urn,
                        f"{doc.where}: {_sid(statement, index)} gives kms:* to "
                        f"{', '.join(others)}; only an account root may administer a key (AWS's "
                        "default key policy): grant other principals the actions they use",
                    )


# Pipelines and deployments ---------------------------------------------------------------------


def _pipeline_v2(stack: Stack, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for pipeline in stack.of_type(PIPELINE):
        kind = pipeline.props.get("pipelineType")
        if is_unknown(kind) or kind == "V2":
            continue
        yield (
            pipeline.urn,
            f"pipeline {_pipeline_display(pipeline)} is type {kind or 'V1 (the default)'}: set "
            'pipeline_type="V2" (stage conditions, rollback and triggers need V2)',
        )


def _prod_approval(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for pipeline in stack.of_type(PIPELINE):
        if not _production(pipeline, config):
            continue
        stages = _stages(pipeline)
        first_deploy = next(
            (i for i, s in enumerate(stages) if any(_deploys(a) for a in _actions(s))),
            len(stages),
        )
        approved = any(
            a.get("category") == "Approval" and a.get("provider") == "Manual"
            for s in stages[:first_deploy]
            for a in _actions(s)
        )
        if not approved:
            where = (
                f"before stage {stages[first_deploy].get('name')}"
                if first_deploy < len(stages)
                else "in any stage"
            )
            yield (
                pipeline.urn,
                f"production pipeline {_pipeline_display(pipeline)} has no manual approval "
                f"{where}: enable approval for the service (approval.enabled: true)",
            )


def _prod_rollback(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for pipeline in stack.of_type(PIPELINE):
        if not _production(pipeline, config):
            continue
        for stage in _stages(pipeline):
            if not any(_deploys(a) for a in _actions(stage)):
                continue
            on_failure = stage.get("onFailure")
            result = on_failure.get("result") if isinstance(on_failure, Mapping) else None
            if result != "ROLLBACK" and not is_unknown(result):
                yield (
                    pipeline.urn,
                    f"production pipeline {_pipeline_display(pipeline)}: stage "
                    f"{stage.get('name')} does not roll back on failure (onFailure.result "
                    f"{result or 'not set'}); set deploy.stage_rollback_on_failure: true",
                )
    for group in stack.of_type(DEPLOYMENT_GROUP):
        if not _production(group, config):
            continue
        enabled = group.get("autoRollbackConfiguration.enabled")
        events = as_list(group.get("autoRollbackConfiguration.events"))
        if is_unknown(enabled):
            continue
        if enabled is not True or "DEPLOYMENT_FAILURE" not in events:
            yield (
                group.urn,
                f"production deployment group {group.get('deploymentGroupName') or group.name} "
                "does not roll back automatically on DEPLOYMENT_FAILURE; set "
                "deploy.auto_rollback: true",
            )


def _prod_gradual(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    custom = {str(c.get("deploymentConfigName")): c for c in stack.of_type(DEPLOYMENT_CONFIG)}
    for group in stack.of_type(DEPLOYMENT_GROUP):
        if not _production(group, config):
            continue
        name = group.props.get("deploymentConfigName", "CodeDeployDefault.OneAtATime")
        if is_unknown(name):
            continue
        why = None
        if name in ALL_AT_ONCE_CONFIGS:
            why = name
        elif name in custom:
            why = _all_at_once_config(custom[name])
        if why:
            yield (
                group.urn,
                f"production deployment group {group.get('deploymentGroupName') or group.name} "
                f"deploys all at once ({why}); use a one-at-a-time, half, canary or linear "
                "deployment config",
            )
    for pipeline in stack.of_type(PIPELINE):
        if not _production(pipeline, config):
            continue
        for stage in _stages(pipeline):
            for action in _actions(stage):
                configuration = action.get("configuration")
                if action.get("provider") != "Lambda" or not isinstance(configuration, Mapping):
                    continue
                if configuration.get("DeployStrategy") == "AllAtOnce":
                    yield (
                        pipeline.urn,
                        f"production pipeline {_pipeline_display(pipeline)}: Lambda action "
                        f"{action.get('name')} shifts all traffic at once (DeployStrategy "
                        "AllAtOnce); use a canary or linear strategy",
                    )


def _all_at_once_config(config: Resource) -> str | None:
    hosts = config.props.get("minimumHealthyHosts")
    if isinstance(hosts, Mapping) and hosts.get("value") in (0, 0.0):
        return f"{config.get('deploymentConfigName')}: minimum healthy hosts 0"
    routing = config.get("trafficRoutingConfig.type")
    if routing == "AllAtOnce":
        return f"{config.get('deploymentConfigName')}: traffic routing AllAtOnce"
    return None


# The rules -------------------------------------------------------------------------------------

_PRODUCTION_SCHEMA = {
    "productionStages": {
        "type": "array",
        "items": {"type": "string"},
        "description": "cicd:stage tag values that mean production",
    }
}
_PRODUCTION_DEFAULTS = {"productionStages": ["prod"]}
_NOW_SCHEMA = {
    "now": {
        "type": "string",
        "description": "ISO moment the window is measured from (tests); empty: now",
    }
}
_NOW_DEFAULTS = {"now": ""}

RULES: tuple[Rule, ...] = (
    Rule(
        "s3-bucket-encrypted",
        "Every S3 bucket has default encryption (SSE-S3 or KMS).",
        "mandatory",
        "high",
        _bucket_encrypted,
        "Declare aws.s3.BucketServerSideEncryptionConfiguration (components/bucket.py does).",
    ),
    Rule(
        "s3-bucket-versioned",
        "Every S3 bucket is versioned, so an overwritten artifact or release can be restored.",
        "mandatory",
        "medium",
        _bucket_versioned,
        "Declare aws.s3.BucketVersioning with status Enabled.",
    ),
    Rule(
        "s3-bucket-public-access-blocked",
        "Every S3 bucket blocks all four kinds of public access.",
        "mandatory",
        "critical",
        _bucket_private,
        "Declare aws.s3.BucketPublicAccessBlock with all four settings true.",
    ),
    Rule(
        "s3-bucket-tls-only",
        "Every S3 bucket's policy denies requests that do not use TLS.",
        "mandatory",
        "high",
        _bucket_tls_only,
        "Deny s3:* to Principal * on the bucket and bucket/* unless aws:SecureTransport.",
    ),
    Rule(
        "codebuild-logging-enabled",
        "Every CodeBuild project writes its logs to CloudWatch Logs or S3.",
        "mandatory",
        "medium",
        _logging_on,
        "Leave logsConfig.cloudwatchLogs enabled (components/build_project.py does).",
    ),
    Rule(
        "codebuild-privileged-mode-allow-listed",
        "CodeBuild projects run unprivileged unless allow-listed by name.",
        "mandatory",
        "high",
        _privileged,
        "Set build.privileged: false, or allow-list the project in the policy configuration.",
        config_schema={
            "allowedProjects": {
                "type": "array",
                "items": {"type": "string"},
                "description": "project names (shell-style patterns) that may run privileged",
            }
        },
        defaults={"allowedProjects": []},
    ),
    Rule(
        "codebuild-no-plaintext-secrets",
        "No CodeBuild environment variable holds a secret in plaintext.",
        "mandatory",
        "critical",
        _plaintext_secrets,
        "Reference Secrets Manager ({secret: ARN}) or Parameter Store ({parameter: name}).",
    ),
    Rule(
        "no-credentials-in-source-urls",
        "No CodeBuild source or pipeline action URL carries a user name, password or token.",
        "mandatory",
        "critical",
        _source_urls,
        "Use a CodeConnections connection or a CodeBuild source credential.",
    ),
    Rule(
        "iam-no-star-actions",
        'No policy allows "*" actions or uses NotAction in an Allow statement.',
        "mandatory",
        "critical",
        _no_star_actions,
        "Name the actions each statement needs.",
    ),
    Rule(
        "iam-service-wildcards-scoped",
        "Identity policies scope whole-service wildcards (s3:*) to named resources.",
        "advisory",
        "medium",
        _service_wildcards,
        "Scope Resource to the ARNs the role manages, or list the actions.",
    ),
    Rule(
        "kms-key-policy-scoped",
        "KMS key policies give kms:* only to account roots and nothing to anyone unconditionally.",
        "mandatory",
        "high",
        _key_policies,
        "Keep AWS's default key statement for the account; grant services narrow actions.",
    ),
    Rule(
        "pipeline-type-v2",
        "Every pipeline is CodePipeline type V2.",
        "mandatory",
        "medium",
        _pipeline_v2,
        'Set pipeline_type="V2".',
    ),
    Rule(
        "prod-pipeline-manual-approval",
        "Production pipelines wait for a manual approval before they deploy.",
        "mandatory",
        "critical",
        _prod_approval,
        "Enable approval for every production service (approval.enabled: true).",
        config_schema=_PRODUCTION_SCHEMA,
        defaults=_PRODUCTION_DEFAULTS,
    ),
    Rule(
        "prod-automatic-rollback",
        "Production deploy stages and deployment groups roll back automatically on failure.",
        "mandatory",
        "critical",
        _prod_rollback,
        "Keep deploy.auto_rollback and deploy.stage_rollback_on_failure true.",
        config_schema=_PRODUCTION_SCHEMA,
        defaults=_PRODUCTION_DEFAULTS,
    ),
    Rule(
        "prod-deployment-not-all-at-once",
        "Production deployments never replace every host or all traffic at once.",
        "mandatory",
        "high",
        _prod_gradual,
        "Use OneAtATime, HalfAtATime, or a canary/linear Lambda strategy.",
        config_schema=_PRODUCTION_SCHEMA,
        defaults=_PRODUCTION_DEFAULTS,
    ),
    # Release safety (issue 20): guardrails/release_safety.py.
    Rule(
        "alarm-fires-at-low-traffic",
        "A watched alarm can fire when traffic is low: synthetic traffic reaches its service, or "
        "it is no count above 1 and no metric math that passes on missing data.",
        "mandatory",
        "high",
        release_safety.alarms_fire_at_low_traffic,
        "Set deploy.traffic, or deploy.alarm_defaults.measure: rate (missing data breaching).",
    ),
    Rule(
        "bake-covers-alarm-evaluation",
        "A bake lasts at least as long as each alarm it watches needs to evaluate "
        "(period x evaluation periods).",
        "mandatory",
        "high",
        release_safety.bake_covers_alarm_evaluation,
        "Raise deploy.bake_minutes, or evaluate the alarm over fewer or shorter periods.",
    ),
    Rule(
        "deployment-window-opens",
        "Every deployment window opens at least once in the coming 400 days.",
        "mandatory",
        "high",
        release_safety.windows_open,
        "Fix deploy.window.cron (six or seven fields, seconds first).",
        config_schema=_NOW_SCHEMA,
        defaults=_NOW_DEFAULTS,
    ),
    Rule(
        "approval-outlasts-closed-window",
        "An approval waits at least as long as the window after it stays closed.",
        "mandatory",
        "medium",
        release_safety.approval_outlasts_closed_window,
        "Raise approval.timeout_minutes to the window's longest closed stretch.",
        config_schema=_NOW_SCHEMA,
        defaults=_NOW_DEFAULTS,
    ),
    Rule(
        "prod-stage-watches-alarms",
        "Every production stage that deploys watches at least one alarm.",
        "mandatory",
        "critical",
        release_safety.prod_watches_alarms,
        "Set deploy.default_alarms: true or list deploy.alarms for every production service.",
        config_schema=_PRODUCTION_SCHEMA,
        defaults=_PRODUCTION_DEFAULTS,
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


def rule_config(rule: Rule, config: Mapping[str, Any] | None) -> tuple[Enforcement, dict[str, Any]]:
    """A rule's enforcement and properties from a policy configuration.

    `config` has the shape `pulumi policy enable --config FILE` reads: rule name (or `all`) ->
    either an enforcement level (`"advisory"`) or an object with `enforcementLevel` and
    properties.
    """
    enforcement: Enforcement = rule.enforcement
    properties = dict(rule.defaults)
    every = (config or {}).get("all")
    if isinstance(every, str):
        enforcement = _enforcement(rule, every)
    elif isinstance(every, Mapping) and "enforcementLevel" in every:
        enforcement = _enforcement(rule, str(every["enforcementLevel"]))
    entry = (config or {}).get(rule.name)
    if isinstance(entry, str):
        enforcement = _enforcement(rule, entry)
    elif isinstance(entry, Mapping):
        if "enforcementLevel" in entry:
            enforcement = _enforcement(rule, str(entry["enforcementLevel"]))
        properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    return enforcement, properties


def _enforcement(rule: Rule, level: str) -> Enforcement:
    if level not in ("mandatory", "advisory", "disabled"):
        raise ValueError(
            f"policy config for {rule.name}: enforcementLevel {level!r} is not one of "
            "mandatory, advisory, disabled"
        )
    return level  # type: ignore[return-value]


def evaluate(
    resources: Iterable[Resource],
    config: Mapping[str, Any] | None = None,
    rules: Sequence[Rule] | None = None,
) -> list[Finding]:
    """Every violation of every enabled rule (default: `RULES`), in rule order."""
    rules = RULES if rules is None else rules
    unknown = set(config or {}) - {rule.name for rule in RULES} - {"all"}
    if unknown:
        raise ValueError(
            f"policy config names unknown rules {sorted(unknown)}; the rules are "
            f"{', '.join(sorted(RULES_BY_NAME))}"
        )
    stack = Stack(resources)
    findings: list[Finding] = []
    for rule in rules:
        enforcement, properties = rule_config(rule, config)
        if enforcement == "disabled":
            continue
        seen: set[tuple[str | None, str]] = set()
        for urn, message in rule.check(stack, properties):
            if (urn, message) not in seen:
                seen.add((urn, message))
                findings.append(Finding(rule.name, enforcement, rule.severity, urn, message))
    return findings
