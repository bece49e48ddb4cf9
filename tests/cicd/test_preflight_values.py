"""The preflight's lines and findings in the cases test_preflight.py does not pin whole: no
deployment window, no release to promote, a release built for another service.

The helpers are test_preflight.py's (prod promoted from staging, in moto; release 2 waits).
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    CliRunner,
    MotoWorld,
    ReleaseBucket,
    manifest,
    release_zip,
    sha,
)
from tests.cicd.test_preflight import PROD, _preflight, _prod, _releases, bucket

__all__ = ["bucket"]  # the fixture, used by name

WHERE = f"s3://{RELEASE_BUCKET}/releases/web/release.zip"


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


def test_a_release_built_for_another_service_is_a_blocking_release_finding(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=None, approval=False)
    live = bucket.publish(1)
    world.record(PROD, version=live)
    other = bucket.publish(2, body=release_zip(manifest(2, service="thumbnailer")))

    result = _preflight(cli, world, "--json")

    assert result.code == 3
    [finding] = json.loads(result.out)["findings"]
    assert finding == {
        "check": "release",
        "blocking": True,
        "reason": f'release {other[:12]} (commit {sha(2)[:7]} "Change 2") at {WHERE} was built '
        f"for service thumbnailer, but {PROD} deploys web",
        "hint": "the release location is shared by mistake: check the stacks' release locations",
    }
