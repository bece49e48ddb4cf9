"""The downstream side of a promotion: find an upstream's releases, and start on each new one.

Defines `Upstream` (one stage this stack promotes from: its release location, found through a
stack reference to the upstream stack's `releases` output or named in config, and, when it is in
another account, the permission for its forwarded events to reach this account's default bus),
`PromotionTrigger` (one service: an EventBridge rule that starts the pipeline on exactly the
release version just published), and the IAM statements a pipeline needs to read its release.
It does not publish anything: that is `components.release_channel`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import policy_document, service_trust_policy
from components.naming import IAM_ROLE_MAX, NamingContext
from components.release_channel import release_event_pattern, release_object_key

UPSTREAM_TYPE = "delivery:cicd:Upstream"
TRIGGER_TYPE = "delivery:cicd:PromotionTrigger"
RELEASES_OUTPUT = "releases"
"""The stack output an upstream stack exports and a downstream stack reads (see program.py)."""


def release_read_statements(
    bucket_arn: str, service: str, kms_key_arn: str | None
) -> list[dict[str, Any]]:
    """What a promoted pipeline's role needs to read its release, and nothing else.

    The S3 source action's documented service-role permissions, scoped to one object:
    https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadRelease",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{bucket_arn}/{release_object_key(service)}",
        },
        {
            "Sid": "ReleaseBucketSettings",
            "Effect": "Allow",
            "Action": ["s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptRelease",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
            }
        )
    return statements


def start_input_template(source_action: str) -> str:
    """The StartPipelineExecution body EventBridge sends: start on the version just written.

    Without it the execution would take whatever version is newest when it starts, which may be
    a later release. `<revisionValue>` is filled from the event by the input transformer, as in
    AWS's console example (the CLI example on the same topic is malformed):
    https://docs.aws.amazon.com/codepipeline/latest/userguide/create-cloudtrail-S3-source-console.html
    """
    return json.dumps(
        {
            "sourceRevisions": [
                {
                    "actionName": source_action,
                    "revisionType": "S3_OBJECT_VERSION_ID",
                    "revisionValue": "<revisionValue>",
                }
            ]
        }
    )


def trigger_pattern(bucket_name: str, service: str, upstream_account_id: str) -> str:
    """New versions of `service`'s release object, from the upstream account only.

    Matching `account` keeps events forwarded from any other account from starting the pipeline;
    an S3 event carries the bucket owner's account and cannot be sent by a customer (sources
    beginning with "aws." are reserved for AWS services).
    """
    pattern = json.loads(release_event_pattern(bucket_name, keys=[release_object_key(service)]))
    return json.dumps({"account": [upstream_account_id], **pattern})


class UpstreamArgs(TypedDict):
    stage: str
    """This (downstream) stage."""
    upstream_stage: str
    """The stage promoted from."""
    stack_name: NotRequired[str]
    """Read the release location from this stack's `releases` output. Omitted: `bucket_name`
    must be given."""
    bucket_name: NotRequired[str]
    """The upstream's release bucket, where no stack reference can reach it."""
    kms_key_arn: NotRequired[str]
    """With `bucket_name`: the key releases are encrypted with. Omitted: SSE-S3."""
    account_id: NotRequired[str]
    """The upstream's AWS account. Omitted: this stack's account. Given: its forwarded release
    events are allowed onto this account's default event bus."""
    services: NotRequired[Sequence[str]]
    """The services promoted from it; a stack reference that does not list one is reported.
    Omitted: none are checked."""


class Upstream(pulumi.ComponentResource):
    """Where an upstream stage publishes its releases, as this stack sees it."""

    bucket_name: pulumi.Output[str]
    """The upstream's release bucket (from its stack's `releases` output, or as given)."""
    bucket_arn: pulumi.Output[str]
    """ARN of that bucket."""
    kms_key_arn: pulumi.Output[str | None]
    """The key its releases are encrypted with, or None: SSE-S3."""
    account_id: pulumi.Output[str]
    """The account the upstream publishes from, and its release events come from."""

    def __init__(
        self, name: str, args: UpstreamArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(UPSTREAM_TYPE, name, None, opts)
        upstream = args["upstream_stage"]
        stack_name = args.get("stack_name")
        given_bucket = args.get("bucket_name")
        account = args.get("account_id")
        services = list(args.get("services") or [])
        if (stack_name is None) == (given_bucket is None):
            raise ValueError(
                f"Upstream {name!r}: give stack_name (a stack reference) or bucket_name (the "
                "release bucket itself), exactly one"
            )
        own_account = aws_context(self).account_id

        if stack_name is not None:
            reference = pulumi.StackReference(
                f"{name}-stack", stack_name=stack_name, opts=pulumi.ResourceOptions(parent=self)
            )
            # `get_output`, not `require_output`: a missing output gets our message, not a KeyError.
            releases = reference.get_output(RELEASES_OUTPUT).apply(
                lambda value: _check_releases(value, stack_name, args["stage"], services)
            )
            self.bucket_name = releases.apply(lambda r: str(r["bucket"]))
            self.kms_key_arn = releases.apply(lambda r: r.get("kms_key_arn"))
        else:
            assert given_bucket is not None
            self.bucket_name = pulumi.Output.from_input(given_bucket)
            self.kms_key_arn = pulumi.Output.from_input(args.get("kms_key_arn"))
        self.bucket_arn = self.bucket_name.apply(lambda b: f"arn:aws:s3:::{b}")
        self.account_id = pulumi.Output.from_input(account) if account else own_account

        if account is not None:
            # An event forwarded from another account reaches only a bus whose policy admits
            # that account; PutPermission adds one statement, leaving others' grants alone.
            naming = NamingContext.current(pulumi.get_project(), args["stage"])
            aws.cloudwatch.EventPermission(
                f"{name}-events",
                principal=account,
                statement_id=naming.name(f"releases-from-{upstream}", 64),
                action="events:PutEvents",
                event_bus_name="default",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "account_id": self.account_id,
            }
        )


def _check_releases(
    value: Any, stack_name: str, stage: str, services: Sequence[str]
) -> Mapping[str, Any]:
    """The upstream's `releases` output, refused with the reason when it cannot serve us."""
    if not isinstance(value, Mapping) or "bucket" not in value:
        raise ValueError(
            f"stack {stack_name} has no usable {RELEASES_OUTPUT!r} output (got {value!r}): "
            f"set releases.consumers in its stack file to include {stage}, run `pulumi up` "
            "there, then here"
        )
    consumers = value.get("consumers") or []
    if stage not in consumers:
        pulumi.log.warn(
            f"stack {stack_name} publishes releases for {', '.join(consumers) or 'no stage'}, "
            f"not {stage}: add {stage} to its releases.consumers so its policies admit this stage"
        )
    published = value.get("services") or []
    missing = [s for s in services if s not in published]
    if missing:
        # Named up to a few: a stage with hundreds of services must not print them all.
        named = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        pulumi.log.warn(
            f"stack {stack_name} does not publish {named}; those pipelines wait until it does"
        )
    return value


class PromotionTriggerArgs(TypedDict):
    service: str
    """Naming: the service whose pipeline is started."""
    stage: str
    """Naming: this (downstream) stage."""
    pipeline_arn: pulumi.Input[str]
    """ARN of the pipeline the rule starts: the rule's target, and all its role may start."""
    source_action: str
    """The pipeline's S3 source action, named in the version override."""
    bucket_name: pulumi.Input[str]
    """The upstream's release bucket."""
    upstream_account_id: pulumi.Input[str]
    """The account the release events come from (the bucket owner)."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


class PromotionTrigger(pulumi.ComponentResource):
    """An EventBridge rule that starts one pipeline on each release its upstream publishes."""

    rule_arn: pulumi.Output[str]
    """ARN of the EventBridge rule."""
    role_arn: pulumi.Output[str]
    """ARN of the role EventBridge assumes to start the pipeline."""

    def __init__(
        self, name: str, args: PromotionTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TRIGGER_TYPE, name, None, opts)
        service, stage = args["service"], args["stage"]
        naming = NamingContext.current(service, stage)
        tags = {**naming.tags, **(args.get("tags") or {})}
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws_context(self).account_id

        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=naming.name("promote", 64),
            description=f"Starts {service}'s {stage} pipeline on each release promoted to it",
            event_pattern=pulumi.Output.all(args["bucket_name"], args["upstream_account_id"]).apply(
                lambda a: trigger_pattern(a[0], service, a[1])
            ),
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("promote-events", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"EventBridge starts {service}'s {stage} pipeline on a new release",
            # EventBridge sets aws:SourceAccount and aws:SourceArn (the rule) when it assumes a
            # target's role: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html
            assume_role_policy=pulumi.Output.all(account_id, rule.arn).apply(
                lambda a: service_trust_policy("events.amazonaws.com", a[0], a[1])
            ),
            permissions_boundary=args.get("permissions_boundary"),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args["pipeline_arn"]).apply(
                lambda arn: policy_document(
                    [
                        {
                            "Sid": "StartThisPipelineOnly",
                            "Effect": "Allow",
                            "Action": "codepipeline:StartPipelineExecution",
                            "Resource": arn,
                        }
                    ]
                )
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=rule.name,
            target_id="pipeline",
            arn=args["pipeline_arn"],
            role_arn=role.arn,
            input_transformer={
                "input_paths": {"revisionValue": "$.detail.object.version-id"},
                "input_template": start_input_template(args["source_action"]),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.rule_arn = rule.arn
        self.role_arn = role.arn
        self.register_outputs({"rule_arn": self.rule_arn, "role_arn": self.role_arn})
