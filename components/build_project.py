"""One CodeBuild project (a build, or one test suite) with its own role and log group.

Defines `BuildProject`. Each project gets a role that can write only its own logs and reports,
read/write pipeline artifacts, and read only the Parameter Store parameters and Secrets Manager
secrets its environment references (and, when asked, one service's runtime configuration, or the
tags of published releases). It can run inside a VPC. Source and artifacts come from
CodePipeline; the buildspec is read from the application repository. It does not decide when the
project runs: the pipeline does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.artifact_store import artifact_access_statements
from components.aws_context import aws_context
from components.iam import policy_document, service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext
from components.runtime_config import config_list_statements, config_read_statements

TYPE = "delivery:cicd:BuildProject"


class BuildVariable(TypedDict):
    name: str
    """Environment variable name, as the buildspec reads it."""
    type: Literal["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]
    """Where the value comes from: the value itself, a Parameter Store parameter or a Secrets
    Manager secret (the project's role may read only those named here)."""
    value: pulumi.Input[str]
    """Plain value, parameter name, or secret ARN/name (optionally with `:json-key`); an
    output too, such as the ARN of a secret the program creates."""


class VpcArgs(TypedDict):
    """Where a project's builds run in a VPC (to reach a database, say)."""

    vpc_id: str
    """The VPC, e.g. `vpc-0a1b2c3d`. CodeBuild's user guide lists it as required with subnets."""
    subnet_ids: Sequence[str]
    """Private subnets with a route to AWS's endpoints (a NAT gateway or VPC endpoints):
    CodeBuild gives a build no public IP. One to 16."""
    security_group_ids: Sequence[str]
    """Security groups of the build's network interface (the database must admit one). One
    to 5."""


class ConfigAccessArgs(TypedDict):
    """A service's runtime configuration a project may read (`components.runtime_config`)."""

    path: str
    """The Parameter Store path, e.g. `/web/prod`."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer managed key of its SecureStrings. Omitted: `aws/ssm`, no grant needed."""


class BuildSettingsArgs(TypedDict):
    """How a project builds; every key is optional and falls back to the default named."""

    buildspec: NotRequired[str]
    """Path of the buildspec in the application repository. Omitted: `buildspec.yml`."""
    compute_type: NotRequired[str]
    """Omitted: BUILD_GENERAL1_SMALL."""
    image: NotRequired[str]
    """Omitted: aws/codebuild/amazonlinux-x86_64-standard:5.0."""
    environment: NotRequired[Sequence[BuildVariable]]
    """Omitted: only SERVICE and STAGE, which every project gets (see `stage_variable`)."""
    cache: NotRequired[Literal["none", "local", "s3"]]
    """Omitted: local (Docker layers, source and custom paths on the build host)."""
    timeout_minutes: NotRequired[int]
    """Omitted: 30."""
    privileged: NotRequired[bool]
    """Docker-in-Docker. Omitted: False, because privileged builds can escape the container."""


class BuildProjectArgs(BuildSettingsArgs):
    service: str
    """Naming: the service; the project is `{service}-{stage}-{role}`, tagged with both."""
    stage: str
    """Naming: the stage, e.g. dev; also the project's STAGE variable (see `stage_variable`)."""
    role: str
    """What the project does, used in names: `build`, `test-unit`, ..."""
    artifact_bucket_arn: pulumi.Input[str]
    """The pipeline's artifact bucket (read/write artifacts; S3 cache lives under `cache/`)."""
    artifact_bucket_name: pulumi.Input[str]
    """Name of the same bucket, where `cache: s3` keeps the cache (`cache/<project>/`)."""
    kms_key_arn: NotRequired[pulumi.Input[str | None]]
    """The artifact bucket's KMS key, if any. Omitted: artifacts use SSE-S3."""
    log_retention_days: NotRequired[int]
    """Omitted: 14."""
    stage_variable: NotRequired[bool]
    """Give the project a STAGE variable. Omitted: True. A build that any other stage may deploy
    passes False: one artifact serves every stage, so it must not depend on the one it was built
    in."""
    invoke_function_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Lambda function (alias) ARNs the project may invoke, for verification suites that send
    test traffic to a function. Omitted: none."""
    read_pipeline_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Pipelines whose executions the project may read (the release manifest step reads the
    execution it runs in). Omitted: none."""
    vpc: NotRequired[VpcArgs]
    """Run the builds in a VPC. Omitted: outside any VPC (public endpoints only)."""
    read_config: NotRequired[ConfigAccessArgs]
    """Read the values of one service's runtime configuration (a release task). Omitted:
    none."""
    list_config_paths: NotRequired[Sequence[str]]
    """Parameter Store paths whose parameter names and versions the project may list, not
    decrypt (the step that pins a release's configuration). Omitted: none."""
    read_object_tags: NotRequired[Sequence[pulumi.Input[str]]]
    """S3 object ARNs (patterns) whose version tags the project may read (the steps that
    refuse a rejected release). Omitted: none."""
    list_pipeline_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Pipelines whose execution history the project may list (the approval's evidence: what
    runs now). Omitted: none."""
    describe_alarm_names: NotRequired[Sequence[str]]
    """Alarm names (or `name-*` patterns) whose state the project may read (the approval's
    evidence). Omitted: none."""
    secret_kms_key_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Customer managed KMS keys that encrypt the Secrets Manager secrets the environment
    references: the role may decrypt with them, through Secrets Manager only. Omitted: none (a
    secret under the AWS managed key `aws/secretsmanager` needs no grant)."""
    read_metrics: NotRequired[bool]
    """Let the build read CloudWatch metrics (`cloudwatch:GetMetricData`, which has no resource
    type): a metric analysis. Omitted: False."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def parameter_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def secret_arn(region: str, account_id: str, reference: str) -> str:
    """The ARN pattern of a secret given by ARN or name (`:json-key` and versions stripped).

    AWS appends 6 random characters to every secret's ARN, so a secret given by name can only be
    matched with the `-??????` wildcard.
    """
    if reference.startswith("arn:"):
        parts = reference.split(":")
        return ":".join(parts[:7])
    name = reference.split(":", 1)[0]
    return f"arn:aws:secretsmanager:{region}:{account_id}:secret:{name}-??????"


def role_policy(
    *,
    region: str,
    account_id: str,
    project_name: str,
    log_group_arn: str,
    bucket_arn: str,
    kms_key_arn: str | None,
    variables: Sequence[Mapping[str, str]],
    s3_cache: bool,
    invoke_function_arns: Sequence[str] = (),
    read_pipeline_arns: Sequence[str] = (),
    vpc: VpcArgs | None = None,
    read_config: tuple[str, str | None] | None = None,
    list_config_paths: Sequence[str] = (),
    read_object_tags: Sequence[str] = (),
    list_pipeline_arns: Sequence[str] = (),
    describe_alarm_names: Sequence[str] = (),
    read_metrics: bool = False,
    secret_kms_key_arns: Sequence[str] = (),
) -> str:
    """The project's permissions: its logs, its reports, artifacts, and referenced secrets;
    `variables` are the environment's, resolved (`name`, `type`, `value`); `read_config` is
    (path, key ARN or None)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        },
        {
            "Sid": "OwnTestReports",
            "Effect": "Allow",
            "Action": [
                "codebuild:CreateReportGroup",
                "codebuild:CreateReport",
                "codebuild:UpdateReport",
                "codebuild:BatchPutTestCases",
                "codebuild:BatchPutCodeCoverages",
            ],
            # CodeBuild names report groups `<project>-<report name>` from the buildspec.
            "Resource": f"arn:aws:codebuild:{region}:{account_id}:report-group/{project_name}-*",
        },
        *artifact_access_statements(bucket_arn, kms_key_arn),
    ]
    if s3_cache:
        statements.append(
            {
                "Sid": "OwnCache",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"{bucket_arn}/cache/{project_name}/*",
            }
        )
    # Read access only to what the environment references, one statement per store.
    references = (
        ("PARAMETER_STORE", "ReferencedParameters", "ssm:GetParameters", parameter_arn),
        ("SECRETS_MANAGER", "ReferencedSecrets", "secretsmanager:GetSecretValue", secret_arn),
    )
    for kind, sid, action, to_arn in references:
        arns = sorted(
            {to_arn(region, account_id, v["value"]) for v in variables if v["type"] == kind}
        )
        if arns:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": [action], "Resource": arns})
    if secret_kms_key_arns:
        statements.append(
            {
                "Sid": "DecryptReferencedSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": sorted(set(secret_kms_key_arns)),
                # Only for Secrets Manager's own calls: the key decrypts nothing else for them.
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            }
        )
    if read_metrics:
        statements.append(
            {
                # GetMetricData has no resource type: it reads whatever the queries name.
                "Sid": "ReadMetricsForAnalysis",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricData"],
                "Resource": "*",
            }
        )
    if invoke_function_arns:
        statements.append(
            {
                "Sid": "InvokeVerifiedFunctions",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": sorted(invoke_function_arns),
            }
        )
    if read_pipeline_arns:
        statements.append(
            {
                "Sid": "ReadPipelineExecutions",
                "Effect": "Allow",
                "Action": [
                    "codepipeline:GetPipelineExecution",
                    "codepipeline:ListActionExecutions",
                ],
                "Resource": sorted(read_pipeline_arns),
            }
        )
    if list_pipeline_arns:
        statements.append(
            {
                "Sid": "ListPipelineExecutions",
                "Effect": "Allow",
                "Action": "codepipeline:ListPipelineExecutions",
                "Resource": sorted(set(list_pipeline_arns)),
            }
        )
    if describe_alarm_names:
        # DescribeAlarms is authorized per alarm (Service Authorization Reference: resource
        # type `alarm`), so the evidence reads only the alarms its releases are watched by.
        statements.append(
            {
                "Sid": "ReadWatchedAlarms",
                "Effect": "Allow",
                "Action": "cloudwatch:DescribeAlarms",
                "Resource": sorted(
                    {
                        f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"
                        for name in describe_alarm_names
                    }
                ),
            }
        )
    if read_config is not None:
        statements += config_read_statements(region, account_id, *read_config)
    for path in sorted(set(list_config_paths)):
        statements += config_list_statements(region, account_id, path)
    if read_object_tags:
        statements.append(
            {
                "Sid": "ReadReleaseTags",
                "Effect": "Allow",
                # A version's tags are authorized as s3:GetObjectVersionTagging (S3 API
                # reference, GetObjectTagging); the plain action covers the current version.
                "Action": ["s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
                "Resource": sorted(set(read_object_tags)),
            }
        )
    if vpc is not None:
        statements += vpc_statements(region, account_id, vpc)
    return policy_document(statements)


def vpc_statements(region: str, account_id: str, vpc: VpcArgs) -> list[dict[str, Any]]:
    """What CodeBuild needs to put a build's network interface into the VPC.

    From AWS's example policy for VPC builds
    (https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html),
    narrowed where the EC2 service authorization reference gives the action resource types
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
    the interface is created only in these subnets with these security groups, and only
    CodeBuild may be granted its use, only in these subnets.
    """
    arn = f"arn:aws:ec2:{region}:{account_id}"
    subnets = sorted(f"{arn}:subnet/{s}" for s in vpc["subnet_ids"])
    groups = sorted(f"{arn}:security-group/{g}" for g in vpc["security_group_ids"])
    return [
        {
            "Sid": "DescribeVpcNetwork",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            # AWS forces "*": EC2's Describe actions support no resource-level permissions.
            "Resource": "*",
        },
        {
            "Sid": "BuildNetworkInterface",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface"],
            "Resource": [f"{arn}:network-interface/*", *subnets, *groups],
        },
        {
            "Sid": "RemoveBuildNetworkInterface",
            "Effect": "Allow",
            "Action": ["ec2:DeleteNetworkInterface"],
            "Resource": f"{arn}:network-interface/*",
        },
        {
            "Sid": "LetCodeBuildUseTheInterface",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterfacePermission"],
            "Resource": f"{arn}:network-interface/*",
            "Condition": {
                "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                "ArnEquals": {"ec2:Subnet": subnets},
            },
        },
    ]


class BuildProject(pulumi.ComponentResource):
    """A CodeBuild project run by CodePipeline, with a least-privilege role and log group."""

    project_name: pulumi.Output[str]
    """Name of the CodeBuild project, for a pipeline action."""
    project_arn: pulumi.Output[str]
    """ARN of the project, to which a pipeline role's StartBuild is scoped."""
    role_arn: pulumi.Output[str]
    """ARN of the project's service role."""
    log_group_name: pulumi.Output[str]
    """The log group the builds write to: `/aws/codebuild/<project>`."""

    def __init__(
        self, name: str, args: BuildProjectArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        project_name = naming.name(args["role"], 150)
        buildspec = args.get("buildspec", "buildspec.yml")
        compute_type = args.get("compute_type", "BUILD_GENERAL1_SMALL")
        image = args.get("image", "aws/codebuild/amazonlinux-x86_64-standard:5.0")
        variables: list[BuildVariable] = [
            {"name": "SERVICE", "type": "PLAINTEXT", "value": args["service"]},
            *(
                [{"name": "STAGE", "type": "PLAINTEXT", "value": args["stage"]}]
                if args.get("stage_variable", True)
                else []
            ),
            *args.get("environment", []),
        ]
        cache = args.get("cache", "local")
        timeout = args.get("timeout_minutes", 30)
        privileged = args.get("privileged", False)
        kms_key_arn = args.get("kms_key_arn")
        retention = args.get("log_retention_days", 14)
        vpc = args.get("vpc")
        read_config = args.get("read_config")
        tags = {**naming.tags, **(args.get("tags") or {})}
        child = pulumi.ResourceOptions(parent=self)

        where = aws_context(self)
        account_id, region = where.account_id, where.region
        project_arn = pulumi.Output.format(
            "arn:aws:codebuild:{0}:{1}:project/{2}", region, account_id, project_name
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{project_name}",
            retention_in_days=retention,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name(f"{args['role']}-codebuild", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"CodeBuild project {project_name}",
            assume_role_policy=pulumi.Output.all(account_id, project_arn).apply(
                lambda a: service_trust_policy("codebuild.amazonaws.com", a[0], a[1])
            ),
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                region,
                account_id,
                log_group.arn,
                args["artifact_bucket_arn"],
                kms_key_arn,
                list(args.get("invoke_function_arns") or []),
                list(args.get("read_pipeline_arns") or []),
                (args.get("read_config") or {}).get("kms_key_arn"),
                list(args.get("read_object_tags") or []),
                list(args.get("list_pipeline_arns") or []),
                [v["value"] for v in variables],
                list(args.get("secret_kms_key_arns") or []),
            ).apply(
                lambda a: role_policy(
                    region=a[0],
                    account_id=a[1],
                    project_name=project_name,
                    log_group_arn=a[2],
                    bucket_arn=a[3],
                    kms_key_arn=a[4],
                    variables=[
                        {"name": v["name"], "type": v["type"], "value": value}
                        for v, value in zip(variables, a[10], strict=True)
                    ],
                    s3_cache=cache == "s3",
                    invoke_function_arns=a[5],
                    read_pipeline_arns=a[6],
                    vpc=vpc,
                    read_config=(read_config["path"], a[7]) if read_config else None,
                    list_config_paths=list(args.get("list_config_paths") or []),
                    read_object_tags=a[8],
                    list_pipeline_arns=a[9],
                    describe_alarm_names=list(args.get("describe_alarm_names") or []),
                    read_metrics=args.get("read_metrics", False),
                    secret_kms_key_arns=a[11],
                )
            ),
            opts=child,
        )
        cache_args: aws.codebuild.ProjectCacheArgsDict
        if cache == "s3":
            cache_args = {
                "type": "S3",
                "location": pulumi.Output.concat(
                    args["artifact_bucket_name"], "/cache/", project_name
                ),
            }
        elif cache == "local":
            cache_args = {
                "type": "LOCAL",
                "modes": ["LOCAL_DOCKER_LAYER_CACHE", "LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"],
            }
        else:
            cache_args = {"type": "NO_CACHE"}
        project = aws.codebuild.Project(
            f"{name}-project",
            name=project_name,
            description=f"{args['role']} for {args['service']} ({args['stage']})",
            service_role=role.arn,
            build_timeout=timeout,
            source={"type": "CODEPIPELINE", "buildspec": buildspec},
            artifacts={"type": "CODEPIPELINE"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": compute_type,
                "image": image,
                "image_pull_credentials_type": "CODEBUILD",
                "privileged_mode": privileged,
                "environment_variables": [
                    {"name": v["name"], "type": v["type"], "value": v["value"]} for v in variables
                ],
            },
            cache=cache_args,
            vpc_config=(
                {
                    "vpc_id": vpc["vpc_id"],
                    "subnets": list(vpc["subnet_ids"]),
                    "security_group_ids": list(vpc["security_group_ids"]),
                }
                if vpc is not None
                else None
            ),
            encryption_key=kms_key_arn,
            logs_config={
                "cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name},
                "s3_logs": {"status": "DISABLED"},
            },
            tags=tags,
            # The role's policy must exist before CodeBuild validates the project's settings.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        self.project_name = project.name
        self.project_arn = project.arn
        self.role_arn = role.arn
        self.log_group_name = log_group.name
        self.register_outputs(
            {
                "project_name": self.project_name,
                "project_arn": self.project_arn,
                "role_arn": self.role_arn,
                "log_group_name": self.log_group_name,
            }
        )
