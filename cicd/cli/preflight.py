"""The checks `cicd promote` runs before it starts anything, and `cicd promote --preflight`.

gather (`cicd.aws.preflight`: the watched alarms and their state, deployments running in the
target's CodeDeploy groups, the release topic's subscribers, the structure version of the live
release; the target's history the command already read) -> decide (`cicd.decide.preflight`) ->
print (`cicd.render.preflight`).

`Preflight.collect` runs one of promote's own checks (which release, rejected, already live,
config): in `--preflight` mode a refusal becomes a finding and the checks go on, so every
reason is listed at once; otherwise it raises as it always did. `run_preflight` is what every
promote runs before starting: it refuses (exit 3) on a blocking finding and warns about the
rest, unless `--skip-preflight`. `preflight_only` prints the findings and returns the exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cicd.aws.partial import attempt
from cicd.aws.preflight import (
    alarm_states,
    execution_version,
    group_alarms,
    running_deployments,
    subscribers,
)
from cicd.cli.context import Context
from cicd.decide.preflight import assess, window_state
from cicd.errors import ExitCode, Refused
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.preflight import AlarmState, Finding, PreflightFacts
from cicd.model.release import Release
from cicd.model.status import Unknown
from cicd.render.preflight import preflight_document, preflight_lines

T = TypeVar("T")


class Preflight:
    """The promotion being checked, and the refusals its own checks found so far."""

    def __init__(
        self, args: argparse.Namespace, ctx: Context, ref: PipelineRef, target: PipelineLayout
    ) -> None:
        self.args, self.ctx, self.ref, self.target = args, ctx, ref, target
        self.refusals: list[Finding] = []

    @property
    def reporting(self) -> bool:
        return bool(getattr(self.args, "preflight", False))

    def collect(self, check: str, run: Callable[[], T]) -> T | None:
        """`run()`; in --preflight mode a refusal is recorded instead of raised (then None)."""
        if not self.reporting:
            return run()
        try:
            return run()
        except Refused as refused:
            self.refusals.append(Finding(check, True, refused.message, refused.hint))
            return None


def gather(preflight: Preflight, history: Sequence[Release]) -> PreflightFacts:
    """What the target looks like now; a read AWS denies becomes an Unknown (a warning)."""
    ctx, target = preflight.ctx, preflight.target

    def alarms() -> list[str]:
        names = list(target.watched_alarms)
        for group in target.codedeploy_targets:
            names.extend(group_alarms(ctx.clients.codedeploy, group))
        return list(dict.fromkeys(names))

    names = attempt(alarms)
    states: tuple[AlarmState, ...] | Unknown = names if isinstance(names, Unknown) else ()
    if not isinstance(names, Unknown) and names:
        states = attempt(lambda: tuple(alarm_states(ctx.clients.cloudwatch, names)))
    deployments = attempt(
        lambda: tuple(
            running
            for group in target.codedeploy_targets
            for running in running_deployments(ctx.clients.codedeploy, group)
        )
    )
    topic = target.release_topic
    subscribed = attempt(lambda: subscribers(ctx.clients.sns, topic)) if topic else None
    live = next((r for r in history if r.status == "Succeeded" and not r.is_rollback), None)
    version = (
        attempt(lambda: execution_version(ctx.clients.codepipeline, target.name, live.execution_id))
        if live is not None and target.version is not None
        else None
    )
    return PreflightFacts(
        now=ctx.now(),
        alarms=states,
        running_deployments=deployments,
        executions_in_progress=tuple(r.execution_id for r in history if r.status == "InProgress"),
        subscribers=subscribed,
        live_execution=live.execution_id if live else None,
        live_version=version,
        earlier=list(preflight.refusals),
    )


def preflight_only(
    preflight: Preflight,
    history: Sequence[Release],
    *,
    commit: str | None,
    release: dict[str, Any] | None,
) -> int:
    """`cicd promote --preflight`: every finding, one a line; 3 when one blocks, else 0."""
    ctx, target = preflight.ctx, preflight.target
    facts = gather(preflight, history)
    findings = assess(target, facts)
    window = window_state(target, facts.now)
    ctx.say(*preflight_lines(preflight.ref, target, findings, commit, window, facts))
    ctx.emit(preflight_document(preflight.ref, target, findings, commit, release, window, facts))
    return ExitCode.REFUSED if any(f.blocking for f in findings) else ExitCode.OK


def run_preflight(preflight: Preflight, history: Sequence[Release]) -> None:
    """Before a promote starts: refuse on a blocking finding, warn about the others."""
    if getattr(preflight.args, "skip_preflight", False):
        return
    findings = assess(preflight.target, gather(preflight, history))
    blocking = [f for f in findings if f.blocking]
    for finding in findings:
        if not finding.blocking and not finding.quiet:
            preflight.ctx.warn(f"warning: {finding.reason}")
    if blocking:
        hints = [f.hint for f in blocking if f.hint]
        raise Refused(
            f"promoting to {preflight.target.name} now would fail:\n"
            + "\n".join(f"  {f.reason}" for f in blocking),
            "; ".join(dict.fromkeys(hints))
            + " (`cicd promote ... --preflight` checks again; --skip-preflight promotes anyway)",
        )
