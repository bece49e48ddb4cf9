"""The provider is asked for account, region and partition once per provider per program run.

Each ask is an invoke: a round trip to the provider plugin in a real `pulumi preview`. Before
`components.aws_context`, every CodeBuild project and deployment asked again (1203 calls to
getCallerIdentity for 200 services).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from tests.harness import ACCOUNT, REGION, Recorder, iter_stacks, run_pulumi, run_stacks

FUNCTIONS = {
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getRegion:getRegion",
    "aws:index/getPartition:getPartition",
}


def test_every_sample_stack_calls_each_provider_function_once() -> None:
    for stack, run in run_stacks(dict(iter_stacks())).items():
        calls = Counter(token for token, _ in run.recorder.calls)
        assert calls == dict.fromkeys(FUNCTIONS, 1), stack


class Probe(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Probe", name, None, opts)
        where = aws_context(self)
        self.where = pulumi.Output.all(where.account_id, where.region, where.partition)


def test_components_on_one_provider_share_one_answer_and_another_provider_is_asked(
    mocks: Recorder,
) -> None:
    seen: dict[str, Any] = {}

    def program() -> Any:
        frankfurt = aws.Provider("frankfurt", region="eu-central-1")
        probes = {
            "a": Probe("a"),
            "b": Probe("b"),
            "c": Probe("c", pulumi.ResourceOptions(providers={"aws": frankfurt})),
        }
        return pulumi.Output.all(**{k: p.where for k, p in probes.items()}).apply(seen.update)

    run_pulumi(program)
    assert seen["a"] == seen["b"] == [ACCOUNT, REGION, "aws"]
    # Two providers, two answers: the probe on the Frankfurt provider asked it, not the default.
    calls = Counter(token for token, _ in mocks.calls)
    assert calls == dict.fromkeys(FUNCTIONS, 2)
