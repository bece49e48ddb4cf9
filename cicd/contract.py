"""The names the Pulumi stacks give to pipelines, stages, actions and tags.

This is the CLI's side of the contract with `components/`: the tag keys must match
`components.naming` (a test pins that), and the stage and action names match the pipeline
layout the components build. Nothing here calls AWS.
"""

from __future__ import annotations

TAG_SERVICE = "cicd:service"
TAG_STAGE = "cicd:stage"
TAG_MANAGED_BY = "cicd:managed-by"

# Environments in promotion order: `status` lists them in this order.
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")

SOURCE_STAGE = "Source"
SOURCE_ACTION = "GitHub"
SOURCE_PROVIDER = "CodeStarSourceConnection"
APPROVAL_STAGE = "Approval"
APPROVAL_ACTION = "Approve"
DEPLOY_STAGE = "Deploy"

CONNECTIONS_CONSOLE_URL = (
    "https://console.aws.amazon.com/codesuite/settings/connections?region={region}"
)


def pipeline_name(service: str, stage: str) -> str:
    """The physical name the stacks give a service's pipeline in one environment."""
    return f"{service}-{stage}-pipeline"
