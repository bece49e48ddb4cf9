"""`cicd.aws.pipelines.parse_layout` on Deploy-stage bake conditions as GetPipeline may return
them: the service model makes a condition's rules and a rule's configuration optional, and a
layout is still read when they are left out.
"""

from __future__ import annotations

from typing import Any

from cicd.aws.pipelines import parse_layout
from tests.cicd.aws_fakes import pipeline_declaration


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
