"""One CloudWatch dashboard per stage: delivery metrics, each service's alarms, the last releases.

Defines `DeliveryDashboard`, the pure `dashboard_body` (the body CloudWatch stores, as data) and
`dashboard_diagram`, the layout drawn as text from a body (docs/cicd.md shows the sample
staging stack's; a test keeps the two equal). The metrics are those the delivery reporter
publishes (`components.reporter_function`, namespace `Delivery`); the last releases are a
CloudWatch Logs Insights widget over the reporter's log, because a metric cannot say which
commit was released or whether it was a rollback, and the log's one JSON line per pipeline-level
event can. Body structure:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.naming import NamingContext
from components.reporter_function import METRICS_NAMESPACE

TYPE = "delivery:cicd:DeliveryDashboard"
DASHBOARD_NAME_MAX = 255
# The grid is 24 columns wide (the body structure reference above).
GRID_WIDTH = 24
ALARMS_PER_ROW = 3
# An alarm widget shows at most 100 alarms.
ALARM_WIDGET_MAX = 100
DAY = 86400
COUNTS = (
    ("ReleasesStarted", "started"),
    ("ReleasesSucceeded", "succeeded"),
    ("ReleasesFailed", "failed"),
    ("ReleasesRolledBack", "rolled back"),
)


class DashboardServiceArgs(TypedDict):
    """One service on the dashboard."""

    name: str
    """The service (the metrics' `Service` dimension)."""
    alarm_names: NotRequired[pulumi.Input[Sequence[str]]]
    """The alarms its releases watch. Omitted: the widget says none are watched."""


class DeliveryDashboardArgs(TypedDict):
    """Inputs of `DeliveryDashboard`."""

    service: str
    """Name used for naming and tags (the project, for the stage's dashboard)."""
    stage: str
    """The stage whose metrics are shown (the `Stage` dimension)."""
    services: Sequence[DashboardServiceArgs]
    """The services, in the order shown (at least one)."""
    log_group_name: pulumi.Input[str]
    """The delivery reporter's log group, read by the last-releases widget."""
    reporter_alarm_names: NotRequired[pulumi.Input[Sequence[str]]]
    """The reporter's own alarms (dead letters, errors). Omitted: no reporting widget."""
    releases_shown: NotRequired[int]
    """How many last releases the log widget lists. Omitted: 20."""


def alarm_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"


def _metric_widget(
    title: str, metrics: list[list[Any]], stat: str, region: str, x: int, y: int, w: int
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": w,
        "height": 6,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "stacked": False,
            "region": region,
            "stat": stat,
            "period": DAY,
            "metrics": metrics,
        },
    }


def dashboard_body(
    *,
    title: str,
    stage: str,
    region: str,
    services: Sequence[tuple[str, Sequence[str]]],
    log_group_name: str,
    reporter_alarm_arns: Sequence[str] = (),
    releases_shown: int = 20,
) -> dict[str, Any]:
    """The dashboard body (pure). `services` are (name, alarm ARNs) in display order."""

    def dims(service: str) -> list[str]:
        return ["Service", service, "Stage", stage]

    counts = [
        [METRICS_NAMESPACE, metric, *dims(s), {"label": f"{s} {label}"}]
        for s, _ in services
        for metric, label in COUNTS
    ]
    lead = [
        [METRICS_NAMESPACE, "LeadTime", *dims(s), {"label": f"{s} commit to {stage}"}]
        for s, _ in services
    ]
    restore = [
        [METRICS_NAMESPACE, "TimeToRestore", *dims(s), {"label": f"{s} restored"}]
        for s, _ in services
    ]
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": GRID_WIDTH,
            "height": 2,
            "properties": {
                "markdown": f"# {title}: delivery in {stage}\n"
                f"Releases, lead time and time to restore from the pipelines' own events "
                f"(namespace `{METRICS_NAMESPACE}`, daily); each service's alarms; the last "
                f"releases from the reporter's log. `cicd metrics` reads the same metrics."
            },
        },
        _metric_widget("Releases per day", counts, "Sum", region, 0, 2, 12),
        _metric_widget("Lead time, p50", lead, "p50", region, 12, 2, 6),
        _metric_widget("Restore time, p50", restore, "p50", region, 18, 2, 6),
    ]
    boxes: list[dict[str, Any]] = []
    for service, arns in services:
        if arns:
            boxes.append(
                {
                    "type": "alarm",
                    "properties": {
                        "title": f"{service} alarms",
                        "alarms": list(arns)[:ALARM_WIDGET_MAX],
                        "sortBy": "stateUpdatedTimestamp",
                    },
                }
            )
        else:
            boxes.append(
                {
                    "type": "text",
                    "properties": {
                        "markdown": f"### {service} alarms\nNo alarm watches {service}'s "
                        f"releases in {stage} (deploy.alarms, deploy.default_alarms)."
                    },
                }
            )
    if reporter_alarm_arns:
        boxes.append(
            {
                "type": "alarm",
                "properties": {
                    "title": "Reporting to GitHub",
                    "alarms": list(reporter_alarm_arns),
                    "sortBy": "stateUpdatedTimestamp",
                },
            }
        )
    width = GRID_WIDTH // ALARMS_PER_ROW
    for index, box in enumerate(boxes):
        box.update(x=(index % ALARMS_PER_ROW) * width, y=8 + (index // ALARMS_PER_ROW) * 4)
        box.update(width=width, height=4)
        widgets.append(box)
    rows = (len(boxes) + ALARMS_PER_ROW - 1) // ALARMS_PER_ROW
    widgets.append(
        {
            "type": "log",
            "x": 0,
            "y": 8 + rows * 4,
            "width": GRID_WIDTH,
            "height": 6,
            "properties": {
                "title": "Last releases",
                "region": region,
                "view": "table",
                "query": (
                    f"SOURCE '{log_group_name}' | fields @timestamp, service, state, commit, "
                    f'rollback, execution | filter record = "release" | sort @timestamp desc '
                    f"| limit {releases_shown}"
                ),
            },
        }
    )
    return {"widgets": widgets}


def _widget_title(widget: Mapping[str, Any]) -> tuple[str, str]:
    properties = widget.get("properties", {})
    title = properties.get("title")
    if not title:
        markdown = str(properties.get("markdown", ""))
        title = markdown.splitlines()[0].lstrip("# ") if markdown else ""
    return str(widget["type"]), str(title)


def dashboard_diagram(body: Mapping[str, Any], column: int = 3) -> str:
    """The body's layout as a text picture: one box per widget at its grid place and size
    (`column` characters a grid column, one line a grid row), with its title and, below, its
    type."""
    widgets = list(body["widgets"])
    height = max(w["y"] + w["height"] for w in widgets)
    canvas = [[" "] * (GRID_WIDTH * column + 1) for _ in range(height + 1)]
    for w in widgets:
        left, right = w["x"] * column, (w["x"] + w["width"]) * column
        top, bottom = w["y"], w["y"] + w["height"]
        for x in range(left, right + 1):
            for y in (top, bottom):
                canvas[y][x] = "+" if x in (left, right) else "-"
        for y in range(top + 1, bottom):
            canvas[y][left] = canvas[y][right] = "|"
        kind, title = _widget_title(w)
        for row, text in ((top + 1, title), (top + 2, f"[{kind}]")):
            if row < bottom:
                for i, char in enumerate(text[: right - left - 3]):
                    canvas[row][left + 2 + i] = char
    return "\n".join("".join(row).rstrip() for row in canvas)


class DeliveryDashboard(pulumi.ComponentResource):
    """The stage's delivery dashboard."""

    dashboard_name: pulumi.Output[str]
    """`{service}-{stage}-delivery`."""
    dashboard_body: pulumi.Output[str]
    """The body, JSON text."""

    def __init__(
        self, name: str, args: DeliveryDashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        services = list(args["services"])
        if not services:
            raise ValueError("DeliveryDashboard: services is empty; give at least one service")
        releases_shown = args.get("releases_shown", 20)
        if not 1 <= releases_shown <= 1000:
            raise ValueError(
                f"DeliveryDashboard: releases_shown {releases_shown} must be 1 to 1000 "
                "(a Logs Insights query returns at most 10,000 rows; a widget shows far fewer)"
            )
        naming = NamingContext.current(args["service"], args["stage"])
        super().__init__(TYPE, name, None, opts)
        where = aws_context(self)
        stage = args["stage"]
        alarm_lists = [pulumi.Output.from_input(s.get("alarm_names", [])) for s in services]
        reporter_alarms = pulumi.Output.from_input(args.get("reporter_alarm_names", []))

        def body(values: list[Any]) -> str:
            partition, region, account, log_group, reporter, *lists = values
            return json.dumps(
                dashboard_body(
                    title=naming.service,
                    stage=stage,
                    region=region,
                    services=[
                        (s["name"], [alarm_arn(partition, region, account, n) for n in names])
                        for s, names in zip(services, lists, strict=True)
                    ],
                    log_group_name=log_group,
                    reporter_alarm_arns=[
                        alarm_arn(partition, region, account, n) for n in reporter
                    ],
                    releases_shown=releases_shown,
                ),
                indent=1,
            )

        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=naming.name("delivery", DASHBOARD_NAME_MAX),
            dashboard_body=pulumi.Output.all(
                where.partition,
                where.region,
                where.account_id,
                args["log_group_name"],
                reporter_alarms,
                *alarm_lists,
            ).apply(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.dashboard_body = dashboard.dashboard_body
        self.register_outputs(
            {"dashboard_name": self.dashboard_name, "dashboard_body": self.dashboard_body}
        )
