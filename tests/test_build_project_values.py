"""BuildProject's pure helpers at their edges."""

from __future__ import annotations

import pytest

from components.build_project import parameter_arn


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/web/dev/api", "parameter/web/dev/api"),
        ("web/dev/api", "parameter/web/dev/api"),
        # Only the leading slash goes: a name that starts with other characters keeps them.
        ("/XRAY_DAEMON_ADDRESS", "parameter/XRAY_DAEMON_ADDRESS"),
    ],
)
def test_a_parameter_arn_names_the_parameter_without_its_leading_slash(
    name: str, expected: str
) -> None:
    arn = parameter_arn("eu-west-1", "123456789012", name)
    assert arn == f"arn:aws:ssm:eu-west-1:123456789012:{expected}"
