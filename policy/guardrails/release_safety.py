"""Release-safety guardrails (issue 20): signals that can fail, bakes that see, windows that open.

Defines the check functions five of `rules.RULES` run, and the small cron reader they need. Like
`rules`, it imports neither Pulumi nor pulumi-policy and fixes nothing: each message names the
service, the value found and what to change.

- An alarm that cannot fire at low traffic: on a service with no synthetic traffic (no
  Synthetics canary tagged with its service and stage), a count alarm (one metric, Sum or
  SampleCount) whose threshold is above 1 (a few requests never reach it), or a metric-math alarm
  whose missing data is not breaching (no requests: no datapoint: OK). A count with threshold 1
  fires on the first event, at any traffic; alarms named in config but not declared here cannot
  be judged and are skipped.
- A bake shorter than the evaluation span (period x evaluation periods) of an alarm it watches:
  the bake ends before the alarm could have gone into ALARM.
- A deployment window that is never open in the coming 400 days.
- An approval timeout shorter than the longest closed stretch of the window of the stage after
  it: a release approved-for-later expires while nobody may deploy it.
- A production pipeline whose Deploy actions watch no alarm (the deployment group's alarm
  configuration, the Lambda deploy action's `Alarms`) and whose bake watches none either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guardrails.model import Resource, Stack, as_list, is_unknown

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CANARY = "aws:synthetics/canary:Canary"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
SERVICE_TAG, STAGE_TAG = "cicd:service", "cicd:stage"
NOT_BREACHING = ("notBreaching", "ignore", "missing", None)
"""Treatments under which no datapoint is not a failure (`missing` is CloudWatch's default)."""
COUNT_STATISTICS = ("Sum", "SampleCount")
WINDOW_HORIZON_DAYS = 400
"""How far ahead a window must open once (cicd's `next_opening` looks as far)."""
CLOSED_STRETCH_DAYS = 14
"""The span over which the longest closed stretch of a window is measured, minute by minute:
two weeks hold every weekly pattern, and one week's stretch that crosses into the next."""

Findings = Iterator[tuple[str | None, str]]


def _service(resource: Resource) -> str:
    service = resource.tags.get(SERVICE_TAG)
    return service if isinstance(service, str) else resource.name


def _key(resource: Resource) -> tuple[Any, Any]:
    return resource.tags.get(SERVICE_TAG), resource.tags.get(STAGE_TAG)


def _alarms_by_name(stack: Stack) -> dict[str, Resource]:
    return {
        str(a.props["name"]): a
        for a in stack.of_type(ALARM)
        if isinstance(a.props.get("name"), str)
    }


def _pipelines(stack: Stack) -> Iterator[Resource]:
    return stack.of_type(PIPELINE)


def _stages(pipeline: Resource) -> list[Mapping[str, Any]]:
    return [s for s in as_list(pipeline.props.get("stages")) if isinstance(s, Mapping)]


def _actions(stage: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [a for a in as_list(stage.get("actions")) if isinstance(a, Mapping)]


def _condition_rules(stage: Mapping[str, Any], when: str) -> list[Mapping[str, Any]]:
    block = stage.get(when)
    condition = block.get("condition") if isinstance(block, Mapping) else None
    rules = condition.get("rules") if isinstance(condition, Mapping) else None
    return [r for r in as_list(rules) if isinstance(r, Mapping)]


def _provider(rule: Mapping[str, Any]) -> Any:
    type_id = rule.get("ruleTypeId")
    return type_id.get("provider") if isinstance(type_id, Mapping) else None


def _configuration(item: Mapping[str, Any]) -> Mapping[str, Any]:
    configuration = item.get("configuration")
    return configuration if isinstance(configuration, Mapping) else {}


def _bake_rules(stage: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(alarm name, wait minutes) of the stage's on-success CloudWatchAlarm rules."""
    found = []
    for rule in _condition_rules(stage, "onSuccess"):
        configuration = _configuration(rule)
        name, wait = configuration.get("AlarmName"), configuration.get("WaitTime")
        if _provider(rule) == "CloudWatchAlarm" and isinstance(name, str):
            minutes = int(wait) if isinstance(wait, str) and wait.isdigit() else 0
            found.append((name, minutes))
    return found


def _watched_by_stack(stack: Stack) -> set[str]:
    """Every alarm name a deployment group, a Lambda deploy action or a bake rule watches."""
    watched: set[str] = set()
    for group in stack.of_type(DEPLOYMENT_GROUP):
        watched.update(a for a in as_list(group.get("alarmConfiguration.alarms")) if a)
    for pipeline in _pipelines(stack):
        for stage in _stages(pipeline):
            watched.update(name for name, _ in _bake_rules(stage))
            for action in _actions(stage):
                alarms = _configuration(action).get("Alarms")
                if action.get("provider") == "Lambda" and isinstance(alarms, str):
                    watched.update(a for a in alarms.split(",") if a)
    return {w for w in watched if isinstance(w, str)}


def _evaluation_seconds(alarm: Resource) -> int | None:
    periods = alarm.props.get("evaluationPeriods")
    period = alarm.props.get("period")
    if period is None:
        queried = [
            q.get("metric", {}).get("period")
            for q in as_list(alarm.props.get("metricQueries"))
            if isinstance(q, Mapping) and isinstance(q.get("metric"), Mapping)
        ]
        period = max((p for p in queried if isinstance(p, int | float)), default=None)
    if not isinstance(period, int | float) or not isinstance(periods, int | float):
        return None
    return int(period * periods)


def _alarm_display(alarm: Resource) -> str:
    return str(alarm.props.get("name") or alarm.name)


# The checks ------------------------------------------------------------------------------------


def alarms_fire_at_low_traffic(stack: Stack, _: Mapping[str, Any]) -> Findings:
    trafficked = {_key(c) for c in stack.of_type(CANARY)}
    watched = _watched_by_stack(stack)
    for name, alarm in sorted(_alarms_by_name(stack).items()):
        if name not in watched or _key(alarm) in trafficked:
            continue
        service = _service(alarm)
        missing = alarm.props.get("treatMissingData")
        if is_unknown(missing):
            continue
        fix = (
            "send it synthetic traffic (deploy.traffic), or measure a share behind a "
            "minimum-traffic guard (deploy.alarm_defaults.measure: rate)"
        )
        if alarm.props.get("metricQueries"):
            if missing in NOT_BREACHING:
                yield (
                    alarm.urn,
                    f"service {service}: alarm {name} treats missing data as "
                    f"{missing or 'missing'} and no synthetic traffic reaches {service}: with no "
                    f"requests its expression has no datapoint and the alarm passes; {fix}, or "
                    "treat missing data as breaching (deploy.alarm_defaults.missing_data)",
                )
            continue
        threshold = alarm.props.get("threshold")
        statistic = alarm.props.get("statistic")
        if statistic in COUNT_STATISTICS and isinstance(threshold, int | float) and threshold > 1:
            yield (
                alarm.urn,
                f"service {service}: alarm {name} counts {alarm.props.get('metricName')} "
                f"({statistic} >= {threshold:g} a period) and no synthetic traffic reaches "
                f"{service}: fewer requests than that can never fire it; {fix}, or lower the "
                "threshold to 1",
            )


def bake_covers_alarm_evaluation(stack: Stack, _: Mapping[str, Any]) -> Findings:
    alarms = _alarms_by_name(stack)
    for pipeline in _pipelines(stack):
        service = _service(pipeline)
        for stage in _stages(pipeline):
            for name, minutes in _bake_rules(stage):
                alarm = alarms.get(name)
                seconds = _evaluation_seconds(alarm) if alarm is not None else None
                if alarm is None or seconds is None or minutes * 60 >= seconds:
                    continue
                yield (
                    pipeline.urn,
                    f"service {service}: stage {stage.get('name')} bakes {minutes} min, but "
                    f"alarm {name} needs {seconds // 60} min to evaluate "
                    f"({alarm.props.get('evaluationPeriods')} periods): the bake ends before it "
                    f"could fire; set deploy.bake_minutes to at least {-(-seconds // 60)}, or "
                    "evaluate the alarm over fewer or shorter periods",
                )


def _windows(pipeline: Resource) -> Iterator[tuple[Mapping[str, Any], str, str]]:
    for stage in _stages(pipeline):
        for rule in _condition_rules(stage, "beforeEntry"):
            configuration = _configuration(rule)
            cron, zone = configuration.get("Cron"), configuration.get("TimeZone", "UTC")
            if _provider(rule) == "DeploymentWindow" and isinstance(cron, str):
                yield stage, cron, str(zone)


def windows_open(stack: Stack, config: Mapping[str, Any]) -> Findings:
    now = _now(config)
    for pipeline in _pipelines(stack):
        for stage, cron, zone in _windows(pipeline):
            schedule = _schedule(cron, zone)
            if schedule is None:
                continue
            if schedule.next_open(now.astimezone(schedule.zone), WINDOW_HORIZON_DAYS) is None:
                yield (
                    pipeline.urn,
                    f"service {_service(pipeline)}: the deployment window of stage "
                    f"{stage.get('name')} ({cron!r}, {zone}) never opens in the next "
                    f"{WINDOW_HORIZON_DAYS} days, so nothing can ever deploy; fix "
                    "deploy.window.cron",
                )


def approval_outlasts_closed_window(stack: Stack, config: Mapping[str, Any]) -> Findings:
    now = _now(config)
    for pipeline in _pipelines(stack):
        timeouts = [
            int(a["timeoutInMinutes"])
            for s in _stages(pipeline)
            for a in _actions(s)
            if a.get("category") == "Approval"
            and isinstance(a.get("timeoutInMinutes"), int | float)
        ]
        if not timeouts:
            continue
        for stage, cron, zone in _windows(pipeline):
            schedule = _schedule(cron, zone)
            if schedule is None:
                continue
            closed = schedule.longest_closed_minutes(now.astimezone(schedule.zone))
            if closed is None or min(timeouts) >= closed:
                continue
            yield (
                pipeline.urn,
                f"service {_service(pipeline)}: the approval times out after {min(timeouts)} "
                f"min, but the window of stage {stage.get('name')} ({cron!r}, {zone}) stays "
                f"closed for up to {closed} min ({closed / 60:g} h): a release approved-for-later "
                f"expires before it may deploy; set approval.timeout_minutes to at least {closed}",
            )


def prod_watches_alarms(stack: Stack, config: Mapping[str, Any]) -> Findings:
    production = set(config.get("productionStages") or ())
    groups = {str(g.props.get("deploymentGroupName")): g for g in stack.of_type(DEPLOYMENT_GROUP)}
    for pipeline in _pipelines(stack):
        if pipeline.tags.get(STAGE_TAG) not in production:
            continue
        for stage in _stages(pipeline):
            deploys = [
                a
                for a in _actions(stage)
                if a.get("category") == "Deploy" and a.get("provider") in ("CodeDeploy", "Lambda")
            ]
            if not deploys:
                continue
            watched = bool(_bake_rules(stage))
            for action in deploys:
                configuration = _configuration(action)
                if action.get("provider") == "Lambda":
                    watched = watched or bool(configuration.get("Alarms"))
                    continue
                group = groups.get(str(configuration.get("DeploymentGroupName")))
                alarms = as_list(group.get("alarmConfiguration.alarms")) if group else []
                unknown = group is None or is_unknown(configuration.get("DeploymentGroupName"))
                watched = watched or bool(alarms) or unknown
            if not watched:
                yield (
                    pipeline.urn,
                    f"service {_service(pipeline)}: production stage {stage.get('name')} "
                    "deploys without watching any alarm, so nothing stops or rolls back a bad "
                    "release; set deploy.default_alarms: true or list deploy.alarms",
                )


# Deployment windows ----------------------------------------------------------------------------

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _now(config: Mapping[str, Any]) -> datetime:
    """The moment the window rules measure from: `now` in the rule config (ISO), else now."""
    given = config.get("now")
    if isinstance(given, str) and given:
        return datetime.fromisoformat(given)
    return datetime.now().astimezone()


def _values(text: str, low: int, high: int, names: list[str]) -> set[int] | None:
    """The values one cron field allows, or None for what this reader does not know."""
    if text in ("*", "?"):
        return set(range(low, high + 1))
    allowed: set[int] = set()

    def value(part: str) -> int | None:
        if part.upper() in names:
            return names.index(part.upper()) + low
        return int(part) if part.isdigit() else None

    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                return None
            step = int(step_text)
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            start, end = part.split("-", 1)
            first, last = value(start), value(end)  # type: ignore[assignment]
        else:
            first = value(part)  # type: ignore[assignment]
            last = high if step > 1 else first
        if first is None or last is None:
            return None
        allowed.update(range(first, last + 1, step))
    return allowed


class _Schedule:
    def __init__(self, fields: list[str], zone: ZoneInfo) -> None:
        self.zone = zone
        parsed = [
            _values(fields[1], 0, 59, []),
            _values(fields[2], 0, 23, []),
            _values(fields[3], 1, 31, []),
            _values(fields[4], 1, 12, _MONTHS),
            _values(fields[5], 1, 7, _DAYS),
            _values(fields[6], 1970, 2199, []) if len(fields) == 7 else set(range(1970, 2200)),
        ]
        if any(p is None for p in parsed):
            raise ValueError("not understood")
        self.minutes, self.hours, self.days, self.months, self.weekdays, self.years = (
            p or set() for p in parsed
        )

    def _day(self, day: datetime) -> bool:
        weekday = (day.weekday() + 1) % 7 + 1  # 1 = SUN ... 7 = SAT
        return (
            day.month in self.months
            and day.day in self.days
            and weekday in self.weekdays
            and day.year in self.years
        )

    def open_at(self, moment: datetime) -> bool:
        return self._day(moment) and moment.hour in self.hours and moment.minute in self.minutes

    def next_open(self, start: datetime, days: int) -> datetime | None:
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(days):
            day = midnight + timedelta(days=offset)
            if self._day(day) and self.hours and self.minutes:
                return day.replace(hour=min(self.hours), minute=min(self.minutes))
        return None

    def longest_closed_minutes(self, start: datetime) -> int | None:
        """The longest run of closed minutes over `CLOSED_STRETCH_DAYS` from `start`'s midnight;
        None when the window is never open there (the never-open rule reports that)."""
        moment = start.replace(hour=0, minute=0, second=0, microsecond=0)
        longest = run = 0
        opened = False
        for _ in range(CLOSED_STRETCH_DAYS * 24 * 60):
            if self.open_at(moment):
                opened = True
                longest, run = max(longest, run), 0
            else:
                run += 1
            moment += timedelta(minutes=1)
        return longest if opened else None


def _schedule(cron: str, zone: str) -> _Schedule | None:
    """The window's schedule, or None for a cron or zone this reader cannot evaluate (L, W, #)."""
    fields = cron.split()
    if len(fields) not in (6, 7):
        return None
    try:
        return _Schedule(fields, ZoneInfo(zone))
    except (ValueError, ZoneInfoNotFoundError):
        return None
