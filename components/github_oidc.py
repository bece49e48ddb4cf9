"""The AWS side of GitHub Actions deployments: the OIDC identity provider and two roles per stack.

Defines `GitHubActionsOidc`, which trusts GitHub's OIDC tokens (creating the account's
`token.actions.githubusercontent.com` provider, or using an existing one by ARN) and creates:

- a *preview* role that only `pull_request` runs of one repository can assume, with AWS's
  `ReadOnlyAccess` (enough for `pulumi preview --refresh`) and, when given, access to the
  self-managed state backend;
- a *deploy* role that only jobs running in the stage's GitHub environment of that repository can
  assume, allowed to manage what this project creates (by name prefix where AWS allows it).

Also defines the pure functions that build those policy documents, so tests can read them
without a Pulumi runtime. It does not create anything on the GitHub side: the variables the
workflows read are `components/github_repository.py`'s job.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.boundary import BOUNDARY_CONDITIONED_ROLE_ACTIONS, BOUNDARY_POLICY_EDITS
from components.naming import IAM_ROLE_MAX, NamingContext

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"

_REPOSITORY = re.compile(
    r"^(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})$"
)
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):oidc-provider/(?P<issuer>.+)$"
)

PolicyDocument = dict[str, Any]
Statement = dict[str, Any]


class GitHubActionsOidcArgs(TypedDict):
    """Inputs of `GitHubActionsOidc`."""

    service: str
    """Service name for the naming context: roles are named `{service}-{stage}-gha-<role>`."""
    stage: str
    """Stage (dev, staging, prod). Also the GitHub environment the deploy role trusts: deploy jobs
    must declare `environment: <stage>`."""
    repository: str
    """GitHub repository as `owner/name`, spelled as GitHub spells it (IAM compares the token's
    `sub` claim case-sensitively)."""
    managed_services: NotRequired[Sequence[str]]
    """More services whose resources (`{service}-{stage}-*`) the deploy role may change, besides
    `service`'s own and the stage's shared ones (`{project}-{stage}-*`). Default: none. A stack
    that runs several services' pipelines lists them all."""
    oidc_provider_arn: NotRequired[pulumi.Input[str]]
    """ARN of the account's existing GitHub OIDC provider (an account holds at most one per URL,
    so only one stack per account may create it). Default: a new provider for
    `token.actions.githubusercontent.com` is created."""
    create_oidc_provider: NotRequired[bool]
    """Whether to create the OIDC provider. Default: True when `oidc_provider_arn` is omitted,
    False otherwise. True together with `oidc_provider_arn` is an error."""
    state_bucket_arn: NotRequired[pulumi.Input[str]]
    """ARN of the S3 bucket of a self-managed Pulumi backend. Default: no state bucket access is
    granted (the Pulumi Cloud backend needs none)."""
    state_kms_key_arn: NotRequired[pulumi.Input[str]]
    """ARN of the KMS key of an `awskms://` secrets provider. Default: no KMS access for state."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """The stage's permissions boundary (`components.boundary`): set on both roles, required on
    every role the deploy role creates or changes, and closed to the deploy role's own edits.
    Default: none, and then nothing stops the deploy role from granting itself more."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags, merged over the naming context's tags. Default: only the naming tags."""


# --- Pure helpers: validation and policy documents ---------------------------------------------


def parse_repository(repository: str) -> tuple[str, str]:
    """Split `owner/name`, or raise a ValueError that shows the value and the expected form."""
    match = _REPOSITORY.match(repository)
    if not match:
        raise ValueError(
            f"repository {repository!r} must be 'owner/name' as on GitHub (e.g. 'acme/payments'): "
            "owner is letters, digits and hyphens; name is letters, digits, '.', '_' and '-'"
        )
    return match["owner"], match["name"]


def parse_oidc_provider_arn(arn: str) -> tuple[str, str, str]:
    """(partition, account, issuer) of a GitHub OIDC provider ARN, or a ValueError saying why not.

    The issuer (`token.actions.githubusercontent.com`, or `.../<enterprise>` for a GitHub
    Enterprise Cloud custom issuer) prefixes the trust policy's condition keys. Refusing other
    issuers catches the classic mistake of passing an EKS cluster's OIDC provider.
    """
    match = _OIDC_PROVIDER_ARN.match(arn)
    if not match:
        raise ValueError(
            f"oidc_provider_arn {arn!r} is not an IAM OIDC provider ARN; expected "
            f"'arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}' "
            "(see `aws iam list-open-id-connect-providers`)"
        )
    issuer = match["issuer"]
    if issuer != GITHUB_OIDC_HOST and not issuer.startswith(f"{GITHUB_OIDC_HOST}/"):
        raise ValueError(
            f"oidc_provider_arn {arn!r} is the provider for {issuer!r}, not GitHub Actions' "
            f"{GITHUB_OIDC_HOST!r}: pass the GitHub provider's ARN, or omit oidc_provider_arn "
            "to create it"
        )
    return match["partition"], match["account"], issuer


def preview_subject(repository: str) -> str:
    """The `sub` claim of a GitHub job run for a pull request (no environment) in `repository`."""
    return f"repo:{repository}:pull_request"


def deploy_subject(repository: str, environment: str) -> str:
    """The `sub` claim of a GitHub job that runs in `environment` of `repository`."""
    return f"repo:{repository}:environment:{environment}"


def github_trust_policy(provider_arn: str, subject: str, sid: str) -> PolicyDocument:
    """A trust policy admitting only GitHub OIDC tokens with exactly this `sub` and STS audience.

    StringEquals, not StringLike: a wildcard in `sub` is how repositories end up trusting every
    branch, fork or repository of an organization.
    """
    _, _, issuer = parse_oidc_provider_arn(provider_arn)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": STS_AUDIENCE,
                        f"{issuer}:sub": subject,
                    }
                },
            }
        ],
    }


def state_backend_statements(
    bucket_arn: str | None, kms_key_arn: str | None, *, write: bool
) -> list[Statement]:
    """Access to a self-managed Pulumi backend: read (preview) or read and write (deploy)."""
    statements: list[Statement] = []
    if bucket_arn:
        statements.append(
            {
                "Sid": "StateBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                "Resource": bucket_arn,
            }
        )
        if write:
            statements.append(
                {
                    "Sid": "StateObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{bucket_arn}/*",
                }
            )
        else:
            statements.append(
                {
                    "Sid": "StateObjectsRead",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/*",
                }
            )
            # A preview takes the stack's lock when the backend locks, so it writes lock files.
            statements.append(
                {
                    "Sid": "StateLocks",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{bucket_arn}/.pulumi/locks/*",
                }
            )
    if kms_key_arn:
        actions = ["kms:Decrypt", "kms:DescribeKey"]
        if write:
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        statements.append(
            {
                "Sid": "StateSecretsKey",
                "Effect": "Allow",
                "Action": actions,
                "Resource": kms_key_arn,
            }
        )
    return statements


def preview_policy(bucket_arn: str | None, kms_key_arn: str | None) -> PolicyDocument:
    """What the preview role needs beyond `ReadOnlyAccess`: the state backend, if self-managed."""
    return {
        "Version": "2012-10-17",
        "Statement": state_backend_statements(bucket_arn, kms_key_arn, write=False),
    }


def deploy_policy(
    *,
    partition: str,
    account: str,
    stage: str,
    name_bases: Sequence[str],
    oidc_provider_arn: str | None = None,
    state_bucket_arn: str | None = None,
    state_kms_key_arn: str | None = None,
    boundary_arn: str | None = None,
    own_role_arn: str | None = None,
    role_path: str = "/",
) -> PolicyDocument:
    """What the deploy role may change, beyond reading everything (`ReadOnlyAccess`).

    `name_bases` are the naming context's `{service}-{stage}` and the shared `{project}-{stage}`:
    resources match as `{base}-*`, and the CodeDeploy application (named `{base}` exactly) too.
    Resources whose ARNs carry no name are scoped to this account, or by the `cicd:stage` tag
    where AWS evaluates tag conditions.

    A role that may write IAM roles could grant itself more. With `boundary_arn` it cannot: it
    may create or change only roles that carry that boundary (which caps them and carries the
    same denials), never remove a boundary or edit the boundary policy, and never change
    `own_role_arn` (itself) or its policies. Without a boundary, only who may assume it (the
    protected GitHub environment) and the names it may touch keep it in check. Roles are matched
    under `role_path` (the project's `/{project}/`), so a role made outside the stack is out of
    reach whatever its name.
    """
    p, acct = partition, account

    def by_name(template: str) -> list[str]:
        return [template.format(base=base) for base in name_bases]

    statements: list[Statement] = [
        {
            "Sid": "PipelinesByName",
            "Effect": "Allow",
            "Action": "codepipeline:*",
            "Resource": by_name(f"arn:{p}:codepipeline:*:{acct}:{{base}}-*"),
        },
        {
            "Sid": "BuildProjectsByName",
            "Effect": "Allow",
            "Action": "codebuild:*",
            "Resource": by_name(f"arn:{p}:codebuild:*:{acct}:project/{{base}}-*")
            + by_name(f"arn:{p}:codebuild:*:{acct}:report-group/{{base}}-*"),
        },
        {
            "Sid": "DeploymentsByName",
            "Effect": "Allow",
            "Action": "codedeploy:*",
            "Resource": by_name(f"arn:{p}:codedeploy:*:{acct}:application:{{base}}")
            + by_name(f"arn:{p}:codedeploy:*:{acct}:application:{{base}}-*")
            + by_name(f"arn:{p}:codedeploy:*:{acct}:deploymentgroup:{{base}}/*")
            + by_name(f"arn:{p}:codedeploy:*:{acct}:deploymentgroup:{{base}}-*")
            + by_name(f"arn:{p}:codedeploy:*:{acct}:deploymentconfig:{{base}}-*"),
        },
        {
            # Connection ARNs end in a generated UUID, not the name: AWS leaves nothing to scope
            # by but the account. Both service prefixes, since CodeStar Connections was renamed.
            "Sid": "ConnectionsInAccount",
            "Effect": "Allow",
            "Action": ["codeconnections:*", "codestar-connections:*"],
            "Resource": [
                f"arn:{p}:codeconnections:*:{acct}:connection/*",
                f"arn:{p}:codestar-connections:*:{acct}:connection/*",
            ],
        },
        {
            "Sid": "BucketsByName",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": by_name(f"arn:{p}:s3:::{{base}}-*") + by_name(f"arn:{p}:s3:::{{base}}-*/*"),
        },
        *_role_statements(by_name(f"arn:{p}:iam::{acct}:role{role_path}{{base}}-*"), boundary_arn),
        {
            "Sid": "PassRolesToTheServicesThatUseThem",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": by_name(f"arn:{p}:iam::{acct}:role{role_path}{{base}}-*"),
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": [
                        "codepipeline.amazonaws.com",
                        "codebuild.amazonaws.com",
                        "codedeploy.amazonaws.com",
                        "chatbot.amazonaws.com",
                        "events.amazonaws.com",
                        "lambda.amazonaws.com",
                    ]
                }
            },
        },
        {
            "Sid": "PoliciesByName",
            "Effect": "Allow",
            "Action": [
                "iam:CreatePolicy",
                "iam:DeletePolicy",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ],
            # Exactly the managed policies the stack makes: each service's configuration
            # readers' policy and the stage's boundary. No version may be added to either
            # (`_self_protection`): the readers' policy is attached outside the stack, to
            # instance and function roles that carry no boundary, so what this role could write
            # into it would reach beyond the boundary. It is created once with its document;
            # changing it is an administrator's `pulumi up` (docs/releasing-safely.md).
            "Resource": by_name(f"arn:{p}:iam::{acct}:policy/{{base}}-config-readers")
            + by_name(f"arn:{p}:iam::{acct}:policy/{{base}}-boundary"),
        },
        {
            # Notification rules and Chatbot run as AWS-named service-linked roles.
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:{p}:iam::{acct}:role/aws-service-role/*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "codestar-notifications.amazonaws.com",
                        "management.chatbot.amazonaws.com",
                    ]
                }
            },
        },
        {
            "Sid": "LogGroupsByName",
            "Effect": "Allow",
            "Action": "logs:*",
            "Resource": by_name(f"arn:{p}:logs:*:{acct}:log-group:{{base}}-*")
            + by_name(f"arn:{p}:logs:*:{acct}:log-group:/aws/codebuild/{{base}}-*"),
        },
        {
            "Sid": "AlarmsByName",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:EnableAlarmActions",
                "cloudwatch:DisableAlarmActions",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            "Resource": by_name(f"arn:{p}:cloudwatch:*:{acct}:alarm:{{base}}-*"),
        },
        {
            # Synthetic traffic (components.synthetic_traffic): canaries are `{base}-<target>`,
            # and Synthetics creates each one's function and layer as `cwsyn-<canary>-...`
            # with the caller's permissions.
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html
            "Sid": "CanariesByName",
            "Effect": "Allow",
            "Action": [
                "synthetics:*",
                "lambda:CreateFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:AddPermission",
                "lambda:PublishVersion",
                "lambda:PublishLayerVersion",
                "lambda:DeleteLayerVersion",
                "lambda:GetLayerVersion",
            ],
            "Resource": by_name(f"arn:{p}:synthetics:*:{acct}:canary:{{base}}-*")
            + by_name(f"arn:{p}:lambda:*:{acct}:function:cwsyn-{{base}}-*")
            + by_name(f"arn:{p}:lambda:*:{acct}:layer:cwsyn-{{base}}-*"),
        },
        {
            # Promotion triggers and release forwarding (see components.promotion).
            "Sid": "EventRulesByName",
            "Effect": "Allow",
            "Action": [
                "events:PutRule",
                "events:DeleteRule",
                "events:DescribeRule",
                "events:EnableRule",
                "events:DisableRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:ListTargetsByRule",
                "events:TagResource",
                "events:UntagResource",
                "events:ListTagsForResource",
            ],
            "Resource": by_name(f"arn:{p}:events:*:{acct}:rule/{{base}}-*"),
        },
        {
            # The delivery reporter (components.delivery_reporter): its function, its log, its
            # dead-letter queue and the GitHub token's secret, all named after the stage.
            "Sid": "DeliveryReporterByName",
            "Effect": "Allow",
            "Action": ["lambda:*", "sqs:*", "secretsmanager:*", "logs:*"],
            "Resource": by_name(f"arn:{p}:lambda:*:{acct}:function:{{base}}-*")
            + by_name(f"arn:{p}:sqs:*:{acct}:{{base}}-*")
            + by_name(f"arn:{p}:secretsmanager:*:{acct}:secret:{{base}}-*")
            + by_name(f"arn:{p}:logs:*:{acct}:log-group:/aws/lambda/{{base}}-*"),
        },
        {
            # The stage's delivery dashboard (components.delivery_dashboard); dashboards are
            # global, so their ARNs have no region.
            "Sid": "DashboardsByName",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
            "Resource": by_name(f"arn:{p}:cloudwatch::{acct}:dashboard/{{base}}-*"),
        },
        {
            "Sid": "DefaultBus",
            "Effect": "Allow",
            "Action": "events:DescribeEventBus",
            "Resource": f"arn:{p}:events:*:{acct}:event-bus/default",
        },
        {
            "Sid": "TopicsByName",
            "Effect": "Allow",
            "Action": "sns:*",
            "Resource": by_name(f"arn:{p}:sns:*:{acct}:{{base}}-*"),
        },
        {
            # A key has no ARN until it exists, so creation is scoped by the tag it must carry.
            "Sid": "CreateKeysTaggedForStage",
            "Effect": "Allow",
            "Action": "kms:CreateKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/cicd:stage": stage}},
        },
        {
            # Key ARNs end in a generated ID: scoped by the stage tag every key here carries.
            "Sid": "ManageKeysTaggedForStage",
            "Effect": "Allow",
            "Action": [
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:PutKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:EnableKeyRotation",
                "kms:DisableKeyRotation",
                "kms:UpdateKeyDescription",
                "kms:ListResourceTags",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
                "kms:CreateAlias",
                "kms:DeleteAlias",
                "kms:UpdateAlias",
                "kms:CreateGrant",
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ],
            "Resource": f"arn:{p}:kms:*:{acct}:key/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/cicd:stage": stage}},
        },
        {
            "Sid": "KeyAliasesByName",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": by_name(f"arn:{p}:kms:*:{acct}:alias/{{base}}-*"),
        },
        {
            # Notification rule ARNs end in a generated ID: AWS leaves only the account to scope by.
            "Sid": "NotificationRulesInAccount",
            "Effect": "Allow",
            "Action": "codestar-notifications:*",
            "Resource": f"arn:{p}:codestar-notifications:*:{acct}:notificationrule/*",
        },
        {
            "Sid": "ChatbotChannelsByName",
            "Effect": "Allow",
            "Action": "chatbot:*",
            "Resource": by_name(f"arn:{p}:chatbot::{acct}:chat-configuration/*/{{base}}-*"),
        },
    ]
    statements += _create_statements(stage)
    if boundary_arn:
        statements += _self_protection(
            boundary_arn,
            own_role_arn,
            by_name(f"arn:{p}:iam::{acct}:policy/{{base}}-config-readers"),
        )
    if oidc_provider_arn:
        statements.append(
            {
                "Sid": "GitHubOidcProvider",
                "Effect": "Allow",
                "Action": [
                    "iam:GetOpenIDConnectProvider",
                    "iam:UpdateOpenIDConnectProviderThumbprint",
                    "iam:AddClientIDToOpenIDConnectProvider",
                    "iam:RemoveClientIDFromOpenIDConnectProvider",
                    "iam:TagOpenIDConnectProvider",
                    "iam:UntagOpenIDConnectProvider",
                ],
                "Resource": oidc_provider_arn,
            }
        )
    statements += state_backend_statements(state_bucket_arn, state_kms_key_arn, write=True)
    return {"Version": "2012-10-17", "Statement": statements}


ROLE_READS_AND_UPDATES = (
    # DeleteRole cannot grant anything; whether its request carries iam:PermissionsBoundary is not
    # agreed between AWS's reference and the IAM linter, so it is not conditioned on it.
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
OWN_ROLE_WRITES = (
    *BOUNDARY_CONDITIONED_ROLE_ACTIONS,
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)


def _role_statements(role_arns: list[str], boundary_arn: str | None) -> list[Statement]:
    """Managing the project's roles: with a boundary, only roles that carry it.

    The actions whose request carries `iam:PermissionsBoundary` are conditioned on it; the others
    cannot be, and are harmless to a bounded role (reading, tagging, describing, and a trust
    change, which still leaves whoever assumes the role inside the boundary).
    """
    conditioned = list(BOUNDARY_CONDITIONED_ROLE_ACTIONS)
    if boundary_arn is None:
        return [
            {
                "Sid": "RolesByName",
                "Effect": "Allow",
                "Action": sorted({*conditioned, *ROLE_READS_AND_UPDATES}),
                "Resource": role_arns,
            }
        ]
    return [
        {
            "Sid": "BoundedRolesByName",
            "Effect": "Allow",
            "Action": sorted(conditioned),
            "Resource": role_arns,
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}},
        },
        {
            "Sid": "RolesByName",
            "Effect": "Allow",
            "Action": list(ROLE_READS_AND_UPDATES),
            "Resource": role_arns,
        },
    ]


def _create_statements(stage: str) -> list[Statement]:
    """Actions AWS authorizes on no resource (`"Resource": "*"`): creations limited by the stage
    tag, and the few removals that have no resource type at all.

    The Service Authorization Reference lists no resource type for these actions, only request
    tag conditions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodeconnections.html
    and .../list_chatbot.html. The components tag what they create with `cicd:stage`.
    """
    tagged = {"aws:RequestTag/cicd:stage": stage}
    return [
        {
            "Sid": "CreateGitHubConnectionsTaggedForStage",
            "Effect": "Allow",
            "Action": "codeconnections:CreateConnection",
            "Resource": "*",
            "Condition": {"StringEquals": {**tagged, "codeconnections:ProviderType": "GitHub"}},
        },
        {
            "Sid": "CreateSlackChannelsTaggedForStage",
            "Effect": "Allow",
            "Action": ["chatbot:CreateSlackChannelConfiguration", "chatbot:TagResource"],
            "Resource": "*",
            "Condition": {"StringEquals": tagged},
        },
        {
            # Admitting an upstream account's release events adds one statement to the default
            # bus's policy; PutPermission names no resource, so it cannot be scoped to the bus.
            "Sid": "EventBusPermissions",
            "Effect": "Allow",
            "Action": ["events:PutPermission", "events:RemovePermission"],
            "Resource": "*",
        },
        {
            # Removing a subscription or a notification rule's target: actions with no resource
            # type, needed when a subscriber or a rule is deleted.
            "Sid": "SubscriptionsAndTargetsWithoutArns",
            "Effect": "Allow",
            "Action": [
                "codestar-notifications:DeleteTarget",
                "codestar-notifications:ListTargets",
                "sns:SetSubscriptionAttributes",
                "sns:Unsubscribe",
            ],
            "Resource": "*",
        },
    ]


def _self_protection(
    boundary_arn: str, own_role_arn: str | None, outside_policies: Sequence[str] = ()
) -> list[Statement]:
    """Explicit denials: a Deny wins over any Allow, here or in a policy added later.

    `outside_policies` are managed policies the stack makes for principals it does not make
    (hosts' roles): no new version of them, ever.
    """
    statements: list[Statement] = [
        {
            "Sid": "NoBoundaryPolicyEdit",
            "Effect": "Deny",
            "Action": [*BOUNDARY_POLICY_EDITS, "iam:TagPolicy", "iam:UntagPolicy"],
            "Resource": boundary_arn,
        },
        {
            "Sid": "NoBoundaryRemoval",
            "Effect": "Deny",
            "Action": "iam:DeleteRolePermissionsBoundary",
            "Resource": "*",
        },
    ]
    if outside_policies:
        statements.append(
            {
                "Sid": "NoEditsToPoliciesHeldOutside",
                "Effect": "Deny",
                "Action": [
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion",
                ],
                "Resource": list(outside_policies),
            }
        )
    if own_role_arn:
        statements.append(
            {
                "Sid": "NoChangesToOwnRole",
                "Effect": "Deny",
                "Action": sorted(set(OWN_ROLE_WRITES)),
                "Resource": own_role_arn,
            }
        )
    return statements


# --- The component ------------------------------------------------------------------------------


class GitHubActionsOidc(pulumi.ComponentResource):
    """GitHub's OIDC provider (created or given) and a preview and a deploy role for one stage."""

    preview_role_arn: pulumi.Output[str]
    """Role for `pull_request` runs: read-only, plus the state backend when self-managed."""
    deploy_role_arn: pulumi.Output[str]
    """Role for jobs in the stage's GitHub environment: manages this project's resources."""
    oidc_provider_arn: pulumi.Output[str]
    """The GitHub OIDC provider both roles trust (the created one, or the one given)."""

    def __init__(
        self,
        name: str,
        args: GitHubActionsOidcArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Defaults and validation, all in one place, before anything is registered.
        naming = NamingContext.current(args["service"], args["stage"])
        stage = args["stage"]
        repository = args["repository"]
        parse_repository(repository)
        existing_provider_arn = args.get("oidc_provider_arn")
        create_provider = args.get("create_oidc_provider", existing_provider_arn is None)
        if create_provider and existing_provider_arn is not None:
            raise ValueError(
                f"GitHubActionsOidc {name!r}: oidc_provider_arn {existing_provider_arn!r} was "
                "given and create_oidc_provider is True; an account holds one GitHub OIDC "
                "provider, so choose one: drop oidc_provider_arn to create it here, or drop "
                "create_oidc_provider to use the existing one"
            )
        if not create_provider and existing_provider_arn is None:
            raise ValueError(
                f"GitHubActionsOidc {name!r}: create_oidc_provider is False but no "
                "oidc_provider_arn was given; pass the ARN of the account's GitHub OIDC provider "
                "(`aws iam list-open-id-connect-providers`) or drop create_oidc_provider"
            )
        if isinstance(existing_provider_arn, str):
            # Known now, so fail now; an Output is checked once its value is known.
            parse_oidc_provider_arn(existing_provider_arn)
        state_bucket_arn = args.get("state_bucket_arn")
        state_kms_key_arn = args.get("state_kms_key_arn")
        boundary_arn = args.get("permissions_boundary")
        tags = {**naming.tags, **dict(args.get("tags") or {})}
        # Each managed service's names, and the names of what all services of the stage share.
        managed = [naming.service, *(args.get("managed_services") or [])]
        name_bases = list(
            dict.fromkeys(
                [
                    *(dataclasses.replace(naming, service=service).name("") for service in managed),
                    naming.shared().name(""),
                ]
            )
        )

        super().__init__("delivery:cicd:GitHubActionsOidc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        where = aws_context(self)

        if create_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc-provider",
                url=GITHUB_OIDC_URL,
                client_id_lists=[STS_AUDIENCE],
                tags=tags,
                opts=child,
            )
            provider_arn: pulumi.Output[str] = provider.arn
        else:
            assert existing_provider_arn is not None
            provider_arn = pulumi.Output.from_input(existing_provider_arn)

        preview_role = aws.iam.Role(
            f"{name}-preview-role",
            name=naming.name("gha-preview", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"pulumi preview from pull requests of {repository} ({stage})",
            assume_role_policy=provider_arn.apply(
                lambda arn: json.dumps(
                    github_trust_policy(arn, preview_subject(repository), "GitHubPullRequests")
                )
            ),
            permissions_boundary=boundary_arn,
            tags=tags,
            opts=child,
        )
        deploy_role = aws.iam.Role(
            f"{name}-deploy-role",
            name=naming.name("gha-deploy", IAM_ROLE_MAX),
            path=naming.role_path,
            description=f"pulumi up from the {stage} environment of {repository}",
            assume_role_policy=provider_arn.apply(
                lambda arn: json.dumps(
                    github_trust_policy(arn, deploy_subject(repository, stage), "GitHubEnvironment")
                )
            ),
            permissions_boundary=boundary_arn,
            tags=tags,
            opts=child,
        )

        read_only_arn = provider_arn.apply(
            lambda arn: f"arn:{parse_oidc_provider_arn(arn)[0]}:iam::aws:policy/ReadOnlyAccess"
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only",
            role=preview_role.name,
            policy_arn=read_only_arn,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-deploy-read-only",
            role=deploy_role.name,
            policy_arn=read_only_arn,
            opts=child,
        )

        if state_bucket_arn is not None or state_kms_key_arn is not None:
            aws.iam.RolePolicy(
                f"{name}-preview-state",
                role=preview_role.name,
                policy=pulumi.Output.all(state_bucket_arn, state_kms_key_arn).apply(
                    lambda arns: json.dumps(preview_policy(arns[0], arns[1]))
                ),
                opts=child,
            )

        def deploy_document(values: list[Any]) -> str:
            arn, bucket_arn, kms_key_arn, boundary, own_arn, account, partition = values
            return json.dumps(
                deploy_policy(
                    partition=partition,
                    account=account,
                    stage=stage,
                    name_bases=name_bases,
                    oidc_provider_arn=arn if create_provider else None,
                    state_bucket_arn=bucket_arn,
                    state_kms_key_arn=kms_key_arn,
                    boundary_arn=boundary,
                    own_role_arn=own_arn,
                    role_path=naming.role_path,
                )
            )

        aws.iam.RolePolicy(
            f"{name}-deploy-permissions",
            role=deploy_role.name,
            # One source for the account of every statement: the caller's (`aws_context`), the
            # account the stack runs in; a configured ARN of another account is refused by the
            # config checks before anything is declared.
            policy=pulumi.Output.all(
                provider_arn,
                state_bucket_arn,
                state_kms_key_arn,
                boundary_arn,
                deploy_role.arn,
                where.account_id,
                where.partition,
            ).apply(deploy_document),
            opts=child,
        )

        self.preview_role_arn = preview_role.arn
        self.deploy_role_arn = deploy_role.arn
        self.oidc_provider_arn = provider_arn
        self.register_outputs(
            {
                "preview_role_arn": self.preview_role_arn,
                "deploy_role_arn": self.deploy_role_arn,
                "oidc_provider_arn": self.oidc_provider_arn,
            }
        )
