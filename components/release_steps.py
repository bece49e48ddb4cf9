"""The platform-owned CodeBuild projects that write and read release manifests.

Defines `ReleaseSteps`: the `package` project (adds `release-manifest.json` to a build's output;
see `components.release_manifest`) and the `describe` project (reads a promoted release's
manifest for the approval message). Neither depends on the service it runs for: what differs
per pipeline reaches them as the pipeline action's environment variables. So one pair serves
every service of a stage, which keeps a stage with many services small; a `ServicePipeline`
used alone makes its own pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi

from components.aws_context import aws_context
from components.build_project import BuildProject, BuildProjectArgs
from components.pipeline import ProjectRef
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


class ReleaseSteps(pulumi.ComponentResource):
    """The package and describe projects of one stage (or one service)."""

    package_project_name: pulumi.Output[str | None]
    """The package project, `{service}-{stage}-package`; None without `packaged_pipelines`."""
    describe_project_name: pulumi.Output[str | None]
    """The describe project, `{service}-{stage}-describe`; None without `describe`."""

    def __init__(
        self, name: str, args: ReleaseStepsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        pipelines = list(args.get("packaged_pipelines") or [])
        where = aws_context(self)

        def project(
            role: str, buildspec: str, read_pipeline_arns: Sequence[pulumi.Input[str]] = ()
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
            return BuildProject(
                f"{name}-{role}", project_args, opts=pulumi.ResourceOptions(parent=self)
            )

        arns = [
            pulumi.Output.format(
                "arn:aws:codepipeline:{0}:{1}:{2}", where.region, where.account_id, pipeline
            )
            for pipeline in pipelines
        ]
        package = project("package", PACKAGE_BUILDSPEC, arns) if pipelines else None
        describe = project("describe", DESCRIBE_BUILDSPEC) if args.get("describe") else None
        # For Python callers (`ServicePipelineArgs.release_steps`): not a schema output.
        self.refs: ReleaseStepsRef = {}
        if package is not None:
            self.refs["package"] = _ref("Package", package)
        if describe is not None:
            self.refs["describe"] = _ref("Describe", describe)
        self.package_project_name = pulumi.Output.from_input(
            package.project_name if package else None
        )
        self.describe_project_name = pulumi.Output.from_input(
            describe.project_name if describe else None
        )
        self.register_outputs(
            {
                "package_project_name": self.package_project_name,
                "describe_project_name": self.describe_project_name,
            }
        )


def _ref(action: str, project: BuildProject) -> ProjectRef:
    return {
        "name": action,
        "project_name": project.project_name,
        "project_arn": project.project_arn,
    }
