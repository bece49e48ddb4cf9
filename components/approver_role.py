"""Who may approve a release: a role people assume, scoped to one pipeline's approval action.

Defines `approver_role_document` (pure: what an approver may do, as an IAM policy document) and
`ApproverRole`, a component that creates the role `{service}-{stage}-approver` under the
project's role path, with that policy inline and the stage's permissions boundary. People get
the right to approve by being allowed to assume it (`sts:AssumeRole` on its ARN in their own
identity policy, or by being named in `principals`); `cicd approve --profile <a profile that
assumes it>` then works as before.

Why a role and not a managed policy attached to people: the GitHub Actions deploy role keeps
this document up to date, and whatever it could write into a policy attached to people would
reach beyond the boundary (people carry none). A role carries the boundary, so nothing the
deploy role writes into it, and no principal it lets assume it, can go beyond what the boundary
allows (`components.boundary`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.approver_policy import (
    DEFAULT_APPROVAL_ACTION,
    DEFAULT_APPROVAL_STAGE,
    PIPELINE_READ_ACTIONS,
    _check_name,
    approval_action_arn,
)
from components.aws_context import aws_context
from components.naming import IAM_ROLE_MAX, NamingContext

TYPE = "delivery:cicd:ApproverRole"
# `cicd approve` finds the pipeline by its tags and follows the release after answering.
TAG_READS = ("tag:GetResources",)


def approver_role_document(
    pipeline_arn: str,
    stage: str = DEFAULT_APPROVAL_STAGE,
    action: str = DEFAULT_APPROVAL_ACTION,
    release_object_arn: str | None = None,
    release_kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """Approve or reject one action, and read what `cicd approve` reads to show what waits.

    `release_object_arn`: a promoted pipeline's release object, whose manifest names the commit
    that waits; `release_kms_key_arn` its key. Omitted: a pipeline built from GitHub, whose
    execution names the commit itself.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ApproveOrRejectThisGateOnly",
            "Effect": "Allow",
            "Action": "codepipeline:PutApprovalResult",
            "Resource": approval_action_arn(pipeline_arn, stage, action),
        },
        {
            "Sid": "SeeWhatIsBeingApproved",
            "Effect": "Allow",
            "Action": list(PIPELINE_READ_ACTIONS),
            "Resource": pipeline_arn,
        },
        {
            "Sid": "FindThePipelineByItsTags",
            "Effect": "Allow",
            "Action": list(TAG_READS),
            # AWS forces "*": the Resource Groups Tagging API has no resource types.
            "Resource": "*",
        },
    ]
    if release_object_arn:
        statements.append(
            {
                "Sid": "ReadTheWaitingReleasesManifest",
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersion"],
                "Resource": release_object_arn,
            }
        )
    if release_kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptTheWaitingRelease",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": release_kms_key_arn,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def approver_trust_policy(principals: Sequence[str]) -> dict[str, Any]:
    """Who may assume the role: the given principals, or the account's IAM (`:root`)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PeopleWhoMayApprove",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(principals)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


class ApproverRoleArgs(TypedDict):
    service: str
    """Naming: the service; the role is `{service}-{stage}-approver`."""
    stage: str
    """Naming: the stage, e.g. `prod`."""
    pipeline_arn: pulumi.Input[str]
    """ARN of the pipeline whose approval action the role may answer."""
    approval_stage_name: NotRequired[str]
    """The stage holding the manual-approval action. Omitted: `Approval`."""
    approval_action_name: NotRequired[str]
    """The manual-approval action. Omitted: `Approve`."""
    principals: NotRequired[Sequence[str]]
    """IAM principal ARNs allowed to assume the role (people's roles, SSO permission set roles,
    users). Omitted: this account's IAM (`arn:aws:iam::<account>:root`), so exactly the
    principals whose own policy allows `sts:AssumeRole` on this role may approve."""
    release_object_arn: NotRequired[pulumi.Input[str]]
    """A promoted pipeline's release object (its manifest names the waiting commit). Omitted:
    none read."""
    release_kms_key_arn: NotRequired[pulumi.Input[str | None]]
    """That release's KMS key. Omitted: none."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """The stage's permissions boundary (`components.boundary`). Omitted: none, and then the
    deploy role's edits of this role are not capped: give it."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


class ApproverRole(pulumi.ComponentResource):
    """A role people assume to approve or reject one pipeline's releases."""

    role_arn: pulumi.Output[str]
    """ARN of the role: what approvers assume (a profile's `role_arn`)."""
    role_name: pulumi.Output[str]
    """Name of the role, `{service}-{stage}-approver`."""

    def __init__(
        self, name: str, args: ApproverRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        stage_name = args.get("approval_stage_name", DEFAULT_APPROVAL_STAGE)
        action_name = args.get("approval_action_name", DEFAULT_APPROVAL_ACTION)
        _check_name("approval_stage_name", stage_name)
        _check_name("approval_action_name", action_name)
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        child = pulumi.ResourceOptions(parent=self)
        where = aws_context(self)
        principals = list(args.get("principals") or [])
        trusted = (
            pulumi.Output.from_input(principals)
            if principals
            else pulumi.Output.all(where.partition, where.account_id).apply(
                lambda pa: [f"arn:{pa[0]}:iam::{pa[1]}:root"]
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.name("approver", IAM_ROLE_MAX),
            path=naming.role_path,
            description=(
                f"Approve or reject {stage_name}/{action_name} of {naming.service} in "
                f"{naming.stage} (assumed by people)"
            ),
            assume_role_policy=trusted.apply(lambda p: json.dumps(approver_trust_policy(p))),
            # An approval takes minutes; an hour is the default and the floor people expect.
            max_session_duration=3600,
            permissions_boundary=args.get("permissions_boundary"),
            tags={**(args.get("tags") or {}), **naming.tags},
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                args["pipeline_arn"],
                args.get("release_object_arn"),
                args.get("release_kms_key_arn"),
            ).apply(
                lambda a: json.dumps(
                    approver_role_document(a[0], stage_name, action_name, a[1], a[2])
                )
            ),
            opts=child,
        )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
