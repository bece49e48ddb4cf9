"""GitHubActionsOidc: who may assume the preview and deploy roles, and what they may do.

Trust policies are checked two ways: their exact `sub`/`aud` conditions, and a small evaluator of
IAM's StringEquals that replays the claims GitHub puts in tokens for other events and
repositories, so "cannot be assumed from a push" is asserted rather than inferred.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.github_oidc import (
    GITHUB_OIDC_HOST,
    GitHubActionsOidc,
    GitHubActionsOidcArgs,
    deploy_policy,
    parse_oidc_provider_arn,
    parse_repository,
)
from tests.harness import ACCOUNT, PROJECT, Recorder, run_pulumi

ROLE = "aws:iam/role:Role"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EXISTING_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"
REPO = "acme/payments"


def build(mocks: Recorder, **overrides: Any) -> dict[str, str]:
    """Run a GitHubActionsOidc for payments/dev under mocks; return its resolved outputs."""
    args: GitHubActionsOidcArgs = {"service": "payments", "stage": "dev", "repository": REPO}
    args.update(overrides)  # type: ignore[typeddict-item]
    outputs: dict[str, str] = {}

    def program() -> Any:
        oidc = GitHubActionsOidc("gha", args)
        return pulumi.Output.all(
            preview=oidc.preview_role_arn,
            deploy=oidc.deploy_role_arn,
            provider=oidc.oidc_provider_arn,
        ).apply(outputs.update)

    run_pulumi(program)
    return outputs


def trust_policy(mocks: Recorder, logical_name: str) -> dict[str, Any]:
    return json.loads(mocks.one(ROLE, logical_name).inputs["assumeRolePolicy"])


def inline_policy(mocks: Recorder, logical_name: str) -> dict[str, Any]:
    return json.loads(mocks.one(ROLE_POLICY, logical_name).inputs["policy"])


def claims(sub: str, aud: str = "sts.amazonaws.com") -> dict[str, str]:
    """The claims IAM sees from a GitHub token, keyed as IAM's condition keys."""
    return {f"{GITHUB_OIDC_HOST}:sub": sub, f"{GITHUB_OIDC_HOST}:aud": aud}


def admits(policy: dict[str, Any], provider_arn: str, token: dict[str, str]) -> bool:
    """Whether a web-identity token from `provider_arn` with these claims may assume the role.

    Understands exactly what these trust policies use (Allow, Federated, StringEquals with
    string or list values) and fails on anything else, so a policy that grows a StringLike
    cannot pass by being ignored.
    """
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        if statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        if statement["Principal"] != {"Federated": provider_arn}:
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}, f"unexpected operators in {conditions}"
        wanted = conditions.get("StringEquals", {})
        if all(
            token.get(key) in (value if isinstance(value, list) else [value])
            for key, value in wanted.items()
        ):
            return True
    return False


# --- Trust ------------------------------------------------------------------------------------


def test_the_preview_role_trusts_exactly_pull_requests_of_the_repository(mocks: Recorder) -> None:
    build(mocks)
    policy = trust_policy(mocks, "gha-preview-role")
    assert policy["Statement"] == [
        {
            "Sid": "GitHubPullRequests",
            "Effect": "Allow",
            "Principal": {"Federated": EXISTING_PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                    f"{GITHUB_OIDC_HOST}:sub": "repo:acme/payments:pull_request",
                }
            },
        }
    ], "gha-preview-role trust policy"


def test_the_preview_role_cannot_be_assumed_from_a_push_an_environment_or_another_repo(
    mocks: Recorder,
) -> None:
    build(mocks)
    policy = trust_policy(mocks, "gha-preview-role")
    assert admits(policy, EXISTING_PROVIDER, claims("repo:acme/payments:pull_request"))
    refused = {
        "push to main": claims("repo:acme/payments:ref:refs/heads/main"),
        "push of a tag": claims("repo:acme/payments:ref:refs/tags/v1"),
        "environment dev": claims("repo:acme/payments:environment:dev"),
        "another repository's PR": claims("repo:acme/other:pull_request"),
        "a fork owner's PR": claims("repo:mallory/payments:pull_request"),
        "another audience": claims("repo:acme/payments:pull_request", aud="api://other"),
    }
    for case, token in refused.items():
        assert not admits(policy, EXISTING_PROVIDER, token), f"gha-preview-role admits {case}"
    other_provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/example.com"
    assert not admits(policy, other_provider, claims("repo:acme/payments:pull_request"))


def test_the_deploy_role_trusts_only_jobs_in_the_stages_environment(mocks: Recorder) -> None:
    build(mocks)
    policy = trust_policy(mocks, "gha-deploy-role")
    [statement] = policy["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
            f"{GITHUB_OIDC_HOST}:sub": "repo:acme/payments:environment:dev",
        }
    }, "gha-deploy-role trust conditions"
    assert admits(policy, EXISTING_PROVIDER, claims("repo:acme/payments:environment:dev"))
    refused = {
        "environment prod": claims("repo:acme/payments:environment:prod"),
        "a pull request": claims("repo:acme/payments:pull_request"),
        "push to main": claims("repo:acme/payments:ref:refs/heads/main"),
        "another repository": claims("repo:acme/other:environment:dev"),
    }
    for case, token in refused.items():
        assert not admits(policy, EXISTING_PROVIDER, token), f"gha-deploy-role admits {case}"


def test_roles_are_named_by_the_naming_context_and_tagged(mocks: Recorder) -> None:
    build(mocks, tags={"team": "payments"})
    preview = mocks.one(ROLE, "gha-preview-role")
    deploy = mocks.one(ROLE, "gha-deploy-role")
    assert preview.inputs["name"] == "payments-dev-gha-preview", "gha-preview-role name"
    assert deploy.inputs["name"] == "payments-dev-gha-deploy", "gha-deploy-role name"
    for role in (preview, deploy):
        assert role.inputs["tags"]["cicd:stage"] == "dev", f"{role.name} tags"
        assert role.inputs["tags"]["team"] == "payments", f"{role.name} extra tags"


# --- Create or bring your own provider --------------------------------------------------------


def test_without_an_arn_the_github_oidc_provider_is_created(mocks: Recorder) -> None:
    outputs = build(mocks)
    provider = mocks.one(PROVIDER, "gha-oidc-provider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"], "gha-oidc-provider"
    assert outputs["provider"] == EXISTING_PROVIDER
    deploy = inline_policy(mocks, "gha-deploy-permissions")
    [manage] = [s for s in deploy["Statement"] if s["Sid"] == "GitHubOidcProvider"]
    assert manage["Resource"] == EXISTING_PROVIDER, "gha-deploy-permissions manages its provider"


def test_an_existing_provider_is_trusted_and_not_created(mocks: Recorder) -> None:
    existing = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    outputs = build(mocks, oidc_provider_arn=existing)
    assert mocks.of_type(PROVIDER) == [], "no OpenIdConnectProvider may be created"
    assert outputs["provider"] == existing
    for role in ("gha-preview-role", "gha-deploy-role"):
        [statement] = trust_policy(mocks, role)["Statement"]
        assert statement["Principal"] == {"Federated": existing}, role
    deploy = inline_policy(mocks, "gha-deploy-permissions")
    assert "GitHubOidcProvider" not in {s["Sid"] for s in deploy["Statement"]}
    # Every statement takes the account from one source, the caller's, whatever account a
    # configured ARN names (the stack's account checks refuse a foreign one before this runs).
    text = json.dumps(deploy)
    assert f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/payments-dev-*" in text
    assert "210987654321:role" not in text and "210987654321:policy" not in text


def test_an_enterprise_issuer_prefixes_the_condition_keys(mocks: Recorder) -> None:
    existing = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}/acme-corp"
    build(mocks, oidc_provider_arn=existing)
    [statement] = trust_policy(mocks, "gha-preview-role")["Statement"]
    assert set(statement["Condition"]["StringEquals"]) == {
        f"{GITHUB_OIDC_HOST}/acme-corp:aud",
        f"{GITHUB_OIDC_HOST}/acme-corp:sub",
    }


def test_giving_an_existing_provider_and_asking_to_create_one_is_an_error(
    mocks: Recorder,
) -> None:
    with pytest.raises(ValueError, match=r"oidc_provider_arn .* create_oidc_provider is True"):
        build(mocks, oidc_provider_arn=EXISTING_PROVIDER, create_oidc_provider=True)


def test_declining_to_create_a_provider_without_an_arn_is_an_error(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="no oidc_provider_arn was given"):
        build(mocks, create_oidc_provider=False)


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("token.actions.githubusercontent.com", "not an IAM OIDC provider ARN"),
        (
            f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            "not GitHub Actions'",
        ),
    ],
)
def test_an_arn_that_is_not_githubs_provider_is_refused(
    mocks: Recorder, arn: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(mocks, oidc_provider_arn=arn)
    assert mocks.of_type(ROLE) == [], "nothing may be registered before validation"


@pytest.mark.parametrize("repository", ["payments", "acme/pay/ments", "acme/", "-acme/x", "a b/c"])
def test_a_repository_that_is_not_owner_slash_name_is_refused(
    mocks: Recorder, repository: str
) -> None:
    with pytest.raises(ValueError, match="must be 'owner/name'"):
        build(mocks, repository=repository)


# --- Permissions ------------------------------------------------------------------------------


def test_both_roles_read_everything_through_aws_read_only_access(mocks: Recorder) -> None:
    build(mocks)
    for name, role in (("gha-preview-read-only", "preview"), ("gha-deploy-read-only", "deploy")):
        attachment = mocks.one(ATTACHMENT, name)
        assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess", name
        assert attachment.inputs["role"] == f"payments-dev-gha-{role}", name


def test_without_a_state_backend_the_preview_role_gets_no_inline_policy(mocks: Recorder) -> None:
    build(mocks)
    assert [r.name for r in mocks.of_type(ROLE_POLICY)] == ["gha-deploy-permissions"]


def test_with_a_state_backend_preview_reads_state_and_only_writes_locks(mocks: Recorder) -> None:
    bucket = "arn:aws:s3:::acme-pulumi-state"
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state"
    build(mocks, state_bucket_arn=bucket, state_kms_key_arn=key)
    statements = {s["Sid"]: s for s in inline_policy(mocks, "gha-preview-state")["Statement"]}
    assert statements["StateObjectsRead"]["Action"] == "s3:GetObject"
    assert statements["StateObjectsRead"]["Resource"] == f"{bucket}/*"
    assert statements["StateLocks"]["Resource"] == f"{bucket}/.pulumi/locks/*"
    assert statements["StateSecretsKey"] == {
        "Sid": "StateSecretsKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": key,
    }, "gha-preview-state may decrypt but not encrypt"
    deploy = {s["Sid"]: s for s in inline_policy(mocks, "gha-deploy-permissions")["Statement"]}
    assert deploy["StateObjects"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert "kms:Encrypt" in deploy["StateSecretsKey"]["Action"]


def test_the_deploy_role_writes_only_by_name_tag_or_account(mocks: Recorder) -> None:
    build(mocks)
    document = inline_policy(mocks, "gha-deploy-permissions")
    # The default event bus is one per account: its policy is the only thing to scope to.
    account_wide = {"ConnectionsInAccount", "NotificationRulesInAccount", "DefaultBus"}
    for statement in document["Statement"]:
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        sid = statement["Sid"]
        if resources == ["*"]:
            if statement["Effect"] == "Deny":
                continue  # a denial on everything only narrows
            # Creations AWS authorizes on no resource: each limited by the stage's request tag.
            if sid in {"EventBusPermissions", "SubscriptionsAndTargetsWithoutArns"}:
                continue  # actions with no resource type at all (test_iam_lint names them)
            assert sid in {
                "CreateKeysTaggedForStage",
                "CreateGitHubConnectionsTaggedForStage",
                "CreateSlackChannelsTaggedForStage",
            }, f"{sid}: only creations without a resource type may use '*'"
            assert statement["Condition"]["StringEquals"]["aws:RequestTag/cicd:stage"] == "dev"
            continue
        for resource in resources:
            assert f":{ACCOUNT}:" in resource or resource.startswith("arn:aws:s3:::"), (
                f"{sid}: {resource} is not scoped to the account"
            )
            named = "payments-dev" in resource or "gh-aws-delivery-dev" in resource
            conditioned = bool(statement.get("Condition"))  # by tag or service name
            exact = resource == EXISTING_PROVIDER
            assert named or conditioned or exact or sid in account_wide, (
                f"{sid}: {resource} is not scoped"
            )


def test_the_deploy_role_may_change_every_managed_services_resources(mocks: Recorder) -> None:
    build(mocks, service="gh-aws-delivery", managed_services=["web", "thumbnailer"])
    assert mocks.one(ROLE, "gha-deploy-role").inputs["name"] == "gh-aws-delivery-dev-gha-deploy"
    [roles] = [
        s
        for s in inline_policy(mocks, "gha-deploy-permissions")["Statement"]
        if s["Sid"] == "RolesByName"
    ]
    assert roles["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/gh-aws-delivery-dev-*",
        f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/web-dev-*",
        f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/thumbnailer-dev-*",
    ], "gha-deploy-permissions RolesByName"


def test_a_managed_service_that_breaks_the_naming_rules_is_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="naming: service 'Web'"):
        build(mocks, managed_services=["Web"])


def test_the_deploy_policy_covers_what_the_project_creates_and_fits_an_inline_policy() -> None:
    document = deploy_policy(
        partition="aws",
        account=ACCOUNT,
        stage="prod",
        name_bases=["payments-prod", "gh-aws-delivery-prod"],
        oidc_provider_arn=EXISTING_PROVIDER,
        state_bucket_arn="arn:aws:s3:::state",
        state_kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state",
    )
    services = {
        action.split(":")[0]
        for statement in document["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert services >= {
        "codepipeline",
        "codebuild",
        "codedeploy",
        "codeconnections",
        "s3",
        "iam",
        "logs",
        "cloudwatch",
        "sns",
        "kms",
        "codestar-notifications",
        "chatbot",
    }
    text = json.dumps(document)
    # The CodeDeploy application is named `{service}-{stage}` exactly.
    assert f'arn:aws:codedeploy:*:{ACCOUNT}:application:payments-prod"' in text
    # IAM counts a role's inline policies together against 10,240 characters, without spaces.
    assert len(json.dumps(document, separators=(",", ":"))) < 10_240


def test_children_are_parented_to_the_component_and_logical_names_are_pinned(
    mocks: Recorder,
) -> None:
    build(mocks, state_bucket_arn="arn:aws:s3:::state")
    component = mocks.one("delivery:cicd:GitHubActionsOidc", "gha")
    children = [
        r for r in mocks.resources if r.custom and not r.typ.startswith("pulumi:providers:")
    ]
    assert {r.parent for r in children} == {component.urn}
    # Renaming a stateful resource replaces it: add an alias instead.
    assert sorted(r.name for r in children) == [
        "gha-deploy-permissions",
        "gha-deploy-read-only",
        "gha-deploy-role",
        "gha-oidc-provider",
        "gha-preview-read-only",
        "gha-preview-role",
        "gha-preview-state",
    ]


def test_the_pure_parsers_explain_what_they_accept() -> None:
    assert parse_repository("acme/payments.api") == ("acme", "payments.api")
    assert parse_oidc_provider_arn(EXISTING_PROVIDER) == ("aws", ACCOUNT, GITHUB_OIDC_HOST)
    with pytest.raises(ValueError, match=r"'acme' must be 'owner/name'.*e\.g\."):
        parse_repository("acme")
