"""Runtime config in SSM Parameter Store: read the parameters under a path, write new versions.

`read_config` pages through `GetParametersByPath` (one level, decrypted: a tombstone written to
a SecureString is only recognisable decrypted) and keeps each value's SHA-256; the value itself
only for plain `String`s, so a secret never leaves this module unless `read_parameter` is asked
to reveal it (`cicd config get --reveal`). `key_of` reads the KMS key a SecureString's newest
version is encrypted with (`GetParameterHistory`, which `unset` needs to keep it); `write` makes
one `PutParameter` per change; `caller` is who runs cicd (`sts:GetCallerIdentity`, which needs
no permission). Deciding what to write is `cicd.decide.config`.

KMS is called by Parameter Store with the caller's own permissions: a refusal from KMS arrives
as an access-denied answer of the SSM operation, which `_kms_denied` words as the KMS action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.aws.errors import is_access_denied
from cicd.contract import UNSET_VALUE
from cicd.errors import AwsError, CicdError
from cicd.model.config import ConfigSet, ConfigValue, ConfigWrite, Written, digest

# GetParametersByPath returns at most 10 a page ("between zero and MaxResults": page on).
PAGE_SIZE = 10
# GetParameterHistory: at most 50 a page; Parameter Store keeps 100 versions, so 2 pages.
HISTORY_PAGE = 50

T = TypeVar("T")


def _kms_denied(error: ClientError, action: str, where: str) -> CicdError | None:
    """An access-denied (or KMS) answer that names KMS: the parameter's key refused `action`."""
    said = str(error.response.get("Error", {}).get("Message", ""))
    code = str(error.response.get("Error", {}).get("Code", ""))
    about_kms = "kms" in said.lower() or code.startswith("KMS")
    if not about_kms or not (is_access_denied(error) or code.startswith("KMS")):
        return None
    return AwsError(
        f"KMS refused {action} for {where} ({code}: {said[:160]})",
        f"SecureString parameters need {action} on their key: ask an administrator for it in "
        "the key policy and your IAM policy (docs/cicd.md, 'IAM permissions')",
    )


def _calling(action: str, where: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ClientError as error:
        worded = _kms_denied(error, action, where)
        if worded is not None:
            raise worded from error
        raise


def _value(parameter: dict[str, Any], prefix: str, *, reveal: bool) -> ConfigValue:
    name = str(parameter["Name"])
    value = str(parameter.get("Value", ""))
    kind = str(parameter.get("Type", "String"))
    return ConfigValue(
        key=name[len(prefix) :] if name.startswith(prefix) else name,
        parameter=name,
        type=kind,
        version=int(parameter.get("Version", 0)),
        digest=digest(value),
        value=value if reveal or kind != "SecureString" else None,
        modified=parameter.get("LastModifiedDate"),
        unset=value == UNSET_VALUE,
    )


def read_config(ssm: BaseClient, path: str) -> ConfigSet:
    """Every parameter one level under `path` (tombstones included, marked `unset`)."""
    prefix = path.rstrip("/") + "/"
    found: list[ConfigValue] = []
    request: dict[str, Any] = {
        "Path": path,
        "Recursive": False,
        "WithDecryption": True,
        "MaxResults": PAGE_SIZE,
    }
    while True:
        page = _calling("kms:Decrypt", path, lambda: ssm.get_parameters_by_path(**request))
        found += [_value(p, prefix, reveal=False) for p in page.get("Parameters", [])]
        if not page.get("NextToken"):
            return ConfigSet(path, tuple(sorted(found, key=lambda v: v.key)))
        request["NextToken"] = page["NextToken"]


def read_parameter(ssm: BaseClient, path: str, key: str, *, reveal: bool) -> ConfigValue | None:
    """One parameter (None when it does not exist); its value kept only with `reveal` or when
    it is not a SecureString."""
    name = f"{path}/{key}"
    try:
        response = _calling(
            "kms:Decrypt", name, lambda: ssm.get_parameter(Name=name, WithDecryption=True)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
    return _value(response["Parameter"], path.rstrip("/") + "/", reveal=reveal)


def key_of(ssm: BaseClient, parameter: str) -> str | None:
    """The KMS key id the newest version of `parameter` is encrypted with (None: not known)."""
    request: dict[str, Any] = {
        "Name": parameter,
        "WithDecryption": False,
        "MaxResults": HISTORY_PAGE,
    }
    newest: dict[str, Any] | None = None
    while True:
        page = ssm.get_parameter_history(**request)
        for version in page.get("Parameters", []):
            if newest is None or int(version.get("Version", 0)) > int(newest.get("Version", 0)):
                newest = version
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    return str(newest["KeyId"]) if newest and newest.get("KeyId") else None


class PartlyWritten(CicdError):
    """Some writes of a change were made before one failed: the message says which."""


def write(ssm: BaseClient, writes: Sequence[ConfigWrite]) -> list[Written]:
    """One PutParameter (Overwrite) per change, in order; the versions they made.

    When one fails after others succeeded, PartlyWritten says which were written, so nobody
    has to guess what the account now holds; the AWS error is its cause.
    """
    done: list[Written] = []
    for change in writes:
        request: dict[str, Any] = {
            "Name": change.parameter,
            "Value": change.value,
            "Type": change.type,
            "Overwrite": True,
        }
        if change.key_id:
            request["KeyId"] = change.key_id
        try:
            response = _calling(
                "kms:Encrypt", change.parameter, lambda r=request: ssm.put_parameter(**r)
            )
        except (ClientError, CicdError) as error:
            if not done:
                raise
            names = ", ".join(f"{w.key} (version {w.version})" for w in done)
            reason = error.message if isinstance(error, CicdError) else str(error)
            raise PartlyWritten(
                f"wrote {names}, then writing {change.key} failed: {reason}; no release was "
                "started",
                "fix the cause and run the same command again (keys already written are "
                "skipped as unchanged)",
            ) from error
        done.append(Written(change.key, change.parameter, change.type, int(response["Version"])))
    return done


def caller(sts: BaseClient) -> str:
    """The ARN of whoever runs cicd (GetCallerIdentity needs no permission)."""
    return str(sts.get_caller_identity()["Arn"])
