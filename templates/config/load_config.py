"""Read an environment's runtime configuration (config vars) from Parameter Store.

Copy to `config/load_config.py` in the application repository. The build puts it into the
release, and three readers use it, so the rule is written once:

- the Server hook `scripts/load_config.sh` runs it on each instance at each deployment, from the
  deployment bundle, and writes `/etc/<app>/config.env`;
- the release task (`buildspec-release.yml`) runs it in CodeBuild and `eval`s its output;
- the Lambda loader (`config_loader.py`) imports it and fetches with boto3 instead of the CLI.

The Deploy stage's Configure action puts `config-snapshot.json` at the root of the deploy
artifact: the names and versions of the parameters the release runs with, never their values::

    {"schema": 1, "path": "/web/prod", "source": "latest",
     "parameters": [{"name": "/web/prod/DATABASE_URL", "version": 3}]}

This module fetches exactly those versions (`name:version` selectors, at most 10 names a
GetParameters call, AWS's limit), so a rollback gets the values its release ran with and a
change made since then waits for the next release.

The rule:

- A value equal to `__cicd_unset__` is a tombstone (`cicd config unset` writes it instead of
  deleting the parameter, so that a rollback can restore the value): the variable is absent.
- A variable's name is the parameter's name below the path, upper-cased, every character that
  is not a letter or a digit turned into `_`: `/web/prod/feature.new-checkout` gives
  `FEATURE_NEW_CHECKOUT`. A name that is no environment variable name (`1X`) and two parameters
  that give the same name are refused, with both parameters named.
- A pinned version Parameter Store no longer has (the parameter was deleted outside cicd, or the
  version is older than the last 100 it keeps) is an error, never skipped.
- Values never reach a log: the summary on stderr lists names only, and values go only where
  `--output` says.

Command line (Python 3.9+, standard library only, plus the AWS CLI on PATH: CodeBuild images and
instances have the CLI, not boto3)::

    python3 config/load_config.py (--snapshot FILE | --path PATH)
                                  [--format env|export|json] --output FILE|-

    --snapshot FILE  the pinned versions in FILE (config-snapshot.json):
                     aws ssm get-parameters --names <name>:<version> ... --with-decryption
    --path PATH      no snapshot (a release deployed by a pipeline without runtime config): the
                     newest version of every parameter under PATH, recursively, as before:
                     aws ssm get-parameters-by-path --path PATH --recursive --with-decryption
    --format env     NAME="value" lines, with \\ " $ ` escaped: read alike by systemd's
                     EnvironmentFile= and by bash (set -a; source FILE) (the default)
    --format export  export NAME="value" lines, the same quoting, for eval in bash
    --format json    one JSON object {"NAME": "value", ...}
    --output FILE|-  where the values go: FILE (created or replaced, mode 0600) or - for stdout
                     (to capture with "$(...)"). Required, so that values are never printed by
                     accident.

Exit status: 0 on success, 1 when the configuration cannot be read or is refused (the reason is
on stderr and nothing is written), 2 on a usage error. The CLI takes its region and credentials
as usual (AWS_REGION, the instance profile, the CodeBuild role). The role needs what the stack's
output `services.<name>.config_reader_policy_arn` grants: ssm:GetParameters on `<path>/*`
(ssm:GetParametersByPath on `<path>` for --path), and kms:Decrypt on the key of SecureString
parameters.

Not here: writing parameters (that is `cicd config`), and where each reader puts the result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

SNAPSHOT_FILE = "config-snapshot.json"
SNAPSHOT_SCHEMA = 1
# `cicd config unset` writes this value; every reader treats it as absent.
UNSET_VALUE = "__cicd_unset__"
# GetParameters takes 1 to 10 names a call.
MAX_NAMES_PER_CALL = 10
CLI_TIMEOUT_SECONDS = 120

_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
_ESCAPED = re.compile(r'([\\"$`])')

# (names) -> the GetParameters response: {"Parameters": [...], "InvalidParameters": [...]}.
GetParameters = Callable[[list[str]], dict[str, Any]]


class ConfigError(Exception):
    """The configuration cannot be read or is refused; the message names parameters, not values."""


class Pinned(NamedTuple):
    name: str
    version: int

    @property
    def selector(self) -> str:
        return f"{self.name}:{self.version}"


class Snapshot(NamedTuple):
    path: str
    source: str
    parameters: tuple[Pinned, ...]


class Loaded(NamedTuple):
    """What a reader gets: the variables, and the names of those a tombstone removed."""

    path: str
    variables: dict[str, str]
    unset: tuple[str, ...]


def read_snapshot(file: str | os.PathLike[str]) -> Snapshot:
    """The snapshot in `file`, validated: schema 1, a path, each parameter once, under the path."""
    try:
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{file} does not exist") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{file} cannot be read as JSON: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a JSON object")
    if data.get("schema") != SNAPSHOT_SCHEMA:
        raise ConfigError(
            f"{file} has schema {data.get('schema')!r}; this reader knows schema "
            f"{SNAPSHOT_SCHEMA}: update config/load_config.py from the templates"
        )
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(
            f"{file}: path is {path!r}; expected a Parameter Store path like /web/prod"
        )
    root = _root(path)
    entries = data.get("parameters")
    if not isinstance(entries, list):
        raise ConfigError(f"{file}: parameters is {type(entries).__name__}, not a list")
    pinned: list[Pinned] = []
    seen = set()
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        version = entry.get("version") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.startswith(root) or name == root:
            raise ConfigError(f"{file}: {name!r} is not a parameter under {path}")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError(f"{file}: {name} has version {version!r}; expected a number >= 1")
        if name in seen:
            raise ConfigError(f"{file}: {name} is listed twice")
        seen.add(name)
        pinned.append(Pinned(name, version))
    return Snapshot(path, str(data.get("source", "")), tuple(pinned))


def batches(items: Sequence[str], size: int = MAX_NAMES_PER_CALL) -> list[list[str]]:
    """`items` in order, in lists of at most `size`."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def fetch_pinned(snapshot: Snapshot, get_parameters: GetParameters) -> dict[str, str]:
    """{parameter name: value} for exactly the snapshot's versions, in calls of at most 10."""
    wanted = {p.name: p.version for p in snapshot.parameters}
    values: dict[str, str] = {}
    missing: list[str] = []
    for names in batches([p.selector for p in snapshot.parameters]):
        response = get_parameters(names)
        missing.extend(str(n) for n in response.get("InvalidParameters") or [])
        for parameter in response.get("Parameters") or []:
            # The answer names the parameter without its selector; names cannot contain ":".
            name = str(parameter.get("Name", "")).split(":")[0]
            if wanted.get(name) != parameter.get("Version"):
                raise ConfigError(
                    f"Parameter Store answered {name} version {parameter.get('Version')!r} "
                    f"for {name}:{wanted.get(name)}"
                )
            values[name] = str(parameter.get("Value", ""))
    missing.extend(p.selector for p in snapshot.parameters if p.name not in values)
    if missing:
        raise ConfigError(
            "Parameter Store has no "
            + ", ".join(sorted(set(missing)))
            + ": the parameter was deleted outside cicd (cicd config unset keeps its versions), "
            "or the version is older than the last 100 Parameter Store keeps. A new release "
            "(cicd config set, or a deploy) pins the current versions."
        )
    return values


def variables(path: str, parameters: Iterable[tuple[str, str]]) -> Loaded:
    """Apply the rule to (parameter name, value) pairs: tombstones, names, duplicates."""
    root = _root(path)
    found: dict[str, str] = {}
    source: dict[str, str] = {}
    unset: list[str] = []
    problems: list[str] = []
    for name, value in sorted(parameters):
        if not name.startswith(root) or name == root:
            problems.append(f"{name} is not under {path}")
            continue
        variable = re.sub(r"[^A-Za-z0-9]", "_", name[len(root) :]).upper()
        if value == UNSET_VALUE:
            unset.append(variable)
        elif not _VARIABLE.fullmatch(variable):
            problems.append(
                f"{name} gives {variable!r}, which is not an environment variable name "
                "(letters, digits and _, not starting with a digit)"
            )
        elif variable in found:
            problems.append(
                f"{source[variable]} and {name} both give {variable}: rename one "
                "(cicd config unset the other)"
            )
        else:
            found[variable] = value
            source[variable] = name
    if problems:
        raise ConfigError("; ".join(problems))
    return Loaded(path, found, tuple(unset))


def load_pinned(snapshot: Snapshot, get_parameters: GetParameters) -> Loaded:
    """The snapshot's variables, with `get_parameters` the CLI or a boto3 client."""
    return variables(snapshot.path, fetch_pinned(snapshot, get_parameters).items())


def env_lines(loaded: Loaded, prefix: str = "") -> str:
    """NAME="value" lines with \\ " $ ` escaped, each after `prefix` ("export " for eval)."""
    return "".join(
        f'{prefix}{name}="{_escape(value)}"\n' for name, value in sorted(loaded.variables.items())
    )


def _escape(value: str) -> str:
    return _ESCAPED.sub(r"\\\1", value)


def render(loaded: Loaded, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(loaded.variables, sort_keys=True, indent=2) + "\n"
    return env_lines(loaded, "export " if output_format == "export" else "")


def summary(loaded: Loaded, origin: str) -> str:
    """One log line: how many variables, from where, their names; never a value."""
    names = " ".join(sorted(loaded.variables)) or "(none)"
    line = (
        f"load_config: {len(loaded.variables)} variable(s) from {loaded.path} ({origin}): {names}"
    )
    if loaded.unset:
        line += f"; unset: {' '.join(sorted(loaded.unset))}"
    return line


# --- the AWS CLI -------------------------------------------------------------------------------


def _aws(arguments: list[str], hint: str) -> dict[str, Any]:
    command = ["aws", "ssm", *arguments, "--output", "json"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError:
        raise ConfigError("the AWS CLI (aws) is not on PATH; it reads Parameter Store") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"aws ssm {arguments[0]} did not answer in {CLI_TIMEOUT_SECONDS}s"
        ) from None
    if result.returncode != 0:
        # The CLI's error names the operation and the resource, not a value.
        raise ConfigError(f"aws ssm {arguments[0]} failed: {result.stderr.strip()} ({hint})")
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        # Not shown: the output may hold values.
        raise ConfigError(f"aws ssm {arguments[0]} printed something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ConfigError(f"aws ssm {arguments[0]} printed JSON that is not an object")
    return answer


def cli_get_parameters(names: list[str]) -> dict[str, Any]:
    """GetParameters through the AWS CLI."""
    return _aws(
        ["get-parameters", "--names", *names, "--with-decryption"],
        "may this role call ssm:GetParameters on the parameters, and kms:Decrypt for "
        "SecureString ones? The stack's config_reader_policy_arn grants both",
    )


def cli_parameters_by_path(path: str) -> list[tuple[str, str]]:
    """The newest version of every parameter under `path`, through the AWS CLI (it pages)."""
    answer = _aws(
        ["get-parameters-by-path", "--path", path, "--recursive", "--with-decryption"],
        f"may this role call ssm:GetParametersByPath on {path} (and kms:Decrypt for "
        "SecureString parameters)?",
    )
    parameters = answer.get("Parameters") or []
    if not parameters:
        raise ConfigError(
            f"no parameters under {_root(path)}: create them there, or correct the path"
        )
    return [(str(p["Name"]), str(p.get("Value", ""))) for p in parameters]


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="load_config.py",
        description="Write an environment's runtime configuration from Parameter Store.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--snapshot", metavar="FILE", help="the pinned versions (config-snapshot.json)"
    )
    source.add_argument("--path", metavar="PATH", help="no snapshot: the newest under PATH")
    parser.add_argument("--format", choices=("env", "export", "json"), default="env")
    parser.add_argument("--output", metavar="FILE|-", required=True, help="where the values go")
    args = parser.parse_args(argv)
    try:
        if args.snapshot is not None:
            snapshot = read_snapshot(args.snapshot)
            loaded = load_pinned(snapshot, cli_get_parameters)
            origin = (
                f"{len(snapshot.parameters)} pinned in {SNAPSHOT_FILE}, source {snapshot.source}"
            )
        else:
            if not args.path.startswith("/"):
                raise ConfigError(f"--path {args.path!r}: expected a path such as /web/prod")
            loaded = variables(args.path, cli_parameters_by_path(args.path))
            origin = "the newest version of each, no snapshot"
        text = render(loaded, args.format)
        if args.output == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            _write_private(args.output, text)
    except (ConfigError, OSError) as error:
        print(f"load_config: {error}", file=sys.stderr)
        return 1
    print(summary(loaded, origin), file=sys.stderr)
    return 0


def _write_private(file: str, text: str) -> None:
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)


def _root(path: str) -> str:
    return path.rstrip("/") + "/"


if __name__ == "__main__":
    sys.exit(main())
