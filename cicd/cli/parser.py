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

from cicd import __version__, aws, commands, diagram, diff, metrics, observe, plan
from cicd.context import Context
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
from cicd.formatting import Style
from cicd.manifests import Manifests
from cicd.progress import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, Sleep

Connect = Callable[[str | None, str | None], aws.Clients]
Handler = Callable[[argparse.Namespace, Context], int]
OfflineHandler = Callable[[argparse.Namespace, TextIO, TextIO], int]
Opener = Callable[[str], bool]

_EXIT_CODES = "\n".join(
    textwrap.fill(text, width=88, initial_indent=f"  {int(code):<5}", subsequent_indent=" " * 7)
    for code, text in EXIT_CODE_MEANINGS.items()
)

MAIN_EPILOG = f"""\
examples:
  cicd status                                   every service x environment, at a glance
  cicd status -s web                            each environment of web, stage by stage
  cicd releases -s web -e dev                   like `heroku releases`
  cicd release -s web -e dev --wait             release the branch head, follow it
  cicd promote -s web --from staging --to prod  prod gets the release staging proved
  cicd approve -s web -e prod --commit 1a2b3c4  approve only if that commit waits
  cicd rollback -s web -e prod                  back to the previous release
  cicd info -s web -e prod                      one release, whole: actions, tests, approver
  cicd logs -s web -e dev --action unit         a build's logs
  cicd metrics --since 30d                      deployment frequency, lead time, failures
  cicd plan --stack dev --check                 what dev declares, guardrails checked (offline)
  cicd diff --base origin/main                  what this branch changes, stack by stack
  cicd diagram --stack prod                     prod's pipelines as a Mermaid flowchart

Every command finds the pipeline by its tags (cicd:service, cicd:stage); --pipeline NAME
skips that. AWS credentials and region come from --profile/--region, else AWS_PROFILE,
AWS_REGION and ~/.aws as for the AWS CLI. CICD_SERVICE and CICD_STAGE set defaults for
--service and --stage. Every command takes --json; colour only on a terminal, never with
NO_COLOR set. plan, diff and diagram need no AWS at all: they run the Pulumi program under
Pulumi's mocks and need the platform install (`make install`), not only the CLI.

exit codes:
{_EXIT_CODES}
"""


# One line per command in `cicd --help`; each command's own --help has the full description.
SHORT_HELP = {
    "status": "what runs where: every service x environment, or one service stage by stage",
    "releases": "recent releases of one pipeline, newest first (like heroku releases)",
    "release": "start a release of the branch head or of one commit",
    "promote": "deploy in one environment what another proved",
    "approve": "approve the release that waits for approval",
    "reject": "reject the release that waits for approval",
    "rollback": "roll the Deploy stage back to the previous release",
    "info": "one release whole: actions, tests, trigger, approver, links",
    "follow": "follow a running release until it ends or waits for someone",
    "logs": "a release's build, command and deployment logs",
    "open": "the console URL of a pipeline or release (opened on a terminal)",
    "metrics": "delivery metrics: frequency, lead time, failure rate, time to restore",
}
# The commands that evaluate the Pulumi program offline: no AWS, but the platform install.
OFFLINE_HELP = {
    "plan": "a stack's desired state, evaluated offline; --check runs the guardrails",
    "diff": "what changes between a git ref and the working tree, stack by stack",
    "diagram": "a stack's pipelines as they will run: Mermaid, SVG or PNG",
}


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


def _wait_options(*, always: bool = False) -> _Parser:
    parent = _Parser(add_help=False)
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
        type=_positive_number,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between polls (default: {DEFAULT_INTERVAL:g})",
    )
    group.add_argument(
        "--timeout",
        type=_positive_number,
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


def _json_option() -> _Parser:
    parent = _Parser(add_help=False)
    parent.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document instead of text (shapes: docs/cicd.md)",
    )
    return parent


def _execution_argument(parser: _Parser, default: str) -> None:
    parser.add_argument(
        "execution",
        nargs="?",
        metavar="EXECUTION",
        help=f"execution id or a unique prefix of one (default: {default})",
    )
    parser.add_argument(
        "--commit", metavar="SHA", help="the newest execution of this commit instead"
    )


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
    aws_options, target, wait, output = (
        _aws_options(),
        _target_options(),
        _wait_options(),
        _json_option(),
    )

    def offline_command(name: str, handler: OfflineHandler, summary: str, epilog: str) -> _Parser:
        cmd = sub.add_parser(
            name,
            help=OFFLINE_HELP[name],
            description=textwrap.fill(summary, width=88),
            epilog="examples:\n" + epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(offline_handler=handler)
        return cmd

    def command(
        name: str, handler: Handler, summary: str, epilog: str, *parents: _Parser
    ) -> _Parser:
        cmd = sub.add_parser(
            name,
            help=SHORT_HELP[name],
            description=textwrap.fill(summary, width=88),
            epilog="examples:\n" + epilog,
            parents=[*parents, output, aws_options],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(handler=handler)
        return cmd

    command(
        "status",
        commands.run_status,
        "Show what runs where. Without filters (or with only --stage): a service x environment "
        "table of the live commit and the latest status, marking a newer proven release that "
        "waits to be promoted. With --service: each environment stage by stage, running "
        "CodeDeploy deployments, the GitHub connection, and the exact promote command (like "
        "`heroku ps` and `heroku pipelines:info`).",
        "  cicd status\n  cicd status --service web\n  cicd status -s web -e prod --json\n",
        target,
    )
    releases = command(
        "releases",
        commands.run_releases,
        "List recent releases (pipeline executions), newest first: id, commit, message, "
        "trigger, status, start and duration (like `heroku releases`).",
        "  cicd releases --service web --stage dev\n"
        "  cicd releases -s web -e prod --limit 50 --json\n",
        target,
    )
    releases.add_argument(
        "--limit", type=_positive_int, default=15, metavar="N", help="how many (default: 15)"
    )
    release = command(
        "release",
        commands.run_release,
        "Start a release: the head of the pipeline's branch, or one commit (like "
        "`git push heroku`). Pipelines promoted from another stage refuse: use promote.",
        "  cicd release --service web --stage dev --wait\n"
        "  cicd release -s web -e dev --commit 1a2b3c4d5e6f...  # full or a released prefix\n",
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
            "  cicd approve --service web --stage prod\n"
            "  cicd approve -s web -e prod --commit 1a2b3c4 --wait\n",
        ),
        (
            "reject",
            commands.run_reject,
            "Reject the release waiting at the manual approval; the execution stops there.",
            '  cicd reject --service web --stage prod --reason "breaks checkout on Safari"\n',
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
        "  cicd rollback --service web --stage prod\n"
        "  cicd rollback -s web -e prod --to 1a2b3c4d --yes --wait\n",
        target,
        wait,
    )
    rollback.add_argument(
        "--to", metavar="EXECUTION_ID", help="roll back to this execution (id or its prefix)"
    )
    rollback.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a TTY)"
    )
    info = command(
        "info",
        observe.run_info,
        "Show one release whole: each stage and action with status, timing and error, test "
        "report totals per suite, who or what started it, who approved it and why, the "
        "rollback it restored, and console links (like `heroku releases:info`).",
        "  cicd info --service web --stage prod            # the newest release\n"
        "  cicd info -s web -e prod 1a2b3c4d\n"
        "  cicd info -s web -e staging --commit 1a2b3c4 --json\n",
        target,
    )
    _execution_argument(info, "the newest execution")
    follow = command(
        "follow",
        observe.run_follow,
        "Follow a release already running (started by a push, by someone else, or left "
        "after Ctrl-C) until it ends or waits for an approval or a deployment window.",
        "  cicd follow --service web --stage prod          # the newest running release\n"
        "  cicd follow -s web -e prod 1a2b3c4d --through-approval\n",
        target,
        _wait_options(always=True),
    )
    _execution_argument(follow, "the newest running execution")
    logs = command(
        "logs",
        observe.run_logs,
        "Print a release's logs: each CodeBuild action's log (build, tests, verification), "
        "Commands actions' logs, and for CodeDeploy the deployment's error and the lifecycle "
        "hooks of failed instances with their log tails (like `heroku logs`).",
        "  cicd logs --service web --stage dev             # the newest execution\n"
        "  cicd logs -s web -e dev --action unit --lines 0 # all of one action\n"
        "  cicd logs -s web -e dev --action Build --tail   # follow a running build\n",
        target,
    )
    _execution_argument(logs, "the newest execution")
    logs.add_argument("--action", metavar="NAME", help="only this action (e.g. Build, unit)")
    logs.add_argument(
        "--lines",
        type=int,
        default=200,
        metavar="N",
        help="the last N lines of each log (0: all of it, page by page; default: 200)",
    )
    logs.add_argument(
        "--tail", action="store_true", help="keep printing new lines until the actions end"
    )
    logs.add_argument(
        "--interval",
        type=_positive_number,
        default=DEFAULT_INTERVAL / 2,
        metavar="SECONDS",
        help=f"seconds between polls with --tail (default: {DEFAULT_INTERVAL / 2:g})",
    )
    opener = command(
        "open",
        observe.run_open,
        "Print the console URL of a release (or of the pipeline, without EXECUTION), and "
        "open it in a browser when run on a terminal.",
        "  cicd open --service web --stage prod\n"
        "  cicd open -s web -e prod 1a2b3c4d --no-browser\n",
        target,
    )
    opener.add_argument(
        "execution", nargs="?", metavar="EXECUTION", help="execution id or a unique prefix"
    )
    opener.add_argument(
        "--no-browser", action="store_true", help="only print the URL, even on a terminal"
    )
    metrics_cmd = command(
        "metrics",
        metrics.run_metrics,
        "Delivery metrics from pipeline history (the four DORA measures): deployment "
        "frequency, lead time for changes, change failure rate and time to restore, for the "
        "production environment of each service.",
        "  cicd metrics\n  cicd metrics --service web --since 90d --json\n",
    )
    metrics_cmd.add_argument("-s", "--service", **_service_help())
    metrics_cmd.add_argument(
        "-e",
        "--stage",
        choices=ENVIRONMENTS,
        default="prod",
        help="the production environment (default: prod)",
    )
    metrics_cmd.add_argument(
        "--since",
        type=metrics.parse_since,
        default="30d",
        metavar="WHEN",
        help="window start: 30d, 12w, or a date like 2025-04-01 (default: 30d)",
    )
    _offline_commands(offline_command)
    return parser


def _offline_commands(offline_command: Callable[..., _Parser]) -> None:
    plan_cmd = offline_command(
        "plan",
        plan.run_plan,
        "Evaluate the Pulumi program with a stack file's config under Pulumi's mocks (no "
        "Pulumi CLI, no AWS, secrets as placeholders; stacks that promote from another get "
        "that stack's offline exports) and print every resource it declares, grouped by "
        "component, with a summary count. --json prints a stable, sorted document (the same "
        "input gives byte-identical output); --check runs the policy pack's guardrails and "
        "exits 1 on a mandatory violation. See docs/plan-and-policy.md.",
        "  cicd plan --stack dev\n"
        "  cicd plan --stack prod --check\n"
        "  cicd plan --stack staging --json > staging-plan.json\n",
    )
    plan_cmd.add_argument("--stack", required=True, metavar="STACK", help="the Pulumi.STACK.yaml")
    plan_cmd.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan_cmd.add_argument(
        "--check",
        action="store_true",
        help="also run the guardrails (policy/); exit 1 on a mandatory violation",
    )
    plan_cmd.add_argument(
        "--policy-config",
        metavar="FILE",
        help="guardrail configuration, as `pulumi policy enable --config FILE` reads it",
    )
    diff_cmd = offline_command(
        "diff",
        diff.run_diff,
        "Plan every stack at a git ref (checked out in a temporary git worktree) and in the "
        "working tree, and print what differs per stack: resources added, removed and "
        "changed, each changed input before and after, and replacements where a changed "
        "input forces one for that resource type. --format markdown suits a pull request "
        "comment: one collapsed section per stack.",
        "  cicd diff --base origin/main\n"
        "  cicd diff --base HEAD~1 --stack prod\n"
        "  cicd diff --base origin/main --format markdown > plan-diff.md\n",
    )
    diff_cmd.add_argument("--base", required=True, metavar="REF", help="git ref to compare with")
    diff_cmd.add_argument(
        "--stack", action="append", metavar="STACK", help="only this stack (repeatable)"
    )
    diff_cmd.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="default: text"
    )
    diff_cmd.add_argument(
        "--exit-code", action="store_true", help="exit 1 when any stack changes (like git diff)"
    )
    diff_cmd.add_argument(
        "--root",
        metavar="DIR",
        help="the checkout whose working tree is compared (default: the one cicd runs from)",
    )
    diagram_cmd = offline_command(
        "diagram",
        diagram.run_diagram,
        "Draw a stack's pipelines as they will run: stages in order, parallel actions side by "
        "side, the manual approval, stage conditions (deployment window, alarm bake, "
        "rollback), deploy targets, verification and publication. Mermaid text by default; "
        "SVG or PNG rendered without a browser (mermaidx).",
        "  cicd diagram --stack prod\n  cicd diagram --stack prod --format svg --output prod.svg\n",
    )
    diagram_cmd.add_argument("--stack", metavar="STACK", help="the Pulumi.STACK.yaml")
    diagram_cmd.add_argument(
        "--format", choices=("mermaid", "svg", "png"), default="mermaid", help="default: mermaid"
    )
    diagram_cmd.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE (needed for png on a terminal)"
    )
    diagram_cmd.add_argument(
        "--readme",
        metavar="FILE",
        help="rewrite every stack's Mermaid block in FILE between its markers (make diagrams)",
    )


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


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] = _utc_now,
    connect: Connect = aws.connect,
    open_url: Opener = _open_in_browser,
) -> int:
    """Run `cicd` with `argv` (default: sys.argv[1:]); returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    try:
        offline: OfflineHandler | None = getattr(args, "offline_handler", None)
        if offline is not None:
            return offline(args, out, err)
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
