"""The guardrails policy pack: `pulumi preview --policy-pack policy` runs this file.

Thin on purpose: the rules live in `guardrails.rules` (also run offline by `cicd plan --check`)
and their pulumi-policy wrapping in `guardrails.pack`. The Pulumi CLI starts this with the
pack's own virtual environment (PulumiPolicy.yaml), whose requirements.txt brings pulumi-policy
and the protobuf 5.x it pins, kept out of the project's environment.
"""

import sys
from pathlib import Path

# `guardrails` sits beside this file; make it importable however the pack is started.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guardrails.pack import serve

serve()
