"""Tell a release topic what was done: one SNS Publish, with KMS refusals worded.

The release topics are encrypted with a KMS key; a publisher needs kms:GenerateDataKey and
kms:Decrypt on that key besides sns:Publish on the topic (SNS developer guide, "Allow a user to
send messages to a topic with SSE"), and the key's policy must allow it too. What to say is
`cicd.render.operations`; this module sends it.
"""

from __future__ import annotations

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.errors import AwsError

# SNS's errors when the topic's key refuses the publisher (Publish API reference, Errors).
KMS_REFUSALS = {
    "KMSAccessDenied",
    "KMSAccessDeniedException",
    "KMSDisabled",
    "KMSDisabledException",
    "KMSInvalidState",
    "KMSInvalidStateException",
    "KMSNotFound",
    "KMSNotFoundException",
    "KMSOptInRequired",
}


def announce(sns: BaseClient, topic_arn: str, subject: str, message: str) -> str:
    """Publish `message` to the topic; returns SNS's message id."""
    try:
        response = sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in KMS_REFUSALS:
            raise AwsError(
                f"the release topic's KMS key refused the message ({code})",
                "publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on "
                "its key, granted by the key policy and your IAM policy",
            ) from error
        raise
    return str(response["MessageId"])
