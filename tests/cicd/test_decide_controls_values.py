"""The exact refusals and picks of `cicd.decide.controls` (`cicd override`, `cicd retry`), on
GetPipelineState documents shaped as AWS returns them: the message and the hint are what the
user reads on stderr, so each is pinned word for word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cicd.decide.controls import (
    check_announced_reason,
    check_stop_reason,
    held_condition,
    retryable_stage,
)
from cicd.errors import Refused, UsageError
from cicd.model.release import Release

PIPELINE = "web-prod-pipeline"
REDEPLOY = "cicd release --service web --stage prod"
A = "aaaaaaaa-1111-2222-3333-444444444444"
B = "bbbbbbbb-1111-2222-3333-444444444444"


def _window_in_progress(**deploy: Any) -> dict[str, Any]:
    """A state whose Deploy window check runs now, with no inbound execution listed."""
    return {
        "stageStates": [
            {
                "stageName": "Test",
                "latestExecution": {"pipelineExecutionId": A, "status": "Succeeded"},
            },
            {
                "stageName": "Deploy",
                "beforeEntryConditionState": {"latestExecution": {"status": "InProgress"}},
                **deploy,
            },
        ]
    }


def test_a_window_check_at_a_deploy_stage_that_never_ran_holds_the_execution_that_passed_test() -> (
    None
):
    # A new pipeline's Deploy has no latestExecution at all: the one that passed Test waits.
    held = held_condition(_window_in_progress(), "window", PIPELINE, redeploy=REDEPLOY)

    assert (held.stage, held.condition_type, held.execution_id) == ("Deploy", "BEFORE_ENTRY", A)


def test_a_window_check_when_the_execution_that_passed_test_is_already_in_deploy_is_refused() -> (
    None
):
    state = _window_in_progress(latestExecution={"pipelineExecutionId": A, "status": "Succeeded"})

    with pytest.raises(Refused) as refused:
        held_condition(state, "window", PIPELINE, redeploy=REDEPLOY)

    assert (refused.value.message, refused.value.hint) == (
        f"the deployment window of Deploy in {PIPELINE} is being evaluated, but AWS does not "
        "say for which execution",
        "override it in the console (the stage's condition), or wait for one execution to be "
        "waiting",
    )


def test_overriding_a_bake_when_none_runs_says_when_the_bake_runs() -> None:
    state = {"stageStates": [{"stageName": "Deploy"}]}

    with pytest.raises(Refused) as refused:
        held_condition(state, "bake", PIPELINE, redeploy=REDEPLOY)

    assert (refused.value.message, refused.value.hint) == (
        f"no bake is in progress in Deploy of {PIPELINE}",
        "the bake (the on-success condition watching the alarms) runs after Deploy's actions "
        "succeed; `cicd status` shows where the release is",
    )


def test_retry_of_an_execution_still_running_says_to_follow_it() -> None:
    with pytest.raises(Refused) as refused:
        retryable_stage({}, Release(A, "InProgress"), PIPELINE)

    assert (refused.value.message, refused.value.hint) == (
        f"nothing to retry in {PIPELINE}: the newest execution (execution aaaaaaaa) is InProgress",
        "`cicd follow` follows it; retry once a stage has failed",
    )


def test_retry_of_a_failed_execution_another_has_superseded_in_its_stage_says_release_again() -> (
    None
):
    state = {
        "stageStates": [
            {
                "stageName": "Deploy",
                "latestExecution": {"pipelineExecutionId": B, "status": "InProgress"},
            }
        ]
    }

    with pytest.raises(Refused) as refused:
        retryable_stage(state, Release(A, "Failed"), PIPELINE)

    assert (refused.value.message, refused.value.hint) == (
        f"execution aaaaaaaa of {PIPELINE} ended Failed, but no stage shows it failed any more: "
        "another execution has entered that stage since",
        "AWS cannot retry an execution another one superseded; release again instead",
    )


@pytest.mark.parametrize(
    ("check", "reason", "message", "hint"),
    [
        (check_stop_reason, " ", "--reason is empty: say why the execution is stopped", None),
        (
            check_stop_reason,
            "x" * 201,
            "--reason is 201 characters; AWS allows at most 200 for a stopped execution",
            "shorten it",
        ),
        (
            check_announced_reason,
            "",
            "--reason is empty: say why the condition is overridden",
            None,
        ),
        (
            check_announced_reason,
            "line one\nline two",
            "--reason must be one line of at most 1000 characters",
            "shorten it; link the incident ticket",
        ),
    ],
)
def test_a_stop_or_override_reason_aws_or_the_topic_cannot_take_is_a_usage_error(
    check: Callable[[str], str], reason: str, message: str, hint: str | None
) -> None:
    with pytest.raises(UsageError) as error:
        check(reason)

    assert (error.value.message, error.value.hint) == (message, hint)
