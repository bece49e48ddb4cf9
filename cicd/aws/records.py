"""Deploy records: what the Configure step wrote for each execution that reached Deploy.

`s3://<artifact bucket>/deploy-records/<pipeline>/<execution id>.json` holds the kind and note
of the release, the commit and `contracts_schema` of its manifest, and the config parameter
names and versions it was deployed with (never values). `parse_record` reads the JSON (no call);
`lookup_record` reads one record (a plain GetObject: records are not versioned reads, so S3
authorizes it as s3:GetObject) and returns the record, None when there is none (the execution
never reached Deploy, or ran before runtime config), or a one-line problem. The file expires
with the artifact bucket's lifecycle; the durable copy is the Configure action's output
variables, which CodePipeline keeps with the execution history: `outputs_record` reads those
(ListActionExecutions), `record_from_outputs` parses them (no call).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cicd.aws.errors import is_access_denied
from cicd.contract import (
    COMMIT_OUTPUT,
    CONFIG_SOURCE_OUTPUT,
    CONFIG_VERSIONS_OUTPUT,
    CONFIGURE_ACTION,
    CONTRACTS_SCHEMA_OUTPUT,
    DEPLOY_STAGE,
    RELEASE_KIND_OUTPUT,
    ROLLBACK_OF_OUTPUT,
)
from cicd.model.config import ConfigSnapshot, DeployRecord, ParameterPin, record_key

SCHEMA = 1
# A record lists names and versions: kilobytes. A bigger object is not one.
MAX_RECORD_BYTES = 1024 * 1024
READ_RECORD_ACTION = "s3:GetObject"
_MISSING = {"NoSuchKey", "404", "NotFound"}


def _snapshot(document: Any) -> ConfigSnapshot | None:
    if document is None:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("path"), str):
        raise ValueError("'config' must be an object with a 'path'")
    pins: list[ParameterPin] = []
    for item in document.get("parameters", []):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not isinstance(item.get("version"), int)
            or isinstance(item.get("version"), bool)
        ):
            raise ValueError(
                f"'config.parameters' holds {json.dumps(item)[:80]}, not a name and version"
            )
        pins.append(ParameterPin(item["name"], item["version"]))
    return ConfigSnapshot(
        path=document["path"],
        source=str(document.get("source", "latest")),
        parameters=tuple(sorted(pins, key=lambda p: p.name)),
    )


def parse_record(text: bytes | str) -> DeployRecord:
    """The record in `text`; ValueError saying what is wrong when it is not one (schema 1)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("schema") != SCHEMA or isinstance(document.get("schema"), bool):
        raise ValueError(
            f"'schema' is {json.dumps(document.get('schema'))}, this cicd reads {SCHEMA}"
        )
    contracts = document.get("contracts_schema", False)
    if not isinstance(contracts, bool):
        raise ValueError(f"'contracts_schema' must be true or false, got {json.dumps(contracts)}")
    created: datetime | None = None
    if isinstance(document.get("created"), str):
        try:
            created = datetime.fromisoformat(document["created"].replace("Z", "+00:00"))
        except ValueError:
            created = None
    return DeployRecord(
        pipeline=str(document.get("pipeline", "")),
        execution_id=str(document.get("execution_id", "")),
        kind=str(document.get("kind") or "code"),
        note=str(document.get("note") or "-"),
        rollback_of=document.get("rollback_of") or None,
        commit=document.get("commit") or None,
        contracts_schema=contracts,
        config=_snapshot(document.get("config")),
        created=created,
    )


RecordOrProblem = DeployRecord | str | None


def lookup_record(s3: BaseClient, bucket: str, pipeline: str, execution_id: str) -> RecordOrProblem:
    """The deploy record of one execution, None when there is none, or why it cannot be read."""
    key = record_key(pipeline, execution_id)
    where = f"s3://{bucket}/{key}"
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        body: bytes = response["Body"].read(MAX_RECORD_BYTES + 1)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            return None
        said = str(error.response.get("Error", {}).get("Message", "")).lower()
        if is_access_denied(error) and "kms" in said:
            return f"unknown (needs kms:Decrypt on the artifact bucket's key to read {where})"
        if is_access_denied(error):
            return f"unknown (needs {READ_RECORD_ACTION} on {where})"
        return f"unknown ({code or 'AWS error'} reading {where})"
    if len(body) > MAX_RECORD_BYTES:
        return f"unreadable deploy record {where}: more than {MAX_RECORD_BYTES} bytes"
    try:
        return parse_record(body)
    except ValueError as error:
        return f"unreadable deploy record {where}: {error}"


def record_from_outputs(
    outputs: Mapping[str, str], pipeline: str, execution_id: str, path: str
) -> DeployRecord:
    """A record rebuilt from the Configure action's output variables; ValueError when they are
    not what the step exports."""
    try:
        pinned = json.loads(outputs[CONFIG_VERSIONS_OUTPUT])
        pins = [ParameterPin(str(name), int(version)) for name, version in pinned]
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(
            f"{CONFIG_VERSIONS_OUTPUT} is not a list of [name, version]: {error}"
        ) from None
    rollback_of = outputs.get(ROLLBACK_OF_OUTPUT, "-")
    commit = outputs.get(COMMIT_OUTPUT, "-")
    return DeployRecord(
        pipeline=pipeline,
        execution_id=execution_id,
        kind=outputs.get(RELEASE_KIND_OUTPUT) or "code",
        note="-",  # not exported; the execution's RELEASE_NOTE variable says it
        rollback_of=None if rollback_of in {"", "-"} else rollback_of,
        commit=None if commit in {"", "-"} else commit,
        contracts_schema=outputs.get(CONTRACTS_SCHEMA_OUTPUT) == "true",
        config=ConfigSnapshot(
            path=path,
            source=outputs.get(CONFIG_SOURCE_OUTPUT) or "latest",
            parameters=tuple(sorted(pins, key=lambda p: p.name)),
        ),
        origin=f"its {CONFIGURE_ACTION} action's output variables",
    )


def outputs_record(
    codepipeline: BaseClient, pipeline: str, execution_id: str, path: str
) -> RecordOrProblem:
    """The record as the execution's Configure action exported it (ListActionExecutions), when
    the record file is gone; None when no Configure action of it succeeded."""
    request: dict[str, Any] = {
        "pipelineName": pipeline,
        "filter": {"pipelineExecutionId": execution_id},
        "maxResults": 100,
    }
    while True:
        page = codepipeline.list_action_executions(**request)
        for detail in page.get("actionExecutionDetails", []):
            outputs = detail.get("output", {}).get("outputVariables", {})
            if (
                detail.get("stageName") == DEPLOY_STAGE
                and detail.get("actionName") == CONFIGURE_ACTION
                and detail.get("status") == "Succeeded"
                and CONFIG_VERSIONS_OUTPUT in outputs
            ):
                try:
                    return record_from_outputs(outputs, pipeline, execution_id, path)
                except ValueError as error:
                    return f"unreadable {CONFIGURE_ACTION} outputs of {execution_id}: {error}"
        if not page.get("nextToken"):
            return None
        request["nextToken"] = page["nextToken"]
