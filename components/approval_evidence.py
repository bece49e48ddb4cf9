"""The evidence an approver of a promoted release sees: computed by the `Describe` step.

Before prod's manual approval, the `Describe` CodeBuild step (`components.release_manifest`,
`DESCRIBE_BUILDSPEC`) runs this module as a script. From the release's manifest and AWS's own
records it computes, and exports as the action's output variables (namespace
`ReleaseVariables`), what the approval's CustomData, its link and its notification show:

- `LIVE_COMMIT`, `CHANGES_PATH`, `COMMITS_AHEAD`: what this pipeline runs now (the commit its
  newest successful execution deployed, read from that execution's own `Describe` or
  `Configure` output variables; for a rollback, those of the execution it returned to), the
  GitHub path comparing it with the candidate (`compare/LIVE...CANDIDATE`, or
  `commit/CANDIDATE` when nothing is live yet), and how many commits the candidate is ahead
  (GitHub's compare API, with the token in `GITHUB_TOKEN` when the project has one (the
  delivery reporter's secret), anonymously otherwise: "?" when GitHub does not answer, as for a
  private repository without a token that may read it, past the rate limit, or when GitHub
  cannot be reached; the link still shows them);
- `VERIFICATION`, `BAKE`: the upstream execution that built and proved the candidate (the
  manifest names it): each `verify-*` action's status in its Deploy stage, and how long it baked
  (from the end of its Deploy actions to the start of its Publish action: the stage's
  on-success condition runs in between). Read only when the upstream pipeline is in this account
  (IAM scopes the read to it); otherwise "unknown (...)";
- `ALARMS`: each alarm the release will be watched by, with its state now (CloudWatch
  DescribeAlarms).

Size: CodePipeline limits an action configuration value to 1,000 characters
(https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionDeclaration.html,
`configuration`: "Maximum length of 1000"), and the CustomData is one; each variable is cut
to `LIMITS` so the resolved CustomData stays under it (a test adds them up). All output
variables of one action together may take 122,880 bytes
(https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html): far more.

Standard library only: it runs on CodeBuild's image with the AWS CLI (`aws_cli` is how it
calls AWS there) and is tested with boto3 clients behind botocore Stubbers (any `Call`).
Nothing here declares resources.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

Call = Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]
"""`call(service, operation, parameters)`: one AWS API call (`("codepipeline",
"ListPipelineExecutions", {...})`), its parsed answer."""
GitHubGet = Callable[[str], Mapping[str, Any] | None]
"""Fetch one GitHub API URL; None when it cannot (private repository, no network)."""

VARIABLES = ("LIVE_COMMIT", "CHANGES_PATH", "COMMITS_AHEAD", "VERIFICATION", "BAKE", "ALARMS")
"""The output variables this step adds to the manifest's COMMIT_ID, COMMIT_MESSAGE, REPOSITORY."""
LIMITS = {
    "LIVE_COMMIT": 40,
    "CHANGES_PATH": 96,
    "COMMITS_AHEAD": 6,
    "VERIFICATION": 160,
    "BAKE": 40,
    "ALARMS": 240,
}
NOTHING_LIVE = "none"
GITHUB_API = "https://api.github.com"
GITHUB_API_VERSION = "2022-11-28"
USER_AGENT = "gh-aws-delivery-describe"
TOKEN_VARIABLE = "GITHUB_TOKEN"
"""The environment variable holding the GitHub token (CodeBuild resolves it from Secrets
Manager); unset or empty: the compare API is asked anonymously."""
# How many of this pipeline's executions to search for the live one: a live release is rarely
# older than the last few dozen attempts.
HISTORY = 50
DESCRIBE_ACTION, CONFIGURE_ACTION, PUBLISH_ACTION = "Describe", "Configure", "Publish"
DEPLOY_STAGE, VERIFY_PREFIX = "Deploy", "verify-"
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:80]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _actions(call: Call, pipeline: str, execution_id: str) -> list[Mapping[str, Any]]:
    """Every action execution of one pipeline execution (ListActionExecutions, all pages)."""
    found: list[Mapping[str, Any]] = []
    request: dict[str, Any] = {
        "pipelineName": pipeline,
        "filter": {"pipelineExecutionId": execution_id},
    }
    while True:
        page = call("codepipeline", "ListActionExecutions", request)
        found.extend(page.get("actionExecutionDetails", []))
        if not page.get("nextToken"):
            return found
        request = {**request, "nextToken": page["nextToken"]}


def live_commit(call: Call, pipeline: str) -> str | None:
    """The commit this pipeline's newest successful execution deployed, or None."""
    page = call(
        "codepipeline", "ListPipelineExecutions", {"pipelineName": pipeline, "maxResults": HISTORY}
    )
    live = next(
        (s for s in page.get("pipelineExecutionSummaries", []) if s.get("status") == "Succeeded"),
        None,
    )
    if live is None:
        return None
    execution_id = str(live["pipelineExecutionId"])
    if live.get("executionType") == "ROLLBACK":
        # A rollback re-runs the Deploy stage only; the commit is the target execution's.
        execution_id = str(
            live.get("rollbackMetadata", {}).get("rollbackTargetPipelineExecutionId")
            or execution_id
        )
    for detail in _actions(call, pipeline, execution_id):
        if detail.get("actionName") in {DESCRIBE_ACTION, CONFIGURE_ACTION}:
            commit = detail.get("output", {}).get("outputVariables", {}).get("COMMIT_ID")
            if commit and _SHA.match(str(commit)):
                return str(commit)
    return None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).astimezone()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {rest}s" if minutes else f"{rest}s"


def upstream_proof(call: Call, manifest: Mapping[str, Any]) -> tuple[str, str]:
    """(VERIFICATION, BAKE) of the upstream execution the manifest says built the release."""
    pipeline, execution_id = manifest.get("pipeline"), manifest.get("pipeline_execution_id")
    if not pipeline or not execution_id:
        return "unknown (the manifest names no execution)", "unknown"
    try:
        details = _actions(call, str(pipeline), str(execution_id))
    except Exception as error:  # another account, or not allowed: the approver is told so
        return f"unknown ({pipeline} not readable: {_first_line(error)})", "unknown"
    verified = sorted(
        (str(d["actionName"]), str(d.get("status", "?")))
        for d in details
        if d.get("stageName") == DEPLOY_STAGE
        and str(d.get("actionName", "")).startswith(VERIFY_PREFIX)
    )
    verification = (
        ", ".join(f"{name.removeprefix(VERIFY_PREFIX)} {status}" for name, status in verified)
        if verified
        else f"no verification suite ran in {pipeline}"
    )
    deployed = [
        _when(d.get("lastUpdateTime"))
        for d in details
        if d.get("stageName") == DEPLOY_STAGE and d.get("status") == "Succeeded"
    ]
    published = [
        _when(d.get("startTime")) for d in details if d.get("actionName") == PUBLISH_ACTION
    ]
    ends = [t for t in deployed if t is not None]
    starts = [t for t in published if t is not None]
    if not ends or not starts:
        return verification, "unknown"
    return verification, _duration(max(0.0, (min(starts) - max(ends)).total_seconds()))


def alarm_states(call: Call, names: Sequence[str]) -> str:
    """`name STATE, ...` for the alarms named, in that order (MISSING: no such alarm)."""
    if not names:
        return "none"
    states: dict[str, str] = {}
    for start in range(0, len(names), 100):
        request: dict[str, Any] = {
            "AlarmNames": list(names[start : start + 100]),
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            page = call("cloudwatch", "DescribeAlarms", request)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                states[str(alarm["AlarmName"])] = str(alarm.get("StateValue", "?"))
            if not page.get("NextToken"):
                break
            request = {**request, "NextToken": page["NextToken"]}
    return ", ".join(f"{name} {states.get(name, 'MISSING')}" for name in names)


def commits_ahead(
    github: GitHubGet, repository: str, base: str, head: str, api: str = GITHUB_API
) -> str:
    """How many commits `head` is ahead of `base` (GitHub's compare API), or "?"."""
    answer = github(f"{api}/repos/{repository}/compare/{base}...{head}")
    ahead = (answer or {}).get("ahead_by")
    return str(ahead) if isinstance(ahead, int) else "?"


def evidence(
    call: Call,
    github: GitHubGet,
    manifest: Mapping[str, Any],
    *,
    pipeline: str,
    alarms: Sequence[str],
    github_api: str = GITHUB_API,
) -> dict[str, str]:
    """Every variable of `VARIABLES`, each within its `LIMITS`."""
    candidate, repository = str(manifest["commit"]), str(manifest["repository"])
    try:
        live = live_commit(call, pipeline) if pipeline else None
        unknown = None if pipeline else "unknown (PIPELINE_NAME not set)"
    except Exception as error:  # not allowed, or AWS unreachable: the approval still waits
        live, unknown = None, f"unknown ({_first_line(error)})"
    if live is None:
        values = {
            "LIVE_COMMIT": unknown or NOTHING_LIVE,
            "CHANGES_PATH": f"commit/{candidate}",
            "COMMITS_AHEAD": "?",
        }
    else:
        values = {
            "LIVE_COMMIT": live,
            "CHANGES_PATH": f"compare/{live}...{candidate}",
            "COMMITS_AHEAD": "0"
            if live == candidate
            else commits_ahead(github, repository, live, candidate, github_api),
        }
    values["VERIFICATION"], values["BAKE"] = upstream_proof(call, manifest)
    try:
        values["ALARMS"] = alarm_states(call, alarms)
    except Exception as error:  # not allowed: say so rather than fail the approval
        values["ALARMS"] = f"unknown ({_first_line(error)})"
    # One line each: a variable goes into CustomData and an email.
    return {k: _cut(" ".join(values[k].split()), LIMITS[k]) for k in VARIABLES}


# --- Running in CodeBuild -------------------------------------------------------------------


def aws_cli(service: str, operation: str, parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    """One call through the AWS CLI on the build image (parameters as --cli-input-json)."""
    command = re.sub(r"(?<!^)(?=[A-Z])", "-", operation).lower()
    # The CLI the build's shell finds: a pyenv-managed python3 puts its own bin first on PATH.
    done = subprocess.run(
        [
            os.environ.get("AWS_CLI") or "aws",
            service,
            command,
            "--cli-input-json",
            json.dumps(parameters),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"aws {service} {command} failed")
    return json.loads(done.stdout or "{}")


def github_request(url: str, token: str | None) -> urllib.request.Request:
    """A GET of GitHub's REST API: with `token` as a Bearer token when there is one, else
    anonymous.

    The token is sent only over HTTPS (a mistyped `GITHUB_API_URL` must not carry it in clear),
    and as an unredirected header: urllib copies a request's other headers to wherever a
    redirect points, so the token reaches only the URL named here.
    """
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": USER_AGENT,
        },
    )
    if token and url.startswith("https://"):
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    return request


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)


def github_client(token: str | None, opener: Callable[..., Any] = _urlopen) -> GitHubGet:
    """A `GitHubGet` asking with `token` (stripped; empty or None: anonymously).

    `opener(request, timeout)` opens a request as `urllib.request.urlopen` does (tests pass
    one that answers recorded responses)."""
    secret = (token or "").strip() or None

    def get(url: str) -> Mapping[str, Any] | None:
        try:
            with opener(github_request(url, secret), timeout=5) as response:
                return json.loads(response.read())
        except Exception:  # a repository it may not read, rate limit, no route: "?"
            # Dropped, not printed: the answer is "?", and the link still shows the commits.
            return None

    return get


def main(argv: Sequence[str]) -> int:
    """`python3 - MANIFEST OUT_DIR`: writes one file per variable into OUT_DIR."""
    manifest_path, out_dir = argv
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    names = [n for n in os.environ.get("ALARM_NAMES", "").split(",") if n]
    values = evidence(
        aws_cli,
        github_client(os.environ.get(TOKEN_VARIABLE)),
        manifest,
        pipeline=os.environ.get("PIPELINE_NAME", ""),
        alarms=names,
        # GitHub Enterprise Server: its API's root (https://HOST/api/v3).
        github_api=os.environ.get("GITHUB_API_URL", GITHUB_API).rstrip("/"),
    )
    os.makedirs(out_dir, exist_ok=True)
    for name, value in values.items():
        with open(os.path.join(out_dir, name), "w") as out:
            out.write(value)
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
