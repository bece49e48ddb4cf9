"""Which IAM action each AWS operation needs, and which operations each command calls.

`errors` uses `IAM_ACTIONS` to name the missing permission when AWS answers "access denied";
the docs' IAM table is checked against `COMMAND_PERMISSIONS` by a test, so the two cannot drift.
It grants nothing: attaching a policy is the account administrator's job.
"""

from __future__ import annotations

# Operation names as botocore reports them in `ClientError.operation_name`. The operation names
# are unique across the services the CLI uses, so the name alone identifies the action. Two S3
# operations are authorized under another name: a GetObject that names a VersionId (the CLI
# never reads any other) needs s3:GetObjectVersion and not s3:GetObject, and ListObjectVersions
# needs s3:ListBucketVersions (S3 API reference, GetObject "Permissions" and versionId).
IAM_ACTIONS: dict[str, str] = {
    "GetResources": "tag:GetResources",
    "GetPipeline": "codepipeline:GetPipeline",
    "GetPipelineState": "codepipeline:GetPipelineState",
    "GetPipelineExecution": "codepipeline:GetPipelineExecution",
    "ListPipelineExecutions": "codepipeline:ListPipelineExecutions",
    "ListTagsForResource": "codepipeline:ListTagsForResource",
    "StartPipelineExecution": "codepipeline:StartPipelineExecution",
    "PutApprovalResult": "codepipeline:PutApprovalResult",
    "RollbackStage": "codepipeline:RollbackStage",
    "ListDeployments": "codedeploy:ListDeployments",
    "GetDeployment": "codedeploy:GetDeployment",
    "GetConnection": "codeconnections:GetConnection",
    "GetObject": "s3:GetObjectVersion",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListActionExecutions": "codepipeline:ListActionExecutions",
    "BatchGetBuilds": "codebuild:BatchGetBuilds",
    "BatchGetReports": "codebuild:BatchGetReports",
    "GetLogEvents": "logs:GetLogEvents",
    "ListDeploymentTargets": "codedeploy:ListDeploymentTargets",
    "BatchGetDeploymentTargets": "codedeploy:BatchGetDeploymentTargets",
    # The release controls (freeze, override, retry, stop, reject RELEASE).
    "DisableStageTransition": "codepipeline:DisableStageTransition",
    "EnableStageTransition": "codepipeline:EnableStageTransition",
    "OverrideStageCondition": "codepipeline:OverrideStageCondition",
    "Publish": "sns:Publish",
    "RetryStageExecution": "codepipeline:RetryStageExecution",
    "StopPipelineExecution": "codepipeline:StopPipelineExecution",
    # Tags on one version of a release object: S3 authorizes them as the Version actions
    # (S3 API reference, GetObjectTagging and PutObjectTagging, versionId).
    "GetObjectTagging": "s3:GetObjectVersionTagging",
    "PutObjectTagging": "s3:PutObjectVersionTagging",
    "GetParametersByPath": "ssm:GetParametersByPath",
    "GetParameter": "ssm:GetParameter",
    "GetParameterHistory": "ssm:GetParameterHistory",
    "PutParameter": "ssm:PutParameter",
    # promote's preflight (issue 20): the watched alarms, the groups' alarm configuration, who
    # is subscribed to the release topic.
    "DescribeAlarms": "cloudwatch:DescribeAlarms",
    "GetDeploymentGroup": "codedeploy:GetDeploymentGroup",
    "ListSubscriptionsByTopic": "sns:ListSubscriptionsByTopic",
    # The delivery metrics the stages publish (`cicd metrics`).
    "GetMetricData": "cloudwatch:GetMetricData",
}
# sts:GetCallerIdentity (who changed the config, for the release note) is not listed: it needs no
# permission and cannot be denied (STS API reference, GetCallerIdentity).

# Actions no operation of the CLI is named after, which its calls still need:
# - a deploy record is read with a GetObject WITHOUT a VersionId: s3:GetObject; and where the
#   record does not exist, S3 answers 403 instead of 404 unless the reader may s3:ListBucket;
# - Parameter Store calls KMS with the caller's permissions for SecureString parameters under a
#   customer managed key: kms:Decrypt to read one decrypted, kms:Encrypt to write a standard one
#   (AWS KMS developer guide, "How AWS Systems Manager Parameter Store uses AWS KMS").
READ_RECORD = "s3:GetObject"
LIST_RECORDS = "s3:ListBucket"
KMS_DECRYPT = "kms:Decrypt"
KMS_ENCRYPT = "kms:Encrypt"
ALSO_NEEDED = frozenset({READ_RECORD, LIST_RECORDS, KMS_DECRYPT, KMS_ENCRYPT})

_FIND = ("tag:GetResources", "codepipeline:GetPipeline")
_FOLLOW = ("codepipeline:GetPipelineExecution", "codepipeline:GetPipelineState")
# Promoted pipelines: list the published releases and read a manifest from each.
_LIST_RELEASES = "s3:ListBucketVersions"
_READ_MANIFEST = "s3:GetObjectVersion"
# Rejected releases: the tags on a release's object version.
_READ_TAGS = "s3:GetObjectVersionTagging"
_WRITE_TAGS = "s3:PutObjectVersionTagging"

_RECORDS = (READ_RECORD, LIST_RECORDS)
_READ_CONFIG = ("ssm:GetParametersByPath", KMS_DECRYPT)
_CONFIG_RELEASE = (
    "ssm:PutParameter",
    KMS_ENCRYPT,
    "codepipeline:ListPipelineExecutions",
    "codepipeline:StartPipelineExecution",
    *_FOLLOW,
)

# Promote's preflight: the watched alarms (the groups' and their state), deployments running in
# the groups, the release topic's subscribers, the live release's pipeline version.
_PREFLIGHT = (
    "codedeploy:GetDeploymentGroup",
    "codedeploy:ListDeployments",
    "cloudwatch:DescribeAlarms",
    "sns:ListSubscriptionsByTopic",
    "codepipeline:GetPipelineExecution",
)

# What a user needs per command; `--wait` adds the `_FOLLOW` pair to the commands that take it.
# Subcommands are named with a space (`config set`).
# `follow` and `--wait` read the waiting release's commit when it stops at an approval.
COMMAND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "status": (
        *_FIND,
        "codepipeline:GetPipelineState",
        "codepipeline:ListPipelineExecutions",
        "codedeploy:ListDeployments",
        "codedeploy:GetDeployment",
        "codeconnections:GetConnection",
        _LIST_RELEASES,
        _READ_MANIFEST,
        _READ_TAGS,
    ),
    "releases": (
        *_FIND,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:GetPipelineExecution",
        _READ_MANIFEST,
    ),
    "release": (
        *_FIND,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:StartPipelineExecution",
        *_FOLLOW,
    ),
    "promote": (
        *_FIND,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:StartPipelineExecution",
        "codepipeline:ListTagsForResource",
        _LIST_RELEASES,
        _READ_MANIFEST,
        _READ_TAGS,
        *_READ_CONFIG,
        *_FOLLOW,
        *_PREFLIGHT,
    ),
    # Without --yes: the Describe step's evidence and the watched alarms' state now.
    "approve": (
        *_FIND,
        *_FOLLOW,
        "codepipeline:PutApprovalResult",
        _READ_MANIFEST,
        "codepipeline:ListActionExecutions",
        "cloudwatch:DescribeAlarms",
    ),
    # With RELEASE: the release location's versions, manifests and tags.
    "reject": (
        *_FIND,
        *_FOLLOW,
        "codepipeline:PutApprovalResult",
        _LIST_RELEASES,
        _READ_MANIFEST,
        _READ_TAGS,
        _WRITE_TAGS,
    ),
    "rollback": (
        *_FIND,
        *_FOLLOW,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:RollbackStage",
        _READ_MANIFEST,
        # Marking the release rolled back rejected.
        _LIST_RELEASES,
        _READ_TAGS,
        _WRITE_TAGS,
        *_RECORDS,
        KMS_DECRYPT,
        "codepipeline:ListActionExecutions",
    ),
    "info": (
        *_FIND,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:GetPipelineExecution",
        "codepipeline:ListActionExecutions",
        "codebuild:BatchGetBuilds",
        "codebuild:BatchGetReports",
        _READ_MANIFEST,
        *_RECORDS,
        KMS_DECRYPT,
    ),
    "follow": (*_FIND, "codepipeline:ListPipelineExecutions", *_FOLLOW, _READ_MANIFEST),
    "logs": (
        *_FIND,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:ListActionExecutions",
        "codebuild:BatchGetBuilds",
        "logs:GetLogEvents",
        "codedeploy:GetDeployment",
        "codedeploy:ListDeploymentTargets",
        "codedeploy:BatchGetDeploymentTargets",
        _READ_MANIFEST,
    ),
    "open": (*_FIND, "codepipeline:ListPipelineExecutions"),
    "metrics": (
        *_FIND,
        "cloudwatch:GetMetricData",
        "codepipeline:ListPipelineExecutions",
        "codepipeline:ListActionExecutions",
        _READ_MANIFEST,
    ),
    "freeze": (*_FIND, "codepipeline:GetPipelineState", "codepipeline:DisableStageTransition"),
    "unfreeze": (*_FIND, "codepipeline:GetPipelineState", "codepipeline:EnableStageTransition"),
    # Publishing to the (KMS-encrypted) release topic also needs kms:GenerateDataKey and
    # kms:Decrypt on its key: not an operation cicd calls, so documented beside the table.
    "override": (*_FIND, *_FOLLOW, "codepipeline:OverrideStageCondition", "sns:Publish"),
    "retry": (
        *_FIND,
        *_FOLLOW,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:RetryStageExecution",
        _READ_MANIFEST,
    ),
    "unreject": (*_FIND, _LIST_RELEASES, _READ_MANIFEST, _READ_TAGS, _WRITE_TAGS),
    "stop": (
        *_FIND,
        *_FOLLOW,
        "codepipeline:ListPipelineExecutions",
        "codepipeline:StopPipelineExecution",
        _READ_MANIFEST,
    ),
    "config": (*_FIND, *_READ_CONFIG),
    "config get": (*_FIND, "ssm:GetParameter", KMS_DECRYPT),
    "config set": (*_FIND, *_READ_CONFIG, *_CONFIG_RELEASE),
    "config unset": (*_FIND, *_READ_CONFIG, "ssm:GetParameterHistory", *_CONFIG_RELEASE),
    "config diff": (*_FIND, *_READ_CONFIG),
}


def iam_action(operation_name: str) -> str:
    """The IAM action for a botocore operation name, or a readable guess for unknown ones."""
    return IAM_ACTIONS.get(operation_name, f"the permission for {operation_name}")
