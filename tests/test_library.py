"""The components as another team gets them: an installable, typed library with a stable API.

The wheel is built from `components/` the way `pip install "git+...#subdirectory=components"`
does (build isolation fetches setuptools: marked `network`), then imported from outside this
checkout, against this environment's Pulumi.
"""

from __future__ import annotations

import inspect
import pkgutil
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pulumi
import pytest

import components
from tests.harness import ROOT


def _defined_components() -> set[str]:
    found = set()
    for module in pkgutil.iter_modules(components.__path__):
        loaded = __import__(f"components.{module.name}", fromlist=["_"])
        for name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, pulumi.ComponentResource)
                and value.__module__ == loaded.__name__
            ):
                found.add(name)
    return found


def test_every_component_and_its_args_are_exported_from_the_package_root() -> None:
    defined = _defined_components()
    assert len(defined) >= 16
    assert defined <= set(components.__all__)
    for name in defined:
        assert f"{name}Args" in components.__all__ or name in {"PipelineNotificationRule"}, name
        assert getattr(components, name).__module__.startswith("components.")


def test_importing_the_library_brings_neither_the_platform_program_nor_its_config() -> None:
    probe = (
        "import sys, components; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'stack', 'pydantic', 'cicd'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_the_library_is_typed_and_versioned_like_its_changelog() -> None:
    assert (ROOT / "components" / "py.typed").exists()
    changelog = (ROOT / "components" / "CHANGELOG.md").read_text()
    assert f"## {components.__version__} " in changelog, "the version has a changelog entry"
    library = tomllib.loads((ROOT / "components" / "pyproject.toml").read_text())["project"]
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pulumi_deps = [d for d in root["dependencies"] if d.startswith("pulumi")]
    assert library["dependencies"] == pulumi_deps, "the same ranges as the platform"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The library built into a wheel from a copy of `components/` and installed alone into a
    directory of its own (no dependencies: this environment's Pulumi serves): (wheel, site)."""
    tmp_path = tmp_path_factory.mktemp("library")
    source = tmp_path / "checkout" / "components"
    shutil.copytree(
        ROOT / "components",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"),
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, source],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = wheels.glob("gh_aws_delivery_components-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-t", target, wheel],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return wheel, target


def imported_from(target: Path, cwd: Path) -> str:
    """`components.__file__ components.__version__` as a process with only `target` sees it."""
    probe = "import components; print(components.__file__, components.__version__)"
    return subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()


@pytest.mark.network
def test_the_wheel_holds_the_typed_library_alone_and_imports_outside_this_checkout(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, target = installed
    assert f"-{components.__version__}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "components/py.typed" in names
    assert "components/service_pipeline.py" in names
    assert not [n for n in names if n.startswith(("stack/", "tests/", "cicd/"))], names
    where, version = imported_from(target, tmp_path).split()
    assert where.startswith(str(target)) and version == components.__version__


@pytest.mark.network
def test_the_second_teams_example_passes_its_own_tests_with_the_installed_library(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """What the payments team does: its own project, the library from a wheel, its own tests."""
    _, target = installed
    project = tmp_path / "payments-api"
    shutil.copytree(
        ROOT / "examples" / "payments-api",
        project,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
    )
    requirement = (project / "requirements.txt").read_text()
    assert f"@components-v{components.__version__}#subdirectory=components" in requirement
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    where = imported_from(target, project).split()[0]
    assert where.startswith(str(target)), where
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", project],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
