"""Config problems as people read them: key path, value received, why, and the fix.

Defines `ConfigError` and the formatting of pydantic's errors into those lines. Nothing here
reads config.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel

from stack.config.base import Problems


class ConfigError(pulumi.RunError):
    """Invalid stack config. A `RunError`, so Pulumi prints the message without a traceback."""


def path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problem(namespace: str, loc: tuple[Any, ...], received: Any, why: str, fix: str) -> str:
    shown = json.dumps(received, default=str) if received is not MISSING else "(not set)"
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"  - {namespace}:{path(loc)}: {why}\n      received: {shown}\n      fix: {fix}"


MISSING = object()
"""Marks a key that is absent from the raw config (None is a value)."""


def describe_all(namespace: str, err: Any, root: type[BaseModel]) -> list[str]:
    """One line per problem; a `Problems` error expands into its items, each at its own path.

    `root` is the model validated, so an unknown key's message can list the keys allowed there.
    """
    error = (err.get("ctx") or {}).get("error")
    if not isinstance(error, Problems):
        return [_describe(namespace, err, root)]
    lines = []
    for finding in error.items:
        received = dig(err.get("input"), finding.loc)
        loc = (*err["loc"], *finding.loc)
        fix = finding.fix.format(key=f"{namespace}:{path(loc)}", namespace=namespace)
        lines.append(problem(namespace, loc, received, finding.why, fix))
    return lines


def dig(value: Any, loc: tuple[str | int, ...]) -> Any:
    """The value at `loc` in raw config, or `MISSING`."""
    for part in loc:
        found = (isinstance(value, Mapping) and part in value) or (
            isinstance(part, int) and isinstance(value, list) and part < len(value)
        )
        if not found:
            return MISSING
        container: Any = value
        value = container[part]
    return value


def _describe(namespace: str, err: Any, root: type[BaseModel]) -> str:
    loc = tuple(err["loc"]) or ("stage",)
    kind = err["type"]
    received = err.get("input", MISSING)
    at = path(loc)
    if kind == "missing":
        received = MISSING
        fix = f"pulumi config set --path '{namespace}:{at}' <value>"
        why = "required key is missing"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        why = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
        fix = f"pulumi config rm --path '{namespace}:{at}'"
    else:
        why = err["msg"].removeprefix("Value error, ")
        fix = f"pulumi config set --path '{namespace}:{at}' <{_hint(kind)}>"
    if loc == ("stage",):
        fix = "rename the stack: stack names must be lowercase, e.g. dev, staging, prod"
    return problem(namespace, loc, received, why, fix)


def _hint(kind: str) -> str:
    return {
        "bool_parsing": "true|false",
        "bool_type": "true|false",
        "int_parsing": "number",
        "int_type": "number",
        "string_type": "text",
        "list_type": "list",
        "literal_error": "one of the allowed values",
        "string_pattern_mismatch": "value matching the pattern",
    }.get(kind, "value")


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found by walking `loc` from `root`."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
