"""Exit codes and the errors every layer raises; standard library only.

Every failure the CLI expects ends as a `CicdError` carrying a message, an optional hint and an
exit code; `cicd.cli.main` prints it on stderr. Turning AWS's answers into these errors is
`cicd.aws.errors`'s job. This module prints nothing and imports nothing beyond the standard
library, so the console script (`cicd.entry`) can use it before boto3 is loaded.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """The process exit codes; documented in `cicd --help` and the README (Day-2 operations)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    REFUSED = 3
    AWS_ERROR = 4
    NOT_FOUND = 5
    TIMED_OUT = 6
    AWAITS_APPROVAL = 7
    HELD_BY_WINDOW = 8
    INTERNAL = 70
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "the release ran and failed (or was stopped or superseded)",
    ExitCode.USAGE: "bad arguments: unknown option, stage or malformed commit SHA",
    ExitCode.REFUSED: "refused: nothing to do or unsafe (nothing waits or succeeded, commit "
    "mismatch, no confirmation)",
    ExitCode.AWS_ERROR: "AWS error: no credentials or region, access denied, throttling",
    ExitCode.NOT_FOUND: "not found: no pipeline for that service and stage, unknown execution",
    ExitCode.TIMED_OUT: "--wait gave up before the release finished (it keeps running)",
    ExitCode.AWAITS_APPROVAL: "awaiting approval: the followed release waits for a manual "
    "approval (--through-approval keeps following)",
    ExitCode.HELD_BY_WINDOW: "held: the followed release waits for its deployment window to "
    "open (--through-window keeps following)",
    ExitCode.INTERNAL: "internal error: a bug in cicd (CICD_DEBUG=1 shows the traceback)",
    ExitCode.INTERRUPTED: "interrupted with Ctrl-C (a started release keeps running)",
}

INTERRUPTED_MESSAGE = "cicd: interrupted; a release already started keeps running in AWS\n"


class CicdError(Exception):
    """A failure to report to the user: `message` says what happened, `hint` what to do next."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CicdError):
    """The arguments cannot work, whatever the state of AWS."""

    exit_code = ExitCode.USAGE


class Refused(CicdError):
    """The command understood the request and declined it: nothing to do, or unsafe."""

    exit_code = ExitCode.REFUSED


class ManifestError(Refused):
    """A release's manifest is missing or malformed: it cannot be promoted or described."""


class NotFound(CicdError):
    """A pipeline, stage or execution the command needs does not exist."""

    exit_code = ExitCode.NOT_FOUND


class AwsError(CicdError):
    """AWS could not be asked or answered with an error: credentials, permissions, throttling."""

    exit_code = ExitCode.AWS_ERROR


class ReleaseFailed(CicdError):
    """A followed execution ended in any state but Succeeded."""

    exit_code = ExitCode.FAILED


class TimedOut(CicdError):
    """`--wait` stopped following before the execution ended."""

    exit_code = ExitCode.TIMED_OUT


class AwaitsApproval(CicdError):
    """`--wait` reached a manual approval: a person has to answer before the release goes on."""

    exit_code = ExitCode.AWAITS_APPROVAL


class HeldByWindow(CicdError):
    """`--wait` reached a stage held until its deployment window opens."""

    exit_code = ExitCode.HELD_BY_WINDOW
