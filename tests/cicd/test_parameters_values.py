"""`cicd.aws.parameters` against stubbed Parameter Store: the exact requests, what a KMS refusal
and a half-finished write say, and the KMS key read from a parameter's history.

The commands built on it (`cicd config ...`) are tests/cicd/test_config_values.py.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from cicd.aws import parameters
from cicd.errors import AwsError
from cicd.model.config import ConfigWrite, Written
from tests.cicd.aws_fakes import StubbedAws

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-2222-4bbb-8ccc-333344445555"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9999ffff-8888-4eee-8ddd-777766665555"


def _ssm() -> tuple[StubbedAws, Stubber]:
    aws = StubbedAws()
    return aws, aws.stub("ssm")


def _history(versions: list[dict[str, object]], token: str | None = None) -> dict[str, object]:
    page: dict[str, object] = {"Parameters": versions}
    if token:
        page["NextToken"] = token
    return page


def _version(n: int, key_id: str | None = None) -> dict[str, object]:
    version: dict[str, object] = {"Name": "/web/prod/TOKEN", "Version": n, "Type": "String"}
    if key_id:
        version |= {"Type": "SecureString", "KeyId": key_id}
    return version


def test_reading_a_secret_kms_refuses_names_kms_decrypt_and_the_parameter() -> None:
    aws, ssm = _ssm()
    ssm.add_client_error(
        "get_parameter",
        service_error_code="AccessDeniedException",
        service_message=f"User: alice is not authorized to perform: kms:Decrypt on {KEY_ARN}",
        expected_params={"Name": "/web/prod/TOKEN", "WithDecryption": True},
    )

    with pytest.raises(AwsError) as raised:
        parameters.read_parameter(aws.client("ssm"), "/web/prod", "TOKEN", reveal=True)

    ssm.assert_no_pending_responses()
    assert raised.value.message.startswith(
        "KMS refused kms:Decrypt for /web/prod/TOKEN (AccessDeniedException: User: alice"
    )
    assert raised.value.hint == (
        "SecureString parameters need kms:Decrypt on their key: ask an administrator for it in "
        "the key policy and your IAM policy (docs/cicd.md, 'IAM permissions')"
    )


def test_an_error_code_from_kms_is_worded_as_kms_even_when_its_message_does_not_say_so() -> None:
    aws, ssm = _ssm()
    ssm.add_client_error(
        "get_parameters_by_path",
        service_error_code="KMSDisabledException",
        service_message="The key is disabled.",
    )

    with pytest.raises(AwsError) as raised:
        parameters.read_config(aws.client("ssm"), "/web/prod")

    assert raised.value.message == (
        "KMS refused kms:Decrypt for /web/prod (KMSDisabledException: The key is disabled.)"
    )


def test_a_half_finished_write_ends_its_message_saying_no_release_was_started() -> None:
    aws, ssm = _ssm()
    ssm.add_response(
        "put_parameter",
        {"Version": 3},
        {"Name": "/web/prod/A", "Value": "1", "Type": "String", "Overwrite": True},
    )
    ssm.add_client_error(
        "put_parameter", service_error_code="ParameterLimitExceeded", service_message="too many"
    )
    writes = [
        ConfigWrite("A", "/web/prod/A", "1", "String"),
        ConfigWrite("B", "/web/prod/B", "2", "String"),
    ]

    with pytest.raises(parameters.PartlyWritten) as raised:
        parameters.write(aws.client("ssm"), writes)

    assert raised.value.message == (
        "wrote A (version 3), then writing B failed: An error occurred (ParameterLimitExceeded) "
        "when calling the PutParameter operation: too many; no release was started"
    )


def test_a_write_returns_the_version_each_put_made() -> None:
    aws, ssm = _ssm()
    ssm.add_response(
        "put_parameter",
        {"Version": 7},
        {
            "Name": "/web/prod/TOKEN",
            "Value": "s3cret",
            "Type": "SecureString",
            "Overwrite": True,
            "KeyId": KEY_ARN,
        },
    )

    written = parameters.write(
        aws.client("ssm"),
        [ConfigWrite("TOKEN", "/web/prod/TOKEN", "s3cret", "SecureString", KEY_ARN)],
    )

    ssm.assert_no_pending_responses()
    assert written == [Written("TOKEN", "/web/prod/TOKEN", "SecureString", 7)]


def test_the_key_of_a_parameter_is_its_newest_versions_read_across_history_pages() -> None:
    aws, ssm = _ssm()
    request = {"Name": "/web/prod/TOKEN", "WithDecryption": False, "MaxResults": 50}
    ssm.add_response(
        "get_parameter_history", _history([_version(1, OTHER_KEY)], token="page-2"), request
    )
    ssm.add_response(
        "get_parameter_history",
        _history([_version(2, KEY_ARN)]),
        request | {"NextToken": "page-2"},
    )

    key = parameters.key_of(aws.client("ssm"), "/web/prod/TOKEN")

    ssm.assert_no_pending_responses()
    assert key == KEY_ARN


def test_a_parameter_with_no_history_or_no_key_has_no_key() -> None:
    aws, ssm = _ssm()
    ssm.add_response("get_parameter_history", _history([]))
    ssm.add_response("get_parameter_history", _history([_version(1), _version(2)]))

    assert parameters.key_of(aws.client("ssm"), "/web/prod/NONE") is None
    assert parameters.key_of(aws.client("ssm"), "/web/prod/PLAIN") is None


def test_config_read_under_a_path_with_a_trailing_slash_is_keyed_by_the_name_under_it() -> None:
    aws, ssm = _ssm()
    ssm.add_response(
        "get_parameters_by_path",
        {"Parameters": [{"Name": "/web/prod/TOKEN", "Type": "String", "Value": "x", "Version": 1}]},
        {"Path": "/web/prod/", "Recursive": False, "WithDecryption": True, "MaxResults": 10},
    )

    config = parameters.read_config(aws.client("ssm"), "/web/prod/")

    assert [(v.key, v.parameter) for v in config.values] == [("TOKEN", "/web/prod/TOKEN")]
