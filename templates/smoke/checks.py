"""The smoke checks: what "the release works" means for this app, written once.

Two things read this file: the verification suite `smoke` (smoke.py, after each deploy) and, when
the stack sets `deploy.traffic`, the platform's CloudWatch Synthetics canary, which runs the same
checks against the same target on a schedule, so the alarms see traffic during the bake and in a
quiet stage. Edit the two values below for your app; keep the file standard library only and free
of side effects at import (the canary imports it).

- HTTP_CHECKS: (path below the target's endpoint, statuses that pass). Redirects are not
  followed: a 3xx is judged as it is, so a root that sends visitors to /login passes without the
  check depending on another page.
- LAMBDA_EVENT: the event a Lambda target is invoked with: one your handler answers without side
  effects (the canary sends it every minute).
"""

from __future__ import annotations

HTTP_CHECKS: list[tuple[str, frozenset[int]]] = [
    ("/health", frozenset({200})),
    ("/", frozenset({200, 301, 302, 303, 307, 308})),
]

LAMBDA_EVENT: dict[str, object] = {"source": "smoke-test"}
