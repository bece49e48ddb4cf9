"""Reads that may be refused for lack of permission, for commands that show what they can.

`status` reads several things (pipeline state, history, deployments, the connection, published
releases); a user allowed most but not all of them should still see most of it. `attempt` runs
one read and turns an access-denied answer into `Unknown`, which names the missing IAM action.
Any other AWS error still ends the command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from cicd.aws.errors import is_access_denied, unknown_for_lack_of
from cicd.model.status import Unknown

T = TypeVar("T")


def attempt(read: Callable[[], T]) -> T | Unknown:
    """`read()`, or `Unknown("unknown (needs <iam action>)")` when AWS denies it."""
    try:
        return read()
    except ClientError as error:
        if is_access_denied(error):
            return Unknown(unknown_for_lack_of(error))
        raise
