"""`cicd.aws.rollback`'s redeploy hint for a target whose commit is not known.

`cicd rollback` is tests/cicd/test_rollback.py.
"""

from __future__ import annotations

from cicd.aws import rollback
from cicd.model.release import Release
from tests.cicd.aws_fakes import execution_id


def test_the_redeploy_hint_for_a_target_of_unknown_commit_shows_a_placeholder() -> None:
    target = Release(execution_id(4), "Succeeded")

    assert rollback.redeploy_hint(target) == (
        "`cicd promote ... --commit <sha>` (promoted) or `cicd release --commit <sha>`"
    )
