"""ReleaseChannel's values at their limits: names that must fit what AWS accepts."""

from __future__ import annotations

from components.release_channel import ReleaseChannel
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/existing"
RULE = "aws:cloudwatch/eventRule:EventRule"


def test_the_forwarding_rule_name_is_cut_to_eventbridges_64_characters(mocks: Recorder) -> None:
    # gh-aws-delivery-<stage>-releases-forward is 65 characters with this stage.
    stage = "q" * (65 - len("gh-aws-delivery--releases-forward"))
    run_pulumi(
        lambda: (
            ReleaseChannel(
                "releases",
                {
                    "stage": stage,
                    "consumers": [{"stage": "prod", "account_id": "222222222222"}],
                    "kms_key_arn": KEY,
                    "protect": False,
                },
            ).bucket_name
        )
    )
    name = mocks.one(RULE, "releases-forward").inputs["name"]
    assert len(name) == 64, name
    assert name.startswith(f"gh-aws-delivery-{stage}-"), name


def test_a_release_channel_protects_and_retains_its_bucket_unless_told_otherwise(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: (
            ReleaseChannel(
                "releases",
                {"stage": "qa", "consumers": [{"stage": "prod"}], "kms_key_arn": KEY},
            ).bucket_name
        )
    )
    bucket = mocks.one("aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.retain_on_delete, "other stages deploy from this bucket"
