"""What the guardrail rules read: resources as plain data, unknown values, findings.

Defines `Resource` (one declared resource: type token, logical name, URN, inputs with camelCase
keys, parent and the resources each input came from), `Stack` (an index over them that links a
bucket's separate settings resources to the bucket), `UNKNOWN` (a value a preview cannot know
yet) and `Finding` (a rule's verdict on one resource). It imports neither Pulumi nor
pulumi-policy: the offline checker (`cicd plan --check`) and the policy pack (`guardrails.pack`)
both build these from what they have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory", "disabled"]
Severity = Literal["low", "medium", "high", "critical"]


class _Unknown:
    """A value Pulumi cannot know during a preview (an ID or ARN of a resource not yet created)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()
"""The one unknown value. Rules never fail a resource on a value they cannot see: they skip the
check for it (the engine runs the pack again on `pulumi up`, when values are known)."""


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    """Inputs as the engine passes them: camelCase keys, JSON documents as text."""
    parent: str | None = None
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Input name -> URNs of the resources its value came from."""

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (`logsConfig.cloudwatchLogs.status`), `default` if absent."""
        value: Any = self.props
        for key in path.split("."):
            if is_unknown(value):
                return UNKNOWN
            if not isinstance(value, Mapping) or key not in value:
                return default
            value = value[key]
        return value

    @property
    def tags(self) -> Mapping[str, Any]:
        tags = self.props.get("tags")
        return tags if isinstance(tags, Mapping) else {}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict against one resource (or the stack, when `urn` is None)."""

    rule: str
    enforcement: Enforcement
    severity: Severity
    urn: str | None
    message: str

    @property
    def resource_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1] if self.urn else "(stack)"


class Stack:
    """The resources of one stack, indexed for rules that look across resources."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.type in types)

    def settings_of(self, bucket: Resource, setting_type: str) -> list[Resource]:
        """The resources of `setting_type` (`aws:s3/bucketVersioning:BucketVersioning`...) that
        configure `bucket`.

        A setting names its bucket in its `bucket` input. That value is the bucket's ID, unknown
        in a preview of a new bucket, so the input's property dependency (the bucket's URN) is
        the link; the name is the fallback when dependencies were not recorded.
        """
        found = []
        for setting in self.of_type(setting_type):
            dependencies = setting.property_dependencies.get("bucket") or ()
            if dependencies:
                if bucket.urn in dependencies:
                    found.append(setting)
                continue
            named = setting.props.get("bucket")
            if not is_unknown(named) and named in _bucket_names(bucket):
                found.append(setting)
        return found

    def referenced_by(self, source_type: str, prop: str) -> set[str]:
        """URNs of the resources whose outputs feed input `prop` of any `source_type` resource."""
        urns: set[str] = set()
        for resource in self.of_type(source_type):
            urns.update(resource.property_dependencies.get(prop) or ())
        return urns


def _bucket_names(bucket: Resource) -> set[str]:
    names = {bucket.name, f"{bucket.name}-id"}
    physical = bucket.props.get("bucket")
    if isinstance(physical, str):
        names.add(physical)
    return names


def policy_document(text: Any) -> Mapping[str, Any] | None:
    """A policy document from an input (JSON text or already an object); None if unknown/none."""
    if is_unknown(text) or text is None:
        return None
    if isinstance(text, Mapping):
        return text
    if isinstance(text, str):
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return document if isinstance(document, Mapping) else None
    return None


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not document:
        return []
    found = document.get("Statement")
    if isinstance(found, Mapping):
        return [found]
    if isinstance(found, list):
        return [s for s in found if isinstance(s, Mapping)]
    return []


def as_list(value: Any) -> list[Any]:
    if value is None or is_unknown(value):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]
