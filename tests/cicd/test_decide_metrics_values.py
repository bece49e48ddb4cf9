"""`cicd.decide.metrics` edge cases of the definitions in its docstring: "next" means started
after, the number of executions read is reported, and a commit's first build is the start of
its first execution that was not a rollback and has a start time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cicd.decide.metrics import compute, first_builds
from cicd.model.release import Release

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START, END = T0 - timedelta(days=1), T0 + timedelta(days=1)
C = "c" * 40


def test_a_success_started_at_the_same_moment_as_a_failed_release_does_not_restore_it() -> None:
    # PARALLEL mode lets two executions start together; only one started after the failure
    # restores it.
    failed = Release("f", "Failed", commit=C, started=T0, updated=T0 + timedelta(minutes=10))
    beside = Release("b", "Succeeded", commit=C, started=T0, updated=T0 + timedelta(minutes=20))
    after = Release(
        "a",
        "Succeeded",
        commit=C,
        started=T0 + timedelta(minutes=30),
        updated=T0 + timedelta(hours=1),
    )

    metrics = compute(
        "web",
        "web-prod-pipeline",
        [failed, beside, after],
        {C: T0},
        lambda r: "Deploy",
        start=START,
        end=END,
    )

    assert [(f.release.execution_id, f.restored) for f in metrics.failures] == [
        ("f", T0 + timedelta(hours=1))
    ]


def test_the_metrics_report_how_many_executions_were_read_including_those_outside_the_window() -> (
    None
):
    before = Release("old", "Succeeded", commit=C, started=START - timedelta(days=3))
    inside = Release("new", "Succeeded", commit=C, started=T0, updated=T0 + timedelta(minutes=5))

    metrics = compute(
        "web", "web-prod-pipeline", [inside, before], {C: T0}, lambda r: None, start=START, end=END
    )

    assert (metrics.releases, metrics.executions_read) == (1, 2)


def test_rollbacks_and_executions_without_a_start_time_are_not_a_commits_first_build() -> None:
    rollback = Release("r", "Succeeded", commit=C, started=T0, is_rollback=True)
    unstarted = Release("u", "Succeeded", commit="d" * 40)

    assert first_builds([[rollback, unstarted]]) == {}
