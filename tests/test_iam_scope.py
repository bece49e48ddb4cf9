"""Least privilege across every policy every stack declares: no wildcard actions, scoped ARNs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import ACCOUNT, PROJECT, Resource, iter_stacks, run_stacks

STACKS = dict(iter_stacks())

# Where AWS forces `"Resource": "*"`, by statement Sid, with the reason (also commented in code).
FORCED_WILDCARD_RESOURCES = {
    "LaunchGreenFleet": "green instances of a blue/green deployment do not exist yet",
    "PassInstanceProfileRole": "the ASG's instance role is not managed here; limited to EC2",
    "DenyInsecureTransport": "a Deny: TLS is required for every principal and action",
    "CreateKeysTaggedForStage": "kms:CreateKey has no ARN yet; limited by the request's stage tag",
    "CreateGitHubConnectionsTaggedForStage": "CreateConnection has no resource type; stage tag",
    "CreateSlackChannelsTaggedForStage": "CreateSlackChannelConfiguration has no resource type",
    "EventBusPermissions": "events:PutPermission has no resource type",
    "SubscriptionsAndTargetsWithoutArns": "sns:Unsubscribe and DeleteTarget have no resource type",
    "DescribeVpcNetwork": "EC2's Describe actions have no resource types (a release task's VPC)",
    "FindThePipelineByItsTags": "tag:GetResources has no resource types (approvers find pipelines)",
    "ScanSourceWithInspector": "inspector-scan:ScanSbom has no resource types (InspectorScan)",
    "PublishDeliveryMetrics": "cloudwatch:PutMetricData has no resource type; namespace condition",
    "CanaryListsBuckets": "s3:ListAllMyBuckets has no resource type (a canary's run lists them)",
    "CanaryMetrics": "cloudwatch:PutMetricData has no resource type; limited by its namespace",
    "ReadMetricsForAnalysis": "cloudwatch:GetMetricData has no resource type (metric analysis)",
}
# A permissions boundary grants nothing: its Allow is a ceiling (test_boundary.py checks it).
BOUNDARY_POLICY = "boundary-policy"
# The GitHub Actions deploy role runs `pulumi up`: it must create, change, tag and delete every
# resource type the project manages, so it gets whole services, but only on resources whose names
# carry this stage's prefixes (checked below), never `"*"` actions.
DEPLOY_ROLE_POLICY = "github-actions-deploy-permissions"
# Resources whose ARNs end in a generated ID, so no name prefix can scope them.
GENERATED_ID_RESOURCES = (":connection/*", ":notificationrule/*", ":key/*", "aws-service-role/*")
# One per account and region: nothing narrower than the account exists.
ACCOUNT_SINGLETONS = (":event-bus/default",)
# Key policies: "Resource": "*" means "this key" in a KMS key policy.
KEY_POLICY_TYPES = {"aws:kms/key:Key"}


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, Resource, dict[str, Any]]]:
    found = []
    for stack, run in run_stacks(STACKS).items():
        for r in run.recorder.resources:
            for key in ("policy", "assumeRolePolicy"):
                text = r.inputs.get(key)
                if isinstance(text, str) and text.startswith("{"):
                    found.append((stack, r, json.loads(text)))
    # Blue/green is not in the sample stacks; its policy is checked through the component.
    from components.deployment import blue_green_launch_policy

    found.append(
        (
            "any",
            Resource("aws:iam/rolePolicy:RolePolicy", "blue-green", {}, True),
            json.loads(blue_green_launch_policy()),
        )
    )
    return found


def statements(documents: list[tuple[str, Resource, dict[str, Any]]]):
    for stack, resource, document in documents:
        for statement in document["Statement"]:
            yield stack, resource, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_policies_were_found_for_every_stack(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    assert {stack for stack, _, _ in documents} >= set(STACKS)
    assert len(documents) > 40


def test_no_allow_statement_grants_every_action_of_a_service(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    for stack, resource, statement in statements(documents):
        if statement["Effect"] != "Allow" or resource.name in (DEPLOY_ROLE_POLICY, BOUNDARY_POLICY):
            continue
        for action in as_list(statement.get("Action", [])):
            if resource.typ in KEY_POLICY_TYPES and statement.get("Sid") == "AccountAdministersKey":
                continue  # the account root administering its own key, as AWS's default policy
            assert action != "*" and not action.endswith(":*"), f"{stack} {resource.name}: {action}"


def test_wildcard_resources_appear_only_where_aws_forces_them(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    for stack, resource, statement in statements(documents):
        if resource.typ in KEY_POLICY_TYPES or resource.name == BOUNDARY_POLICY:
            continue
        for arn in as_list(statement.get("Resource", [])):
            if arn == "*" and statement["Effect"] == "Deny":
                continue  # a denial on everything only narrows
            if arn == "*":
                assert statement.get("Sid") in FORCED_WILDCARD_RESOURCES, (
                    f"{stack} {resource.name}: {statement}"
                )
            else:
                assert arn.startswith("arn:aws"), f"{stack} {resource.name}: {arn}"


def test_roles_can_be_assumed_only_by_their_service_for_this_account(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    trusts = [(s, r, d) for s, r, d in documents if r.typ == "aws:iam/role:Role"]
    assert trusts
    for stack, role, document in trusts:
        for statement in document["Statement"]:
            principal = statement["Principal"]
            if set(principal) == {"Federated"}:
                # GitHub Actions roles: this repository only (exact claims: test_github_oidc.py).
                assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", role.name
                claims = statement["Condition"]["StringEquals"]
                assert claims["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
                assert claims["token.actions.githubusercontent.com:sub"].startswith(
                    "repo:acme/delivery-platform:"
                )
                continue
            if role.name.endswith("-approvers-role"):
                # People assume the approver role: this account's IAM, unless names are given
                # (`approval.approvers`; test_boundary.py checks what it may do).
                assert statement["Action"] == "sts:AssumeRole", role.name
                assert principal in (
                    {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                    {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/media-release-managers"]},
                ), role.name
                continue
            assert set(principal) == {"Service"}, f"{stack} {role.name}: {principal}"
            if principal["Service"] == "chatbot.amazonaws.com":
                continue  # Chatbot documents no SourceAccount support; its role grants nothing
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"], role.name


def test_pipeline_roles_touch_only_their_own_pipeline_resources(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    for stack, resource, document in documents:
        if not resource.name.endswith("-pipeline-policy"):
            continue
        service = resource.name.removesuffix("-pipeline-policy")
        grants = {s["Sid"]: s for s in document["Statement"]}
        if "UseGitHubConnection" in grants:
            # The action's prefix is the connection ARN's service, and only that one.
            connection = grants["UseGitHubConnection"]["Resource"]
            prefix = connection.split(":")[2]
            assert grants["UseGitHubConnection"]["Action"] == f"{prefix}:UseConnection"
            assert ":connection/" in connection
        else:
            assert "ReadRelease" in grants, f"{stack} {service}: neither GitHub nor a release"
        # Its own projects, and the stage's shared release steps.
        shared = {f"{PROJECT}-{stack}-{step}" for step in ("package", "describe", "configure")}
        for arn in grants["RunBuildsAndTests"]["Resource"]:
            project = arn.split("project/")[1]
            assert project.startswith(f"{service}-{stack}-") or project in shared, arn
        if "DeployToGroups" in grants:
            for arn in grants["DeployToGroups"]["Resource"]:
                assert arn.endswith(f":deploymentgroup:{service}-{stack}/{service}-{stack}-web"), (
                    arn
                )
        if "DeployLambdaVersions" in grants:
            assert all(
                f":function:{service}-{stack}" in a
                for a in grants["DeployLambdaVersions"]["Resource"]
            )


def test_the_deploy_role_is_scoped_to_this_stages_names(
    documents: list[tuple[str, Resource, dict[str, Any]]],
) -> None:
    found = 0
    for stack, resource, statement in statements(documents):
        if resource.name != DEPLOY_ROLE_POLICY:
            continue
        found += 1
        assert "*" not in as_list(statement["Action"]), f"{stack}: {statement['Sid']}"
        for arn in as_list(statement["Resource"]):
            if statement["Effect"] == "Deny":
                continue  # denials only narrow (test_boundary.py proves what they close)
            if arn == "*":
                assert statement["Sid"] in FORCED_WILDCARD_RESOURCES, statement["Sid"]
            elif (
                arn.endswith(GENERATED_ID_RESOURCES + ACCOUNT_SINGLETONS) or "oidc-provider/" in arn
            ):
                continue
            else:
                assert f"-{stack}" in arn, (
                    f"{stack} {statement['Sid']}: {arn} is not limited to the stage"
                )
    assert found, "the deploy role's policy was not found"
