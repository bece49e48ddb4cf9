"""Reading config: from Pulumi's runtime, through the models, into `Settings` or one error.

`parse_settings` is pure (raw values in, `Settings` or `ConfigError` out) so tests need no Pulumi
runtime; `load_settings` reads the running stack's config and calls it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
from pydantic import ValidationError

from stack.config.base import _Model
from stack.config.build import looks_secret
from stack.config.checks import Parts, cross_problems
from stack.config.errors import ConfigError, describe_all, dig, path, problem
from stack.config.service import ServiceSettings
from stack.config.stack import Settings
from stack.config.stage import (
    ArtifactSettings,
    EnvironmentSettings,
    ReleaseSettings,
    UpstreamSettings,
)

TOP_LEVEL_KEYS = (
    "connection",
    "artifacts",
    "environment",
    "services",
    "github",
    "releases",
    "upstreams",
    "report",
    "dashboard",
)
TOKEN_KEY = "githubToken"


def parse_settings(
    namespace: str,
    stage: str,
    raw: Mapping[str, Any],
    *,
    github_token: Literal["missing", "plaintext", "secret"] = "missing",
    github_provider_owner: str | None = None,
) -> Settings:
    """Validate raw config values (already JSON-decoded) into `Settings`, or raise `ConfigError`.

    `raw` maps top-level keys (without namespace) to values; keys outside `TOP_LEVEL_KEYS` are
    reported as unknown. `github_token` says how `githubToken` is set (its value never comes
    here); `github_provider_owner` is the pulumi-github provider's `github:owner`, if set.
    Pure: does not touch Pulumi's runtime, so it is easy to test.
    """
    problems: list[str] = []
    problems.extend(
        _github_problems(namespace, raw.get("github"), github_token, github_provider_owner)
    )
    for key in sorted(set(raw) - set(TOP_LEVEL_KEYS)):
        problems.append(
            problem(
                namespace,
                (key,),
                raw[key],
                f"unknown key; this project reads {', '.join(TOP_LEVEL_KEYS)}",
                f"pulumi config rm {namespace}:{key}",
            )
        )
    problems.extend(_plaintext_secrets(namespace, raw.get("services")))
    problems.extend(_required_check_problems(namespace, raw, github_token))
    problems.extend(_report_problems(namespace, raw.get("report"), github_token))
    data = {k: raw[k] for k in TOP_LEVEL_KEYS if k in raw}
    settings: Settings | None = None
    try:
        settings = Settings.model_validate({"stage": stage, **data})
    except ValidationError as exc:
        for err in exc.errors():
            problems.extend(describe_all(namespace, err, Settings))
        problems.extend(
            p for p in _partial_cross_problems(namespace, stage, data) if p not in problems
        )
    if problems or settings is None:
        raise ConfigError(
            f"Stack config for stage {stage!r} has {len(problems)} problem(s); "
            "nothing was deployed:\n" + "\n".join(problems)
        )
    return settings


def _partial_cross_problems(namespace: str, stage: str, data: Mapping[str, Any]) -> list[str]:
    """`cross_problems` over the parts of an invalid config that are valid on their own."""

    def valid(model: type[_Model], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError:
            return None

    raw_services = data.get("services")
    raw_upstreams = data.get("upstreams", {})
    upstreams: dict[str, UpstreamSettings] | None = None
    if isinstance(raw_upstreams, Mapping):
        parsed = {name: valid(UpstreamSettings, value) for name, value in raw_upstreams.items()}
        upstreams = {k: v for k, v in parsed.items() if v is not None}
    services = [
        (i, service)
        for i, raw in enumerate(raw_services if isinstance(raw_services, list) else [])
        if (service := valid(ServiceSettings, raw)) is not None
    ]
    parts = Parts(
        stage=stage,
        environment=valid(EnvironmentSettings, data.get("environment", {})),
        artifacts=valid(ArtifactSettings, data.get("artifacts", {})),
        services=services,
        releases=valid(ReleaseSettings, data["releases"]) if "releases" in data else None,
        upstreams=upstreams,
        has_connection="connection" in data,
        all_services=isinstance(raw_services, list) and len(services) == len(raw_services),
        promotions=[
            (i, raw["promote_from"])
            for i, raw in enumerate(raw_services if isinstance(raw_services, list) else [])
            if isinstance(raw, Mapping) and isinstance(raw.get("promote_from"), str)
        ],
    )
    return [
        problem(
            namespace,
            finding.loc,
            dig(data, finding.loc),
            finding.why,
            finding.fix.format(key=f"{namespace}:{path(finding.loc)}", namespace=namespace),
        )
        for finding in cross_problems(parts)
    ]


def _github_problems(
    namespace: str, github: Any, token: str, provider_owner: str | None
) -> list[str]:
    """Cross-key problems of the GitHub side that no single model can see."""
    if not isinstance(github, Mapping):
        return []
    found = []
    if github.get("manage_repository", True) and token != "secret":
        found.append(
            problem(
                namespace,
                ("github", "manage_repository"),
                True,
                f"managing the GitHub repository needs a token in {namespace}:{TOKEN_KEY}, "
                + ("set in plaintext; it must be a secret" if token == "plaintext" else "not set"),
                f"pulumi config set --secret {TOKEN_KEY} (prompts), or set "
                f"github.manage_repository to false",
            )
        )
    repository = github.get("repository")
    if provider_owner and isinstance(repository, str) and "/" in repository:
        owner = repository.split("/", 1)[0]
        if owner.lower() != provider_owner.lower():
            found.append(
                problem(
                    namespace,
                    ("github", "repository"),
                    repository,
                    f"its owner {owner!r} differs from the GitHub provider's owner "
                    f"{provider_owner!r} (github:owner), so the provider would manage another "
                    "organisation's repository",
                    f"pulumi config set github:owner {owner} (or fix github.repository)",
                )
            )
    return found


def _required_check_problems(namespace: str, raw: Mapping[str, Any], token: str) -> list[str]:
    """`pull_requests.require_check` writes a ruleset with the stack's GitHub token, which only
    a stack that manages its GitHub side (`github.manage_repository`, a secret token) has."""
    github = raw.get("github")
    managed = isinstance(github, Mapping) and github.get("manage_repository", True) is True
    services = raw.get("services")
    found = []
    for i, service in enumerate(services if isinstance(services, list) else []):
        reviews = service.get("pull_requests") if isinstance(service, Mapping) else None
        if not isinstance(reviews, Mapping) or reviews.get("require_check") is not True:
            continue
        if managed and token == "secret":
            continue
        why = (
            "a required check is a ruleset written with the stack's GitHub token: it needs "
            f"github.manage_repository true and {namespace}:{TOKEN_KEY} set as a secret"
        )
        found.append(
            problem(
                namespace,
                ("services", i, "pull_requests", "require_check"),
                True,
                why,
                f"pulumi config set --path '{namespace}:services[{i}].pull_requests."
                "require_check' false (then require the status in the repository's settings), "
                f"or set github.repository and `pulumi config set --secret {TOKEN_KEY}`",
            )
        )
    return found


def _report_problems(namespace: str, report: Any, token: str) -> list[str]:
    """Reporting to GitHub needs a token kept secret: githubToken, or a secret's ARN."""
    if not isinstance(report, Mapping) or report.get("github", True) is not True:
        return []
    if report.get("token_secret_arn") or token == "secret":
        return []
    return [
        problem(
            namespace,
            ("report", "github"),
            True,
            f"reporting to GitHub needs a token: {namespace}:{TOKEN_KEY} is "
            + ("set in plaintext; it must be a secret" if token == "plaintext" else "not set")
            + ", and report.token_secret_arn is not set",
            f"pulumi config set --secret {TOKEN_KEY} (prompts), or pulumi config set --path "
            f"'{namespace}:report.token_secret_arn' <secret-arn>, or set report.github to false",
        )
    ]


def _plaintext_secrets(namespace: str, services: Any) -> list[str]:
    """Problems for build variables whose name looks secret but whose value is plaintext."""
    found = []
    for i, service in enumerate(services if isinstance(services, list) else []):
        if not isinstance(service, Mapping):
            continue
        projects: list[tuple[tuple[str | int, ...], Any]] = [(("build",), service.get("build"))]
        tests = service.get("tests")
        projects += [
            (("tests", j), t) for j, t in enumerate(tests if isinstance(tests, list) else [])
        ]
        deploy = service.get("deploy")
        deploy = deploy if isinstance(deploy, Mapping) else {}
        verify = deploy.get("verify")
        projects += [
            (("deploy", "verify", j), v)
            for j, v in enumerate(verify if isinstance(verify, list) else [])
        ]
        projects.append((("deploy", "release_task"), deploy.get("release_task")))
        for at, project in projects:
            env = project.get("environment") if isinstance(project, Mapping) else None
            for name, value in (env or {}).items() if isinstance(env, Mapping) else ():
                plaintext = not isinstance(value, Mapping) or "value" in value
                if plaintext and looks_secret(str(name)):
                    loc = ("services", i, *at, "environment", name)
                    found.append(
                        problem(
                            namespace,
                            loc,
                            "(plaintext value hidden)",
                            "looks like a secret but is plaintext; keep it in Secrets Manager or "
                            "Parameter Store and reference it",
                            f"pulumi config set --path '{namespace}:{path(loc)}.secret' "
                            f"<secret-arn> (and remove .value)",
                        )
                    )
    return found


def load_settings(config: pulumi.Config | None = None) -> Settings:
    """Read this project's keys from the running stack's config and validate them.

    When `config` is omitted, the project's own namespace is used. Values set with `--secret`
    under this project's keys are rejected: secrets belong in Secrets Manager/SSM references.
    """
    from pulumi.runtime import config as runtime_config

    config = config or pulumi.Config()
    namespace = config.name
    token_key = f"{namespace}:{TOKEN_KEY}"
    token: Literal["missing", "plaintext", "secret"] = "missing"
    if runtime_config.get_config(token_key) is not None:
        # The CLI's language host may pass secret keys by environment rather than by API.
        secret = runtime_config.is_config_secret(token_key) or (
            token_key in runtime_config.get_config_secret_keys_env()
        )
        token = "secret" if secret else "plaintext"
    raw: dict[str, Any] = {}
    for key in _keys_in_namespace(namespace):
        text = config.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text)
        except json.JSONDecodeError:
            raw[key] = text
    return parse_settings(
        namespace,
        pulumi.get_stack(),
        raw,
        github_token=token,
        github_provider_owner=pulumi.Config("github").get("owner"),
    )


def _keys_in_namespace(namespace: str) -> list[str]:
    # Pulumi has no public API to list config keys; the runtime map (set by the language host
    # via PULUMI_CONFIG, or by tests) is the only way to see typos such as `servics`.
    from pulumi.runtime import config as runtime_config

    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    # The token is read where it is used (`require_secret`), never into plain settings.
    return sorted(
        k[len(prefix) :]
        for k in everything
        if k.startswith(prefix) and k[len(prefix) :] not in OTHER_KEYS
    )


# Keys in this namespace that other parts of the program read (see `__main__.py`).
OTHER_KEYS: set[str] = {TOKEN_KEY}
