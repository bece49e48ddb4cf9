"""The GitHub connection (AWS CodeConnections) that CodePipeline's source action uses.

Defines `GitHubConnection`: creates a connection *or* adopts an existing one by ARN, and exports
its ARN, status and the console page where a new connection's one-time GitHub handshake is done.
It does not grant anything: roles that use the connection get `UseConnection` from
`use_connection_statement`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.naming import NamingContext

TYPE = "delivery:cicd:GitHubConnection"


class GitHubConnectionArgs(TypedDict):
    service: str
    """Naming: the service (or project, for a connection shared by all services)."""
    stage: str
    """Naming: the stage, e.g. dev."""
    connection_name: NotRequired[str]
    """Name of a new connection (max 32 chars). Omitted: `{service}-{stage}-github`, shortened."""
    existing_connection_arn: NotRequired[pulumi.Input[str]]
    """Adopt this connection instead of creating one (read only; nothing is changed or deleted)."""
    protect: NotRequired[bool]
    """Omitted: False. True: a created connection is protected and kept on delete, because a
    replacement would need the GitHub handshake again and break every pipeline using it."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


def console_url(region: str) -> str:
    """The console page that lists connections; a PENDING one is completed from there."""
    return f"https://console.aws.amazon.com/codesuite/settings/connections?region={region}"


def connection_service(connection_arn: str) -> str:
    """`codeconnections` or `codestar-connections`: the service prefix in the connection's ARN."""
    service = connection_arn.split(":")[2] if connection_arn.count(":") >= 5 else ""
    if service not in ("codeconnections", "codestar-connections"):
        raise ValueError(
            f"{connection_arn!r} is not a connection ARN (arn:aws:codeconnections:<region>:"
            "<account>:connection/<id>, or the older codestar-connections form)"
        )
    return service


def use_connection_statement(connection_arn: str) -> dict[str, Any]:
    """IAM statement letting a role use the connection, and only that one.

    The action's prefix must be the one in the connection's ARN: CodeStar Connections was renamed
    CodeConnections, and IAM authorizes `codeconnections:UseConnection` for a codeconnections ARN
    and `codestar-connections:UseConnection` for a connection created under the old name:
    https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html
    """
    return {
        "Sid": "UseGitHubConnection",
        "Effect": "Allow",
        "Action": f"{connection_service(connection_arn)}:UseConnection",
        "Resource": connection_arn,
    }


class GitHubConnection(pulumi.ComponentResource):
    """A CodeConnections connection to GitHub, created here or adopted by ARN."""

    arn: pulumi.Output[str]
    """ARN of the connection (created or adopted), for a pipeline's source action."""
    status: pulumi.Output[str]
    """`PENDING` until someone completes the GitHub handshake in the console, then `AVAILABLE`."""
    console_url: pulumi.Output[str]
    """The console page listing connections, where a pending one is completed."""

    def __init__(
        self, name: str, args: GitHubConnectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        existing = args.get("existing_connection_arn")
        new_name = args.get("connection_name") or naming.name("github", 32)
        protect = args.get("protect", False)
        if existing is not None and "connection_name" in args:
            raise ValueError(
                f"GitHubConnection {name!r}: give existing_connection_arn or connection_name, not "
                "both (got both); remove one"
            )
        child = pulumi.ResourceOptions(parent=self)
        if existing is not None:
            # `get` reads the connection's current state (including its status) without managing
            # it, so a shared connection survives `pulumi destroy` of any one stack.
            connection = aws.codeconnections.Connection.get(
                f"{name}-connection", existing, opts=child
            )
        else:
            connection = aws.codeconnections.Connection(
                f"{name}-connection",
                name=new_name,
                provider_type="GitHub",
                tags={**naming.tags, **(args.get("tags") or {})},
                opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
            )
        self.arn = connection.arn
        self.status = connection.connection_status
        self.console_url = aws_context(self).region.apply(console_url)
        self.register_outputs(
            {"arn": self.arn, "status": self.status, "console_url": self.console_url}
        )
