"""Approver policy: one approval action ARN, read-only access to its pipeline, nothing wider."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.approver_policy import (
    ApproverPolicy,
    ApproverPolicyArgs,
    approval_action_arn,
    approver_policy_document,
)
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

PIPELINE_ARN = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-prod-pipeline"
POLICY = "aws:iam/policy:Policy"


def _actions_and_resources(document: dict[str, Any]) -> list[str]:
    values: list[str] = []
    for statement in document["Statement"]:
        for key in ("Action", "Resource"):
            value = statement[key]
            values.extend([value] if isinstance(value, str) else value)
    return values


def _args(**extra: str) -> ApproverPolicyArgs:
    args: ApproverPolicyArgs = {"service": "orders", "stage": "prod", "pipeline_arn": PIPELINE_ARN}
    if "approval_stage_name" in extra:
        args["approval_stage_name"] = extra["approval_stage_name"]
    if "approval_action_name" in extra:
        args["approval_action_name"] = extra["approval_action_name"]
    return args


def test_the_approval_action_arn_appends_stage_and_action_to_the_pipeline_arn() -> None:
    assert approval_action_arn(PIPELINE_ARN) == (
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-prod-pipeline/Approval/Approve"
    )
    assert approval_action_arn(PIPELINE_ARN, "Gate", "Release.Manager") == (
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-prod-pipeline/Gate/Release.Manager"
    )


@pytest.mark.parametrize(
    "pipeline_arn",
    [
        "orders-prod-pipeline",
        f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/orders",
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:*",
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders/Approval/Approve",
    ],
)
def test_anything_but_a_pipeline_arn_is_refused(pipeline_arn: str) -> None:
    with pytest.raises(ValueError, match=r"(pipeline_arn|pipeline name) .* is not a"):
        approval_action_arn(pipeline_arn)


@pytest.mark.parametrize(("stage", "action"), [("*", "Approve"), ("Approval", "App/rove")])
def test_a_wildcard_or_slash_in_a_stage_or_action_name_is_refused(stage: str, action: str) -> None:
    with pytest.raises(ValueError, match=r"(stage|action) .* is not a CodePipeline name"):
        approval_action_arn(PIPELINE_ARN, stage, action)


def test_the_policy_document_allows_approving_one_action_and_reading_its_pipeline() -> None:
    document = approver_policy_document(PIPELINE_ARN, "Approval", "Approve")

    assert document["Statement"] == [
        {
            "Sid": "ApproveOrRejectThisGateOnly",
            "Effect": "Allow",
            "Action": "codepipeline:PutApprovalResult",
            "Resource": f"{PIPELINE_ARN}/Approval/Approve",
        },
        {
            "Sid": "SeeWhatIsBeingApproved",
            "Effect": "Allow",
            "Action": [
                "codepipeline:GetPipeline",
                "codepipeline:GetPipelineState",
                "codepipeline:GetPipelineExecution",
                "codepipeline:ListPipelineExecutions",
            ],
            "Resource": PIPELINE_ARN,
        },
    ], "approver policy document"
    assert not [v for v in _actions_and_resources(document) if "*" in v], (
        "approver policy document must have no wildcard action or resource"
    )


def test_the_component_creates_a_managed_policy_scoped_to_the_one_approval_action(
    mocks: Recorder,
) -> None:
    outputs: dict[str, Any] = {}

    def program() -> Any:
        policy = ApproverPolicy("approvers", _args(approval_stage_name="ProdGate"))
        return policy.policy_arn.apply(lambda arn: outputs.update(policy_arn=arn))

    run_pulumi(program)

    policy = mocks.one(POLICY, "approvers-approvers")
    assert policy.inputs["name"] == "orders-prod-approvers", "approvers policy name"
    document = json.loads(policy.inputs["policy"])
    put = [s for s in document["Statement"] if "codepipeline:PutApprovalResult" in s["Action"]]
    assert [s["Resource"] for s in put] == [f"{PIPELINE_ARN}/ProdGate/Approve"], (
        "approvers policy must allow PutApprovalResult on exactly the ProdGate/Approve action"
    )
    assert not [v for v in _actions_and_resources(document) if "*" in v], (
        "approvers policy must have no wildcard action or resource"
    )
    assert policy.inputs["tags"]["cicd:stage"] == "prod", "approvers policy tags"
    component = mocks.one("delivery:cicd:ApproverPolicy", "approvers")
    assert policy.parent == component.urn, "approvers policy is parented to the component"
    assert outputs["policy_arn"] == f"arn:aws:iam::{ACCOUNT}:policy/orders-prod-approvers"


def test_the_pipeline_arn_may_be_an_output_of_another_resource(mocks: Recorder) -> None:
    def program() -> None:
        args = _args()
        args["pipeline_arn"] = pulumi.Output.from_input(PIPELINE_ARN)
        ApproverPolicy("approvers", args)

    run_pulumi(program)

    document = json.loads(mocks.one(POLICY).inputs["policy"])
    assert document == approver_policy_document(PIPELINE_ARN), "approvers policy from an Output"


def test_an_invalid_approval_action_name_fails_before_anything_is_declared(
    mocks: Recorder,
) -> None:
    def program() -> None:
        ApproverPolicy("approvers", _args(approval_action_name="Approve*"))

    with pytest.raises(ValueError, match=r"approval_action_name 'Approve\*' is not a CodePipeline"):
        run_pulumi(program)
    assert mocks.resources == [], "nothing is declared when the args are invalid"


def test_the_component_registers_its_policy_arn_as_its_output(
    mocks: Recorder, registered_outputs: dict[str, dict[str, Any]]
) -> None:
    run_pulumi(lambda: ApproverPolicy("approvers", _args()).policy_arn)

    component = mocks.one("delivery:cicd:ApproverPolicy", "approvers")
    assert registered_outputs[component.urn] == {
        "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/orders-prod-approvers"
    }
