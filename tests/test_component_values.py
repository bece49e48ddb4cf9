"""Every value the components send to AWS, pinned: a changed value fails a test.

The other tests assert behaviour with reasons (wiring, IAM scope, AWS's rules). These pin the
rest: each scenario declares components with most of their options set, under Pulumi's mocks,
and compares every resource's inputs and options with a reviewed snapshot in
`tests/snapshots/component_values/`. A change to a name, an action, a default, a policy
statement, a tag or an option shows as a diff here; if it is intended, regenerate with
`UPDATE_SNAPSHOTS=1 pytest tests/test_component_values.py` and review the snapshot's diff
like code.

The scenarios run the components alone (no stack files), so each takes a fraction of a second:
this is also what `make mutation` runs against a mutant of the components.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.boundary import PermissionsBoundary
from components.delivery_dashboard import DeliveryDashboard
from components.delivery_reporter import DeliveryReporter
from components.github_oidc import GitHubActionsOidc
from components.github_repository import GitHubRepositorySettings
from components.promotion import Upstream
from components.release_channel import ReleaseChannel
from components.service_pipeline import ServicePipeline, ServicePipelineArgs
from tests.harness import ACCOUNT, ROOT, Recorder, run_pulumi

SNAPSHOTS = ROOT / "tests" / "snapshots" / "component_values"
PROD = "222222222222"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/artifacts"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/acme-staging-boundary"
CONNECTION = f"arn:aws:codeconnections:eu-west-1:{ACCOUNT}:connection/shared"


def server_chain() -> None:
    """A server service on a shared bucket and connection, with everything a stage can ask."""
    args: ServicePipelineArgs = {
        "service": "shop",
        "stage": "staging",
        "repository": "acme/shop",
        "branch": "main",
        "file_paths": ["src/**", "buildspec.yml"],
        "connection_arn": CONNECTION,
        "artifact_bucket_name": "acme-staging-artifacts",
        "artifact_bucket_arn": "arn:aws:s3:::acme-staging-artifacts",
        "artifact_kms_key_arn": KEY,
        "build": {
            "compute_type": "BUILD_GENERAL1_MEDIUM",
            "image": "aws/codebuild/standard:7.0",
            "cache": "s3",
            "timeout_minutes": 25,
            "privileged": True,
            "environment": [
                {"name": "NPM_TOKEN", "type": "SECRETS_MANAGER", "value": "shop/npm-token"},
                {"name": "FLAGS", "type": "PARAMETER_STORE", "value": "/shop/flags"},
                {"name": "MODE", "type": "PLAINTEXT", "value": "release"},
            ],
        },
        "tests": [
            {"name": "unit", "buildspec": "buildspecs/unit.yml", "cache": "local"},
            {"name": "functional", "buildspec": "buildspecs/functional.yml"},
        ],
        "deploy": {
            "platform": "server",
            "targets": [
                {
                    "name": "web",
                    "autoscaling_groups": ["shop-staging-web"],
                    "target_group": "shop-staging-web",
                    "endpoint": "https://shop.staging.example.com",
                    "blue_green": {
                        "green_fleet": "COPY_AUTO_SCALING_GROUP",
                        "terminate_blue_after_minutes": 30,
                        "ready_wait_minutes": 5,
                    },
                }
            ],
            "strategy": "CodeDeployDefault.HalfAtATime",
            "alarm_names": ["shop-staging-p99-latency"],
            "default_alarms": {
                "web": {
                    "target_group_arn_suffix": "targetgroup/shop-staging-web/0123456789abcdef",
                    "load_balancer_arn_suffix": "app/shop-staging/fedcba9876543210",
                }
            },
            "bake_minutes": 15,
            "traffic": {
                "targets": ["web"],
                "checks_file": "templates/smoke/checks.py",
                "every_minutes": 5,
                "failed_runs": 3,
            },
            "window": {"cron": "cron(0 9-16 ? * MON-FRI *)", "time_zone": "Europe/Paris"},
            "verify": [{"name": "smoke", "target": "web", "buildspec": "buildspecs/smoke.yml"}],
            "release_task": {
                "buildspec": "buildspecs/migrate.yml",
                "compute_type": "BUILD_GENERAL1_MEDIUM",
                "timeout_minutes": 20,
                "environment": [{"name": "ALEMBIC_CONFIG", "type": "PLAINTEXT", "value": "db.ini"}],
                "vpc": {
                    "vpc_id": "vpc-0a1b2c3d",
                    "subnet_ids": ["subnet-0a1b2c3d", "subnet-1b2c3d4e"],
                    "security_group_ids": ["sg-0a1b2c3d"],
                },
            },
        },
        "runtime_config": {
            "path": "/shop/staging",
            "kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/shop-config",
        },
        "publish_to": {
            "bucket_name": "acme-staging-releases",
            "bucket_arn": "arn:aws:s3:::acme-staging-releases",
            "kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/releases",
        },
        "approval_timeout_minutes": 120,
        "notify": {
            "email": ["oncall@example.com"],
            "https": ["https://hooks.example.com/releases"],
            "slack": {"workspace_id": "T0123ABCD", "channel_id": "C0123ABCD"},
        },
        "execution_mode": "QUEUED",
        "log_retention_days": 30,
        "protect": True,
        "permissions_boundary": BOUNDARY,
        "tags": {"team": "shop"},
    }
    ServicePipeline("shop", args)


def tagged_chain() -> None:
    """A service on EC2 tags, alone: its own connection and bucket, a custom health minimum."""
    ServicePipeline(
        "ledger",
        {
            "service": "ledger",
            "stage": "dev",
            "repository": "acme/ledger",
            "branch": "develop",
            "deploy": {
                "platform": "server",
                "targets": [
                    {
                        "name": "api",
                        "ec2_tag_filters": [
                            {"key": "app", "value": "ledger"},
                            {"key": "stage", "value": "dev"},
                        ],
                    }
                ],
                "minimum_healthy_hosts": {"type": "FLEET_PERCENT", "value": 75},
                "auto_rollback": False,
                "rollback_on_failure": False,
            },
            "execution_mode": "PARALLEL",
        },
    )


def promoted_lambda_chain() -> None:
    """A Lambda service promoted from another account's stage, approved by hand."""
    ServicePipeline(
        "thumbs",
        {
            "service": "thumbs",
            "stage": "prod",
            "promoted_from": {
                "upstream_stage": "staging",
                "bucket_name": "acme-staging-releases",
                "bucket_arn": "arn:aws:s3:::acme-staging-releases",
                "kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/releases",
                "upstream_account_id": ACCOUNT,
                "automatic": True,
            },
            "deploy": {
                "platform": "lambda",
                "targets": [{"name": "thumbs", "function_name": "thumbs-prod", "alias": "live"}],
                "strategy": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                "default_alarms": {"thumbs": {"function_name": "thumbs-prod", "alias": "live"}},
                "bake_minutes": 10,
                "verify": [{"name": "smoke", "target": "thumbs"}],
            },
            "runtime_config": {"path": "/thumbs/prod"},
            "approval_timeout_minutes": 60,
            "notify": {"email": ["releases@example.com"]},
            "protect": True,
        },
    )


def platform_pieces() -> None:
    """What a stage shares: boundary, release channel for another account, upstream, OIDC."""
    boundary = PermissionsBoundary("boundary", {"stage": "staging", "protect": True})
    ReleaseChannel(
        "releases",
        {
            "stage": "staging",
            "consumers": [{"stage": "prod", "account_id": PROD}, {"stage": "qa"}],
            "create_kms_key": True,
            "keep_days": 45,
            "protect": True,
            "permissions_boundary": boundary.policy_arn,
            "tags": {"team": "platform"},
        },
    )
    Upstream(
        "upstream-staging",
        {
            "stage": "prod",
            "upstream_stage": "staging",
            "bucket_name": "acme-staging-releases",
            "kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/releases",
            "account_id": ACCOUNT,
            "services": ["shop", "thumbs"],
        },
    )
    oidc = GitHubActionsOidc(
        "github-actions",
        {
            "service": "acme",
            "stage": "staging",
            "repository": "acme/platform",
            "managed_services": ["shop", "thumbs"],
            "state_bucket_arn": "arn:aws:s3:::acme-pulumi-state",
            "state_kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state",
            "permissions_boundary": boundary.policy_arn,
        },
    )
    GitHubRepositorySettings(
        "github-repository",
        {
            "repository": "acme/platform",
            "stage": "staging",
            "stack_name": "staging",
            "preview_role_arn": oidc.preview_role_arn,
            "deploy_role_arn": oidc.deploy_role_arn,
            "github_token": pulumi.Output.secret("ghp_placeholder"),
            "reviewer_user_ids": [101, 102],
            "reviewer_team_ids": [7],
            "prevent_self_review": True,
            "deploy_branches": ["main", "release/*"],
            "owns_ruleset": True,
        },
    )


def delivery_reporting() -> None:
    """Issue 21: a stage's reporter with the token stored here, another reading an existing
    secret under a customer managed key, and the stage's dashboard."""
    reporter = DeliveryReporter(
        "delivery-reporter",
        {
            "service": "acme",
            "stage": "staging",
            "pipelines": [
                {
                    "name": "shop-staging-pipeline",
                    "service": "shop",
                    "repository": "acme/shop",
                    "environment_url": "https://shop.staging.example.com",
                },
                {"name": "thumbs-staging-pipeline", "service": "thumbs"},
            ],
            "github_token": pulumi.Output.secret("ghp_placeholder"),
            "log_retention_days": 90,
            "alarm_actions": [f"arn:aws:sns:eu-west-1:{ACCOUNT}:platform-alerts"],
            "permissions_boundary": BOUNDARY,
            "tags": {"team": "platform"},
        },
    )
    DeliveryReporter(
        "prod-reporter",
        {
            "service": "acme",
            "stage": "prod",
            "production": True,
            "pipelines": [{"name": "shop-prod-pipeline", "service": "shop"}],
            "token_secret_arn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:gh-AbCdEf",
            "token_kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/secrets",
        },
    )
    DeliveryDashboard(
        "delivery-dashboard",
        {
            "service": "acme",
            "stage": "staging",
            "services": [
                {"name": "shop", "alarm_names": ["shop-staging-5xx", "shop-staging-unhealthy"]},
                {"name": "thumbs"},
            ],
            "log_group_name": reporter.log_group_name,
            "reporter_alarm_names": reporter.alarm_names,
            "releases_shown": 15,
        },
    )


SCENARIOS: dict[str, Callable[[], None]] = {
    "delivery-reporting": delivery_reporting,
    "server-chain": server_chain,
    "tagged-chain": tagged_chain,
    "promoted-lambda-chain": promoted_lambda_chain,
    "platform-pieces": platform_pieces,
}


def _decoded(value: Any) -> Any:
    """JSON documents held as strings (policies, pipeline variables) as data, for readable diffs."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return _decoded(json.loads(value))
        except ValueError:
            return value
    # A function's code: which files it holds, and what its text files say.
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _decoded(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        return {"file": Path(str(value.path)).name}
    if isinstance(value, pulumi.StringAsset):
        return {"text": _decoded(str(value.text))}
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def declared(scenario: Callable[[], None], mocks: Recorder) -> list[dict[str, Any]]:
    run_pulumi(scenario)
    by_urn = {r.urn: r for r in mocks.resources}
    rows = []
    for r in mocks.resources:
        parent = by_urn.get(r.parent)
        row: dict[str, Any] = {
            "type": r.typ,
            "name": r.name,
            "parent": parent.name if parent is not None else None,
            "inputs": _decoded(dict(r.inputs)),
        }
        options = {
            "protect": r.protect,
            "retain_on_delete": r.retain_on_delete,
            "ignore_changes": sorted(r.ignore_changes),
        }
        row["options"] = {k: v for k, v in options.items() if v}
        rows.append(row)
    return sorted(rows, key=lambda row: (row["type"], row["name"]))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_value_the_components_declare_matches_the_reviewed_snapshot(
    scenario: str, mocks: Recorder
) -> None:
    current = declared(SCENARIOS[scenario], mocks)
    path = SNAPSHOTS / f"{scenario}.json"
    text = json.dumps(current, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{path.relative_to(ROOT)} (reviewed)",
                "declared now",
                n=4,
            )
        )
        pytest.fail(
            f"{scenario}: declared values changed; if intended: UPDATE_SNAPSHOTS=1 pytest "
            f"{Path(__file__).relative_to(ROOT)}, then review the snapshot's diff\n{diff[:6000]}"
        )


def test_the_scenarios_cover_every_resource_type_the_components_create(mocks: Recorder) -> None:
    """So that no kind of resource escapes pinning: each type the sample stacks declare is in
    at least one scenario."""
    pinned = {
        row["type"] for path in SNAPSHOTS.glob("*.json") for row in json.loads(path.read_text())
    }
    stacks = json.loads((ROOT / "tests" / "snapshots" / "physical_names.json").read_text())
    declared_by_stacks = {
        urn.split("::")[2].split("$")[-1] for names in stacks.values() for urn in names
    }
    # A stack reference is the engine's, not AWS's: its outputs are the upstream's exports.
    assert declared_by_stacks - pinned == {"pulumi:pulumi:StackReference"}
    assert len(pinned) >= 40
