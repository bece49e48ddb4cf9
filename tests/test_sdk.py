"""stack/sdk.py: the SDK replacements do what the SDK's own functions do, and are installed
only over the functions they were checked against."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.output import Output

from stack import sdk
from stack.sdk import SETTINGS

TRANSFER = ("pulumi.runtime.rpc", "transfer_properties")
STACK = ("pulumi.runtime.resource", "_get_stack_trace")
TRACK = ("pulumi.output", "Output._track")


def test_the_pinned_sdk_is_the_one_the_replacements_were_checked_against() -> None:
    """Fails after a Pulumi upgrade that changed either function: read the new source, port the
    change to the replacement (or drop it), and record the new fingerprint in REPLACED."""
    for key, original in sdk.ORIGINALS.items():
        assert sdk.fingerprint(original) == sdk.REPLACED[key], key


def test_the_program_runs_with_every_replacement_installed() -> None:
    assert sdk.tune() == {
        "pulumi.runtime.rpc.transfer_properties": True,
        "pulumi.runtime.resource._get_stack_trace": True,
        "pulumi.output.Output._track": True,
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


def test_a_method_that_changed_upstream_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(self: Any) -> None:
        return None

    monkeypatch.setattr(Output, "_track", changed)
    installed = sdk.tune()
    assert installed["pulumi.output.Output._track"] is False
    assert Output._track is changed  # pyright: ignore[reportPrivateUsage]


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


def _tracking(track: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What SETTINGS.outputs holds of an Output's data before and after it resolves, succeeds
    or fails, with `track` as `Output._track`."""
    monkeypatch.setattr(Output, "_track", track)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    futures: list[asyncio.Future[Any]] = []
    try:
        ok: asyncio.Future[Any] = loop.create_future()
        failed: asyncio.Future[Any] = loop.create_future()
        outputs = [Output._from_data(ok), Output._from_data(failed)]  # pyright: ignore[reportPrivateUsage]
        futures = [o._data for o in outputs]  # pyright: ignore[reportPrivateUsage]
        before = [f in SETTINGS.outputs for f in futures]
        callbacks = [f._callbacks[0][0] for f in futures]  # pyright: ignore[reportAttributeAccessIssue]
        ok.set_result(None)
        failed.set_exception(RuntimeError("registration failed"))
        loop.run_until_complete(asyncio.sleep(0))
        after = [f in SETTINGS.outputs for f in futures]
        failed.exception()  # retrieved: no "never retrieved" warning at collection
        return [before, after, callbacks[0] is callbacks[1]]
    finally:
        with SETTINGS.lock:
            for future in futures:
                SETTINGS.outputs.discard(future)
        asyncio.set_event_loop(None)
        loop.close()


def test_outputs_are_tracked_as_the_sdk_tracks_them_with_one_shared_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tracked until resolved; a failed one stays for the SDK to report at the program's end."""
    before, after, shared = _tracking(sdk.ORIGINALS[TRACK], monkeypatch)
    assert (before, after, shared) == ([True, True], [False, True], False)
    assert _tracking(sdk.lean_track, monkeypatch) == [before, after, True]


def _bytes_per_property(
    transfer: Callable[..., Any], track: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> float:
    monkeypatch.setattr(Output, "_track", track)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    props = {f"property{i}": None for i in range(30)}
    held: list[Any] = []

    class Fresh:
        """A class of its own: instances share their dicts' keys only with each other."""

    # Emptied, as `pulumi.runtime.test` empties it before each program: how the SDK's set of
    # tracked outputs grows depends on what earlier tests left in it (a reused slot or a resize).
    SETTINGS.outputs.clear()
    try:
        gc.collect()
        tracemalloc.start()
        try:
            for _ in range(100):
                res = Fresh()
                held.append((res, transfer(res, props, True)))
            size, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # Resolved and awaited, so that nothing is left pending or tracked for later tests.
        for _, resolvers in held:
            for resolve in resolvers.values():
                resolve(None, True, False, None, None)
        outputs = [o for res, _ in held for o in res.__dict__.values()]
        loop.run_until_complete(asyncio.gather(*(o._data for o in outputs)))
        return size / (100 * len(props))
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_an_output_property_holds_a_sixth_of_what_the_sdk_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measured with tracemalloc, as docs/performance.md does: ~3,050 bytes a property as the SDK
    has it (four futures, a task, a partial, a closure), ~460 with the replacements (one future,
    a slotted resolver, a shared callback). Going back to a partial or a closure per property
    costs ~150 bytes more each and fails here."""
    sdk_as_is = _bytes_per_property(sdk.ORIGINALS[TRANSFER], sdk.ORIGINALS[TRACK], monkeypatch)
    lean = _bytes_per_property(sdk.lean_transfer_properties, sdk.lean_track, monkeypatch)
    assert sdk_as_is > 2_500, sdk_as_is
    assert lean < 540, lean
