"""Guardrails for the stacks of this project, shared by `cicd plan --check` and the policy pack.

`guardrails.rules` holds the rules (`RULES`, `evaluate`), `guardrails.model` what they read, and
`guardrails.pack` turns them into pulumi-policy policies. Importing this package imports neither
Pulumi nor pulumi-policy; only `guardrails.pack.policies()` and `serve()` import pulumi-policy.
"""

from guardrails.model import UNKNOWN, Finding, Resource, Stack
from guardrails.rules import RULES, RULES_BY_NAME, Rule, evaluate, rule_config

__all__ = [
    "RULES",
    "RULES_BY_NAME",
    "UNKNOWN",
    "Finding",
    "Resource",
    "Rule",
    "Stack",
    "evaluate",
    "rule_config",
]
