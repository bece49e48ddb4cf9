"""Which release `cicd rollback` returns the Deploy stage to, and whether it may: pure, no AWS.

`plan_rollback` chooses the target over the newest-first history, with an optional `resolve`
that fills in a release's commit only for the releases it looks at (for a promoted pipeline
that is a manifest read); `check_deploy_stage` and `check_deploy_idle` refuse a pipeline with
nothing to roll back or a Deploy stage still running. Starting the rollback is
`cicd.aws.rollback`; asking for confirmation is the command's (`cicd.cli.rollback`).

"Previous release" means: the newest successful, non-rollback execution older than the release
that is live, with a different commit (or, when the live release is a config release, of any
commit: the one before it ran the config the change replaced). When the live release is itself a
rollback, "older" is counted from the release it restored, so running `cicd rollback` twice goes
back twice instead of undoing the first rollback (undo with `cicd rollback --to ID` or `cicd
release`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cicd.contract import DEPLOY_STAGE
from cicd.errors import Refused
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import Release
from cicd.text import short_id


@dataclass(frozen=True)
class RollbackPlan:
    """What runs now and what the Deploy stage will run after the rollback."""

    pipeline: str
    current: Release
    target: Release

    def describe(self) -> str:
        return (
            f"Roll back {DEPLOY_STAGE} of {self.pipeline}\n"
            f"  from {self.current.describe()}\n"
            f"  to   {self.target.describe()}\n"
        )


def _unchanged(release: Release) -> Release:
    return release


def plan_rollback(
    pipeline: str,
    releases: Sequence[Release],
    to: Release | None = None,
    resolve: Callable[[Release], Release] = _unchanged,
) -> RollbackPlan:
    """The rollback from the live release to `to`, or to the previous release when None."""
    current = next((r for r in releases if r.status == "Succeeded"), None)
    if current is None:
        raise Refused(f"nothing to roll back: {pipeline} has no successful release yet")
    current = resolve(current)
    if to is not None:
        return RollbackPlan(pipeline, current, _check_target(pipeline, current, resolve(to)))
    anchor = current.rollback_target if current.is_rollback else current.execution_id
    position = next((i for i, r in enumerate(releases) if r.execution_id == anchor), None)
    older = releases[position + 1 :] if position is not None else ()
    candidates = (resolve(r) for r in older if r.status == "Succeeded" and not r.is_rollback)
    # After a config release the release before it (of the same commit) is a change back: the
    # config it ran with. (A rollback execution reuses its target's variables, so its kind is
    # the kind of the release it restored.)
    target = next(
        (
            r
            for r in candidates
            if r.commit is not None and (r.commit != current.commit or current.kind == "config")
        ),
        None,
    )
    if target is None:
        raise Refused(
            f"no earlier successful release of another commit in the last {len(releases)} "
            f"executions of {pipeline}",
            "pick one with `cicd rollback --to EXECUTION_ID` (ids from `cicd releases`)",
        )
    return RollbackPlan(pipeline, current, target)


def _check_target(pipeline: str, current: Release, to: Release) -> Release:
    if to.status != "Succeeded":
        raise Refused(
            f"execution {short_id(to.execution_id)} of {pipeline} ended {to.status}: only a "
            "successful release can be rolled back to"
        )
    if to.is_rollback:
        target = f" {short_id(to.rollback_target)}" if to.rollback_target else ""
        raise Refused(
            f"execution {short_id(to.execution_id)} is itself a rollback",
            f"roll back to the release it restored{target} instead",
        )
    neither_config = "config" not in {current.kind, to.kind}
    if to.execution_id == current.execution_id or (
        to.commit is not None and to.commit == current.commit and neither_config
    ):
        raise Refused(
            f"{pipeline} already runs {to.describe()}: rolling back to it changes nothing"
        )
    return to


def check_deploy_stage(layout: PipelineLayout) -> None:
    """Refuse on a pipeline without a Deploy stage: there is nothing to roll back."""
    if DEPLOY_STAGE not in layout.stages:
        raise Refused(f"{layout.name} has no {DEPLOY_STAGE} stage to roll back")


def check_deploy_idle(state: Mapping[str, Any], pipeline: str) -> None:
    """Refuse while the Deploy stage is running: AWS would reject the rollback anyway."""
    stage = next(
        (s for s in state.get("stageStates", []) if s.get("stageName") == DEPLOY_STAGE), {}
    )
    latest = stage.get("latestExecution", {})
    if latest.get("status") in {"InProgress", "Stopping"}:
        raise Refused(
            f"{DEPLOY_STAGE} of {pipeline} is busy with execution "
            f"{short_id(str(latest.get('pipelineExecutionId', '?')))} ({latest['status']})",
            "wait for it to finish (`cicd status`), then roll back",
        )
