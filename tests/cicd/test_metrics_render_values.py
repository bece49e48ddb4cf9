"""`cicd metrics`' text and JSON figures where the hand-checked fixture cannot tell them apart.

The fixture in test_metrics.py has four releases in 30 days and a 40% failure rate, whose
rounding hides a wrong divisor or a wrong number of decimals; these measures are chosen so that
each figure printed or emitted has one right value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cicd.model.metrics import Failure, PublishedMetrics, ServiceMetrics
from cicd.model.release import Release
from cicd.render.documents import metrics_document, published_metrics_document
from cicd.render.metrics import render_metrics

START = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
END = START + timedelta(days=7)
FAILED = Release(execution_id="e-2", status="Failed", commit="b" * 40)


def _measured(*, releases: int, changes: int, failures: tuple[Failure, ...] = ()) -> ServiceMetrics:
    return ServiceMetrics(
        service="web",
        pipeline="web-prod-pipeline",
        start=START,
        end=END,
        releases=releases,
        lead_times=(),
        lead_unknown=0,
        changes=changes,
        failures=failures,
        executions_read=9,
    )


def _published(*, succeeded: int, failed: int) -> PublishedMetrics:
    return PublishedMetrics(
        service="web",
        pipeline="web-prod-pipeline",
        stage="prod",
        start=START,
        end=END,
        started=succeeded + failed,
        succeeded=succeeded,
        failed=failed,
        rolled_back=0,
        lead_count=0,
        lead_median=None,
        lead_p90=None,
        restore_count=0,
        restore_median=None,
    )


def test_the_json_frequency_is_releases_a_day_and_seven_times_that_a_week() -> None:
    # 10 releases in 7 days: 1.429 a day, 10 a week (a week over seven would be 0.204).
    document = metrics_document(_measured(releases=10, changes=10))

    assert document["deploymentFrequency"] == {"releases": 10, "perDay": 1.429, "perWeek": 10.0}


def test_the_published_json_frequency_is_releases_a_day_and_seven_times_that_a_week() -> None:
    document = published_metrics_document(_published(succeeded=10, failed=0))

    assert document["deploymentFrequency"] == {"releases": 10, "perDay": 1.429, "perWeek": 10.0}


def test_the_json_failure_rate_has_four_decimals() -> None:
    failure = Failure(FAILED, "failed in Deploy", at=START, restored=None)

    document = metrics_document(_measured(releases=2, changes=3, failures=(failure,)))

    assert document["changeFailureRate"] == {
        "changes": 3,
        "failures": 1,
        "rate": 0.3333,
        "failedInDeploy": 1,
        "followedByRollback": 0,
        "unclassified": 0,
    }
    assert document["timeToRestore"] == {"count": 0, "medianSeconds": None, "notRestored": 1}


def test_the_published_json_failure_rate_has_four_decimals() -> None:
    document = published_metrics_document(_published(succeeded=2, failed=1))

    assert document["changeFailureRate"]["rate"] == 0.3333


def test_a_window_without_a_change_in_production_says_so_in_words_and_null_in_json() -> None:
    measured = _measured(releases=0, changes=0)

    assert render_metrics(measured)[1:] == [
        "Deployment frequency:  0 successful releases: 0.00/day, 0.0/week",
        "Lead time for changes: no release to measure",
        "  (from the first build of each commit in any environment: commit times are not in "
        "CodePipeline)",
        "Change failure rate:   no change reached production",
        "Time to restore:       no failure to restore from",
    ]
    assert metrics_document(measured)["changeFailureRate"]["rate"] is None
