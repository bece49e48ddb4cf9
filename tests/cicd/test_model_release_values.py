"""`cicd.model.release.Rejection.describe`: how `cicd status` and `cicd promote` word a
rejection, leaving out what its tags do not record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cicd.model.release import Rejection


def test_a_rejection_says_only_what_its_tags_record() -> None:
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    assert Rejection().describe() == "rejected"
    assert Rejection(reason="breaks checkout").describe() == 'rejected: "breaks checkout"'
    assert Rejection("arn:aws:iam::1:user/ops", at, "slow").describe() == (
        'rejected by arn:aws:iam::1:user/ops at 2026-11-02 09:30:00 UTC: "slow"'
    )
