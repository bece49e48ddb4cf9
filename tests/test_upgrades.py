"""Upgrade safety: what a new version of the program or the components does to existing stacks.

A resource whose URN changes is replaced (a new bucket, a new connection needing a new GitHub
handshake); one whose physical name changes is replaced too, and for names AWS keeps unique (a
role, a project) the replacement fails halfway, since Pulumi creates the new one before
deleting the old. So: every sample stack's physical names are pinned by URN, children are named
after their parent (what lets one alias on a component carry its whole tree), and a renamed
component with an alias is shown to claim every old URN.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi
import pytest
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.resource import inherited_child_alias

from components.service_pipeline import ServicePipeline, ServicePipelineArgs
from tests.harness import (
    ROOT,
    Recorder,
    RecordingMonitor,
    StackRun,
    iter_stacks,
    run_pulumi,
    run_stacks,
)

NAMES = ROOT / "tests" / "snapshots" / "physical_names.json"
# The input that carries a resource's physical name, where it is not `name`.
NAME_KEYS = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:codedeploy/deploymentGroup:DeploymentGroup": "deploymentGroupName",
    "aws:cloudwatch/eventPermission:EventPermission": "statementId",
    "github:index/repositoryEnvironment:RepositoryEnvironment": "environment",
}


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


# Inputs that, like the name, are part of the identity AWS gives the resource: a role's path is
# in its ARN and IAM cannot change it (the provider replaces the role).
IDENTITY_KEYS = {"aws:iam/role:Role": ("path",)}


def physical_names(run: StackRun) -> dict[str, str]:
    names: dict[str, str] = {}
    for r in run.recorder.resources:
        key = NAME_KEYS.get(r.typ, "name")
        if r.custom and isinstance(r.inputs.get(key), str):
            extra = "".join(f" {k}={r.inputs.get(k, '/')}" for k in IDENTITY_KEYS.get(r.typ, ()))
            names[run.recorder.engine_urn(r)] = f"{key}={r.inputs[key]}{extra}"
    return dict(sorted(names.items()))


def test_every_sample_stacks_physical_names_match_the_snapshot(
    runs: dict[str, StackRun],
) -> None:
    """A change here replaces resources in real stacks: keep the URN with an `alias` and the
    physical name as it was, or say in the changelog what users must do. Regenerate after an
    intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_upgrades.py
    """
    current = {stack: physical_names(run) for stack, run in sorted(runs.items())}
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        NAMES.write_text(json.dumps(current, indent=2) + "\n")
    expected = json.loads(NAMES.read_text())
    for stack, names in current.items():
        before = expected.get(stack, {})
        gone = sorted(set(before) - set(names))
        assert not gone, f"{stack}: these resources would be deleted or replaced: {gone}"
        renamed = {u: (before[u], names[u]) for u in before if names[u] != before[u]}
        assert not renamed, f"{stack}: these physical names change (replacement): {renamed}"
    assert current == expected, "new resources: regenerate the snapshot (see docstring)"


def test_the_snapshot_pins_the_names_of_every_kind_of_resource(runs: dict[str, StackRun]) -> None:
    pinned = json.loads(NAMES.read_text())
    assert sum(len(names) for names in pinned.values()) >= 100
    assert any(v == "name=web-prod-pipeline" for v in pinned["prod"].values())
    assert any(v == "name=gh-aws-delivery-staging-package" for v in pinned["staging"].values())


def test_every_child_is_named_after_its_parent(runs: dict[str, StackRun]) -> None:
    """The engine carries a component's alias to a child only by this convention
    (`inheritedChildAlias` in pulumi/pulumi pkg/resource/deploy/step_generator.go): a child
    named `{parent}-<role>` is aliased as `{old parent}-<role>` under the parent's old URN."""
    for stack, run in runs.items():
        by_urn = {r.urn: r for r in run.recorder.resources}
        for r in run.recorder.resources:
            parent = by_urn.get(r.parent)
            if parent is not None:
                assert r.name.startswith(f"{parent.name}-"), f"{stack}: {r.name} in {parent.name}"


class AliasRecordingMonitor(RecordingMonitor):
    """Records each registration's aliases. Reports no alias-spec support, so the SDK sends
    aliases as the URNs it computes itself (its path for engines without alias specs)."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.aliases: dict[str, list[str]] = {}

    def GetDeploymentInfo(self, request: Any) -> Any:
        info = super().GetDeploymentInfo(request)
        features = [
            f
            for f in info.supportedFeatures
            if f != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS
        ]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self.aliases[response.urn] = list(request.aliasURNs)
        return response


def chain(name: str, aliases: list[pulumi.Alias] | None = None) -> tuple[Recorder, Any]:
    args: ServicePipelineArgs = {
        "service": "web",
        "stage": "dev",
        "repository": "acme/web",
        "branch": "main",
        "tests": [{"name": "unit"}],
        "approval_timeout_minutes": 60,
        "deploy": {
            "platform": "lambda",
            "targets": [{"name": "web", "function_name": "web-dev", "alias": "live"}],
            "default_alarms": {"web": {"function_name": "web-dev", "alias": "live"}},
        },
    }
    recorder = Recorder()
    monitor = AliasRecordingMonitor(recorder)
    pulumi.runtime.set_all_config({}, [])
    pulumi.runtime.set_mocks(recorder, project="app", stack="dev", preview=False, monitor=monitor)
    run_pulumi(
        lambda: (
            ServicePipeline(name, args, opts=pulumi.ResourceOptions(aliases=aliases)).pipeline_name
        )
    )
    return recorder, monitor


def test_a_service_pipeline_renamed_with_an_alias_claims_every_resource_it_had() -> None:
    old, _ = chain("web")
    new, monitor = chain("storefront", [pulumi.Alias(name="web")])
    by_urn = {r.urn: r for r in new.resources}
    [root] = [r for r in new.resources if r.name == "storefront"]
    [root_alias] = monitor.aliases[root.urn]
    claimed: dict[str, pulumi.Output[str]] = {}

    def alias_of(r: Any) -> pulumi.Output[str]:
        # What the engine computes for a child from its parent's alias; the SDK's copy of it.
        if r is root:
            return pulumi.Output.from_input(root_alias)
        parent = by_urn[r.parent]
        return inherited_child_alias(r.name, parent.name, alias_of(parent), r.typ)

    resolved: dict[str, str] = {}

    def program() -> Any:
        for r in new.resources:
            claimed[new.engine_urn(r)] = alias_of(r)
        return pulumi.Output.all(**claimed).apply(resolved.update)

    pulumi.runtime.set_mocks(Recorder(), project="app", stack="dev", preview=False)
    run_pulumi(program)
    old_urns = {old.engine_urn(r) for r in old.resources}
    assert len(old_urns) == len(old.resources) >= 30
    assert sorted(resolved.values()) == sorted(old_urns), "each old URN claimed exactly once"
    # And nothing AWS names changes: the service, not the component's name, makes the names.
    olds = {old.engine_urn(r): r for r in old.resources}
    for r in new.resources:
        before = olds[resolved[new.engine_urn(r)]]
        assert r.inputs.get("name") == before.inputs.get("name"), r.name
