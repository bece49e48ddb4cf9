"""Synthetic traffic (issue 20): the canary, its role, its alarm, and the checks it shares."""

from __future__ import annotations

import http.server
import io
import json
import runpy
import sys
import threading
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest

from components.synthetic_traffic import (
    CANARY_SCRIPT,
    SyntheticTraffic,
    SyntheticTrafficArgs,
    canary_zip,
)
from tests.harness import ACCOUNT, REGION, ROOT, Recorder, run_pulumi

CANARY = "aws:synthetics/canary:Canary"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CHECKS = ROOT / "templates" / "smoke" / "checks.py"
SMOKE = ROOT / "templates" / "smoke" / "smoke.py"
BUCKET = "acme-staging-artifacts"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/artifacts"


def _server(**extra: Any) -> SyntheticTrafficArgs:
    args = {
        "service": "web",
        "stage": "staging",
        "target": "web",
        "endpoint": "https://web.staging.example.com",
        "checks_file": str(CHECKS),
        "artifact_bucket_name": BUCKET,
        "artifact_bucket_arn": f"arn:aws:s3:::{BUCKET}",
        **extra,
    }
    return cast(SyntheticTrafficArgs, args)


def _lambda(**extra: Any) -> SyntheticTrafficArgs:
    args = _server(**extra)
    args.pop("endpoint")
    args.update(service="thumbs", target="thumbs", function_name="thumbs-staging", alias="live")
    return args


def _run(args: SyntheticTrafficArgs, tmp_path: Path) -> list[str]:
    names: list[str] = []

    def program() -> Any:
        return SyntheticTraffic("traffic", {**args, "build_dir": str(tmp_path)}).alarm_names.apply(
            names.extend
        )

    run_pulumi(program)
    return names


def _policy(mocks: Recorder) -> dict[str, dict[str, Any]]:
    document = json.loads(mocks.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def test_a_server_target_gets_a_canary_running_the_smoke_checks_every_minute(
    mocks: Recorder, tmp_path: Path
) -> None:
    _run(_server(), tmp_path)

    canary = mocks.one(CANARY, "traffic-canary").inputs
    assert canary["name"] == "web-staging-web"
    assert (canary["handler"], canary["runtimeVersion"]) == (
        "canary.handler",
        "syn-python-selenium-14.0",
    )
    assert canary["schedule"] == {"expression": "rate(1 minute)"}
    assert canary["startCanary"] is True
    assert canary["artifactS3Location"] == f"s3://{BUCKET}/traffic/web/"
    assert canary["artifactConfig"] == {"s3Encryption": {"encryptionMode": "SSE_S3"}}
    assert canary["runConfig"]["environmentVariables"] == {
        "SERVICE": "web",
        "STAGE": "staging",
        "VERIFY_TARGET": "web",
        "ENDPOINT_URL": "https://web.staging.example.com",
    }
    assert canary["runConfig"]["timeoutInSeconds"] == 60, "a run ends before the next starts"
    role = mocks.one("aws:iam/role:Role")
    assert canary["executionRoleArn"].endswith(f"/{role.inputs['name']}"), "its own role"
    assert mocks.one("aws:iam/rolePolicy:RolePolicy").inputs["role"] == f"{role.name}-id"
    with zipfile.ZipFile(canary["zipFile"]) as archive:
        assert sorted(archive.namelist()) == ["python/canary.py", "python/checks.py"]
        assert archive.read("python/checks.py") == CHECKS.read_bytes(), "the very checks file"
        assert archive.read("python/canary.py").decode() == CANARY_SCRIPT


def test_the_canary_alarm_fails_on_two_failed_runs_or_on_no_runs_at_all(
    mocks: Recorder, tmp_path: Path
) -> None:
    names = _run(_server(), tmp_path)

    assert names == ["web-staging-web-traffic"]
    alarm = mocks.one(ALARM, "traffic-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
        "CloudWatchSynthetics",
        "SuccessPercent",
        "Average",
    )
    assert alarm["dimensions"] == {"CanaryName": "web-staging-web"}, "the canary's own metric"
    assert (alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (60, 2, 2)
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (100, "LessThanThreshold")
    assert alarm["treatMissingData"] == "breaching", "a canary that does not run proves nothing"


def test_the_schedule_and_alarm_follow_every_minutes_and_failed_runs(
    mocks: Recorder, tmp_path: Path
) -> None:
    _run(_server(every_minutes=5, failed_runs=3), tmp_path)

    assert mocks.one(CANARY).inputs["schedule"] == {"expression": "rate(5 minutes)"}
    alarm = mocks.one(ALARM).inputs
    assert (alarm["period"], alarm["evaluationPeriods"]) == (300, 3)


def test_the_canary_role_may_write_its_artifacts_and_metrics_only(
    mocks: Recorder, tmp_path: Path
) -> None:
    _run(_server(artifact_kms_key_arn=KEY), tmp_path)

    trust = json.loads(mocks.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    grants = _policy(mocks)
    assert grants["WriteRunArtifacts"]["Resource"] == f"arn:aws:s3:::{BUCKET}/traffic/web/*"
    assert grants["WriteRunArtifacts"]["Action"] == "s3:PutObject"
    assert grants["CanaryMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}
    }
    assert grants["EncryptRunArtifacts"]["Resource"] == KEY
    assert "InvokeTheAlias" not in grants, "a server canary invokes nothing"
    canary = mocks.one(CANARY).inputs
    assert canary["artifactConfig"] == {
        "s3Encryption": {"encryptionMode": "SSE_KMS", "kmsKeyArn": KEY}
    }


def test_a_lambda_target_gets_a_canary_that_may_invoke_only_its_alias(
    mocks: Recorder, tmp_path: Path
) -> None:
    _run(_lambda(), tmp_path)

    canary = mocks.one(CANARY).inputs
    assert canary["name"] == "thumbs-staging-thumbs"
    env = canary["runConfig"]["environmentVariables"]
    assert (env["FUNCTION_NAME"], env["FUNCTION_ALIAS"]) == ("thumbs-staging", "live")
    assert "ENDPOINT_URL" not in env
    assert _policy(mocks)["InvokeTheAlias"] == {
        "Sid": "InvokeTheAlias",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:thumbs-staging:live",
    }


def test_the_same_checks_give_the_same_zip_and_a_changed_check_a_new_path(
    mocks: Recorder, tmp_path: Path
) -> None:
    assert canary_zip(CHECKS) == canary_zip(CHECKS), "deterministic"
    changed = tmp_path / "checks.py"
    changed.write_text(CHECKS.read_text() + "\n# another check\n")
    assert canary_zip(changed) != canary_zip(CHECKS)
    _run(_server(), tmp_path / "a")
    first = mocks.one(CANARY).inputs["zipFile"]
    mocks.resources.clear()
    _run(_server(checks_file=str(changed)), tmp_path / "a")
    second = mocks.one(CANARY).inputs["zipFile"]
    assert first != second and Path(first).name.startswith("web-staging-web-")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"function_name": "f", "alias": "live"}, r"give endpoint .* or function_name and alias"),
        ({"every_minutes": 0}, r"every_minutes 0 must be 1-60"),
        ({"every_minutes": 61}, r"every_minutes 61 must be 1-60"),
        ({"failed_runs": 6}, r"failed_runs 6 must be 1-5"),
        ({"runtime_version": "syn-nodejs-puppeteer-9.1"}, r"must be a syn-python-selenium-\*"),
        ({"checks_file": "nowhere/checks.py"}, r"checks_file 'nowhere/checks.py' is not a file"),
    ],
)
def test_invalid_traffic_args_fail_with_a_message_naming_the_arg(
    mocks: Recorder, tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _run(_server(**extra), tmp_path)
    assert mocks.resources == []


# --- the canary script runs the smoke suite's checks -------------------------------------------


@pytest.fixture
def canary_module() -> Iterator[types.ModuleType]:
    """CANARY_SCRIPT as the canary's runtime loads it: beside the app's checks.py."""
    checks = types.ModuleType("checks")
    exec(compile(CHECKS.read_text(), str(CHECKS), "exec"), checks.__dict__)
    saved = sys.modules.get("checks")
    sys.modules["checks"] = checks
    module = types.ModuleType("canary")
    exec(compile(CANARY_SCRIPT, "canary.py", "exec"), module.__dict__)
    yield module
    if saved is None:
        del sys.modules["checks"]
    else:
        sys.modules["checks"] = saved


def _smoke_checks() -> dict[str, Any]:
    smoke = runpy.run_path(str(SMOKE), run_name="smoke_template")
    return {"HTTP_CHECKS": smoke["HTTP_CHECKS"], "LAMBDA_EVENT": smoke["LAMBDA_EVENT"]}


def test_the_canary_and_the_smoke_suite_run_the_same_checks(canary_module: Any) -> None:
    smoke = _smoke_checks()
    assert smoke["HTTP_CHECKS"] == canary_module.checks.HTTP_CHECKS
    assert smoke["LAMBDA_EVENT"] == canary_module.checks.LAMBDA_EVENT
    requested: list[str] = []

    def get(url: str) -> int:
        requested.append(url)
        return 200

    assert canary_module.run_http("https://web.example.com/", get=get) == []
    assert requested == [f"https://web.example.com{path}" for path, _ in smoke["HTTP_CHECKS"]]


class _App(http.server.BaseHTTPRequestHandler):
    statuses: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        self.send_response(self.statuses.get(self.path, 404))
        self.send_header("Location", "/login")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def app() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _App)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_canary_passes_a_healthy_app_and_fails_a_broken_one_like_smoke_does(
    canary_module: Any, app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENDPOINT_URL", app)
    _App.statuses = {"/health": 200, "/": 302}
    assert canary_module.handler({}, None) == "passed", "a redirecting root passes unfollowed"
    _App.statuses = {"/health": 503, "/": 200}
    with pytest.raises(RuntimeError, match=r"GET http://127.0.0.1:\d+/health: HTTP 503"):
        canary_module.handler({}, None)


def test_the_lambda_canary_sends_the_smoke_event_and_fails_on_a_function_error(
    canary_module: Any,
) -> None:
    calls: list[dict[str, Any]] = []

    class Client:
        def __init__(self, error: str | None) -> None:
            self.error = error

        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(b'{"x": 1}')}
            if self.error:
                answer["FunctionError"] = self.error
            return answer

    assert canary_module.run_lambda("thumbs-staging", "live", client=Client(None)) == []
    assert calls[0]["FunctionName"] == "thumbs-staging" and calls[0]["Qualifier"] == "live"
    assert calls[0]["InvocationType"] == "RequestResponse", "synchronous: the answer is judged"
    assert json.loads(calls[0]["Payload"]) == _smoke_checks()["LAMBDA_EVENT"]
    failures = canary_module.run_lambda("thumbs-staging", "live", client=Client("Unhandled"))
    assert failures == ['invoke thumbs-staging:live: Unhandled: {"x": 1}']
