"""Stack config validation: every mistake reported at once, with path, value and fix."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest
import yaml

from stack.config import ConfigError, load_settings, looks_secret, parse_settings
from tests.harness import PROJECT, ROOT, Recorder, reset_pulumi

NS = PROJECT


def stack_raw(stack: str) -> dict[str, Any]:
    """The project's keys of a real stack file, without the namespace prefix."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    # The token is a `secure:` value read elsewhere; tests say how it is set via `github_token`.
    return {
        k.split(":", 1)[1]: v
        for k, v in config.items()
        if k.startswith(f"{NS}:") and k != f"{NS}:githubToken"
    }


def errors_of(raw: dict[str, Any], stage: str = "prod", **kwargs: Any) -> str:
    kwargs.setdefault("github_token", "secret")
    with pytest.raises(ConfigError) as caught:
        parse_settings(NS, stage, raw, **kwargs)
    return str(caught.value)


@pytest.fixture
def prod() -> dict[str, Any]:
    return copy.deepcopy(stack_raw("prod"))


@pytest.fixture
def staging() -> dict[str, Any]:
    """A stack whose services build from GitHub (prod's are promoted, with no build)."""
    return copy.deepcopy(stack_raw("staging"))


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_sample_stack_file_is_valid(stack: str) -> None:
    settings = parse_settings(NS, stack, stack_raw(stack), github_token="secret")
    assert settings.stage == stack
    assert {s.name for s in settings.services} == {"web", "thumbnailer"}


def test_config_error_is_a_run_error_so_pulumi_prints_no_traceback() -> None:
    assert issubclass(ConfigError, pulumi.RunError)


def test_missing_required_keys_are_all_named_with_the_command_that_sets_them() -> None:
    message = errors_of({})
    assert "1 problem(s)" in message
    assert f"{NS}:services: required key is missing" in message
    assert f"pulumi config set --path '{NS}:services' <value>" in message
    assert "nothing was deployed" in message


def test_unknown_keys_are_errors_at_every_level(prod: dict[str, Any]) -> None:
    prod["servics"] = []
    prod["services"][0]["deploy"]["strategey"] = "x"
    message = errors_of(prod)
    assert f"{NS}:servics: unknown key" in message
    assert f"pulumi config rm {NS}:servics" in message
    assert f"{NS}:services[0].deploy.strategey: unknown key; allowed here:" in message
    assert "strategy" in message.split("strategey: unknown key; allowed here:")[1].splitlines()[0]
    assert f"pulumi config rm --path '{NS}:services[0].deploy.strategey'" in message


def test_wrong_types_and_bad_enums_show_the_value_received_and_allowed_values(
    staging: dict[str, Any],
) -> None:
    staging["services"][0]["build"]["timeout_minutes"] = "soon"
    staging["services"][0]["build"]["compute_type"] = "SMALL"
    staging["services"][0]["execution_mode"] = "FAST"
    staging["environment"]["production"] = "maybe"
    message = errors_of(staging, "staging")
    assert "4 problem(s)" in message
    assert f"{NS}:services[0].build.timeout_minutes" in message
    assert 'received: "soon"' in message
    assert "'BUILD_GENERAL1_SMALL'" in message and 'received: "SMALL"' in message
    assert "'QUEUED', 'SUPERSEDED' or 'PARALLEL'" in message
    assert f"pulumi config set --path '{NS}:environment.production' <true|false>" in message


def test_bad_deployment_strategy_for_the_platform_is_named(prod: dict[str, Any]) -> None:
    prod["services"][1]["deploy"]["strategy"] = "CodeDeployDefault.OneAtATime"
    message = errors_of(prod)
    assert f"{NS}:services[1].deploy.strategy: for platform lambda use one of" in message
    assert "CodeDeployDefault.LambdaCanary10Percent5Minutes" in message


def test_secret_looking_plaintext_variables_are_rejected_without_echoing_the_value(
    staging: dict[str, Any],
) -> None:
    staging["services"][0]["build"]["environment"]["GITHUB_TOKEN"] = "ghp_realvalue123"
    staging["services"][0]["tests"][0]["environment"] = {"DB_PASSWORD": {"value": "hunter2"}}
    message = errors_of(staging, "staging")
    assert f"{NS}:services[0].build.environment.GITHUB_TOKEN: looks like a secret" in message
    assert f"{NS}:services[0].tests[0].environment.DB_PASSWORD: looks like a secret" in message
    assert "ghp_realvalue123" not in message and "hunter2" not in message
    assert ".GITHUB_TOKEN.secret' <secret-arn>" in message


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("API_KEY", True),
        ("NPM_TOKEN", True),
        ("DBPASSWORD", True),
        ("MONKEY", False),
        ("LOG_LEVEL", False),
    ],
)
def test_secret_names_are_recognised(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_secret_references_are_accepted(staging: dict[str, Any]) -> None:
    settings = parse_settings(NS, "staging", staging, github_token="secret")
    token = settings.services[0].build.environment["NPM_TOKEN"]
    assert token.secret is not None and token.value is None


def test_alarm_rollback_without_alarms_is_an_error(prod: dict[str, Any]) -> None:
    deploy = prod["services"][0]["deploy"]
    deploy.update(default_alarms=False, alarms=[], bake_minutes=0)
    message = errors_of(prod)
    assert f"{NS}:services[0].deploy.rollback_on_alarm: needs alarms to watch" in message


def test_bake_time_without_alarms_is_an_error(prod: dict[str, Any]) -> None:
    deploy = prod["services"][0]["deploy"]
    deploy.update(default_alarms=False, alarms=[], rollback_on_alarm=False)
    assert f"{NS}:services[0].deploy.bake_minutes: watches alarms" in errors_of(prod)


def test_blue_green_without_a_load_balancer_is_an_error(prod: dict[str, Any]) -> None:
    target = prod["services"][0]["deploy"]["targets"][0]
    target["blue_green"] = {"terminate_blue_after_minutes": 30}
    del target["load_balancer"]
    prod["services"][0]["deploy"]["default_alarms"] = False
    message = errors_of(prod)
    assert f"{NS}:services[0].deploy.targets[0].load_balancer: blue_green shifts traffic" in message


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"cron": "0 9-15 ? * MON-FRI"}, "needs 6 or 7 space-separated fields"),
        ({"cron": "0 * 9-15 ? * MON-FRI"}, "the seconds field must be '*'"),
        ({"cron": "* * 9-15 * * MON-FRI"}, "one of day-of-month or day-of-week must be '?'"),
        ({"cron": "* * 9-15 ? * MON-FRI", "time_zone": "Mars/Olympus"}, "is not an IANA time zone"),
    ],
)
def test_deployment_window_with_bad_cron_or_time_zone_is_an_error(
    prod: dict[str, Any], window: dict[str, str], expected: str
) -> None:
    prod["services"][0]["deploy"]["window"] = window
    message = errors_of(prod)
    assert f"{NS}:services[0].deploy.window." in message
    assert expected in message


def test_prod_approval_with_no_subscriber_is_an_error(prod: dict[str, Any]) -> None:
    prod["services"][1]["notifications"] = {}
    message = errors_of(prod)
    assert (
        f"{NS}:services[1].notifications: approval is enabled and requires a subscriber" in message
    )


def test_an_unheard_approval_is_allowed_outside_production_unless_required() -> None:
    staging = stack_raw("staging")
    staging["services"][1]["approval"] = {"enabled": True}
    parse_settings(NS, "staging", staging, github_token="secret")
    staging["services"][1]["approval"]["require_subscriber"] = True
    assert f"{NS}:services[1].notifications: approval is enabled" in errors_of(staging, "staging")


def test_connection_needs_exactly_one_of_arn_or_name(staging: dict[str, Any]) -> None:
    staging["connection"] = {"arn": staging["connection"]["arn"], "name": "also"}
    assert "give exactly one of arn" in errors_of(staging, "staging")


def test_protected_stage_refuses_force_destroy(prod: dict[str, Any]) -> None:
    prod["artifacts"]["force_destroy"] = True
    message = errors_of(prod)
    assert f"{NS}:artifacts.force_destroy: is true but the environment is protected" in message


def test_many_mistakes_are_reported_together(staging: dict[str, Any]) -> None:
    staging["services"][0]["branch"] = ""
    staging["services"][0]["repository"] = "not a repo"
    staging["services"][1]["deploy"]["targets"][0]["alias"] = None
    staging["services"][1]["tests"] = [{"name": "unit"}, {"name": "unit"}]
    message = errors_of(staging, "staging")
    for path in (
        "services[0].branch",
        "services[0].repository",
        "services[1].deploy.targets[0]",
        "services[1].tests",
    ):
        assert f"{NS}:{path}" in message, path


def test_cross_key_problems_are_reported_alongside_other_mistakes(prod: dict[str, Any]) -> None:
    prod["artifacts"]["force_destroy"] = True
    prod["services"][1]["notifications"] = {}
    prod["services"][0]["branch"] = ""
    message = errors_of(prod)
    assert "3 problem(s)" in message
    assert f"{NS}:services[0].branch" in message
    assert f"{NS}:artifacts.force_destroy: is true but the environment is protected" in message
    assert f"{NS}:services[1].notifications: approval is enabled" in message


def test_execution_mode_defaults_to_queued_only_in_production(prod: dict[str, Any]) -> None:
    for service in prod["services"]:
        service.pop("execution_mode", None)
    assert (
        parse_settings(NS, "prod", prod, github_token="secret").execution_mode(
            parse_settings(NS, "prod", prod, github_token="secret").services[0]
        )
        == "QUEUED"
    )
    dev = stack_raw("dev")
    for service in dev["services"]:
        service.pop("execution_mode", None)
    settings = parse_settings(NS, "dev", dev, github_token="secret")
    assert settings.execution_mode(settings.services[0]) == "SUPERSEDED"


def test_load_settings_reads_the_stack_config_and_reports_typos_in_top_level_keys() -> None:
    reset_pulumi("dev", Recorder())
    flat = {f"{NS}:{k}": json.dumps(v) for k, v in stack_raw("dev").items()}
    flat[f"{NS}:githubToken"] = "token-placeholder"
    flat[f"{NS}:servics"] = "[]"
    pulumi.runtime.set_all_config(flat, [f"{NS}:githubToken"])
    with pytest.raises(ConfigError, match=rf"{NS}:servics: unknown key"):
        load_settings()
    del flat[f"{NS}:servics"]
    pulumi.runtime.set_all_config(flat, [f"{NS}:githubToken"])
    assert [s.name for s in load_settings().services] == ["web", "thumbnailer"]


def test_github_management_without_a_token_is_an_error(prod: dict[str, Any]) -> None:
    message = errors_of(prod, github_token="missing")
    assert f"{NS}:github.manage_repository: managing the GitHub repository needs a token" in message
    assert "pulumi config set --secret githubToken" in message


def test_a_plaintext_github_token_is_refused_through_the_real_config_reader() -> None:
    reset_pulumi("dev", Recorder())
    flat = {f"{NS}:{k}": json.dumps(v) for k, v in stack_raw("dev").items()}
    flat[f"{NS}:githubToken"] = "ghp_plaintext"
    pulumi.runtime.set_all_config(flat, [])
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "set in plaintext; it must be a secret" in str(caught.value)
    assert "ghp_plaintext" not in str(caught.value)


def test_a_repository_outside_the_github_providers_owner_is_an_error(prod: dict[str, Any]) -> None:
    message = errors_of(prod, github_provider_owner="other-org")
    assert (
        f"{NS}:github.repository: its owner 'acme' differs from the GitHub provider's owner 'other-org'"
        in message
    )
    assert "pulumi config set github:owner acme" in message
    parse_settings(NS, "prod", prod, github_token="secret", github_provider_owner="ACME")


def test_a_repository_with_a_path_after_its_name_is_owned_by_its_first_part(
    prod: dict[str, Any],
) -> None:
    # The pattern refuses the extra part; the owner check must not add a second, wrong problem.
    prod["github"]["repository"] = "acme/infra/extra"
    message = errors_of(prod, github_provider_owner="acme")
    assert f"{NS}:github.repository:" in message
    assert "differs from the GitHub provider's owner" not in message


def test_github_keys_are_validated_like_the_rest(prod: dict[str, Any]) -> None:
    prod["github"]["oidc_provider_arn"] = "arn:aws:iam::111111111111:oidc-provider/example.com"
    prod["github"]["reviewer"] = ["alice"]
    message = errors_of(prod)
    assert f"{NS}:github.oidc_provider_arn" in message
    assert f"{NS}:github.reviewer: unknown key; allowed here:" in message


# Promotion: where releases come from and go to -------------------------------------------------


def test_promotion_mistakes_are_all_reported_at_once(prod: dict[str, Any]) -> None:
    """Each of the promotion mistakes, in one stack file: one round names every one."""
    prod["services"][0]["promote_from"] = "stagign"
    prod["services"][1]["promote_from"] = "prod"
    prod["services"][1]["build"] = {"buildspec": "buildspec.yml"}
    prod["services"][1]["tests"] = [{"name": "unit"}]
    prod["upstreams"] = {"staging": {}, "canary": {}}
    prod["releases"] = {"consumers": [{"stage": "staging", "account": "222222222222"}]}

    message = errors_of(prod)

    assert (
        f"{NS}:services[0].promote_from: unknown stage 'stagign': a stage to promote from is "
        "declared under upstreams (declared: canary, staging)"
    ) in message
    assert (
        f"declare it: pulumi config set --path '{NS}:upstreams.stagign.stack' "
        "<organization>/<project>/stagign, or fix the stage name"
    ) in message
    assert f"{NS}:services[1].promote_from: stage prod cannot promote from itself" in message
    for key in ("build", "tests"):
        assert (
            f"{NS}:services[1].{key}: a service promoted from prod deploys the release prod "
            f"built, tested and proved; {key} belongs there"
        ) in message
        assert f"fix: pulumi config rm --path '{NS}:services[1].{key}'" in message
    assert (
        f"{NS}:upstreams.staging: prod promotes from staging and publishes releases for staging "
        "(releases.consumers): a release would go round in a cycle"
    ) in message
    assert f"{NS}:upstreams.canary: no service has promote_from: canary" in message
    assert (
        f"{NS}:releases.kms_key: releases go to another account (staging (account "
        "222222222222)); releases that cross accounts must be encrypted with a customer "
        "managed KMS key, because AWS managed keys (aws/s3) cannot be used by another account"
    ) in message
    assert f"fix: pulumi config set --path '{NS}:releases.kms_key' create" in message
    assert "7 problem(s)" in message


def test_a_stage_cannot_publish_for_itself(staging: dict[str, Any]) -> None:
    staging["releases"] = {"consumers": [{"stage": "staging"}]}
    message = errors_of(staging, "staging")
    assert (
        f"{NS}:releases.consumers[0].stage: stage staging cannot publish releases for itself"
    ) in message


def test_cross_account_promotion_with_a_key_is_valid(staging: dict[str, Any]) -> None:
    staging["releases"] = {
        "consumers": [{"stage": "prod", "account": "222222222222"}],
        "kms_key": "create",
    }
    settings = parse_settings(NS, "staging", staging, github_token="secret")
    assert settings.releases is not None
    assert [c.account for c in settings.releases.cross_account] == ["222222222222"]
    staging["releases"]["kms_key"] = "arn:aws:kms:eu-west-1:111111111111:key/abc"
    parse_settings(NS, "staging", staging, github_token="secret")


def test_an_upstream_named_by_bucket_across_accounts_needs_its_key(prod: dict[str, Any]) -> None:
    prod["upstreams"] = {
        "staging": {"bucket": "staging-releases", "account": "111111111111", "stack": "a/b/c"}
    }
    message = errors_of(prod)
    assert (
        f"{NS}:upstreams.staging.bucket: give stack (a stack reference) or bucket (the location "
        "itself), not both"
    ) in message
    assert (
        f"{NS}:upstreams.staging.kms_key_arn: releases from another account are encrypted with "
        "a customer managed KMS key"
    ) in message


def test_a_service_needs_a_source(staging: dict[str, Any]) -> None:
    del staging["services"][0]["repository"]
    del staging["services"][0]["branch"]
    staging["services"][1]["promotion"] = "manual"
    message = errors_of(staging, "staging")
    for key in ("repository", "branch"):
        assert (
            f"{NS}:services[0].{key}: required key is missing: a service builds from GitHub "
            "(repository and branch) or deploys another stage's releases (promote_from)"
        ) in message
    assert (
        f"{NS}:services[1].promotion: applies to a service with promote_from; this one builds "
        "from GitHub"
    ) in message


def test_a_connection_is_required_exactly_where_a_service_builds_from_github(
    staging: dict[str, Any], prod: dict[str, Any]
) -> None:
    del staging["connection"]
    assert (
        f"{NS}:connection: required: web, thumbnailer build from GitHub, through a connection"
    ) in errors_of(staging, "staging")
    prod["connection"] = {"name": "unused"}
    message = errors_of(prod)
    assert f"{NS}:connection: every service of this stage is promoted from another stage" in message
    assert f"pulumi config rm --path '{NS}:connection'" in message


def test_a_branch_name_that_would_need_shell_quoting_is_refused(staging: dict[str, Any]) -> None:
    staging["services"][0]["branch"] = "feature/it's-mine"
    assert f"{NS}:services[0].branch: String should match pattern" in errors_of(staging, "staging")


def test_verification_names_a_target_with_an_endpoint(staging: dict[str, Any]) -> None:
    web = staging["services"][0]["deploy"]
    del web["targets"][0]["endpoint"]
    web["targets"].append({"name": "admin", "autoscaling_groups": ["admin-asg"]})
    web["default_alarms"] = False
    web["rollback_on_alarm"] = False
    thumbnailer = staging["services"][1]["deploy"]
    thumbnailer["verify"] = [{"name": "smoke", "target": "nope"}]
    thumbnailer["targets"][0]["endpoint"] = "https://example.com"
    message = errors_of(staging, "staging")
    assert (
        f"{NS}:services[0].deploy.verify[0].target: several targets (web, admin): name the one "
        "this suite verifies"
    ) in message
    assert (
        f"{NS}:services[1].deploy.verify[0].target: is not a target of this service; targets: "
        "thumbnailer"
    ) in message
    assert (
        f"{NS}:services[1].deploy.targets[0].endpoint: endpoint is for platform server" in message
    )
    web["verify"][0]["target"] = "admin"
    assert (
        f"{NS}:services[0].deploy.targets[1].endpoint: verifying target 'admin' sends it test "
        "traffic: give the target's endpoint"
    ) in errors_of(staging, "staging")


def test_promotion_defaults_to_automatic(prod: dict[str, Any]) -> None:
    del prod["services"][0]["promotion"]
    settings = parse_settings(NS, "prod", prod, github_token="secret")
    assert settings.services[0].automatic_promotion
    assert not settings.services[1].automatic_promotion, "the sample's thumbnailer is manual"


# AWS's rules, checked before anything is declared -----------------------------------------------


def test_a_bake_watching_more_alarms_than_a_stage_condition_holds_is_an_error(
    prod: dict[str, Any],
) -> None:
    deploy = prod["services"][0]["deploy"]
    # 2 defaults (one target, the count measure) + 4 listed = 6 rules, one more than a
    # condition holds.
    deploy["alarm_defaults"] = {"measure": "count"}
    deploy["alarms"] = ["a", "b", "c", "d"]
    message = errors_of(prod)
    assert (
        f"{NS}:services[0].deploy.bake_minutes: the bake watches 6 alarms (4 listed, 2 created as "
        "defaults for 1 target(s)), one CloudWatchAlarm rule each, but a stage condition holds at "
        "most 5 rules; watch fewer, or combine several into one CloudWatch composite alarm"
    ) in message
    deploy["alarms"] = ["a", "b", "c"]
    parse_settings(NS, "prod", prod, github_token="secret")


def test_more_alarms_than_a_deployment_group_watches_is_an_error(staging: dict[str, Any]) -> None:
    deploy = staging["services"][1]["deploy"]  # Lambda: the deploy action has the same limit
    # No bake (its stage condition holds fewer) and no synthetic traffic (one alarm more).
    deploy.pop("bake_minutes")
    deploy.pop("traffic")
    deploy["alarms"] = [f"alarm-{n}" for n in range(9)]
    message = errors_of(staging, "staging")
    assert (
        f"{NS}:services[1].deploy.alarms: the release watches 11 alarms (9 listed, 2 created as "
        "defaults for 1 target(s)), but a CodeDeploy deployment group (and the Lambda deploy "
        "action) watch at most 10"
    ) in message
    deploy["alarms"] = deploy["alarms"][:8]
    parse_settings(NS, "staging", staging, github_token="secret")


def test_parallel_execution_with_stage_rollback_or_bake_is_an_error(prod: dict[str, Any]) -> None:
    prod["services"][0]["execution_mode"] = "PARALLEL"
    message = errors_of(prod)
    assert (
        f"{NS}:services[0].deploy.stage_rollback_on_failure: stage rollback is on (the default), "
        "and AWS offers no stage rollback to a PARALLEL pipeline"
    ) in message
    assert (
        f"{NS}:services[0].deploy.bake_minutes: a bake rolls the stage back when an alarm fires, "
        "and AWS offers no stage rollback to a PARALLEL pipeline"
    ) in message
    prod["services"][0]["deploy"].update(stage_rollback_on_failure=False, bake_minutes=0)
    parse_settings(NS, "prod", prod, github_token="secret")


def test_blue_green_copies_the_group_and_discover_existing_is_refused(
    staging: dict[str, Any],
) -> None:
    target = staging["services"][0]["deploy"]["targets"][0]
    target["blue_green"] = {}
    settings = parse_settings(NS, "staging", staging, github_token="secret")
    green = settings.services[0].deploy.targets[0].blue_green
    assert green is not None and green.green_fleet == "copy_auto_scaling_group"
    target["blue_green"] = {"green_fleet": "discover_existing"}
    message = errors_of(staging, "staging")
    assert (
        f"{NS}:services[0].deploy.targets[0].blue_green.green_fleet: discover_existing needs the "
        "green instances named when each deployment is created, and CodePipeline's CodeDeploy "
        "action can only name the application and deployment group"
    ) in message
