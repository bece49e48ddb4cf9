"""Physical names and tags: deterministic, readable, within AWS limits."""

import pytest

from components.naming import (
    IAM_ROLE_MAX,
    S3_BUCKET_MAX,
    TAG_MANAGED_BY,
    TAG_SERVICE,
    TAG_STAGE,
    NamingContext,
)


def test_names_read_service_stage_role() -> None:
    assert NamingContext("web", "prod").name("build") == "web-prod-build"


def test_long_names_are_shortened_deterministically_and_stay_distinct() -> None:
    naming = NamingContext("a-very-long-service-name-for-testing", "staging")
    first = naming.name("test-functional-codebuild", IAM_ROLE_MAX)
    again = naming.name("test-functional-codebuild", IAM_ROLE_MAX)
    other = naming.name("test-functional-codebuild-2", IAM_ROLE_MAX)
    assert len(first) <= IAM_ROLE_MAX
    assert first == again
    assert first != other
    assert first.startswith("a-very-long-service-name-for-testing-staging-")


def test_bucket_names_fit_s3_limit() -> None:
    name = NamingContext("gh-aws-delivery", "staging").name(
        "artifacts-123456789012-ap-southeast-2", S3_BUCKET_MAX
    )
    assert len(name) <= S3_BUCKET_MAX
    assert name == name.lower()


def test_tags_name_service_stage_and_manager() -> None:
    tags = NamingContext("web", "dev", project="gh-aws-delivery", stack="dev").tags
    assert tags == {
        TAG_SERVICE: "web",
        TAG_STAGE: "dev",
        TAG_MANAGED_BY: "pulumi:gh-aws-delivery/dev",
    }


@pytest.mark.parametrize("service", ["Web", "web_app", "-web", "web-", ""])
def test_invalid_segments_are_rejected(service: str) -> None:
    with pytest.raises(ValueError, match="lowercase letters"):
        NamingContext(service, "dev")
