"""How a service is built and tested: CodeBuild settings, build variables, test suites.

Defines `BuildSettings`, `TestSuite` and `EnvVar`, and `looks_secret`, the rule that refuses a
plaintext variable whose name looks like a credential.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from stack.config.base import NAME_PATTERN, SECRET_NAME_PARTS, ComputeType, _Model


class EnvVar(_Model):
    """One build variable: exactly one of `value` (plaintext), `parameter` or `secret`."""

    value: str | None = None
    parameter: str | None = Field(
        default=None,
        pattern=r"^/?[A-Za-z0-9_.\-/]+$",
        description="SSM Parameter Store name, e.g. /web/prod/api-url",
    )
    secret: str | None = Field(
        default=None,
        description="Secrets Manager secret ARN or name, optionally ':json-key' after it",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("value", "parameter", "secret") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of value, parameter, secret (got {given or 'none'})"
            )
        return self


def _coerce_env(raw: Any) -> Any:
    # `NAME: text` is shorthand for `NAME: {value: text}`, the common plaintext case.
    if isinstance(raw, Mapping):
        return {
            k: ({"value": v} if isinstance(v, str | int | float | bool) else v)
            for k, v in raw.items()
        }
    return raw


def looks_secret(name: str) -> bool:
    """True when a variable name suggests a credential (API_TOKEN, DB_PASSWORD, SIGNING_KEY...)."""
    parts = re.split(r"[_\-]", name.upper())
    # Exact parts catch API_KEY without flagging MONKEY; suffixes catch APITOKEN or DBPASSWORD.
    return any(
        part in SECRET_NAME_PARTS or part.endswith(("TOKEN", "SECRET", "PASSWORD", "CREDENTIALS"))
        for part in parts
    )


class BuildSettings(_Model):
    """A CodeBuild project. Every key is optional; the defaults describe a small Linux build."""

    buildspec: str = "buildspec.yml"
    compute_type: ComputeType = "BUILD_GENERAL1_SMALL"
    image: str = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    environment: dict[str, EnvVar] = Field(default_factory=dict)
    cache: Literal["none", "local", "s3"] = "local"
    timeout_minutes: int = Field(default=30, ge=5, le=2160)
    privileged: bool = False

    @field_validator("environment", mode="before")
    @classmethod
    def _shorthand(cls, raw: Any) -> Any:
        return _coerce_env(raw)

    @field_validator("environment")
    @classmethod
    def _names(cls, env: dict[str, EnvVar]) -> dict[str, EnvVar]:
        # Plaintext secrets are found on the raw config (see `_plaintext_secrets`), so they are
        # reported even when another variable in the same map is invalid.
        problems = []
        for name in env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                problems.append(f"{name!r} is not a valid variable name")
            elif name.startswith("CODEBUILD_"):
                problems.append(f"{name!r} uses the CODEBUILD_ prefix, which AWS reserves")
        if problems:
            raise ValueError("; ".join(problems))
        return env


class TestSuite(BuildSettings):
    """A test suite: its own CodeBuild project, one parallel action in the Test stage."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    buildspec: str = ""  # resolved to buildspec-<name>.yml below
    timeout_minutes: int = Field(default=60, ge=5, le=2160)

    @model_validator(mode="after")
    def _default_buildspec(self) -> Self:
        if not self.buildspec:
            object.__setattr__(self, "buildspec", f"buildspec-{self.name}.yml")
        return self
