"""One naming context for every physical name and tag a stack creates.

Defines `NamingContext`, which turns (service, stage, role) into a readable, deterministic,
length-safe AWS name and derives the tags every taggable resource carries. It does not decide
*which* resources exist; components ask it for names.

Tags are the contract with tools outside Pulumi: the `cicd` release command finds pipelines by
`TAG_SERVICE` and `TAG_STAGE`, so those keys are part of the public interface.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

TAG_SERVICE = "cicd:service"
TAG_STAGE = "cicd:stage"
TAG_MANAGED_BY = "cicd:managed-by"
TAG_PROMOTES_FROM = "cicd:promotes-from"
"""On a promoted pipeline: the stage whose releases it deploys (`cicd promote` checks it)."""

# Most names here (CodeBuild projects, CodeDeploy groups, pipelines, log groups' last segment)
# allow 100+ characters, but IAM role names stop at 64 and S3 buckets at 63: the naming helper
# takes the limit per call so each resource gets the most readable name it can have.
IAM_ROLE_MAX = 64
S3_BUCKET_MAX = 63
DEFAULT_MAX = 100

_SEGMENT = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")


@dataclass(frozen=True)
class NamingContext:
    """Names and tags for one service in one stage.

    `project` names the Pulumi project and stack that manage the resources; it goes into the
    `cicd:managed-by` tag so a person looking at a resource in the console knows where to change it.
    """

    service: str
    stage: str
    project: str = "gh-aws-delivery"
    stack: str = ""

    def __post_init__(self) -> None:
        for field, value in (("service", self.service), ("stage", self.stage)):
            if not _SEGMENT.match(value):
                raise ValueError(
                    f"naming: {field} {value!r} must be lowercase letters, digits and hyphens, "
                    "starting with a letter and not ending with a hyphen"
                )

    @classmethod
    def current(cls, service: str, stage: str) -> NamingContext:
        """A context tagged with the Pulumi project and stack that are running now."""
        return cls(
            service=service, stage=stage, project=pulumi.get_project(), stack=pulumi.get_stack()
        )

    def name(self, role: str, max_length: int = DEFAULT_MAX) -> str:
        """`{service}-{stage}-{role}`, shortened with a stable hash suffix when too long.

        Shortening keeps the readable prefix and appends 8 hex characters of a SHA-256 of the full
        name, so two long names that share a prefix still differ and the same input always yields
        the same output (physical names must not change between runs).
        """
        full = f"{self.service}-{self.stage}-{role}" if role else f"{self.service}-{self.stage}"
        if len(full) <= max_length:
            return full
        digest = hashlib.sha256(full.encode()).hexdigest()[:8]
        return f"{full[: max_length - 9].rstrip('-')}-{digest}"

    @property
    def role_path(self) -> str:
        """The IAM path of every role the project creates: `/{project}/`.

        The GitHub Actions deploy role may manage only roles under it (and named with the stage's
        prefix), so a role made elsewhere, such as an instance profile's role, is out of its
        reach whatever its name; a role's path cannot change after it is created.
        """
        return f"/{self.project}/"

    @property
    def tags(self) -> dict[str, str]:
        """Tags for every taggable resource of this service and stage."""
        managed_by = (
            f"pulumi:{self.project}/{self.stack}" if self.stack else f"pulumi:{self.project}"
        )
        return {TAG_SERVICE: self.service, TAG_STAGE: self.stage, TAG_MANAGED_BY: managed_by}

    def shared(self) -> NamingContext:
        """A context for resources shared by all services of a stage (connection, bucket).

        Uses the project's name in place of a service name, so shared resources read as
        `{project}-{stage}-{role}` and are not mistaken for one service's.
        """
        return NamingContext(
            service=self.project, stage=self.stage, project=self.project, stack=self.stack
        )
