"""Problems that span concerns of one stack file, found on parts so each is reported once.

Each check takes already-validated parts (`Parts`) rather than `Settings`, so `load` can still run
it on the parts of an invalid config that are valid on their own, and report every problem in one
round. A part that is itself invalid is None, and the checks that need it are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stack.config.base import REMOVE, Finding

if TYPE_CHECKING:
    from stack.config.service import ServiceSettings
    from stack.config.stage import (
        ArtifactSettings,
        EnvironmentSettings,
        ReleaseSettings,
        UpstreamSettings,
    )


@dataclass(frozen=True)
class Parts:
    """The valid parts of one stack's config; None where a part is invalid (or, for releases,
    absent: a stage that publishes nothing)."""

    stage: str
    environment: EnvironmentSettings | None
    artifacts: ArtifactSettings | None
    services: list[tuple[int, ServiceSettings]]
    releases: ReleaseSettings | None
    upstreams: Mapping[str, UpstreamSettings] | None
    has_connection: bool
    """Whether the stack file sets `connection` (valid or not)."""
    all_services: bool = True
    """Whether `services` holds every service (none was invalid): checks about the whole set
    (an unused upstream, an unused connection) would be wrong on a part of it."""
    promotions: list[tuple[int, str]] | None = None
    """(service index, promote_from) of every service that names one, valid or not, so a
    misnamed stage is reported even beside other mistakes. Omitted: read from `services`."""


def cross_problems(parts: Parts) -> list[Finding]:
    """Every problem that needs more than one concern of the stack file to see."""
    return [
        *_protection_problems(parts),
        *_source_problems(parts),
        *_promotion_problems(parts),
        *_config_problems(parts),
    ]


def _config_problems(parts: Parts) -> list[Finding]:
    """Each service reads only its own configuration: no two services share a path, and none
    lies under another's, since a recursive read of a path returns every level below it
    (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html)."""
    p: list[Finding] = []
    paths = [(i, s.name, s.config_path(parts.stage)) for i, s in parts.services]
    for i, name, path in paths:
        for _, other, other_path in paths:
            if other == name:
                continue
            if path == other_path:
                why = f"{path} is also {other}'s configuration path; give each service its own"
            elif path.startswith(other_path + "/"):
                why = (
                    f"{path} lies under {other}'s path {other_path}, so {other}'s hosts would "
                    f"read {name}'s configuration too; use paths that do not nest"
                )
            else:
                continue
            p.append(Finding(("services", i, "runtime_config", "path"), why))
            break
    return p


def _source_problems(parts: Parts) -> list[Finding]:
    """A GitHub connection exactly when some service builds from GitHub."""
    built = [s.name for _, s in parts.services if not s.promoted]
    promoted_only = parts.services and not built
    if built and not parts.has_connection:
        why = (
            f"required: {', '.join(built)} build from GitHub, through a connection; give arn "
            "(an existing, authorised connection) or name (create one)"
        )
        return [Finding(("connection",), why, "pulumi config set --path '{key}.name' <name>")]
    if promoted_only and parts.has_connection and parts.all_services:
        why = (
            "every service of this stage is promoted from another stage, so nothing here reads "
            "GitHub; the connection would be unused"
        )
        return [Finding(("connection",), why, REMOVE)]
    return []


def _protection_problems(parts: Parts) -> list[Finding]:
    """The stage's protection against its artifacts and its approvals."""
    p: list[Finding] = []
    environment = parts.environment
    if environment is None:
        return p
    for i, service in parts.services:
        if service.unheard_approval(environment.production):
            why = (
                "approval is enabled and requires a subscriber (the default in production), but "
                "notifications has no emails, https or slack: nobody would be asked to approve"
            )
            p.append(Finding(("services", i, "notifications"), why))
    if parts.artifacts is not None and parts.artifacts.force_destroy and environment.protected:
        why = (
            "is true but the environment is protected, and a protected stage keeps its "
            "artifacts; set it to false"
        )
        p.append(Finding(("artifacts", "force_destroy"), why))
    return p


def _promotion_problems(parts: Parts) -> list[Finding]:
    """Where releases come from and go to: known stages, no self-promotion, no cycles, and a
    customer managed key wherever a release crosses accounts."""
    p: list[Finding] = []
    upstreams = parts.upstreams
    consumers = [c.stage for c in parts.releases.consumers] if parts.releases else []
    promotions = parts.promotions
    # Read from raw config, the list holds every service; from models, only if all were valid.
    every_promotion = promotions is not None or parts.all_services
    if promotions is None:
        promotions = [(i, s.promote_from) for i, s in parts.services if s.promote_from]
    if upstreams is not None:
        for i, source in promotions:
            at = ("services", i, "promote_from")
            if source == parts.stage:
                p.append(Finding(at, f"stage {parts.stage} cannot promote from itself"))
            elif source not in upstreams:
                known = ", ".join(sorted(upstreams)) or "none"
                why = (
                    f"unknown stage {source!r}: a stage to promote from is declared under "
                    f"upstreams (declared: {known})"
                )
                p.append(Finding(at, why, _upstream_fix(source)))
        used = {source for _, source in promotions}
        for name in sorted(upstreams):
            if name == parts.stage:
                p.append(Finding(("upstreams", name), "a stage cannot promote from itself"))
            elif name in consumers:
                why = (
                    f"{parts.stage} promotes from {name} and publishes releases for {name} "
                    "(releases.consumers): a release would go round in a cycle"
                )
                p.append(Finding(("upstreams", name), why))
            elif name not in used and every_promotion:
                why = f"no service has promote_from: {name}; remove it or promote a service"
                p.append(Finding(("upstreams", name), why, REMOVE))
    if parts.releases is not None:
        for j, consumer in enumerate(parts.releases.consumers):
            at = ("releases", "consumers", j, "stage")
            if consumer.stage == parts.stage:
                p.append(Finding(at, f"stage {parts.stage} cannot publish releases for itself"))
        crossing = [c for c in parts.releases.consumers if c.account is not None]
        if crossing and parts.releases.kms_key is None:
            names = ", ".join(f"{c.stage} (account {c.account})" for c in crossing)
            why = (
                f"releases go to another account ({names}); releases that cross accounts must "
                "be encrypted with a customer managed KMS key, because AWS managed keys (aws/s3) "
                "cannot be used by another account"
            )
            fix = (
                "pulumi config set --path '{key}' create (a key whose policy lets those "
                "accounts decrypt), or set it to an existing key's ARN"
            )
            p.append(Finding(("releases", "kms_key"), why, fix))
    return p


def _upstream_fix(stage: str) -> str:
    return (
        f"declare it: pulumi config set --path '{{namespace}}:upstreams.{stage}.stack' "
        f"<organization>/<project>/{stage}, or fix the stage name"
    )
