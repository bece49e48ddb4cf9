"""Entry point: one stack = one environment. Validate settings, declare the chain, export.

Every setting comes from this stack's `Pulumi.<stack>.yaml`; see README "Configuration".
"""

import gc

import pulumi

from components.aws_context import caller_account
from stack.config import load_settings
from stack.config.accounts import check_accounts
from stack.program import declare_stack

# The Pulumi SDK makes an Output, four futures and a task for every output property of every
# resource, all alive until the engine answers: ~0.6M objects at 200 services. With Python's
# default thresholds, full collections over them took 63% of the CPU and found little garbage.
# Collecting the old generations rarely measured 25.3 s -> 17.1 s of CPU at 200 services, with
# the same peak memory (docs/performance.md).
gc.set_threshold(10_000, 50, 100)

# Validation runs before any resource is declared: a config mistake declares nothing, nor does a
# configured ARN of another account than the one the stack runs in.
settings = load_settings()
check_accounts(pulumi.Config().name, settings, caller_account())
for key, value in declare_stack(settings).items():
    pulumi.export(key, value)
