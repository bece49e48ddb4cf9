"""The offline commands as `cicd` runs them: `cicd plan`, `cicd diff` and `cicd diagram`.

The release CLI (`cicd`, boto3 only) knows these commands by name; this distribution plugs them
in through its entry point `gh_aws_delivery.cicd:offline`, which is `run`: it parses a command's
own arguments (`build_parser`) and runs it with the streams `cicd` gives. Each command is a
module of this package (`evaluate` for plan, `diff`, `diagram`); `require` refuses, in one line,
an option whose optional package is not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import textwrap
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from typing import TextIO

from cicd.cli.offline import OFFLINE_COMMANDS
from cicd.cli.options import Parser
from cicd.errors import CicdError, ExitCode
from stack.plan.diagram import run_diagram
from stack.plan.diff import run_diff
from stack.plan.evaluate import run_plan

OfflineHandler = Callable[[argparse.Namespace, TextIO, TextIO], int]


def require(command: str, *modules: str) -> None:
    """Refuse, naming the missing modules and the install command, unless all import."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise CicdError(
            f"`cicd {command}` needs {', '.join(missing)}, which is not installed: in a "
            "checkout of the repository run `make install` and use .venv/bin/cicd"
        )


def build_parser() -> Parser:
    """`plan`, `diff` and `diagram` with their options, as `cicd COMMAND` parses them."""
    parser = Parser(prog="cicd", add_help=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def offline_command(name: str, handler: OfflineHandler, summary: str, epilog: str) -> Parser:
        cmd: Parser = sub.add_parser(
            name,
            help=OFFLINE_COMMANDS[name],
            description=textwrap.fill(summary, width=88),
            epilog="examples:\n" + epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(offline_handler=handler)
        return cmd

    plan_cmd = offline_command(
        "plan",
        run_plan,
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
        run_diff,
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
        run_diagram,
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
        "--page",
        "--readme",
        dest="page",
        metavar="FILE",
        help="rewrite every stack's Mermaid block in the Markdown FILE between its markers "
        "(make diagrams)",
    )
    return parser


def run(command: str, argv: list[str], out: TextIO, err: TextIO) -> int:
    """Run `cicd COMMAND ARGV...` (the entry point `cicd` calls); returns the exit code."""
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = build_parser().parse_args([command, *argv])
    except SystemExit as exit_:  # --help, or a usage error argparse printed
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.USAGE)
    require(command, *_optional_modules(args))
    handler: OfflineHandler = args.offline_handler
    return handler(args, out, err)


def _optional_modules(args: argparse.Namespace) -> list[str]:
    """The packages an option needs beyond the platform itself."""
    if args.command == "plan" and args.check:
        return ["guardrails"]
    if args.command == "diagram" and args.format != "mermaid":
        return ["mermaidx"]
    return []
