"""The CodePipeline (V2) that ties a service's chain together.

Defines `DeliveryPipeline`: Source (GitHub via CodeConnections) -> Build -> Test (one parallel
action per suite) -> optional manual Approval -> Deploy (CodeDeploy for the Server platform; the V2
Lambda deploy action for Lambda). A V2 trigger starts it on pushes to the stage's branch. The
Deploy stage can roll itself back on failure, watch alarms for a bake time after success, and
only open inside a deployment window. The pipeline role may touch only the resources it drives.

It does not create what it drives: build projects, deployment groups and topics are inputs.
The stage and action names below are a contract with the `cicd` release tool.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.artifact_store import artifact_access_statements
from components.connection import use_connection_statement
from components.iam import policy_document, service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext

TYPE = "delivery:cicd:DeliveryPipeline"

SOURCE_STAGE, SOURCE_ACTION, SOURCE_NAMESPACE = "Source", "GitHub", "SourceVariables"
BUILD_STAGE, TEST_STAGE, APPROVAL_STAGE, DEPLOY_STAGE = "Build", "Test", "Approval", "Deploy"
APPROVAL_ACTION = "Approve"
SOURCE_ARTIFACT, BUILD_ARTIFACT = "SourceArtifact", "BuildArtifact"


class SourceArgs(TypedDict):
    connection_arn: pulumi.Input[str]
    repository: str
    """GitHub `owner/repo`."""
    branch: str
    file_paths: NotRequired[Sequence[str]]
    """Only pushes touching these globs start the pipeline. Omitted: every push to the branch."""


class ProjectRef(TypedDict):
    name: str
    """Stable key: the action name (`Build`, or the suite name for tests)."""
    project_name: pulumi.Input[str]
    project_arn: pulumi.Input[str]


class ApprovalArgs(TypedDict):
    timeout_minutes: NotRequired[int]
    """How long the approval waits before failing the execution. Omitted: 1440 (one day)."""
    topic_arn: NotRequired[pulumi.Input[str]]
    """SNS topic told that an approval waits. Omitted: nobody is notified (console only)."""
    topic_kms_key_arn: NotRequired[pulumi.Input[str]]
    """The topic's KMS key; the pipeline role may encrypt with it to publish. Omitted: none."""


class ServerTargetRef(TypedDict):
    name: str
    application_name: pulumi.Input[str]
    deployment_group_name: pulumi.Input[str]
    deployment_group_arn: pulumi.Input[str]


class LambdaTargetRef(TypedDict):
    name: str
    function_name: str
    alias: str


class DeployArgs(TypedDict):
    platform: Literal["server", "lambda"]
    server_targets: NotRequired[Sequence[ServerTargetRef]]
    application_arn: NotRequired[pulumi.Input[str]]
    deployment_config_name: NotRequired[pulumi.Input[str]]
    """Server: the deployment config the groups use (the role may read it)."""
    lambda_targets: NotRequired[Sequence[LambdaTargetRef]]
    lambda_strategy: NotRequired[str]
    """Lambda: a CodeDeployDefault.Lambda* name. Omitted: all at once."""
    alarm_names: NotRequired[pulumi.Input[Sequence[str]]]
    """Alarms for the Lambda action and the bake condition. Omitted: none."""
    rollback_on_failure: NotRequired[bool]
    """Roll the stage back to the last successful execution when it fails. Omitted: True."""
    bake_minutes: NotRequired[int]
    """After success, watch `alarm_names` this long and roll back if one fires. Omitted: 0."""
    window: NotRequired[Mapping[str, str]]
    """`{cron, time_zone}`: the stage may only start inside it. Omitted: always open."""


class DeliveryPipelineArgs(TypedDict):
    service: str
    stage: str
    source: SourceArgs
    artifact_bucket_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    build: ProjectRef
    deploy: DeployArgs
    tests: NotRequired[Sequence[ProjectRef]]
    """Omitted or empty: no Test stage."""
    approval: NotRequired[ApprovalArgs]
    """Omitted: no Approval stage; releases go straight from Test to Deploy."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The artifact bucket's KMS key. Omitted: SSE-S3, no key permissions."""
    execution_mode: NotRequired[Literal["QUEUED", "SUPERSEDED", "PARALLEL"]]
    """Omitted: SUPERSEDED (a newer push replaces a waiting one)."""
    tags: NotRequired[Mapping[str, str]]


def lambda_deploy_strategy(codedeploy_name: str) -> str:
    """The Lambda deploy action's DeployStrategy for a CodeDeployDefault.Lambda* config name."""
    return codedeploy_name.removeprefix("CodeDeployDefault.Lambda")


def rule_name(prefix: str, alarm_name: str) -> str:
    """A rule name derived from the alarm (stable when other alarms are added or removed)."""
    slug = re.sub(r"[^A-Za-z0-9.@_-]", "-", alarm_name)
    digest = hashlib.sha256(alarm_name.encode()).hexdigest()[:6]
    return f"{prefix}-{slug[:80]}-{digest}"


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


def role_policy(
    *,
    region: str,
    account_id: str,
    connection_arn: str,
    bucket_arn: str,
    kms_key_arn: str | None,
    project_arns: Sequence[str],
    application_arn: str | None,
    deployment_group_arns: Sequence[str],
    deployment_config_name: str | None,
    function_names: Sequence[str],
    alarm_names: Sequence[str],
    pipeline_name: str = "",
    topic_arn: str | None,
    topic_kms_key_arn: str | None = None,
) -> str:
    """Exactly what the pipeline's actions need, on exactly the resources it drives."""
    statements: list[dict[str, Any]] = [
        use_connection_statement(connection_arn),
        *artifact_access_statements(bucket_arn, kms_key_arn),
        {
            "Sid": "RunBuildsAndTests",
            "Effect": "Allow",
            "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            "Resource": sorted(project_arns),
        },
    ]
    if application_arn and deployment_group_arns:
        config_arn = (
            f"arn:aws:codedeploy:{region}:{account_id}:deploymentconfig:{deployment_config_name}"
        )
        statements += [
            {
                "Sid": "DeployToGroups",
                "Effect": "Allow",
                "Action": ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
                "Resource": sorted(deployment_group_arns),
            },
            {
                "Sid": "RegisterRevisions",
                "Effect": "Allow",
                "Action": [
                    "codedeploy:GetApplication",
                    "codedeploy:GetApplicationRevision",
                    "codedeploy:RegisterApplicationRevision",
                ],
                "Resource": application_arn,
            },
            {
                "Sid": "ReadDeploymentConfig",
                "Effect": "Allow",
                "Action": ["codedeploy:GetDeploymentConfig"],
                "Resource": config_arn,
            },
        ]
    if function_names:
        functions = [f"arn:aws:lambda:{region}:{account_id}:function:{n}" for n in function_names]
        statements.append(
            {
                "Sid": "DeployLambdaVersions",
                "Effect": "Allow",
                # The V2 Lambda deploy action publishes a version and shifts the alias to it.
                "Action": [
                    "lambda:GetAlias",
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:GetProvisionedConcurrencyConfig",
                    "lambda:PublishVersion",
                    "lambda:UpdateAlias",
                    "lambda:UpdateFunctionCode",
                ],
                "Resource": sorted(functions + [f"{f}:*" for f in functions]),
            }
        )
        # The Lambda deploy action writes its progress to the pipeline's own log group.
        log_group = (
            f"arn:aws:logs:{region}:{account_id}:log-group:/aws/codepipeline/{pipeline_name}"
        )
        statements.append(
            {
                "Sid": "LambdaDeployActionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group, f"{log_group}:*"],
            }
        )
    if alarm_names:
        statements.append(
            {
                "Sid": "WatchReleaseAlarms",
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarms"],
                "Resource": sorted(
                    f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{n}" for n in alarm_names
                ),
            }
        )
    if topic_arn:
        statements.append(
            {
                "Sid": "AnnounceApprovals",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": topic_arn,
            }
        )
    if topic_arn and topic_kms_key_arn:
        # Same-account identity grants suffice: the key policy delegates to IAM, so the topic
        # and key policies need not name this role (which would make a creation cycle).
        statements.append(
            {
                "Sid": "EncryptApprovalNotices",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": topic_kms_key_arn,
            }
        )
    return policy_document(statements)


def _action(
    name: str,
    category: str,
    provider: str,
    configuration: Mapping[str, pulumi.Input[str]],
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
) -> aws.codepipeline.PipelineStageActionArgsDict:
    action: aws.codepipeline.PipelineStageActionArgsDict = {
        "name": name,
        "category": category,
        "owner": "AWS",
        "provider": provider,
        "version": "1",
        "configuration": configuration,
        # Same run_order everywhere: actions in one stage run in parallel and all must pass.
        "run_order": 1,
    }
    if inputs:
        action["input_artifacts"] = list(inputs)
    if outputs:
        action["output_artifacts"] = list(outputs)
    return action


class DeliveryPipeline(pulumi.ComponentResource):
    """A V2 pipeline: source -> build -> test -> (approval) -> deploy, with its own role."""

    pipeline_name: pulumi.Output[str]
    pipeline_arn: pulumi.Output[str]
    console_url: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    approval_action_arn: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: DeliveryPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        pipeline_name = naming.name("pipeline", 100)
        source = args["source"]
        file_paths = list(source.get("file_paths") or [])
        tests = list(args.get("tests") or [])
        approval = args.get("approval")
        deploy = args["deploy"]
        server_targets = list(deploy.get("server_targets") or [])
        lambda_targets = list(deploy.get("lambda_targets") or [])
        alarm_names = pulumi.Output.from_input(deploy.get("alarm_names") or []).apply(list)
        bake_minutes = deploy.get("bake_minutes", 0)
        execution_mode = args.get("execution_mode", "SUPERSEDED")
        kms_key_arn = args.get("kms_key_arn")
        tags = {**naming.tags, **(args.get("tags") or {})}
        if deploy["platform"] == "server" and not server_targets:
            raise ValueError(f"DeliveryPipeline {name!r}: platform server needs server_targets")
        if deploy["platform"] == "lambda" and not lambda_targets:
            raise ValueError(f"DeliveryPipeline {name!r}: platform lambda needs lambda_targets")
        if bake_minutes and not deploy.get("alarm_names"):
            raise ValueError(
                f"DeliveryPipeline {name!r}: bake_minutes={bake_minutes} watches alarms, but "
                "alarm_names is not given; pass the alarms or set bake_minutes to 0"
            )

        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        expected_arn = pulumi.Output.format(
            "arn:aws:codepipeline:{0}:{1}:{2}", region, account_id, pipeline_name
        )
        topic_arn = approval.get("topic_arn") if approval else None
        topic_kms_key_arn = approval.get("topic_kms_key_arn") if approval else None

        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("codepipeline", IAM_ROLE_MAX),
            description=f"CodePipeline {pipeline_name}",
            assume_role_policy=pulumi.Output.all(account_id, expected_arn).apply(
                lambda a: service_trust_policy("codepipeline.amazonaws.com", a[0], a[1])
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                region=region,
                account_id=account_id,
                connection_arn=source["connection_arn"],
                bucket_arn=args["artifact_bucket_arn"],
                kms_key_arn=kms_key_arn,
                project_arns=[args["build"]["project_arn"], *[t["project_arn"] for t in tests]],
                application_arn=deploy.get("application_arn"),
                deployment_group_arns=[t["deployment_group_arn"] for t in server_targets],
                deployment_config_name=deploy.get("deployment_config_name"),
                alarm_names=alarm_names,
                topic_arn=topic_arn,
                topic_kms_key_arn=topic_kms_key_arn,
            ).apply(
                lambda a: role_policy(
                    function_names=sorted({t["function_name"] for t in lambda_targets}),
                    pipeline_name=pipeline_name,
                    **a,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        stages: list[aws.codepipeline.PipelineStageArgsDict] = [
            {
                "name": SOURCE_STAGE,
                "actions": [
                    {
                        **_action(
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
                        ),
                        "namespace": SOURCE_NAMESPACE,
                    }
                ],
            },
            {
                "name": BUILD_STAGE,
                "actions": [
                    _action(
                        args["build"]["name"],
                        "Build",
                        "CodeBuild",
                        {"ProjectName": args["build"]["project_name"]},
                        inputs=[SOURCE_ARTIFACT],
                        outputs=[BUILD_ARTIFACT],
                    )
                ],
            },
        ]
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
        if approval is not None:
            configuration: dict[str, pulumi.Input[str]] = {
                # Approvers see exactly which commit they let through, and can open it.
                "CustomData": (
                    f"Release {args['service']} to {args['stage']}: commit "
                    f"#{{{SOURCE_NAMESPACE}.CommitId}} - #{{{SOURCE_NAMESPACE}.CommitMessage}}"
                ),
                "ExternalEntityLink": (
                    f"https://github.com/{source['repository']}/commit/"
                    f"#{{{SOURCE_NAMESPACE}.CommitId}}"
                ),
            }
            if topic_arn is not None:
                configuration["NotificationArn"] = topic_arn
            stages.append(
                {
                    "name": APPROVAL_STAGE,
                    "actions": [
                        {
                            **_action(APPROVAL_ACTION, "Approval", "Manual", configuration),
                            "timeout_in_minutes": approval.get("timeout_minutes", 1440),
                        }
                    ],
                }
            )
        stages.append(self._deploy_stage(deploy, server_targets, lambda_targets, alarm_names))

        push: aws.codepipeline.PipelineTriggerGitConfigurationPushArgsDict = {
            "branches": {"includes": [source["branch"]]}
        }
        if file_paths:
            push["file_paths"] = {"includes": file_paths}
        triggers: list[aws.codepipeline.PipelineTriggerArgsDict] = [
            {
                "provider_type": "CodeStarSourceConnection",
                "git_configuration": {"source_action_name": SOURCE_ACTION, "pushes": [push]},
            }
        ]
        store: aws.codepipeline.PipelineArtifactStoreArgsDict = {
            "type": "S3",
            "location": args["artifact_bucket_name"],
        }
        if kms_key_arn is not None:
            store["encryption_key"] = {"id": kms_key_arn, "type": "KMS"}
        pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=pipeline_name,
            pipeline_type="V2",
            execution_mode=execution_mode,
            role_arn=role.arn,
            artifact_stores=[store],
            stages=stages,
            triggers=triggers,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        self.pipeline_name = pipeline.name
        self.pipeline_arn = pipeline.arn
        self.console_url = pulumi.Output.format(
            "https://{0}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{1}/view?region={0}",
            region,
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

    @staticmethod
    def _deploy_stage(
        deploy: DeployArgs,
        server_targets: Sequence[ServerTargetRef],
        lambda_targets: Sequence[LambdaTargetRef],
        alarm_names: pulumi.Output[list[str]],
    ) -> aws.codepipeline.PipelineStageArgsDict:
        actions: list[aws.codepipeline.PipelineStageActionArgsDict] = []
        for t in server_targets:
            actions.append(
                _action(
                    t["name"],
                    "Deploy",
                    "CodeDeploy",
                    {
                        "ApplicationName": t["application_name"],
                        "DeploymentGroupName": t["deployment_group_name"],
                    },
                    inputs=[BUILD_ARTIFACT],
                )
            )
        strategy = lambda_deploy_strategy(
            deploy.get("lambda_strategy") or "CodeDeployDefault.LambdaAllAtOnce"
        )
        watches_alarms = bool(deploy.get("alarm_names"))
        for t in lambda_targets:
            # CodePipeline's CodeDeploy action only deploys to EC2/on-premises. For Lambda, the
            # V2-only Lambda deploy action publishes a version and shifts the alias with the same
            # canary/linear strategies, watching the same alarms.
            configuration: dict[str, pulumi.Input[str]] = {
                "FunctionName": t["function_name"],
                "FunctionAlias": t["alias"],
                "DeployStrategy": strategy,
            }
            if watches_alarms:
                configuration["Alarms"] = alarm_names.apply(",".join)
            actions.append(
                _action(t["name"], "Deploy", "Lambda", configuration, inputs=[BUILD_ARTIFACT])
            )
        stage: aws.codepipeline.PipelineStageArgsDict = {"name": DEPLOY_STAGE, "actions": actions}
        if deploy.get("rollback_on_failure", True):
            # Automatic stage rollback redeploys the last execution that succeeded here.
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
