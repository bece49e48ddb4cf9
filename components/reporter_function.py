"""The delivery reporter's Lambda code: pipeline events in, GitHub deployments, commit statuses
and CloudWatch delivery metrics out.

This module is the function's whole code (`components.delivery_reporter` zips it with a
`pipelines.json` beside it): standard library only, plus the boto3 the Lambda Python runtime
ships, so it needs no packaging. It defines the pure translation of one CodePipeline event into
GitHub requests (`github_requests`) and into metric data (`metric_data`), and `handler`, which
gathers what the events lack and sends both. It declares no resource.

Why a function and not an EventBridge API destination: CodePipeline's state-change events do
not carry the commit of a stage or of most executions
(https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html:
only a pipeline-level event of a trigger-started execution has `execution-trigger.commit-id`),
so something must look it up with GetPipelineExecution (or, for a promoted release, read the
Describe/Configure actions' COMMIT_ID output variable with ListActionExecutions); and a GitHub
deployment takes two calls, the second needing the id the first returns. An API destination
sends one request per event, transformed from the event alone.

Failures never touch the release: EventBridge invokes the function asynchronously, after the
pipeline moved on. An error here (GitHub down, a revoked token) raises, Lambda retries, and the
event lands in the dead-letter queue, whose depth and the function's Errors are alarmed.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GITHUB_API = "https://api.github.com"
# https://docs.github.com/en/rest/about-the-rest-api/api-versions
GITHUB_API_VERSION = "2022-11-28"
METRICS_NAMESPACE = "Delivery"
"""CloudWatch namespace of the delivery metrics (`cicd metrics` reads it back)."""
METRIC_NAMES = (
    "ReleasesStarted",
    "ReleasesSucceeded",
    "ReleasesFailed",
    "ReleasesRolledBack",
    "LeadTime",
    "TimeToRestore",
)
PIPELINES_FILE = "pipelines.json"
# A pull-request pipeline (`<service>-<stage>-pr`) is reported only when this tag says so: the
# tag `components.pull_requests.PullRequestPipeline` puts on its pipeline (this module ships as
# the function's code alone, so it repeats the value; tests/test_reporter_function.py pins both).
PR_TAG_KEY, PR_TAG_VALUE = "cicd:pipeline-kind", "pull-requests"
PR_SUFFIX = "-pr"
STATUS_CONTEXT_PREFIX = "cicd/"
# GitHub rejects a commit status description longer than 140 characters.
DESCRIPTION_MAX = 140
# Allowed states: https://docs.github.com/en/rest/commits/statuses#create-a-commit-status and
# https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status
COMMIT_STATES = ("error", "failure", "pending", "success")
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")

PIPELINE_EVENT = "CodePipeline Pipeline Execution State Change"
STAGE_EVENT = "CodePipeline Stage Execution State Change"
REPORTED_STAGES = ("Build", "Test")
DEPLOY_STAGE = "Deploy"
ROLLBACK_TRIGGERS = ("ManualRollback", "AutomatedRollback")
# Stage and pipeline states (the event reference above) -> commit status / deployment state.
_COMMIT_STATE = {
    "STARTED": "pending",
    "RESUMED": "pending",
    "SUCCEEDED": "success",
    "FAILED": "failure",
    "STOPPED": "error",
    "CANCELED": "error",
    "SUPERSEDED": "error",
}
_DEPLOYMENT_STATE = {
    "STARTED": "in_progress",
    "RESUMED": "in_progress",
    "SUCCEEDED": "success",
    "FAILED": "failure",
    "STOPPED": "error",
    "CANCELED": "error",
}
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class PipelineInfo:
    """What the stack knows of one pipeline: who it deploys, where, and for whom."""

    service: str
    stage: str
    repository: str | None
    """`owner/name` for a pipeline building from GitHub; None when promoted (read per run)."""
    production: bool = False
    environment_url: str | None = None
    pull_request: bool = False

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PipelineInfo:
        return cls(
            service=str(value["service"]),
            stage=str(value["stage"]),
            repository=value.get("repository"),
            production=bool(value.get("production", False)),
            environment_url=value.get("environment_url"),
            pull_request=bool(value.get("pull_request", False)),
        )


@dataclass(frozen=True)
class Revision:
    """The commit an execution runs, and its repository."""

    commit: str
    repository: str


@dataclass(frozen=True)
class Request:
    """One call to GitHub's REST API; `path` may hold `{deployment_id}` (filled in order)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    query: Mapping[str, str] = field(default_factory=dict)


def execution_url(region: str, pipeline: str, execution_id: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}/"
        f"executions/{execution_id}/timeline?region={region}"
    )


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def status_context(info: PipelineInfo, stage: str | None) -> str:
    """`cicd/<service>-<stage>-pr` for a pull-request pipeline, `cicd/<service>-<stage>/<step>`
    for a step of a release pipeline: the name branch protection requires."""
    base = f"{STATUS_CONTEXT_PREFIX}{info.service}-{info.stage}"
    if info.pull_request:
        return f"{base}{PR_SUFFIX}"
    return f"{base}/{(stage or 'pipeline').lower()}"


def github_requests(
    event: Mapping[str, Any], info: PipelineInfo, revision: Revision
) -> list[Request]:
    """The GitHub calls one event makes, in order (pure).

    - a pull-request pipeline: one commit status for the whole execution;
    - a release pipeline's Build or Test stage: one commit status per stage;
    - its Deploy stage: on STARTED a deployment of the commit to the environment named after the
      stage, then a deployment status; on the end, a status on the deployment made for this
      execution (looked up by `{deployment_id}`; the handler creates it if the start was lost).
    Anything else (Source, Approval, Publish, pipeline-level events of release pipelines): none.
    """
    detail = event.get("detail", {})
    kind = event.get("detail-type") or event.get("detailType")
    state = str(detail.get("state", ""))
    pipeline = str(detail.get("pipeline", ""))
    execution_id = str(detail.get("execution-id", ""))
    link = execution_url(str(event.get("region", "")), pipeline, execution_id)
    owner_repo = revision.repository
    if info.pull_request:
        if kind != PIPELINE_EVENT or state not in _COMMIT_STATE:
            return []
        return [
            _commit_status(
                owner_repo,
                revision.commit,
                _COMMIT_STATE[state],
                link,
                f"Build and test {state.lower()} ({pipeline})",
                status_context(info, None),
            )
        ]
    if kind != STAGE_EVENT:
        return []
    stage = str(detail.get("stage", ""))
    if stage in REPORTED_STAGES and state in _COMMIT_STATE:
        return [
            _commit_status(
                owner_repo,
                revision.commit,
                _COMMIT_STATE[state],
                link,
                f"{info.service}: {stage} {state.lower()} in {info.stage}",
                status_context(info, stage),
            )
        ]
    if stage != DEPLOY_STAGE or state not in _DEPLOYMENT_STATE:
        return []
    status: dict[str, Any] = {
        "state": _DEPLOYMENT_STATE[state],
        "log_url": link,
        "description": _short(f"{info.service} {state.lower()} in {info.stage}"),
        "environment": info.stage,
        # A newer successful deployment marks the older ones of this environment inactive.
        "auto_inactive": True,
    }
    if info.environment_url:
        status["environment_url"] = info.environment_url
    requests: list[Request] = []
    if state == "STARTED":
        requests.append(deployment_request(info, revision, execution_id))
    requests.append(
        Request("POST", f"/repos/{owner_repo}/deployments/{{deployment_id}}/statuses", status)
    )
    return requests


def deployment_request(info: PipelineInfo, revision: Revision, execution_id: str) -> Request:
    """POST /repos/{owner}/{repo}/deployments for this execution's commit and environment."""
    return Request(
        "POST",
        f"/repos/{revision.repository}/deployments",
        {
            "ref": revision.commit,
            "task": "deploy",
            "environment": info.stage,
            # The commit was built and tested by the pipeline, not by GitHub's checks: without
            # these two GitHub would refuse (or merge the default branch into) the deployment.
            "auto_merge": False,
            "required_contexts": [],
            "payload": {"execution_id": execution_id, "service": info.service},
            "description": _short(f"{info.service} to {info.stage} by CodePipeline"),
            "transient_environment": False,
            "production_environment": info.production,
        },
    )


def _commit_status(
    repository: str, commit: str, state: str, link: str, description: str, context: str
) -> Request:
    return Request(
        "POST",
        f"/repos/{repository}/statuses/{commit}",
        {
            "state": state,
            "target_url": link,
            "description": _short(description),
            "context": context,
        },
    )


@dataclass(frozen=True)
class Measure:
    """What a pipeline-level event says for the delivery metrics, before lookups."""

    started: bool = False
    succeeded: bool = False
    failed: bool = False
    rollback: bool = False


def measure(event: Mapping[str, Any], info: PipelineInfo, rollback: bool) -> Measure | None:
    """Which counters a pipeline-level event moves (pure); None for other events and for
    pull-request pipelines, which release nothing."""
    kind = event.get("detail-type") or event.get("detailType")
    if info.pull_request or kind != PIPELINE_EVENT:
        return None
    state = str(event.get("detail", {}).get("state", ""))
    if state == "STARTED":
        return Measure(started=True, rollback=rollback)
    if state == "SUCCEEDED":
        return Measure(succeeded=True, rollback=rollback)
    if state == "FAILED":
        return Measure(failed=True, rollback=rollback)
    return None


def metric_data(
    info: PipelineInfo,
    found: Measure,
    at: datetime,
    *,
    lead_time: float | None = None,
    time_to_restore: float | None = None,
) -> list[dict[str, Any]]:
    """PutMetricData's MetricData for one event (pure): counts of 1, durations in seconds.

    A rollback execution counts as ReleasesRolledBack when it starts, never as a release.
    """
    dimensions = [
        {"Name": "Service", "Value": info.service},
        {"Name": "Stage", "Value": info.stage},
    ]

    def datum(name: str, value: float, unit: str) -> dict[str, Any]:
        return {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": at,
            "Value": value,
            "Unit": unit,
        }

    data: list[dict[str, Any]] = []
    if found.rollback:
        if found.started:
            data.append(datum("ReleasesRolledBack", 1, "Count"))
    elif found.started:
        data.append(datum("ReleasesStarted", 1, "Count"))
    elif found.succeeded:
        data.append(datum("ReleasesSucceeded", 1, "Count"))
        if lead_time is not None:
            data.append(datum("LeadTime", lead_time, "Seconds"))
    elif found.failed:
        data.append(datum("ReleasesFailed", 1, "Count"))
    if found.succeeded and time_to_restore is not None:
        data.append(datum("TimeToRestore", time_to_restore, "Seconds"))
    return data


def restore_seconds(
    executions: Sequence[Mapping[str, Any]], current_id: str, rollback: bool, ended: datetime
) -> float | None:
    """Seconds from the failure this success restored to `ended`, or None (pure).

    `executions` are ListPipelineExecutions summaries, newest first. The failure is the last
    finished execution before this one when it Failed (measured from its end); or, when this
    one is a rollback of a release that Succeeded, this rollback's start (the release was bad
    although it succeeded). Superseded, stopped and running executions are passed over.
    """
    seen = False
    for summary in executions:
        if summary.get("pipelineExecutionId") == current_id:
            seen = True
            if rollback and summary.get("startTime"):
                started = summary["startTime"]
                previous = _previous_finished(executions, current_id)
                if previous is not None and previous.get("status") == "Succeeded":
                    return (ended - started).total_seconds()
            continue
        if not seen:
            continue
        status = summary.get("status")
        if status == "Failed" and summary.get("lastUpdateTime"):
            return (ended - summary["lastUpdateTime"]).total_seconds()
        if status == "Succeeded":
            return None
    return None


def _previous_finished(
    executions: Sequence[Mapping[str, Any]], current_id: str
) -> Mapping[str, Any] | None:
    after = False
    for summary in executions:
        if summary.get("pipelineExecutionId") == current_id:
            after = True
            continue
        if after and summary.get("status") in ("Succeeded", "Failed"):
            return summary
    return None


# --- I/O: what the events lack, and the calls -------------------------------------------------


class GitHub:
    """GitHub's REST API with a token, over urllib (no dependency to package)."""

    def __init__(self, token: str, opener: Callable[..., Any] | None = None) -> None:
        self._token = token
        self._open = opener or (
            lambda request, timeout: urllib.request.urlopen(request, timeout=timeout)
        )

    def call(self, request: Request) -> Any:
        url = GITHUB_API + request.path
        if request.query:
            url += "?" + "&".join(f"{k}={v}" for k, v in request.query.items())
        data = json.dumps(request.body).encode() if request.body is not None else None
        http = urllib.request.Request(url, data=data, method=request.method)
        http.add_header("Accept", "application/vnd.github+json")
        http.add_header("Authorization", f"Bearer {self._token}")
        http.add_header("X-GitHub-Api-Version", GITHUB_API_VERSION)
        http.add_header("User-Agent", "gh-aws-delivery-reporter")
        if data is not None:
            http.add_header("Content-Type", "application/json")
        with self._open(http, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None


def resolve_revision(
    event: Mapping[str, Any], info: PipelineInfo, codepipeline: Any
) -> Revision | None:
    """The commit (and repository) of the event's execution, or None when not known yet.

    In order: the event's own `execution-trigger.commit-id` (pipeline-level events of
    trigger-started executions); the GitHub source revision GetPipelineExecution reports; for a
    promoted pipeline, the COMMIT_ID and REPOSITORY output variables its Describe (and COMMIT_ID
    of its Configure) action wrote from the release's manifest (ListActionExecutions).
    """
    detail = event.get("detail", {})
    pipeline, execution_id = detail.get("pipeline"), detail.get("execution-id")
    trigger = detail.get("execution-trigger") or {}
    commit = trigger.get("commit-id")
    repository = info.repository or trigger.get("full-repository-name")
    if isinstance(commit, str) and _SHA.match(commit) and repository:
        return Revision(commit, repository)
    if info.repository:
        execution = codepipeline.get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        for revision in execution.get("artifactRevisions", []):
            value = str(revision.get("revisionId", ""))
            if _SHA.match(value):
                return Revision(value, info.repository)
        return None
    variables: dict[str, str] = {}
    pages = codepipeline.get_paginator("list_action_executions").paginate(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}
    )
    for page in pages:
        for action in page.get("actionExecutionDetails", []):
            output = (action.get("output") or {}).get("outputVariables") or {}
            variables.update({k: v for k, v in output.items() if v and v != "-"})
    commit, repository = variables.get("COMMIT_ID"), variables.get("REPOSITORY")
    if commit and repository and _SHA.match(commit):
        return Revision(commit, repository)
    return None


def is_rollback(event: Mapping[str, Any], codepipeline: Any) -> bool:
    detail = event.get("detail", {})
    trigger = (detail.get("execution-trigger") or {}).get("trigger-type")
    if trigger:
        return trigger in ROLLBACK_TRIGGERS
    execution = codepipeline.get_pipeline_execution(
        pipelineName=detail.get("pipeline"), pipelineExecutionId=detail.get("execution-id")
    )["pipelineExecution"]
    return (
        execution.get("executionType") == "ROLLBACK"
        or execution.get("trigger", {}).get("triggerType") in ROLLBACK_TRIGGERS
    )


def send(github: GitHub, requests: Iterable[Request], find: Request | None) -> list[Any]:
    """Make `requests` in order, filling `{deployment_id}` with the execution's deployment.

    A creation first looks for the deployment this execution already made: EventBridge
    delivers an event at least once and Lambda retries a failed one, so the same STARTED may
    arrive twice and must not make a second deployment. When the first request is a status,
    `find` is the creation to look up (and make, when its start was lost)."""
    deployment_id: Any = None
    answers: list[Any] = []
    for request in requests:
        if request.path.endswith("/deployments") and request.method == "POST":
            deployment_id = _find_deployment(github, request)
            answers.append(deployment_id)
            continue
        if "{deployment_id}" in request.path:
            if deployment_id is None and find is not None:
                deployment_id = _find_deployment(github, find)
            request = Request(
                request.method,
                request.path.replace("{deployment_id}", str(deployment_id)),
                request.body,
            )
        answers.append(github.call(request))
    return answers


def _find_deployment(github: GitHub, create: Request) -> Any:
    """The deployment created for this execution (same sha, environment and execution id), or
    a new one when its creation was lost."""
    body = create.body or {}
    listing = github.call(
        Request(
            "GET",
            create.path,
            query={"sha": str(body["ref"]), "environment": str(body["environment"])},
        )
    )
    wanted = (body.get("payload") or {}).get("execution_id")
    for deployment in listing or []:
        payload = deployment.get("payload") or {}
        if isinstance(payload, Mapping) and payload.get("execution_id") == wanted:
            return deployment["id"]
    return github.call(create)["id"]


def load_pipelines(text: str) -> dict[str, PipelineInfo]:
    return {name: PipelineInfo.from_json(value) for name, value in json.loads(text).items()}


def pipeline_info(
    pipelines: Mapping[str, PipelineInfo], event: Mapping[str, Any], codepipeline: Any
) -> PipelineInfo | None:
    """The pipeline's entry; a `<service>-<stage>-pr` pipeline is a pull-request pipeline of a
    known service only when tagged `cicd:pipeline-kind=pull-requests` (else it is ignored)."""
    name = str(event.get("detail", {}).get("pipeline", ""))
    if name in pipelines:
        return pipelines[name]
    if not name.endswith(PR_SUFFIX):
        return None
    base = next(
        (
            i
            for i in pipelines.values()
            if f"{i.service}-{i.stage}{PR_SUFFIX}" == name and i.repository
        ),
        None,
    )
    if base is None:
        return None
    arn = next(iter(event.get("resources") or []), None)
    if not arn:
        return None
    tags = codepipeline.list_tags_for_resource(resourceArn=arn).get("tags", [])
    if not any(t.get("key") == PR_TAG_KEY and t.get("value") == PR_TAG_VALUE for t in tags):
        return None
    return PipelineInfo(
        service=base.service, stage=base.stage, repository=base.repository, pull_request=True
    )


def report(
    event: Mapping[str, Any],
    pipelines: Mapping[str, PipelineInfo],
    *,
    codepipeline: Any,
    cloudwatch: Any,
    github: GitHub | None,
    now: datetime,
) -> dict[str, Any]:
    """Everything one event does; returns what was done (logged as one JSON line)."""
    info = pipeline_info(pipelines, event, codepipeline)
    if info is None:
        return {"record": "ignored", "pipeline": event.get("detail", {}).get("pipeline")}
    detail = event.get("detail", {})
    done: dict[str, Any] = {
        "record": "event",
        "service": info.service,
        "stage": info.stage,
        "pipeline": detail.get("pipeline"),
        "execution": detail.get("execution-id"),
        "state": detail.get("state"),
        "step": detail.get("stage", "pipeline"),
    }
    revision: Revision | None = None
    kind = event.get("detail-type") or event.get("detailType")
    counted = kind == PIPELINE_EVENT and detail.get("state") in ("STARTED", "SUCCEEDED", "FAILED")
    # Only these events use the commit: a status, a deployment, or a release's log line (the
    # dashboard lists them) and its lead time.
    needs_commit = (
        info.pull_request
        or (kind == STAGE_EVENT and detail.get("stage") in (*REPORTED_STAGES, DEPLOY_STAGE))
        or counted
    )
    if needs_commit:
        revision = resolve_revision(event, info, codepipeline)
        done["commit"] = revision.commit if revision else None
        if revision is not None and github is not None:
            requests = github_requests(event, info, revision)
            find = None
            if requests and not requests[0].path.endswith("/deployments"):
                find = (
                    deployment_request(info, revision, str(detail.get("execution-id")))
                    if "{deployment_id}" in requests[0].path
                    else None
                )
            send(github, requests, find)
            done["github"] = [f"{r.method} {r.path}" for r in requests]
    if counted and not info.pull_request:
        rollback = is_rollback(event, codepipeline)
        found = measure(event, info, rollback)
        if found is not None:
            lead = restore = None
            if found.succeeded and not rollback and github is not None and revision is not None:
                lead = _lead_time(github, revision, now)
            if found.succeeded:
                summaries = codepipeline.list_pipeline_executions(
                    pipelineName=detail.get("pipeline"), maxResults=20
                ).get("pipelineExecutionSummaries", [])
                restore = restore_seconds(summaries, str(detail.get("execution-id")), rollback, now)
            data = metric_data(info, found, now, lead_time=lead, time_to_restore=restore)
            if data:
                cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=data)
            done["record"] = "release"
            done["rollback"] = rollback
            done["metrics"] = [d["MetricName"] for d in data]
    return done


def _lead_time(github: GitHub, revision: Revision, now: datetime) -> float | None:
    """Seconds from the commit (its committer date on GitHub) to now."""
    commit = github.call(Request("GET", f"/repos/{revision.repository}/commits/{revision.commit}"))
    date = (((commit or {}).get("commit") or {}).get("committer") or {}).get("date")
    if not date:
        return None
    return (now - datetime.fromisoformat(date.replace("Z", "+00:00"))).total_seconds()


_token: list[str] = []


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda's entry point: the runtime's boto3, the token read once per container."""
    import boto3  # the Lambda Python runtime provides it

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, PIPELINES_FILE)) as f:
        pipelines = load_pipelines(f.read())
    github = None
    secret_arn = os.environ.get("GITHUB_TOKEN_SECRET_ARN")
    if secret_arn:
        if not _token:
            value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
            _token.append(value["SecretString"].strip())
        github = GitHub(_token[0])
    try:
        done = report(
            event,
            pipelines,
            codepipeline=boto3.client("codepipeline"),
            cloudwatch=boto3.client("cloudwatch"),
            github=github,
            now=datetime.now(UTC),
        )
    except urllib.error.HTTPError as error:
        # The body says why (a missing permission, a bad field); the raise sends the event to
        # Lambda's retries, then to the dead-letter queue.
        print(json.dumps({"record": "github-error", "status": error.code, "body": _body(error)}))
        raise
    print(json.dumps(done, default=str))
    return done


def _body(error: urllib.error.HTTPError) -> str:
    try:
        return error.read().decode()[:1000]
    except Exception:  # the body is only shown; an unreadable one must not hide the error
        return ""
