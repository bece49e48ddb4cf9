"""Issue 20's signals in every sample stack: rate alarms, synthetic traffic, and what watches them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from stack.config import ConfigError, parse_settings
from tests.harness import PROJECT, ROOT, Resource, StackRun, iter_stacks, run_stacks

NS = PROJECT
STACKS = dict(iter_stacks())
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CANARY = "aws:synthetics/canary:Canary"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(STACKS)


def _alarms(run: StackRun, service: str) -> dict[str, Resource]:
    return {
        r.inputs["name"]: r for r in run.recorder.of_type(ALARM) if r.name.startswith(f"{service}-")
    }


def _deploy_stage(run: StackRun, service: str) -> dict[str, Any]:
    pipeline = next(
        p
        for p in run.recorder.of_type(PIPELINE)
        # The release pipeline, not a pull-request pipeline (`-pr`), which has no Deploy.
        if p.inputs["name"].startswith(f"{service}-") and not p.inputs["name"].endswith("-pr")
    )
    return next(s for s in pipeline.inputs["stages"] if s["name"] == "Deploy")


def _bake(run: StackRun, service: str) -> dict[str, str]:
    rules = _deploy_stage(run, service)["onSuccess"]["condition"]["rules"]
    return {r["configuration"]["AlarmName"]: r["configuration"]["WaitTime"] for r in rules}


def _expression(alarm: Resource) -> str:
    return next(q["expression"] for q in alarm.inputs["metricQueries"] if q.get("returnData"))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_watch_guarded_rate_alarms_that_no_traffic_cannot_pass(
    runs: dict[str, StackRun], stack: str
) -> None:
    web = _alarms(runs[stack], "web")
    rate = web[f"web-{stack}-alb-5xx-rate"]
    assert _expression(rate) == "IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)"
    assert (rate.inputs["threshold"], rate.inputs["treatMissingData"]) == (5, "breaching")
    p99 = web[f"web-{stack}-alb-p99-latency"]
    assert _expression(p99) == "IF(requests >= 10, latency, 0)"
    assert (p99.inputs["threshold"], p99.inputs["treatMissingData"]) == (1.5, "breaching")
    hosts = web[f"web-{stack}-alb-unhealthy-hosts"]
    assert hosts.inputs["treatMissingData"] == "notBreaching", "hosts are counted without traffic"
    assert f"web-{stack}-alb-target-5xx" not in web, "the absolute 5XX count is gone"
    thumbs = _alarms(runs[stack], "thumbnailer")
    errors = thumbs[f"thumbnailer-{stack}-lambda-error-rate"]
    assert _expression(errors) == ("IF(invocations >= 10, 100 * FILL(errors, 0) / invocations, 0)")
    assert errors.inputs["treatMissingData"] == "breaching"
    queries = {q["id"]: q for q in errors.inputs["metricQueries"]}
    assert queries["errors"]["metric"]["dimensions"] == {
        "FunctionName": f"thumbnailer-{stack}",
        "Resource": f"thumbnailer-{stack}:live",
    }


def test_a_named_absolute_alarm_is_still_watched_beside_the_rate_ones(
    runs: dict[str, StackRun],
) -> None:
    prod = runs["prod"]
    group = prod.recorder.one(GROUP, "web-deploy-web").inputs
    watched = set(group["alarmConfiguration"]["alarms"])
    assert "web-prod-p99-latency" in watched, "the alarm listed in deploy.alarms"
    assert watched == set(_alarms(prod, "web")) | {"web-prod-p99-latency"}
    assert set(_bake(prod, "web")) == watched


def test_staging_sends_synthetic_traffic_to_both_services(runs: dict[str, StackRun]) -> None:
    canaries = {c.inputs["name"]: c.inputs for c in runs["staging"].recorder.of_type(CANARY)}
    assert set(canaries) == {"web-staging-web", "thumbnailer-staging-thumbnailer"}
    web = canaries["web-staging-web"]["runConfig"]["environmentVariables"]
    assert web["ENDPOINT_URL"] == "https://web.staging.example.com"
    thumbs = canaries["thumbnailer-staging-thumbnailer"]["runConfig"]["environmentVariables"]
    assert (thumbs["FUNCTION_NAME"], thumbs["FUNCTION_ALIAS"]) == ("thumbnailer-staging", "live")
    for canary in canaries.values():
        assert canary["schedule"] == {"expression": "rate(1 minute)"}
        assert canary["artifactS3Location"].startswith("s3://gh-aws-delivery-staging-artifacts-"), (
            "the stage's artifact store: private, encrypted, expiring"
        )
    for stack in ("dev", "prod"):
        assert runs[stack].recorder.of_type(CANARY) == [], f"{stack} has no deploy.traffic"


def test_the_traffic_alarm_is_watched_by_the_deployment_and_by_the_bake(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    traffic = {
        r.name: r.inputs
        for r in staging.recorder.of_type(ALARM)
        if r.inputs.get("metricName") == "SuccessPercent"
    }
    assert {a["name"] for a in traffic.values()} == {
        "web-staging-web-traffic",
        "thumbnailer-staging-thumbnailer-traffic",
    }
    canary_names = {c.name: c.inputs["name"] for c in staging.recorder.of_type(CANARY)}
    assert traffic["web-traffic-web-alarm"]["dimensions"] == {
        "CanaryName": canary_names["web-traffic-web-canary"]
    }, "the alarm measures its own canary, by name"
    group = staging.recorder.one(GROUP, "web-deploy-web").inputs
    assert "web-staging-web-traffic" in group["alarmConfiguration"]["alarms"]
    assert _bake(staging, "web") == dict.fromkeys([*_alarms(staging, "web")], "10"), (
        "every alarm of web, the canary's included, for the 10-minute bake"
    )
    lambda_action = next(
        a for a in _deploy_stage(staging, "thumbnailer")["actions"] if a["provider"] == "Lambda"
    )
    watched = set(lambda_action["configuration"]["Alarms"].split(","))
    assert "thumbnailer-staging-thumbnailer-traffic" in watched
    assert watched == set(_alarms(staging, "thumbnailer")) == set(_bake(staging, "thumbnailer"))


# --- config ------------------------------------------------------------------------------------


def _raw(stack: str) -> dict[str, Any]:
    flat = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        k.split(":", 1)[1]: v
        for k, v in flat.items()
        if k.startswith(f"{NS}:") and k != f"{NS}:githubToken"
    }


def _errors(raw: dict[str, Any], stage: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(NS, stage, raw, github_token="secret")
    return str(caught.value)


@pytest.fixture
def staging() -> dict[str, Any]:
    return copy.deepcopy(_raw("staging"))


def test_alarm_defaults_reach_the_alarms(staging: dict[str, Any]) -> None:
    from stack.program import alarm_settings

    deploy = staging["services"][0]["deploy"]
    deploy["alarm_defaults"] = {
        "error_rate_percent": 2,
        "p99_latency_ms": 800,
        "min_requests": 50,
        "missing_data": {"alb-p99-latency": "missing"},
    }
    settings = parse_settings(NS, "staging", staging, github_token="secret")
    assert alarm_settings(settings.services[0].deploy) == {
        "measure": "rate",
        "error_rate_percent": 2,
        "p99_latency_ms": 800,
        "min_requests": 50,
        "missing_data": {"alb-p99-latency": "missing"},
    }


@pytest.mark.parametrize(
    ("alarm_defaults", "key", "why"),
    [
        ({"error_rate_percent": 0}, "alarm_defaults.error_rate_percent", "greater than 0"),
        ({"min_requests": 0}, "alarm_defaults.min_requests", "greater than or equal to 1"),
        ({"measure": "ratio"}, "alarm_defaults.measure", "'rate' or 'count'"),
        (
            {"missing_data": {"alb-target-5xx": "breaching"}},
            "alarm_defaults",
            "missing_data names alb-target-5xx, which measure 'rate' does not create",
        ),
        (
            {"missing_data": {"alb-5xx-rate": "sometimes"}},
            "alarm_defaults.missing_data.alb-5xx-rate",
            "'breaching', 'notBreaching', 'ignore' or 'missing'",
        ),
    ],
)
def test_bad_alarm_defaults_name_the_key_and_the_fix(
    staging: dict[str, Any], alarm_defaults: dict[str, Any], key: str, why: str
) -> None:
    staging["services"][0]["deploy"]["alarm_defaults"] = alarm_defaults
    message = _errors(staging, "staging")
    assert f"{NS}:services[0].deploy.{key}:" in message
    assert why in message
    assert f"pulumi config set --path '{NS}:services[0].deploy.{key}'" in message


def test_traffic_to_an_unknown_target_or_one_without_endpoint_is_an_error(
    staging: dict[str, Any],
) -> None:
    deploy = staging["services"][0]["deploy"]
    deploy["traffic"]["targets"] = ["api"]
    message = _errors(staging, "staging")
    assert f"{NS}:services[0].deploy.traffic.targets[0]: is not a target of this service" in message
    deploy["traffic"]["targets"] = []
    deploy["verify"] = []
    del deploy["targets"][0]["endpoint"]
    message = _errors(staging, "staging")
    assert (
        f"{NS}:services[0].deploy.targets[0].endpoint: synthetic traffic to target 'web' needs "
        "its endpoint"
    ) in message


def test_a_checks_file_that_is_not_there_is_an_error(staging: dict[str, Any]) -> None:
    staging["services"][1]["deploy"]["traffic"]["checks_file"] = "smoke/checks.py"
    message = _errors(staging, "staging")
    assert f"{NS}:services[1].deploy.traffic.checks_file: " in message
    assert "no file 'smoke/checks.py'" in message


def test_the_traffic_alarm_counts_against_the_bakes_five_rules(staging: dict[str, Any]) -> None:
    deploy = staging["services"][0]["deploy"]
    deploy["alarms"] = ["a"]  # 1 listed + 3 rate defaults + 1 traffic = 5: allowed
    parse_settings(NS, "staging", staging, github_token="secret")
    deploy["alarms"] = ["a", "b"]
    message = _errors(staging, "staging")
    assert (
        "the bake watches 6 alarms (2 listed, 3 created as defaults for 1 target(s), 1 for "
        "synthetic traffic), one CloudWatchAlarm rule each"
    ) in message
