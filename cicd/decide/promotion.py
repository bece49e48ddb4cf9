"""Which release `cicd promote` deploys, and whether it may: pure decisions, no AWS calls.

- A promoted target (prod) deploys a version of its upstream's release object:
  `choose_release` takes the newest published release that is not rejected, or the newest one
  built from `--commit` (refused when it is rejected); `check_promotes_from` and
  `check_service` refuse a target that promotes from another stage or was handed another
  service's release; `check_not_live` refuses the release the target already runs.
- A target that builds from GitHub rebuilds a commit that succeeded upstream:
  `promotion_commit` picks it from the upstream's history.
- `waiting_release` is what `cicd status` shows: a newer published release than the live one,
  passing over rejected ones.

The histories and version lists come from `cicd.aws` (newest first); manifests are read through
the callables the command passes in, only for the versions looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cicd.contract import TAG_PROMOTES_FROM
from cicd.decide.commits import commit_matches, newest_succeeded
from cicd.errors import ManifestError, Refused
from cicd.model.pipeline import PipelineLayout, PipelineRef, ReleaseLocation
from cicd.model.release import (
    TERMINAL_STATUSES,
    Manifest,
    PublishedRelease,
    PublishedVersion,
    RejectedRelease,
    Rejection,
    Release,
    Waiting,
)
from cicd.text import format_time, short_id, short_sha

RejectionOf = Callable[[PublishedVersion], Rejection | None]


def _never_rejected(version: PublishedVersion) -> Rejection | None:
    return None


def _ignore(rejected: RejectedRelease) -> None:
    return None


def choose_release(
    versions: Sequence[PublishedVersion],
    read: Callable[[PublishedVersion], Manifest],
    location: ReleaseLocation,
    *,
    commit: str | None,
    source_stage: str,
    warn: Callable[[str], None],
    rejected: RejectionOf = _never_rejected,
    skipped: Callable[[RejectedRelease], None] = _ignore,
) -> PublishedRelease:
    """The newest published release that is not rejected, or the newest one built from `commit`.

    `rejected` gives a version's rejection (None when it carries none); it is asked only for
    the versions looked at. By default rejected releases are passed over, each reported through
    `skipped`; the release of `commit` is refused (exit 3) when it is rejected, naming who
    rejected it, when and why.

    `versions` are the release object's versions, newest first; `read` gives a version's
    manifest (raising ManifestError when it is unreadable), and is called only for the
    versions looked at. Refuses when nothing was published, or when `commit` is not among the
    published releases (the upstream stage never released it successfully). While searching
    for a commit, a version whose manifest cannot be read is reported through `warn` and
    skipped: it cannot be shown to be that commit. The newest release must be readable to be
    promoted by default.
    """
    if not versions:
        raise Refused(
            f"nothing to promote: {source_stage} has published no release to {location.url()}",
            f"{source_stage} publishes a release when its Deploy stage (deploy, verification, "
            "bake) succeeds",
        )
    if commit is None:
        for version in versions:
            rejection = rejected(version)
            if rejection is None:
                return PublishedRelease(location, version, read(version))
            try:
                manifest: Manifest | None = read(version)
            except ManifestError:
                manifest = None
            skipped(RejectedRelease(version, rejection, manifest))
        raise Refused(
            f"nothing to promote: every one of the {len(versions)} newest releases "
            f"{source_stage} published to {location.url()} is rejected",
            f"publish a fixed release from {source_stage}, or lift a rejection made by mistake "
            "with `cicd unreject`",
        )
    newest: PublishedRelease | None = None
    for version in versions:
        try:
            candidate = PublishedRelease(location, version, read(version))
        except ManifestError as error:
            warn(f"skipping a release whose manifest is unreadable: {error.message}")
            continue
        newest = newest or candidate
        if commit_matches(candidate.manifest.commit, commit):
            rejection = rejected(version)
            if rejection is not None:
                raise Refused(
                    f"{candidate.describe()} at {location.url()} is {rejection.describe()}",
                    "promote another commit, or if it was rejected by mistake: `cicd unreject "
                    f"--service {candidate.manifest.service} --stage {source_stage} "
                    f"{version.version_id}`",
                )
            return candidate
    found = (
        f"newest is {newest.describe()}, published {format_time(newest.version.published)}"
        if newest
        else "none has a readable manifest"
    )
    raise Refused(
        f"commit {commit} was never published by {source_stage}: none of the {len(versions)} "
        f"newest releases at {location.url()} was built from it ({found})",
        f"{source_stage} publishes a commit only once its release there succeeded; release it "
        f"to {source_stage} first (`cicd status --stage {source_stage}` shows what runs there)",
    )


def check_promotes_from(ref: PipelineRef, layout: PipelineLayout, source_stage: str) -> None:
    """Refuse a promoted target that does not promote from `source_stage` (its tag says)."""
    if ref.promotes_from is None:
        raise Refused(
            f"{layout.name} deploys published releases but carries no {TAG_PROMOTES_FROM} "
            f"tag, so cicd cannot check that it promotes from {source_stage}",
            "update its stack: the stacks tag every promoted pipeline with the stage it "
            "promotes from",
        )
    if ref.promotes_from != source_stage:
        stage = ref.stage or "its stage"
        raise Refused(
            f"{layout.name} promotes from {ref.promotes_from}, not from {source_stage} "
            f"(tag {TAG_PROMOTES_FROM})",
            f"promote to {stage} from {ref.promotes_from}: `cicd promote --from "
            f"{ref.promotes_from} --to {stage}`",
        )


def check_service(candidate: PublishedRelease, ref: PipelineRef, target: PipelineLayout) -> None:
    """Refuse a release built for another service than the one the target deploys."""
    promoted = target.promoted
    if ref.service and promoted and candidate.manifest.service != ref.service:
        raise Refused(
            f"{candidate.describe()} at {promoted.location.url()} was built for service "
            f"{candidate.manifest.service}, but {target.name} deploys {ref.service}",
            "the release location is shared by mistake: check the stacks' release locations",
        )


def check_not_live(
    candidate: PublishedRelease, target_history: Sequence[Release], *, target_name: str
) -> None:
    """Refuse when the target's newest successful execution deployed this very version."""
    live = newest_succeeded(target_history)
    if live is not None and live.version_id == candidate.version.version_id:
        raise Refused(
            f"{target_name} already runs {candidate.describe()} (execution "
            f"{short_id(live.execution_id)}), the release you asked to promote",
            "nothing to promote until a newer release is published; pick an older one with "
            "--commit",
        )


def waiting_release(
    versions: Sequence[PublishedVersion],
    history: Sequence[Release],
    lookup: Callable[[str], Manifest | str],
    location: ReleaseLocation,
    rejected: RejectionOf = _never_rejected,
) -> Waiting | None:
    """The newest published release that is not rejected, when it is newer than what the
    pipeline last deployed.

    `lookup` gives an object version's manifest, or a one-line reason it cannot be shown;
    `rejected` a version's rejection, asked only for the versions newer than the live one.

    None when nothing was published or the newest release is the one live. "Newer" is by
    position in the version list (S3's order), which is publication order. Rejected releases are
    never offered: they are listed under `rejected`, and when every newer release is rejected
    nothing waits (`release` is None). When an execution of that version is still running (e.g.
    waiting for approval), `running` names it.
    """
    if not versions:
        return None
    live = newest_succeeded(history)
    passed: list[RejectedRelease] = []
    newest: PublishedVersion | None = None
    for version in versions:
        if live is not None and live.version_id == version.version_id:
            break
        rejection = rejected(version)
        if rejection is None:
            newest = version
            break
        manifest = lookup(version.version_id)
        passed.append(
            RejectedRelease(version, rejection, None if isinstance(manifest, str) else manifest)
        )
    if newest is None:
        return Waiting(None, rejected=tuple(passed)) if passed else None
    running = next(
        (
            r
            for r in history
            if r.version_id == newest.version_id and r.status not in TERMINAL_STATUSES
        ),
        None,
    )
    looked_up = lookup(newest.version_id)
    if isinstance(looked_up, str):
        return Waiting(None, problem=looked_up, running=running, rejected=tuple(passed))
    return Waiting(
        PublishedRelease(location, newest, looked_up), running=running, rejected=tuple(passed)
    )


def check_same_repository(source: PipelineLayout, target: PipelineLayout) -> None:
    """Refuse to promote between pipelines that build different repositories."""
    if source.github and target.github and source.github.repository != target.github.repository:
        raise Refused(
            f"{source.name} builds {source.github.repository} but {target.name} builds "
            f"{target.github.repository}: a commit of one cannot be released by the other"
        )


def promotion_commit(
    source: Sequence[Release],
    target: Sequence[Release],
    *,
    source_name: str,
    target_name: str,
    commit: str | None = None,
) -> Release:
    """The release of `source` to promote, refusing when there is none or it is already live.

    The newest successful one, or with `commit` the newest successful one of that commit.
    Pure: both histories are newest-first lists from `recent_releases`.
    """
    succeeded = [r for r in source if r.status == "Succeeded" and r.commit is not None]
    if commit is not None:
        candidate = next((r for r in succeeded if commit_matches(r.commit, commit)), None)
        if candidate is None:
            raise Refused(
                f"commit {commit} never succeeded in {source_name} among its last "
                f"{len(source)} executions",
                "release it there first and wait for it to succeed",
            )
    elif succeeded:
        candidate = succeeded[0]
    else:
        raise Refused(
            f"nothing to promote: {source_name} has no successful release with a known commit "
            f"among its last {len(source)} executions",
            "release it first (`cicd release`) and wait for it to succeed",
        )
    live = newest_succeeded(target)
    if live is not None and live.commit == candidate.commit:
        what = "commit you asked to promote" if commit else "newest successful release of"
        raise Refused(
            f"{target_name} already runs commit {short_sha(candidate.commit)} "
            f"(execution {short_id(live.execution_id)}), the {what}"
            + ("" if commit else f" {source_name}"),
            "nothing to promote until a newer commit succeeds upstream",
        )
    return candidate
