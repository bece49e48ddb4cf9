"""`cicd metrics`: the four DORA measures from a fixed history, checked by hand.

The fixture (window 2025-04-01 12:00 to 2025-05-01 12:00 UTC, 30 days; times UTC):

    prod execution  commit  status                       start        end      first build
    P0              Z       Succeeded                    Mar 30 10:00 (before the window)
    P1              A       Succeeded                    Apr 10 10:00 10:30    dev Apr  9 10:00
    P2              B       Failed in Deploy             Apr 12 10:00 10:20
    P3              -       AutomatedRollback, Succeeded Apr 12 10:21 10:31
    P4              C       Failed at Approval           Apr 15 09:00 17:00
    P5              C       Succeeded                    Apr 16 09:00 09:40    dev Apr 14 11:00
    P6              -       ManualRollback, Succeeded    Apr 16 11:00 11:08
    P7              D       Succeeded                    Apr 20 10:00 10:25    dev Apr 20 08:00
    P8              E       Superseded                   Apr 22 10:00 10:05
    P9              F       Succeeded                    Apr 25 10:00 10:10    staging Apr 25 09:00

By hand:
- Deployment frequency: P1, P5, P7, P9 = 4 releases; 4 / 30 = 0.133 a day, 0.933 a week.
- Lead time: P1 24h30m, P5 46h40m, P7 2h25m, P9 1h10m; median (2h25m + 24h30m) / 2 =
  13h27m30s; 90th percentile (nearest rank, 4th of 4) 46h40m.
- Changes: P1, P2, P5, P7, P9 = 5 (P4 failed before Deploy, P8 was superseded, rollbacks are not
  changes). Failures: P2 (failed in Deploy) and P5 (followed by rollback P6 before the next
  change P7) = 2 of 5, 40%.
- Time to restore: P2 from its end 10:20 to P3's end 10:31 = 11m; P5 from P6's start 11:00 to
  P6's end 11:08 = 8m; median 9m30s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY
from moto import mock_aws

from cicd.aws.metrics import QUERIES, metric_queries, window
from cicd.decide.metrics import compute, use_published
from cicd.model.metrics import PublishedMetrics, median, percentile
from cicd.model.release import Release
from cicd.model.status import Unknown
from tests.cicd.aws_fakes import (
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    execution_id,
    expect_discovery,
    session,
    sha,
)
from tests.cicd.docs import assert_documented_shape

START = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
END = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


# (n, commit number, status, rollback, start, end, failed stage)
PROD: list[tuple[int, int | None, str, bool, datetime, datetime, str | None]] = [
    (9, 6, "Succeeded", False, at(4, 25, 10), at(4, 25, 10, 10), None),
    (8, 5, "Superseded", False, at(4, 22, 10), at(4, 22, 10, 5), None),
    (7, 4, "Succeeded", False, at(4, 20, 10), at(4, 20, 10, 25), None),
    (6, None, "Succeeded", True, at(4, 16, 11), at(4, 16, 11, 8), None),
    (5, 3, "Succeeded", False, at(4, 16, 9), at(4, 16, 9, 40), None),
    (4, 3, "Failed", False, at(4, 15, 9), at(4, 15, 17), "Approval"),
    (3, None, "Succeeded", True, at(4, 12, 10, 21), at(4, 12, 10, 31), None),
    (2, 2, "Failed", False, at(4, 12, 10), at(4, 12, 10, 20), "Deploy"),
    (1, 1, "Succeeded", False, at(4, 10, 10), at(4, 10, 10, 30), None),
    (0, 26, "Succeeded", False, at(3, 30, 10), at(3, 30, 10, 30), None),
]
FIRST_BUILDS = {
    sha(1): at(4, 9, 10),
    sha(3): at(4, 14, 11),
    sha(4): at(4, 20, 8),
    sha(6): at(4, 25, 9),
}


def _release(
    n: int, commit: int | None, status: str, rollback: bool, start: datetime, end: datetime
) -> Release:
    return Release(
        execution_id=execution_id(n),
        status=status,
        commit=sha(commit) if commit is not None else None,
        started=start,
        updated=end,
        is_rollback=rollback,
        trigger="AutomatedRollback" if rollback else "StartPipelineExecution",
    )


def test_the_four_measures_match_the_hand_checked_fixture() -> None:
    releases = [_release(*row[:6]) for row in PROD]
    failed_stages = {execution_id(row[0]): row[6] for row in PROD}

    m = compute(
        "web",
        "web-prod-pipeline",
        releases,
        FIRST_BUILDS,
        lambda release: failed_stages[release.execution_id],
        start=START,
        end=END,
    )

    assert (m.releases, round(m.per_day, 3), round(m.per_day * 7, 3)) == (4, 0.133, 0.933)
    assert sorted(m.lead_times) == [
        timedelta(hours=1, minutes=10),
        timedelta(hours=2, minutes=25),
        timedelta(hours=24, minutes=30),
        timedelta(hours=46, minutes=40),
    ]
    assert median(m.lead_times) == timedelta(hours=13, minutes=27, seconds=30)
    assert percentile(m.lead_times, 0.9) == timedelta(hours=46, minutes=40)
    assert (m.changes, len(m.failures), m.failure_rate) == (5, 2, 0.4)
    assert [(f.release.execution_id, f.kind) for f in m.failures] == [
        (execution_id(2), "failed in Deploy"),
        (execution_id(5), "followed by a rollback"),
    ]
    assert m.restore_times == (timedelta(minutes=11), timedelta(minutes=8))
    assert median(m.restore_times) == timedelta(minutes=9, seconds=30)


def test_a_failure_without_a_later_success_is_not_restored_yet() -> None:
    releases = [_release(2, 2, "Failed", False, at(4, 12, 10), at(4, 12, 10, 20))]

    m = compute("web", "p", releases, {}, lambda r: "Deploy", start=START, end=END)

    assert (len(m.failures), m.failures[0].restored, m.restore_times) == (1, None, ())


def test_a_failed_release_whose_stage_cannot_be_read_counts_as_an_unclassified_failure() -> None:
    from cicd.model.status import Unknown

    releases = [_release(2, 2, "Failed", False, at(4, 12, 10), at(4, 12, 10, 20))]

    m = compute(
        "web", "p", releases, {}, lambda r: Unknown("unknown (needs x)"), start=START, end=END
    )

    assert [f.kind for f in m.failures] == ["unclassified"]


# ---------------------------------------------------------------------------------------------
# The command, against stubbed histories that take two pages to cover the window.


@pytest.fixture
def histories() -> Iterator[tuple[StubbedAws, ReleaseBucket]]:
    with mock_aws():
        s3 = session().client("s3")
        bucket = ReleaseBucket(s3)
        stubs = StubbedAws({"s3": s3})
        yield stubs, bucket
        stubs.verify()


def _summary(
    n: int, status: str, start: datetime, end: datetime, **revision: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pipelineExecutionId": execution_id(n),
        "status": status,
        "startTime": start,
        "lastUpdateTime": end,
        "trigger": {"triggerType": "StartPipelineExecution"},
        "executionType": "STANDARD",
        "sourceRevisions": [],
    }
    if revision.get("version"):
        item["sourceRevisions"] = [{"actionName": "Release", "revisionId": revision["version"]}]
    if revision.get("commit") is not None:
        item["sourceRevisions"] = [{"actionName": "GitHub", "revisionId": sha(revision["commit"])}]
    if revision.get("rollback"):
        item["executionType"] = "ROLLBACK"
        item["trigger"] = {"triggerType": "AutomatedRollback"}
    return item


def _failed_in(aws: StubbedAws, n: int, stage: str) -> None:
    aws.codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "pipelineExecutionId": execution_id(n),
                    "stageName": stage,
                    "actionName": "web" if stage == "Deploy" else "Approve",
                    "status": "Failed",
                }
            ]
        },
        {
            "pipelineName": "web-prod-pipeline",
            "filter": {"pipelineExecutionId": execution_id(n)},
            "maxResults": 100,
        },
    )


def _published(aws: StubbedAws, values: dict[str, float], **extra: Any) -> None:
    """GetMetricData's answer: one value per query id in `values`, none for the others."""
    aws.stub("cloudwatch").add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": query_id,
                    "StatusCode": "Complete",
                    "Timestamps": [START] if query_id in values else [],
                    "Values": [values[query_id]] if query_id in values else [],
                }
                for query_id, _, _ in QUERIES
            ]
        },
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, **extra},
    )


def _fixture(aws: StubbedAws, bucket: ReleaseBucket) -> None:
    versions = {
        commit: bucket.publish(commit, payload_bytes=10) for commit in (26, 1, 2, 3, 4, 5, 6)
    }
    expect_discovery(
        aws.tagging,
        stage=None,
        service="web",
        found=[
            ("web-dev-pipeline", "web", "dev"),
            ("web-staging-pipeline", "web", "staging"),
            ("web-prod-pipeline", "web", "prod", "staging"),
        ],
    )
    _published(aws, {})  # the stage published nothing in the window: computed from executions
    aws.expect_promoted_pipeline("web", "prod")
    summaries = [
        _summary(
            n, status, start, end, version=versions[commit] if commit else None, rollback=rollback
        )
        for n, commit, status, rollback, start, end, _ in PROD
    ]
    prod = {"pipelineName": "web-prod-pipeline", "maxResults": 100}
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": summaries[:5], "nextToken": "older"},
        prod,
    )
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": summaries[5:], "nextToken": "even-older"},
        {**prod, "nextToken": "older"},
    )
    aws.expect_pipeline("web", "dev")
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                _summary(104, "Succeeded", at(4, 20, 8), at(4, 20, 8, 20), commit=4),
                _summary(103, "Succeeded", at(4, 14, 11), at(4, 14, 11, 20), commit=3),
                _summary(101, "Succeeded", at(4, 9, 10), at(4, 9, 10, 20), commit=1),
                _summary(100, "Succeeded", at(2, 1, 10), at(2, 1, 10, 20), commit=99),
            ]
        },
        {"pipelineName": "web-dev-pipeline", "maxResults": 100},
    )
    aws.expect_pipeline("web", "staging")
    aws.codepipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                _summary(206, "Succeeded", at(4, 25, 9), at(4, 25, 9, 30), commit=6),
            ]
        },
        {"pipelineName": "web-staging-pipeline", "maxResults": 100},
    )
    _failed_in(aws, 2, "Deploy")  # in the order the releases ran
    _failed_in(aws, 4, "Approval")


def test_metrics_reads_every_page_of_the_window_and_prints_the_four_measures(
    histories: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = histories
    _fixture(aws, bucket)

    result = cli("metrics", "--service", "web", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Delivery metrics of prod, 2025-04-01 12:00:00 UTC to 2025-05-01 12:00:00 UTC (30 days; "
        "other environments read 30 days further back)",
        "",
        "=== web (web-prod-pipeline)",
        "Source: pipeline executions",
        "Deployment frequency:  4 successful releases: 0.13/day, 0.9/week",
        "Lead time for changes: median 13h 27m, 90th percentile 46h 40m, over 4 releases",
        "  (from the first build of each commit in any environment: commit times are not in "
        "CodePipeline)",
        "Change failure rate:   2 of 5 changes (40%): 1 failed in Deploy, 1 followed by a rollback",
        "Time to restore:       median 9m 30s over 2 failures",
        "Note: no published metrics in the window",
        "",
        "Read 13 executions of 3 pipelines, every page in the window.",
    ]


def test_metrics_json_has_the_documented_shape_and_the_window(
    histories: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = histories
    _fixture(aws, bucket)

    result = cli(
        "metrics", "-s", "web", "--since", "2025-04-01T12:00", "--json", clients=aws.clients()
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("metrics", document)
    assert document["window"] == {
        "start": "2025-04-01T12:00:00+00:00",
        "end": "2025-05-01T12:00:00+00:00",
        "days": 30.0,
        "environment": "prod",
        "lookbackDays": 30,
    }
    [web] = document["services"]
    assert web["leadTime"] == {
        "count": 4,
        "medianSeconds": 48450,
        "p90Seconds": 168000,
        "unknownCommits": 0,
    }
    assert web["changeFailureRate"]["rate"] == 0.4
    assert web["timeToRestore"] == {"count": 2, "medianSeconds": 570, "notRestored": 0}


def test_metrics_with_a_since_that_is_not_a_duration_or_date_is_a_usage_error(
    cli: CliRunner,
) -> None:
    result = cli("metrics", "--since", "last month")

    assert result.code == 2
    assert "'last month' is neither a duration (30d, 12w, 48h) nor a date" in result.err


# Published metrics (issue 21): what the stage's delivery reporter put in CloudWatch.

PUBLISHED: dict[str, float] = {
    "started": 6,
    "succeeded": 4,
    "failed": 1,
    "rolledback": 2,
    "leadcount": 4,
    "leadmedian": 48450,
    "leadp90": 168000,
    "restorecount": 2,
    "restoremedian": 570,
}


def _discover_web_prod(aws: StubbedAws) -> None:
    expect_discovery(
        aws.tagging,
        stage=None,
        service="web",
        found=[("web-prod-pipeline", "web", "prod", "staging")],
    )


def test_metrics_reads_the_published_metrics_when_the_window_has_them_and_says_so(
    cli: CliRunner,
) -> None:
    aws = StubbedAws()
    _discover_web_prod(aws)
    _published(aws, PUBLISHED)

    result = cli("metrics", "--service", "web", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[2:] == [
        "=== web (web-prod-pipeline)",
        "Source: published CloudWatch metrics (namespace Delivery, Service=web, Stage=prod)",
        "Deployment frequency:  4 successful releases: 0.13/day, 0.9/week (6 started)",
        "Lead time for changes: median 13h 27m, 90th percentile 46h 40m, over 4 releases",
        "  (from each commit's date on GitHub)",
        "Change failure rate:   1 of 5 finished releases failed (20%); 2 rollbacks",
        "Time to restore:       median 9m 30s over 2 restores",
    ]
    aws.verify()  # and no pipeline history was read: the Stubber refuses unexpected calls


def test_published_metrics_json_has_the_documented_shape_and_names_the_source(
    cli: CliRunner,
) -> None:
    aws = StubbedAws()
    _discover_web_prod(aws)
    _published(aws, PUBLISHED)

    result = cli("metrics", "-s", "web", "--json", clients=aws.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("metrics", document)
    [web] = document["services"]
    assert web["source"] == "published"
    assert web["leadTime"] == {
        "count": 4,
        "medianSeconds": 48450,
        "p90Seconds": 168000,
        "unknownCommits": None,
    }
    assert web["changeFailureRate"]["rate"] == 0.2
    assert web["timeToRestore"] == {"count": 2, "medianSeconds": 570, "notRestored": None}


def test_the_computed_json_names_its_source_too(
    histories: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = histories
    _fixture(aws, bucket)
    result = cli("metrics", "-s", "web", "--json", clients=aws.clients())
    [web] = json.loads(result.out)["services"]
    assert web["source"] == "executions"
    assert web["notes"] == ["no published metrics in the window"]


def test_source_executions_never_asks_cloudwatch(
    histories: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = histories
    _fixture(aws, bucket)
    # Take back the GetMetricData answer _fixture queued: a call would now fail the test.
    aws.stub("cloudwatch").deactivate()
    del aws._stubbers["cloudwatch"]

    result = cli("metrics", "-s", "web", "--source", "executions", clients=aws.clients())

    assert result.code == 0, result.err
    assert "Source: pipeline executions" in result.out
    assert "Note:" not in result.out


def test_a_denied_metrics_read_falls_back_to_executions_and_names_the_permission(
    histories: tuple[StubbedAws, ReleaseBucket], cli: CliRunner
) -> None:
    aws, bucket = histories
    _fixture(aws, bucket)
    aws.stub("cloudwatch").deactivate()
    del aws._stubbers["cloudwatch"]
    aws.stub("cloudwatch").add_client_error(
        "get_metric_data",
        service_error_code="AccessDenied",
        service_message=(
            "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
            "cloudwatch:GetMetricData because no identity-based policy allows it"
        ),
        http_status_code=403,
    )

    result = cli("metrics", "-s", "web", clients=aws.clients())

    assert result.code == 0, result.err
    assert "Source: pipeline executions" in result.out
    assert "Note: published metrics are unknown (needs cloudwatch:GetMetricData)" in result.out


def test_the_window_is_one_period_of_whole_hours_covering_it() -> None:
    first, last, period = window(START.replace(minute=17), END)
    assert first == START.replace(minute=0)
    assert last == END
    assert period % 3600 == 0 and first + timedelta(seconds=period) >= END
    queries = metric_queries("web", "prod", period)
    assert {
        (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]) for q in queries
    } == {
        ("ReleasesStarted", "Sum"),
        ("ReleasesSucceeded", "Sum"),
        ("ReleasesFailed", "Sum"),
        ("ReleasesRolledBack", "Sum"),
        ("LeadTime", "SampleCount"),
        ("LeadTime", "p50"),
        ("LeadTime", "p90"),
        ("TimeToRestore", "SampleCount"),
        ("TimeToRestore", "p50"),
    }
    assert all(
        q["MetricStat"]["Metric"]["Dimensions"]
        == [{"Name": "Service", "Value": "web"}, {"Name": "Stage", "Value": "prod"}]
        for q in queries
    )


def test_published_metrics_are_used_when_asked_or_when_they_exist() -> None:
    empty = PublishedMetrics("web", "p", "prod", START, END, 0, 0, 0, 0, 0, None, None, 0, None)
    some = PublishedMetrics("web", "p", "prod", START, END, 1, 0, 0, 0, 0, None, None, 0, None)
    assert use_published("auto", some) and not use_published("auto", empty)
    assert use_published("published", empty)
    assert not use_published("executions", some)
    assert not use_published("published", Unknown("unknown (needs cloudwatch:GetMetricData)"))


def test_the_cli_and_the_reporter_agree_on_the_metric_names() -> None:
    from cicd import contract
    from components import reporter_function

    assert contract.METRICS_NAMESPACE == reporter_function.METRICS_NAMESPACE
    assert {m for _, m, _ in QUERIES} == set(reporter_function.METRIC_NAMES)
