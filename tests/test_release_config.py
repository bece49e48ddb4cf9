"""The Configure buildspec, run for real in bash with a stand-in `aws` command.

As CodeBuild does, every command of the build phase runs in one bash shell with the variables the
pipeline action sets; `aws` answers with the documented shapes of GetPipelineExecution,
ListActionExecutions, GetParametersByPath and GetObjectTagging, and stores what `s3 cp` uploads.
What they prove: a release runs with the newest versions of its parameters, a rollback with the
very versions the execution it returns to ran with, a rejected release stops before anything is
deployed, and the release is recorded (output variables and a JSON record) without a value.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.release_channel import MANIFEST_FILE
from components.release_config import (
    CONFIGURE_BUILDSPEC,
    EXPORTED,
    RECORDS_PREFIX,
    SNAPSHOT_FILE,
    configure_variables,
)
from tests.test_release_manifest import REJECTED_TAGS, run_build

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

EXECUTION = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
TARGET = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
COMMIT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
PARAMETERS = {
    "Parameters": [
        # What GetParametersByPath answers without --with-decryption: a SecureString's value
        # stays ciphertext, which the step never reads.
        {"Name": "/web/prod/FEATURE_X", "Type": "String", "Value": "on", "Version": 7},
        {
            "Name": "/web/prod/DATABASE_URL",
            "Type": "SecureString",
            "Value": "AQICAH...",
            "Version": 3,
        },
    ]
}


def execution(*, rollback: bool) -> dict[str, Any]:
    document: dict[str, Any] = {"pipelineExecutionId": EXECUTION, "status": "InProgress"}
    if rollback:
        document["executionType"] = "ROLLBACK"
        document["rollbackMetadata"] = {"rollbackTargetPipelineExecutionId": TARGET}
    else:
        document["executionType"] = "STANDARD"
    return {"pipelineExecution": document}


def target_actions(versions: list[list[Any]] | None) -> dict[str, Any]:
    details: list[dict[str, Any]] = [
        {"stageName": "Source", "actionName": "Release", "status": "Succeeded", "output": {}}
    ]
    if versions is not None:
        details.append(
            {
                "stageName": "Deploy",
                "actionName": "Configure",
                "status": "Succeeded",
                "output": {"outputVariables": {"CONFIG_VERSIONS": json.dumps(versions)}},
            }
        )
    return {"actionExecutionDetails": details}


def fake_aws(tmp_path: Path, answers: dict[str, Any]) -> Path:
    """An `aws` answering from `answers` (by subcommand), logging calls, keeping uploads."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, answer in answers.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(answer))
    aws = bin_dir / "aws"
    aws.write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$*" >> "{tmp_path}/aws-calls"\n'
        'case "$1 $2" in\n'
        '  "s3 cp") mkdir -p "'
        + str(tmp_path)
        + '/uploaded"; cp "$3" "'
        + str(tmp_path)
        + '/uploaded/$(basename "$4")" ;;\n'
        '  *) f="' + str(tmp_path) + '/$2.json"; [ -f "$f" ] || { echo "unexpected: $*" >&2; '
        'exit 2; }; cat "$f" ;;\n'
        "esac\n"
    )
    aws.chmod(0o755)
    return bin_dir


def env(src: Path, bin_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CODEBUILD_SRC_DIR": str(src),
        "PIPELINE_EXECUTION_ID": EXECUTION,
        "PIPELINE_NAME": "web-prod-pipeline",
        "SERVICE": "web",
        "STAGE": "prod",
        "CONFIG_PATH": "/web/prod",
        "RELEASE_KIND": "code",
        "RELEASE_NOTE": "-",
        "RECORD_BUCKET": "gh-aws-delivery-prod-artifacts",
        **extra,
    }


def release(tmp_path: Path, **manifest: Any) -> Path:
    src = tmp_path / "release"
    src.mkdir()
    (src / "appspec.yml").write_text("version: 0.0\n")
    (src / MANIFEST_FILE).write_text(json.dumps({"commit": COMMIT, **manifest}))
    return src


PRINT_EXPORTS = "".join(f'printf "%s=%s\\n" {v} "${v}"\n' for v in EXPORTED)


def exported(stdout: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in stdout.splitlines() if "=" in line and line[0].isupper()
    )


def test_a_release_pins_the_newest_version_of_every_parameter_and_records_it(
    tmp_path: Path,
) -> None:
    src = release(tmp_path, contracts_schema=True)
    bin_dir = fake_aws(
        tmp_path,
        {"get-pipeline-execution": execution(rollback=False), "get-parameters-by-path": PARAMETERS},
    )

    result = run_build(CONFIGURE_BUILDSPEC, src, env(src, bin_dir), PRINT_EXPORTS)

    assert result.returncode == 0, result.stderr
    snapshot = json.loads((src / SNAPSHOT_FILE).read_text())
    assert snapshot == {
        "schema": 1,
        "path": "/web/prod",
        "source": "latest",
        "parameters": [
            {"name": "/web/prod/DATABASE_URL", "version": 3},
            {"name": "/web/prod/FEATURE_X", "version": 7},
        ],
    }
    variables = exported(result.stdout)
    assert json.loads(variables["CONFIG_VERSIONS"]) == [
        ["/web/prod/DATABASE_URL", 3],
        ["/web/prod/FEATURE_X", 7],
    ]
    assert (variables["CONFIG_COUNT"], variables["CONFIG_SOURCE"]) == ("2", "latest")
    assert (variables["COMMIT_ID"], variables["CONTRACTS_SCHEMA"]) == (COMMIT, "true")
    assert (variables["RELEASE_KIND"], variables["ROLLBACK_OF"]) == ("code", "-")
    assert len(variables["CONFIG_DIGEST"]) == 16
    # The build's /tmp is the release directory's own (run_build says why).
    calls = (tmp_path / "aws-calls").read_text().replace(f"{src}/tmp/", "/tmp/").splitlines()
    # No decryption: the step reads names and versions, never a value.
    assert "ssm get-parameters-by-path --path /web/prod --output json" in calls
    assert not any("--with-decryption" in c for c in calls)
    assert calls[-1] == (
        f"s3 cp /tmp/record.json s3://gh-aws-delivery-prod-artifacts/{RECORDS_PREFIX}"
        f"web-prod-pipeline/{EXECUTION}.json --content-type application/json"
    )
    record = json.loads((tmp_path / "uploaded" / f"{EXECUTION}.json").read_text())
    created = record.pop("created")
    assert created.endswith("+00:00")
    assert record == {
        "schema": 1,
        "pipeline": "web-prod-pipeline",
        "execution_id": EXECUTION,
        "kind": "code",
        "note": "-",
        "rollback_of": None,
        "commit": COMMIT,
        "contracts_schema": True,
        "config": snapshot,
    }
    # Names in the log, never a value (the String one was in the API's answer).
    assert "latest: 2 parameters under /web/prod: DATABASE_URL, FEATURE_X" in result.stdout
    assert "=on" not in result.stdout.replace("CONFIG_", "") and "AQICAH" not in (
        result.stdout + result.stderr
    )
    assert (src / "appspec.yml").exists(), "the release is handed on as it came"


def test_a_rollback_runs_with_the_versions_the_execution_it_returns_to_ran_with(
    tmp_path: Path,
) -> None:
    src = release(tmp_path)
    pinned = [["/web/prod/DATABASE_URL", 2], ["/web/prod/FEATURE_X", 5]]
    bin_dir = fake_aws(
        tmp_path,
        {
            "get-pipeline-execution": execution(rollback=True),
            "list-action-executions": target_actions(pinned),
        },
    )

    result = run_build(
        CONFIGURE_BUILDSPEC, src, env(src, bin_dir, RELEASE_KIND="config"), PRINT_EXPORTS
    )

    assert result.returncode == 0, result.stderr
    snapshot = json.loads((src / SNAPSHOT_FILE).read_text())
    assert snapshot["source"] == f"rollback:{TARGET}"
    assert snapshot["parameters"] == [
        {"name": "/web/prod/DATABASE_URL", "version": 2},
        {"name": "/web/prod/FEATURE_X", "version": 5},
    ]
    variables = exported(result.stdout)
    assert (variables["ROLLBACK_OF"], variables["CONTRACTS_SCHEMA"]) == (TARGET, "false")
    calls = (tmp_path / "aws-calls").read_text().splitlines()
    assert (
        "codepipeline list-action-executions --pipeline-name web-prod-pipeline "
        f"--filter pipelineExecutionId={TARGET} --output json"
    ) in calls
    assert not any(c.startswith("ssm ") for c in calls), "the newest versions are not asked for"
    record = json.loads((tmp_path / "uploaded" / f"{EXECUTION}.json").read_text())
    assert (record["rollback_of"], record["kind"]) == (TARGET, "config")


def test_a_rollback_to_an_execution_without_a_pinned_configuration_deploys_nothing(
    tmp_path: Path,
) -> None:
    src = release(tmp_path)
    bin_dir = fake_aws(
        tmp_path,
        {
            "get-pipeline-execution": execution(rollback=True),
            "list-action-executions": target_actions(None),
        },
    )

    result = run_build(CONFIGURE_BUILDSPEC, src, env(src, bin_dir))

    assert result.returncode != 0
    assert (
        f"execution {TARGET}, which this rollback returns to, has no successful Configure "
        "action, so the configuration it ran with is unknown: nothing is deployed"
    ) in result.stderr
    assert not (src / SNAPSHOT_FILE).exists()


def test_a_promoted_release_rejected_where_it_was_published_stops_before_anything_else(
    tmp_path: Path,
) -> None:
    src = release(tmp_path)
    bin_dir = fake_aws(
        tmp_path,
        {
            "get-pipeline-execution": execution(rollback=False),
            "get-object-tagging": {"VersionId": "v9", "TagSet": REJECTED_TAGS},
            "get-parameters-by-path": PARAMETERS,
        },
    )
    variables = env(
        src,
        bin_dir,
        RELEASE_BUCKET="acme-staging-releases",
        RELEASE_KEY="releases/web/release.zip",
        RELEASE_VERSION="v9",
    )

    result = run_build(CONFIGURE_BUILDSPEC, src, variables)

    assert result.returncode != 0
    assert "was rejected by arn:aws:sts::111111111111:assumed-role/ops/alice" in result.stderr
    calls = (tmp_path / "aws-calls").read_text().splitlines()
    assert calls[-1] == (
        "s3api get-object-tagging --bucket acme-staging-releases --key releases/web/release.zip "
        "--version-id v9 --output json"
    )
    assert not (src / SNAPSHOT_FILE).exists() and not (tmp_path / "uploaded").exists()


def test_a_configuration_too_large_to_record_is_refused(tmp_path: Path) -> None:
    src = release(tmp_path)
    many = {
        "Parameters": [
            {"Name": f"/web/prod/{'N' * 200}{i}", "Type": "String", "Value": "v", "Version": 1}
            for i in range(600)
        ]
    }
    bin_dir = fake_aws(
        tmp_path,
        {"get-pipeline-execution": execution(rollback=False), "get-parameters-by-path": many},
    )

    result = run_build(CONFIGURE_BUILDSPEC, src, env(src, bin_dir))

    assert result.returncode != 0
    assert "more than a pipeline action's output variables hold (122,880 bytes in all)" in (
        result.stderr
    )


def test_the_buildspec_exports_what_cicd_and_the_record_rely_on_and_hands_on_every_file() -> None:
    spec = yaml.safe_load(CONFIGURE_BUILDSPEC)
    assert spec["env"]["exported-variables"] == list(EXPORTED)
    assert spec["artifacts"] == {"files": ["**/*"]}


def test_the_action_passes_the_execution_the_path_the_variables_and_the_release() -> None:
    variables = dict(
        configure_variables(
            service="web",
            stage="prod",
            pipeline_name="web-prod-pipeline",
            config_path="/web/prod",
            record_bucket="bucket",
            kms_key_arn="arn:aws:kms:eu-west-1:111111111111:key/k",
            release=("acme-staging-releases", "releases/web/release.zip"),
        )
    )
    assert variables == {
        "PIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}",
        "PIPELINE_NAME": "web-prod-pipeline",
        "SERVICE": "web",
        "STAGE": "prod",
        "CONFIG_PATH": "/web/prod",
        "RELEASE_KIND": "#{variables.RELEASE_KIND}",
        "RELEASE_NOTE": "#{variables.RELEASE_NOTE}",
        "RECORD_BUCKET": "bucket",
        "CONFIG_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:111111111111:key/k",
        "RELEASE_BUCKET": "acme-staging-releases",
        "RELEASE_KEY": "releases/web/release.zip",
        "RELEASE_VERSION": "#{ReleaseSource.VersionId}",
    }
    for name in variables:
        assert name in CONFIGURE_BUILDSPEC or name in {"SERVICE", "STAGE", "CONFIG_KMS_KEY_ARN"}
