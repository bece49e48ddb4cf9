"""Metric analysis (issue 20): the pure decision, the loop against recorded answers, the wiring."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import metric_analysis as ma
from stack.config import ConfigError, parse_settings
from tests.harness import PROJECT, ROOT, StackRun, iter_stacks, run_stacks

NS = PROJECT
ALB = {"TargetGroup": "targetgroup/web-staging/6d0ecf831eec9f09", "LoadBalancer": "app/x/1"}


# --- judge and verdict -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "traffic", "expected"),
    [
        (0.5, 100, ma.SUCCESS),
        (1.0, 100, ma.SUCCESS),  # at the maximum still passes
        (1.5, 100, ma.FAILURE),
        (0.0, 9, ma.INCONCLUSIVE),  # below min_requests: not enough data
        (None, 100, ma.INCONCLUSIVE),
        (0.0, None, ma.INCONCLUSIVE),
    ],
)
def test_a_measurement_passes_fails_or_has_too_little_data(
    value: float | None, traffic: float | None, expected: str
) -> None:
    assert ma.judge(value, traffic, maximum=1.0, min_requests=10) == expected


def _verdict(**results: list[str]) -> tuple[str, str]:
    return ma.verdict(results, count=3, failure_limit=1, inconclusive_limit=1)


def test_the_verdict_follows_argo_limits() -> None:
    s, f, i = ma.SUCCESS, ma.FAILURE, ma.INCONCLUSIVE
    assert _verdict(errors=[s, s, s], latency=[s, s, s])[0] == ma.SUCCESSFUL
    assert _verdict(errors=[s, f, s], latency=[s, s, s])[0] == ma.SUCCESSFUL, "one failure allowed"
    assert _verdict(errors=[f, f], latency=[s, s]) == (
        ma.FAILED,
        "errors: 2 failed measurement(s), more than 1",
    ), "stops as soon as the limit is passed"
    assert _verdict(errors=[i, i], latency=[s, s]) == (
        ma.INCONCLUSIVE,
        "errors: 2 measurement(s) without enough data, more than 1: a person decides (cicd "
        "retry measures again)",
    )
    assert _verdict(errors=[f, f, i], latency=[i, i])[0] == ma.FAILED, "failure outranks"
    assert _verdict(errors=[s, s], latency=[s, s])[0] == ma.RUNNING, "not yet count measurements"
    assert _verdict()[0] == ma.RUNNING


# --- the loop, against recorded GetMetricData answers -------------------------------------------


def _spec(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "dimensions": ALB,
        "metrics": [{"name": "error-rate", "max": 2}, {"name": "p99-latency", "max": 800}],
        "interval_minutes": 1,
        "count": 3,
        "failure_limit": 0,
        "inconclusive_limit": 1,
        "min_requests": 10,
        **overrides,
    }
    return ma.analysis_spec(**settings)


def _answer(value: float | None, traffic: float | None) -> list[dict[str, Any]]:
    """MetricDataResults as GetMetricData returns them (one datapoint, newest first)."""
    return [
        {"Id": "traffic", "Values": [] if traffic is None else [traffic], "StatusCode": "Complete"},
        {"Id": "value", "Values": [] if value is None else [value], "StatusCode": "Complete"},
    ]


def _run(answers: dict[str, list[list[dict[str, Any]]]]) -> tuple[tuple[str, str], list[Any]]:
    calls: list[Any] = []
    slept: list[int] = []

    def fetch(queries: list[dict[str, Any]], start: datetime, end: datetime) -> Any:
        calls.append((queries, start, end))
        kind = "error-rate" if any(q["Id"] == "errors" for q in queries) else "p99-latency"
        return answers[kind].pop(0)

    moment = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    outcome = ma.run(_spec(), fetch, slept.append, lambda: moment)
    assert set(slept) == {60}, "one interval between measurements"
    return outcome, calls


def test_three_good_intervals_make_a_successful_analysis() -> None:
    good = [_answer(0.1, 120) for _ in range(3)]
    (state, _), calls = _run({"error-rate": list(good), "p99-latency": list(good)})
    assert state == ma.SUCCESSFUL
    assert len(calls) == 6, "each metric measured count times"
    _, start, end = calls[0]
    assert (end - start).total_seconds() == 60, "each measurement reads the interval just ended"


def test_one_bad_interval_fails_the_analysis_at_once() -> None:
    (state, why), calls = _run(
        {"error-rate": [_answer(7.5, 120)], "p99-latency": [_answer(0.3, 120)]}
    )
    assert (state, why) == (ma.FAILED, "error-rate: 1 failed measurement(s), more than 0")
    assert len(calls) == 2, "no further measurement once the verdict is known"


def test_too_little_traffic_twice_is_inconclusive_not_a_pass() -> None:
    quiet = [_answer(0.0, 3), _answer(0.0, 2)]
    (state, _), _ = _run({"error-rate": list(quiet), "p99-latency": list(quiet)})
    assert state == ma.INCONCLUSIVE


def test_the_queries_measure_the_target_as_values() -> None:
    spec = _spec()
    assert (spec["interval_seconds"], spec["count"], spec["failure_limit"]) == (60, 3, 0)
    errors = {q["Id"]: q for q in spec["metrics"][0]["queries"]}
    assert errors["value"]["Expression"] == "100 * FILL(errors, 0) / traffic"
    stat = errors["errors"]["MetricStat"]
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "Sum",
    )
    assert stat["Metric"]["Dimensions"] == [
        {"Name": "TargetGroup", "Value": ALB["TargetGroup"]},
        {"Name": "LoadBalancer", "Value": ALB["LoadBalancer"]},
    ]
    assert errors["traffic"]["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    latency = {q["Id"]: q for q in spec["metrics"][1]["queries"]}
    assert latency["value"]["Expression"] == "measured * 1000", "TargetResponseTime is seconds"
    assert latency["measured"]["MetricStat"]["Stat"] == "p99"
    duration = {
        q["Id"]: q
        for q in ma.metric_queries("p99-duration", {"FunctionName": "f", "Resource": "f:live"}, 60)
    }
    assert duration["measured"]["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    assert duration["value"]["Expression"] == "measured", "Lambda Duration is milliseconds"
    assert duration["traffic"]["MetricStat"]["Metric"]["MetricName"] == "Invocations"


def test_the_botocore_model_accepts_the_queries() -> None:
    """The queries as the AWS CLI sends them: botocore validates them against the API model."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("cloudwatch", region_name="eu-west-1")
    stubber = Stubber(client)
    queries = _spec()["metrics"][0]["queries"]
    start, end = datetime(2026, 12, 7, 10, 0, tzinfo=UTC), datetime(2026, 12, 7, 10, 1, tzinfo=UTC)
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": _answer(0.2, 50)},
        {"MetricDataQueries": queries, "StartTime": start, "EndTime": end},
    )
    with stubber:
        answer = client.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
    assert (
        ma.judge(
            ma._latest(answer["MetricDataResults"], "value"),  # pyright: ignore[reportPrivateUsage]
            ma._latest(answer["MetricDataResults"], "traffic"),  # pyright: ignore[reportPrivateUsage]
            2,
            10,
        )
        == ma.SUCCESS
    )


def test_the_buildspec_carries_this_module_and_exits_with_the_verdict(tmp_path: Path) -> None:
    spec = yaml.safe_load(ma.ANALYSIS_BUILDSPEC)
    commands = spec["phases"]["build"]["commands"]
    encoded = re.fullmatch(r"echo (\S+) \| base64 -d > /tmp/metric_analysis.py", commands[0])
    assert encoded, commands[0]
    source = base64.b64decode(encoded.group(1))
    assert source == Path(ma.__file__).read_bytes(), "the very module the tests exercise"
    script = tmp_path / "metric_analysis.py"
    script.write_bytes(source)
    # Run as the build runs it, with `aws` answering a bad minute: exit 1, the verdict printed.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = json.dumps({"MetricDataResults": _answer(9.0, 200)})
    (bin_dir / "aws").write_text(f"#!/bin/sh\necho '{answer}'\n")
    (bin_dir / "aws").chmod(0o755)
    fast = _spec(interval_minutes=1)
    fast["interval_seconds"] = 0
    result = subprocess.run(
        [sys.executable, str(script)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "ANALYSIS_SPEC": json.dumps(fast)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "analysis FAILED: error-rate: 1 failed measurement(s), more than 0" in result.stdout


# --- wiring in the sample stacks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


def test_staging_thumbnailer_analyses_beside_verification_and_a_failure_fails_deploy(
    runs: dict[str, StackRun],
) -> None:
    rec = runs["staging"].recorder
    pipeline = next(
        p
        for p in rec.of_type("aws:codepipeline/pipeline:Pipeline")
        if p.inputs["name"] == "thumbnailer-staging-pipeline"
    )
    deploy = next(s for s in pipeline.inputs["stages"] if s["name"] == "Deploy")
    orders = {a["name"]: a["runOrder"] for a in deploy["actions"]}
    analysis = next(a for a in deploy["actions"] if a["name"] == "verify-analysis")
    assert orders["verify-analysis"] == orders["verify-smoke"] == orders["thumbnailer"] + 1, (
        "once the release is deployed, beside the verification"
    )
    assert (analysis["category"], analysis["provider"]) == ("Test", "CodeBuild")
    project = rec.one("aws:codebuild/project:Project", "thumbnailer-analysis-project").inputs
    assert analysis["configuration"]["ProjectName"] == project["name"]
    assert project["name"] == "thumbnailer-staging-analysis"
    assert project["source"]["buildspec"] == ma.ANALYSIS_BUILDSPEC
    assert deploy["onFailure"] == {"result": "ROLLBACK"}, "a failed analysis rolls Deploy back"
    variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    spec = json.loads(variables["ANALYSIS_SPEC"])
    assert (spec["interval_seconds"], spec["count"], spec["inconclusive_limit"]) == (60, 10, 1)
    assert [(m["name"], m["max"], m["min_requests"]) for m in spec["metrics"]] == [
        ("error-rate", 2, 1),
        ("p99-duration", 3000, 1),
    ]
    dims = spec["metrics"][0]["queries"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert dims == [
        {"Name": "FunctionName", "Value": "thumbnailer-staging"},
        {"Name": "Resource", "Value": "thumbnailer-staging:live"},
    ], "the alias the release shifts"
    assert project["buildTimeout"] == 20, "ten minutes of measurements and a margin"
    policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "thumbnailer-analysis-policy").inputs["policy"]
    )
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert grants["ReadMetricsForAnalysis"]["Action"] == ["cloudwatch:GetMetricData"]
    role = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "thumbnailer-pipeline-policy").inputs["policy"]
    )
    started = next(s for s in role["Statement"] if s["Sid"] == "RunBuildsAndTests")["Resource"]
    assert any(arn.endswith(":project/thumbnailer-staging-analysis") for arn in started)
    for stack, run in runs.items():
        names = [a.name for a in run.recorder.of_type("aws:codebuild/project:Project")]
        expected = ["thumbnailer-analysis-project"] if stack == "staging" else []
        assert [n for n in names if "analysis" in n] == expected, stack


def _staging() -> dict[str, Any]:
    flat = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]
    return copy.deepcopy(
        {
            k.split(":", 1)[1]: v
            for k, v in flat.items()
            if k.startswith(f"{NS}:") and k != f"{NS}:githubToken"
        }
    )


@pytest.mark.parametrize(
    ("service", "change", "key", "why"),
    [
        (
            1,
            {"metrics": [{"name": "p99-latency", "max": 5}]},
            "analysis.metrics[0].name",
            "'p99-latency' is not measured for platform lambda",
        ),
        (0, {"metrics": []}, "analysis.metrics", "at least 1 item"),
        (
            0,
            {"metrics": [{"name": "p99-duration", "max": 5}]},
            "analysis.metrics[0].name",
            "'p99-duration' is not measured for platform server",
        ),
        (
            0,
            {"metrics": [{"name": "error-rate", "max": 0}]},
            "analysis.metrics[0].max",
            "greater than 0",
        ),
        (
            0,
            {"target": "api", "metrics": [{"name": "error-rate", "max": 1}]},
            "analysis.target",
            "name the target it measures",
        ),
    ],
)
def test_bad_analysis_settings_name_the_key(
    service: int, change: dict[str, Any], key: str, why: str
) -> None:
    raw = _staging()
    raw["services"][service]["deploy"]["analysis"] = change
    with pytest.raises(ConfigError) as caught:
        parse_settings(NS, "staging", raw, github_token="secret")
    message = str(caught.value)
    assert f"{NS}:services[{service}].deploy.{key}:" in message, message
    assert why in message, message


def test_a_verify_suite_named_analysis_would_collide_with_the_analysis_action() -> None:
    raw = _staging()
    raw["services"][1]["deploy"]["verify"] = [{"name": "analysis"}]
    with pytest.raises(ConfigError) as caught:
        parse_settings(NS, "staging", raw, github_token="secret")
    assert (
        f"{NS}:services[1].deploy.verify[0].name: the metric analysis runs as action "
        "verify-analysis: rename this suite"
    ) in str(caught.value)
