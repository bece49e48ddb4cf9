"""ApproverRole used on its own: the outputs it registers."""

from __future__ import annotations

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
