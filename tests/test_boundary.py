"""The deploy role cannot raise its own privileges: every IAM statement, evaluated.

The GitHub Actions deploy role may create and change the project's roles. These tests take the
policies the real stacks declare (the deploy role's inline policy and the stage's permissions
boundary) and evaluate requests against them with IAM's documented logic: an explicit Deny wins,
otherwise an Allow is needed in the identity policy AND in the boundary. The evaluator below is
a small model of that logic (actions and ARNs with wildcards; the condition operators these
policies use, with IAM's rule that a negated operator on a missing key matches); it is not AWS.
`ReadOnlyAccess` is left out: it holds no write action, and only writes can escalate.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from components.boundary import BOUNDED_SERVICES
from tests.harness import ACCOUNT, PROJECT, StackRun, iter_stacks, run_stacks

Context = Mapping[str, str]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str, *, case: bool) -> bool:
    return any(
        fnmatch.fnmatchcase(value, p) if case else fnmatch.fnmatchcase(value.lower(), p.lower())
        for p in _list(patterns)
    )


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            present = key in context
            value = context.get(key, "")
            if operator in ("StringEquals", "ArnEquals"):
                ok = present and value in _list(expected)
            elif operator == "StringNotEquals":
                ok = not present or value not in _list(expected)
            elif operator in ("StringLike", "ArnLike"):
                ok = present and _matches(expected, value, case=True)
            elif operator == "Bool":
                ok = present and value == str(expected).lower()
            else:
                raise AssertionError(f"the evaluator does not model {operator}")
            if not ok:
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    return (
        _matches(statement["Action"], action, case=False)
        and _matches(statement["Resource"], resource, case=True)
        and _condition_holds(statement.get("Condition", {}), context)
    )


def _effects(document: Mapping[str, Any], action: str, resource: str, context: Context) -> set:
    return {s["Effect"] for s in document["Statement"] if _applies(s, action, resource, context)}


def allowed(
    identity: Sequence[Mapping[str, Any]],
    boundary: Mapping[str, Any],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    context = dict(context or {})
    effects = [e for d in identity for e in _effects(d, action, resource, context)]
    fenced = _effects(boundary, action, resource, context)
    if "Deny" in effects or "Deny" in fenced:
        return False
    return "Allow" in effects and "Allow" in fenced


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return run_stacks(dict(iter_stacks()))["prod"]


@pytest.fixture(scope="module")
def deploy_role(prod: StackRun) -> dict[str, Any]:
    rec = prod.recorder
    boundary = rec.one("aws:iam/policy:Policy", "boundary-policy")
    return {
        "arn": prod.exports["github_deploy_role_arn"],
        "identity": [
            json.loads(
                rec.one(
                    "aws:iam/rolePolicy:RolePolicy", "github-actions-deploy-permissions"
                ).inputs["policy"]
            )
        ],
        "boundary": json.loads(boundary.inputs["policy"]),
        "boundary_arn": boundary.state["arn"],
    }


def role(name: str) -> str:
    """A role the stack makes: under the project's path."""
    return f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}/{name}"


def outside_role(name: str) -> str:
    """A role made outside the stack (an instance profile's, say), named with its prefix."""
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def policy(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def test_every_role_every_stack_creates_carries_the_stages_boundary() -> None:
    for stack, run in run_stacks(dict(iter_stacks())).items():
        boundary = run.recorder.one("aws:iam/policy:Policy", "boundary-policy")
        assert boundary.inputs["name"] == f"{PROJECT}-{stack}-boundary"
        roles = run.recorder.of_type("aws:iam/role:Role")
        assert len(roles) >= 8, stack
        for r in roles:
            assert r.inputs.get("permissionsBoundary") == boundary.state["arn"], (
                f"{stack}: role {r.name} has no permissions boundary"
            )


@pytest.mark.parametrize(
    "action",
    [
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteRole",
        "iam:TagRole",
    ],
)
def test_the_deploy_role_cannot_write_to_its_own_role_or_policies(
    deploy_role: dict[str, Any], action: str
) -> None:
    # Its own role carries the boundary, so the boundary condition alone would let it through.
    context = {"iam:PermissionsBoundary": deploy_role["boundary_arn"]}
    assert not allowed(
        deploy_role["identity"], deploy_role["boundary"], action, deploy_role["arn"], context
    )


@pytest.mark.parametrize(
    "action",
    [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
        "iam:TagPolicy",
    ],
)
def test_the_deploy_role_cannot_change_the_boundary(
    deploy_role: dict[str, Any], action: str
) -> None:
    # The boundary's name matches the stage prefix the deploy role manages policies by.
    assert f"policy/{PROJECT}-prod-" in deploy_role["boundary_arn"]
    assert not allowed(
        deploy_role["identity"], deploy_role["boundary"], action, deploy_role["boundary_arn"]
    )


@pytest.mark.parametrize(
    ("action", "boundary"),
    [
        ("iam:CreateRole", None),
        ("iam:CreateRole", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ("iam:PutRolePolicy", None),
        ("iam:AttachRolePolicy", "arn:aws:iam::123456789012:policy/other"),
        ("iam:PutRolePermissionsBoundary", "arn:aws:iam::123456789012:policy/other"),
    ],
)
def test_the_deploy_role_cannot_create_or_empower_a_role_without_the_boundary(
    deploy_role: dict[str, Any], action: str, boundary: str | None
) -> None:
    context = {"iam:PermissionsBoundary": boundary} if boundary else {}
    target = role("web-prod-escape")
    assert not allowed(deploy_role["identity"], deploy_role["boundary"], action, target, context)


@pytest.mark.parametrize(
    "action",
    ["iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:CreateLoginProfile"],
)
def test_neither_the_deploy_role_nor_any_bounded_role_may_touch_people(
    deploy_role: dict[str, Any], action: str
) -> None:
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert not allowed(
        [everything], deploy_role["boundary"], action, f"arn:aws:iam::{ACCOUNT}:user/x"
    )


def test_the_deploy_role_can_still_do_its_job(deploy_role: dict[str, Any]) -> None:
    identity, boundary = deploy_role["identity"], deploy_role["boundary"]
    bounded = {"iam:PermissionsBoundary": deploy_role["boundary_arn"]}
    pipeline_role = role("web-prod-codepipeline")
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"):
        assert allowed(identity, boundary, action, pipeline_role, bounded), action
    assert allowed(identity, boundary, "iam:UpdateAssumeRolePolicy", pipeline_role)
    assert allowed(
        identity,
        boundary,
        "iam:PassRole",
        pipeline_role,
        {"iam:PassedToService": "codepipeline.amazonaws.com"},
    )
    pipeline = f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:web-prod-pipeline"
    assert allowed(identity, boundary, "codepipeline:UpdatePipeline", pipeline)
    tagged = {"aws:RequestTag/cicd:stage": "prod"}
    assert allowed(
        identity,
        boundary,
        "codeconnections:CreateConnection",
        "*",
        {**tagged, "codeconnections:ProviderType": "GitHub"},
    )
    assert allowed(identity, boundary, "chatbot:CreateSlackChannelConfiguration", "*", tagged)
    assert not allowed(identity, boundary, "chatbot:CreateSlackChannelConfiguration", "*")
    assert not allowed(
        identity,
        boundary,
        "codeconnections:CreateConnection",
        "*",
        {"aws:RequestTag/cicd:stage": "dev", "codeconnections:ProviderType": "GitHub"},
    ), "another stage's tag"


def test_the_boundary_caps_roles_at_the_projects_services(deploy_role: dict[str, Any]) -> None:
    boundary = deploy_role["boundary"]
    [ceiling] = [s for s in boundary["Statement"] if s["Effect"] == "Allow"]
    assert ceiling["Action"] == [f"{s}:*" for s in sorted(BOUNDED_SERVICES)]
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert not allowed([everything], boundary, "organizations:LeaveOrganization", "*")
    assert not allowed([everything], boundary, "rds:DeleteDBCluster", "*")
    assert allowed([everything], boundary, "codebuild:StartBuild", "*")


# Every IAM write that changes what a principal may do, and who may be it (IAM's Service
# Authorization Reference, Permissions management and Write actions on users, groups, roles and
# policies). Reads and pure deletions are left out: they grant nothing.
PERMISSION_WRITES_ON_ROLES = (
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
    "iam:PassRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateRole",
)
PERMISSION_WRITES_ON_PEOPLE = (
    ("iam:AttachUserPolicy", "user/alice"),
    ("iam:PutUserPolicy", "user/alice"),
    ("iam:PutUserPermissionsBoundary", "user/alice"),
    ("iam:DeleteUserPermissionsBoundary", "user/alice"),
    ("iam:AddUserToGroup", "group/admins"),
    ("iam:AttachGroupPolicy", "group/admins"),
    ("iam:PutGroupPolicy", "group/admins"),
    ("iam:CreateAccessKey", "user/alice"),
    ("iam:CreateLoginProfile", "user/alice"),
    ("iam:UpdateLoginProfile", "user/alice"),
    ("iam:CreateUser", "user/mallory"),
    ("iam:CreateServiceSpecificCredential", "user/alice"),
    ("iam:UploadSSHPublicKey", "user/alice"),
)
POLICY_VERSION_WRITES = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicyVersion",
)


@pytest.mark.parametrize("action", PERMISSION_WRITES_ON_ROLES)
@pytest.mark.parametrize("boundary", [None, "the stage's"])
def test_the_deploy_role_cannot_touch_a_role_made_outside_the_stack_whatever_its_name(
    deploy_role: dict[str, Any], action: str, boundary: str | None
) -> None:
    # An instance profile's role named like the stack's roles, with or without the boundary: it
    # is not under the project's path, so none of the deploy role's role statements reach it.
    context = {"iam:PassedToService": "codebuild.amazonaws.com"}
    if boundary:
        context["iam:PermissionsBoundary"] = deploy_role["boundary_arn"]
    target = outside_role("web-prod-instance")
    assert not allowed(deploy_role["identity"], deploy_role["boundary"], action, target, context)


# Writes that change a role's permissions and whose request carries `iam:PermissionsBoundary`
# (Service Authorization Reference, IAM): on these the boundary can be required. A trust change,
# PassRole, tags and UpdateRole (description, session length) carry no boundary key and grant
# the role nothing; they are the next test's.
EMPOWERING_ROLE_WRITES = [
    a
    for a in PERMISSION_WRITES_ON_ROLES
    if a not in {"iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:TagRole", "iam:UntagRole"}
    and a != "iam:UpdateRole"
] + ["iam:CreateRole"]


@pytest.mark.parametrize("action", EMPOWERING_ROLE_WRITES)
def test_the_deploy_role_cannot_empower_an_unbounded_role_even_under_the_projects_path(
    deploy_role: dict[str, Any], action: str
) -> None:
    assert not allowed(
        deploy_role["identity"],
        deploy_role["boundary"],
        action,
        role("web-prod-unbounded"),
        {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )


@pytest.mark.parametrize(
    "action", ["iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole"]
)
def test_writes_that_grant_nothing_reach_only_the_stacks_own_roles(
    deploy_role: dict[str, Any], action: str
) -> None:
    identity, fence = deploy_role["identity"], deploy_role["boundary"]
    assert allowed(identity, fence, action, role("web-prod-pipeline"))
    assert not allowed(identity, fence, action, outside_role("web-prod-pipeline"))
    assert not allowed(identity, fence, action, role("payments-prod-pipeline"))


@pytest.mark.parametrize(("action", "resource"), PERMISSION_WRITES_ON_PEOPLE)
def test_the_deploy_role_cannot_change_what_people_or_groups_may_do(
    deploy_role: dict[str, Any], action: str, resource: str
) -> None:
    target = f"arn:aws:iam::{ACCOUNT}:{resource}"
    assert not allowed(deploy_role["identity"], deploy_role["boundary"], action, target)


@pytest.mark.parametrize("action", POLICY_VERSION_WRITES)
@pytest.mark.parametrize(
    "name",
    [
        "web-prod-config-readers",  # attached to instance and function roles, outside the stack
        "web-prod-approvers",  # what people held before approvers assumed a role
        f"{PROJECT}-prod-boundary",
        "web-prod-anything",
    ],
)
def test_the_deploy_role_cannot_rewrite_any_managed_policy(
    deploy_role: dict[str, Any], action: str, name: str
) -> None:
    assert not allowed(deploy_role["identity"], deploy_role["boundary"], action, policy(name))


def test_the_deploy_role_creates_only_the_managed_policies_the_stack_makes(
    deploy_role: dict[str, Any],
) -> None:
    identity, boundary = deploy_role["identity"], deploy_role["boundary"]
    assert allowed(identity, boundary, "iam:CreatePolicy", policy("web-prod-config-readers"))
    for name in ("web-prod-approvers", "web-prod-admin", "other-prod-config-readers"):
        assert not allowed(identity, boundary, "iam:CreatePolicy", policy(name)), name


def test_an_approver_can_answer_one_gate_and_nothing_beyond_the_boundary(prod: StackRun) -> None:
    rec = prod.recorder
    approver = rec.one("aws:iam/role:Role", "web-approvers-role")
    assert approver.inputs["name"] == "web-prod-approver"
    assert approver.inputs["path"] == f"/{PROJECT}/"
    boundary = rec.one("aws:iam/policy:Policy", "boundary-policy")
    assert approver.inputs["permissionsBoundary"] == boundary.state["arn"]
    trust = json.loads(approver.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}
    identity = [
        json.loads(
            rec.one("aws:iam/rolePolicy:RolePolicy", "web-approvers-policy").inputs["policy"]
        )
    ]
    fence = json.loads(boundary.inputs["policy"])
    gate = f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:web-prod-pipeline/Approval/Approve"
    assert allowed(identity, fence, "codepipeline:PutApprovalResult", gate)
    other = f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:thumbnailer-prod-pipeline/Approval/Approve"
    assert not allowed(identity, fence, "codepipeline:PutApprovalResult", other)
    # Whatever the deploy role writes into the role stays inside the boundary.
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for action, resource in PERMISSION_WRITES_ON_PEOPLE:
        assert not allowed([everything], fence, action, f"arn:aws:iam::{ACCOUNT}:{resource}")
    assert not allowed([everything], fence, "sts:AssumeRole", outside_role("admin"))


# Every IAM write the deploy role's policy allows, and why it cannot change another principal's
# permissions beyond the boundary. A new IAM action in the policy fails the next test until it
# is placed here, with its reason and the test that proves it.
IAM_WRITES_AND_WHY_THEY_STAY_INSIDE = {
    **{a: "bounded roles only (iam:PermissionsBoundary)" for a in EMPOWERING_ROLE_WRITES},
    "iam:UpdateAssumeRolePolicy": "the stack's roles, all bounded: whoever assumes stays inside",
    "iam:TagRole": "the stack's roles; no policy of the project reads role tags",
    "iam:UntagRole": "the stack's roles; no policy of the project reads role tags",
    "iam:UpdateRole": "the stack's roles: description and session length only",
    "iam:UpdateRoleDescription": "the stack's roles: text only",
    "iam:DeleteRole": "the stack's roles; deleting a role grants nothing",
    "iam:PassRole": "the stack's roles, to the services that run them",
    "iam:CreatePolicy": "only the config-readers and boundary names, created once",
    "iam:DeletePolicy": "IAM refuses to delete a policy still attached (DeletePolicy)",
    "iam:TagPolicy": "tags grant nothing here",
    "iam:UntagPolicy": "tags grant nothing here",
    "iam:UpdateOpenIDConnectProviderThumbprint": "the GitHub provider; trust checks aud and sub",
    "iam:AddClientIDToOpenIDConnectProvider": "the GitHub provider; trust checks aud and sub",
    "iam:RemoveClientIDFromOpenIDConnectProvider": "removing an audience grants nothing",
    "iam:TagOpenIDConnectProvider": "tags grant nothing here",
    "iam:UntagOpenIDConnectProvider": "tags grant nothing here",
    "iam:CreateOpenIDConnectProvider": "the GitHub provider, which only GitHub's tokens use",
    "iam:DeleteOpenIDConnectProvider": "removing who may authenticate grants nothing",
    "iam:CreateServiceLinkedRole": "AWS writes a service-linked role's policy, not the caller",
}
IAM_READ_PREFIXES = ("iam:Get", "iam:List", "iam:Simulate", "iam:Generate")


def _iam_writes(document: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for action in _list(statement["Action"]):
            if action.startswith("iam:") and not action.startswith(IAM_READ_PREFIXES):
                assert "*" not in action, f"{statement.get('Sid')}: {action} is a wildcard"
                found[action] = statement.get("Sid", "?")
    return found


def test_every_iam_write_the_deploy_role_holds_is_accounted_for(
    deploy_role: dict[str, Any],
) -> None:
    writes = _iam_writes(deploy_role["identity"][0])
    unexplained = sorted(set(writes) - set(IAM_WRITES_AND_WHY_THEY_STAY_INSIDE))
    assert not unexplained, f"IAM writes without a reason they stay inside: {unexplained}"
    # The routes the review found, by name: gone from the policy.
    assert "iam:CreatePolicyVersion" not in writes
    assert "iam:SetDefaultPolicyVersion" not in writes
    assert "iam:AttachUserPolicy" not in writes


@pytest.mark.parametrize("action", sorted(IAM_WRITES_AND_WHY_THEY_STAY_INSIDE))
def test_no_iam_write_reaches_a_principal_or_policy_made_outside_the_stack(
    deploy_role: dict[str, Any], action: str
) -> None:
    identity, fence = deploy_role["identity"], deploy_role["boundary"]
    context = {"iam:PermissionsBoundary": deploy_role["boundary_arn"]}
    outside = [
        outside_role("web-prod-instance"),
        role("payments-prod-pipeline"),
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        f"arn:aws:iam::{ACCOUNT}:group/admins",
        policy("AdministratorAccess"),
        policy("web-prod-approvers"),
        "arn:aws:iam::aws:policy/AdministratorAccess",
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/accounts.google.com",
    ]
    for target in outside:
        assert not allowed(identity, fence, action, target, context), (action, target)
