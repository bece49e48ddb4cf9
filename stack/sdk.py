"""Three of the Pulumi Python SDK's per-resource costs, made smaller without changing what it does.

Defines `tune()` (what `__main__.py` calls before it declares anything), the three
replacements, `lean_transfer_properties`, `lean_stack_trace` and `lean_track`, and `REPLACED`:
each SDK function replaced, with a fingerprint of the source it was checked against. A stage of
200 services registers ~7,000 resources; measured on that (docs/performance.md), the SDK's own
bookkeeping is most of the memory and much of the CPU:

- `pulumi.runtime.rpc.transfer_properties` gives every output property of every resource four
  futures, a partial, an Output and a task running a coroutine that awaits the four: ~76,000
  properties at 200 services, all alive until the engine answers. `lean_transfer_properties`
  gives each property one future, which a slotted resolver fills with the same `_OutputData`
  the coroutine would have built (same value, known, secret and dependencies; the same
  exception on a failed registration), wrapped by the SDK's own `Output._from_data`.
- `pulumi.runtime.resource._get_stack_trace` reads the source line of every frame of every
  registration (`traceback.extract_stack()` loads files through `linecache`) and converts the
  same file names to URIs again and again; each registration then holds its own `StackTrace`
  message (~21 frames, ~4 KiB that upb allocates outside the Python heap) until the engine
  answers. `lean_stack_trace` walks the same frames without reading lines, caches each file's
  URI, and builds one message per distinct stack, shared by every declaration made from the
  same lines (200 services: 99 messages for 6,954 resources): the engine receives the same
  `StackTrace`.
- `pulumi.output.Output._track` gives every Output a done-callback of its own, a closure that
  refers to nothing of the Output's. `lean_track` registers one module-level callback with the
  same code.

A replacement is installed only over the exact function it was written against: `tune()`
compares each SDK function's source with its fingerprint and leaves a changed one alone (the
SDK then costs what it costs; `tests/test_sdk.py` fails on the pinned version, saying to check
the new source). Upstream, the same changes would remove the need for this module
(docs/performance.md, "What the SDK costs").
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import inspect
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import pulumi.runtime.resource as sdk_resource
import pulumi.runtime.rpc as sdk_rpc
from pulumi.output import Output, _OutputData  # pyright: ignore[reportPrivateUsage]
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.settings import SETTINGS as _SDK_SETTINGS

# The SDK's settings, as `Output._track` reads them. `Any`: their attributes are context
# properties (pulumi/runtime/settings.py), which type checkers cannot follow.
SETTINGS: Any = _SDK_SETTINGS

# SDK function -> sha256 of its source in the pulumi version constraints.txt pins (3.272.0).
REPLACED: dict[tuple[str, str], str] = {
    ("pulumi.runtime.rpc", "transfer_properties"): (
        "0e7c02ffa04ff20b31cd58a4829188d173300ed40eae0cb7bb48435121c233d9"
    ),
    ("pulumi.runtime.resource", "_get_stack_trace"): (
        "3943b2273016925109e1c3a7bc603db06a44ea09ff3494c29544e44bccf8dd1f"
    ),
    ("pulumi.output", "Output._track"): (
        "72569ad70fd52b205d4b8dcf517861bb6755f8e6d3c3feba6708e16a33a78749"
    ),
}


def fingerprint(function: Callable[..., Any]) -> str:
    """sha256 of a function's source: what a replacement was checked against."""
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def lean_transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, Any]:
    """`transfer_properties` with one future per property (see the module docstring)."""
    resolvers: dict[str, Any] = {}
    loop = asyncio.get_event_loop()
    for name in props:
        if name == "urn" or (name == "id" and custom):
            # Handled by the SDK elsewhere, as in the original.
            continue
        data: asyncio.Future[Any] = loop.create_future()
        resolvers[name] = _Resolver(res, data)
        res.__dict__[name] = Output._from_data(data)  # pyright: ignore[reportPrivateUsage]
    return resolvers


class _Resolver:
    """What the original's four futures and coroutine amount to, set in one step.

    A slotted object rather than a `functools.partial` (which carries a tuple of its arguments
    besides itself): ~76,000 of them at 200 services, alive until the engine answers.
    """

    __slots__ = ("data", "res")

    def __init__(self, res: Any, data: asyncio.Future[Any]) -> None:
        self.res = res
        self.data = data

    def __call__(
        self, value: Any, is_known: bool, is_secret: bool, deps: Any, failed: Exception | None
    ) -> None:
        if failed is not None:
            self.data.set_exception(failed)
            return
        resources = set(deps) if deps else set()
        resources.add(self.res)
        self.data.set_result(
            _OutputData(resources=resources, value=value, is_known=is_known, is_secret=is_secret)
        )


def lean_track(self: Output[Any]) -> None:
    """`Output._track` with one done-callback shared by every Output.

    The original defines its callback inside the method, so each Output carries a function
    object of its own (~150 bytes; 235,000 Outputs are made at 200 services) that refers to
    nothing of the Output's: the callback below is the same code, defined once.
    """
    with SETTINGS.lock:
        SETTINGS.outputs.add(self._data)  # pyright: ignore[reportPrivateUsage]
    self._data.add_done_callback(_untrack_done)  # pyright: ignore[reportPrivateUsage]


def _untrack_done(fut: asyncio.Future[Any]) -> None:
    if fut.cancelled() or (fut.exception() is not None):
        # Left in the set for the SDK to report at the program's end, as in the original.
        return
    with SETTINGS.lock:
        # Already gone when the SDK's wait for outstanding outputs took it: as in the original.
        SETTINGS.outputs.discard(fut)


@functools.cache
def _uri(filename: str) -> str | None:
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:
        return None


def lean_stack_trace() -> source_pb2.StackTrace:
    """`_get_stack_trace` without reading source lines, each file's URI computed once, and one
    message per distinct stack.

    The same frames as the original (the caller's stack above the third `__init__` from the
    top, topmost first), the same positions. Declarations from the same lines (every service of
    a stage goes through the same code) get the same message object: the SDK only reads it
    (`register_resource` and `read_resource` copy it into their request), so sharing it is
    safe, and it spares a message of ~21 frames per resource, which upb allocates outside the
    Python heap (~4 KiB each; docs/performance.md). The cache holds one message per distinct
    stack the program declares from, and never an object of the program's.
    """
    frame = sys._getframe()  # pyright: ignore[reportPrivateUsage]
    seen = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            seen += 1
            if seen == 3:
                break
        frame = frame.f_back
    # No third `__init__`, or nothing above it: the original's `i < 1`.
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    outer = frame.f_back
    positions: list[tuple[str, int | None]] = []
    while outer is not None:
        positions.append((outer.f_code.co_filename, outer.f_lineno))
        outer = outer.f_back
    key = tuple(positions)
    trace = _TRACES.get(key)
    if trace is None:
        trace = _TRACES[key] = _stack_trace(key)
    return trace


_TRACES: dict[tuple[tuple[str, int | None], ...], source_pb2.StackTrace] = {}


def _stack_trace(positions: tuple[tuple[str, int | None], ...]) -> source_pb2.StackTrace:
    frames = []
    for filename, line in positions:
        position = None
        if filename != "" and line is not None:
            uri = _uri(filename)
            if uri is not None:
                position = source_pb2.SourcePosition(uri=uri, line=line)
        frames.append(source_pb2.StackFrame(pc=position))
    return source_pb2.StackTrace(frames=frames)


_REPLACEMENTS: dict[tuple[str, str], Callable[..., Any]] = {
    ("pulumi.runtime.rpc", "transfer_properties"): lean_transfer_properties,
    ("pulumi.runtime.resource", "_get_stack_trace"): lean_stack_trace,
    ("pulumi.output", "Output._track"): lean_track,
}
# Where each replaced name lives: a module, or a class for a method (`Output._track`).
_OWNERS: dict[tuple[str, str], Any] = {
    ("pulumi.runtime.rpc", "transfer_properties"): sdk_rpc,
    ("pulumi.runtime.resource", "_get_stack_trace"): sdk_resource,
    ("pulumi.output", "Output._track"): Output,
}
ORIGINALS: dict[tuple[str, str], Callable[..., Any]] = {
    key: getattr(_OWNERS[key], key[1].rpartition(".")[2]) for key in _REPLACEMENTS
}
"""The SDK's own functions, as imported (before `tune`)."""


def tune() -> dict[str, bool]:
    """Install each replacement whose SDK function is the one it was checked against; raise the
    collector's thresholds. Returns which were installed (`module.function` -> bool). Calling
    it again changes nothing."""
    # The SDK's objects (~0.6M at 200 services before the replacements) are alive until the
    # engine answers: with Python's default thresholds, full collections over them took 63% of
    # the CPU and found little garbage. Collecting the old generations rarely measured
    # 25.3 s -> 17.1 s of CPU at 200 services with the same peak memory (docs/performance.md).
    gc.set_threshold(10_000, 50, 100)
    installed: dict[str, bool] = {}
    for (module_name, attribute), replacement in _REPLACEMENTS.items():
        owner = _OWNERS[(module_name, attribute)]
        name = attribute.rpartition(".")[2]
        current = getattr(owner, name)
        if current is replacement:
            installed[f"{module_name}.{attribute}"] = True
            continue
        ok = fingerprint(current) == REPLACED[(module_name, attribute)]
        if ok:
            setattr(owner, name, replacement)
        installed[f"{module_name}.{attribute}"] = ok
    return installed
