"""Runs this project's `__main__.py` under Pulumi's mocks with `Pulumi.dev.yaml`'s config.

Standalone: `pip install -r requirements.txt pytest pyyaml`, then `pytest` here. Checks what the
payments team relies on: the chain builds this repository's branch, tests it, and deploys to
the function's alias with a canary that the function's alarms can stop and roll back.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

HERE = Path(__file__).resolve().parent
PROJECT = yaml.safe_load((HERE / "Pulumi.yaml").read_text())["name"]
ACCOUNT, REGION = "111111111111", "eu-west-1"


class Mocks(pulumi.runtime.Mocks):
    """Gives every resource its inputs back plus a name and an ARN; answers account/region."""

    def __init__(self) -> None:
        self.resources: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        physical = args.inputs.get("name") or args.inputs.get("bucket") or args.name
        service = args.typ.split(":")[1].split("/")[0]
        state = {
            "name": physical,
            "bucket": physical,
            "arn": f"arn:aws:{service}:{REGION}:{ACCOUNT}:{physical}",
            **args.inputs,
        }
        self.resources[args.name] = (args.typ, state)
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        answers = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "test",
            },
            "aws:index/getRegion:getRegion": {"name": REGION, "region": REGION},
            "aws:index/getPartition:getPartition": {"partition": "aws"},
        }
        return answers[args.token], []

    def of_type(self, typ: str) -> dict[str, dict[str, Any]]:
        return {name: state for name, (t, state) in self.resources.items() if t == typ}


def run(stack: str, config: dict[str, str]) -> tuple[Mocks, dict[str, Any]]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(config, [])
    exports: dict[str, Any] = {}
    real_export = pulumi.export

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        pulumi.export = lambda name, value: exports.__setitem__(name, value)
        try:
            runpy.run_path(str(HERE / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = real_export
        return pulumi.Output.all(**exports).apply(exports.update)

    program()
    return mocks, exports


def stack_config(stack: str) -> dict[str, str]:
    document = yaml.safe_load((HERE / f"Pulumi.{stack}.yaml").read_text())
    return {key: str(value) for key, value in document["config"].items()}


@pytest.fixture(scope="module")
def dev() -> tuple[Mocks, dict[str, Any]]:
    return run("dev", stack_config("dev"))


def stages(mocks: Mocks) -> dict[str, list[dict[str, Any]]]:
    [pipeline] = mocks.of_type("aws:codepipeline/pipeline:Pipeline").values()
    assert pipeline["pipelineType"] == "V2"
    return {stage["name"]: stage["actions"] for stage in pipeline["stages"]}


def test_the_chain_builds_this_repositorys_branch_through_its_own_connection(
    dev: tuple[Mocks, dict[str, Any]],
) -> None:
    mocks, exports = dev
    [connection] = mocks.of_type("aws:codeconnections/connection:Connection").values()
    [source] = stages(mocks)["Source"]
    assert source["configuration"]["FullRepositoryId"] == "acme/payments-api"
    assert source["configuration"]["BranchName"] == "main"
    assert source["configuration"]["ConnectionArn"] == connection["arn"]
    assert exports["connection_arn"] == connection["arn"]


def test_unit_tests_run_on_the_build_before_deploy(dev: tuple[Mocks, dict[str, Any]]) -> None:
    mocks, _ = dev
    projects = mocks.of_type("aws:codebuild/project:Project")
    unit = next(p for p in projects.values() if p["name"] == "payments-api-dev-test-unit")
    assert unit["source"]["buildspec"] == "buildspecs/unit.yml"
    [test] = stages(mocks)["Test"]
    assert test["configuration"]["ProjectName"] == unit["name"]
    assert list(stages(mocks)) == ["Source", "Build", "Test", "Deploy"]


def test_the_alias_shifts_by_canary_and_the_functions_alarms_roll_it_back(
    dev: tuple[Mocks, dict[str, Any]],
) -> None:
    mocks, _ = dev
    [deploy] = stages(mocks)["Deploy"]
    assert deploy["provider"] == "Lambda"
    assert deploy["configuration"]["FunctionName"] == "payments-api-dev"
    assert deploy["configuration"]["FunctionAlias"] == "live"
    assert deploy["configuration"]["DeployStrategy"] == "Canary10Percent5Minutes"
    alarms = mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {a["metricName"] for a in alarms.values()} == {"Errors", "Throttles"}
    for alarm in alarms.values():
        assert alarm["dimensions"] == {
            "FunctionName": "payments-api-dev",
            "Resource": "payments-api-dev:live",
        }
    # The Lambda deploy action stops and rolls back the shift when one of these fires.
    assert sorted(deploy["configuration"]["Alarms"].split(",")) == sorted(
        a["name"] for a in alarms.values()
    )


def test_a_stack_without_a_repository_fails_naming_the_key() -> None:
    config = {k: v for k, v in stack_config("dev").items() if not k.endswith(":repository")}
    with pytest.raises(Exception, match="payments-api:repository"):
        run("dev", config)
