"""DeliveryReporter's refusals: what a team building it directly is told, before anything exists."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.delivery_reporter import DeliveryReporter
from tests.harness import ACCOUNT, Recorder, run_pulumi

SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:gh-AbCdEf"
PIPELINES = [{"name": "shop-staging-pipeline", "service": "shop", "repository": "acme/shop"}]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"pipelines": []},
            "DeliveryReporter: pipelines is empty; give at least one pipeline to report on",
        ),
        (
            {"github_token": "ghp_x", "token_secret_arn": SECRET},
            "DeliveryReporter: give github_token (stored into a new secret) or "
            f"token_secret_arn ({SECRET!r}, an existing one), not both",
        ),
        (
            {"github_token": "ghp_x", "token_kms_key_arn": "arn:aws:kms:eu-west-1:1:key/k"},
            "DeliveryReporter: token_kms_key_arn applies to token_secret_arn; the secret "
            "created from github_token uses the AWS managed key: remove token_kms_key_arn",
        ),
    ],
    ids=["no-pipelines", "token-and-secret", "key-without-secret"],
)
def test_a_reporter_that_cannot_work_is_refused_with_the_fix(
    mocks: Recorder, extra: dict[str, Any], message: str
) -> None:
    args: Any = {"service": "acme", "stage": "staging", "pipelines": PIPELINES, **extra}
    with pytest.raises(ValueError) as refused:
        DeliveryReporter("reporter", args)
    assert str(refused.value) == message
    assert mocks.resources == [], "refused before anything is declared"


def test_the_reporter_takes_the_options_it_is_given(mocks: Recorder) -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Platform", "platform")
        DeliveryReporter(
            "reporter",
            {"service": "acme", "stage": "staging", "pipelines": PIPELINES},  # type: ignore[typeddict-item]
            pulumi.ResourceOptions(parent=parent),
        )

    run_pulumi(program)
    platform = mocks.one("test:index:Platform", "platform")
    assert mocks.one("delivery:cicd:DeliveryReporter", "reporter").parent == platform.urn
