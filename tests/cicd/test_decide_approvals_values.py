"""`cicd.decide.approvals` on GetPipelineState documents AWS can return: an Approval stage
that has not run, an action without a token, and the refusal of a different commit, word for
word as `cicd approve` prints them.
"""

from __future__ import annotations

from typing import Any

import pytest

from cicd.decide.approvals import check_commit, find_pending_approval
from cicd.errors import Refused
from cicd.model.release import PendingApproval

PIPELINE = "web-prod-pipeline"
A = "aaaaaaaa-1111-2222-3333-444444444444"


def _nothing_waits(state: dict[str, Any]) -> tuple[str, str | None]:
    with pytest.raises(Refused) as refused:
        find_pending_approval(state, PIPELINE)
    return refused.value.message, refused.value.hint


def test_an_approval_stage_that_lists_no_actions_yet_has_nothing_waiting() -> None:
    assert _nothing_waits({"stageStates": [{"stageName": "Approval"}]}) == (
        f"nothing waits for approval in {PIPELINE}",
        "`cicd status` shows where the latest release is",
    )


def test_an_approval_in_progress_without_a_token_cannot_be_answered_and_is_refused() -> None:
    state = {
        "stageStates": [
            {
                "stageName": "Approval",
                "latestExecution": {"pipelineExecutionId": A, "status": "InProgress"},
                "actionStates": [
                    {"actionName": "Approve", "latestExecution": {"status": "InProgress"}}
                ],
            }
        ]
    }

    assert _nothing_waits(state)[0] == (
        f"nothing waits for approval in {PIPELINE} (the last approval ended InProgress)"
    )


def test_approving_with_another_commit_than_the_one_waiting_says_what_to_do() -> None:
    pending = PendingApproval(PIPELINE, A, "token-1", None, commit="1" * 40)

    with pytest.raises(Refused) as refused:
        check_commit(pending, "2222222")

    assert (refused.value.message, refused.value.hint) == (
        f"the release waiting in {PIPELINE} is commit 1111111, not 2222222",
        "`cicd status` shows what waits; approve it without --commit or wait for yours",
    )
