"""Pipelines with runtime config as the components declare them (design-18 §2), and the state
`cicd config` reads: parameters in moto's SSM, deploy records in moto's S3, executions with
pipeline variables.

`with_runtime_config` turns a declaration of `aws_fakes` into one with the Deploy stage of
issue 18: `Configure` first (the stage's shared CodeBuild project, namespace ConfigVariables,
ReleaseArtifact in, DeployArtifact out, the documented EnvironmentVariables), an optional
`ReleaseTask`, then the deploy and `verify-<suite>` actions on DeployArtifact; and the
pipeline-level variables RELEASE_KIND (default `code`) and RELEASE_NOTE (default `-`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.client import BaseClient
from moto.codepipeline.models import codepipeline_backends

from cicd import contract
from tests.cicd.aws_fakes import (
    ACCOUNT,
    REGION,
    MotoWorld,
    StubbedAws,
    pipeline_arn,
    pipeline_declaration,
    promoted_declaration,
    tags,
)

PROJECT = "gh-aws-delivery"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/release-managers/alice"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def artifact_bucket(service: str, stage: str) -> str:
    return f"{service}-{stage}-artifacts"


def config_path(service: str, stage: str) -> str:
    return f"/{service}/{stage}"


def _variable(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value, "type": "PLAINTEXT"}


def configure_action(
    service: str,
    stage: str,
    *,
    path: str | None = None,
    kms_key_arn: str | None = None,
    record_bucket: str | None = None,
    promoted: bool = False,
) -> dict[str, Any]:
    """The Deploy stage's first action, as design §2 declares it."""
    environment = [
        _variable("PIPELINE_EXECUTION_ID", "#{codepipeline.PipelineExecutionId}"),
        _variable("PIPELINE_NAME", contract.pipeline_name(service, stage)),
        _variable("SERVICE", service),
        _variable("STAGE", stage),
        _variable("CONFIG_PATH", path or config_path(service, stage)),
    ]
    if kms_key_arn:
        environment.append(_variable("CONFIG_KMS_KEY_ARN", kms_key_arn))
    environment += [
        _variable("RELEASE_KIND", f"#{{variables.{contract.RELEASE_KIND_VARIABLE}}}"),
        _variable("RELEASE_NOTE", f"#{{variables.{contract.RELEASE_NOTE_VARIABLE}}}"),
        _variable("RECORD_BUCKET", record_bucket or artifact_bucket(service, stage)),
    ]
    if promoted:
        environment += [
            _variable("RELEASE_BUCKET", "acme-staging-releases"),
            _variable("RELEASE_KEY", f"releases/{service}/release.zip"),
            _variable("RELEASE_VERSION", "#{ReleaseSource.VersionId}"),
        ]
    return {
        "name": contract.CONFIGURE_ACTION,
        "actionTypeId": {
            "category": "Build",
            "owner": "AWS",
            "provider": "CodeBuild",
            "version": "1",
        },
        "configuration": {
            "ProjectName": f"{PROJECT}-{stage}-configure",
            "EnvironmentVariables": json.dumps(environment),
        },
        "inputArtifacts": [{"name": "ReleaseArtifact"}],
        "outputArtifacts": [{"name": contract.DEPLOY_ARTIFACT}],
        "namespace": "ConfigVariables",
        "runOrder": 1,
    }


def release_task_action(service: str, stage: str) -> dict[str, Any]:
    return {
        "name": contract.RELEASE_TASK_ACTION,
        "actionTypeId": {
            "category": "Build",
            "owner": "AWS",
            "provider": "CodeBuild",
            "version": "1",
        },
        "configuration": {"ProjectName": f"{service}-{stage}-release-task"},
        "inputArtifacts": [{"name": contract.DEPLOY_ARTIFACT}],
        "outputArtifacts": [],
        "runOrder": 2,
    }


RELEASE_VARIABLES = [
    {
        "name": contract.RELEASE_KIND_VARIABLE,
        "defaultValue": "code",
        "description": "code or config",
    },
    {
        "name": contract.RELEASE_NOTE_VARIABLE,
        "defaultValue": "-",
        "description": "why this release",
    },
]


def with_runtime_config(
    declaration: Mapping[str, Any],
    service: str,
    stage: str,
    *,
    kms_key_arn: str | None = None,
    release_task: bool = False,
    variables: bool = True,
    execution_mode: str = "QUEUED",
) -> dict[str, Any]:
    """`declaration` with issue 18's Deploy stage and pipeline variables."""
    document = copy.deepcopy(dict(declaration))
    document["executionMode"] = execution_mode
    promoted = document["stages"][0]["actions"][0]["actionTypeId"]["provider"] == "S3"
    deploy = next(s for s in document["stages"] if s["name"] == contract.DEPLOY_STAGE)
    actions: list[dict[str, Any]] = [
        configure_action(service, stage, kms_key_arn=kms_key_arn, promoted=promoted)
    ]
    if release_task:
        actions.append(release_task_action(service, stage))
    for action in deploy["actions"]:
        moved = copy.deepcopy(action)
        moved["inputArtifacts"] = [{"name": contract.DEPLOY_ARTIFACT}]
        is_verify = str(action["name"]).startswith(contract.VERIFY_PREFIX)
        moved["runOrder"] = 4 if is_verify else 3
        actions.append(moved)
    deploy["actions"] = actions
    if variables:
        document["variables"] = copy.deepcopy(RELEASE_VARIABLES)
    return document


def github_pipeline(service: str = "web", stage: str = "dev", **options: Any) -> dict[str, Any]:
    runtime = {k: options.pop(k) for k in list(options) if k in _RUNTIME_OPTIONS}
    return with_runtime_config(
        pipeline_declaration(service, stage, **options), service, stage, **runtime
    )


def promoted_pipeline(service: str = "web", stage: str = "prod", **options: Any) -> dict[str, Any]:
    runtime = {k: options.pop(k) for k in list(options) if k in _RUNTIME_OPTIONS}
    bucket = options.pop("bucket", "acme-staging-releases")
    return with_runtime_config(
        promoted_declaration(service, stage, bucket=bucket, **options), service, stage, **runtime
    )


_RUNTIME_OPTIONS = {"kms_key_arn", "release_task", "variables", "execution_mode"}


def create(
    world: MotoWorld, declaration: Mapping[str, Any], promotes_from: str | None = None
) -> str:
    """Create `declaration` in moto (with the world's role), tagged like the stacks tag it."""
    document = dict(declaration)
    document["roleArn"] = world.role_arn
    service, stage = _service_stage(str(document["name"]))
    world.codepipeline.create_pipeline(
        pipeline=document,
        tags=[{"key": k, "value": v} for k, v in tags(service, stage, promotes_from).items()],
    )
    world.create_groups(document)
    return str(document["name"])


def _service_stage(name: str) -> tuple[str, str]:
    service, stage, _ = name.rsplit("-", 2)
    return service, stage


def expect_layout(aws: StubbedAws, declaration: Mapping[str, Any]) -> str:
    """Expect one GetPipeline of `declaration` on a stubbed client."""
    aws.codepipeline.add_response(
        "get_pipeline",
        {
            "pipeline": dict(declaration),
            "metadata": {"pipelineArn": pipeline_arn(declaration["name"])},
        },
        {"name": declaration["name"]},
    )
    return str(declaration["name"])


def set_variables(pipeline: str, execution_id: str, kind: str, note: str) -> None:
    """Give a moto execution the pipeline variables it ran with."""
    execution = codepipeline_backends[ACCOUNT][REGION].pipelines[pipeline].executions[execution_id]
    execution.variables = [
        {"name": contract.RELEASE_KIND_VARIABLE, "value": kind},
        {"name": contract.RELEASE_NOTE_VARIABLE, "value": note},
    ]


def put(
    ssm: BaseClient, name: str, value: str, kind: str = "String", key_id: str | None = None
) -> int:
    """Write one parameter version directly (what someone did before cicd ran); its version."""
    request: dict[str, Any] = {"Name": name, "Value": value, "Type": kind, "Overwrite": True}
    if key_id:
        request["KeyId"] = key_id
    return int(ssm.put_parameter(**request)["Version"])


def history(ssm: BaseClient, name: str) -> list[dict[str, Any]]:
    """Every version of a parameter (decrypted), oldest first."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"Name": name, "WithDecryption": True}
    while True:
        page = ssm.get_parameter_history(**request)
        found += page["Parameters"]
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def record(
    execution_id: str,
    *,
    pipeline: str = "web-prod-pipeline",
    path: str = "/web/prod",
    versions: Mapping[str, int] | None = None,
    kind: str = "code",
    note: str = "-",
    contracts_schema: bool = False,
    source: str = "latest",
    rollback_of: str | None = None,
    commit: str | None = None,
) -> dict[str, Any]:
    """A deploy record as design §4 writes it."""
    return {
        "schema": 1,
        "pipeline": pipeline,
        "execution_id": execution_id,
        "kind": kind,
        "note": note,
        "rollback_of": rollback_of,
        "commit": commit,
        "contracts_schema": contracts_schema,
        "config": {
            "path": path,
            "source": source,
            "parameters": [
                {"name": f"{path}/{key}", "version": version}
                for key, version in sorted((versions or {}).items())
            ],
        },
        "created": "2025-05-01T10:00:00+00:00",
    }


def write_records(
    s3: BaseClient, bucket: str, pipeline: str, records: Sequence[Mapping[str, Any]]
) -> None:
    """Put deploy records in `bucket` (created if needed)."""
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for item in records:
        s3.put_object(
            Bucket=bucket,
            Key=f"{contract.DEPLOY_RECORDS_PREFIX}{pipeline}/{item['execution_id']}.json",
            Body=json.dumps(item).encode(),
        )
