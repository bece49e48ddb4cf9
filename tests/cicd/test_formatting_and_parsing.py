"""Pure helpers: reading AWS documents and formatting what the commands print."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cicd.aws.pipelines import parse_layout
from cicd.decide.commits import resolve_commit, resolve_execution
from cicd.errors import NotFound, Refused, UsageError
from cicd.model.release import Release
from cicd.text import commit_message, format_duration, table, truncate
from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    CliRunner,
    StubbedAws,
    execution_id,
    expect_discovery,
    lambda_target,
    pipeline_declaration,
    promoted_declaration,
    sha,
)


def test_commit_message_reads_the_first_line_of_a_codeconnections_summary() -> None:
    assert commit_message('{"ProviderType": "GitHub", "CommitMessage": "Fix\\n\\nbody"}') == "Fix"


def test_commit_message_uses_plain_text_summaries_as_they_are() -> None:
    assert commit_message("  Merge pull request #4\nmore") == "Merge pull request #4"


def test_commit_message_is_none_when_the_summary_has_no_message() -> None:
    assert [commit_message(None), commit_message('{"ProviderType": "GitHub"}')] == [None, None]


def test_durations_read_like_heroku_and_unknown_is_a_dash() -> None:
    durations = [timedelta(seconds=9), timedelta(seconds=185), timedelta(hours=2, minutes=3), None]

    assert [format_duration(d) for d in durations] == ["9s", "3m 05s", "2h 03m", "-"]


def test_long_messages_are_cut_with_an_ellipsis() -> None:
    assert (truncate("abcdef", 4), truncate("abc", 4)) == ("abc…", "abc")


def test_tables_align_columns_without_trailing_blanks() -> None:
    assert table(["A", "BB"], [["xxx", ""], ["y", "z"]]) == ["A    BB", "xxx", "y    z"]


def test_layout_reads_the_connection_and_every_deploy_target() -> None:
    declaration = pipeline_declaration("shop", "prod", approval=True)
    declaration["stages"][-1]["actions"].append(
        {
            "name": "api",
            "actionTypeId": {
                "category": "Deploy",
                "owner": "AWS",
                "provider": "Lambda",
                "version": "1",
            },
            "configuration": lambda_target("shop", "prod")["configuration"],
        }
    )

    layout = parse_layout(declaration)

    assert layout.stages == ("Source", "Build", "Test", "Approval", "Deploy")
    assert layout.github is not None
    assert (layout.github.repository, layout.github.branch) == ("acme/shop", "main")
    assert [t.describe() for t in layout.deploy_targets] == [
        "CodeDeploy shop-prod-app/shop-prod-web",
        "Lambda shop-prod-api:live",
    ]
    assert [t.action_name for t in layout.codedeploy_targets] == ["web"]


def test_a_pipeline_with_neither_source_kind_is_not_one_of_ours() -> None:
    declaration = pipeline_declaration("shop", "dev")
    declaration["stages"][0]["actions"][0]["actionTypeId"]["provider"] = "CodeCommit"

    with pytest.raises(
        NotFound,
        match="pipeline shop-dev-pipeline has neither a CodeStarSourceConnection \\(GitHub\\) "
        "nor an S3 release action in a Source stage",
    ):
        parse_layout(declaration)


def test_an_s3_source_without_bucket_and_key_is_not_a_release_source() -> None:
    declaration = promoted_declaration("web", "prod", bucket=RELEASE_BUCKET)
    declaration["stages"][0]["actions"][0]["configuration"] = {}

    with pytest.raises(NotFound, match="pipeline web-prod-pipeline has neither"):
        parse_layout(declaration)


def test_layout_of_a_promoted_pipeline_reads_the_release_location_and_only_deploy_targets() -> None:
    declaration = promoted_declaration("web", "prod", bucket=RELEASE_BUCKET)
    declaration["stages"][-1]["actions"].append(
        {
            "name": "verify-smoke",
            "actionTypeId": {
                "category": "Test",
                "owner": "AWS",
                "provider": "CodeBuild",
                "version": "1",
            },
            "configuration": {"ProjectName": "web-prod-verify-smoke"},
            "runOrder": 2,
        }
    )

    layout = parse_layout(declaration)

    assert layout.stages == ("Source", "Approval", "Deploy")
    assert layout.github is None and layout.promoted is not None
    assert layout.promoted.action_name == "Release"
    assert layout.promoted.location.url() == f"s3://{RELEASE_BUCKET}/releases/web/release.zip"
    assert [t.describe() for t in layout.deploy_targets] == ["CodeDeploy web-prod-app/web-prod-web"]
    assert layout.verifications == ("verify-smoke",)


def test_layout_of_a_publishing_pipeline_names_where_it_publishes_and_its_verifications() -> None:
    declaration = pipeline_declaration(
        "web", "staging", verify=["smoke"], publish_to=RELEASE_BUCKET
    )

    layout = parse_layout(declaration)

    assert layout.github is not None and layout.promoted is None
    assert layout.stages == ("Source", "Build", "Test", "Deploy", "Publish")
    assert [t.action_name for t in layout.deploy_targets] == ["web"]
    assert layout.verifications == ("verify-smoke",)
    assert layout.publishes_to is not None
    assert layout.publishes_to.url() == f"s3://{RELEASE_BUCKET}/releases/web/release.zip"


def test_an_abbreviated_sha_matching_two_released_commits_is_ambiguous() -> None:
    releases = [
        Release(execution_id(1), "Succeeded", commit="abcdef0111" + "0" * 30),
        Release(execution_id(2), "Succeeded", commit="abcdef0222" + "0" * 30),
    ]

    with pytest.raises(UsageError, match="commit abcdef0 is ambiguous: abcdef011100, abcdef022200"):
        resolve_commit("abcdef0", releases)


def test_an_abbreviated_sha_shorter_than_seven_characters_is_not_accepted() -> None:
    with pytest.raises(UsageError, match="--commit 'abc' is not a commit SHA"):
        resolve_commit("abc", [Release(execution_id(1), "Succeeded", commit=sha(1))])


def test_an_execution_prefix_matching_two_executions_is_ambiguous() -> None:
    releases = [Release(execution_id(1), "Succeeded"), Release(execution_id(2), "Succeeded")]

    with pytest.raises(UsageError, match="execution id 0000000 is ambiguous"):
        resolve_execution("0000000", releases)


def test_several_pipelines_of_one_service_in_a_stage_refuse_and_name_them(
    aws: StubbedAws, cli: CliRunner
) -> None:
    found = [("shop-dev-pipeline", "shop", "dev"), ("shop-dev-old-pipeline", "shop", "dev")]
    expect_discovery(aws.tagging, stage="dev", service="shop", found=found)

    result = cli("releases", "--stage", "dev", "--service", "shop", clients=aws.clients())

    assert result.code == 3
    assert result.err == (
        "cicd: several pipelines are tagged cicd:stage=dev for one service: "
        "shop-dev-old-pipeline, shop-dev-pipeline\n"
        "hint: name the one you mean with --pipeline NAME\n"
    )


def test_refusals_carry_the_refused_exit_code() -> None:
    assert (Refused("x").exit_code, NotFound("x").exit_code, UsageError("x").exit_code) == (3, 5, 2)
