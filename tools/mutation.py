"""Run mutation testing (mutmut) on components/, cicd/ and stack/, then report the share killed.

`make mutation` runs this. mutmut's settings, and why, are in pyproject.toml's `[tool.mutmut]`;
which tests run against each mutant is decided by tools/mutation_selection.py.

Prints a table of mutants per file (killed, survived, timed out, other) with the share killed,
and writes:
- mutants/mutation-summary.json: the same figures, the wall time, and every surviving mutant
  with its line and diff (mutants/ is mutmut's working directory, ignored by git);
- optionally (--markdown PATH) the table and the surviving mutants grouped by file.

Usage: .venv/bin/python tools/mutation.py [--jobs N] [--sample N] [--resume] [--report-only]
                                          [--markdown PATH]

--sample N tests one mutant in N (1, 2, 5 or 10; 5 unless given): those whose number in their
function ends in given digits, so every function with enough mutants is sampled and the same
mutants are chosen on every run (before and after a change compare like with like). Functions
with fewer mutants than the sampled numbers contribute none. One in five keeps a run under an
hour on 2 cores: measured 45 min for 3,537 of 17,709 mutants, about 14 of them mutmut's
set-up (generating, a stats run and a clean run of the suite), 31 the mutants; `--sample 1`
tests every mutant, so about 14 + 5 x 31 min, near three hours.

A run starts from scratch (deletes mutants/) unless --resume is given, which runs only the
sampled mutants without a verdict yet (mutmut keeps verdicts for functions whose source did not
change, but not when only the tests changed). `--thin DIR=K` narrows a directory's sample to
about one in K (by the CRC-32 of each mutant's name): with --resume, an interrupted run finishes
on the thinner sample, and the report counts only it.

The verdict on a survivor is the whole suite's, not the selection's: mutmut runs each mutant
against the tests that reached its function (and tools/mutation_selection.py narrows those
further), which is a speed-up. Every mutant that survived that, or that no test reached, is then
run against the whole suite mutmut can run (`pytest_add_cli_args`: everything but the network
tests, actionlint and test_plan_diff.py), the modules that evaluate every stack first, stopping
at the first failure (`--jobs` at a time, `--confirm-timeout` seconds each). Only mutants the
whole suite lets pass are reported as survivors; `--no-confirm` skips this (and says so).
`--report-only` judges what an earlier `--confirm-budget` left unjudged; with `--rejudge` it
also runs the earlier survivors again, after tests were written for them (same source only:
the mutants are those mutmut made of it).
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SUMMARY = MUTANTS / "mutation-summary.json"
TESTS = ROOT / "tests"
# mutmut's statuses, folded into the columns of the table.
COLUMNS = ("killed", "survived", "timeout", "other")
FOLD = {"killed": "killed", "survived": "survived", "timeout": "timeout"}


@dataclass
class FileResult:
    path: str
    statuses: Counter[str] = field(default_factory=Counter)
    survivors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def column(self, name: str) -> int:
        if name == "other":
            return sum(n for s, n in self.statuses.items() if s not in FOLD)
        return self.statuses[name]


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --sample N: the last digits of the mutant numbers tested (mutmut numbers each function's from 1).
SAMPLE_DIGITS = {1: "0123456789", 2: "13579", 5: "38", 10: "3"}


def sample_patterns(every: int) -> list[str]:
    """mutmut's mutant-name filters (fnmatch) for one mutant in `every`; none for all of them."""
    if every == 1:
        return []
    return [f"*__mutmut_*[{SAMPLE_DIGITS[every]}]"]


ONLY: list[str] = []
"""--only: the module prefixes reported mutants must have one of (none: all)."""


THIN: dict[str, int] = {}
"""--thin DIR=K: of a top-level directory's sampled mutants, only those whose name's CRC-32 is a
multiple of K (about one in K, spread over every function and line, the same on every run)."""


def in_sample(mutant: str, every: int) -> bool:
    if ONLY and not mutant.startswith(tuple(ONLY)):
        return False
    thin = THIN.get(mutant.split(".", 1)[0], 1)
    if thin > 1 and zlib.crc32(mutant.encode()) % thin:
        return False
    return mutant[-1] in SAMPLE_DIGITS[every]


def not_yet_run(every: int) -> list[str]:
    """The sampled mutants mutmut has no verdict for yet (an interrupted run's rest)."""
    pending = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        pending += [m for m, code in exit_codes.items() if code is None and in_sample(m, every)]
    return sorted(pending, key=mutant_order)


def run_mutmut(jobs: int, every: int, only: list[str] | None = None, resume: bool = False) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    if not mutmut.exists():
        sys.exit(f"{mutmut} not found: install the `mutation` extra (`make mutation` does)")
    patterns = sample_patterns(every)
    if only:
        # mutmut ORs its patterns, so the module and the sample go into one.
        patterns = [f"{prefix}*__mutmut_*[{SAMPLE_DIGITS[every]}]" for prefix in only]
    if resume and MUTANTS.exists():
        # mutmut runs every mutant a pattern names again, verdict or not: name only the rest.
        patterns = not_yet_run(every)
        if not patterns:
            return 0
    command = [str(mutmut), "run", "--max-children", str(jobs), *patterns]
    return subprocess.call(command, cwd=ROOT)


# mutmut's statuses a whole-suite run is asked about: the selection let them pass, or nothing
# reached them.
UNCONFIRMED = {"survived", "no tests"}


def _pyproject_mutmut() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def whole_suite_command(first: list[str]) -> list[str]:
    """pytest over the whole suite mutmut runs (`pytest_add_cli_args` without the selection
    plugin), the files in `first` and then the modules that evaluate every stack collected first,
    stopping at the first failure."""
    sys.path.insert(0, str(ROOT))
    from tools.mutation_selection import WHOLE_PROGRAM_MODULES

    added = list(_pyproject_mutmut().get("pytest_add_cli_args", []))
    # The selection plugin narrows a mutant's tests; here every test runs.
    while "tools.mutation_selection" in added:
        at = added.index("tools.mutation_selection")
        del added[at - 1 : at + 1]
    ordered = list(dict.fromkeys([*first, *WHOLE_PROGRAM_MODULES]))
    return [
        sys.executable,
        "-m",
        "pytest",
        "--rootdir=.",
        "--tb=no",
        "-x",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        *ordered,
        "tests",
        "examples",
        *added,
    ]


def named_tests(path: str) -> list[str]:
    """The test files named after the module at `path` (`cicd/aws/scans.py` ->
    `tests/**/test_scans*.py`; `stack/plan/diagram.py` -> `test_plan_diagram.py` too), which the
    whole-suite run puts first: order changes only how soon `-x` stops on a killed mutant (a test
    written for a survivor after the stats run is in no mutant's reaching set), never the
    verdict. None for a package's `__init__.py`, and none the whole suite leaves out (`--ignore`
    in `pytest_add_cli_args`)."""
    stem = Path(path).stem
    if stem == "__init__":
        return []
    # Named after the module, or after its package and the module (`stack/plan/diagram.py` ->
    # `test_plan_diagram.py`).
    patterns = [f"test_{stem}*.py", f"test_{Path(path).parent.name}_{stem}*.py"]
    found = sorted(
        {p.relative_to(ROOT).as_posix() for pattern in patterns for p in TESTS.rglob(pattern)}
    )
    return [test for test in found if test not in _ignored()]


@functools.cache
def _ignored() -> frozenset[str]:
    """The test files `pytest_add_cli_args` leaves out (`--ignore`), read once per run."""
    added = list(_pyproject_mutmut().get("pytest_add_cli_args", []))
    return frozenset(added[at + 1] for at, arg in enumerate(added[:-1]) if arg == "--ignore")


SCRATCH_IGNORED = (".git", ".venv", "mutants", "node_modules", "__pycache__", ".pytest_cache")


def _scratch_copy(where: Path) -> Path:
    """A copy of the working tree (what `make test` sees, without .git and the caches)."""
    shutil.copytree(ROOT, where, ignore=shutil.ignore_patterns(*SCRATCH_IGNORED))
    (where / "node_modules").symlink_to(ROOT / "node_modules")
    return where


def definition(module: Any, name: str, class_name: str | None) -> Any:
    """The top-level function `name` (no `class_name`) or the method `name` of the top-level
    class `class_name` in a libcst module; None when there is none. mutmut's own lookup takes
    the first function or method of that name in the file, so a mutant of `B.describe` would
    be written over `A.describe`."""
    import libcst as cst

    for child in module.body:
        if class_name is None:
            if isinstance(child, cst.FunctionDef) and child.name.value == name:
                return child
        elif (
            isinstance(child, cst.ClassDef)
            and child.name.value == class_name
            and isinstance(child.body, cst.IndentedBlock)
        ):
            for method in child.body.body:
                if isinstance(method, cst.FunctionDef) and method.name.value == name:
                    return method
    return None


def mutated_source(mutant: str, path: str) -> str:
    """The file `path` with `mutant` in place of its function: mutmut's own `apply`, written
    elsewhere than the working tree (mutmut reads its mutants from ROOT/mutants)."""
    import libcst as cst
    from mutmut.mutation.diff_apply import (
        read_functions_from_index,
        read_mutant_function,
        read_mutants_module,
        read_orig_module,
    )
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    os.chdir(ROOT)
    name, class_name = orig_function_and_class_names_from_key(mutant)
    name = name.rpartition(".")[-1]
    module = read_orig_module(path)
    original = definition(module, name, class_name)
    if original is None:
        sys.exit(f"{mutant}: no function {name} in {path}")
    found = read_functions_from_index(mutant, path)
    replacement = found[1] if found else read_mutant_function(read_mutants_module(path), mutant)
    replacement = replacement.with_changes(name=cst.Name(name))
    return module.deep_replace(original, replacement).code  # type: ignore[arg-type]


def confirm(
    mutants: dict[str, str],
    reached: dict[str, list[str]],
    jobs: int,
    timeout: float,
    budget: float | None = None,
) -> dict[str, str]:
    """Each mutant's verdict from the whole suite (killed, survived or timeout), run at full
    speed: the mutant written into its file in a scratch copy of the working tree, not through
    mutmut's trampolines (which slow the whole suite several times over). `mutants` maps each
    mutant to its file, `reached` each mutant to the test files that reached its function.
    After `budget` seconds (None: no limit) no further mutant is started: those left get the
    verdict "unconfirmed", reported as surviving."""
    import queue
    import tempfile
    import threading

    lock = threading.Lock()
    verdicts: dict[str, str] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-confirm-") as scratch_root:
        copies: queue.Queue[Path] = queue.Queue()
        for n in range(jobs):
            copies.put(_scratch_copy(Path(scratch_root) / f"tree-{n}"))
        baseline = copies.get()
        clean = subprocess.run(
            whole_suite_command([]), cwd=baseline, capture_output=True, timeout=timeout
        )
        if clean.returncode != 0:
            sys.exit(
                "the whole suite fails without any mutant in a copy of the working tree, so it "
                f"cannot judge survivors:\n{clean.stdout.decode()[-3000:]}"
            )
        copies.put(baseline)

        def verdict(mutant: str) -> None:
            path = mutants[mutant]
            with lock:
                code = mutated_source(mutant, path)
            tree = copies.get()
            target = tree / path
            original = target.read_text()
            try:
                target.write_text(code)
                done = subprocess.run(
                    whole_suite_command([*named_tests(path), *reached.get(mutant, [])]),
                    cwd=tree,
                    capture_output=True,
                    timeout=timeout,
                )
                # pytest: 0 all passed, 1 a test failed, 2 interrupted (a collection error the
                # mutant caused); 3-5 are pytest's or the command's own failures.
                result = {0: "survived", 1: "killed", 2: "killed"}.get(done.returncode)
                if result is None:
                    sys.exit(
                        f"whole-suite run for {mutant} failed with exit code "
                        f"{done.returncode}: {done.stdout.decode()[-2000:]}"
                    )
            except subprocess.TimeoutExpired:
                result = "timeout"
            finally:
                target.write_text(original)
                copies.put(tree)
            with lock:
                verdicts[mutant] = result
                n = len(verdicts)
                if n % 10 == 0 or n == len(mutants):
                    print(
                        f"whole suite: {n}/{len(mutants)} judged "
                        f"({sum(v == 'survived' for v in verdicts.values())} survive), "
                        f"{round(time.monotonic() - started)} s",
                        flush=True,
                    )

        threads = []
        pending: queue.Queue[str] = queue.Queue()
        for mutant in mutants:
            pending.put(mutant)

        def work() -> None:
            while True:
                try:
                    mutant = pending.get_nowait()
                except queue.Empty:
                    return
                if (budget is not None and time.monotonic() - started > budget) or failures:
                    with lock:
                        verdicts[mutant] = "unconfirmed"
                    continue
                try:
                    verdict(mutant)
                except BaseException as failure:  # sys.exit in a thread ends only the thread
                    failures.append(f"{mutant}: {failure}")

        failures: list[str] = []
        for _ in range(jobs):
            thread = threading.Thread(target=work)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    if failures:
        # A thread's sys.exit ends only that thread: the run would report what it never judged.
        sys.exit("the whole-suite confirmation stopped:\n" + "\n".join(failures))
    return verdicts


def first(pending: dict[str, str], named: Path | None) -> dict[str, str]:
    """`pending` with the mutants named in the file `named` (one per line; text after the name
    is ignored) moved to the front, in the file's order; unchanged without a file."""
    if named is None:
        return pending
    order = [line.split()[0] for line in named.read_text().splitlines() if line.strip()]
    front = {m: pending[m] for m in dict.fromkeys(order) if m in pending}
    return front | {m: path for m, path in pending.items() if m not in front}


def to_judge_again(verdicts: dict[str, str], rejudge: bool) -> set[str]:
    """What `--report-only` runs against the whole suite again: what an earlier budget left
    unjudged and, with `--rejudge`, the survivors too (tests were added for them since; the
    mutants are those of the source mutmut read, so the source must be the same)."""
    again = {"unconfirmed", "survived", "timeout"} if rejudge else {"unconfirmed"}
    return {m for m, v in verdicts.items() if v in again}


def unconfirmed(every: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The sampled mutants the selection let pass or that no test reached, with their files;
    and for each, the test files mutmut's stats run saw reach its function."""
    os.chdir(ROOT)
    from mutmut.stats import status_by_exit_code

    stats = json.loads((MUTANTS / "mutmut-stats.json").read_text())
    tests_by_function: dict[str, list[str]] = stats["tests_by_mangled_function_name"]
    found: dict[str, str] = {}
    reached: dict[str, list[str]] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        path = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        for mutant, code in sorted(exit_codes.items(), key=lambda kv: mutant_order(kv[0])):
            if in_sample(mutant, every) and status_by_exit_code[code] in UNCONFIRMED:
                found[mutant] = path
                function = mutant.rsplit("__mutmut_", 1)[0]
                files = {t.split("::", 1)[0] for t in tests_by_function.get(function, [])}
                reached[mutant] = sorted(files)
    return found, reached


def function_lines(path: Path) -> dict[str, int]:
    """Line of each top-level function and method, keyed as mutmut names them ("C.m" or "f")."""
    lines: dict[str, int] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines[node.name] = node.lineno
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines[f"{node.name}.{item.name}"] = item.lineno
    return lines


def function_key(mutant: str) -> str:
    """`components.x.xǁCǁm__mutmut_3` -> `C.m`; `components.x.x_f__mutmut_3` -> `f`."""
    local = mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    if local.startswith("xǁ"):
        cls, method = local[2:].split("ǁ", 1)
        return f"{cls}.{method}"
    return local.removeprefix("x_")


def changed_line(diff: str, def_line: int, def_offset: int) -> int | None:
    """File line of the first line the mutant removes, from the diff of its function.

    The diff numbers the function's own lines, where the `def` is line `def_offset` (after any
    comments and decorators above it), and the file has it at `def_line`."""
    old = 0
    for text in diff.splitlines():
        if text.startswith(("---", "+++")):
            continue
        if text.startswith("@@"):
            old = int(text.split()[1].split(",")[0].lstrip("-")) - 1
            continue
        if text.startswith("+"):
            continue
        old += 1
        if text.startswith("-"):
            return def_line + old - def_offset
    return None


def def_offset(mutant: str, path: str) -> int:
    """Line of the `def` within the function's code as mutmut diffs it (1 when undecorated)."""
    import libcst as cst
    from mutmut.mutation.diff_apply import (
        read_functions_from_index,
        read_mutants_module,
        read_original_function,
    )

    functions = read_functions_from_index(mutant, path)
    original = (
        functions[0] if functions else read_original_function(read_mutants_module(path), mutant)
    )
    code = cst.Module([original]).code.strip().split("\n")
    for number, text in enumerate(code, start=1):
        if text.lstrip().startswith(("def ", "async def ")):
            return number
    return 1


def collect(
    with_diffs: bool, every: int = 1, verdicts: dict[str, str] | None = None
) -> list[FileResult]:
    # mutmut reads its configuration from the working directory.
    os.chdir(ROOT)
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    results = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        path = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if not any(in_sample(m, every) for m in exit_codes):
            continue
        result = FileResult(path)
        lines = function_lines(ROOT / path)
        offsets: dict[str, int] = {}
        for mutant, code in sorted(exit_codes.items(), key=lambda kv: mutant_order(kv[0])):
            if not in_sample(mutant, every):
                continue
            status = status_by_exit_code[code]
            if verdicts is not None and status in UNCONFIRMED:
                # The whole suite's verdict replaces the selection's; a mutant the budget left
                # unjudged counts as surviving.
                status = verdicts.get(mutant, status)
                if status == "unconfirmed":
                    status = "survived"
            result.statuses[status] += 1
            if status != "survived" or not with_diffs:
                continue
            diff = get_diff_for_mutant(mutant, path=path)
            key = function_key(mutant)
            def_line = lines.get(key)
            if key not in offsets:
                offsets[key] = def_offset(mutant, path)
            line = changed_line(diff, def_line, offsets[key]) if def_line else None
            result.survivors.append({"mutant": mutant, "line": line, "diff": diff})
        result.survivors.sort(key=lambda s: (s["line"] or 0, mutant_order(s["mutant"])))
        results.append(result)
    return results


def mutant_order(mutant: str) -> tuple[str, int]:
    name, _, number = mutant.rpartition("__mutmut_")
    return name, int(number) if number.isdigit() else 0


def totals(results: list[FileResult]) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    whole = FileResult("all", statuses)
    return row(whole)


def row(r: FileResult) -> dict[str, Any]:
    return {
        "total": r.total,
        **{c: r.column(c) for c in COLUMNS},
        "killed_percent": share(r.column("killed"), r.total),
        "statuses": dict(sorted(r.statuses.items())),
    }


def table(results: list[FileResult], overall: dict[str, Any]) -> list[str]:
    width = max([len(r.path) for r in results] + [len("all files")])
    head = f"{'file':<{width}}  {'mutants':>7}  " + "  ".join(f"{c:>8}" for c in COLUMNS)
    out = [head + "  killed %", "-" * (len(head) + 10)]
    rows = [(r.path, row(r)) for r in results]
    rows.sort(key=lambda pr: (pr[1]["killed_percent"] or 0, pr[0]))
    for name, figures in [*rows, ("all files", overall)]:
        if name == "all files":
            out.append("-" * (len(head) + 10))
        percent = figures["killed_percent"]
        out.append(
            f"{name:<{width}}  {figures['total']:>7}  "
            + "  ".join(f"{figures[c]:>8}" for c in COLUMNS)
            + f"  {'-' if percent is None else f'{percent:.1f}':>8}"
        )
    return out


def markdown(summary: dict[str, Any], results: list[FileResult]) -> str:
    overall = summary["overall"]
    out = [
        "# Mutation testing: surviving mutants",
        "",
        f"mutmut {summary['mutmut_version']} on {', '.join(summary['paths'])}, commit "
        f"{summary['commit']}; mutants tested: {summary['sample']}; wall time "
        f"{summary['wall_seconds']} s with {summary['jobs']} workers. Tests per mutant: see "
        "tools/mutation_selection.py; "
        + (
            f"every survivor then run against the whole suite ({summary['confirm_seconds']} s"
            + (
                f"; {len(summary['unconfirmed'])} left unjudged by the time budget, counted as "
                "surviving)."
                if summary["unconfirmed"]
                else ")."
            )
            if summary["confirmed_by_whole_suite"]
            else "survivors NOT confirmed against the whole suite."
        ),
        "",
        "| directory | mutants | killed | survived | timeout | other | killed % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {d} | {f['total']} | {f['killed']} | {f['survived']} | {f['timeout']} "
            f"| {f['other']} | {f['killed_percent']} |"
            for d, f in summary["directories"].items()
        ),
        "",
        f"Overall: {overall['total']} mutants, {overall['killed']} killed "
        f"({overall['killed_percent']}%), {overall['survived']} survived, "
        f"{overall['timeout']} timed out, {overall['other']} other "
        f"({', '.join(f'{k}: {v}' for k, v in overall['statuses'].items())}).",
        "",
        "| file | mutants | killed | survived | timeout | other | killed % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path, f in sorted(summary["files"].items(), key=lambda kv: kv[1]["killed_percent"] or 0):
        out.append(
            f"| {path} | {f['total']} | {f['killed']} | {f['survived']} | {f['timeout']} "
            f"| {f['other']} | {f['killed_percent']} |"
        )
    out.append(
        f"| **all files** | {overall['total']} | {overall['killed']} | {overall['survived']} "
        f"| {overall['timeout']} | {overall['other']} | {overall['killed_percent']} |"
    )
    for r in results:
        if not r.survivors:
            continue
        out += ["", f"## {r.path} ({len(r.survivors)} surviving)", ""]
        for s in r.survivors:
            out += [f"### line {s['line']}: `{s['mutant']}`", "", "```diff", s["diff"], "```", ""]
    return "\n".join(out).rstrip() + "\n"


def directory_rows(results: list[FileResult]) -> dict[str, dict[str, Any]]:
    """The figures per top-level directory (components/, cicd/, stack/)."""
    by_directory: dict[str, Counter[str]] = {}
    for r in results:
        by_directory.setdefault(r.path.split("/", 1)[0] + "/", Counter()).update(r.statuses)
    return {d: row(FileResult(d, statuses)) for d, statuses in sorted(by_directory.items())}


def git_commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
    return out.stdout.strip() + ("+uncommitted changes" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutmut workers")
    parser.add_argument("--resume", action="store_true", help="keep mutants/ and its verdicts")
    parser.add_argument("--report-only", action="store_true", help="report the last run again")
    parser.add_argument("--markdown", type=Path, help="also write the survivors as Markdown")
    parser.add_argument(
        "--only",
        metavar="MODULE",
        action="append",
        help="only mutants of modules under this prefix (e.g. stack or stack.config.accounts)",
    )
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="report the selection's survivors without running them against the whole suite",
    )
    parser.add_argument(
        "--confirm-timeout",
        type=float,
        default=900,
        help="seconds a whole-suite run of one survivor may take (default 900)",
    )
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="with --report-only: run the last run's survivors against the whole suite again "
        "(after tests were added for them; same source)",
    )
    parser.add_argument(
        "--confirm-budget",
        type=float,
        help="minutes after which no further survivor is confirmed; those left count as "
        "surviving and are named unconfirmed (default: no limit)",
    )
    parser.add_argument(
        "--thin",
        metavar="DIR=K",
        action="append",
        default=[],
        help="of DIR's sampled mutants (components, cicd or stack), only about one in K "
        "(those whose name's CRC-32 is a multiple of K); narrows what is reported and what "
        "--resume runs",
    )
    parser.add_argument(
        "--confirm-first",
        type=Path,
        metavar="FILE",
        help="judge the mutants named in FILE (one per line) before the others, e.g. those "
        "tests were written for since the run: a --confirm-budget then goes where a verdict is "
        "likeliest to change (the verdicts are the same)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        choices=sorted(SAMPLE_DIGITS),
        default=5,
        help="test one mutant in N (default 5; 1 tests every mutant)",
    )
    args = parser.parse_args()
    if args.only:
        ONLY.extend(args.only)
    for thin in args.thin:
        directory, _, k = thin.partition("=")
        if directory not in {"components", "cicd", "stack"} or not k.isdigit() or int(k) < 1:
            parser.error(f"--thin {thin}: expected DIR=K, DIR one of components, cicd, stack")
        THIN[directory] = int(k)

    wall = None
    if not args.report_only:
        if not args.resume:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        started = time.monotonic()
        code = run_mutmut(args.jobs, args.sample, args.only, resume=args.resume)
        wall = round(time.monotonic() - started)
        if code != 0:
            print(f"mutmut exited with {code}", file=sys.stderr)
            return code
    elif SUMMARY.exists():
        wall = json.loads(SUMMARY.read_text()).get("wall_seconds")

    verdicts: dict[str, str] | None = None
    confirm_seconds = None
    if args.no_confirm:
        print("survivors NOT confirmed against the whole suite (--no-confirm)", file=sys.stderr)
    elif (
        args.report_only
        and SUMMARY.exists()
        and json.loads(SUMMARY.read_text()).get("confirmed_by_whole_suite")
    ):
        earlier = json.loads(SUMMARY.read_text())
        verdicts = earlier["verdicts"]
        # What an earlier budget left unjudged is judged now (the rest is kept).
        left = to_judge_again(verdicts, args.rejudge)
        if left:
            pending, reached = unconfirmed(args.sample)
            pending = first(
                {m: path for m, path in pending.items() if m in left}, args.confirm_first
            )
            print(f"judging {len(pending)} mutants against the whole suite again", flush=True)
            started = time.monotonic()
            budget = args.confirm_budget * 60 if args.confirm_budget is not None else None
            verdicts.update(confirm(pending, reached, args.jobs, args.confirm_timeout, budget))
            confirm_seconds = round(time.monotonic() - started) + (earlier["confirm_seconds"] or 0)
    else:
        pending, reached = unconfirmed(args.sample)
        pending = first(pending, args.confirm_first)
        print(f"confirming {len(pending)} mutants against the whole suite", flush=True)
        started = time.monotonic()
        budget = args.confirm_budget * 60 if args.confirm_budget is not None else None
        verdicts = confirm(pending, reached, args.jobs, args.confirm_timeout, budget)
        confirm_seconds = round(time.monotonic() - started)
    results = collect(with_diffs=True, every=args.sample, verdicts=verdicts)
    if not results:
        print("no mutation results in mutants/: run without --report-only first", file=sys.stderr)
        return 1
    overall = totals(results)
    summary = {
        "tool": "mutmut",
        "mutmut_version": version("mutmut"),
        "paths": _pyproject_mutmut()["source_paths"],
        "commit": git_commit(),
        "jobs": args.jobs,
        "sample": (f"1 in {args.sample}" if args.sample > 1 else "all")
        + (f" of {', '.join(args.only)}" if args.only else "")
        + "".join(f", {d}/ thinned to 1 in {k} of that" for d, k in sorted(THIN.items())),
        "wall_seconds": wall,
        "confirmed_by_whole_suite": verdicts is not None,
        "confirm_seconds": confirm_seconds,
        "verdicts": verdicts or {},
        "unconfirmed": sorted(m for m, v in (verdicts or {}).items() if v == "unconfirmed"),
        "overall": overall,
        "directories": directory_rows(results),
        "files": {r.path: row(r) for r in results},
        "survivors": {r.path: r.survivors for r in results if r.survivors},
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(summary, results))

    print()
    print("\n".join(table(results, overall)))
    print()
    for directory, figures in summary["directories"].items():
        print(
            f"{directory:<12} {figures['total']:>6} mutants, {figures['killed']:>6} killed "
            f"({figures['killed_percent']}%), {figures['survived']} survived, "
            f"{figures['timeout']} timed out, {figures['other']} other"
        )
    print()
    print(
        f"Killed {overall['killed']} of {overall['total']} mutants "
        f"({overall['killed_percent']}%); {overall['survived']} survived, "
        f"{overall['timeout']} timed out"
        + (f"; wall time {wall // 60} min {wall % 60} s" if wall is not None else "")
        + "."
    )
    if summary["unconfirmed"]:
        print(
            f"{len(summary['unconfirmed'])} survivors were not run against the whole suite "
            "(--confirm-budget): counted as surviving."
        )
    print(f"Summary: {SUMMARY.relative_to(ROOT)}; survivors: `.venv/bin/mutmut show <mutant>`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
