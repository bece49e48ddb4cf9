"""Where release news goes: one encrypted SNS topic per pipeline, its publishers and its readers.

Defines `ReleaseNotifications`, which creates the topic (encrypted with a customer-managed KMS key
it creates, or one it is given), a topic policy naming exactly who may publish, email and HTTPS
subscriptions, a CodeStar Notifications rule that reports the pipeline's executions and pending
approvals to the topic, and optionally an AWS Chatbot Slack channel subscribed to it. The policy
documents are built by the pure functions `topic_policy_document`, `key_policy_document` and
`chatbot_trust_policy`.

It does not create the publishers. Who publishes, and as whom:
- CodeStar Notifications (the rule made here) publishes as its service principal
  `codestar-notifications.amazonaws.com`.
- A CodePipeline manual-approval action publishes as the *pipeline's service role*, not as a
  service principal; CodeDeploy triggers publish as the *CodeDeploy service role*. Pass those role
  ARNs in `publisher_role_arns`. The topic and key policies name them directly, which is enough
  within one account: the roles need no extra identity policy to publish here.

Pending approvals reach the topic once, from the approval action's `NotificationArn` (its message
carries the action's CustomData, which names the commit, and the review link); the rule leaves out
the `manual-approval-needed` event, which would announce the same approval a second time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.naming import IAM_ROLE_MAX, NamingContext

# One "@", a dot in the domain, no spaces. The stack config checks its `emails` with the same
# pattern, so a stack file and a team calling the component directly meet one rule.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CODESTAR_NOTIFICATIONS_PRINCIPAL = "codestar-notifications.amazonaws.com"
CHATBOT_PRINCIPAL = "chatbot.amazonaws.com"

# Event ids: https://docs.aws.amazon.com/dtconsole/latest/userguide/concepts.html#events-ref-pipeline
# Not `codepipeline-pipeline-manual-approval-needed`: the approval action itself announces a
# pending approval (with the commit), and both would reach the same subscribers.
PIPELINE_EVENT_TYPE_IDS = (
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-pipeline-execution-succeeded",
    "codepipeline-pipeline-pipeline-execution-superseded",
)

# SNS topic names allow 256 characters, notification rule names 64, Chatbot configuration
# names 128.
TOPIC_NAME_MAX = 256
NOTIFICATION_RULE_NAME_MAX = 64
CHATBOT_CONFIGURATION_NAME_MAX = 128

# SNS encrypts each message under a data key whose encryption context names the topic; the key
# policy matches on it so the key serves this topic and no other.
SNS_TOPIC_CONTEXT_KEY = "kms:EncryptionContext:aws:sns:topicArn"
KMS_PUBLISH_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")

# The AWS managed key's policy cannot be edited, so it can never grant CodeStar Notifications
# (or any other service principal) the right to encrypt: notifications to a topic encrypted with
# it are dropped without an error.
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


class SlackChannelArgs(TypedDict):
    """An AWS Chatbot Slack channel. The workspace must already be authorized in AWS Chatbot."""

    workspace_id: str
    """Slack workspace (team) ID, e.g. `T07EA123LEP`."""
    channel_id: str
    """Slack channel ID, e.g. `C07EZ1ABC23`."""


class ReleaseNotificationsArgs(TypedDict):
    """Inputs of `ReleaseNotifications`."""

    service: str
    """Service name for naming and tags (`{service}-{stage}-releases`)."""
    stage: str
    """Environment stage for naming and tags, e.g. `prod`."""
    pipeline_arn: NotRequired[pulumi.Input[str]]
    """ARN of the pipeline the notification rule watches. Omitted: no rule here; create one
    with `PipelineNotificationRule` once the pipeline exists (the pipeline may need this topic
    first, e.g. for CodeDeploy triggers and approval notices)."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """ARN of a customer-managed key that encrypts the topic; its key policy must already let
    `codestar-notifications.amazonaws.com` and the publisher roles use `kms:GenerateDataKey*` and
    `kms:Decrypt`. `alias/aws/sns` is refused (see `AWS_MANAGED_SNS_KEY`).
    Default: a key with rotation is created, with exactly those grants."""
    publisher_role_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """IAM role ARNs allowed to publish besides CodeStar Notifications: the pipeline role (manual
    approval notifications) and the CodeDeploy service role (deployment triggers).
    Default: none; only CodeStar Notifications publishes."""
    email: NotRequired[Sequence[str]]
    """Email addresses to subscribe; each must confirm from the email AWS sends.
    Default: no email subscriptions."""
    https: NotRequired[Sequence[str]]
    """`https://` URLs to subscribe; each endpoint must confirm the subscription.
    Default: no HTTPS subscriptions."""
    slack: NotRequired[SlackChannelArgs]
    """Slack channel to post to through AWS Chatbot. Default: no Chatbot configuration."""
    protect_topic: NotRequired[bool]
    """Protect the topic (and the key created for it) from deletion and keep them in AWS when
    removed from the program. Default: False."""
    permissions_boundary: NotRequired[pulumi.Input[str]]
    """Managed policy set as the permissions boundary of every role created here
    (`components.boundary`). Omitted: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags; the naming context's `cicd:*` tags always win. Default: none."""


def subscription_key(protocol: str, endpoint: str) -> str:
    """A stable, short key for one subscription, used in its logical name.

    A hash rather than the endpoint itself keeps email addresses out of URNs and state file
    keys; it depends only on the endpoint, so adding or reordering subscriptions renames none.
    """
    return hashlib.sha256(f"{protocol}:{endpoint}".encode()).hexdigest()[:10]


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def topic_policy_document(
    topic_arn: str, account_id: str, publisher_role_arns: Sequence[str]
) -> dict[str, Any]:
    """The topic policy: CodeStar Notifications from this account, and the given roles, publish.

    Nothing else is granted: the account's own principals manage the topic through their
    identity policies, which same-account access allows without a statement here.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "CodeStarNotificationsPublish",
            "Effect": "Allow",
            "Principal": {"Service": CODESTAR_NOTIFICATIONS_PRINCIPAL},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            # Only on behalf of notification rules in this account (confused deputy).
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    ]
    roles = _unique(publisher_role_arns)
    if roles:
        statements.append(
            {
                "Sid": "ReleaseRolesPublish",
                "Effect": "Allow",
                "Principal": {"AWS": roles},
                "Action": "sns:Publish",
                "Resource": topic_arn,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def key_policy_document(
    *,
    partition: str,
    account_id: str,
    region: str,
    dns_suffix: str,
    topic_arn: str,
    publisher_role_arns: Sequence[str],
) -> dict[str, Any]:
    """The key policy of the topic's key: the account administers it; publishers encrypt with it.

    In a key policy `"Resource": "*"` means this key and nothing else; AWS requires that form.
    """
    statements: list[dict[str, Any]] = [
        {
            # Delegates control to IAM in this account, as AWS's default key policy does; without
            # it the key could become unmanageable.
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            # CodeStar Notifications publishes through SNS, which asks KMS on its behalf; AWS's
            # set-up page for encrypted notification topics grants the service principal these
            # actions with kms:ViaService for SNS (it documents no aws:SourceAccount for this call,
            # and a condition on a key the service does not send would drop every notice):
            # https://docs.aws.amazon.com/dtconsole/latest/userguide/set-up-sns.html
            # The encryption context names the topic, so the grant serves this topic only.
            "Sid": "CodeStarNotificationsEncryptForTopic",
            "Effect": "Allow",
            "Principal": {"Service": CODESTAR_NOTIFICATIONS_PRINCIPAL},
            "Action": list(KMS_PUBLISH_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"sns.{region}.{dns_suffix}",
                    SNS_TOPIC_CONTEXT_KEY: topic_arn,
                }
            },
        },
    ]
    roles = _unique(publisher_role_arns)
    if roles:
        statements.append(
            {
                "Sid": "ReleaseRolesEncryptForTopic",
                "Effect": "Allow",
                "Principal": {"AWS": roles},
                "Action": list(KMS_PUBLISH_ACTIONS),
                "Resource": "*",
                # Only when SNS asks on the role's behalf, for this topic.
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": f"sns.{region}.{dns_suffix}",
                        SNS_TOPIC_CONTEXT_KEY: topic_arn,
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def chatbot_trust_policy() -> dict[str, Any]:
    """Trust policy of the Chatbot channel role.

    AWS documents no `aws:SourceAccount`/`aws:SourceArn` support for Chatbot assuming a channel
    role, so the trust is the bare service principal; the role grants nothing, so there is nothing
    for a confused deputy to borrow.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": CHATBOT_PRINCIPAL},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _check_endpoints(email: Sequence[str], https: Sequence[str]) -> None:
    for address in email:
        if not EMAIL.fullmatch(address):
            raise ValueError(
                f"release notifications: email {address!r} is not an email address; "
                "give addresses such as 'team@example.com'"
            )
    for url in https:
        if not url.startswith("https://") or len(url) <= len("https://"):
            raise ValueError(
                f"release notifications: https {url!r} must be an https:// URL; plain http "
                "would send release details unencrypted"
            )
    for arg, values in (("email", email), ("https", https)):
        duplicates = sorted({v for v in values if list(values).count(v) > 1})
        if duplicates:
            raise ValueError(
                f"release notifications: {arg} lists {duplicates} more than once; "
                "each endpoint must appear once"
            )


class ReleaseNotifications(pulumi.ComponentResource):
    """An encrypted SNS topic with the pipeline's release events, subscriptions and Slack."""

    topic_arn: pulumi.Output[str]
    """ARN of the topic, e.g. for a manual-approval action's `NotificationArn`."""
    kms_key_arn: pulumi.Output[str]
    """ARN of the key encrypting the topic: the one created here or the one given."""
    notification_rule_arn: pulumi.Output[str | None]
    """ARN of the CodeStar Notifications rule watching the pipeline (None without pipeline_arn)."""

    def __init__(
        self,
        name: str,
        args: ReleaseNotificationsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        naming = NamingContext.current(args["service"], args["stage"])
        pipeline_arn = args.get("pipeline_arn")
        given_key_arn = args.get("kms_key_arn")
        publisher_role_arns = list(args.get("publisher_role_arns", []))
        email = list(args.get("email", []))
        https = list(args.get("https", []))
        slack = args.get("slack")
        protect_topic = args.get("protect_topic", False)
        tags = {**args.get("tags", {}), **naming.tags}
        if isinstance(given_key_arn, str) and given_key_arn.endswith(AWS_MANAGED_SNS_KEY):
            raise ValueError(
                f"release notifications: kms_key_arn {given_key_arn!r} is the AWS managed SNS "
                "key, whose policy cannot grant CodeStar Notifications; give a customer-managed "
                "key's ARN or omit kms_key_arn to create one"
            )
        _check_endpoints(email, https)
        if slack is not None and not (slack.get("workspace_id") and slack.get("channel_id")):
            raise ValueError(
                f"release notifications: slack {dict(slack)!r} needs both workspace_id and "
                "channel_id (from the AWS Chatbot console or the Slack channel's details)"
            )

        super().__init__("delivery:cicd:ReleaseNotifications", name, None, opts)

        child = pulumi.ResourceOptions(parent=self)

        def kept() -> pulumi.ResourceOptions:
            # A retained topic is useless once its key is deleted, so the key follows the topic.
            return pulumi.ResourceOptions(
                parent=self, protect=protect_topic, retain_on_delete=protect_topic
            )

        where = aws_context(self)
        account_id, region = where.account_id, where.region
        topic_name = naming.name("releases", TOPIC_NAME_MAX)
        # Known before the topic exists, so the key policy can name the topic it serves.
        expected_topic_arn = pulumi.Output.format(
            "arn:{0}:sns:{1}:{2}:{3}", where.partition, region, account_id, topic_name
        )

        if given_key_arn is None:
            key = aws.kms.Key(
                f"{name}-key",
                description=f"Encrypts the {topic_name} SNS topic",
                enable_key_rotation=True,
                policy=pulumi.Output.all(
                    where.partition,
                    account_id,
                    region,
                    where.dns_suffix,
                    expected_topic_arn,
                    *publisher_role_arns,
                ).apply(
                    lambda v: json.dumps(
                        key_policy_document(
                            partition=v[0],
                            account_id=v[1],
                            region=v[2],
                            dns_suffix=v[3],
                            topic_arn=v[4],
                            publisher_role_arns=v[5:],
                        )
                    )
                ),
                tags=tags,
                opts=kept(),
            )
            key_arn: pulumi.Output[str] = key.arn
        else:
            key_arn = pulumi.Output.from_input(given_key_arn)

        topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            display_name=f"{naming.service} {naming.stage} releases",
            kms_master_key_id=key_arn,
            tags=tags,
            opts=kept(),
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account_id, *publisher_role_arns).apply(
                lambda v: json.dumps(topic_policy_document(v[0], v[1], v[2:]))
            ),
            opts=child,
        )

        for protocol, endpoints in (("email", email), ("https", https)):
            for endpoint in endpoints:
                aws.sns.TopicSubscription(
                    f"{name}-{protocol}-{subscription_key(protocol, endpoint)}",
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    opts=child,
                )

        # Resolves only once the topic policy exists, so whoever publishes through this output
        # (a notification rule, CodeDeploy triggers) is created after it is allowed to.
        publishable_topic_arn = pulumi.Output.all(topic.arn, topic_policy.id).apply(lambda v: v[0])
        rule_arn: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if pipeline_arn is not None:
            rule_arn = _notification_rule(
                f"{name}-rule", naming, pipeline_arn, publishable_topic_arn, tags, child
            )

        if slack is not None:
            role = aws.iam.Role(
                f"{name}-chatbot",
                name=naming.name("chatbot", IAM_ROLE_MAX),
                path=naming.role_path,
                description="AWS Chatbot channel role for release notifications; grants nothing",
                assume_role_policy=json.dumps(chatbot_trust_policy()),
                permissions_boundary=args.get("permissions_boundary"),
                tags=tags,
                opts=child,
            )
            aws.chatbot.SlackChannelConfiguration(
                f"{name}-slack",
                configuration_name=naming.name("releases", CHATBOT_CONFIGURATION_NAME_MAX),
                iam_role_arn=role.arn,
                slack_team_id=slack["workspace_id"],
                slack_channel_id=slack["channel_id"],
                sns_topic_arns=[topic.arn],
                # Without a guardrail AWS applies AdministratorAccess as the channel's ceiling;
                # this channel only relays notifications, so nobody may run commands from it.
                guardrail_policy_arns=[
                    pulumi.Output.format("arn:{0}:iam::aws:policy/AWSDenyAll", where.partition)
                ],
                logging_level="ERROR",
                tags=tags,
                opts=child,
            )

        self.topic_arn = publishable_topic_arn
        self.kms_key_arn = key_arn
        self.notification_rule_arn = rule_arn
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "kms_key_arn": self.kms_key_arn,
                "notification_rule_arn": self.notification_rule_arn,
            }
        )


def _notification_rule(
    name: str,
    naming: NamingContext,
    pipeline_arn: pulumi.Input[str],
    topic_arn: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    rule = aws.codestarnotifications.NotificationRule(
        name,
        name=naming.name("releases", NOTIFICATION_RULE_NAME_MAX),
        resource=pipeline_arn,
        detail_type="FULL",
        event_type_ids=list(PIPELINE_EVENT_TYPE_IDS),
        targets=[{"address": topic_arn, "type": "SNS"}],
        tags=dict(tags),
        opts=opts,
    )
    return rule.arn


class PipelineNotificationRuleArgs(TypedDict):
    """Inputs of `PipelineNotificationRule`."""

    service: str
    """Service name for naming and tags (`{service}-{stage}-releases`)."""
    stage: str
    """Environment stage for naming and tags, e.g. `prod`."""
    pipeline_arn: pulumi.Input[str]
    """The pipeline whose executions and pending approvals are reported."""
    topic_arn: pulumi.Input[str]
    """A topic CodeStar Notifications may publish to, e.g. `ReleaseNotifications.topic_arn`."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags; the naming context's `cicd:*` tags always win. Default: none."""


class PipelineNotificationRule(pulumi.ComponentResource):
    """The CodeStar Notifications rule for a pipeline that already exists, to a given topic."""

    notification_rule_arn: pulumi.Output[str]
    """ARN of the CodeStar Notifications rule."""

    def __init__(
        self,
        name: str,
        args: PipelineNotificationRuleArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("delivery:cicd:PipelineNotificationRule", name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        tags = {**args.get("tags", {}), **naming.tags}
        self.notification_rule_arn = _notification_rule(
            f"{name}-rule",
            naming,
            args["pipeline_arn"],
            args["topic_arn"],
            tags,
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"notification_rule_arn": self.notification_rule_arn})
