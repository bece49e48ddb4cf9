"""AWS's answers turned into the CLI's errors: access denied, credentials, throttling, proxies.

`from_client_error` and `from_boto_error` map what botocore raises to a `CicdError` whose
message names the fix (the IAM action missing, the profile to log in with). `is_access_denied`
and `unknown_for_lack_of` serve the reads that show what they can (`cicd.aws.partial`).
"""

from __future__ import annotations

import re

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

from cicd.aws.permissions import iam_action
from cicd.errors import AwsError, CicdError, NotFound, Refused

_ACCESS_DENIED = {
    "AccessDenied",
    "AllAccessDisabled",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    # SNS's word for it.
    "AuthorizationError",
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
