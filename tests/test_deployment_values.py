"""Deployment honours the options it is given."""

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
