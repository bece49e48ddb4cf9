"""`cicd.decide.progress.held_stage` (what `cicd follow` reports as held by a deployment
window) on GetPipelineState documents: AWS names a waiting execution in `inboundExecution`
(one) or `inboundExecutions` (several), and a stage the execution has not finished holds
nothing after it.
"""

from __future__ import annotations

from typing import Any

from cicd.decide.progress import held_stage

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
