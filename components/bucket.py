"""A private S3 bucket with every control this project requires, declared in one call.

Defines `private_bucket`, used by `ArtifactStore` (pipeline artifacts) and `ReleaseChannel`
(proven releases): all public access blocked, bucket-owner ownership (no ACLs), versioning,
encryption at rest (SSE-S3, or a given KMS key), a lifecycle, and a bucket policy that refuses
non-TLS requests and grants other accounts read access to one prefix when asked. It grants
nothing to roles in the bucket's own account: their IAM policies do that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import policy_document


@dataclass(frozen=True)
class Reader:
    """Another AWS account that may read (and list) the objects under `prefix`."""

    account_id: str
    prefix: str
    sid: str
    """Names the statements, e.g. `ConsumerProd`: one reader's grants are easy to find."""
    tags: bool = False
    """Also read and set the objects' version tags (a consumer quarantines a release it rolled
    back: `cicd reject`). False: no tag access."""


@dataclass(frozen=True)
class BucketSpec:
    """What differs between the project's buckets; the controls are the same for all."""

    name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None = None
    """Encrypt with this KMS key. None: SSE-S3 (AES256), which needs no key policy."""
    expire_days: int | None = 30
    """Delete current objects this many days after upload. None: never (releases stay)."""
    noncurrent_expire_days: int = 7
    keep_noncurrent_versions: int | None = None
    """Keep at least this many superseded versions, however old. None: keep none beyond
    `noncurrent_expire_days`."""
    force_destroy: bool = False
    protect: bool = False
    eventbridge: bool = False
    """Send every object event to EventBridge (what starts downstream pipelines)."""
    readers: Sequence[Reader] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


def bucket_policy(bucket_arn: str, readers: Sequence[Reader]) -> str:
    """TLS only, for everyone; then read access to one prefix for each reader account."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            # A Deny on every principal and action is the documented way to require TLS.
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    for reader in readers:
        # The account root as principal delegates to IAM in that account: its administrators
        # decide which of their roles read (the downstream pipeline role, release operators).
        principal = {"AWS": f"arn:aws:iam::{reader.account_id}:root"}
        statements += [
            {
                "Sid": f"{reader.sid}ReadsObjects",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{bucket_arn}/{reader.prefix}*",
            },
            {
                "Sid": f"{reader.sid}ListsObjects",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{reader.prefix}*"}},
            },
            {
                # CodePipeline's S3 source action checks the bucket's versioning and location.
                "Sid": f"{reader.sid}ReadsBucketSettings",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            },
        ]
        if reader.tags:
            statements.append(
                {
                    # Tags mark a release rejected where it is published, so every consumer
                    # refuses it; a version's tags are authorized under the *VersionTagging
                    # actions (S3 API reference, GetObjectTagging and PutObjectTagging).
                    "Sid": f"{reader.sid}TagsObjects",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": [
                        "s3:GetObjectTagging",
                        "s3:GetObjectVersionTagging",
                        "s3:PutObjectTagging",
                        "s3:PutObjectVersionTagging",
                    ],
                    "Resource": f"{bucket_arn}/{reader.prefix}*",
                }
            )
    return policy_document(statements)


def private_bucket(name: str, spec: BucketSpec, parent: pulumi.Resource) -> aws.s3.Bucket:
    """Declare the bucket `spec` describes and its controls, as children of `parent`.

    Logical names are `{name}-bucket`, `{name}-ownership`, ...: a contract, since renaming the
    bucket's would replace it.
    """
    if spec.protect and spec.force_destroy:
        raise ValueError(
            f"bucket {name!r}: protect=True with force_destroy=True would let a protected "
            "bucket be emptied on destroy; set force_destroy=False"
        )
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket=spec.name,
        force_destroy=spec.force_destroy,
        tags=dict(spec.tags),
        opts=pulumi.ResourceOptions(
            parent=parent, protect=spec.protect, retain_on_delete=spec.protect
        ),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": _encryption_default(spec.kms_key_arn),
                # S3 Bucket Keys cut KMS request costs; harmless with SSE-S3.
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[_lifecycle_rule(name, spec)],
        # Lifecycle rules on a bucket need versioning settled first, or AWS may reject them.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
    aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: bucket_policy(arn, spec.readers)),
        # A bucket policy put before the public access block can be refused as "public".
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]),
    )
    if spec.eventbridge:
        # Replaces the bucket's whole notification configuration: one such resource per bucket.
        aws.s3.BucketNotification(f"{name}-events", bucket=bucket.id, eventbridge=True, opts=child)
    return bucket


def _encryption_default(
    kms_key_arn: pulumi.Input[str] | None,
) -> aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict:
    # Decided by whether a key is given at all (a created key's ARN is unknown in a preview).
    if kms_key_arn is not None:
        return {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
    return {"sse_algorithm": "AES256"}


def _lifecycle_rule(name: str, spec: BucketSpec) -> aws.s3.BucketLifecycleConfigurationRuleArgsDict:
    noncurrent: aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgsDict = {
        "noncurrent_days": spec.noncurrent_expire_days
    }
    if spec.keep_noncurrent_versions:
        noncurrent["newer_noncurrent_versions"] = spec.keep_noncurrent_versions
    rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
        "id": f"expire-{name}",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": noncurrent,
        "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
    }
    if spec.expire_days is not None:
        rule["expiration"] = {"days": spec.expire_days}
    return rule
