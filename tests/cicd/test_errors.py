"""Errors reach the user as one message and an exit code, never as a traceback."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from cicd.aws import clients as cicd_aws
from cicd.aws.permissions import COMMAND_PERMISSIONS
from cicd.cli.main import main
from cicd.errors import ExitCode
from tests.cicd.aws_fakes import (
    NOW,
    REGION,
    CliRunner,
    MotoWorld,
    StubbedAws,
    execution_id,
    stage_state,
)

PIPELINE = "shop-dev-pipeline"


def test_missing_credentials_say_how_to_provide_them(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    result = cli("releases", "--pipeline", PIPELINE)

    assert result.code == 4
    assert result.err == (
        "cicd: no AWS credentials found\n"
        "hint: pass --profile NAME, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (for SSO: `aws sso login --profile NAME` first)\n"
    )


def test_a_missing_region_says_how_to_set_one(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = cli("releases", "--pipeline", PIPELINE)

    assert result.code == 4
    assert result.err.startswith("cicd: no AWS region configured\nhint: pass --region REGION")


def test_an_unknown_profile_is_reported_with_how_to_list_profiles(cli: CliRunner) -> None:
    result = cli("releases", "--pipeline", PIPELINE, "--profile", "nope")

    assert result.code == 4
    assert result.err == (
        "cicd: The config profile (nope) could not be found\n"
        "hint: list the profiles you have with `aws configure list-profiles`\n"
    )


def test_aws_region_is_honoured_like_the_aws_cli_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-west-2")

    assert cicd_aws.connect(None, None).region == "us-west-2"
    assert cicd_aws.connect("ap-south-1", None).region == "ap-south-1"


def test_access_denied_names_the_missing_iam_action(aws: StubbedAws, cli: CliRunner) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.codepipeline.add_client_error(
        "start_pipeline_execution",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
        "codepipeline:StartPipelineExecution",
        http_status_code=400,
        expected_params={"name": PIPELINE},
    )

    result = cli("release", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 4
    first, hint = result.err.splitlines()
    assert first.startswith(
        "cicd: access denied: your AWS identity lacks codepipeline:StartPipelineExecution "
        "(AWS said: User: arn:aws:iam::123456789012:user/dev is not authorized"
    )
    assert hint == (
        "hint: ask an administrator to grant it; every permission cicd needs is listed in "
        "docs/cicd.md, section 'IAM permissions'"
    )


def test_access_denied_on_discovery_names_the_tagging_permission(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.tagging.add_client_error("get_resources", service_error_code="AccessDeniedException")

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 4
    assert "your AWS identity lacks tag:GetResources" in result.err


def test_expired_credentials_say_to_refresh_them(aws: StubbedAws, cli: CliRunner) -> None:
    aws.tagging.add_client_error(
        "get_resources", service_error_code="ExpiredTokenException", service_message="expired"
    )

    result = cli("releases", "--stage", "dev", clients=aws.clients())

    assert result.code == 4
    assert result.err.startswith(
        "cicd: AWS rejected the credentials (ExpiredTokenException: expired)"
    )


def test_throttling_that_outlasts_the_retries_is_reported_with_the_attempt_count(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.codepipeline.add_client_error(
        "list_pipeline_executions", service_error_code="ThrottlingException", http_status_code=400
    )

    result = cli("releases", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 4
    assert result.err.startswith(
        "cicd: AWS is throttling ListPipelineExecutions: still refused after 8 attempts with backoff\n"
    )


def test_an_execution_aws_does_not_know_is_not_found(aws: StubbedAws, cli: CliRunner) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.expect_state(PIPELINE, stage_state("Deploy", 1, "Succeeded"))
    aws.codepipeline.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": []})
    aws.codepipeline.add_client_error(
        "get_pipeline_execution",
        service_error_code="PipelineExecutionNotFoundException",
        service_message="Pipeline execution not found",
    )

    result = cli(
        "rollback", "--pipeline", PIPELINE, "--to", execution_id(42), "--yes", clients=aws.clients()
    )

    assert result.code == 5
    assert result.err == (
        "cicd: Pipeline execution not found "
        "(PipelineExecutionNotFoundException during GetPipelineExecution)\n"
    )


def test_aws_refusing_to_start_another_execution_is_reported_as_a_refusal(
    aws: StubbedAws, cli: CliRunner
) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.codepipeline.add_client_error(
        "start_pipeline_execution",
        service_error_code="ConcurrentPipelineExecutionsLimitExceededException",
        service_message="Too many executions",
    )

    result = cli("release", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.code == 3
    assert "AWS refused StartPipelineExecution: Too many executions" in result.err


def test_other_aws_errors_name_the_operation_and_code(aws: StubbedAws, cli: CliRunner) -> None:
    aws.codepipeline.add_client_error(
        "get_pipeline",
        service_error_code="InternalFailure",
        service_message="boom",
        http_status_code=500,
    )

    result = cli("releases", "--pipeline", PIPELINE, clients=aws.clients())

    assert (result.code, result.err) == (
        4,
        "cicd: AWS error during GetPipeline: InternalFailure: boom\n",
    )


def test_ctrl_c_while_waiting_exits_130_and_says_the_release_keeps_running(aws: StubbedAws) -> None:
    aws.expect_pipeline("shop", "dev")
    aws.codepipeline.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": execution_id(9)}
    )
    aws.expect_execution(PIPELINE, 9, status="InProgress")
    aws.expect_state(PIPELINE)
    err = io.StringIO()
    clients = aws.clients()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    code = main(
        ["release", "--pipeline", PIPELINE, "--wait"],
        stdout=io.StringIO(),
        stderr=err,
        sleep=interrupted,
        now=lambda: NOW,
        connect=lambda region, profile: clients,
    )

    assert code == 130
    assert err.getvalue() == "cicd: interrupted; a release already started keeps running in AWS\n"


# ---------------------------------------------------------------------------------------------
# Retries with backoff, exercised through botocore's real retry handler against moto.


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _throttle(times: int) -> tuple[list[int], Any]:
    calls = [0]

    def respond(**_: Any) -> AWSResponse | None:
        calls[0] += 1
        if calls[0] > times:
            return None  # let moto answer
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return AWSResponse("https://codepipeline", 400, {"x-amzn-RequestId": "r"}, _Body(body))

    return calls, respond


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays botocore's retry handler sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def _connect_throttled(times: int) -> tuple[list[int], Any]:
    calls, respond = _throttle(times)

    def connect(region: str | None, profile: str | None) -> cicd_aws.Clients:
        clients = cicd_aws.connect(region, profile)
        clients.codepipeline.meta.events.register_first(
            "before-send.codepipeline.ListPipelineExecutions", respond
        )
        return clients

    return calls, connect


def test_throttled_calls_are_retried_with_backoff_until_they_succeed(
    world: MotoWorld, cli: CliRunner, backoffs: list[float]
) -> None:
    name = world.create_pipeline("shop", "dev")
    world.record(name, commit=1)
    calls, connect = _connect_throttled(times=2)

    result = cli("releases", "--pipeline", name, connect=connect)

    assert result.code == 0, result.err
    assert calls == [3]
    assert len(backoffs) == 2 and all(delay > 0 for delay in backoffs)


def test_throttling_on_every_attempt_gives_up_after_eight_attempts(
    world: MotoWorld, cli: CliRunner, backoffs: list[float]
) -> None:
    name = world.create_pipeline("shop", "dev")
    calls, connect = _connect_throttled(times=100)

    result = cli("releases", "--pipeline", name, connect=connect)

    assert result.code == 4
    assert calls == [8] and len(backoffs) == 7
    assert "still refused after 8 attempts with backoff" in result.err


def test_every_client_shares_one_session_and_the_retry_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients = cicd_aws.connect("eu-central-1", None)

    for client in (
        clients.codepipeline,
        clients.codedeploy,
        clients.codeconnections,
        clients.tagging,
    ):
        assert client.meta.region_name == "eu-central-1"
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}


def test_the_region_option_reaches_the_aws_calls(world: MotoWorld, cli: CliRunner) -> None:
    world.create_pipeline("shop", "dev")

    result = cli("releases", "--pipeline", PIPELINE, "--region", "us-east-1")

    assert result.code == 5
    assert "pipeline shop-dev-pipeline not found in us-east-1" in result.err


def test_region_and_profile_work_before_or_after_the_command(cli: CliRunner) -> None:
    seen: list[tuple[str | None, str | None]] = []

    def connect(region: str | None, profile: str | None) -> cicd_aws.Clients:
        seen.append((region, profile))
        raise NoRegionError

    cli(
        "--region",
        "us-east-1",
        "--profile",
        "ops",
        "releases",
        "--pipeline",
        PIPELINE,
        connect=connect,
    )
    cli("releases", "--pipeline", PIPELINE, "--region", "eu-north-1", connect=connect)
    cli(
        "--region",
        "us-east-1",
        "releases",
        "--pipeline",
        PIPELINE,
        "--region",
        "ap-east-1",
        connect=connect,
    )

    assert seen == [("us-east-1", "ops"), ("eu-north-1", None), ("ap-east-1", None)]


def test_an_unreachable_endpoint_is_reported_without_a_traceback(cli: CliRunner) -> None:
    def connect(region: str | None, profile: str | None) -> cicd_aws.Clients:
        raise EndpointConnectionError(endpoint_url="https://codepipeline.eu-west-1.amazonaws.com/")

    result = cli("releases", "--pipeline", PIPELINE, connect=connect)

    assert result.code == 4
    assert result.err == (
        "cicd: cannot reach AWS: Could not connect to the endpoint URL: "
        '"https://codepipeline.eu-west-1.amazonaws.com/"\n'
        "hint: check the network, proxy settings and --region\n"
    )


# ---------------------------------------------------------------------------------------------
# Answers that are not AWS's, and a walk over every command's failure paths.


def _answer_with(status: int, body: bytes) -> Any:
    def connect(region: str | None, profile: str | None) -> cicd_aws.Clients:
        clients = cicd_aws.connect(region, profile)
        clients.codepipeline.meta.events.register_first(
            "before-send.codepipeline.GetPipeline",
            lambda **_: AWSResponse("https://codepipeline", status, {}, _Body(body)),
        )
        return clients

    return connect


PROXY_PAGE = (
    b"<html>\n<head><title>403 Forbidden</title></head>\n<body>\n<center><h1>403 Forbidden"
    b"</h1></center>\n<hr><center>corporate proxy</center>\n</body>\n</html>\n"
)


def test_an_html_page_instead_of_an_aws_answer_is_one_line_with_the_http_status(
    cli: CliRunner,
) -> None:
    result = cli("releases", "--pipeline", PIPELINE, connect=_answer_with(403, PROXY_PAGE))

    assert (result.code, result.err) == (
        4,
        "cicd: GetPipeline got HTTP 403 without an AWS error in the answer: 403 Forbidden\n"
        "hint: something between you and AWS answered (a proxy, firewall or VPN?); check "
        "HTTPS_PROXY, the network and --region\n",
    )


def test_a_body_without_an_error_document_is_one_line_too(cli: CliRunner) -> None:
    body = b"upstream connect error\nor disconnect/reset before headers\n" * 20

    result = cli("releases", "--pipeline", PIPELINE, connect=_answer_with(400, body))

    first, hint = result.err.splitlines()
    assert first.startswith(
        "cicd: GetPipeline got HTTP 400 without an AWS error in the answer: upstream connect "
        "error or disconnect/reset before headers upstream"
    )
    assert len(first) < 300 and first.endswith("…")
    assert hint.startswith("hint: something between you and AWS answered")


def test_a_multi_line_aws_message_is_printed_on_one_line(aws: StubbedAws, cli: CliRunner) -> None:
    aws.codepipeline.add_client_error(
        "get_pipeline",
        service_error_code="ValidationException",
        service_message="first line\n  second line\n",
    )

    result = cli("releases", "--pipeline", PIPELINE, clients=aws.clients())

    assert result.err == (
        "cicd: AWS error during GetPipeline: ValidationException: first line second line\n"
    )


class _Failing:
    """A client whose every call fails with `error`."""

    def __init__(self, error: BaseException) -> None:
        self._error = error
        self.meta = SimpleNamespace(region_name=REGION)

    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise self._error

        return fail


FAILURES: dict[str, BaseException] = {
    "access denied": ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not\nallowed"}}, "GetPipeline"
    ),
    "throttled": ClientError({"Error": {"Code": "ThrottlingException"}}, "GetPipeline"),
    "proxy page": ClientError(
        {
            "Error": {"Code": "502", "Message": PROXY_PAGE.decode()},
            "ResponseMetadata": {"HTTPStatusCode": 502},
        },
        "GetPipeline",
    ),
    "no credentials": NoCredentialsError(),
    "unreachable": EndpointConnectionError(endpoint_url="https://codepipeline.example"),
    "a bug": KeyError("pipeline"),
    "ctrl-c": KeyboardInterrupt(),
}

COMMAND_LINES: dict[str, list[str]] = {
    "status": ["status"],
    "releases": ["releases", "-s", "web", "-e", "dev"],
    "release": ["release", "--pipeline", PIPELINE, "--wait"],
    "promote": ["promote", "-s", "web", "--from", "staging", "--to", "prod"],
    "approve": ["approve", "--pipeline", PIPELINE],
    "reject": ["reject", "--pipeline", PIPELINE, "--reason", "no"],
    "rollback": ["rollback", "--pipeline", PIPELINE, "--yes"],
    "info": ["info", "-s", "web", "-e", "prod", "--json"],
    "follow": ["follow", "--pipeline", PIPELINE],
    "logs": ["logs", "--pipeline", PIPELINE, "--tail"],
    "open": ["open", "--pipeline", PIPELINE, "1a2b3c4d"],
    "metrics": ["metrics"],
    "freeze": ["freeze", "--stage", "prod", "--reason", "incident"],
    "unfreeze": ["unfreeze", "--pipeline", PIPELINE],
    "override": ["override", "--pipeline", PIPELINE, "--condition", "bake", "--reason", "hot"],
    "retry": ["retry", "--pipeline", PIPELINE, "--wait"],
    "stop": ["stop", "--pipeline", PIPELINE, "--reason", "bad config"],
    "unreject": ["unreject", "--pipeline", PIPELINE, "3HL4kqtJlcpX"],
    "config": ["config", "-s", "web", "-e", "prod"],
    "config get": ["config", "get", "FEATURE_X", "-s", "web", "-e", "prod"],
    "config set": ["config", "set", "FEATURE_X=on", "--pipeline", PIPELINE, "--wait"],
    "config unset": ["config", "unset", "FEATURE_X", "--pipeline", PIPELINE],
    "config diff": ["config", "diff", "-s", "web", "--from", "staging", "--to", "prod"],
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_every_command_reports_every_kind_of_failure_in_at_most_two_lines(
    cli: CliRunner, failure: str
) -> None:
    assert set(COMMAND_LINES) == set(COMMAND_PERMISSIONS)
    documented = {int(code) for code in ExitCode}
    clients = cicd_aws.Clients(lambda service: cast(BaseClient, _Failing(FAILURES[failure])))
    for command, argv in COMMAND_LINES.items():
        result = cli(*argv, clients=clients)

        assert "Traceback" not in result.err, (command, result.err)
        lines = result.err.splitlines()
        assert 1 <= len(lines) <= 2 and lines[0].startswith("cicd: "), (command, result.err)
        assert len(lines) == 1 or lines[1].startswith("hint: "), (command, result.err)
        assert result.code in documented - {0}, (command, result.code)


def test_a_blank_body_instead_of_an_aws_answer_is_called_an_empty_body(cli: CliRunner) -> None:
    result = cli("releases", "--pipeline", PIPELINE, connect=_answer_with(400, b"\n \n"))

    assert (result.code, result.err.splitlines()[0]) == (
        4,
        "cicd: GetPipeline got HTTP 400 without an AWS error in the answer: empty body",
    )


def test_a_proxy_page_answering_sts_is_raised_as_an_aws_error_not_read_as_a_denial() -> None:
    # The query protocol (STS, SNS) parses an HTML page into a response without an "Error".
    from cicd.aws.partial import attempt
    from cicd.aws.quarantine import caller_arn

    sts = cicd_aws.connect(REGION, None).sts
    sts.meta.events.register_first(
        "before-send.sts.GetCallerIdentity",
        lambda **_: AWSResponse("https://sts", 403, {}, _Body(b"<html><b>blocked</b></html>")),
    )

    with pytest.raises(ClientError) as raised:
        attempt(lambda: caller_arn(sts))

    assert "Error" not in raised.value.response
