"""What tells GitHub and CloudWatch how releases go: one function per stage, fed by the
pipelines' own state-change events.

Defines `DeliveryReporter`: an EventBridge rule matching the stage's pipelines' pipeline- and
stage-level execution events (and those of each GitHub-built pipeline's pull-request twin
`<service>-<stage>-pr`, reported only when tagged as one); the function that turns each event
into GitHub deployments and commit statuses and into CloudWatch delivery metrics
(`components.reporter_function`, whose docstring says why a function and not an API
destination); the GitHub token's Secrets Manager secret (created from the stack's secret, or one
given); one encrypted dead-letter queue for events EventBridge could not deliver and for
invocations that failed after Lambda's retries, with an alarm on its depth; and an alarm on the
function's Errors. The IAM documents are built by the pure functions `reporter_policy` and
`queue_policy`.

Nothing here can fail a release: the function runs after the pipeline moved on, asynchronously.
It does not declare the dashboard (`components.delivery_dashboard`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components import reporter_function
from components.aws_context import aws_context
from components.iam import service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext

TYPE = "delivery:cicd:DeliveryReporter"
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
FUNCTION_NAME_MAX = 64
QUEUE_NAME_MAX = 80
RULE_NAME_MAX = 64
# The function's runtime ships boto3; the code is one standard-library module.
RUNTIME = "python3.12"
HANDLER = "reporter_function.handler"
TIMEOUT_SECONDS = 60
# Lambda retries a failed asynchronous invocation at most twice; EventBridge retries delivery
# for up to 24 hours (its default), then sends the event to the dead-letter queue.
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
MAX_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 6 * 3600
# Messages in the dead-letter queue are kept for SQS's longest retention: 14 days.
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600
EVENT_DETAIL_TYPES = (reporter_function.PIPELINE_EVENT, reporter_function.STAGE_EVENT)
PR_SUFFIX = reporter_function.PR_SUFFIX


class ReportedPipelineArgs(TypedDict):
    """One pipeline the reporter reports on."""

    name: str
    """The pipeline's physical name, e.g. `web-staging-pipeline`."""
    service: str
    """The service it delivers."""
    repository: NotRequired[str]
    """`owner/name` of the repository it builds from. Omitted (a promoted pipeline): read per
    execution from the release's Describe action; no pull-request twin is watched."""
    environment_url: NotRequired[str]
    """The environment's URL shown on the GitHub deployment. Omitted: none shown."""


class DeliveryReporterArgs(TypedDict):
    """Inputs of `DeliveryReporter`."""

    service: str
    """Name used for naming and tags (the project, for a stage-wide reporter)."""
    stage: str
    """The stage: the GitHub environment each deployment goes to, and a metric dimension."""
    pipelines: Sequence[ReportedPipelineArgs]
    """The pipelines whose events are reported (at least one)."""
    production: NotRequired[bool]
    """Mark the GitHub deployments `production_environment`. Omitted: False."""
    github_token: NotRequired[pulumi.Input[str]]
    """A GitHub token (Deployments: write, Commit statuses: write on the repositories; with
    Contents: read, an approval's describe step given `secret_arn` counts the commits it
    adds), stored here into a new Secrets Manager secret. Omitted, with no `token_secret_arn`:
    nothing is reported to GitHub; metrics still are (without lead time)."""
    token_secret_arn: NotRequired[str]
    """An existing secret holding the token, instead of `github_token`. Omitted: see
    `github_token`."""
    token_kms_key_arn: NotRequired[str]
    """The customer managed key that encrypts `token_secret_arn`, which the function may then
    decrypt through Secrets Manager. Omitted: the secret uses the AWS managed key."""
    log_retention_days: NotRequired[int]
    """How long the function's log (the dashboard's "last releases") is kept. Omitted: 30."""
    alarm_actions: NotRequired[Sequence[pulumi.Input[str]]]
    """SNS topics the two alarms notify. Omitted: none (they show on the dashboard)."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Permissions boundary of the function's role. Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags; the naming context's always win. Omitted: none."""


def watched_pipelines(pipelines: Sequence[ReportedPipelineArgs], stage: str) -> list[str]:
    """Every pipeline name the rule matches: each pipeline, and the pull-request twin
    (`<service>-<stage>-pr`) of each that builds from GitHub."""
    names = [p["name"] for p in pipelines]
    for p in pipelines:
        if p.get("repository"):
            names.append(f"{p['service']}-{stage}{PR_SUFFIX}")
    return list(dict.fromkeys(names))


def event_pattern(pipeline_names: Sequence[str]) -> dict[str, Any]:
    """Pipeline- and stage-level execution events of exactly these pipelines. Action events are
    left out: the stage events say all the function reports, at a tenth of the invocations."""
    return {
        "source": ["aws.codepipeline"],
        "detail-type": list(EVENT_DETAIL_TYPES),
        "detail": {"pipeline": list(pipeline_names)},
    }


def pipelines_file(
    pipelines: Sequence[ReportedPipelineArgs], stage: str, production: bool
) -> dict[str, Any]:
    """`pipelines.json`, shipped beside the function's code: what the events do not say."""
    return {
        p["name"]: {
            "service": p["service"],
            "stage": stage,
            "repository": p.get("repository"),
            "production": production,
            "environment_url": p.get("environment_url"),
        }
        for p in pipelines
    }


def reporter_policy(
    *,
    pipeline_arns: Sequence[str],
    log_group_arn: str,
    queue_arn: str,
    secret_arn: str | None,
    kms_key_arn: str | None,
    region: str,
    dns_suffix: str,
) -> dict[str, Any]:
    """The function's permissions: read its pipelines' executions, write its log and metrics,
    read the token, and hand a failed event to the dead-letter queue."""
    statements: list[dict[str, Any]] = [
        {
            # GetPipelineExecution: the commit; ListActionExecutions: a promoted release's
            # commit; ListPipelineExecutions: the failure a success restored;
            # ListTagsForResource: whether a `-pr` pipeline is a pull-request pipeline.
            "Sid": "ReadOwnPipelinesExecutions",
            "Effect": "Allow",
            "Action": [
                "codepipeline:GetPipelineExecution",
                "codepipeline:ListActionExecutions",
                "codepipeline:ListPipelineExecutions",
                "codepipeline:ListTagsForResource",
            ],
            "Resource": list(pipeline_arns),
        },
        {
            "Sid": "WriteOwnLog",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
        {
            # PutMetricData has no resource type: "*" is the only Resource AWS accepts; the
            # namespace condition keeps the function to the delivery metrics.
            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
            "Sid": "PublishDeliveryMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"cloudwatch:namespace": reporter_function.METRICS_NAMESPACE}
            },
        },
        {
            # Lambda's on-failure destination sends as the function's role.
            "Sid": "SendFailedEventsToDeadLetterQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
    ]
    if secret_arn is not None:
        statements.append(
            {
                "Sid": "ReadGitHubToken",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        )
    if kms_key_arn is not None:
        statements.append(
            {
                "Sid": "DecryptGitHubTokenThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.{dns_suffix}"}
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The dead-letter queue's policy: EventBridge may send to it, for this rule only.

    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html#eb-dlq-perms
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_PRINCIPAL},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def _check(args: DeliveryReporterArgs) -> None:
    pipelines = list(args.get("pipelines", []))
    if not pipelines:
        raise ValueError(
            "DeliveryReporter: pipelines is empty; give at least one pipeline to report on"
        )
    if "github_token" in args and "token_secret_arn" in args:
        raise ValueError(
            "DeliveryReporter: give github_token (stored into a new secret) or "
            f"token_secret_arn ({args['token_secret_arn']!r}, an existing one), not both"
        )
    if "token_kms_key_arn" in args and "token_secret_arn" not in args:
        raise ValueError(
            "DeliveryReporter: token_kms_key_arn applies to token_secret_arn; the secret "
            "created from github_token uses the AWS managed key: remove token_kms_key_arn"
        )


class DeliveryReporter(pulumi.ComponentResource):
    """Pipeline events -> GitHub deployments and statuses, and CloudWatch delivery metrics."""

    function_name: pulumi.Output[str]
    """The reporter function."""
    log_group_name: pulumi.Output[str]
    """Its log group: one JSON line per event (`record: release` for pipeline-level ones)."""
    queue_arn: pulumi.Output[str]
    """The dead-letter queue."""
    alarm_names: pulumi.Output[list[str]]
    """The dead-letter queue's depth alarm and the function's Errors alarm."""
    secret_arn: pulumi.Output[str | None]
    """The token's secret (created or given); None when nothing reports to GitHub."""
    rule_arn: pulumi.Output[str]
    """The EventBridge rule."""

    def __init__(
        self, name: str, args: DeliveryReporterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _check(args)
        naming = NamingContext.current(args["service"], args["stage"])
        pipelines = list(args["pipelines"])
        production = args.get("production", False)
        token = args.get("github_token")
        given_secret = args.get("token_secret_arn")
        kms_key_arn = args.get("token_kms_key_arn")
        retention = args.get("log_retention_days", 30)
        alarm_actions = list(args.get("alarm_actions", []))
        tags = {**args.get("tags", {}), **naming.tags}
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        where = aws_context(self)
        function_name = naming.name("reporter", FUNCTION_NAME_MAX)
        watched = watched_pipelines(pipelines, args["stage"])

        secret_arn: pulumi.Output[str] | None = None
        if token is not None:
            secret = aws.secretsmanager.Secret(
                f"{name}-token",
                name=naming.name("github-token", 512),
                description="GitHub token the delivery reporter posts deployments and statuses "
                "with (Deployments: write, Commit statuses: write)",
                # A deleted secret can be restored for a week rather than lost at once.
                recovery_window_in_days=7,
                tags=tags,
                opts=child,
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-token-value",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(token),
                opts=child,
            )
            secret_arn = secret.arn
        elif given_secret is not None:
            secret_arn = pulumi.Output.from_input(given_secret)

        queue = aws.sqs.Queue(
            f"{name}-dead-letters",
            name=naming.name("reporter-dead-letters", QUEUE_NAME_MAX),
            # SQS-managed encryption: EventBridge and Lambda can send to it with no key policy
            # (a customer managed key would need grants for both).
            sqs_managed_sse_enabled=True,
            message_retention_seconds=QUEUE_RETENTION_SECONDS,
            tags=tags,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-log",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=retention,
            tags=tags,
            opts=child,
        )
        pipeline_arns = [
            pulumi.Output.format(
                "arn:{0}:codepipeline:{1}:{2}:{3}",
                where.partition,
                where.region,
                where.account_id,
                pipeline,
            )
            for pipeline in watched
        ]
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("reporter", IAM_ROLE_MAX),
            path=naming.role_path,
            description="The delivery reporter: reads pipeline executions, posts to GitHub",
            assume_role_policy=where.account_id.apply(
                lambda account: service_trust_policy(LAMBDA_PRINCIPAL, account)
            ),
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                log_group.arn,
                queue.arn,
                secret_arn if secret_arn is not None else "",
                where.region,
                where.dns_suffix,
                *pipeline_arns,
            ).apply(
                lambda v: json.dumps(
                    reporter_policy(
                        pipeline_arns=v[5:],
                        log_group_arn=v[0],
                        queue_arn=v[1],
                        secret_arn=v[2] or None,
                        kms_key_arn=kms_key_arn,
                        region=v[3],
                        dns_suffix=v[4],
                    )
                )
            ),
            opts=child,
        )
        code = pulumi.AssetArchive(
            {
                "reporter_function.py": pulumi.FileAsset(str(Path(reporter_function.__file__))),
                reporter_function.PIPELINES_FILE: pulumi.StringAsset(
                    json.dumps(pipelines_file(pipelines, args["stage"], production), indent=2)
                ),
            }
        )
        environment: dict[str, pulumi.Input[str]] = {}
        if secret_arn is not None:
            environment["GITHUB_TOKEN_SECRET_ARN"] = secret_arn
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Reports pipeline events to GitHub and publishes delivery metrics",
            role=role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            architectures=["arm64"],
            memory_size=128,
            timeout=TIMEOUT_SECONDS,
            code=code,
            environment={"variables": environment} if environment else None,
            logging_config={"log_format": "Text", "log_group": log_group.name},
            tags=tags,
            # The policy first: the first event may arrive as soon as the function exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.name,
            maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            destination_config={"on_failure": {"destination": queue.arn}},
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=naming.name("reporter", RULE_NAME_MAX),
            description="Pipeline and stage execution events of the stage's pipelines",
            event_pattern=json.dumps(event_pattern(watched)),
            tags=tags,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-dead-letters-policy",
            queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, rule.arn).apply(
                lambda v: json.dumps(queue_policy(v[0], v[1]))
            ),
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal=EVENTS_PRINCIPAL,
            source_arn=rule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=rule.name,
            arn=function.arn,
            dead_letter_config={"arn": queue.arn},
            retry_policy={"maximum_retry_attempts": 185, "maximum_event_age_in_seconds": 86400},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        depth = aws.cloudwatch.MetricAlarm(
            f"{name}-dead-letters-alarm",
            name=naming.name("reporter-dead-letters"),
            alarm_description="Pipeline events the reporter could not deliver to GitHub or "
            "CloudWatch wait in the dead-letter queue; releases were not affected",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=alarm_actions,
            tags=tags,
            opts=child,
        )
        errors = aws.cloudwatch.MetricAlarm(
            f"{name}-errors-alarm",
            name=naming.name("reporter-errors"),
            alarm_description="The delivery reporter failed (GitHub unreachable, a token "
            "without permission); Lambda retries, then the event goes to the dead-letter queue",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.name},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=alarm_actions,
            tags=tags,
            opts=child,
        )
        self.function_name = function.name
        self.log_group_name = log_group.name
        self.queue_arn = queue.arn
        self.alarm_names = pulumi.Output.all(depth.name, errors.name).apply(list)
        self.secret_arn = secret_arn if secret_arn is not None else pulumi.Output.from_input(None)
        self.rule_arn = rule.arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "log_group_name": self.log_group_name,
                "queue_arn": self.queue_arn,
                "alarm_names": self.alarm_names,
                "secret_arn": self.secret_arn,
                "rule_arn": self.rule_arn,
            }
        )
