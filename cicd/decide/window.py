"""When a deployment window opens next: the cron of a CodePipeline DeploymentWindow rule.

The stacks hold a stage (prod's Deploy) with a `DeploymentWindow` rule whose `Cron` has six or
seven fields, seconds first, as in `* * 9-15 ? * MON-FRI` (any second and minute of hours 9 to
15, Monday to Friday) in the rule's `TimeZone`. The times the cron matches are inside the window;
`next_opening` finds the first of them at or after a moment, to the minute. Day of week counts
1 = SUN to 7 = SAT, or names; `?` means any. Special characters this does not know (`L`, `W`,
`#`) make `next_opening` return None: the caller then shows the cron as it is.

Pure: no AWS calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# How far ahead to look: a window that opens less than once a year is not a window.
_HORIZON_DAYS = 400


class CronNotUnderstood(ValueError):
    """The expression uses something `next_opening` does not evaluate."""


def _value(text: str, names: list[str], offset: int) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + offset
    if not text.isdigit():
        raise CronNotUnderstood(f"cannot read {text!r}")
    return int(text)


def _field(text: str, low: int, high: int, names: list[str] | None = None) -> set[int]:
    """The values one cron field allows, within [low, high]."""
    if text in {"*", "?"}:
        return set(range(low, high + 1))
    allowed: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronNotUnderstood(f"cannot read step {step_text!r}")
            step = int(step_text)
        if part in {"*", "?"}:
            first, last = low, high
        elif "-" in part:
            start, end = part.split("-", 1)
            first, last = _value(start, names or [], low), _value(end, names or [], low)
        else:
            first = _value(part, names or [], low)
            last = high if step > 1 else first
        if not (low <= first <= high and low <= last <= high):
            raise CronNotUnderstood(f"{part!r} is outside {low}-{high}")
        allowed.update(range(first, last + 1, step))
    return allowed


class Cron:
    """A parsed six- or seven-field cron: seconds, minutes, hours, day of month, month, day of
    week, optional year."""

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) not in {6, 7}:
            raise CronNotUnderstood(f"expected 6 or 7 fields, got {len(fields)}")
        self.expression = expression
        self.seconds = _field(fields[0], 0, 59)
        self.minutes = _field(fields[1], 0, 59)
        self.hours = _field(fields[2], 0, 23)
        self.days = _field(fields[3], 1, 31)
        self.months = _field(fields[4], 1, 12, _MONTHS)
        # 1 = SUN ... 7 = SAT; Python's weekday() has 0 = MON.
        self.weekdays = _field(fields[5], 1, 7, _DAYS)
        self.years = _field(fields[6], 1970, 2199) if len(fields) == 7 else None

    def _day_matches(self, day: datetime) -> bool:
        quartz_weekday = (day.weekday() + 1) % 7 + 1
        return (
            day.month in self.months
            and day.day in self.days
            and quartz_weekday in self.weekdays
            and (self.years is None or day.year in self.years)
        )

    def next_match(self, start: datetime) -> datetime | None:
        """The first minute at or after `start` (an aware local time) that the cron matches."""
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(_HORIZON_DAYS):
            current = day + timedelta(days=offset)
            if not self._day_matches(current):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    candidate = current.replace(hour=hour, minute=minute)
                    if candidate + timedelta(minutes=1) > start:
                        return max(candidate, start.replace(second=0, microsecond=0))
        return None


def next_opening(cron: str, time_zone: str, now: datetime) -> datetime | None:
    """When the window opens next (now, if it is open), as an aware time in `time_zone`.

    None when the cron or the zone cannot be evaluated here, or nothing matches within a year.
    """
    try:
        zone = ZoneInfo(time_zone)
        return Cron(cron).next_match(now.astimezone(zone))
    except (CronNotUnderstood, ZoneInfoNotFoundError, ValueError):
        return None
