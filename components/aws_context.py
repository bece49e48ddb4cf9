"""The account, region and partition a component's resources land in, asked once per provider.

Defines `aws_context(resource)`. Every component needs the account and region (for ARNs it must
know before the resources exist, and for globally unique names); asking the provider each time
costs one invoke per component (a round trip to the provider plugin in a real `pulumi preview`),
about a dozen per service. The answers depend only on the provider, so they are asked once per
provider per program run and shared. Nothing here declares resources.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pulumi.runtime import settings


@dataclass(frozen=True)
class AwsContext:
    """Where resources of one AWS provider land (Outputs, resolved once per provider)."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]


# One program run at a time: the cache belongs to the runtime's monitor (a new one per
# `pulumi up`, or per test under mocks) and is dropped when that changes. The monitor is held,
# not its id, so a new run can never be mistaken for an old one.
_cache: dict[object, AwsContext] = {}
_owner: list[object] = []


def _own_cache() -> dict[object, AwsContext]:
    monitor = settings.get_monitor()
    if not _owner or _owner[0] is not monitor:
        _cache.clear()
        _owner[:] = [monitor]
    return _cache


def caller_account() -> str:
    """The default provider's account, now (a blocking invoke), shared with `aws_context`.

    For checks that must finish before any resource is declared (a configured ARN of another
    account); the answer seeds the default provider's context, so the program still asks once.
    """
    cache = _own_cache()
    account = aws.get_caller_identity().account_id
    found = cache.get("default")
    if found is None:
        partition = aws.get_partition_output()
        cache["default"] = AwsContext(
            account_id=pulumi.Output.from_input(account),
            region=aws.get_region_output().region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )
    return account


def aws_context(resource: pulumi.Resource) -> AwsContext:
    """The context of the AWS provider `resource` uses (its own, or the default provider).

    Invokes go to that provider explicitly, so a component given another region's provider gets
    that region, and the cached answer is never shared across providers.
    """
    cache = _own_cache()
    provider = resource.get_provider("aws:index:getCallerIdentity")
    key: object = provider if provider is not None else "default"
    found = cache.get(key)
    if found is None:
        opts = pulumi.InvokeOutputOptions(provider=provider) if provider is not None else None
        partition = aws.get_partition_output(opts=opts)
        found = AwsContext(
            account_id=aws.get_caller_identity_output(opts=opts).account_id,
            region=aws.get_region_output(opts=opts).region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )
        cache[key] = found
    return found
