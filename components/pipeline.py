"""The CodePipeline (V2) that ties a service's chain together.

Defines `DeliveryPipeline`. Built from GitHub: Source (CodeConnections) -> Build (the build, then
`Package`, which adds the release manifest) -> Test (one parallel action per suite) -> optional
Approval -> Deploy -> optional Publish. Promoted from another stage: Source (that stage's release
in S3) -> optional Approval (after `Describe` reads the manifest, so approvers see the commit) ->
Deploy -> optional Publish. Deploy first pins the release's runtime configuration (`Configure`,
when given) and runs the release task once (a migration, when given), then the deploy actions,
then the verification suites against them; it can roll itself back on failure, watch alarms for
a bake time after success, and only open inside a deployment window. Publish writes the release,
after all of that succeeded, to the location the stages downstream promote from. The pipeline
role may touch only what it drives.

It does not create what it drives: build projects, deployment groups, topics and release
locations are inputs. The stage and action names below are a contract with the `cicd` tool.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import service_trust_policy
from components.naming import IAM_ROLE_MAX, TAG_PROMOTES_FROM, NamingContext
from components.pipeline_role import role_policy
from components.release_config import (
    NAMESPACE as CONFIGURE_NAMESPACE,
)
from components.release_config import (
    RELEASE_KIND_VARIABLE,
    RELEASE_NOTE_VARIABLE,
    configure_variables,
    environment_json,
)
from components.release_manifest import SCAN_ARTIFACT, package_variables

TYPE = "delivery:cicd:DeliveryPipeline"

SOURCE_STAGE, SOURCE_ACTION, SOURCE_NAMESPACE = "Source", "GitHub", "SourceVariables"
RELEASE_ACTION, RELEASE_SOURCE_NAMESPACE = "Release", "ReleaseSource"
BUILD_STAGE, BUILD_ACTION, PACKAGE_ACTION = "Build", "Build", "Package"
TEST_STAGE, APPROVAL_STAGE, DEPLOY_STAGE, PUBLISH_STAGE = "Test", "Approval", "Deploy", "Publish"
APPROVAL_ACTION, DESCRIBE_ACTION, RELEASE_NAMESPACE = "Approve", "Describe", "ReleaseVariables"
PUBLISH_ACTION, VERIFY_PREFIX = "Publish", "verify-"
ANALYSIS_ACTION = f"{VERIFY_PREFIX}analysis"
"""The analysis is a verification to `cicd` (a `verify-` action after the deploy actions)."""
CONFIGURE_ACTION, RELEASE_TASK_ACTION = "Configure", "ReleaseTask"
SCAN_ACTION, SCAN_NAMESPACE = "Scan", "ScanVariables"
SCAN_SEVERITIES = ("critical", "high", "medium", "low")
"""InspectorScan's thresholds, most severe first: `CriticalThreshold` ... `LowThreshold`."""
SOURCE_ARTIFACT, BUILD_ARTIFACT, RELEASE_ARTIFACT, DEPLOY_ARTIFACT = (
    "SourceArtifact",
    "BuildArtifact",
    "ReleaseArtifact",
    "DeployArtifact",
)
# Pipeline-level variables: `cicd config` starts a config release with them; a rollback reuses
# the values of the execution it returns to (AWS's stage rollback uses "the variables and
# artifacts from the execution to which it is rolling back").
RELEASE_VARIABLES: tuple[tuple[str, str, str], ...] = (
    (RELEASE_KIND_VARIABLE, "code", "code: a new build or release; config: a configuration change"),
    (RELEASE_NOTE_VARIABLE, "-", "why this release runs (cicd config names the changed keys)"),
)


class SourceArgs(TypedDict):
    """Build from GitHub."""

    connection_arn: pulumi.Input[str]
    """The CodeConnections connection to GitHub (`GitHubConnection.arn`)."""
    repository: str
    """GitHub `owner/repo`."""
    branch: str
    """The branch whose pushes start the pipeline."""
    file_paths: NotRequired[Sequence[str]]
    """Only pushes touching these globs start the pipeline. Omitted: every push to the branch."""


class ReleaseSourceArgs(TypedDict):
    """Deploy the releases another stage published (see `components.release_channel`)."""

    bucket_name: pulumi.Input[str]
    """The upstream's release bucket."""
    bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    object_key: str
    """The release object the upstream publishes for this service."""
    kms_key_arn: NotRequired[pulumi.Input[str | None]]
    """The key releases are encrypted with. Omitted: SSE-S3."""
    upstream_stage: str
    """The stage promoted from; tags the pipeline `cicd:promotes-from`."""


class PublishArgs(TypedDict):
    """Publish each release this pipeline proved, for the stages that promote from this one."""

    bucket_name: pulumi.Input[str]
    """This stage's release bucket."""
    bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    object_key: str
    """The release object to write, which downstream stages watch."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Encrypt the release with this key. Omitted: the bucket's default encryption."""


class ScanArgs(TypedDict):
    """Amazon Inspector's source code scan (the managed InspectorScan action) in Build."""

    thresholds: Mapping[str, int]
    """Per severity (`critical`, `high`, `medium`, `low`): the number of vulnerabilities of that
    severity beyond which the scan fails the release; 0 fails on the first. A severity left out
    never fails it (its findings are still in the SBOM)."""


class ProjectRef(TypedDict):
    name: str
    """Stable key: the action name (`Build`, the suite name for tests, `verify-<name>`)."""
    project_name: pulumi.Input[str]
    """The CodeBuild project the action runs."""
    project_arn: pulumi.Input[str]
    """ARN of that project, to which the pipeline role's StartBuild is scoped."""


class ApprovalArgs(TypedDict):
    timeout_minutes: NotRequired[int]
    """How long the approval waits before failing the execution. Omitted: 1440 (one day)."""
    topic_arn: NotRequired[pulumi.Input[str]]
    """SNS topic told that an approval waits. Omitted: nobody is notified (console only)."""
    topic_kms_key_arn: NotRequired[pulumi.Input[str]]
    """The topic's KMS key; the pipeline role may encrypt with it to publish. Omitted: none."""


class ServerTargetRef(TypedDict):
    name: str
    """Stable key: the Deploy action's name."""
    application_name: pulumi.Input[str]
    """The CodeDeploy application."""
    deployment_group_name: pulumi.Input[str]
    """The deployment group the action deploys to."""
    deployment_group_arn: pulumi.Input[str]
    """ARN of that group, to which the pipeline role's CreateDeployment is scoped."""


class LambdaTargetRef(TypedDict):
    name: str
    """Stable key: the Deploy action's name."""
    function_name: str
    """The function the action deploys."""
    alias: str
    """The alias whose traffic shifts to the new version."""


class ConfigureArgs(TypedDict):
    """The Deploy stage's first action: pin and record the release's runtime configuration."""

    project: ProjectRef
    """The platform-owned configure project (`ReleaseSteps`); its action is `Configure`."""
    config_path: str
    """The service's Parameter Store path in this stage, e.g. `/web/prod`."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """The key of its SecureStrings, which `cicd config set --secret` uses. Omitted: aws/ssm."""


class PipelineDeployArgs(TypedDict):
    platform: Literal["server", "lambda"]
    """What releases run on: instances with the CodeDeploy agent, or Lambda functions."""
    server_targets: NotRequired[Sequence[ServerTargetRef]]
    """Server: the deployment groups, one Deploy action each. Required for `server`."""
    application_arn: NotRequired[pulumi.Input[str]]
    """Server: the CodeDeploy application, where the role may register revisions."""
    deployment_config_name: NotRequired[pulumi.Input[str]]
    """Server: the deployment config the groups use (the role may read it)."""
    lambda_targets: NotRequired[Sequence[LambdaTargetRef]]
    """Lambda: the functions and aliases, one Deploy action each. Required for `lambda`."""
    lambda_strategy: NotRequired[str]
    """Lambda: a CodeDeployDefault.Lambda* name. Omitted: all at once."""
    alarm_names: NotRequired[pulumi.Input[Sequence[str]]]
    """Alarms for the Lambda action and the bake condition. Omitted: none."""
    verify: NotRequired[Sequence[ProjectRef]]
    """CodeBuild projects that test the deployed release, after the deploy actions, in the same
    stage: a failure fails the stage (and rolls it back). Omitted: no verification."""
    rollback_on_failure: NotRequired[bool]
    """Roll the stage back to the last successful execution when it fails. Omitted: True."""
    bake_minutes: NotRequired[int]
    """After success, watch `alarm_names` this long and roll back if one fires. Omitted: 0."""
    window: NotRequired[Mapping[str, str]]
    """`{cron, time_zone}`: the stage may only start inside it. Omitted: always open."""
    configure: NotRequired[ConfigureArgs]
    """Pin the configuration first (the deploy actions then take `DeployArtifact`, the release
    with `config-snapshot.json`) and declare the `RELEASE_KIND`/`RELEASE_NOTE` variables.
    Omitted: the deploy actions take the release as it is."""
    release_task: NotRequired[ProjectRef]
    """A project that runs once per release before the deploy actions, on the same artifact
    (a schema migration); its failure fails the stage. Omitted: none."""
    analysis: NotRequired[ProjectRef]
    """A metric analysis (`components.metric_analysis`) after the deploy actions, beside the
    verification, as action `verify-analysis`: failed or inconclusive fails the stage.
    Omitted: none."""


DeployArgs = PipelineDeployArgs
"""The name before 1.0.0, kept for Python users; `PipelineDeployArgs` avoids the clash with
`components.DeployArgs` (`ServicePipeline`'s) in the multi-language schema."""


class DeliveryPipelineArgs(TypedDict):
    service: str
    """Naming: the service; the pipeline is `{service}-{stage}-pipeline`."""
    stage: str
    """Naming: the stage, e.g. dev."""
    artifact_bucket_name: pulumi.Input[str]
    """The artifact bucket, where actions pass artifacts to each other."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of that bucket, to which the role's artifact access is scoped."""
    deploy: PipelineDeployArgs
    """The Deploy stage: targets, verification, rollback, bake and window."""
    source: NotRequired[SourceArgs]
    """Build from GitHub. Exactly one of `source` and `release_source`."""
    release_source: NotRequired[ReleaseSourceArgs]
    """Deploy another stage's releases: no Build and no Test stage."""
    build: NotRequired[ProjectRef]
    """The build project; required with `source`, refused with `release_source`."""
    package: NotRequired[ProjectRef]
    """The project that adds the release manifest to the build's output
    (`components.release_manifest.PACKAGE_BUILDSPEC`); required with `source`."""
    describe: NotRequired[ProjectRef]
    """The project that reads a promoted release's manifest for the approval message
    (`DESCRIBE_BUILDSPEC`); required with `release_source` and `approval`."""
    tests: NotRequired[Sequence[ProjectRef]]
    """Omitted or empty: no Test stage. Refused with `release_source`."""
    scan: NotRequired[ScanArgs]
    """Scan the source with Amazon Inspector beside the build, and put the SBOM it writes in
    the release (`sbom/`, next to the manifest). Omitted: no scan, no SBOM. Refused with
    `release_source` (a promoted release carries the SBOM of the stage that built it)."""
    approval: NotRequired[ApprovalArgs]
    """Omitted: no Approval stage; releases go straight to Deploy."""
    publish: NotRequired[PublishArgs]
    """Omitted: no Publish stage; nothing downstream promotes from this pipeline."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The artifact bucket's KMS key. Omitted: SSE-S3, no key permissions."""
    execution_mode: NotRequired[Literal["QUEUED", "SUPERSEDED", "PARALLEL"]]
    """Omitted: SUPERSEDED (a newer push replaces a waiting one)."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def pipeline_physical_name(service: str, stage: str) -> str:
    """The pipeline's name, known before it exists (its steps' roles are scoped to it)."""
    return NamingContext.current(service, stage).name("pipeline", 100)


def lambda_deploy_strategy(codedeploy_name: str) -> str:
    """The Lambda deploy action's DeployStrategy for a CodeDeployDefault.Lambda* config name."""
    return codedeploy_name.removeprefix("CodeDeployDefault.Lambda")


def rule_name(prefix: str, alarm_name: str) -> str:
    """A rule name derived from the alarm (stable when other alarms are added or removed)."""
    slug = re.sub(r"[^A-Za-z0-9.@_-]", "-", alarm_name)
    digest = hashlib.sha256(alarm_name.encode()).hexdigest()[:6]
    return f"{prefix}-{slug[:80]}-{digest}"


# Stages --------------------------------------------------------------------------------------


def pipeline_action(
    name: str,
    category: str,
    provider: str,
    configuration: Mapping[str, pulumi.Input[str]] | None = None,
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    run_order: int = 1,
) -> aws.codepipeline.PipelineStageActionArgsDict:
    action: aws.codepipeline.PipelineStageActionArgsDict = {
        "name": name,
        "category": category,
        "owner": "AWS",
        "provider": provider,
        "version": "1",
        # Actions with the same run_order run in parallel, and all must pass.
        "run_order": run_order,
    }
    if configuration is not None:
        action["configuration"] = configuration
    if inputs:
        action["input_artifacts"] = list(inputs)
    if outputs:
        action["output_artifacts"] = list(outputs)
    return action


_action = pipeline_action


def scan_configuration(thresholds: Mapping[str, int]) -> dict[str, str]:
    """The InspectorScan action's configuration for a source code scan with these thresholds.

    Keys and values from AWS's action reference: `InspectorRunMode` is `SourceCodeScan` (the
    other mode scans an ECR image), and each `<Severity>Threshold` is "the number of ...
    vulnerabilities found in your source beyond which CodePipeline should fail the action":
    https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-InspectorScan.html
    """
    unknown = sorted(set(thresholds) - set(SCAN_SEVERITIES))
    if unknown:
        raise ValueError(
            f"scan thresholds: unknown severities {unknown}; use {', '.join(SCAN_SEVERITIES)}"
        )
    configuration = {"InspectorRunMode": "SourceCodeScan"}
    for severity in SCAN_SEVERITIES:
        if severity in thresholds:
            count = thresholds[severity]
            if count < 0:
                raise ValueError(f"scan thresholds: {severity} is {count}; give 0 or more")
            configuration[f"{severity.capitalize()}Threshold"] = str(count)
    return configuration


def _environment(pairs: Sequence[tuple[str, pulumi.Input[str]]]) -> pulumi.Output[str]:
    """A CodeBuild action's `EnvironmentVariables`: PLAINTEXT values, some of them Outputs."""
    names = [name for name, _ in pairs]
    return pulumi.Output.all(*[value for _, value in pairs]).apply(
        lambda values: environment_json(
            [
                {"name": name, "value": str(value), "type": "PLAINTEXT"}
                for name, value in zip(names, values, strict=True)
            ]
        )
    )


def evidence_custom_data(
    service: str, stage: str, upstream: str, window: Mapping[str, str] | None
) -> str:
    """The CustomData of a promoted release's approval: the commit, and the evidence `Describe`
    exports (`components.approval_evidence`), by variable name; the window is static.

    CodePipeline resolves the variables when the approval runs, and sends the CustomData and the
    link in the approval's notification ("customData", "externalEntityLink":
    https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals-json-format.html).
    """
    ns = RELEASE_NAMESPACE
    when = (
        f'window cron "{window["cron"]}" ({window["time_zone"]})'
        if window
        else "no deployment window"
    )
    return (
        f"Release {service} to {stage}: commit #{{{ns}.COMMIT_ID}} - #{{{ns}.COMMIT_MESSAGE}} "
        f"(proved in {upstream}). Commits since the live #{{{ns}.LIVE_COMMIT}}: "
        f"#{{{ns}.COMMITS_AHEAD}}. {upstream} verification: #{{{ns}.VERIFICATION}}; bake "
        f"#{{{ns}.BAKE}}. "
        f"Watched alarms now: #{{{ns}.ALARMS}}. Deploy: {when}."
    )


def _bake_rules(
    alarm_names: Sequence[str], minutes: int
) -> list[aws.codepipeline.PipelineStageOnSuccessConditionRuleArgsDict]:
    """One CloudWatchAlarm rule per alarm: any alarm firing within `minutes` rolls back."""
    return [
        {
            "name": rule_name("bake", alarm),
            "rule_type_id": {
                "category": "Rule",
                "owner": "AWS",
                "provider": "CloudWatchAlarm",
                "version": "1",
            },
            "configuration": {"AlarmName": alarm, "WaitTime": str(minutes)},
        }
        for alarm in alarm_names
    ]


class DeliveryPipeline(pulumi.ComponentResource):
    """A V2 pipeline from GitHub or from an upstream stage's release, with its own role."""

    pipeline_name: pulumi.Output[str]
    """Name of the pipeline, `{service}-{stage}-pipeline`."""
    pipeline_arn: pulumi.Output[str]
    """ARN of the pipeline."""
    console_url: pulumi.Output[str]
    """The pipeline's page in the CodePipeline console."""
    role_arn: pulumi.Output[str]
    """ARN of the pipeline's service role."""
    approval_action_arn: pulumi.Output[str | None]
    """ARN of the manual-approval action, for `codepipeline:PutApprovalResult`; None without an
    approval."""

    def __init__(
        self, name: str, args: DeliveryPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self._name, self._args = name, args
        self._naming = NamingContext.current(args["service"], args["stage"])
        self._physical_name = pipeline_physical_name(args["service"], args["stage"])
        self._validate()
        where = aws_context(self)
        self._account_id, self._region = where.account_id, where.region
        self._alarm_names = pulumi.Output.from_input(args["deploy"].get("alarm_names") or []).apply(
            list
        )

        role, policy = self._role()
        stages = [
            self._source_stage(),
            *self._build_stages(),
            *self._approval_stage(),
            self._deploy_stage(),
            *self._publish_stage(),
        ]
        pipeline = self._pipeline(role, policy, stages)

        approval = args.get("approval")
        self.pipeline_name = pipeline.name
        self.pipeline_arn = pipeline.arn
        self.console_url = pulumi.Output.format(
            "https://{0}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{1}/view?region={0}",
            self._region,
            pipeline.name,
        )
        self.role_arn = role.arn
        self.approval_action_arn = (
            pulumi.Output.concat(pipeline.arn, f"/{APPROVAL_STAGE}/{APPROVAL_ACTION}")
            if approval is not None
            else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "pipeline_name": self.pipeline_name,
                "pipeline_arn": self.pipeline_arn,
                "console_url": self.console_url,
                "role_arn": self.role_arn,
                "approval_action_arn": self.approval_action_arn,
            }
        )

    # Checks and names ------------------------------------------------------------------------

    def _validate(self) -> None:
        args, name = self._args, self._name
        deploy = args["deploy"]
        github, release = "source" in args, "release_source" in args
        if github == release:
            raise ValueError(
                f"DeliveryPipeline {name!r}: give source (build from GitHub) or release_source "
                "(deploy another stage's releases), exactly one"
            )
        if github and ("build" not in args or "package" not in args):
            raise ValueError(f"DeliveryPipeline {name!r}: a GitHub source needs build and package")
        if release and "approval" in args and "describe" not in args:
            raise ValueError(
                f"DeliveryPipeline {name!r}: an approval of a promoted release needs describe, "
                "which reads the commit the approvers are shown"
            )
        if release and ("build" in args or args.get("tests") or "scan" in args):
            raise ValueError(
                f"DeliveryPipeline {name!r}: a release source deploys what was built and tested "
                "upstream; remove build, tests and scan"
            )
        if deploy["platform"] == "server" and not deploy.get("server_targets"):
            raise ValueError(f"DeliveryPipeline {name!r}: platform server needs server_targets")
        if deploy["platform"] == "lambda" and not deploy.get("lambda_targets"):
            raise ValueError(f"DeliveryPipeline {name!r}: platform lambda needs lambda_targets")
        bake = deploy.get("bake_minutes", 0)
        if bake and not deploy.get("alarm_names"):
            raise ValueError(
                f"DeliveryPipeline {name!r}: bake_minutes={bake} watches alarms, but "
                "alarm_names is not given; pass the alarms or set bake_minutes to 0"
            )
        if args.get("execution_mode") == "PARALLEL" and (
            deploy.get("rollback_on_failure", True) or bake
        ):
            # https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html
            raise ValueError(
                f"DeliveryPipeline {name!r}: PARALLEL pipelines have no stage rollback; set "
                "deploy.rollback_on_failure to False and bake_minutes to 0, or use QUEUED"
            )

    @property
    def _promoted(self) -> bool:
        return "release_source" in self._args

    # Role ------------------------------------------------------------------------------------

    def _role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        args, name, naming = self._args, self._name, self._naming
        deploy = args["deploy"]
        tags = self._tags()
        expected_arn = pulumi.Output.format(
            "arn:aws:codepipeline:{0}:{1}:{2}", self._region, self._account_id, self._physical_name
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("codepipeline", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"CodePipeline {self._physical_name}",
            assume_role_policy=pulumi.Output.all(self._account_id, expected_arn).apply(
                lambda a: service_trust_policy("codepipeline.amazonaws.com", a[0], a[1])
            ),
            permissions_boundary=self._args.get("permissions_boundary"),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        approval = args.get("approval") or {}
        projects = [
            *[
                p["project_arn"]
                for p in (args.get(k) for k in ("build", "package", "describe"))
                if p
            ],
            *[t["project_arn"] for t in args.get("tests") or []],
            *[v["project_arn"] for v in deploy.get("verify") or []],
            *([deploy["configure"]["project"]["project_arn"]] if "configure" in deploy else []),
            *([deploy["release_task"]["project_arn"]] if "release_task" in deploy else []),
            *([deploy["analysis"]["project_arn"]] if "analysis" in deploy else []),
        ]
        server_targets = list(deploy.get("server_targets") or [])
        lambda_targets = list(deploy.get("lambda_targets") or [])
        source = args.get("source")
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                region=self._region,
                account_id=self._account_id,
                bucket_arn=args["artifact_bucket_arn"],
                kms_key_arn=args.get("kms_key_arn"),
                project_arns=projects,
                connection_arn=source["connection_arn"] if source else None,
                release_source=args.get("release_source"),
                publish=args.get("publish"),
                application_arn=deploy.get("application_arn"),
                deployment_group_arns=[t["deployment_group_arn"] for t in server_targets],
                deployment_config_name=deploy.get("deployment_config_name"),
                alarm_names=self._alarm_names,
                topic_arn=approval.get("topic_arn"),
                topic_kms_key_arn=approval.get("topic_kms_key_arn"),
                scan="scan" in args,
            ).apply(
                lambda a: role_policy(
                    pipeline_name=self._physical_name,
                    service=args["service"],
                    function_names=sorted({t["function_name"] for t in lambda_targets}),
                    **a,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, policy

    def _tags(self) -> dict[str, str]:
        tags = {**self._naming.tags, **(self._args.get("tags") or {})}
        release = self._args.get("release_source")
        if release:
            # `cicd promote` checks --from against this (a contract with cicd/contract.py).
            tags[TAG_PROMOTES_FROM] = release["upstream_stage"]
        return tags

    # Stages ----------------------------------------------------------------------------------

    def _source_stage(self) -> aws.codepipeline.PipelineStageArgsDict:
        release = self._args.get("release_source")
        if release is not None:
            action = _action(
                RELEASE_ACTION,
                "Source",
                "S3",
                {
                    "S3Bucket": release["bucket_name"],
                    "S3ObjectKey": release["object_key"],
                    # An EventBridge rule starts this pipeline (automatic promotion) or `cicd`
                    # does; polling would start it twice for one release:
                    # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html
                    "PollForSourceChanges": "false",
                },
                outputs=[RELEASE_ARTIFACT],
            )
            return {
                "name": SOURCE_STAGE,
                "actions": [{**action, "namespace": RELEASE_SOURCE_NAMESPACE}],
            }
        source = self._args.get("source")
        assert source is not None, "validated in _validate"
        action = _action(
            SOURCE_ACTION,
            "Source",
            "CodeStarSourceConnection",
            {
                "ConnectionArn": source["connection_arn"],
                "FullRepositoryId": source["repository"],
                "BranchName": source["branch"],
                "OutputArtifactFormat": "CODE_ZIP",
            },
            outputs=[SOURCE_ARTIFACT],
        )
        return {"name": SOURCE_STAGE, "actions": [{**action, "namespace": SOURCE_NAMESPACE}]}

    def _build_stages(self) -> list[aws.codepipeline.PipelineStageArgsDict]:
        if self._promoted:
            return []
        args = self._args
        project = args.get("build")
        assert project is not None, "validated in _validate"
        build = _action(
            project["name"],
            "Build",
            "CodeBuild",
            {"ProjectName": project["project_name"]},
            inputs=[SOURCE_ARTIFACT],
            outputs=[BUILD_ARTIFACT],
        )
        packager, source = args.get("package"), args.get("source")
        assert packager is not None and source is not None, "validated in _validate"
        scan = args.get("scan")
        actions: list[aws.codepipeline.PipelineStageActionArgsDict] = [build]
        package_inputs = [BUILD_ARTIFACT]
        if scan is not None:
            # Beside the build (same run order: both must pass before Package), on the source as
            # it came from GitHub. Its output artifact is the SBOM; Package copies it into the
            # release, so it is promoted with the code it describes.
            inspect = _action(
                SCAN_ACTION,
                "Invoke",
                "InspectorScan",
                scan_configuration(scan["thresholds"]),
                inputs=[SOURCE_ARTIFACT],
                outputs=[SCAN_ARTIFACT],
            )
            actions.append({**inspect, "namespace": SCAN_NAMESPACE})
            package_inputs.append(SCAN_ARTIFACT)
        package_configuration: dict[str, pulumi.Input[str]] = {
            "ProjectName": packager["project_name"],
            # Documented to resolve pipeline variables, unlike a Commands action's commands.
            "EnvironmentVariables": package_variables(
                service=args["service"],
                stage=args["stage"],
                repository=source["repository"],
                branch=source["branch"],
                pipeline_name=self._physical_name,
            ),
        }
        if scan is not None:
            # With two inputs, CodeBuild needs to be told which one is $CODEBUILD_SRC_DIR; the
            # SBOM arrives in $CODEBUILD_SRC_DIR_ScanArtifact.
            package_configuration["PrimarySource"] = BUILD_ARTIFACT
        package = _action(
            PACKAGE_ACTION,
            "Build",
            "CodeBuild",
            package_configuration,
            inputs=package_inputs,
            outputs=[RELEASE_ARTIFACT],
            run_order=2,
        )
        stages: list[aws.codepipeline.PipelineStageArgsDict] = [
            {"name": BUILD_STAGE, "actions": [*actions, package]}
        ]
        tests = list(args.get("tests") or [])
        if tests:
            stages.append(
                {
                    "name": TEST_STAGE,
                    "actions": [
                        _action(
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
        return stages

    def _approval_stage(self) -> list[aws.codepipeline.PipelineStageArgsDict]:
        args = self._args
        approval = args.get("approval")
        if approval is None:
            return []
        service, stage = args["service"], args["stage"]
        release, source = args.get("release_source"), args.get("source")
        actions: list[aws.codepipeline.PipelineStageActionArgsDict] = []
        if release is not None:
            # An S3 source knows only an object version; approvers must see the commit, so
            # `Describe` reads it from the release's manifest first.
            describer = args.get("describe")
            assert describer is not None, "validated in _validate"
            describe = _action(
                DESCRIBE_ACTION,
                "Build",
                "CodeBuild",
                {
                    "ProjectName": describer["project_name"],
                    # The version to check for a rejection tag before anyone is asked.
                    "EnvironmentVariables": _environment(
                        [
                            ("RELEASE_BUCKET", release["bucket_name"]),
                            ("RELEASE_KEY", release["object_key"]),
                            ("RELEASE_VERSION", f"#{{{RELEASE_SOURCE_NAMESPACE}.VersionId}}"),
                            # The evidence (components.approval_evidence): what this pipeline
                            # runs now, and the alarms the release will be watched by.
                            ("PIPELINE_NAME", self._physical_name),
                            ("ALARM_NAMES", self._alarm_names.apply(",".join)),
                        ]
                    ),
                },
                inputs=[RELEASE_ARTIFACT],
            )
            actions.append({**describe, "namespace": RELEASE_NAMESPACE})
            custom = evidence_custom_data(
                service, stage, release["upstream_stage"], args["deploy"].get("window")
            )
            # What changed since what runs now: GitHub's compare view (a commit without a live
            # release), the path computed by Describe.
            ns = RELEASE_NAMESPACE
            link = f"https://github.com/#{{{ns}.REPOSITORY}}/#{{{ns}.CHANGES_PATH}}"
        else:
            assert source is not None, "validated in _validate"
            ns = SOURCE_NAMESPACE
            custom = (
                f"Release {service} to {stage}: commit #{{{ns}.CommitId}} - #{{{ns}.CommitMessage}}"
            )
            link = f"https://github.com/{source['repository']}/commit/#{{{ns}.CommitId}}"
        # Approvers see exactly which commit they let through, and can open it.
        configuration: dict[str, pulumi.Input[str]] = {
            "CustomData": custom,
            "ExternalEntityLink": link,
        }
        if "topic_arn" in approval:
            configuration["NotificationArn"] = approval["topic_arn"]
        manual = _action(
            APPROVAL_ACTION, "Approval", "Manual", configuration, run_order=len(actions) + 1
        )
        manual["timeout_in_minutes"] = approval.get("timeout_minutes", 1440)
        actions.append(manual)
        return [{"name": APPROVAL_STAGE, "actions": actions}]

    def _deploy_stage(self) -> aws.codepipeline.PipelineStageArgsDict:
        deploy = self._args["deploy"]
        alarm_names = self._alarm_names
        actions = self._prepare_actions()
        # What the deploy actions take: the release, with its pinned configuration when pinned.
        artifact = DEPLOY_ARTIFACT if "configure" in deploy else RELEASE_ARTIFACT
        order = len(actions) + 1
        for t in deploy.get("server_targets") or []:
            actions.append(
                _action(
                    t["name"],
                    "Deploy",
                    "CodeDeploy",
                    {
                        "ApplicationName": t["application_name"],
                        "DeploymentGroupName": t["deployment_group_name"],
                    },
                    inputs=[artifact],
                    run_order=order,
                )
            )
        strategy = lambda_deploy_strategy(
            deploy.get("lambda_strategy") or "CodeDeployDefault.LambdaAllAtOnce"
        )
        for t in deploy.get("lambda_targets") or []:
            # CodePipeline's CodeDeploy action only deploys to EC2/on-premises. For Lambda, the
            # V2-only Lambda deploy action publishes a version and shifts the alias with the same
            # canary/linear strategies, watching the same alarms.
            configuration: dict[str, pulumi.Input[str]] = {
                "FunctionName": t["function_name"],
                "FunctionAlias": t["alias"],
                "DeployStrategy": strategy,
            }
            if deploy.get("alarm_names"):
                configuration["Alarms"] = alarm_names.apply(",".join)
            actions.append(
                _action(
                    t["name"], "Deploy", "Lambda", configuration, inputs=[artifact], run_order=order
                )
            )
        for v in deploy.get("verify") or []:
            # After every deploy action of the stage, on the artifact they deployed, so a
            # promoted stage verifies with the very suite that shipped with the release.
            actions.append(
                _action(
                    f"{VERIFY_PREFIX}{v['name']}",
                    "Test",
                    "CodeBuild",
                    {"ProjectName": v["project_name"]},
                    inputs=[artifact],
                    run_order=order + 1,
                )
            )
        analysis = deploy.get("analysis")
        if analysis is not None:
            # Beside the verification suites, once the deploy actions are done: it measures the
            # release from the moment it takes traffic (the suites' requests count too), and
            # the bake's alarm rules start when it and they have passed.
            actions.append(
                _action(
                    ANALYSIS_ACTION,
                    "Test",
                    "CodeBuild",
                    {"ProjectName": analysis["project_name"]},
                    inputs=[artifact],
                    run_order=order + 1,
                )
            )
        stage: aws.codepipeline.PipelineStageArgsDict = {"name": DEPLOY_STAGE, "actions": actions}
        if deploy.get("rollback_on_failure", True):
            # Automatic stage rollback redeploys the last execution that succeeded here; a failed
            # verification fails the stage, so it puts the previous release back too.
            stage["on_failure"] = {"result": "ROLLBACK"}
        bake = deploy.get("bake_minutes", 0)
        if bake:
            stage["on_success"] = {
                "condition": {
                    "result": "ROLLBACK",
                    "rules": alarm_names.apply(lambda names: _bake_rules(names, bake)),
                }
            }
        window = deploy.get("window")
        if window:
            stage["before_entry"] = {
                "condition": {
                    "result": "FAIL",
                    "rules": [
                        {
                            "name": "deployment-window",
                            "rule_type_id": {
                                "category": "Rule",
                                "owner": "AWS",
                                "provider": "DeploymentWindow",
                                "version": "1",
                            },
                            "configuration": {
                                "Cron": window["cron"],
                                "TimeZone": window["time_zone"],
                            },
                        }
                    ],
                }
            }
        return stage

    def _prepare_actions(self) -> list[aws.codepipeline.PipelineStageActionArgsDict]:
        """What runs in Deploy before the deploy actions: Configure, then the release task."""
        args = self._args
        deploy = args["deploy"]
        actions: list[aws.codepipeline.PipelineStageActionArgsDict] = []
        configure = deploy.get("configure")
        if configure is not None:
            release = args.get("release_source")
            variables = configure_variables(
                service=args["service"],
                stage=args["stage"],
                pipeline_name=self._physical_name,
                config_path=configure["config_path"],
                record_bucket=args["artifact_bucket_name"],
                kms_key_arn=configure.get("kms_key_arn"),
                release=(release["bucket_name"], release["object_key"]) if release else None,
            )
            action = _action(
                CONFIGURE_ACTION,
                "Build",
                "CodeBuild",
                {
                    "ProjectName": configure["project"]["project_name"],
                    "EnvironmentVariables": _environment(variables),
                },
                inputs=[RELEASE_ARTIFACT],
                outputs=[DEPLOY_ARTIFACT],
            )
            actions.append({**action, "namespace": CONFIGURE_NAMESPACE})
        task = deploy.get("release_task")
        if task is not None:
            # Once per release, before any deploy action, on the artifact they deploy: a failure
            # deploys nothing and fails the stage like any Deploy failure.
            actions.append(
                _action(
                    RELEASE_TASK_ACTION,
                    "Build",
                    "CodeBuild",
                    {"ProjectName": task["project_name"]},
                    inputs=[DEPLOY_ARTIFACT if configure is not None else RELEASE_ARTIFACT],
                    run_order=len(actions) + 1,
                )
            )
        return actions

    def _publish_stage(self) -> list[aws.codepipeline.PipelineStageArgsDict]:
        publish = self._args.get("publish")
        if publish is None:
            return []
        configuration: dict[str, pulumi.Input[str]] = {
            "BucketName": publish["bucket_name"],
            "ObjectKey": publish["object_key"],
            # The release zip as it is: one new object version per release, the very artifact
            # this stage deployed and verified.
            "Extract": "false",
        }
        if "kms_key_arn" in publish:
            configuration["KMSEncryptionKeyARN"] = publish["kms_key_arn"]
        action = _action(PUBLISH_ACTION, "Deploy", "S3", configuration, inputs=[RELEASE_ARTIFACT])
        # A stage of its own after Deploy: it starts only once Deploy, its verification and its
        # bake condition have all succeeded.
        return [{"name": PUBLISH_STAGE, "actions": [action]}]

    # The pipeline ----------------------------------------------------------------------------

    def _pipeline(
        self,
        role: aws.iam.Role,
        policy: aws.iam.RolePolicy,
        stages: list[aws.codepipeline.PipelineStageArgsDict],
    ) -> aws.codepipeline.Pipeline:
        args = self._args
        store: aws.codepipeline.PipelineArtifactStoreArgsDict = {
            "type": "S3",
            "location": args["artifact_bucket_name"],
        }
        kms_key_arn = args.get("kms_key_arn")
        if kms_key_arn is not None:
            store["encryption_key"] = {"id": kms_key_arn, "type": "KMS"}
        triggers: list[aws.codepipeline.PipelineTriggerArgsDict] | None = None
        source = args.get("source")
        if source is not None:
            push: aws.codepipeline.PipelineTriggerGitConfigurationPushArgsDict = {
                "branches": {"includes": [source["branch"]]}
            }
            file_paths = list(source.get("file_paths") or [])
            if file_paths:
                push["file_paths"] = {"includes": file_paths}
            triggers = [
                {
                    "provider_type": "CodeStarSourceConnection",
                    "git_configuration": {"source_action_name": SOURCE_ACTION, "pushes": [push]},
                }
            ]
        variables: list[aws.codepipeline.PipelineVariableArgsDict] | None = (
            [
                {"name": name, "default_value": default, "description": description}
                for name, default, description in RELEASE_VARIABLES
            ]
            if "configure" in args["deploy"]
            else None
        )
        return aws.codepipeline.Pipeline(
            f"{self._name}-pipeline",
            name=self._physical_name,
            pipeline_type="V2",
            execution_mode=args.get("execution_mode", "SUPERSEDED"),
            role_arn=role.arn,
            artifact_stores=[store],
            stages=stages,
            triggers=triggers,
            variables=variables,
            tags=self._tags(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
