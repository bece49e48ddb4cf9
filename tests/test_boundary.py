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
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


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
