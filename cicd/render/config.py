"""Runtime config as text and JSON: listings, one key, a change, a comparison, what a release ran
with, and what a rollback puts back.

A SecureString's value never appears here: `ConfigValue.value` is None for secrets unless `cicd
config get --reveal` asked for it, and the comparison shows only whether values are equal, not
their digests (a digest of a short secret can be guessed). The JSON shapes are documented in
docs/cicd.md ("JSON output") like those of `cicd.render.documents`. Nothing here reads AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cicd.model.config import (
    SECURE_STRING,
    ConfigDiff,
    ConfigSet,
    ConfigValue,
    DeployRecord,
    Written,
)
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import Release
from cicd.render.documents import started_document
from cicd.text import PLAIN, Style, format_when, iso, short_id, table, truncate

MASK = "<secret>"
VALUE_WIDTH = 60


def shown_value(value: ConfigValue) -> str:
    """A value for a table: a secret masked, newlines visible, long values cut."""
    if value.value is None:
        return MASK
    return truncate(value.value.replace("\n", "\\n"), VALUE_WIDTH)


def config_rows(config: ConfigSet, now: datetime, style: Style = PLAIN) -> list[str]:
    rows = [
        [
            v.key,
            style.dim(MASK) if v.value is None else shown_value(v),
            v.type,
            str(v.version),
            format_when(v.modified, now),
        ]
        for v in config.live
    ]
    return table(["NAME", "VALUE", "TYPE", "VERSION", "CHANGED"], rows)


def _value_document(value: ConfigValue) -> dict[str, Any]:
    return {
        "name": value.key,
        "parameter": value.parameter,
        "type": value.type,
        "version": value.version,
        "secret": value.secret,
        "value": value.value,
        "lastModified": iso(value.modified),
    }


def _where(ref: PipelineRef, layout: PipelineLayout) -> dict[str, Any]:
    config = layout.config
    return {
        "pipeline": layout.name,
        "service": ref.service,
        "stage": ref.stage,
        "path": config.path if config else None,
    }


def config_document(ref: PipelineRef, layout: PipelineLayout, config: ConfigSet) -> dict[str, Any]:
    """`cicd config --json`: the keys that are set (tombstones hidden), secrets without value."""
    return {
        **_where(ref, layout),
        "kmsKeyArn": layout.config.kms_key_arn if layout.config else None,
        "config": [_value_document(v) for v in config.live],
    }


def value_document(ref: PipelineRef, layout: PipelineLayout, value: ConfigValue) -> dict[str, Any]:
    """`cicd config get --json`."""
    return {**_where(ref, layout), **_value_document(value)}


def change_lines(
    command: str, path: str, written: Sequence[Written], unchanged: Sequence[str]
) -> list[str]:
    verb = "Set" if command == "set" else "Unset"
    done = ", ".join(
        f"{w.key} (version {w.version}{', SecureString' if w.type == SECURE_STRING else ''})"
        for w in written
    )
    lines = [f"{verb} {done} in {path}."]
    if unchanged:
        lines.append(f"Unchanged (already that value): {', '.join(unchanged)}.")
    return lines


def change_document(
    command: str,
    layout: PipelineLayout,
    ref: PipelineRef,
    live: Release | None,
    path: str,
    written: Sequence[Written],
    unchanged: Sequence[str],
) -> dict[str, Any]:
    """`cicd config set/unset --json`: a started release's document (`executionId` null when
    none was started) with what was written. `note` and `rebuilds` are filled in once a release
    starts; `followed` is added by following."""
    document = started_document(
        f"config {command}",
        layout,
        ref.service,
        ref.stage,
        "",
        commit=live.commit if live else None,
        message=live.message if live else None,
        version_id=live.version_id if live else None,
        kind="config",
        note=None,
        rebuilds=None,
        path=path,
        changed=[
            {"name": w.key, "parameter": w.parameter, "type": w.type, "version": w.version}
            for w in written
        ],
        unchanged=list(unchanged),
    )
    document["executionId"] = None
    return document


def diff_rows(diff: ConfigDiff, source: str, target: str) -> list[str]:
    """The comparison table of `cicd config diff`: set or missing per stage, equal or not."""
    rows = []
    for key in diff.keys:
        same = key.same_value
        rows.append(
            [
                key.key,
                "set" if key.source is not None else "missing",
                "set" if key.target is not None else "missing",
                "-" if same is None else ("same" if same else "differ"),
            ]
        )
    return table(["NAME", source.upper(), target.upper(), "VALUES"], rows)


def _side(value: ConfigValue | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"type": value.type, "version": value.version}


def diff_document(
    service: str | None,
    source: tuple[str, str, str],
    target: tuple[str, str, str],
    diff: ConfigDiff,
) -> dict[str, Any]:
    """`cicd config diff --json`: (stage, pipeline, path) of each side, and the keys."""
    return {
        "service": service,
        "from": dict(zip(("stage", "pipeline", "path"), source, strict=True)),
        "to": dict(zip(("stage", "pipeline", "path"), target, strict=True)),
        "keys": [
            {
                "name": k.key,
                "from": _side(k.source),
                "to": _side(k.target),
                "sameValue": k.same_value,
            }
            for k in diff.keys
        ],
        "missing": list(diff.missing),
        "extra": list(diff.extra),
        "differ": list(diff.differ),
    }


RecordView = DeployRecord | str | None


def _versions(record: RecordView) -> Mapping[str, int] | None:
    if isinstance(record, DeployRecord) and record.config is not None:
        return record.config.versions()
    return None


def _why_unknown(release: Release, record: RecordView) -> str:
    if isinstance(record, str):
        return f"{short_id(release.execution_id)}: {record}"
    return f"{short_id(release.execution_id)} has no deploy record (it ran before runtime config)"


def rollback_config_lines(
    path: str, current: Release, now: RecordView, target: Release, after: RecordView
) -> list[str]:
    """The config part of a rollback plan: the versions now and after, key by key."""
    lines = [
        f"Code and config go back together: AWS re-runs Deploy with the variables and artifacts "
        f"of {short_id(target.execution_id)}, and its Configure step re-pins the config versions "
        f"{short_id(target.execution_id)} ran with ({path}):"
    ]
    before, later = _versions(now), _versions(after)
    if later is None:
        lines.append(f"  which versions is unknown: {_why_unknown(target, after)}")
        return lines
    if before is None:
        lines.append(f"  (now unknown: {_why_unknown(current, now)})")
    keys: list[str] = sorted(set(before or {}) | set(later))
    rows = [
        [
            key,
            "-" if before is None else (f"v{before[key]}" if key in before else "not set"),
            f"v{later[key]}" if key in later else "not set",
        ]
        for key in keys
    ]
    if not rows:
        lines.append("  no parameters, now or after")
        return lines
    lines += [f"  {line}" for line in table(["KEY", "NOW", "AFTER"], rows)]
    return lines


def pins_document(record: RecordView) -> list[dict[str, Any]] | None:
    """Names and versions of a record's config, for the rollback document (None: unknown)."""
    if isinstance(record, DeployRecord) and record.config is not None:
        return [{"name": p.name, "version": p.version} for p in record.config.parameters]
    return None
