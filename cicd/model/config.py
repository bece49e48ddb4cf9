"""Runtime configuration ("config vars") as the CLI speaks of it: where it lives, what it holds,
what a release ran with.

Plain, frozen data: `RuntimeConfig` (what a pipeline's Deploy-stage `Configure` action says:
the parameter path, its KMS key, the bucket of deploy records), `ConfigValue` (one parameter
as `cicd` holds it: a digest always, the value only when it is not a secret), `ConfigSet` (every
parameter under a path), `ParameterPin` and `ConfigSnapshot` (the names and versions a release
ran with), `DeployRecord` (what the Configure step wrote for one execution), `ConfigWrite` (one
`PutParameter` to make), `KeyComparison` and `ConfigDiff` (two stages' keys compared).
`cicd.aws.parameters` and `cicd.aws.records` read them; nothing here calls AWS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cicd.contract import DEPLOY_RECORDS_PREFIX, UNSET_VALUE

SECURE_STRING = "SecureString"
STRING = "String"


def digest(value: str) -> str:
    """The SHA-256 of a value (UTF-8), hex: how values are compared without being shown."""
    return hashlib.sha256(value.encode()).hexdigest()


def record_key(pipeline: str, execution_id: str) -> str:
    """Where the Configure step writes one execution's deploy record in the artifact bucket."""
    return f"{DEPLOY_RECORDS_PREFIX}{pipeline}/{execution_id}.json"


@dataclass(frozen=True)
class RuntimeConfig:
    """The Configure action's view of a stage's runtime config.

    `record_bucket` is its RECORD_BUCKET (the pipeline's artifact bucket) or, when the action
    does not say, the pipeline's artifact store; None when neither is known.
    """

    path: str
    kms_key_arn: str | None = None
    record_bucket: str | None = None

    def parameter(self, key: str) -> str:
        """The parameter name of config key `key`: `/web/prod` + `DATABASE_URL`."""
        return f"{self.path}/{key}"


@dataclass(frozen=True)
class ConfigValue:
    """One parameter under a config path.

    `value` is None for a SecureString unless it was read to be revealed (`cicd config get
    --reveal`); `digest` is the SHA-256 of the decrypted value either way, so values compare
    without being held. `unset` marks a tombstone (`cicd config unset`): readers treat it as
    absent, listings hide it.
    """

    key: str
    parameter: str
    type: str
    version: int
    digest: str
    value: str | None = None
    modified: datetime | None = None
    unset: bool = False

    @property
    def secret(self) -> bool:
        return self.type == SECURE_STRING


@dataclass(frozen=True)
class ConfigSet:
    """Every parameter one level under `path`, by key, tombstones included."""

    path: str
    values: tuple[ConfigValue, ...]

    @property
    def live(self) -> tuple[ConfigValue, ...]:
        """The keys that are set (tombstones hidden), sorted by key."""
        return tuple(sorted((v for v in self.values if not v.unset), key=lambda v: v.key))

    def get(self, key: str) -> ConfigValue | None:
        return next((v for v in self.values if v.key == key), None)


@dataclass(frozen=True)
class ParameterPin:
    """One parameter version a release ran with."""

    name: str
    version: int

    def key(self, path: str) -> str:
        """The config key: the parameter's name after `path`."""
        prefix = path.rstrip("/") + "/"
        return self.name[len(prefix) :] if self.name.startswith(prefix) else self.name


@dataclass(frozen=True)
class ConfigSnapshot:
    """The names and versions a release ran with (never values).

    `source` is `latest` (the newest versions when Deploy started) or `rollback:<execution
    id>` (the versions the rollback's target had pinned).
    """

    path: str
    source: str
    parameters: tuple[ParameterPin, ...]

    def versions(self) -> dict[str, int]:
        """Config key -> version."""
        return {pin.key(self.path): pin.version for pin in self.parameters}


@dataclass(frozen=True)
class DeployRecord:
    """`deploy-records/<pipeline>/<execution id>.json`: what one execution deployed with."""

    pipeline: str
    execution_id: str
    kind: str
    note: str
    rollback_of: str | None
    commit: str | None
    contracts_schema: bool
    config: ConfigSnapshot | None
    created: datetime | None = None
    # Where it was read: the record file, or the Configure action's output variables.
    origin: str = "its deploy record"


@dataclass(frozen=True)
class ConfigWrite:
    """One PutParameter to make: `value` is written as it is (the tombstone for an unset)."""

    key: str
    parameter: str
    value: str
    type: str
    key_id: str | None = None

    @property
    def unset(self) -> bool:
        return self.value == UNSET_VALUE


@dataclass(frozen=True)
class Written:
    """A parameter written: its new version."""

    key: str
    parameter: str
    type: str
    version: int


@dataclass(frozen=True)
class KeyComparison:
    """One key in two stages: its parameter in each (None: not set there)."""

    key: str
    source: ConfigValue | None
    target: ConfigValue | None

    @property
    def same_value(self) -> bool | None:
        """Whether the (decrypted) values are equal, by SHA-256; None unless set in both."""
        if self.source is None or self.target is None:
            return None
        return self.source.digest == self.target.digest


@dataclass(frozen=True)
class ConfigDiff:
    source_path: str
    target_path: str
    keys: tuple[KeyComparison, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Keys the source has and the target lacks."""
        return tuple(k.key for k in self.keys if k.source is not None and k.target is None)

    @property
    def extra(self) -> tuple[str, ...]:
        """Keys the target has and the source lacks."""
        return tuple(k.key for k in self.keys if k.source is None and k.target is not None)

    @property
    def differ(self) -> tuple[str, ...]:
        return tuple(k.key for k in self.keys if k.same_value is False)
