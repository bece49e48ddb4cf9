"""Finding a pipeline by its cicd:stage and cicd:service tags (Tagging API stubbed).

moto's Resource Groups Tagging API does not index CodePipeline pipelines, so these tests stub
GetResources; the stub checks the filters the CLI sends against AWS's service model.
"""

from __future__ import annotations

import pytest

from tests.cicd.aws_fakes import (
    ACCOUNT,
    REGION,
    CliRunner,
    StubbedAws,
    expect_discovery,
    pipeline_arn,
    summary,
)


def _releases_of(aws: StubbedAws, name: str) -> None:
    service, stage, _ = name.split("-")
    aws.expect_pipeline(service, stage)
    aws.expect_history(name, [summary(1, commit=1)], 15)


def test_the_only_service_of_a_stage_is_found_without_service(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging, stage="dev", service=None, found=[("shop-dev-pipeline", "shop", "dev")]
    )
    _releases_of(aws, "shop-dev-pipeline")

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.startswith("=== shop-dev-pipeline (service shop, stage dev) releases")


def test_service_and_stage_come_from_the_environment_when_not_given(
    aws: StubbedAws, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICD_STAGE", "dev")
    monkeypatch.setenv("CICD_SERVICE", "shop")
    expect_discovery(
        aws.tagging, stage="dev", service="shop", found=[("shop-dev-pipeline", "shop", "dev")]
    )
    _releases_of(aws, "shop-dev-pipeline")

    result = cli("releases", clients=aws.clients())

    assert result.code == 0, result.err


def test_webhooks_and_action_types_tagged_like_a_pipeline_are_ignored(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging,
        stage="dev",
        service=None,
        found=[("shop-dev-pipeline", "shop", "dev")],
        extra_arns=[
            f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:webhook:shop-dev-hook",
            f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:actiontype:Custom/Build/Tool/1",
        ],
    )
    _releases_of(aws, "shop-dev-pipeline")

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 0, result.err


def test_discovery_follows_pagination_tokens(aws: StubbedAws, cli: CliRunner) -> None:
    filters = {
        "TagFilters": [{"Key": "cicd:stage", "Values": ["dev"]}],
        "ResourceTypeFilters": ["codepipeline"],
    }
    aws.tagging.add_response(
        "get_resources", {"ResourceTagMappingList": [], "PaginationToken": "page-2"}, filters
    )
    aws.tagging.add_response(
        "get_resources",
        {
            "ResourceTagMappingList": [
                {
                    "ResourceARN": pipeline_arn("shop-dev-pipeline"),
                    "Tags": [
                        {"Key": "cicd:service", "Value": "shop"},
                        {"Key": "cicd:stage", "Value": "dev"},
                    ],
                }
            ]
        },
        {**filters, "PaginationToken": "page-2"},
    )
    _releases_of(aws, "shop-dev-pipeline")

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 0, result.err


def test_a_stage_with_several_services_refuses_and_lists_them(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(
        aws.tagging,
        stage="dev",
        service=None,
        found=[("shop-dev-pipeline", "shop", "dev"), ("billing-dev-pipeline", "billing", "dev")],
    )

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 3
    assert result.err == (
        "cicd: stage dev has pipelines for several services: billing, shop\n"
        "hint: choose one with --service (for example --service billing)\n"
    )


def test_an_unknown_service_is_not_found_and_the_services_of_the_stage_are_listed(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(aws.tagging, stage="dev", service="shpo")
    expect_discovery(
        aws.tagging,
        stage="dev",
        service=None,
        found=[("shop-dev-pipeline", "shop", "dev"), ("billing-dev-pipeline", "billing", "dev")],
    )

    result = cli("releases", "--stage", "dev", "--service", "shpo", clients=aws.clients())

    assert result.code == 5
    assert result.err == (
        f"cicd: no pipeline for service shpo in stage dev ({REGION})\n"
        "hint: services with a pipeline in dev: billing, shop\n"
    )


def test_a_stage_without_pipelines_is_not_found_with_the_expected_name(
    aws: StubbedAws, cli: CliRunner
) -> None:
    expect_discovery(aws.tagging, stage="prod", service="shop")
    expect_discovery(aws.tagging, stage="prod", service=None)

    result = cli("releases", "--stage", "prod", "--service", "shop", clients=aws.clients())

    assert result.code == 5
    assert (
        f"cicd: no pipeline tagged cicd:stage=prod and cicd:service=shop in {REGION} "
        "(expected a pipeline like shop-prod-pipeline)"
    ) in result.err


def test_an_unknown_stage_is_a_usage_error_listing_the_stages(cli: CliRunner) -> None:
    result = cli("releases", "--stage", "qa")

    assert (result.code, result.err) == (
        2,
        "cicd: releases: argument -e/--stage: invalid choice: 'qa' (choose from 'dev', "
        "'staging', 'prod')\nhint: `cicd releases --help` lists the options\n",
    )


def test_an_unknown_stage_in_cicd_stage_is_a_usage_error(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICD_STAGE", "qa")

    result = cli("releases", clients=StubbedAws().clients())

    assert result.code == 2
    assert (
        result.err == "cicd: CICD_STAGE='qa' is not an environment; use one of dev, staging, prod\n"
    )


def test_a_command_without_a_stage_or_pipeline_asks_for_one(cli: CliRunner) -> None:
    result = cli("releases", clients=StubbedAws().clients())

    assert result.code == 2
    assert result.err.startswith("cicd: which environment? pass --stage dev|staging|prod")


def test_a_services_pull_request_pipeline_is_not_one_of_its_releases_pipelines(
    aws: StubbedAws, cli: CliRunner
) -> None:
    """`web-staging-pr` carries web's service and stage tags (for cost and for the GitHub
    reporter) and `cicd:pipeline-kind`; without the skip, `--service shop` would refuse as
    "several pipelines"."""
    filters = {
        "TagFilters": [
            {"Key": "cicd:stage", "Values": ["dev"]},
            {"Key": "cicd:service", "Values": ["shop"]},
        ],
        "ResourceTypeFilters": ["codepipeline"],
    }
    shop = [{"Key": "cicd:service", "Value": "shop"}, {"Key": "cicd:stage", "Value": "dev"}]
    aws.tagging.add_response(
        "get_resources",
        {
            "ResourceTagMappingList": [
                {"ResourceARN": pipeline_arn("shop-dev-pipeline"), "Tags": shop},
                {
                    "ResourceARN": pipeline_arn("shop-dev-pr"),
                    "Tags": [
                        *shop,
                        {"Key": "cicd:pipeline-kind", "Value": "pull-requests"},
                        {"Key": "cicd:status-context", "Value": "cicd/shop-dev-pr"},
                    ],
                },
            ],
            "PaginationToken": "",
        },
        filters,
    )
    _releases_of(aws, "shop-dev-pipeline")

    result = cli("releases", "--stage", "dev", "--service", "shop", clients=aws.clients())

    assert result.code == 0, result.err
    assert "shop-dev-pr" not in result.out


def test_pipelines_of_every_stage_come_in_delivery_order_with_unknown_stages_last(
    aws: StubbedAws,
) -> None:
    from cicd.aws.pipelines import find_pipelines

    expect_discovery(
        aws.tagging,
        stage=None,
        service="shop",
        found=[
            ("shop-sandbox-pipeline", "shop", "sandbox"),
            ("shop-prod-pipeline", "shop", "prod"),
            ("shop-dev-pipeline", "shop", "dev"),
        ],
    )

    found = find_pipelines(aws.client("resourcegroupstaggingapi"), stage=None, service="shop")

    assert [ref.name for ref in found] == [
        "shop-dev-pipeline",
        "shop-prod-pipeline",
        "shop-sandbox-pipeline",
    ]


def test_the_arn_of_a_pipelines_stage_is_not_taken_for_a_pipeline(aws: StubbedAws) -> None:
    from cicd.aws.pipelines import find_pipelines

    expect_discovery(
        aws.tagging,
        stage="dev",
        service=None,
        found=[("shop-dev-pipeline", "shop", "dev")],
        extra_arns=[f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:shop-dev-pipeline/Deploy"],
    )

    found = find_pipelines(aws.client("resourcegroupstaggingapi"), stage="dev", service=None)

    assert [ref.name for ref in found] == ["shop-dev-pipeline"]
