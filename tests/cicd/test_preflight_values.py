"""The preflight's window line for a prod without a deployment window.

The helpers are test_preflight.py's (prod promoted from staging, in moto; release 2 waits).
"""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner, MotoWorld, ReleaseBucket, sha
from tests.cicd.test_preflight import PROD, _preflight, _prod, _releases, bucket

__all__ = ["bucket"]  # the fixture, used by name


def test_a_prod_without_a_window_says_deploy_may_start_at_any_time(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=None, approval=False)
    _releases(world, bucket)

    result = _preflight(cli, world)

    assert result.code == 0, result.out + result.err
    assert result.out.splitlines()[:2] == [
        f"Preflight: promoting commit {sha(2)[:7]} to {PROD} (service web, stage prod) is clear.",
        "  window: none (Deploy may start at any time)",
    ]


def test_a_preflight_that_finds_no_release_to_promote_heads_its_lines_with_the_release(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=None, approval=False)
    _releases(world, bucket)

    result = _preflight(cli, world, "--commit", sha(7))

    assert result.code == 3
    assert result.out.splitlines()[0] == (
        f"Preflight: promoting the release to {PROD} (service web, stage prod) would fail "
        "(1 reason)."
    )
