"""One boto3 session per run and the clients the commands use.

Clients are created on first use, all from the same session and with the same retry policy, so a
command that only lists releases never loads the CodeDeploy model. This module makes no calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property

import boto3
from botocore.client import BaseClient
from botocore.config import Config

# Standard mode retries throttling and transient errors with jittered exponential backoff.
# Eight attempts in all (the first call and seven retries; `max_attempts` would count retries
# only) ride out about a minute of throttling, e.g. several people polling one account's
# CodePipeline quota with --wait. Adaptive mode was not chosen: it is marked experimental and
# its client-side rate limiter can pause silently, which a CLI should not do.
MAX_ATTEMPTS = 8
RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    user_agent_appid="cicd",
    connect_timeout=10,
    read_timeout=60,
)

ClientMaker = Callable[[str], BaseClient]


class Clients:
    """The AWS clients of one run, made on demand by `make(service_name)`."""

    def __init__(self, make: ClientMaker) -> None:
        self._make = make

    @cached_property
    def codepipeline(self) -> BaseClient:
        return self._make("codepipeline")

    @cached_property
    def codedeploy(self) -> BaseClient:
        return self._make("codedeploy")

    @cached_property
    def codebuild(self) -> BaseClient:
        return self._make("codebuild")

    @cached_property
    def logs(self) -> BaseClient:
        return self._make("logs")

    @cached_property
    def codeconnections(self) -> BaseClient:
        return self._make("codeconnections")

    @cached_property
    def s3(self) -> BaseClient:
        # Published releases live in S3; the bucket is in the pipeline's region (an S3 source
        # action requires that), so the same region serves.
        return self._make("s3")

    @cached_property
    def ssm(self) -> BaseClient:
        # Runtime config: Parameter Store in the pipeline's region.
        return self._make("ssm")

    @cached_property
    def sts(self) -> BaseClient:
        return self._make("sts")

    @cached_property
    def tagging(self) -> BaseClient:
        return self._make("resourcegroupstaggingapi")

    @cached_property
    def sns(self) -> BaseClient:
        return self._make("sns")

    @cached_property
    def cloudwatch(self) -> BaseClient:
        # The alarms a release is watched by (promote's preflight, approve's evidence).
        # The delivery metrics the stage's reporter publishes (`cicd metrics`).
        return self._make("cloudwatch")

    @property
    def region(self) -> str:
        """The region the clients talk to (raises NoRegionError when none is configured)."""
        return str(self.codepipeline.meta.region_name)


def connect(region: str | None, profile: str | None) -> Clients:
    """Clients from one session; `None` falls back to AWS_PROFILE, AWS_REGION and ~/.aws."""
    # botocore itself reads only AWS_DEFAULT_REGION; the AWS CLI v2 and the other SDKs also read
    # AWS_REGION (first), so people expect it to work here too.
    region = region or os.environ.get("AWS_REGION") or None
    session = boto3.Session(profile_name=profile, region_name=region)
    return Clients(lambda service: session.client(service, config=RETRY_CONFIG))
