"""tools/mutation_selection.py: which tests `make mutation` runs against one mutant.

The plugin rewrites the pytest arguments mutmut gives a worker; a mistake there silently runs
the wrong tests (or none) for every mutant, so the rewrite is pinned here.
"""

from __future__ import annotations

from tools.mutation_selection import WHOLE_PROGRAM_MODULES, select, split_node_ids

# What mutmut 3.8.1 passes a worker, followed by pyproject.toml's pytest_add_cli_args.
MUTMUT = ["--rootdir=.", "--tb=native", "-x", "-q", "-p", "no:randomly"]
ADDED = [
    "-p",
    "tools.mutation_selection",
    "-m",
    "not network",
    "--deselect",
    "tests/test_workflows.py::test_actionlint_passes_on_the_workflows",
    "--ignore",
    "tests/test_plan_diff.py",
]


def test_an_options_value_is_never_taken_for_a_test_to_run() -> None:
    unit = "tests/test_naming.py::test_names"
    node_ids, others = split_node_ids([*MUTMUT, unit, *ADDED])

    assert node_ids == [unit]
    assert others == [*MUTMUT, *ADDED]


def test_a_mutant_reached_by_a_unit_test_runs_only_the_unit_tests() -> None:
    unit = "tests/test_naming.py::test_names"
    stacks = "tests/test_stacks.py::test_dev"

    assert select([*MUTMUT, unit, stacks, *ADDED]) == [*MUTMUT, *ADDED, unit]


def test_a_mutant_reached_only_by_whole_program_tests_runs_those_modules_whole() -> None:
    args = [*MUTMUT, "tests/test_iam_scope.py::test_a", "tests/test_stacks.py::test_b", *ADDED]

    assert select(args) == [*MUTMUT, *ADDED, "tests/test_stacks.py", "tests/test_iam_scope.py"]
    assert WHOLE_PROGRAM_MODULES.index("tests/test_stacks.py") < WHOLE_PROGRAM_MODULES.index(
        "tests/test_iam_scope.py"
    )


def test_arguments_without_a_test_are_left_alone() -> None:
    assert select([*MUTMUT, *ADDED]) == [*MUTMUT, *ADDED]
