"""The pipeline role's policy: exactly what a pipeline's actions need, on what they drive.

Defines `role_policy`, a pure function of the pipeline's parts (source, projects, deploy targets,
alarms, topic, release locations), so tests read the document without a Pulumi runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.artifact_store import artifact_access_statements
from components.connection import use_connection_statement
from components.iam import policy_document
from components.promotion import release_read_statements
from components.release_channel import publish_statements


def role_policy(
    *,
    region: str,
    account_id: str,
    pipeline_name: str,
    bucket_arn: str,
    kms_key_arn: str | None,
    project_arns: Sequence[str],
    connection_arn: str | None = None,
    release_source: Mapping[str, Any] | None = None,
    publish: Mapping[str, Any] | None = None,
    service: str = "",
    application_arn: str | None = None,
    deployment_group_arns: Sequence[str] = (),
    deployment_config_name: str | None = None,
    function_names: Sequence[str] = (),
    alarm_names: Sequence[str] = (),
    topic_arn: str | None = None,
    topic_kms_key_arn: str | None = None,
    scan: bool = False,
) -> str:
    """Exactly what the pipeline's actions need, on exactly the resources it drives."""
    statements: list[dict[str, Any]] = []
    if connection_arn:
        statements.append(use_connection_statement(connection_arn))
    if release_source:
        statements += release_read_statements(
            release_source["bucket_arn"], service, release_source.get("kms_key_arn")
        )
    statements += artifact_access_statements(bucket_arn, kms_key_arn)
    statements.append(
        {
            "Sid": "RunBuildsAndTests",
            "Effect": "Allow",
            "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            "Resource": sorted(project_arns),
        }
    )
    if function_names:
        # The Lambda deploy action's reference scopes its logs to /<region>/codepipeline/<name>,
        # while CodePipeline's compute actions use /aws/codepipeline/<name>; both are granted so
        # whichever the service writes is allowed:
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-LambdaDeploy.html
        log_groups = [
            f"/aws/codepipeline/{pipeline_name}",
            f"/{region}/codepipeline/{pipeline_name}",
        ]
        arns = [f"arn:aws:logs:{region}:{account_id}:log-group:{g}" for g in log_groups]
        statements.append(
            {
                "Sid": "LambdaDeployActionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": sorted(arns + [f"{arn}:*" for arn in arns]),
            }
        )
    if scan:
        statements += scan_statements(region, account_id, pipeline_name)
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
    if publish:
        statements += publish_statements(publish["bucket_arn"], service, publish.get("kms_key_arn"))
    return policy_document(statements)


def scan_statements(region: str, account_id: str, pipeline_name: str) -> list[dict[str, Any]]:
    """What the InspectorScan action needs from the pipeline role for a source code scan.

    From the action's reference ("Service role permissions: InspectorScan action"):
    https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-InspectorScan.html
    The ECR permissions it also lists are for image scans, which this pipeline does not run.
    """
    log_group = f"arn:aws:logs:{region}:{account_id}:log-group:/aws/codepipeline/{pipeline_name}"
    return [
        {
            "Sid": "ScanSourceWithInspector",
            "Effect": "Allow",
            "Action": ["inspector-scan:ScanSbom"],
            # ScanSbom has no resource type to scope it to: AWS's reference grants "*".
            "Resource": "*",
        },
        {
            "Sid": "ScanActionLogs",
            "Effect": "Allow",
            # A managed compute action, like Commands: its logs go to /aws/codepipeline/<name>.
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
    ]
