"""Problems that span concerns of one stack file, found on parts so each is reported once.

Each check takes already-validated parts rather than `Settings`, so `load` can still run it on
the parts of an invalid config that are valid on their own, and report every problem in one round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.config.service import ServiceSettings
    from components.config.stack import ArtifactSettings, EnvironmentSettings


def cross_problems(
    artifacts: ArtifactSettings | None,
    environment: EnvironmentSettings,
    services: list[tuple[int, ServiceSettings]],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that span concerns: the stage's protection against its artifacts and approvals.

    Takes parts, not `Settings`, so `parse_settings` can still check the parts that are valid
    when other keys are not, and every problem is reported in one round.
    """
    p: list[tuple[tuple[str | int, ...], str]] = []
    for i, service in services:
        if service.unheard_approval(environment.production):
            p.append(
                (
                    ("services", i, "notifications"),
                    "approval is enabled and requires a subscriber (the default in "
                    "production), but notifications has no emails, https or slack: nobody "
                    "would be asked to approve",
                )
            )
    if artifacts is not None and artifacts.force_destroy and environment.protected:
        p.append(
            (
                ("artifacts", "force_destroy"),
                "is true but the environment is protected, and a protected stage keeps its "
                "artifacts; set it to false",
            )
        )
    return p
