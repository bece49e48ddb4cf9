"""What the commands' argument parsers share: the parser class, value types, option groups, and
`Commands`, which each command module's `register` declares its subcommand with.

Nothing here runs a command or reads AWS; `cicd.cli.parser` builds the whole parser from the
command modules.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from cicd.contract import ENVIRONMENTS
from cicd.errors import ExitCode

if TYPE_CHECKING:
    from cicd.cli.context import Context

Handler = Callable[[argparse.Namespace, "Context"], int]
# A command whose arguments another parser reads: (its namespace, the words after its name,
# stdout, stderr) -> exit code. It runs without AWS clients.
Passthrough = Callable[[argparse.Namespace, list[str], TextIO, TextIO], int]

DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3600.0


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors in the CLI's own two-line form instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            int(ExitCode.USAGE),
            f"cicd: {self.prog.removeprefix('cicd ')}: {message}\n"
            f"hint: `{self.prog} --help` lists the options\n"
            if self.prog != "cicd"
            else f"cicd: {message}\nhint: `cicd --help` lists the commands\n",
        )


def positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def add_aws_options(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_argument_group("AWS")
    group.add_argument(
        "--region", default=default, help="AWS region (default: AWS_REGION or the profile's)"
    )
    group.add_argument(
        "--profile", default=default, help="AWS profile (default: AWS_PROFILE or credentials env)"
    )


def service_option() -> dict[str, Any]:
    """The keyword arguments of every `-s/--service` option."""
    return {
        "default": os.environ.get("CICD_SERVICE"),
        "help": "service name (tag cicd:service); needed when a stage has several services "
        "(default: CICD_SERVICE)",
    }


def _aws_options() -> Parser:
    # SUPPRESS keeps a value given before the command (`cicd --region X status`) when the
    # command's own copy of the option is not used.
    parent = Parser(add_help=False)
    add_aws_options(parent, argparse.SUPPRESS)
    return parent


def _target_options(*, suppress: bool = False) -> Parser:
    """-s/-e/--pipeline; `suppress`: the copy a subcommand repeats, which leaves the command's
    value alone when the option is not given after the subcommand."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group("which pipeline")
    service = service_option()
    if suppress:
        service["default"] = argparse.SUPPRESS
    group.add_argument("-s", "--service", **service)
    group.add_argument(
        "-e",
        "--stage",
        choices=ENVIRONMENTS,
        default=argparse.SUPPRESS if suppress else os.environ.get("CICD_STAGE"),
        help="environment (tag cicd:stage) (default: CICD_STAGE)",
    )
    group.add_argument(
        "--pipeline",
        metavar="NAME",
        default=argparse.SUPPRESS if suppress else None,
        help="use this pipeline; skip the tag lookup",
    )
    return parent


def _wait_options(*, always: bool = False) -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("following the release")
    if not always:
        group.add_argument(
            "--wait",
            action="store_true",
            help="follow the execution, print each stage as it passes, exit non-zero if it "
            "fails or stops at an approval or a closed deployment window",
        )
    group.add_argument(
        "--interval",
        type=positive_number,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between polls (default: {DEFAULT_INTERVAL:g})",
    )
    group.add_argument(
        "--timeout",
        type=positive_number,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop following after this long, exit {int(ExitCode.TIMED_OUT)} "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--through-approval",
        action="store_true",
        help=f"keep following while the release waits for approval (default: stop there, "
        f"exit {int(ExitCode.AWAITS_APPROVAL)}, after printing who can approve and how)",
    )
    group.add_argument(
        "--through-window",
        action="store_true",
        help=f"keep following while a deployment window holds the release (default: stop, "
        f"exit {int(ExitCode.HELD_BY_WINDOW)}, after saying until when)",
    )
    return parent


def _json_option(*, suppress: bool = False) -> Parser:
    parent = Parser(add_help=False)
    parent.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print one JSON document instead of text (shapes: docs/cicd.md)",
    )
    return parent


def add_execution_argument(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "execution",
        nargs="?",
        metavar="EXECUTION",
        help=f"execution id or a unique prefix of one (default: {default})",
    )
    parser.add_argument(
        "--commit", metavar="SHA", help="the newest execution of this commit instead"
    )


class Commands:
    """The subcommands of `cicd` being declared, and the option groups they share.

    Each command module's `register(commands)` calls `add` once per command it defines:
    `target` (-s/-e/--pipeline), `wait` (--wait and how to follow) and `follow` (the same, for
    a command that always follows) are parents to pass; every command gets --json and the AWS
    options.
    """

    def __init__(self, sub: Any) -> None:
        self._sub = sub
        self._output, self._aws = _json_option(), _aws_options()
        self.target, self.wait = _target_options(), _wait_options()
        self.follow = _wait_options(always=True)
        self.summaries: dict[str, str] = {}

    def add(
        self,
        name: str,
        run: Handler,
        summary: str,
        description: str,
        examples: str,
        *parents: Parser,
        aws: bool = True,
    ) -> Parser:
        """A subcommand `name` that `run`s with the parsed arguments and a `Context`.

        `summary` is its line in `cicd --help`; `description` its own --help's paragraph;
        `examples` one command per line. `aws=False`: a command that never reaches AWS (it gets
        neither --json nor the AWS options from here).
        """
        self.summaries[name] = summary
        command: Parser = self._sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, width=88),
            epilog="examples:\n" + examples,
            parents=[*parents, *([self._output, self._aws] if aws else [])],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(handler=run)
        return command

    def add_passthrough(self, name: str, summary: str, run: Passthrough) -> None:
        """A subcommand whose words after `name` go, unparsed, to `run` (its own parser)."""
        self.summaries[name] = summary
        command = self._sub.add_parser(name, help=summary, add_help=False)
        command.set_defaults(passthrough=run)

    def subcommands(self, command: Parser, dest: str) -> Subcommands:
        """The subcommands of `command` (`cicd config get`), declared like commands."""
        return Subcommands(command, dest)


class Subcommands:
    """The subcommands of one command (`cicd config get`, `cicd config set`).

    Each also accepts the command's own options after its name (-s/-e/--pipeline, --json and
    the AWS options): argparse would otherwise take them only before it. Their copies here
    default to SUPPRESS, so a value given before the subcommand is kept. Without a subcommand
    the command runs its own handler.
    """

    def __init__(self, command: Parser, dest: str) -> None:
        self._prog = command.prog
        self._sub = command.add_subparsers(dest=dest, metavar="SUBCOMMAND")
        self._shared = [_target_options(suppress=True), _json_option(suppress=True), _aws_options()]

    def add(
        self,
        name: str,
        run: Handler,
        summary: str,
        description: str,
        examples: str,
        *parents: Parser,
        target: bool = True,
    ) -> Parser:
        """A subcommand `name` that `run`s; `target=False`: one that names no single pipeline
        (it still takes --json and the AWS options)."""
        shared = self._shared if target else self._shared[1:]
        command: Parser = self._sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, width=88),
            epilog="examples:\n" + examples,
            parents=[*parents, *shared],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(handler=run)
        return command
