"""`cicd freeze` / `unfreeze` naming who froze Deploy only when AWS says who did.

GetPipelineState's `lastChangedBy` may be absent or empty; then the line names nobody (rather
than "by None"). The stubs are test_freeze.py's.
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, StubbedAws, execution_id, expect_discovery
from tests.cicd.test_freeze import PROD, _enable, _prod, deploy_state


def test_an_already_frozen_deploy_without_a_last_changer_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, reason="release train", by=""))

    result = cli("freeze", "-s", "web", "-e", "prod", "--reason", "again", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out == (
        f"{PROD} (service web, stage prod) is already frozen since 2025-05-01 10:00:00 UTC "
        '(2h ago): "release train"; nothing changed.\n'
    )


def test_unfreeze_of_a_deploy_without_a_last_changer_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, by=""))
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"Unfroze Deploy of {PROD} (service web, stage prod), frozen since 2025-05-01 10:00:00 "
        'UTC (2h ago): "Black Friday".'
    )


def test_freeze_json_of_an_already_frozen_deploy_names_the_execution_in_deploy(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, execution=7, status="InProgress"))

    result = cli(
        "freeze", "-s", "web", "-e", "prod", "--reason", "again", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    pipeline = json.loads(result.out)["pipelines"][0]
    assert (pipeline["changed"], pipeline["inDeploy"]) == (False, execution_id(7))


def test_unfreeze_json_names_the_executions_waiting_at_deploy_whether_or_not_it_was_frozen(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, inbound=9))
    _enable(aws, PROD)
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=False, inbound=9))

    unfrozen = cli("unfreeze", "-s", "web", "-e", "prod", "--json", clients=aws.clients())
    not_frozen = cli("unfreeze", "-s", "web", "-e", "prod", "--json", clients=aws.clients())

    assert unfrozen.code == not_frozen.code == 0, unfrozen.err + not_frozen.err
    assert json.loads(unfrozen.out)["pipelines"][0]["waiting"] == [execution_id(9)]
    assert json.loads(not_frozen.out)["pipelines"][0]["waiting"] == [execution_id(9)]


def test_unfreeze_with_several_executions_waiting_names_each_and_says_the_newest_enters(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    state = deploy_state(frozen=True, inbound=9)
    state["inboundExecutions"] = [
        {"pipelineExecutionId": execution_id(n), "status": "InProgress"} for n in (9, 10)
    ]
    aws.expect_state(PROD, state)
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == (
        f"  Executions {execution_id(9)[:8]}, {execution_id(10)[:8]} wait at Deploy's entry; "
        "AWS documents only SUPERSEDED mode, where the newest enters."
    )


def test_freeze_of_a_stage_without_pipelines_says_how_to_find_or_name_one(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(aws.tagging, stage="prod", service=None, found=[])

    result = cli("freeze", "--stage", "prod", "--reason", "incident", clients=aws.clients())

    assert result.code == 5
    assert result.err.splitlines()[1] == (
        "hint: check --region, or name the pipeline with --pipeline NAME"
    )
