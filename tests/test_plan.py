"""`cicd plan`: every resource the mocks record, in a byte-stable JSON document and a grouped
text view; `--check`; and the one line printed where only the release CLI is installed."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from cicd.cli import offline
from cicd.cli.main import main
from cicd.cli.offline import OFFLINE_COMMANDS
from cicd.cli.parser import build_parser
from stack.offline import iter_stacks
from stack.plan.document import SECRET, dumps, normalize
from stack.plan.evaluate import evaluate
from tests.harness import ROOT

STACKS = [name for name, _ in iter_stacks()]


def cicd(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def plans() -> dict[str, tuple[dict[str, Any], Any]]:
    return evaluate(STACKS)


def test_the_plan_covers_every_resource_the_mocks_record(plans: dict[str, Any]) -> None:
    for stack, (document, run) in plans.items():
        recorded = Counter((r.typ, r.name) for r in run.recorder.resources)
        planned = Counter((r["type"], r["name"]) for r in document["resources"])
        assert planned == recorded, stack
        assert len({r["urn"] for r in document["resources"]}) == len(run.recorder.resources)
        assert document["summary"]["resources"] == len(run.recorder.resources), stack
        assert sum(document["summary"]["by_type"].values()) == len(run.recorder.resources)


def test_the_plan_json_is_byte_identical_across_runs_and_processes() -> None:
    first = [cicd("plan", "--stack", stack, "--json") for stack in STACKS]
    second = [cicd("plan", "--stack", stack, "--json") for stack in STACKS]
    assert first == second
    assert all(code == 0 for code, _, _ in first)
    # Another interpreter (another hash seed, another thread schedule) for the stack that
    # needs its upstream first.
    other = subprocess.run(
        [sys.executable, "-m", "cicd", "plan", "--stack", "prod", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert other.stdout == first[STACKS.index("prod")][1]


def test_the_plan_json_is_sorted_and_typed(plans: dict[str, Any]) -> None:
    document, _ = plans["prod"]
    text = dumps(document)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    urns = [r["urn"] for r in document["resources"]]
    assert urns == sorted(urns)
    assert document["format"] == 1 and document["upstreams"] == ["staging"]
    pipeline = next(r for r in document["resources"] if r["name"] == "web-pipeline-pipeline")
    assert pipeline["urn"].endswith(
        "delivery:cicd:ServicePipeline$delivery:cicd:DeliveryPipeline$"
        "aws:codepipeline/pipeline:Pipeline::web-pipeline-pipeline"
    ), "the engine's URN, with the whole parent chain"
    approve = pipeline["inputs"]["stages"][1]["actions"][1]
    assert approve["timeoutInMinutes"] == 4320 and isinstance(approve["runOrder"], int)
    boundary = next(r for r in document["resources"] if r["name"] == "boundary-policy")
    assert boundary["inputs"]["policy"]["Statement"][0]["Sid"] == "ProjectServicesOnly"
    assert boundary["protect"] is True


def test_secrets_are_placeholders_never_values(plans: dict[str, Any]) -> None:
    document, _ = plans["dev"]
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:github")
    assert provider["inputs"]["token"] == SECRET
    assert document["offline"]["secrets"] == ["gh-aws-delivery:githubToken"]
    assert "offline-placeholder-secret" not in dumps(document)


def test_normalize_turns_whole_floats_into_ints_and_keeps_other_text() -> None:
    assert normalize({"b": 2.0, "a": [1.5, "{not json}", '{"x": 1.0}']}) == {
        "a": [1.5, "{not json}", {"x": 1}],
        "b": 2,
    }


def test_the_text_plan_groups_resources_under_their_components_with_a_count(
    plans: dict[str, Any],
) -> None:
    code, out, _ = cicd("plan", "--stack", "staging")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Plan of stack staging (gh-aws-delivery, Pulumi.staging.yaml)")
    web = lines.index("web  delivery:cicd:ServicePipeline")
    assert lines[web + 1] == "  web-alarms-web  delivery:cicd:ReleaseAlarms"
    assert any(
        line.startswith(
            "    web-pipeline-pipeline  aws:codepipeline/pipeline:Pipeline  name=web-staging-pipeline pipelineType=V2"
        )
        for line in lines[web:]
    )
    recorded = len(plans["staging"][1].recorder.resources)
    tree = lines[lines.index("") + 1 : lines.index("", lines.index("") + 1)]
    assert len(tree) == recorded, "one line per resource"
    assert f"{recorded} resources: " in out
    # Artifacts, releases, and web's pull-request artifacts.
    assert "   3  aws:s3/bucket:Bucket" in out


def test_plan_check_passes_on_every_sample_stack_and_says_so() -> None:
    for stack in STACKS:
        code, out, err = cicd("plan", "--stack", stack, "--check")
        assert (code, err) == (0, ""), stack
        assert out.rstrip().endswith("passed: 0 mandatory, 0 advisory violations"), stack


def test_plan_check_exits_1_on_a_mandatory_violation(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guardrails.rules as rules

    def flag_every_pipeline(stack: Any, _: Any) -> Any:
        for pipeline in stack.of_type("aws:codepipeline/pipeline:Pipeline"):
            yield pipeline.urn, f"pipeline {pipeline.name} flagged"

    rule = rules.Rule(
        "test-flag", "Flags pipelines.", "mandatory", "low", flag_every_pipeline, "none"
    )
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, rule))
    monkeypatch.setattr(rules, "RULES_BY_NAME", {**rules.RULES_BY_NAME, "test-flag": rule})
    code, out, err = cicd("plan", "--stack", "dev", "--check", "--json")
    assert code == 1
    assert err == "cicd: stack dev violates 2 mandatory guardrail(s)\n"
    result = json.loads(out)["guardrails"]
    assert result["passed"] is False
    assert [f["message"] for f in result["findings"]] == [
        "pipeline thumbnailer-pipeline-pipeline flagged",
        "pipeline web-pipeline-pipeline flagged",
    ]


def test_plan_check_can_be_configured_like_the_pack(tmp_path: Any) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"pipeline-type-v2": {"enforcementLevel": "advisory"}}))
    code, _, _ = cicd("plan", "--stack", "dev", "--check", "--policy-config", str(config))
    assert code == 0
    config.write_text(json.dumps({"no-such-rule": "advisory"}))
    code, _, err = cicd("plan", "--stack", "dev", "--check", "--policy-config", str(config))
    assert code == 2 and "unknown rules ['no-such-rule']" in err


def test_an_unknown_stack_is_a_usage_error_naming_the_stack_files() -> None:
    code, out, err = cicd("plan", "--stack", "qa")
    assert (code, out) == (2, "")
    assert err == (
        "cicd: no stack 'qa': the stack files are Pulumi.dev.yaml, Pulumi.prod.yaml, "
        "Pulumi.staging.yaml\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--stack", "dev"],
        ["diff", "--base", "HEAD"],
        ["diagram", "--stack", "prod"],
    ],
)
def test_without_the_platform_the_offline_commands_say_what_to_install_in_one_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the boto3-only distribution sees: no entry point provides the offline commands.
    monkeypatch.setattr(offline.metadata, "entry_points", lambda **_: ())
    code, out, err = cicd(*argv)
    assert (code, out) == (1, "")
    assert err == (
        f"cicd: `cicd {argv[0]}` runs the Pulumi program offline and comes with the platform "
        "install, not with this boto3-only CLI: in a checkout of the repository run "
        "`make install` and use .venv/bin/cicd\n"
    )


def test_a_platform_install_that_cannot_import_says_which_module_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def load(self) -> None:
            raise ModuleNotFoundError("No module named 'pulumi_aws'")

    monkeypatch.setattr(offline.metadata, "entry_points", lambda **_: (Broken(),))
    code, out, err = cicd("plan", "--stack", "dev")
    assert (code, out) == (1, "")
    assert err == (
        "cicd: `cicd plan` comes with the platform install, which is incomplete here (No module "
        "named 'pulumi_aws'): in a checkout of the repository run `make install` and use "
        ".venv/bin/cicd\n"
    )


def test_the_platform_distribution_provides_the_offline_commands_through_its_entry_point() -> None:
    from stack.plan.commands import run

    assert offline.platform_commands() is run


def test_the_offline_commands_have_a_summary_and_examples_in_their_help() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for command, summary in OFFLINE_COMMANDS.items():
        assert re.search(rf"^    {command} +{re.escape(summary.split()[0])} ", help_text, re.M)
        assert len(summary) <= 75
        out = io.StringIO()
        code = main([command, "--help"], stdout=out, stderr=io.StringIO())
        assert code == 0
        assert f"examples:\n  cicd {command} " in out.getvalue()


def test_importing_the_cli_imports_nothing_of_the_platform_or_the_pack() -> None:
    probe = (
        "import sys, cicd.cli.main; print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pulumi', 'pulumi_aws', 'components', 'stack', 'guardrails', 'mermaidx', 'yaml'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
