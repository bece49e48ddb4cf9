"""`cicd approve` and `cicd reject`: answer the manual approval a release waits at.

parse (`register`) -> gather (the pipeline's state; the waiting execution's commit, for a
promoted pipeline from its release manifest) -> decide (`cicd.decide.approvals`: something
waits, and it is the --commit named) -> show the evidence and ask (approve without --yes, where
the Describe step computed evidence: what changed since the live release, the upstream's
verification and bake, the watched alarms then and now, the window; asked on a terminal only)
-> answer -> follow with --wait (approve only).

`cicd reject` with a RELEASE marks a published release rejected instead (`cicd.cli.quarantine`).
"""

from __future__ import annotations

import argparse

from cicd.aws.approvals import answer, approval_evidence, with_commit
from cicd.aws.partial import attempt
from cicd.aws.preflight import alarm_states
from cicd.cli.context import Context, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands
from cicd.cli.quarantine import RELEASE_HELP, run_reject_release
from cicd.decide.approvals import check_commit, find_pending_approval
from cicd.decide.commits import validate_commit
from cicd.decide.preflight import window_state
from cicd.errors import ExitCode, Refused
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import PendingApproval
from cicd.model.status import Unknown
from cicd.render.approval import evidence_lines
from cicd.render.documents import started_document
from cicd.text import short_id, short_sha


def register(commands: Commands) -> None:
    for name, run, summary, description, example in (
        (
            "approve",
            run_approve,
            "approve the release that waits for approval",
            "Approve the release waiting at the manual approval, optionally only if it is a "
            "given commit.",
            "  cicd approve --service web --stage prod   # shows the evidence, asks on a terminal\n"
            "  cicd approve -s web -e prod --commit 1a2b3c4 --yes --wait\n",
        ),
        (
            "reject",
            run_reject,
            "reject the release waiting for approval, or a published release",
            "Without RELEASE: reject the release waiting at the manual approval of --stage; the "
            "execution stops there. With RELEASE (a published release's object version id, or "
            "a commit SHA): mark that release rejected in its release location, by tags on "
            "its object version, so that `cicd promote` skips it and the promoted pipelines "
            "refuse it (`cicd unreject` lifts it); --stage then names whose release location "
            "(default: every pipeline of the service). The reason is then an S3 tag value: up "
            "to 256 letters, digits, spaces and + - = . _ : / @.",
            '  cicd reject --service web --stage prod --reason "breaks checkout on Safari"\n'
            '  cicd reject --service web 3HL4kqtJlcpX --reason "breaks checkout on Safari"\n'
            '  cicd reject --service web --stage staging 78b3ba1 --reason "data loss bug"\n',
        ),
    ):
        command = commands.add(
            name,
            run,
            summary,
            description,
            example,
            commands.target,
            *([commands.wait] if name == "approve" else []),
        )
        if name == "reject":
            command.add_argument(
                "release",
                nargs="?",
                metavar="RELEASE",
                help=f"{RELEASE_HELP}, to mark rejected (default: none; reject the release "
                "waiting for approval)",
            )
        command.add_argument(
            "--commit", metavar="SHA", help="refuse unless this commit is the one waiting"
        )
        if name == "approve":
            command.add_argument(
                "--yes",
                action="store_true",
                help="approve without showing the evidence or asking (default: show the "
                "evidence the approval carries, and ask when stdin is a terminal)",
            )
        command.add_argument(
            "--reason",
            required=name == "reject",
            metavar="TEXT",
            help="why; recorded with the approval in CodePipeline"
            + (" (with RELEASE: in the release's tags)" if name == "reject" else ""),
        )


def run_approve(args: argparse.Namespace, ctx: Context) -> int:
    return _answer_approval(args, ctx, approved=True)


def run_reject(args: argparse.Namespace, ctx: Context) -> int:
    if args.release is not None:
        return run_reject_release(args, ctx)
    return _answer_approval(args, ctx, approved=False)


def _answer_approval(args: argparse.Namespace, ctx: Context, *, approved: bool) -> int:
    expected = validate_commit(args.commit) if args.commit else None
    ref, layout = select_pipeline(args, ctx)
    state = ctx.clients.codepipeline.get_pipeline_state(name=layout.name)
    pending = find_pending_approval(state, layout.name)
    pending = with_commit(ctx.clients.codepipeline, state, pending, layout, ctx.manifests)
    check_commit(pending, expected)
    if approved and not getattr(args, "yes", False) and layout.approval_evidence:
        _show_evidence(ctx, layout, pending)
    default_summary = "Approved with cicd" if approved else ""
    answer(
        ctx.clients.codepipeline,
        pending,
        approved=approved,
        summary=args.reason or default_summary,
    )
    verb = "Approved" if approved else "Rejected"
    message = f' "{pending.message}"' if pending.message else ""
    ctx.say(
        f"{verb} commit {short_sha(pending.commit)}{message} "
        f"(execution {short_id(pending.execution_id)}) in {layout.name}."
    )
    document = started_document(
        "approve" if approved else "reject",
        layout,
        ref.service,
        ref.stage,
        pending.execution_id,
        commit=pending.commit,
        message=pending.message,
        version_id=pending.version_id,
        approved=approved,
        reason=args.reason,
    )
    if not approved:
        ctx.emit({**document, "followed": None})
        return ExitCode.OK
    return follow_release(args, ctx, ref, layout, pending.execution_id, document, approved=True)


def _show_evidence(ctx: Context, layout: PipelineLayout, pending: PendingApproval) -> None:
    """Print what the approval carries and what is true now; on a terminal, ask."""
    evidence = attempt(
        lambda: approval_evidence(ctx.clients.codepipeline, layout.name, pending.execution_id)
    )
    if evidence is None:
        return
    if isinstance(evidence, Unknown):
        ctx.warn(f"cannot read the approval's evidence ({evidence})")
        return
    names = list(layout.watched_alarms)
    now = attempt(lambda: alarm_states(ctx.clients.cloudwatch, names)) if names else []
    ctx.say(*evidence_lines(evidence, now, window_state(layout, ctx.now())))
    if ctx.json or not ctx.stdin.isatty():
        return  # scripts approve as before; the evidence is printed for the record
    ctx.human.write(f"Approve commit {short_sha(pending.commit)} in {layout.name}? [y/N] ")
    ctx.human.flush()
    if ctx.stdin.readline().strip().lower() not in {"y", "yes"}:
        raise Refused("not approved: nothing was sent", "answer y to approve, or pass --yes")
