"""`cicd override` when STS cannot say who is calling: it still overrides, and names nobody.

The stubs are test_override.py's (web's prod pipeline, its Deploy baking).
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, StubbedAws
from tests.cicd.test_override import _baking, _override, _prod, _state


def test_override_whose_caller_cannot_be_told_still_overrides_and_its_json_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws, topic=None)
    _state(aws, _baking(8))
    aws.stub("sts").add_client_error("get_caller_identity", service_error_code="AccessDenied")
    _override(aws, 8, "ON_SUCCESS")

    result = cli(
        "override",
        "-s",
        "web",
        "-e",
        "prod",
        "--condition",
        "bake",
        "--reason",
        "hotfix",
        "--json",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["conditionType"], document["by"]) == ("ON_SUCCESS", None)
