"""The pipeline layout's runtime config: what cicd reads from the Deploy stage's Configure action
and the pipeline's declared variables (design-18 §2), and what it does without them."""

from __future__ import annotations

import json

from cicd.aws.pipelines import parse_layout
from cicd.model.config import RuntimeConfig
from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import pipeline_declaration, promoted_declaration


def test_a_github_built_pipeline_with_runtime_config_names_its_path_bucket_and_variables() -> None:
    layout = parse_layout(fakes.github_pipeline("web", "dev", release_task=True))

    assert layout.config == RuntimeConfig("/web/dev", None, "web-dev-artifacts")
    assert layout.release_task is True
    assert layout.variables == ("RELEASE_KIND", "RELEASE_NOTE")
    assert layout.declares_release_variables
    assert (layout.execution_mode, layout.artifact_bucket) == ("QUEUED", "web-dev-artifacts")
    # The Configure and ReleaseTask actions are neither deploy targets nor verifications.
    assert [t.action_name for t in layout.deploy_targets] == ["web"]
    assert layout.verifications == ()


def test_a_promoted_pipeline_names_the_stages_kms_key_when_the_stack_gives_one() -> None:
    layout = parse_layout(fakes.promoted_pipeline("web", "prod", kms_key_arn=fakes.KEY_ARN))

    assert layout.config == RuntimeConfig("/web/prod", fakes.KEY_ARN, "web-prod-artifacts")
    assert layout.release_task is False
    assert layout.promoted is not None


def test_the_record_bucket_falls_back_to_the_artifact_store_and_a_trailing_slash_is_dropped() -> (
    None
):
    document = fakes.github_pipeline("web", "dev")
    configure = document["stages"][-1]["actions"][0]
    environment = [
        {**v, "value": "/web/dev/"} if v["name"] == "CONFIG_PATH" else v
        for v in json.loads(configure["configuration"]["EnvironmentVariables"])
        if v["name"] != "RECORD_BUCKET"
    ]
    configure["configuration"]["EnvironmentVariables"] = json.dumps(environment)

    layout = parse_layout(document)

    assert layout.config == RuntimeConfig("/web/dev", None, "web-dev-artifacts")


def test_a_pipeline_from_before_runtime_config_has_none_and_declares_no_variables() -> None:
    for document in (
        pipeline_declaration("web", "dev"),
        promoted_declaration("web", "prod", bucket="acme-staging-releases"),
    ):
        layout = parse_layout(document)

        assert (layout.config, layout.release_task, layout.variables) == (None, False, ())
        assert not layout.declares_release_variables


def test_a_configure_action_without_a_config_path_gives_no_config_rather_than_a_guess() -> None:
    for broken in ("not json", json.dumps({"CONFIG_PATH": "/web/dev"}), json.dumps([])):
        document = fakes.github_pipeline("web", "dev")
        document["stages"][-1]["actions"][0]["configuration"]["EnvironmentVariables"] = broken

        assert parse_layout(document).config is None, broken


def test_only_both_variables_make_a_pipeline_able_to_say_a_release_is_a_config_release() -> None:
    document = fakes.github_pipeline("web", "dev")
    document["variables"] = document["variables"][:1]

    layout = parse_layout(document)

    assert layout.variables == ("RELEASE_KIND",)
    assert not layout.declares_release_variables


def test_artifact_stores_keyed_by_region_name_the_artifact_bucket_too() -> None:
    document = fakes.github_pipeline("web", "dev")
    store = document.pop("artifactStore")
    document["artifactStores"] = {"eu-west-1": store}

    assert parse_layout(document).artifact_bucket == "web-dev-artifacts"


def test_the_configure_actions_record_bucket_wins_over_the_artifact_store() -> None:
    document = fakes.github_pipeline("web", "dev")
    document["stages"][-1]["actions"][0] = fakes.configure_action(
        "web", "dev", record_bucket="acme-deploy-records"
    )

    assert parse_layout(document).config == RuntimeConfig("/web/dev", None, "acme-deploy-records")


def test_the_configure_outputs_cicd_reads_are_the_ones_the_step_exports() -> None:
    from cicd import contract
    from components import release_config

    read = {
        contract.CONFIG_VERSIONS_OUTPUT,
        contract.CONFIG_SOURCE_OUTPUT,
        contract.COMMIT_OUTPUT,
        contract.CONTRACTS_SCHEMA_OUTPUT,
        contract.RELEASE_KIND_OUTPUT,
        contract.ROLLBACK_OF_OUTPUT,
    }
    assert read <= set(release_config.EXPORTED)
    assert release_config.RECORDS_PREFIX == contract.DEPLOY_RECORDS_PREFIX


def test_a_record_rebuilt_from_the_outputs_reads_dashes_as_nothing() -> None:
    from cicd.aws.records import record_from_outputs

    record = record_from_outputs(
        {
            "CONFIG_VERSIONS": '[["/web/prod/B", 2], ["/web/prod/A", 5]]',
            "CONFIG_SOURCE": "rollback:abc",
            "COMMIT_ID": "-",
            "CONTRACTS_SCHEMA": "false",
            "RELEASE_KIND": "config",
            "ROLLBACK_OF": "-",
        },
        "web-prod-pipeline",
        "e1",
        "/web/prod",
    )

    assert (record.commit, record.rollback_of, record.contracts_schema, record.kind) == (
        None,
        None,
        False,
        "config",
    )
    assert record.config is not None and record.config.versions() == {"A": 5, "B": 2}
    assert record.config.source == "rollback:abc"


def test_only_trailing_slashes_are_dropped_from_the_config_path() -> None:
    document = fakes.github_pipeline("web", "dev")
    configure = document["stages"][-1]["actions"][0]
    environment = [
        {**v, "value": "/tax/DEV-X//"} if v["name"] == "CONFIG_PATH" else v
        for v in json.loads(configure["configuration"]["EnvironmentVariables"])
    ]
    configure["configuration"]["EnvironmentVariables"] = json.dumps(environment)

    layout = parse_layout(document)

    assert layout.config is not None
    assert layout.config.path == "/tax/DEV-X"
