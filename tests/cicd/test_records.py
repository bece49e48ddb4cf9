"""cicd/aws/records.py: the deploy record read back, and every way it can be unreadable.

The record is what `cicd releases`, `config` and `rollback` trust for a release's config
versions, so each refusal names the key, what was found and the object; the S3 and CodePipeline
calls are checked against botocore's models (Stubber).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from cicd.aws import records
from cicd.aws.records import (
    MAX_RECORD_BYTES,
    lookup_record,
    outputs_record,
    parse_record,
    record_from_outputs,
)
from cicd.model.config import ConfigSnapshot, ParameterPin

BUCKET = "web-staging-artifacts"
PIPELINE = "web-staging-pipeline"
EXECUTION = "11111111-2222-3333-4444-555555555555"
KEY = f"deploy-records/{PIPELINE}/{EXECUTION}.json"
WHERE = f"s3://{BUCKET}/{KEY}"


def record(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": 1,
        "pipeline": PIPELINE,
        "execution_id": EXECUTION,
        "kind": "config",
        "note": "FEATURE_X=on",
        "commit": "1a2b3c4",
        "contracts_schema": True,
        "created": "2026-12-01T10:00:00Z",
        "config": {
            "path": "/web/staging",
            "source": "latest",
            "parameters": [
                {"name": "/web/staging/ZED", "version": 2},
                {"name": "/web/staging/ALPHA", "version": 7},
            ],
        },
    }
    document.update(changes)
    return document


def test_a_record_is_read_whole_with_its_parameters_sorted_by_name() -> None:
    parsed = parse_record(json.dumps(record()))
    assert (parsed.pipeline, parsed.execution_id, parsed.kind, parsed.note) == (
        PIPELINE,
        EXECUTION,
        "config",
        "FEATURE_X=on",
    )
    assert parsed.commit == "1a2b3c4" and parsed.rollback_of is None
    assert parsed.contracts_schema is True
    assert parsed.created == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert parsed.config == ConfigSnapshot(
        "/web/staging",
        "latest",
        (ParameterPin("/web/staging/ALPHA", 7), ParameterPin("/web/staging/ZED", 2)),
    )
    assert parsed.origin == "its deploy record"


def test_what_a_record_leaves_out_reads_as_a_code_release_without_config() -> None:
    parsed = parse_record(json.dumps({"schema": 1}))
    assert (parsed.pipeline, parsed.execution_id, parsed.kind, parsed.note) == ("", "", "code", "-")
    assert (parsed.commit, parsed.rollback_of, parsed.config, parsed.created) == (
        None,
        None,
        None,
        None,
    )
    assert parsed.contracts_schema is False


def test_a_rollback_record_names_what_it_rolled_back_and_its_source() -> None:
    config = {"path": "/web/prod", "source": "rollback:0000-1", "parameters": []}
    parsed = parse_record(json.dumps(record(kind="rollback", rollback_of="0000-2", config=config)))
    assert parsed.rollback_of == "0000-2"
    assert parsed.config == ConfigSnapshot("/web/prod", "rollback:0000-1", ())


def test_a_created_time_that_is_not_iso_is_left_unknown() -> None:
    assert parse_record(json.dumps(record(created="yesterday"))).created is None
    assert parse_record(json.dumps(record(created=1700000000))).created is None


def test_a_snapshot_without_a_source_is_the_latest_versions() -> None:
    config = {"path": "/web/dev", "parameters": [{"name": "/web/dev/A", "version": 1}]}
    assert parse_record(json.dumps(record(config=config))).config == ConfigSnapshot(
        "/web/dev", "latest", (ParameterPin("/web/dev/A", 1),)
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes"),
        ("[1, 2]", "expected a JSON object, got list"),
        (json.dumps(record(schema=2)), "'schema' is 2, this cicd reads 1"),
        (json.dumps(record(schema=True)), "'schema' is true, this cicd reads 1"),
        (json.dumps(record(schema=None)), "'schema' is null, this cicd reads 1"),
        (
            json.dumps(record(contracts_schema="yes")),
            "'contracts_schema' must be true or false, got \"yes\"",
        ),
        (json.dumps(record(config=[])), "'config' must be an object with a 'path'"),
        (json.dumps(record(config={"path": 3})), "'config' must be an object with a 'path'"),
        (
            json.dumps(record(config={"path": "/p", "parameters": [{"name": "/p/A"}]})),
            '\'config.parameters\' holds {"name": "/p/A"}, not a name and version',
        ),
        (
            json.dumps(
                record(config={"path": "/p", "parameters": [{"name": "/p/A", "version": True}]})
            ),
            '\'config.parameters\' holds {"name": "/p/A", "version": true}, not a name and version',
        ),
        (
            json.dumps(record(config={"path": "/p", "parameters": [{"name": 5, "version": 1}]})),
            '\'config.parameters\' holds {"name": 5, "version": 1}, not a name and version',
        ),
        (
            json.dumps(record(config={"path": "/p", "parameters": ["/p/A"]})),
            "'config.parameters' holds \"/p/A\", not a name and version",
        ),
    ],
)
def test_a_record_that_is_not_one_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_record(text)
    assert str(raised.value).startswith(problem)


def test_a_long_bad_parameter_is_cut_to_80_characters_in_the_message() -> None:
    item = {"name": "/p/" + "A" * 200}
    with pytest.raises(ValueError) as raised:
        parse_record(json.dumps(record(config={"path": "/p", "parameters": [item]})))
    assert str(raised.value) == (
        f"'config.parameters' holds {json.dumps(item)[:80]}, not a name and version"
    )


# --- lookup_record: one GetObject ---------------------------------------------------------------


def s3_stub() -> tuple[Any, Stubber]:
    s3 = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return s3, Stubber(s3)


def body(data: bytes) -> dict[str, Any]:
    return {"Body": StreamingBody(io.BytesIO(data), len(data))}


def test_lookup_reads_the_record_of_that_execution() -> None:
    s3, stub = s3_stub()
    stub.add_response(
        "get_object", body(json.dumps(record()).encode()), {"Bucket": BUCKET, "Key": KEY}
    )
    with stub:
        found = lookup_record(s3, BUCKET, PIPELINE, EXECUTION)
    assert not isinstance(found, str) and found is not None
    assert found.kind == "config"
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["NoSuchKey", "404", "NotFound"])
def test_no_record_is_none(code: str) -> None:
    s3, stub = s3_stub()
    stub.add_client_error("get_object", service_error_code=code, http_status_code=404)
    with stub:
        assert lookup_record(s3, BUCKET, PIPELINE, EXECUTION) is None


@pytest.mark.parametrize(
    ("code", "message", "problem"),
    [
        (
            "AccessDenied",
            "User is not authorized to perform: kms:Decrypt",
            f"unknown (needs kms:Decrypt on the artifact bucket's key to read {WHERE})",
        ),
        ("AccessDenied", "Access Denied", f"unknown (needs s3:GetObject on {WHERE})"),
        (
            "InternalError",
            "We encountered an internal error",
            f"unknown (InternalError reading {WHERE})",
        ),
    ],
)
def test_a_record_that_cannot_be_read_says_what_is_needed(
    code: str, message: str, problem: str
) -> None:
    s3, stub = s3_stub()
    stub.add_client_error("get_object", service_error_code=code, service_message=message)
    with stub:
        assert lookup_record(s3, BUCKET, PIPELINE, EXECUTION) == problem


def test_an_error_without_a_code_is_an_aws_error() -> None:
    s3, stub = s3_stub()
    stub.add_client_error("get_object", service_error_code="", http_status_code=500)
    with stub:
        assert (
            lookup_record(s3, BUCKET, PIPELINE, EXECUTION) == f"unknown (AWS error reading {WHERE})"
        )


def test_a_record_over_a_mebibyte_is_not_read_as_one() -> None:
    s3, stub = s3_stub()
    stub.add_response("get_object", body(b" " * (MAX_RECORD_BYTES + 1)))
    with stub:
        assert lookup_record(s3, BUCKET, PIPELINE, EXECUTION) == (
            f"unreadable deploy record {WHERE}: more than 1048576 bytes"
        )
    assert MAX_RECORD_BYTES == 1024 * 1024


def test_a_record_of_exactly_a_mebibyte_is_read() -> None:
    text = json.dumps(record()).encode()
    padded = text + b" " * (MAX_RECORD_BYTES - len(text))
    s3, stub = s3_stub()
    stub.add_response("get_object", body(padded))
    with stub:
        found = lookup_record(s3, BUCKET, PIPELINE, EXECUTION)
    assert not isinstance(found, str) and found is not None


def test_an_unreadable_record_says_where_and_why() -> None:
    s3, stub = s3_stub()
    stub.add_response("get_object", body(json.dumps(record(schema=9)).encode()))
    with stub:
        assert lookup_record(s3, BUCKET, PIPELINE, EXECUTION) == (
            f"unreadable deploy record {WHERE}: 'schema' is 9, this cicd reads 1"
        )


# --- the Configure action's output variables ----------------------------------------------------

OUTPUTS = {
    "CONFIG_VERSIONS": json.dumps([["/web/prod/ZED", 3], ["/web/prod/ALPHA", "4"]]),
    "CONFIG_SOURCE": "rollback:0000-9",
    "RELEASE_KIND": "rollback",
    "ROLLBACK_OF": "0000-8",
    "COMMIT_ID": "9f8e7d6",
    "CONTRACTS_SCHEMA": "true",
}


def test_a_record_is_rebuilt_from_the_configure_actions_outputs() -> None:
    rebuilt = record_from_outputs(OUTPUTS, PIPELINE, EXECUTION, "/web/prod")
    assert (rebuilt.pipeline, rebuilt.execution_id, rebuilt.kind, rebuilt.note) == (
        PIPELINE,
        EXECUTION,
        "rollback",
        "-",
    )
    assert (rebuilt.rollback_of, rebuilt.commit, rebuilt.contracts_schema) == (
        "0000-8",
        "9f8e7d6",
        True,
    )
    assert rebuilt.config == ConfigSnapshot(
        "/web/prod",
        "rollback:0000-9",
        (ParameterPin("/web/prod/ALPHA", 4), ParameterPin("/web/prod/ZED", 3)),
    )
    assert rebuilt.origin == "its Configure action's output variables"


def test_outputs_left_out_or_dashed_read_as_a_code_release_of_the_latest_config() -> None:
    rebuilt = record_from_outputs(
        {"CONFIG_VERSIONS": "[]", "ROLLBACK_OF": "-", "COMMIT_ID": ""}, PIPELINE, EXECUTION, "/p"
    )
    assert (rebuilt.kind, rebuilt.rollback_of, rebuilt.commit) == ("code", None, None)
    assert rebuilt.contracts_schema is False
    assert rebuilt.config == ConfigSnapshot("/p", "latest", ())
    missing = record_from_outputs({"CONFIG_VERSIONS": "[]"}, PIPELINE, EXECUTION, "/p")
    assert (missing.rollback_of, missing.commit) == (None, None)


@pytest.mark.parametrize(
    "versions", [None, "not json", json.dumps({"a": 1}), json.dumps([["/p/A", "x"]])]
)
def test_outputs_whose_versions_are_not_pairs_are_refused(versions: str | None) -> None:
    outputs = {} if versions is None else {"CONFIG_VERSIONS": versions}
    with pytest.raises(ValueError, match=r"^CONFIG_VERSIONS is not a list of \[name, version\]: "):
        record_from_outputs(outputs, PIPELINE, EXECUTION, "/p")


def codepipeline_stub() -> tuple[Any, Stubber]:
    client = boto3.client(
        "codepipeline", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def detail(stage: str, action: str, status: str, outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "pipelineExecutionId": EXECUTION,
        "stageName": stage,
        "actionName": action,
        "status": status,
        "output": {"outputVariables": outputs},
    }


def request(token: str | None = None) -> dict[str, Any]:
    asked: dict[str, Any] = {
        "pipelineName": PIPELINE,
        "filter": {"pipelineExecutionId": EXECUTION},
        "maxResults": 100,
    }
    if token:
        asked["nextToken"] = token
    return asked


def test_the_outputs_record_is_the_succeeded_configure_action_of_deploy_on_any_page() -> None:
    client, stub = codepipeline_stub()
    stub.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                detail("Deploy", "Configure", "Failed", OUTPUTS),
                detail("Build", "Configure", "Succeeded", OUTPUTS),
                detail("Deploy", "Describe", "Succeeded", OUTPUTS),
                detail("Deploy", "Configure", "Succeeded", {"COMMIT_ID": "x"}),
            ],
            "nextToken": "page-2",
        },
        request(),
    )
    stub.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [detail("Deploy", "Configure", "Succeeded", OUTPUTS)]},
        request("page-2"),
    )
    with stub:
        found = outputs_record(client, PIPELINE, EXECUTION, "/web/prod")
    assert not isinstance(found, str) and found is not None
    assert found.commit == "9f8e7d6"
    stub.assert_no_pending_responses()


def test_no_succeeded_configure_action_is_no_outputs_record() -> None:
    client, stub = codepipeline_stub()
    stub.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [detail("Deploy", "Configure", "Failed", OUTPUTS)]},
        request(),
    )
    with stub:
        assert outputs_record(client, PIPELINE, EXECUTION, "/web/prod") is None


def test_configure_outputs_that_are_not_a_record_say_so() -> None:
    client, stub = codepipeline_stub()
    bad = {**OUTPUTS, "CONFIG_VERSIONS": "oops"}
    stub.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [detail("Deploy", "Configure", "Succeeded", bad)]},
    )
    with stub:
        found = outputs_record(client, PIPELINE, EXECUTION, "/web/prod")
    assert isinstance(found, str)
    assert found.startswith(
        f"unreadable Configure outputs of {EXECUTION}: CONFIG_VERSIONS is not a list of "
    )


def test_the_record_reads_as_s3_get_object() -> None:
    # S3 authorizes a GetObject without versionId as s3:GetObject (the IAM table in docs/cicd.md).
    assert records.READ_RECORD_ACTION == "s3:GetObject"
