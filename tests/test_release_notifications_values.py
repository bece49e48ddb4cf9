"""ReleaseNotifications' refusals, word for word."""

from __future__ import annotations

from typing import Any

import pytest

from components.release_notifications import ReleaseNotifications
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

PIPELINE_ARN = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-dev-pipeline"


def test_an_email_that_is_not_an_address_is_refused_with_an_example(mocks: Recorder) -> None:
    args: Any = {
        "service": "orders",
        "stage": "dev",
        "pipeline_arn": PIPELINE_ARN,
        "email": ["team at example.com"],
    }
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: ReleaseNotifications("releases", args))
    assert str(refused.value) == (
        "release notifications: email 'team at example.com' is not an email address; "
        "give addresses such as 'team@example.com'"
    )


@pytest.mark.parametrize(
    "address", ["a@b.c@d", "team@example.com@", "team@example", "@example.com"]
)
def test_an_email_with_more_or_fewer_than_one_at_or_no_dotted_domain_is_refused(
    mocks: Recorder, address: str
) -> None:
    args: Any = {
        "service": "orders",
        "stage": "dev",
        "pipeline_arn": PIPELINE_ARN,
        "email": [address],
    }
    with pytest.raises(ValueError, match=f"email {address!r} is not an email address"):
        run_pulumi(lambda: ReleaseNotifications("releases", args))
