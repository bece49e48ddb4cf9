"""Checks on the application-repository templates in `templates/`.

Defines tests that the templates parse; that the buildspecs and AppSpec files keep the contract the
pipeline relies on (artifact layout, test reports, hook names and limits, no build-time STAGE);
that the hook scripts are runnable bash in strict mode and agree with the AppSpec and the systemd
unit; and that no template holds a secret value. The scripts that only talk to systemd and HTTP
are run for real, against stub `systemctl`/`journalctl` commands and a local HTTP server; so is
the smoke test, against local servers (healthy, failing, silent, hanging) and a stand-in `aws`.
What reads the runtime configuration (config/load_config.py, load_config.sh, the release task,
the Lambda loader) is run in tests/test_config_templates.py.

It does not run CodeBuild or CodeDeploy, and does not check the commands an application team will
replace (pip, pytest, gunicorn).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import runpy
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import annotated_types
import pytest
import yaml

from cicd.contract import RELEASE_OPTIONS_FILE
from components.release_channel import MANIFEST_FILE
from stack.config.deploy import VerifySuite

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
SERVER = TEMPLATES / "server"
SCRIPTS = SERVER / "scripts"
GUIDE = ROOT / "docs" / "app-repository.md"

SERVER_BUILDSPEC = TEMPLATES / "buildspec.yml"
LAMBDA_BUILDSPEC = TEMPLATES / "lambda" / "buildspec.yml"
SMOKE_BUILDSPEC = TEMPLATES / "buildspec-smoke.yml"
SMOKE_SCRIPT = TEMPLATES / "smoke" / "smoke.py"
# The release task runs on the release before the deploy (migrations); verification suites run on
# it after the deploy; test suites run on the source before either.
RELEASE_BUILDSPEC = TEMPLATES / "buildspec-release.yml"
VERIFY_BUILDSPECS = [SMOKE_BUILDSPEC]
TEST_BUILDSPECS = sorted(
    set(TEMPLATES.glob("buildspec-*.yml")) - {*VERIFY_BUILDSPECS, RELEASE_BUILDSPEC}
)
BUILD_BUILDSPECS = [SERVER_BUILDSPEC, LAMBDA_BUILDSPEC]
# What each verification buildspec needs beside it in the release artifact.
VERIFY_KITS = {"buildspec-smoke.yml": ["smoke/smoke.py", "smoke/checks.py"]}
# What the release task needs beside it: the configuration reader and the template's migrations.
RELEASE_KIT = ["buildspec-release.yml", "config/load_config.py", "alembic.ini", "migrations/env.py"]
# Files the pipeline's Package step adds at the root of the build's artifact.
PACKAGE_ADDS = [MANIFEST_FILE]
SAMPLE_STACKS = sorted(ROOT.glob("Pulumi.*.yaml"))
BUILDSPECS = [*BUILD_BUILDSPECS, *TEST_BUILDSPECS, *VERIFY_BUILDSPECS, RELEASE_BUILDSPEC]
SERVER_APPSPEC = SERVER / "appspec.yml"
LAMBDA_APPSPEC = TEMPLATES / "lambda" / "appspec.yml"
UNIT_FILES = sorted((SERVER / "deploy").glob("*.service"))

YAML_FILES = sorted(TEMPLATES.rglob("*.yml"))
SHELL_SCRIPTS = sorted(TEMPLATES.rglob("*.sh"))
TEMPLATE_FILES = sorted(p for p in TEMPLATES.rglob("*") if p.is_file())

# The files the README and the guide promise; a rename must update them too.
EXPECTED_TEMPLATES = [
    "README.md",
    "buildspec.yml",
    "buildspec-unit.yml",
    "buildspec-functional.yml",
    "buildspec-secrets.yml",
    "buildspec-smoke.yml",
    "buildspec-release.yml",
    "release-options.json",
    "config/load_config.py",
    "smoke/smoke.py",
    "smoke/checks.py",
    "server/appspec.yml",
    "server/deploy/myapp.service",
    "server/scripts/common.sh",
    "server/scripts/application_stop.sh",
    "server/scripts/before_install.sh",
    "server/scripts/after_install.sh",
    "server/scripts/application_start.sh",
    "server/scripts/validate_service.sh",
    "server/scripts/load_config.sh",
    "lambda/buildspec.yml",
    "lambda/appspec.yml",
    "lambda/config_loader.py",
]

# https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
BUILDSPEC_SECTIONS = {
    "version",
    "run-as",
    "env",
    "proxy",
    "batch",
    "phases",
    "reports",
    "artifacts",
    "cache",
}
ENV_KEYS = {
    "shell",
    "variables",
    "parameter-store",
    "exported-variables",
    "secrets-manager",
    "git-credential-helper",
}
PHASES = {"install", "pre_build", "build", "post_build"}
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ARTIFACT_KEYS = {
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
    "secondary-artifacts",
}
REPORT_KEYS = {"files", "base-directory", "discard-paths", "file-format"}

# https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
# Events an in-place EC2/On-Premises deployment runs scripts for. DownloadBundle, Install,
# BlockTraffic and AllowTraffic belong to CodeDeploy and cannot be hooked.
SERVER_HOOKS = {
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeBlockTraffic",
    "AfterBlockTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
}
REQUIRED_SERVER_HOOKS = [
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
]
LAMBDA_HOOKS = {"BeforeAllowTraffic", "AfterAllowTraffic"}
# CodeDeploy's limit on the scripts of one lifecycle event, in seconds.
MAX_EVENT_SECONDS = 3600

SENSITIVE_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), (
        f"{_rel(path)}: top level is {type(data).__name__}, not a mapping"
    )
    return cast(dict[str, Any], data)


def _phases(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cast(dict[str, dict[str, Any]], spec.get("phases") or {})


def _commands(spec: dict[str, Any]) -> list[str]:
    """Every command of every phase, `finally` blocks included, in phase order."""
    found: list[str] = []
    for phase in _phases(spec).values():
        found.extend(phase.get("commands") or [])
        found.extend(phase.get("finally") or [])
    return found


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """CodeBuild's artifact globs: `**/` spans directories, `*` stays within one."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def _in_artifact(path: str, globs: list[str]) -> bool:
    """True when `path` (a file, or a directory's contents) would be copied into the artifact."""
    candidates = [path, f"{path.rstrip('/')}/any-file"]
    return any(_glob_regex(g).match(c) for g in globs for c in candidates)


def _shell_default(name: str) -> str:
    """The default a variable gets in common.sh (`NAME="${NAME:-default}"`)."""
    text = (SCRIPTS / "common.sh").read_text()
    match = re.search(rf'^{name}="\$\{{{name}:-(.*)\}}"$', text, re.M)
    assert match, f'common.sh: no default for {name} (expected {name}="${{{name}:-...}}")'
    return match.group(1)


def _resolved_default(name: str) -> str:
    """A common.sh default with the `${OTHER}` defaults it uses filled in."""
    return re.sub(r"\$\{(\w+)\}", lambda m: _resolved_default(m.group(1)), _shell_default(name))


def _smoke_globals() -> dict[str, Any]:
    """smoke.py's module globals (its checks and defaults), without running its main()."""
    return runpy.run_path(str(SMOKE_SCRIPT), run_name="smoke_template")


def _sample_verify_suites() -> list[tuple[str, str, str]]:
    """(stack file, suite, buildspec) for every deploy.verify suite in the sample stacks."""
    found: list[tuple[str, str, str]] = []
    for path in SAMPLE_STACKS:
        config = cast(dict[str, Any], yaml.safe_load(path.read_text())["config"])
        for service in config.get("gh-aws-delivery:services") or []:
            for suite in (service.get("deploy") or {}).get("verify") or []:
                buildspec = suite.get("buildspec", f"buildspec-{suite['name']}.yml")
                found.append((path.name, f"{service['name']}/{suite['name']}", buildspec))
    return found


def _server_hooks() -> list[tuple[str, dict[str, Any]]]:
    hooks = cast(dict[str, list[dict[str, Any]]], _load(SERVER_APPSPEC).get("hooks") or {})
    return [(event, entry) for event, entries in hooks.items() for entry in entries]


# --- inventory --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED_TEMPLATES)
def test_every_promised_template_file_exists(name: str) -> None:
    assert (TEMPLATES / name).is_file(), f"templates/{name} is missing"


@pytest.mark.parametrize("name", EXPECTED_TEMPLATES)
def test_the_app_repository_guide_names_every_template_file(name: str) -> None:
    guide = GUIDE.read_text()
    path = Path(name)
    assert path.name in guide, f"docs/app-repository.md does not mention {path.name}"
    folder = f"templates/{path.parent.as_posix()}/" if path.parent != Path() else "templates/"
    assert folder in guide, f"docs/app-repository.md does not say where {name} is ({folder})"


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_templates_readme_links_to_sections_of_the_guide_that_exist() -> None:
    # Links within docs/ are checked by tests/test_docs.py; templates/ is outside its reach.
    readme = TEMPLATES / "README.md"
    links = re.findall(r"\]\(\.\./docs/app-repository\.md#([\w-]+)\)", readme.read_text())
    assert links, "templates/README.md links to no section of the guide"
    missing = set(links) - _anchors(GUIDE.read_text())
    assert not missing, f"templates/README.md links to #{missing}, which the guide lacks"


# --- YAML and buildspecs ----------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=_rel)
def test_every_yaml_template_parses_to_a_mapping(path: Path) -> None:
    _load(path)


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_is_version_0_2(path: Path) -> None:
    version = _load(path).get("version")
    assert version == 0.2, f"{_rel(path)}: version is {version!r}; CodeBuild wants 0.2"


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_uses_only_sections_codebuild_knows(path: Path) -> None:
    spec = _load(path)
    assert set(spec) <= BUILDSPEC_SECTIONS, (
        f"{_rel(path)}: unknown {set(spec) - BUILDSPEC_SECTIONS}"
    )
    env = cast(dict[str, Any], spec.get("env") or {})
    assert set(env) <= ENV_KEYS, f"{_rel(path)}: unknown env keys {set(env) - ENV_KEYS}"
    artifacts = cast(dict[str, Any], spec.get("artifacts") or {})
    assert set(artifacts) <= ARTIFACT_KEYS, (
        f"{_rel(path)}: unknown {set(artifacts) - ARTIFACT_KEYS}"
    )


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_phase_is_one_codebuild_runs_and_has_commands(path: Path) -> None:
    phases = _phases(_load(path))
    assert "build" in phases, f"{_rel(path)}: no build phase"
    assert set(phases) <= PHASES, f"{_rel(path)}: phases {set(phases) - PHASES} are not {PHASES}"
    for name, phase in phases.items():
        assert set(phase) <= PHASE_KEYS, f"{_rel(path)}: {name} has {set(phase) - PHASE_KEYS}"
        assert phase.get("commands") or phase.get("runtime-versions"), f"{_rel(path)}: {name} empty"
        on_failure = phase.get("on-failure", "ABORT")
        assert on_failure in {"ABORT", "CONTINUE"}, f"{_rel(path)}: {name} on-failure {on_failure}"


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_command_parses_as_a_string(path: Path) -> None:
    # An unquoted "key: value" inside a command turns it into a mapping, which CodeBuild rejects.
    for command in _commands(_load(path)):
        assert isinstance(command, str), f"{_rel(path)}: command parsed as {command!r}; quote it"


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_runtime_version_is_a_quoted_string(path: Path) -> None:
    for name, phase in _phases(_load(path)).items():
        for runtime, version in cast(dict[str, Any], phase.get("runtime-versions") or {}).items():
            assert isinstance(version, str), (
                f"{_rel(path)}: {name} {runtime} version {version!r} is a number; "
                'quote it ("3.10" would otherwise become 3.1)'
            )


@pytest.mark.parametrize("path", [*BUILD_BUILDSPECS, *TEST_BUILDSPECS], ids=_rel)
def test_every_buildspec_that_installs_packages_caches_explicit_paths(path: Path) -> None:
    cache = cast(dict[str, Any], _load(path).get("cache") or {})
    paths = cast(list[str], cache.get("paths") or [])
    assert paths, f"{_rel(path)}: no cache.paths (used by S3 and LOCAL custom caches)"
    for entry in paths:
        assert entry.endswith("/**/*"), (
            f"{_rel(path)}: cache {entry!r}; write a directory as <dir>/**/*"
        )


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_keeps_sensitive_names_out_of_plaintext_variables(path: Path) -> None:
    variables = cast(
        dict[str, Any], cast(dict[str, Any], _load(path).get("env") or {}).get("variables") or {}
    )
    leaked = [name for name in variables if SENSITIVE_NAME.search(name)]
    assert not leaked, (
        f"{_rel(path)}: {leaked} in env.variables; use parameter-store/secrets-manager"
    )


@pytest.mark.parametrize("path", BUILDSPECS, ids=_rel)
def test_every_buildspec_shows_the_parameter_store_and_secrets_manager_alternatives(
    path: Path,
) -> None:
    text = path.read_text()
    for section in ("parameter-store:", "secrets-manager:"):
        assert re.search(rf"^\s*#\s*{section}", text, re.M), (
            f"{_rel(path)}: no commented `{section}` example in env"
        )


def test_the_server_build_artifact_holds_appspec_and_scripts_at_its_root() -> None:
    artifacts = cast(dict[str, Any], _load(SERVER_BUILDSPEC)["artifacts"])
    files = cast(list[str], artifacts["files"])
    assert "appspec.yml" in files, "buildspec.yml: artifacts.files must list appspec.yml"
    assert any(_glob_regex(g).match("scripts/validate_service.sh") for g in files), files
    assert "base-directory" not in artifacts, "a base-directory would move appspec.yml off the root"
    assert artifacts.get("discard-paths") in (None, False, "no"), "discard-paths flattens scripts/"


def test_the_server_release_carries_everything_the_appspec_references() -> None:
    # The release CodeDeploy gets is the build's artifact plus what the Package step adds.
    globs = [*cast(list[str], _load(SERVER_BUILDSPEC)["artifacts"]["files"]), *PACKAGE_ADDS]
    appspec = _load(SERVER_APPSPEC)
    sources = [cast(str, f["source"]) for f in appspec["files"]]
    locations = [cast(str, entry["location"]) for _, entry in _server_hooks()]
    missing = [p for p in sources + locations if not _in_artifact(p, globs)]
    assert not missing, (
        f"appspec.yml names {missing}, which buildspec.yml leaves out of the artifact"
    )


def test_the_server_appspec_installs_the_release_manifest_where_the_unit_points_the_app() -> None:
    entries = [f for f in _load(SERVER_APPSPEC)["files"] if f["source"] == MANIFEST_FILE]
    assert len(entries) == 1, f"appspec.yml must install {MANIFEST_FILE} (from the artifact root)"
    installed = f"{entries[0]['destination']}/{MANIFEST_FILE}"
    release_dir = next(
        f["destination"] for f in _load(SERVER_APPSPEC)["files"] if f["source"] == "release"
    )
    assert entries[0]["destination"] == release_dir, (
        "beside the app, in the directory BeforeInstall empties, so no stale manifest survives"
    )
    assert f"Environment=RELEASE_MANIFEST={installed}" in UNIT_FILES[0].read_text()


@pytest.mark.parametrize("buildspec", sorted(VERIFY_KITS))
def test_the_server_build_artifact_carries_the_verification_kit(buildspec: str) -> None:
    globs = cast(list[str], _load(SERVER_BUILDSPEC)["artifacts"]["files"])
    missing = [p for p in [buildspec, *VERIFY_KITS[buildspec]] if not _in_artifact(p, globs)]
    assert not missing, f"buildspec.yml leaves {missing} out of the release; verification needs it"
    installed = [str(f["source"]) for f in _load(SERVER_APPSPEC)["files"]]
    assert not any(p.split("/")[0] in installed for p in VERIFY_KITS[buildspec]), (
        "the kit is for the verification project, not for the instances"
    )


@pytest.mark.parametrize("buildspec", sorted(VERIFY_KITS))
def test_the_lambda_build_copies_the_verification_kit_into_the_package_root(
    tmp_path: Path, buildspec: str
) -> None:
    # Run the build's kit commands for real in a stand-in repository.
    spec = _load(LAMBDA_BUILDSPEC)
    package = cast(str, spec["artifacts"]["base-directory"])
    kit = [c for c in _commands(spec) if buildspec in c]
    assert kit, f"lambda/buildspec.yml never copies {buildspec} into {package}/"
    for name in [buildspec, *VERIFY_KITS[buildspec]]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kit\n")
    (tmp_path / package).mkdir()
    result = subprocess.run(
        ["bash", "-c", "set -e\n" + "\n".join(kit)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    missing = [
        n for n in [buildspec, *VERIFY_KITS[buildspec]] if not (tmp_path / package / n).is_file()
    ]
    assert not missing, f"{missing} are not at the package root, where verification reads them"


def test_the_server_build_artifact_carries_the_release_task_and_the_configuration_reader() -> None:
    globs = cast(list[str], _load(SERVER_BUILDSPEC)["artifacts"]["files"])
    missing = [p for p in [*RELEASE_KIT, RELEASE_OPTIONS_FILE] if not _in_artifact(p, globs)]
    assert not missing, f"buildspec.yml leaves {missing} out of the release"
    assert RELEASE_OPTIONS_FILE in globs, "at the artifact root, where the Package step reads it"


@pytest.mark.parametrize("options", [True, False], ids=["with release options", "without"])
def test_the_lambda_build_copies_the_release_task_and_the_reader_into_the_package_root(
    tmp_path: Path, options: bool
) -> None:
    # Run the build's commands that ship them, for real, in a stand-in repository.
    spec = _load(LAMBDA_BUILDSPEC)
    package = cast(str, spec["artifacts"]["base-directory"])
    names = ("buildspec-release.yml", "load_config.py", RELEASE_OPTIONS_FILE)
    commands = [c for c in _commands(spec) if any(n in c for n in names)]
    for name in RELEASE_KIT:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kit\n")
    if options:
        (tmp_path / RELEASE_OPTIONS_FILE).write_text('{"contracts_schema": true}\n')
    (tmp_path / package).mkdir()
    result = subprocess.run(
        ["bash", "-c", "set -e\n" + "\n".join(commands)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    missing = [n for n in RELEASE_KIT if not (tmp_path / package / n).is_file()]
    assert not missing, f"{missing} are not where the release task reads them"
    assert (tmp_path / package / RELEASE_OPTIONS_FILE).is_file() == options


@pytest.mark.parametrize(
    ("stack", "suite", "buildspec"), _sample_verify_suites(), ids=lambda v: str(v)
)
def test_every_verification_suite_of_the_sample_stacks_has_a_kit_template(
    stack: str, suite: str, buildspec: str
) -> None:
    assert buildspec in VERIFY_KITS, (
        f"{stack}: deploy.verify suite {suite!r} runs {buildspec}, which no template provides"
    )
    assert (TEMPLATES / buildspec).is_file()


def test_the_lambda_build_artifact_is_the_package_root_without_an_appspec() -> None:
    artifacts = cast(dict[str, Any], _load(LAMBDA_BUILDSPEC)["artifacts"])
    assert artifacts.get("base-directory"), "lambda/buildspec.yml: the zip root must be the package"
    assert artifacts.get("files") == ["**/*"], artifacts.get("files")
    commands = "\n".join(_commands(_load(LAMBDA_BUILDSPEC)))
    assert "appspec" not in commands, "the Lambda deploy action reads no appspec; keep it out"
    assert f"--target {artifacts['base-directory']}" in commands, (
        "dependencies must be installed into the artifact's base-directory"
    )


@pytest.mark.parametrize("path", BUILD_BUILDSPECS, ids=_rel)
def test_no_build_template_depends_on_the_stage_it_was_built_in(path: Path) -> None:
    # One artifact is deployed to every stage and the build project gets no STAGE variable.
    # Comments may say so; nothing CodeBuild runs, sets or exports may use it.
    used = re.findall(r"\bSTAGE\b", json.dumps(_load(path)))
    assert not used, (
        f"{_rel(path)}: uses STAGE; a build must not depend on the environment it was built in "
        "(per-environment values are read at run time)"
    )


def test_the_lambda_build_leaves_the_release_record_to_the_platforms_manifest() -> None:
    commands = "\n".join(_commands(_load(LAMBDA_BUILDSPEC)))
    assert "release.json" not in commands, "the Package step's manifest replaces release.json"
    assert MANIFEST_FILE in LAMBDA_BUILDSPEC.read_text(), (
        f"lambda/buildspec.yml: say in a comment that {MANIFEST_FILE} is added by the pipeline"
    )


@pytest.mark.parametrize("path", [*TEST_BUILDSPECS, *VERIFY_BUILDSPECS], ids=_rel)
def test_every_test_buildspec_reports_junit_results_where_its_tests_write_them(path: Path) -> None:
    spec = _load(path)
    reports = cast(dict[str, dict[str, Any]], spec.get("reports") or {})
    assert reports, f"{_rel(path)}: no reports section"
    # pytest's --junitxml, or gitleaks' JUnit report (buildspec-secrets.yml).
    written = re.findall(
        r"(?:--junitxml=|--report-format=junit --report-path=)(\S+)", "\n".join(_commands(spec))
    )
    for group, report in reports.items():
        assert set(report) <= REPORT_KEYS, f"{_rel(path)}: {group} has {set(report) - REPORT_KEYS}"
        assert report.get("file-format") == "JUNITXML", f"{_rel(path)}: {group} is not JUNITXML"
        expected = [f"{report.get('base-directory', '.')}/{name}" for name in report["files"]]
        assert set(expected) <= set(written), (
            f"{_rel(path)}: report {group} reads {expected}, tests write {written}"
        )


def test_the_functional_tests_run_against_the_build_artifact() -> None:
    spec = _load(TEMPLATES / "buildspec-functional.yml")
    commands = "\n".join(_commands(spec))
    assert "CODEBUILD_SRC_DIR_BuildArtifact" in commands
    assert re.search(r'-z "\$\{CODEBUILD_SRC_DIR_BuildArtifact:-\}"', commands), (
        "the functional buildspec must fail with a message when the secondary input is missing"
    )


def test_the_smoke_suite_runs_its_script_from_the_release_and_installs_nothing() -> None:
    commands = "\n".join(_commands(_load(SMOKE_BUILDSPEC)))
    script = SMOKE_SCRIPT.relative_to(TEMPLATES).as_posix()
    # The verification project's only input is the release: paths are relative to its root.
    assert re.search(rf"^python3? {re.escape(script)}\b", commands, re.M), commands
    assert "pip install" not in commands, "the smoke test uses the standard library only"
    assert "CODEBUILD_SRC_DIR_" not in commands, "a verification suite has no secondary input"


def test_the_smoke_budget_ends_well_before_the_shortest_verification_timeout() -> None:
    smoke = _smoke_globals()
    timeout = VerifySuite.model_fields["timeout_minutes"]
    minimum = next(m.ge for m in timeout.metadata if isinstance(m, annotated_types.Ge))
    shortest = 60 * cast(int, minimum)
    worst = smoke["BUDGET_SECONDS"] + smoke["REQUEST_TIMEOUT_SECONDS"]
    assert worst * 2 <= shortest, (
        f"smoke.py may run {worst}s; a verification project may time out after {shortest}s, "
        "and CodeBuild's timeout leaves no report"
    )


# --- server AppSpec ---------------------------------------------------------------------------


def test_the_server_appspec_targets_linux_with_version_0_0() -> None:
    appspec = _load(SERVER_APPSPEC)
    assert appspec["version"] == 0.0
    assert appspec["os"] == "linux"
    assert appspec.get("file_exists_behavior", "DISALLOW") in {"DISALLOW", "OVERWRITE", "RETAIN"}


def test_the_server_appspec_installs_files_to_absolute_paths_and_sets_permissions() -> None:
    appspec = _load(SERVER_APPSPEC)
    for entry in appspec["files"]:
        assert str(entry["destination"]).startswith("/"), entry
        source = str(entry["source"])
        # release/ is produced by the build, the manifest by the pipeline; everything else is
        # copied from the repository.
        assert source in {"release", *PACKAGE_ADDS} or (SERVER / source).exists(), (
            f"no template for {source}"
        )
    permissions = cast(list[dict[str, Any]], appspec["permissions"])
    assert permissions
    for rule in permissions:
        assert str(rule["object"]).startswith("/"), rule
        assert re.fullmatch(r"[0-7]{3,4}", str(rule["mode"])), rule


def test_the_server_appspec_hooks_only_events_an_in_place_deployment_runs() -> None:
    events = [event for event, _ in _server_hooks()]
    unknown = set(events) - SERVER_HOOKS
    assert not unknown, f"appspec.yml hooks {unknown} are not scriptable EC2/On-Premises events"
    missing = [event for event in REQUIRED_SERVER_HOOKS if event not in events]
    assert not missing, f"appspec.yml lacks hooks for {missing}"


def test_the_server_appspec_hooks_have_timeouts_within_codedeploy_limits_and_a_runas_user() -> None:
    per_event: dict[str, int] = {}
    for event, entry in _server_hooks():
        assert set(entry) <= {"location", "timeout", "runas"}, f"{event}: {entry}"
        timeout = entry.get("timeout")
        assert isinstance(timeout, int) and 0 < timeout <= MAX_EVENT_SECONDS, f"{event}: {timeout}"
        assert isinstance(entry.get("runas"), str) and entry["runas"], f"{event}: no runas"
        per_event[event] = per_event.get(event, 0) + timeout
    over = {event: total for event, total in per_event.items() if total > MAX_EVENT_SECONDS}
    assert not over, f"hooks exceed {MAX_EVENT_SECONDS}s per event: {over}"


@pytest.mark.parametrize(
    "location", [entry["location"] for _, entry in _server_hooks()], ids=lambda loc: str(loc)
)
def test_every_hook_location_is_an_executable_strict_mode_bash_script(location: str) -> None:
    script = SERVER / location
    assert script.is_file(), f"appspec.yml hook {location} has no file in templates/server"
    assert script.stat().st_mode & stat.S_IXUSR, f"{location} is not executable (chmod +x)"
    lines = script.read_text().splitlines()
    assert lines[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}, f"{location}: shebang {lines[0]!r}"
    first_statement = next(line for line in lines[1:] if line.strip() and not line.startswith("#"))
    assert first_statement == "set -euo pipefail", (
        f"{location}: first statement is {first_statement!r}, not `set -euo pipefail`"
    )


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=_rel)
def test_every_shell_script_passes_bash_syntax_check(path: Path) -> None:
    result = subprocess.run(
        ["bash", "-n", str(path)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, f"{_rel(path)}: {result.stderr}"


def test_the_app_name_agrees_across_appspec_scripts_and_systemd_unit() -> None:
    app = _shell_default("APP_NAME")
    appspec = _load(SERVER_APPSPEC)
    destinations = {str(f["destination"]) for f in appspec["files"]}
    assert f"/opt/{app}/release" in destinations, destinations
    assert f"deploy/{app}.service" in {str(f["source"]) for f in appspec["files"]}
    assert [p.name for p in UNIT_FILES] == [f"{app}.service"]
    unit = UNIT_FILES[0].read_text()
    assert f"User={app}" in unit
    assert f"ExecStart=/opt/{app}/venv/bin/" in unit, "the unit must run from the venv symlink"


def test_configuration_is_loaded_before_install_once_the_app_user_exists() -> None:
    before_install = [e["location"] for ev, e in _server_hooks() if ev == "BeforeInstall"]
    assert before_install == ["scripts/before_install.sh", "scripts/load_config.sh"], (
        "load_config.sh chowns the file to the app user, which before_install.sh creates; and it "
        "should fail before anything of the release is installed"
    )


def test_the_unit_requires_the_configuration_load_config_writes_and_reads_it_last() -> None:
    unit = UNIT_FILES[0].read_text()
    files = re.findall(r"^EnvironmentFile=(.*)$", unit, re.M)
    config = _resolved_default("CONFIG_FILE")
    assert files and files[-1] == config, (
        f"the unit must load {config} (no '-' prefix: the app must not start without it), after "
        f"release.env so that configuration wins; it loads {files}"
    )


def test_the_health_check_uses_the_port_the_unit_binds() -> None:
    health_port = re.search(r":(\d+)/", _shell_default("HEALTH_URL"))
    bind_port = re.search(r"--bind \S+:(\d+)", UNIT_FILES[0].read_text())
    assert health_port and bind_port
    assert health_port.group(1) == bind_port.group(1)


def test_the_health_check_gives_up_before_the_validate_service_hook_times_out() -> None:
    worst = int(_shell_default("HEALTH_RETRIES")) * (
        int(_shell_default("HEALTH_INTERVAL")) + int(_shell_default("HEALTH_TIMEOUT"))
    )
    timeout = next(e["timeout"] for ev, e in _server_hooks() if ev == "ValidateService")
    assert worst < timeout, (
        f"health check may take {worst}s; ValidateService times out at {timeout}s"
    )


# --- Lambda AppSpec (manual CodeDeploy deployments) --------------------------------------------


def test_the_lambda_appspec_shifts_one_function_alias_between_two_versions() -> None:
    appspec = _load(LAMBDA_APPSPEC)
    assert appspec["version"] == 0.0
    resources = cast(list[dict[str, dict[str, Any]]], appspec["Resources"])
    assert len(resources) == 1, "CodeDeploy deploys one Lambda function per deployment"
    (resource,) = resources[0].values()
    assert resource["Type"] == "AWS::Lambda::Function"
    props = cast(dict[str, Any], resource["Properties"])
    for key in ("Name", "Alias", "CurrentVersion", "TargetVersion"):
        assert isinstance(props.get(key), str) and props[key], (
            f"Properties.{key}: {props.get(key)!r}"
        )
    assert props["CurrentVersion"] != props["TargetVersion"]


def test_the_lambda_appspec_hooks_only_traffic_events() -> None:
    hooks = cast(list[dict[str, str]], _load(LAMBDA_APPSPEC).get("Hooks") or [])
    events = [event for hook in hooks for event in hook]
    assert set(events) <= LAMBDA_HOOKS, f"Lambda hooks {set(events) - LAMBDA_HOOKS} do not exist"


def test_the_lambda_appspec_says_the_pipeline_does_not_use_it() -> None:
    text = LAMBDA_APPSPEC.read_text()
    assert "create-deployment" in text and "does not read this file" in text


# --- secrets ----------------------------------------------------------------------------------

_REFERENCE = r"(?:\$|/|arn:|\{\{resolve:|<)"
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})"),
    "AWS secret access key": re.compile(
        r"(?i)aws_secret_access_key\s*[:=]\s*(?!" + _REFERENCE + r")\S"
    ),
    # A key at the start of a (possibly commented) YAML line, list item, flow mapping or shell
    # assignment, with a literal value: `password: hunter2`, `export TOKEN=x`. Not
    # `DB_PASSWORD: app/db:password` (a reference), `password: $X`, nor prose ("is secret: the").
    "literal credential": re.compile(
        r"""(?i)(?:^|[{,])\s*(?:#\s*)?(?:-\s*)?(?:export\s+)?["']?"""
        r"""(?:password|passwd|secret|token|api[_-]?key)["']?\s*[:=]\s*"""
        r"""(?!\s|$|""" + _REFERENCE + r""")["']?[^\s"'#]"""
    ),
}


def find_secrets(text: str) -> list[str]:
    """Names of the secret patterns that match `text`, one entry per matching line."""
    return [
        f"line {number}: {name}"
        for number, line in enumerate(text.splitlines(), start=1)
        for name, pattern in SECRET_PATTERNS.items()
        if pattern.search(line)
    ]


@pytest.mark.parametrize(
    "sample",
    [
        "aws_access_key_id = " + "AKIA" + "IOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
        "password: hunter2",
        '  - password="correct-horse"',
        "api_key: 0123456789abcdef",
        "    token: 'abc.def.ghi'",
        "#   password: hunter2",
        "export TOKEN=abc123",
        '{"user": "app", "password": "hunter2"}',
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "ghp_" + "a" * 36,
    ],
)
def test_the_secret_scanner_flags_literal_secrets(sample: str) -> None:
    assert find_secrets(sample), f"scanner missed {sample!r}"


@pytest.mark.parametrize(
    "sample",
    [
        "  DB_PASSWORD: myapp/prod/db:password",
        "  #   PIP_INDEX_PASSWORD: myapp/build/pip-index:password",
        "password: ${DB_PASSWORD}",
        "token: $GITHUB_TOKEN",
        "password: /myapp/prod/db-password",
        "# Secrets: never put them in `variables:`",
        "anything that differs per environment or is secret: the project's variables",
        "password:",
    ],
)
def test_the_secret_scanner_accepts_references_and_prose(sample: str) -> None:
    assert not find_secrets(sample), f"scanner flagged {sample!r}"


@pytest.mark.parametrize("path", [*TEMPLATE_FILES, GUIDE], ids=_rel)
def test_no_template_contains_a_secret_looking_value(path: Path) -> None:
    found = find_secrets(path.read_text())
    assert not found, f"{_rel(path)}: {found}"


# --- hook scripts, run against stubs ----------------------------------------------------------

_SYSTEMCTL_STUB = """#!/usr/bin/env bash
# Records each call; answers queries from STUB_* variables (1 = yes).
echo "systemctl $*" >> "$STUB_LOG"
case "$1" in
  cat) [[ "${STUB_INSTALLED:-0}" == 1 ]] ;;
  is-active) [[ "${STUB_ACTIVE:-0}" == 1 ]] ;;
  is-failed) [[ "${STUB_FAILED:-0}" == 1 ]] ;;
  *) exit 0 ;;
esac
"""
_JOURNALCTL_STUB = '#!/usr/bin/env bash\necho "journalctl $*" >> "$STUB_LOG"\n'


def _run_hook(
    tmp_path: Path, script: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run a hook script with stub systemd tools first on PATH; return the result and stub calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (("systemctl", _SYSTEMCTL_STUB), ("journalctl", _JOURNALCTL_STUB)):
        stub = bin_dir / name
        stub.write_text(body)
        stub.chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    # A clean environment: no proxy variables (curl must reach 127.0.0.1 directly), no ~/.curlrc.
    clean = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "STUB_LOG": str(log)}
    result = subprocess.run(
        [str(SCRIPTS / script)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result, log.read_text().splitlines()


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    """Base URL of a local server that answers 200 on /health."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/health"


_FAST = {"HEALTH_RETRIES": "3", "HEALTH_INTERVAL": "0", "HEALTH_TIMEOUT": "2"}
needs_curl = pytest.mark.skipif(
    shutil.which("curl") is None, reason="validate_service.sh uses curl"
)


@needs_curl
def test_validate_service_succeeds_once_the_health_endpoint_answers(
    tmp_path: Path, health_server: str
) -> None:
    result, _ = _run_hook(
        tmp_path, "validate_service.sh", HEALTH_URL=f"{health_server}/health", **_FAST
    )
    assert result.returncode == 0, result.stderr
    assert "healthy:" in result.stdout


@needs_curl
def test_validate_service_fails_after_its_retries_when_nothing_answers(tmp_path: Path) -> None:
    result, calls = _run_hook(
        tmp_path, "validate_service.sh", HEALTH_URL=_closed_port_url(), **_FAST
    )
    assert result.returncode != 0
    assert result.stdout.count("not healthy yet") == 3, result.stdout
    assert "after 3 attempt(s)" in result.stderr
    assert any(call.startswith("journalctl --unit myapp.service") for call in calls), calls


@needs_curl
def test_validate_service_fails_on_a_wrong_path_even_though_the_server_is_up(
    tmp_path: Path, health_server: str
) -> None:
    result, _ = _run_hook(
        tmp_path, "validate_service.sh", HEALTH_URL=f"{health_server}/missing", **_FAST
    )
    assert result.returncode != 0, "a 404 must not count as healthy"


@needs_curl
def test_validate_service_stops_waiting_once_systemd_reports_the_unit_failed(
    tmp_path: Path,
) -> None:
    result, _ = _run_hook(
        tmp_path, "validate_service.sh", HEALTH_URL=_closed_port_url(), STUB_FAILED="1", **_FAST
    )
    assert result.returncode != 0
    assert result.stdout.count("not healthy yet") == 1, result.stdout


def test_application_stop_succeeds_when_the_unit_was_never_installed(tmp_path: Path) -> None:
    result, calls = _run_hook(tmp_path, "application_stop.sh", STUB_INSTALLED="0")
    assert result.returncode == 0, result.stderr
    assert not any(" stop " in f"{call} " for call in calls), calls


def test_application_stop_stops_a_running_unit(tmp_path: Path) -> None:
    result, calls = _run_hook(tmp_path, "application_stop.sh", STUB_INSTALLED="1", STUB_ACTIVE="1")
    assert result.returncode == 0, result.stderr
    assert "systemctl stop myapp.service" in calls, calls


def test_application_start_reloads_enables_then_restarts_the_unit(tmp_path: Path) -> None:
    result, calls = _run_hook(tmp_path, "application_start.sh", STUB_INSTALLED="1")
    assert result.returncode == 0, result.stderr
    actions = [c for c in calls if not c.startswith("systemctl cat")]
    assert actions == [
        "systemctl daemon-reload",
        "systemctl enable myapp.service",
        "systemctl restart myapp.service",
    ]


def test_application_start_fails_with_a_pointer_when_the_unit_is_missing(tmp_path: Path) -> None:
    result, _ = _run_hook(tmp_path, "application_start.sh", STUB_INSTALLED="0")
    assert result.returncode != 0
    assert "appspec.yml" in result.stderr


# --- the smoke test, run against a local server and a stand-in `aws` ---------------------------


@dataclass
class _FakeApp:
    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def fake_app() -> Iterator[Callable[..., _FakeApp]]:
    """Starts local servers answering {path: status}; or never answering, with hang=True."""
    servers: list[http.server.ThreadingHTTPServer] = []
    release = threading.Event()

    def start(routes: dict[str, int], hang: bool = False) -> _FakeApp:
        app = _FakeApp("")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                app.requests.append(self.path)
                if hang:
                    release.wait(30)
                    return
                status = routes.get(self.path, 404)
                body = b"" if status < 500 else b"upstream exploded"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/login")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        app.url = f"http://127.0.0.1:{server.server_address[1]}"
        return app

    yield start
    release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


_SMOKE_FAST = {"SMOKE_RETRY_SECONDS": "0.2", "SMOKE_REQUEST_TIMEOUT_SECONDS": "2"}
_TARGET = {"SERVICE": "web", "STAGE": "staging", "VERIFY_TARGET": "web"}


@dataclass
class _SmokeRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    report: ET.Element | None


def _run_smoke(tmp_path: Path, env: dict[str, str], bin_dir: Path | None = None) -> _SmokeRun:
    """smoke.py in a clean environment (no proxies), as CodeBuild starts it; report included."""
    path = f"{bin_dir}:{os.environ['PATH']}" if bin_dir else os.environ["PATH"]
    junit = tmp_path / "reports" / "junit.xml"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(SMOKE_SCRIPT), f"--junitxml={junit}"],
        env={"PATH": path, "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    seconds = time.monotonic() - start
    report = ET.parse(junit).getroot() if junit.exists() else None
    return _SmokeRun(result.returncode, result.stdout, result.stderr, seconds, report)


def test_smoke_passes_against_a_healthy_endpoint_and_says_what_it_checked(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    app = fake_app({"/health": 200, "/": 200})
    run = _run_smoke(tmp_path, {"ENDPOINT_URL": app.url, **_TARGET, **_SMOKE_FAST})
    assert run.returncode == 0, run.stdout + run.stderr
    assert app.requests == ["/health", "/"], "one real request per check"
    assert f"PASS GET {app.url}/health: HTTP 200" in run.stdout, run.stdout
    assert f"PASS GET {app.url}/: HTTP 200" in run.stdout, run.stdout
    assert "service web, stage staging, target web" in run.stdout
    assert run.report is not None
    assert (run.report.get("tests"), run.report.get("failures")) == ("2", "0")


def test_smoke_judges_a_redirecting_root_without_following_it(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    app = fake_app({"/health": 200, "/": 302})
    run = _run_smoke(tmp_path, {"ENDPOINT_URL": f"{app.url}/", **_SMOKE_FAST})
    assert run.returncode == 0, run.stdout + run.stderr
    assert app.requests == ["/health", "/"], "the redirect to /login must not be followed"


def test_smoke_fails_when_the_endpoint_answers_500_after_retrying_within_its_budget(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    app = fake_app({"/health": 500, "/": 200})
    run = _run_smoke(
        tmp_path, {"ENDPOINT_URL": app.url, "SMOKE_BUDGET_SECONDS": "1.5", **_SMOKE_FAST}
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert app.requests.count("/health") > 1, "a 5xx may be transient: it is retried"
    assert f"FAIL GET {app.url}/health: HTTP 500 'upstream exploded'" in run.stdout, run.stdout
    assert run.report is not None and run.report.get("failures") == "1"
    assert run.seconds < 1.5 + 10


def test_smoke_fails_at_once_on_a_status_that_retrying_cannot_fix(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    app = fake_app({"/": 200})
    run = _run_smoke(
        tmp_path, {"ENDPOINT_URL": app.url, "SMOKE_BUDGET_SECONDS": "60", **_SMOKE_FAST}
    )
    assert run.returncode == 1
    assert app.requests.count("/health") == 1, "a 404 is an answer, not a blip"
    assert "HTTP 404; expected 200" in run.stdout, run.stdout
    assert run.seconds < 30, "it must not wait out its budget"


def test_smoke_fails_within_its_budget_when_nothing_listens(tmp_path: Path) -> None:
    base = _closed_port_url().removesuffix("/health")
    run = _run_smoke(tmp_path, {"ENDPOINT_URL": base, "SMOKE_BUDGET_SECONDS": "2", **_SMOKE_FAST})
    assert run.returncode == 1
    assert f"FAIL GET {base}/health: no answer" in run.stdout, run.stdout
    assert run.seconds < 2 + 10, f"took {run.seconds:.1f}s"


def test_smoke_gives_up_on_an_endpoint_that_never_answers_within_its_budget(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    app = fake_app({}, hang=True)
    run = _run_smoke(
        tmp_path,
        {
            "ENDPOINT_URL": app.url,
            "SMOKE_BUDGET_SECONDS": "2",
            "SMOKE_REQUEST_TIMEOUT_SECONDS": "30",
            "SMOKE_RETRY_SECONDS": "0.2",
        },
    )
    assert run.returncode == 1
    assert f"FAIL GET {app.url}/health: no answer: timed out" in run.stdout, run.stdout
    assert f"GET {app.url}/:" in run.stdout, "a check the budget left no time for is reported"
    assert run.seconds < 2 + 10, "a request's timeout is cut to what is left of the budget"


@pytest.mark.parametrize(
    "env",
    [{}, {"ENDPOINT_URL": "http://x", "FUNCTION_NAME": "f", "FUNCTION_ALIAS": "live"}],
    ids=["no target", "two targets"],
)
def test_smoke_refuses_to_guess_its_target(tmp_path: Path, env: dict[str, str]) -> None:
    run = _run_smoke(tmp_path, env)
    assert run.returncode == 2
    assert "ENDPOINT_URL" in run.stderr and "FUNCTION_NAME and FUNCTION_ALIAS" in run.stderr


_AWS_LAMBDA_STUB = """#!/usr/bin/env bash
# Stand-in for `aws lambda invoke`: logs its arguments and the event, answers per STUB_LAMBDA.
printf '%s\\n' "$*" >> "$STUB_LOG"
for arg in "$@"; do
  case "$arg" in fileb://*) cat "${arg#fileb://}" >> "$STUB_LOG"; echo >> "$STUB_LOG" ;; esac
done
out="${!#}"
case "$STUB_LAMBDA" in
  ok)
    echo '{"statusCode": 200, "body": "ok"}' > "$out"
    echo '{"StatusCode": 200, "ExecutedVersion": "7"}' ;;
  function-error)
    echo '{"errorMessage": "KeyError: bucket", "errorType": "KeyError"}' > "$out"
    echo '{"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "7"}' ;;
  handler-502)
    echo '{"statusCode": 502, "body": "bad gateway"}' > "$out"
    echo '{"StatusCode": 200, "ExecutedVersion": "7"}' ;;
  not-found)
    echo "An error occurred (ResourceNotFoundException) when calling the Invoke operation" >&2
    exit 254 ;;
esac
"""
_LAMBDA_TARGET = {"FUNCTION_NAME": "thumbnailer-staging", "FUNCTION_ALIAS": "live"}


def _fake_aws(tmp_path: Path, body: str) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    aws = bin_dir / "aws"
    aws.write_text(body)
    aws.chmod(0o755)
    log = tmp_path / "aws-calls.log"
    log.touch()
    return bin_dir, log


def test_smoke_invokes_the_lambda_alias_with_the_aws_cli_and_passes_on_200(
    tmp_path: Path,
) -> None:
    bin_dir, log = _fake_aws(tmp_path, _AWS_LAMBDA_STUB)
    env = {"STUB_LOG": str(log), "STUB_LAMBDA": "ok", **_LAMBDA_TARGET, **_SMOKE_FAST}
    run = _run_smoke(tmp_path, env, bin_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith(
        "lambda invoke --function-name thumbnailer-staging --qualifier live --payload fileb://"
    ), calls
    assert json.loads(calls[1]) == _smoke_globals()["LAMBDA_EVENT"], (
        "the event reaches the function"
    )
    assert "PASS invoke thumbnailer-staging:live: StatusCode 200, version 7" in run.stdout


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("function-error", "FunctionError Unhandled (version 7): "),
        ("handler-502", "the handler answered statusCode 502"),
        ("not-found", "aws exited 254: An error occurred (ResourceNotFoundException)"),
    ],
)
def test_smoke_fails_when_the_lambda_invocation_does_not_succeed(
    tmp_path: Path, mode: str, reason: str
) -> None:
    bin_dir, log = _fake_aws(tmp_path, _AWS_LAMBDA_STUB)
    env = {"STUB_LOG": str(log), "STUB_LAMBDA": mode, **_LAMBDA_TARGET, **_SMOKE_FAST}
    run = _run_smoke(tmp_path, env, bin_dir)
    assert run.returncode == 1
    assert f"FAIL invoke thumbnailer-staging:live: {reason}" in run.stdout, run.stdout
    if mode == "function-error":
        assert "KeyError: bucket" in run.stdout, "the function's error is shown"
    assert run.report is not None and run.report.get("failures") == "1"


def test_the_smoke_buildspec_run_in_a_release_verifies_it_and_writes_its_report(
    tmp_path: Path, fake_app: Callable[..., _FakeApp]
) -> None:
    # The verification project's working directory is the unpacked release artifact.
    release = tmp_path / "release"
    (release / "smoke").mkdir(parents=True)
    for kit_file in VERIFY_KITS[SMOKE_BUILDSPEC.name]:
        shutil.copy(TEMPLATES / kit_file, release / "smoke")
    shutil.copy(SMOKE_BUILDSPEC, release)
    manifest = {"schema": 1, "commit": "9f86d081884c7d659a2f", "repository": "acme/web"}
    (release / MANIFEST_FILE).write_text(json.dumps({**manifest, "message": "Fix\nbody"}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    app = fake_app({"/health": 200, "/": 200})
    spec = _load(SMOKE_BUILDSPEC)
    result = subprocess.run(
        ["bash", "-c", "set -e\n" + "\n".join(_commands(spec))],
        cwd=release,
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "ENDPOINT_URL": app.url,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "release: acme/web@9f86d081884c 'Fix'" in result.stdout, result.stdout
    for group in cast(dict[str, dict[str, Any]], spec["reports"]).values():
        for name in group["files"]:
            report = release / group["base-directory"] / name
            assert report.is_file(), f"report group reads {report}, which the run did not write"
