"""Tests on pull requests and the source scan (issue 21, items 1 and 3), under Pulumi's mocks.

The pull-request pipeline: its trigger's events, branches and paths (the push trigger's), its
stages (no Deploy, no Publish, no Package), its PARALLEL mode, its own role, projects and fast-
expiring bucket, and the tags a GitHub reporter and `cicd` read. The scan: the InspectorScan
action's configuration against AWS's action reference, its place beside the build, the SBOM
reaching the release through Package, and the pipeline role's statements for it. Config errors
name the key, the value and the fix.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cicd import contract
from components import pull_requests
from components.pipeline import SCAN_SEVERITIES, scan_configuration
from components.pipeline_role import role_policy
from components.pull_requests import PullRequestPipeline
from components.release_manifest import PACKAGE_BUILDSPEC, SBOM_FOLDER, SCAN_ARTIFACT
from stack.config import ConfigError, parse_settings
from stack.config.service import ScanSettings
from tests.harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    Recorder,
    StackRun,
    flatten_stack_config,
    iter_stacks,
    run_program,
    run_pulumi,
)
from tests.harness import run_stacks as run_all

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
POLICY = "aws:iam/rolePolicy:RolePolicy"
PROJECT_TYPE = "aws:codebuild/project:Project"
ROOT = Path(__file__).resolve().parent.parent
STACKS = dict(iter_stacks())


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_all(STACKS)


def _pipeline(run: StackRun, name: str) -> Any:
    found = [r for r in run.recorder.of_type(PIPELINE) if r.inputs["name"] == name]
    assert len(found) == 1, f"expected one pipeline {name}"
    return found[0]


def _stage(pipeline: Any, name: str) -> dict[str, Any]:
    found = [s for s in pipeline.inputs["stages"] if s["name"] == name]
    assert found, f"{pipeline.inputs['name']} has no {name} stage"
    return found[0]


def _statements(run: StackRun, policy_name: str) -> dict[str, dict[str, Any]]:
    policy = run.recorder.one(POLICY, policy_name)
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


# --- Item 1: the pull-request pipeline --------------------------------------------------------


def test_only_the_services_that_ask_get_a_pull_request_pipeline(runs: dict[str, StackRun]) -> None:
    names = {
        stack: sorted(
            r.inputs["name"]
            for r in run.recorder.of_type(PIPELINE)
            if r.inputs["tags"].get("cicd:pipeline-kind") == "pull-requests"
        )
        for stack, run in runs.items()
    }
    assert names == {"dev": [], "staging": ["web-staging-pr"], "prod": []}


def test_the_pull_request_trigger_has_the_events_branch_and_paths_of_the_push_trigger(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    release = _pipeline(staging, "web-staging-pipeline")
    reviews = _pipeline(staging, "web-staging-pr")
    push = release.inputs["triggers"][0]["gitConfiguration"]["pushes"][0]
    (trigger,) = reviews.inputs["triggers"]
    assert trigger["providerType"] == "CodeStarSourceConnection"
    git = trigger["gitConfiguration"]
    assert git["sourceActionName"] == "GitHub"
    assert "pushes" not in git, "a push to main must not run the pull-request pipeline"
    (pull,) = git["pullRequests"]
    # GitPullRequestFilter (API reference): events OPEN | UPDATED | CLOSED; branches filter the
    # pull request's base (destination) branch.
    assert pull["events"] == ["OPEN", "UPDATED"]
    assert pull["branches"] == push["branches"] == {"includes": ["main"]}
    assert pull.get("filePaths") == push.get("filePaths")


def test_a_pull_request_run_builds_and_tests_and_cannot_reach_deploy_or_publish(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    reviews = _pipeline(staging, "web-staging-pr")
    assert [s["name"] for s in reviews.inputs["stages"]] == ["Source", "Build", "Test"]
    actions = [a for s in reviews.inputs["stages"] for a in s["actions"]]
    assert {a["category"] for a in actions} == {"Source", "Build", "Test", "Invoke"}
    assert {a["provider"] for a in actions} == {
        "CodeStarSourceConnection",
        "CodeBuild",
        "InspectorScan",
    }
    names = [a["name"] for a in _stage(reviews, "Build")["actions"]]
    assert names == ["Build", "Scan"], "no Package: nothing is made to release"
    projects = {a["configuration"].get("ProjectName") for a in actions} - {None}
    assert projects == {
        "web-staging-pr-build",
        "web-staging-pr-test-unit",
        "web-staging-pr-test-functional",
        "web-staging-pr-test-secrets",
    }
    # One pull request neither waits for nor supersedes another's run.
    assert reviews.inputs["executionMode"] == "PARALLEL"
    assert reviews.inputs["pipelineType"] == "V2"
    source = _stage(reviews, "Source")["actions"][0]
    release_source = _stage(_pipeline(staging, "web-staging-pipeline"), "Source")["actions"][0]
    assert source["configuration"] == release_source["configuration"]


def test_the_pull_request_role_may_build_and_test_only(runs: dict[str, StackRun]) -> None:
    staging = runs["staging"]
    grants = _statements(staging, "web-pull-requests-policy")
    actions = {a for s in grants.values() for a in s["Action"]}
    assert not any(a.startswith(("codedeploy:", "lambda:", "sns:", "cloudwatch:")) for a in actions)
    pr_bucket = f"arn:aws:s3:::web-staging-pr-artifacts-{ACCOUNT}-{REGION}"
    assert grants["ArtifactObjectsWrite"]["Resource"] == f"{pr_bucket}/*"
    assert sorted(grants["RunBuildsAndTests"]["Resource"]) == sorted(
        f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/web-staging-pr-{p}"
        for p in ("build", "test-unit", "test-functional", "test-secrets")
    )
    assert grants["UseGitHubConnection"]["Resource"].startswith(
        f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/"
    ), grants.keys()
    role = staging.recorder.one("aws:iam/role:Role", "web-pull-requests-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:web-staging-pr"
    )
    assert (
        staging.recorder.one(PIPELINE, "web-pull-requests-pipeline").inputs["roleArn"]
        == (role.state["arn"])
    )


def test_pull_request_code_runs_in_projects_that_cannot_touch_release_artifacts(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    release_bucket = f"arn:aws:s3:::{PROJECT}-staging-artifacts-{ACCOUNT}-{REGION}"
    pr_bucket = f"arn:aws:s3:::web-staging-pr-artifacts-{ACCOUNT}-{REGION}"
    checked = 0
    for policy in staging.recorder.of_type(POLICY):
        if not policy.name.startswith("web-pr-"):
            continue
        text = policy.inputs["policy"]
        assert release_bucket not in text, policy.name
        assert pr_bucket in text, policy.name
        checked += 1
    assert checked == 4, "one policy per pull-request project"


def test_pull_request_artifacts_expire_in_days_in_a_bucket_of_their_own(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    pipeline = _pipeline(staging, "web-staging-pr")
    bucket = staging.recorder.one("aws:s3/bucket:Bucket", "web-pr-artifacts-bucket")
    assert pipeline.inputs["artifactStores"] == [{"type": "S3", "location": bucket.state["bucket"]}]
    lifecycle = [
        r
        for r in staging.recorder.of_type(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        if r.name.startswith("web-pr-artifacts")
    ]
    assert len(lifecycle) == 1
    rules = lifecycle[0].inputs["rules"]
    expirations = [r["expiration"]["days"] for r in rules if "expiration" in r]
    noncurrent = [
        r["noncurrentVersionExpiration"]["noncurrentDays"]
        for r in rules
        if "noncurrentVersionExpiration" in r
    ]
    assert expirations == [3] and noncurrent == [1]


def test_the_pull_request_pipeline_is_tagged_for_the_reporter_and_exported(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    tags = _pipeline(staging, "web-staging-pr").inputs["tags"]
    assert tags[contract.TAG_PIPELINE_KIND] == contract.PULL_REQUEST_KIND
    assert tags[contract.TAG_STATUS_CONTEXT] == "cicd/web-staging-pr"
    assert (tags[contract.TAG_SERVICE], tags[contract.TAG_STAGE]) == ("web", "staging")
    web = staging.exports["services"]["web"]
    assert web["pull_request_pipeline"] == "web-staging-pr"
    assert web["pull_request_status_context"] == "cicd/web-staging-pr"
    assert staging.exports["services"]["thumbnailer"]["pull_request_status_context"] is None
    release_tags = _pipeline(staging, "web-staging-pipeline").inputs["tags"]
    assert contract.TAG_PIPELINE_KIND not in release_tags


def test_the_cli_and_the_components_agree_on_the_pull_request_tags() -> None:
    assert contract.TAG_PIPELINE_KIND == pull_requests.TAG_PIPELINE_KIND
    assert contract.PULL_REQUEST_KIND == pull_requests.PULL_REQUEST_KIND
    assert contract.TAG_STATUS_CONTEXT == pull_requests.TAG_STATUS_CONTEXT
    assert contract.SBOM_FOLDER == SBOM_FOLDER


def _component_args(**extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "service": "api",
        "stage": "qa",
        "connection_arn": f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/c",
        "repository": "acme/api",
        "branch": "release",
        "build": {
            "name": "Build",
            "project_name": "api-qa-pr-build",
            "project_arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/api-qa-pr-build",
        },
        "artifact_bucket_name": "api-qa-pr",
        "artifact_bucket_arn": "arn:aws:s3:::api-qa-pr",
    }
    args.update(extra)
    return args


def test_the_component_filters_on_the_given_paths_and_events_and_has_no_test_stage_without_suites(
    mocks: Recorder,
) -> None:
    args = _component_args(file_paths=["src/**", "pyproject.toml"], events=["OPEN", "CLOSED"])
    run_pulumi(lambda: PullRequestPipeline("api", args).pipeline_arn)  # type: ignore[arg-type]
    pipeline = mocks.one(PIPELINE)
    pull = pipeline.inputs["triggers"][0]["gitConfiguration"]["pullRequests"][0]
    assert pull == {
        "events": ["OPEN", "CLOSED"],
        "branches": {"includes": ["release"]},
        "filePaths": {"includes": ["src/**", "pyproject.toml"]},
    }
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "Build"]
    assert pipeline.inputs["name"] == "api-qa-pr"


@pytest.mark.parametrize("events", [["OPENED"], ["OPEN", "OPEN"]])
def test_the_component_refuses_events_aws_does_not_know(mocks: Recorder, events: list[str]) -> None:
    with pytest.raises(
        ValueError, match=r"events .* must be distinct values of OPEN, UPDATED, CLOSED"
    ):
        PullRequestPipeline("api", _component_args(events=events))  # type: ignore[arg-type]


# --- Item 3: the source scan ----------------------------------------------------------------


def test_the_scan_runs_inspector_on_the_source_beside_the_build(runs: dict[str, StackRun]) -> None:
    release = _pipeline(runs["staging"], "web-staging-pipeline")
    build_stage = _stage(release, "Build")["actions"]
    scan = next(a for a in build_stage if a["name"] == "Scan")
    # Action type ID from the action reference: Invoke / AWS / InspectorScan / 1.
    assert (scan["category"], scan["owner"], scan["provider"], scan["version"]) == (
        "Invoke",
        "AWS",
        "InspectorScan",
        "1",
    )
    # "high" fails on the first high or critical finding; medium and low never fail it.
    assert scan["configuration"] == {
        "InspectorRunMode": "SourceCodeScan",
        "CriticalThreshold": "0",
        "HighThreshold": "0",
    }
    assert scan["inputArtifacts"] == ["SourceArtifact"]
    assert scan["outputArtifacts"] == [SCAN_ARTIFACT]
    build = next(a for a in build_stage if a["name"] == "Build")
    package = next(a for a in build_stage if a["name"] == "Package")
    assert scan["runOrder"] == build["runOrder"] == 1, "beside the build"
    assert package["runOrder"] == 2, "after both: a failed scan stops the release before Package"
    assert package["inputArtifacts"] == ["BuildArtifact", SCAN_ARTIFACT]
    assert package["configuration"]["PrimarySource"] == "BuildArtifact"


def test_only_the_scanned_service_scans(runs: dict[str, StackRun]) -> None:
    for stack, run in runs.items():
        for pipeline in run.recorder.of_type(PIPELINE):
            providers = {a["provider"] for s in pipeline.inputs["stages"] for a in s["actions"]}
            scanned = pipeline.inputs["name"] in {"web-staging-pipeline", "web-staging-pr"}
            assert ("InspectorScan" in providers) == scanned, (stack, pipeline.inputs["name"])


def test_a_pull_request_is_scanned_with_the_thresholds_of_its_release(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]

    def scan_of(name: str) -> dict[str, Any]:
        build = _stage(_pipeline(staging, name), "Build")["actions"]
        return next(a for a in build if a["provider"] == "InspectorScan")

    release, review = scan_of("web-staging-pipeline"), scan_of("web-staging-pr")
    assert review["configuration"] == release["configuration"]
    assert (review["inputArtifacts"], review["runOrder"]) == (["SourceArtifact"], 1)
    grants = _statements(staging, "web-pull-requests-policy")
    assert grants["ScanSourceWithInspector"]["Action"] == ["inspector-scan:ScanSbom"]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codepipeline/web-staging-pr"
    assert grants["ScanActionLogs"]["Resource"] == [group, f"{group}:*"]


def test_the_pipeline_role_may_scan_and_log_only_for_its_own_pipeline(
    runs: dict[str, StackRun],
) -> None:
    staging = runs["staging"]
    grants = _statements(staging, "web-pipeline-policy")
    assert grants["ScanSourceWithInspector"]["Action"] == ["inspector-scan:ScanSbom"]
    assert grants["ScanSourceWithInspector"]["Resource"] == "*"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codepipeline/web-staging-pipeline"
    assert grants["ScanActionLogs"]["Resource"] == [group, f"{group}:*"]
    unscanned = _statements(staging, "thumbnailer-pipeline-policy")
    assert "ScanSourceWithInspector" not in unscanned and "ScanActionLogs" not in unscanned
    assert not any(a.startswith("ecr:") for s in grants.values() for a in s["Action"]), (
        "a source scan needs no ECR permission"
    )


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("critical", {"CriticalThreshold": "0"}),
        ("high", {"CriticalThreshold": "0", "HighThreshold": "0"}),
        ("medium", {"CriticalThreshold": "0", "HighThreshold": "0", "MediumThreshold": "0"}),
        (
            "low",
            {
                "CriticalThreshold": "0",
                "HighThreshold": "0",
                "MediumThreshold": "0",
                "LowThreshold": "0",
            },
        ),
    ],
)
def test_fail_on_sets_the_thresholds_of_that_severity_and_worse(
    fail_on: str, expected: dict[str, str]
) -> None:
    thresholds = ScanSettings.model_validate({"fail_on": fail_on}).thresholds
    assert scan_configuration(thresholds) == {"InspectorRunMode": "SourceCodeScan", **expected}


def test_the_thresholds_are_the_four_aws_documents() -> None:
    configuration = scan_configuration({"critical": 2, "high": 5, "medium": 10, "low": 50})
    # The keys of the action reference's "Configuration parameters", exactly.
    assert set(configuration) == {
        "InspectorRunMode",
        "CriticalThreshold",
        "HighThreshold",
        "MediumThreshold",
        "LowThreshold",
    }
    assert configuration["MediumThreshold"] == "10"
    assert SCAN_SEVERITIES == ("critical", "high", "medium", "low")
    with pytest.raises(ValueError, match=r"unknown severities \['severe'\]"):
        scan_configuration({"severe": 0})
    with pytest.raises(ValueError, match="high is -1; give 0 or more"):
        scan_configuration({"high": -1})


def test_a_pipeline_without_a_scan_grants_no_inspector_permission() -> None:
    document = json.loads(
        role_policy(
            region=REGION,
            account_id=ACCOUNT,
            pipeline_name="p",
            bucket_arn="arn:aws:s3:::b",
            kms_key_arn=None,
            project_arns=["arn:aws:codebuild:r:a:project/x"],
        )
    )
    assert "inspector-scan" not in json.dumps(document)


def _package_commands() -> list[str]:
    return yaml.safe_load(PACKAGE_BUILDSPEC)["phases"]["build"]["commands"]


def _sbom_command() -> str:
    (command,) = [c for c in _package_commands() if SCAN_ARTIFACT in c]
    return command


def test_package_puts_the_scans_sbom_into_the_release_next_to_the_manifest(tmp_path: Path) -> None:
    build = tmp_path / "build"
    scan = tmp_path / "scan"
    build.mkdir()
    scan.mkdir()
    (build / "release-manifest.json").write_text("{}")
    (scan / "sbom.json").write_text('{"bomFormat": "CycloneDX"}')
    env = {"PATH": "/usr/bin:/bin", "CODEBUILD_SRC_DIR": str(build)}
    env[f"CODEBUILD_SRC_DIR_{SCAN_ARTIFACT}"] = str(scan)
    subprocess.run(["bash", "-euo", "pipefail", "-c", _sbom_command()], env=env, check=True)
    assert (build / SBOM_FOLDER / "sbom.json").read_text() == '{"bomFormat": "CycloneDX"}'
    assert (build / "release-manifest.json").exists()
    # The release artifact is the primary source's whole directory: sbom/ goes with it.
    assert yaml.safe_load(PACKAGE_BUILDSPEC)["artifacts"]["files"] == ["**/*"]


def test_package_without_a_scan_adds_no_sbom(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CODEBUILD_SRC_DIR": str(tmp_path)}
    subprocess.run(["bash", "-euo", "pipefail", "-c", _sbom_command()], env=env, check=True)
    assert not (tmp_path / SBOM_FOLDER).exists()


# --- Config -----------------------------------------------------------------------------------


def _raw(stack: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return copy.deepcopy(
        {
            k.split(":", 1)[1]: v
            for k, v in config.items()
            if k.startswith(f"{PROJECT}:") and k != f"{PROJECT}:githubToken"
        }
    )


def _errors(raw: dict[str, Any], stage: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(PROJECT, stage, raw, github_token="secret")
    return str(caught.value)


def test_the_sample_staging_tests_pull_requests_and_scans_web() -> None:
    settings = parse_settings(PROJECT, "staging", _raw("staging"), github_token="secret")
    web = next(s for s in settings.services if s.name == "web")
    assert web.pull_requests is not None and web.pull_requests.events == ["OPEN", "UPDATED"]
    assert web.pull_requests.artifact_expire_days == 3
    assert web.scan is not None and web.scan.fail_on == "high"
    assert "secrets" in [t.name for t in web.tests]


def test_a_promoted_service_cannot_test_pull_requests_or_scan() -> None:
    raw = _raw("prod")
    raw["services"][0]["pull_requests"] = {}
    raw["services"][0]["scan"] = {"fail_on": "critical"}
    message = _errors(raw, "prod")
    for key in ("pull_requests", "scan"):
        assert f"{PROJECT}:services[0].{key}: a service promoted from staging" in message
        assert f"pulumi config rm --path '{PROJECT}:services[0].{key}'" in message


def test_bad_pull_request_and_scan_values_are_named_with_what_aws_allows() -> None:
    raw = _raw("staging")
    web = raw["services"][0]
    web["pull_requests"] = {"events": ["OPENED", "UPDATED"], "artifact_expire_days": 0}
    web["scan"] = {"fail_on": "severe"}
    message = _errors(raw, "staging")
    assert f"{PROJECT}:services[0].pull_requests.events[0]" in message
    assert "'OPEN', 'UPDATED' or 'CLOSED'" in message and 'received: "OPENED"' in message
    assert f"{PROJECT}:services[0].pull_requests.artifact_expire_days" in message
    assert f"{PROJECT}:services[0].scan.fail_on" in message and 'received: "severe"' in message


def test_repeated_pull_request_events_are_refused() -> None:
    raw = _raw("staging")
    raw["services"][0]["pull_requests"] = {"events": ["OPEN", "OPEN"]}
    message = _errors(raw, "staging")
    assert f"{PROJECT}:services[0].pull_requests.events" in message
    assert "duplicate entries ['OPEN']" in message


# --- Requiring the check ------------------------------------------------------------------------

RULESET = "github:index/repositoryRuleset:RepositoryRuleset"


def test_the_sample_stacks_require_no_check_until_asked(runs: dict[str, StackRun]) -> None:
    """Required before anything posts it, the check would block every merge: opt-in."""
    for stack, run in runs.items():
        rulesets = [r.inputs["repository"] for r in run.recorder.of_type(RULESET)]
        # At most the platform repository's own ruleset (owns_ruleset), never an application's.
        assert set(rulesets) <= {"delivery-platform"}, (stack, rulesets)


def test_require_check_puts_a_ruleset_on_the_application_repository(tmp_path: Path) -> None:
    flat, secrets = flatten_stack_config(STACKS["staging"])
    services = json.loads(flat[f"{PROJECT}:services"])
    services[0]["pull_requests"]["require_check"] = True
    flat[f"{PROJECT}:services"] = json.dumps(services)
    run = run_program("staging", flat, secrets)
    ruleset = run.recorder.one(RULESET, "web-required-checks-ruleset")
    assert ruleset.inputs["repository"] == "web"
    assert ruleset.inputs["target"] == "branch" and ruleset.inputs["enforcement"] == "active"
    assert ruleset.inputs["conditions"]["refName"]["includes"] == ["refs/heads/main"]
    assert ruleset.inputs["rules"]["requiredStatusChecks"]["requiredChecks"] == [
        {"context": "cicd/web-staging-pr"}
    ]
    provider = run.recorder.one("pulumi:providers:github", "web-required-checks-github")
    assert provider.inputs["owner"] == "acme", "the application repository's owner"
    tagged = _pipeline(run, "web-staging-pr").inputs["tags"][contract.TAG_STATUS_CONTEXT]
    assert tagged == ruleset.inputs["rules"]["requiredStatusChecks"]["requiredChecks"][0]["context"]


def test_require_check_needs_a_stack_that_manages_its_github_side() -> None:
    raw = _raw("staging")
    raw["services"][0]["pull_requests"] = {"require_check": True}
    raw["github"]["manage_repository"] = False
    message = _errors(raw, "staging")
    assert f"{PROJECT}:services[0].pull_requests.require_check: a required check is a ruleset" in (
        message
    )
    assert (
        f"pulumi config set --path '{PROJECT}:services[0].pull_requests.require_check' false"
        in (message)
    )


def test_require_check_is_allowed_when_manage_repository_is_left_at_its_default_of_true() -> None:
    raw = _raw("staging")
    raw["services"][0]["pull_requests"] = {"require_check": True}
    del raw["github"]["manage_repository"]
    reviews = (
        parse_settings(PROJECT, "staging", raw, github_token="secret").services[0].pull_requests
    )
    assert reviews is not None and reviews.require_check


def test_the_required_checks_component_refuses_no_checks_and_two_credentials(
    mocks: Recorder,
) -> None:
    from components.github_repository import RequiredStatusChecks

    base = {"repository": "acme/api", "branch": "main", "github_token": "t"}
    with pytest.raises(ValueError, match="must name at least one status context, each once"):
        RequiredStatusChecks("r", {**base, "checks": []})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one"):
        RequiredStatusChecks("r", {"repository": "acme/api", "branch": "main", "checks": ["c"]})


def test_a_pinned_app_id_is_required_with_each_check(mocks: Recorder) -> None:
    from components.github_repository import RequiredStatusChecks

    args = {
        "repository": "acme/api",
        "branch": "release",
        "checks": ["cicd/api-qa-pr"],
        "github_token": "t",
        "integration_id": 4242,
    }
    run_pulumi(lambda: RequiredStatusChecks("api", args).ruleset_name)  # type: ignore[arg-type]
    rules = mocks.one(RULESET).inputs["rules"]
    assert rules["requiredStatusChecks"]["requiredChecks"] == [
        {"context": "cicd/api-qa-pr", "integrationId": 4242}
    ]
