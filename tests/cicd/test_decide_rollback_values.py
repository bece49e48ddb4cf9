"""`cicd.decide.rollback`: rolling back to a rollback points at the release it restored, and
says nothing of a target it does not know.
"""

from __future__ import annotations

import pytest

from cicd.decide.rollback import plan_rollback
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
