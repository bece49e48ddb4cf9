"""Fixtures shared by all tests: a fresh mocked Pulumi runtime per test, config reset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format

from tests.harness import Recorder, RecordingMonitor, reset_pulumi


@pytest.fixture
def mocks() -> Iterator[Recorder]:
    """A recording mock runtime for stack `dev` with empty config; reset after the test."""
    recorder = Recorder()
    reset_pulumi("dev", recorder)
    yield recorder
    reset_pulumi("dev", Recorder())


@pytest.fixture
def registered_outputs(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """What each component registers with `register_outputs`, as the engine receives it (the
    outputs `pulumi stack export` shows on the component): component URN -> name -> value."""
    registered: dict[str, dict[str, Any]] = {}
    original = RecordingMonitor.RegisterResourceOutputs

    def record(self: RecordingMonitor, request: Any) -> Any:
        registered[request.urn] = json_format.MessageToDict(request.outputs)
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResourceOutputs", record)
    return registered
