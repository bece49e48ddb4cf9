"""`cicd freeze` / `cicd unfreeze` (the Deploy stage's inbound transition) and `cicd status`
showing a frozen Deploy. CodePipeline and tag discovery are stubbed: moto has neither
Disable/EnableStageTransition nor GetPipelineState.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.cicd.aws_fakes import (
    NOW,
    CliRunner,
    StubbedAws,
    execution_id,
    expect_discovery,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

ALICE = "arn:aws:sts::123456789012:assumed-role/release-managers/alice"
PROD = "web-prod-pipeline"


def deploy_state(
    *,
    frozen: bool,
    reason: str | None = "Black Friday",
    by: str = ALICE,
    hours_ago: float = 2,
    execution: int | None = None,
    status: str | None = None,
    inbound: int | None = None,
) -> dict[str, Any]:
    """The Deploy stage of a GetPipelineState answer with its inbound transition."""
    stage = stage_state("Deploy", execution, status)
    transition: dict[str, Any] = {
        "enabled": not frozen,
        "lastChangedBy": by,
        "lastChangedAt": NOW - timedelta(hours=hours_ago),
    }
    if frozen and reason:
        transition["disabledReason"] = reason
    stage["inboundTransitionState"] = transition
    if inbound is not None:
        stage["inboundExecution"] = {
            "pipelineExecutionId": execution_id(inbound),
            "status": "InProgress",
        }
    return stage


def _disable(aws: StubbedAws, pipeline: str, reason: str) -> None:
    aws.codepipeline.add_response(
        "disable_stage_transition",
        {},
        {
            "pipelineName": pipeline,
            "stageName": "Deploy",
            "transitionType": "Inbound",
            "reason": reason,
        },
    )


def _enable(aws: StubbedAws, pipeline: str) -> None:
    aws.codepipeline.add_response(
        "enable_stage_transition",
        {},
        {"pipelineName": pipeline, "stageName": "Deploy", "transitionType": "Inbound"},
    )


def _prod(aws: StubbedAws, service: str = "web") -> str:
    name = f"{service}-prod-pipeline"
    expect_discovery(aws.tagging, stage="prod", service=service, found=[(name, service, "prod")])
    aws.expect_pipeline(service, "prod", targets=[])
    return name


# ---------------------------------------------------------------------------------------------
# freeze


def test_freeze_disables_the_inbound_transition_of_deploy_with_the_reason(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=False, execution=7, status="InProgress"))
    _disable(aws, PROD, "Black Friday (until Monday)")

    result = cli(
        "freeze",
        "--service",
        "web",
        "--stage",
        "prod",
        "--reason",
        "Black Friday (until Monday)",
        clients=aws.clients(),
    )

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"Froze Deploy of {PROD} (service web, stage prod): no release enters it until "
        "`cicd unfreeze --service web --stage prod`.",
        f"  Execution {execution_id(7)[:8]} is in Deploy now and carries on: a freeze holds only "
        "what has not entered.",
    ]


def test_freeze_without_a_service_freezes_every_service_of_the_stage(
    aws: StubbedAws, cli: CliRunner
) -> None:
    pipelines = [(f"{s}-prod-pipeline", s, "prod") for s in ("thumbnailer", "web")]
    expect_discovery(aws.tagging, stage="prod", service=None, found=pipelines)
    for _, service, _ in pipelines:
        aws.expect_pipeline(service, "prod", targets=[])
    for name, _, _ in pipelines:
        aws.expect_state(name, deploy_state(frozen=False))
        _disable(aws, name, "incident 4711")

    result = cli(
        "freeze", "--stage", "prod", "--reason", "incident 4711", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("freeze", document)
    assert [p["pipeline"] for p in document["pipelines"]] == [
        "thumbnailer-prod-pipeline",
        PROD,
    ]
    assert all(p["changed"] for p in document["pipelines"])
    assert document["pipelines"][0]["before"] == {
        "frozen": False,
        "by": ALICE,
        "at": (NOW - timedelta(hours=2)).isoformat(),
        "reason": None,
    }


def test_freeze_of_an_already_frozen_deploy_changes_nothing_and_says_by_whom(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, reason="release train"))

    result = cli("freeze", "-s", "web", "-e", "prod", "--reason", "again", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out == (
        f"{PROD} (service web, stage prod) is already frozen since 2025-05-01 10:00:00 UTC "
        f'(2h ago) by {ALICE}: "release train"; nothing changed.\n'
    )


@pytest.mark.parametrize(
    ("reason", "message", "hint"),
    [
        (
            "deploys paused: see INC_42, thanks",
            "--reason contains characters AWS does not accept for a disabled transition: "
            "',' ':' '_'",
            "allowed characters: letters a-z A-Z, digits 0-9, spaces and ! @ ( ) . * ? -",
        ),
        (
            "x" * 301,
            "--reason is 301 characters; AWS allows at most 300 for a disabled transition",
            "shorten it",
        ),
        (
            "",
            "--reason is empty: a freeze needs a reason (1 to 300 characters)",
            "allowed characters: ",
        ),
    ],
)
def test_freeze_refuses_a_reason_aws_would_reject_before_calling_aws(
    cli: CliRunner, reason: str, message: str, hint: str
) -> None:
    aws = StubbedAws()  # nothing queued: any AWS call would fail with another message

    result = cli("freeze", "-s", "web", "-e", "prod", "--reason", reason, clients=aws.clients())

    assert result.code == 2
    first, second = result.err.splitlines()
    assert first == f"cicd: {message}"
    assert second.startswith(f"hint: {hint}")


def test_freeze_reason_error_lists_only_the_refused_characters(cli: CliRunner) -> None:
    result = cli(
        "freeze",
        "-s",
        "web",
        "-e",
        "prod",
        "--reason",
        "see INC_42, now",
        clients=StubbedAws().clients(),
    )

    assert result.code == 2
    assert result.err.splitlines() == [
        "cicd: --reason contains characters AWS does not accept for a disabled transition: ',' '_'",
        "hint: allowed characters: letters a-z A-Z, digits 0-9, spaces and ! @ ( ) . * ? - (no "
        "_ , : / # or quotes); cicd does not rewrite a reason, so reword it",
    ]


def test_freeze_that_fails_half_way_says_which_pipelines_it_froze(
    aws: StubbedAws, cli: CliRunner
) -> None:
    pipelines = [(f"{s}-prod-pipeline", s, "prod") for s in ("thumbnailer", "web")]
    expect_discovery(aws.tagging, stage="prod", service=None, found=pipelines)
    for _, service, _ in pipelines:
        aws.expect_pipeline(service, "prod", targets=[])
    aws.expect_state("thumbnailer-prod-pipeline", deploy_state(frozen=False))
    _disable(aws, "thumbnailer-prod-pipeline", "incident")
    aws.expect_state(PROD, deploy_state(frozen=False))
    aws.codepipeline.add_client_error(
        "disable_stage_transition", service_error_code="AccessDeniedException"
    )

    result = cli("freeze", "--stage", "prod", "--reason", "incident", clients=aws.clients())

    assert result.code == 4
    assert result.err.splitlines()[0] == (
        "cicd: froze thumbnailer-prod-pipeline before this failed; `cicd unfreeze --stage prod` "
        "undoes it"
    )
    assert "codepipeline:DisableStageTransition" in result.err


# ---------------------------------------------------------------------------------------------
# unfreeze


def test_unfreeze_enables_the_transition_and_says_what_enters(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, inbound=9))
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"Unfroze Deploy of {PROD} (service web, stage prod), frozen since 2025-05-01 10:00:00 "
        f'UTC (2h ago) by {ALICE}: "Black Friday".',
        f"  Execution {execution_id(9)[:8]} waits at Deploy's entry: the newest waiting release "
        "enters now.",
    ]


def test_unfreeze_after_more_than_30_days_warns_that_aws_does_not_resume(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, hours_ago=31 * 24))
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("unfreeze", document)
    assert document["pipelines"][0]["resumes"] is False
    assert result.err == (
        f"cicd: {PROD} was frozen for 31 days: after more than 30 days AWS does not resume by "
        "itself; start the release again (`cicd promote` or `cicd release`)\n"
    )


def test_unfreeze_of_a_deploy_that_is_not_frozen_changes_nothing(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=False))

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out == f"{PROD} (service web, stage prod) is not frozen; nothing changed.\n"


def test_unfreeze_still_enables_when_the_state_cannot_be_read(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.codepipeline.add_client_error(
        "get_pipeline_state", service_error_code="AccessDeniedException"
    )
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith(f"Unfroze Deploy of {PROD} (service web, stage prod).\n")


# ---------------------------------------------------------------------------------------------
# status shows a freeze


def test_status_of_one_pipeline_shows_a_frozen_deploy_with_who_when_and_why(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, deploy_state(frozen=True, execution=3, status="Succeeded"))
    aws.expect_history(PROD, [summary(3, commit=3)], 25)
    aws.codeconnections.add_response(
        "get_connection", {"Connection": {"ConnectionStatus": "AVAILABLE"}}
    )

    result = cli("status", "--pipeline", PROD, clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1:3] == [
        "FROZEN: no release enters Deploy since 2025-05-01 10:00:00 UTC (2h ago) by "
        f'{ALICE}: "Black Friday"',
        f"  `cicd unfreeze --pipeline {PROD}` lifts it",
    ]


def test_status_of_an_unfrozen_deploy_says_nothing_about_a_freeze(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, deploy_state(frozen=False, execution=3, status="Succeeded"))
    aws.expect_history(PROD, [summary(3, commit=3)], 25)
    aws.codeconnections.add_response(
        "get_connection", {"Connection": {"ConnectionStatus": "AVAILABLE"}}
    )

    result = cli("status", "--pipeline", PROD, "--json", clients=aws.clients())

    assert result.code == 0, result.err
    freeze = json.loads(result.out)["pipelines"][0]["freeze"]
    assert freeze == {
        "frozen": False,
        "by": ALICE,
        "at": (NOW - timedelta(hours=2)).isoformat(),
        "reason": None,
    }


def test_status_table_marks_a_frozen_environment_and_says_who_froze_it(
    aws: StubbedAws, cli: CliRunner
) -> None:
    found = [("web-dev-pipeline", "web", "dev"), (PROD, "web", "prod")]
    expect_discovery(aws.tagging, stage=None, service=None, found=found)
    aws.expect_pipeline("web", "dev", targets=[])
    aws.expect_state("web-dev-pipeline", deploy_state(frozen=False))
    aws.expect_history("web-dev-pipeline", [summary(5, commit=5)], 25)
    aws.expect_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, deploy_state(frozen=True, reason="incident 4711"))
    aws.expect_history(PROD, [summary(3, commit=3)], 25)

    result = cli("status", clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].split() == ["web", sha(5)[:7], "Succeeded", sha(3)[:7], "Succeeded", "[frozen]"]
    assert lines[3:6] == [
        "[frozen] no release enters Deploy:",
        f'  web prod: frozen since 2025-05-01 10:00:00 UTC (2h ago) by {ALICE}: "incident 4711"',
        "    cicd unfreeze --service web --stage prod",
    ]


def test_status_table_json_has_the_freeze_and_names_a_state_it_may_not_read(
    aws: StubbedAws, cli: CliRunner
) -> None:
    found = [("web-dev-pipeline", "web", "dev"), (PROD, "web", "prod")]
    expect_discovery(aws.tagging, stage=None, service=None, found=found)
    aws.expect_pipeline("web", "dev", targets=[])
    aws.codepipeline.add_client_error(
        "get_pipeline_state", service_error_code="AccessDeniedException"
    )
    aws.expect_history("web-dev-pipeline", [summary(5, commit=5)], 25)
    aws.expect_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, deploy_state(frozen=True))
    aws.expect_history(PROD, [summary(3, commit=3)], 25)

    result = cli("status", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("status", document)
    dev, prod = document["pipelines"]
    assert (dev["freeze"], dev["unknown"]) == (
        None,
        {"freeze": "unknown (needs codepipeline:GetPipelineState)"},
    )
    assert prod["freeze"]["frozen"] is True and prod["freeze"]["reason"] == "Black Friday"
    assert prod["stages"] is None
