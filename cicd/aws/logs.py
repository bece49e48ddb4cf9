"""Logs of one release: CodeBuild and Commands actions from CloudWatch Logs, CodeDeploy from
the deployment's failed targets.

CodeBuild writes each build to a log stream (its `logs.groupName`/`streamName`); a Commands
action names its stream in `logStreamARN`. `read_stream` reads the last N events in one call, or
every event page by page (forward tokens until the token stops changing, which is how CloudWatch
Logs says "no more for now"). For a CodeDeploy action, the deployment's error and, for each
failed target, the lifecycle hooks that failed with their script's log tail (`deployment_lines`).

Nothing here prints: commands get `LogLine`s (`cicd.model.run`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient

from cicd.model.run import ActionRun, LogLine, Stream

# GetLogEvents returns at most 10,000 events (1 MB) a call.
MAX_EVENTS = 10_000


def stream_of(run: ActionRun) -> Stream | None:
    """The CloudWatch Logs stream of a CodeBuild or Commands action, if it has one."""
    if run.log_group and run.log_stream:
        return Stream(run.action, "codebuild", run.log_group, run.log_stream)
    if run.log_stream_arn:
        # arn:aws:logs:REGION:ACCOUNT:log-group:GROUP:log-stream:STREAM
        _, _, rest = run.log_stream_arn.partition(":log-group:")
        group, _, name = rest.partition(":log-stream:")
        if group and name:
            return Stream(run.action, "commands", group, name)
    return None


def _line(stream: Stream, event: Mapping[str, Any]) -> LogLine:
    stamp = event.get("timestamp")
    when = datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int) else None
    return LogLine(stream.action, stream.source, str(event.get("message", "")).rstrip("\n"), when)


def read_stream(logs: BaseClient, stream: Stream, *, lines: int) -> tuple[list[LogLine], Stream]:
    """The last `lines` events (0: all, every page), and the stream with its forward token."""
    request: dict[str, Any] = {"logGroupName": stream.group, "logStreamName": stream.name}
    if lines > 0:
        page = logs.get_log_events(**request, startFromHead=False, limit=min(lines, MAX_EVENTS))
        found = [_line(stream, e) for e in page.get("events", [])]
        return found, replace(stream, token=page.get("nextForwardToken"))
    found: list[LogLine] = []
    token: str | None = None
    while True:
        page = logs.get_log_events(
            **request, startFromHead=True, **({"nextToken": token} if token else {})
        )
        found.extend(_line(stream, e) for e in page.get("events", []))
        following = page.get("nextForwardToken")
        if not following or following == token:
            return found, replace(stream, token=following)
        token = following


def read_more(logs: BaseClient, stream: Stream) -> tuple[list[LogLine], Stream]:
    """What was written since `stream.token` (for --tail)."""
    request: dict[str, Any] = {
        "logGroupName": stream.group,
        "logStreamName": stream.name,
        "startFromHead": True,
    }
    if stream.token:
        request["nextToken"] = stream.token
    page = logs.get_log_events(**request)
    lines = [_line(stream, e) for e in page.get("events", [])]
    return lines, replace(stream, token=page.get("nextForwardToken"))


def deployment_lines(codedeploy: BaseClient, run: ActionRun) -> list[LogLine]:
    """A CodeDeploy action's deployment: its error, and each failed target's failed hooks."""
    deployment_id = run.external_id
    if not deployment_id:
        return [LogLine(run.action, "codedeploy", "no deployment was created")]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    lines = [
        LogLine(
            run.action,
            "codedeploy",
            f"deployment {deployment_id} {info.get('status', '?')}"
            + (
                f": {info['errorInformation'].get('message', '')}"
                if info.get("errorInformation")
                else ""
            ),
        )
    ]
    target_ids: list[str] = []
    request: dict[str, Any] = {
        "deploymentId": deployment_id,
        "targetFilters": {"TargetStatus": ["Failed"]},
    }
    while True:
        page = codedeploy.list_deployment_targets(**request)
        target_ids += page.get("targetIds", [])
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    for start in range(0, len(target_ids), 25):  # BatchGetDeploymentTargets: 25 ids a call
        batch = codedeploy.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=target_ids[start : start + 25]
        )
        for target in batch.get("deploymentTargets", []):
            lines += _target_lines(run.action, target)
    return lines


def _target_lines(action: str, target: Mapping[str, Any]) -> list[LogLine]:
    detail = next(
        (
            target[key]
            for key in ("instanceTarget", "lambdaTarget", "ecsTarget", "cloudFormationTarget")
            if key in target
        ),
        {},
    )
    name = str(detail.get("targetId", "?"))
    lines: list[LogLine] = []
    for event in detail.get("lifecycleEvents", []):
        if event.get("status") not in {"Failed", "Skipped"} or not event.get("diagnostics"):
            continue
        diagnostics = event["diagnostics"]
        script = f" {diagnostics['scriptName']}" if diagnostics.get("scriptName") else ""
        lines.append(
            LogLine(
                action,
                "codedeploy",
                f"{name} {event.get('lifecycleEventName', '?')} {event.get('status')}: "
                f"{diagnostics.get('errorCode', '')}{script}: {diagnostics.get('message', '')}",
                event.get("endTime"),
            )
        )
        lines += [
            LogLine(action, "codedeploy", f"  {tail}")
            for tail in str(diagnostics.get("logTail", "")).splitlines()
        ]
    return lines
