"""ReleaseAlarms' refusals, word for word: each says what is wrong and how to fix it."""

from __future__ import annotations

from typing import Any

import pytest

from components.release_alarms import ReleaseAlarms
from tests.harness import Recorder, run_pulumi

ALB = {
    "target_group_arn_suffix": "targetgroup/orders-prod/73e2d6bc24d8a067",
    "load_balancer_arn_suffix": "app/orders-prod/50dc6c495c0c9188",
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"alias": "live"},
            "release alarms: alias is set but function_name is not; give the Lambda "
            "function_name the alias belongs to",
        ),
        (
            {},
            "release alarms: no target given; set target_group_arn_suffix and "
            "load_balancer_arn_suffix (ALB) or function_name (Lambda), or both",
        ),
        (
            {"function_name": "f", "period_seconds": 90},
            "release alarms: period_seconds 90 must be a positive multiple of 60 "
            "(ALB and Lambda metrics are published per minute)",
        ),
        (
            {**ALB, "measure": "rate", "p99_latency_ms": 0},
            "release alarms: p99_latency_ms 0 must be positive",
        ),
    ],
    ids=["alias-alone", "no-target", "period", "zero-latency"],
)
def test_release_alarms_that_cannot_work_are_refused_with_the_fix(
    mocks: Recorder, extra: dict[str, Any], message: str
) -> None:
    args: Any = {"service": "orders", "stage": "prod", **extra}
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: ReleaseAlarms("alarms", args))
    assert str(refused.value) == message
    assert mocks.resources == []
