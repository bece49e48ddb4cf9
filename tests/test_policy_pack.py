"""The policy pack (policy/): its validate functions, called directly as pulumi-policy would, on
objects shaped like pulumi-policy's; its files; and, with PyPI, the pack itself in its own venv.

pulumi-policy is not installed in the project's environment (it pins protobuf 5.x): the direct
tests use stand-ins with pulumi-policy's attribute names and its proxy class names. The
`network` test installs policy/requirements.txt into a throwaway virtual environment, imports
the real pack's `__main__.py` there (with `PolicyPack` captured instead of serving) and runs
each policy's validate through pulumi-policy's own `StackValidationPolicy` on real
`PolicyResource` objects.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from guardrails import RULES, RULES_BY_NAME
from guardrails.pack import UNKNOWN_SENTINELS, from_policy_resource, plain, validate_function

from tests.harness import ROOT

POLICY = ROOT / "policy"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _DictProxy(Mapping[str, Any]):
    """Stand-in for pulumi-policy's unknown-checking proxy: raises on an unknown, `__target`."""

    def __init__(self, target: dict[str, Any]) -> None:
        self._target = target

    def __getitem__(self, key: str) -> Any:
        if key == "__target":
            return self._target
        value = self._target[key]
        if value in UNKNOWN_SENTINELS:
            raise AssertionError(f"read the unknown {key}: the engine would skip the policy")
        return value

    def __iter__(self) -> Any:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


@dataclass
class FakePolicyResource:
    resource_type: str
    props: Any
    urn: str
    name: str
    parent: Any = None
    property_dependencies: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class FakeStackArgs:
    resources: list[FakePolicyResource]
    config: dict[str, Any] = field(default_factory=dict)

    def get_config(self) -> dict[str, Any]:
        return self.config


def run_validate(
    rule: str, *resources: FakePolicyResource, config: Any = None
) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    validate_function(RULES_BY_NAME[rule])(
        FakeStackArgs(list(resources), config or {}),
        lambda message, urn=None: reported.append((message, urn)),
    )
    return reported


def pipeline(kind: str) -> FakePolicyResource:
    return FakePolicyResource(
        "aws:codepipeline/pipeline:Pipeline",
        _DictProxy({"name": "web-dev-pipeline", "pipelineType": kind, "stages": []}),
        "urn:pulumi:dev::p::aws:codepipeline/pipeline:Pipeline::web-pipeline",
        "web-pipeline",
    )


def test_a_validate_function_reports_each_violation_with_its_resource_urn() -> None:
    assert run_validate("pipeline-type-v2", pipeline("V2")) == []
    assert run_validate("pipeline-type-v2", pipeline("V1")) == [
        (
            'pipeline web-dev-pipeline is type V1: set pipeline_type="V2" (stage conditions, '
            "rollback and triggers need V2)",
            "urn:pulumi:dev::p::aws:codepipeline/pipeline:Pipeline::web-pipeline",
        )
    ]


def test_unknown_values_become_unknown_and_skip_only_the_check_that_needs_them() -> None:
    bucket = FakePolicyResource(
        "aws:s3/bucket:Bucket", _DictProxy({"bucket": "acme"}), "urn:b", "artifacts-bucket"
    )
    policy = FakePolicyResource(
        "aws:s3/bucketPolicy:BucketPolicy",
        _DictProxy({"bucket": UNKNOWN_STRING, "policy": UNKNOWN_STRING}),
        "urn:p",
        "artifacts-policy",
        property_dependencies={"bucket": [bucket], "policy": [bucket]},
    )
    assert run_validate("s3-bucket-tls-only", bucket, policy) == []
    # Without its (unknown) policy resource the bucket is still judged: that is known.
    assert [urn for _, urn in run_validate("s3-bucket-tls-only", bucket)] == ["urn:b"]
    converted = from_policy_resource(policy)
    assert converted.property_dependencies == {"bucket": ["urn:b"], "policy": ["urn:b"]}
    assert repr(converted.props["policy"]) == "UNKNOWN"


def test_rule_configuration_reaches_the_check() -> None:
    project = FakePolicyResource(
        "aws:codebuild/project:Project",
        _DictProxy({"name": "web-dev-docker", "environment": {"privilegedMode": True}}),
        "urn:c",
        "web-docker-project",
    )
    rule = "codebuild-privileged-mode-allow-listed"
    assert len(run_validate(rule, project)) == 1
    assert run_validate(rule, project, config={"allowedProjects": ["web-dev-docker"]}) == []


def test_plain_unwraps_nested_proxies_and_secrets() -> None:
    class Secret:
        def __init__(self, value: Any) -> None:
            self.value = value

    nested = _DictProxy({"a": [_DictProxy({"b": Secret("s")})], "c": UNKNOWN_STRING})
    assert plain(nested) == {"a": [{"b": "s"}], "c": plain(UNKNOWN_STRING)}


def test_the_rules_module_and_the_pack_adapter_import_neither_pulumi_nor_pulumi_policy() -> None:
    probe = (
        "import sys, guardrails, guardrails.rules, guardrails.pack; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pulumi', 'pulumi_policy', 'pulumi_aws'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_the_pack_has_its_own_folder_manifest_and_requirements() -> None:
    manifest = yaml.safe_load((POLICY / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"]["virtualenv"] == "venv"
    requirements = [
        line.strip()
        for line in (POLICY / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == ["pulumi-policy>=1.21,<2"]
    main = (POLICY / "__main__.py").read_text()
    assert "from guardrails.pack import serve" in main
    assert importlib.util.find_spec("pulumi_policy") is None, (
        "pulumi-policy pins protobuf 5.x: keep it out of the project's environment"
    )


# --- The real pack, in its own environment ------------------------------------------------------

_CAPTURE = textwrap.dedent(
    """
    import json, runpy, sys
    import pulumi_policy
    from pulumi_policy import PolicyResource, PolicyResourceOptions, StackValidationArgs
    captured = {}
    class CapturingPack:
        def __init__(self, name, policies, **kwargs):
            captured["name"] = name
            captured["policies"] = policies
    pulumi_policy.PolicyPack = CapturingPack
    runpy.run_path("__main__.py", run_name="__main__")
    resources = []
    for spec in json.load(open(sys.argv[1])):
        opts = PolicyResourceOptions(False, [], None, [], None, [], None)
        resources.append(PolicyResource(spec["type"], spec["props"], spec["urn"], spec["name"], opts, None, None, [], {}))
    out = {"name": captured["name"], "policies": []}
    for policy in captured["policies"]:
        reported = []
        policy.validate(StackValidationArgs(resources, {}), lambda m, urn=None: reported.append([m, urn]))
        out["policies"].append({
            "name": policy.name,
            "class": type(policy).__name__,
            "enforcement": policy.enforcement_level.value,
            "severity": policy.severity.value,
            "reported": reported,
        })
    print(json.dumps(out))
    """
)


@pytest.mark.network
def test_the_real_pack_loads_in_its_own_venv_and_its_policies_validate(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(POLICY / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr
    resources = tmp_path / "resources.json"
    resources.write_text(
        json.dumps(
            [
                {
                    "type": "aws:codepipeline/pipeline:Pipeline",
                    "props": {"name": "web-dev-pipeline", "pipelineType": "V1", "stages": []},
                    "urn": "urn:pipeline",
                    "name": "web-pipeline",
                }
            ]
        )
    )
    script = tmp_path / "capture.py"
    script.write_text(_CAPTURE)
    result = subprocess.run(
        [str(python), str(script), str(resources)],
        cwd=POLICY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pack = json.loads(result.stdout)
    assert pack["name"] == "gh-aws-delivery-guardrails"
    by_name = {p["name"]: p for p in pack["policies"]}
    assert list(by_name) == [r.name for r in RULES]
    for rule in RULES:
        policy = by_name[rule.name]
        assert policy["class"] == "StackValidationPolicy"
        assert (policy["enforcement"], policy["severity"]) == (rule.enforcement, rule.severity)
    assert by_name["pipeline-type-v2"]["reported"] == [
        [
            'pipeline web-dev-pipeline is type V1: set pipeline_type="V2" (stage conditions, '
            "rollback and triggers need V2)",
            "urn:pipeline",
        ]
    ]
