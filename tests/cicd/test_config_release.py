"""A config change is a release: `cicd config set/unset` start the pipeline again on what runs
now, with RELEASE_KIND=config and a RELEASE_NOTE; and refuse when they cannot.

moto runs the pipelines (it keeps the variables an execution was started with and reports them
in GetPipelineExecution); Stubber checks the exact StartPipelineExecution request and follows a
release with --wait (moto has no GetPipelineState).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.stub import ANY

from cicd.decide.config import MAX_NOTE, ConfigChange, release_note
from cicd.model.config import ConfigWrite
from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import (
    ACCOUNT,
    CliRunner,
    MotoWorld,
    StubbedAws,
    execution,
    execution_id,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

DEV = "web-dev-pipeline"
PROD = "web-prod-pipeline"
MOTO_CALLER = f"arn:aws:sts::{ACCOUNT}:user/moto"
VERSION = "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"


def _variables(world: MotoWorld, pipeline: str, started: str) -> dict[str, str]:
    found = world.codepipeline.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=started
    )["pipelineExecution"]
    return {v["name"]: v["resolvedValue"] for v in found.get("variables", [])}


def _puts(world: MotoWorld) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    world.ssm.meta.events.register(
        "before-parameter-build.ssm.PutParameter", lambda params, **_: made.append(dict(params))
    )
    return made


def test_set_on_a_github_built_pipeline_rebuilds_the_live_commit_as_a_config_release(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev"))
    world.record(name, commit=2, minutes_ago=90)
    live = world.record(name, commit=3, message="Faster search", minutes_ago=60)
    world.record(name, commit=4, status="Failed", minutes_ago=30)

    result = cli(
        "config", "set", "FEATURE_X=on", "B=2", "--pipeline", name, clients=world.clients()
    )

    assert result.code == 0, result.err
    started = world.started_ids[0]
    assert world.started == [
        {
            "name": name,
            "sourceRevisions": [
                {"actionName": "GitHub", "revisionType": "COMMIT_ID", "revisionValue": sha(3)}
            ],
        }
    ]
    assert _variables(world, name, started) == {
        "RELEASE_KIND": "config",
        "RELEASE_NOTE": f"config: set FEATURE_X, B by {MOTO_CALLER}",
    }
    assert result.out.splitlines()[:5] == [
        "Set FEATURE_X (version 1), B (version 1) in /web/dev.",
        f"Releasing it: started execution {started} of {name} on commit {sha(3)[:7]} (execution "
        f"{live[:8]}), what runs now.",
        f'  RELEASE_KIND=config, RELEASE_NOTE "config: set FEATURE_X, B by {MOTO_CALLER}"',
        f"  {name} builds from GitHub, so this rebuilds and retests that commit: AWS offers no "
        "way to re-run only the Deploy stage with a new input.",
        f"Not following it: `cicd status` shows where it is; `cicd follow --pipeline {name} "
        f"{started[:8]}` follows it.",
    ]


def test_unset_on_a_promoted_pipeline_starts_the_live_release_object_version_again(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    world.record(name, version="older-version", minutes_ago=120)
    world.record(name, version=VERSION, minutes_ago=60)
    fakes.put(world.ssm, "/web/prod/FEATURE_X", "on")

    result = cli(
        "config", "unset", "FEATURE_X", "--pipeline", name, "--json", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"] == [
        {"actionName": "Release", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": VERSION}
    ]
    document = json.loads(result.out)
    assert_documented_shape("config unset", document)
    assert (document["command"], document["executionId"], document["versionId"]) == (
        "config unset",
        world.started_ids[0],
        VERSION,
    )
    assert (document["kind"], document["note"], document["rebuilds"]) == (
        "config",
        f"config: unset FEATURE_X by {MOTO_CALLER}",
        False,
    )
    assert document["changed"] == [
        {"name": "FEATURE_X", "parameter": "/web/prod/FEATURE_X", "type": "String", "version": 2}
    ]


def test_a_promoted_pipeline_with_approval_says_the_config_release_waits_for_it(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    world.record(name, version=VERSION)

    result = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert result.code == 0, result.err
    assert "  It waits for approval before Deploy, like any release of this stage." in result.out
    assert "rebuilds" not in result.out


def test_the_start_request_carries_both_variables_and_a_client_request_token(
    world: MotoWorld, cli: CliRunner
) -> None:
    # Stubbed CodePipeline (exact request); moto's Parameter Store and STS.
    aws = StubbedAws({"ssm": world.ssm, "sts": world.sts})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev"))
    aws.expect_history(DEV, [summary(7, commit=7)], 100)
    aws.codepipeline.add_response(
        "start_pipeline_execution",
        {"pipelineExecutionId": execution_id(8)},
        {
            "name": DEV,
            "variables": [
                {"name": "RELEASE_KIND", "value": "config"},
                {"name": "RELEASE_NOTE", "value": f"config: set A by {MOTO_CALLER}"},
            ],
            "sourceRevisions": [
                {"actionName": "GitHub", "revisionType": "COMMIT_ID", "revisionValue": sha(7)}
            ],
            "clientRequestToken": ANY,
        },
    )

    result = cli("config", "set", "A=1", "--pipeline", DEV, clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err


def test_wait_follows_the_config_release_to_its_end(world: MotoWorld, cli: CliRunner) -> None:
    aws = StubbedAws({"ssm": world.ssm, "sts": world.sts})
    fakes.expect_layout(aws, fakes.promoted_pipeline("web", "prod", approval=False))
    aws.expect_history(PROD, [summary(7, version=VERSION)], 100)
    aws.codepipeline.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": execution_id(8)}, None
    )
    aws.expect_execution(PROD, 8, status="Succeeded", version=VERSION)
    aws.expect_state(PROD, stage_state("Deploy", 8, "Succeeded"))

    result = cli(
        "config", "set", "A=1", "--pipeline", PROD, "--wait", "--json", clients=aws.clients()
    )

    aws.verify()
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("config set", document)
    assert document["followed"] == {
        "outcome": "succeeded",
        "status": "Succeeded",
        "detail": None,
        "stage": None,
    }


def test_a_pipeline_without_the_release_variables_refuses_unless_no_release(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev", variables=False))
    world.record(name, commit=1)
    puts = _puts(world)

    refused = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert (refused.code, puts, world.started) == (3, [], [])
    assert refused.err == (
        f"cicd: {name} declares no RELEASE_KIND and RELEASE_NOTE pipeline variables, so a config "
        "release could not say what it is: its stack predates runtime config\n"
        "hint: run `pulumi up` for this stage to update the pipeline, or pass --no-release to "
        "only write the change (the next release deploys it)\n"
    )

    staged = cli(
        "config", "set", "A=1", "--pipeline", name, "--no-release", clients=world.clients()
    )

    assert staged.code == 0, staged.err
    assert [p["Name"] for p in puts] == ["/web/dev/A"] and world.started == []


def test_a_running_release_in_superseded_mode_is_not_superseded_by_a_config_release(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev", execution_mode="SUPERSEDED"))
    world.record(name, commit=1, minutes_ago=60)
    running = world.record(name, commit=2, status="InProgress", minutes_ago=5)
    puts = _puts(world)

    result = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert (result.code, puts, world.started) == (3, [], [])
    assert result.err.startswith(
        f'cicd: execution {running[:8]} (commit {sha(2)[:7]} "Change 2") of {name} is '
        "InProgress, and the pipeline runs in SUPERSEDED mode: a config release now (of what "
        "runs, not of what is on its way) could supersede it, dropping it\n"
    )
    assert f"`cicd follow --pipeline {name} {running[:8]}`" in result.err


def test_a_queued_pipeline_takes_a_config_release_behind_a_running_one(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev", execution_mode="QUEUED"))
    world.record(name, commit=1, minutes_ago=60)
    world.record(name, commit=2, status="InProgress", minutes_ago=5)

    result = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"][0]["revisionValue"] == sha(1)


def test_with_nothing_released_yet_the_change_waits_for_the_first_release(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev"))

    result = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert (result.code, world.started) == (0, [])
    assert result.out.splitlines()[-1] == (
        f"Not released (nothing runs in {name} yet); the next release of {name} deploys it."
    )


def test_a_start_that_fails_after_the_write_says_the_change_is_written_and_how_to_release_it(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = StubbedAws({"ssm": world.ssm, "sts": world.sts})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev"))
    aws.expect_history(DEV, [summary(7, commit=7)], 100)
    aws.codepipeline.add_client_error(
        "start_pipeline_execution", service_error_code="AccessDeniedException", service_message="no"
    )

    result = cli("config", "set", "A=1", "--pipeline", DEV, clients=aws.clients())

    aws.verify()
    assert result.code == 4
    assert result.err.splitlines() == [
        "cicd: the change is written, but no release was started: access denied: your AWS "
        "identity lacks codepipeline:StartPipelineExecution (AWS said: no)",
        "hint: the next release deploys it; to start one now: `cicd release --pipeline "
        f"web-dev-pipeline --commit {sha(7)}`",
    ]
    assert world.ssm.get_parameter(Name="/web/dev/A")["Parameter"]["Value"] == "1"


def test_releases_and_info_show_the_config_release_with_its_note(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev"))
    world.record(name, commit=3, message="Faster search")
    cli("config", "set", "FEATURE_X=on", "--pipeline", name, clients=world.clients())

    listed = cli("releases", "--pipeline", name, clients=world.clients())
    as_json = json.loads(cli("releases", "--pipeline", name, "--json", clients=world.clients()).out)

    assert listed.code == 0, listed.err
    header, newest, older = listed.out.splitlines()[1:4]
    assert header.split()[:5] == ["ID", "STATUS", "KIND", "COMMIT", "MESSAGE"]
    assert newest.split()[2:6] == ["config", sha(3)[:7], "config:", "set"]
    assert older.split()[2:5] == ["code", sha(3)[:7], "Faster"]
    assert MOTO_CALLER not in newest  # the table keeps what changed; `info` shows who
    assert [(r["kind"], r["note"]) for r in as_json] == [
        ("config", f"config: set FEATURE_X by {MOTO_CALLER}"),
        ("code", None),
    ]


def test_the_release_note_stays_within_a_pipeline_variables_1000_characters() -> None:
    keys = [f"KEY_{n:03d}_{'X' * 30}" for n in range(60)]
    change = ConfigChange(
        "set", tuple(ConfigWrite(k, f"/web/prod/{k}", "v", "String") for k in keys)
    )

    note = release_note(change, fakes.CALLER)
    huge = release_note(change, "arn:" + "x" * 2000)

    assert len(note) <= MAX_NOTE < len(", ".join(keys))
    assert note.startswith(f"config: set {keys[0]}, {keys[1]}, ")
    assert note.endswith(f" more by {fakes.CALLER}")
    shown = note.count("KEY_")
    assert f", +{60 - shown} more by" in note
    assert len(huge) == MAX_NOTE and huge.endswith("…")


def test_a_short_note_names_every_key() -> None:
    change = ConfigChange(
        "unset",
        (ConfigWrite("A", "/p/A", "x", "String"), ConfigWrite("B", "/p/B", "x", "String")),
    )

    assert release_note(change, fakes.CALLER) == f"config: unset A, B by {fakes.CALLER}"


def test_info_of_a_config_release_shows_its_kind_and_note(
    cli: CliRunner,
) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev", variables=True))
    aws.expect_history(DEV, [summary(8, commit=7)], 100)
    document = execution(8, commit=7)
    document["pipelineExecution"]["pipelineName"] = DEV
    document["pipelineExecution"]["variables"] = [
        {"name": "RELEASE_KIND", "resolvedValue": "config"},
        {"name": "RELEASE_NOTE", "resolvedValue": f"config: set A by {fakes.CALLER}"},
    ]
    aws.codepipeline.add_response(
        "get_pipeline_execution",
        document,
        {"pipelineName": DEV, "pipelineExecutionId": execution_id(8)},
    )
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": DEV,
            "filter": {"pipelineExecutionId": execution_id(8)},
            "maxResults": 100,
        },
    )
    aws.stub("s3").add_client_error(
        "get_object",
        service_error_code="NoSuchKey",
        http_status_code=404,
        expected_params={
            "Bucket": "web-dev-artifacts",
            "Key": f"deploy-records/{DEV}/{execution_id(8)}.json",
        },
    )
    # No record file: the Configure action's outputs are asked for; it never ran.
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": DEV,
            "filter": {"pipelineExecutionId": execution_id(8)},
            "maxResults": 100,
        },
    )

    result = cli("info", "--pipeline", DEV, clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    assert f"Kind:      config\nNote:      config: set A by {fakes.CALLER}\n" in result.out
    assert (
        "Config:    no deploy record (the execution did not reach Deploy, or ran before runtime "
        "config)"
    ) in result.out


def test_releases_read_kinds_for_the_newest_30_only_and_say_so(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev"))
    for n in range(32):
        world.record(name, commit=n, minutes_ago=100 - n)
    reads: list[dict[str, Any]] = []
    world.codepipeline.meta.events.register(
        "before-parameter-build.codepipeline.GetPipelineExecution",
        lambda params, **_: reads.append(dict(params)),
    )

    result = cli("releases", "--pipeline", name, "--limit", "32", clients=world.clients())

    assert result.code == 0, result.err
    assert len(reads) == 30
    rows = result.out.splitlines()[2:34]
    assert [row.split()[2] for row in rows] == ["code"] * 30 + ["-"] * 2
    assert result.out.splitlines()[-1] == "KIND is read for the newest 30 only (one call each)."


def test_releases_without_permission_for_the_kinds_still_list_and_say_what_is_missing(
    cli: CliRunner,
) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev"))
    aws.expect_history(DEV, [summary(2, commit=2), summary(1, commit=1)], 15)
    aws.codepipeline.add_client_error(
        "get_pipeline_execution", service_error_code="AccessDeniedException", service_message="no"
    )

    result = cli("releases", "--pipeline", DEV, clients=aws.clients())

    aws.verify()
    assert result.code == 0
    assert [row.split()[2] for row in result.out.splitlines()[2:]] == ["-", "-"]
    assert result.err == (
        "cicd: the kind of each release is unknown (needs codepipeline:GetPipelineExecution)\n"
    )


def test_releases_of_a_pipeline_without_release_variables_make_no_extra_call_and_no_column(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = fakes.create(world, fakes.github_pipeline("web", "dev", variables=False))
    world.record(name, commit=1)
    reads: list[dict[str, Any]] = []
    world.codepipeline.meta.events.register(
        "before-parameter-build.codepipeline.GetPipelineExecution",
        lambda params, **_: reads.append(dict(params)),
    )

    result = cli("releases", "--pipeline", name, clients=world.clients())

    assert (result.code, reads) == (0, [])
    assert "KIND" not in result.out
