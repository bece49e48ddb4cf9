"""Deployment: the options it is given, and an in-place group behind a load balancer."""

from __future__ import annotations

import pulumi

from components.deployment import Deployment
from tests.harness import Recorder, run_pulumi


def test_a_deployment_made_with_a_parent_is_that_parents_child(mocks: Recorder) -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Platform", "platform")
        Deployment(
            "d",
            {  # type: ignore[typeddict-item]
                "service": "web",
                "stage": "staging",
                "platform": "server",
                "targets": [{"name": "web", "ec2_tag_filters": [{"key": "app", "value": "web"}]}],
            },
            pulumi.ResourceOptions(parent=parent),
        )

    run_pulumi(program)
    platform = mocks.one("test:index:Platform", "platform")
    assert mocks.one("delivery:cicd:Deployment", "d").parent == platform.urn


def test_an_in_place_target_behind_a_target_group_leaves_the_load_balancer_while_updated(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: (
            Deployment(
                "d",
                {  # type: ignore[typeddict-item]
                    "service": "web",
                    "stage": "staging",
                    "platform": "server",
                    "targets": [
                        {"name": "web", "autoscaling_groups": ["web-asg"], "target_group": "web-tg"}
                    ],
                },
            ).deployment_group_names
        )
    )
    group = mocks.one("aws:codedeploy/deploymentGroup:DeploymentGroup").inputs
    assert group["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert group["loadBalancerInfo"] == {"targetGroupInfos": [{"name": "web-tg"}]}
