"""`cicd rollback` and `cicd info` with runtime config: the deploy records say which config
versions a release ran with, and which releases contracted the schema.

CodePipeline is stubbed (moto has no GetPipelineState or RollbackStage); the records and
release manifests are real objects in moto's S3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cicd.decide.rollback import plan_rollback
from cicd.model.release import Release
from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import (
    CliRunner,
    MotoWorld,
    StubbedAws,
    execution,
    execution_id,
    manifest,
    release_zip,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

STAGING = "web-staging-pipeline"
PROD = "web-prod-pipeline"
BUCKET = "web-staging-artifacts"


def _with_variables(
    aws: StubbedAws, pipeline: str, n: int, kind: str = "code", note: str = "-", **options: Any
) -> None:
    document = execution(n, **options)
    document["pipelineExecution"]["pipelineName"] = pipeline
    document["pipelineExecution"]["variables"] = [
        {"name": "RELEASE_KIND", "resolvedValue": kind},
        {"name": "RELEASE_NOTE", "resolvedValue": note},
    ]
    aws.codepipeline.add_response(
        "get_pipeline_execution",
        document,
        {"pipelineName": pipeline, "pipelineExecutionId": execution_id(n)},
    )


def _staging(world: MotoWorld, history: list[dict[str, Any]]) -> StubbedAws:
    aws = StubbedAws({"s3": world.s3})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
    aws.expect_state(STAGING, stage_state("Deploy", 5, "Succeeded"))
    aws.expect_history(STAGING, history, 100)
    return aws


def _records(world: MotoWorld, *records: dict[str, Any]) -> None:
    fakes.write_records(world.s3, BUCKET, STAGING, records)


def _no_configure(
    aws: StubbedAws, pipeline: str, n: int, details: list[dict[str, Any]] | None = None
) -> None:
    """The execution's actions, asked for when its record file is gone."""
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": details or []},
        {
            "pipelineName": pipeline,
            "filter": {"pipelineExecutionId": execution_id(n)},
            "maxResults": 100,
        },
    )


def _configure_outputs(n: int, **outputs: str) -> list[dict[str, Any]]:
    return [
        {
            "pipelineExecutionId": execution_id(n),
            "actionExecutionId": f"configure-{n}",
            "stageName": "Deploy",
            "actionName": "Configure",
            "status": "Succeeded",
            "output": {"outputVariables": outputs},
        }
    ]


def _rollback_to(aws: StubbedAws, pipeline: str, n: int) -> None:
    aws.codepipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(99)},
        {
            "pipelineName": pipeline,
            "stageName": "Deploy",
            "targetPipelineExecutionId": execution_id(n),
        },
    )


HISTORY = [
    summary(5, commit=5, message="Search v2", minutes_ago=10),
    summary(4, commit=4, status="Failed", minutes_ago=20),
    summary(3, commit=3, message="Add basket", minutes_ago=30),
]


def _versions(n: int, **versions: int) -> dict[str, Any]:
    return fakes.record(
        execution_id(n), pipeline=STAGING, path="/web/staging", versions=versions, commit=sha(n)
    )


def test_the_plan_shows_the_config_versions_now_and_after_and_rolls_back(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    _records(
        world,
        _versions(5, DATABASE_URL=4, FEATURE_X=7, SEARCH_V2=1),
        _versions(3, DATABASE_URL=3, FEATURE_X=7, OLD_FLAG=2),
    )
    _no_configure(aws, STAGING, 4)  # 4 failed before Deploy: no record, no Configure
    _rollback_to(aws, STAGING, 3)

    result = cli("rollback", "--pipeline", STAGING, "--yes", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    assert result.out.splitlines()[:9] == [
        f"Roll back Deploy of {STAGING}",
        f'  from 00000005 (commit {sha(5)[:7]} "Search v2")',
        f'  to   00000003 (commit {sha(3)[:7]} "Add basket")',
        "Code and config go back together: AWS re-runs Deploy with the variables and artifacts "
        "of 00000003, and its Configure step re-pins the config versions 00000003 ran with "
        "(/web/staging):",
        "  KEY           NOW      AFTER",
        "  DATABASE_URL  v4       v3",
        "  FEATURE_X     v7       v7",
        "  OLD_FLAG      not set  v2",
        "  SEARCH_V2     v1       not set",
    ]
    assert result.err == ""


def test_the_rollback_json_names_both_sets_of_config_versions(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    _records(world, _versions(5, DATABASE_URL=4), _versions(3, DATABASE_URL=3))
    _no_configure(aws, STAGING, 4)
    _rollback_to(aws, STAGING, 3)

    result = cli("rollback", "--pipeline", STAGING, "--yes", "--json", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("rollback", document)
    assert document["config"] == {
        "path": "/web/staging",
        "current": [{"name": "/web/staging/DATABASE_URL", "version": 4}],
        "target": [{"name": "/web/staging/DATABASE_URL", "version": 3}],
    }
    assert document["crossesContracting"] == []


def test_a_rollback_across_a_release_that_contracted_the_schema_is_refused(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    # 4 failed in Deploy after its release task had dropped a column: the schema is contracted.
    contracting = {**_versions(4), "contracts_schema": True}
    _records(world, _versions(5), contracting, _versions(3))

    result = cli("rollback", "--pipeline", STAGING, "--yes", clients=aws.clients())

    aws.verify()  # no RollbackStage was expected
    assert result.code == 3
    assert result.err.splitlines() == [
        f"cicd: rolling {STAGING} back to 00000003 crosses a release that contracted the "
        f'database schema: 00000004 (commit {sha(4)[:7]} "Change 4") (contracts_schema: true in '
        "its deploy record); a rollback restores the older code, not the older schema, and that "
        "code may still use what was dropped or renamed",
        "hint: roll forward with a fix instead (`cicd release` / `cicd promote`), or pass "
        "--force if the older code works with the current schema (docs/app-repository.md, "
        "expand/contract)",
    ]


def test_force_rolls_back_across_it_and_says_so(world: MotoWorld, cli: CliRunner) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    _records(world, {**_versions(5), "contracts_schema": True}, _versions(3))
    _no_configure(aws, STAGING, 4)
    _rollback_to(aws, STAGING, 3)

    result = cli(
        "rollback", "--pipeline", STAGING, "--yes", "--force", "--json", clients=aws.clients()
    )

    aws.verify()
    assert result.code == 0, result.err
    assert result.err == (
        "cicd: --force: rolling back across 00000005, which contracted the schema\n"
    )
    assert json.loads(result.out)["crossesContracting"] == [execution_id(5)]


def test_a_record_that_cannot_be_read_stops_the_rollback_unless_forced(cli: CliRunner) -> None:
    def stubbed() -> StubbedAws:
        aws = StubbedAws()
        fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
        aws.expect_state(STAGING, stage_state("Deploy", 5, "Succeeded"))
        aws.expect_history(STAGING, HISTORY[:1] + HISTORY[2:], 100)
        _with_variables(aws, STAGING, 5, commit=5)
        _with_variables(aws, STAGING, 3, commit=3)
        for n in (5, 3):
            aws.stub("s3").add_client_error(
                "get_object",
                service_error_code="AccessDenied",
                service_message="Access Denied",
                http_status_code=403,
                expected_params={
                    "Bucket": BUCKET,
                    "Key": f"deploy-records/{STAGING}/{execution_id(n)}.json",
                },
            )
        return aws

    refused_aws = stubbed()
    refused = cli("rollback", "--pipeline", STAGING, "--yes", clients=refused_aws.clients())
    forced_aws = stubbed()
    _rollback_to(forced_aws, STAGING, 3)
    forced = cli(
        "rollback", "--pipeline", STAGING, "--yes", "--force", clients=forced_aws.clients()
    )

    refused_aws.verify()
    forced_aws.verify()
    where = f"s3://{BUCKET}/deploy-records/{STAGING}/{execution_id(5)}.json"
    assert refused.code == 3
    assert refused.err.startswith(
        f"cicd: cannot tell whether rolling {STAGING} back to 00000003 crosses a release that "
        f"contracted the database schema (00000005: unknown (needs s3:GetObject on {where}))\n"
    )
    assert "  which versions is unknown: 00000003: unknown (needs s3:GetObject" in refused.out
    assert forced.code == 0, forced.err
    assert forced.err.startswith("cicd: --force: rolling back across 00000005, which may have")


def test_a_promoted_release_without_a_record_is_checked_by_its_manifest(
    world: MotoWorld, cli: CliRunner
) -> None:
    bucket = world.release_bucket()
    v3 = bucket.publish(3)
    v5 = bucket.publish(
        5, body=release_zip(manifest(5, message="Drop column", contracts_schema=True))
    )
    aws = StubbedAws({"s3": world.s3})
    aws.expect_promoted_pipeline("web", "prod")  # a stack from before runtime config
    aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    aws.expect_history(PROD, [summary(5, version=v5), summary(3, version=v3)], 100)

    result = cli("rollback", "--pipeline", PROD, "--yes", clients=aws.clients())

    aws.verify()
    assert result.code == 3
    assert result.err.startswith(
        f"cicd: rolling {PROD} back to 00000003 crosses a release that contracted the database "
        f'schema: 00000005 (commit {sha(5)[:7]} "Drop column") (contracts_schema: true in its '
        "release manifest)"
    )


def test_after_a_config_release_rollback_goes_to_the_release_before_it_of_the_same_commit(
    world: MotoWorld, cli: CliRunner
) -> None:
    history = [
        summary(6, commit=3, minutes_ago=5),  # config: set FEATURE_X
        summary(5, commit=3, minutes_ago=10),  # the code release of commit 3
        summary(4, commit=2, minutes_ago=20),
    ]
    aws = StubbedAws({"s3": world.s3})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
    aws.expect_state(STAGING, stage_state("Deploy", 6, "Succeeded"))
    aws.expect_history(STAGING, history, 100)
    _with_variables(aws, STAGING, 6, "config", f"config: set FEATURE_X by {fakes.CALLER}", commit=3)
    _with_variables(aws, STAGING, 5, commit=3)
    _records(world, _versions(6, FEATURE_X=8), _versions(5, FEATURE_X=7))
    _rollback_to(aws, STAGING, 5)

    result = cli("rollback", "--pipeline", STAGING, "--yes", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    assert result.out.splitlines()[1:3] == [
        f'  from 00000006 (commit {sha(3)[:7]} "Change 3", config: set FEATURE_X by {fakes.CALLER})',
        f'  to   00000005 (commit {sha(3)[:7]} "Change 3")',
    ]
    assert "  FEATURE_X  v8   v7" in result.out


def _release(n: int, commit: int, kind: str | None = None) -> Release:
    return Release(execution_id(n), "Succeeded", commit=sha(commit), kind=kind)


def test_without_config_releases_the_previous_release_is_still_of_another_commit() -> None:
    plan = plan_rollback(
        "p", [_release(6, 3, "code"), _release(5, 3, "code"), _release(4, 2, "code")]
    )

    assert plan.target.execution_id == execution_id(4)


def test_a_rollback_to_the_same_commit_is_refused_only_when_neither_side_changed_config() -> None:
    history = [_release(6, 3, "config"), _release(5, 3, "code")]

    allowed = plan_rollback("p", history, history[1])

    assert allowed.target.execution_id == execution_id(5)
    with pytest.raises(Exception, match="rolling back to it changes nothing"):
        plan_rollback("p", [_release(6, 3, "code"), _release(5, 3, "code")], _release(5, 3, "code"))


def test_info_shows_the_config_versions_a_release_ran_with_and_whether_it_contracts(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = StubbedAws({"s3": world.s3})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
    aws.expect_history(STAGING, [summary(5, commit=5, rollback_of=3)], 100)
    _with_variables(aws, STAGING, 5, commit=5)
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": STAGING,
            "filter": {"pipelineExecutionId": execution_id(5)},
            "maxResults": 100,
        },
    )
    _records(
        world,
        {
            **_versions(5, DATABASE_URL=3, FEATURE_X=7),
            "contracts_schema": True,
            "rollback_of": execution_id(3),
            "config": {
                "path": "/web/staging",
                "source": f"rollback:{execution_id(3)}",
                "parameters": [
                    {"name": "/web/staging/FEATURE_X", "version": 7},
                    {"name": "/web/staging/DATABASE_URL", "version": 3},
                ],
            },
        },
    )

    result = cli("info", "--pipeline", STAGING, clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    assert (
        "Config:    /web/staging, the versions 00000003 ran with: DATABASE_URL v3, FEATURE_X v7\n"
        "Schema:    this release contracts the schema: `cicd rollback` refuses to cross it "
        "without --force\n"
    ) in result.out
    assert "Kind:      code\n" in result.out


def test_info_json_carries_the_deploy_record_and_never_a_value(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = StubbedAws({"s3": world.s3})
    fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
    aws.expect_history(STAGING, [summary(5, commit=5)], 100)
    _with_variables(aws, STAGING, 5, "config", "config: set A by someone", commit=5)
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": STAGING,
            "filter": {"pipelineExecutionId": execution_id(5)},
            "maxResults": 100,
        },
    )
    _records(world, _versions(5, A=2))

    result = cli("info", "--pipeline", STAGING, "--json", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("info", document)
    assert (document["release"]["kind"], document["release"]["note"]) == (
        "config",
        "config: set A by someone",
    )
    assert document["deployRecord"] == {
        "location": f"s3://{BUCKET}/deploy-records/{STAGING}/{execution_id(5)}.json",
        "kind": "code",
        "note": "-",
        "rollbackOf": None,
        "commit": sha(5),
        "contractsSchema": False,
        "config": {
            "path": "/web/staging",
            "source": "latest",
            "parameters": [{"name": "/web/staging/A", "version": 2}],
        },
    }


def test_an_unreadable_record_is_reported_and_info_still_succeeds(cli: CliRunner) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "staging"))
    aws.expect_history(STAGING, [summary(5, commit=5)], 100)
    _with_variables(aws, STAGING, 5, commit=5)
    aws.codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": STAGING,
            "filter": {"pipelineExecutionId": execution_id(5)},
            "maxResults": 100,
        },
    )
    aws.stub("s3").add_response(
        "get_object",
        {"Body": _Body(b'{"schema": 2}')},
        {"Bucket": BUCKET, "Key": f"deploy-records/{STAGING}/{execution_id(5)}.json"},
    )

    result = cli("info", "--pipeline", STAGING, "--json", clients=aws.clients())

    aws.verify()
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["deployRecord"] is None
    assert document["unknown"] == {
        "deployRecord": f"unreadable deploy record s3://{BUCKET}/deploy-records/{STAGING}/"
        f"{execution_id(5)}.json: 'schema' is 2, this cicd reads 1"
    }


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        return self._data


def test_a_record_the_lifecycle_expired_is_read_from_the_configure_actions_outputs(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    _records(world, _versions(5, DATABASE_URL=4))  # 4's and 3's files have expired
    outputs = {
        "CONFIG_SOURCE": "latest",
        "COMMIT_ID": sha(4),
        "RELEASE_KIND": "code",
        "ROLLBACK_OF": "-",
    }
    # The target's record is read first (the plan), then each crossed one's.
    _no_configure(
        aws,
        STAGING,
        3,
        _configure_outputs(
            3,
            CONFIG_VERSIONS='[["/web/staging/DATABASE_URL", 3]]',
            CONTRACTS_SCHEMA="false",
            **outputs,
        ),
    )
    _no_configure(
        aws,
        STAGING,
        4,
        _configure_outputs(4, CONFIG_VERSIONS="[]", CONTRACTS_SCHEMA="true", **outputs),
    )
    result = cli("rollback", "--pipeline", STAGING, "--yes", clients=aws.clients())

    aws.verify()
    assert result.code == 3
    assert "  DATABASE_URL  v4   v3" in result.out
    assert result.err.startswith(
        f"cicd: rolling {STAGING} back to 00000003 crosses a release that contracted the "
        f'database schema: 00000004 (commit {sha(4)[:7]} "Change 4") (contracts_schema: true in '
        "its Configure action's output variables)"
    )


def test_a_target_that_never_pinned_config_is_refused_with_how_to_redeploy_it(
    world: MotoWorld, cli: CliRunner
) -> None:
    aws = _staging(world, HISTORY)
    _with_variables(aws, STAGING, 5, commit=5)
    _with_variables(aws, STAGING, 3, commit=3)
    _records(world, _versions(5))
    _no_configure(aws, STAGING, 3)

    result = cli("rollback", "--pipeline", STAGING, "--yes", clients=aws.clients())

    aws.verify()  # no RollbackStage
    assert result.code == 3
    assert result.err.splitlines() == [
        f'cicd: 00000003 (commit {sha(3)[:7]} "Add basket") has no successful Configure action '
        "(it ran before this pipeline had runtime config), so a rollback to it cannot re-pin the "
        "config it ran with: its Configure step would stop it",
        f"hint: redeploy that commit instead: `cicd promote ... --commit {sha(3)}` (promoted) or "
        f"`cicd release --commit {sha(3)}`",
    ]
