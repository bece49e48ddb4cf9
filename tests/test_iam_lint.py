"""Every identity policy the stacks declare, through parliament, the IAM linter the review used.

parliament (PyPI, offline) knows each action's resource types and condition keys, and, with its
community auditors, the known privilege-escalation patterns. A finding is a failure unless it is
listed below with the reason it is expected; the list is short on purpose, and an escalation
pattern must be named exactly. Trust, key, bucket and topic policies are resource policies,
which parliament does not model.
"""

from __future__ import annotations

from typing import Any

import pytest
from parliament import analyze_policy_string

from tests.harness import StackRun, iter_stacks, run_stacks

IDENTITY_POLICY_TYPES = {"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"}
DEPLOY = "github-actions-deploy-permissions"
BOUNDARY = "boundary-policy"
LAMBDA_PIPELINES = {"thumbnailer-pipeline-policy"}
PUBLISHING_PIPELINES = {"web-pipeline-policy", "thumbnailer-pipeline-policy"}


def expected(policy: str, issue: str, detail: Any) -> str | None:
    """Why a finding is expected, or None when it is a defect."""
    kind = detail.get("type") if isinstance(detail, dict) else None
    actions = set(detail.get("actions", [])) if isinstance(detail, dict) else set()
    if policy == BOUNDARY and issue in {
        "RESOURCE_STAR",
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "PRIVILEGE_ESCALATION",
        "CREDENTIALS_EXPOSURE",
        "MISMATCHED_TYPE_BUT_USABLE",
    }:
        return "a boundary's Allow is a ceiling, not a grant; its denials close the IAM routes"
    if policy == DEPLOY and issue == "RESOURCE_MISMATCH":
        return (
            "whole services on name-scoped ARNs: actions taking another resource type (or none) "
            "never match those ARNs"
        )
    if policy == DEPLOY and issue == "PERMISSIONS_MANAGEMENT_ACTIONS":
        return "the deploy role manages the stack's roles and policies: its job (test_boundary)"
    if issue == "MISMATCHED_TYPE_BUT_USABLE" and policy == DEPLOY:
        return "iam:PermissionsBoundary holds an ARN and works with string operators"
    if policy == DEPLOY and issue == "PRIVILEGE_ESCALATION" and kind == "CreateNewPolicyVersion":
        return (
            "versions of the approver and config reader policies (attached to people and to "
            "hosts' roles, never to this role, which may not attach policies to itself); the "
            "boundary's versions are denied"
        )
    if (
        policy == DEPLOY
        and issue == "PRIVILEGE_ESCALATION"
        and kind in {"PassExistingRoleToNewLambdaThenInvoke", "EditExistingLambdaFunctionWithRole"}
    ):
        return (
            "the deploy role creates Lambda functions, the delivery reporter's (issue 21) and, "
            "through Synthetics, each canary's (cwsyn-<stage's names>-*), and passes them roles: "
            "only the project's, under its path, each carrying the boundary, so a function gets "
            "no more than the boundary allows"
        )
    if (
        policy in LAMBDA_PIPELINES
        and issue == "PRIVILEGE_ESCALATION"
        and kind == "EditExistingLambdaFunctionWithRole"
    ):
        return "the Lambda deploy action updates the function's code: what it is for"
    if (
        policy in PUBLISHING_PIPELINES
        and issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
        and actions == {"s3:putobjectacl", "s3:putobjectversionacl"}
    ):
        return (
            "the S3 deploy action's documented permissions; the release bucket disables "
            "ACLs (BucketOwnerEnforced), so no ACL can grant anything"
        )
    if (
        policy.endswith("-release-task-policy")
        and issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
        and actions == {"ec2:createnetworkinterfacepermission"}
    ):
        return (
            "AWS's documented VPC permission for CodeBuild: it lets only CodeBuild use the "
            "build's network interface, only in the configured subnets (its conditions)"
        )
    return None


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


def findings(run: StackRun) -> list[tuple[str, str, Any]]:
    found = []
    for resource in run.recorder.resources:
        if resource.typ in IDENTITY_POLICY_TYPES:
            report = analyze_policy_string(
                resource.inputs["policy"], include_community_auditors=True
            )
            # parliament puts an escalation's pattern and actions in `location`.
            found += [(resource.name, f.issue, f.location or f.detail) for f in report.findings]
    return found


@pytest.mark.parametrize("stack", sorted(dict(iter_stacks())))
def test_parliament_finds_nothing_unexpected(runs: dict[str, StackRun], stack: str) -> None:
    unexpected = [
        f"{name}: {issue} {str(detail)[:300]}"
        for name, issue, detail in findings(runs[stack])
        if expected(name, issue, detail) is None
    ]
    assert not unexpected, "\n".join(unexpected)


def test_the_service_roles_show_no_escalation_pattern(runs: dict[str, StackRun]) -> None:
    for stack, run in runs.items():
        for name, issue, detail in findings(run):
            if issue == "PRIVILEGE_ESCALATION" and name not in (BOUNDARY, DEPLOY):
                assert name in LAMBDA_PIPELINES, f"{stack} {name}: {detail}"
                assert isinstance(detail, dict), detail
                assert detail["type"] == "EditExistingLambdaFunctionWithRole", detail


def test_the_linter_still_reports_an_escalation_when_one_is_there() -> None:
    """The gate is live: the same call flags a policy that can rewrite any managed policy."""
    report = analyze_policy_string(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "iam:CreatePolicyVersion", "Resource": "*"}]}',
        include_community_auditors=True,
    )
    assert "PRIVILEGE_ESCALATION" in {f.issue for f in report.findings}
