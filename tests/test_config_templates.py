"""Checks on the templates that read an environment's runtime configuration (config vars).

Defines tests of the one snapshot reader (`templates/config/load_config.py`) and of the Server
hook `scripts/load_config.sh` that runs it, both run for real against a stand-in `aws` on PATH
that records its arguments and answers from a fixture Parameter Store (versions, tombstones, the
10-name limit of GetParameters).

It does not run the AWS CLI or CodeDeploy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cicd import contract

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
READER = TEMPLATES / "config" / "load_config.py"
HOOK_SCRIPTS = TEMPLATES / "server" / "scripts"

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

    with pytest.raises(reader.ConfigError, match=message):
        reader.load_pinned(snapshot, get_parameters)
    assert asked == [[f"{PATH}/A:2"]]


def test_the_templates_share_the_contracts_names() -> None:
    reader = _module(READER, "load_config_contract")
    assert reader.SNAPSHOT_FILE == contract.CONFIG_SNAPSHOT_FILE
    assert reader.UNSET_VALUE == contract.UNSET_VALUE


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
