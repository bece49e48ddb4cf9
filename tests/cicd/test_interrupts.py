"""Ctrl-C at any moment is one line and exit 130: real SIGINTs sent to a real `cicd` process.

One test interrupts while `cicd.cli` (and boto3) is being imported, the way the console script
starts; the other while a request waits for an answer from a server that never answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cicd.errors import INTERRUPTED_MESSAGE

ROOT = Path(__file__).resolve().parents[2]

_INTERRUPT_DURING_IMPORT = """
import os, signal, sys

class InterruptBotocoreImport:
    def find_spec(self, name, path=None, target=None):
        if name == "botocore":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptBotocoreImport())
sys.argv = ["cicd", "--version"]
from cicd.entry import run  # what the generated console script does
sys.exit(run())
"""


def _environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return environment


def _as_from_a_terminal() -> None:
    """Give the child Ctrl-C's default disposition, as a terminal's shell does.

    A shell without job control (a script, `sh -c`) starts `&` jobs with SIGINT ignored, and
    children inherit that (POSIX Shell Command Language, 2.11 Signals and Error Handling); Python
    then installs no KeyboardInterrupt handler, so these tests failed whenever pytest itself ran
    as such a job (a mutation run started in the background did).
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_boto3_is_imported_is_one_line_and_exit_130() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_DURING_IMPORT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(),
        timeout=60,
        preexec_fn=_as_from_a_terminal,
    )

    assert (result.returncode, result.stderr) == (130, INTERRUPTED_MESSAGE)


@pytest.fixture
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """A TCP server that accepts connections and never answers; the event marks the first."""
    server = socket.create_server(("127.0.0.1", 0))
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            connected.set()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], connected
    server.close()
    for connection in held:
        connection.close()


def test_ctrl_c_while_a_request_waits_for_aws_is_one_line_and_exit_130(
    silent_server: tuple[int, threading.Event],
) -> None:
    port, connected = silent_server
    process = subprocess.Popen(
        [sys.executable, "-m", "cicd", "releases", "--pipeline", "web-dev-pipeline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_environment(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"),
        preexec_fn=_as_from_a_terminal,
    )
    try:
        assert connected.wait(timeout=60), "cicd never sent its request"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert (process.returncode, err, out) == (130, INTERRUPTED_MESSAGE, "")
