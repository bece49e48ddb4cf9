"""`cicd diff`: what a change does to every stack, from two offline plans.

Defines `plan_ref` (every stack's plan at a git ref, evaluated with that ref's own program in a
temporary `git worktree` and a separate Python process), `diff_plans` (two plan documents of
one stack -> `StackDiff`: resources added, removed, moved and changed, each changed input with
its value before and after, replacements flagged from `stack.plan.replacements`), `render_text`,
`render_markdown` (one collapsed section per stack, for a pull request comment) and
`run_diff`, the command.

A plan has no state behind it, so this compares what two versions of the program *declare*:
it cannot see drift, and values AWS computes (IDs, ARNs of new resources) are the mocks' stable
stand-ins on both sides. Imports nothing of the platform at import time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cicd.errors import CicdError, UsageError
from stack.plan.replacements import forces_replacement

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "(absent)"})()
"""An input present on one side only."""

# Run in a separate interpreter with the other checkout as its working directory, so `stack`
# and `components` are that checkout's; the plan document comes from *this* checkout's
# `stack/plan/document.py` (standard library only), so both sides are normalized the same way.
_WORKER = """
import importlib.util, json, os, sys
root, document_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
# An editable install of the platform maps `stack` and `components` to *its* checkout: drop that
# finder, so a revision without them fails instead of silently planning the installed program.
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
spec = importlib.util.spec_from_file_location("_plan_document", document_path)
plan_document = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plan_document)
try:
    from stack import offline
except ImportError as error:
    sys.exit(f"this revision has no stack/offline.py to evaluate it with ({error})")
if not os.path.realpath(offline.__file__).startswith(os.path.realpath(root) + os.sep):
    sys.exit(f"stack.offline came from {offline.__file__}, not from {root}")
files = dict(offline.iter_stacks())
runs = offline.run_stacks(files)
upstreams_of = getattr(offline, "upstreams_of", None) or offline._upstreams_of
plans = {}
for name, path in files.items():
    _, secrets = offline.flatten_stack_config(path)
    plans[name] = plan_document.plan_document(
        name, runs[name], project=offline.PROJECT, stack_file=path.name,
        upstreams=upstreams_of(path), secrets=secrets,
        offline={"account": offline.ACCOUNT, "region": offline.REGION},
    )
sys.stdout.write(json.dumps(plans, sort_keys=True))
"""


# Evaluating a ref ------------------------------------------------------------------------------


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise CicdError(f"git {' '.join(args)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout.strip()


def plan_checkout(project: Path, label: str = "the working tree") -> dict[str, dict[str, Any]]:
    """Every stack's plan in the checkout at `project`, evaluated with that checkout's program
    in a separate Python process (so two programs never share Pulumi's global runtime)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    result = subprocess.run(
        [sys.executable, "-c", _WORKER, str(project), str(Path(__file__).with_name("document.py"))],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=900,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CicdError(f"cannot evaluate the stacks of {label}: {last}")
    return json.loads(result.stdout)


def plan_ref(ref: str, root: Path) -> dict[str, dict[str, Any]]:
    """Every stack's plan at `ref` of the repository holding `root`, with that ref's program."""
    top = Path(_git("rev-parse", "--show-toplevel", cwd=root))
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=top,
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise UsageError(f"--base {ref}: not a commit of this repository (git rev-parse)")
    commit = check.stdout.strip()
    scratch = Path(tempfile.mkdtemp(prefix="cicd-diff-"))
    checkout = scratch / "base"
    try:
        _git("worktree", "add", "--detach", "--quiet", str(checkout), commit, cwd=top)
        project = checkout / root.resolve().relative_to(top.resolve())
        return plan_checkout(project, f"{ref} ({commit[:12]})")
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(checkout)],
            cwd=top,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=top, capture_output=True, check=False)


# Comparing -------------------------------------------------------------------------------------


def _item_key(items: list[Any]) -> str | None:
    """The key that names each item of a list of objects (`name`, `Sid`), when it is unique."""
    for key in ("name", "Sid", "id"):
        names = [i.get(key) for i in items if isinstance(i, dict)]
        unique = len(set(names)) == len(names) == len(items)
        if unique and all(isinstance(n, str) for n in names):
            return key
    return None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def compare(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The differences between two values, as `(path, before, after)` at the deepest path where
    both sides still exist: `stages[Deploy].actions[web].configuration.DeploymentGroupName`.

    Lists of objects with a unique `name` (or `Sid`, `id`) are matched by it, so inserting a
    stage or a statement is one change instead of a change at every later index; an object
    present on one side only is one change holding the whole object.
    """
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(before) | set(after)):
            found += compare(before.get(key, ABSENT), after.get(key, ABSENT), _join(path, key))
        return found
    if isinstance(before, list) and isinstance(after, list):
        key = _item_key(before) if before else _item_key(after)
        if key and (not after or _item_key(after) == key):
            old = {item[key]: item for item in before}
            new = {item[key]: item for item in after}
            found = []
            for name in sorted(set(old) | set(new)):
                found += compare(old.get(name, ABSENT), new.get(name, ABSENT), f"{path}[{name}]")
            return found
        found = []
        for index in range(max(len(before), len(after))):
            found += compare(
                before[index] if index < len(before) else ABSENT,
                after[index] if index < len(after) else ABSENT,
                f"{path}[{index}]",
            )
        return found
    return [(path, before, after)]


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any
    replaces: bool = False


@dataclass(frozen=True)
class ResourceDiff:
    kind: str
    """add, remove, update, replace or move."""
    type: str
    name: str
    urn: str
    changes: tuple[Change, ...] = ()
    moved_from: str | None = None


@dataclass
class StackDiff:
    stack: str
    status: str
    """unchanged, changed, added (a new stack file) or removed."""
    resources: list[ResourceDiff] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)

    def count(self, *kinds: str) -> int:
        return sum(1 for r in self.resources if r.kind in kinds)

    @property
    def summary(self) -> str:
        if self.status == "unchanged":
            return "no changes"
        parts = [
            f"{self.count(kind)} to {verb}"
            for kind, verb in (
                ("add", "add"),
                ("update", "update"),
                ("replace", "replace"),
                ("move", "move"),
                ("remove", "remove"),
            )
            if self.count(kind)
        ]
        if self.outputs:
            parts.append(f"{len(self.outputs)} output change{'s' * (len(self.outputs) != 1)}")
        prefix = {"added": "new stack: ", "removed": "stack removed: "}.get(self.status, "")
        return prefix + (", ".join(parts) or "no resource changes")


def _changes(
    resource_type: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Change]:
    changes = [
        Change(path, old, new, forces_replacement(resource_type, path))
        for path, old, new in compare(before.get("inputs") or {}, after.get("inputs") or {})
    ]
    for option in ("protect", "retain_on_delete", "ignore_changes", "read"):
        if before.get(option) != after.get(option):
            changes.append(Change(f"(option) {option}", before.get(option), after.get(option)))
    return changes


def diff_plans(
    stack: str, base: Mapping[str, Any] | None, head: Mapping[str, Any] | None
) -> StackDiff:
    """What changes from `base` to `head` (plan documents of one stack; None: no such stack)."""
    old = {r["urn"]: r for r in (base or {}).get("resources", [])}
    new = {r["urn"]: r for r in (head or {}).get("resources", [])}
    found: list[ResourceDiff] = []
    removed = [old[u] for u in sorted(set(old) - set(new))]
    added = [new[u] for u in sorted(set(new) - set(old))]
    # The same type and logical name under another URN: renamed parent or moved component.
    moved_pairs = {}
    for gone in removed:
        match = [a for a in added if (a["type"], a["name"]) == (gone["type"], gone["name"])]
        if len(match) == 1:
            moved_pairs[match[0]["urn"]] = gone
    for entry in added:
        if entry["urn"] in moved_pairs:
            gone = moved_pairs[entry["urn"]]
            found.append(
                ResourceDiff(
                    "move",
                    entry["type"],
                    entry["name"],
                    entry["urn"],
                    tuple(_changes(entry["type"], gone, entry)),
                    moved_from=gone["urn"],
                )
            )
        else:
            found.append(ResourceDiff("add", entry["type"], entry["name"], entry["urn"]))
    moved_from = {g["urn"] for g in moved_pairs.values()}
    for entry in removed:
        if entry["urn"] not in moved_from:
            found.append(ResourceDiff("remove", entry["type"], entry["name"], entry["urn"]))
    for urn in sorted(set(old) & set(new)):
        changes = _changes(new[urn]["type"], old[urn], new[urn])
        if changes:
            kind = "replace" if any(c.replaces for c in changes) else "update"
            found.append(
                ResourceDiff(kind, new[urn]["type"], new[urn]["name"], urn, tuple(changes))
            )
    found.sort(key=lambda r: (r.urn, r.kind))
    outputs = [
        Change(path, old, new)
        for path, old, new in compare(
            (base or {}).get("outputs") or {}, (head or {}).get("outputs") or {}
        )
    ]
    if base is None:
        status = "added"
    elif head is None:
        status = "removed"
    else:
        status = "changed" if found or outputs else "unchanged"
    return StackDiff(stack, status, found, outputs)


def diff_all(
    base: Mapping[str, Mapping[str, Any]],
    head: Mapping[str, Mapping[str, Any]],
    stacks: Iterable[str] | None = None,
) -> list[StackDiff]:
    names = sorted(set(base) | set(head)) if stacks is None else sorted(stacks)
    return [diff_plans(name, base.get(name), head.get(name)) for name in names]


# Rendering -------------------------------------------------------------------------------------

MARKERS = {"add": "+", "remove": "-", "update": "~", "replace": "+-", "move": ">"}


def _value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 240 else text[:237] + "..."


def resource_lines(diff: StackDiff) -> list[str]:
    """One line per resource (`+ type name`), then its changed inputs indented below it."""
    lines: list[str] = []
    for r in diff.resources:
        note = "  (replaced: the old one is deleted)" if r.kind == "replace" else ""
        if r.kind == "move":
            note = "  (URN changed: replaced unless an alias names the old URN)"
        lines.append(f"{MARKERS[r.kind]} {r.type}  {r.name}{note}")
        if r.moved_from:
            lines.append(f"    from {r.moved_from}")
        for change in r.changes:
            forced = "  (forces replacement)" if change.replaces else ""
            lines.append(
                f"    {change.path}: {_value(change.before)} -> {_value(change.after)}{forced}"
            )
    for change in diff.outputs:
        lines.append(f"~ output {change.path}: {_value(change.before)} -> {_value(change.after)}")
    return lines


def render_text(ref: str, diffs: list[StackDiff]) -> str:
    lines = [f"Offline plan diff: {ref} -> working tree"]
    for diff in diffs:
        lines.append(f"Stack {diff.stack}: {diff.summary}")
        lines += [f"  {line}" for line in resource_lines(diff)]
    return "\n".join(lines) + "\n"


def render_markdown(ref: str, diffs: list[StackDiff]) -> str:
    """For a pull request comment: a summary table, then one collapsed section per changed stack;
    a single line when nothing changed."""
    title = f"### Offline plan diff against `{ref}`"
    changed = [d for d in diffs if d.status != "unchanged"]
    if not changed:
        names = ", ".join(d.stack for d in diffs)
        return f"{title}\n\nNo changes in any stack ({names}).\n"
    lines = [
        title,
        "",
        "Evaluated offline under Pulumi's mocks (no state, no cloud): what the program declares, "
        "not drift.",
        "",
        "| stack | add | update | replace | move | remove |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for d in diffs:
        counts = [d.count(k) for k in ("add", "update", "replace", "move", "remove")]
        lines.append(f"| {d.stack} | " + " | ".join(str(c) for c in counts) + " |")
    for d in changed:
        body = "\n".join(resource_lines(d))
        if len(body) > 60000:
            body = body[:60000] + "\n... (cut: run `cicd diff` for the whole diff)"
        lines += [
            "",
            f"<details><summary><b>{d.stack}</b>: {d.summary}</summary>",
            "",
            "```diff",
            body,
            "```",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def as_json(ref: str, diffs: list[StackDiff]) -> dict[str, Any]:
    def change(c: Change) -> dict[str, Any]:
        return {
            "path": c.path,
            "before": None if c.before is ABSENT else c.before,
            "after": None if c.after is ABSENT else c.after,
            "replaces": c.replaces,
        }

    return {
        "base": ref,
        "stacks": [
            {
                "stack": d.stack,
                "status": d.status,
                "summary": d.summary,
                "resources": [
                    {
                        "kind": r.kind,
                        "type": r.type,
                        "name": r.name,
                        "urn": r.urn,
                        "moved_from": r.moved_from,
                        "changes": [change(c) for c in r.changes],
                    }
                    for r in d.resources
                ],
                "outputs": [change(c) for c in d.outputs],
            }
            for d in diffs
        ],
    }


def run_diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`cicd diff --base REF [--stack S] [--format text|markdown|json] [--exit-code]`."""
    if args.root is not None:
        root = Path(args.root)
    else:
        from stack.offline import ROOT

        root = ROOT
    base = plan_ref(args.base, root)
    head = plan_checkout(root)
    wanted = args.stack or None
    if wanted:
        unknown = sorted(set(wanted) - set(base) - set(head))
        if unknown:
            raise UsageError(f"no stack {', '.join(unknown)} at {args.base} or in the working tree")
    diffs = diff_all(base, head, wanted)
    if args.format == "markdown":
        out.write(render_markdown(args.base, diffs))
    elif args.format == "json":
        out.write(json.dumps(as_json(args.base, diffs), indent=2, sort_keys=True) + "\n")
    else:
        out.write(render_text(args.base, diffs))
    out.flush()
    changed = any(d.status != "unchanged" for d in diffs)
    return 1 if args.exit_code and changed else 0
