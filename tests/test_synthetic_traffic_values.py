"""SyntheticTraffic's refusals, word for word."""

from __future__ import annotations

from typing import Any

import pytest

from components.synthetic_traffic import SyntheticTraffic
from tests.harness import ROOT, Recorder, run_pulumi

BUCKET = "acme-staging-artifacts"


def test_a_canary_schedule_outside_once_a_minute_to_once_an_hour_is_refused_with_why(
    mocks: Recorder,
) -> None:
    args: Any = {
        "service": "web",
        "stage": "staging",
        "target": "web",
        "endpoint": "https://web.staging.example.com",
        "checks_file": str(ROOT / "templates" / "smoke" / "checks.py"),
        "artifact_bucket_name": BUCKET,
        "artifact_bucket_arn": f"arn:aws:s3:::{BUCKET}",
        "every_minutes": 90,
    }
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: SyntheticTraffic("traffic", args))
    assert str(refused.value) == (
        "synthetic traffic web/web: every_minutes 90 must be 1-60 (a canary runs at most once a "
        "minute and at least once an hour)"
    )
