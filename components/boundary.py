"""The permissions boundary every role of a stage carries, so no role can grant itself more.

Defines `PermissionsBoundary` (one customer managed policy per stage,
`{project}-{stage}-boundary`) and the pure `boundary_document`. Attached as the permissions
boundary of every role the stack creates, it caps each role at the services this project uses
and closes the IAM routes out: no role may create or change a role that does not carry this same
boundary, remove a boundary, edit this policy, or touch users, groups and access keys. The
GitHub Actions deploy role may therefore create the pipelines' roles, but nothing it creates (or
changes) can hold more than the boundary allows; `components.github_oidc` adds the denials on
its own role.

This follows AWS's pattern for delegating role creation:
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
("Delegating responsibility to others using permissions boundaries"), adapted from users to
roles. It does not grant anything: a boundary only limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.iam import policy_document
from components.naming import NamingContext

TYPE = "delivery:cicd:PermissionsBoundary"

# What the project's roles use, and who needs it. A service missing here is denied to every role,
# whatever its own policy says.
BOUNDED_SERVICES: dict[str, str] = {
    "autoscaling": "CodeDeploy (AWSCodeDeployRole): Auto Scaling groups, blue/green copies",
    "chatbot": "the deploy role manages Slack channel configurations",
    "cloudwatch": "alarms: created by the deploy role, read by pipelines and CodeDeploy",
    "codebuild": "builds, tests, verification, and the release manifest steps",
    "codeconnections": "the GitHub connection (use and management)",
    "codedeploy": "deployments",
    "codepipeline": "pipelines, and the release manifest reading its execution",
    "codestar-connections": "connections created under CodeConnections' former name",
    "codestar-notifications": "release notification rules",
    "ec2": "CodeDeploy: instances, blue/green fleets (RunInstances, tags)",
    "elasticloadbalancing": "CodeDeploy: target groups during deployments",
    "events": "promotion triggers and release forwarding",
    "iam": "roles and policies of the project, within the denials below",
    "kms": "artifact, release and topic keys",
    "lambda": "the Lambda deploy action and Lambda verification",
    "logs": "CodeBuild and deploy action logs",
    "s3": "artifacts, releases, and a self-managed Pulumi state backend",
    "secretsmanager": "build variables that reference secrets",
    "sns": "release topics",
    "sqs": "the delivery reporter's dead-letter queue",
    "ssm": "build variables that reference Parameter Store",
    "synthetics": "the deploy role manages the synthetic traffic canaries",
    "tag": "CodeDeploy finds instances by tag (AWSCodeDeployRole)",
}

# Role actions whose request carries `iam:PermissionsBoundary` (Service Authorization Reference,
# IAM): on these, "only roles with this boundary" can be enforced.
BOUNDARY_CONDITIONED_ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
BOUNDARY_POLICY_EDITS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
# People's identities and credentials: nothing in this project makes or changes them.
IDENTITY_WRITES = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateGroup",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutGroupPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
    "iam:UploadSigningCertificate",
    "iam:UploadSSHPublicKey",
)


def boundary_policy_arn(account_id: str, stage: str, project: str, partition: str = "aws") -> str:
    """The boundary's ARN, known before it exists (its own document denies edits to itself)."""
    return f"arn:{partition}:iam::{account_id}:policy/{boundary_policy_name(project, stage)}"


def boundary_policy_name(project: str, stage: str) -> str:
    return NamingContext(service=project, stage=stage, project=project).name("boundary", 128)


def boundary_document(boundary_arn: str) -> dict[str, Any]:
    """The boundary: the project's services, minus every IAM route around the boundary.

    `"Resource": "*"` in the Allow is a ceiling, not a grant: each role's own policy scopes it.
    The Denies apply to every role that carries the boundary, the deploy role included.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProjectServicesOnly",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in sorted(BOUNDED_SERVICES)],
                "Resource": "*",
            },
            {
                # Any role created, or given permissions, must carry this same boundary.
                "Sid": "OnlyBoundedRoles",
                "Effect": "Deny",
                "Action": list(BOUNDARY_CONDITIONED_ROLE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
            },
            {
                "Sid": "NoBoundaryRemoval",
                "Effect": "Deny",
                "Action": "iam:DeleteRolePermissionsBoundary",
                "Resource": "*",
            },
            {
                "Sid": "NoBoundaryPolicyEdit",
                "Effect": "Deny",
                "Action": list(BOUNDARY_POLICY_EDITS),
                "Resource": boundary_arn,
            },
            {
                "Sid": "NoPeopleOrKeys",
                "Effect": "Deny",
                "Action": list(IDENTITY_WRITES),
                "Resource": "*",
            },
        ],
    }


class PermissionsBoundaryArgs(TypedDict):
    stage: str
    """The stage whose roles carry the boundary; names the policy `{project}-{stage}-boundary`."""
    protect: NotRequired[bool]
    """Protect the policy. Omitted: False. A deleted boundary policy cannot be deleted while
    attached, so an accidental destroy fails rather than leaving roles unbounded."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


class PermissionsBoundary(pulumi.ComponentResource):
    """The stage's permissions boundary policy."""

    policy_arn: pulumi.Output[str]
    """ARN of the boundary policy: the `permissions_boundary` of every component in the stage."""

    def __init__(
        self, name: str, args: PermissionsBoundaryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        project, stage = pulumi.get_project(), args["stage"]
        naming = NamingContext.current(project, stage)
        account_id = aws_context(self).account_id
        policy = aws.iam.Policy(
            f"{name}-policy",
            name=boundary_policy_name(project, stage),
            description=f"Permissions boundary of every role of {project} in {stage}",
            policy=account_id.apply(
                lambda account: policy_document(
                    boundary_document(boundary_policy_arn(account, stage, project))["Statement"]
                )
            ),
            tags={**naming.tags, **(args.get("tags") or {})},
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("protect", False)),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policy_arn": self.policy_arn})
