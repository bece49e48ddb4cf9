"""`cicd.aws.pipelines.parse_layout` on Deploy-stage bake conditions as GetPipeline may return
them: the service model makes a condition's rules and a rule's configuration optional, and a
layout is still read when they are left out.
"""

from __future__ import annotations

from typing import Any

import pytest

from cicd.aws.pipelines import parse_layout, read_layout
from cicd.errors import NotFound
from tests.cicd.aws_fakes import StubbedAws, pipeline_declaration


def _alarm_rule(**configuration: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": "Bake",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm"},
    }
    if configuration:
        rule["configuration"] = configuration
    return rule


def _with_bake(*conditions: dict[str, Any]) -> dict[str, Any]:
    document = pipeline_declaration("web", "prod")
    deploy = next(s for s in document["stages"] if s["name"] == "Deploy")
    deploy["onSuccess"] = {"conditions": list(conditions)}
    return document


def test_the_bake_alarms_are_watched_past_a_condition_without_rules() -> None:
    document = _with_bake(
        {"result": "ROLLBACK"},
        {"result": "ROLLBACK", "rules": [_alarm_rule(AlarmName="web-prod-5xx")]},
    )

    layout = parse_layout(document)

    assert "web-prod-5xx" in layout.watched_alarms


def test_an_alarm_rule_without_a_configuration_names_no_alarm() -> None:
    document = _with_bake(
        {"result": "ROLLBACK", "rules": [_alarm_rule(), _alarm_rule(AlarmName="web-prod-5xx")]}
    )

    layout = parse_layout(document)

    assert "web-prod-5xx" in layout.watched_alarms
    assert "" not in layout.watched_alarms


def test_a_pipeline_aws_does_not_know_is_not_found_in_the_region_with_how_to_look_instead() -> None:
    aws = StubbedAws()
    aws.codepipeline.add_client_error(
        "get_pipeline", service_error_code="PipelineNotFoundException"
    )

    with pytest.raises(NotFound) as raised:
        read_layout(aws.client("codepipeline"), "web-prod-pipeline")

    assert (raised.value.message, raised.value.hint) == (
        "pipeline web-prod-pipeline not found in eu-west-1",
        "check --pipeline and --region, or drop --pipeline to find it by --service/--stage",
    )
