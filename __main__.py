"""Entry point: one stack = one environment. Validate settings, declare the chain, export.

Every setting comes from this stack's `Pulumi.<stack>.yaml`; see README "Configuration".
"""

import pulumi

from stack.config import load_settings
from stack.program import declare_stack

# Validation runs before any resource is declared: a config mistake declares nothing.
settings = load_settings()
for key, value in declare_stack(settings).items():
    pulumi.export(key, value)
