"""Synthetic traffic: a CloudWatch Synthetics canary that exercises one deploy target, always.

Defines `SyntheticTraffic`: per target, a canary that runs the application team's checks (the
very `checks.py` the smoke suite runs after each deploy, `templates/smoke/checks.py`) on a
schedule, its least-privilege role, and the alarm on its `SuccessPercent`, which the deployment
group and the bake then watch. A quiet stage thus has traffic the release alarms can see, and a
check that fails between two deploys is seen too.

One mechanism for both platforms, by choice: for a server target the canary GETs the endpoint's
paths; for a Lambda target it invokes the alias synchronously with the checks' event and fails on
a function error. A scheduled invocation (EventBridge Scheduler -> the alias) was the other way
for Lambda, but it is asynchronous: nobody reads the answer, a failure shows only in the function's
Errors metric, which the rate alarm's minimum-traffic guard ignores at one call a minute, and the
smoke checks could not be shared. The canary reports each run as `SuccessPercent`
(namespace `CloudWatchSynthetics`, dimension `CanaryName`).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_metrics.html

The canary's code is a zip built here from `CANARY_SCRIPT` and the checks file: Python runtimes
load `python/<module>.py` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_WritingCanary_Python.html).
The zip is written under `build_dir` with its content hash in its file name, so a changed check
changes the canary's input and `pulumi up` updates it; the same content gives the same path on
every machine. Artifacts (logs, HAR files) go to the artifact store under `traffic/<target>/`,
encrypted as the store is. It does not deploy anything and does not attach the alarm: pass
`alarm_names` to the deployment group and the bake.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import policy_document
from components.naming import IAM_ROLE_MAX, NamingContext

TYPE = "delivery:cicd:SyntheticTraffic"

CANARY_NAME_MAX = 255
"""CreateCanary's `Name`: 1-255 characters of `[0-9a-z_-]` (the Synthetics API model)."""
ALARM_NAME_MAX = 255
DEFAULT_RUNTIME = "syn-python-selenium-14.0"
"""The newest Python runtime listed on
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html"""
DEFAULT_EVERY_MINUTES = 1
DEFAULT_FAILED_RUNS = 2
HANDLER = "canary.handler"
SUCCESS_METRIC = ("CloudWatchSynthetics", "SuccessPercent")

CANARY_SCRIPT = '''"""Synthetic traffic (written by the platform): the smoke checks, on a schedule.

checks.py beside this file is the application's own (smoke/checks.py): HTTP_CHECKS are GETs
against ENDPOINT_URL (redirects not followed, status judged as it is); LAMBDA_EVENT is sent to
FUNCTION_NAME:FUNCTION_ALIAS synchronously. Any failed check raises, which fails the run.
"""

import json
import os
import urllib.error
import urllib.request

import checks


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_status(url, timeout=10.0):
    request = urllib.request.Request(url, headers={"User-Agent": "pipeline-synthetic-traffic"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def run_http(base_url, get=http_status):
    failures = []
    for path, expected in checks.HTTP_CHECKS:
        url = base_url.rstrip("/") + path
        try:
            status = get(url)
        except OSError as error:
            failures.append(f"GET {url}: no answer: {error}")
            continue
        if status not in expected:
            failures.append(f"GET {url}: HTTP {status}, expected {sorted(expected)}")
    return failures


def run_lambda(function, alias, client=None):
    if client is None:
        import boto3

        client = boto3.client("lambda")
    answer = client.invoke(
        FunctionName=function,
        Qualifier=alias,
        InvocationType="RequestResponse",
        Payload=json.dumps(checks.LAMBDA_EVENT).encode(),
    )
    if answer.get("FunctionError"):
        body = answer["Payload"].read().decode("utf-8", "replace")[:300]
        return [f"invoke {function}:{alias}: {answer['FunctionError']}: {body}"]
    return []


def handler(event, context):
    if os.environ.get("ENDPOINT_URL"):
        failures = run_http(os.environ["ENDPOINT_URL"])
    else:
        failures = run_lambda(os.environ["FUNCTION_NAME"], os.environ["FUNCTION_ALIAS"])
    if failures:
        raise RuntimeError("; ".join(failures))
    return "passed"
'''


class SyntheticTrafficArgs(TypedDict):
    """Inputs of `SyntheticTraffic`. Give `endpoint` (server) or `function_name` and `alias`."""

    service: str
    """Naming: the service; the canary is `{service}-{stage}-{target}`."""
    stage: str
    """Naming: the stage."""
    target: str
    """The deploy target it exercises (its key in the service's targets)."""
    checks_file: str
    """Path to the checks module the smoke suite imports (`HTTP_CHECKS`, `LAMBDA_EVENT`)."""
    artifact_bucket_name: pulumi.Input[str]
    """Where the canary stores its run artifacts, under `traffic/<target>/`."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of that bucket, to which the role's writes are scoped."""
    artifact_kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """The bucket's KMS key: artifacts are SSE-KMS with it. Omitted: SSE-S3."""
    endpoint: NotRequired[str]
    """Server: the target's base URL. Exactly one of `endpoint` and `function_name`."""
    function_name: NotRequired[str]
    """Lambda: the function, with `alias`."""
    alias: NotRequired[str]
    """Lambda: the alias invoked (the traffic a release shifts)."""
    every_minutes: NotRequired[int]
    """How often the canary runs, 1-60. Default: 1 (one run a minute keeps every alarm period
    fed; a run costs, see CloudWatch pricing)."""
    failed_runs: NotRequired[int]
    """Failed runs in a row that put the alarm in ALARM, 1-5. Default: 2 (one blip passes)."""
    runtime_version: NotRequired[str]
    """A `syn-python-selenium-*` runtime. Default: `DEFAULT_RUNTIME`."""
    build_dir: NotRequired[str]
    """Where the canary's zip is written. Default: `.canary` in the working directory."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Permissions boundary of the canary's role. Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def canary_zip(checks_file: str | Path) -> bytes:
    """The canary's code: `python/canary.py` (`CANARY_SCRIPT`) and `python/checks.py`, the
    checks file as it is. Deterministic: fixed timestamps and order, so equal content gives
    equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            ("python/canary.py", CANARY_SCRIPT.encode()),
            ("python/checks.py", Path(checks_file).read_bytes()),
        ):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_canary_zip(checks_file: str | Path, build_dir: str | Path, stem: str) -> str:
    """Writes `canary_zip` as `<build_dir>/<stem>-<sha256[:12]>.zip`; returns that path."""
    data = canary_zip(checks_file)
    path = Path(build_dir) / f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return str(path)


def canary_trust_policy() -> str:
    """Lambda runs the canary (Synthetics requires `lambda.amazonaws.com` as the principal)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                # Another account's function cannot use this role. AWS's own Lambda trust samples
                # carry this condition (aws/agent-toolkit-for-aws, lambda-trust-policy.json).
                "Condition": {"StringEquals": {"aws:SourceAccount": "{account}"}},
            }
        ]
    )


def canary_policy(
    *,
    partition: str,
    region: str,
    account: str,
    bucket_arn: str,
    prefix: str,
    kms_key_arn: str | None,
    invoke_arn: str | None,
) -> str:
    """What the canary's run may do, from AWS's list of a canary role's permissions:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteRunArtifacts",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{prefix}*",
        },
        {
            "Sid": "FindArtifactBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
        },
        {
            # Synthetics lists buckets before it uploads; ListAllMyBuckets has no resource type.
            "Sid": "CanaryListsBuckets",
            "Effect": "Allow",
            "Action": "s3:ListAllMyBuckets",
            "Resource": "*",
        },
        {
            # The canary's function is named by Synthetics `cwsyn-<canary name>-<id>`; how a
            # long name is shortened there is not documented, so the scope is Synthetics' prefix.
            "Sid": "CanaryLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/cwsyn-*",
        },
        {
            # PutMetricData has no resource type; the namespace condition narrows it to the
            # canary's own metrics.
            "Sid": "CanaryMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": SUCCESS_METRIC[0]}},
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "EncryptRunArtifacts",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
            }
        )
    if invoke_arn:
        statements.append(
            {
                "Sid": "InvokeTheAlias",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": invoke_arn,
            }
        )
    return policy_document(statements)


class SyntheticTraffic(pulumi.ComponentResource):
    """A canary running the smoke checks against one target, its role and its alarm."""

    canary_name: pulumi.Output[str]
    """Name of the canary, `{service}-{stage}-{target}`."""
    alarm_names: pulumi.Output[list[str]]
    """The alarm on the canary's success, for the deployment group and the bake."""
    role_arn: pulumi.Output[str]
    """The canary's execution role."""

    def __init__(
        self, name: str, args: SyntheticTrafficArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        naming = NamingContext.current(args["service"], args["stage"])
        target = args["target"]
        endpoint = args.get("endpoint")
        function_name = args.get("function_name")
        alias = args.get("alias")
        every = args.get("every_minutes", DEFAULT_EVERY_MINUTES)
        failed_runs = args.get("failed_runs", DEFAULT_FAILED_RUNS)
        runtime = args.get("runtime_version", DEFAULT_RUNTIME)
        build_dir = args.get("build_dir", ".canary")
        kms_key_arn = args.get("artifact_kms_key_arn")
        tags = {**(args.get("tags") or {}), **naming.tags}
        _validate(args, endpoint, function_name, alias, every, failed_runs, runtime)
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        where = aws_context(self)

        canary_name = naming.name(target, CANARY_NAME_MAX)
        prefix = f"traffic/{target}/"
        invoke_arn: pulumi.Output[str] | None = None
        environment: dict[str, pulumi.Input[str]] = {
            "SERVICE": args["service"],
            "STAGE": args["stage"],
            "VERIFY_TARGET": target,
        }
        if endpoint is not None:
            environment["ENDPOINT_URL"] = endpoint
        else:
            environment["FUNCTION_NAME"] = function_name or ""
            environment["FUNCTION_ALIAS"] = alias or ""
            invoke_arn = pulumi.Output.format(
                "arn:{0}:lambda:{1}:{2}:function:{3}:{4}",
                where.partition,
                where.region,
                where.account_id,
                function_name,
                alias,
            )

        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name(f"{target}-canary", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"Synthetics canary {canary_name}: the smoke checks on a schedule",
            assume_role_policy=where.account_id.apply(
                lambda account: canary_trust_policy().replace("{account}", account)
            ),
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                where.partition,
                where.region,
                where.account_id,
                args["artifact_bucket_arn"],
                kms_key_arn,
                invoke_arn,
            ).apply(
                lambda v: canary_policy(
                    partition=v[0],
                    region=v[1],
                    account=v[2],
                    bucket_arn=v[3],
                    prefix=prefix,
                    kms_key_arn=v[4],
                    invoke_arn=v[5],
                )
            ),
            opts=child,
        )
        encryption: aws.synthetics.CanaryArtifactConfigS3EncryptionArgsDict = (
            {"encryption_mode": "SSE_KMS", "kms_key_arn": kms_key_arn}
            if kms_key_arn is not None
            else {"encryption_mode": "SSE_S3"}
        )
        canary = aws.synthetics.Canary(
            f"{name}-canary",
            name=canary_name,
            artifact_s3_location=pulumi.Output.format(
                "s3://{0}/{1}", args["artifact_bucket_name"], prefix
            ),
            artifact_config={"s3_encryption": encryption},
            execution_role_arn=role.arn,
            handler=HANDLER,
            runtime_version=runtime,
            zip_file=write_canary_zip(args["checks_file"], build_dir, canary_name),
            schedule={"expression": _rate(every)},
            run_config={
                # A run must end before the next starts; the checks' own budget is far less.
                "timeout_in_seconds": min(every * 60, 60),
                "environment_variables": environment,
            },
            start_canary=True,
            success_retention_period=7,
            failure_retention_period=31,
            tags=tags,
            # The role's policy first: a canary that starts without it fails its first runs.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=naming.name(f"{target}-traffic", ALARM_NAME_MAX),
            alarm_description=(
                f"Synthetic traffic to {target} fails ({failed_runs} runs in a row) or stopped "
                "running: roll back."
            ),
            namespace=SUCCESS_METRIC[0],
            metric_name=SUCCESS_METRIC[1],
            dimensions={"CanaryName": canary.name},
            statistic="Average",
            period=every * 60,
            evaluation_periods=failed_runs,
            datapoints_to_alarm=failed_runs,
            threshold=100,
            comparison_operator="LessThanThreshold",
            # A canary that does not run proves nothing: no datapoint is a failure.
            treat_missing_data="breaching",
            tags=tags,
            opts=child,
        )

        self.canary_name = canary.name
        self.alarm_names = pulumi.Output.all(alarm.name)
        self.role_arn = role.arn
        self.register_outputs(
            {
                "canary_name": self.canary_name,
                "alarm_names": self.alarm_names,
                "role_arn": self.role_arn,
            }
        )


def _rate(minutes: int) -> str:
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


def _validate(
    args: SyntheticTrafficArgs,
    endpoint: str | None,
    function_name: str | None,
    alias: str | None,
    every: int,
    failed_runs: int,
    runtime: str,
) -> None:
    where = f"synthetic traffic {args['service']}/{args['target']}"
    if (endpoint is None) == (function_name is None):
        raise ValueError(
            f"{where}: give endpoint (a server target's base URL) or function_name and alias "
            "(a Lambda target), exactly one"
        )
    if function_name is not None and not alias:
        raise ValueError(f"{where}: function_name {function_name!r} needs the alias to invoke")
    if not 1 <= every <= 60:
        raise ValueError(
            f"{where}: every_minutes {every!r} must be 1-60 (a canary runs at most once a "
            "minute and at least once an hour)"
        )
    if not 1 <= failed_runs <= 5:
        raise ValueError(f"{where}: failed_runs {failed_runs!r} must be 1-5")
    if not runtime.startswith("syn-python-selenium-"):
        raise ValueError(
            f"{where}: runtime_version {runtime!r} must be a syn-python-selenium-* runtime "
            "(the checks and the canary script are Python)"
        )
    checks = Path(args["checks_file"])
    if not checks.is_file():
        raise ValueError(
            f"{where}: checks_file {str(checks)!r} is not a file; give the path of the smoke "
            "suite's checks.py (templates/smoke/checks.py is the template)"
        )
