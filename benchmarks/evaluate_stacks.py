"""Print how long it takes to validate and evaluate each stack offline (Pulumi mocks).

A benchmark, not a test: it prints figures and asserts nothing. Budgets worth watching: a stack
should evaluate in well under 5 s on the 2-core CI machine, because `make test` runs every stack
several times and `pulumi preview` in CI pays the same program cost per stack.

Usage: .venv/bin/python benchmarks/evaluate_stacks.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

started = time.perf_counter()
import pulumi_aws  # noqa: E402, F401  (measured: the provider SDK dominates import time)

IMPORT_SECONDS = time.perf_counter() - started

from stack.config import parse_settings  # noqa: E402
from tests.harness import (  # noqa: E402
    PROJECT,
    flatten_stack_config,
    iter_stacks,
    qualified_stack,
    run_program,
    run_stacks,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time stack validation and evaluation.")
    parser.add_argument("--repeat", type=int, default=5, help="runs per stack (default 5)")
    repeat = parser.parse_args().repeat

    print(f"import pulumi_aws: {IMPORT_SECONDS * 1000:.0f} ms")
    header = ("stack", "resources", "validate ms", "evaluate ms (median)", "ms/resource")
    print(f"{header[0]:<8} {header[1]:>9} {header[2]:>12} {header[3]:>21} {header[4]:>12}")
    # A stage that promotes reads its upstream's exports: run them all once, upstream first.
    exports = {
        qualified_stack(s): run.exports for s, run in run_stacks(dict(iter_stacks())).items()
    }
    for stack, path in iter_stacks():
        flat, secrets = flatten_stack_config(path)
        raw = {
            k.split(":", 1)[1]: json.loads(v)
            for k, v in flat.items()
            if k.startswith(f"{PROJECT}:") and k not in secrets
        }
        t0 = time.perf_counter()
        for _ in range(repeat):
            parse_settings(PROJECT, stack, raw, github_token="secret")
        validate_ms = (time.perf_counter() - t0) * 1000 / repeat
        timings = []
        count = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            run = run_program(stack, flat, secrets, exports)
            timings.append((time.perf_counter() - t0) * 1000)
            count = len(run.recorder.resources)
        median = statistics.median(timings)
        print(f"{stack:<8} {count:>9} {validate_ms:>12.2f} {median:>21.0f} {median / count:>12.2f}")


if __name__ == "__main__":
    main()
