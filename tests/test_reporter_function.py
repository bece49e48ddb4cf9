"""The reporter function: AWS's sample CodePipeline events in, GitHub requests and metrics out.

The events are the samples of AWS's event reference
(https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html),
with this project's pipeline names. CodePipeline is a botocore Stubber (parameters checked
against AWS's service model); GitHub is a recording opener; every body that reaches it is
checked against GitHub's REST API: the fields each endpoint accepts and the states it allows
(https://docs.github.com/en/rest/deployments/deployments#create-a-deployment,
https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status,
https://docs.github.com/en/rest/commits/statuses#create-a-commit-status).
"""

from __future__ import annotations

import copy
import email.message
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from components import reporter_function as fn

REGION = "us-east-1"
ACCOUNT = "123456789012"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
EXECUTION = "12345678-1234-5678-abcd-12345678abcd"
NOW = datetime(2023, 10, 26, 14, 0, tzinfo=UTC)

# The fields each endpoint takes (GitHub's REST reference above) and the states it allows.
DEPLOYMENT_FIELDS = {
    "ref",
    "task",
    "auto_merge",
    "required_contexts",
    "payload",
    "environment",
    "description",
    "transient_environment",
    "production_environment",
}
DEPLOYMENT_STATUS_FIELDS = {
    "state",
    "target_url",
    "log_url",
    "description",
    "environment",
    "environment_url",
    "auto_inactive",
}
COMMIT_STATUS_FIELDS = {"state", "target_url", "description", "context"}
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
COMMIT_STATES = {"error", "failure", "pending", "success"}

PIPELINES = {
    "web-staging-pipeline": fn.PipelineInfo(
        service="web",
        stage="staging",
        repository="acme/web",
        environment_url="https://web.staging.example.com",
    ),
    "web-prod-pipeline": fn.PipelineInfo(
        service="web",
        stage="prod",
        repository=None,
        production=True,
        environment_url="https://web.example.com",
    ),
}

# AWS's samples ("Pipeline STARTED", "SUCCEEDED", "FAILED", "Stage STARTED"), renamed.
PIPELINE_STARTED = {
    "version": "0",
    "id": "01234567-EXAMPLE",
    "detail-type": "CodePipeline Pipeline Execution State Change",
    "source": "aws.codepipeline",
    "account": ACCOUNT,
    "time": "2020-01-24T22:03:07Z",
    "region": REGION,
    "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pipeline"],
    "detail": {
        "pipeline": "web-staging-pipeline",
        "execution-id": EXECUTION,
        "start-time": "2023-10-26T13:49:39.208Z",
        "execution-trigger": {
            "trigger-type": "StartPipelineExecution",
            "trigger-detail": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/my-user",
        },
        "state": "STARTED",
        "version": 1.0,
        "pipeline-execution-attempt": 1.0,
    },
}
PIPELINE_SUCCEEDED = {
    "version": "0",
    "id": "01234567-EXAMPLE",
    "detail-type": "CodePipeline Pipeline Execution State Change",
    "source": "aws.codepipeline",
    "account": ACCOUNT,
    "time": "2020-01-24T22:03:44Z",
    "region": REGION,
    "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pipeline"],
    "detail": {
        "pipeline": "web-staging-pipeline",
        "execution-id": EXECUTION,
        "start-time": "2023-10-26T13:49:39.208Z",
        "state": "SUCCEEDED",
        "version": 3.0,
        "pipeline-execution-attempt": 1.0,
    },
}
PIPELINE_FAILED = {**copy.deepcopy(PIPELINE_SUCCEEDED)}
PIPELINE_FAILED["detail"]["state"] = "FAILED"
STAGE_STARTED = {
    "version": "0",
    "id": "01234567-EXAMPLE",
    "detail-type": "CodePipeline Stage Execution State Change",
    "source": "aws.codepipeline",
    "account": ACCOUNT,
    "time": "2020-01-24T22:03:07Z",
    "region": REGION,
    "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pipeline"],
    "detail": {
        "pipeline": "web-staging-pipeline",
        "version": 1.0,
        "execution-id": EXECUTION,
        "start-time": "2023-10-26T13:49:39.208Z",
        "stage": "Deploy",
        "state": "STARTED",
        "pipeline-execution-attempt": 1.0,
    },
}


def stage_event(stage: str, state: str, pipeline: str = "web-staging-pipeline") -> dict[str, Any]:
    event = copy.deepcopy(STAGE_STARTED)
    event["detail"].update(stage=stage, state=state, pipeline=pipeline)
    event["resources"] = [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}"]
    return event


class FakeGitHub:
    """Answers like GitHub and records every request (method, path, query, body, headers)."""

    def __init__(self, deployments: list[dict[str, Any]] | None = None) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = []
        self.deployments = deployments or []

    def __call__(self, request: urllib.request.Request, timeout: float) -> Any:
        body = json.loads(request.data) if isinstance(request.data, bytes) else None
        headers = {k.lower(): v for k, v in request.header_items()}
        path = request.full_url.removeprefix(fn.GITHUB_API)
        self.requests.append((request.get_method(), path, body, headers))
        answer: Any = {}
        if request.get_method() == "POST" and path.endswith("/deployments"):
            answer = {"id": 4242}
        elif request.get_method() == "GET" and "/deployments?" in path:
            answer = self.deployments
        elif request.get_method() == "GET" and "/commits/" in path:
            answer = {"commit": {"committer": {"date": "2023-10-26T12:00:00Z"}}}
        return _Response(json.dumps(answer).encode())

    def bodies(self, pattern: str) -> list[dict[str, Any]]:
        return [b or {} for m, p, b, _ in self.requests if m == "POST" and re.search(pattern, p)]


class _Response:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *args: object) -> None:
        return None


@pytest.fixture
def codepipeline() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codepipeline",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudwatch",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_execution(
    stubber: Stubber, pipeline: str = "web-staging-pipeline", **extra: Any
) -> None:
    stubber.add_response(
        "get_pipeline_execution",
        {
            "pipelineExecution": {
                "pipelineName": pipeline,
                "pipelineExecutionId": EXECUTION,
                "status": "InProgress",
                "artifactRevisions": [
                    {"name": "SourceArtifact", "revisionId": COMMIT, "revisionSummary": "{}"}
                ],
                **extra,
            }
        },
        {"pipelineName": pipeline, "pipelineExecutionId": EXECUTION},
    )


def run(
    event: dict[str, Any], codepipeline: Any, cloudwatch: Any, github: FakeGitHub | None
) -> dict[str, Any]:
    return fn.report(
        event,
        PIPELINES,
        codepipeline=codepipeline,
        cloudwatch=cloudwatch,
        github=fn.GitHub("ghp_test", opener=github) if github else None,
        now=NOW,
    )


def assert_github_shapes(github: FakeGitHub) -> None:
    """Every request is one GitHub documents, with only its fields and allowed states."""
    for method, path, body, headers in github.requests:
        assert headers["authorization"] == "Bearer ghp_test"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["accept"] == "application/vnd.github+json"
        if method == "GET":
            continue
        assert body is not None, path
        if re.fullmatch(r"/repos/[^/]+/[^/]+/deployments", path):
            assert set(body) <= DEPLOYMENT_FIELDS, set(body) - DEPLOYMENT_FIELDS
            assert "ref" in body
        elif re.fullmatch(r"/repos/[^/]+/[^/]+/deployments/\d+/statuses", path):
            assert set(body) <= DEPLOYMENT_STATUS_FIELDS, set(body) - DEPLOYMENT_STATUS_FIELDS
            assert body["state"] in DEPLOYMENT_STATES
        elif re.fullmatch(r"/repos/[^/]+/[^/]+/statuses/[0-9a-f]{40}", path):
            assert set(body) <= COMMIT_STATUS_FIELDS, set(body) - COMMIT_STATUS_FIELDS
            assert body["state"] in COMMIT_STATES
            assert len(body["description"]) <= 140
        else:
            pytest.fail(f"a request GitHub does not document: {method} {path}")


def test_deploy_started_creates_a_deployment_of_the_commit_then_marks_it_in_progress(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    github = FakeGitHub()
    run(STAGE_STARTED, client, cloudwatch[0], github)
    assert_github_shapes(github)
    assert [(m, p) for m, p, _, _ in github.requests] == [
        ("GET", f"/repos/acme/web/deployments?sha={COMMIT}&environment=staging"),
        ("POST", "/repos/acme/web/deployments"),
        ("POST", "/repos/acme/web/deployments/4242/statuses"),
    ]
    deployment, status = github.requests[1][2], github.requests[2][2]
    assert deployment == {
        "ref": COMMIT,
        "task": "deploy",
        "environment": "staging",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"execution_id": EXECUTION, "service": "web"},
        "description": "web to staging by CodePipeline",
        "transient_environment": False,
        "production_environment": False,
    }
    assert status == {
        "state": "in_progress",
        "log_url": f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"web-staging-pipeline/executions/{EXECUTION}/timeline?region={REGION}",
        "description": "web started in staging",
        "environment": "staging",
        "environment_url": "https://web.staging.example.com",
        "auto_inactive": True,
    }


@pytest.mark.parametrize(("state", "expected"), [("SUCCEEDED", "success"), ("FAILED", "failure")])
def test_deploy_end_sets_the_state_on_the_deployment_this_execution_made(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], state: str, expected: str
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    github = FakeGitHub(
        deployments=[
            {"id": 1, "payload": {"execution_id": "an-older-execution"}},
            {"id": 77, "payload": {"execution_id": EXECUTION}},
        ]
    )
    run(stage_event("Deploy", state), client, cloudwatch[0], github)
    assert_github_shapes(github)
    assert [(m, p) for m, p, _, _ in github.requests] == [
        ("GET", f"/repos/acme/web/deployments?sha={COMMIT}&environment=staging"),
        ("POST", "/repos/acme/web/deployments/77/statuses"),
    ]
    assert github.bodies("/statuses$")[0]["state"] == expected


def test_a_started_event_delivered_twice_makes_one_deployment(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    # The first delivery made deployment 77 for this execution; EventBridge delivers again.
    github = FakeGitHub(deployments=[{"id": 77, "payload": {"execution_id": EXECUTION}}])
    run(STAGE_STARTED, client, cloudwatch[0], github)
    assert [(m, p.split("?")[0]) for m, p, _, _ in github.requests] == [
        ("GET", "/repos/acme/web/deployments"),
        ("POST", "/repos/acme/web/deployments/77/statuses"),
    ]


def test_a_deploy_end_whose_start_was_lost_creates_the_deployment_first(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    github = FakeGitHub(deployments=[{"id": 1, "payload": {"execution_id": "another"}}])
    run(stage_event("Deploy", "SUCCEEDED"), client, cloudwatch[0], github)
    assert [(m, p.split("?")[0]) for m, p, _, _ in github.requests] == [
        ("GET", "/repos/acme/web/deployments"),
        ("POST", "/repos/acme/web/deployments"),
        ("POST", "/repos/acme/web/deployments/4242/statuses"),
    ]


@pytest.mark.parametrize(
    ("stage", "state", "expected"),
    [
        ("Build", "STARTED", "pending"),
        ("Build", "SUCCEEDED", "success"),
        ("Test", "FAILED", "failure"),
        ("Test", "CANCELED", "error"),
    ],
)
def test_build_and_test_stages_report_a_commit_status_per_stage(
    codepipeline: tuple[Any, Stubber],
    cloudwatch: tuple[Any, Stubber],
    stage: str,
    state: str,
    expected: str,
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    github = FakeGitHub()
    run(stage_event(stage, state), client, cloudwatch[0], github)
    assert_github_shapes(github)
    assert [p for _, p, _, _ in github.requests] == [f"/repos/acme/web/statuses/{COMMIT}"]
    body = github.requests[0][2] or {}
    assert body["state"] == expected
    assert body["context"] == f"cicd/web-staging/{stage.lower()}"
    assert body["target_url"].endswith(f"/executions/{EXECUTION}/timeline?region={REGION}")


@pytest.mark.parametrize("stage", ["Source", "Approval", "Publish"])
def test_other_stages_send_nothing_to_github(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], stage: str
) -> None:
    client, _ = codepipeline
    github = FakeGitHub()
    # Not even the commit is looked up: the Stubber refuses any call not expected.
    done = run(stage_event(stage, "SUCCEEDED"), client, cloudwatch[0], github)
    assert github.requests == []
    assert "commit" not in done


def test_a_promoted_release_reads_its_commit_and_repository_from_the_describe_outputs(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    stubber.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "actionName": "Describe",
                    "output": {
                        "outputVariables": {
                            "COMMIT_ID": COMMIT,
                            "REPOSITORY": "acme/web",
                            "COMMIT_MESSAGE": "Fix",
                        }
                    },
                },
                {"actionName": "Release", "output": {"outputVariables": {"VersionId": "v1"}}},
            ]
        },
        {"pipelineName": "web-prod-pipeline", "filter": {"pipelineExecutionId": EXECUTION}},
    )
    github = FakeGitHub()
    run(stage_event("Deploy", "STARTED", "web-prod-pipeline"), client, cloudwatch[0], github)
    assert_github_shapes(github)
    deployment = github.requests[1][2] or {}
    assert github.requests[1][1] == "/repos/acme/web/deployments"
    assert deployment["environment"] == "prod"
    assert deployment["production_environment"] is True
    assert (github.requests[2][2] or {})["environment_url"] == "https://web.example.com"


def test_a_promoted_release_whose_commit_is_not_known_yet_sends_nothing(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    stubber.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {"pipelineName": "web-prod-pipeline", "filter": {"pipelineExecutionId": EXECUTION}},
    )
    github = FakeGitHub()
    done = run(stage_event("Deploy", "STARTED", "web-prod-pipeline"), client, cloudwatch[0], github)
    assert github.requests == []
    assert done["commit"] is None


def test_a_success_whose_trigger_names_the_commit_needs_no_execution_lookup(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    event = copy.deepcopy(PIPELINE_SUCCEEDED)
    event["detail"]["execution-trigger"] = {
        "trigger-type": "WebhookV2",
        "commit-id": COMMIT,
        "full-repository-name": "acme/web",
    }
    client, stubber = codepipeline
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": "web-staging-pipeline", "maxResults": 20},
    )
    watch, watch_stub = cloudwatch
    watch_stub.add_response("put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY})
    github = FakeGitHub()
    done = run(event, client, watch, github)
    assert done["commit"] == COMMIT
    assert done["metrics"] == ["ReleasesSucceeded", "LeadTime"]


def test_pipeline_started_counts_a_release_and_takes_the_commit_from_the_trigger(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    event = copy.deepcopy(PIPELINE_STARTED)
    event["detail"]["execution-trigger"] = {
        "trigger-type": "WebhookV2",
        "commit-id": COMMIT,
        "full-repository-name": "acme/web",
    }
    watch, watch_stub = cloudwatch
    watch_stub.add_response(
        "put_metric_data",
        {},
        {
            "Namespace": "Delivery",
            "MetricData": [
                {
                    "MetricName": "ReleasesStarted",
                    "Dimensions": [
                        {"Name": "Service", "Value": "web"},
                        {"Name": "Stage", "Value": "staging"},
                    ],
                    "Timestamp": NOW,
                    "Value": 1,
                    "Unit": "Count",
                }
            ],
        },
    )
    github = FakeGitHub()
    # No GetPipelineExecution: the trigger names the commit and says it is not a rollback.
    done = run(event, codepipeline[0], watch, github)
    assert done["commit"] == COMMIT
    assert done["metrics"] == ["ReleasesStarted"]
    assert github.requests == []


def test_pipeline_succeeded_publishes_the_release_its_lead_time_and_the_restore_time(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)  # the commit
    expect_execution(stubber, executionType="STANDARD")  # not a rollback
    stubber.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {"pipelineExecutionId": EXECUTION, "status": "Succeeded", "startTime": NOW},
                {
                    "pipelineExecutionId": "superseded",
                    "status": "Superseded",
                    "lastUpdateTime": NOW - timedelta(hours=1),
                },
                {
                    "pipelineExecutionId": "failed",
                    "status": "Failed",
                    "lastUpdateTime": NOW - timedelta(hours=2),
                },
            ]
        },
        {"pipelineName": "web-staging-pipeline", "maxResults": 20},
    )
    watch, watch_stub = cloudwatch
    watch_stub.add_response("put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY})
    github = FakeGitHub()
    done = run(PIPELINE_SUCCEEDED, client, watch, github)
    assert done["metrics"] == ["ReleasesSucceeded", "LeadTime", "TimeToRestore"]
    assert [p for _, p, _, _ in github.requests] == [f"/repos/acme/web/commits/{COMMIT}"]
    data = fn.metric_data(
        PIPELINES["web-staging-pipeline"],
        fn.Measure(succeeded=True),
        NOW,
        lead_time=7200.0,
        time_to_restore=7200.0,
    )
    assert [(d["MetricName"], d["Value"], d["Unit"]) for d in data] == [
        ("ReleasesSucceeded", 1, "Count"),
        ("LeadTime", 7200.0, "Seconds"),
        ("TimeToRestore", 7200.0, "Seconds"),
    ]


def test_pipeline_failed_counts_a_failed_release_without_github(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)  # the commit, for the release's log line
    expect_execution(stubber, executionType="STANDARD")  # not a rollback
    watch, watch_stub = cloudwatch
    watch_stub.add_response(
        "put_metric_data",
        {},
        {
            "Namespace": "Delivery",
            "MetricData": [
                {
                    "MetricName": "ReleasesFailed",
                    "Dimensions": [
                        {"Name": "Service", "Value": "web"},
                        {"Name": "Stage", "Value": "staging"},
                    ],
                    "Timestamp": NOW,
                    "Value": 1,
                    "Unit": "Count",
                }
            ],
        },
    )
    done = run(PIPELINE_FAILED, client, watch, None)
    assert done["record"] == "release"
    assert done["commit"] == COMMIT
    assert "github" not in done


def test_a_rollback_counts_as_rolled_back_never_as_a_release() -> None:
    info = PIPELINES["web-staging-pipeline"]
    started = fn.metric_data(info, fn.Measure(started=True, rollback=True), NOW)
    assert [d["MetricName"] for d in started] == ["ReleasesRolledBack"]
    succeeded = fn.metric_data(
        info, fn.Measure(succeeded=True, rollback=True), NOW, lead_time=5.0, time_to_restore=60.0
    )
    assert [d["MetricName"] for d in succeeded] == ["TimeToRestore"]


def test_restore_time_runs_from_the_failure_or_from_the_rollback_of_a_bad_success() -> None:
    t0 = NOW - timedelta(hours=3)
    failed_before = [
        {"pipelineExecutionId": "now", "status": "Succeeded", "startTime": NOW},
        {"pipelineExecutionId": "stopped", "status": "Stopped", "lastUpdateTime": t0},
        {"pipelineExecutionId": "bad", "status": "Failed", "lastUpdateTime": t0},
    ]
    assert fn.restore_seconds(failed_before, "now", False, NOW) == 3 * 3600
    good_before = [
        {"pipelineExecutionId": "now", "status": "Succeeded", "startTime": NOW},
        {"pipelineExecutionId": "ok", "status": "Succeeded", "lastUpdateTime": t0},
    ]
    assert fn.restore_seconds(good_before, "now", False, NOW) is None
    rollback = [
        {
            "pipelineExecutionId": "rb",
            "status": "Succeeded",
            "startTime": NOW - timedelta(minutes=8),
        },
        {"pipelineExecutionId": "bad-but-green", "status": "Succeeded", "lastUpdateTime": t0},
    ]
    assert fn.restore_seconds(rollback, "rb", True, NOW) == 8 * 60


PR_EVENT = {
    **copy.deepcopy(PIPELINE_SUCCEEDED),
    "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pr"],
}
PR_EVENT["detail"] = {**PR_EVENT["detail"], "pipeline": "web-staging-pr"}


@pytest.mark.parametrize(
    ("state", "expected"), [("STARTED", "pending"), ("SUCCEEDED", "success"), ("FAILED", "failure")]
)
def test_a_tagged_pull_request_pipeline_reports_one_status_named_after_service_and_stage(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], state: str, expected: str
) -> None:
    client, stubber = codepipeline
    arn = PR_EVENT["resources"][0]
    stubber.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "cicd:pipeline-kind", "value": "pull-requests"}]},
        {"resourceArn": arn},
    )
    expect_execution(stubber, pipeline="web-staging-pr")
    event = copy.deepcopy(PR_EVENT)
    event["detail"]["state"] = state
    github = FakeGitHub()
    done = run(event, client, cloudwatch[0], github)
    assert_github_shapes(github)
    assert [p for _, p, _, _ in github.requests] == [f"/repos/acme/web/statuses/{COMMIT}"]
    body = github.requests[0][2] or {}
    assert body["context"] == "cicd/web-staging-pr"
    assert body["state"] == expected
    assert "metrics" not in done, "a pull-request run is not a release"


def test_an_untagged_pr_named_pipeline_is_ignored(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    stubber.add_response(
        "list_tags_for_resource", {"tags": []}, {"resourceArn": PR_EVENT["resources"][0]}
    )
    github = FakeGitHub()
    done = run(copy.deepcopy(PR_EVENT), client, cloudwatch[0], github)
    assert done["record"] == "ignored"
    assert github.requests == []


def test_a_long_description_is_cut_to_githubs_140_characters() -> None:
    info = fn.PipelineInfo(service="s" * 150, stage="staging", repository="acme/web")
    requests = fn.github_requests(
        stage_event("Build", "SUCCEEDED"), info, fn.Revision(COMMIT, "acme/web")
    )
    assert len((requests[0].body or {})["description"]) == 140


def test_the_pipelines_file_round_trips() -> None:
    text = json.dumps(
        {
            "web-prod-pipeline": {
                "service": "web",
                "stage": "prod",
                "repository": None,
                "production": True,
                "environment_url": "https://web.example.com",
            }
        }
    )
    assert fn.load_pipelines(text) == {"web-prod-pipeline": PIPELINES["web-prod-pipeline"]}


def test_the_lambda_entry_point_reads_the_token_once_and_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`handler` as Lambda calls it: pipelines.json beside the module, the token from Secrets
    Manager (read once per container), the runtime's boto3, GitHub over urllib."""
    (tmp_path / "pipelines.json").write_text(
        json.dumps(
            {
                "web-staging-pipeline": {
                    "service": "web",
                    "stage": "staging",
                    "repository": "acme/web",
                }
            }
        )
    )
    monkeypatch.setattr(fn, "__file__", str(tmp_path / "reporter_function.py"))
    monkeypatch.setattr(fn, "_token", [])
    secret_arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gh-AbCdEf"
    monkeypatch.setenv("GITHUB_TOKEN_SECRET_ARN", secret_arn)
    clients: dict[str, Any] = {}
    stubbers: list[Stubber] = []
    for service in ("secretsmanager", "codepipeline", "cloudwatch"):
        client = boto3.client(
            service, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        stubber = Stubber(client)
        stubber.activate()
        clients[service] = client
        stubbers.append(stubber)
    stubbers[0].add_response(
        "get_secret_value", {"SecretString": "ghp_test\n"}, {"SecretId": secret_arn}
    )
    for _ in range(2):
        expect_execution(stubbers[1])
    monkeypatch.setattr(boto3, "client", lambda service, **_: clients[service])
    github = FakeGitHub()
    monkeypatch.setattr(urllib.request, "urlopen", github)

    fn.handler(stage_event("Build", "SUCCEEDED"), None)
    fn.handler(stage_event("Test", "SUCCEEDED"), None)

    assert [p for _, p, _, _ in github.requests] == [f"/repos/acme/web/statuses/{COMMIT}"] * 2
    assert_github_shapes(github)  # the token, stripped, as a Bearer token
    for stubber in stubbers:
        stubber.assert_no_pending_responses()  # one GetSecretValue for two events
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["record"], e["step"], e["state"]) for e in logged] == [
        ("event", "Build", "SUCCEEDED"),
        ("event", "Test", "SUCCEEDED"),
    ]


def test_a_github_refusal_is_logged_with_its_answer_and_raised_for_lambda_to_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pipelines.json").write_text(
        json.dumps(
            {
                "web-staging-pipeline": {
                    "service": "web",
                    "stage": "staging",
                    "repository": "acme/web",
                }
            }
        )
    )
    monkeypatch.setattr(fn, "__file__", str(tmp_path / "reporter_function.py"))
    monkeypatch.setattr(fn, "_token", ["ghp_test"])
    monkeypatch.setenv("GITHUB_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x")
    codepipeline = boto3.client(
        "codepipeline", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    stubber = Stubber(codepipeline)
    stubber.activate()
    expect_execution(stubber)
    monkeypatch.setattr(boto3, "client", lambda service, **_: codepipeline)

    def refuse(request: urllib.request.Request, timeout: float) -> Any:
        raise urllib.error.HTTPError(
            request.full_url,
            403,
            "Forbidden",
            email.message.Message(),
            io.BytesIO(b'{"message":"Resource not accessible by personal access token"}'),
        )

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(urllib.error.HTTPError):
        fn.handler(stage_event("Build", "SUCCEEDED"), None)
    logged = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert logged["record"] == "github-error" and logged["status"] == 403
    assert "Resource not accessible by personal access token" in logged["body"]


@pytest.mark.parametrize("state", ["SUPERSEDED", "STOPPED", "CANCELED", "RESUMED"])
def test_other_pipeline_states_count_nothing_and_look_nothing_up(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], state: str
) -> None:
    event = copy.deepcopy(PIPELINE_SUCCEEDED)
    event["detail"]["state"] = state
    github = FakeGitHub()
    # Neither Stubber has a response queued: any call would fail the test.
    done = run(event, codepipeline[0], cloudwatch[0], github)
    assert done["record"] == "event"
    assert github.requests == []


def test_the_reporter_knows_a_pull_request_pipeline_by_the_tag_that_pipeline_carries() -> None:
    from components import pull_requests

    assert (fn.PR_TAG_KEY, fn.PR_TAG_VALUE) == (
        pull_requests.TAG_PIPELINE_KIND,
        pull_requests.PULL_REQUEST_KIND,
    )


def test_a_description_of_exactly_140_characters_is_kept_whole() -> None:
    # "<service>: Build succeeded in staging" is 140 characters with this service name.
    service = "s" * (140 - len(": Build succeeded in staging"))
    info = fn.PipelineInfo(service=service, stage="staging", repository="acme/web")
    requests = fn.github_requests(
        stage_event("Build", "SUCCEEDED"), info, fn.Revision(COMMIT, "acme/web")
    )
    assert (requests[0].body or {})["description"] == f"{service}: Build succeeded in staging"


def test_an_event_naming_its_type_detail_type_in_camel_case_is_reported_the_same(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    event = stage_event("Build", "SUCCEEDED")
    event["detailType"] = event.pop("detail-type")
    github = FakeGitHub()
    done = run(event, client, cloudwatch[0], github)
    assert [p for _, p, _, _ in github.requests] == [f"/repos/acme/web/statuses/{COMMIT}"]
    assert done["commit"] == COMMIT


def test_a_post_to_github_is_sent_as_json_and_a_get_carries_no_content_type(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    github = FakeGitHub()
    run(STAGE_STARTED, client, cloudwatch[0], github)
    content_types = [(m, h.get("content-type")) for m, _, _, h in github.requests]
    assert content_types == [
        ("GET", None),
        ("POST", "application/json"),
        ("POST", "application/json"),
    ]


@pytest.mark.parametrize(
    "execution",
    [{"executionType": "ROLLBACK"}, {"trigger": {"triggerType": "ManualRollback"}}],
    ids=["execution-type", "trigger-type"],
)
def test_a_started_rollback_the_event_does_not_name_counts_as_rolled_back(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], execution: dict[str, Any]
) -> None:
    event = copy.deepcopy(PIPELINE_SUCCEEDED)  # no execution-trigger: looked up
    event["detail"]["state"] = "STARTED"
    client, stubber = codepipeline
    expect_execution(stubber)  # the commit
    expect_execution(stubber, **execution)  # the rollback
    watch, watch_stub = cloudwatch
    watch_stub.add_response("put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY})
    done = run(event, client, watch, None)
    assert done["rollback"] is True
    assert done["metrics"] == ["ReleasesRolledBack"]


@pytest.mark.parametrize(
    "pipeline",
    ["api-staging-pr", "web-prod-pr"],
    ids=["unknown-service", "promoted-stage"],
)
def test_a_pr_named_pipeline_of_no_stage_building_from_github_is_ignored_untouched(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber], pipeline: str
) -> None:
    event = copy.deepcopy(PR_EVENT)
    event["detail"]["pipeline"] = pipeline
    event["resources"] = [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}"]
    github = FakeGitHub()
    # No response queued: reading the pipeline's tags would fail the test.
    done = run(event, codepipeline[0], cloudwatch[0], github)
    assert done == {"record": "ignored", "pipeline": pipeline}
    assert github.requests == []


def test_a_release_logs_its_pipeline_execution_state_and_commit(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    client, stubber = codepipeline
    expect_execution(stubber)
    expect_execution(stubber, executionType="STANDARD")
    watch, watch_stub = cloudwatch
    watch_stub.add_response("put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY})
    done = run(PIPELINE_FAILED, client, watch, None)
    assert done == {
        "record": "release",
        "service": "web",
        "stage": "staging",
        "pipeline": "web-staging-pipeline",
        "execution": EXECUTION,
        "state": "FAILED",
        "step": "pipeline",
        "commit": COMMIT,
        "rollback": False,
        "metrics": ["ReleasesFailed"],
    }


def test_a_trigger_named_commit_is_looked_up_in_the_pipelines_repository(
    codepipeline: tuple[Any, Stubber], cloudwatch: tuple[Any, Stubber]
) -> None:
    event = copy.deepcopy(PIPELINE_SUCCEEDED)
    event["detail"]["execution-trigger"] = {
        "trigger-type": "WebhookV2",
        "commit-id": COMMIT,
        "full-repository-name": "acme/web",
    }
    client, stubber = codepipeline
    # ListPipelineExecutions may leave out an empty list: no restore time, no error.
    stubber.add_response(
        "list_pipeline_executions", {}, {"pipelineName": "web-staging-pipeline", "maxResults": 20}
    )
    watch, watch_stub = cloudwatch
    watch_stub.add_response("put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY})
    github = FakeGitHub()
    done = run(event, client, watch, github)
    assert [(m, p) for m, p, _, _ in github.requests] == [
        ("GET", f"/repos/acme/web/commits/{COMMIT}")
    ]
    assert done["metrics"] == ["ReleasesSucceeded", "LeadTime"]


def test_the_lambda_entry_point_publishes_a_releases_metrics_to_cloudwatch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    (tmp_path / "pipelines.json").write_text(
        json.dumps(
            {"web-staging-pipeline": {"service": "web", "stage": "staging", "repository": "a/b"}}
        )
    )
    monkeypatch.setattr(fn, "__file__", str(tmp_path / "reporter_function.py"))
    monkeypatch.delenv("GITHUB_TOKEN_SECRET_ARN", raising=False)
    clients: dict[str, Any] = {}
    stubbers: dict[str, Stubber] = {}
    for service in ("codepipeline", "cloudwatch"):
        clients[service] = boto3.client(
            service, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        stubbers[service] = Stubber(clients[service])
        stubbers[service].activate()
    expect_execution(stubbers["codepipeline"])
    expect_execution(stubbers["codepipeline"], executionType="STANDARD")
    stubbers["cloudwatch"].add_response(
        "put_metric_data", {}, {"Namespace": "Delivery", "MetricData": ANY}
    )
    monkeypatch.setattr(boto3, "client", lambda service, **_: clients[service])

    done = fn.handler(PIPELINE_FAILED, None)

    assert done["metrics"] == ["ReleasesFailed"]
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
