"""ReleaseChannel, Upstream, PromotionTrigger and a promoted ServicePipeline, used on their own.

What another team gets when it builds a promotion with the components directly, without this
project's stack config: the refusals that config validation would otherwise catch, and the
shapes each component declares.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.pipeline import DeliveryPipeline
from components.promotion import Upstream, UpstreamArgs
from components.release_channel import ReleaseChannel, release_object_key
from components.release_steps import ReleaseSteps
from components.service_pipeline import ServicePipeline
from tests.harness import ACCOUNT, REGION, Recorder, run_pulumi

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/existing"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"


def test_a_release_object_key_is_one_object_per_service() -> None:
    assert release_object_key("web") == "releases/web/release.zip"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"consumers": []}, "consumers is empty"),
        (
            {"consumers": [{"stage": "prod", "account_id": "222222222222"}]},
            r"consumers in other accounts \(prod\) need a customer managed KMS key",
        ),
        (
            {"consumers": [{"stage": "prod"}], "kms_key_arn": KEY, "create_kms_key": True},
            "give kms_key_arn or create_kms_key, not both",
        ),
    ],
)
def test_a_release_channel_refuses_what_cannot_work(
    mocks: Recorder, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_pulumi(lambda: ReleaseChannel("releases", {"stage": "qa", **args}))  # type: ignore[typeddict-item]


def test_a_release_channel_with_a_given_key_encrypts_with_it_and_creates_none(
    mocks: Recorder,
) -> None:
    run_pulumi(
        lambda: (
            ReleaseChannel(
                "releases",
                {
                    "stage": "qa",
                    "consumers": [{"stage": "prod", "account_id": "222222222222"}],
                    "kms_key_arn": KEY,
                    "protect": False,
                },
            ).bucket_name
        )
    )
    assert mocks.of_type("aws:kms/key:Key") == []
    encryption = mocks.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    bucket = mocks.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == f"gh-aws-delivery-qa-releases-{ACCOUNT}-{REGION}"
    assert not bucket.protect, "protect=False is honoured"


def test_an_upstream_is_found_one_way_only(mocks: Recorder) -> None:
    neither: UpstreamArgs = {"stage": "prod", "upstream_stage": "staging"}
    both: UpstreamArgs = {**neither, "stack_name": "o/p/s", "bucket_name": "b"}
    for args in (neither, both):
        with pytest.raises(ValueError) as refused:
            run_pulumi(lambda args=args: Upstream("u", args))
        assert str(refused.value) == (
            "Upstream 'u': give stack_name (a stack reference) or bucket_name (the "
            "release bucket itself), exactly one"
        )


def test_an_upstream_named_by_bucket_in_this_account_admits_no_events(mocks: Recorder) -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        upstream = Upstream(
            "u", {"stage": "prod", "upstream_stage": "staging", "bucket_name": "their-releases"}
        )
        return pulumi.Output.all(
            upstream.bucket_arn, upstream.account_id, upstream.kms_key_arn
        ).apply(lambda v: found.update(arn=v[0], account=v[1], key=v[2]))

    run_pulumi(program)
    assert found == {"arn": "arn:aws:s3:::their-releases", "account": ACCOUNT, "key": None}
    assert mocks.of_type("aws:cloudwatch/eventPermission:EventPermission") == []


def run_upstream_reference(services: list[str] | None = None) -> None:
    """prod's Upstream on the stack reference `acme/app/staging`, evaluated."""
    args: UpstreamArgs = {
        "stage": "prod",
        "upstream_stage": "staging",
        "stack_name": "acme/app/staging",
    }
    if services is not None:
        args["services"] = services
    run_pulumi(lambda: Upstream("u", args).bucket_name)


def test_a_stack_reference_without_releases_says_what_to_do(mocks: Recorder) -> None:
    mocks.stack_outputs["acme/app/staging"] = {"artifact_bucket": "x"}
    with pytest.raises(Exception, match="has no usable 'releases' output"):
        run_upstream_reference()


def test_services_the_upstream_does_not_publish_are_named_up_to_five(
    mocks: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warnings.append(message))
    mocks.stack_outputs["acme/app/staging"] = {
        "releases": {
            "bucket": "staging-releases",
            "bucket_arn": "arn:aws:s3:::staging-releases",
            "consumers": ["prod"],
            "services": ["web"],
        }
    }
    run_upstream_reference(["web", *(f"svc-{n}" for n in range(7))])
    assert warnings == [
        "stack acme/app/staging does not publish svc-0, svc-1, svc-2, svc-3, svc-4 and 2 more; "
        "those pipelines wait until it does"
    ]


def promoted(**extra: Any) -> dict[str, Any]:
    return {
        "service": "orders",
        "stage": "prod",
        "promoted_from": {
            "upstream_stage": "staging",
            "bucket_name": "staging-releases",
            "bucket_arn": "arn:aws:s3:::staging-releases",
            "upstream_account_id": ACCOUNT,
        },
        "deploy": {
            "platform": "lambda",
            "targets": [{"name": "orders", "function_name": "orders-prod", "alias": "live"}],
        },
        **extra,
    }


def test_a_promoted_service_pipeline_alone_needs_no_connection_and_starts_on_releases(
    mocks: Recorder,
) -> None:
    run_pulumi(lambda: ServicePipeline("orders", promoted()).pipeline_name)  # type: ignore[arg-type]
    assert mocks.of_type("aws:codeconnections/connection:Connection") == []
    assert mocks.of_type("aws:codebuild/project:Project") == [], "no build, test or describe"
    pipeline = mocks.one(PIPELINE)
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "Deploy"]
    rule = mocks.one("aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"])["detail"]["object"]["key"] == [
        "releases/orders/release.zip"
    ]


def test_a_manually_promoted_service_has_no_rule(mocks: Recorder) -> None:
    args = promoted()
    args["promoted_from"]["automatic"] = False
    run_pulumi(lambda: ServicePipeline("orders", args).pipeline_name)  # type: ignore[arg-type]
    assert mocks.of_type("aws:cloudwatch/eventRule:EventRule") == []


def test_a_promoted_service_pipeline_refuses_a_build(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="deploys what was built and tested upstream"):
        run_pulumi(lambda: ServicePipeline("orders", promoted(build={})))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"give repository and branch .* or promoted_from"):
        run_pulumi(
            lambda: ServicePipeline(
                "orders",
                promoted(repository="acme/orders", branch="main"),  # type: ignore[arg-type]
            )
        )


def test_a_delivery_pipeline_with_a_release_source_and_an_approval_needs_describe(
    mocks: Recorder,
) -> None:
    args = {
        "service": "orders",
        "stage": "prod",
        "artifact_bucket_name": "artifacts",
        "artifact_bucket_arn": "arn:aws:s3:::artifacts",
        "release_source": {
            "bucket_name": "b",
            "bucket_arn": "arn:aws:s3:::b",
            "object_key": "releases/orders/release.zip",
            "upstream_stage": "staging",
        },
        "approval": {},
        "deploy": {
            "platform": "lambda",
            "lambda_targets": [{"name": "orders", "function_name": "f", "alias": "live"}],
        },
    }
    with pytest.raises(ValueError, match="an approval of a promoted release needs describe"):
        run_pulumi(lambda: DeliveryPipeline("p", args))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"give source .* or release_source .* exactly one"):
        neither = {k: v for k, v in args.items() if k != "release_source"}
        run_pulumi(lambda: DeliveryPipeline("p", neither))  # type: ignore[arg-type]


TOKEN_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:github-token-AbCdEf"


def test_a_promoted_service_alone_gives_its_describe_step_the_github_token_it_is_given(
    mocks: Recorder,
) -> None:
    args = promoted(
        approval_timeout_minutes=60,
        github_token_secret_arn=TOKEN_SECRET,
        github_token_kms_key_arn=KEY,
    )
    run_pulumi(lambda: ServicePipeline("orders", args).pipeline_name)  # type: ignore[arg-type]
    project = mocks.one("aws:codebuild/project:Project", "orders-release-describe-project")
    assert {
        "name": "GITHUB_TOKEN",
        "type": "SECRETS_MANAGER",
        "value": TOKEN_SECRET,
    } in project.inputs["environment"]["environmentVariables"]
    policy = mocks.one("aws:iam/rolePolicy:RolePolicy", "orders-release-describe-policy")
    grants = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert grants["ReferencedSecrets"]["Resource"] == [TOKEN_SECRET]
    assert grants["DecryptReferencedSecrets"]["Resource"] == [KEY]
    assert grants["DecryptReferencedSecrets"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    }


def test_a_promoted_service_alone_without_a_token_asks_github_anonymously(
    mocks: Recorder,
) -> None:
    args = promoted(approval_timeout_minutes=60)
    run_pulumi(lambda: ServicePipeline("orders", args).pipeline_name)  # type: ignore[arg-type]
    project = mocks.one("aws:codebuild/project:Project", "orders-release-describe-project")
    names = [v["name"] for v in project.inputs["environment"]["environmentVariables"]]
    assert "GITHUB_TOKEN" not in names
    policy = mocks.one("aws:iam/rolePolicy:RolePolicy", "orders-release-describe-policy")
    assert "secretsmanager" not in policy.inputs["policy"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"release_steps": {}, "github_token_secret_arn": TOKEN_SECRET},
            r"github_token_secret_arn applies to this service's own describe project, and "
            r"release_steps are shared: give it to the shared ReleaseSteps",
        ),
        (
            {"github_token_kms_key_arn": KEY},
            "github_token_kms_key_arn applies to github_token_secret_arn; give the secret too",
        ),
    ],
)
def test_a_github_token_where_no_describe_step_of_its_own_reads_it_is_refused(
    mocks: Recorder, extra: dict[str, Any], message: str
) -> None:
    args = promoted(approval_timeout_minutes=60, **extra)
    with pytest.raises(ValueError, match=message):
        run_pulumi(lambda: ServicePipeline("orders", args))  # type: ignore[arg-type]


def test_release_steps_refuse_a_token_key_without_the_token_secret(mocks: Recorder) -> None:
    args = {
        "service": "acme",
        "stage": "prod",
        "artifact_bucket_name": "artifacts",
        "artifact_bucket_arn": "arn:aws:s3:::artifacts",
        "describe": True,
        "github_token_kms_key_arn": KEY,
    }
    with pytest.raises(ValueError, match=r"ReleaseSteps 'steps': github_token_kms_key_arn"):
        run_pulumi(lambda: ReleaseSteps("steps", args))  # type: ignore[arg-type]


def test_a_promotion_trigger_registers_its_rule_and_the_role_eventbridge_assumes(
    mocks: Recorder, registered_outputs: dict[str, dict[str, Any]]
) -> None:
    from components.promotion import PromotionTrigger

    run_pulumi(
        lambda: (
            PromotionTrigger(
                "promote",
                {
                    "service": "web",
                    "stage": "prod",
                    "pipeline_arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-prod-pipeline",
                    "source_action": "Release",
                    "bucket_name": "staging-releases",
                    "upstream_account_id": "222222222222",
                },
            ).rule_arn
        )
    )
    component = mocks.one("delivery:cicd:PromotionTrigger", "promote")
    assert registered_outputs[component.urn] == {
        "rule_arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/web-prod-promote",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/gh-aws-delivery/web-prod-promote-events",
    }


def test_a_promotion_rule_name_is_cut_to_eventbridges_64_characters(mocks: Recorder) -> None:
    from components.promotion import PromotionTrigger

    service = "s" * 60  # <service>-prod-promote: 73 characters
    run_pulumi(
        lambda: (
            PromotionTrigger(
                "promote",
                {
                    "service": service,
                    "stage": "prod",
                    "pipeline_arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:p",
                    "source_action": "Release",
                    "bucket_name": "staging-releases",
                    "upstream_account_id": "222222222222",
                },
            ).rule_arn
        )
    )
    name = mocks.one("aws:cloudwatch/eventRule:EventRule", "promote-rule").inputs["name"]
    assert len(name) == 64 and name.startswith(service[:50]), name
