"""A service's runtime configuration in one stage: its Parameter Store path, and who may read it.

Defines `config_read_statements` and `config_list_statements` (pure: IAM statements to read the
values under a path, or only to list its names and versions) and `RuntimeConfig`, a component
that creates the managed policy `{service}-{stage}-config-readers` for the instances (or the
function) that run the service: attach it to the instance profile's role or the function's role.

Parameter Store authorizes GetParametersByPath against the *requested path*, not the parameters
it returns, and GetParameters against each parameter
(https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html),
so a reader gets the path's own ARN for the first and `<path>/*` for the second. A recursive
read of a path returns every level below it whatever is denied there, so the path is the unit
of access: one service and stage, nothing above it. SecureString values also need kms:Decrypt on
their key; with the AWS managed key (`aws/ssm`) every principal of the account has it already,
with a customer managed key it is granted here, only through Parameter Store
(`kms:ViaService`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.approver_policy import IAM_POLICY_NAME_MAX
from components.aws_context import aws_context
from components.naming import NamingContext

TYPE = "delivery:cicd:RuntimeConfig"

# Parameter Store's rules for a hierarchy: letters, digits and `_.-` between slashes, at most 15
# levels, no `aws` or `ssm` prefix (PutParameter's Name). A path never ends with `/` here.
_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+){1,14}$")


def check_path(path: str) -> None:
    """ValueError naming the rule when `path` is not a Parameter Store path this project uses."""
    first = path.split("/")[1].lower() if path.startswith("/") else ""
    if not _PATH.match(path) or first.startswith(("aws", "ssm")):
        raise ValueError(
            f"runtime config path {path!r} is not a Parameter Store path: give /<name>[/<name>...] "
            "(letters, digits, '_', '.', '-'; at most 14 levels, so a parameter fits under it; "
            "not starting with aws or ssm), e.g. /web/prod"
        )


def path_arn(region: str, account_id: str, path: str) -> str:
    """The ARN Parameter Store authorizes GetParametersByPath against: the path itself."""
    return f"arn:aws:ssm:{region}:{account_id}:parameter{path}"


def config_list_statements(region: str, account_id: str, path: str) -> list[dict[str, Any]]:
    """List the parameters under `path` with their versions (values of SecureStrings stay
    encrypted: no key access)."""
    return [
        {
            "Sid": "ListConfig" + _sid(path),
            "Effect": "Allow",
            "Action": ["ssm:GetParametersByPath"],
            "Resource": path_arn(region, account_id, path),
        }
    ]


def config_read_statements(
    region: str, account_id: str, path: str, kms_key_arn: str | None
) -> list[dict[str, Any]]:
    """Read the parameters under `path`: by path, and by name (with a version selector, as the
    release's pinned snapshot asks), and decrypt SecureStrings under a customer managed key."""
    statements = [
        *config_list_statements(region, account_id, path),
        {
            "Sid": "ReadConfig" + _sid(path),
            "Effect": "Allow",
            "Action": ["ssm:GetParameters", "ssm:GetParameter"],
            "Resource": f"{path_arn(region, account_id, path)}/*",
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptConfig" + _sid(path),
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": kms_key_arn,
                # Only for Parameter Store's own calls: the key decrypts nothing else for them.
                "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"}},
            }
        )
    return statements


def _sid(path: str) -> str:
    """A statement id suffix from a path (Sids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", path))


class RuntimeConfigArgs(TypedDict):
    service: str
    """Naming: the service; the policy is `{service}-{stage}-config-readers`."""
    stage: str
    """Naming: the stage."""
    path: str
    """The Parameter Store path of the service's configuration in this stage, e.g. `/web/prod`
    (no trailing slash): parameters are `<path>/<NAME>`."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer managed key SecureString parameters under the path use. Omitted: the AWS
    managed key `aws/ssm`, which needs no grant."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Omitted: only the naming tags."""


class RuntimeConfig(pulumi.ComponentResource):
    """The managed policy that lets a service's hosts (or function) read its configuration."""

    path: pulumi.Output[str]
    """The Parameter Store path, e.g. `/web/prod`."""
    reader_policy_arn: pulumi.Output[str]
    """ARN of the managed policy to attach to the instance role or the function's role."""

    def __init__(
        self, name: str, args: RuntimeConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_path(args["path"])
        super().__init__(TYPE, name, None, opts)
        naming = NamingContext.current(args["service"], args["stage"])
        path = args["path"]
        where = aws_context(self)
        policy = aws.iam.Policy(
            f"{name}-readers",
            name=naming.name("config-readers", IAM_POLICY_NAME_MAX),
            description=f"Read {naming.service}'s {naming.stage} configuration under {path}",
            policy=pulumi.Output.all(where.region, where.account_id, args.get("kms_key_arn")).apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": config_read_statements(a[0], a[1], path, a[2]),
                    }
                )
            ),
            tags={**(args.get("tags") or {}), **naming.tags},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.path = pulumi.Output.from_input(path)
        self.reader_policy_arn = policy.arn
        self.register_outputs({"path": self.path, "reader_policy_arn": self.reader_policy_arn})
