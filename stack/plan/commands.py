"""What the offline commands (`plan`, `diff`, `diagram`) need from the platform install.

Defines `require_platform`, which each of those commands calls before importing anything of
the platform: with the CLI-only distribution (`cicd/pyproject.toml`, boto3 alone) it raises a
`PlatformMissing` whose message is the one line saying what to install. The release commands
never call it, and importing this module imports nothing beyond the standard library.
"""

from __future__ import annotations

import importlib.util

from cicd.errors import CicdError

# Modules the offline commands import: the Pulumi SDK and the repository's own program.
PLATFORM_MODULES = ("pulumi", "pulumi_aws", "pydantic", "yaml", "stack", "components")


class PlatformMissing(CicdError):
    """`plan`, `diff` or `diagram` ran where only the release CLI is installed."""


def missing_modules(modules: tuple[str, ...] = PLATFORM_MODULES) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


def require_platform(command: str, *extra: str) -> None:
    """Raise `PlatformMissing` unless the platform (and `extra` modules) can be imported."""
    missing = missing_modules((*PLATFORM_MODULES, *extra))
    if missing:
        raise PlatformMissing(
            f"`cicd {command}` runs the Pulumi program offline and needs the platform install "
            f"(missing: {', '.join(missing)}): in a checkout of the repository run `make install` "
            "and use .venv/bin/cicd"
        )
