"""The `cicd` command line: argument parsing, dispatch, and errors turned into messages.

`main` is the console script. It never lets a traceback reach the user: every expected failure
becomes one message on stderr and an exit code from `errors.ExitCode`. Streams, stdin, the clock,
`sleep` and the AWS connection are parameters so tests run every command without a terminal,
a network or a real wait.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from cicd import __version__, aws, commands
from cicd.contract import ENVIRONMENTS
from cicd.entry import INTERRUPTED_MESSAGE
from cicd.errors import (
    EXIT_CODE_MEANINGS,
    CicdError,
    ExitCode,
    UsageError,
    from_boto_error,
    from_client_error,
    one_line,
)
from cicd.manifests import Manifests
from cicd.progress import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, Sleep

Connect = Callable[[str | None, str | None], aws.Clients]
Handler = Callable[[argparse.Namespace, commands.Context], int]

_EXIT_CODES = "\n".join(
    textwrap.fill(text, width=88, initial_indent=f"  {int(code):<5}", subsequent_indent=" " * 7)
    for code, text in EXIT_CODE_MEANINGS.items()
)

MAIN_EPILOG = f"""\
examples:
  cicd status --service shop                  every environment of one service
  cicd releases --stage dev                   like `heroku releases`
  cicd release --stage dev --wait             release the branch head, follow it
  cicd promote --from dev --to staging        staging gets dev's last good commit
  cicd approve --stage prod --commit 1a2b3c4  approve only if that commit waits
  cicd rollback --stage prod                  back to the previous release

Every command finds the pipeline by its tags (cicd:service, cicd:stage); --pipeline NAME
skips that. AWS credentials and region come from --profile/--region, else AWS_PROFILE,
AWS_REGION and ~/.aws as for the AWS CLI. CICD_SERVICE and CICD_STAGE set defaults for
--service and --stage.

exit codes:
{_EXIT_CODES}
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in the CLI's own two-line form instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            int(ExitCode.USAGE),
            f"cicd: {self.prog.removeprefix('cicd ')}: {message}\n"
            f"hint: `{self.prog} --help` lists the options\n"
            if self.prog != "cicd"
            else f"cicd: {message}\nhint: `cicd --help` lists the commands\n",
        )


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _add_aws_options(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_argument_group("AWS")
    group.add_argument(
        "--region", default=default, help="AWS region (default: AWS_REGION or the profile's)"
    )
    group.add_argument(
        "--profile", default=default, help="AWS profile (default: AWS_PROFILE or credentials env)"
    )


def _aws_options() -> _Parser:
    # SUPPRESS keeps a value given before the command (`cicd --region X status`) when the
    # command's own copy of the option is not used.
    parent = _Parser(add_help=False)
    _add_aws_options(parent, argparse.SUPPRESS)
    return parent


def _service_help() -> dict[str, Any]:
    return {
        "default": os.environ.get("CICD_SERVICE"),
        "help": "service name (tag cicd:service); needed when a stage has several services "
        "(default: CICD_SERVICE)",
    }


def _target_options() -> _Parser:
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("which pipeline")
    group.add_argument("-s", "--service", **_service_help())
    group.add_argument(
        "-e",
        "--stage",
        choices=ENVIRONMENTS,
        default=os.environ.get("CICD_STAGE"),
        help="environment (tag cicd:stage) (default: CICD_STAGE)",
    )
    group.add_argument("--pipeline", metavar="NAME", help="use this pipeline; skip the tag lookup")
    return parent


def _wait_options() -> _Parser:
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("following the release")
    group.add_argument(
        "--wait",
        action="store_true",
        help="follow the execution, print each stage as it passes, exit non-zero if it fails",
    )
    group.add_argument(
        "--interval",
        type=_positive_number,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between polls with --wait (default: {DEFAULT_INTERVAL:g})",
    )
    group.add_argument(
        "--timeout",
        type=_positive_number,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop following after this long, exit {int(ExitCode.TIMED_OUT)} "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    return parent


def build_parser() -> _Parser:
    parser = _Parser(
        prog="cicd",
        description="Heroku-style releases for the GitHub -> CodePipeline V2 pipelines.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cicd {__version__}")
    _add_aws_options(parser, None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    aws_options, target, wait = _aws_options(), _target_options(), _wait_options()

    def command(
        name: str, handler: Handler, summary: str, epilog: str, *parents: _Parser
    ) -> _Parser:
        cmd = sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(summary, width=88),
            epilog="examples:\n" + epilog,
            parents=[*parents, aws_options],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(handler=handler)
        return cmd

    command(
        "status",
        commands.run_status,
        "Show each stage's latest status and commit, running CodeDeploy deployments and the "
        "GitHub connection (like `heroku ps` and `heroku pipelines:info`). Without --stage, "
        "every environment of the service.",
        "  cicd status --service shop\n  cicd status --service shop --stage prod\n",
        target,
    )
    releases = command(
        "releases",
        commands.run_releases,
        "List recent releases (pipeline executions), newest first: id, commit, message, "
        "trigger, status, start and duration (like `heroku releases`).",
        "  cicd releases --stage dev\n  cicd releases --stage prod --limit 50 --json\n",
        target,
    )
    releases.add_argument(
        "--limit", type=_positive_int, default=15, metavar="N", help="how many (default: 15)"
    )
    releases.add_argument("--json", action="store_true", help="print JSON with full ids")
    release = command(
        "release",
        commands.run_release,
        "Start a release: the head of the pipeline's branch, or one commit (like "
        "`git push heroku`).",
        "  cicd release --stage dev --wait\n"
        "  cicd release --stage dev --commit 1a2b3c4d5e6f...  # full or a released prefix\n",
        target,
        wait,
    )
    release.add_argument("--commit", metavar="SHA", help="release this commit, not the head")
    promote = command(
        "promote",
        commands.run_promote,
        "Deploy in one environment what another proved (like `heroku pipelines:promote`). "
        "A promoted pipeline (prod) is started on the release its upstream published for "
        "the commit (default: the newest); a pipeline that builds from GitHub is started at "
        "the upstream's newest successful commit and rebuilds it. Refuses when the commit was "
        "never published or succeeded upstream, or the target already runs it.",
        "  cicd promote --service web --from staging --to prod\n"
        "  cicd promote --service web --from staging --to prod --commit 1a2b3c4 --wait\n"
        "  cicd promote --from staging --to-pipeline web-prod-pipeline   # no tag:GetResources\n",
        wait,
    )
    promote.add_argument("-s", "--service", **_service_help())
    promote.add_argument(
        "--commit",
        metavar="SHA",
        help="promote the release of this commit (full or abbreviated) instead of the newest",
    )
    promote.add_argument(
        "--from", dest="source_stage", choices=ENVIRONMENTS, help="promote from this stage"
    )
    promote.add_argument(
        "--to", dest="target_stage", choices=ENVIRONMENTS, help="promote to this stage"
    )
    promote.add_argument(
        "--from-pipeline",
        metavar="NAME",
        help="upstream pipeline by name, skipping the tag lookup (GitHub-built targets only: "
        "a promoted target reads its release location, never the upstream pipeline)",
    )
    promote.add_argument(
        "--to-pipeline", metavar="NAME", help="target pipeline by name, skipping the tag lookup"
    )
    for name, handler, summary, example in (
        (
            "approve",
            commands.run_approve,
            "Approve the release waiting at the manual approval, optionally only if it is a "
            "given commit.",
            "  cicd approve --stage prod\n  cicd approve --stage prod --commit 1a2b3c4 --wait\n",
        ),
        (
            "reject",
            commands.run_reject,
            "Reject the release waiting at the manual approval; the execution stops there.",
            '  cicd reject --stage prod --reason "breaks checkout on Safari"\n',
        ),
    ):
        answer = command(
            name, handler, summary, example, target, *([wait] if name == "approve" else [])
        )
        answer.add_argument(
            "--commit", metavar="SHA", help="refuse unless this commit is the one waiting"
        )
        answer.add_argument(
            "--reason",
            required=name == "reject",
            metavar="TEXT",
            help="why; recorded with the approval in CodePipeline",
        )
    rollback = command(
        "rollback",
        commands.run_rollback,
        "Roll the Deploy stage back to the previous successful release of another commit, or "
        "to --to EXECUTION_ID (like `heroku rollback`). Shows the change and asks first.",
        "  cicd rollback --stage prod\n  cicd rollback --stage prod --to 1a2b3c4d --yes --wait\n",
        target,
        wait,
    )
    rollback.add_argument(
        "--to", metavar="EXECUTION_ID", help="roll back to this execution (id or its prefix)"
    )
    rollback.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a TTY)"
    )
    return parser


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


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] = _utc_now,
    connect: Connect = aws.connect,
) -> int:
    """Run `cicd` with `argv` (default: sys.argv[1:]); returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    try:
        _check_environment_defaults(args)
        clients = connect(args.region, args.profile)
        context = commands.Context(
            clients=clients,
            manifests=Manifests(lambda: clients.s3),
            out=out,
            err=err,
            stdin=stdin or sys.stdin,
            sleep=sleep,
            now=now,
        )
        handler: Handler = args.handler
        return handler(args, context)
    except CicdError as error:
        return _report(error, err)
    except ClientError as error:
        return _report(from_client_error(error, max_attempts=aws.MAX_ATTEMPTS), err)
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
