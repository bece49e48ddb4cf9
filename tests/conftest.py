"""Fixtures shared by all tests: a fresh mocked Pulumi runtime per test, config reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Recorder, reset_pulumi


@pytest.fixture
def mocks() -> Iterator[Recorder]:
    """A recording mock runtime for stack `dev` with empty config; reset after the test."""
    recorder = Recorder()
    reset_pulumi("dev", recorder)
    yield recorder
    reset_pulumi("dev", Recorder())
