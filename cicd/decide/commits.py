"""Which commit or execution a user means: SHAs and execution ids, full or abbreviated.

`validate_commit` checks what `--commit` received; `resolve_commit` expands an abbreviation from
the commits released before (AWS needs the full SHA); `resolve_execution` finds an execution by
a prefix of its id; `newest_succeeded` is what runs now; `newest_of_commit` and
`newest_execution` are what `info`, `follow`, `logs` and `open` look at by default. Pure: the
histories come from `cicd.aws.executions.recent_releases`, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from cicd.errors import NotFound, Refused, UsageError
from cicd.model.release import TERMINAL_STATUSES, Release
from cicd.text import short_id

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHA_PREFIX = re.compile(r"^[0-9a-f]{7,39}$")


def newest_succeeded(releases: Sequence[Release]) -> Release | None:
    """The newest Succeeded execution in a newest-first list, if any."""
    return next((r for r in releases if r.status == "Succeeded"), None)


def validate_commit(given: str) -> str:
    """`given` lowercased if it looks like a full or abbreviated SHA; UsageError otherwise."""
    commit = given.strip().lower()
    if not (_FULL_SHA.match(commit) or _SHA_PREFIX.match(commit)):
        raise UsageError(
            f"--commit {given!r} is not a commit SHA",
            "give 7 to 40 hexadecimal characters, as `git rev-parse HEAD` prints",
        )
    return commit


def commit_matches(commit: str | None, given: str) -> bool:
    """True when `given` (full or abbreviated, any case) names `commit`."""
    return commit is not None and commit.lower().startswith(given.strip().lower())


def resolve_commit(given: str, releases: Sequence[Release]) -> str:
    """The full SHA for `given`: itself when full, else the one known commit it abbreviates.

    CodePipeline needs the full SHA to fetch a commit, and only commits that were released
    before can be expanded offline, so an unknown abbreviation is a usage error.
    """
    commit = validate_commit(given)
    if _FULL_SHA.match(commit):
        return commit
    known = sorted({r.commit for r in releases if r.commit and commit_matches(r.commit, commit)})
    if len(known) == 1:
        return known[0]
    if not known:
        raise UsageError(
            f"commit {commit} was never released by this pipeline, so it cannot be expanded",
            "pass the full 40-character SHA (`git rev-parse <sha>`)",
        )
    raise UsageError(
        f"commit {commit} is ambiguous: {', '.join(c[:12] for c in known)}",
        "pass more characters of the SHA",
    )


def resolve_execution(given: str, releases: Sequence[Release]) -> Release | None:
    """The release whose execution id starts with `given`; None if no listed one does."""
    matches = [r for r in releases if r.execution_id.startswith(given.strip().lower())]
    if len(matches) > 1:
        raise UsageError(
            f"execution id {given} is ambiguous ({len(matches)} executions start with it)",
            "pass more characters, or the full id from `cicd releases --json`",
        )
    return matches[0] if matches else None


def newest_of_commit(
    history: Sequence[Release], commit: str, resolve: Callable[[Release], Release], pipeline: str
) -> Release:
    """The newest execution of `commit`; `resolve` fills in a release's commit (a manifest read
    for a promoted pipeline) and is called only until one matches."""
    for release in history:
        release = resolve(release)
        if commit_matches(release.commit, commit):
            return release
    raise NotFound(f"no execution of commit {commit} among the last {len(history)} of {pipeline}")


def newest_execution(history: Sequence[Release], pipeline: str, *, running: bool) -> Release:
    """The newest execution, or with `running` the newest one that has not ended."""
    if not history:
        raise NotFound(f"{pipeline} has no executions yet")
    if not running:
        return history[0]
    active = next((r for r in history if r.status not in TERMINAL_STATUSES), None)
    if active is None:
        raise Refused(
            f"nothing runs in {pipeline}: the newest release {short_id(history[0].execution_id)}"
            f" ended {history[0].status}",
            "follow a given one with `cicd follow ... EXECUTION`, or see it with `cicd info`",
        )
    return active
