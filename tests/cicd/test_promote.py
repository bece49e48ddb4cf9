"""`cicd promote` to a pipeline that builds from GitHub: moto pipelines for dev and staging,
tag discovery stubbed. The target is looked up first: whether it is promoted decides the rest
(promoted targets: test_promote_release.py)."""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, MotoWorld, expect_discovery, sha


def _two_stages(world: MotoWorld, **staging_options: object) -> tuple[str, str]:
    dev = world.create_pipeline("shop", "dev")
    staging = world.create_pipeline("shop", "staging", **staging_options)
    expect_discovery(
        world.tagging, stage="staging", service=None, found=[(staging, "shop", "staging")]
    )
    expect_discovery(world.tagging, stage="dev", service="shop", found=[(dev, "shop", "dev")])
    return dev, staging


def test_promote_starts_the_target_at_the_newest_commit_that_succeeded_upstream(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev, staging = _two_stages(world)
    world.record(dev, commit=1, minutes_ago=90)
    world.record(dev, commit=2, message="Good change", minutes_ago=60)
    world.record(dev, commit=3, status="Failed", minutes_ago=30)
    world.record(dev, commit=4, status="InProgress", minutes_ago=1)
    world.record(staging, commit=1, minutes_ago=80)

    result = cli("promote", "--from", "dev", "--to", "staging", clients=world.clients())

    assert result.code == 0, result.err
    assert world.started == [
        {
            "name": staging,
            "sourceRevisions": [
                {"actionName": "GitHub", "revisionType": "COMMIT_ID", "revisionValue": sha(2)}
            ],
        }
    ]
    assert f'commit {sha(2)[:7]} "Good change") from dev to staging' in result.out
    assert (
        f"shop-staging-pipeline builds from GitHub, so it rebuilds commit {sha(2)[:7]} itself; "
        "it does not deploy what dev built."
    ) in result.out
    assert "Started release" in result.out and "shop-staging-pipeline (service shop" in result.out


def test_promote_refuses_when_nothing_succeeded_upstream(world: MotoWorld, cli: CliRunner) -> None:
    dev, _ = _two_stages(world)
    world.record(dev, commit=1, status="Failed")

    result = cli("promote", "--from", "dev", "--to", "staging", clients=world.clients())

    assert result.code == 3
    assert "cicd: nothing to promote: shop-dev-pipeline has no successful release" in result.err
    assert world.started == []


def test_promote_refuses_when_the_target_already_runs_that_commit(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev, staging = _two_stages(world)
    world.record(dev, commit=5)
    world.record(staging, commit=5)

    result = cli("promote", "--from", "dev", "--to", "staging", clients=world.clients())

    assert result.code == 3
    assert f"shop-staging-pipeline already runs commit {sha(5)[:7]}" in result.err
    assert world.started == []


def test_promote_refuses_between_pipelines_of_different_repositories(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev, _ = _two_stages(world, repository="acme/other")
    world.record(dev, commit=5)

    result = cli("promote", "--from", "dev", "--to", "staging", clients=world.clients())

    assert result.code == 3
    assert (
        "shop-dev-pipeline builds acme/shop but shop-staging-pipeline builds acme/other"
        in result.err
    )


def test_promote_with_service_looks_up_both_stages_for_that_service(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev = world.create_pipeline("billing", "dev")
    staging = world.create_pipeline("billing", "staging")
    expect_discovery(
        world.tagging, stage="staging", service="billing", found=[(staging, "billing", "staging")]
    )
    expect_discovery(world.tagging, stage="dev", service="billing", found=[(dev, "billing", "dev")])
    world.record(dev, commit=8)

    result = cli(
        "promote",
        "--service",
        "billing",
        "--from",
        "dev",
        "--to",
        "staging",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    releases = cli("releases", "--pipeline", staging, "--json", clients=world.clients())
    assert json.loads(releases.out)[0]["commit"] == sha(8)


def test_promote_with_a_commit_starts_the_target_at_that_commit_if_it_succeeded_upstream(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev, _staging = _two_stages(world)
    world.record(dev, commit=1, minutes_ago=90)
    world.record(dev, commit=2, minutes_ago=60)

    result = cli(
        "promote",
        "--from",
        "dev",
        "--to",
        "staging",
        "--commit",
        sha(1)[:7],
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"][0]["revisionValue"] == sha(1)


def test_promote_with_a_commit_that_never_succeeded_upstream_refuses(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev, _ = _two_stages(world)
    world.record(dev, commit=1, status="Failed")

    result = cli(
        "promote", "--from", "dev", "--to", "staging", "--commit", sha(1), clients=world.clients()
    )

    assert result.code == 3
    assert f"cicd: commit {sha(1)} never succeeded in shop-dev-pipeline" in result.err
    assert world.started == []


def test_promote_to_the_same_stage_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("promote", "--from", "dev", "--to", "dev")

    assert (result.code, result.err) == (
        2,
        "cicd: --from and --to are both dev: nothing to promote\n",
    )


def test_promote_to_an_unknown_stage_is_a_usage_error_listing_the_stages(cli: CliRunner) -> None:
    result = cli("promote", "--from", "dev", "--to", "qa")

    assert result.code == 2
    assert (
        "argument --to: invalid choice: 'qa' (choose from 'dev', 'staging', 'prod')" in result.err
    )


def test_promote_between_pipelines_named_on_the_command_line_needs_no_tag_lookup(
    world: MotoWorld, cli: CliRunner
) -> None:
    dev = world.create_pipeline("shop", "dev")
    staging = world.create_pipeline("shop", "staging")
    world.record(dev, commit=3)

    result = cli(
        "promote", "--from-pipeline", dev, "--to-pipeline", staging, clients=world.clients()
    )

    assert result.code == 0, result.err
    assert world.started[0]["name"] == staging
    assert world.started[0]["sourceRevisions"][0]["revisionValue"] == sha(3)
    assert f"from {dev} to staging." in result.out


def test_promote_without_a_source_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("promote", "--to", "prod")

    assert (result.code, result.err) == (
        2,
        "cicd: promote from where? pass --from dev|staging|prod, or --from-pipeline NAME\n",
    )
