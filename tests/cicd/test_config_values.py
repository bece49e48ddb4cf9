"""`cicd config`, `config get`, `config set --no-release` and `config unset --no-release`
against moto's Parameter Store: what is listed, what is written, and what is refused.

Releasing a change is tests/cicd/test_config_release.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient

from cicd.aws import clients as cicd_aws
from cicd.contract import UNSET_VALUE
from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import CliRunner, MotoWorld, StubbedAws, expect_discovery
from tests.cicd.docs import assert_documented_shape

DEV = "web-dev-pipeline"
SECRET = "hunter2-correct-horse"  # a value that must never be printed


def _requests(client: BaseClient, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every `operation` call `client` makes."""
    made: list[dict[str, Any]] = []
    client.meta.events.register(
        f"before-parameter-build.{client.meta.service_model.endpoint_prefix}.{operation}",
        lambda params, **_: made.append(dict(params)),
    )
    return made


@pytest.fixture
def dev(world: MotoWorld) -> Iterator[str]:
    yield fakes.create(world, fakes.github_pipeline("web", "dev"))


@pytest.fixture
def prod_with_key(world: MotoWorld) -> Iterator[str]:
    yield fakes.create(
        world, fakes.promoted_pipeline("web", "prod", kms_key_arn=fakes.KEY_ARN), "staging"
    )


def _never_called() -> cicd_aws.Clients:
    def make(service: str) -> BaseClient:
        pytest.fail(f"cicd made an AWS client ({service}) before refusing the arguments")

    return cicd_aws.Clients(make)


# ---------------------------------------------------------------------------------------------
# Listing and reading


def test_the_listing_masks_secrets_hides_unset_keys_and_reads_every_page(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    for n in range(12):
        fakes.put(world.ssm, f"/web/dev/KEY_{n:02d}", f"value-{n}")
    fakes.put(world.ssm, "/web/dev/DATABASE_URL", SECRET, "SecureString")
    fakes.put(world.ssm, "/web/dev/GONE", "old")
    fakes.put(world.ssm, "/web/dev/GONE", UNSET_VALUE)
    fakes.put(world.ssm, "/web/dev/nested/DEEPER", "not one level under the path")
    fakes.put(world.ssm, "/web/devx/OTHER", "another path")
    calls = _requests(world.ssm, "GetParametersByPath")

    result = cli("config", "--pipeline", DEV, clients=world.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"=== {DEV} config at /web/dev"
    assert lines[1].split() == ["NAME", "VALUE", "TYPE", "VERSION", "CHANGED"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[2:15]}
    assert rows["DATABASE_URL"] == ["<secret>", "SecureString", "1"]
    assert rows["KEY_11"] == ["value-11", "String", "1"]
    assert set(rows) == {"DATABASE_URL", *(f"KEY_{n:02d}" for n in range(12))}
    assert "GONE" not in result.out and "DEEPER" not in result.out and "OTHER" not in result.out
    assert SECRET not in result.out + result.err
    assert lines[-1] == (
        "SecureString values are masked: `cicd config get KEY --pipeline web-dev-pipeline "
        "--reveal`."
    )
    # One level, decrypted (a tombstoned SecureString is only recognisable decrypted), paged.
    assert len(calls) >= 2 and all(
        (c["Path"], c["Recursive"], c["WithDecryption"], c["MaxResults"])
        == ("/web/dev", False, True, 10)
        for c in calls
    )
    assert "NextToken" in calls[1]


def test_the_listing_json_has_the_documented_shape_and_no_secret_value(
    world: MotoWorld, cli: CliRunner, prod_with_key: str
) -> None:
    fakes.put(world.ssm, "/web/prod/DATABASE_URL", SECRET, "SecureString", fakes.KEY_ARN)
    fakes.put(world.ssm, "/web/prod/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/prod/FEATURE_X", "off")

    result = cli("config", "--pipeline", prod_with_key, "--json", clients=world.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("config", document)
    assert SECRET not in result.out
    assert (document["path"], document["kmsKeyArn"]) == ("/web/prod", fakes.KEY_ARN)
    assert [(c["name"], c["secret"], c["value"], c["version"]) for c in document["config"]] == [
        ("DATABASE_URL", True, None, 1),
        ("FEATURE_X", False, "off", 2),
    ]


def test_an_empty_path_says_how_to_set_the_first_key(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    expect_discovery(world.tagging, stage="dev", service="web", found=[(DEV, "web", "dev")])

    result = cli("config", "--service", "web", "--stage", "dev", clients=world.clients())

    assert (result.code, result.out.splitlines()[-1]) == (
        0,
        "No config yet: `cicd config set --service web --stage dev KEY=VALUE` sets some.",
    )


def test_get_prints_a_plain_value_and_a_secret_only_when_revealed(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/dev/DATABASE_URL", SECRET, "SecureString")

    plain = cli("config", "get", "FEATURE_X", "--pipeline", DEV, clients=world.clients())
    hidden = cli("config", "get", "DATABASE_URL", "--pipeline", DEV, clients=world.clients())
    shown = cli(
        "config", "get", "DATABASE_URL", "--pipeline", DEV, "--reveal", clients=world.clients()
    )

    assert (plain.code, plain.out) == (0, "on\n")
    assert hidden.code == 3 and hidden.out == "" and SECRET not in hidden.err
    assert hidden.err.splitlines() == [
        "cicd: DATABASE_URL is a SecureString: its value is printed only with --reveal",
        f"hint: `cicd config get DATABASE_URL --pipeline {DEV} --reveal`",
    ]
    assert (shown.code, shown.out) == (0, f"{SECRET}\n")


def test_get_json_has_the_documented_shape(world: MotoWorld, cli: CliRunner, dev: str) -> None:
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")

    result = cli("config", "get", "FEATURE_X", "--pipeline", DEV, "--json", clients=world.clients())

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("config get", document)
    assert (document["name"], document["value"], document["parameter"]) == (
        "FEATURE_X",
        "on",
        "/web/dev/FEATURE_X",
    )


def test_get_of_a_key_never_set_or_unset_is_not_found(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/GONE", "old")
    fakes.put(world.ssm, "/web/dev/GONE", UNSET_VALUE)

    for key in ("NEVER", "GONE"):
        result = cli("config", "get", key, "--pipeline", DEV, clients=world.clients())

        assert result.code == 5, key
        assert result.err.startswith(f"cicd: {key} is not set in /web/dev ({DEV})\n"), key


def test_a_pipeline_without_a_configure_action_is_refused_with_the_fix(
    world: MotoWorld, cli: CliRunner
) -> None:
    name = world.create_pipeline("web", "dev")

    result = cli("config", "set", "A=1", "--pipeline", name, clients=world.clients())

    assert result.code == 3
    assert result.err == (
        f"cicd: {name} has no Configure action with a CONFIG_PATH in its Deploy stage, so cicd "
        "cannot tell where its runtime config lives (its stack predates runtime config)\n"
        "hint: run `pulumi up` for this stage with the current stacks\n"
    )


# ---------------------------------------------------------------------------------------------
# Writing (without a release)


def test_set_writes_each_key_with_overwrite_and_the_versions_grow(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "off")
    puts = _requests(world.ssm, "PutParameter")

    result = cli(
        "config",
        "set",
        "FEATURE_X=on",
        "NEW_KEY=a=b c",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert puts == [
        {"Name": "/web/dev/FEATURE_X", "Value": "on", "Type": "String", "Overwrite": True},
        {"Name": "/web/dev/NEW_KEY", "Value": "a=b c", "Type": "String", "Overwrite": True},
    ]
    assert [v["Version"] for v in fakes.history(world.ssm, "/web/dev/FEATURE_X")] == [1, 2]
    assert result.out.splitlines() == [
        "Set FEATURE_X (version 2), NEW_KEY (version 1) in /web/dev.",
        f"Not released (--no-release: nothing was started); the next release of {DEV} deploys it.",
    ]


def test_secret_uses_the_stages_key_and_a_secret_stays_secret_on_a_plain_set(
    world: MotoWorld, cli: CliRunner, prod_with_key: str
) -> None:
    puts = _requests(world.ssm, "PutParameter")

    first = cli(
        "config",
        "set",
        f"DATABASE_URL={SECRET}",
        "--secret",
        "--pipeline",
        prod_with_key,
        "--no-release",
        clients=world.clients(),
    )
    second = cli(
        "config",
        "set",
        f"DATABASE_URL={SECRET}-2",
        "--pipeline",
        prod_with_key,
        "--no-release",
        clients=world.clients(),
    )

    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert [(p["Type"], p.get("KeyId")) for p in puts] == [
        ("SecureString", fakes.KEY_ARN),
        ("SecureString", fakes.KEY_ARN),
    ]
    assert [v["KeyId"] for v in fakes.history(world.ssm, "/web/prod/DATABASE_URL")] == [
        fakes.KEY_ARN,
        fakes.KEY_ARN,
    ]
    assert second.out.startswith("Set DATABASE_URL (version 2, SecureString) in /web/prod.\n")
    for result in (first, second):
        assert SECRET not in result.out + result.err


def test_secret_without_a_stage_key_leaves_the_key_to_parameter_store(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    puts = _requests(world.ssm, "PutParameter")

    result = cli(
        "config",
        "set",
        f"TOKEN={SECRET}",
        "--secret",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert puts == [
        {"Name": "/web/dev/TOKEN", "Value": SECRET, "Type": "SecureString", "Overwrite": True}
    ]


def test_keys_already_set_to_the_value_are_left_alone_and_nothing_to_change_is_refused(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/dev/TOKEN", SECRET, "SecureString")
    puts = _requests(world.ssm, "PutParameter")

    partly = cli(
        "config",
        "set",
        "FEATURE_X=on",
        "OTHER=1",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )
    nothing = cli(
        "config",
        "set",
        f"TOKEN={SECRET}",
        "FEATURE_X=on",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert partly.code == 0, partly.err
    assert [p["Name"] for p in puts] == ["/web/dev/OTHER"]
    assert "Unchanged (already that value): FEATURE_X." in partly.out
    assert nothing.code == 3
    assert nothing.err.startswith(
        "cicd: nothing to change: TOKEN, FEATURE_X already have that value in /web/dev\n"
    )
    assert SECRET not in nothing.out + nothing.err


def test_stdin_gives_the_value_of_one_key_without_the_shell_seeing_it(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    result = cli(
        "config",
        "set",
        "TOKEN",
        "--secret",
        "--stdin",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
        stdin=f"{SECRET}\n",
    )

    assert result.code == 0, result.err
    stored = world.ssm.get_parameter(Name="/web/dev/TOKEN", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", SECRET)


def test_unset_writes_the_tombstone_with_the_same_type_and_key_and_deletes_nothing(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    # Encrypted with a key the stack does not name (someone set it by hand): unset keeps it.
    fakes.put(world.ssm, "/web/dev/TOKEN", SECRET, "SecureString", fakes.KEY_ARN)
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")
    puts = _requests(world.ssm, "PutParameter")
    deletes = _requests(world.ssm, "DeleteParameter") + _requests(world.ssm, "DeleteParameters")

    result = cli(
        "config",
        "unset",
        "TOKEN",
        "FEATURE_X",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert puts == [
        {
            "Name": "/web/dev/TOKEN",
            "Value": UNSET_VALUE,
            "Type": "SecureString",
            "Overwrite": True,
            "KeyId": fakes.KEY_ARN,
        },
        {"Name": "/web/dev/FEATURE_X", "Value": UNSET_VALUE, "Type": "String", "Overwrite": True},
    ]
    assert deletes == []
    # Every version is still there for a rollback to pin.
    assert [v["Value"] for v in fakes.history(world.ssm, "/web/dev/TOKEN")] == [SECRET, UNSET_VALUE]
    assert result.out.startswith(
        "Unset TOKEN (version 2, SecureString), FEATURE_X (version 2) in /web/dev.\n"
    )
    listed = cli("config", "--pipeline", DEV, clients=world.clients())
    assert "TOKEN" not in listed.out and "FEATURE_X" not in listed.out


def test_set_after_unset_brings_a_key_back_as_the_type_it_was(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/TOKEN", SECRET, "SecureString")
    fakes.put(world.ssm, "/web/dev/TOKEN", UNSET_VALUE, "SecureString")

    result = cli(
        "config", "set", "TOKEN=new", "--pipeline", DEV, "--no-release", clients=world.clients()
    )

    assert result.code == 0, result.err
    stored = world.ssm.get_parameter(Name="/web/dev/TOKEN", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"], stored["Version"]) == ("SecureString", "new", 3)


def test_unset_of_keys_that_are_not_set_refuses_them_all_and_writes_nothing(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/dev/GONE", UNSET_VALUE)
    puts = _requests(world.ssm, "PutParameter")

    result = cli(
        "config",
        "unset",
        "FEATURE_X",
        "NEVER",
        "GONE",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert (result.code, puts) == (3, [])
    assert result.err == (
        "cicd: config unset: 2 problems, nothing was written:\n"
        "  NEVER: not set in /web/dev; leave it out (`cicd config` lists what is set)\n"
        "  GONE: not set in /web/dev (already unset); leave it out (`cicd config` lists what is set)\n"
        "hint: fix them and run the command again; `cicd config --help` has the rules\n"
    )


# ---------------------------------------------------------------------------------------------
# Refusals before any call


def test_every_bad_name_and_value_is_refused_at_once_before_any_call(cli: CliRunner) -> None:
    result = cli(
        "config",
        "set",
        "db/url=x",
        "=y",
        "EMPTY=",
        "NOEQUALS",
        f"BIG={'x' * 4097}",
        f"DUP={SECRET}",
        f"DUP={SECRET}",
        "9LIVES=1",
        f"MARKER={UNSET_VALUE}",
        "bad name!=1",
        "OK=fine",
        "--pipeline",
        DEV,
        clients=_never_called(),
    )

    assert result.code == 2
    assert result.out == "" and SECRET not in result.err and "xxxx" not in result.err
    assert result.err.splitlines() == [
        "cicd: config set: 9 problems, nothing was written:",
        "  db/url: a config key is one level under the stage's path and cannot contain '/'; use db_url instead",
        "  (empty name): a config key needs a name; write KEY=VALUE",
        "  EMPTY: the value is empty, and Parameter Store stores no empty values; give a value, or remove the key with `cicd config unset EMPTY`",
        "  NOEQUALS: no '=' and so no value; write NOEQUALS=VALUE (quote it if the value has spaces)",
        "  BIG: the value is 4097 bytes; a standard parameter holds at most 4096; store large data elsewhere (S3, Secrets Manager) and set its location instead",
        "  DUP: given twice in one command; give each key once",
        "  9LIVES: the service would read it as environment variable 9LIVES, which cannot start with a digit; start the name with a letter or '_'",
        f"  MARKER: the value is {UNSET_VALUE}, the marker `cicd config unset` writes, which every reader treats as absent; to remove the key use `cicd config unset MARKER`",
        "  bad name!: the name has characters Parameter Store does not allow (' !'); use only letters, digits, '_', '.' and '-'",
        "hint: fix them and run the command again; `cicd config --help` has the rules",
    ]


def test_a_value_of_exactly_4_kb_is_allowed_and_counted_in_bytes_not_characters(
    cli: CliRunner,
) -> None:
    # 2048 two-byte characters are 4096 bytes: allowed; one more is not.
    ok = cli("config", "set", f"A={'é' * 2048}", "B", "--pipeline", DEV, clients=_never_called())
    too_big = cli("config", "set", f"A={'é' * 2049}", "--pipeline", DEV, clients=_never_called())

    assert ok.code == 2 and "  A:" not in ok.err and "  B: no '='" in ok.err
    assert too_big.code == 2 and "  A: the value is 4098 bytes" in too_big.err


def test_unset_and_get_check_names_before_any_call(cli: CliRunner) -> None:
    unset = cli("config", "unset", "a/b", "A", "A", "--pipeline", DEV, clients=_never_called())
    get = cli("config", "get", "a b", "--pipeline", DEV, clients=_never_called())

    assert unset.code == 2 and unset.err.splitlines()[1:3] == [
        "  a/b: a config key is one level under the stage's path and cannot contain '/'; use a_b instead",
        "  A: given twice in one command; give each key once",
    ]
    assert get.code == 2 and get.err.startswith(
        "cicd: config get: a problem:\n  a b: the name has characters"
    )


def test_a_key_that_reaches_the_service_as_another_keys_variable_is_refused(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    fakes.put(world.ssm, "/web/dev/DATABASE_URL", "x")
    puts = _requests(world.ssm, "PutParameter")

    result = cli(
        "config",
        "set",
        "database.url=y",
        "Feature-X=1",
        "FEATURE_X=2",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert (result.code, puts) == (2, [])
    assert result.err.splitlines()[1:3] == [
        "  database.url: the service reads it as DATABASE_URL, like the key DATABASE_URL already set; set DATABASE_URL instead, or unset DATABASE_URL first",
        "  FEATURE_X: the service reads it as FEATURE_X, like the key Feature-X already set; set Feature-X instead, or unset Feature-X first",
    ]


def test_a_name_too_long_for_parameter_store_is_refused_with_the_room_left(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    # 1011 characters with the ARN prefix `arn:aws:ssm:eu-west-1:<12 digits>:parameter` (44).
    room = 1011 - 44 - len("/web/dev") - 1

    fits = cli(
        "config",
        "set",
        f"{'K' * room}=1",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )
    long = cli(
        "config",
        "set",
        f"{'K' * (room + 1)}=1",
        "--pipeline",
        DEV,
        "--no-release",
        clients=world.clients(),
    )

    assert fits.code == 0, fits.err
    assert long.code == 2
    assert (
        f"the name is {room + 1} characters; under /web/dev it can have at most {room}" in long.err
    )


def test_kms_refusing_a_write_names_the_kms_action_not_the_ssm_one(cli: CliRunner) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev", kms_key_arn=fakes.KEY_ARN))
    aws.stub("ssm").add_response(
        "get_parameters_by_path",
        {"Parameters": []},
        {"Path": "/web/dev", "Recursive": False, "WithDecryption": True, "MaxResults": 10},
    )
    aws.stub("ssm").add_client_error(
        "put_parameter",
        service_error_code="AccessDeniedException",
        service_message=f"User: alice is not authorized to perform: kms:Encrypt on resource: {fakes.KEY_ARN}",
        expected_params={
            "Name": "/web/dev/TOKEN",
            "Value": SECRET,
            "Type": "SecureString",
            "Overwrite": True,
            "KeyId": fakes.KEY_ARN,
        },
    )

    result = cli(
        "config",
        "set",
        f"TOKEN={SECRET}",
        "--secret",
        "--pipeline",
        DEV,
        "--no-release",
        clients=aws.clients(),
    )

    aws.verify()
    assert result.code == 4
    assert result.err.startswith(
        "cicd: KMS refused kms:Encrypt for /web/dev/TOKEN (AccessDeniedException:"
    )
    assert SECRET not in result.err


def test_a_write_failing_half_way_says_what_was_written(cli: CliRunner) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev"))
    aws.stub("ssm").add_response(
        "get_parameters_by_path",
        {"Parameters": []},
        {"Path": "/web/dev", "Recursive": False, "WithDecryption": True, "MaxResults": 10},
    )
    aws.stub("ssm").add_response(
        "put_parameter",
        {"Version": 1},
        {"Name": "/web/dev/A", "Value": "1", "Type": "String", "Overwrite": True},
    )
    aws.stub("ssm").add_client_error(
        "put_parameter", service_error_code="ParameterLimitExceeded", service_message="too many"
    )

    result = cli(
        "config", "set", "A=1", "B=2", "--pipeline", DEV, "--no-release", clients=aws.clients()
    )

    aws.verify()
    assert result.code == 1
    assert result.err.startswith(
        "cicd: wrote A (version 1), then writing B failed: An error occurred (ParameterLimitExceeded)"
    )
    assert "keys already written are skipped as unchanged" in result.err


def test_any_other_ssm_error_still_ends_in_one_line(cli: CliRunner) -> None:
    aws = StubbedAws()
    fakes.expect_layout(aws, fakes.github_pipeline("web", "dev"))
    aws.stub("ssm").add_client_error(
        "get_parameters_by_path", service_error_code="AccessDeniedException", service_message="no"
    )

    result = cli("config", "--pipeline", DEV, clients=aws.clients())

    assert result.code == 4
    assert result.err.startswith(
        "cicd: access denied: your AWS identity lacks ssm:GetParametersByPath"
    )
    assert len(result.err.splitlines()) == 2


def test_options_before_the_subcommand_count_and_json_never_holds_a_secret(
    world: MotoWorld, cli: CliRunner, dev: str
) -> None:
    expect_discovery(world.tagging, stage="dev", service="web", found=[(DEV, "web", "dev")])

    result = cli(
        "config",
        "-s",
        "web",
        "-e",
        "dev",
        "--json",
        "set",
        f"TOKEN={SECRET}",
        "--secret",
        "--no-release",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("config set", document)
    assert SECRET not in result.out + result.err
    assert (document["executionId"], document["note"], document["followed"]) == (None, None, None)
    assert document["changed"] == [
        {"name": "TOKEN", "parameter": "/web/dev/TOKEN", "type": "SecureString", "version": 1}
    ]
