"""pytest plugin for `make mutation`: which tests mutmut runs against one mutant, and faster.

mutmut runs, for each mutant, the tests that called the mutated function while it collected
stats. Two things make that selection wrong or slow here, and this plugin corrects both inside
the worker (it only acts when mutmut names a mutant in MUTANT_UNDER_TEST):

- The whole-program modules (`WHOLE_PROGRAM_MODULES`) evaluate every stack once, in
  a module-scoped fixture, so mutmut credits the program's functions to the first test of each
  module only. Run alone, that test skips every other stack assertion (URN snapshot, wiring,
  IAM scope). When a mutant is reached by nothing but these modules (the program's own wiring
  in `stack/program.py`, and a few helpers only the program calls), the whole modules run.
- Evaluating the stacks costs about 2.5 s a mutant, and most mutated functions are also called by
  a component's or the CLI's own tests. Those mutants run only their own tests: the kill rate is
  then that of the unit tests, and a mutant that only a stack test would notice counts as
  survived. This keeps a run near 3 mutants a second on 2 cores.

Two more things cut each mutant's time by about half:
- pulumi_aws and pulumi_github import their service modules lazily, on first use, so mutmut's
  fork server (which only collects the tests) left every worker to import them again (about 200
  modules). The stats run, which runs the whole suite, writes down every module it ended up with;
  the fork server imports that list after collecting, before it forks a worker.
- `gc.freeze()` before the tests run: full collections over the objects of those imports took
  about a third of each mutant's time.

Loaded only by mutmut, through `pytest_add_cli_args` in pyproject.toml's `[tool.mutmut]`.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

import pytest

# Modules that run the whole program for every stack file (or analyse the whole library) in
# module-scoped fixtures: seconds per mutant each.
WHOLE_PROGRAM_MODULES = (
    "tests/test_stacks.py",
    "tests/test_iam_scope.py",
    "tests/test_iam_lint.py",
    "tests/test_boundary.py",
    "tests/test_promotion.py",
    "tests/test_upgrades.py",
    "tests/test_aws_context.py",
    "tests/test_policy_rules.py",
    "tests/test_plan.py",
    "tests/test_plan_diagram.py",
    "tests/test_provider_schema.py",
    "tests/test_reference.py",
    "tests/cicd/test_sample_stacks.py",
)
MUTANT_MARKER = "__mutmut_"
# Written by the stats run, read by the fork server; relative to mutmut's working directory,
# which is mutants/ (so `make mutation` starts without it, and it never lands in git).
PRELOAD_FILE = Path("mutation-preload.txt")
# The code under test, and the tests: mutmut imports these itself where it must.
NOT_PRELOADED = {"components", "cicd", "tests", "tools", "__main__"}
# The flags (options without a value) mutmut and pyproject.toml pass to pytest.
FLAGS = {"-x", "-q", "-qqq", "-v", "-vv", "--collect-only"}


def module_of(node_id: str) -> str:
    return node_id.split("::", 1)[0]


def split_node_ids(args: list[str]) -> tuple[list[str], list[str]]:
    """(the test node ids mutmut passed, every other argument in order).

    An option's value stays with its option even when it looks like a node id: in
    `--deselect tests/x.py::test_y` (from `pytest_add_cli_args`) the test is excluded, not chosen.
    Options are assumed to take a value unless written `--name=value` or known to be flags.
    """
    node_ids: list[str] = []
    others: list[str] = []
    takes_value = False
    for arg in args:
        if takes_value:
            others.append(arg)
            takes_value = False
        elif arg.startswith("-"):
            others.append(arg)
            takes_value = "=" not in arg and arg not in FLAGS
        elif "::" in arg:
            node_ids.append(arg)
        else:
            others.append(arg)
    return node_ids, others


def select(args: list[str]) -> list[str]:
    """The arguments with the node ids replaced by the tests this mutant should run."""
    node_ids, others = split_node_ids(args)
    if not node_ids:
        return args
    own = [n for n in node_ids if module_of(n) not in WHOLE_PROGRAM_MODULES]
    if own:
        chosen = own
    else:
        reached = {module_of(n) for n in node_ids}
        chosen = [m for m in WHOLE_PROGRAM_MODULES if m in reached]
    return others + chosen


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    del early_config, parser
    gc.freeze()
    if MUTANT_MARKER in os.environ.get("MUTANT_UNDER_TEST", ""):
        args[:] = select(args)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In the fork server's warm-up (a collect-only run), import what the tests will import."""
    if not session.config.option.collectonly or not PRELOAD_FILE.exists():
        return
    # Parents first: the providers' packages are lazy modules already in sys.modules, which
    # load on their first attribute access; importing a submodule of one that has not loaded
    # yet leaves it without its classes.
    for name in sorted(PRELOAD_FILE.read_text().split(), key=lambda n: (n.count("."), n)):
        try:
            module = sys.modules.get(name) or importlib.import_module(name)
            getattr(module, "__mutation_preload__", None)
        except Exception:  # a module that does not import here is merely not warm
            continue
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """After mutmut's stats run (the whole suite), write down every module it imported."""
    del session
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    names = sorted(n for n in list(sys.modules) if n.split(".")[0] not in NOT_PRELOADED)
    PRELOAD_FILE.write_text("\n".join(names) + "\n")
