"""`cicd.aws.records.lookup_record` reads no more of an oversized object than it needs to
refuse it: a deploy record is kilobytes, an object in its place could be gigabytes.

The rest of `cicd.aws.records` is tests/cicd/test_records.py.
"""

from __future__ import annotations

import io

from botocore.response import StreamingBody

from cicd.aws.records import MAX_RECORD_BYTES, lookup_record, record_key
from tests.cicd.aws_fakes import StubbedAws, execution_id

BUCKET = "acme-prod-artifacts"
PIPELINE = "web-prod-pipeline"


class _CountingBytes(io.BytesIO):
    """A body that counts the bytes handed out."""

    handed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.handed += len(data)
        return data


def test_an_oversized_record_is_refused_after_reading_one_byte_past_the_limit() -> None:
    aws = StubbedAws()
    size = MAX_RECORD_BYTES + 4096
    raw = _CountingBytes(b" " * size)
    aws.stub("s3").add_response(
        "get_object",
        {"Body": StreamingBody(raw, size)},
        {"Bucket": BUCKET, "Key": record_key(PIPELINE, execution_id(2))},
    )

    found = lookup_record(aws.client("s3"), BUCKET, PIPELINE, execution_id(2))

    where = f"s3://{BUCKET}/{record_key(PIPELINE, execution_id(2))}"
    assert found == f"unreadable deploy record {where}: more than {MAX_RECORD_BYTES} bytes"
    assert raw.handed == MAX_RECORD_BYTES + 1
