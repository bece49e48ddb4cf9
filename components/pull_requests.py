"""Tests on pull requests: a V2 pipeline of their own that builds and tests, and nothing else.

Defines `PullRequestPipeline`: Source (the pull request's commit, through the same GitHub
connection) -> Build (the build project, and the source scan when asked) -> Test (one action
per suite), started by CodePipeline's
pull-request trigger for pull requests into the service's branch that touch the push trigger's
paths. It has no Package, no Deploy and no Publish, so no pull request can release anything,
whatever its code does.

Why a second pipeline rather than a trigger on the release pipeline: a pipeline's stages run for
every execution, whatever started it (a V2 pipeline cannot skip Deploy for one trigger), so a
pull-request trigger on the release pipeline would deploy the pull request. This one runs in
PARALLEL mode, so one pull request never waits for, or supersedes, another.

It does not create what it runs: the build and test projects (their own, separate from the
release pipeline's, with access only to the pull-request artifact bucket) and that bucket are
inputs. CodePipeline reports nothing to GitHub itself: the commit status a pull request shows
(`status_context`) is posted by whatever reports pipeline events to GitHub; this pipeline's tags
(`TAG_PIPELINE_KIND`, `TAG_STATUS_CONTEXT`) say what it is and which context to post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext
from components.pipeline import (
    BUILD_ARTIFACT,
    BUILD_STAGE,
    SCAN_ACTION,
    SCAN_NAMESPACE,
    SOURCE_ACTION,
    SOURCE_ARTIFACT,
    SOURCE_NAMESPACE,
    SOURCE_STAGE,
    TEST_STAGE,
    ProjectRef,
    ScanArgs,
    pipeline_action,
    scan_configuration,
)
from components.pipeline_role import role_policy
from components.release_manifest import SCAN_ARTIFACT

TYPE = "delivery:cicd:PullRequestPipeline"

TAG_PIPELINE_KIND = "cicd:pipeline-kind"
"""`pull-requests` on this pipeline: `cicd` leaves it out of releases, a reporter picks it up."""
PULL_REQUEST_KIND = "pull-requests"
TAG_STATUS_CONTEXT = "cicd:status-context"
"""The commit status context a reporter posts for this pipeline's runs (`status_context`)."""
DEFAULT_EVENTS = ("OPEN", "UPDATED")
# GitPullRequestFilter.events: "Valid Values: OPEN | UPDATED | CLOSED".
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitPullRequestFilter.html
EVENTS = ("OPEN", "UPDATED", "CLOSED")


def pull_request_pipeline_name(service: str, stage: str) -> str:
    """`{service}-{stage}-pr`, known before the pipeline exists (its role is scoped to it)."""
    return NamingContext.current(service, stage).name("pr", 100)


def status_context(service: str, stage: str) -> str:
    """The commit status a pull request shows for this pipeline, e.g. `cicd/web-staging-pr`:
    the name branch protection requires."""
    return f"cicd/{service}-{stage}-pr"


class PullRequestPipelineArgs(TypedDict):
    service: str
    """Naming: the service; the pipeline is `{service}-{stage}-pr`."""
    stage: str
    """Naming: the stage whose release pipeline builds the same branch."""
    connection_arn: pulumi.Input[str]
    """The CodeConnections connection to GitHub (the release pipeline's)."""
    repository: str
    """GitHub `owner/repo`."""
    branch: str
    """Pull requests into this branch start a run (their base branch)."""
    build: ProjectRef
    """The project the Build action runs on the pull request's commit."""
    artifact_bucket_name: pulumi.Input[str]
    """Where the runs' artifacts go (a bucket whose objects expire fast)."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of that bucket, to which the role's artifact access is scoped."""
    tests: NotRequired[Sequence[ProjectRef]]
    """One Test action per suite, after Build. Omitted or empty: no Test stage."""
    file_paths: NotRequired[Sequence[str]]
    """Only pull requests touching these globs start a run. Omitted: every pull request into
    `branch`."""
    events: NotRequired[Sequence[str]]
    """Which pull request events start a run: OPEN, UPDATED, CLOSED. Omitted: OPEN and UPDATED
    (a closed pull request needs no test)."""
    scan: NotRequired[ScanArgs]
    """Also run the source scan beside the build, with the release pipeline's thresholds, so a
    pull request that brings in a vulnerable dependency fails its check before the merge (its
    SBOM expires with the run's artifacts). Omitted: no scan."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The artifact bucket's KMS key. Omitted: SSE-S3, no key permissions."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the role's permissions boundary. Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags and the two that say what this pipeline is."""


class PullRequestPipeline(pulumi.ComponentResource):
    """Source -> Build -> Test for pull requests into one branch; never Deploy or Publish."""

    pipeline_name: pulumi.Output[str]
    """Name of the pipeline, `{service}-{stage}-pr`."""
    pipeline_arn: pulumi.Output[str]
    """ARN of the pipeline."""
    role_arn: pulumi.Output[str]
    """ARN of the pipeline's own service role."""
    status_context: pulumi.Output[str]
    """The commit status context to require on the branch, `cicd/{service}-{stage}-pr`."""

    def __init__(
        self, name: str, args: PullRequestPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        service, stage = args["service"], args["stage"]
        events = list(args.get("events") or DEFAULT_EVENTS)
        unknown = sorted(set(events) - set(EVENTS))
        if unknown or len(set(events)) != len(events):
            raise ValueError(
                f"PullRequestPipeline {name!r}: events {events} must be distinct values of "
                f"{', '.join(EVENTS)}"
            )
        naming = NamingContext.current(service, stage)
        physical = pull_request_pipeline_name(service, stage)
        context = status_context(service, stage)
        tags = {
            **naming.tags,
            **(args.get("tags") or {}),
            TAG_PIPELINE_KIND: PULL_REQUEST_KIND,
            TAG_STATUS_CONTEXT: context,
        }
        child = pulumi.ResourceOptions(parent=self)
        where = aws_context(self)
        tests = list(args.get("tests") or [])

        expected_arn = pulumi.Output.format(
            "arn:aws:codepipeline:{0}:{1}:{2}", where.region, where.account_id, physical
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("pr-codepipeline", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"CodePipeline {physical} (pull requests: build and test only)",
            assume_role_policy=pulumi.Output.all(where.account_id, expected_arn).apply(
                lambda a: service_trust_policy("codepipeline.amazonaws.com", a[0], a[1])
            ),
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        # The policy has no deploy, publish or release statement: nothing a pull request runs
        # through this role can reach a deployment group, a function or a release bucket.
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                region=where.region,
                account_id=where.account_id,
                bucket_arn=args["artifact_bucket_arn"],
                kms_key_arn=args.get("kms_key_arn"),
                project_arns=[args["build"]["project_arn"], *[t["project_arn"] for t in tests]],
                connection_arn=args["connection_arn"],
                scan="scan" in args,
            ).apply(lambda a: role_policy(pipeline_name=physical, service=service, **a)),
            opts=child,
        )

        source = pipeline_action(
            SOURCE_ACTION,
            "Source",
            "CodeStarSourceConnection",
            {
                "ConnectionArn": args["connection_arn"],
                "FullRepositoryId": args["repository"],
                # Required by the action, but a run the trigger starts does not use it: "For a
                # pipeline where triggers are used to filter branches by push or pull request,
                # the pipeline won't use the default BranchName field branch" (it is what a
                # manual start builds).
                # https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html
                "BranchName": args["branch"],
                "OutputArtifactFormat": "CODE_ZIP",
            },
            outputs=[SOURCE_ARTIFACT],
        )
        build = pipeline_action(
            args["build"]["name"],
            "Build",
            "CodeBuild",
            {"ProjectName": args["build"]["project_name"]},
            inputs=[SOURCE_ARTIFACT],
            outputs=[BUILD_ARTIFACT],
        )
        builds: list[aws.codepipeline.PipelineStageActionArgsDict] = [build]
        scan = args.get("scan")
        if scan is not None:
            inspect = pipeline_action(
                SCAN_ACTION,
                "Invoke",
                "InspectorScan",
                scan_configuration(scan["thresholds"]),
                inputs=[SOURCE_ARTIFACT],
                outputs=[SCAN_ARTIFACT],
            )
            builds.append({**inspect, "namespace": SCAN_NAMESPACE})
        stages: list[aws.codepipeline.PipelineStageArgsDict] = [
            {"name": SOURCE_STAGE, "actions": [{**source, "namespace": SOURCE_NAMESPACE}]},
            {"name": BUILD_STAGE, "actions": builds},
        ]
        if tests:
            stages.append(
                {
                    "name": TEST_STAGE,
                    "actions": [
                        pipeline_action(
                            t["name"],
                            "Test",
                            "CodeBuild",
                            {"ProjectName": t["project_name"], "PrimarySource": SOURCE_ARTIFACT},
                            inputs=[SOURCE_ARTIFACT, BUILD_ARTIFACT],
                        )
                        for t in tests
                    ],
                }
            )
        pull_request: aws.codepipeline.PipelineTriggerGitConfigurationPullRequestArgsDict = {
            "events": events,
            "branches": {"includes": [args["branch"]]},
        }
        file_paths = list(args.get("file_paths") or [])
        if file_paths:
            pull_request["file_paths"] = {"includes": file_paths}
        store: aws.codepipeline.PipelineArtifactStoreArgsDict = {
            "type": "S3",
            "location": args["artifact_bucket_name"],
        }
        kms_key_arn = args.get("kms_key_arn")
        if kms_key_arn is not None:
            store["encryption_key"] = {"id": kms_key_arn, "type": "KMS"}
        pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=physical,
            pipeline_type="V2",
            # One pull request never waits for another, nor replaces another's run.
            execution_mode="PARALLEL",
            role_arn=role.arn,
            artifact_stores=[store],
            stages=stages,
            triggers=[
                {
                    "provider_type": "CodeStarSourceConnection",
                    "git_configuration": {
                        "source_action_name": SOURCE_ACTION,
                        "pull_requests": [pull_request],
                    },
                }
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        self.pipeline_name = pipeline.name
        self.pipeline_arn = pipeline.arn
        self.role_arn = role.arn
        self.status_context = pulumi.Output.from_input(context)
        self.register_outputs(
            {
                "pipeline_name": self.pipeline_name,
                "pipeline_arn": self.pipeline_arn,
                "role_arn": self.role_arn,
                "status_context": self.status_context,
            }
        )
