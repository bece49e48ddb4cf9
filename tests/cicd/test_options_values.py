"""Usage errors of the shared options: what a bad number says, and the top-level hint.

argparse puts the text of an ArgumentTypeError after the option's name; `cicd` with an unknown
command hints at `cicd --help` (the commands), a command's bad option at that command's --help.
"""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner


def test_a_limit_that_is_not_a_whole_number_says_so(cli: CliRunner) -> None:
    result = cli("releases", "--limit", "ten")

    assert result.code == 2
    assert result.err.splitlines() == [
        "cicd: releases: argument --limit: 'ten' is not a whole number",
        "hint: `cicd releases --help` lists the options",
    ]


def test_an_interval_that_is_not_a_number_says_it_wants_seconds(cli: CliRunner) -> None:
    result = cli("logs", "--interval", "soon")

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "cicd: logs: argument --interval: 'soon' is not a number of seconds"
    )


def test_an_unknown_command_hints_at_the_list_of_commands(cli: CliRunner) -> None:
    result = cli("deploy")

    assert result.code == 2
    [message, hint] = result.err.splitlines()
    assert message.startswith("cicd: argument COMMAND: invalid choice: 'deploy'")
    assert hint == "hint: `cicd --help` lists the commands"
