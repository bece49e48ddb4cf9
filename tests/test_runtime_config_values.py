"""RuntimeConfig used on its own: the outputs it registers."""

from __future__ import annotations

from typing import Any

from components.runtime_config import RuntimeConfig
from tests.harness import ACCOUNT, Recorder, run_pulumi


def test_the_component_registers_its_path_and_reader_policy(
    mocks: Recorder, registered_outputs: dict[str, dict[str, Any]]
) -> None:
    run_pulumi(
        lambda: (
            RuntimeConfig("config", {"service": "web", "stage": "prod", "path": "/web/prod"}).path
        )
    )

    component = mocks.one("delivery:cicd:RuntimeConfig", "config")
    assert registered_outputs[component.urn] == {
        "path": "/web/prod",
        "reader_policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/web-prod-config-readers",
    }
