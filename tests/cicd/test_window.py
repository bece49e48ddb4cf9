"""When a deployment window opens next (pure; the cron form CodePipeline's rule uses)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cicd.decide.window import next_opening

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 2025-05-01 12:00 UTC = 14:00 in Berlin (CEST).
THURSDAY_NOON = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "opens"),
    [
        ("* * 9-15 ? * MON-FRI", datetime(2025, 5, 1, 14, 0, tzinfo=BERLIN)),  # open now
        ("* * 16-17 ? * MON-FRI", datetime(2025, 5, 1, 16, 0, tzinfo=BERLIN)),
        ("* * 9-15 ? * MON-WED", datetime(2025, 5, 5, 9, 0, tzinfo=BERLIN)),  # next Monday
        ("* * 9-15 ? * 2-4", datetime(2025, 5, 5, 9, 0, tzinfo=BERLIN)),  # 2 = MON
        ("* 30 6 ? * SAT", datetime(2025, 5, 3, 6, 30, tzinfo=BERLIN)),
        ("* */15 20 ? * *", datetime(2025, 5, 1, 20, 0, tzinfo=BERLIN)),
        ("* 0 9 1 JUN ?", datetime(2025, 6, 1, 9, 0, tzinfo=BERLIN)),
        ("* 0 9 ? * MON 2026", datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)),
    ],
)
def test_the_next_opening_is_the_first_matching_minute_in_the_windows_time_zone(
    cron: str, opens: datetime
) -> None:
    assert next_opening(cron, "Europe/Berlin", THURSDAY_NOON) == opens


def test_a_window_across_the_clock_change_opens_at_local_time() -> None:
    before_dst = datetime(2025, 3, 29, 20, 0, tzinfo=UTC)  # Saturday evening, CET

    opening = next_opening("* * 9-15 ? * MON-FRI", "Europe/Berlin", before_dst)

    assert opening is not None
    assert (opening.isoformat(), opening.astimezone(UTC).hour) == (
        "2025-03-31T09:00:00+02:00",
        7,
    )


@pytest.mark.parametrize(
    ("cron", "zone"),
    [
        ("* * 9-15 L * ?", "Europe/Berlin"),  # last day of month: not evaluated here
        ("* * 9-15 ? * MON#2", "Europe/Berlin"),
        ("* * 25 ? * *", "Europe/Berlin"),  # no hour 25
        ("* * *", "Europe/Berlin"),
        ("* * 9-15 ? * MON-FRI", "Mars/Olympus"),
    ],
)
def test_what_cannot_be_evaluated_gives_no_time_rather_than_a_wrong_one(
    cron: str, zone: str
) -> None:
    assert next_opening(cron, zone, THURSDAY_NOON) is None
