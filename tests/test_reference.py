"""docs/reference.md is generated from the code (`make reference`); a stale page fails here.

The generator (`tools/reference.py`) reads the provider schema, runs every component's example
under Pulumi's mocks for its IAM table, and renders the page; these tests render it again and
compare with the checked-in page, so a docstring, argument or policy change that is not
regenerated cannot be merged.
"""

from __future__ import annotations

import difflib
import importlib.util
from types import ModuleType

import pytest

from tests.harness import ROOT

FIX = "run `make reference` and commit docs/reference.md"


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference", ROOT / "tools" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered(reference: ModuleType) -> str:
    return reference.render()


def test_the_checked_in_reference_is_what_make_reference_writes(rendered: str) -> None:
    page = ROOT / "docs" / "reference.md"
    assert page.exists(), f"docs/reference.md is missing: {FIX}"
    checked_in = page.read_text()
    if checked_in != rendered:
        diff = difflib.unified_diff(
            checked_in.splitlines(), rendered.splitlines(), "checked in", "generated", lineterm=""
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(f"docs/reference.md is stale: {FIX}\n{shown}")


def test_every_public_component_has_an_example_and_a_section(
    reference: ModuleType, rendered: str
) -> None:
    names = {c.__name__ for c in reference.public_components()}
    assert len(names) == 24
    assert set(reference.EXAMPLES) == names, "one example per public component, no stale ones"
    for name in names:
        assert f"\n## {name}\n" in rendered, name


def test_each_section_has_inputs_outputs_iam_and_example(rendered: str) -> None:
    sections = rendered.split("\n## ")[1:-1]  # the last one is Types
    for section in sections:
        name = section.split("\n", 1)[0]
        for part in ("**Inputs**", "**Outputs**", "**IAM declared by the example**", "```python"):
            assert part in section, f"{name}: no {part}"


def test_iam_tables_are_derived_from_what_the_example_declares(rendered: str) -> None:
    build = rendered.split("\n## BuildProject\n")[1].split("\n## ")[0]
    # The example's environment references a secret, so the role may read that one secret.
    assert "`ReferencedSecrets`" in build
    assert "trusts `codebuild.amazonaws.com` if `aws:SourceAccount`, `aws:SourceArn` match" in build
    connection = rendered.split("\n## GitHubConnection\n")[1].split("\n## ")[0]
    assert "None: it declares no role and no policy." in connection


def test_the_reference_is_linked_from_the_components_page() -> None:
    assert "(reference.md)" in (ROOT / "docs" / "components.md").read_text()


def test_the_checked_in_cicd_reference_is_every_commands_help() -> None:
    """docs/cicd-reference.md is `cicd COMMAND --help` for every command: an option, its help
    or its default changed without regenerating the page fails here."""
    from tools import cli_reference

    page = ROOT / "docs" / "cicd-reference.md"
    assert page.exists(), f"docs/cicd-reference.md is missing: {FIX}"
    rendered = cli_reference.render()
    if page.read_text() != rendered:
        diff = difflib.unified_diff(
            page.read_text().splitlines(),
            rendered.splitlines(),
            "checked in",
            "generated",
            lineterm="",
        )
        pytest.fail(f"docs/cicd-reference.md is stale: {FIX}\n" + "\n".join(list(diff)[:40]))


def test_the_cicd_reference_has_a_section_per_command_and_subcommand() -> None:
    from cicd.cli.parser import command_summaries
    from tools import cli_reference

    rendered = cli_reference.render()
    for command in command_summaries():
        assert f"\n## `cicd {command}`\n" in rendered, command
    # Nested commands get their own section (config's actions, for one).
    assert "\n## `cicd config set`\n" in rendered
    assert "(cicd-reference.md)" in (ROOT / "docs" / "cicd.md").read_text()
