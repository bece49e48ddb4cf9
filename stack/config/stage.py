"""The stage-wide concerns of a stack file: the GitHub connection, artifacts, the environment,
the GitHub side, and the releases a stage publishes for others or promotes from.

Each is validated on its own; what spans them is in `checks`, and `stack.Settings` is the whole.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from stack.config.base import (
    ACCOUNT_PATTERN,
    KMS_KEY_ARN_PATTERN,
    NAME_PATTERN,
    REMOVE,
    REPOSITORY_PATTERN,
    Finding,
    Problems,
    _Model,
    _unique_names,
)


class ConnectionSettings(_Model):
    """The GitHub connection: bring an existing one (`arn`) or create one (`name`)."""

    arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]+$",
    )
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.@_-]{1,32}$")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if bool(self.arn) == bool(self.name):
            raise ValueError(
                "give exactly one of arn (reuse an existing, already authorised connection) or "
                "name (create a new one, then complete the handshake in the console)"
            )
        return self


class ArtifactSettings(_Model):
    force_destroy: bool = False
    expire_days: int = Field(default=30, ge=1, le=3650)
    noncurrent_expire_days: int = Field(default=7, ge=1, le=3650)
    kms_key_arn: str | None = Field(default=None, pattern=KMS_KEY_ARN_PATTERN)


class EnvironmentSettings(_Model):
    """Stage-wide behaviour. `production: true` switches the safe defaults on."""

    production: bool = False
    protect: bool | None = Field(default=None, description="default: same as production")
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 14

    @property
    def protected(self) -> bool:
        return self.production if self.protect is None else self.protect


class Reviewers(_Model):
    users: list[int] = Field(default_factory=list, max_length=6, description="GitHub user IDs")
    teams: list[int] = Field(default_factory=list, max_length=6, description="GitHub team IDs")


class GitHubSettings(_Model):
    """The infrastructure repository's side: OIDC roles in AWS, environments in GitHub."""

    repository: Annotated[str, Field(pattern=REPOSITORY_PATTERN, description="this repo")]
    manage_repository: bool = Field(
        default=True, description="manage environments, variables, ruleset (needs githubToken)"
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$",
        description="omit in the one stack per account that creates the provider",
    )
    owns_ruleset: bool = False
    reviewers: Reviewers = Field(default_factory=Reviewers)
    deploy_branches: list[str] = Field(default_factory=lambda: ["main"], min_length=1)
    state_bucket_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$")
    state_kms_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$"
    )


class ReleaseConsumer(_Model):
    """A stage that promotes this stage's releases, and where it runs."""

    stage: Annotated[str, Field(pattern=NAME_PATTERN)]
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="its AWS account; default: this stack's account (same-account promotion)",
    )


class ReleaseSettings(_Model):
    """This stage publishes each release it proved (deployed, verified, baked) for other stages."""

    consumers: list[ReleaseConsumer] = Field(min_length=1, max_length=10)
    kms_key: Literal["create"] | Annotated[str, Field(pattern=KMS_KEY_ARN_PATTERN)] | None = Field(
        default=None,
        description="'create' (a key whose policy lets the consumer accounts decrypt) or an "
        "existing key's ARN; default: SSE-S3, which only works within one account",
    )
    keep_days: int = Field(
        default=90, ge=1, le=3650, description="how long a superseded release stays promotable"
    )
    protect: bool = Field(
        default=True,
        description="protect and retain the release location (other stages deploy from it)",
    )

    @field_validator("consumers")
    @classmethod
    def _unique_consumers(cls, consumers: list[ReleaseConsumer]) -> list[ReleaseConsumer]:
        _unique_names("consumer stage", [c.stage for c in consumers])
        return consumers

    @property
    def cross_account(self) -> list[ReleaseConsumer]:
        return [c for c in self.consumers if c.account is not None]


class UpstreamSettings(_Model):
    """A stage this stack promotes from, and how to find the releases it publishes.

    Found by a stack reference to the upstream stack's `releases` output (default: the stack
    named after the stage in this project and organisation), or, where stack references cannot
    reach, by naming the location: `bucket` (and `kms_key_arn` when it is encrypted with one).
    """

    stack: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$",
        description="fully qualified stack name, e.g. acme/gh-aws-delivery/staging; default: "
        "<organization>/<this project>/<stage>",
    )
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="the upstream stack's AWS account; default: this stack's account",
    )
    bucket: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="the release bucket, instead of a stack reference",
    )
    kms_key_arn: str | None = Field(
        default=None,
        pattern=KMS_KEY_ARN_PATTERN,
        description="with bucket: the key the releases are encrypted with",
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        p: list[Finding] = []
        if self.stack and self.bucket:
            why = "give stack (a stack reference) or bucket (the location itself), not both"
            p.append(Finding(("bucket",), why, REMOVE))
        if self.kms_key_arn and not self.bucket:
            why = "applies with bucket; a stack reference reads the key from the upstream stack"
            p.append(Finding(("kms_key_arn",), why, REMOVE))
        if self.bucket and self.account and not self.kms_key_arn:
            why = (
                "releases from another account are encrypted with a customer managed KMS key "
                "(AWS managed keys cannot be shared): give the upstream's releases.kms_key ARN"
            )
            p.append(Finding(("kms_key_arn",), why))
        if p:
            raise Problems(p)
        return self


# Issue 21: what the stage tells GitHub and CloudWatch about its releases, and its dashboard.
SECRET_ARN_PATTERN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$"


class ReportSettings(_Model):
    """The delivery reporter: each pipeline event to GitHub (deployments, commit statuses) and
    to CloudWatch (delivery metrics). Absent: nothing is reported."""

    github: bool = Field(
        default=True,
        description="post deployments and commit statuses to the services' repositories; "
        "needs githubToken (a secret) or token_secret_arn",
    )
    token_secret_arn: str | None = Field(
        default=None,
        pattern=SECRET_ARN_PATTERN,
        description="an existing Secrets Manager secret holding the token; default: "
        "githubToken, stored into a new secret",
    )
    token_kms_key_arn: str | None = Field(
        default=None,
        pattern=KMS_KEY_ARN_PATTERN,
        description="with token_secret_arn: the customer managed key that encrypts it",
    )

    @model_validator(mode="after")
    def _key_with_secret(self) -> Self:
        p: list[Finding] = []
        if self.token_kms_key_arn and not self.token_secret_arn:
            why = (
                "applies with token_secret_arn; the secret made from githubToken uses the AWS "
                "managed key"
            )
            p.append(Finding(("token_kms_key_arn",), why, REMOVE))
        if self.token_secret_arn and not self.github:
            why = "github is false, so no token is read; remove it or set github to true"
            p.append(Finding(("token_secret_arn",), why, REMOVE))
        if p:
            raise Problems(p)
        return self


class DashboardSettings(_Model):
    """The stage's CloudWatch dashboard of delivery metrics, alarms and last releases."""

    enabled: bool = True
    releases_shown: int = Field(
        default=20, ge=1, le=1000, description="how many last releases the log widget lists"
    )
