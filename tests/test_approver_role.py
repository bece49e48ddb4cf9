"""ApproverRole used on its own: the gate it answers and the outputs it registers."""

from __future__ import annotations

import json
from typing import Any

from components.approver_role import ApproverRole
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

PIPELINE_ARN = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-prod-pipeline"


def test_the_component_registers_the_role_people_assume(
    mocks: Recorder, registered_outputs: dict[str, dict[str, Any]]
) -> None:
    run_pulumi(
        lambda: (
            ApproverRole(
                "approver", {"service": "orders", "stage": "prod", "pipeline_arn": PIPELINE_ARN}
            ).role_arn
        )
    )

    component = mocks.one("delivery:cicd:ApproverRole", "approver")
    assert registered_outputs[component.urn] == {
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/gh-aws-delivery/orders-prod-approver",
        "role_name": "orders-prod-approver",
    }


def test_a_named_approval_stage_and_action_are_the_only_gate_the_role_answers(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: (
            ApproverRole(
                "approver",
                {
                    "service": "orders",
                    "stage": "prod",
                    "pipeline_arn": PIPELINE_ARN,
                    "approval_stage_name": "Gate",
                    "approval_action_name": "Release.Manager",
                },
            ).role_arn
        )
    )

    document = json.loads(mocks.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    put = [s for s in document["Statement"] if s["Action"] == "codepipeline:PutApprovalResult"]
    assert [s["Resource"] for s in put] == [f"{PIPELINE_ARN}/Gate/Release.Manager"]
    role = mocks.one("aws:iam/role:Role", "approver-role")
    assert role.inputs["description"].startswith("Approve or reject Gate/Release.Manager of orders")
