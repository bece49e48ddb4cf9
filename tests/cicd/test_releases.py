"""`cicd releases` and `cicd release`, against pipelines in moto."""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, MotoWorld, expect_discovery, sha


def test_releases_lists_executions_newest_first_with_commit_message_trigger_and_duration(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")
    world.record(name, commit=1, message="Add basket", minutes_ago=120, duration=330)
    world.record(name, commit=2, message="Fix login\n\nLong body", status="Failed", minutes_ago=60)
    world.record(name, commit=3, trigger="StartPipelineExecution", minutes_ago=5, duration=42)
    expect_discovery(world.tagging, stage="dev", service=None, found=[(name, "shop", "dev")])

    result = cli("releases", "--stage", "dev", clients=world.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "=== shop-dev-pipeline (service shop, stage dev) releases, newest first"
    assert lines[1].split() == [
        "ID",
        "STATUS",
        "COMMIT",
        "MESSAGE",
        "TRIGGER",
        "STARTED",
        "DURATION",
    ]
    assert [line.split()[2] for line in lines[2:]] == [sha(3)[:7], sha(2)[:7], sha(1)[:7]]
    assert "Succeeded" in lines[2] and "StartPipelineExecution" in lines[2] and "42s" in lines[2]
    assert "Failed" in lines[3] and "Fix login" in lines[3] and "Long body" not in lines[3]
    assert (
        "Add basket" in lines[4] and "2025-05-01 10:00:00 UTC" in lines[4] and "5m 30s" in lines[4]
    )


def test_releases_limit_and_json_give_full_ids_and_commits(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")
    world.record(name, commit=1, minutes_ago=30)
    newest = world.record(name, commit=2, message="Ship it", minutes_ago=10, duration=90)

    result = cli("releases", "--pipeline", name, "--limit", "1", "--json", clients=world.clients())

    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {
            "executionId": newest,
            "status": "Succeeded",
            "commit": sha(2),
            "message": "Ship it",
            "trigger": "WebhookV2",
            "startTime": "2025-05-01T11:50:00+00:00",
            "lastUpdateTime": "2025-05-01T11:51:30+00:00",
            "durationSeconds": 90,
            "rollbackTarget": None,
            "versionId": None,
            "manifestProblem": None,
            "kind": None,
            "note": None,
        }
    ]


def test_releases_of_a_new_pipeline_says_there_are_none_yet(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")

    result = cli("releases", "--pipeline", name, clients=world.clients())

    assert (result.code, result.out.splitlines()[-1]) == (
        0,
        "No releases yet: start one with `cicd release`.",
    )


def test_release_starts_the_branch_head_without_source_revisions(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")

    result = cli("release", "--pipeline", name, clients=world.clients())

    assert result.code == 0, result.err
    assert world.started == [{"name": name, "sourceRevisions": []}]
    assert "at the head of main." in result.out
    assert (
        "Not following it: `cicd status` shows where it is; "
        f"`cicd follow --pipeline {name} {world.started_ids[0][:8]}` follows it."
    ) in result.out


def test_release_of_a_commit_passes_it_as_the_github_actions_source_revision(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")

    result = cli("release", "--pipeline", name, "--commit", sha(7).upper(), clients=world.clients())

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"] == [
        {"actionName": "GitHub", "revisionType": "COMMIT_ID", "revisionValue": sha(7)}
    ]
    listed = cli("releases", "--pipeline", name, "--json", clients=world.clients())
    assert json.loads(listed.out)[0]["commit"] == sha(7)


def test_release_expands_an_abbreviated_sha_that_was_released_before(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")
    world.record(name, commit=4)

    result = cli("release", "--pipeline", name, "--commit", sha(4)[:8], clients=world.clients())

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"][0]["revisionValue"] == sha(4)


def test_release_refuses_to_guess_an_abbreviated_sha_never_released(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("shop", "dev")
    world.record(name, commit=4)

    result = cli("release", "--pipeline", name, "--commit", "abcdef1", clients=world.clients())

    assert result.code == 2
    assert "commit abcdef1 was never released by this pipeline" in result.err
    assert "full 40-character SHA" in result.err
    assert world.started == []


def test_release_rejects_a_commit_that_is_not_a_sha_before_calling_aws(cli: CliRunner) -> None:
    result = cli("release", "--pipeline", "shop-dev-pipeline", "--commit", "main")

    assert result.code == 2
    assert result.err.startswith("cicd: --commit 'main' is not a commit SHA")


def test_release_of_an_unknown_pipeline_is_not_found_and_names_the_region(
    world: MotoWorld, cli: CliRunner
) -> None:
    result = cli("release", "--pipeline", "nope-dev-pipeline", clients=world.clients())

    assert result.code == 5
    assert "cicd: pipeline nope-dev-pipeline not found in eu-west-1" in result.err
