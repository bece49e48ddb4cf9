"""Whether a promotion would go through now, and what makes it less safe: pure, no AWS.

`assess` turns what `cicd.aws.preflight` read about the target into findings, blocking ones
first. Blocking means the promotion would fail (or be refused) if started now:

- the Deploy stage's deployment window is closed and will not open before the release gets
  there: at once without an approval, or within the approval's timeout with one (AWS fails a
  release that reaches a closed window's stage; docs/releasing-safely.md, "The deployment
  window"); a window that never opens within a year blocks too;
- an alarm the release will be watched by is in ALARM now: CodeDeploy stops a deployment on a
  firing alarm and the bake rolls the stage back, so the release would be undone at once; an
  alarm that does not exist is blocking as well (the watch is meaningless);
- a deployment is running in one of its CodeDeploy groups, or another execution of the target
  is in progress: the new release would queue behind it or supersede it;
- its approval notifies a topic with no confirmed subscription: nobody is told, and the
  approval times out.

Warnings (promotion goes, with less protection): an alarm in INSUFFICIENT_DATA (it sees no data,
so it proves nothing either way); a closed window the approver must wait for; an approval with
no topic; a stage rollback that will not be available, because AWS rolls a stage back only to an
execution "started in the current pipeline structure version"
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html) and the live
release ran on an earlier one, or nothing succeeded yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cicd.contract import DEPLOY_STAGE
from cicd.decide.window import next_opening
from cicd.model.pipeline import PipelineLayout
from cicd.model.preflight import AlarmState, Finding, PreflightFacts, WindowState
from cicd.model.status import Unknown
from cicd.text import short_id

# AWS's default timeout of a manual approval when the action declares none: 7 days
# (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).
DEFAULT_APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60


def window_state(layout: PipelineLayout, now: datetime) -> WindowState | None:
    """None when the Deploy stage has no deployment window."""
    window = layout.window(DEPLOY_STAGE)
    if window is None:
        return None
    opens = next_opening(window.cron, window.time_zone, now)
    # `next_opening` answers the current minute when the window is open.
    is_open = opens is not None and opens <= now
    return WindowState(window, is_open, opens)


def _window(layout: PipelineLayout, state: WindowState | None, now: datetime) -> list[Finding]:
    if state is None or state.open:
        return []
    window = state.window
    described = (
        f'the deployment window of {DEPLOY_STAGE} (cron "{window.cron}", {window.time_zone})'
    )
    if state.opens is None:
        return [
            Finding(
                "window",
                True,
                f"{described} does not open within a year, or cannot be evaluated here",
                "check deploy.window in the stack file",
            )
        ]
    opens = f"{state.opens:%Y-%m-%d %H:%M} {window.time_zone}"
    if not layout.has_approval:
        return [
            Finding(
                "window",
                True,
                f"{described} is closed now; it opens {opens}, and the release would reach "
                f"{DEPLOY_STAGE} at once and fail at its entry",
                f"promote after {opens}",
            )
        ]
    timeout = layout.approval_timeout_minutes or DEFAULT_APPROVAL_TIMEOUT_MINUTES
    if state.opens - now > timedelta(minutes=timeout):
        return [
            Finding(
                "window",
                True,
                f"{described} is closed now and opens {opens}, after the approval times out "
                f"({timeout} minutes from now)",
                f"promote closer to {opens}",
            )
        ]
    return [
        Finding(
            "window",
            False,
            f"{described} is closed now; it opens {opens}: approve after that, or the release "
            f"fails at {DEPLOY_STAGE}'s entry",
        )
    ]


def _alarms(alarms: tuple[AlarmState, ...] | Unknown) -> list[Finding]:
    if isinstance(alarms, Unknown):
        return [Finding("alarms", False, f"cannot read the watched alarms' state ({alarms})")]
    found: list[Finding] = []
    for alarm in alarms:
        why = f": {alarm.reason}" if alarm.reason else ""
        if alarm.state == "ALARM":
            found.append(
                Finding(
                    "alarms",
                    True,
                    f"alarm {alarm.name} is in ALARM now{why}; the deployment would stop and "
                    "roll back at once",
                    "find out why it fires, and promote once it is OK",
                )
            )
        elif alarm.state == "MISSING":
            found.append(
                Finding(
                    "alarms",
                    True,
                    f"alarm {alarm.name} does not exist, so watching it proves nothing",
                    "create it, or remove it from deploy.alarms",
                )
            )
        elif alarm.state == "INSUFFICIENT_DATA":
            found.append(
                Finding(
                    "alarms",
                    False,
                    f"alarm {alarm.name} is in INSUFFICIENT_DATA now{why}: it sees no data, so "
                    "it cannot stop a bad release",
                )
            )
    return found


def _busy(facts: PreflightFacts) -> list[Finding]:
    found: list[Finding] = []
    if isinstance(facts.running_deployments, Unknown):
        found.append(
            Finding("deployment", False, f"cannot list deployments ({facts.running_deployments})")
        )
    else:
        found.extend(
            Finding(
                "deployment",
                True,
                f"a deployment is running in CodeDeploy {running}",
                "wait for it to end (`cicd status`)",
            )
            for running in facts.running_deployments
        )
    found.extend(
        Finding(
            "deployment",
            True,
            f"execution {short_id(execution)} of the target is in progress",
            "wait for it to end, or stop it (`cicd stop`)",
        )
        for execution in facts.executions_in_progress
    )
    return found


def _approvers(layout: PipelineLayout, facts: PreflightFacts) -> list[Finding]:
    if not layout.has_approval:
        return []
    subscribers = facts.subscribers
    if subscribers is None:
        return [
            Finding(
                "approvers",
                False,
                "the approval notifies no topic: approvers must watch the console or `cicd status`",
                quiet=True,
            )
        ]
    if isinstance(subscribers, Unknown):
        return [Finding("approvers", False, f"cannot list the release topic's subscribers "
                        f"({subscribers})")]  # fmt: skip
    if subscribers.confirmed == 0:
        pending = (
            f" ({subscribers.pending} still PendingConfirmation)" if subscribers.pending else ""
        )
        return [
            Finding(
                "approvers",
                True,
                f"nobody is subscribed to the release topic {layout.release_topic}{pending}: "
                "nobody is told that an approval waits, and it times out",
                "subscribe approvers (approval.approvers in the stack file) and have them "
                "confirm the subscription",
            )
        ]
    return []


def _rollback(facts: PreflightFacts, layout: PipelineLayout) -> list[Finding]:
    page = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html"
    if facts.live_execution is None:
        return [
            Finding(
                "rollback",
                False,
                f"no release has succeeded in {layout.name} yet: a failed release cannot be "
                "rolled back to an earlier one",
                quiet=True,
            )
        ]
    if isinstance(facts.live_version, Unknown):
        return [Finding("rollback", False, f"cannot tell whether a stage rollback will be "
                        f"available ({facts.live_version})")]  # fmt: skip
    if layout.version is None or facts.live_version is None:
        return []
    if facts.live_version != layout.version:
        return [
            Finding(
                "rollback",
                False,
                f"stage rollback will not be available: the live release (execution "
                f"{short_id(facts.live_execution)}) ran on version {facts.live_version} of the "
                f"pipeline, now at version {layout.version}, and AWS rolls a stage back only to "
                f"an execution of the current structure ({page})",
                "a failed release is then undone by promoting the previous commit "
                "(`cicd promote ... --commit SHA`)",
            )
        ]
    return []


def assess(layout: PipelineLayout, facts: PreflightFacts) -> list[Finding]:
    """Every finding, blocking ones first, each group in the order the checks run."""
    found = [
        *facts.earlier,
        *_window(layout, window_state(layout, facts.now), facts.now),
        *_alarms(facts.alarms),
        *_busy(facts),
        *_approvers(layout, facts),
        *_rollback(facts, layout),
    ]
    return [f for f in found if f.blocking] + [f for f in found if not f.blocking]
