"""`cicd plan`, `cicd diff`, `cicd diagram`: the offline commands, which the platform provides.

They evaluate the Pulumi program under Pulumi's mocks (no AWS, no Pulumi CLI), so they need
Pulumi, the components and the stack program: the repository's own install (`make install`),
not this boto3-only CLI. The platform's distribution plugs them in through the entry point
`offline` of the group `gh_aws_delivery.cicd` (the root `pyproject.toml`), a function
`run(command, argv, out, err) -> exit code` that parses the command's own arguments. Here they
are declared by name only: `cicd --help` lists them in every install, what follows the command
name is handed over untouched, and where the platform is missing one line says what to install.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import metadata
from typing import TextIO

from cicd.cli.options import Commands
from cicd.errors import CicdError

ENTRY_POINT_GROUP = "gh_aws_delivery.cicd"
ENTRY_POINT = "offline"

# One line each in `cicd --help`; each command's own --help (the platform's) has the rest.
OFFLINE_COMMANDS = {
    "plan": "a stack's desired state, evaluated offline; --check runs the guardrails",
    "diff": "what changes between a git ref and the working tree, stack by stack",
    "diagram": "a stack's pipelines as they will run: Mermaid, SVG or PNG",
}

OfflineRun = Callable[[str, list[str], TextIO, TextIO], int]


class PlatformMissing(CicdError):
    """`plan`, `diff` or `diagram` ran where only the release CLI is installed."""


def register(commands: Commands) -> None:
    for name, summary in OFFLINE_COMMANDS.items():
        commands.add_passthrough(name, summary, run_offline)


def platform_commands() -> OfflineRun | None:
    """The platform's `run`, when its distribution is installed here; None otherwise."""
    found = metadata.entry_points(group=ENTRY_POINT_GROUP, name=ENTRY_POINT)
    return next(iter(found)).load() if found else None


def run_offline(args: argparse.Namespace, argv: list[str], out: TextIO, err: TextIO) -> int:
    """Hand `cicd COMMAND ARGV...` to the platform, or say in one line what to install."""
    command: str = args.command
    install = "in a checkout of the repository run `make install` and use .venv/bin/cicd"
    try:
        run = platform_commands()
    except ImportError as error:
        raise PlatformMissing(
            f"`cicd {command}` comes with the platform install, which is incomplete here "
            f"({error}): {install}"
        ) from None
    if run is None:
        raise PlatformMissing(
            f"`cicd {command}` runs the Pulumi program offline and comes with the platform "
            f"install, not with this boto3-only CLI: {install}"
        )
    return run(command, argv, out, err)
