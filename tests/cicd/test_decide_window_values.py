"""`cicd.decide.window.next_opening` with cron lists (`MON,THU,SAT`), which CodePipeline's
deployment window rule accepts like any EventBridge cron field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cicd.decide.window import next_opening

BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY_NOON = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin


def test_a_window_of_listed_days_opens_on_the_next_listed_day() -> None:
    opens = next_opening("* 0 9 ? * MON,THU,SAT", "Europe/Berlin", THURSDAY_NOON)

    assert opens == datetime(2025, 5, 3, 9, 0, tzinfo=BERLIN)
