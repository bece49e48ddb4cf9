"""What `cicd config` may write and release, and how two stages' config compare: pure, no AWS.

- Arguments: `parse_assignments` reads `KEY=VALUE` words, `name_problems` and `value_problems`
  check them against Parameter Store's rules and the contract (one level, `[A-Za-z0-9_.-]+`,
  1 byte to 4 KB, never the tombstone), `length_problems` against the ARN-inclusive name limit
  once the path is known, `collision_problems` against the environment-variable names readers
  derive; `refuse_problems` raises them all at once, each naming the key, the problem and the
  fix, and never the value.
- Changes: `plan_set` and `plan_unset` turn them into `ConfigWrite`s (types and KMS keys as the
  contract says; keys whose value would not change are left out), `release_note` says what
  changed and who changed it, within the 1000 characters a pipeline variable may hold.
- Releasing: `check_release` refuses a release the pipeline cannot say is a config release, or
  one that could supersede a running release; it returns what runs now (the release to start
  again with the new config).
- Comparing: `diff_config` compares two stages' keys and values by SHA-256; `check_promotable`
  refuses a promotion to a stage lacking keys the source has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cicd.contract import RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE, UNSET_VALUE
from cicd.decide.commits import newest_succeeded
from cicd.errors import Refused, UsageError
from cicd.model.config import (
    SECURE_STRING,
    STRING,
    ConfigDiff,
    ConfigSet,
    ConfigWrite,
    KeyComparison,
    RuntimeConfig,
    digest,
)
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import Release
from cicd.text import short_id, short_sha

# design §1: one level under the path; Parameter Store allows these characters (and `/`).
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# PutParameter: "Standard parameters have a value limit of 4 KB" (advanced: 8 KB; cicd writes
# standard ones).
MAX_VALUE_BYTES = 4096
# PutParameter: "The maximum length for a parameter name that you specify is 1011 characters",
# counting the ARN prefix `arn:aws:ssm:<region>:<account>:parameter` before the name's own `/`.
MAX_NAME_WITH_ARN = 1011
_ACCOUNT_DIGITS = 12
# StartPipelineExecution: a variable's value is 1 to 1000 characters.
MAX_NOTE = 1000
# Statuses of an execution that is still going.
RUNNING = {"InProgress", "Stopping"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an argument: which key, what is wrong, what fixes it."""

    key: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.key}: {self.problem}; {self.fix}"


def environment_name(key: str) -> str:
    """The environment variable readers export a key as: upper case, non-alphanumerics `_`."""
    return re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def name_problems(key: str) -> list[Problem]:
    """What is wrong with a config key as a name (empty list: nothing)."""
    if not key:
        return [Problem("(empty name)", "a config key needs a name", "write KEY=VALUE")]
    if "/" in key:
        return [
            Problem(
                key,
                "a config key is one level under the stage's path and cannot contain '/'",
                f"use {key.replace('/', '_')} instead",
            )
        ]
    if not NAME.match(key):
        bad = "".join(sorted({c for c in key if not re.match(r"[A-Za-z0-9_.-]", c)}))
        return [
            Problem(
                key,
                f"the name has characters Parameter Store does not allow ({bad!r})",
                "use only letters, digits, '_', '.' and '-'",
            )
        ]
    if key[0].isdigit():
        return [
            Problem(
                key,
                f"the service would read it as environment variable {environment_name(key)}, "
                "which cannot start with a digit",
                "start the name with a letter or '_'",
            )
        ]
    return []


def value_problems(key: str, value: str) -> list[Problem]:
    """What is wrong with a value (never quoting it: it may be a secret)."""
    if value == "":
        return [
            Problem(
                key,
                "the value is empty, and Parameter Store stores no empty values",
                f"give a value, or remove the key with `cicd config unset {key}`",
            )
        ]
    if value == UNSET_VALUE:
        return [
            Problem(
                key,
                f"the value is {UNSET_VALUE}, the marker `cicd config unset` writes, which every "
                "reader treats as absent",
                f"to remove the key use `cicd config unset {key}`",
            )
        ]
    size = len(value.encode())
    if size > MAX_VALUE_BYTES:
        return [
            Problem(
                key,
                f"the value is {size} bytes; a standard parameter holds at most {MAX_VALUE_BYTES}",
                "store large data elsewhere (S3, Secrets Manager) and set its location instead",
            )
        ]
    return []


def parse_assignments(words: Sequence[str]) -> tuple[list[tuple[str, str]], list[Problem]]:
    """`KEY=VALUE` words split at their first `=`, with what is wrong with each."""
    found: list[tuple[str, str]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            problems.append(
                Problem(
                    key or "(empty)",
                    "no '=' and so no value",
                    f"write {key or 'KEY'}=VALUE (quote it if the value has spaces)",
                )
            )
            continue
        if key in seen:
            problems.append(Problem(key, "given twice in one command", "give each key once"))
            continue
        seen.add(key)
        key_problems = name_problems(key)
        problems += key_problems or value_problems(key, value)
        found.append((key, value))
    return found, problems


def key_problems(keys: Sequence[str]) -> list[Problem]:
    """`name_problems` of each key (for `get` and `unset`), and keys given twice."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            problems.append(Problem(key, "given twice in one command", "give each key once"))
            continue
        seen.add(key)
        problems += name_problems(key)
    return problems


def length_problems(keys: Iterable[str], path: str, region: str) -> list[Problem]:
    """Keys whose parameter name would exceed 1011 characters with its ARN prefix."""
    prefix = len(f"arn:aws:ssm:{region}:{'0' * _ACCOUNT_DIGITS}:parameter")
    room = MAX_NAME_WITH_ARN - prefix - len(path) - 1
    return [
        Problem(
            key[:40] + "…",
            f"the name is {len(key)} characters; under {path} it can have at most {room}",
            "use a shorter name",
        )
        for key in keys
        if len(key) > room
    ]


def collision_problems(keys: Iterable[str], current: ConfigSet) -> list[Problem]:
    """Keys that would reach the service under the same environment variable as another key."""
    problems: list[Problem] = []
    taken = {environment_name(v.key): v.key for v in current.live}
    for key in keys:
        name = environment_name(key)
        other = taken.get(name)
        if other is not None and other != key:
            problems.append(
                Problem(
                    key,
                    f"the service reads it as {name}, like the key {other} already set",
                    f"set {other} instead, or unset {other} first",
                )
            )
        taken.setdefault(name, key)
    return problems


def refuse_problems(command: str, problems: Sequence[Problem], *, usage: bool = True) -> None:
    """Raise every problem at once: a UsageError (or Refused) with one line per problem."""
    if not problems:
        return
    count = "a problem" if len(problems) == 1 else f"{len(problems)} problems"
    lines = "\n".join(f"  {p.line()}" for p in problems)
    done = "" if command == "config get" else ", nothing was written"
    message = f"{command}: {count}{done}:\n{lines}"
    hint = "fix them and run the command again; `cicd config --help` has the rules"
    raise (UsageError if usage else Refused)(message, hint)


@dataclass(frozen=True)
class ConfigChange:
    """What `set` or `unset` will write, and the keys left alone because nothing would change."""

    command: str
    writes: tuple[ConfigWrite, ...]
    unchanged: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(w.key for w in self.writes)


def plan_set(
    assignments: Sequence[tuple[str, str]],
    current: ConfigSet,
    config: RuntimeConfig,
    *,
    secret: bool,
) -> ConfigChange:
    """The writes of `cicd config set`.

    A key becomes a SecureString with --secret and stays one once it is (a plain `set` never
    turns a secret into plain text), encrypted with the stage's key when the stack names one,
    else Parameter Store's default key; other keys keep their type (new ones are String). A
    key already set to the same value and type is left out.
    """
    writes: list[ConfigWrite] = []
    unchanged: list[str] = []
    for key, value in assignments:
        existing = current.get(key)
        kind = (
            SECURE_STRING
            if secret or (existing is not None and existing.secret)
            else (existing.type if existing is not None else STRING)
        )
        if (
            existing is not None
            and not existing.unset
            and existing.type == kind
            and existing.digest == digest(value)
        ):
            unchanged.append(key)
            continue
        writes.append(
            ConfigWrite(
                key=key,
                parameter=config.parameter(key),
                value=value,
                type=kind,
                key_id=config.kms_key_arn if kind == SECURE_STRING else None,
            )
        )
    return ConfigChange("set", tuple(writes), tuple(unchanged))


def plan_unset(
    keys: Sequence[str], current: ConfigSet, key_ids: Mapping[str, str | None]
) -> ConfigChange:
    """The tombstones of `cicd config unset`: each key's type and KMS key as before.

    Refuses (all at once) keys that are not set: there is nothing to unset.
    """
    missing = [
        Problem(
            key,
            f"not set in {current.path}" + (" (already unset)" if current.get(key) else ""),
            "leave it out (`cicd config` lists what is set)",
        )
        for key in keys
        if (value := current.get(key)) is None or value.unset
    ]
    if missing:
        refuse_problems("config unset", missing, usage=False)
    writes = []
    for key in keys:
        value = current.get(key)
        assert value is not None
        writes.append(
            ConfigWrite(
                key=key,
                parameter=value.parameter,
                value=UNSET_VALUE,
                type=value.type,
                key_id=key_ids.get(key) if value.secret else None,
            )
        )
    return ConfigChange("unset", tuple(writes))


def release_note(change: ConfigChange, who: str) -> str:
    """`config: set DATABASE_URL, FEATURE_X by <ARN>`, within a variable's 1000 characters:
    keys that do not fit are counted (`+3 more`), and an ARN too long is cut."""
    keys = list(change.keys)
    by = f" by {who}"
    for shown in range(len(keys), 0, -1):
        rest = len(keys) - shown
        listed = ", ".join(keys[:shown]) + (f", +{rest} more" if rest else "")
        note = f"config: {change.command} {listed}{by}"
        if len(note) <= MAX_NOTE:
            return note
    note = f"config: {change.command} {len(keys)} keys{by}"
    return note if len(note) <= MAX_NOTE else note[: MAX_NOTE - 1] + "…"


def release_variables(note: str) -> list[dict[str, str]]:
    """The StartPipelineExecution variables of a config release."""
    return [
        {"name": RELEASE_KIND_VARIABLE, "value": "config"},
        {"name": RELEASE_NOTE_VARIABLE, "value": note},
    ]


def check_release(
    layout: PipelineLayout, history: Sequence[Release], *, options: str
) -> Release | None:
    """What runs now, to be started again with the new config (None: nothing ran yet).

    Refuses when the pipeline declares no release variables (its stack predates runtime
    config), or when a release is running and the pipeline does not queue executions: a new
    execution of the old release could supersede it (SUPERSEDED) or deploy beside it
    (PARALLEL). `options` is how to name the pipeline to cicd again.
    """
    if not layout.declares_release_variables:
        raise Refused(
            f"{layout.name} declares no {RELEASE_KIND_VARIABLE} and {RELEASE_NOTE_VARIABLE} "
            "pipeline variables, so a config release could not say what it is: its stack "
            "predates runtime config",
            "run `pulumi up` for this stage to update the pipeline, or pass --no-release to only "
            "write the change (the next release deploys it)",
        )
    running = next((r for r in history if r.status in RUNNING), None)
    mode = layout.execution_mode or "SUPERSEDED"
    if running is not None and mode != "QUEUED":
        effect = "would run beside it" if mode == "PARALLEL" else "could supersede it, dropping it"
        raise Refused(
            f"execution {running.describe()} of {layout.name} is {running.status}, and the "
            f"pipeline runs in {mode} mode: a config release now (of what runs, not of what is "
            f"on its way) {effect}",
            f"wait for it (`cicd follow {options} {short_id(running.execution_id)}`) and run "
            "this again, or pass --no-release: the running release picks the change up if it "
            "has not passed Configure yet",
        )
    return newest_succeeded(history)


def release_revision(layout: PipelineLayout, live: Release) -> tuple[str, str, str]:
    """(action, revision type, value) to start `live` again: its object version for a
    promoted pipeline, its commit for one that builds from GitHub."""
    promoted = layout.promoted
    if promoted is not None:
        if not live.version_id:
            raise Refused(
                f"the live release {short_id(live.execution_id)} of {layout.name} names no "
                "release object version, so it cannot be started again",
                "promote a release (`cicd promote`); it deploys the new config",
            )
        return promoted.action_name, "S3_OBJECT_VERSION_ID", live.version_id
    github = layout.github
    assert github is not None
    if not live.commit:
        raise Refused(
            f"the live release {short_id(live.execution_id)} of {layout.name} names no commit, "
            "so it cannot be started again",
            "start a release (`cicd release`); it deploys the new config",
        )
    return github.action_name, "COMMIT_ID", live.commit


def describe_live(layout: PipelineLayout, live: Release) -> str:
    """How the release started again is named: its object version or its commit."""
    if layout.promoted is not None:
        return f"release {live.version_id or '-'} (execution {short_id(live.execution_id)})"
    return f"commit {short_sha(live.commit)} (execution {short_id(live.execution_id)})"


def diff_config(source: ConfigSet, target: ConfigSet) -> ConfigDiff:
    """The keys set in either stage (tombstones count as not set), by key."""
    left = {v.key: v for v in source.live}
    right = {v.key: v for v in target.live}
    return ConfigDiff(
        source.path,
        target.path,
        tuple(KeyComparison(k, left.get(k), right.get(k)) for k in sorted({*left, *right})),
    )


def check_promotable(
    diff: ConfigDiff, *, source: str, target: str, set_command: str, allow_missing: bool
) -> tuple[str, ...]:
    """Refuse a promotion to `target` when it lacks keys `source` has; with `allow_missing`
    return them instead (for a warning). `set_command` is how to set them in the target."""
    missing = diff.missing
    if not missing or allow_missing:
        return missing
    listed = ", ".join(missing)
    one = len(missing) == 1
    raise Refused(
        f"{target} lacks {'a config key' if one else 'config keys'} {source} has: {listed} "
        f"({diff.source_path} has {'it' if one else 'them'}, {diff.target_path} does not); "
        f"the release may need {'it' if one else 'them'}",
        f"set {'it' if one else 'them'} first (`{set_command} "
        + " ".join(f"{k}=..." for k in missing)
        + "`), or pass --allow-missing-config if the release does without",
    )
