"""The platform-owned CodeBuild projects that write and read release manifests and records.

Defines `ReleaseSteps`: the `package` project (adds `release-manifest.json` to a build's output;
see `components.release_manifest`), the `describe` project (reads a promoted release's manifest
for the approval message, refuses a rejected release, and computes the approval's evidence:
`components.approval_evidence`, asking GitHub with a token when given one) and the `configure`
project (the first action of Deploy: pins the release's configuration and records the release;
see `components.release_config`). None depends on the service it runs for: what differs per
pipeline reaches them as the pipeline action's environment variables. So one set serves every
service of a stage, which keeps a stage with many services small; a `ServicePipeline` used
alone makes its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi

from components.approval_evidence import TOKEN_VARIABLE
from components.aws_context import aws_context
from components.build_project import BuildProject, BuildProjectArgs, BuildVariable
from components.pipeline import ProjectRef
from components.release_config import CONFIGURE_BUILDSPEC
from components.release_manifest import DESCRIBE_BUILDSPEC, PACKAGE_BUILDSPEC

TYPE = "delivery:cicd:ReleaseSteps"


class ReleaseStepsArgs(TypedDict):
    service: str
    """Naming: the service, or the project's name for a pair the whole stage shares."""
    stage: str
    """The environment: part of every name (`{service}-{stage}-package`) and a tag."""
    artifact_bucket_name: pulumi.Input[str]
    """The pipelines' artifact bucket: the projects read and write the artifacts there."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of the same bucket, for the projects' role policies."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The artifact bucket's KMS key. Omitted: SSE-S3."""
    packaged_pipelines: NotRequired[Sequence[str]]
    """Names of the pipelines whose executions `package` may read (each reads its own). Omitted
    or empty: no package project."""
    describe: NotRequired[bool]
    """Create the describe project. Omitted: False."""
    configured_pipelines: NotRequired[Sequence[str]]
    """Names of the pipelines whose Deploy stage starts with `configure` (each reads its own
    executions, and in a rollback the one it returns to). Omitted or empty: no configure
    project."""
    config_paths: NotRequired[Sequence[str]]
    """The Parameter Store paths of those pipelines' services, whose names and versions
    `configure` lists (never decrypts). Omitted: none."""
    evidence_pipelines: NotRequired[Sequence[str]]
    """Names of the promoted pipelines whose approval shows evidence: `describe` lists their
    executions and reads their action executions (what each runs now). Omitted: none (the
    evidence then says "unknown" where it needs them)."""
    upstream_pipelines: NotRequired[Sequence[str]]
    """Names of the upstream pipelines, in this account, whose executions `describe` reads for
    the candidate's verification and bake. Omitted: none (another account: "unknown")."""
    watched_alarms: NotRequired[Sequence[str]]
    """Names or `name-*` patterns of the alarms whose state `describe` reads. Omitted: none."""
    release_objects: NotRequired[Sequence[pulumi.Input[str]]]
    """ARNs of the promoted release objects whose version tags `describe` and `configure` read
    to refuse a rejected release. Omitted: none."""
    github_token_secret_arn: NotRequired[pulumi.Input[str]]
    """ARN of a Secrets Manager secret holding a GitHub token that may read the repositories'
    contents (the delivery reporter's: `DeliveryReporter.secret_arn`). `describe` gets it as
    its `GITHUB_TOKEN` variable, of type SECRETS_MANAGER (CodeBuild reads the secret at each
    build; the role may read exactly this one), and asks GitHub's compare API with it.
    Omitted: `describe` asks anonymously, so the commits since the live release count as "?"
    for a private repository or past GitHub's anonymous rate limit."""
    github_token_kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer managed key that encrypts `github_token_secret_arn`, which `describe`'s
    role may then use through Secrets Manager. Omitted: the secret uses the AWS managed key."""
    log_retention_days: NotRequired[int]
    """Omitted: 14."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of the projects' roles. Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Added to the standard tags of every resource. Omitted: the standard tags only."""


class ReleaseStepsRef(TypedDict):
    """What a `ServicePipeline` needs of a `ReleaseSteps`: its projects' names and ARNs."""

    package: NotRequired[ProjectRef]
    """Adds the manifest to the build's output. Needed by a service built from GitHub."""
    describe: NotRequired[ProjectRef]
    """Reads a promoted release's manifest for the approval message."""
    configure: NotRequired[ProjectRef]
    """Pins a release's configuration and records it, first in Deploy."""


class ReleaseSteps(pulumi.ComponentResource):
    """The package and describe projects of one stage (or one service)."""

    package_project_name: pulumi.Output[str | None]
    """The package project, `{service}-{stage}-package`; None without `packaged_pipelines`."""
    describe_project_name: pulumi.Output[str | None]
    """The describe project, `{service}-{stage}-describe`; None without `describe`."""
    configure_project_name: pulumi.Output[str | None]
    """The configure project, `{service}-{stage}-configure`; None without
    `configured_pipelines`."""

    def __init__(
        self, name: str, args: ReleaseStepsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if "github_token_kms_key_arn" in args and "github_token_secret_arn" not in args:
            raise ValueError(
                f"ReleaseSteps {name!r}: github_token_kms_key_arn applies to "
                "github_token_secret_arn; give the secret too, or remove the key"
            )
        super().__init__(TYPE, name, None, opts)
        pipelines = list(args.get("packaged_pipelines") or [])
        token_secret = args.get("github_token_secret_arn")
        token_key = args.get("github_token_kms_key_arn")
        where = aws_context(self)

        def project(
            role: str,
            buildspec: str,
            read_pipeline_arns: Sequence[pulumi.Input[str]] = (),
            *,
            read_object_tags: Sequence[pulumi.Input[str]] = (),
            list_config_paths: Sequence[str] = (),
            list_pipeline_arns: Sequence[pulumi.Input[str]] = (),
            describe_alarm_names: Sequence[str] = (),
            environment: Sequence[BuildVariable] = (),
            secret_kms_key_arns: Sequence[pulumi.Input[str]] = (),
        ) -> BuildProject:
            project_args: BuildProjectArgs = {
                "service": args["service"],
                "stage": args["stage"],
                "role": role,
                "buildspec": buildspec,
                # Small, quick and uncached: they read and write one JSON file.
                "cache": "none",
                "timeout_minutes": 10,
                "artifact_bucket_name": args["artifact_bucket_name"],
                "artifact_bucket_arn": args["artifact_bucket_arn"],
                "kms_key_arn": args.get("kms_key_arn"),
                "log_retention_days": args.get("log_retention_days", 14),
                "tags": args.get("tags") or {},
            }
            if "permissions_boundary" in args:
                project_args["permissions_boundary"] = args["permissions_boundary"]
            if read_pipeline_arns:
                project_args["read_pipeline_arns"] = list(read_pipeline_arns)
            if read_object_tags:
                project_args["read_object_tags"] = list(read_object_tags)
            if list_config_paths:
                project_args["list_config_paths"] = list(list_config_paths)
            if list_pipeline_arns:
                project_args["list_pipeline_arns"] = list(list_pipeline_arns)
            if describe_alarm_names:
                project_args["describe_alarm_names"] = list(describe_alarm_names)
            if environment:
                project_args["environment"] = list(environment)
            if secret_kms_key_arns:
                project_args["secret_kms_key_arns"] = list(secret_kms_key_arns)
            return BuildProject(
                f"{name}-{role}", project_args, opts=pulumi.ResourceOptions(parent=self)
            )

        def arns(names: Sequence[str]) -> list[pulumi.Input[str]]:
            return [
                pulumi.Output.format(
                    "arn:aws:codepipeline:{0}:{1}:{2}", where.region, where.account_id, name
                )
                for name in names
            ]

        releases = list(args.get("release_objects") or [])
        configured = list(args.get("configured_pipelines") or [])
        package = project("package", PACKAGE_BUILDSPEC, arns(pipelines)) if pipelines else None
        evidence = sorted(set(args.get("evidence_pipelines") or []))
        upstream = sorted(set(args.get("upstream_pipelines") or []))
        describe = (
            project(
                "describe",
                DESCRIBE_BUILDSPEC,
                arns(sorted({*evidence, *upstream})),
                read_object_tags=releases,
                list_pipeline_arns=arns(evidence),
                describe_alarm_names=sorted(set(args.get("watched_alarms") or [])),
                # The secret's ARN, never its value: CodeBuild resolves it into the build.
                environment=(
                    [
                        {
                            "name": TOKEN_VARIABLE,
                            "type": "SECRETS_MANAGER",
                            "value": token_secret,
                        }
                    ]
                    if token_secret is not None
                    else []
                ),
                secret_kms_key_arns=[token_key] if token_key is not None else [],
            )
            if args.get("describe")
            else None
        )
        configure = (
            project(
                "configure",
                CONFIGURE_BUILDSPEC,
                arns(configured),
                read_object_tags=releases,
                list_config_paths=sorted(set(args.get("config_paths") or [])),
            )
            if configured
            else None
        )
        # For Python callers (`ServicePipelineArgs.release_steps`): not a schema output.
        self.refs: ReleaseStepsRef = {}
        if package is not None:
            self.refs["package"] = _ref("Package", package)
        if describe is not None:
            self.refs["describe"] = _ref("Describe", describe)
        if configure is not None:
            self.refs["configure"] = _ref("Configure", configure)
        self.package_project_name = pulumi.Output.from_input(
            package.project_name if package else None
        )
        self.describe_project_name = pulumi.Output.from_input(
            describe.project_name if describe else None
        )
        self.configure_project_name = pulumi.Output.from_input(
            configure.project_name if configure else None
        )
        self.register_outputs(
            {
                "package_project_name": self.package_project_name,
                "describe_project_name": self.describe_project_name,
                "configure_project_name": self.configure_project_name,
            }
        )


def _ref(action: str, project: BuildProject) -> ProjectRef:
    return {
        "name": action,
        "project_name": project.project_name,
        "project_arn": project.project_arn,
    }
