"""tools/mutation.py: which mutants a run samples, and how survivors meet the whole suite.

mutmut itself is not needed here (the `mutation` extra is only installed by `make mutation`):
these are the tool's own decisions, which decide what its figures mean.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import mutation
from tools.mutation import FileResult, directory_rows, in_sample, sample_patterns
from tools.mutation_selection import WHOLE_PROGRAM_MODULES


@pytest.fixture
def only() -> Iterator[list[str]]:
    saved = list(mutation.ONLY)
    mutation.ONLY.clear()
    yield mutation.ONLY
    mutation.ONLY[:] = saved


def test_one_in_five_samples_the_mutants_numbered_3_and_8(only: list[str]) -> None:
    assert sample_patterns(5) == ["*__mutmut_*[38]"]
    assert [n for n in range(1, 21) if in_sample(f"stack.config.errors.x_f__mutmut_{n}", 5)] == [
        3,
        8,
        13,
        18,
    ]


def test_every_mutant_is_tested_with_a_sample_of_one(only: list[str]) -> None:
    assert sample_patterns(1) == []
    assert all(in_sample(f"cicd.text.x_f__mutmut_{n}", 1) for n in range(1, 11))


def test_only_narrows_to_the_modules_named_and_keeps_the_sample(only: list[str]) -> None:
    only += ["stack.config", "stack.program"]
    assert in_sample("stack.config.errors.x_problem__mutmut_3", 5)
    assert in_sample("stack.program.x_build_args__mutmut_8", 5)
    assert not in_sample("stack.config.errors.x_problem__mutmut_4", 5)
    assert not in_sample("cicd.text.x_f__mutmut_3", 5)


def test_the_whole_suite_runs_the_reaching_tests_first_then_the_stack_modules() -> None:
    command = mutation.whole_suite_command(["tests/test_config_messages.py"])
    at = command.index("tests/test_config_messages.py")
    assert command[at + 1 : at + 1 + len(WHOLE_PROGRAM_MODULES)] == list(WHOLE_PROGRAM_MODULES)
    assert {"tests", "examples", "-x"} <= set(command)


def test_the_whole_suite_runs_without_the_per_mutant_selection() -> None:
    command = mutation.whole_suite_command([])
    assert "tools.mutation_selection" not in command
    # The deselections mutmut's runs use (network, actionlint, a subprocess test) stay.
    assert "not network" in command


def test_figures_are_summed_per_top_level_directory() -> None:
    rows = directory_rows(
        [
            FileResult("stack/config/errors.py", Counter(killed=9, survived=1)),
            FileResult("stack/program.py", Counter(killed=8, survived=2)),
            FileResult("cicd/text.py", Counter(killed=1, timeout=1)),
        ]
    )
    assert rows["stack/"]["total"] == 20 and rows["stack/"]["killed_percent"] == 85.0
    assert rows["cicd/"]["timeout"] == 1 and rows["cicd/"]["killed_percent"] == 50.0


def test_report_only_judges_again_what_the_budget_left_and_with_rejudge_the_survivors() -> None:
    verdicts = {"a": "killed", "b": "survived", "c": "unconfirmed", "d": "timeout"}
    assert mutation.to_judge_again(verdicts, rejudge=False) == {"c"}
    assert mutation.to_judge_again(verdicts, rejudge=True) == {"b", "c", "d"}


def test_a_methods_mutant_is_written_over_that_class_method_not_the_first_of_its_name() -> None:
    cst = pytest.importorskip("libcst", reason="libcst comes with the mutation extra")
    module = cst.parse_module(
        "def describe():\n    return 0\n\n"
        "class A:\n    def describe(self):\n        return 1\n\n"
        "class B:\n    def describe(self):\n        return 2\n"
    )

    def returned(found: object) -> str:
        return cst.Module(body=[found]).code.strip().splitlines()[-1].strip()

    assert returned(mutation.definition(module, "describe", "B")) == "return 2"
    assert returned(mutation.definition(module, "describe", "A")) == "return 1"
    assert returned(mutation.definition(module, "describe", None)) == "return 0"
    assert mutation.definition(module, "describe", "C") is None


def test_the_tests_named_after_a_mutants_module_run_first_except_those_left_out() -> None:
    assert "tests/cicd/test_scans_values.py" in mutation.named_tests("cicd/aws/scans.py")
    assert all("/test_scans" in test for test in mutation.named_tests("cicd/aws/scans.py"))
    assert mutation.named_tests("stack/config/__init__.py") == []
    # test_plan_diff.py is outside mutmut's suite (`--ignore`), so never named first.
    assert "tests/test_plan_diff.py" not in mutation.named_tests("stack/plan/diff.py")
    assert "tests/test_plan_diagram.py" in mutation.named_tests("stack/plan/diagram.py")


def test_confirm_first_moves_the_named_mutants_to_the_front_and_keeps_every_mutant(
    tmp_path: Path,
) -> None:
    pending = {"a": "x.py", "b": "x.py", "c": "y.py", "d": "y.py"}
    named = tmp_path / "first.txt"
    named.write_text("c\nunknown\nb existing\n\n")
    ordered = mutation.first(pending, named)
    assert list(ordered) == ["c", "b", "a", "d"]
    assert ordered == pending
    assert mutation.first(pending, None) is pending


def test_thin_keeps_about_one_in_k_of_a_directorys_sample_by_the_names_crc(only: list[str]) -> None:
    names = [f"components.pipeline.x_f{n}__mutmut_{d}3" for n in range(200) for d in ("", "1")]
    saved = dict(mutation.THIN)
    try:
        mutation.THIN.clear()
        mutation.THIN["components"] = 5
        kept = [n for n in names if in_sample(n, 10)]
        assert kept == [n for n in names if zlib.crc32(n.encode()) % 5 == 0]
        assert 40 <= len(kept) <= 120  # about one in five of 400
        # Other directories keep their whole sample; the digit rule still applies.
        assert in_sample("cicd.text.x_f__mutmut_13", 10)
    finally:
        mutation.THIN.clear()
        mutation.THIN.update(saved)


def test_resume_names_only_the_sampled_mutants_without_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only: list[str]
) -> None:
    # mutmut runs again every mutant a pattern matches, so --resume passes these names instead.
    meta = tmp_path / "cicd" / "text.py.meta"
    meta.parent.mkdir()
    codes = {"cicd.text.x_f__mutmut_3": 1, "cicd.text.x_f__mutmut_13": None}
    codes |= {"cicd.text.x_f__mutmut_4": None, "cicd.text.x_f__mutmut_23": 0}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    monkeypatch.setattr(mutation, "MUTANTS", tmp_path)
    assert mutation.not_yet_run(10) == ["cicd.text.x_f__mutmut_13"]
