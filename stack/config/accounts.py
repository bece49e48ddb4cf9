"""One account per stack: every configured ARN that must be in the stack's own account, checked.

A stack runs in the account its credentials belong to (the caller's identity). The policies the
program builds take that account from one source, so an ARN in the stack file that names another
account (an OIDC provider, a connection, a key, a secret) would leave a grant pointing at one
account and a denial at another. `account_problems` lists every such ARN, and the accounts that
are meant to be foreign (an upstream's, a consumer's) when they name this very account, which
would turn a same-account setup into a cross-account one. `check_accounts` raises one
`ConfigError` with all of them, before anything is declared. Pure but for reading nothing: the
caller's account is given.
"""

from __future__ import annotations

from collections.abc import Iterator

from stack.config.errors import ConfigError, path, problem
from stack.config.stack import Settings

Loc = tuple[str | int, ...]


def _arn_account(arn: str) -> str | None:
    """The account field of an ARN (`arn:partition:service:region:account:...`), if any."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4] else None


def _own_arns(settings: Settings) -> Iterator[tuple[Loc, str]]:
    """Every configured ARN that names a resource this stack's account must hold."""
    if settings.github is not None:
        for key in ("oidc_provider_arn", "state_kms_key_arn"):
            value = getattr(settings.github, key)
            if value:
                yield ("github", key), value
    if settings.connection is not None and settings.connection.arn:
        # Connections are resources of one account; a pipeline uses one of its own account's.
        yield ("connection", "arn"), settings.connection.arn
    if settings.artifacts.kms_key_arn:
        yield ("artifacts", "kms_key_arn"), settings.artifacts.kms_key_arn
    report = settings.report
    if report is not None:
        # The reporter's role reads the token's secret (and key) in this account only.
        for key in ("token_secret_arn", "token_kms_key_arn"):
            value = getattr(report, key)
            if value:
                yield ("report", key), value
    releases = settings.releases
    if releases is not None and releases.kms_key and releases.kms_key != "create":
        yield ("releases", "kms_key"), releases.kms_key
    for i, service in enumerate(settings.services):
        if service.runtime_config.kms_key_arn:
            yield (
                ("services", i, "runtime_config", "kms_key_arn"),
                service.runtime_config.kms_key_arn,
            )
        suites: list[tuple[Loc, object]] = [(("build",), service.build)]
        suites += [(("tests", j), t) for j, t in enumerate(service.tests)]
        suites += [(("deploy", "verify", j), v) for j, v in enumerate(service.deploy.verify)]
        if service.deploy.release_task is not None:
            suites.append((("deploy", "release_task"), service.deploy.release_task))
        for at, suite in suites:
            for name, var in getattr(suite, "environment", {}).items():
                if var.secret and var.secret.startswith("arn:"):
                    yield ("services", i, *at, "environment", name, "secret"), var.secret


def account_problems(settings: Settings, account: str) -> list[tuple[Loc, str, str, str]]:
    """(key path, value, why, fix) for every ARN or account at odds with `account`."""
    found: list[tuple[Loc, str, str, str]] = []
    for loc, arn in _own_arns(settings):
        named = _arn_account(arn)
        if named is not None and named != account:
            found.append(
                (
                    loc,
                    arn,
                    f"names account {named}, but this stack runs in account {account} (the "
                    "caller's): the stack's policies would grant in one account and deny in "
                    "another",
                    f"give the ARN of the one in account {account}, or run the stack with that "
                    f"account's credentials",
                )
            )
    for name, upstream in settings.upstreams.items():
        if upstream.account == account:
            found.append(
                (
                    ("upstreams", name, "account"),
                    account,
                    "is this stack's own account; `account` declares an upstream in another one",
                    "pulumi config rm --path '{key}' (same-account promotion needs no account)",
                )
            )
        key = upstream.kms_key_arn
        expected = upstream.account or account
        if key and _arn_account(key) not in (None, expected):
            said = f"upstreams.{name}.account" if upstream.account else "this stack's"
            found.append(
                (
                    ("upstreams", name, "kms_key_arn"),
                    key,
                    f"names account {_arn_account(key)}, but the upstream's releases are in "
                    f"account {expected} ({said})",
                    f"give the key of the upstream's releases, in account {expected}",
                )
            )
    if settings.releases is not None:
        for j, consumer in enumerate(settings.releases.consumers):
            if consumer.account == account:
                found.append(
                    (
                        ("releases", "consumers", j, "account"),
                        account,
                        "is this stack's own account; `account` declares a consumer in another one",
                        "pulumi config rm --path '{key}' (a consumer in this account needs none)",
                    )
                )
    return found


def check_accounts(namespace: str, settings: Settings, account: str) -> None:
    """Raise one `ConfigError` listing every account mismatch; nothing is declared before it."""
    found = account_problems(settings, account)
    if not found:
        return
    lines = [
        problem(namespace, loc, value, why, fix.format(key=f"{namespace}:{path(loc)}"))
        for loc, value, why, fix in found
    ]
    raise ConfigError(
        f"Stack config for stage {settings.stage!r} has {len(lines)} account problem(s) "
        f"(this stack runs in account {account}); nothing was deployed:\n" + "\n".join(lines)
    )
