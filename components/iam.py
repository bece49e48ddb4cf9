"""Small pure builders for IAM documents that several components share.

Defines `service_trust_policy` (who may assume a service role) and `policy_document` (wraps
statements). Component-specific permissions stay beside their component.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def policy_document(statements: Sequence[dict[str, Any]]) -> str:
    """An IAM policy document (JSON text) holding `statements`."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(service: str, account_id: str, source_arn: str | None = None) -> str:
    """`service` (e.g. codebuild.amazonaws.com) may assume the role for this account only.

    The SourceAccount (and, where the service sends it, SourceArn) conditions stop another
    account's resources from using this role through the service: the confused-deputy problem.
    When `source_arn` is omitted, only the account is checked (CodeDeploy sends no SourceArn
    that names a single resource).
    """
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ]
    )
