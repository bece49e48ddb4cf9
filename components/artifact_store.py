"""The pipeline's artifact store: a private, encrypted, versioned S3 bucket.

Defines `ArtifactStore`. Artifacts are source zips and build outputs, often containing code and
configuration, so the bucket has every control of `components.bucket.private_bucket` (no public
access, no ACLs, TLS only, encrypted, versioned) and expires old artifacts so storage does not
grow forever. It does not grant access: roles that read or
write artifacts get `artifact_access_statements`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi

from components.aws_context import aws_context
from components.bucket import BucketSpec, private_bucket
from components.naming import S3_BUCKET_MAX, NamingContext

TYPE = "delivery:cicd:ArtifactStore"


class ArtifactStoreArgs(TypedDict):
    service: str
    """Naming: the service, or the project name for a bucket shared by all services."""
    stage: str
    """Naming: the stage, e.g. dev."""
    purpose: NotRequired[str]
    """The bucket's role in its name, `{service}-{stage}-{purpose}-{account}-{region}`.
    Omitted: `artifacts`."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """Encrypt with this KMS key. Omitted: SSE-S3 (AES256), which needs no key policy."""
    expire_days: NotRequired[int]
    """Delete artifacts this many days after upload. Omitted: 30."""
    noncurrent_expire_days: NotRequired[int]
    """Delete overwritten (noncurrent) versions after this many days. Omitted: 7."""
    force_destroy: NotRequired[bool]
    """Let `pulumi destroy` delete a non-empty bucket. Omitted: False (destroy fails instead)."""
    protect: NotRequired[bool]
    """Omitted: False. True: the bucket is protected and retained on delete (production)."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def artifact_access_statements(
    bucket_arn: str, kms_key_arn: str | None, *, write: bool = True, prefix: str = ""
) -> list[dict[str, Any]]:
    """IAM statements to read (and optionally write) artifacts in this bucket only.

    `prefix` narrows object access to one key prefix (e.g. a CodeBuild cache folder). Omitted:
    every object in the bucket, which pipelines need because CodePipeline picks the keys.
    """
    actions = ["s3:GetObject", "s3:GetObjectVersion"] + (["s3:PutObject"] if write else [])
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ArtifactObjects" + ("Write" if write else "Read"),
            "Effect": "Allow",
            "Action": actions,
            "Resource": f"{bucket_arn}/{prefix}*",
        },
        {
            "Sid": "ArtifactBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetBucketAcl"],
            "Resource": bucket_arn,
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "ArtifactKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
                + (["kms:Encrypt", "kms:ReEncrypt*"] if write else []),
                "Resource": kms_key_arn,
            }
        )
    return statements


class ArtifactStore(pulumi.ComponentResource):
    """Private, encrypted, versioned artifact bucket with expiry and a TLS-only policy."""

    bucket_name: pulumi.Output[str]
    """Name of the artifact bucket, for a pipeline's artifact store and its projects."""
    bucket_arn: pulumi.Output[str]
    """ARN of the artifact bucket, to which artifact permissions are scoped."""
    kms_key_arn: pulumi.Output[str | None]
    """The `kms_key_arn` given, or None: objects use SSE-S3."""

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        kms_key_arn = args.get("kms_key_arn")
        purpose = args.get("purpose", "artifacts")
        expire_days = args.get("expire_days", 30)
        noncurrent_days = args.get("noncurrent_expire_days", 7)
        force_destroy = args.get("force_destroy", False)
        protect = args.get("protect", False)
        tags = {**naming.tags, **(args.get("tags") or {})}
        # Bucket names are global across all AWS accounts: account and region make them unique.
        where = aws_context(self)
        bucket_name = pulumi.Output.all(where.account_id, where.region).apply(
            lambda ar: naming.name(f"{purpose}-{ar[0]}-{ar[1]}", S3_BUCKET_MAX)
        )
        bucket = private_bucket(
            name,
            BucketSpec(
                name=bucket_name,
                kms_key_arn=kms_key_arn,
                expire_days=expire_days,
                noncurrent_expire_days=noncurrent_days,
                force_destroy=force_destroy,
                protect=protect,
                tags=tags,
            ),
            parent=self,
        )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = pulumi.Output.from_input(kms_key_arn)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
            }
        )
