"""The README and docs/: links that resolve, and examples that are valid as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stack.config import parse_settings
from tests.harness import PROJECT, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lowercase, punctuation dropped, spaces to '-'."""
    found = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: {target} does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), (
                f"{page.name}: #{anchor} is not a heading of {file.name}"
            )


def test_the_quick_starts_one_service_stack_file_is_valid_config() -> None:
    readme = (ROOT / "README.md").read_text()
    [sample] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "services" in b]
    config = yaml.safe_load(sample)["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{PROJECT}:")}
    settings = parse_settings(PROJECT, "dev", raw)
    assert [s.name for s in settings.services] == ["myapp"]


def test_the_cross_account_example_is_valid_on_both_sides() -> None:
    page = (ROOT / "docs" / "promotion.md").read_text()
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.DOTALL) if "upstreams" in b]
    lines = example.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("# Pulumi.prod.yaml"))
    staging_part, prod_part = "\n".join(lines[:cut]), "\n".join(lines[cut:])
    staging = yaml.safe_load(staging_part)[f"{PROJECT}:releases"]
    prod = yaml.safe_load(prod_part)[f"{PROJECT}:upstreams"]
    base = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in base.items() if k.startswith(f"{PROJECT}:")}
    raw.pop("githubToken")
    assert parse_settings(PROJECT, "staging", {**raw, "releases": staging}, github_token="secret")
    base = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in base.items() if k.startswith(f"{PROJECT}:")}
    raw.pop("githubToken")
    settings = parse_settings(PROJECT, "prod", {**raw, "upstreams": prod}, github_token="secret")
    assert settings.upstreams["staging"].account == "111111111111"
