"""One account per stack: every configured ARN of the stack's own account is checked against the
caller's, and the accounts meant to be foreign are refused when they are not.

The checks run on validated settings (`stack.config.accounts`), and through the real
`__main__.py` under mocks, which answer `GetCallerIdentity` as the account a test chooses.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stack.config import ConfigError, parse_settings
from stack.config.accounts import account_problems, check_accounts
from tests.harness import ACCOUNT, PROJECT, ROOT, flatten_stack_config, run_program
from tests.test_config import stack_raw

NS = PROJECT
OTHER = "222222222222"
THIRD = "333333333333"


def settings_of(raw: dict[str, Any], stage: str) -> Any:
    return parse_settings(NS, stage, raw, github_token="secret")


def refusal(raw: dict[str, Any], stage: str, account: str = ACCOUNT) -> str:
    with pytest.raises(ConfigError) as caught:
        check_accounts(NS, settings_of(raw, stage), account)
    return str(caught.value)


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_the_sample_stacks_name_only_their_own_account(stage: str) -> None:
    assert account_problems(settings_of(stack_raw(stage), stage), ACCOUNT) == []


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_run_in_another_account_every_own_arn_of_the_sample_stacks_is_named(stage: str) -> None:
    found = account_problems(settings_of(stack_raw(stage), stage), OTHER)
    expected = {
        "staging": {
            ("connection", "arn"),
            ("services", 0, "build", "environment", "NPM_TOKEN", "secret"),
        },
        "prod": {("github", "oidc_provider_arn")},
    }[stage]
    assert {loc for loc, *_ in found} == expected


def _with(stage: str, edit: Any) -> dict[str, Any]:
    raw = copy.deepcopy(stack_raw(stage))
    edit(raw)
    return raw


def test_build_variables_that_name_no_secret_arn_are_not_checked_against_the_account() -> None:
    # Plaintext values, parameters and secrets given by name hold no account to compare.
    raw = _with(
        "staging",
        lambda r: r["services"][0]["build"]["environment"].update(
            LOG_LEVEL={"value": "debug"},
            FLAGS={"parameter": "/web/staging/flags"},
            API_TOKEN={"secret": "web/api-token"},
        ),
    )
    found = account_problems(settings_of(raw, "staging"), OTHER)
    assert {loc for loc, *_ in found} == {
        ("connection", "arn"),
        ("services", 0, "build", "environment", "NPM_TOKEN", "secret"),
    }


FOREIGN_ARNS = [
    pytest.param(
        "prod",
        lambda r: r["github"].update(
            oidc_provider_arn=f"arn:aws:iam::{OTHER}:oidc-provider/token.actions.githubusercontent.com"
        ),
        "github.oidc_provider_arn",
        id="oidc-provider",
    ),
    pytest.param(
        "staging",
        lambda r: r["connection"].update(
            arn=f"arn:aws:codeconnections:eu-west-1:{OTHER}:connection/3f8a6c2e-5b1d-4e7a-9c0f"
        ),
        "connection.arn",
        id="connection",
    ),
    pytest.param(
        "staging",
        lambda r: r["services"][0]["build"]["environment"].update(
            NPM_TOKEN={"secret": f"arn:aws:secretsmanager:eu-west-1:{OTHER}:secret:web/npm-Ab12Cd"}
        ),
        "services[0].build.environment.NPM_TOKEN.secret",
        id="build-secret",
    ),
    pytest.param(
        "prod",
        lambda r: r["services"][0]["runtime_config"].update(
            kms_key_arn=f"arn:aws:kms:eu-west-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ),
        "services[0].runtime_config.kms_key_arn",
        id="runtime-config-key",
    ),
    pytest.param(
        "dev",
        lambda r: r.setdefault("artifacts", {}).update(
            kms_key_arn=f"arn:aws:kms:eu-west-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ),
        "artifacts.kms_key_arn",
        id="artifact-key",
    ),
    pytest.param(
        "staging",
        lambda r: r["report"].update(
            token_secret_arn=f"arn:aws:secretsmanager:eu-west-1:{OTHER}:secret:gh-token-Ab12Cd"
        ),
        "report.token_secret_arn",
        id="reporter-token-secret",
    ),
]


@pytest.mark.parametrize(("stage", "edit", "key"), FOREIGN_ARNS)
def test_an_arn_of_another_account_is_refused_naming_key_value_and_both_accounts(
    stage: str, edit: Any, key: str
) -> None:
    message = refusal(_with(stage, edit), stage)
    assert f"- {NS}:{key}: names account {OTHER}, but this stack runs in account {ACCOUNT}" in (
        message
    )
    assert 'received: "arn:aws:' in message
    assert f"fix: give the ARN of the one in account {ACCOUNT}" in message
    assert "nothing was deployed" in message
    assert "1 account problem(s)" in message


def test_every_mismatch_is_reported_at_once() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["connection"]["arn"] = raw["connection"]["arn"].replace(ACCOUNT, OTHER)
        env = raw["services"][0]["build"]["environment"]
        env["NPM_TOKEN"]["secret"] = env["NPM_TOKEN"]["secret"].replace(ACCOUNT, OTHER)

    message = refusal(_with("staging", edit), "staging")
    assert "2 account problem(s)" in message
    assert f"{NS}:connection.arn" in message
    assert f"{NS}:services[0].build.environment.NPM_TOKEN.secret" in message


def test_an_upstream_declared_in_this_very_account_is_refused() -> None:
    raw = _with("prod", lambda r: r.update(upstreams={"staging": {"account": ACCOUNT}}))
    message = refusal(raw, "prod")
    assert f"- {NS}:upstreams.staging.account: is this stack's own account" in message
    assert f"fix: pulumi config rm --path '{NS}:upstreams.staging.account'" in message


def test_a_consumer_declared_in_this_very_account_is_refused() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["releases"] = {
            "consumers": [{"stage": "prod", "account": ACCOUNT}],
            "kms_key": "create",
        }

    message = refusal(_with("staging", edit), "staging")
    assert f"- {NS}:releases.consumers[0].account: is this stack's own account" in message


def test_an_upstream_key_must_be_in_the_upstreams_account() -> None:
    key = f"arn:aws:kms:eu-west-1:{THIRD}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    raw = _with(
        "prod",
        lambda r: r.update(
            upstreams={
                "staging": {"account": OTHER, "bucket": "staging-releases", "kms_key_arn": key}
            }
        ),
    )
    message = refusal(raw, "prod")
    assert f"- {NS}:upstreams.staging.kms_key_arn: names account {THIRD}" in message
    assert f"releases are in account {OTHER} (upstreams.staging.account)" in message


def test_a_correct_cross_account_configuration_has_no_problem() -> None:
    key = f"arn:aws:kms:eu-west-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    raw = _with(
        "prod",
        lambda r: r.update(
            upstreams={
                "staging": {"account": OTHER, "bucket": "staging-releases", "kms_key_arn": key}
            }
        ),
    )
    assert account_problems(settings_of(raw, "prod"), ACCOUNT) == []


def test_the_program_refuses_before_declaring_anything_in_the_wrong_account() -> None:
    """The real `__main__.py`, with credentials of another account than the stack file's."""
    flat, secrets = flatten_stack_config(ROOT / "Pulumi.staging.yaml")
    with pytest.raises(Exception) as caught:
        run_program("staging", flat, secrets, account=OTHER)
    text = str(caught.value)
    assert "account problem(s) (this stack runs in account 222222222222)" in text
    assert f"{NS}:connection.arn: names account {ACCOUNT}" in text


def test_the_program_evaluates_a_stack_file_made_for_another_account() -> None:
    """Same stack file, every own-account ARN moved to the caller's account: it evaluates."""
    flat, secrets = flatten_stack_config(ROOT / "Pulumi.staging.yaml")
    moved = {k: v.replace(ACCOUNT, OTHER) for k, v in flat.items()}
    run = run_program("staging", moved, secrets, account=OTHER)
    role = run.exports["github_deploy_role_arn"]
    assert role.startswith(f"arn:aws:iam::{OTHER}:role/"), role
    assert json.dumps(run.exports).count(f":{ACCOUNT}:") == 0


def test_the_documented_refusal_is_what_the_check_prints() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    message = refusal(stack_raw("prod"), "prod", account=OTHER)
    assert message in page, message
