"""Choosing the execution a command is about by `--commit`: the newest execution of that commit.

The stubs are test_info_logs_open.py's (web staging, execution 9 of commit 9).
"""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner, StubbedAws, execution_id, sha
from tests.cicd.test_info_logs_open import STAGING, _actions, _builds, _reports, _staging


def test_info_with_a_commit_shows_the_newest_execution_of_that_commit(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    aws.expect_execution(STAGING, 9, status="Failed", commit=9, status_summary="unit failed")
    _actions(aws)
    _builds(aws)
    _reports(aws)

    result = cli(
        "info", "-s", "web", "-e", "staging", "--commit", sha(9)[:7], clients=aws.clients()
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"=== Release {execution_id(9)} of {STAGING} (service web, stage staging)"
    )
