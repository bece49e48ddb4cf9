"""Run mutation testing (mutmut) on components/ and cicd/, then report the share killed.

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

A run starts from scratch (deletes mutants/) unless --resume is given: mutmut keeps verdicts for
functions whose source did not change, but not when only the tests changed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SUMMARY = MUTANTS / "mutation-summary.json"
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


def in_sample(mutant: str, every: int) -> bool:
    return mutant[-1] in SAMPLE_DIGITS[every]


def run_mutmut(jobs: int, every: int) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    if not mutmut.exists():
        sys.exit(f"{mutmut} not found: install the `mutation` extra (`make mutation` does)")
    command = [str(mutmut), "run", "--max-children", str(jobs), *sample_patterns(every)]
    return subprocess.call(command, cwd=ROOT)


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


def collect(with_diffs: bool, every: int = 1) -> list[FileResult]:
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
        "tools/mutation_selection.py.",
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
        "--sample",
        type=int,
        choices=sorted(SAMPLE_DIGITS),
        default=5,
        help="test one mutant in N (default 5; 1 tests every mutant)",
    )
    args = parser.parse_args()

    wall = None
    if not args.report_only:
        if not args.resume:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        started = time.monotonic()
        code = run_mutmut(args.jobs, args.sample)
        wall = round(time.monotonic() - started)
        if code != 0:
            print(f"mutmut exited with {code}", file=sys.stderr)
            return code
    elif SUMMARY.exists():
        wall = json.loads(SUMMARY.read_text()).get("wall_seconds")

    results = collect(with_diffs=True, every=args.sample)
    if not results:
        print("no mutation results in mutants/: run without --report-only first", file=sys.stderr)
        return 1
    overall = totals(results)
    summary = {
        "tool": "mutmut",
        "mutmut_version": version("mutmut"),
        "paths": ["components/", "cicd/"],
        "commit": git_commit(),
        "jobs": args.jobs,
        "sample": f"1 in {args.sample}" if args.sample > 1 else "all",
        "wall_seconds": wall,
        "overall": overall,
        "files": {r.path: row(r) for r in results},
        "survivors": {r.path: r.survivors for r in results if r.survivors},
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(summary, results))

    print()
    print("\n".join(table(results, overall)))
    print()
    print(
        f"Killed {overall['killed']} of {overall['total']} mutants "
        f"({overall['killed_percent']}%); {overall['survived']} survived, "
        f"{overall['timeout']} timed out"
        + (f"; wall time {wall // 60} min {wall % 60} s" if wall is not None else "")
        + "."
    )
    print(f"Summary: {SUMMARY.relative_to(ROOT)}; survivors: `.venv/bin/mutmut show <mutant>`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
