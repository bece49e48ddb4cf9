"""`cicd config set`'s messages and JSON in the cases the config tests check only in part.

The refusal of a change that changes nothing, with its hint; `--stdin` with more than one key;
the JSON of a change that leaves some keys as they were; a release that AWS throttles or refuses
after the write, on a promoted pipeline (whose fix is `cicd promote`, not `cicd release`).
"""

from __future__ import annotations

import json

from cicd.model.config import ConfigSnapshot, DeployRecord
from cicd.model.release import Release
from cicd.render.config import rollback_config_lines
from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import CliRunner, MotoWorld, StubbedAws, execution_id, sha, summary
from tests.cicd.test_config_release import VERSION

DEV = "web-dev-pipeline"
PROD = "web-prod-pipeline"


def test_a_change_that_changes_nothing_is_refused_with_how_to_deploy_the_config_as_it_is(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "dev"))
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")

    result = cli("config", "set", "FEATURE_X=on", "--pipeline", DEV, clients=world.clients())

    assert result.code == 3
    assert result.err.splitlines() == [
        "cicd: nothing to change: FEATURE_X already has that value in /web/dev",
        "hint: a release of what runs now deploys the config as it is (`cicd release` or "
        "`cicd promote`)",
    ]


def test_stdin_with_two_keys_is_a_usage_error_that_says_to_give_one(cli: CliRunner) -> None:
    result = cli("config", "set", "A", "B", "--stdin", "--pipeline", DEV, stdin="x")

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "cicd: --stdin reads the value of one key: give exactly one KEY, without '='"
    )


def test_the_json_of_a_partly_unchanged_set_lists_the_path_and_the_keys_left_alone(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "dev"))
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")

    result = cli(
        "config",
        "set",
        "FEATURE_X=on",
        "OTHER=1",
        "--pipeline",
        DEV,
        "--no-release",
        "--json",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["path"], document["unchanged"]) == ("/web/dev", ["FEATURE_X"])
    assert document["changed"] == [
        {"name": "OTHER", "parameter": "/web/dev/OTHER", "type": "String", "version": 1}
    ]


def _promoted_start_fails(world: MotoWorld, code: str) -> StubbedAws:
    aws = StubbedAws({"ssm": world.ssm, "sts": world.sts})
    fakes.expect_layout(aws, fakes.promoted_pipeline("web", "prod"))
    aws.expect_history(PROD, [summary(7, version=VERSION)], 100)
    aws.codepipeline.add_client_error(
        "start_pipeline_execution", service_error_code=code, service_message="slow down"
    )
    return aws


def test_a_throttled_start_after_the_write_names_the_attempts_and_the_promote_that_releases_it(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _promoted_start_fails(world, "ThrottlingException")

    result = cli("config", "set", "A=1", "--pipeline", PROD, clients=aws.clients())

    aws.verify()
    assert result.code == 4
    assert result.err.splitlines() == [
        "cicd: the change is written, but no release was started: AWS is throttling "
        "StartPipelineExecution: still refused after 8 attempts with backoff",
        f"hint: the next release deploys it; to start one now: `cicd promote --pipeline {PROD}`",
    ]
    assert world.ssm.get_parameter(Name="/web/prod/A")["Parameter"]["Value"] == "1"


def _empty_record(n: int) -> DeployRecord:
    return DeployRecord(
        pipeline=PROD,
        execution_id=execution_id(n),
        kind="release",
        note="-",
        rollback_of=None,
        commit=sha(n),
        contracts_schema=False,
        config=ConfigSnapshot(path="/web/prod", source="latest", parameters=()),
    )


def test_a_rollback_plan_between_releases_without_parameters_says_there_are_none() -> None:
    current = Release(execution_id=execution_id(8), status="Succeeded", commit=sha(8))
    target = Release(execution_id=execution_id(7), status="Succeeded", commit=sha(7))

    lines = rollback_config_lines("/web/prod", current, _empty_record(8), target, _empty_record(7))

    assert lines[1:] == ["  no parameters, now or after"]
