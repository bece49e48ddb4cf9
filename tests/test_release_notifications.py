"""Release notifications: encrypted topic, exact publishers, stable subscriptions, rule, Slack."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.release_notifications import (
    PIPELINE_EVENT_TYPE_IDS,
    ReleaseNotifications,
    ReleaseNotificationsArgs,
    subscription_key,
)
from tests.harness import (
    ACCOUNT,
    REGION,
    Recorder,
    reset_pulumi,
    run_pulumi,
)

PIPELINE_ARN = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-dev-pipeline"
PIPELINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-dev-pipeline"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-dev-codedeploy"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders-dev-releases"
GIVEN_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5e0c1c-shared"

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
RULE = "aws:codestarnotifications/notificationRule:NotificationRule"
ROLE = "aws:iam/role:Role"
SLACK = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
COMPONENT = "delivery:cicd:ReleaseNotifications"


def _args() -> ReleaseNotificationsArgs:
    return {"service": "orders", "stage": "dev", "pipeline_arn": PIPELINE_ARN}


def _run(args: ReleaseNotificationsArgs) -> dict[str, Any]:
    outputs: dict[str, Any] = {}

    def program() -> Any:
        notifications = ReleaseNotifications("releases", args)
        return pulumi.Output.all(
            topic_arn=notifications.topic_arn,
            kms_key_arn=notifications.kms_key_arn,
            notification_rule_arn=notifications.notification_rule_arn,
        ).apply(outputs.update)

    run_pulumi(program)
    return outputs


def _statements(document_json: str) -> dict[str, dict[str, Any]]:
    document = json.loads(document_json)
    assert document["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_topic_is_encrypted_with_a_created_key_that_rotates(mocks: Recorder) -> None:
    outputs = _run(_args())

    key = mocks.one(KEY, "releases-key")
    topic = mocks.one(TOPIC, "releases-topic")
    assert key.inputs["enableKeyRotation"] is True, "releases key rotation"
    assert topic.inputs["name"] == "orders-dev-releases", "releases topic name"
    assert topic.inputs["kmsMasterKeyId"] == key.state["arn"], "releases topic is encrypted"
    assert outputs == {
        "topic_arn": TOPIC_ARN,
        "kms_key_arn": key.state["arn"],
        "notification_rule_arn": mocks.one(RULE).state["arn"],
    }


def test_the_key_policy_lets_the_account_administer_and_exactly_the_publishers_encrypt(
    mocks: Recorder,
) -> None:
    args = _args()
    args["publisher_role_arns"] = [PIPELINE_ROLE, pulumi.Output.from_input(DEPLOY_ROLE)]
    _run(args)

    statements = _statements(mocks.one(KEY).inputs["policy"])
    assert set(statements) == {
        "AccountAdministersKey",
        "CodeStarNotificationsEncryptForTopic",
        "ReleaseRolesEncryptForTopic",
    }, "releases key policy statements"
    admin = statements["AccountAdministersKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "key administrator"
    codestar = statements["CodeStarNotificationsEncryptForTopic"]
    assert codestar["Principal"] == {"Service": "codestar-notifications.amazonaws.com"}
    assert codestar["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    # The documented condition: through SNS in this region (no aws:SourceAccount, which AWS does
    # not document for this call and would silently drop every notice if absent).
    assert codestar["Condition"] == {
        "StringEquals": {
            "kms:ViaService": f"sns.{REGION}.amazonaws.com",
            "kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN,
        }
    }, "CodeStar Notifications may encrypt through SNS, for this topic only"
    roles = statements["ReleaseRolesEncryptForTopic"]
    assert roles["Principal"] == {"AWS": [PIPELINE_ROLE, DEPLOY_ROLE]}, "publisher roles"
    assert roles["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert roles["Condition"] == {
        "StringEquals": {
            "kms:ViaService": f"sns.{REGION}.amazonaws.com",
            "kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN,
        }
    }, "publisher roles may use the key only through SNS, for this topic"


def test_the_topic_policy_allows_exactly_codestar_notifications_and_the_listed_roles(
    mocks: Recorder,
) -> None:
    args = _args()
    args["publisher_role_arns"] = [PIPELINE_ROLE, DEPLOY_ROLE, PIPELINE_ROLE]
    _run(args)

    policy = mocks.one(TOPIC_POLICY, "releases-topic-policy")
    assert policy.inputs["arn"] == TOPIC_ARN, "releases topic policy is on the releases topic"
    statements = _statements(policy.inputs["policy"])
    assert statements == {
        "CodeStarNotificationsPublish": {
            "Sid": "CodeStarNotificationsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "codestar-notifications.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        "ReleaseRolesPublish": {
            "Sid": "ReleaseRolesPublish",
            "Effect": "Allow",
            "Principal": {"AWS": [PIPELINE_ROLE, DEPLOY_ROLE]},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
        },
    }, "releases topic policy"


def test_without_publisher_roles_only_codestar_notifications_may_publish_or_encrypt(
    mocks: Recorder,
) -> None:
    _run(_args())

    topic_statements = _statements(mocks.one(TOPIC_POLICY).inputs["policy"])
    assert list(topic_statements) == ["CodeStarNotificationsPublish"], "releases topic policy"
    key_statements = _statements(mocks.one(KEY).inputs["policy"])
    assert list(key_statements) == [
        "AccountAdministersKey",
        "CodeStarNotificationsEncryptForTopic",
    ], "releases key policy"


def test_a_given_key_encrypts_the_topic_and_no_key_is_created(mocks: Recorder) -> None:
    args = _args()
    args["kms_key_arn"] = GIVEN_KEY
    outputs = _run(args)

    assert mocks.of_type(KEY) == [], "no key is created when one is given"
    assert mocks.one(TOPIC).inputs["kmsMasterKeyId"] == GIVEN_KEY, "releases topic key"
    assert outputs["kms_key_arn"] == GIVEN_KEY


@pytest.mark.parametrize("key", ["alias/aws/sns", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sns"])
def test_the_aws_managed_sns_key_is_refused(mocks: Recorder, key: str) -> None:
    args = _args()
    args["kms_key_arn"] = key

    with pytest.raises(ValueError, match=r"kms_key_arn .* is the AWS managed SNS key"):
        run_pulumi(lambda: ReleaseNotifications("releases", args))
    assert mocks.resources == [], "nothing is declared when the args are invalid"


def test_subscriptions_are_named_by_a_stable_key_of_their_endpoint(mocks: Recorder) -> None:
    args = _args()
    args["email"] = ["ops@example.com", "lead@example.com"]
    args["https"] = ["https://hooks.example.com/releases"]
    _run(args)
    first = {
        r.name: (r.inputs["protocol"], r.inputs["endpoint"]) for r in mocks.of_type(SUBSCRIPTION)
    }

    assert first == {
        f"releases-email-{subscription_key('email', 'ops@example.com')}": (
            "email",
            "ops@example.com",
        ),
        f"releases-email-{subscription_key('email', 'lead@example.com')}": (
            "email",
            "lead@example.com",
        ),
        f"releases-https-{subscription_key('https', 'https://hooks.example.com/releases')}": (
            "https",
            "https://hooks.example.com/releases",
        ),
    }, "one subscription per endpoint, named by its key"
    for subscription in mocks.of_type(SUBSCRIPTION):
        assert subscription.inputs["topic"] == TOPIC_ARN, f"{subscription.name} topic"
        assert "@" not in subscription.name, f"{subscription.name} keeps the address out of URNs"

    again = Recorder()
    reset_pulumi("dev", again)
    args["email"] = ["new@example.com", *args["email"]]
    _run(args)
    second = {
        r.name: (r.inputs["protocol"], r.inputs["endpoint"]) for r in again.of_type(SUBSCRIPTION)
    }
    assert first.items() <= second.items(), "adding a subscription in front renames no other"
    assert len(second) == 4


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("email", ["not-an-address"], r"email 'not-an-address' is not an email address"),
        ("email", ["a@example.com", "a@example.com"], r"email lists \['a@example.com'\] more"),
        ("https", ["http://hooks.example.com"], r"https 'http://hooks.example.com' must be an"),
    ],
)
def test_invalid_subscription_endpoints_are_refused(
    mocks: Recorder, key: str, values: list[str], message: str
) -> None:
    args = _args()
    if key == "email":
        args["email"] = values
    else:
        args["https"] = values

    with pytest.raises(ValueError, match=message):
        run_pulumi(lambda: ReleaseNotifications("releases", args))


def test_the_notification_rule_reports_executions_but_leaves_approvals_to_the_action(
    mocks: Recorder,
) -> None:
    _run(_args())

    rule = mocks.one(RULE, "releases-rule")
    assert rule.inputs["resource"] == PIPELINE_ARN, "releases rule watches the pipeline"
    assert rule.inputs["detailType"] == "FULL", "releases rule detail"
    assert (
        sorted(rule.inputs["eventTypeIds"])
        == sorted(
            [
                "codepipeline-pipeline-pipeline-execution-failed",
                "codepipeline-pipeline-pipeline-execution-succeeded",
                "codepipeline-pipeline-pipeline-execution-superseded",
            ]
        )
        == sorted(PIPELINE_EVENT_TYPE_IDS)
    ), "releases rule event types: approvals are announced once, by the approval action"
    assert rule.inputs["targets"] == [{"address": TOPIC_ARN, "type": "SNS"}], "releases rule target"
    assert rule.inputs["name"] == "orders-dev-releases", "releases rule name"


def test_no_chatbot_resources_exist_without_a_slack_channel(mocks: Recorder) -> None:
    _run(_args())

    assert mocks.of_type(SLACK) == [], "no Slack channel configuration without `slack`"
    assert mocks.of_type(ROLE) == [], "no Chatbot role without `slack`"


def test_a_slack_channel_gets_a_chatbot_configuration_with_a_role_that_grants_nothing(
    mocks: Recorder,
) -> None:
    args = _args()
    args["slack"] = {"workspace_id": "T07EA123LEP", "channel_id": "C07EZ1ABC23"}
    _run(args)

    slack = mocks.one(SLACK, "releases-slack")
    role = mocks.one(ROLE, "releases-chatbot")
    assert slack.inputs["slackTeamId"] == "T07EA123LEP", "Slack workspace"
    assert slack.inputs["slackChannelId"] == "C07EZ1ABC23", "Slack channel"
    assert slack.inputs["snsTopicArns"] == [TOPIC_ARN], "Slack channel subscribes to the topic"
    assert slack.inputs["iamRoleArn"] == role.state["arn"], "Slack channel role"
    assert slack.inputs["guardrailPolicyArns"] == ["arn:aws:iam::aws:policy/AWSDenyAll"], (
        "Slack channel guardrail forbids running commands"
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "chatbot.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ], "Chatbot role trust"
    assert "managedPolicyArns" not in role.inputs, "Chatbot role has no managed policies"
    assert "inlinePolicies" not in role.inputs, "Chatbot role has no inline policies"
    assert [r.typ for r in mocks.resources if role.urn and r.parent == role.urn] == [], (
        "nothing attaches permissions to the Chatbot role"
    )


def test_a_slack_channel_without_ids_is_refused(mocks: Recorder) -> None:
    args = _args()
    args["slack"] = {"workspace_id": "T07EA123LEP", "channel_id": ""}

    with pytest.raises(ValueError, match=r"slack .* needs both workspace_id and channel_id"):
        run_pulumi(lambda: ReleaseNotifications("releases", args))


@pytest.mark.parametrize("protect", [True, False])
def test_the_topic_and_its_key_are_protected_and_retained_only_when_asked(
    mocks: Recorder, protect: bool
) -> None:
    args = _args()
    args["slack"] = {"workspace_id": "T07EA123LEP", "channel_id": "C07EZ1ABC23"}
    args["email"] = ["ops@example.com"]
    if protect:
        args["protect_topic"] = True
    _run(args)

    kept = {r.name for r in mocks.resources if r.protect or r.retain_on_delete}
    expected = {"releases-topic", "releases-key"} if protect else set()
    assert kept == expected, "protected or retained resources"
    for name in expected:
        resource = mocks.by_name(name)
        assert resource.protect and resource.retain_on_delete, f"{name} protect and retain"


def test_every_child_is_parented_tagged_and_keeps_its_logical_name(mocks: Recorder) -> None:
    args = _args()
    args["slack"] = {"workspace_id": "T07EA123LEP", "channel_id": "C07EZ1ABC23"}
    args["tags"] = {"team": "payments", "cicd:stage": "overridden"}
    _run(args)

    component = mocks.one(COMPONENT, "releases")
    children = [r for r in mocks.resources if r.typ != COMPONENT]
    for child in children:
        assert child.parent == component.urn, f"{child.name} is parented to the component"
    for child in children:
        if "tags" in child.inputs:
            assert child.inputs["tags"]["team"] == "payments", f"{child.name} extra tags"
            assert child.inputs["tags"]["cicd:stage"] == "dev", f"{child.name} naming tags win"
    tagged = {r.name for r in children if "tags" in r.inputs}
    assert tagged == {
        "releases-key",
        "releases-topic",
        "releases-rule",
        "releases-chatbot",
        "releases-slack",
    }, "every taggable resource is tagged"
    # Renaming a stateful resource's logical name or parent type replaces it: a contract. The
    # mock monitor's URN prefix differs from the engine's, so the part that matters is compared.
    assert sorted(r.urn.split("::", 2)[2] for r in mocks.resources if r.typ in (TOPIC, KEY)) == [
        "delivery:cicd:ReleaseNotifications$aws:kms/key:Key::releases-key",
        "delivery:cicd:ReleaseNotifications$aws:sns/topic:Topic::releases-topic",
    ], "stateful resource URNs"
