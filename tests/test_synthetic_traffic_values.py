"""SyntheticTraffic's refusals, word for word, and its names at their limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.synthetic_traffic import SyntheticTraffic
from tests.harness import ROOT, Recorder, run_pulumi

BUCKET = "acme-staging-artifacts"


def server(**extra: Any) -> Any:
    return {
        "service": "web",
        "stage": "staging",
        "target": "web",
        "endpoint": "https://web.staging.example.com",
        "checks_file": str(ROOT / "templates" / "smoke" / "checks.py"),
        "artifact_bucket_name": BUCKET,
        "artifact_bucket_arn": f"arn:aws:s3:::{BUCKET}",
        **extra,
    }


def test_a_canary_schedule_outside_once_a_minute_to_once_an_hour_is_refused_with_why(
    mocks: Recorder,
) -> None:
    args = server(every_minutes=90)
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: SyntheticTraffic("traffic", args))
    assert str(refused.value) == (
        "synthetic traffic web/web: every_minutes 90 must be 1-60 (a canary runs at most once a "
        "minute and at least once an hour)"
    )


def test_a_long_target_keeps_its_whole_alarm_name_up_to_cloudwatchs_255_characters(
    mocks: Recorder, tmp_path: Path
) -> None:
    target = "t" * 120  # web-staging-<target>-traffic: 140 characters
    run_pulumi(
        lambda: (
            SyntheticTraffic("traffic", server(target=target, build_dir=str(tmp_path))).alarm_names
        )
    )
    alarm = mocks.one("aws:cloudwatch/metricAlarm:MetricAlarm", "traffic-alarm")
    assert alarm.inputs["name"] == f"web-staging-{target}-traffic"
