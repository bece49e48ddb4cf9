"""The exact lines a bad stack file gets: the value shown, the placeholder in the fix, and the
problems found across keys while another key is invalid.

tests/test_config.py checks which problems are found; this module pins how each one reads,
because the message is the whole interface of config validation.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stack.config import looks_secret
from stack.config.base import Finding, Problems
from stack.config.errors import MISSING, describe_all, problem
from stack.config.stack import Settings
from tests.test_config import NS, errors_of, stack_raw


def block(message: str, key: str) -> list[str]:
    """The three lines (`- key: why`, `received:`, `fix:`) of the problem at `key`."""
    lines = message.splitlines()
    for at, line in enumerate(lines):
        if line.startswith(f"  - {NS}:{key}: "):
            return lines[at : at + 3]
    raise AssertionError(f"no problem at {key} in:\n{message}")


def test_a_missing_key_shows_not_set_rather_than_a_value() -> None:
    assert problem(NS, ("services",), MISSING, "required", "fix it").splitlines()[1] == (
        "      received: (not set)"
    )


def test_a_null_value_is_shown_as_null_not_as_missing() -> None:
    assert problem(NS, ("x",), None, "why", "fix").splitlines()[1] == "      received: null"


def test_a_required_key_left_out_of_the_stack_file_is_shown_as_not_set() -> None:
    # pydantic's input for a missing key is the mapping around it; the message shows the key's own.
    assert block(errors_of({}), "services")[1] == "      received: (not set)"


def test_a_long_value_is_cut_at_120_characters_with_an_ellipsis() -> None:
    shown = problem(NS, ("x",), "a" * 300, "why", "fix").splitlines()[1]
    value = shown.removeprefix("      received: ")
    assert value == '"' + "a" * 116 + "..."
    assert len(value) == 120


def test_a_value_of_exactly_120_characters_is_shown_whole() -> None:
    value = "b" * 118  # 120 with its JSON quotes
    assert problem(NS, ("x",), value, "w", "f").splitlines()[1].endswith(f'"{value}"')


@pytest.mark.parametrize(
    ("key", "value", "placeholder"),
    [
        ("environment.production", "maybe", "<true|false>"),
        ("environment.production", [1], "<true|false>"),
        ("artifacts.expire_days", "ninety", "<number>"),
        ("artifacts.expire_days", [90], "<number>"),
        ("services[0].branch", 5, "<text>"),
        ("services[0].tests", "unit", "<list>"),
        ("services[0].deploy.platform", "k8s", "<one of the allowed values>"),
        ("services[0].name", "Web Site", "<value matching the pattern>"),
        ("artifacts", "none", "<value>"),
    ],
)
def test_each_kind_of_wrong_value_gets_a_placeholder_for_what_is_expected(
    key: str, value: Any, placeholder: str
) -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    set_path(raw, key, value)
    why, received, fix = block(errors_of(raw, stage="staging"), key)
    assert fix == f"      fix: pulumi config set --path '{NS}:{key}' {placeholder}", why
    assert received.startswith("      received: "), received


def test_metric_analysis_of_a_server_target_without_its_alb_suffixes_says_which_to_give() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    deploy = raw["services"][0]["deploy"]
    deploy.update(default_alarms=False, rollback_on_alarm=False)
    deploy["analysis"] = {"metrics": [{"name": "error-rate", "max": 1}]}
    del deploy["targets"][0]["load_balancer"]["target_group_arn_suffix"]
    assert block(errors_of(raw, stage="staging"), "services[0].deploy.targets[0].load_balancer")[
        0
    ] == (
        f"  - {NS}:services[0].deploy.targets[0].load_balancer: analysis measures the ALB: give "
        "load_balancer.target_group_arn_suffix and load_balancer.load_balancer_arn_suffix"
    )


def test_synthetic_traffic_to_a_server_target_without_an_endpoint_says_what_the_endpoint_is() -> (
    None
):
    raw = copy.deepcopy(stack_raw("staging"))
    del raw["services"][0]["deploy"]["targets"][0]["endpoint"]
    assert (
        f"  - {NS}:services[0].deploy.targets[0].endpoint: synthetic traffic to target 'web' "
        "needs its endpoint (the base URL the canary sends the smoke checks to)"
    ) in errors_of(raw, stage="staging").splitlines()


def test_an_invalid_stack_name_says_to_rename_the_stack_rather_than_set_a_key() -> None:
    message = errors_of(stack_raw("dev"), stage="Dev")
    assert block(message, "stage")[2] == (
        "      fix: rename the stack: stack names must be lowercase, e.g. dev, staging, prod"
    )


def test_the_received_value_of_a_grouped_problem_is_the_one_at_its_own_path() -> None:
    # `Problems` raised by one validator expand into one line per item, each with its value.
    err = {
        "type": "value_error",
        "loc": ("services", 0),
        "msg": "Value error, two problems",
        "input": {"name": "web", "deploy": {"strategy": "Fast"}},
        "ctx": {
            "error": Problems(
                [Finding(("deploy", "strategy"), "unknown strategy"), Finding(("gone",), "x")]
            )
        },
    }
    lines = "\n".join(describe_all(NS, err, Settings))
    assert block(lines, "services[0].deploy.strategy")[1] == '      received: "Fast"'
    assert block(lines, "services[0].gone")[1] == "      received: (not set)"


def test_an_unknown_key_where_the_allowed_keys_cannot_be_found_says_only_unknown_key() -> None:
    err = {"type": "extra_forbidden", "loc": ("nowhere", "extra"), "msg": "", "input": 1}
    line = describe_all(NS, err, Settings)[0].splitlines()[0]
    assert line == f"  - {NS}:nowhere.extra: unknown key"


def test_an_unknown_key_in_a_list_item_lists_the_keys_of_that_item() -> None:
    err = {"type": "extra_forbidden", "loc": ("services", 0, "nme"), "msg": "", "input": 1}
    line = describe_all(NS, err, Settings)[0].splitlines()[0]
    assert line.startswith(f"  - {NS}:services[0].nme: unknown key; allowed here: ")
    assert "branch" in line.split("allowed here: ")[1].split(", ")


def test_an_unknown_key_below_a_plain_value_lists_nothing() -> None:
    # `production` is a boolean: there is no model below it whose keys could be listed.
    err = {"type": "extra_forbidden", "loc": ("environment", "production", "x"), "input": 1}
    assert describe_all(NS, err, Settings)[0].splitlines()[0] == (
        f"  - {NS}:environment.production.x: unknown key"
    )


def test_a_problems_error_reads_as_its_reasons_joined() -> None:
    assert str(Problems([Finding(("a",), "first"), Finding(("b",), "second")])) == ("first; second")


@pytest.mark.parametrize("name", ["GITHUBTOKEN", "APPSECRET", "ADMINPASSWORD", "AWSCREDENTIALS"])
def test_a_name_ending_in_a_secret_word_without_a_separator_looks_secret(name: str) -> None:
    assert looks_secret(name)


# Problems across keys (connections, promotions) are still reported when another key is invalid,
# from the parts of the config that are valid on their own.


def test_with_another_key_invalid_an_unused_connection_is_still_reported() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["connection"] = {"name": "github"}
    raw["artifacts"]["expire_days"] = "ninety"
    message = errors_of(raw, stage="prod")
    assert "the connection would be unused" in block(message, "connection")[0]


def test_with_another_key_invalid_a_promotion_from_an_undeclared_stage_is_reported() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    del raw["upstreams"]
    raw["artifacts"]["expire_days"] = "ninety"
    why, received, _ = block(errors_of(raw, stage="prod"), "services[0].promote_from")
    assert "unknown stage 'staging'" in why and "(declared: none)" in why
    assert received == '      received: "staging"'


def test_with_upstreams_of_the_wrong_type_no_promotion_is_called_undeclared() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["upstreams"] = ["staging"]
    message = errors_of(raw, stage="prod")
    assert f"{NS}:upstreams: " in message
    assert "unknown stage" not in message


def set_path(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set `a.b[0].c` in raw config."""
    parts: list[str | int] = []
    for piece in key.replace("]", "").split("."):
        name, *indexes = piece.split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes)
    target: Any = raw
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


# How a service is deployed: each problem at its own key, with its own reason.

WEB, THUMBNAILER = 0, 1  # the staging sample's server and Lambda services


def deploy_problem(service: int, edit: Any, key: str) -> list[str]:
    raw = copy.deepcopy(stack_raw("staging"))
    edit(raw["services"][service]["deploy"])
    return block(errors_of(raw, stage="staging"), f"services[{service}].deploy.{key}")


def first_target(**keys: Any) -> Any:
    return lambda deploy: deploy["targets"][0].update(keys)


@pytest.mark.parametrize(
    ("service", "edit", "key", "why"),
    [
        pytest.param(
            WEB,
            lambda d: d.update(minimum_healthy_hosts={"type": "HOST_COUNT", "value": 1}),
            "strategy",
            "give strategy or minimum_healthy_hosts, not both",
            id="strategy-and-minimum",
        ),
        pytest.param(
            WEB,
            lambda d: d["targets"][0].update(autoscaling_groups=[]),
            "targets[0]",
            "target 'web' needs ec2_tag_filters and/or autoscaling_groups",
            id="server-without-hosts",
        ),
        pytest.param(
            WEB,
            first_target(function_name="web"),
            "targets[0]",
            "function_name and alias are for platform lambda",
            id="server-with-function",
        ),
        pytest.param(
            WEB,
            first_target(
                autoscaling_groups=[],
                ec2_tag_filters=[{"key": "app", "value": "web"}],
                blue_green={},
            ),
            "targets[0].autoscaling_groups",
            "blue_green copies an Auto Scaling group: list one",
            id="blue-green-without-group",
        ),
        pytest.param(
            WEB,
            lambda d: d["targets"][0].update(load_balancer={"target_group": "web-staging"}),
            "targets[0].load_balancer",
            "default_alarms measures the ALB: give load_balancer.target_group_arn_suffix and "
            "load_balancer.load_balancer_arn_suffix",
            id="default-alarms-without-alb",
        ),
        pytest.param(
            THUMBNAILER,
            lambda d: d.update(minimum_healthy_hosts={"type": "HOST_COUNT", "value": 1}),
            "minimum_healthy_hosts",
            "applies to platform server only",
            id="lambda-minimum",
        ),
        pytest.param(
            THUMBNAILER,
            first_target(load_balancer={"target_group": "tg"}),
            "targets[0]",
            "EC2, Auto Scaling and load balancer keys are for platform server",
            id="lambda-load-balancer",
        ),
        pytest.param(
            THUMBNAILER,
            first_target(endpoint="https://thumbnailer.example.com"),
            "targets[0].endpoint",
            "endpoint is for platform server; verification of a Lambda target gets "
            "FUNCTION_NAME and FUNCTION_ALIAS instead",
            id="lambda-endpoint",
        ),
        pytest.param(
            WEB,
            lambda d: d["targets"][0].pop("endpoint"),
            "targets[0].endpoint",
            "verifying target 'web' sends it test traffic: give the target's endpoint (its base "
            "URL, e.g. https://web.staging.example.com)",
            id="verify-without-endpoint",
        ),
    ],
)
def test_each_deploy_problem_is_reported_at_its_key_with_its_reason(
    service: int, edit: Any, key: str, why: str
) -> None:
    line = deploy_problem(service, edit, key)[0]
    assert line == f"  - {NS}:services[{service}].deploy.{key}: {why}"


def test_a_server_strategy_of_the_lambda_platform_lists_the_server_ones() -> None:
    line = deploy_problem(
        WEB, lambda d: d.update(strategy="CodeDeployDefault.LambdaAllAtOnce"), "strategy"
    )[0]
    assert line.startswith(
        f"  - {NS}:services[0].deploy.strategy: for platform server use one of ["
    )
    assert "'CodeDeployDefault.HalfAtATime'" in line


def test_blue_green_without_a_load_balancer_is_reported_at_load_balancer() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    deploy = raw["services"][WEB]["deploy"]
    deploy["default_alarms"] = False
    deploy["rollback_on_alarm"] = False
    deploy["targets"][0].pop("load_balancer")
    deploy["targets"][0]["blue_green"] = {}
    message = errors_of(raw, stage="staging")
    assert block(message, "services[0].deploy.targets[0].load_balancer")[0].endswith(
        ": blue_green shifts traffic: give load_balancer.target_group"
    )


def test_a_suite_without_a_target_verifies_none_of_several_targets() -> None:
    from stack.config import parse_settings

    raw = copy.deepcopy(stack_raw("staging"))
    settings = parse_settings(NS, "staging", raw, github_token="secret")
    deploy = settings.services[WEB].deploy
    two = deploy.model_copy(update={"targets": [deploy.targets[0], deploy.targets[0]]})
    assert two.verified_target(deploy.verify[0]) is None
    assert deploy.verified_target(deploy.verify[0]) == deploy.targets[0]


# One account per stack: the keys not covered by tests/test_accounts.py's table.


def test_an_arn_without_an_account_field_names_no_account() -> None:
    from stack.config.accounts import _arn_account

    assert _arn_account("arn:aws:s3:::releases") is None
    assert _arn_account("not:an:arn:at:all:here") is None
    assert _arn_account("arn:aws:kms:eu-west-1:222222222222:key/k") == "222222222222"


OTHER = "222222222222"
OTHER_KEY = f"arn:aws:kms:eu-west-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_SECRET = f"arn:aws:secretsmanager:eu-west-1:{OTHER}:secret:db-Ab12Cd"


def account_refusal(stage: str, edit: Any) -> str:
    from stack.config import ConfigError, parse_settings
    from stack.config.accounts import check_accounts
    from tests.harness import ACCOUNT

    raw = copy.deepcopy(stack_raw(stage))
    edit(raw)
    with pytest.raises(ConfigError) as caught:
        check_accounts(NS, parse_settings(NS, stage, raw, github_token="secret"), ACCOUNT)
    return str(caught.value)


@pytest.mark.parametrize(
    ("stage", "edit", "key"),
    [
        pytest.param(
            "staging",
            lambda r: r["releases"].update(kms_key=OTHER_KEY),
            "releases.kms_key",
            id="releases-key",
        ),
        pytest.param(
            "staging",
            lambda r: r["services"][0]["deploy"]["verify"][0].update(
                environment={"DB": {"secret": OTHER_SECRET}}
            ),
            "services[0].deploy.verify[0].environment.DB.secret",
            id="verify-secret",
        ),
        pytest.param(
            "staging",
            lambda r: r["services"][0]["deploy"]["release_task"].update(
                environment={"DB": {"secret": OTHER_SECRET}}
            ),
            "services[0].deploy.release_task.environment.DB.secret",
            id="release-task-secret",
        ),
    ],
)
def test_these_arns_of_another_account_are_refused_too(stage: str, edit: Any, key: str) -> None:
    assert f"\n  - {NS}:{key}: names account {OTHER}" in account_refusal(stage, edit)


def test_an_upstream_key_of_another_account_than_this_stack_says_this_stacks() -> None:
    message = account_refusal(
        "prod",
        lambda r: r["upstreams"]["staging"].update(
            bucket="staging-releases", kms_key_arn=OTHER_KEY
        ),
    )
    line = block(message, "upstreams.staging.kms_key_arn")[0]
    assert line.endswith("are in account 111111111111 (this stack's)")


def test_each_account_problem_is_on_its_own_lines() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["releases"]["kms_key"] = OTHER_KEY
        raw["connection"]["arn"] = raw["connection"]["arn"].replace("111111111111", OTHER)

    lines = account_refusal("staging", edit).splitlines()
    assert lines[0].endswith("nothing was deployed:")
    assert [line.split(":")[1] for line in lines[1::3]] == ["connection.arn", "releases.kms_key"]
    assert lines[3].startswith("      fix: ") and lines[3].endswith("credentials")
    assert lines[4].startswith(f"  - {NS}:releases.kms_key: ")


# Checks across keys and the GitHub side, line by line.


def test_two_services_on_the_default_paths_of_one_name_clash_by_stage() -> None:
    # Without runtime_config.path each service reads /<name>/<stage>: with the stage in it, two
    # services never share a path, and a path under another's is named with both.
    raw = copy.deepcopy(stack_raw("staging"))
    for service in raw["services"]:
        service.pop("runtime_config", None)
    raw["services"][1]["runtime_config"] = {"path": "/web/staging/thumbnailer"}
    why = block(errors_of(raw, stage="staging"), "services[1].runtime_config.path")[0]
    assert why.endswith(
        "/web/staging/thumbnailer lies under web's path /web/staging, so web's hosts would read "
        "thumbnailer's configuration too; use paths that do not nest"
    )


def test_a_service_built_from_github_without_a_connection_is_told_how_to_create_one() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    del raw["connection"]
    assert block(errors_of(raw, stage="staging"), "connection")[2] == (
        f"      fix: pulumi config set --path '{NS}:connection.name' <name>"
    )


def test_an_unused_connection_reads_as_such_and_is_removed() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["connection"] = {"name": "github"}
    why, _, fix = block(errors_of(raw, stage="prod"), "connection")
    assert why.endswith(
        ": every service of this stage is promoted from another stage, so nothing here reads "
        "GitHub; the connection would be unused"
    )
    assert fix == f"      fix: pulumi config rm --path '{NS}:connection'"


def test_an_approval_nobody_hears_of_is_reported_at_notifications() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["services"][0]["notifications"] = {}
    assert block(errors_of(raw, stage="prod"), "services[0].notifications")[0].endswith(
        ": approval is enabled and requires a subscriber (the default in production), but "
        "notifications has no emails, https or slack: nobody would be asked to approve"
    )


def test_a_stage_named_among_its_own_upstreams_is_refused_at_that_upstream() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["upstreams"]["prod"] = {}
    assert block(errors_of(raw, stage="prod"), "upstreams.prod")[0].endswith(
        ": a stage cannot promote from itself"
    )


def test_an_upstream_no_service_promotes_from_is_removed() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    raw["upstreams"]["qa"] = {}
    why, _, fix = block(errors_of(raw, stage="prod"), "upstreams.qa")
    assert why.endswith(": no service has promote_from: qa; remove it or promote a service")
    assert fix == f"      fix: pulumi config rm --path '{NS}:upstreams.qa'"


def test_releases_crossing_accounts_without_a_key_are_told_both_ways_to_get_one() -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    raw["releases"] = {"consumers": [{"stage": "prod", "account": "222222222222"}]}
    assert block(errors_of(raw, stage="staging"), "releases.kms_key")[2] == (
        f"      fix: pulumi config set --path '{NS}:releases.kms_key' create (a key whose policy "
        "lets those accounts decrypt), or set it to an existing key's ARN"
    )


def test_an_unknown_top_level_key_shows_its_value() -> None:
    raw = copy.deepcopy(stack_raw("dev"))
    raw["servics"] = ["web"]
    assert block(errors_of(raw, stage="dev"), "servics")[1] == '      received: ["web"]'


@pytest.mark.parametrize(
    ("token", "said"),
    [("missing", "not set"), ("plaintext", "set in plaintext; it must be a secret")],
)
def test_a_managed_repository_without_a_secret_token_says_how_the_token_is_set(
    token: str, said: str
) -> None:
    why = block(errors_of(stack_raw("prod"), github_token=token), "github.manage_repository")[0]
    assert why.endswith(f"needs a token in {NS}:githubToken, {said}")


def test_an_unmanaged_repository_needs_no_token() -> None:
    from stack.config import parse_settings

    raw = copy.deepcopy(stack_raw("prod"))
    raw["github"]["manage_repository"] = False
    raw["github"].pop("owns_ruleset", None)
    raw["github"].pop("reviewers", None)
    # Reporting to GitHub needs a token of its own right: off here.
    raw["report"] = {"github": False}
    assert parse_settings(NS, "prod", raw, github_token="missing").stage == "prod"


def test_a_repository_of_another_owner_shows_the_repository() -> None:
    message = errors_of(stack_raw("prod"), github_provider_owner="other-org")
    assert block(message, "github.repository")[1] == '      received: "acme/delivery-platform"'


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (lambda d: d["verify"][0], "deploy.verify[0]"),
        (lambda d: d["release_task"], "deploy.release_task"),
    ],
)
def test_a_plaintext_secret_of_a_deploy_suite_is_refused_without_showing_it(
    where: Any, key: str
) -> None:
    raw = copy.deepcopy(stack_raw("staging"))
    where(raw["services"][0]["deploy"])["environment"] = {"DB_PASSWORD": {"value": "hunter2"}}
    message = errors_of(raw, stage="staging")
    why, received, _ = block(message, f"services[0].{key}.environment.DB_PASSWORD")
    assert why.endswith(
        ": looks like a secret but is plaintext; keep it in Secrets Manager or Parameter Store "
        "and reference it"
    )
    assert received == '      received: "(plaintext value hidden)"'
    assert "hunter2" not in message


def test_the_github_providers_owner_is_read_from_its_own_config() -> None:
    import json

    import pulumi

    from stack.config import ConfigError, load_settings
    from tests.harness import Recorder, reset_pulumi

    reset_pulumi("prod", Recorder())
    flat = {f"{NS}:{k}": json.dumps(v) for k, v in stack_raw("prod").items()}
    flat[f"{NS}:githubToken"] = "token-placeholder"
    flat["github:owner"] = "other-org"
    pulumi.runtime.set_all_config(flat, [f"{NS}:githubToken"])
    with pytest.raises(ConfigError, match="differs from the GitHub provider's owner 'other-org'"):
        load_settings()


def test_an_approver_named_twice_is_refused_naming_it() -> None:
    raw = copy.deepcopy(stack_raw("prod"))
    role = "arn:aws:iam::111111111111:role/release-managers"
    raw["services"][0]["approval"]["approvers"] = [role, role]
    why = block(errors_of(raw, stage="prod"), "services[0].approval.approvers")[0]
    assert why.endswith(f": duplicate entries ['{role}']; each must appear once")


def test_a_bad_value_at_a_nested_key_named_stage_is_reported_at_that_key() -> None:
    # `stage` is also the stack's own name (the `stage` field): only that one is the stack's.
    raw = copy.deepcopy(stack_raw("staging"))
    raw["releases"]["consumers"][0]["stage"] = "Prod"
    fix = block(errors_of(raw, stage="staging"), "releases.consumers[0].stage")[2]
    assert fix.startswith(
        f"      fix: pulumi config set --path '{NS}:releases.consumers[0].stage' "
    )


def test_releases_kept_unprotected_when_the_stack_file_says_so() -> None:
    import json

    from tests.harness import ROOT, flatten_stack_config, run_program

    flat, secrets = flatten_stack_config(ROOT / "Pulumi.staging.yaml")
    releases = json.loads(flat[f"{NS}:releases"])
    protected = {}
    for protect in (True, False):
        flat[f"{NS}:releases"] = json.dumps({**releases, "protect": protect})
        bucket = run_program("staging", flat, secrets).recorder.one(
            "aws:s3/bucket:Bucket", "releases-bucket"
        )
        protected[protect] = (bucket.protect, bucket.retain_on_delete)
    assert protected == {True: (True, True), False: (False, False)}
