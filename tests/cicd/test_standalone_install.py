"""The CLI installs alone: its own distribution (cicd/pyproject.toml) brings boto3, not Pulumi.

This builds the wheel the way `pipx install "git+...#subdirectory=cicd"` does (from the `cicd/`
directory, with build isolation), installs it into a fresh virtual environment and runs it. It
needs PyPI (or a pip cache) for setuptools and boto3: deselect it offline with
`-m "not network"`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_ONLY = {"pulumi", "pulumi-aws", "pulumi-github", "pydantic", "grpcio", "protobuf"}


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_cli_distribution_declares_the_root_projects_boto3_and_nothing_else() -> None:
    cli = tomllib.loads((ROOT / "cicd" / "pyproject.toml").read_text())["project"]
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    boto3 = [d for d in root["dependencies"] if d.startswith("boto3")]
    assert cli["dependencies"] == boto3
    assert cli["scripts"] == root["scripts"] == {"cicd": "cicd.entry:run"}


@pytest.mark.network
def test_the_cli_wheel_installs_without_pulumi_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "checkout" / "cicd"
    shutil.copytree(
        ROOT / "cicd", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    )
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, source)
    [wheel] = wheels.glob("gh_aws_delivery_cicd-*.whl")
    # The distribution holds every module of the cicd package and nothing of the platform: the
    # offline commands (plan, diff, diagram) are the root distribution's (stack/plan/).
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.endswith(".py")}
    modules = {
        f"cicd/{path.relative_to(ROOT / 'cicd').as_posix()}"
        for path in (ROOT / "cicd").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert shipped == modules, (sorted(shipped - modules), sorted(modules - shipped))
    platform = {path.stem for path in (ROOT / "stack" / "plan").glob("*.py")} - {"__init__"}
    assert not {Path(name).stem for name in shipped} & (platform | {"plandoc", "platform"})
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "-c", ROOT / "constraints.txt", wheel,
    )  # fmt: skip

    installed = _run(sys.executable, "-m", "pip", "--python", python, "list", "--format=freeze")
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert "gh-aws-delivery-cicd" in names and "boto3" in names
    assert not names & PLATFORM_ONLY, names & PLATFORM_ONLY
    help_text = _run(venv / "bin" / "cicd", "--help", cwd=tmp_path)
    assert help_text.startswith("usage: cicd ")
    assert "cicd promote -s web --from staging --to prod" in help_text
    assert _run(venv / "bin" / "cicd", "--version", cwd=tmp_path) == "cicd 0.1.0\n"
    # The offline commands need the platform: one line says what to install.
    for command in (["plan", "--stack", "dev"], ["diagram", "--stack", "prod"]):
        result = subprocess.run(
            [str(venv / "bin" / "cicd"), *command], capture_output=True, text=True, cwd=tmp_path
        )
        assert (result.returncode, result.stdout) == (1, ""), result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith(f"cicd: `cicd {command[0]}` runs the Pulumi program offline")
        assert "run `make install`" in line
