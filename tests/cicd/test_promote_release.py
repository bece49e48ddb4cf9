"""`cicd promote` to a promoted pipeline: prod deploys exactly the release staging published.

moto holds prod's pipeline (Source: the S3 release object) and staging's versioned release
bucket with real zips and manifests; tag discovery is stubbed, and only for prod: a stubbed
client fails on any call it was not told to expect, so these tests also prove that promote never
looks up staging's pipeline (which may be in another account).
"""

from __future__ import annotations

import pytest

from cicd.aws.manifests import MIN_FETCH_BYTES, TAIL_BYTES
from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    CliRunner,
    MotoWorld,
    ReleaseBucket,
    expect_discovery,
    manifest,
    release_zip,
    sha,
)

PROD = "web-prod-pipeline"
WHERE = f"s3://{RELEASE_BUCKET}/releases/web/release.zip"


@pytest.fixture
def bucket(world: MotoWorld) -> ReleaseBucket:
    return world.release_bucket()


def _prod(world: MotoWorld, promotes_from: str | None = "staging") -> str:
    name = world.create_promoted_pipeline("web", "prod", promotes_from=promotes_from)
    found = [(name, "web", "prod", promotes_from)] if promotes_from else [(name, "web", "prod")]
    expect_discovery(world.tagging, stage="prod", service="web", found=found)
    return name


def _promote(cli: CliRunner, world: MotoWorld, *extra: str, source: str = "staging"):
    return cli(
        "promote", "--service", "web", "--from", source, "--to", "prod", *extra,
        clients=world.clients(),
    )  # fmt: skip


def _started_on(version: str) -> list[dict[str, object]]:
    return [
        {
            "name": PROD,
            "sourceRevisions": [
                {
                    "actionName": "Release",
                    "revisionType": "S3_OBJECT_VERSION_ID",
                    "revisionValue": version,
                }
            ],
        }
    ]


def test_promote_with_a_commit_staging_never_published_refuses_and_starts_nothing(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    bucket.publish(1)
    newest = bucket.publish(2, message="Faster search")

    result = _promote(cli, world, "--commit", sha(3))

    assert result.code == 3
    first, hint = result.err.splitlines()
    assert first.startswith(
        f"cicd: commit {sha(3)} was never published by staging: none of the 2 newest releases "
        f"at {WHERE} was built from it (newest is release {newest[:12]} (commit {sha(2)[:7]} "
        '"Faster search"), published '
    )
    assert hint.startswith("hint: staging publishes a commit only once its release there succeeded")
    assert world.started == []


def test_promote_with_a_proven_commit_starts_prod_on_that_releases_object_version(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    bucket.publish(1)
    proven = bucket.publish(2, message="Add basket")
    bucket.publish(3)

    result = _promote(cli, world, "--commit", sha(2)[:8])

    assert result.code == 0, result.err
    assert world.started == _started_on(proven)
    lines = result.out.splitlines()
    assert lines[0] == (
        f'Promoting release {proven[:12]} (commit {sha(2)[:7]} "Add basket") from staging to prod.'
    )
    assert lines[1].startswith(f"  object version {proven} of {WHERE}, published ")
    assert lines[1].endswith(f"built by web-staging-pipeline from acme/web@{sha(2)[:7]}")
    assert lines[2].startswith("Started release ") and lines[2].endswith(
        f"of {PROD} (service web, stage prod)."
    )


def test_promote_without_a_commit_starts_prod_on_the_newest_published_release(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    prod = _prod(world)
    older = bucket.publish(1)
    newest = bucket.publish(2)
    world.record(prod, version=older)

    result = _promote(cli, world)

    assert result.code == 0, result.err
    assert world.started == _started_on(newest)


def test_promote_refuses_when_prod_already_runs_that_release(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    prod = _prod(world)
    bucket.publish(1)
    newest = bucket.publish(2, message="Faster search")
    world.record(prod, version=newest, minutes_ago=30)
    world.record(prod, version=newest, status="Failed", minutes_ago=10)

    result = _promote(cli, world)

    assert result.code == 3
    assert result.err.startswith(
        f'cicd: {PROD} already runs release {newest[:12]} (commit {sha(2)[:7]} "Faster search") '
        "(execution "
    )
    assert "the release you asked to promote\n" in result.err
    assert world.started == []


def test_promote_of_an_older_release_than_the_live_one_is_allowed(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    prod = _prod(world)
    older = bucket.publish(1)
    newest = bucket.publish(2)
    world.record(prod, version=newest)

    result = _promote(cli, world, "--commit", sha(1))

    assert result.code == 0, result.err
    assert world.started == _started_on(older)


def test_promote_refuses_when_staging_published_nothing(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)

    result = _promote(cli, world)

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: nothing to promote: staging has published no release to {WHERE}\n"
    )


def test_promote_from_a_stage_the_target_does_not_promote_from_refuses(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    bucket.publish(1)

    result = _promote(cli, world, source="dev")

    assert (result.code, result.err) == (
        3,
        f"cicd: {PROD} promotes from staging, not from dev (tag cicd:promotes-from)\n"
        "hint: promote to prod from staging: `cicd promote --from staging --to prod`\n",
    )
    assert world.started == []


def test_promote_to_a_promoted_pipeline_without_the_promotes_from_tag_refuses(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, promotes_from=None)
    bucket.publish(1)

    result = _promote(cli, world)

    assert result.code == 3
    assert result.err.startswith(
        f"cicd: {PROD} deploys published releases but carries no cicd:promotes-from tag"
    )


def test_promote_refuses_when_the_newest_release_has_a_malformed_manifest(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    bucket.publish(1)
    broken = bucket.publish(2, body=release_zip({"schema": 1, "service": "web"}))

    result = _promote(cli, world)

    assert result.code == 3
    assert result.err.splitlines()[0] == (
        f"cicd: release manifest of {WHERE} version {broken}: 'commit' must be a non-empty "
        "string, got missing"
    )
    assert world.started == []


def test_promote_of_a_commit_skips_an_unreadable_newer_release_and_says_so(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    proven = bucket.publish(1)
    broken = bucket.publish(2, body=b"not a zip")

    result = _promote(cli, world, "--commit", sha(1))

    assert result.code == 0, result.err
    assert world.started == _started_on(proven)
    assert result.err == (
        "cicd: skipping a release whose manifest is unreadable: release manifest of "
        f"{WHERE} version {broken}: not a zip archive (File is not a zip file)\n"
    )


def test_promote_refuses_a_release_built_for_another_service(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    bucket.publish(1, body=release_zip(manifest(1, service="thumbnailer")))

    result = _promote(cli, world)

    assert result.code == 3
    assert f"was built for service thumbnailer, but {PROD} deploys web" in result.err


def test_promote_reads_only_the_end_of_each_release_and_the_manifest(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    versions = [bucket.publish(n) for n in (1, 2, 3)]

    result = _promote(cli, world, "--commit", sha(1))

    assert result.code == 0, result.err
    assert {get["VersionId"] for get in bucket.gets} == set(versions)
    assert all(get["Range"] for get in bucket.gets)
    fetched = sum(get["bytes"] for get in bucket.gets)
    assert fetched <= 3 * (TAIL_BYTES + MIN_FETCH_BYTES)
    assert fetched < bucket.size(versions[0]) / 10


def test_release_refuses_on_a_promoted_pipeline_and_points_at_promote(
    world: MotoWorld, cli: CliRunner
) -> None:
    world.create_promoted_pipeline("web", "prod")

    result = cli("release", "--pipeline", PROD, clients=world.clients())

    assert (result.code, result.err) == (
        3,
        f"cicd: {PROD} deploys releases another stage published; it builds nothing itself\n"
        "hint: deploy a published release with `cicd promote` (`cicd status` shows the one "
        "waiting)\n",
    )


def test_promote_to_a_pipeline_named_on_the_command_line_needs_no_tag_lookup(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    prod = world.create_promoted_pipeline("web", "prod")
    newest = bucket.publish(1)

    result = cli("promote", "--from", "staging", "--to-pipeline", prod, clients=world.clients())

    assert result.code == 0, result.err
    assert world.started == _started_on(newest)
    assert "from staging to prod." in result.out


def test_promote_to_a_named_pipeline_still_checks_the_stage_it_promotes_from(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    prod = world.create_promoted_pipeline("web", "prod")
    bucket.publish(1)

    result = cli("promote", "--from", "dev", "--to-pipeline", prod, clients=world.clients())

    assert result.code == 3
    assert f"cicd: {PROD} promotes from staging, not from dev" in result.err


def test_promote_from_a_pipeline_to_a_promoted_target_is_a_usage_error_naming_the_stage(
    world: MotoWorld, cli: CliRunner
) -> None:
    prod = world.create_promoted_pipeline("web", "prod")

    result = cli(
        "promote",
        "--from-pipeline",
        "web-staging-pipeline",
        "--to-pipeline",
        prod,
        clients=world.clients(),
    )

    assert result.code == 2
    assert result.err.startswith(
        f"cicd: {PROD} deploys the releases published to {WHERE}, not a pipeline's: pass "
        "--from STAGE (its cicd:promotes-from tag says staging)\n"
    )
