"""`cicd releases --json`: a running release's duration is counted up to now, not to its last
update (which for a running execution is only when CodePipeline last wrote it)."""

from __future__ import annotations

import json

from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import CliRunner, MotoWorld, StubbedAws, summary

STAGING = "web-staging-pipeline"


def test_releases_json_of_a_running_release_counts_its_duration_up_to_now(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "staging")
    aws.expect_history(
        STAGING, [summary(9, status="InProgress", commit=9, minutes_ago=5, duration=60)], 15
    )

    result = cli("releases", "--pipeline", STAGING, "--json", clients=aws.clients())

    assert result.code == 0, result.err
    [release] = json.loads(result.out)
    assert (release["status"], release["durationSeconds"]) == ("InProgress", 300)


def test_releases_of_exactly_as_many_as_kinds_are_read_for_add_no_note(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev"))
    for n in range(30):
        world.record(name, commit=n, minutes_ago=100 - n)

    result = cli("releases", "--pipeline", name, "--limit", "30", clients=world.clients())

    assert result.code == 0, result.err
    rows = result.out.splitlines()[2:]
    assert [row.split()[2] for row in rows] == ["code"] * 30
