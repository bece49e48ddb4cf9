"""RuntimeConfig used on its own: the paths it refuses and the outputs it registers."""

from __future__ import annotations

from typing import Any

import pytest

from components.runtime_config import RuntimeConfig, check_path
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


@pytest.mark.parametrize("path", ["/aws/web", "/SSM/web", "web/prod", "/web/prod/"])
def test_a_path_parameter_store_refuses_or_reserves_is_refused_with_the_rule(path: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_path(path)
    assert str(refused.value) == (
        f"runtime config path {path!r} is not a Parameter Store path: give /<name>[/<name>...] "
        "(letters, digits, '_', '.', '-'; at most 14 levels, so a parameter fits under it; "
        "not starting with aws or ssm), e.g. /web/prod"
    )
