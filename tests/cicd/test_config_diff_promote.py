"""`cicd config diff` compares two stages' config by the SHA-256 of the decrypted values, and
`cicd promote` refuses a target lacking keys the source has; against moto (SSM, CodePipeline,
S3), with tag discovery stubbed."""

from __future__ import annotations

import hashlib
import json

from tests.cicd import config_fakes as fakes
from tests.cicd.aws_fakes import (
    CliRunner,
    MotoWorld,
    StubbedAws,
    expect_discovery,
)
from tests.cicd.docs import assert_documented_shape

STAGING = "web-staging-pipeline"
PROD = "web-prod-pipeline"
DEV = "web-dev-pipeline"
SECRETS = ("postgres://staging-secret", "postgres://prod-secret", "shared-secret")


def _stages(world: MotoWorld) -> None:
    fakes.create(world, fakes.github_pipeline("web", "staging", publish_to="acme-staging-releases"))
    fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    staging, prod = "/web/staging", "/web/prod"
    fakes.put(world.ssm, f"{staging}/DATABASE_URL", SECRETS[0], "SecureString")
    fakes.put(world.ssm, f"{prod}/DATABASE_URL", SECRETS[1], "SecureString")
    fakes.put(world.ssm, f"{staging}/FEATURE_X", "on")
    fakes.put(world.ssm, f"{prod}/FEATURE_X", "on")
    # The same value, a SecureString in one stage and plain in the other: equal all the same.
    fakes.put(world.ssm, f"{staging}/TOKEN", SECRETS[2], "SecureString")
    fakes.put(world.ssm, f"{prod}/TOKEN", SECRETS[2])
    fakes.put(world.ssm, f"{staging}/SEARCH_V2", "1")
    fakes.put(world.ssm, f"{prod}/SEARCH_V2", "1")
    fakes.put(world.ssm, f"{prod}/SEARCH_V2", "__cicd_unset__")  # unset in prod: missing there
    fakes.put(world.ssm, f"{prod}/OLD_FLAG", "1")


def _discover(world: MotoWorld, *stages: tuple[str, str]) -> None:
    for stage, name in stages:
        found = (name, "web", stage, "staging") if stage == "prod" else (name, "web", stage)
        expect_discovery(world.tagging, stage=stage, service="web", found=[found])


def _never_shown(text: str) -> None:
    for value in SECRETS:
        assert value not in text
        assert hashlib.sha256(value.encode()).hexdigest() not in text


def test_diff_compares_keys_and_values_by_hash_without_showing_any(
    world: MotoWorld, cli: CliRunner
) -> None:
    _stages(world)
    _discover(world, ("staging", STAGING), ("prod", PROD))

    result = cli(
        "config",
        "diff",
        "--service",
        "web",
        "--from",
        "staging",
        "--to",
        "prod",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "=== config of web: staging (/web/staging) and prod (/web/prod)",
        "NAME          STAGING  PROD     VALUES",
        "DATABASE_URL  set      set      differ",
        "FEATURE_X     set      set      same",
        "OLD_FLAG      missing  set      -",
        "SEARCH_V2     set      missing  -",
        "TOKEN         set      set      same",
        "",
        "prod lacks SEARCH_V2, which staging has: `cicd promote` from staging to prod refuses "
        "until it is set (or --allow-missing-config).",
        "Values differ: DATABASE_URL.",
        "Values are compared by the SHA-256 of the decrypted values; none is shown.",
    ]
    _never_shown(result.out + result.err)


def test_diff_json_has_the_documented_shape_and_no_value_or_digest(
    world: MotoWorld, cli: CliRunner
) -> None:
    _stages(world)
    _discover(world, ("staging", STAGING), ("prod", PROD))

    result = cli(
        "config",
        "diff",
        "-s",
        "web",
        "--from",
        "staging",
        "--to",
        "prod",
        "--json",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("config diff", document)
    _never_shown(result.out)
    assert (document["service"], document["missing"], document["extra"], document["differ"]) == (
        "web",
        ["SEARCH_V2"],
        ["OLD_FLAG"],
        ["DATABASE_URL"],
    )
    token = next(k for k in document["keys"] if k["name"] == "TOKEN")
    assert token == {
        "name": "TOKEN",
        "from": {"type": "SecureString", "version": 1},
        "to": {"type": "String", "version": 1},
        "sameValue": True,
    }


def test_diff_of_one_stage_with_itself_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("config", "diff", "--from", "prod", "--to", "prod", "-s", "web")

    assert result.code == 2
    assert result.err.startswith("cicd: --from and --to are both prod: nothing to compare\n")


def _published(world: MotoWorld) -> str:
    return world.release_bucket().publish(7)


def test_promote_refuses_when_the_target_lacks_a_key_the_source_has(
    world: MotoWorld, cli: CliRunner
) -> None:
    _stages(world)
    _published(world)
    _discover(world, ("prod", PROD), ("staging", STAGING))

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert (result.code, world.started) == (3, [])
    assert result.err.splitlines() == [
        "cicd: prod lacks a config key staging has: SEARCH_V2 (/web/staging has it, /web/prod "
        "does not); the release may need it",
        "hint: set it first (`cicd config set --service web --stage prod SEARCH_V2=...`), or "
        "pass --allow-missing-config if the release does without",
    ]


def test_allow_missing_config_promotes_anyway_and_says_what_is_missing(
    world: MotoWorld, cli: CliRunner
) -> None:
    _stages(world)
    version = _published(world)
    _discover(world, ("prod", PROD), ("staging", STAGING))

    result = cli(
        "promote",
        "--service",
        "web",
        "--from",
        "staging",
        "--to",
        "prod",
        "--allow-missing-config",
        clients=world.clients(),
    )

    assert result.code == 0, result.err
    assert world.started[0]["sourceRevisions"][0]["revisionValue"] == version
    assert result.err == (
        "cicd: promoting although prod lacks config SEARCH_V2, which staging has "
        "(--allow-missing-config)\n"
    )


def test_promote_goes_ahead_when_the_target_has_every_key(world: MotoWorld, cli: CliRunner) -> None:
    _stages(world)
    fakes.put(world.ssm, "/web/prod/SEARCH_V2", "2")
    _published(world)
    _discover(world, ("prod", PROD), ("staging", STAGING))

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "Config: prod has every key staging has (/web/prod)."
    assert len(world.started) == 1


def test_a_source_in_another_account_is_not_compared_and_says_why_in_one_line(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    _published(world)
    _discover(world, ("prod", PROD))
    expect_discovery(world.tagging, stage="staging", service="web", found=[])
    expect_discovery(world.tagging, stage="staging", service=None, found=[])

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert len(world.started) == 1
    assert result.err == (
        "cicd: could not compare config with staging (no pipeline tagged cicd:stage=staging and "
        "cicd:service=web in eu-west-1 (expected a pipeline like web-staging-pipeline)); promoting "
        "without it\n"
    )


def test_a_source_path_access_denied_is_not_compared_and_promotion_goes_on(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "staging"))
    fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    _published(world)
    aws = StubbedAws({"codepipeline": world.codepipeline, "s3": world.s3})
    expect_discovery(
        aws.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    expect_discovery(
        aws.tagging, stage="staging", service="web", found=[(STAGING, "web", "staging")]
    )
    aws.stub("ssm").add_client_error(
        "get_parameters_by_path",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ssm:GetParametersByPath",
        expected_params={
            "Path": "/web/staging",
            "Recursive": False,
            "WithDecryption": True,
            "MaxResults": 10,
        },
    )
    aws.expect_idle_groups("web", "prod")  # promote's preflight

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod", clients=aws.clients()
    )

    aws.verify()
    assert result.code == 0, result.err
    assert result.err.count("\n") == 1
    assert result.err.startswith(
        "cicd: could not compare config with staging (access denied: your AWS identity lacks "
        "ssm:GetParametersByPath"
    )
    assert result.err.endswith("; promoting without it\n")


def test_a_source_pipeline_without_configure_is_not_compared(
    world: MotoWorld, cli: CliRunner
) -> None:
    world.create_pipeline("web", "dev")  # a stack from before runtime config
    fakes.create(world, fakes.github_pipeline("web", "staging"))
    world.record(DEV, commit=4)
    _discover(world, ("staging", STAGING), ("dev", DEV), ("dev", DEV))

    result = cli(
        "promote", "--service", "web", "--from", "dev", "--to", "staging", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert result.err == (
        f"cicd: could not compare config with dev ({DEV} has no Configure action); promoting "
        "without it\n"
    )


def test_a_github_built_target_is_checked_too(world: MotoWorld, cli: CliRunner) -> None:
    fakes.create(world, fakes.github_pipeline("web", "dev"))
    fakes.create(world, fakes.github_pipeline("web", "staging"))
    world.record(DEV, commit=4)
    fakes.put(world.ssm, "/web/dev/A", "1")
    fakes.put(world.ssm, "/web/dev/B", "1")
    _discover(world, ("staging", STAGING), ("dev", DEV))

    result = cli(
        "promote", "--service", "web", "--from", "dev", "--to", "staging", clients=world.clients()
    )

    assert (result.code, world.started) == (3, [])
    assert result.err.startswith("cicd: staging lacks config keys dev has: A, B (/web/dev has them")


def test_preflight_lists_the_missing_config_key_as_a_reason_and_starts_nothing(
    world: MotoWorld, cli: CliRunner
) -> None:
    _stages(world)
    _published(world)
    _discover(world, ("prod", PROD), ("staging", STAGING))

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod", "--preflight",
        clients=world.clients(),
    )  # fmt: skip

    assert (result.code, world.started) == (3, [])
    assert [line for line in result.out.splitlines() if line.startswith("refuse: ")] == [
        "refuse: prod lacks a config key staging has: SEARCH_V2 (/web/staging has it, /web/prod "
        "does not); the release may need it"
    ]


def test_preflight_of_a_github_built_target_checks_the_commit_and_the_config(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "dev"))
    fakes.create(world, fakes.github_pipeline("web", "staging"))
    world.record(DEV, commit=4)
    fakes.put(world.ssm, "/web/dev/A", "1")
    # The config check finds dev's pipeline, and so does choosing the commit: the preflight
    # goes on after the config refusal to list every reason.
    _discover(world, ("staging", STAGING), ("dev", DEV), ("dev", DEV))

    result = cli(
        "promote", "--service", "web", "--from", "dev", "--to", "staging", "--preflight", "--json",
        clients=world.clients(),
    )  # fmt: skip

    assert (result.code, world.started) == (3, []), result.err
    document = json.loads(result.out)
    assert document["release"] is None and document["commit"] is not None
    assert [(f["check"], f["blocking"]) for f in document["findings"]] == [
        ("config", True),
        ("rollback", False),
    ]
    assert document["findings"][0]["reason"].startswith("staging lacks a config key dev has: A")


def test_a_source_named_with_from_pipeline_is_compared_too(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "dev"))
    fakes.create(world, fakes.github_pipeline("web", "staging"))
    world.record(DEV, commit=4)
    fakes.put(world.ssm, "/web/dev/A", "1")

    result = cli(
        "promote", "--from-pipeline", DEV, "--to-pipeline", STAGING, clients=world.clients()
    )

    assert (result.code, world.started) == (3, [])
    assert result.err.startswith(f"cicd: staging lacks a config key {DEV} has: A (/web/dev has it")


def test_diff_where_only_the_target_has_more_keys_does_not_call_them_the_same(
    world: MotoWorld, cli: CliRunner
) -> None:
    fakes.create(world, fakes.github_pipeline("web", "staging", publish_to="acme-staging-releases"))
    fakes.create(world, fakes.promoted_pipeline("web", "prod"), "staging")
    fakes.put(world.ssm, "/web/staging/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/prod/FEATURE_X", "on")
    fakes.put(world.ssm, "/web/prod/OLD_FLAG", "1")
    _discover(world, ("staging", STAGING), ("prod", PROD))

    result = cli(
        "config", "diff", "-s", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert result.out.splitlines()[-2:] == [
        "",
        "Values are compared by the SHA-256 of the decrypted values; none is shown.",
    ]
