"""Following through an approval that stays open for more than one poll: its lines once.

The stubs are test_following.py's (promote of web to prod, execution 9, which stops at the
manual approval); every poll reads the execution and the pipeline state.
"""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner, ReleaseBucket, StubbedAws, execution_id, stage_state
from tests.cicd.test_following import PROD, _at_approval, _promote_started, prod

__all__ = ["prod"]  # the fixture, used by name


def test_through_approval_says_once_that_the_release_waits_however_long_it_waits(
    prod: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = prod
    version = _promote_started(aws, bucket)
    _at_approval(aws, version)
    aws.expect_execution(PROD, 9, status="InProgress", version=version)  # the guide's read
    _at_approval(aws, version)  # still waiting at the next poll: nothing more is said
    aws.expect_execution(PROD, 9, status="Succeeded", version=version)
    aws.expect_state(
        PROD, stage_state("Approval", 9, "Succeeded"), stage_state("Deploy", 9, "Succeeded")
    )

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--wait",
        "--through-approval", "--interval", "5",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out.count("waits for approval") == 1
    assert result.out.endswith(f"Release {execution_id(9)[:8]} of {PROD} succeeded.\n")
    assert cli.sleeps == [5.0, 5.0]
