"""The plan document: what Pulumi's mocks recorded for one stack, as stable, sorted JSON data.

Defines `plan_document` (a `stack.offline.StackRun` -> a JSON-ready document: every recorded
resource with its engine URN, type, logical name, parent, options and normalized inputs, a
summary count and the stack's exports), `dumps` (its byte-stable JSON text) and `render_text`
(the same as an indented tree grouped by component). Standard library only, and it reads only
attributes of the run it is given: `cicd diff` loads this file by path to plan another checkout
with that checkout's own program (`stack.plan.diff`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi

PLAN_FORMAT = 1
"""Bumped when the document's shape changes; readers should check it."""
SECRET = "[secret]"
# How Pulumi marks a secret value inside a map of inputs (sdk/python/lib/pulumi/runtime/rpc.py).
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"

# The inputs shown for each type in the text output, beside the logical name; every input is in
# the JSON document. Dotted paths reach into nested inputs.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": ("bucket", "forceDestroy"),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration.status",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
    ),
    "aws:codepipeline/pipeline:Pipeline": ("name", "pipelineType", "executionMode"),
    "aws:codebuild/project:Project": (
        "name",
        "environment.computeType",
        "environment.privilegedMode",
        "buildTimeout",
    ),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": (
        "deploymentGroupName",
        "deploymentConfigName",
    ),
    "aws:codedeploy/application:Application": ("name", "computePlatform"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "metricName"),
    "aws:kms/key:Key": ("description", "enableKeyRotation"),
    "aws:codeconnections/connection:Connection": ("name", "providerType"),
    "pulumi:pulumi:StackReference": ("name",),
}
_DEFAULT_KEY_INPUTS = ("name",)


# Normalization --------------------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """Inputs as plain, stable JSON data.

    Secrets become `[secret]`; whole floats become ints (the mocks pass every number as a
    float); JSON text holding an object (policy documents, event patterns) is parsed, so a
    diff names the statement that changed rather than one long string.
    """
    if isinstance(value, Mapping):
        if _SECRET_SIGNATURE in value:
            return SECRET
        return {str(k): normalize(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset(value)
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return normalize(parsed) if isinstance(parsed, dict) else value
    return value


def _asset(value: pulumi.Asset | pulumi.Archive) -> Any:
    """A function's code as data: each file by its SHA-256, so a plan is the same on every
    machine (no absolute paths) and a diff still shows which file of the code changed."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _asset(a) for name, a in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        data = Path(str(value.path)).read_bytes()
        return {"file": Path(str(value.path)).name, "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, pulumi.StringAsset):
        return {"text": normalize(str(value.text))}
    return {"asset": type(value).__name__}


def _urn_of(run: Any, resource: Any) -> str:
    """The engine's URN (whole parent chain) when the harness can build it, else the mock's."""
    engine_urn = getattr(run.recorder, "engine_urn", None)
    return str(engine_urn(resource)) if callable(engine_urn) else str(resource.urn)


def plan_document(
    stack: str,
    run: Any,
    *,
    project: str,
    stack_file: str,
    upstreams: Iterable[str] = (),
    secrets: Iterable[str] = (),
    offline: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The plan of one stack from a `stack.offline.StackRun`: every recorded resource, sorted.

    Each resource has its engine URN, type, logical name, parent URN (None under the stack),
    whether it is a component, its options (protect, retain_on_delete, ignore_changes, read)
    and its normalized inputs. `summary` counts them; `outputs` are the stack's exports.
    """
    resources = list(run.recorder.resources)
    urns = {r.urn: _urn_of(run, r) for r in resources}
    entries = []
    for r in resources:
        entries.append(
            {
                "urn": urns[r.urn],
                "type": r.typ,
                "name": r.name,
                "parent": urns.get(getattr(r, "parent", "") or ""),
                "component": not r.custom,
                "protect": bool(getattr(r, "protect", False)),
                "retain_on_delete": bool(getattr(r, "retain_on_delete", False)),
                "ignore_changes": sorted(getattr(r, "ignore_changes", []) or []),
                "read": bool(getattr(r, "read", False)),
                "inputs": normalize(r.inputs),
            }
        )
    entries.sort(key=lambda e: e["urn"])
    by_type: dict[str, int] = {}
    for entry in entries:
        by_type[entry["type"]] = by_type.get(entry["type"], 0) + 1
    components = sum(1 for e in entries if e["component"])
    return {
        "format": PLAN_FORMAT,
        "project": project,
        "stack": stack,
        "stack_file": stack_file,
        "upstreams": sorted(upstreams),
        "offline": {"secrets": sorted(secrets), **dict(offline or {})},
        "summary": {
            "resources": len(entries),
            "components": components,
            "custom": len(entries) - components,
            "by_type": dict(sorted(by_type.items())),
        },
        "resources": entries,
        "outputs": normalize(run.exports),
    }


def dumps(document: Any) -> str:
    """A plan as JSON text: sorted keys, 2-space indent, final newline; same in, same out."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# Text -----------------------------------------------------------------------------------------


def lookup(value: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def key_inputs(entry: Mapping[str, Any]) -> str:
    paths = KEY_INPUTS.get(entry["type"], _DEFAULT_KEY_INPUTS)
    shown = []
    for path in paths:
        value = lookup(entry["inputs"], path)
        if value is not None:
            shown.append(f"{path.rsplit('.', 1)[-1]}={_short(value)}")
    return " ".join(shown)


def _flags(entry: Mapping[str, Any]) -> str:
    flags = [
        flag
        for flag, on in (
            ("protect", entry["protect"]),
            ("retain", entry["retain_on_delete"]),
            ("read", entry["read"]),
        )
        if on
    ]
    if entry["ignore_changes"]:
        flags.append("ignore_changes=" + ",".join(entry["ignore_changes"]))
    return f"  [{' '.join(flags)}]" if flags else ""


def render_text(document: Mapping[str, Any]) -> str:
    """The plan as an indented tree: each component, then what it declares, then a summary."""
    entries = document["resources"]
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for entry in entries:
        children.setdefault(entry["parent"], []).append(entry)
    for siblings in children.values():
        # Components first, then resources, each by logical name: the layout of the program.
        siblings.sort(key=lambda e: (not e["component"], e["name"], e["type"]))
    summary = document["summary"]
    lines = [
        f"Plan of stack {document['stack']} ({document['project']}, {document['stack_file']}), "
        "evaluated offline under Pulumi's mocks: no state, no cloud.",
    ]
    if document["upstreams"]:
        lines.append(
            "Stack references answered with the offline exports of: "
            + ", ".join(document["upstreams"])
        )
    if document["offline"]["secrets"]:
        lines.append(
            "Secrets are placeholders ([secret]): " + ", ".join(document["offline"]["secrets"])
        )
    lines.append("")

    def walk(parent: str | None, depth: int) -> None:
        for entry in children.get(parent, []):
            indent = "  " * depth
            details = key_inputs(entry)
            lines.append(
                f"{indent}{entry['name']}  {entry['type']}"
                + (f"  {details}" if details else "")
                + _flags(entry)
            )
            walk(entry["urn"], depth + 1)

    walk(None, 0)
    lines += [
        "",
        f"{summary['resources']} resources: {summary['components']} components, "
        f"{summary['custom']} custom resources",
    ]
    width = max(len(str(n)) for n in summary["by_type"].values()) if summary["by_type"] else 1
    lines += [f"  {count:>{width}}  {typ}" for typ, count in summary["by_type"].items()]
    return "\n".join(lines) + "\n"
