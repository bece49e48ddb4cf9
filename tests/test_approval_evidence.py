"""The approval's evidence, computed by the Describe step: `components.approval_evidence`.

The module's functions run against boto3 clients behind botocore Stubbers (each request checked
against AWS's service model, each answer a recorded response in AWS's documented shape); the
Describe buildspec runs the same source in bash, with a stand-in `aws` answering the same
recorded responses, so what is tested is what CodeBuild runs. GitHub's compare API answers
through a stand-in opener (a recorded response, or an HTTP error) that keeps each request, so
the headers sent with and without a token are checked with no network. Under Pulumi's mocks:
what the sample prod's approval shows, and the GitHub token its describe project is given.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.client import HTTPMessage
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
import yaml
from botocore.stub import Stubber

from components import approval_evidence as ev
from components.pipeline import RELEASE_NAMESPACE, evidence_custom_data
from components.release_channel import MANIFEST_FILE
from components.release_manifest import DESCRIBE_BUILDSPEC, RELEASE_VARIABLES
from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    StackRun,
    flatten_stack_config,
    iter_stacks,
    qualified_stack,
    run_program,
    run_stacks,
)
from tests.test_release_manifest import run_build
from tests.test_release_model import ROLE_POLICY, environment, pipeline, statements

STACKS = dict(iter_stacks())
PROD, STAGING = "web-prod-pipeline", "web-staging-pipeline"
LIVE, CANDIDATE = "1" * 40, "2" * 40
STAGING_RUN = "5b3e3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
PROD_LIVE = "7e0b5c1d-2f3a-4b5c-8d9e-0a1b2c3d4e5f"
PROD_ROLLBACK = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
MANIFEST = {
    "commit": CANDIDATE,
    "repository": "acme/web",
    "pipeline": STAGING,
    "pipeline_execution_id": STAGING_RUN,
}
ALARMS = ["web-prod-p99-latency", "web-prod-alb-target-5xx"]
T0 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)

# Recorded answers, in the APIs' documented shapes (trimmed to the fields read).
PROD_HISTORY = {
    "pipelineExecutionSummaries": [
        {"pipelineExecutionId": "0" * 8 + "-aaaa-4bbb-8ccc-000000000009", "status": "InProgress"},
        {"pipelineExecutionId": "0" * 8 + "-aaaa-4bbb-8ccc-000000000008", "status": "Failed"},
        {"pipelineExecutionId": PROD_LIVE, "status": "Succeeded", "executionType": "STANDARD"},
    ]
}
PROD_LIVE_ACTIONS = {
    "actionExecutionDetails": [
        {"pipelineExecutionId": PROD_LIVE, "stageName": "Source", "actionName": "Release"},
        {
            "pipelineExecutionId": PROD_LIVE,
            "stageName": "Approval",
            "actionName": "Describe",
            "output": {"outputVariables": {"COMMIT_ID": LIVE, "REPOSITORY": "acme/web"}},
        },
    ]
}
STAGING_ACTIONS = {
    "actionExecutionDetails": [
        {
            "stageName": "Deploy",
            "actionName": "web",
            "status": "Succeeded",
            "startTime": T0,
            "lastUpdateTime": T0 + timedelta(minutes=6),
        },
        {
            "stageName": "Deploy",
            "actionName": "verify-smoke",
            "status": "Succeeded",
            "startTime": T0 + timedelta(minutes=6),
            "lastUpdateTime": T0 + timedelta(minutes=8),
        },
        {
            "stageName": "Deploy",
            "actionName": "verify-api",
            "status": "Succeeded",
            "startTime": T0 + timedelta(minutes=6),
            "lastUpdateTime": T0 + timedelta(minutes=9),
        },
        # The bake (the Deploy stage's on-success condition) ran in between: 15 minutes.
        {
            "stageName": "Publish",
            "actionName": "Publish",
            "status": "Succeeded",
            "startTime": T0 + timedelta(minutes=24),
            "lastUpdateTime": T0 + timedelta(minutes=25),
        },
    ]
}
ALARM_STATES = {
    "MetricAlarms": [
        {"AlarmName": "web-prod-alb-target-5xx", "StateValue": "OK"},
        {"AlarmName": "web-prod-p99-latency", "StateValue": "INSUFFICIENT_DATA"},
    ],
    "CompositeAlarms": [],
}
GITHUB_COMPARE = {"status": "ahead", "ahead_by": 3, "behind_by": 0, "total_commits": 3}


class Recorded:
    """boto3 clients behind Stubbers, as a `Call`; `verify` checks every answer was asked for."""

    def __init__(self) -> None:
        session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x",
                                aws_secret_access_key="x")  # fmt: skip
        self.clients = {name: session.client(name) for name in ("codepipeline", "cloudwatch")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def __call__(self, service: str, operation: str, parameters: Mapping[str, Any]) -> Any:
        client = self.clients[service]
        return getattr(client, botocore.xform_name(operation))(**parameters)

    def history(self, answer: Mapping[str, Any] = PROD_HISTORY) -> None:
        self.stubs["codepipeline"].add_response(
            "list_pipeline_executions", dict(answer), {"pipelineName": PROD, "maxResults": 50}
        )

    def actions(self, pipeline: str, execution: str, answer: Mapping[str, Any]) -> None:
        self.stubs["codepipeline"].add_response(
            "list_action_executions",
            dict(answer),
            {"pipelineName": pipeline, "filter": {"pipelineExecutionId": execution}},
        )

    def alarms(self, answer: Mapping[str, Any] = ALARM_STATES) -> None:
        self.stubs["cloudwatch"].add_response(
            "describe_alarms",
            dict(answer),
            {"AlarmNames": ALARMS, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
        )

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def aws() -> Iterator[Recorded]:
    recorded = Recorded()
    yield recorded
    recorded.verify()


def github(answer: Mapping[str, Any] | None = GITHUB_COMPARE) -> Any:
    asked: list[str] = []

    def get(url: str) -> Mapping[str, Any] | None:
        asked.append(url)
        return answer

    get.asked = asked  # type: ignore[attr-defined]
    return get


def test_the_evidence_names_the_live_commit_the_compare_path_staging_proof_and_alarms(
    aws: Recorded,
) -> None:
    aws.history()
    aws.actions(PROD, PROD_LIVE, PROD_LIVE_ACTIONS)
    aws.actions(STAGING, STAGING_RUN, STAGING_ACTIONS)
    aws.alarms()
    fetch = github()

    values = ev.evidence(aws, fetch, MANIFEST, pipeline=PROD, alarms=ALARMS)

    assert values == {
        "LIVE_COMMIT": LIVE,
        "CHANGES_PATH": f"compare/{LIVE}...{CANDIDATE}",
        "COMMITS_AHEAD": "3",
        "VERIFICATION": "api Succeeded, smoke Succeeded",
        "BAKE": "15m 0s",
        "ALARMS": "web-prod-p99-latency INSUFFICIENT_DATA, web-prod-alb-target-5xx OK",
    }
    assert fetch.asked == [f"https://api.github.com/repos/acme/web/compare/{LIVE}...{CANDIDATE}"]


def test_after_a_rollback_the_live_commit_is_the_one_the_rollback_returned_to(
    aws: Recorded,
) -> None:
    aws.history(
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": PROD_ROLLBACK,
                    "status": "Succeeded",
                    "executionType": "ROLLBACK",
                    "rollbackMetadata": {"rollbackTargetPipelineExecutionId": PROD_LIVE},
                }
            ]
        }
    )
    aws.actions(PROD, PROD_LIVE, PROD_LIVE_ACTIONS)

    assert ev.live_commit(aws, PROD) == LIVE


def test_a_first_release_links_to_its_commit_and_counts_nothing(aws: Recorded) -> None:
    aws.history({"pipelineExecutionSummaries": []})
    aws.actions(STAGING, STAGING_RUN, STAGING_ACTIONS)
    aws.alarms()
    fetch = github()

    values = ev.evidence(aws, fetch, MANIFEST, pipeline=PROD, alarms=ALARMS)

    assert (values["LIVE_COMMIT"], values["CHANGES_PATH"], values["COMMITS_AHEAD"]) == (
        "none",
        f"commit/{CANDIDATE}",
        "?",
    )
    assert fetch.asked == []


def test_a_private_repository_counts_as_unknown_and_the_link_still_shows_the_commits(
    aws: Recorded,
) -> None:
    aws.history()
    aws.actions(PROD, PROD_LIVE, PROD_LIVE_ACTIONS)
    aws.actions(STAGING, STAGING_RUN, STAGING_ACTIONS)
    aws.alarms()

    values = ev.evidence(aws, github(None), MANIFEST, pipeline=PROD, alarms=ALARMS)

    assert values["COMMITS_AHEAD"] == "?"
    assert values["CHANGES_PATH"] == f"compare/{LIVE}...{CANDIDATE}"


TOKEN = "github_pat_11RECORDED0000000000"
COMPARE_URL = f"https://api.github.com/repos/acme/web/compare/{LIVE}...{CANDIDATE}"


class Opener:
    """Opens a request as `urllib.request.urlopen` would, from a recorded answer (an HTTP error
    when `status` is not 200), and keeps each request it was given."""

    def __init__(self, answer: Mapping[str, Any] = GITHUB_COMPARE, status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.requests: list[urllib.request.Request] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> Any:
        self.requests.append(request)
        body = io.BytesIO(json.dumps(self.answer).encode())
        if self.status != 200:
            raise urllib.error.HTTPError(
                request.full_url, self.status, "recorded", HTTPMessage(), body
            )
        return contextlib.closing(body)

    def headers(self) -> dict[str, str]:
        [request] = self.requests
        return dict(request.header_items())


def test_with_a_token_the_compare_api_is_asked_with_it_as_a_bearer_token() -> None:
    opener = Opener()

    ahead = ev.commits_ahead(ev.github_client(TOKEN, opener), "acme/web", LIVE, CANDIDATE)

    assert ahead == "3"
    assert [r.full_url for r in opener.requests] == [COMPARE_URL]
    # urllib keeps header names capitalized; HTTP compares them case-insensitively.
    assert opener.headers() == {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-github-api-version": "2022-11-28",
        "User-agent": "gh-aws-delivery-describe",
    }


@pytest.mark.parametrize("token", [None, "", " \n"])
def test_without_a_token_the_compare_api_is_asked_anonymously(token: str | None) -> None:
    opener = Opener()

    ahead = ev.commits_ahead(ev.github_client(token, opener), "acme/web", LIVE, CANDIDATE)

    assert ahead == "3"
    assert opener.headers() == {
        "Accept": "application/vnd.github+json",
        "X-github-api-version": "2022-11-28",
        "User-agent": "gh-aws-delivery-describe",
    }


def test_a_secret_stored_with_a_trailing_newline_is_sent_without_it() -> None:
    opener = Opener()

    ev.github_client(f"{TOKEN}\n", opener)(COMPARE_URL)

    assert opener.headers()["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("status", "why"),
    [(404, "a private repository the token may not read"), (403, "rate limit"), (401, "bad")],
)
def test_when_github_refuses_the_count_is_unknown_and_nothing_shows_the_token(
    capsys: pytest.CaptureFixture[str], status: int, why: str
) -> None:
    opener = Opener({"message": why}, status=status)

    ahead = ev.commits_ahead(ev.github_client(TOKEN, opener), "acme/web", LIVE, CANDIDATE)

    assert ahead == "?"
    printed = capsys.readouterr()
    assert TOKEN not in printed.out + printed.err


def test_the_token_goes_only_over_https_and_never_follows_a_redirect() -> None:
    plain = ev.github_request("http://ghe.internal/api/v3/compare", TOKEN)
    assert plain.get_header("Authorization") is None
    request = ev.github_request(COMPARE_URL, TOKEN)
    # What urllib sends when GitHub answers 301 (a renamed repository): the token stays behind.
    redirected = urllib.request.HTTPRedirectHandler().redirect_request(
        request, io.BytesIO(), 301, "Moved", HTTPMessage(), "https://elsewhere.example/compare"
    )

    assert request.get_header("Authorization") == f"Bearer {TOKEN}"
    assert redirected is not None
    assert dict(redirected.header_items()).get("Authorization") is None
    assert redirected.get_header("Accept") == "application/vnd.github+json"


def test_an_upstream_in_another_account_is_unknown_and_the_approval_still_gets_its_evidence(
    aws: Recorded,
) -> None:
    aws.history()
    aws.actions(PROD, PROD_LIVE, PROD_LIVE_ACTIONS)
    aws.stubs["codepipeline"].add_client_error(
        "list_action_executions",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: codepipeline:ListActionExecutions",
        expected_params={"pipelineName": STAGING, "filter": {"pipelineExecutionId": STAGING_RUN}},
    )
    aws.alarms()

    values = ev.evidence(aws, github(), MANIFEST, pipeline=PROD, alarms=ALARMS)

    assert values["VERIFICATION"].startswith(f"unknown ({STAGING} not readable: An error")
    assert "AccessDeniedException" in values["VERIFICATION"]
    assert values["BAKE"] == "unknown"
    assert values["LIVE_COMMIT"] == LIVE


def test_an_alarm_cloudwatch_does_not_know_is_missing(aws: Recorded) -> None:
    aws.alarms({"MetricAlarms": [{"AlarmName": "web-prod-alb-target-5xx", "StateValue": "ALARM"}]})

    assert ev.alarm_states(aws, ALARMS) == (
        "web-prod-p99-latency MISSING, web-prod-alb-target-5xx ALARM"
    )


def test_a_release_that_ran_no_verification_says_so() -> None:
    def call(service: str, operation: str, parameters: Mapping[str, Any]) -> Any:
        return {"actionExecutionDetails": [STAGING_ACTIONS["actionExecutionDetails"][0]]}

    assert ev.upstream_proof(call, MANIFEST) == (
        f"no verification suite ran in {STAGING}",
        "unknown",
    )


def test_every_variable_is_cut_to_its_limit_on_one_line() -> None:
    def call(service: str, operation: str, parameters: Mapping[str, Any]) -> Any:
        if operation == "DescribeAlarms":
            names = parameters["AlarmNames"]
            return {"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in names]}
        if operation == "ListPipelineExecutions":
            return {"pipelineExecutionSummaries": []}
        return {
            "actionExecutionDetails": [
                {"stageName": "Deploy", "actionName": f"verify-suite-{i}\nx", "status": "Succeeded"}
                for i in range(40)
            ]
        }

    many = [f"web-prod-a-very-long-alarm-name-{i}" for i in range(30)]

    values = ev.evidence(call, github(), MANIFEST, pipeline=PROD, alarms=many)

    for name, value in values.items():
        assert len(value) <= ev.LIMITS[name] and "\n" not in value, name
    assert values["ALARMS"].endswith("…")


def _resolve(text: str, values: Mapping[str, str]) -> str:
    return re.sub(rf"#\{{{RELEASE_NAMESPACE}\.([A-Z_]+)\}}", lambda m: values[m.group(1)], text)


def test_the_resolved_custom_data_stays_within_codepipelines_1000_characters() -> None:
    # The longest each variable may be, the manifest's commit and message at their cut.
    longest = {name: "x" * limit for name, limit in ev.LIMITS.items()}
    longest |= {"COMMIT_ID": "f" * 40, "COMMIT_MESSAGE": "m" * 100, "REPOSITORY": "r" * 100}
    window = {
        "cron": "* 0-59 9-15 ? JAN-DEC MON-FRI 2025-2030",
        "time_zone": "America/Argentina/Buenos_Aires",
    }
    template = evidence_custom_data("a" * 40, "production", "preproduction", window)

    resolved = _resolve(template, longest)

    assert len(template) <= 1000 and len(resolved) <= 1000, len(resolved)
    # Every variable the CustomData names is one Describe exports.
    assert set(re.findall(r"\.([A-Z_]+)\}", template)) <= set(RELEASE_VARIABLES)


# ---------------------------------------------------------------------------------------------
# The Describe step itself: the buildspec, in bash, with a stand-in `aws`.


def _iso(document: Any) -> Any:
    """The AWS CLI prints timestamps as ISO 8601 text."""
    return json.loads(json.dumps(document, default=lambda t: t.isoformat()))


@pytest.fixture
def recorded_cli(tmp_path: Path) -> Path:
    """An `aws` that answers each call from the recorded responses and logs its arguments."""
    answers = {
        f"codepipeline list-pipeline-executions {PROD}": PROD_HISTORY,
        f"codepipeline list-action-executions {PROD}": PROD_LIVE_ACTIONS,
        f"codepipeline list-action-executions {STAGING}": STAGING_ACTIONS,
        "cloudwatch describe-alarms -": ALARM_STATES,
        "s3api get-object-tagging -": {"TagSet": []},
    }
    (tmp_path / "answers.json").write_text(json.dumps(_iso(answers)))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"answers = json.load(open({str(tmp_path / 'answers.json')!r}))\n"
        f"open({str(tmp_path / 'aws-calls')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "args = sys.argv[1:]\n"
        "given = json.loads(args[args.index('--cli-input-json') + 1]) "
        "if '--cli-input-json' in args else {}\n"
        "key = f\"{args[0]} {args[1]} {given.get('pipelineName', '-')}\"\n"
        "if key not in answers:\n"
        "    sys.exit(f'unexpected aws call: {args}')\n"
        "print(json.dumps(answers[key]))\n"
    )
    aws.chmod(0o755)
    return bin_dir


def test_the_describe_step_exports_the_evidence_it_computes(
    tmp_path: Path, recorded_cli: Path
) -> None:
    src = tmp_path / "release"
    src.mkdir()
    (src / MANIFEST_FILE).write_text(json.dumps({**MANIFEST, "message": "Faster search"}))
    env = {
        "PATH": f"{recorded_cli}:{os.environ['PATH']}",
        "CODEBUILD_SRC_DIR": str(src),
        "PIPELINE_NAME": PROD,
        "ALARM_NAMES": ",".join(ALARMS),
        # Nothing listens there: GitHub is unreachable, as from a build without a route out.
        "GITHUB_API_URL": "http://127.0.0.1:9",
        # What CodeBuild resolves from the token's secret: it is never printed.
        "GITHUB_TOKEN": TOKEN,
    }
    tail = "".join(f'printf "%s=%s\\n" {v} "${v}"\n' for v in RELEASE_VARIABLES)

    result = run_build(DESCRIBE_BUILDSPEC, tmp_path, env, tail)

    assert result.returncode == 0, result.stderr
    exported = dict(
        line.split("=", 1) for line in result.stdout.splitlines()[-len(RELEASE_VARIABLES) :]
    )
    assert TOKEN not in result.stdout + result.stderr
    assert exported == {
        "COMMIT_ID": CANDIDATE,
        "COMMIT_MESSAGE": "Faster search",
        "REPOSITORY": "acme/web",
        "LIVE_COMMIT": LIVE,
        "CHANGES_PATH": f"compare/{LIVE}...{CANDIDATE}",
        # GitHub could not be asked: unknown, and the link still shows the commits.
        "COMMITS_AHEAD": "?",
        "VERIFICATION": "api Succeeded, smoke Succeeded",
        "BAKE": "15m 0s",
        "ALARMS": "web-prod-p99-latency INSUFFICIENT_DATA, web-prod-alb-target-5xx OK",
    }
    calls = [json.loads(line) for line in (tmp_path / "aws-calls").read_text().splitlines()]
    assert [c[:2] for c in calls] == [
        ["codepipeline", "list-pipeline-executions"],
        ["codepipeline", "list-action-executions"],
        ["codepipeline", "list-action-executions"],
        ["cloudwatch", "describe-alarms"],
    ]
    assert json.loads(calls[3][calls[3].index("--cli-input-json") + 1]) == {
        "AlarmNames": ALARMS,
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
    }
    assert yaml.safe_load(DESCRIBE_BUILDSPEC)["env"]["exported-variables"] == list(
        RELEASE_VARIABLES
    )


def test_the_step_asks_github_with_the_token_its_environment_holds_and_never_prints_it(
    tmp_path: Path,
    recorded_cli: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(MANIFEST))
    opener = Opener()
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    monkeypatch.setenv("AWS_CLI", str(recorded_cli / "aws"))
    monkeypatch.setenv("PIPELINE_NAME", PROD)
    monkeypatch.setenv("ALARM_NAMES", ",".join(ALARMS))
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    monkeypatch.setenv(ev.TOKEN_VARIABLE, TOKEN)

    assert ev.main([str(tmp_path / MANIFEST_FILE), str(tmp_path / "out")]) == 0

    assert (tmp_path / "out" / "COMMITS_AHEAD").read_text() == "3"
    assert [r.full_url for r in opener.requests] == [COMPARE_URL]
    assert opener.headers()["Authorization"] == f"Bearer {TOKEN}"
    printed = capsys.readouterr()
    assert "COMMITS_AHEAD=3" in printed.out
    assert TOKEN not in printed.out + printed.err
    written = "".join(f.read_text() for f in (tmp_path / "out").iterdir())
    assert TOKEN not in written


def test_the_describe_step_runs_the_modules_own_source() -> None:
    source = Path(ev.__file__).read_text()
    body = source[source.index("from __future__") :]
    script = yaml.safe_load(DESCRIBE_BUILDSPEC)["phases"]["build"]["commands"][-1]

    assert body.rstrip() in script


# ---------------------------------------------------------------------------------------------
# Under Pulumi's mocks: what the sample prod's approval shows, its variables resolved by name.


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(dict(iter_stacks()))


@pytest.mark.parametrize("service", ["web", "thumbnailer"])
def test_prods_approval_resolves_to_the_evidence_and_links_to_the_comparison(
    runs: dict[str, StackRun], service: str
) -> None:
    run = runs["prod"]
    [approval] = [s for s in pipeline(run, service).inputs["stages"] if s["name"] == "Approval"]
    describe, approve = approval["actions"]
    exported = {
        "COMMIT_ID": CANDIDATE,
        "COMMIT_MESSAGE": "Faster search",
        "REPOSITORY": f"acme/{service}",
        "LIVE_COMMIT": LIVE,
        "CHANGES_PATH": f"compare/{LIVE}...{CANDIDATE}",
        "COMMITS_AHEAD": "3",
        "VERIFICATION": "smoke Succeeded",
        "BAKE": "15m 0s",
        "ALARMS": "x-prod-errors OK",
    }

    custom = _resolve(approve["configuration"]["CustomData"], exported)
    link = _resolve(approve["configuration"]["ExternalEntityLink"], exported)

    assert custom == (
        f"Release {service} to prod: commit {CANDIDATE} - Faster search (proved in staging). "
        f"Commits since the live {LIVE}: 3. staging verification: smoke Succeeded; bake 15m 0s. "
        'Watched alarms now: x-prod-errors OK. Deploy: window cron "* * 9-15 ? * MON-FRI" '
        "(Europe/Berlin)."
    )
    assert link == f"https://github.com/acme/{service}/compare/{LIVE}...{CANDIDATE}"
    # The notification is the action's own (NotificationArn): CodePipeline sends the resolved
    # customData and externalEntityLink in it.
    assert approve["configuration"]["NotificationArn"].endswith(f":{service}-prod-releases")
    assert describe["namespace"] == RELEASE_NAMESPACE


@pytest.mark.parametrize("service", ["web", "thumbnailer"])
def test_describe_is_told_its_pipeline_and_exactly_the_alarms_the_release_is_watched_by(
    runs: dict[str, StackRun], service: str
) -> None:
    run = runs["prod"]
    stages = {s["name"]: s for s in pipeline(run, service).inputs["stages"]}
    describe = stages["Approval"]["actions"][0]
    bake = [
        r["configuration"]["AlarmName"] for r in stages["Deploy"]["onSuccess"]["condition"]["rules"]
    ]

    variables = environment(describe)

    assert variables["PIPELINE_NAME"] == f"{service}-prod-pipeline"
    assert variables["ALARM_NAMES"].split(",") == bake


def test_the_describe_projects_reads_are_scoped_to_prods_pipelines_stagings_and_the_alarms(
    runs: dict[str, StackRun],
) -> None:
    grants = statements(
        runs["prod"].recorder.one(ROLE_POLICY, "release-steps-describe-policy").inputs["policy"]
    )
    arn = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}"

    assert grants["ListPipelineExecutions"] == {
        "Sid": "ListPipelineExecutions",
        "Effect": "Allow",
        "Action": "codepipeline:ListPipelineExecutions",
        "Resource": [f"{arn}:thumbnailer-prod-pipeline", f"{arn}:web-prod-pipeline"],
    }
    # Prod's own history (what runs now), and staging's (same account): how it proved it.
    assert grants["ReadPipelineExecutions"]["Resource"] == [
        f"{arn}:{s}-{e}-pipeline" for s in ("thumbnailer", "web") for e in ("prod", "staging")
    ]
    assert grants["ReadWatchedAlarms"] == {
        "Sid": "ReadWatchedAlarms",
        "Effect": "Allow",
        "Action": "cloudwatch:DescribeAlarms",
        "Resource": [
            f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
            for name in ("thumbnailer-prod-*", "web-prod-*", "web-prod-p99-latency")
        ],
    }
    # The default alarms follow the naming context: the pattern covers them all.
    for service in ("web", "thumbnailer"):
        [approval] = [
            s for s in pipeline(runs["prod"], service).inputs["stages"] if s["name"] == "Approval"
        ]
        for name in environment(approval["actions"][0])["ALARM_NAMES"].split(","):
            assert name.startswith(f"{service}-prod-"), name


PROJECT_TYPE = "aws:codebuild/project:Project"
SECRET = "aws:secretsmanager/secret:Secret"
DESCRIBE = "release-steps-describe"


def _describe_token(run: StackRun) -> list[dict[str, Any]]:
    variables = run.recorder.one(PROJECT_TYPE, f"{DESCRIBE}-project").inputs["environment"]
    return [v for v in variables["environmentVariables"] if v["name"] == ev.TOKEN_VARIABLE]


def _describe_grants(run: StackRun) -> dict[str, dict[str, Any]]:
    return statements(run.recorder.one(ROLE_POLICY, f"{DESCRIBE}-policy").inputs["policy"])


def test_prods_describe_step_reads_the_github_token_from_the_reporters_secret(
    runs: dict[str, StackRun],
) -> None:
    run = runs["prod"]
    secret = run.recorder.one(SECRET, "delivery-reporter-token").state["arn"]

    # The secret's ARN, never the token: CodeBuild resolves it into the build's environment.
    assert _describe_token(run) == [
        {"name": "GITHUB_TOKEN", "type": "SECRETS_MANAGER", "value": secret}
    ]
    grants = _describe_grants(run)
    assert grants["ReferencedSecrets"] == {
        "Sid": "ReferencedSecrets",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [secret],
    }
    # The secret the reporter made from githubToken uses the AWS managed key: no KMS grant.
    assert "DecryptReferencedSecrets" not in grants
    assert [g for g in grants.values() if "secretsmanager" in json.dumps(g["Action"])] == [
        grants["ReferencedSecrets"]
    ]


def _prod_with(**changes: Any) -> StackRun:
    """Prod, with staging's exports, after `changes` to its stack config (None: removed)."""
    staging = run_stacks({"staging": STACKS["staging"]})["staging"]
    flat, secrets = flatten_stack_config(STACKS["prod"])
    for key, value in changes.items():
        if value is None:
            flat.pop(f"{PROJECT}:{key}")
        else:
            flat[f"{PROJECT}:{key}"] = json.dumps(value)
    return run_program("prod", flat, secrets, {qualified_stack("staging"): staging.exports})


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"report": None, "dashboard": None}, id="no report"),
        pytest.param({"report": {"github": False}}, id="report without github"),
    ],
)
def test_a_stage_that_does_not_report_to_github_asks_github_anonymously(
    changes: dict[str, Any],
) -> None:
    run = _prod_with(**changes)

    assert _describe_token(run) == []
    grants = _describe_grants(run)
    assert "ReferencedSecrets" not in grants and "DecryptReferencedSecrets" not in grants
    assert run.recorder.of_type(SECRET) == []


def test_a_given_secret_and_its_key_serve_the_describe_step_as_they_serve_the_reporter() -> None:
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:github-AbCdEf"
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-4678-9abc-def012345678"

    run = _prod_with(report={"token_secret_arn": secret, "token_kms_key_arn": key})

    assert _describe_token(run) == [
        {"name": "GITHUB_TOKEN", "type": "SECRETS_MANAGER", "value": secret}
    ]
    grants = _describe_grants(run)
    assert grants["ReferencedSecrets"]["Resource"] == [secret]
    reporter = statements(
        run.recorder.one(ROLE_POLICY, "delivery-reporter-policy").inputs["policy"]
    )["DecryptGitHubTokenThroughSecretsManager"]
    assert grants["DecryptReferencedSecrets"] == {
        "Sid": "DecryptReferencedSecrets",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [key],
        "Condition": reporter["Condition"],
    }
    assert reporter["Resource"] == key


def test_cicd_reads_the_evidence_under_the_names_the_describe_step_exports() -> None:
    from cicd import contract
    from components.pipeline import DESCRIBE_ACTION

    assert contract.EVIDENCE_OUTPUTS == ev.VARIABLES
    assert contract.DESCRIBE_ACTION == DESCRIBE_ACTION == ev.DESCRIBE_ACTION
