"""Metric analysis during a release: measure every interval, then pass, fail, or stop for a person.

Defines the pure decision (`judge`, `verdict`), what a service's config becomes (`analysis_spec`,
the MetricDataQueries of each metric), the CodeBuild buildspec that runs it (`ANALYSIS_BUILDSPEC`,
which carries this very file) and `main`, the loop that runs in that build: every
`interval_seconds` it calls CloudWatch `GetMetricData` through the AWS CLI for the interval just
ended, judges each metric, and stops as soon as the verdict is known.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html

The semantics are Argo Rollouts' AnalysisTemplate (successCondition, failureLimit,
inconclusiveLimit, interval, count) and Flagger's metric checks, per metric:
- a measurement is `success` when the value is at most `max`, `failure` when above, and
  `inconclusive` when the interval had fewer than `min_requests` requests (or no datapoint):
  not enough data is never a pass;
- the analysis is `failed` as soon as a metric has more than `failure_limit` failures,
  `inconclusive` as soon as one has more than `inconclusive_limit` inconclusive measurements,
  and `successful` after `count` measurements of every metric without either.
The build exits 0 when successful, 1 when failed, 2 when inconclusive; the last two fail the
pipeline action with the verdict and every measurement in the log. Standard library only: the
build installs nothing.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SUCCESS, FAILURE, INCONCLUSIVE = "success", "failure", "inconclusive"
SUCCESSFUL, FAILED, RUNNING = "successful", "failed", "running"
EXIT_CODES = {SUCCESSFUL: 0, FAILED: 1, INCONCLUSIVE: 2}
KINDS = {
    "server": {"error-rate": "5XX share of requests, %", "p99-latency": "p99 response time, ms"},
    "lambda": {"error-rate": "error share of invocations, %", "p99-duration": "p99 duration, ms"},
}
"""The metrics an analysis can measure per platform, and their unit."""


def judge(value: float | None, traffic: float | None, maximum: float, min_requests: int) -> str:
    """One measurement of one metric: success, failure, or inconclusive (not enough data)."""
    if value is None or traffic is None or traffic < min_requests:
        return INCONCLUSIVE
    return SUCCESS if value <= maximum else FAILURE


def verdict(
    measurements: Mapping[str, Sequence[str]],
    *,
    count: int,
    failure_limit: int,
    inconclusive_limit: int,
) -> tuple[str, str]:
    """The analysis so far: (running | successful | failed | inconclusive, why)."""
    for name, results in measurements.items():
        failures = results.count(FAILURE)
        if failures > failure_limit:
            return FAILED, f"{name}: {failures} failed measurement(s), more than {failure_limit}"
    for name, results in measurements.items():
        unknown = results.count(INCONCLUSIVE)
        if unknown > inconclusive_limit:
            return INCONCLUSIVE, (
                f"{name}: {unknown} measurement(s) without enough data, more than "
                f"{inconclusive_limit}: a person decides (cicd retry measures again)"
            )
    if measurements and all(len(r) >= count for r in measurements.values()):
        return SUCCESSFUL, f"{count} measurement(s) of every metric within their limits"
    return RUNNING, "measuring"


def _stat(namespace: str, metric: str, stat: str, dimensions: Mapping[str, str]) -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        },
        "Stat": stat,
    }


def metric_queries(kind: str, dimensions: Mapping[str, str], period: int) -> list[dict[str, Any]]:
    """GetMetricData queries for one metric: `value` (judged) and `traffic` (the guard)."""
    lambda_kind = "FunctionName" in dimensions
    namespace = "AWS/Lambda" if lambda_kind else "AWS/ApplicationELB"
    traffic = "Invocations" if lambda_kind else "RequestCount"
    queries = [
        {
            "Id": "traffic",
            "MetricStat": {**_stat(namespace, traffic, "Sum", dimensions), "Period": period},
            "ReturnData": True,
        }
    ]
    if kind == "error-rate":
        errors = "Errors" if lambda_kind else "HTTPCode_Target_5XX_Count"
        queries.append(
            {
                "Id": "errors",
                "MetricStat": {**_stat(namespace, errors, "Sum", dimensions), "Period": period},
                "ReturnData": False,
            }
        )
        queries.append(
            {"Id": "value", "Expression": "100 * FILL(errors, 0) / traffic", "ReturnData": True}
        )
    else:
        metric, scale = ("Duration", "") if lambda_kind else ("TargetResponseTime", " * 1000")
        queries.append(
            {
                "Id": "measured",
                "MetricStat": {**_stat(namespace, metric, "p99", dimensions), "Period": period},
                "ReturnData": False,
            }
        )
        queries.append({"Id": "value", "Expression": f"measured{scale}", "ReturnData": True})
    return queries


def analysis_spec(
    *,
    dimensions: Mapping[str, str],
    metrics: Sequence[Mapping[str, Any]],
    interval_minutes: int,
    count: int,
    failure_limit: int,
    inconclusive_limit: int,
    min_requests: int,
) -> dict[str, Any]:
    """What the build reads (ANALYSIS_SPEC): limits and each metric's queries and maximum."""
    period = interval_minutes * 60
    return {
        "interval_seconds": period,
        "count": count,
        "failure_limit": failure_limit,
        "inconclusive_limit": inconclusive_limit,
        "metrics": [
            {
                "name": m["name"],
                "max": m["max"],
                "min_requests": min_requests,
                "queries": metric_queries(str(m["name"]), dimensions, period),
            }
            for m in metrics
        ],
    }


def _latest(results: Sequence[Mapping[str, Any]], query_id: str) -> float | None:
    for result in results:
        if result.get("Id") == query_id and result.get("Values"):
            return float(result["Values"][0])
    return None


def measure_once(spec: Mapping[str, Any], end: datetime, fetch: Any) -> dict[str, str]:
    """One interval ending at `end`: each metric's judgement, from `fetch(queries, start, end)`
    (GetMetricData's MetricDataResults)."""
    start = end - timedelta(seconds=int(spec["interval_seconds"]))
    judged: dict[str, str] = {}
    for metric in spec["metrics"]:
        results = fetch(metric["queries"], start, end)
        value, traffic = _latest(results, "value"), _latest(results, "traffic")
        judged[metric["name"]] = judge(value, traffic, metric["max"], metric["min_requests"])
        print(
            f"  {metric['name']}: value {value}, traffic {traffic} -> {judged[metric['name']]}",
            flush=True,
        )
    return judged


def aws_cli_fetch(
    queries: Sequence[Mapping[str, Any]], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """GetMetricData through the AWS CLI the CodeBuild image carries."""
    answer = subprocess.run(
        [
            "aws",
            "cloudwatch",
            "get-metric-data",
            "--metric-data-queries",
            json.dumps(list(queries)),
            "--start-time",
            start.isoformat(),
            "--end-time",
            end.isoformat(),
            "--scan-by",
            "TimestampDescending",
            "--output",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return list(json.loads(answer.stdout).get("MetricDataResults", []))


def run(spec: Mapping[str, Any], fetch: Any, sleep: Any, now: Any) -> tuple[str, str]:
    """The whole analysis: measure every interval until the verdict is known."""
    measurements: dict[str, list[str]] = {m["name"]: [] for m in spec["metrics"]}
    for number in range(1, int(spec["count"]) + 1):
        sleep(int(spec["interval_seconds"]))
        print(f"measurement {number} of {spec['count']}:", flush=True)
        for name, result in measure_once(spec, now(), fetch).items():
            measurements[name].append(result)
        state, why = verdict(
            measurements,
            count=int(spec["count"]),
            failure_limit=int(spec["failure_limit"]),
            inconclusive_limit=int(spec["inconclusive_limit"]),
        )
        if state != RUNNING:
            return state, why
    return verdict(
        measurements,
        count=int(spec["count"]),
        failure_limit=int(spec["failure_limit"]),
        inconclusive_limit=int(spec["inconclusive_limit"]),
    )


def main() -> int:
    spec = json.loads(os.environ["ANALYSIS_SPEC"])
    state, why = run(spec, aws_cli_fetch, time.sleep, lambda: datetime.now(UTC))
    print(f"analysis {state.upper()}: {why}", flush=True)
    return EXIT_CODES[state]


def _buildspec() -> str:
    source = base64.b64encode(Path(__file__).read_bytes()).decode()
    return (
        "version: 0.2\n"
        "# Metric analysis (components/metric_analysis.py, carried below): exit 0 successful,\n"
        "# 1 failed, 2 inconclusive. Written by the platform; nothing is read from the release.\n"
        "phases:\n"
        "  install:\n"
        "    runtime-versions:\n"
        '      python: "3.12"\n'
        "  build:\n"
        "    commands:\n"
        f"      - echo {source} | base64 -d > /tmp/metric_analysis.py\n"
        "      - python3 /tmp/metric_analysis.py\n"
    )


ANALYSIS_BUILDSPEC = _buildspec() if Path(__file__).is_file() else ""

if __name__ == "__main__":
    sys.exit(main())
