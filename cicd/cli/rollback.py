"""`cicd rollback`: roll the Deploy stage back to the previous release (`heroku rollback`).

parse (`register`) -> gather (the pipeline's state and history; manifests and kinds of the
releases looked at) -> decide (`cicd.decide.rollback`: which release, and that Deploy is idle)
-> show the change, code and config (`cicd.cli.config.review_rollback`, which also refuses to
cross a release that contracted the schema unless --force) and ask (`confirm`; refused without
a terminal unless --yes) -> roll back -> mark the release rolled back rejected, when it is a
published one -> follow with --wait.

The release rolled back is marked rejected (`cicd.cli.quarantine.mark_rejected`) on a promoted
pipeline (the execution's source version, in the upstream's release location) and on a
publishing one (the version whose manifest names the execution rolled back), so that no stage
promotes it again. The rollback comes first and stands on its own: when the mark is refused (the
release location may be another account's), the command says so and prints the `cicd reject`
to run with the upstream's credentials.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from cicd.aws.clients import MAX_ATTEMPTS
from cicd.aws.errors import from_boto_error, from_client_error
from cicd.aws.executions import HISTORY_DEPTH, recent_releases
from cicd.aws.manifests import with_manifest
from cicd.aws.published import published_versions
from cicd.aws.rollback import roll_back
from cicd.aws.status import with_promotes_from
from cicd.aws.variables import with_kind
from cicd.cli.config import review_rollback
from cicd.cli.context import Context, execution_by_id, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands
from cicd.cli.quarantine import caller, mark_rejected
from cicd.decide.quarantine import check_tag_value, published_by
from cicd.decide.rollback import RollbackPlan, check_deploy_idle, check_deploy_stage, plan_rollback
from cicd.errors import CicdError, Refused
from cicd.model.controls import Candidate
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseLocation
from cicd.model.release import PublishedVersion, Release
from cicd.render.documents import release_document, started_document
from cicd.text import short_version


def register(commands: Commands) -> None:
    rollback = commands.add(
        "rollback",
        run_rollback,
        "roll the Deploy stage back to the previous release",
        "Roll the Deploy stage back to the previous successful release of another commit (after "
        "a config release: the release before it), or to --to EXECUTION_ID (like `heroku "
        "rollback`). Code and config go back together: AWS reuses the target's variables and "
        "artifacts, and the Configure step re-pins the config versions it ran with. Shows the "
        "change and asks first; refuses to cross a release that contracted the schema "
        "(contracts_schema) unless --force.",
        "  cicd rollback --service web --stage prod\n"
        "  cicd rollback -s web -e prod --to 1a2b3c4d --yes --wait\n",
        commands.target,
        commands.wait,
    )
    rollback.add_argument(
        "--to", metavar="EXECUTION_ID", help="roll back to this execution (id or its prefix)"
    )
    rollback.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a TTY)"
    )
    rollback.add_argument(
        "--reason",
        metavar="TEXT",
        help="why, recorded on the release rolled back when it is marked rejected (default: "
        "rolled back in STAGE with cicd rollback)",
    )
    rollback.add_argument(
        "--keep-release",
        action="store_true",
        help="do not mark the release rolled back rejected (it was rolled back for another "
        "reason; default: marked, so no stage promotes it again)",
    )
    rollback.add_argument(
        "--force",
        action="store_true",
        help="roll back even across a release that contracted the schema (contracts_schema)",
    )


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.json and not args.yes:
        raise Refused(
            "rollback with --json cannot ask for confirmation",
            "pass --yes to confirm non-interactively",
        )
    reason = check_tag_value(args.reason) if args.reason is not None else None
    ref, layout = select_pipeline(args, ctx)
    check_deploy_stage(layout)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    check_deploy_idle(state, layout.name)
    releases = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    plan = plan_rollback(
        layout.name,
        releases,
        execution_by_id(ctx, layout, args.to, releases) if args.to else None,
        resolve=lambda release: with_kind(
            ctx.clients.codepipeline, layout, with_manifest(release, layout, ctx.manifests)
        ),
    )
    ctx.human.write(plan.describe())
    config = review_rollback(args, ctx, layout, releases, plan)
    confirm(plan, stdin=ctx.stdin, out=ctx.human, assume_yes=args.yes)
    execution_id = roll_back(ctx.clients.codepipeline, plan.pipeline, plan.target)
    ctx.say(f"Rollback started: execution {execution_id}.")
    rejected = mark_rolled_back(
        ctx,
        ref,
        layout,
        plan.current,
        reason or f"rolled back in {ref.stage or layout.name}",
        keep=args.keep_release,
    )
    now = ctx.now()
    document = started_document(
        "rollback",
        layout,
        ref.service,
        ref.stage,
        execution_id,
        commit=plan.target.commit,
        message=plan.target.message,
        version_id=plan.target.version_id,
        rollbackFrom=release_document(plan.current, now),
        rollbackTo=release_document(plan.target, now),
        rejected=rejected,
        **config,
    )
    return follow_release(args, ctx, ref, layout, execution_id, document)


def confirm(plan: RollbackPlan, *, stdin: TextIO, out: TextIO, assume_yes: bool) -> None:
    """Ask on the terminal; Refused on anything but yes, or when there is no terminal."""
    if assume_yes:
        return
    if not stdin.isatty():
        raise Refused(
            "rollback needs confirmation and stdin is not a terminal",
            "pass --yes to confirm non-interactively",
        )
    out.write("Proceed? [y/N] ")
    out.flush()
    if stdin.readline().strip().lower() not in {"y", "yes"}:
        raise Refused("rollback cancelled: nothing changed")


def _rolled_back_version(
    ctx: Context, layout: PipelineLayout, current: Release, location: ReleaseLocation
) -> PublishedVersion | None:
    """The published version of the release rolled back: a promoted pipeline's source version,
    or the version a publishing pipeline's execution published (its manifest names it)."""
    if layout.promoted is not None:
        return PublishedVersion(current.version_id) if current.version_id else None
    # A rollback execution publishes nothing itself: what runs is what its target published.
    built = (current.rollback_target if current.is_rollback else None) or current.execution_id
    versions = published_versions(ctx.clients.s3, location)
    return published_by(
        versions, lambda version_id: ctx.manifests.lookup(location, version_id), built
    )


def mark_rolled_back(
    ctx: Context,
    ref: PipelineRef,
    layout: PipelineLayout,
    current: Release,
    reason: str,
    *,
    keep: bool = False,
) -> dict[str, Any] | None:
    """Mark the release rolled back rejected; what was done, for the JSON document.

    None for a pipeline that neither deploys published releases nor publishes them. Not marked:
    with `keep` (`--keep-release`: rolled back for another reason than the release), and after
    a config release (the config changed, not the code). Never raises for AWS's answers: the
    rollback has started, and that must not read as a failure.
    """
    promoted = layout.promoted
    location = promoted.location if promoted is not None else layout.publishes_to
    if location is None:
        return None
    what = current.describe_commit()
    if keep:
        ctx.say(f"Not marked rejected: {what} (--keep-release).")
        return _marked(location, None, current, False, "kept: --keep-release", None)
    if current.kind == "config":
        # What went wrong was the config change: the code release it ran is still good.
        ctx.say(f"Not marked rejected: {what} was a config release; its code was not the change.")
        return _marked(location, None, current, False, "a config release", None)
    version: PublishedVersion | None = None
    try:
        version = _rolled_back_version(ctx, layout, current, location)
        if version is None:
            ctx.say(f"Not marked rejected: {what} is not among the releases at {location.url()}.")
            return _marked(location, None, current, False, "not published", None)
        candidate = Candidate(version, None)
        mark_rejected(ctx, [(location, candidate)], reason=reason, by=caller(ctx), at=ctx.now())
    except (ClientError, BotoCoreError, CicdError) as error:
        if isinstance(error, ClientError):
            problem = from_client_error(error, max_attempts=MAX_ATTEMPTS).message
        elif isinstance(error, BotoCoreError):
            problem = from_boto_error(error).message
        else:
            problem = error.message
        command = _reject_command(ctx, ref, layout, current, version, reason)
        ctx.warn(f"the rollback started, but {what} was not marked rejected: {problem}")
        ctx.warn(f"mark it with the upstream's credentials: {command}")
        return _marked(location, version, current, False, problem, command)
    ctx.say(
        f"Marked release {short_version(version.version_id)} ({what}) at {location.url()} "
        f"rejected: `cicd promote` skips it (`cicd unreject` lifts it)."
    )
    return _marked(location, version, current, True, None, None)


def _marked(
    location: ReleaseLocation,
    version: PublishedVersion | None,
    current: Release,
    tagged: bool,
    problem: str | None,
    command: str | None,
) -> dict[str, Any]:
    return {
        "location": location.url(),
        "versionId": version.version_id if version else None,
        "commit": current.commit,
        "tagged": tagged,
        "problem": problem,
        "command": command,
    }


def _reject_command(
    ctx: Context,
    ref: PipelineRef,
    layout: PipelineLayout,
    current: Release,
    version: PublishedVersion | None,
    reason: str,
) -> str:
    """The `cicd reject` that marks the release, run where the release location is managed."""
    if layout.promoted is not None:
        ref = with_promotes_from(ctx.clients, ref, layout)
        stage = ref.promotes_from or "STAGE"
    else:
        stage = ref.stage or "STAGE"
    release = version.version_id if version else (current.commit or "RELEASE")
    service = ref.service or "SERVICE"
    return (
        f"cicd reject --service {service} --stage {stage} {release} --reason {shlex.quote(reason)}"
    )
