"""The private bucket's refusal of a protected bucket that destroy could empty (via ArtifactStore)."""

from __future__ import annotations

import pytest

from components.artifact_store import ArtifactStore
from tests.harness import Recorder, run_pulumi


def test_a_protected_store_that_destroy_could_empty_is_refused_with_the_fix(
    mocks: Recorder,
) -> None:
    with pytest.raises(ValueError) as refused:
        run_pulumi(
            lambda: ArtifactStore(
                "store",
                {"service": "web", "stage": "prod", "protect": True, "force_destroy": True},
            )
        )
    assert str(refused.value) == (
        "bucket 'store': protect=True with force_destroy=True would let a protected "
        "bucket be emptied on destroy; set force_destroy=False"
    )
