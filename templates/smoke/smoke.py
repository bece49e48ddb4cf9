"""Smoke test: a few real requests to the release that was just deployed.

The pipeline runs it as the verification suite `smoke` (buildspec-smoke.yml), after the deploy
action, in a CodeBuild project whose input is the release artifact. The platform names the target
in environment variables:

- Server: ENDPOINT_URL, the target's base URL. Each path in HTTP_CHECKS gets a GET request.
- Lambda: FUNCTION_NAME and FUNCTION_ALIAS. The alias is invoked once with LAMBDA_EVENT through
  the AWS CLI (the project's role may invoke exactly that alias).

SERVICE, STAGE and VERIFY_TARGET are printed for the log. Exit status: 0 when every check passed,
1 when one failed, 2 when the environment names no target. Standard library only, so the step
installs nothing. Edit HTTP_CHECKS and LAMBDA_EVENT in checks.py for your app; the SMOKE_*
variables below exist for local runs and tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

# The checks live in checks.py beside this file, which the stack's synthetic traffic (a canary,
# `deploy.traffic`) runs too: one definition of "the release works" for both.
sys.path.insert(0, str(Path(__file__).resolve().parent))
_writes_bytecode, sys.dont_write_bytecode = (
    sys.dont_write_bytecode,
    True,
)  # the release stays as built
try:
    from checks import HTTP_CHECKS, LAMBDA_EVENT
finally:
    sys.dont_write_bytecode = _writes_bytecode

# The whole run stops after SMOKE_BUDGET_SECONDS, far below the verification project's timeout
# (15 minutes unless the stack's config says otherwise), so a dead endpoint fails with a report
# instead of a CodeBuild timeout. Connection errors, timeouts and 5xx answers are retried every
# SMOKE_RETRY_SECONDS (a target that has just been deployed may need a moment behind its load
# balancer); any other unexpected status fails at once.
BUDGET_SECONDS = float(os.environ.get("SMOKE_BUDGET_SECONDS", "120"))
REQUEST_TIMEOUT_SECONDS = float(os.environ.get("SMOKE_REQUEST_TIMEOUT_SECONDS", "10"))
RETRY_SECONDS = float(os.environ.get("SMOKE_RETRY_SECONDS", "5"))

MANIFEST = Path(__file__).resolve().parent.parent / "release-manifest.json"
SHOWN_BODY_CHARS = 160


@dataclass
class Result:
    name: str
    passed: bool
    detail: str
    seconds: float
    skipped: bool = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _excerpt(text: str) -> str:
    """The start of a response body on one line, for the log."""
    return " ".join(text.split())[:SHOWN_BODY_CHARS]


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _get(url: str, timeout: float) -> tuple[int | None, str]:
    """One GET: the status (None when no HTTP answer came) and a short description."""
    request = urllib.request.Request(url, headers={"User-Agent": "pipeline-smoke-test"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
            return response.status, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        body = _excerpt(error.read(4096).decode("utf-8", "replace"))
        error.close()
        return error.code, f"HTTP {error.code} {body!r}" if body else f"HTTP {error.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        return None, f"no answer: {reason}"


def check_http(base_url: str, path: str, expected: frozenset[int], deadline: float) -> Result:
    url = base_url.rstrip("/") + path
    name = f"GET {url}"
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        timeout = min(REQUEST_TIMEOUT_SECONDS, max(_remaining(deadline), 0.1))
        status, detail = _get(url, timeout)
        took = time.monotonic() - start
        if status in expected:
            return Result(name, True, f"{detail} (attempt {attempt})", took)
        if status is not None and status < 500:
            want = ", ".join(str(s) for s in sorted(expected))
            return Result(name, False, f"{detail}; expected {want}", took)
        if _remaining(deadline) <= RETRY_SECONDS:
            return Result(name, False, f"{detail} after {attempt} attempt(s), {took:.1f}s", took)
        print(f"  {name}: {detail} (attempt {attempt}); retrying", flush=True)
        time.sleep(RETRY_SECONDS)


def check_lambda(function: str, alias: str, deadline: float) -> Result:
    name = f"invoke {function}:{alias}"
    aws = shutil.which("aws")
    if aws is None:
        return Result(name, False, "the AWS CLI (aws) is not on PATH", 0.0)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        event, response = Path(tmp, "event.json"), Path(tmp, "response.json")
        event.write_text(json.dumps(LAMBDA_EVENT))
        # fileb:// sends the bytes as they are, with AWS CLI v1 and v2 alike.
        command = [
            aws,
            "lambda",
            "invoke",
            "--function-name",
            function,
            "--qualifier",
            alias,
            "--payload",
            f"fileb://{event}",
            "--output",
            "json",
            str(response),
        ]
        try:
            run = subprocess.run(
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=max(_remaining(deadline), 1.0),
            )
        except subprocess.TimeoutExpired:
            took = time.monotonic() - start
            return Result(name, False, f"no answer within {took:.0f}s", took)
        took = time.monotonic() - start
        if run.returncode != 0:
            return Result(name, False, f"aws exited {run.returncode}: {run.stderr.strip()}", took)
        try:
            answer = json.loads(run.stdout)
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            return Result(name, False, f"aws printed no JSON object: {run.stdout.strip()!r}", took)
        payload = response.read_text(errors="replace") if response.exists() else ""
    status = answer.get("StatusCode")
    version = answer.get("ExecutedVersion", "?")
    shown = _excerpt(payload)
    if answer.get("FunctionError"):
        detail = f"FunctionError {answer['FunctionError']} (version {version}): {shown}"
        return Result(name, False, detail, took)
    if status != 200:
        return Result(name, False, f"StatusCode {status}, expected 200 (version {version})", took)
    # A handler behind API Gateway reports its own failures as {"statusCode": 5xx}.
    try:
        body = json.loads(payload)
    except json.JSONDecodeError:
        body = None
    handler_status = body.get("statusCode") if isinstance(body, dict) else None
    if isinstance(handler_status, int) and handler_status >= 500:
        detail = f"the handler answered statusCode {handler_status}: {shown}"
        return Result(name, False, detail, took)
    return Result(name, True, f"StatusCode 200, version {version}", took)


def describe_release() -> str:
    """Which commit is being verified, from the manifest the pipeline put in the release."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return f"release: no {MANIFEST.name} beside smoke/ (not run on a release artifact)"
    commit = str(manifest.get("commit", "?"))[:12]
    subject = (str(manifest.get("message") or "").splitlines() or [""])[0]
    return f"release: {manifest.get('repository', '?')}@{commit} {subject!r}"


def write_junit(path: Path, results: list[Result]) -> None:
    failures = sum(not r.passed and not r.skipped for r in results)
    suite = ET.Element(
        "testsuite",
        name="smoke",
        tests=str(len(results)),
        failures=str(failures),
        skipped=str(sum(r.skipped for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    target = os.environ.get("VERIFY_TARGET", "local")
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"smoke.{target}",
            name=result.name,
            time=f"{result.seconds:.3f}",
        )
        if result.skipped:
            ET.SubElement(case, "skipped", message=result.detail)
        elif not result.passed:
            ET.SubElement(case, "failure", message=result.detail).text = result.detail
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Real requests to the release just deployed.")
    parser.add_argument("--junitxml", type=Path, help="also write a JUnit XML report here")
    args = parser.parse_args(argv)

    endpoint = os.environ.get("ENDPOINT_URL", "")
    function = os.environ.get("FUNCTION_NAME", "")
    alias = os.environ.get("FUNCTION_ALIAS", "")
    if bool(endpoint) == bool(function) or (function and not alias):
        print(
            "smoke: set ENDPOINT_URL (server) or FUNCTION_NAME and FUNCTION_ALIAS (Lambda); the "
            "pipeline's verification project sets them from the stack's deploy target",
            file=sys.stderr,
        )
        return 2
    if endpoint and not endpoint.startswith(("http://", "https://")):
        print(f"smoke: ENDPOINT_URL {endpoint!r} is not an http(s) URL", file=sys.stderr)
        return 2

    print(
        f"smoke: service {os.environ.get('SERVICE', '?')}, stage {os.environ.get('STAGE', '?')}, "
        f"target {os.environ.get('VERIFY_TARGET', '?')}; budget {BUDGET_SECONDS:.0f}s"
    )
    print(describe_release(), flush=True)
    deadline = time.monotonic() + BUDGET_SECONDS
    results: list[Result] = []
    if endpoint:
        for path, expected in HTTP_CHECKS:
            if _remaining(deadline) <= 0:
                url = endpoint.rstrip("/") + path
                results.append(Result(f"GET {url}", False, "time budget spent", 0.0, True))
                continue
            results.append(check_http(endpoint, path, expected, deadline))
    else:
        results.append(check_lambda(function, alias, deadline))

    for result in results:
        verdict = "SKIP" if result.skipped else "PASS" if result.passed else "FAIL"
        print(f"{verdict} {result.name}: {result.detail} [{result.seconds:.2f}s]")
    if args.junitxml:
        write_junit(args.junitxml, results)
    passed = all(r.passed for r in results)
    print(f"smoke: {sum(r.passed for r in results)}/{len(results)} checks passed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
