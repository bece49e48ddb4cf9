"""Entry point: one stack = one environment. Validate settings, declare the chain, export.

Every setting comes from this stack's `Pulumi.<stack>.yaml`; see README "Configuration".
"""

import pulumi

from components.aws_context import caller_account
from stack.config import load_settings
from stack.config.accounts import check_accounts
from stack.program import declare_stack
from stack.sdk import tune

# The SDK's bookkeeping per resource is most of the memory and much of the CPU of a large stage:
# `tune` installs leaner, equivalent versions of two SDK functions and raises the collector's
# thresholds (stack/sdk.py, docs/performance.md).
tune()

# Validation runs before any resource is declared: a config mistake declares nothing, nor does a
# configured ARN of another account than the one the stack runs in.
settings = load_settings()
check_accounts(pulumi.Config().name, settings, caller_account())
for key, value in declare_stack(settings).items():
    pulumi.export(key, value)
