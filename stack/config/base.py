"""Building blocks every config model shares: the frozen model base, name patterns, enums.

Defines `_Model` (unknown keys are errors, values are frozen), `Problems` (several problems from
one validator, each at its own key path) and the patterns and literals several concerns use.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,20}[a-z0-9]$"
REPOSITORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
ACCOUNT_PATTERN = r"^\d{12}$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$"
# A Parameter Store hierarchy (PutParameter's Name rules): letters, digits, `_.-` between
# slashes, no trailing slash; at most 14 levels so that a parameter (one more) fits in 15.
CONFIG_PATH_PATTERN = r"^(/[A-Za-z0-9_.-]+){1,14}$"
# Names that must never hold a plaintext value; matched against `_`-separated name parts.
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE")

ServerStrategy = Literal[
    "CodeDeployDefault.AllAtOnce", "CodeDeployDefault.HalfAtATime", "CodeDeployDefault.OneAtATime"
]
LambdaStrategy = Literal[
    "CodeDeployDefault.LambdaAllAtOnce",
    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
]
ComputeType = Literal[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]
ExecutionMode = Literal["QUEUED", "SUPERSEDED", "PARALLEL"]


class _Model(BaseModel):
    # Unknown keys are errors: a typo must never silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Loc = tuple[str | int, ...]
"""A key path below some model, e.g. ("services", 0, "deploy", "strategy")."""

SET = "pulumi config set --path '{key}' <value>"
REMOVE = "pulumi config rm --path '{key}'"


class Finding(NamedTuple):
    """One problem: where (below the validated model), why, and the command that fixes it.

    `fix` is a template: `{key}` becomes `<namespace>:<path>` and `{namespace}` the project's
    config namespace. Omitted: set the key (`SET`).
    """

    loc: Loc
    why: str
    fix: str = SET


class Problems(ValueError):
    """Several problems found by one validator, each with its key path below the model."""

    def __init__(self, items: list[Finding]) -> None:
        super().__init__("; ".join(item.why for item in items))
        self.items = items


def _unique_names(what: str, names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{what} names must be unique; repeated: {duplicates}")


def _no_duplicates(items: list[str]) -> list[str]:
    duplicates = sorted({i for i in items if items.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate entries {duplicates}; each must appear once")
    return items
