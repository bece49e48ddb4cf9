"""`cicd.aws.metrics.read_published` across GetMetricData pages.

`cicd metrics` is tests/cicd/test_metrics.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cicd.aws import metrics
from tests.cicd.aws_fakes import NOW, StubbedAws


def test_published_metrics_add_up_the_values_of_every_page() -> None:
    aws = StubbedAws()
    cloudwatch = aws.stub("cloudwatch")
    made: list[dict[str, Any]] = []
    cloudwatch.client.meta.events.register(
        "before-parameter-build.monitoring.GetMetricData",
        lambda params, **_: made.append(dict(params)),
    )
    cloudwatch.add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": "started", "Values": [2.0]}], "NextToken": "page-2"},
    )
    cloudwatch.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {"Id": "started", "Values": [3.0]},
                {"Id": "leadmedian", "Values": [90.0]},
            ]
        },
    )

    found = metrics.read_published(
        aws.client("cloudwatch"), "web", "prod", "web-prod-pipeline", NOW - timedelta(days=7), NOW
    )

    aws.verify()
    assert (found.started, found.lead_median) == (5, timedelta(seconds=90))
    assert [r.get("NextToken") for r in made] == [None, "page-2"]
