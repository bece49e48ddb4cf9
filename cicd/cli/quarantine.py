"""`cicd reject RELEASE` and `cicd unreject RELEASE`: mark a published release rejected, or lift
the mark, with tags on its object version in the release location.

parse (`register` for unreject; `reject` is declared in `cicd.cli.approve`, which hands a
RELEASE here) -> gather (the release location: the pipeline of `--stage` publishes there or
deploys from there; without `--stage`, every pipeline of the service is asked; its versions and
the manifests looked at; each version's tags) -> decide (`cicd.decide.quarantine`: which
versions RELEASE names; the merged tag set, refused past S3's 10 tags) -> PutObjectTagging ->
print.

`mark_rejected` is also what `cicd rollback` calls for the release it rolled back.
A rejected release is skipped by `cicd promote`, never offered by `cicd status`, and (design
§6) fails the promoted pipelines' Describe and Configure steps.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cicd.aws.partial import attempt
from cicd.aws.pipelines import find_pipelines, read_layout
from cicd.aws.published import published_versions
from cicd.aws.quarantine import caller_arn, put_release_tags, release_tags
from cicd.cli.context import Context, select_pipeline
from cicd.cli.options import Commands
from cicd.decide.quarantine import (
    check_tag_value,
    merge_rejection,
    rejection_tags,
    resolve_releases,
    without_rejection,
)
from cicd.errors import ExitCode, NotFound, Refused, UsageError
from cicd.model.controls import Candidate
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseLocation
from cicd.model.release import Rejection
from cicd.model.status import Unknown
from cicd.render.documents import rejection_document
from cicd.render.operations import candidate_document, rejected_document
from cicd.text import short_sha, short_version

UNKNOWN_CALLER = "unknown"
RELEASE_HELP = (
    "a published release: its S3 object version id (or at least 7 characters of one), or a "
    "commit SHA (every published release of that commit)"
)


def register(commands: Commands) -> None:
    unreject = commands.add(
        "unreject",
        run_unreject,
        "lift the rejection of a published release",
        "Remove the tags that mark a published release rejected (`cicd reject --service S "
        "RELEASE`), so that `cicd promote` may deploy it again. RELEASE is found in the release "
        "location of --stage's pipeline (the one it publishes to, or the one a promoted "
        "pipeline deploys from); without --stage, of every pipeline of the service.",
        "  cicd unreject --service web 3HL4kqtJlcpX\n"
        "  cicd unreject --service web --stage staging 78b3ba1\n",
        commands.target,
    )
    unreject.add_argument("release", metavar="RELEASE", help=RELEASE_HELP)


def describe_candidate(candidate: Candidate) -> str:
    """`release 3HL4kqtJlcpX (commit 78b3ba1 "Faster search")`."""
    version = f"release {short_version(candidate.version.version_id)}"
    manifest = candidate.manifest
    if manifest is None:
        return f"{version} ({candidate.problem or 'manifest unreadable'})"
    lines = manifest.message.strip().splitlines()
    said = f' "{lines[0]}"' if lines else ""
    return f"{version} (commit {short_sha(manifest.commit)}{said})"


def release_locations(args: argparse.Namespace, ctx: Context) -> list[ReleaseLocation]:
    """Where the service's published releases live: the location --stage's pipeline publishes
    to or deploys from, or with no --stage every such location of the service's pipelines."""
    layouts: list[tuple[PipelineRef, PipelineLayout]]
    if args.pipeline or args.stage:
        layouts = [select_pipeline(args, ctx)]
    else:
        if args.service is None:
            raise UsageError(
                "which service's release? pass --service (or set CICD_SERVICE), and --stage to "
                "say whose release location"
            )
        refs = find_pipelines(ctx.clients.tagging, stage=None, service=args.service)
        if not refs:
            raise NotFound(f"no pipeline for service {args.service} in {ctx.clients.region}")
        layouts = [(ref, read_layout(ctx.clients.codepipeline, ref.name)) for ref in refs]
    found: list[ReleaseLocation] = []
    for _, layout in layouts:
        promoted = layout.promoted
        for location in (layout.publishes_to, promoted.location if promoted else None):
            if location is not None and location not in found:
                found.append(location)
    if not found:
        names = ", ".join(layout.name for _, layout in layouts)
        raise Refused(
            f"{names} neither publishes releases nor deploys published ones: no release there "
            "can be rejected",
            "pass --stage of the stage that publishes the release (staging in the samples)",
        )
    return found


def named_releases(
    args: argparse.Namespace, ctx: Context
) -> list[tuple[ReleaseLocation, Candidate]]:
    """The published releases RELEASE names, in whichever location has them."""
    found: list[tuple[ReleaseLocation, Candidate]] = []
    missing: NotFound | None = None
    for location in release_locations(args, ctx):
        versions = published_versions(ctx.clients.s3, location)
        try:
            candidates = resolve_releases(
                args.release,
                versions,
                lambda version_id, where=location: ctx.manifests.lookup(where, version_id),
                location,
                warn=ctx.warn,
            )
        except NotFound as error:
            missing = error
            continue
        found += [(location, candidate) for candidate in candidates]
    if not found:
        assert missing is not None
        raise missing
    return found


def caller(ctx: Context) -> str:
    """Who is asking, as a tag value (or `unknown` when STS will not say)."""
    found = attempt(lambda: caller_arn(ctx.clients.sts))
    return UNKNOWN_CALLER if isinstance(found, Unknown) else found


@dataclass(frozen=True)
class Marked:
    """A release just marked rejected, and the rejection it carried before (if any)."""

    location: ReleaseLocation
    candidate: Candidate
    previously: Rejection | None


def mark_rejected(
    ctx: Context,
    releases: Sequence[tuple[ReleaseLocation, Candidate]],
    *,
    reason: str,
    by: str,
    at: datetime,
) -> list[Marked]:
    """Tag every release rejected; every merged tag set is checked before the first write."""
    marks = rejection_tags(reason, by, at)
    planned: list[tuple[Marked, list[dict[str, str]]]] = []
    for location, candidate in releases:
        version = candidate.version.version_id
        tags = release_tags(ctx.clients.s3, location, version)
        where = f"release {short_version(version)} at {location.url()}"
        merged = merge_rejection(tags, marks, where)
        planned.append((Marked(location, candidate, Rejection.from_tags(tags)), merged))
    for marked, merged in planned:
        put_release_tags(
            ctx.clients.s3, marked.location, marked.candidate.version.version_id, merged
        )
    return [marked for marked, _ in planned]


def written_rejection(reason: str, by: str, at: datetime) -> Rejection:
    """The rejection `mark_rejected` writes, as it reads back."""
    return Rejection.from_tags(
        [{"Key": k, "Value": v} for k, v in rejection_tags(reason, by, at).items()]
    ) or Rejection(by=by, reason=reason)


def run_reject_release(args: argparse.Namespace, ctx: Context) -> int:
    """`cicd reject --service S RELEASE --reason TEXT`: mark that published release rejected."""
    if args.commit:
        raise UsageError(
            "--commit checks the release waiting for approval; with RELEASE, name the commit "
            "as RELEASE instead",
        )
    reason = check_tag_value(args.reason)
    releases = named_releases(args, ctx)
    by, at = caller(ctx), ctx.now()
    marked = mark_rejected(ctx, releases, reason=reason, by=by, at=at)
    service = args.service or next(
        (m.candidate.manifest.service for m in marked if m.candidate.manifest), None
    )
    for m in marked:
        again = f" (it was already {m.previously.describe()})" if m.previously else ""
        ctx.say(
            f"Rejected {describe_candidate(m.candidate)} at {m.location.url()}{again}: "
            "`cicd promote` skips it and the promoted pipelines refuse it."
        )
    ctx.say(f"Lift it with `cicd unreject {_options(args, service)}{args.release}`.")
    documents = [
        candidate_document(m.candidate, m.location, previously=rejection_document(m.previously))
        for m in marked
    ]
    ctx.emit(rejected_document("reject", service, documents, written_rejection(reason, by, at)))
    return ExitCode.OK


def _options(args: argparse.Namespace, service: str | None) -> str:
    """How the command named the release location, to name it again."""
    if args.pipeline:
        return f"--pipeline {args.pipeline} "
    stage = f"--stage {args.stage} " if args.stage else ""
    return (f"--service {service} " if service else "") + stage


def run_unreject(args: argparse.Namespace, ctx: Context) -> int:
    releases = named_releases(args, ctx)
    lifted: list[tuple[ReleaseLocation, Candidate, Rejection]] = []
    for location, candidate in releases:
        version = candidate.version.version_id
        tags = release_tags(ctx.clients.s3, location, version)
        rejection = Rejection.from_tags(tags)
        if rejection is None:
            continue
        put_release_tags(ctx.clients.s3, location, version, without_rejection(tags))
        lifted.append((location, candidate, rejection))
    if not lifted:
        named = ", ".join(describe_candidate(c) for _, c in releases)
        raise Refused(f"{named} is not rejected: nothing to lift")
    for location, candidate, rejection in lifted:
        ctx.say(
            f"Lifted the rejection of {describe_candidate(candidate)} at {location.url()} "
            f"({rejection.describe()}): `cicd promote` may deploy it again."
        )
    service = args.service or next((c.manifest.service for _, c, _ in lifted if c.manifest), None)
    documents = [
        candidate_document(candidate, location, rejection=rejection_document(rejection))
        for location, candidate, rejection in lifted
    ]
    ctx.emit(rejected_document("unreject", service, documents, None))
    return ExitCode.OK
