"""The guardrails as a Pulumi policy pack: pulumi-policy's objects in, `guardrails.rules` out.

Defines `from_policy_resource` (a pulumi-policy `PolicyResource` as a plain `Resource`, with the
engine's unknown-value sentinels turned into `UNKNOWN`), `validate_function` (a stack validation
callback for one rule) and `policies`/`serve`, which import pulumi-policy when called, never at
import time: the tests call the validate functions without it, and `cicd` never needs it.

Every rule is a *stack* validation because several look across resources (a bucket and its
separate encryption, versioning, public access block and policy resources). pulumi-policy raises
on any unknown value a stack policy reads, which would skip the whole rule for the whole stack in
a preview; reading the raw values instead lets each rule skip only what it cannot know yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from guardrails.model import UNKNOWN, Resource, Stack
from guardrails.rules import RULES, Rule

PACK_NAME = "gh-aws-delivery-guardrails"

# The engine's wire values for "not known during preview" (pulumi's `rpc.py`, pulumi-policy's
# `proxy.py`): boolean, number, string, array, asset, archive, object.
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
_PROXIES = frozenset({"_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy"})

ReportViolation = Callable[..., None]


def plain(value: Any) -> Any:
    """`value` without pulumi-policy's proxies and secret wrappers; unknowns become UNKNOWN."""
    if type(value).__name__ in _PROXIES:
        value = value["__target"]
    if type(value).__name__ == "Secret" and hasattr(value, "value"):
        value = value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def _raw_items(props: Any) -> Any:
    return props["__target"] if type(props).__name__ in _PROXIES else props


def from_policy_resource(resource: Any) -> Resource:
    """A pulumi-policy `PolicyResource` (or anything shaped like one) as a `Resource`."""
    parent = getattr(resource, "parent", None)
    parent_urn = getattr(parent, "urn", None) if parent is not None else None
    if parent_urn is None:
        parent_urn = getattr(getattr(resource, "opts", None), "parent", None)
    dependencies = getattr(resource, "property_dependencies", None) or {}
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=plain(_raw_items(resource.props)),
        parent=parent_urn,
        property_dependencies={
            key: [getattr(d, "urn", d) for d in deps] for key, deps in dependencies.items()
        },
    )


def validate_function(rule: Rule) -> Callable[[Any, ReportViolation], None]:
    """The stack validation callback for `rule`: `(StackValidationArgs, report_violation)`."""

    def validate(args: Any, report_violation: ReportViolation) -> None:
        get_config: Callable[[], Mapping[str, Any] | None] | None = getattr(
            args, "get_config", None
        )
        config: dict[str, Any] = dict(get_config() or {}) if get_config is not None else {}
        properties = {**rule.defaults, **config}
        stack = Stack(from_policy_resource(r) for r in args.resources)
        seen: set[tuple[str | None, str]] = set()
        for urn, message in rule.check(stack, properties):
            if (urn, message) in seen:
                continue
            seen.add((urn, message))
            report_violation(message, urn)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    validate.__doc__ = rule.description
    return validate


def policies() -> list[Any]:
    """The rules as pulumi-policy `StackValidationPolicy` objects (imports pulumi-policy)."""
    from pulumi_policy import (  # pyright: ignore[reportMissingImports]
        EnforcementLevel,
        PolicyConfigSchema,
        Severity,
        StackValidationPolicy,
    )

    return [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=validate_function(rule),
            enforcement_level=EnforcementLevel(rule.enforcement),
            severity=Severity(rule.severity),
            config_schema=(
                PolicyConfigSchema(properties=dict(rule.config_schema))
                if rule.config_schema
                else None
            ),
            remediation_steps=rule.remediation,
        )
        for rule in RULES
    ]


def serve() -> None:
    """Start the pack's analyzer server for the Pulumi engine (never returns)."""
    from pulumi_policy import PolicyPack  # pyright: ignore[reportMissingImports]

    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        description="Guardrails for gh-aws-delivery stacks; the same rules as `cicd plan --check`",
    )
