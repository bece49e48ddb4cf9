"""Checks on the templates that read an environment's runtime configuration (config vars).

Defines tests of the one snapshot reader (`templates/config/load_config.py`) and its three
consumers, each run for real: the reader's command line and the Server hook
`scripts/load_config.sh` against a stand-in `aws` on PATH that records its arguments and answers
from a fixture Parameter Store (versions, tombstones, the 10-name limit of GetParameters); the
release task's buildspec commands, run in bash as CodeBuild runs them (one shell, each command's
exit status checked), against a stand-in migration; and the Lambda loader against boto3 clients
stubbed with botocore's Stubber (the service model checks every request) and moto. Where the AWS
CLI is installed, the reader also runs with it against a local endpoint that records the API
requests the CLI makes of the reader's arguments.

It does not run CodeBuild, CodeDeploy or Lambda, nor Alembic itself, and calls no AWS endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import importlib.util
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, cast

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from cicd import contract

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
READER = TEMPLATES / "config" / "load_config.py"
HOOK_SCRIPTS = TEMPLATES / "server" / "scripts"
RELEASE_BUILDSPEC = TEMPLATES / "buildspec-release.yml"
LAMBDA_LOADER = TEMPLATES / "lambda" / "config_loader.py"

PATH = "/web/prod"
UNSET = "__cicd_unset__"
# A value that a careless writer would break: quotes, $, backquotes, a backslash, a #, spaces.
AWKWARD = 'p@ss "w$rd" `id` \\ tail # not a comment '


def _module(path: Path, name: str) -> ModuleType:
    """A fresh copy of the module in `path` (so no cache survives from another test)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- a fixture Parameter Store and a stand-in `aws` --------------------------------------------

# {name: [value of version 1, value of version 2, ...]}
Store = dict[str, list[str]]

_FAKE_AWS = f"""#!{sys.executable}
# Stand-in for `aws ssm get-parameters` / `get-parameters-by-path`: logs its arguments (one JSON
# list a line) and AWS_REGION, answers from the store in $STUB_STORE as Parameter Store would,
# and refuses more than 10 names a call as the API does.
import json, os, sys

args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "region": os.environ.get("AWS_REGION", "")}}) + "\\n")
if os.environ.get("STUB_DENY") == "1":
    sys.stderr.write("An error occurred (AccessDeniedException) when calling the "
                     + ("GetParametersByPath" if "get-parameters-by-path" in args else
                        "GetParameters") + " operation: not authorized\\n")
    sys.exit(254)
with open(os.environ["STUB_STORE"]) as f:
    store = json.load(f)


def entry(name, version):
    return {{"Name": name, "Type": "SecureString", "Value": store[name][version - 1],
            "Version": version, "ARN": "arn:aws:ssm:eu-west-1:111111111111:parameter" + name}}


if args[:2] == ["ssm", "get-parameters"]:
    names = args[args.index("--names") + 1:]
    names = names[:next((i for i, a in enumerate(names) if a.startswith("--")), len(names))]
    if len(names) > 10:
        sys.stderr.write("An error occurred (ValidationException) when calling the "
                         "GetParameters operation: Member must have length less than or equal "
                         "to 10\\n")
        sys.exit(254)
    found, invalid = [], []
    for selector in names:
        name, _, version = selector.partition(":")
        versions = store.get(name, [])
        if version.isdigit() and 1 <= int(version) <= len(versions):
            found.append(dict(entry(name, int(version)), Selector=":" + version))
        else:
            invalid.append(selector)
    print(json.dumps({{"Parameters": sorted(found, key=lambda p: p["Name"]),
                      "InvalidParameters": invalid}}))
elif args[:2] == ["ssm", "get-parameters-by-path"]:
    root = args[args.index("--path") + 1].rstrip("/") + "/"
    print(json.dumps({{"Parameters": [entry(name, len(values))
                                     for name, values in sorted(store.items())
                                     if name.startswith(root)]}}))
else:
    sys.stderr.write("unexpected aws call: " + " ".join(args) + "\\n")
    sys.exit(2)
"""


@dataclass
class FakeAws:
    bin_dir: Path
    log: Path
    store_file: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment with the stand-in first on PATH."""
        return {
            "PATH": f"{self.bin_dir}:{os.environ['PATH']}",
            "HOME": str(self.bin_dir.parent),
            "STUB_LOG": str(self.log),
            "STUB_STORE": str(self.store_file),
            **extra,
        }

    def store(self, store: Store) -> None:
        self.store_file.write_text(json.dumps(store))

    def calls(self) -> list[list[str]]:
        return [json.loads(line)["args"] for line in self.log.read_text().splitlines()]

    def regions(self) -> list[str]:
        return [json.loads(line)["region"] for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_aws(tmp_path: Path) -> FakeAws:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(_FAKE_AWS)
    aws.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "python3").symlink_to(sys.executable)
    log = tmp_path / "aws-calls.jsonl"
    log.touch()
    fake = FakeAws(bin_dir, log, tmp_path / "store.json")
    fake.store({})
    return fake


def _snapshot(pins: dict[str, int], path: str = PATH, source: str = "latest") -> dict[str, Any]:
    return {
        "schema": 1,
        "path": path,
        "source": source,
        "parameters": [{"name": n, "version": v} for n, v in sorted(pins.items())],
    }


def _write_snapshot(directory: Path, snapshot: dict[str, Any]) -> Path:
    file = directory / contract.CONFIG_SNAPSHOT_FILE
    file.write_text(json.dumps(snapshot))
    return file


# A store with history: the snapshot pins older versions than the newest.
STORE: Store = {
    f"{PATH}/DATABASE_URL": ["postgres://db-v1/app", "postgres://db-v2/app", "postgres://db-v3"],
    f"{PATH}/feature.new-checkout": ["true"],
    f"{PATH}/API_KEY": [AWKWARD],
    # Unset after version 1: a rollback to a release that pinned version 1 gets the value back.
    f"{PATH}/LEGACY_FLAG": ["on", UNSET],
    # Unset in the version pinned below.
    f"{PATH}/OLD_SECRET": ["s3cr3t-old", UNSET],
}
PINS = {
    f"{PATH}/DATABASE_URL": 2,
    f"{PATH}/feature.new-checkout": 1,
    f"{PATH}/API_KEY": 1,
    f"{PATH}/LEGACY_FLAG": 1,
    f"{PATH}/OLD_SECRET": 2,
}
EXPECTED = {
    "API_KEY": AWKWARD,
    "DATABASE_URL": "postgres://db-v2/app",
    "FEATURE_NEW_CHECKOUT": "true",
    "LEGACY_FLAG": "on",
}
VALUES = ["postgres://", "w$rd", "s3cr3t-old", "db-v2"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _reader(fake: FakeAws, *args: str, cwd: Path | None = None, **env: str) -> Run:
    result = subprocess.run(
        [sys.executable, str(READER), *args],
        env=fake.env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return Run(result.returncode, result.stdout, result.stderr)


def _bash_environment(script: str) -> dict[str, str]:
    """The environment bash ends up with after running `script` in an empty environment."""
    out = subprocess.run(
        ["bash", "-c", f"{script}\nenv -0"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


# --- the reader's command line ------------------------------------------------------------------


def test_the_reader_fetches_exactly_the_pinned_versions_in_calls_of_at_most_ten_names(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    names = [f"{PATH}/VAR_{i:02d}" for i in range(23)]
    fake_aws.store({n: [f"old-{i}", f"value-{i}", f"newest-{i}"] for i, n in enumerate(names)})
    snapshot = _write_snapshot(tmp_path, _snapshot(dict.fromkeys(names, 2)))
    out = tmp_path / "config.json"
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "json", "--output", str(out))
    assert run.returncode == 0, run.stderr
    calls = fake_aws.calls()
    selectors = [f"{n}:2" for n in names]
    assert calls == [
        ["ssm", "get-parameters", "--names", *chunk, "--with-decryption", "--output", "json"]
        for chunk in (selectors[:10], selectors[10:20], selectors[20:])
    ]
    assert json.loads(out.read_text()) == {f"VAR_{i:02d}": f"value-{i}" for i in range(23)}, (
        "the pinned version, not the newest"
    )


def test_the_reader_skips_tombstones_and_maps_names_as_the_rule_says(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    snapshot = _write_snapshot(tmp_path, _snapshot(PINS))
    out = tmp_path / "config.json"
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "json", "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text()) == EXPECTED
    assert "OLD_SECRET" not in json.loads(out.read_text()), "a tombstone is no variable"
    assert run.stderr.strip().endswith(
        "API_KEY DATABASE_URL FEATURE_NEW_CHECKOUT LEGACY_FLAG; unset: OLD_SECRET"
    ), run.stderr
    assert f"from {PATH} (5 pinned in config-snapshot.json, source latest)" in run.stderr


def test_the_reader_never_prints_a_value_to_its_log(tmp_path: Path, fake_aws: FakeAws) -> None:
    fake_aws.store(STORE)
    snapshot = _write_snapshot(tmp_path, _snapshot(PINS))
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--output", str(tmp_path / "c.env"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "", "with --output FILE the values go to the file only"
    leaked = [v for v in VALUES if v in run.output]
    assert not leaked, f"values in the log: {leaked}"


def test_the_env_file_is_private_and_bash_reads_back_every_value_exactly(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    snapshot = _write_snapshot(tmp_path, _snapshot(PINS))
    out = tmp_path / "config.env"
    out.write_text("STALE=1\n")
    out.chmod(0o644)
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "env", "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "an existing file is made private too"
    assert out.read_text().splitlines() == [
        'API_KEY="p@ss \\"w\\$rd\\" \\`id\\` \\\\ tail # not a comment "',
        'DATABASE_URL="postgres://db-v2/app"',
        'FEATURE_NEW_CHECKOUT="true"',
        'LEGACY_FLAG="on"',
    ]
    environment = _bash_environment(f'set -a; source "{out}"')
    assert {k: environment[k] for k in EXPECTED} == EXPECTED


def test_the_export_lines_set_every_value_exactly_when_evaluated(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    snapshot = _write_snapshot(tmp_path, _snapshot(PINS))
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "export", "--output", "-")
    assert run.returncode == 0, run.stderr
    assert all(line.startswith("export ") for line in run.stdout.splitlines()), run.stdout
    exports = tmp_path / "exports.sh"
    exports.write_text(run.stdout)
    # Not `set -a`: the lines must export by themselves.
    environment = _bash_environment(f'eval "$(cat "{exports}")"')
    assert {k: environment.get(k) for k in EXPECTED} == EXPECTED


@pytest.mark.parametrize(
    ("store", "pins", "message"),
    [
        (
            {f"{PATH}/DB_URL": ["a"], f"{PATH}/db.url": ["b"]},
            {f"{PATH}/DB_URL": 1, f"{PATH}/db.url": 1},
            f"{PATH}/DB_URL and {PATH}/db.url both give DB_URL",
        ),
        ({f"{PATH}/1X": ["a"]}, {f"{PATH}/1X": 1}, "gives '1X', which is not an environment"),
        (
            {f"{PATH}/DATABASE_URL": ["postgres://a"]},
            {f"{PATH}/DATABASE_URL": 4},
            f"Parameter Store has no {PATH}/DATABASE_URL:4",
        ),
        ({}, {f"{PATH}/GONE": 1}, f"Parameter Store has no {PATH}/GONE:1"),
    ],
    ids=["two parameters, one name", "not a variable name", "version gone", "parameter gone"],
)
def test_the_reader_refuses_what_it_cannot_apply_and_writes_nothing(
    tmp_path: Path, fake_aws: FakeAws, store: Store, pins: dict[str, int], message: str
) -> None:
    fake_aws.store(store)
    snapshot = _write_snapshot(tmp_path, _snapshot(pins))
    out = tmp_path / "config.env"
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--output", str(out))
    assert run.returncode == 1
    assert message in run.stderr, run.stderr
    assert not out.exists(), "nothing is written when the configuration is refused"
    assert "postgres://" not in run.output


def test_the_reader_accepts_a_tombstone_beside_a_name_it_would_clash_with(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    # The way to rename db.url to DB_URL: set the new one, unset the old one.
    fake_aws.store({f"{PATH}/DB_URL": ["new"], f"{PATH}/db.url": ["old", UNSET]})
    snapshot = _write_snapshot(tmp_path, _snapshot({f"{PATH}/DB_URL": 1, f"{PATH}/db.url": 2}))
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "json", "--output", "-")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"DB_URL": "new"}


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        ({**_snapshot({}), "schema": 2}, "has schema 2; this reader knows schema 1"),
        (_snapshot({"/web/staging/X": 1}), "'/web/staging/X' is not a parameter under /web/prod"),
        (_snapshot({f"{PATH}/X": 0}), "has version 0"),
        ({**_snapshot({}), "path": "web/prod"}, "path is 'web/prod'"),
        (
            {**_snapshot({}), "parameters": [{"name": f"{PATH}/X", "version": 1}] * 2},
            "is listed twice",
        ),
    ],
    ids=["newer schema", "outside the path", "version 0", "relative path", "listed twice"],
)
def test_the_reader_refuses_a_snapshot_it_does_not_understand_before_calling_aws(
    tmp_path: Path, fake_aws: FakeAws, snapshot: dict[str, Any], message: str
) -> None:
    file = _write_snapshot(tmp_path, snapshot)
    run = _reader(fake_aws, "--snapshot", str(file), "--output", "-")
    assert run.returncode == 1
    assert message in run.stderr, run.stderr
    assert fake_aws.calls() == []


def test_an_empty_snapshot_gives_an_empty_configuration_without_calling_aws(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    snapshot = _write_snapshot(tmp_path, _snapshot({}))
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--format", "json", "--output", "-")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {}
    assert fake_aws.calls() == []


def test_the_reader_says_which_permission_to_grant_when_parameter_store_refuses(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    snapshot = _write_snapshot(tmp_path, _snapshot(PINS))
    run = _reader(fake_aws, "--snapshot", str(snapshot), "--output", "-", STUB_DENY="1")
    assert run.returncode == 1
    assert "AccessDeniedException" in run.stderr
    assert "config_reader_policy_arn" in run.stderr
    assert run.stdout == ""


def test_the_reader_writes_values_only_where_it_is_told(fake_aws: FakeAws) -> None:
    run = _reader(fake_aws, "--snapshot", "config-snapshot.json")
    assert run.returncode == 2
    assert "--output" in run.stderr


def test_without_a_snapshot_the_reader_reads_the_newest_of_every_parameter_under_the_path(
    fake_aws: FakeAws,
) -> None:
    fake_aws.store(STORE)
    run = _reader(fake_aws, "--path", f"{PATH}/", "--format", "json", "--output", "-")
    assert run.returncode == 0, run.stderr
    assert fake_aws.calls() == [
        [
            "ssm",
            "get-parameters-by-path",
            "--path",
            f"{PATH}/",
            "--recursive",
            "--with-decryption",
            "--output",
            "json",
        ]
    ]
    # The newest versions: LEGACY_FLAG and OLD_SECRET are unset there.
    assert json.loads(run.stdout) == {
        "API_KEY": AWKWARD,
        "DATABASE_URL": "postgres://db-v3",
        "FEATURE_NEW_CHECKOUT": "true",
    }


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"Parameters": [{"Name": f"{PATH}/A", "Version": 3, "Value": "x"}]},
            f"answered {PATH}/A version 3 for {PATH}/A:2",
        ),
        ({"Parameters": []}, f"Parameter Store has no {PATH}/A:2"),
    ],
    ids=["another version", "silently missing"],
)
def test_the_reader_refuses_an_answer_that_is_not_exactly_what_it_asked_for(
    answer: dict[str, Any], message: str
) -> None:
    reader = _module(READER, "load_config_answers")
    snapshot = reader.Snapshot(PATH, "latest", (reader.Pinned(f"{PATH}/A", 2),))
    asked: list[list[str]] = []

    def get_parameters(names: list[str]) -> dict[str, Any]:
        asked.append(names)
        return answer

    with pytest.raises(reader.ConfigError, match=re.escape(message)):
        reader.load_pinned(snapshot, get_parameters)
    assert asked == [[f"{PATH}/A:2"]]


class _RecordingSsm(http.server.BaseHTTPRequestHandler):
    """A local SSM endpoint: records each JSON request, answers GetParameters(ByPath)."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        operation = str(self.headers.get("X-Amz-Target", "")).rpartition(".")[2]
        self.requests.append({"operation": operation, "request": request})
        if operation == "GetParameters":
            parameters = [
                {"Name": n.split(":")[0], "Version": int(n.split(":")[1]), "Value": f"v{i}"}
                for i, n in enumerate(request["Names"])
            ]
        else:
            parameters = [{"Name": f"{PATH}/X", "Version": 1, "Value": "x"}]
        body = json.dumps({"Parameters": parameters}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed here")
def test_the_real_aws_cli_sends_the_requests_the_reader_means(tmp_path: Path) -> None:
    # The stand-in above trusts the argument syntax; here the real CLI turns it into API calls,
    # sent to a local endpoint (and through a dead proxy anywhere else, so nothing leaves).
    _RecordingSsm.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingSsm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    names = [f"{PATH}/V{i:02d}" for i in range(12)]
    snapshot = _write_snapshot(tmp_path, _snapshot({n: i + 1 for i, n in enumerate(names)}))
    (tmp_path / "aws-config").write_text("[default]\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1",
    }
    try:
        runs = [
            subprocess.run(
                [sys.executable, str(READER), *source, "--format", "json", "--output", "-"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            for source in (["--snapshot", str(snapshot)], ["--path", f"{PATH}/"])
        ]
    finally:
        server.shutdown()
        server.server_close()
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    selectors = [f"{n}:{i + 1}" for i, n in enumerate(names)]
    assert _RecordingSsm.requests == [
        {
            "operation": "GetParameters",
            "request": {"Names": selectors[:10], "WithDecryption": True},
        },
        {
            "operation": "GetParameters",
            "request": {"Names": selectors[10:], "WithDecryption": True},
        },
        {
            "operation": "GetParametersByPath",
            "request": {"Path": f"{PATH}/", "Recursive": True, "WithDecryption": True},
        },
    ]
    assert json.loads(runs[0].stdout)["V11"] == "v1"
    assert json.loads(runs[1].stdout) == {"X": "x"}


def test_the_templates_share_the_contracts_names() -> None:
    reader = _module(READER, "load_config_contract")
    assert reader.SNAPSHOT_FILE == contract.CONFIG_SNAPSHOT_FILE
    assert reader.UNSET_VALUE == contract.UNSET_VALUE
    assert (TEMPLATES / contract.RELEASE_OPTIONS_FILE).is_file()


def test_the_reader_is_standard_library_python_that_runs_on_the_oldest_supported_python() -> None:
    # Instances run the app's python3; the module says 3.9+. Ruff checks the syntax for it.
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ruff"),
            "check",
            "--no-cache",
            "--target-version",
            "py39",
            "--select",
            "E9,F,UP",
            str(READER),
            str(LAMBDA_LOADER),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    imports = {
        line.split()[1].split(".")[0]
        for line in READER.read_text().splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports <= set(sys.stdlib_module_names) | {"__future__"}, imports


# --- the Server hook, scripts/load_config.sh, in a deployment bundle ---------------------------


@dataclass
class HookRun:
    run: Run
    config: Path
    bundle: Path


def _bundle(tmp_path: Path, snapshot: dict[str, Any] | None) -> Path:
    """A deployment bundle as CodeDeploy unpacks it: scripts/, config/, maybe the snapshot."""
    bundle = tmp_path / "deployment-archive"
    shutil.copytree(HOOK_SCRIPTS, bundle / "scripts")
    (bundle / "config").mkdir()
    shutil.copy(READER, bundle / "config")
    if snapshot is not None:
        _write_snapshot(bundle, snapshot)
    return bundle


def _hook(
    tmp_path: Path,
    fake: FakeAws,
    snapshot: dict[str, Any] | None,
    environment: str | None,
    bundle: Path | None = None,
    env: dict[str, str] | None = None,
) -> HookRun:
    bundle = bundle or _bundle(tmp_path, snapshot)
    environment_file = tmp_path / "environment"
    if environment is not None:
        environment_file.write_text(environment)
    config = tmp_path / "etc" / "config.env"
    # Run from elsewhere: the script finds the bundle from its own path, not the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    result = subprocess.run(
        [str(bundle / "scripts" / "load_config.sh")],
        env=fake.env(
            ENVIRONMENT_FILE=str(environment_file),
            CONFIG_FILE=str(config),
            APP_USER=pwd.getpwuid(os.getuid()).pw_name,
            **(env or {}),
        ),
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return HookRun(Run(result.returncode, result.stdout, result.stderr), config, bundle)


def test_the_hook_writes_the_pinned_versions_from_the_bundles_snapshot(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    hook = _hook(tmp_path, fake_aws, _snapshot(PINS), "AWS_REGION=eu-west-1\n")
    assert hook.run.returncode == 0, hook.run.output
    assert [call[:2] for call in fake_aws.calls()] == [["ssm", "get-parameters"]]
    assert fake_aws.regions() == ["eu-west-1"]
    mode = hook.config.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o600, oct(mode.st_mode)
    assert mode.st_uid == os.getuid()
    environment = _bash_environment(f'set -a; source "{hook.config}"')
    assert {k: environment.get(k) for k in [*EXPECTED, "OLD_SECRET"]} == {
        **EXPECTED,
        "OLD_SECRET": None,
    }
    assert "API_KEY DATABASE_URL FEATURE_NEW_CHECKOUT LEGACY_FLAG" in hook.run.output
    leaked = [v for v in VALUES if v in hook.run.output]
    assert not leaked, f"the deployment log shows values: {leaked}"
    assert [p.name for p in hook.config.parent.iterdir()] == ["config.env"]


def test_with_a_snapshot_the_hook_needs_no_environment_file(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    hook = _hook(tmp_path, fake_aws, _snapshot(PINS), None)
    assert hook.run.returncode == 0, hook.run.output
    assert fake_aws.regions() == [""], "the CLI's own region configuration applies"


def test_with_a_snapshot_the_hook_ignores_the_instances_parameter_path(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    hook = _hook(tmp_path, fake_aws, _snapshot(PINS), "PARAMETER_PATH=/myapp/prod/\n")
    assert hook.run.returncode == 0, hook.run.output
    assert all("get-parameters-by-path" not in call for call in fake_aws.calls())


def test_without_a_snapshot_the_hook_falls_back_to_every_parameter_under_its_path(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    hook = _hook(tmp_path, fake_aws, None, f'PARAMETER_PATH="{PATH}/"\nAWS_REGION=eu-west-1\n')
    assert hook.run.returncode == 0, hook.run.output
    assert fake_aws.calls() == [
        [
            "ssm",
            "get-parameters-by-path",
            "--path",
            f"{PATH}/",
            "--recursive",
            "--with-decryption",
            "--output",
            "json",
        ]
    ]
    assert fake_aws.regions() == ["eu-west-1"]
    assert "no config-snapshot.json in this bundle" in hook.run.output
    lines = hook.config.read_text().splitlines()
    assert lines == [
        'API_KEY="p@ss \\"w\\$rd\\" \\`id\\` \\\\ tail # not a comment "',
        'DATABASE_URL="postgres://db-v3"',
        'FEATURE_NEW_CHECKOUT="true"',
    ], "the newest versions, tombstones left out"


def test_without_a_snapshot_the_hook_fails_clearly_when_the_instance_does_not_say_its_path(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    hook = _hook(tmp_path, fake_aws, None, environment=None)
    assert hook.run.returncode != 0
    assert "no config-snapshot.json and" in hook.run.stderr
    assert f"{tmp_path / 'environment'} is missing" in hook.run.stderr
    assert "launch template" in hook.run.stderr
    assert fake_aws.calls() == [], "nothing is read without knowing the environment"
    assert not hook.config.exists()


def test_without_a_snapshot_the_hook_rejects_an_environment_file_without_a_path(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    hook = _hook(tmp_path, fake_aws, None, "AWS_REGION=eu-west-1\n")
    assert hook.run.returncode != 0
    assert "PARAMETER_PATH is ''" in hook.run.stderr
    assert fake_aws.calls() == []


def test_the_hook_fails_with_a_pointer_when_the_bundle_lacks_the_reader(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    bundle = _bundle(tmp_path, _snapshot(PINS))
    (bundle / "config" / "load_config.py").unlink()
    hook = _hook(tmp_path, fake_aws, None, None, bundle=bundle)
    assert hook.run.returncode != 0
    assert "list config/load_config.py in buildspec.yml's artifacts.files" in hook.run.stderr


@pytest.mark.parametrize(
    ("snapshot", "store", "env", "message"),
    [
        (_snapshot({f"{PATH}/DATABASE_URL": 9}), STORE, {}, f"{PATH}/DATABASE_URL:9"),
        (
            _snapshot({f"{PATH}/db/url": 1, f"{PATH}/DB_URL": 1}),
            {f"{PATH}/db/url": ["a"], f"{PATH}/DB_URL": ["b"]},
            {},
            "both give DB_URL",
        ),
        (_snapshot(PINS), STORE, {"STUB_DENY": "1"}, "config_reader_policy_arn"),
        (None, {}, {}, "no parameters under /web/prod/"),
        (None, STORE, {"STUB_DENY": "1"}, "ssm:GetParametersByPath on /web/prod/"),
    ],
    ids=[
        "version gone",
        "two parameters, one name",
        "access denied",
        "fallback: empty path",
        "fallback: access denied",
    ],
)
def test_the_hook_fails_and_keeps_the_previous_configuration(
    tmp_path: Path,
    fake_aws: FakeAws,
    snapshot: dict[str, Any] | None,
    store: Store,
    env: dict[str, str],
    message: str,
) -> None:
    fake_aws.store(store)
    previous = tmp_path / "etc" / "config.env"
    previous.parent.mkdir()
    previous.write_text('DATABASE_URL="postgres://old"\n')
    hook = _hook(tmp_path, fake_aws, snapshot, f"PARAMETER_PATH={PATH}/\n", env=env)
    assert hook.run.returncode != 0
    assert message in hook.run.stderr, hook.run.stderr
    assert "is unchanged" in hook.run.stderr
    assert previous.read_text() == 'DATABASE_URL="postgres://old"\n'
    assert [p.name for p in previous.parent.iterdir()] == ["config.env"], "no temporary files left"


# --- the release task: buildspec-release.yml, run as CodeBuild runs it ---------------------------


def _codebuild_script(spec: dict[str, Any]) -> str:
    """The buildspec's commands as CodeBuild runs them: one bash shell, phases in order, and the
    build stopping at the first command that exits non-zero (every phase here is ABORT)."""
    lines = ["set -o pipefail"]
    for phase in ("install", "pre_build", "build", "post_build"):
        for index, command in enumerate(
            cast(dict[str, Any], spec["phases"].get(phase) or {}).get("commands") or []
        ):
            lines += [
                command,
                f'rc=$?; if [ "$rc" -ne 0 ]; then echo "CODEBUILD: {phase} command {index} '
                f'failed with exit status $rc" >&2; exit "$rc"; fi',
            ]
    return "\n".join(lines) + "\n"


_FAKE_MIGRATION = """\
# Stand-in for `python -m alembic`: records its arguments and the configuration it got, prints
# $FAKE_MIGRATION_ERROR on stderr, then exits with $FAKE_MIGRATION_EXIT (0 unless a test says).
import json, os, sys

with open(os.environ["MIGRATION_RECORD"], "w") as f:
    json.dump({"argv": sys.argv[1:], "environ": dict(os.environ), "cwd": os.getcwd()}, f)
print("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.", file=sys.stderr)
print(os.environ.get("FAKE_MIGRATION_ERROR", ""), file=sys.stderr)
sys.exit(int(os.environ.get("FAKE_MIGRATION_EXIT", "0")))
"""
# What Alembic prints when the database is at a revision its script directory does not hold.
_AHEAD = "FAILED: Can't locate revision identified by 'c0ffee000002'"


def _lambda_release(tmp_path: Path, snapshot: dict[str, Any] | None) -> Path:
    """A Lambda deploy artifact: the package (dependencies at its root) plus the snapshot."""
    release = tmp_path / "deploy-artifact"
    (release / "config").mkdir(parents=True)
    shutil.copy(READER, release / "config")
    shutil.copy(RELEASE_BUILDSPEC, release)
    (release / "alembic").mkdir()
    (release / "alembic" / "__init__.py").write_text("")
    (release / "alembic" / "__main__.py").write_text(_FAKE_MIGRATION)
    if snapshot is not None:
        _write_snapshot(release, snapshot)
    return release


def _wheel(directory: Path, files: dict[str, str]) -> Path:
    """A minimal wheel of `files` (a stand-in alembic), with the metadata pip checks."""
    name, version = "alembic", "0.0.0"
    dist_info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def _server_release(tmp_path: Path, snapshot: dict[str, Any] | None) -> Path:
    """A Server deploy artifact: release/wheels (the app and its dependencies) plus the snapshot."""
    release = tmp_path / "deploy-artifact"
    (release / "config").mkdir(parents=True)
    (release / "release" / "wheels").mkdir(parents=True)
    shutil.copy(READER, release / "config")
    shutil.copy(RELEASE_BUILDSPEC, release)
    _wheel(
        release / "release" / "wheels",
        {"alembic/__init__.py": "", "alembic/__main__.py": _FAKE_MIGRATION},
    )
    if snapshot is not None:
        _write_snapshot(release, snapshot)
    return release


@dataclass
class TaskRun:
    run: Run
    migration: dict[str, Any] | None


def _release_task(release: Path, fake: FakeAws, tmp_path: Path, **env: str) -> TaskRun:
    record = tmp_path / "migration.json"
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    spec = yaml.safe_load((release / "buildspec-release.yml").read_text())
    result = subprocess.run(
        ["bash", "-c", _codebuild_script(spec)],
        cwd=release,
        env=fake.env(
            **{
                # What the ReleaseTask project sets, plus the buildspec's own env.variables.
                "SERVICE": "web",
                "STAGE": "prod",
                "CONFIG_PATH": PATH,
                "CODEBUILD_SRC_DIR": str(release),
                "TMPDIR": str(scratch),
                "MIGRATION_RECORD": str(record),
                **cast(dict[str, str], spec["env"]["variables"]),
                **env,
            }
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    migration = json.loads(record.read_text()) if record.exists() else None
    return TaskRun(Run(result.returncode, result.stdout, result.stderr), migration)


ReleaseFactory = Callable[[Path, dict[str, Any] | None], Path]
PLATFORMS: dict[str, ReleaseFactory] = {"lambda": _lambda_release, "server": _server_release}


@pytest.fixture(params=sorted(PLATFORMS))
def release_of(request: pytest.FixtureRequest) -> Iterator[ReleaseFactory]:
    yield PLATFORMS[cast(str, request.param)]


def test_the_release_task_runs_the_migration_with_the_pinned_configuration(
    tmp_path: Path, fake_aws: FakeAws, release_of: ReleaseFactory
) -> None:
    fake_aws.store(STORE)
    release = release_of(tmp_path, _snapshot(PINS))
    task = _release_task(release, fake_aws, tmp_path)
    assert task.run.returncode == 0, task.run.output
    assert task.migration is not None, "the migration did not run"
    assert task.migration["argv"] == ["upgrade", "head"]
    assert task.migration["cwd"] == str(release), "alembic.ini is read from the release root"
    environ = cast(dict[str, str], task.migration["environ"])
    assert {k: environ.get(k) for k in [*EXPECTED, "OLD_SECRET"]} == {
        **EXPECTED,
        "OLD_SECRET": None,
    }
    assert "config_exports" not in environ, "the reader's output is not left lying around"
    assert [call[:2] for call in fake_aws.calls()] == [["ssm", "get-parameters"]]
    assert "Release task of web in prod" in task.run.stdout
    leaked = [v for v in VALUES if v in task.run.output]
    assert not leaked, f"the build log shows values: {leaked}"


def test_the_release_task_fails_before_migrating_when_the_release_does_not_install(
    tmp_path: Path, fake_aws: FakeAws
) -> None:
    fake_aws.store(STORE)
    release = _server_release(tmp_path, _snapshot(PINS))
    (wheel,) = (release / "release" / "wheels").glob("*.whl")
    wheel.write_bytes(b"not a zip")
    task = _release_task(release, fake_aws, tmp_path)
    assert task.run.returncode != 0
    assert "CODEBUILD: install command 0 failed" in task.run.stderr, task.run.stderr
    assert task.migration is None


def test_the_release_task_fails_when_the_migration_fails(tmp_path: Path, fake_aws: FakeAws) -> None:
    fake_aws.store(STORE)
    release = _lambda_release(tmp_path, _snapshot(PINS))
    task = _release_task(
        release, fake_aws, tmp_path, FAKE_MIGRATION_EXIT="3", FAKE_MIGRATION_ERROR="FAILED: boom"
    )
    assert task.migration is not None, "the migration ran"
    assert task.run.returncode == 3, "with the migration's own exit status"
    assert "CODEBUILD: build command 0 failed with exit status 3" in task.run.stderr
    assert "FAILED: boom" in task.run.stderr, "the migration's error is in the build log"


@pytest.mark.parametrize(
    ("source", "error", "passes"),
    [
        ("rollback:4f1d2c3b-0000-4000-8000-000000000001", _AHEAD, True),
        ("latest", _AHEAD, False),
        ("rollback:4f1d2c3b-0000-4000-8000-000000000001", "FAILED: boom", False),
    ],
    ids=["rollback, database ahead", "forward, database ahead", "rollback, other failure"],
)
def test_a_rollbacks_release_task_accepts_a_database_a_newer_release_migrated_and_nothing_else(
    tmp_path: Path, fake_aws: FakeAws, source: str, error: str, passes: bool
) -> None:
    fake_aws.store(STORE)
    release = _lambda_release(tmp_path, _snapshot(PINS, source=source))
    task = _release_task(
        release, fake_aws, tmp_path, FAKE_MIGRATION_EXIT="255", FAKE_MIGRATION_ERROR=error
    )
    assert task.migration is not None
    assert (task.run.returncode == 0) == passes, task.run.output
    assert error in task.run.stderr
    assert ("nothing to migrate" in task.run.stderr) == passes


@pytest.mark.parametrize(
    ("snapshot", "env", "message"),
    [
        (_snapshot(PINS), {"STUB_DENY": "1"}, "AccessDeniedException"),
        (_snapshot({f"{PATH}/DATABASE_URL": 9}), {}, "has no /web/prod/DATABASE_URL:9"),
        (None, {}, "config-snapshot.json is missing"),
        (_snapshot(PINS), {"STAGE": ""}, "STAGE is not set"),
    ],
    ids=["access denied", "version gone", "no snapshot", "no stage"],
)
def test_the_release_task_fails_before_migrating_when_it_cannot_load_the_configuration(
    tmp_path: Path,
    fake_aws: FakeAws,
    snapshot: dict[str, Any] | None,
    env: dict[str, str],
    message: str,
) -> None:
    fake_aws.store(STORE)
    release = _lambda_release(tmp_path, snapshot)
    task = _release_task(release, fake_aws, tmp_path, **env)
    assert task.run.returncode != 0
    assert message in task.run.stderr, task.run.stderr
    assert task.migration is None, "no migration without the environment's configuration"


def test_the_release_task_exports_the_configuration_in_one_command_whose_status_counts() -> None:
    # `eval "$(reader)"` exits 0 when the reader fails: the assignment must carry the status.
    spec = yaml.safe_load(RELEASE_BUILDSPEC.read_text())
    commands = [c for c in spec["phases"]["pre_build"]["commands"] if "load_config.py" in c]
    assert len(commands) == 1, commands
    assert commands[0].startswith('config_exports="$(python config/load_config.py --snapshot ')
    assert '&& eval "${config_exports}"' in commands[0]


# --- the Lambda loader, against stubbed and moto clients -----------------------------------------


def _package(tmp_path: Path, snapshot: dict[str, Any] | None) -> Path:
    """A function package as the deploy action publishes it: the reader, maybe the snapshot."""
    package = tmp_path / "task-root"
    (package / "config").mkdir(parents=True)
    shutil.copy(READER, package / "config")
    if snapshot is not None:
        _write_snapshot(package, snapshot)
    return package


@pytest.fixture
def loader() -> Iterator[ModuleType]:
    yield _module(LAMBDA_LOADER, "config_loader_under_test")
    sys.modules.pop("load_config", None)


def _ssm() -> Any:
    return boto3.client(
        "ssm",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _answer(store: Store, selectors: list[str]) -> dict[str, Any]:
    parameters = []
    for selector in selectors:
        name, _, version = selector.partition(":")
        parameters.append(
            {
                "Name": name,
                "Type": "SecureString",
                "Value": store[name][int(version) - 1],
                "Version": int(version),
                "Selector": f":{version}",
            }
        )
    # InvalidParameters has at least one member when present (the service model says so).
    return {"Parameters": parameters}


def test_the_lambda_loader_fetches_the_pinned_versions_once_per_execution_environment(
    tmp_path: Path, loader: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"{PATH}/VAR_{i:02d}" for i in range(12)]
    store: Store = {n: [f"v1-{i}", f"v2-{i}"] for i, n in enumerate(names)}
    store[f"{PATH}/VAR_03"] = ["v1-3", UNSET]
    package = _package(tmp_path, _snapshot(dict.fromkeys(names, 2)))
    client = _ssm()
    selectors = [f"{n}:2" for n in names]
    with Stubber(client) as stub:
        for chunk in (selectors[:10], selectors[10:]):
            stub.add_response(
                "get_parameters", _answer(store, chunk), {"Names": chunk, "WithDecryption": True}
            )
        config = loader.load(client=client, root=package)
        again = loader.load(client=client, root=package)
        stub.assert_no_pending_responses()
    expected = {f"VAR_{i:02d}": f"v2-{i}" for i in range(12) if i != 3}
    assert dict(config) == expected
    assert again is config, "cached for the life of the execution environment"
    with pytest.raises(TypeError):
        config["VAR_00"] = "changed"  # type: ignore[index]
    logged = capsys.readouterr()
    assert "VAR_00" in logged.err and "unset: VAR_03" in logged.err
    assert "v2-" not in logged.out + logged.err, "values never reach the function's log"


def test_the_lambda_loader_caches_nothing_when_the_read_fails(
    tmp_path: Path, loader: ModuleType
) -> None:
    package = _package(tmp_path, _snapshot({f"{PATH}/DATABASE_URL": 2}))
    client = _ssm()
    names = [f"{PATH}/DATABASE_URL:2"]
    with Stubber(client) as stub:
        stub.add_client_error("get_parameters", "AccessDeniedException", "not authorized")
        stub.add_response(
            "get_parameters", _answer(STORE, names), {"Names": names, "WithDecryption": True}
        )
        with pytest.raises(Exception, match="AccessDeniedException"):
            loader.load(client=client, root=package)
        assert dict(loader.load(client=client, root=package)) == {
            "DATABASE_URL": "postgres://db-v2/app"
        }
        stub.assert_no_pending_responses()


def test_the_lambda_loader_refuses_a_package_without_a_snapshot(
    tmp_path: Path, loader: ModuleType
) -> None:
    package = _package(tmp_path, None)
    with pytest.raises(Exception, match=r"config-snapshot\.json is missing") as raised:
        loader.load(client=_ssm(), root=package)
    assert type(raised.value).__name__ == "ConfigError"


def test_the_lambda_loader_finds_the_package_through_lambda_task_root(
    tmp_path: Path, loader: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(tmp_path, _snapshot({}))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(package))
    assert dict(loader.load(client=_ssm())) == {}


def test_the_lambda_loader_outside_lambda_asks_for_the_package_root(
    loader: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    with pytest.raises(RuntimeError, match="LAMBDA_TASK_ROOT is not set"):
        loader.load(client=_ssm())


@mock_aws
def test_the_lambda_loader_gets_an_older_version_back_after_a_newer_one_and_an_unset(
    tmp_path: Path, loader: ModuleType
) -> None:
    # Against moto's Parameter Store: versions really accumulate, a rollback's snapshot pins v1.
    client = _ssm()
    name = f"{PATH}/DATABASE_URL"
    for value in ("postgres://v1", "postgres://v2", UNSET):
        client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    rollback = _package(tmp_path, _snapshot({name: 1}, source="rollback:0f7c"))
    assert dict(loader.load(client=client, root=rollback)) == {"DATABASE_URL": "postgres://v1"}
    loader.reset()
    latest = _package(tmp_path / "latest", _snapshot({name: 3}))
    assert dict(loader.load(client=client, root=latest)) == {}, "version 3 is the tombstone"
