"""`cicd plan`: a stack's desired state, evaluated offline, as text or a stable JSON document.

Defines `evaluate` (runs the real `__main__.py` with a stack file's config through
`stack.offline` and builds each stack's document with `stack.plan.document`), `run_checks` (the
guardrails of `policy/guardrails` over what the mocks recorded) and `run_plan`, the command.

Nothing here reaches AWS or a Pulumi backend: there is no state to compare with, so a plan is
"what the program declares", not "what would change" (`cicd diff` compares two plans). Secret
config values cannot be decrypted offline and appear as `[secret]`. Pulumi is imported when
`evaluate` runs, not at import time, so `cicd diff`, which plans in worker processes, never
loads it itself.

The guardrails run on the raw recorded inputs (JSON policy text as the engine would pass it),
not on the normalized document, so the pack and `--check` see the same values.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from cicd.errors import UsageError
from stack.plan.document import _urn_of, dumps, plan_document, render_text

# Evaluation -----------------------------------------------------------------------------------


def stack_names() -> list[str]:
    from stack.offline import iter_stacks

    return [name for name, _ in iter_stacks()]


def evaluate(stacks: Iterable[str] | None = None) -> dict[str, tuple[dict[str, Any], Any]]:
    """Run the program for `stacks` (default: every stack file) and their upstreams, upstream
    first; return stack -> (plan document, the StackRun behind it)."""
    from stack import offline

    files = dict(offline.iter_stacks())
    wanted = sorted(files) if stacks is None else list(stacks)
    for name in wanted:
        if name not in files:
            raise UsageError(
                f"no stack {name!r}: the stack files are "
                f"{', '.join(f'Pulumi.{s}.yaml' for s in sorted(files))}"
            )
    needed = offline.with_upstreams(wanted)
    runs = offline.run_stacks({name: files[name] for name in needed})
    plans: dict[str, tuple[dict[str, Any], Any]] = {}
    for name in wanted:
        _, secrets = offline.flatten_stack_config(files[name])
        document = plan_document(
            name,
            runs[name],
            project=offline.PROJECT,
            stack_file=files[name].name,
            upstreams=offline.upstreams_of(files[name]),
            secrets=secrets,
            offline={"account": offline.ACCOUNT, "region": offline.REGION},
        )
        plans[name] = (document, runs[name])
    return plans


# The command ----------------------------------------------------------------------------------


def guardrail_resources(run: Any) -> list[Any]:
    """The recorded resources as `guardrails.Resource` values, with engine URNs."""
    from guardrails import Resource

    urns = {r.urn: _urn_of(run, r) for r in run.recorder.resources}
    return [
        Resource(
            type=r.typ,
            name=r.name,
            urn=urns[r.urn],
            props=r.inputs,
            parent=urns.get(r.parent or ""),
            property_dependencies={
                key: [urns.get(u) or u for u in deps]
                for key, deps in (getattr(r, "property_dependencies", None) or {}).items()
            },
        )
        for r in run.recorder.resources
    ]


def load_policy_config(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        config = json.loads(Path(path).read_text())
    except OSError as error:
        raise UsageError(f"cannot read the policy config {path}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"the policy config {path} is not JSON: {error}") from None
    if not isinstance(config, dict):
        raise UsageError(f"the policy config {path} must be a JSON object of rule names")
    return config


def check_document(findings: Iterable[Any]) -> dict[str, Any]:
    items = [
        {
            "rule": f.rule,
            "enforcement": f.enforcement,
            "severity": f.severity,
            "urn": f.urn,
            "resource": f.resource_name,
            "message": f.message,
        }
        for f in findings
    ]
    items.sort(key=lambda i: (i["enforcement"] != "mandatory", i["rule"], i["urn"] or ""))
    return {
        "passed": not any(i["enforcement"] == "mandatory" for i in items),
        "mandatory": sum(1 for i in items if i["enforcement"] == "mandatory"),
        "advisory": sum(1 for i in items if i["enforcement"] == "advisory"),
        "findings": items,
    }


def render_check(stack: str, result: Mapping[str, Any], rules: int) -> str:
    lines = [f"Guardrails on stack {stack}: {rules} rules (the policy pack's, run offline)"]
    for item in result["findings"]:
        lines.append(
            f"  {item['enforcement'].upper()} {item['severity']} {item['rule']}: {item['message']}"
        )
    verdict = "passed" if result["passed"] else "FAILED"
    lines.append(
        f"{verdict}: {result['mandatory']} mandatory, {result['advisory']} advisory violations"
    )
    return "\n".join(lines) + "\n"


def run_checks(run: Any, config: Mapping[str, Any] | None) -> dict[str, Any]:
    from guardrails import evaluate as evaluate_rules

    try:
        findings = evaluate_rules(guardrail_resources(run), config)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return check_document(findings)


def run_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`cicd plan --stack S [--json] [--check]`: exit 1 when --check finds a mandatory violation."""
    config = load_policy_config(args.policy_config)
    [(document, run)] = evaluate([args.stack]).values()
    result = run_checks(run, config) if args.check else None
    if args.json:
        payload = dict(document)
        if result is not None:
            payload["guardrails"] = result
        out.write(dumps(payload))
    else:
        out.write(render_text(document))
        if result is not None:
            from guardrails import RULES

            out.write("\n" + render_check(args.stack, result, len(RULES)))
    out.flush()
    if result is not None and not result["passed"]:
        err.write(
            f"cicd: stack {args.stack} violates {result['mandatory']} mandatory guardrail(s)\n"
        )
        return 1
    return 0
