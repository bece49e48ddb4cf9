"""The delivery metrics a stage publishes, read back: one GetMetricData call per service.

`read_published` asks CloudWatch for the window as a single period, so each query returns one
value (or none): the sums of the four counters, the sample counts, and the median and 90th
percentile CloudWatch computes from the raw samples the reporter put (percentiles need raw
values, which PutMetricData sends). GetMetricData's periods must be whole hours for data older
than 63 days, so the window is widened to whole hours:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from botocore.client import BaseClient

from cicd.contract import (
    METRIC_FAILED,
    METRIC_LEAD_TIME,
    METRIC_RESTORE,
    METRIC_ROLLED_BACK,
    METRIC_STARTED,
    METRIC_SUCCEEDED,
    METRICS_NAMESPACE,
)
from cicd.model.metrics import PublishedMetrics

HOUR = 3600
# (query id, metric, statistic)
QUERIES = (
    ("started", METRIC_STARTED, "Sum"),
    ("succeeded", METRIC_SUCCEEDED, "Sum"),
    ("failed", METRIC_FAILED, "Sum"),
    ("rolledback", METRIC_ROLLED_BACK, "Sum"),
    ("leadcount", METRIC_LEAD_TIME, "SampleCount"),
    ("leadmedian", METRIC_LEAD_TIME, "p50"),
    ("leadp90", METRIC_LEAD_TIME, "p90"),
    ("restorecount", METRIC_RESTORE, "SampleCount"),
    ("restoremedian", METRIC_RESTORE, "p50"),
)


def window(start: datetime, end: datetime) -> tuple[datetime, datetime, int]:
    """(start rounded down to the hour, end, one period in whole hours covering both)."""
    floor = start.replace(minute=0, second=0, microsecond=0)
    hours = max(1, math.ceil((end - floor).total_seconds() / HOUR))
    return floor, end, hours * HOUR


def metric_queries(service: str, stage: str, period: int) -> list[dict[str, Any]]:
    dimensions = [{"Name": "Service", "Value": service}, {"Name": "Stage", "Value": stage}]
    return [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": METRICS_NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": dimensions,
                },
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for query_id, metric, stat in QUERIES
    ]


def read_published(
    cloudwatch: BaseClient,
    service: str,
    stage: str,
    pipeline: str,
    start: datetime,
    end: datetime,
) -> PublishedMetrics:
    first, last, period = window(start, end)
    values: dict[str, float] = {}
    request: dict[str, Any] = {
        "MetricDataQueries": metric_queries(service, stage, period),
        "StartTime": first,
        "EndTime": last,
    }
    while True:
        page = cloudwatch.get_metric_data(**request)
        for result in page.get("MetricDataResults", []):
            found = result.get("Values") or []
            if found:
                values[str(result["Id"])] = values.get(str(result["Id"]), 0.0) + float(found[0])
        token = page.get("NextToken")
        if not token:
            break
        request["NextToken"] = token

    def count(key: str) -> int:
        return round(values.get(key, 0.0))

    def duration(key: str) -> timedelta | None:
        return timedelta(seconds=values[key]) if key in values else None

    return PublishedMetrics(
        service=service,
        pipeline=pipeline,
        stage=stage,
        start=start,
        end=end,
        started=count("started"),
        succeeded=count("succeeded"),
        failed=count("failed"),
        rolled_back=count("rolledback"),
        lead_count=count("leadcount"),
        lead_median=duration("leadmedian"),
        lead_p90=duration("leadp90"),
        restore_count=count("restorecount"),
        restore_median=duration("restoremedian"),
    )
