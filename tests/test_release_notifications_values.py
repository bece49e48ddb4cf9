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
