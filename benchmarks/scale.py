"""How the program scales with services: evaluate the prod stack under mocks for N services.

A benchmark, not a test: it prints figures and asserts nothing. For each N it starts a fresh
Python process (so peak memory and import costs are that run's own), evaluates the real
`__main__.py` with the prod stack file's services cloned N times (web-1, thumbnailer-1, ...;
half of each platform), and reports wall and CPU time, peak memory (max RSS), resources
registered, provider function calls, and the CPU each added service costs. Prod's stack
reference to staging is answered with staging's real exports, as in the tests; they are
computed once in a process of their own, because a real `pulumi preview` of prod reads them
from staging's state and never evaluates staging in the same process.

Each size runs twice: `sdk as-is` (the Pulumi SDK's own functions, with only the collector's
thresholds raised, as before issue 19) and `tuned` (what `__main__.py` does: `stack.sdk.tune`).

Targets (issue 19): at 200 services under 400 MiB peak and at most 100 ms of CPU per added
service; at most one call per provider function per stack (issue 11).

Usage: .venv/bin/python benchmarks/scale.py [--sizes 1,10,50,100,200] [--stack prod]
                                            [--modes as-is,tuned] [--repeat 3]

Each figure is the median of `--repeat` runs (default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _upstream_exports(stack: str) -> dict[str, object]:
    """Run in a fresh interpreter: every other stack's exports, keyed by qualified name."""
    sys.path.insert(0, str(ROOT))
    from tests.harness import STACK_FILES, qualified_stack, run_stacks, stack_name

    stacks = {stack_name(p): p for p in STACK_FILES}
    return {
        qualified_stack(s): r.exports
        for s, r in run_stacks({s: p for s, p in stacks.items() if s != stack}).items()
    }


def _child(stack: str, count: int, upstream: dict[str, Any], mode: str) -> dict[str, object]:
    """Run in a fresh interpreter: evaluate `stack` with `count` services, return figures."""
    import gc
    import resource
    import time

    sys.path.insert(0, str(ROOT))
    started_cpu, started = time.process_time(), time.perf_counter()
    if mode == "as-is":
        import importlib

        sdk = importlib.import_module("stack.sdk")  # `stack` here is the stack's name

        def thresholds_only() -> dict[str, bool]:
            gc.set_threshold(10_000, 50, 100)
            return {}

        # __main__.py imports `tune` from the module: this is what it gets.
        sdk.tune = thresholds_only  # pyright: ignore[reportAttributeAccessIssue]
    from tests.harness import (
        PROJECT,
        STACK_FILES,
        flatten_stack_config,
        run_program,
        stack_name,
    )

    stacks = {stack_name(p): p for p in STACK_FILES}
    flat, secrets = flatten_stack_config(stacks[stack])
    samples = json.loads(flat[f"{PROJECT}:services"])
    services = []
    for n in range(count):
        sample = dict(samples[n % len(samples)])
        sample["name"] = f"{sample['name'][:14]}-{n // len(samples) + 1}"
        if "runtime_config" in sample:
            # Each service its own configuration path (the config refuses shared ones).
            sample["runtime_config"] = {
                **sample["runtime_config"],
                "path": f"/{sample['name']}/{stack}",
            }
        services.append(sample)
    flat[f"{PROJECT}:services"] = json.dumps(services)
    # Clone the deploy targets' names too: default alarms and groups are named after them.
    import_done_cpu, import_done = time.process_time(), time.perf_counter()
    run = run_program(stack, flat, secrets, upstream)
    end_cpu, end = time.process_time(), time.perf_counter()
    calls: dict[str, int] = {}
    for token, _ in run.recorder.calls:
        calls[token] = calls.get(token, 0) + 1
    return {
        "mode": mode,
        "services": count,
        "wall_s": end - import_done,
        "cpu_s": end_cpu - import_done_cpu,
        "setup_s": import_done - started,
        "setup_cpu_s": import_done_cpu - started_cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "resources": len(run.recorder.resources),
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the prod stack with N services.")
    parser.add_argument("--sizes", default="1,10,50,100,200", help="service counts")
    parser.add_argument("--stack", default="prod", help="the stack file to clone (default prod)")
    parser.add_argument("--modes", default="as-is,tuned", help="as-is, tuned, or both")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="tuned", help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--exports", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.exports:
        print(json.dumps(_upstream_exports(args.stack)))
        return
    if args.child is not None:
        upstream = json.loads(Path(args.upstream).read_text())
        print(json.dumps(_child(args.stack, args.child, upstream, args.mode)))
        return

    def child(*extra: str) -> str:
        out = subprocess.run(
            [sys.executable, __file__, "--stack", args.stack, *extra],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        return out.stdout.strip().splitlines()[-1]

    rows: list[dict[str, Any]] = []
    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        upstream = Path(scratch) / "upstream.json"
        upstream.write_text(child("--exports"))
        for size in (int(s) for s in args.sizes.split(",")):
            for mode in modes:
                # Interleaved repeats, the median of each figure: this machine's CPU times vary
                # by a fifth from one run to the next.
                runs = [
                    json.loads(
                        child("--child", str(size), "--upstream", str(upstream), "--mode", mode)
                    )
                    for _ in range(args.repeat)
                ]
                median = {
                    key: statistics.median(float(r[key]) for r in runs)
                    for key in ("wall_s", "cpu_s", "peak_mib")
                }
                rows.append({**runs[0], **median})
    print(
        f"{'sdk':>6} {'services':>8} {'resources':>9} {'wall s':>8} {'cpu s':>7} "
        f"{'peak MiB':>9} {'ms/resource':>11} {'cpu ms/added service':>21} "
        f"{'max calls/function':>19}"
    )
    for mode in modes:
        runs = [r for r in rows if r["mode"] == mode]
        first = runs[0]
        for row in runs:
            services = int(row["services"])
            added = services - int(first["services"])
            per_service = (
                1000 * (float(row["cpu_s"]) - float(first["cpu_s"])) / added
                if added
                else float("nan")
            )
            calls: dict[str, int] = row["calls"]
            print(
                f"{mode:>6} {services:>8} {row['resources']:>9} {row['wall_s']:>8.2f} "
                f"{row['cpu_s']:>7.2f} {row['peak_mib']:>9.0f} "
                f"{1000 * float(row['cpu_s']) / int(row['resources']):>11.2f} "
                f"{per_service:>21.0f} {max(calls.values()) if calls else 0:>19}"
            )
    print()
    for mode in modes:
        runs = [r for r in rows if r["mode"] == mode]
        first, last = runs[0], runs[-1]
        print(
            f"{mode}: {last['services']} services: {float(last['peak_mib']):.0f} MiB peak, "
            f"{float(last['cpu_s']) / float(first['cpu_s']):.1f}x the CPU of "
            f"{first['services']}; provider calls {last['calls']}"
        )


if __name__ == "__main__":
    main()
