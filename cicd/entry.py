"""The console script and `python -m cicd`: Ctrl-C at any moment is one line and exit 130.

This module imports only the standard library's `sys` and `cicd.errors` (standard library
only), so the interpreter reaches the `try` below within milliseconds; importing the command
line (and boto3 with it) happens inside it. A Ctrl-C while boto3 loads, while a request waits
for AWS, or while output is written then prints one line instead of a traceback. A closed pipe
(`cicd releases | head -1`) ends quietly.
"""

from __future__ import annotations

import sys

from cicd.errors import INTERRUPTED_MESSAGE, ExitCode


def run() -> int:
    """Run `cicd` with sys.argv; returns the exit code (the console script exits with it)."""
    try:
        from cicd.cli.main import main

        return main()
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED_MESSAGE)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): nothing more to say to it. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
