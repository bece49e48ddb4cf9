"""The Package and Describe buildspecs, run for real in bash with a stand-in `aws` command.

CodeBuild runs a buildspec's commands in one bash shell; so do these tests, with the variables
the projects and the pipeline action set, and an `aws` on PATH that answers with recorded API
shapes (GetPipelineExecution, ListActionExecutions) and logs how it was called. What they prove:
the manifest holds the facts of the execution, a hostile commit message stays data, and the
approval variables come out of the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.release_channel import MANIFEST_FILE
from components.release_config import RELEASE_OPTIONS_FILE
from components.release_manifest import (
    DESCRIBE_BUILDSPEC,
    EXECUTION_ID_VARIABLE,
    PACKAGE_BUILDSPEC,
    RELEASE_VARIABLES,
    package_variables,
)

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(
    BASH is None or shutil.which("python3") is None, reason="needs bash"
)

EXECUTION = "5b3e3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
COMMIT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
HOSTILE = 'Fix "quotes" $(touch PWNED) `touch PWNED2`; rm -rf / #\nsecond line'
# What the APIs answer, in their documented shapes (trimmed to the fields read).
EXECUTION_RESPONSE = {
    "pipelineExecution": {
        "pipelineName": "web-staging-pipeline",
        "pipelineExecutionId": EXECUTION,
        "status": "InProgress",
        "artifactRevisions": [
            {
                "name": "SourceArtifact",
                "revisionId": COMMIT,
                "revisionSummary": json.dumps({"ProviderType": "GitHub", "CommitMessage": HOSTILE}),
                "revisionUrl": f"https://github.com/acme/web/commit/{COMMIT}",
            }
        ],
    }
}
ACTIONS_RESPONSE = {
    "actionExecutionDetails": [
        {
            "pipelineExecutionId": EXECUTION,
            "stageName": "Source",
            "actionName": "GitHub",
            "output": {"executionResult": {"externalExecutionId": COMMIT}},
        },
        {
            "pipelineExecutionId": EXECUTION,
            "stageName": "Build",
            "actionName": "Build",
            "output": {"executionResult": {"externalExecutionId": "web-staging-build:1a2b3c"}},
        },
    ]
}


def commands(buildspec: str) -> list[str]:
    spec = yaml.safe_load(buildspec)
    assert spec["version"] == 0.2 and spec["env"]["shell"] == "bash"
    return spec["phases"]["build"]["commands"]


def run_build(buildspec: str, workdir: Path, env: dict[str, str], tail: str = "") -> Any:
    """Every command of the build phase, in one bash, as CodeBuild runs them; then `tail`.

    CodeBuild gives each build a /tmp of its own; here tests run side by side on one machine,
    so the build's /tmp is `workdir/tmp`."""
    scratch = workdir / "tmp"
    scratch.mkdir(exist_ok=True)
    script = "set -e\n" + "\n".join(commands(buildspec)) + "\n" + tail
    script = script.replace("/tmp/", f"{scratch}/")
    return subprocess.run(
        [BASH or "bash", "-c", script],
        cwd=workdir,
        env={"PATH": os.environ["PATH"], "HOME": str(workdir), **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def fake_aws(tmp_path: Path) -> Path:
    """An `aws` that answers the two CodePipeline calls and records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "execution.json").write_text(json.dumps(EXECUTION_RESPONSE))
    (tmp_path / "actions.json").write_text(json.dumps(ACTIONS_RESPONSE))
    aws = bin_dir / "aws"
    aws.write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$*" >> "{tmp_path}/aws-calls"\n'
        'case "$2" in\n'
        f'  get-pipeline-execution) cat "{tmp_path}/execution.json" ;;\n'
        f'  list-action-executions) cat "{tmp_path}/actions.json" ;;\n'
        '  *) echo "unexpected aws call: $*" >&2; exit 2 ;;\n'
        "esac\n"
    )
    aws.chmod(0o755)
    return bin_dir


def package_env(src: Path, bin_dir: Path) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CODEBUILD_SRC_DIR": str(src),
        EXECUTION_ID_VARIABLE: EXECUTION,
        "PIPELINE_NAME": "web-staging-pipeline",
        "SERVICE": "web",
        "STAGE": "staging",
        "REPOSITORY": "acme/web",
        "BRANCH": "main",
    }


def test_package_writes_the_manifest_of_this_execution_beside_the_build(
    tmp_path: Path, fake_aws: Path
) -> None:
    src = tmp_path / "src"
    (src / "scripts").mkdir(parents=True)
    (src / "appspec.yml").write_text("version: 0.0\n")
    env = package_env(src, fake_aws)

    result = run_build(PACKAGE_BUILDSPEC, src, env)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((src / MANIFEST_FILE).read_text())
    created = manifest.pop("created")
    assert created.endswith("+00:00")
    assert manifest == {
        "schema": 1,
        "service": "web",
        "commit": COMMIT,
        "message": HOSTILE,
        "repository": "acme/web",
        "branch": "main",
        "stage": "staging",
        "pipeline": "web-staging-pipeline",
        "pipeline_execution_id": EXECUTION,
        "build_id": "web-staging-build:1a2b3c",
        "contracts_schema": False,
    }
    calls = (tmp_path / "aws-calls").read_text().splitlines()
    assert calls == [
        f"codepipeline get-pipeline-execution --pipeline-name web-staging-pipeline "
        f"--pipeline-execution-id {EXECUTION} --output json",
        f"codepipeline list-action-executions --pipeline-name web-staging-pipeline "
        f"--filter pipelineExecutionId={EXECUTION} --output json",
    ]
    # The commit message was data: nothing in it ran.
    assert not list(tmp_path.rglob("PWNED*"))
    assert (src / "appspec.yml").exists(), "the build's own files are left as they are"


def test_package_refuses_to_run_without_the_execution_id(tmp_path: Path, fake_aws: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    env = package_env(src, fake_aws)
    del env[EXECUTION_ID_VARIABLE]

    result = run_build(PACKAGE_BUILDSPEC, src, env)

    assert result.returncode != 0
    assert f"{EXECUTION_ID_VARIABLE} is not set" in result.stderr
    assert not (src / MANIFEST_FILE).exists()


def test_package_exports_every_file_of_the_build_plus_the_manifest() -> None:
    spec = yaml.safe_load(PACKAGE_BUILDSPEC)
    assert spec["artifacts"] == {"files": ["**/*"]}, "the build's layout, unchanged"


def test_the_pipeline_hands_package_its_facts_and_the_execution_id_as_variables() -> None:
    variables = package_variables(
        service="web",
        stage="staging",
        repository="acme/web",
        branch="main",
        pipeline_name="web-staging-pipeline",
    )
    assert json.loads(variables) == [
        {
            "name": EXECUTION_ID_VARIABLE,
            "value": "#{codepipeline.PipelineExecutionId}",
            "type": "PLAINTEXT",
        },
        {"name": "SERVICE", "value": "web", "type": "PLAINTEXT"},
        {"name": "STAGE", "value": "staging", "type": "PLAINTEXT"},
        {"name": "REPOSITORY", "value": "acme/web", "type": "PLAINTEXT"},
        {"name": "BRANCH", "value": "main", "type": "PLAINTEXT"},
        {"name": "PIPELINE_NAME", "value": "web-staging-pipeline", "type": "PLAINTEXT"},
    ]
    # The package buildspec reads every one of them.
    for variable in json.loads(variables):
        assert variable["name"] in PACKAGE_BUILDSPEC


def test_describe_exports_the_commit_for_the_approval(tmp_path: Path) -> None:
    src = tmp_path / "release"
    src.mkdir()
    message = "Make checkout faster\n\nLong explanation " + "x" * 200
    (src / MANIFEST_FILE).write_text(
        json.dumps({"commit": COMMIT, "message": message, "repository": "acme/web"})
    )
    tail = "".join(f'printf "%s=%s\\n" {v} "${v}"\n' for v in RELEASE_VARIABLES)

    result = run_build(DESCRIBE_BUILDSPEC, tmp_path, {"CODEBUILD_SRC_DIR": str(src)}, tail)

    assert result.returncode == 0, result.stderr
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert exported["COMMIT_ID"] == COMMIT
    assert exported["REPOSITORY"] == "acme/web"
    # One line, at most 100 characters: it is shown in the approval's CustomData.
    assert exported["COMMIT_MESSAGE"] == " ".join(message.split())[:100]
    assert len(exported["COMMIT_MESSAGE"]) == 100
    assert yaml.safe_load(DESCRIBE_BUILDSPEC)["env"]["exported-variables"] == list(
        RELEASE_VARIABLES
    )


def test_describe_fails_clearly_for_a_release_without_a_manifest(tmp_path: Path) -> None:
    result = run_build(DESCRIBE_BUILDSPEC, tmp_path, {"CODEBUILD_SRC_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert f"the release has no {MANIFEST_FILE}" in result.stderr


@pytest.mark.parametrize(("options", "expected"), [({"contracts_schema": True}, True), ({}, False)])
def test_package_copies_what_the_app_declares_about_its_schema_into_the_manifest(
    tmp_path: Path, fake_aws: Path, options: dict[str, Any], expected: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / RELEASE_OPTIONS_FILE).write_text(json.dumps(options))

    result = run_build(PACKAGE_BUILDSPEC, src, package_env(src, fake_aws))

    assert result.returncode == 0, result.stderr
    assert json.loads((src / MANIFEST_FILE).read_text())["contracts_schema"] is expected


def test_package_refuses_a_schema_declaration_that_is_not_a_boolean(
    tmp_path: Path, fake_aws: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / RELEASE_OPTIONS_FILE).write_text(json.dumps({"contracts_schema": "yes"}))

    result = run_build(PACKAGE_BUILDSPEC, src, package_env(src, fake_aws))

    assert result.returncode != 0
    assert "release-options.json: contracts_schema must be true or false, got 'yes'" in (
        result.stderr
    )
    assert not json.loads((src / MANIFEST_FILE).read_text() or "null")


def _tagging_aws(tmp_path: Path, tags: list[dict[str, str]]) -> Path:
    """An `aws` that answers GetObjectTagging with `tags` and logs its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "tags.json").write_text(json.dumps({"VersionId": "v1", "TagSet": tags}))
    aws = bin_dir / "aws"
    aws.write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$*" >> "{tmp_path}/aws-calls"\n'
        f'[ "$2" = get-object-tagging ] && exec cat "{tmp_path}/tags.json"\n'
        'echo "unexpected aws call: $*" >&2; exit 2\n'
    )
    aws.chmod(0o755)
    return bin_dir


REJECTED_TAGS = [
    {"Key": "cicd:rejected", "Value": "true"},
    {"Key": "cicd:rejected-reason", "Value": "breaks checkout"},
    {"Key": "cicd:rejected-by", "Value": "arn:aws:sts::111111111111:assumed-role/ops/alice"},
    {"Key": "cicd:rejected-at", "Value": "2026-12-03T10:00:00Z"},
]


@pytest.mark.parametrize("rejected", [True, False])
def test_describe_refuses_a_release_rejected_where_it_was_published(
    tmp_path: Path, rejected: bool
) -> None:
    src = tmp_path / "release"
    src.mkdir()
    (src / MANIFEST_FILE).write_text(
        json.dumps({"commit": COMMIT, "message": "m", "repository": "acme/web"})
    )
    bin_dir = _tagging_aws(tmp_path, REJECTED_TAGS if rejected else [{"Key": "a", "Value": "b"}])
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CODEBUILD_SRC_DIR": str(src),
        "RELEASE_BUCKET": "acme-staging-releases",
        "RELEASE_KEY": "releases/web/release.zip",
        "RELEASE_VERSION": "3HL4kqtJvjVBH40Nrjfkd",
    }

    result = run_build(DESCRIBE_BUILDSPEC, tmp_path, env)

    assert (tmp_path / "aws-calls").read_text().splitlines() == [
        "s3api get-object-tagging --bucket acme-staging-releases --key releases/web/release.zip "
        "--version-id 3HL4kqtJvjVBH40Nrjfkd --output json"
    ]
    if rejected:
        assert result.returncode != 0
        assert (
            "release 3HL4kqtJvjVBH40Nrjfkd of s3://acme-staging-releases/releases/web/release.zip "
            "was rejected by arn:aws:sts::111111111111:assumed-role/ops/alice at "
            "2026-12-03T10:00:00Z: breaks checkout. It is not deployed"
        ) in result.stderr
    else:
        assert result.returncode == 0, result.stderr
