"""Test doubles for AWS: a moto account with this project's pipelines, and stubbed clients.

`MotoWorld` creates pipelines with the stage layouts and tags the stacks create (built from
GitHub, or promoted from another stage's published releases, as in the promotion contract),
seeds their execution history, and holds a versioned release bucket in moto's S3 with real zips
and manifests (`ReleaseBucket`). It teaches moto one thing real CodePipeline does and moto 5.2
does not: an execution keeps the `sourceRevisions` it was started with and reports them.
`StubbedAws` gives botocore Stubbers (parameters checked against AWS's service model) for what
moto lacks: pipeline state, approvals, rollback, CodeConnections and tag discovery.
`CliRunner` runs `cicd.cli.main.main` with captured streams, a fixed clock and a recording sleep.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import random
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import botocore.session
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber
from moto.codepipeline.models import PipelineExecution, codepipeline_backends
from moto.codepipeline.responses import CodePipelineResponse

from cicd.aws import clients as aws
from cicd.aws.pipelines import RESOURCE_TYPE_FILTERS
from cicd.cli.main import main

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
CONNECTION_ARN = (
    f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pipeline-role"
CONSOLE_URL = f"https://console.aws.amazon.com/codesuite/settings/connections?region={REGION}"
RUNNING_STATUSES = ["Created", "Queued", "InProgress", "Ready"]
# What promote's preflight counts as a deployment still running (cicd.aws.preflight).
PREFLIGHT_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def session() -> boto3.Session:
    """One boto3 session for the test run: service models load once. (A second boto3 session
    on the same botocore session would register boto3's S3 customizations twice, which fails.)"""
    return boto3.Session(region_name=REGION, botocore_session=_botocore_session())


def sha(n: int) -> str:
    """A distinct, realistic 40-character commit SHA for commit number `n`."""
    return hashlib.sha1(f"commit {n}".encode()).hexdigest()


def execution_id(n: int) -> str:
    """An execution id in AWS's UUID format whose first 8 characters are `n` in hex."""
    return f"{n:08x}-aaaa-4bbb-8ccc-{n:012x}"


def pipeline_arn(name: str) -> str:
    return f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{name}"


# ---------------------------------------------------------------------------------------------
# The pipeline layout the stacks create (get_pipeline document and create_pipeline input).


def codedeploy_target(service: str, stage: str) -> dict[str, Any]:
    return {
        "name": "web",
        "provider": "CodeDeploy",
        "configuration": {
            "ApplicationName": f"{service}-{stage}-app",
            "DeploymentGroupName": f"{service}-{stage}-web",
        },
    }


def lambda_target(service: str, stage: str) -> dict[str, Any]:
    return {
        "name": "api",
        "provider": "Lambda",
        "configuration": {"FunctionName": f"{service}-{stage}-api", "FunctionAlias": "live"},
    }


def _action(
    name: str,
    category: str,
    provider: str,
    *,
    configuration: Mapping[str, str] | None = None,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    run_order: int = 1,
    namespace: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "name": name,
        "actionTypeId": {
            "category": category,
            "owner": "AWS",
            "provider": provider,
            "version": "1",
        },
        "configuration": dict(configuration or {}),
        "inputArtifacts": [{"name": artifact} for artifact in inputs],
        "outputArtifacts": [{"name": artifact} for artifact in outputs],
        "runOrder": run_order,
        **extra,
    }
    if namespace:
        action["namespace"] = namespace
    return action


def _codebuild(
    name: str, project: str, inputs: Sequence[str], outputs: Sequence[str] = (), run_order: int = 1
) -> dict[str, Any]:
    category = "Build" if name == "Build" else "Test"
    return _action(
        name,
        category,
        "CodeBuild",
        configuration={"ProjectName": project},
        inputs=inputs,
        outputs=outputs,
        run_order=run_order,
    )


def _approval_stage(describe: bool) -> dict[str, Any]:
    actions = [_action("Approve", "Approval", "Manual", run_order=2 if describe else 1)]
    if describe:
        # Promoted pipelines read the manifest into variables the approver's notice shows.
        actions.insert(
            0,
            _action(
                "Describe",
                "Compute",
                "Commands",
                inputs=["ReleaseArtifact"],
                namespace="ReleaseVariables",
                commands=["cat release-manifest.json"],
                outputVariables=["COMMIT_ID", "COMMIT_MESSAGE", "REPOSITORY"],
            ),
        )
    return {"name": "Approval", "actions": actions}


def deployment_window(cron: str, time_zone: str = "Europe/Berlin") -> dict[str, Any]:
    """The before-entry condition the stacks give a stage with `deploy.window`."""
    return {
        "conditions": [
            {
                "result": "FAIL",
                "rules": [
                    {
                        "name": "deployment-window",
                        "ruleTypeId": {
                            "category": "Rule",
                            "owner": "AWS",
                            "provider": "DeploymentWindow",
                            "version": "1",
                        },
                        "configuration": {"Cron": cron, "TimeZone": time_zone},
                    }
                ],
            }
        ]
    }


def _deploy_stage(
    service: str,
    stage: str,
    targets: Iterable[Mapping[str, Any]],
    verify: Sequence[str],
    window: str | None = None,
) -> dict[str, Any]:
    actions = [
        _action(
            target["name"],
            "Deploy",
            target["provider"],
            configuration=target["configuration"],
            inputs=["ReleaseArtifact"],
        )
        for target in targets
    ]
    actions += [
        _codebuild(
            f"verify-{suite}", f"{service}-{stage}-verify-{suite}", ["SourceArtifact"], (), 2
        )
        for suite in verify
    ]
    declared: dict[str, Any] = {"name": "Deploy", "actions": actions}
    if window:
        declared["beforeEntry"] = deployment_window(window)
    return declared


def _publish_stage(service: str, bucket: str) -> dict[str, Any]:
    return {
        "name": "Publish",
        "actions": [
            _action(
                "Publish",
                "Deploy",
                "S3",
                configuration={
                    "BucketName": bucket,
                    "ObjectKey": release_key(service),
                    "Extract": "false",
                },
                inputs=["ReleaseArtifact"],
            )
        ],
    }


def release_key(service: str) -> str:
    return f"releases/{service}/release.zip"


def _declaration(
    service: str, stage: str, role_arn: str, stages: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "name": f"{service}-{stage}-pipeline",
        "roleArn": role_arn,
        "pipelineType": "V2",
        "executionMode": "QUEUED",
        "artifactStore": {"type": "S3", "location": f"{service}-{stage}-artifacts"},
        "stages": stages,
    }


def pipeline_declaration(
    service: str,
    stage: str,
    *,
    role_arn: str = ROLE_ARN,
    approval: bool = False,
    repository: str | None = None,
    branch: str = "main",
    targets: Iterable[Mapping[str, Any]] | None = None,
    verify: Sequence[str] = (),
    publish_to: str | None = None,
    window: str | None = None,
) -> dict[str, Any]:
    """A GitHub-built pipeline: Source, Build (+ Package), Test, optional Approval, Deploy
    (one action per target, then `verify-<suite>` actions), and optionally Publish."""
    deploy_targets = list(targets) if targets is not None else [codedeploy_target(service, stage)]
    stages: list[dict[str, Any]] = [
        {
            "name": "Source",
            "actions": [
                _action(
                    "GitHub",
                    "Source",
                    "CodeStarSourceConnection",
                    configuration={
                        "ConnectionArn": CONNECTION_ARN,
                        "FullRepositoryId": repository or f"acme/{service}",
                        "BranchName": branch,
                    },
                    outputs=["SourceArtifact"],
                    namespace="SourceVariables",
                )
            ],
        },
        {
            "name": "Build",
            "actions": [
                _codebuild(
                    "Build", f"{service}-{stage}-build", ["SourceArtifact"], ["BuildArtifact"]
                ),
                _action(
                    "Package",
                    "Compute",
                    "Commands",
                    inputs=["BuildArtifact", "SourceArtifact"],
                    outputs=["ReleaseArtifact"],
                    run_order=2,
                    commands=["write-release-manifest"],
                ),
            ],
        },
        {
            "name": "Test",
            "actions": [
                _codebuild(suite, f"{service}-{stage}-{suite}", ["BuildArtifact"])
                for suite in ("unit", "integration")
            ],
        },
    ]
    if approval:
        stages.append(_approval_stage(describe=False))
    stages.append(_deploy_stage(service, stage, deploy_targets, verify, window))
    if publish_to:
        stages.append(_publish_stage(service, publish_to))
    return _declaration(service, stage, role_arn, stages)


def promoted_declaration(
    service: str,
    stage: str,
    *,
    bucket: str,
    role_arn: str = ROLE_ARN,
    approval: bool = True,
    targets: Iterable[Mapping[str, Any]] | None = None,
    publish_to: str | None = None,
    window: str | None = None,
) -> dict[str, Any]:
    """A promoted pipeline: Source is the upstream's release object; no Build, no Test."""
    deploy_targets = list(targets) if targets is not None else [codedeploy_target(service, stage)]
    stages: list[dict[str, Any]] = [
        {
            "name": "Source",
            "actions": [
                _action(
                    "Release",
                    "Source",
                    "S3",
                    configuration={
                        "S3Bucket": bucket,
                        "S3ObjectKey": release_key(service),
                        "PollForSourceChanges": "false",
                    },
                    outputs=["ReleaseArtifact"],
                    namespace="ReleaseSource",
                )
            ],
        }
    ]
    if approval:
        stages.append(_approval_stage(describe=True))
    stages.append(_deploy_stage(service, stage, deploy_targets, (), window))
    if publish_to:
        stages.append(_publish_stage(service, publish_to))
    return _declaration(service, stage, role_arn, stages)


def tags(service: str, stage: str, promotes_from: str | None = None) -> dict[str, str]:
    found = {
        "cicd:service": service,
        "cicd:stage": stage,
        "cicd:managed-by": f"pulumi:gh-aws-delivery/{stage}",
    }
    if promotes_from:
        found["cicd:promotes-from"] = promotes_from
    return found


# ---------------------------------------------------------------------------------------------
# Canned responses for what moto lacks.


def expect_discovery(
    stubber: Stubber,
    *,
    stage: str | None,
    service: str | None,
    found: Iterable[tuple[str, str, str] | tuple[str, str, str, str]] = (),
    extra_arns: Iterable[str] = (),
) -> None:
    """Expect one GetResources call with the CLI's filters; answer with (name, service, stage)
    or (name, service, stage, promotes_from) tuples."""
    filters: list[dict[str, Any]] = [
        {"Key": "cicd:stage", "Values": [stage]} if stage else {"Key": "cicd:stage"}
    ]
    if service:
        filters.append({"Key": "cicd:service", "Values": [service]})
    mappings = [
        {
            "ResourceARN": pipeline_arn(item[0]),
            "Tags": [{"Key": k, "Value": v} for k, v in tags(*item[1:]).items()],
        }
        for item in found
    ]
    mappings += [{"ResourceARN": arn, "Tags": []} for arn in extra_arns]
    stubber.add_response(
        "get_resources",
        {"ResourceTagMappingList": mappings, "PaginationToken": ""},
        {"TagFilters": filters, "ResourceTypeFilters": RESOURCE_TYPE_FILTERS},
    )


def summary(
    n: int,
    *,
    status: str = "Succeeded",
    commit: int | None = None,
    message: str | None = None,
    trigger: str = "WebhookV2",
    minutes_ago: int = 0,
    duration: int = 300,
    rollback_of: int | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """One `list_pipeline_executions` summary: execution `n` of commit number `commit`, or of
    object version `version` for a promoted pipeline."""
    started = NOW - timedelta(minutes=minutes_ago)
    item: dict[str, Any] = {
        "pipelineExecutionId": execution_id(n),
        "status": status,
        "startTime": started,
        "lastUpdateTime": started + timedelta(seconds=duration),
        "sourceRevisions": [],
        "trigger": {"triggerType": trigger, "triggerDetail": ""},
        "executionType": "STANDARD",
    }
    if commit is not None:
        revision_summary = json.dumps(
            {"ProviderType": "GitHub", "CommitMessage": message or f"Change {commit}"}
        )
        item["sourceRevisions"] = [
            {"actionName": "GitHub", "revisionId": sha(commit), "revisionSummary": revision_summary}
        ]
    if version is not None:
        item["sourceRevisions"] = [{"actionName": "Release", "revisionId": version}]
    if rollback_of is not None:
        item["executionType"] = "ROLLBACK"
        item["trigger"] = {"triggerType": "ManualRollback", "triggerDetail": "someone"}
        item["rollbackMetadata"] = {"rollbackTargetPipelineExecutionId": execution_id(rollback_of)}
    return item


def execution(
    n: int,
    *,
    status: str = "Succeeded",
    commit: int | None = None,
    status_summary: str = "",
    version: str | None = None,
) -> dict[str, Any]:
    """A `get_pipeline_execution` response for execution `n`."""
    document: dict[str, Any] = {
        "pipelineName": "shop-prod-pipeline",
        "pipelineVersion": 1,
        "pipelineExecutionId": execution_id(n),
        "status": status,
        "artifactRevisions": [],
        "trigger": {"triggerType": "WebhookV2", "triggerDetail": ""},
    }
    if status_summary:
        document["statusSummary"] = status_summary
    if commit is not None:
        document["artifactRevisions"] = [
            {
                "name": "SourceArtifact",
                "revisionId": sha(commit),
                "revisionSummary": json.dumps({"CommitMessage": f"Change {commit}"}),
            }
        ]
    if version is not None:
        document["artifactRevisions"] = [{"name": "ReleaseArtifact", "revisionId": version}]
    return {"pipelineExecution": document}


def action_state(
    name: str,
    status: str | None = None,
    *,
    token: str | None = None,
    revision: int | None = None,
    error: str | None = None,
    changed_minutes_ago: int = 1,
) -> dict[str, Any]:
    state: dict[str, Any] = {"actionName": name}
    if status is not None:
        latest: dict[str, Any] = {
            "status": status,
            "lastStatusChange": NOW - timedelta(minutes=changed_minutes_ago),
        }
        if token:
            latest["token"] = token
        if error:
            latest["errorDetails"] = {"code": "JobFailed", "message": error}
            latest["externalExecutionUrl"] = "https://console.aws.amazon.com/codebuild/logs"
        state["latestExecution"] = latest
    if revision is not None:
        state["currentRevision"] = {
            "revisionId": sha(revision),
            "revisionChangeId": sha(revision),
            "created": NOW,
        }
    return state


def stage_state(
    name: str,
    execution: int | None = None,
    status: str | None = None,
    actions: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    state: dict[str, Any] = {"stageName": name, "actionStates": list(actions)}
    if execution is not None and status is not None:
        state["latestExecution"] = {
            "pipelineExecutionId": execution_id(execution),
            "status": status,
        }
    return state


def pipeline_state(name: str, *stages: dict[str, Any]) -> dict[str, Any]:
    return {"pipelineName": name, "pipelineVersion": 1, "stageStates": list(stages)}


APPROVAL_TOKEN = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


# ---------------------------------------------------------------------------------------------
# Published releases: real zips with real manifests, in a versioned bucket in moto's S3.

RELEASE_BUCKET = "acme-staging-releases"


def manifest(
    n: int, *, service: str = "web", message: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """The manifest staging's Package action writes for commit number `n`."""
    document: dict[str, Any] = {
        "schema": 1,
        "service": service,
        "commit": sha(n),
        "message": message or f"Change {n}",
        "repository": f"acme/{service}",
        "branch": "main",
        "stage": "staging",
        "pipeline": f"{service}-staging-pipeline",
        "pipeline_execution_id": execution_id(1000 + n),
        "build_id": f"{service}-staging-build:{execution_id(2000 + n)}",
        "created": "2025-05-01T10:00:00Z",
    }
    document.update(overrides)
    return document


def release_zip(
    document: Mapping[str, Any] | bytes | None,
    *,
    payload_bytes: int = 2_000_000,
    manifest_first: bool = False,
) -> bytes:
    """A release bundle: an incompressible payload (stored, so its size is real) and the
    manifest (`None` leaves it out; bytes are written as they are)."""
    buffer = io.BytesIO()
    payload = random.Random(payload_bytes).randbytes(payload_bytes)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:

        def write_manifest() -> None:
            if document is None:
                return
            text = document if isinstance(document, bytes) else json.dumps(document).encode()
            archive.writestr("release-manifest.json", text, compress_type=zipfile.ZIP_DEFLATED)

        if manifest_first:
            write_manifest()
        archive.writestr("appspec.yml", "version: 0.0\nos: linux\n")
        archive.writestr("app/bundle.bin", payload)
        if not manifest_first:
            write_manifest()
    return buffer.getvalue()


class ReleaseBucket:
    """The upstream's versioned release bucket; `gets` records every GetObject the CLI makes."""

    def __init__(self, s3: BaseClient, name: str = RELEASE_BUCKET) -> None:
        self.s3, self.name = s3, name
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.gets: list[dict[str, Any]] = []
        s3.meta.events.register("before-parameter-build.s3.GetObject", self._before_get)
        s3.meta.events.register("after-call.s3.GetObject", self._after_get)

    def _before_get(self, params: dict[str, Any], **_: Any) -> None:
        self.gets.append({"Range": params.get("Range"), "VersionId": params.get("VersionId")})

    def _after_get(self, parsed: dict[str, Any], **_: Any) -> None:
        self.gets[-1]["bytes"] = parsed.get("ContentLength")

    def publish(
        self,
        commit: int,
        *,
        service: str = "web",
        message: str | None = None,
        body: bytes | None = None,
        **zip_options: Any,
    ) -> str:
        """Publish commit number `commit` as a new version (call oldest first); its version id."""
        data = (
            body
            if body is not None
            else release_zip(manifest(commit, service=service, message=message), **zip_options)
        )
        response = self.s3.put_object(Bucket=self.name, Key=release_key(service), Body=data)
        return str(response["VersionId"])

    def size(self, version_id: str, service: str = "web") -> int:
        head = self.s3.head_object(Bucket=self.name, Key=release_key(service), VersionId=version_id)
        return int(head["ContentLength"])


# ---------------------------------------------------------------------------------------------
# Stubbed and moto-backed clients.

SERVICES = (
    "codepipeline",
    "codedeploy",
    "codeconnections",
    "resourcegroupstaggingapi",
    "s3",
    "codebuild",
    "logs",
)


class StubbedAws:
    """Stubbed clients for all four services, made on first use; `verify` checks all were used."""

    def __init__(self, real: Mapping[str, BaseClient] | None = None) -> None:
        self._session = session()
        self._real = dict(real or {})
        self._stubbers: dict[str, Stubber] = {}

    def client(self, service: str) -> BaseClient:
        if service in self._real:
            return self._real[service]
        return self.stub(service).client

    def stub(self, service: str) -> Stubber:
        if service not in self._stubbers:
            stubber = Stubber(self._session.client(service))
            stubber.activate()
            self._stubbers[service] = stubber
        return self._stubbers[service]

    @property
    def codepipeline(self) -> Stubber:
        return self.stub("codepipeline")

    @property
    def codedeploy(self) -> Stubber:
        return self.stub("codedeploy")

    @property
    def codeconnections(self) -> Stubber:
        return self.stub("codeconnections")

    @property
    def tagging(self) -> Stubber:
        return self.stub("resourcegroupstaggingapi")

    @property
    def codebuild(self) -> Stubber:
        return self.stub("codebuild")

    @property
    def logs(self) -> Stubber:
        return self.stub("logs")

    def clients(self) -> aws.Clients:
        return aws.Clients(self.client)

    def verify(self) -> None:
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()

    # Shorthands for the calls most tests expect.

    def expect_pipeline(self, service: str = "shop", stage: str = "prod", **options: Any) -> str:
        declaration = pipeline_declaration(service, stage, **options)
        self.codepipeline.add_response(
            "get_pipeline", {"pipeline": declaration}, {"name": declaration["name"]}
        )
        return str(declaration["name"])

    def expect_promoted_pipeline(
        self, service: str = "web", stage: str = "prod", **options: Any
    ) -> str:
        declaration = promoted_declaration(
            service, stage, bucket=options.pop("bucket", RELEASE_BUCKET), **options
        )
        self.codepipeline.add_response(
            "get_pipeline",
            {
                "pipeline": declaration,
                "metadata": {"pipelineArn": pipeline_arn(declaration["name"])},
            },
            {"name": declaration["name"]},
        )
        return str(declaration["name"])

    def expect_state(self, name: str, *stages: dict[str, Any]) -> None:
        self.codepipeline.add_response(
            "get_pipeline_state", pipeline_state(name, *stages), {"name": name}
        )

    def expect_history(self, name: str, summaries: Sequence[dict[str, Any]], limit: int) -> None:
        self.codepipeline.add_response(
            "list_pipeline_executions",
            {"pipelineExecutionSummaries": list(summaries)},
            {"pipelineName": name, "maxResults": limit},
        )

    def expect_idle_groups(
        self, service: str = "web", stage: str = "prod", alarms: Sequence[str] = ()
    ) -> None:
        """Promote's preflight reading the target's CodeDeploy group (`codedeploy_target`):
        its alarm configuration, then no deployment running."""
        application, group = f"{service}-{stage}-app", f"{service}-{stage}-web"
        where = {"applicationName": application, "deploymentGroupName": group}
        self.codedeploy.add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    **where,
                    "alarmConfiguration": {
                        "enabled": bool(alarms),
                        "alarms": [{"name": name} for name in alarms],
                    },
                }
            },
            where,
        )
        self.codedeploy.add_response(
            "list_deployments",
            {"deployments": []},
            {**where, "includeOnlyStatuses": PREFLIGHT_STATUSES},
        )

    def expect_execution(self, name: str, n: int, **options: Any) -> None:
        response = execution(n, **options)
        response["pipelineExecution"]["pipelineName"] = name
        self.codepipeline.add_response(
            "get_pipeline_execution",
            response,
            {"pipelineName": name, "pipelineExecutionId": execution_id(n)},
        )


class MotoWorld:
    """A moto account holding pipelines and CodeDeploy groups shaped like the stacks' own.

    Tag discovery and CodeConnections are stubbed (moto's tagging API does not cover
    CodePipeline, and moto has no CodeConnections); everything else is moto.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.session = session()
        iam = self.session.client("iam")
        # moto checks the trust policy names codepipeline.amazonaws.com as a plain string.
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "codepipeline.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        self.role_arn = str(
            iam.create_role(RoleName="pipeline-role", AssumeRolePolicyDocument=json.dumps(trust))[
                "Role"
            ]["Arn"]
        )
        self.codepipeline: BaseClient = self.session.client("codepipeline")
        self.codedeploy: BaseClient = self.session.client("codedeploy")
        self.s3: BaseClient = self.session.client("s3")
        # Runtime config (tests/cicd/config_fakes.py): Parameter Store, its keys, the caller.
        self.ssm: BaseClient = self.session.client("ssm")
        self.kms: BaseClient = self.session.client("kms")
        self.sts: BaseClient = self.session.client("sts")
        self.stubs = StubbedAws(
            {
                "codepipeline": self.codepipeline,
                "codedeploy": self.codedeploy,
                "s3": self.s3,
                "ssm": self.ssm,
                "kms": self.kms,
                "sts": self.sts,
            }
        )
        self.revisions: dict[str, list[dict[str, str]]] = {}
        self.triggers: dict[str, str] = {}
        self.started: list[dict[str, Any]] = []
        self.started_ids: list[str] = []
        self._keep_source_revisions(monkeypatch)

    @property
    def tagging(self) -> Stubber:
        return self.stubs.tagging

    def clients(self) -> aws.Clients:
        return self.stubs.clients()

    def verify(self) -> None:
        self.stubs.verify()

    def _keep_source_revisions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make moto remember `sourceRevisions` like CodePipeline does (moto 5.2 drops them)."""
        world = self
        original_start = CodePipelineResponse.start_pipeline_execution
        original_summary = PipelineExecution.to_summary_dict
        original_document = PipelineExecution.to_dict

        def start(response: CodePipelineResponse) -> str:
            body = original_start(response)
            started_id = json.loads(body)["pipelineExecutionId"]
            requested = response._get_param("sourceRevisions") or []
            world.started.append(
                {"name": response._get_param("name"), "sourceRevisions": requested}
            )
            world.started_ids.append(started_id)
            world.revisions[started_id] = [
                {"actionName": r["actionName"], "revisionId": r["revisionValue"]} for r in requested
            ]
            return body

        def summary_with_revisions(self: PipelineExecution) -> dict[str, Any]:
            document = original_summary(self)
            document["sourceRevisions"] = world.revisions.get(self.pipeline_execution_id, [])
            trigger = world.triggers.get(self.pipeline_execution_id)
            if trigger:
                document["trigger"] = {"triggerType": trigger, "triggerDetail": ""}
            return document

        def document_with_revisions(self: PipelineExecution) -> dict[str, Any]:
            document = original_document(self)
            document["artifactRevisions"] = [
                {
                    "name": "ReleaseArtifact" if r["actionName"] == "Release" else "SourceArtifact",
                    **{k: v for k, v in r.items() if k != "actionName"},
                }
                for r in world.revisions.get(self.pipeline_execution_id, [])
            ]
            return document

        monkeypatch.setattr(CodePipelineResponse, "start_pipeline_execution", start)
        monkeypatch.setattr(PipelineExecution, "to_summary_dict", summary_with_revisions)
        monkeypatch.setattr(PipelineExecution, "to_dict", document_with_revisions)

    def create_pipeline(self, service: str = "shop", stage: str = "dev", **options: Any) -> str:
        declaration = pipeline_declaration(service, stage, role_arn=self.role_arn, **options)
        self.codepipeline.create_pipeline(
            pipeline=declaration,
            tags=[{"key": k, "value": v} for k, v in tags(service, stage).items()],
        )
        self.create_groups(declaration)
        return str(declaration["name"])

    def create_promoted_pipeline(
        self,
        service: str = "web",
        stage: str = "prod",
        *,
        promotes_from: str | None = "staging",
        bucket: str = RELEASE_BUCKET,
        **options: Any,
    ) -> str:
        declaration = promoted_declaration(
            service, stage, bucket=bucket, role_arn=self.role_arn, **options
        )
        self.codepipeline.create_pipeline(
            pipeline=declaration,
            tags=[{"key": k, "value": v} for k, v in tags(service, stage, promotes_from).items()],
        )
        self.create_groups(declaration)
        return str(declaration["name"])

    def create_groups(self, declaration: Mapping[str, Any]) -> None:
        """The CodeDeploy groups the pipeline deploys to: the stacks create them with it (and
        promote's preflight reads their alarms and running deployments)."""
        for stage in declaration["stages"]:
            for action in stage["actions"] if stage["name"] == "Deploy" else []:
                configuration = action.get("configuration", {})
                if action["actionTypeId"]["provider"] == "CodeDeploy":
                    self.create_deployment_group(
                        configuration["ApplicationName"], configuration["DeploymentGroupName"]
                    )

    def release_bucket(self, name: str = RELEASE_BUCKET) -> ReleaseBucket:
        return ReleaseBucket(self.s3, name)

    def create_deployment_group(self, application: str, group: str) -> None:
        """Create the application and group, unless they exist already."""
        applications = self.codedeploy.list_applications().get("applications", [])
        if application not in applications:
            self.codedeploy.create_application(
                applicationName=application, computePlatform="Server"
            )
        groups = self.codedeploy.list_deployment_groups(applicationName=application)
        if group in groups.get("deploymentGroups", []):
            return
        self.codedeploy.create_deployment_group(
            applicationName=application,
            deploymentGroupName=group,
            serviceRoleArn=self.role_arn,
        )

    def record(
        self,
        pipeline: str,
        *,
        commit: int | None = None,
        version: str | None = None,
        status: str = "Succeeded",
        message: str | None = None,
        trigger: str = "WebhookV2",
        minutes_ago: int = 60,
        duration: int = 330,
    ) -> str:
        """Add a past execution to `pipeline`'s history (call oldest first, as AWS ran them):
        of commit number `commit` (GitHub-built) or of object version `version` (promoted)."""
        pipeline_model = codepipeline_backends[ACCOUNT][REGION].pipelines[pipeline]
        # moto's BaseModel metaclass hides the constructor's return type from type checkers.
        past = cast(
            PipelineExecution,
            PipelineExecution(pipeline_name=pipeline, pipeline_version=1, variables=None),
        )
        started = (NOW - timedelta(minutes=minutes_ago)).replace(tzinfo=None)
        past.start_time = started
        past.last_update_time = started + timedelta(seconds=duration)
        past.status = status
        if version is not None:
            self.revisions[past.pipeline_execution_id] = [
                {"actionName": "Release", "revisionId": version}
            ]
        elif commit is not None:
            summary_text = json.dumps(
                {"ProviderType": "GitHub", "CommitMessage": message or f"Change {commit}"}
            )
            self.revisions[past.pipeline_execution_id] = [
                {"actionName": "GitHub", "revisionId": sha(commit), "revisionSummary": summary_text}
            ]
        self.triggers[past.pipeline_execution_id] = trigger
        pipeline_model.executions[past.pipeline_execution_id] = past
        return past.pipeline_execution_id


# ---------------------------------------------------------------------------------------------
# Running the CLI.


class TerminalInput(io.StringIO):
    """A stream that claims to be a terminal: stdin for the prompt, stdout for colour."""

    def isatty(self) -> bool:
        return True


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class CliRunner:
    """Calls `main` like a shell would, minus the process; records every `sleep` and every URL
    it asks a browser to open (`browser` says whether one opens)."""

    sleeps: list[float] = field(default_factory=list[float])
    opened: list[str] = field(default_factory=list[str])
    browser: bool = True

    def _open(self, url: str) -> bool:
        self.opened.append(url)
        return self.browser

    def __call__(
        self,
        *argv: str,
        clients: aws.Clients | None = None,
        stdin: str = "",
        tty: bool = False,
        terminal: bool = False,
        connect: Callable[[str | None, str | None], aws.Clients] | None = None,
    ) -> Result:
        """`tty`: stdin is a terminal (for prompts); `terminal`: stdout is one (colour, browser)."""
        out, err = (TerminalInput() if terminal else io.StringIO()), io.StringIO()

        def given(region: str | None, profile: str | None) -> aws.Clients:
            assert clients is not None
            return clients

        chosen = connect or (given if clients is not None else aws.connect)
        code = main(
            list(argv),
            stdout=out,
            stderr=err,
            stdin=TerminalInput(stdin) if tty else io.StringIO(stdin),
            sleep=self.sleeps.append,
            now=lambda: NOW,
            connect=chosen,
            open_url=self._open,
        )
        return Result(code, out.getvalue(), err.getvalue())
