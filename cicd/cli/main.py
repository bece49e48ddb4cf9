"""`cicd`'s main: parse the arguments, connect to AWS, run the command, turn errors into exits.

`main` never lets a traceback reach the user: every expected failure becomes one message on
stderr and an exit code from `cicd.errors.ExitCode`. Streams, stdin, the clock, `sleep`, the AWS
connection and the browser are parameters, so tests run every command without a terminal, a
network or a real wait.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from cicd.aws.clients import MAX_ATTEMPTS, Clients, connect
from cicd.aws.errors import from_boto_error, from_client_error, one_line
from cicd.aws.manifests import Manifests
from cicd.cli.context import Context, Sleep
from cicd.cli.options import Handler, Passthrough
from cicd.cli.parser import build_parser
from cicd.contract import ENVIRONMENTS
from cicd.errors import INTERRUPTED_MESSAGE, CicdError, ExitCode, UsageError
from cicd.text import Style

Connect = Callable[[str | None, str | None], Clients]
Opener = Callable[[str], bool]


def _open_in_browser(url: str) -> bool:
    import webbrowser

    return webbrowser.open(url)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _report(error: CicdError, err: TextIO, code: ExitCode | None = None) -> int:
    err.write(f"cicd: {error.message}\n")
    if error.hint:
        err.write(f"hint: {error.hint}\n")
    err.flush()
    return int(code if code is not None else error.exit_code)


def _check_environment_defaults(args: argparse.Namespace) -> None:
    stage = getattr(args, "stage", None)
    if stage is not None and stage not in ENVIRONMENTS:
        raise UsageError(
            f"CICD_STAGE={stage!r} is not an environment; use one of {', '.join(ENVIRONMENTS)}"
        )


def _parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The parsed arguments, and the words a passthrough command reads itself."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "passthrough", None) is None:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args, rest


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] = _utc_now,
    connect: Connect = connect,
    open_url: Opener = _open_in_browser,
) -> int:
    """Run `cicd` with `argv` (default: sys.argv[1:]); returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args, rest = _parse(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    try:
        passthrough: Passthrough | None = getattr(args, "passthrough", None)
        if passthrough is not None:
            return passthrough(args, rest, out, err)
        _check_environment_defaults(args)
        clients = connect(args.region, args.profile)
        context = Context(
            clients=clients,
            manifests=Manifests(lambda: clients.s3),
            out=out,
            err=err,
            stdin=stdin or sys.stdin,
            sleep=sleep,
            now=now,
            style=Style.for_stream(out, os.environ),
            json=bool(getattr(args, "json", False)),
            open_url=open_url,
        )
        handler: Handler = args.handler
        return handler(args, context)
    except CicdError as error:
        return _report(error, err)
    except ClientError as error:
        return _report(from_client_error(error, max_attempts=MAX_ATTEMPTS), err)
    except BotoCoreError as error:
        return _report(from_boto_error(error), err)
    except KeyboardInterrupt:
        err.write(INTERRUPTED_MESSAGE)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        raise  # the entry point ends quietly: the reader of our output went away
    except Exception as error:
        # A bug, or an AWS answer no code path expected: still one line, never a traceback,
        # unless someone debugging asks for it.
        if os.environ.get("CICD_DEBUG"):
            raise
        return _report(
            CicdError(
                f"internal error: {type(error).__name__}: {one_line(str(error))}",
                "run again with CICD_DEBUG=1 for the traceback, and report it",
            ),
            err,
            ExitCode.INTERNAL,
        )
