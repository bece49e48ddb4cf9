"""Whether `cicd rollback` may cross a release that contracted the schema: pure, no AWS.

A release whose manifest says `contracts_schema: true` dropped or renamed something the release
before it still used (docs/app-repository.md, expand/contract). A stage rollback puts the older
code back but cannot put the schema back, so the older code may fail on it. `crossed` is what a
rollback to a target crosses: every execution newer than the target (the live one included; a
failed one may have migrated before failing). `check_contracting` refuses, unless forced, when
any of them contracted the schema, naming it, or when it cannot tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cicd.errors import Refused
from cicd.model.release import Release
from cicd.text import short_id


def crossed(history: Sequence[Release], target: Release) -> list[Release]:
    """The executions of a newest-first history newer than `target` (all when it is older
    than the history)."""
    position = next(
        (i for i, r in enumerate(history) if r.execution_id == target.execution_id), len(history)
    )
    return list(history[:position])


@dataclass(frozen=True)
class Contracting:
    """A crossed release and what is known of it: True (it contracts the schema), False, or
    why it cannot be told (`where` names the record or manifest that said so)."""

    release: Release
    contracts: bool | str
    where: str = "its deploy record"


def check_contracting(
    pipeline: str, target: Release, found: Sequence[Contracting], *, force: bool
) -> list[Contracting]:
    """Refuse to cross a contracting (or unknown) release unless `force`; what `--force` went
    past (to say so), else []."""
    contracting = [c for c in found if c.contracts is True]
    unknown = [c for c in found if isinstance(c.contracts, str)]
    if force:
        return [*contracting, *unknown]
    if contracting:
        names = "; ".join(
            f"{c.release.describe()} (contracts_schema: true in {c.where})" for c in contracting
        )
        raise Refused(
            f"rolling {pipeline} back to {short_id(target.execution_id)} crosses "
            f"{'a release' if len(contracting) == 1 else 'releases'} that contracted the "
            f"database schema: {names}; a rollback restores the older code, not the older "
            "schema, and that code may still use what was dropped or renamed",
            "roll forward with a fix instead (`cicd release` / `cicd promote`), or pass --force "
            "if the older code works with the current schema (docs/app-repository.md, "
            "expand/contract)",
        )
    if unknown:
        reasons = "; ".join(f"{short_id(c.release.execution_id)}: {c.contracts}" for c in unknown)
        raise Refused(
            f"cannot tell whether rolling {pipeline} back to {short_id(target.execution_id)} "
            f"crosses a release that contracted the database schema ({reasons})",
            "grant the read named above and run it again, or pass --force if you know none did",
        )
    return []
