"""The components as a Pulumi plugin package: the schema other languages' SDKs are made from.

No Pulumi CLI here, so this runs what `pulumi package add` relies on, short of the CLI: Pulumi's
own analyzer over the exported components (`components.provider`), the provider's Construct
under mocks with the camelCase inputs a TypeScript SDK sends, and the plugin directory started
the way the Python language host starts it, answering GetSchema over gRPC. Generating the SDKs
themselves (`pulumi package gen-sdk`) needs the CLI and is not checked.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from typing import Any

import grpc
import pulumi
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

import components
from components import pipeline as pipeline_module
from components import provider
from components.service_pipeline import ServicePipelineArgs
from tests.harness import ROOT, Recorder, run_pulumi

PUBLIC = {
    name
    for name, value in vars(components).items()
    if name in components.__all__
    and inspect.isclass(value)
    and issubclass(value, pulumi.ComponentResource)
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return provider.schema()


def declared_keys(cls: type) -> dict[str, bool]:
    """Key -> required, read from the source annotations (postponed: strings or ForwardRefs)."""
    found = {}
    for key, annotation in cls.__annotations__.items():
        text = (
            annotation.__forward_arg__ if isinstance(annotation, typing.ForwardRef) else annotation
        )
        if not key.startswith("_"):
            found[key] = not str(text).startswith("NotRequired[")
    return found


def hosted() -> Iterator[type[pulumi.ComponentResource]]:
    yield from provider.COMPONENTS


def test_the_analyzer_infers_a_schema_naming_every_public_component_but_the_excluded(
    schema: dict[str, Any],
) -> None:
    assert len(PUBLIC) == 24
    assert set(provider.EXCLUDED) <= PUBLIC, "only public components can be excluded"
    expected = {f"delivery:index:{name}" for name in PUBLIC - set(provider.EXCLUDED)}
    assert set(schema["resources"]) == expected
    assert all(r["isComponent"] for r in schema["resources"].values())
    assert (schema["name"], schema["version"]) == ("delivery", components.__version__)
    assert schema["dependencies"] == [], "no input or output is another package's resource"


def test_every_input_key_of_every_component_is_in_the_schema_with_its_description(
    schema: dict[str, Any],
) -> None:
    counted = 0
    for component in hosted():
        resource = schema["resources"][f"delivery:index:{component.__name__}"]
        keys = declared_keys(provider.args_type(component))
        inputs = resource["inputProperties"]
        assert set(inputs) == {camel_case(k) for k in keys}, component.__name__
        for key, required in keys.items():
            where = f"{component.__name__} input {key!r}"
            assert inputs[camel_case(key)].get("description"), f"{where} has no description"
            assert (camel_case(key) in resource.get("requiredInputs", [])) == required, where
            counted += 1
    assert counted == 277


def test_every_key_of_every_nested_type_has_its_description(schema: dict[str, Any]) -> None:
    undescribed = [
        f"{token.split(':')[-1]}.{key}"
        for token, complex_type in schema["types"].items()
        for key, spec in complex_type["properties"].items()
        if not spec.get("description")
    ]
    assert undescribed == []
    assert len(schema["types"]) == 36


def test_every_output_is_in_the_schema_with_its_description(schema: dict[str, Any]) -> None:
    for component in hosted():
        outputs = schema["resources"][f"delivery:index:{component.__name__}"]["properties"]
        declared = declared_keys(component)
        assert set(outputs) == {camel_case(k) for k in declared}, component.__name__
        for key in declared:
            assert outputs[camel_case(key)].get("description"), f"{component.__name__}.{key}"


def test_inherited_keys_are_described_by_the_class_that_declares_them(
    schema: dict[str, Any],
) -> None:
    build = schema["resources"]["delivery:index:BuildProject"]["inputProperties"]
    assert build["buildspec"]["description"] == (
        "Path of the buildspec in the application repository. Omitted: `buildspec.yml`."
    )
    suite = schema["types"]["delivery:index:TestSuiteArgs"]["properties"]
    assert suite["image"]["description"] == build["image"]["description"]


def test_a_literal_key_is_a_string_whose_description_lists_the_allowed_values(
    schema: dict[str, Any],
) -> None:
    mode = schema["resources"]["delivery:index:ServicePipeline"]["inputProperties"]["executionMode"]
    assert mode["type"] == "string"
    assert mode["description"] == (
        "Omitted: SUPERSEDED.\n\nAllowed values: `QUEUED`, `SUPERSEDED`, `PARALLEL`."
    )


def test_the_github_token_is_a_secret_input_and_nothing_else_is(schema: dict[str, Any]) -> None:
    secret = {
        (token, key)
        for token, resource in schema["resources"].items()
        for key, spec in resource.get("inputProperties", {}).items()
        if spec.get("secret")
    }
    assert secret == {
        ("delivery:index:GitHubRepositorySettings", "githubToken"),
        ("delivery:index:RequiredStatusChecks", "githubToken"),
        ("delivery:index:DeliveryReporter", "githubToken"),
    }


def test_schema_tokens_are_index_tokens_and_the_components_keep_their_cicd_tokens(
    schema: dict[str, Any],
) -> None:
    for component in hosted():
        name = component.__name__
        assert f"delivery:index:{name}" in schema["resources"]
        source = inspect.getsource(sys.modules[component.__module__])
        assert f'"delivery:cicd:{name}"' in source, f"{name} registers delivery:cicd:{name}"


def test_a_typescript_programs_camelcase_inputs_reach_the_component_which_keeps_its_cicd_urn(
    mocks: Recorder,
) -> None:
    """What the engine's Construct call does: the SDK asks for `delivery:index:`, and the URN it
    gets back (the one in state) is the one the Python component registered."""
    hosting = provider.provider()
    seen: dict[str, Any] = {}

    def program() -> Any:
        result = hosting.construct(
            "orders",
            "delivery:index:ServicePipeline",
            {
                "service": "orders",
                "stage": "dev",
                "repository": "acme/orders",
                "branch": "main",
                "executionMode": "QUEUED",
                "tests": [{"name": "unit", "timeoutMinutes": 15.0}],
                "deploy": {
                    "platform": "lambda",
                    "targets": [{"name": "api", "functionName": "orders-api", "alias": "live"}],
                },
            },
            None,
        )
        return pulumi.Output.all(result.urn, result.state["pipelineName"]).apply(
            lambda v: seen.update(urn=v[0], pipeline=v[1])
        )

    run_pulumi(program)
    assert seen["urn"].endswith("delivery:cicd:ServicePipeline::orders")
    assert seen["pipeline"] == "orders-dev-pipeline"
    assert not [r.typ for r in mocks.resources if ":index:" in r.typ.removeprefix("aws:")]
    assert mocks.one("aws:codepipeline/pipeline:Pipeline").inputs["executionMode"] == "QUEUED"
    suite = mocks.one("aws:codebuild/project:Project", "orders-test-unit-project")
    assert suite.inputs["buildTimeout"] == 15


def test_a_value_outside_a_literal_is_refused_with_the_allowed_values() -> None:
    """The SDKs type these keys as strings; the provider checks them, at any depth."""
    hosting = provider.provider()
    args = {
        "service": "orders",
        "stage": "dev",
        "repository": "acme/orders",
        "branch": "main",
        "deploy": {"platform": "lambda", "targets": [{"name": "api"}]},
        "tests": [{"name": "unit", "environment": [{"name": "A", "type": "PLAIN", "value": "1"}]}],
    }
    with pytest.raises(InputPropertyError) as refused:
        hosting.construct("orders", "delivery:index:ServicePipeline", args, None)
    assert refused.value.property_path == "tests[0].environment[0].type"
    assert refused.value.reason == (
        "ServicePipeline input tests[0].environment[0].type: 'PLAIN' is not allowed; "
        "use one of PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER"
    )
    args["tests"] = []
    args["deploy"]["platform"] = "Lambda"
    with pytest.raises(InputPropertyError, match=r"deploy\.platform: 'Lambda' is not allowed"):
        hosting.construct("orders", "delivery:index:ServicePipeline", args, None)


def test_every_public_component_is_hosted_delivery_pipeline_included() -> None:
    # DeliveryPipeline's deploy type was `DeployArgs`, ServicePipeline's too: one schema
    # namespace cannot hold both. Its rename to `PipelineDeployArgs` let it in.
    assert provider.EXCLUDED == {}
    assert components.DeliveryPipeline in provider.COMPONENTS
    assert pipeline_module.DeployArgs is pipeline_module.PipelineDeployArgs


def test_the_analysis_leaves_the_components_annotations_as_they_were() -> None:
    before = dict(ServicePipelineArgs.__annotations__)
    init = dict(components.ServicePipeline.__init__.__annotations__)
    provider.schema()
    assert ServicePipelineArgs.__annotations__ == before
    assert components.ServicePipeline.__init__.__annotations__ == init
    assert isinstance(init["args"], str), "postponed annotations: still the source text"


def test_the_plugin_directory_is_a_python_plugin_and_an_installable_library() -> None:
    plugin = yaml.safe_load((ROOT / "components" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    assert (ROOT / "components" / "__main__.py").exists(), "the language host runs __main__.py"
    # The CLI pip-installs a plugin directory whose pyproject has a project and a build backend.
    pyproject = (ROOT / "components" / "pyproject.toml").read_text()
    assert "[build-system]" in pyproject and "build-backend" in pyproject


def test_the_plugin_serves_its_schema_over_grpc_when_run_as_the_language_host_runs_it() -> None:
    # `python <plugin directory> <engine address>`: GetSchema needs no engine.
    plugin = subprocess.Popen(
        [sys.executable, str(ROOT / "components"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT.parent,
    )
    try:
        assert plugin.stdout is not None
        port = int(plugin.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty())
    finally:
        plugin.terminate()
        plugin.wait(timeout=10)
    assert served["name"] == "delivery"
    assert "delivery:index:ServicePipeline" in served["resources"]
    assert info.version == components.__version__
