"""stack/sdk.py: the two SDK replacements do what the SDK's own functions do, and are installed
only over the functions they were checked against."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stack import sdk

TRANSFER = ("pulumi.runtime.rpc", "transfer_properties")
STACK = ("pulumi.runtime.resource", "_get_stack_trace")


def test_the_pinned_sdk_is_the_one_the_replacements_were_checked_against() -> None:
    """Fails after a Pulumi upgrade that changed either function: read the new source, port the
    change to the replacement (or drop it), and record the new fingerprint in REPLACED."""
    for key, original in sdk.ORIGINALS.items():
        assert sdk.fingerprint(original) == sdk.REPLACED[key], key


def test_the_program_runs_with_both_replacements_installed() -> None:
    assert sdk.tune() == {
        "pulumi.runtime.rpc.transfer_properties": True,
        "pulumi.runtime.resource._get_stack_trace": True,
    }
    assert sdk.tune() == sdk.tune(), "installing twice changes nothing"


class Holder:
    """Stands in for a resource: the SDK only stores Outputs in its __dict__ and names it as a
    dependency."""


RESOLUTIONS: list[tuple[Any, bool, bool, set[str] | None, Exception | None]] = [
    ("web-prod-pipeline", True, False, {"dep"}, None),
    (None, False, False, None, None),  # unknown during preview
    ("s3cr3t", True, True, set(), None),
    ({"nested": [1, 2]}, True, False, {"a", "b"}, None),
]


def _outcomes(transfer: Any, failed: Exception | None = None) -> list[Any]:
    async def run() -> list[Any]:
        results = []
        for value, known, secret, deps, error in RESOLUTIONS:
            res = Holder()
            resolvers = transfer(res, {"arn": None, "id": None, "urn": None}, True)
            assert set(resolvers) == {"arn"}, "urn and id are the SDK's, as before"
            resolvers["arn"](value, known, secret, deps, failed or error)
            output = res.__dict__["arn"]
            try:
                data = await output._data
                results.append(
                    (
                        data.value,
                        data.is_known,
                        data.is_secret,
                        {"self" if r is res else r for r in data.resources},
                    )
                )
            except Exception as raised:
                results.append(("raised", type(raised), str(raised)))
        return results

    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(run())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_lean_outputs_resolve_to_what_the_sdks_own_resolve_to() -> None:
    original = sdk.ORIGINALS[TRANSFER]
    assert _outcomes(sdk.lean_transfer_properties) == _outcomes(original)
    assert _outcomes(original)[0] == ("web-prod-pipeline", True, False, {"dep", "self"})


def test_a_failed_registration_fails_every_output_as_before() -> None:
    failure = RuntimeError("registration failed")
    lean = _outcomes(sdk.lean_transfer_properties, failure)
    assert lean == _outcomes(sdk.ORIGINALS[TRANSFER], failure)
    assert lean[0] == ("raised", RuntimeError, "registration failed")


class _Base:
    def __init__(self) -> None:
        self.traces = (sdk.ORIGINALS[STACK](), sdk.lean_stack_trace())


class _Middle(_Base):
    def __init__(self) -> None:
        super().__init__()


class _Concrete(_Middle):
    def __init__(self) -> None:
        super().__init__()


def _declare() -> _Concrete:
    return _Concrete()


def test_the_lean_stack_trace_is_the_one_the_sdk_sends() -> None:
    original, lean = _declare().traces
    assert lean == original
    assert len(lean.frames) > 3
    assert lean.frames[0].pc.uri.endswith("/tests/test_sdk.py")
    assert lean.frames[0].pc.line == _declare.__code__.co_firstlineno + 1


def test_a_function_that_changed_upstream_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(res: Any, props: Any, custom: bool) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(sdk.sdk_rpc, "transfer_properties", changed)
    installed = sdk.tune()
    assert installed["pulumi.runtime.rpc.transfer_properties"] is False
    assert sdk.sdk_rpc.transfer_properties is changed


def _declare_twice() -> list[_Concrete]:
    return [_Concrete() for _ in range(2)]


def test_declarations_from_the_same_lines_share_one_stack_trace() -> None:
    """Every service of a stage is declared by the same lines: one message serves them all, and
    it is the one the SDK would have built for each."""
    first, second = _declare_twice()
    assert first.traces[1] is second.traces[1]
    assert first.traces[1] == first.traces[0]
    assert second.traces[1] == second.traces[0]
    elsewhere = _declare()
    assert elsewhere.traces[1] is not first.traces[1], "another line, another stack"
    assert elsewhere.traces[1] == elsewhere.traces[0]
    assert elsewhere.traces[1].frames[0].pc.line != first.traces[1].frames[0].pc.line
