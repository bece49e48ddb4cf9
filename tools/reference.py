"""Write docs/reference.md, one section per public component, from the code: `make reference`.

Where each part comes from, so that none of it can drift from the code:

- purpose, inputs (type, required, description with what omission means and allowed values),
  outputs and nested types: the package schema Pulumi's analyzer infers for the plugin
  (`components.provider.schema`); components the plugin leaves out are analysed on their own.
- IAM: each component's example run under Pulumi's mocks (`stack.offline`), listing every role,
  policy and resource policy it declares, with the trust and statement Sids of each.
- examples: `EXAMPLES` below. The same text is what runs for the IAM table, so an example that
  no longer works stops the generation.

`python tools/reference.py` writes the page; `--check` only compares, and exits 1 when the
checked-in page differs (what `tests/test_reference.py` does).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import textwrap
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.util import camel_case

import components
from components import provider
from stack.offline import PROJECT, Recorder, Resource, reset_pulumi, run_pulumi

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference.md"
COMMAND = "make reference"

CONFIG = {f"{PROJECT}:github_token": "offline-placeholder-token"}
"""Config the examples read, set as secrets while they run under mocks."""

EXAMPLES: Mapping[str, str] = {
    "ServicePipeline": """
        from components import ServicePipeline

        chain = ServicePipeline(
            "orders",
            {
                "service": "orders",
                "stage": "dev",
                "repository": "acme/orders",
                "branch": "main",
                "tests": [{"name": "unit"}],
                "approval_timeout_minutes": 60,
                "notify": {"email": ["orders-team@example.com"]},
                "deploy": {
                    "platform": "server",
                    "targets": [
                        {
                            "name": "web",
                            "autoscaling_groups": ["orders-web"],
                            "target_group": "orders-web",
                            "endpoint": "https://orders.dev.example.com",
                        }
                    ],
                    "verify": [{"name": "smoke", "target": "web"}],
                },
            },
        )
        pulumi.export("pipeline", chain.pipeline_name)
    """,
    "ApproverPolicy": """
        from components import ApproverPolicy

        approvers = ApproverPolicy(
            "orders-approvers",
            {
                "service": "orders",
                "stage": "prod",
                "pipeline_arn": "arn:aws:codepipeline:eu-west-1:111111111111:orders-prod-pipeline",
            },
        )
        pulumi.export("approver_policy", approvers.policy_arn)
    """,
    "ApproverRole": """
        from components import ApproverRole

        approver = ApproverRole(
            "orders-approvers",
            {
                "service": "orders",
                "stage": "prod",
                "pipeline_arn": "arn:aws:codepipeline:eu-west-1:111111111111:orders-prod-pipeline",
                "principals": ["arn:aws:iam::111111111111:role/release-managers"],
                "permissions_boundary": "arn:aws:iam::111111111111:policy/platform-prod-boundary",
            },
        )
        pulumi.export("approver_role", approver.role_arn)
    """,
    "ArtifactStore": """
        from components import ArtifactStore

        store = ArtifactStore("artifacts", {"service": "shared", "stage": "dev", "expire_days": 14})
        pulumi.export("artifact_bucket", store.bucket_name)
    """,
    "PullRequestPipeline": """
        from components import PullRequestPipeline

        project = "arn:aws:codebuild:eu-west-1:111111111111:project/orders-staging-pr-build"
        reviews = PullRequestPipeline(
            "orders-pull-requests",
            {
                "service": "orders",
                "stage": "staging",
                "connection_arn": "arn:aws:codeconnections:eu-west-1:111111111111:connection/abc",
                "repository": "acme/orders",
                "branch": "main",
                "file_paths": ["src/**"],
                "build": {
                    "name": "Build",
                    "project_name": "orders-staging-pr-build",
                    "project_arn": project,
                },
                "artifact_bucket_name": "orders-staging-pr-artifacts",
                "artifact_bucket_arn": "arn:aws:s3:::orders-staging-pr-artifacts",
            },
        )
        pulumi.export("required_status_check", reviews.status_context)
    """,
    "RequiredStatusChecks": """
        from components import RequiredStatusChecks

        checks = RequiredStatusChecks(
            "orders-required-checks",
            {
                "repository": "acme/orders",
                "branch": "main",
                "checks": ["cicd/orders-staging-pr"],
                "github_token": pulumi.Config().require_secret("github_token"),
            },
        )
        pulumi.export("ruleset", checks.ruleset_name)
    """,
    "BuildProject": """
        from components import BuildProject

        build = BuildProject(
            "orders-build",
            {
                "service": "orders",
                "stage": "dev",
                "role": "build",
                "artifact_bucket_name": "shared-dev-artifacts",
                "artifact_bucket_arn": "arn:aws:s3:::shared-dev-artifacts",
                "environment": [
                    {"name": "NPM_TOKEN", "type": "SECRETS_MANAGER", "value": "orders/npm-token"}
                ],
            },
        )
        pulumi.export("build_project", build.project_name)
    """,
    "DeliveryPipeline": """
        from components import DeliveryPipeline

        projects = "arn:aws:codebuild:eu-west-1:111111111111:project"
        pipeline = DeliveryPipeline(
            "orders-pipeline",
            {
                "service": "orders",
                "stage": "dev",
                "artifact_bucket_name": "shared-dev-artifacts",
                "artifact_bucket_arn": "arn:aws:s3:::shared-dev-artifacts",
                "source": {
                    "connection_arn": "arn:aws:codeconnections:eu-west-1:111111111111:connection/1",
                    "repository": "acme/orders",
                    "branch": "main",
                },
                "build": {
                    "name": "Build",
                    "project_name": "orders-dev-build",
                    "project_arn": f"{projects}/orders-dev-build",
                },
                "package": {
                    "name": "Package",
                    "project_name": "orders-dev-package",
                    "project_arn": f"{projects}/orders-dev-package",
                },
                "deploy": {
                    "platform": "lambda",
                    "lambda_targets": [
                        {"name": "api", "function_name": "orders-api", "alias": "live"},
                    ],
                },
            },
        )
        pulumi.export("pipeline", pipeline.pipeline_name)
    """,
    "Deployment": """
        from components import Deployment

        deployment = Deployment(
            "orders-deploy",
            {
                "service": "orders",
                "stage": "prod",
                "platform": "server",
                "targets": [
                    {"name": "web", "autoscaling_groups": ["orders-web"], "target_group": "web"},
                ],
                "strategy": "CodeDeployDefault.OneAtATime",
            },
        )
        pulumi.export("deployment_groups", deployment.deployment_group_names)
    """,
    "GitHubActionsOidc": """
        from components import GitHubActionsOidc

        oidc = GitHubActionsOidc(
            "gha",
            {"service": "orders", "stage": "dev", "repository": "acme/orders"},
        )
        pulumi.export("deploy_role", oidc.deploy_role_arn)
    """,
    "GitHubConnection": """
        from components import GitHubConnection

        connection = GitHubConnection("github", {"service": "shared", "stage": "dev"})
        pulumi.export("connection_status", connection.status)
    """,
    "GitHubRepositorySettings": """
        from components import GitHubRepositorySettings

        settings = GitHubRepositorySettings(
            "github",
            {
                "repository": "acme/orders",
                "stage": "prod",
                "preview_role_arn": "arn:aws:iam::111111111111:role/orders-prod-gha-preview",
                "deploy_role_arn": "arn:aws:iam::111111111111:role/orders-prod-gha-deploy",
                "github_token": pulumi.Config().require_secret("github_token"),
                "reviewer_team_ids": [1234567],
            },
        )
        pulumi.export("environment", settings.environment_name)
    """,
    "PermissionsBoundary": """
        from components import PermissionsBoundary

        boundary = PermissionsBoundary("boundary", {"stage": "dev"})
        pulumi.export("boundary", boundary.policy_arn)
    """,
    "PipelineNotificationRule": """
        from components import PipelineNotificationRule

        PipelineNotificationRule(
            "orders-notify",
            {
                "service": "orders",
                "stage": "dev",
                "pipeline_arn": "arn:aws:codepipeline:eu-west-1:111111111111:orders-dev-pipeline",
                "topic_arn": "arn:aws:sns:eu-west-1:111111111111:orders-dev-releases",
            },
        )
    """,
    "PromotionTrigger": """
        from components import PromotionTrigger

        PromotionTrigger(
            "orders-promotion",
            {
                "service": "orders",
                "stage": "prod",
                "pipeline_arn": "arn:aws:codepipeline:eu-west-1:111111111111:orders-prod-pipeline",
                "source_action": "Release",
                "bucket_name": "staging-releases",
                "upstream_account_id": "222222222222",
            },
        )
    """,
    "ReleaseAlarms": """
        from components import ReleaseAlarms

        alarms = ReleaseAlarms(
            "orders-alarms",
            {"service": "orders", "stage": "prod", "function_name": "orders-api", "alias": "live"},
        )
        pulumi.export("alarms", alarms.alarm_names)
    """,
    "SyntheticTraffic": """
        from components import SyntheticTraffic

        traffic = SyntheticTraffic(
            "orders-traffic",
            {
                "service": "orders",
                "stage": "staging",
                "target": "web",
                "endpoint": "https://orders.staging.example.com",
                "checks_file": "templates/smoke/checks.py",
                "artifact_bucket_name": "acme-staging-artifacts",
                "artifact_bucket_arn": "arn:aws:s3:::acme-staging-artifacts",
            },
        )
        pulumi.export("traffic_alarms", traffic.alarm_names)
    """,
    "ReleaseChannel": """
        from components import ReleaseChannel

        channel = ReleaseChannel(
            "releases",
            {
                "stage": "staging",
                "consumers": [{"stage": "prod", "account_id": "333333333333"}],
                "create_kms_key": True,
            },
        )
        pulumi.export("release_bucket", channel.bucket_name)
    """,
    "DeliveryDashboard": """
        from components import DeliveryDashboard

        board = DeliveryDashboard(
            "delivery-dashboard",
            {
                "service": "shared",
                "stage": "prod",
                "services": [{"name": "orders", "alarm_names": ["orders-prod-5xx"]}],
                "log_group_name": "/aws/lambda/shared-prod-reporter",
            },
        )
        pulumi.export("dashboard", board.dashboard_name)
    """,
    "DeliveryReporter": """
        from components import DeliveryReporter

        reporter = DeliveryReporter(
            "delivery-reporter",
            {
                "service": "shared",
                "stage": "prod",
                "production": True,
                "pipelines": [{"name": "orders-prod-pipeline", "service": "orders"}],
                # An existing secret holding the GitHub token (or github_token: a secret).
                "token_secret_arn": (
                    "arn:aws:secretsmanager:eu-west-1:111111111111:secret:github-token-AbCdEf"
                ),
            },
        )
        pulumi.export("reporter", reporter.function_name)
    """,
    "ReleaseNotifications": """
        from components import ReleaseNotifications

        releases = ReleaseNotifications(
            "orders-releases",
            {
                "service": "orders",
                "stage": "prod",
                "email": ["orders-team@example.com"],
                "slack": {"workspace_id": "T07EA123LEP", "channel_id": "C07EZ1ABC23"},
            },
        )
        pulumi.export("topic", releases.topic_arn)
    """,
    "ReleaseSteps": """
        from components import ReleaseSteps

        steps = ReleaseSteps(
            "release-steps",
            {
                "service": "shared",
                "stage": "staging",
                "artifact_bucket_name": "shared-staging-artifacts",
                "artifact_bucket_arn": "arn:aws:s3:::shared-staging-artifacts",
                "packaged_pipelines": ["orders-staging-pipeline", "billing-staging-pipeline"],
            },
        )
        pulumi.export("package_project", steps.package_project_name)
    """,
    "RuntimeConfig": """
        from components import RuntimeConfig

        config = RuntimeConfig(
            "orders-config", {"service": "orders", "stage": "prod", "path": "/orders/prod"}
        )
        # Attach to the instance profile's role (or the function's role).
        pulumi.export("config_reader_policy", config.reader_policy_arn)
    """,
    "Upstream": """
        from components import Upstream

        upstream = Upstream(
            "staging",
            {
                "stage": "prod",
                "upstream_stage": "staging",
                "bucket_name": "app-staging-releases",
                "account_id": "222222222222",
            },
        )
        pulumi.export("promote_from", upstream.bucket_name)
    """,
}
"""Each public component's example: a Pulumi program, run as written for the IAM table.

Written as `ruff format` lays it out at the top level, because `make lint` checks the page's
code blocks too; a trailing comma keeps split a line that would not fit in this file."""


def public_components() -> list[type[pulumi.ComponentResource]]:
    """Every exported component, `ServicePipeline` first (the whole chain), then by name."""
    found = [
        value
        for name, value in vars(components).items()
        if name in components.__all__
        and inspect.isclass(value)
        and issubclass(value, pulumi.ComponentResource)
    ]
    return sorted(found, key=lambda c: (c is not components.ServicePipeline, c.__name__))


# The page -----------------------------------------------------------------------------------


def render() -> str:
    everything = public_components()
    missing = sorted({c.__name__ for c in everything} - set(EXAMPLES))
    if missing:
        raise SystemExit(f"tools/reference.py: EXAMPLES has no example for {missing}")
    # One schema for what the plugin hosts; each excluded component analysed alone (its types
    # clash with the hosted ones'), each type kept with the Python class it came from.
    analysed = [(list(provider.COMPONENTS), provider.schema())]
    for component in everything:
        if component.__name__ in provider.EXCLUDED:
            analysed.append(([component], provider.schema([component])))
    types: dict[type, tuple[dict[str, Any], Callable[[str], str]]] = {}
    sections: list[str] = []
    by_component: dict[type, tuple[dict[str, Any], Callable[[str], str]]] = {}
    for hosted, package in analysed:
        classes = provider.typed_dicts(hosted)
        link = _linker(classes)
        for name, cls in classes.items():
            spec = package["types"].get(f"{provider.PACKAGE}:index:{name}")
            if spec is not None:
                types.setdefault(cls, (spec, link))
        for component in hosted:
            by_component[component] = (package, link)
    for component in everything:
        package, link = by_component[component]
        sections.append(_component(component, package, link))
    users = _users(everything)
    type_sections = [
        _type(cls, spec, link, users.get(cls, []))
        for cls, (spec, link) in sorted(types.items(), key=lambda item: _python_path(item[0]))
    ]
    contents = "\n".join(
        f"- [{c.__name__}](#{_anchor(c.__name__)}): {_first_line(c)}" for c in everything
    )
    header = f"""# Component reference

Generated from the code by `{COMMAND}` (`tools/reference.py`); edit the docstrings, not this page.
Each component is `Component(name, args, opts)`, `args` a TypedDict (see
[components.md](components.md)). Keys are Python's; programs in other languages use the
`delivery` plugin package and spell them in camelCase (`artifact_bucket_arn` is
`artifactBucketArn`). `Input[...]` accepts another resource's output; the other inputs must be
known when the program runs. The IAM tables list what each example declares, read from a run
under Pulumi's mocks: optional inputs add or remove statements.

{contents}
"""
    return "\n".join([header, *sections, "## Types\n", *type_sections]).rstrip() + "\n"


def _component(
    component: type[pulumi.ComponentResource],
    package: dict[str, Any],
    link: Callable[[str], str],
) -> str:
    name = component.__name__
    resource = package["resources"][f"{provider.PACKAGE}:index:{name}"]
    args = provider.args_type(component)
    if name in provider.EXCLUDED:
        other_languages = f"Not in the plugin package yet: {provider.EXCLUDED[name]}"
    else:
        other_languages = (
            f"Other languages: `{provider.PACKAGE}:index:{name}` in the plugin package."
        )
    required = set(resource.get("requiredInputs", []))
    keys = _keys(args, resource["inputProperties"])
    inputs = _table(
        ["key", "type", "", "description"],
        [
            [
                f"`{key}`",
                _type_text(spec, link),
                "required" if camel in required else "optional",
                _cell(spec.get("description", "")),
            ]
            # Required keys first, each group in the order the TypedDict declares them.
            for key, camel, spec in sorted(keys, key=lambda k: k[1] not in required)
        ],
    )
    always = set(resource.get("required", []))
    outputs = _table(
        ["output", "type", "description"],
        [
            [
                f"`{key}`",
                _type_text(spec, link, output=True) + ("" if camel in always else " or None"),
                _cell(spec.get("description", "")),
            ]
            for key, camel, spec in _keys(component, resource.get("properties", {}))
        ],
    )
    example = "import pulumi\n" + textwrap.dedent(EXAMPLES[name]).strip()
    return f"""## {name}

`{_python_path(component)}`, registered as `delivery:cicd:{name}`. {other_languages}

{resource.get("description", "")}

**Inputs** (`{_python_path(args)}`)

{inputs}

**Outputs**

{outputs}

**IAM declared by the example**

{_iam(example)}

**Example**

```python
{example}
```
"""


def _type(
    cls: type, spec: dict[str, Any], link: Callable[[str], str], used_by: Iterable[str]
) -> str:
    rows = [
        [
            f"`{key}`",
            _type_text(prop, link),
            "required" if camel in spec.get("required", []) else "optional",
            _cell(prop.get("description", "")),
        ]
        for key, camel, prop in sorted(
            _keys(cls, spec["properties"]), key=lambda k: k[1] not in spec.get("required", [])
        )
    ]
    doc = inspect.cleandoc(cls.__doc__) + "\n\n" if cls.__doc__ else ""
    users = ", ".join(f"[{u}](#{_anchor(u)})" for u in used_by)
    return f"""### {_python_path(cls)}

{doc}Used by {users}.

{_table(["key", "type", "", "description"], rows)}
"""


# IAM, from the example run under mocks ------------------------------------------------------


def _iam(example: str) -> str:
    recorder = Recorder()
    reset_pulumi("dev", recorder)
    pulumi.runtime.set_all_config(CONFIG, list(CONFIG))
    original = pulumi.export
    try:
        # Stack outputs go nowhere under mocks; the examples export to show how outputs are used.
        pulumi.export = lambda name, value: None
        run_pulumi(lambda: exec(example, {}))
    finally:
        pulumi.export = original
        reset_pulumi("dev", Recorder())
    declared = [r for r in recorder.resources if r.custom and not r.read]
    # A role's policies name it by id (the mocks' `<logical name>-id`) or by its name.
    roles = {
        key: r.name
        for r in declared
        if r.typ == "aws:iam/role:Role"
        for key in (f"{r.name}-id", r.inputs.get("name"))
        if key
    }
    rows = []
    for resource in sorted(declared, key=lambda r: _owner(r, roles)):
        for key, document in _policies(resource):
            rows.append([_what(resource, key, roles), f"`{resource.name}`", _grants(document)])
        attached = list(resource.inputs.get("managedPolicyArns") or [])
        if resource.typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            attached.append(resource.inputs["policyArn"])
        for arn in attached:
            rows.append([_what(resource, "", roles), f"`{resource.name}`", f"attaches `{arn}`"])
    if not rows:
        return "None: it declares no role and no policy."
    return _table(["declared", "logical name", "grants"], rows)


def _policies(resource: Resource) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for key, value in sorted(resource.inputs.items()):
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        if isinstance(value, dict) and "Statement" in value:
            found.append((key, value))
    return found


def _owner(resource: Resource, roles: Mapping[str, str]) -> tuple[str, int, str]:
    """Sort key: a role, then the policies attached to it; everything else by logical name."""
    role = roles.get(str(resource.inputs.get("role", "")))
    if role is not None:
        return (role, 1, resource.name)
    return (resource.name, 0, resource.name)


_KINDS = {
    "aws:iam/rolePolicy:RolePolicy": "inline policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policy attachment",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket policy",
    "aws:sns/topicPolicy:TopicPolicy": "topic policy",
    "aws:kms/key:Key": "key policy",
}


def _what(resource: Resource, key: str, roles: Mapping[str, str]) -> str:
    if resource.typ == "aws:iam/role:Role":
        suffix = "" if key == "assumeRolePolicy" else ", managed policies"
        return f"role `{resource.inputs.get('name', resource.name)}`{suffix}"
    if resource.typ == "aws:iam/policy:Policy":
        return f"managed policy `{resource.inputs.get('name', resource.name)}`"
    kind = _KINDS.get(resource.typ, f"`{resource.typ}`")
    role = roles.get(str(resource.inputs.get("role", "")))
    return f"{kind} of `{role}`" if role is not None else kind


def _grants(document: dict[str, Any]) -> str:
    """Statement Sids; a trust statement as who it trusts and the condition keys it checks."""
    parts = []
    statements = document["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        sid = statement.get("Sid")
        deny = " (Deny)" if statement.get("Effect") == "Deny" else ""
        if "sts:AssumeRole" not in str(statement.get("Action")):
            parts.append(f"`{sid or 'no Sid'}`{deny}")
            continue
        principal = statement.get("Principal", {})
        who = ", ".join(
            f"`{p}`"
            for values in principal.values()
            for p in (values if isinstance(values, list) else [values])
        )
        conditions = sorted(
            {k for block in (statement.get("Condition") or {}).values() for k in block}
        )
        when = f" if {', '.join(f'`{c}`' for c in conditions)} match" if conditions else ""
        named = f" (`{sid}`)" if sid else ""
        parts.append(f"trusts {who}{when}{named}{deny}")
    return ", ".join(parts)


# Markdown -----------------------------------------------------------------------------------


def _keys(cls: type, properties: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(python key, schema key, schema property) in the order the class declares them."""
    annotations = (
        provider.evaluated(cls)
        if typing.is_typeddict(cls)
        else {k: v for k, v in inspect.get_annotations(cls).items() if not k.startswith("_")}
    )
    found = []
    for key in annotations:
        camel = camel_case(key)
        if camel in properties:
            found.append((key, camel, properties[camel]))
    return found


def _linker(classes: Mapping[str, type]) -> Callable[[str], str]:
    def link(name: str) -> str:
        cls = classes[name]
        return f"[{name}](#{_anchor(_python_path(cls))})"

    return link


def _type_text(spec: dict[str, Any], link: Callable[[str], str], output: bool = False) -> str:
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        text = link(ref.rsplit(":", 1)[-1])
    elif ref:
        text = "any"
    elif spec.get("type") == "array":
        text = f"list of {_type_text(spec['items'], link, output)}"
    elif spec.get("type") == "object" and "additionalProperties" in spec:
        text = f"map of {_type_text(spec['additionalProperties'], link, output)}"
    else:
        text = str(spec.get("type"))
    return text if output or spec.get("plain") else f"Input[{text}]"


def _users(everything: Iterable[type[pulumi.ComponentResource]]) -> dict[type, list[str]]:
    users: dict[type, list[str]] = {}
    for component in everything:
        for cls in provider.typed_dicts([component]).values():
            users.setdefault(cls, []).append(component.__name__)
    return users


def _python_path(cls: type) -> str:
    """Where Python users import it from: the package root when exported there."""
    if getattr(components, cls.__name__, None) is cls:
        return f"components.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


def _anchor(title: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to '-'."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in "_- ")
    return kept.replace(" ", "-")


def _first_line(component: type) -> str:
    return inspect.cleandoc(component.__doc__ or "").split("\n\n")[0].replace("\n", " ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n\n", "<br>").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    check = parser.parse_args(argv).check
    page = render()
    if check:
        if not PAGE.exists() or PAGE.read_text() != page:
            print(f"{PAGE.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
