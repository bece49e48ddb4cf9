"""Runtime configuration (config vars) for a Lambda function, read once per execution environment.

Copy to `src/<app>/config_loader.py` (inside your package, so that it ships with it) and read the
configuration at cold start, at the top of the handler's module::

    from myapp import config_loader

    CONFIG = config_loader.load()        # once per execution environment

    def handler(event, context):
        url = CONFIG["DATABASE_URL"]

Where the values come from: the Deploy stage's Configure action puts `config-snapshot.json`
(parameter names and versions, never values) at the root of the deploy artifact, and the Lambda
deploy action publishes a new function version from that artifact. So the snapshot is in the
package, at `$LAMBDA_TASK_ROOT/config-snapshot.json`, and a configuration change (`cicd config
set` is a release) reaches the alias with the same traffic shift and alarms as a code change; a
rollback returns to the version whose package pins the old values.

`load()` fetches exactly those versions with boto3 (part of the Lambda Python runtime), through
`config/load_config.py` at the package root, the reader the Server hook and the release task use:
the same names, the same tombstones (`__cicd_unset__` leaves the variable out), the same refusal
of two parameters that give one name. It logs names, never values, and keeps the result for the
life of the execution environment: a new value needs a new release, as on the Server platform.
A failure raises `load_config.ConfigError` and caches nothing, so the next cold start retries.

The function's role needs the stack's per-service managed policy, output
`services.<name>.config_reader_policy_arn` (ssm:GetParameters on the path's parameters,
kms:Decrypt through SSM on the key of SecureString ones); attach it where the role is defined.

Not here: the function's own environment variables (the deploy action does not change them), and
writing parameters (`cicd config`).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

READER = Path("config") / "load_config.py"

_lock = threading.Lock()
_loaded: Mapping[str, str] | None = None


def load(client: Any = None, root: str | os.PathLike[str] | None = None) -> Mapping[str, str]:
    """The variables the release pins, read on the first call and cached after it.

    `client` is an SSM client (default: `boto3.client("ssm")`, in the function's region) and
    `root` the package root (default: `$LAMBDA_TASK_ROOT`); both exist for local runs and tests.
    """
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = MappingProxyType(_read(client, root))
        return _loaded


def reset() -> None:
    """Forget the cached configuration (tests; a function never needs it)."""
    global _loaded
    with _lock:
        _loaded = None


def _read(client: Any, root: str | os.PathLike[str] | None) -> dict[str, str]:
    if root is None:
        root = os.environ.get("LAMBDA_TASK_ROOT")
        if not root:
            raise RuntimeError("LAMBDA_TASK_ROOT is not set: outside Lambda, pass root=")
    base = Path(root)
    reader = _reader(base / READER)
    snapshot_file = base / reader.SNAPSHOT_FILE
    if not snapshot_file.is_file():
        raise reader.ConfigError(
            f"{snapshot_file} is missing: this package was not deployed by a pipeline with runtime "
            "configuration (its Configure action adds the snapshot to the deploy artifact)"
        )
    snapshot = reader.read_snapshot(snapshot_file)
    if client is None:
        import boto3  # the Lambda runtime has it; imported here so tests can pass a stub

        client = boto3.client("ssm")
    ssm = client

    def get_parameters(names: list[str]) -> dict[str, Any]:
        return ssm.get_parameters(Names=names, WithDecryption=True)

    loaded = reader.load_pinned(snapshot, get_parameters)
    print(
        reader.summary(
            loaded,
            f"{len(snapshot.parameters)} pinned in {reader.SNAPSHOT_FILE}, "
            f"source {snapshot.source}",
        ),
        file=sys.stderr,
    )
    return dict(loaded.variables)


def _reader(path: Path) -> ModuleType:
    """config/load_config.py, loaded from its file: `config` is too common a name to import."""
    name = "load_config"
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None) == str(path):
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise RuntimeError(f"{path} is missing: does the build copy config/load_config.py there?")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
