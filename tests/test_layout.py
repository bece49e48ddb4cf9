"""Where things are (docs/layout.md), kept true: the import graph has no cycle, and each folder of
`cicd/` imports only what its role allows.

Imports are read from the source (every `import` and `from ... import`, those inside functions
too, since a lazy import still ties two modules), so nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import ROOT

PACKAGES = ("cicd", "stack", "components")
# What the folders of cicd/ may import from cicd/, by role (docs/layout.md).
SHARED = {"cicd.contract", "cicd.errors", "cicd.text"}
ALLOWED = {
    "cicd.model": {"cicd.model", "cicd.contract", "cicd.text"},
    "cicd.decide": {"cicd.decide", "cicd.model", *SHARED},
    "cicd.render": {"cicd.render", "cicd.model", *SHARED},
    "cicd.aws": {"cicd.aws", "cicd.model", *SHARED},
}
# Third-party packages a pure layer must not touch: it neither calls AWS nor runs Pulumi.
NO_IO = ("boto3", "botocore")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }


MODULES = project_modules()


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports: `from a.b import c` is `a.b.c` when that is a module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in MODULES else node.module


def project_imports(name: str) -> set[str]:
    return {target for target in imported(MODULES[name]) if target in MODULES} - {name}


def test_the_import_graph_of_cicd_stack_and_components_has_no_cycle() -> None:
    graph = {name: project_imports(name) for name in MODULES}
    # A package's own __init__ is imported before its modules: an edge into the package's face
    # from one of its modules is how Python loads it, not a dependency on what it says.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_cicd_folder_imports_only_what_its_role_allows(layer: str) -> None:
    modules = [name for name in MODULES if name.startswith(layer + ".")]
    assert modules, f"{layer} has no modules"
    allowed = ALLOWED[layer]
    for name in modules:
        for target in project_imports(name):
            assert any(target == a or target.startswith(a + ".") for a in allowed), (
                f"{name} imports {target}: {layer} may import only {sorted(allowed)}"
            )


@pytest.mark.parametrize("layer", ["cicd.model", "cicd.decide", "cicd.render"])
def test_the_pure_layers_never_import_boto(layer: str) -> None:
    for name in (n for n in MODULES if n.startswith(layer + ".")):
        reached = {t.split(".")[0] for t in imported(MODULES[name])}
        assert not reached & set(NO_IO), f"{name} imports {sorted(reached & set(NO_IO))}"


def test_the_modules_every_layer_shares_import_only_the_standard_library() -> None:
    for name in SHARED:
        project = {t for t in imported(MODULES[name]) if t.split(".")[0] in PACKAGES}
        third_party = {t.split(".")[0] for t in imported(MODULES[name])} & {*NO_IO, "pulumi"}
        assert not project and not third_party, f"{name} imports {project | third_party}"


def test_the_cli_never_imports_the_platform_and_the_components_never_import_the_cli() -> None:
    for name in MODULES:
        roots = {t.split(".")[0] for t in imported(MODULES[name])}
        if name.startswith("cicd"):
            assert not roots & {"stack", "components", "pulumi", "pulumi_aws"}, name
        if name.startswith("components"):
            assert not roots & {"stack", "cicd"}, name


def test_each_command_module_registers_its_commands_and_the_parser_lists_them_all() -> None:
    from cicd.cli.parser import COMMAND_MODULES, command_summaries

    commands = [m for m in MODULES if m.startswith("cicd.cli.")]
    registering = {m for m in commands if "def register(" in MODULES[m].read_text()}
    assert registering == {module.__name__ for module in COMMAND_MODULES}
    assert len(command_summaries()) == 22


def test_the_module_that_chooses_what_promote_deploys_is_named_for_it() -> None:
    # The newcomer's question from docs/layout.md: where does `promote` choose its release?
    source = MODULES["cicd.decide.promotion"].read_text()
    assert "def choose_release(" in source and "def promotion_commit(" in source
    assert "cicd/decide/promotion.py" in (ROOT / "docs" / "layout.md").read_text()
