"""Which input changes make the Pulumi engine replace a resource, per type this program declares.

Defines `REPLACE_ON_CHANGE` (type token -> top-level input names) and `forces_replacement`.

Source: pulumi-aws and pulumi-github are bridged from the Terraform providers, and the engine
replaces a resource when a changed input is `ForceNew: true` in the Terraform schema (the
provider answers the engine's Diff with `replaces`). The Pulumi SDKs do not carry that flag, so
this table restates it for the types this repository declares, from the Terraform providers'
schemas (hashicorp/terraform-provider-aws `internal/service/<service>/<resource>.go` and
integrations/terraform-provider-github; e.g. `aws_iam_policy`'s `name`, `name_prefix`, `path`
and `description`, and `aws_codedeploy_app`'s `compute_platform`, where `name` is updated in
place). It is a subset, kept by hand: an input missing here shows as an update, and only a real
`pulumi preview` (which asks the provider) is authoritative. Components are never replaced; a
resource whose URN changes (renamed, or moved under another parent) is reported by the diff as
moved, since without an alias the engine deletes the old one and creates the new one.
"""

from __future__ import annotations

from collections.abc import Mapping

# Settings resources of a bucket all name it in `bucket` (and `expectedBucketOwner`).
_BUCKET_SETTING = frozenset({"bucket", "expectedBucketOwner"})

REPLACE_ON_CHANGE: Mapping[str, frozenset[str]] = {
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset({"bucket"}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
    "aws:s3/bucketVersioning:BucketVersioning": _BUCKET_SETTING,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _BUCKET_SETTING
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _BUCKET_SETTING,
    "aws:s3/bucketPolicy:BucketPolicy": frozenset({"bucket"}),
    "aws:s3/bucketNotification:BucketNotification": frozenset({"bucket"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/policy:Policy": frozenset({"name", "namePrefix", "path", "description"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": frozenset({"url"}),
    "aws:codebuild/project:Project": frozenset({"name"}),
    "aws:codepipeline/pipeline:Pipeline": frozenset({"name"}),
    "aws:codedeploy/application:Application": frozenset({"computePlatform"}),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": frozenset({"appName"}),
    "aws:codedeploy/deploymentConfig:DeploymentConfig": frozenset(
        {"deploymentConfigName", "computePlatform", "minimumHealthyHosts", "trafficRoutingConfig"}
    ),
    "aws:codeconnections/connection:Connection": frozenset({"name", "providerType", "hostArn"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "logGroupClass"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:cloudwatch/eventRule:EventRule": frozenset({"name", "namePrefix", "eventBusName"}),
    "aws:cloudwatch/eventTarget:EventTarget": frozenset({"rule", "targetId", "eventBusName"}),
    "aws:kms/key:Key": frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion"}),
    "aws:sns/topic:Topic": frozenset({"name", "namePrefix", "fifoTopic"}),
    "aws:sns/topicPolicy:TopicPolicy": frozenset({"arn"}),
    "aws:sns/topicSubscription:TopicSubscription": frozenset({"topic", "protocol", "endpoint"}),
    "aws:codestarnotifications/notificationRule:NotificationRule": frozenset({"resource"}),
    "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration": frozenset(
        {"slackTeamId", "slackChannelId"}
    ),
    # The delivery reporter's and the dashboard's (issue 21).
    "aws:sqs/queue:Queue": frozenset({"name", "namePrefix", "fifoQueue"}),
    "aws:sqs/queuePolicy:QueuePolicy": frozenset({"queueUrl"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset({"secretId"}),
    "aws:lambda/function:Function": frozenset({"name"}),
    "aws:lambda/permission:Permission": frozenset(
        {"action", "function", "principal", "sourceArn", "statementId", "qualifier"}
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": frozenset(
        {"functionName", "qualifier"}
    ),
    "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardName"}),
    "github:index/repositoryEnvironment:RepositoryEnvironment": frozenset(
        {"repository", "environment"}
    ),
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": (
        frozenset({"repository", "environment"})
    ),
    "github:index/actionsVariable:ActionsVariable": frozenset({"repository", "variableName"}),
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": frozenset(
        {"repository", "environment", "variableName"}
    ),
    "github:index/repositoryRuleset:RepositoryRuleset": frozenset({"repository"}),
}


def forces_replacement(resource_type: str, path: str) -> bool:
    """True when a change at input `path` (`name`, `rules[0].status`...) replaces the resource."""
    top = path.split(".", 1)[0].split("[", 1)[0]
    return top in REPLACE_ON_CHANGE.get(resource_type, frozenset())
