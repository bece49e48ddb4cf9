"""`cicd.entry.run`, the console script: a reader that goes away (`cicd releases | head -1`)
ends the command quietly with exit 0, in a real process whose stdout is a closed pipe.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PIPE_CLOSED = """
import sys
import cicd.cli.main

def main():
    raise BrokenPipeError(32, "Broken pipe")

cicd.cli.main.main = main
from cicd.entry import run
sys.exit(run())
"""


def test_a_closed_pipe_ends_cicd_with_exit_0_and_nothing_on_stderr() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PIPE_CLOSED], capture_output=True, text=True, cwd=ROOT, timeout=60
    )

    assert (result.returncode, result.stderr) == (0, "")
