"""The names the Pulumi stacks give to pipelines, stages, actions, tags and published releases.

This is the CLI's side of the contract with `components/`: the tag keys must match
`components.naming` (a test pins that), and the stage and action names match the pipeline
layout the components build (see the promotion contract: a pipeline either builds from GitHub
or is promoted from another stage's published release). Nothing here calls AWS.
"""

from __future__ import annotations

from urllib.parse import quote

TAG_SERVICE = "cicd:service"
TAG_STAGE = "cicd:stage"
TAG_MANAGED_BY = "cicd:managed-by"
# On promoted pipelines only: the stage whose published releases this pipeline deploys.
TAG_PROMOTES_FROM = "cicd:promotes-from"

# On a service's pull-request pipeline (`{service}-{stage}-pr`, Build and Test only): it releases
# nothing, so release commands leave it out; the context is the commit status its runs report.
TAG_PIPELINE_KIND = "cicd:pipeline-kind"
PULL_REQUEST_KIND = "pull-requests"
TAG_STATUS_CONTEXT = "cicd:status-context"

# Environments in promotion order: `status` lists them in this order.
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")

SOURCE_STAGE = "Source"
# A pipeline that builds from GitHub: a CodeConnections source action.
SOURCE_ACTION = "GitHub"
SOURCE_PROVIDER = "CodeStarSourceConnection"
# A promoted pipeline: an S3 source action reading the upstream's published release object.
RELEASE_SOURCE_ACTION = "Release"
RELEASE_SOURCE_PROVIDER = "S3"
APPROVAL_STAGE = "Approval"
APPROVAL_ACTION = "Approve"
# Before a promoted release's approval: reads its manifest and exports the evidence the
# approver sees (components.approval_evidence) as output variables; `cicd approve` prints them.
DESCRIBE_ACTION = "Describe"
EVIDENCE_OUTPUTS = (
    "LIVE_COMMIT",
    "CHANGES_PATH",
    "COMMITS_AHEAD",
    "VERIFICATION",
    "BAKE",
    "ALARMS",
)
DEPLOY_STAGE = "Deploy"
# Only these providers in the Deploy stage deploy; `verify-<suite>` CodeBuild actions test.
DEPLOY_PROVIDERS = ("CodeDeploy", "Lambda")
VERIFY_PREFIX = "verify-"
PUBLISH_STAGE = "Publish"
PUBLISH_ACTION = "Publish"

# Each published release is a new version of one S3 object; an execution of a promoted pipeline
# names the version it deploys with this revision type.
S3_VERSION_REVISION = "S3_OBJECT_VERSION_ID"
# At the root of every release zip: which commit it was built from, where and when.
MANIFEST_NAME = "release-manifest.json"
# Beside it in a scanned service's release: the SBOM Amazon Inspector's source scan wrote. The
# scan is the Build stage's InspectorScan action; Package, after it, makes the release.
SBOM_FOLDER = "sbom"
BUILD_STAGE = "Build"
PACKAGE_ACTION = "Package"
SCAN_PROVIDER = "InspectorScan"
# App-owned, optional, at the root of the build's artifact: the Package step copies its
# `contracts_schema` into the manifest (a release `cicd rollback` must not cross).
RELEASE_OPTIONS_FILE = "release-options.json"

# Runtime configuration (config vars). The Deploy stage's first action pins the parameter
# versions a release runs with into the deploy artifact and records them per execution.
CONFIGURE_ACTION = "Configure"
RELEASE_TASK_ACTION = "ReleaseTask"
DEPLOY_ARTIFACT = "DeployArtifact"
CONFIG_SNAPSHOT_FILE = "config-snapshot.json"
# s3://<artifact bucket>/deploy-records/<pipeline>/<execution id>.json
DEPLOY_RECORDS_PREFIX = "deploy-records/"
# `cicd config unset` writes this value instead of deleting (a delete erases every version, so
# no rollback could restore the value); every reader treats it as absent.
UNSET_VALUE = "__cicd_unset__"
# The Configure action's output variables that cicd reads when a deploy record is gone (the
# artifact bucket's lifecycle expires the file; CodePipeline keeps output variables with the
# execution history): the pinned versions (JSON [[name, version], ...]), where they came from,
# and what the record also says.
CONFIG_VERSIONS_OUTPUT = "CONFIG_VERSIONS"
CONFIG_SOURCE_OUTPUT = "CONFIG_SOURCE"
COMMIT_OUTPUT = "COMMIT_ID"
CONTRACTS_SCHEMA_OUTPUT = "CONTRACTS_SCHEMA"
RELEASE_KIND_OUTPUT = "RELEASE_KIND"
ROLLBACK_OF_OUTPUT = "ROLLBACK_OF"
# Pipeline-level variables: what kind of release an execution is, and why.
RELEASE_KIND_VARIABLE = "RELEASE_KIND"
RELEASE_NOTE_VARIABLE = "RELEASE_NOTE"
RELEASE_KINDS = ("code", "config")

# A published release that must not be promoted: tags on its object version.
TAG_REJECTED = "cicd:rejected"
TAG_REJECTED_REASON = "cicd:rejected-reason"
TAG_REJECTED_BY = "cicd:rejected-by"
TAG_REJECTED_AT = "cicd:rejected-at"

# The delivery metrics each stage's reporter publishes (components/reporter_function.py), by
# dimensions Service and Stage; `cicd metrics` reads them back.
METRICS_NAMESPACE = "Delivery"
METRIC_STARTED, METRIC_SUCCEEDED = "ReleasesStarted", "ReleasesSucceeded"
METRIC_FAILED, METRIC_ROLLED_BACK = "ReleasesFailed", "ReleasesRolledBack"
METRIC_LEAD_TIME, METRIC_RESTORE = "LeadTime", "TimeToRestore"

CONNECTIONS_CONSOLE_URL = (
    "https://console.aws.amazon.com/codesuite/settings/connections?region={region}"
)


def pipeline_name(service: str, stage: str) -> str:
    """The physical name the stacks give a service's pipeline in one environment."""
    return f"{service}-{stage}-pipeline"


def approver_role_name(service: str, stage: str) -> str:
    """The role the stacks create for the people who may approve a release: they assume it."""
    return f"{service}-{stage}-approver"


# Console pages, by region; the CLI prints them (`info`, `open`) and never fetches them.
CONSOLE = "https://{region}.console.aws.amazon.com"


def pipeline_console_url(region: str, pipeline: str) -> str:
    base = CONSOLE.format(region=region)
    return f"{base}/codesuite/codepipeline/pipelines/{pipeline}/view?region={region}"


def execution_console_url(region: str, pipeline: str, execution_id: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/codesuite/codepipeline/pipelines/{pipeline}/executions/"
        f"{execution_id}/timeline?region={region}"
    )


def deployment_console_url(region: str, deployment_id: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/codesuite/codedeploy/deployments/{deployment_id}"
        f"?region={region}"
    )


def build_console_url(region: str, project: str, build_id: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/codesuite/codebuild/projects/{project}/build/"
        f"{quote(build_id, safe='')}/?region={region}"
    )
