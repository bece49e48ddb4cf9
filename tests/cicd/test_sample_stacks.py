"""cicd reads the pipelines the sample stacks declare: the contract checked end to end.

The three stack files run under Pulumi's mocks (tests/harness.py); each declared pipeline is
turned into the document `get_pipeline` would return for it and parsed by `cicd.layout`, so a
change on either side of the promotion contract (a renamed action, a configuration key, a tag)
fails here. cicd itself never imports Pulumi; only this test does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cicd import contract
from cicd.aws.pipelines import parse_layout
from cicd.decide.window import next_opening
from cicd.model.pipeline import PipelineLayout
from tests.harness import StackRun, iter_stacks, run_stacks

SERVICES = ("web", "thumbnailer")


def api_document(inputs: dict[str, Any]) -> dict[str, Any]:
    """A pulumi-aws Pipeline's inputs in the shape of CodePipeline's `get_pipeline` answer."""

    def action(declared: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": declared["name"],
            "actionTypeId": {
                key: declared[key] for key in ("category", "owner", "provider", "version")
            },
            "configuration": declared.get("configuration", {}),
            "runOrder": int(declared.get("runOrder", 1)),
            **(
                {"timeoutInMinutes": int(declared["timeoutInMinutes"])}
                if "timeoutInMinutes" in declared
                else {}
            ),
        }

    def stage(declared: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": declared["name"],
            "actions": [action(a) for a in declared["actions"]],
        }
        if "beforeEntry" in declared:
            # pulumi-aws declares one `condition`; the API lists `conditions`.
            document["beforeEntry"] = {"conditions": [declared["beforeEntry"]["condition"]]}
        if "onSuccess" in declared:
            document["onSuccess"] = {"conditions": [declared["onSuccess"]["condition"]]}
        return document

    document: dict[str, Any] = {
        "name": inputs["name"],
        "stages": [stage(s) for s in inputs["stages"]],
        "executionMode": inputs.get("executionMode", "SUPERSEDED"),
    }
    # The API reports a single-region pipeline's one store as `artifactStore`.
    stores = inputs.get("artifactStores") or []
    if len(stores) == 1:
        document["artifactStore"] = {"type": stores[0]["type"], "location": stores[0]["location"]}
    # Every pipeline AWS returns has a structure version; a new pipeline's is 1.
    document["version"] = 1
    if inputs.get("variables"):
        document["variables"] = [
            {"name": v["name"], "defaultValue": v.get("defaultValue", "")}
            for v in inputs["variables"]
        ]
    return document


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


def _pipeline(runs: dict[str, StackRun], stage: str, service: str) -> tuple[PipelineLayout, dict]:
    name = contract.pipeline_name(service, stage)
    [declared] = [
        p
        for p in runs[stage].recorder.of_type("aws:codepipeline/pipeline:Pipeline")
        if p.inputs["name"] == name
    ]
    return parse_layout(api_document(declared.inputs)), declared.inputs["tags"]


@pytest.mark.parametrize("service", SERVICES)
def test_prod_deploys_exactly_the_location_staging_publishes_to(
    runs: dict[str, StackRun], service: str
) -> None:
    staging, staging_tags = _pipeline(runs, "staging", service)
    prod, prod_tags = _pipeline(runs, "prod", service)

    assert staging.github is not None and staging.publishes_to is not None
    assert prod.promoted is not None and prod.github is None
    assert prod.promoted.action_name == contract.RELEASE_SOURCE_ACTION
    assert prod.promoted.location == staging.publishes_to
    assert prod.promoted.location.key == f"releases/{service}/release.zip"
    assert prod_tags[contract.TAG_PROMOTES_FROM] == "staging"
    assert contract.TAG_PROMOTES_FROM not in staging_tags
    assert (prod_tags[contract.TAG_SERVICE], prod_tags[contract.TAG_STAGE]) == (service, "prod")


@pytest.mark.parametrize("stage", contract.ENVIRONMENTS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_deploy_action_is_a_target_a_verification_or_a_preparing_step(
    runs: dict[str, StackRun], stage: str, service: str
) -> None:
    layout, _ = _pipeline(runs, stage, service)
    declared = next(
        p
        for p in runs[stage].recorder.of_type("aws:codepipeline/pipeline:Pipeline")
        if p.inputs["name"] == layout.name
    )
    deploy = next(s for s in declared.inputs["stages"] if s["name"] == contract.DEPLOY_STAGE)

    names = {a["name"] for a in deploy["actions"]}
    targets = {t.action_name for t in layout.deploy_targets}
    # Before the targets: the step that pins the configuration, and the release task.
    preparing = {contract.CONFIGURE_ACTION, contract.RELEASE_TASK_ACTION} & names
    assert contract.CONFIGURE_ACTION in preparing
    assert targets and targets | set(layout.verifications) | preparing == names
    assert all(t.provider in contract.DEPLOY_PROVIDERS for t in layout.deploy_targets)
    assert all(v.startswith(contract.VERIFY_PREFIX) for v in layout.verifications)


@pytest.mark.parametrize("stage", contract.ENVIRONMENTS)
@pytest.mark.parametrize("service", SERVICES)
def test_cicd_reads_each_pipelines_config_path_record_bucket_and_release_variables(
    runs: dict[str, StackRun], stage: str, service: str
) -> None:
    layout, _ = _pipeline(runs, stage, service)

    assert layout.config is not None, "no Configure action with a CONFIG_PATH"
    assert layout.config.path == f"/{service}/{stage}"
    assert layout.artifact_bucket and layout.config.record_bucket == layout.artifact_bucket
    # `cicd config set` starts a config release only on a pipeline declaring both variables.
    assert layout.declares_release_variables


def test_prods_deployment_window_is_read_and_can_be_evaluated(
    runs: dict[str, StackRun],
) -> None:
    prod, _ = _pipeline(runs, "prod", "web")

    window = prod.window(contract.DEPLOY_STAGE)

    assert window is not None
    assert next_opening(window.cron, window.time_zone, datetime(2025, 5, 3, tzinfo=UTC))


@pytest.mark.parametrize("service", SERVICES)
def test_promotes_preflight_reads_the_alarms_topic_and_approval_timeout_prod_declares(
    runs: dict[str, StackRun], service: str
) -> None:
    prod, _ = _pipeline(runs, "prod", service)
    declared = next(
        p
        for p in runs["prod"].recorder.of_type("aws:codepipeline/pipeline:Pipeline")
        if p.inputs["name"] == prod.name
    )
    deploy = next(s for s in declared.inputs["stages"] if s["name"] == contract.DEPLOY_STAGE)
    approve = next(
        a
        for s in declared.inputs["stages"]
        if s["name"] == contract.APPROVAL_STAGE
        for a in s["actions"]
        if a["name"] == contract.APPROVAL_ACTION
    )
    bake = [r["configuration"]["AlarmName"] for r in deploy["onSuccess"]["condition"]["rules"]]
    lambda_alarms = [
        name
        for a in deploy["actions"]
        if a["provider"] == "Lambda"
        for name in a["configuration"].get("Alarms", "").split(",")
        if name
    ]

    # Both samples bake in prod, so the bake rules name every alarm the release is watched by.
    assert bake and set(prod.watched_alarms) == set(bake) | set(lambda_alarms)
    assert prod.release_topic == approve["configuration"]["NotificationArn"]
    assert prod.approval_timeout_minutes == int(approve["timeoutInMinutes"])
    assert prod.version == 1


def test_the_approver_role_cicd_names_is_the_one_prod_creates(
    runs: dict[str, StackRun],
) -> None:
    names = {r.inputs.get("name") for r in runs["prod"].recorder.of_type("aws:iam/role:Role")}

    assert {contract.approver_role_name(s, "prod") for s in SERVICES} <= names
