"""Where a stage publishes the releases it proved, for the stages that promote them.

Defines `ReleaseChannel`: a private, versioned bucket (one object per service,
`releases/<service>/release.zip`, one object version per proven release) that sends its object
events to EventBridge; optionally a customer managed KMS key for it; and, for consumers in other
AWS accounts, read grants on the `releases/` prefix (bucket and key policy) and a rule that
forwards the release events to the consumer account's default event bus.

Why the upstream owns the location, and events are routed between buses: the release history
belongs to the stage that proved it, one channel serves any number of consumer stages without
knowing their buckets, and the first `pulumi up` order is natural (upstream first; the
downstream then finds the channel through a stack reference). An S3 event is raised in the
bucket owner's account, so a consumer in another account gets it through its default event bus;
EventBridge forbids input transformers on a target that is another account's bus, which is why
the consumer's own rule (see `components.promotion`) pins the object version.

It does not grant write access: each publishing pipeline's role may write only its service's
object (`publish_statements`), and each consuming pipeline reads only its own
(`components.promotion.release_read_statements`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.bucket import BucketSpec, Reader, private_bucket
from components.iam import policy_document, service_trust_policy
from components.naming import IAM_ROLE_MAX, S3_BUCKET_MAX, NamingContext

TYPE = "delivery:cicd:ReleaseChannel"

RELEASES_PREFIX = "releases/"
MANIFEST_FILE = "release-manifest.json"
"""The manifest's name at the root of every release artifact (a contract with `cicd`)."""


def release_object_key(service: str) -> str:
    """The one object whose versions are `service`'s proven releases."""
    return f"{RELEASES_PREFIX}{service}/release.zip"


class ReleaseConsumerArgs(TypedDict):
    stage: str
    """The stage that promotes these releases (names grants and event targets)."""
    account_id: NotRequired[str]
    """Its AWS account. Omitted: this stack's account, where IAM alone grants access."""


class ReleaseChannelArgs(TypedDict):
    stage: str
    """The publishing stage, e.g. staging."""
    consumers: Sequence[ReleaseConsumerArgs]
    """Who promotes these releases. At least one."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Encrypt releases with this existing key; its policy must let each consumer account
    decrypt through S3. Omitted: see `create_kms_key`."""
    create_kms_key: NotRequired[bool]
    """Create a customer managed key whose policy lets exactly the consumer accounts decrypt.
    Omitted: False, and releases use SSE-S3 (only a same-account consumer can read them)."""
    keep_days: NotRequired[int]
    """How long a superseded release stays promotable. Omitted: 90 days (and the newest 10
    superseded releases are kept regardless)."""
    protect: NotRequired[bool]
    """Protect and retain the bucket and key. Omitted: True, because other stages deploy from
    them: destroying this stage must not take their releases with it."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def key_policy(account_id: str, region: str, consumers: Sequence[ReleaseConsumerArgs]) -> str:
    """The release key's policy: this account administers it; consumer accounts decrypt via S3.

    In a key policy `"Resource": "*"` means this key. `kms:ViaService` limits a consumer to
    decrypting on the way out of S3 (the S3 source action and `cicd` read releases that way),
    so the grant cannot be used to decrypt anything else with this key.
    """
    statements: list[dict[str, Any]] = [
        {
            # Delegates control to IAM in this account, as AWS's default key policy does; without
            # it the key could become unmanageable.
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for consumer in consumers:
        if "account_id" not in consumer:
            continue
        statements.append(
            {
                "Sid": f"{_sid(consumer['stage'])}DecryptsReleases",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{consumer.get('account_id')}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    return policy_document(statements)


def release_event_pattern(bucket_name: str, keys: Sequence[str] = (), prefix: str = "") -> str:
    """EventBridge pattern for new versions of release objects in `bucket_name`.

    Matches the "Object Created" events S3 sends when EventBridge notifications are on (AWS's
    recommended change detection for S3 sources: no CloudTrail needed), by exact `keys` or, for
    forwarding, by `prefix`. Without a key filter every object written would start a pipeline.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/create-S3-source-events.html
    """
    key_filter: list[Any] = list(keys) if keys else [{"prefix": prefix}]
    return json.dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket_name]}, "object": {"key": key_filter}},
        }
    )


def publish_statements(
    bucket_arn: str, service: str, kms_key_arn: str | None
) -> list[dict[str, Any]]:
    """What a publishing pipeline's role needs: write its service's release object, nothing else.

    The actions are the S3 deploy action's documented service-role permissions, scoped to one
    key. https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3Deploy.html
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PublishRelease",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
            "Resource": f"{bucket_arn}/{release_object_key(service)}",
        },
        {
            "Sid": "PublishBucketSettings",
            "Effect": "Allow",
            "Action": ["s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "EncryptRelease",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
                "Resource": kms_key_arn,
            }
        )
    return statements


def _sid(stage: str) -> str:
    """`prod-eu` -> `ConsumerProdEu`: statement ids allow only letters and digits."""
    return "Consumer" + "".join(part.capitalize() for part in stage.split("-"))


class ReleaseChannel(pulumi.ComponentResource):
    """A versioned release location, its key, and event forwarding for other accounts."""

    bucket_name: pulumi.Output[str]
    """Name of the release bucket, which downstream stages promote from."""
    bucket_arn: pulumi.Output[str]
    """ARN of the release bucket."""
    kms_key_arn: pulumi.Output[str | None]
    """The key releases are encrypted with (created or given), or None: SSE-S3."""
    account_id: pulumi.Output[str]
    """This stack's account, which consumers' grants and event rules name."""
    region: pulumi.Output[str]
    """This stack's region, where the bucket is."""

    def __init__(
        self, name: str, args: ReleaseChannelArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(pulumi.get_project(), args["stage"])
        consumers = list(args["consumers"])
        given_key = args.get("kms_key_arn")
        create_key = args.get("create_kms_key", False)
        keep_days = args.get("keep_days", 90)
        protect = args.get("protect", True)
        tags = {**naming.tags, **(args.get("tags") or {})}
        self._boundary = args.get("permissions_boundary")
        crossing = [c for c in consumers if "account_id" in c]
        if not consumers:
            raise ValueError(f"ReleaseChannel {name!r}: consumers is empty; name at least one")
        if given_key is not None and create_key:
            raise ValueError(
                f"ReleaseChannel {name!r}: give kms_key_arn or create_kms_key, not both"
            )
        if crossing and given_key is None and not create_key:
            raise ValueError(
                f"ReleaseChannel {name!r}: consumers in other accounts "
                f"({', '.join(c['stage'] for c in crossing)}) need a customer managed KMS key "
                "(AWS managed keys cannot be shared): set create_kms_key or kms_key_arn"
            )

        where = aws_context(self)
        self.account_id, self.region = where.account_id, where.region
        kept = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)

        key_arn: pulumi.Input[str] | None = given_key
        if create_key:
            key_arn = self._key(name, naming, consumers, tags, kept)
        bucket = private_bucket(
            name,
            BucketSpec(
                name=pulumi.Output.all(self.account_id, self.region).apply(
                    lambda ar: naming.name(f"releases-{ar[0]}-{ar[1]}", S3_BUCKET_MAX)
                ),
                kms_key_arn=key_arn,
                # The newest release must never expire: it is what the next promotion deploys.
                expire_days=None,
                noncurrent_expire_days=keep_days,
                keep_noncurrent_versions=10,
                protect=protect,
                eventbridge=True,
                readers=[
                    Reader(c.get("account_id", ""), RELEASES_PREFIX, _sid(c["stage"]), tags=True)
                    for c in crossing
                ],
                tags=tags,
            ),
            parent=self,
        )
        if crossing:
            self._forward_events(name, naming, bucket, crossing, tags)

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "account_id": self.account_id,
                "region": self.region,
            }
        )

    def _key(
        self,
        name: str,
        naming: NamingContext,
        consumers: Sequence[ReleaseConsumerArgs],
        tags: Mapping[str, str],
        kept: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the releases {naming.stage} publishes",
            enable_key_rotation=True,
            policy=pulumi.Output.all(self.account_id, self.region).apply(
                lambda ar: key_policy(ar[0], ar[1], consumers)
            ),
            tags=dict(tags),
            opts=kept,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{naming.name('releases')}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key.arn

    def _forward_events(
        self,
        name: str,
        naming: NamingContext,
        bucket: aws.s3.Bucket,
        crossing: Sequence[ReleaseConsumerArgs],
        tags: Mapping[str, str],
    ) -> None:
        """A rule sending release events to each consumer account's default event bus."""
        child = pulumi.ResourceOptions(parent=self)
        accounts = [c.get("account_id", "") for c in crossing]
        buses = [
            self.region.apply(lambda region, a=a: f"arn:aws:events:{region}:{a}:event-bus/default")
            for a in accounts
        ]
        rule = aws.cloudwatch.EventRule(
            f"{name}-forward",
            name=naming.name("releases-forward", 64),
            description=f"Forwards {naming.stage}'s new releases to the accounts promoting them",
            event_pattern=bucket.bucket.apply(
                lambda b: release_event_pattern(b, prefix=RELEASES_PREFIX)
            ),
            tags=dict(tags),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-forward-role",
            name=naming.name("releases-forward", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"EventBridge forwards {naming.stage}'s releases to consumer accounts",
            assume_role_policy=pulumi.Output.all(self.account_id, rule.arn).apply(
                lambda a: service_trust_policy("events.amazonaws.com", a[0], a[1])
            ),
            permissions_boundary=self._boundary,
            tags=dict(tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-forward-policy",
            role=role.id,
            policy=pulumi.Output.all(*buses).apply(
                lambda arns: policy_document(
                    [
                        {
                            "Sid": "PutEventsOnConsumerBuses",
                            "Effect": "Allow",
                            "Action": "events:PutEvents",
                            "Resource": sorted(arns),
                        }
                    ]
                )
            ),
            opts=child,
        )
        for consumer, bus in zip(crossing, buses, strict=True):
            # No input transformer here: EventBridge refuses one on a target that is another
            # account's bus (PutTargets API reference); the consumer's rule pins the version.
            aws.cloudwatch.EventTarget(
                f"{name}-forward-{consumer['stage']}",
                rule=rule.name,
                target_id=f"to-{consumer['stage']}",
                arn=bus,
                role_arn=role.arn,
                opts=child,
            )
