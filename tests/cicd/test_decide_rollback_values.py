"""`cicd.decide.rollback`: rolling back to a rollback points at the release it restored, and
says nothing of a target it does not know.
"""

from __future__ import annotations

import pytest

from cicd.decide.rollback import check_deploy_idle, plan_rollback
from cicd.errors import Refused
from cicd.model.release import Release

PIPELINE = "web-prod-pipeline"
LIVE = Release("cccccccc-1", "Succeeded", commit="c" * 40)


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        ("aaaaaaaa-1111", "roll back to the release it restored aaaaaaaa instead"),
        (None, "roll back to the release it restored instead"),
    ],
)
def test_rolling_back_to_a_rollback_points_at_the_release_it_restored(
    target: str | None, hint: str
) -> None:
    to = Release(
        "bbbbbbbb-1", "Succeeded", commit="b" * 40, is_rollback=True, rollback_target=target
    )

    with pytest.raises(Refused) as refused:
        plan_rollback(PIPELINE, [LIVE, to], to)

    assert (refused.value.message, refused.value.hint) == (
        "execution bbbbbbbb is itself a rollback",
        hint,
    )


def test_a_live_rollback_whose_target_is_older_than_the_listed_history_has_nothing_before_it() -> (
    None
):
    live = Release(
        "dddddddd-1",
        "Succeeded",
        commit="d" * 40,
        is_rollback=True,
        rollback_target="00000000-not-listed",
    )

    with pytest.raises(Refused) as refused:
        plan_rollback(PIPELINE, [live])

    assert (refused.value.message, refused.value.hint) == (
        f"no earlier successful release of another commit in the last 1 executions of {PIPELINE}",
        "pick one with `cicd rollback --to EXECUTION_ID` (ids from `cicd releases`)",
    )


def test_a_deploy_stage_that_is_stopping_is_busy_and_the_rollback_waits() -> None:
    state = {
        "stageStates": [
            {
                "stageName": "Deploy",
                "latestExecution": {"pipelineExecutionId": "eeeeeeee-1", "status": "Stopping"},
            }
        ]
    }

    with pytest.raises(Refused) as refused:
        check_deploy_idle(state, PIPELINE)

    assert (refused.value.message, refused.value.hint) == (
        f"Deploy of {PIPELINE} is busy with execution eeeeeeee (Stopping)",
        "wait for it to finish (`cicd status`), then roll back",
    )


def test_a_state_that_lists_no_deploy_stage_has_nothing_busy_to_wait_for() -> None:
    assert check_deploy_idle({"stageStates": [{"stageName": "Source"}]}, PIPELINE) is None
