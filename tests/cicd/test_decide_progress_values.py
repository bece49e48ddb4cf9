"""`cicd.decide.progress.held_stage` (what `cicd follow` reports as held by a deployment
window) on GetPipelineState documents: AWS names a waiting execution in `inboundExecution`
(one) or `inboundExecutions` (several), and a stage the execution has not finished holds
nothing after it.
"""

from __future__ import annotations

from typing import Any

from cicd.decide.progress import held_stage, outcome_error, stage_events
from cicd.model.run import Outcome, StageEvent

A = "aaaaaaaa-1111-2222-3333-444444444444"
B = "bbbbbbbb-1111-2222-3333-444444444444"
_EVALUATING = {"latestExecution": {"status": "InProgress"}}


def _stage(name: str, execution: str, status: str, **more: Any) -> dict[str, Any]:
    return {
        "stageName": name,
        "latestExecution": {"pipelineExecutionId": execution, "status": status},
        **more,
    }


def test_an_execution_named_as_the_single_inbound_execution_is_held_by_the_window() -> None:
    state = {
        "stageStates": [
            _stage("Test", B, "InProgress"),
            _stage(
                "Deploy",
                B,
                "Succeeded",
                inboundExecution={"pipelineExecutionId": A, "status": "InProgress"},
                beforeEntryConditionState=_EVALUATING,
            ),
        ]
    }

    assert held_stage(state, A) == "Deploy"


def test_an_execution_still_running_the_stage_before_is_not_held_by_the_next_window() -> None:
    state = {
        "stageStates": [
            _stage("Test", A, "InProgress"),
            _stage("Deploy", B, "Succeeded", beforeEntryConditionState=_EVALUATING),
        ]
    }

    assert held_stage(state, A) is None


def test_an_execution_that_passed_the_stage_before_and_not_entered_deploy_is_held() -> None:
    state = {
        "stageStates": [
            _stage("Test", A, "Succeeded"),
            _stage("Deploy", B, "Succeeded", beforeEntryConditionState=_EVALUATING),
        ]
    }

    assert held_stage(state, A) == "Deploy"


def test_stages_the_first_execution_has_not_reached_yet_report_nothing() -> None:
    # A new pipeline's later stages have no latestExecution at all until one reaches them.
    state = {"stageStates": [_stage("Source", A, "Succeeded"), {"stageName": "Deploy"}]}

    assert stage_events(state, A, {}) == [StageEvent("Source", "Succeeded")]
    assert stage_events({}, A, {}) == []


def test_a_release_that_failed_without_a_detail_ends_with_its_status_and_the_logs_hint() -> None:
    error = outcome_error(
        Outcome("ended", "Failed"), "web-prod-pipeline", A, follow_again="cicd follow ..."
    )

    assert error is not None
    assert (error.message, error.hint, error.exit_code) == (
        "release aaaaaaaa of web-prod-pipeline ended Failed",
        "see the failed action's logs with `cicd logs`, or `cicd info`",
        1,
    )
