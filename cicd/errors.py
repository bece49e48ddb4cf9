"""Exit codes, the errors commands raise, and the translation of boto errors into them.

Every failure the CLI expects ends as a `CicdError` carrying a message, an optional hint and an
exit code; `cli.main` prints it on stderr. This module does not print anything itself.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import ClassVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from cicd.permissions import iam_action


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


_ACCESS_DENIED = {
    "AccessDenied",
    "AllAccessDisabled",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
}
_NOT_FOUND = {
    "PipelineNotFoundException",
    "PipelineExecutionNotFoundException",
    "StageNotFoundException",
    "ActionNotFoundException",
    "ResourceNotFoundException",
    "ApplicationDoesNotExistException",
    "DeploymentGroupDoesNotExistException",
    "DeploymentDoesNotExistException",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchVersion",
}
_REFUSED_BY_AWS = {
    "ApprovalAlreadyCompletedException",
    "InvalidApprovalTokenException",
    "UnableToRollbackStageException",
    "PipelineExecutionOutdatedException",
    "ConflictException",
    "ConcurrentPipelineExecutionsLimitExceededException",
}

_PERMISSIONS_DOC = "docs/cicd.md, section 'IAM permissions'"


def is_access_denied(error: ClientError) -> bool:
    """True when AWS refused the call for lack of permission."""
    return error.response.get("Error", {}).get("Code") in _ACCESS_DENIED


def unknown_for_lack_of(error: ClientError) -> str:
    """`unknown (needs codepipeline:GetPipelineState)`: what a listing shows in place of data."""
    return f"unknown (needs {iam_action(error.operation_name)})"


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_MESSAGE_WIDTH = 200


def one_line(text: str, width: int = _MESSAGE_WIDTH) -> str:
    """`text` as one line: an HTML page reduced to its title (or its text), whitespace collapsed,
    cut to `width` characters."""
    title = _TITLE.search(text)
    if title:
        text = title.group(1)
    elif _TAG.search(text):
        text = _TAG.sub(" ", text)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _not_from_aws(error: ClientError, code: str, raw: str) -> CicdError | None:
    """An answer that is not an AWS error document: a proxy, firewall or captive portal page.

    botocore then has no error code, only the HTTP status (as the code) and the body or the
    status's reason phrase (as the message).
    """
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if not (code.isdigit() or _TAG.search(raw)):
        return None
    return AwsError(
        f"{error.operation_name} got HTTP {status or code} without an AWS error in the answer: "
        f"{one_line(raw) or 'empty body'}",
        "something between you and AWS answered (a proxy, firewall or VPN?); check "
        "HTTPS_PROXY, the network and --region",
    )


def from_client_error(error: ClientError, *, max_attempts: int) -> CicdError:
    """Turn an AWS error response into a one-line message that names the fix."""
    code = str(error.response.get("Error", {}).get("Code", "Unknown"))
    raw = str(error.response.get("Error", {}).get("Message", "") or error)
    aws_message = one_line(raw)
    operation = error.operation_name
    foreign = _not_from_aws(error, code, raw)
    if foreign is not None:
        return foreign
    if code in _ACCESS_DENIED:
        return AwsError(
            f"access denied: your AWS identity lacks {iam_action(operation)} "
            f"(AWS said: {aws_message})",
            f"ask an administrator to grant it; every permission cicd needs is listed in "
            f"{_PERMISSIONS_DOC}",
        )
    if code in _BAD_CREDENTIALS:
        return AwsError(
            f"AWS rejected the credentials ({code}: {aws_message})",
            "refresh them (for SSO: `aws sso login --profile NAME`) or pick another --profile",
        )
    if code in _THROTTLED:
        return AwsError(
            f"AWS is throttling {operation}: still refused after {max_attempts} attempts "
            "with backoff",
            "wait a minute and run the command again; other tools may share the API quota",
        )
    if code in _NOT_FOUND:
        return NotFound(f"{aws_message} ({code} during {operation})")
    if code in _REFUSED_BY_AWS:
        return Refused(f"AWS refused {operation}: {aws_message} ({code})")
    return AwsError(f"AWS error during {operation}: {code}: {aws_message}")


def from_boto_error(error: BotoCoreError) -> CicdError:
    """Turn a local botocore failure (no credentials, no region, no network) into a message."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return AwsError(
            "no AWS credentials found",
            "pass --profile NAME, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (for SSO: `aws sso login --profile NAME` first)",
        )
    if isinstance(error, NoRegionError):
        return AwsError(
            "no AWS region configured",
            "pass --region REGION, set AWS_REGION (or AWS_DEFAULT_REGION), or give the profile "
            "a region",
        )
    if isinstance(error, ProfileNotFound):
        return AwsError(
            f"{error}",
            "list the profiles you have with `aws configure list-profiles`",
        )
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return AwsError(
            f"cannot reach AWS: {error}", "check the network, proxy settings and --region"
        )
    return AwsError(f"AWS client error: {error}")
