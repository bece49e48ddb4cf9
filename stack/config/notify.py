"""Who approves a release and who hears about it: approval, email, HTTPS and Slack."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from components.release_notifications import EMAIL
from stack.config.base import _Model, _no_duplicates

# An IAM role or user ARN (paths allowed), the principals a trust policy may name.
PRINCIPAL_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9_+=,.@/-]+$"


class ApprovalSettings(_Model):
    """A manual approval between Test and Deploy, announced on the service's topic."""

    enabled: bool = False
    timeout_minutes: int = Field(default=1440, ge=5, le=10080)
    require_subscriber: bool | None = Field(
        default=None,
        description="true: an approval nobody hears about is a config error; "
        "default: true in production, false elsewhere",
    )
    approvers: Annotated[
        list[Annotated[str, Field(pattern=PRINCIPAL_PATTERN)]], AfterValidator(_no_duplicates)
    ] = Field(
        default_factory=list,
        max_length=20,
        description="IAM roles or users who may assume the approver role; default: whoever "
        "this account's administrators allow sts:AssumeRole on it",
    )


class SlackSettings(_Model):
    workspace_id: str = Field(pattern=r"^[A-Z0-9]{9,11}$", description="AWS Chatbot workspace ID")
    channel_id: str = Field(pattern=r"^[A-Z0-9]{9,11}$", description="Slack channel ID")


class NotificationSettings(_Model):
    emails: Annotated[list[str], AfterValidator(_no_duplicates)] = Field(default_factory=list)
    https: Annotated[list[str], AfterValidator(_no_duplicates)] = Field(default_factory=list)
    slack: SlackSettings | None = None

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        bad = [e for e in emails if not EMAIL.fullmatch(e)]
        if bad:
            raise ValueError(f"not email addresses: {bad}")
        return emails

    @field_validator("https")
    @classmethod
    def _https(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not u.startswith("https://")]
        if bad:
            raise ValueError(f"endpoints must start with https:// (got {bad})")
        return urls

    @property
    def has_subscriber(self) -> bool:
        return bool(self.emails or self.https or self.slack)
