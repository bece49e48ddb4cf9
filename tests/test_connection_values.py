"""GitHubConnection honours the options it is given."""

from __future__ import annotations

import pulumi

from components.connection import GitHubConnection
from tests.harness import Recorder, run_pulumi


def test_a_connection_made_with_a_parent_is_that_parents_child(mocks: Recorder) -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Platform", "platform")
        GitHubConnection(
            "gh", {"service": "web", "stage": "dev"}, pulumi.ResourceOptions(parent=parent)
        )

    run_pulumi(program)
    platform = mocks.one("test:index:Platform", "platform")
    assert mocks.one("delivery:cicd:GitHubConnection", "gh").parent == platform.urn
