"""The CLI's contracts with the rest of the repo: tag keys, IAM actions, docs, entry points.

The CLI's page is docs/cicd.md (the README's "Day-2 operations" section links to it); these
tests keep its tables, policy and examples true to the code.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import runpy
import shlex
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import botocore.session
import pytest

from cicd import contract
from cicd.aws.permissions import ALSO_NEEDED, COMMAND_PERMISSIONS, IAM_ACTIONS
from cicd.cli.offline import OFFLINE_COMMANDS
from cicd.cli.parser import build_parser, command_summaries
from cicd.errors import EXIT_CODE_MEANINGS, ExitCode
from tests.cicd import docs
from tests.cicd.aws_fakes import CliRunner

ROOT = Path(__file__).resolve().parents[2]
DOC = docs.text()
README = (ROOT / "README.md").read_text()
IAM_PREFIX_BY_SERVICE = {
    "codepipeline": "codepipeline",
    "codedeploy": "codedeploy",
    "codeconnections": "codeconnections",
    "resourcegroupstaggingapi": "tag",
    "s3": "s3",
    "codebuild": "codebuild",
    "logs": "logs",
    "sns": "sns",
    "ssm": "ssm",
    "cloudwatch": "cloudwatch",
}
# The sample stacks' names: every documented example must use them.
SAMPLE_SERVICES = {"web", "thumbnailer"}
SAMPLE_PIPELINES = {
    contract.pipeline_name(service, stage)
    for service in SAMPLE_SERVICES
    for stage in contract.ENVIRONMENTS
}
# S3 authorizes these operations under another action name (S3 API reference: GetObject with a
# versionId needs s3:GetObjectVersion; ListObjectVersions needs s3:ListBucketVersions).
AUTHORIZED_AS = {
    "GetObject": "GetObjectVersion",
    "ListObjectVersions": "ListBucketVersions",
    # With a versionId, tagging is authorized as the Version actions (S3 API reference).
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
}


def _section(title: str) -> str:
    return docs.section(title)


def _table_rows(section: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-", " "}:
            rows[cells[0]] = cells[1]
    return rows


def test_tag_keys_are_the_ones_the_naming_context_puts_on_pipelines() -> None:
    from components import naming

    assert (contract.TAG_SERVICE, contract.TAG_STAGE, contract.TAG_MANAGED_BY) == (
        naming.TAG_SERVICE,
        naming.TAG_STAGE,
        naming.TAG_MANAGED_BY,
    )
    assert contract.pipeline_name("shop", "dev") == naming.NamingContext("shop", "dev").name(
        "pipeline"
    )


def test_every_mapped_operation_exists_in_the_service_model_of_its_iam_prefix() -> None:
    session = botocore.session.get_session()
    # botocore's `operation_names` is a cached property its type hints do not describe.
    operations = {
        prefix: set(session.get_service_model(service).operation_names)  # pyright: ignore[reportArgumentType]
        for service, prefix in IAM_PREFIX_BY_SERVICE.items()
    }
    for operation, action in IAM_ACTIONS.items():
        prefix, name = action.split(":")
        assert name == AUTHORIZED_AS.get(operation, operation), action
        assert operation in operations[prefix], action


def test_command_permissions_only_name_mapped_actions() -> None:
    mapped = set(IAM_ACTIONS.values()) | ALSO_NEEDED
    for command, actions in COMMAND_PERMISSIONS.items():
        assert set(actions) <= mapped, command


def test_the_docs_iam_table_lists_exactly_what_each_command_needs(cli: CliRunner) -> None:
    rows = _table_rows(_section("IAM permissions"))
    every = set(re.findall(r"`([a-z0-9]+:\w+)`", rows.pop("every command (finding the pipeline)")))
    follow = {"codepipeline:GetPipelineExecution", "codepipeline:GetPipelineState"}
    documented: dict[str, set[str]] = {}
    for commands, actions in rows.items():
        for command in re.findall(r"`(\w+(?: \w+)?)`", commands):
            documented[command] = set(re.findall(r"`([a-z0-9]+:\w+)`", actions))
    assert set(documented) == set(COMMAND_PERMISSIONS)
    for command, needed in COMMAND_PERMISSIONS.items():
        waits = "--wait" in cli(*command.split(), "--help").out
        assert documented[command] | every | (follow if waits else set()) == set(needed), command


def test_the_docs_example_policy_grants_every_action_the_cli_uses() -> None:
    policy = json.loads(re.findall(r"```json\n(.*?)```", _section("IAM permissions"), re.DOTALL)[0])
    granted: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        granted |= {actions} if isinstance(actions, str) else set(actions)
    assert granted == set(IAM_ACTIONS.values()) | ALSO_NEEDED


def test_the_docs_and_the_help_document_every_exit_code(cli: CliRunner) -> None:
    documented = {int(code) for code in _table_rows(_section("Exit codes")) if code.isdigit()}
    assert documented == {int(code) for code in ExitCode}
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    help_text = cli("--help").out
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"  {int(code):<5}{meaning.split()[0]}" in help_text


def test_the_docs_map_every_command_from_a_heroku_command() -> None:
    mapped = _table_rows(_section("From Heroku to `cicd`")).values()
    for command in COMMAND_PERMISSIONS:
        assert any(f"`cicd {command} " in cell or f"`cicd {command}`" in cell for cell in mapped), (
            command
        )


def test_every_command_has_help_with_examples(cli: CliRunner) -> None:
    for command in COMMAND_PERMISSIONS:
        result = cli(*command.split(), "--help")
        assert result.code == 0
        assert re.search(f"examples:\n  cicd {command}[ \n]", result.out), command


def test_no_command_is_a_usage_error_that_lists_the_commands(cli: CliRunner) -> None:
    result = cli()

    assert result.code == 2
    assert "the following arguments are required: COMMAND" in result.err


def test_python_dash_m_cicd_runs_the_same_main(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["cicd", "--version"])
    out = io.StringIO()

    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        runpy.run_module("cicd", run_name="__main__")

    assert (exited.value.code, out.getvalue()) == (0, "cicd 0.1.0\n")


def test_the_cli_imports_neither_pulumi_nor_the_components() -> None:
    probe = (
        "import sys, cicd.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pulumi', 'pulumi_aws', 'components'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_the_readme_keeps_the_day_2_heading_and_links_to_the_cli_page() -> None:
    start = README.index("\n## Day-2 operations\n")
    section = README[start : README.index("\n## ", start + 1)]
    assert "[docs/cicd.md](docs/cicd.md)" in section
    # A sentence and the Heroku table (one row per verb); examples and details go to docs.
    assert len(section.splitlines()) < 20, "the README keeps a short paragraph; details go to docs"


PLACEHOLDERS = {
    "SERVICE": "web",
    "STAGE": "staging",
    "EXECUTION": "1a2b3c4d",
    "ID": "1a2b3c4d",
    "SHA": "1a2b3c4",
    "TEXT": "'a reason'",
    "NAME": "web-prod-pipeline",
    "N": "5",
}


def _documented_command_lines() -> list[tuple[str, str]]:
    """Every `cicd ...` command line in docs/cicd.md and README.md code blocks and code spans."""
    found: list[tuple[str, str]] = []
    for name, text in (("docs/cicd.md", DOC), ("README.md", README)):
        blocks = re.findall(r"```(?:console|sh|bash)?\n(.*?)```", text, re.DOTALL)
        lines = [line for block in blocks for line in block.splitlines()]
        prose = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        lines += re.findall(r"`(cicd [^`]+)`", prose)
        for line in lines:
            command = line.removeprefix("$ ").split("  #")[0].strip()
            if command.startswith("cicd ") and "..." not in command:
                found.append((name, command))
    return found


def test_every_documented_cicd_command_parses_and_uses_the_sample_stacks_names() -> None:
    from stack.plan.commands import build_parser as build_offline_parser

    parser, offline_parser = build_parser(), build_offline_parser()
    commands = _documented_command_lines()
    assert len(commands) > 30
    for where, command in commands:
        for placeholder, value in PLACEHOLDERS.items():
            command = re.sub(rf"\b{placeholder}\b", value, command)
        command = re.sub(r"\[([^\]]*)\]", r"\1", command)  # optional parts: take them
        words = shlex.split(command)[1:]
        if len(words) == 1 and (words[0] in COMMAND_PERMISSIONS or words[0] in OFFLINE_COMMANDS):
            continue  # a command named in prose, not an example
        # The offline commands' options are the platform's parser's (cicd hands them over).
        reader = offline_parser if words[0] in OFFLINE_COMMANDS else parser
        try:
            with redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                args = reader.parse_args(words)
        except SystemExit as exited:
            assert exited.code == 0, f"{where}: `{command}` does not parse"
            continue
        service = getattr(args, "service", None)
        assert service in SAMPLE_SERVICES | {None}, f"{where}: `{command}` names {service}"
        for option in ("pipeline", "to_pipeline", "from_pipeline"):
            name = getattr(args, option, None)
            assert name in SAMPLE_PIPELINES | {None}, f"{where}: `{command}` names {name}"


def test_every_command_has_a_one_line_summary_in_the_main_help(cli: CliRunner) -> None:
    summaries = command_summaries()
    release_commands = {name for name in summaries if name not in OFFLINE_COMMANDS}

    assert release_commands == {command.split()[0] for command in COMMAND_PERMISSIONS}
    assert {name: summaries[name] for name in OFFLINE_COMMANDS} == OFFLINE_COMMANDS
    assert all(len(text) <= 75 for text in summaries.values())
