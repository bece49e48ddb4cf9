"""`cicd`'s argument parser: the table of contents of the commands.

`build_parser` declares the top-level options and asks each command module, in the order of
`cicd --help`, to `register` its subcommands; the modules' own docstrings say what each does.
`command_summaries` is the one-line help of every command, as `cicd --help` lists them.
"""

from __future__ import annotations

import argparse
import textwrap

from cicd import __version__
from cicd.cli import (
    approve,
    config,
    follow,
    freeze,
    info,
    logs,
    metrics,
    offline,
    override,
    promote,
    quarantine,
    releases,
    retry,
    rollback,
    status,
    stop,
)
from cicd.cli import open as open_command
from cicd.cli.options import Commands, Parser, add_aws_options
from cicd.errors import EXIT_CODE_MEANINGS

# In the order `cicd --help` lists them: looking, releasing, answering, holding, undoing,
# inspecting.
COMMAND_MODULES = (
    status,
    releases,
    promote,
    approve,
    quarantine,
    freeze,
    override,
    rollback,
    retry,
    stop,
    info,
    follow,
    logs,
    open_command,
    metrics,
    config,
    offline,
)

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
  cicd freeze -e prod --reason "Black Friday"   no release enters prod's Deploy
  cicd reject -s web 78b3ba1 --reason TEXT      never promote that commit's release
  cicd info -s web -e prod                      one release, whole: actions, tests, approver
  cicd logs -s web -e dev --action unit         a build's logs
  cicd metrics --since 30d                      deployment frequency, lead time, failures
  cicd config set FEATURE_X=on -s web -e prod   set config vars, release the change
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


def _declare() -> tuple[Parser, Commands]:
    parser = Parser(
        prog="cicd",
        description="Heroku-style releases for the GitHub -> CodePipeline V2 pipelines.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cicd {__version__}")
    add_aws_options(parser, None)
    commands = Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser, commands


def build_parser() -> Parser:
    """The whole `cicd` parser: every command's options, and the handler each one runs."""
    return _declare()[0]


def command_summaries() -> dict[str, str]:
    """Each command's line in `cicd --help`, by name."""
    return _declare()[1].summaries
