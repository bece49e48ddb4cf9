"""`cicd diagram`: each sample stack's pipelines as Mermaid, docs/pipelines.md's copies kept
current, SVG and PNG rendered without a browser; and the example outputs of
docs/plan-and-policy.md kept true."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from cicd.cli.main import main
from cicd.errors import UsageError
from stack.plan.diagram import (
    BLOCK_END,
    BLOCK_START,
    diagram_block,
    diagrams_for,
    render,
    update_page,
)
from tests.harness import ROOT

PIPELINES = ROOT / "docs" / "pipelines.md"
PLAN_PAGE = ROOT / "docs" / "plan-and-policy.md"


def examples_section() -> str:
    """The "Examples" section of docs/plan-and-policy.md: real output of plan and diff."""
    page = PLAN_PAGE.read_text()
    start = page.index("\n## Examples\n")
    return page[start : page.index("\n## ", start + 1)]


@pytest.fixture(scope="module")
def diagrams() -> dict[str, str]:
    return diagrams_for()


def cicd(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_the_pipelines_page_embeds_the_current_diagram_of_every_stack(
    diagrams: dict[str, str],
) -> None:
    page = PIPELINES.read_text()
    for stack, text in diagrams.items():
        assert diagram_block(stack, text) in page, (
            f"docs/pipelines.md's diagram of {stack} is stale: run `make diagrams` and commit it"
        )
    assert page.count("```mermaid") == len(diagrams) == 3


def test_prod_shows_the_promoted_release_approval_window_rollback_and_bake(
    diagrams: dict[str, str],
) -> None:
    prod = diagrams["prod"]
    web = prod[prod.index('subgraph web["web: web-prod-pipeline (V2, QUEUED)"]') :]
    assert (
        "release proved in staging<br/>releases/web/release.zip<br/>each release starts it (EventBridge)"
        in web
    )
    assert (
        'web_Approval_Approve{{"Approve: manual approval<br/>times out after 4320 min<br/>notifies the release topic"}}'
        in web
    )
    assert "web_Approval_Describe --> web_Approval_Approve" in web
    assert (
        'web_Deploy_entry>"before Deploy: window * * 9-15 ? * MON-FRI Europe/Berlin<br/>outside: fails"]'
        in web
    )
    assert 'subgraph web_Deploy["Deploy (on failure: roll back)"]' in web
    assert "CodeDeploy web-prod-web<br/>CodeDeployDefault.OneAtATime<br/>auto rollback" in web
    assert "web_Deploy_web --> web_Deploy_verify_smoke" in web, "verification after the deploy"
    assert "after Deploy: web-prod-p99-latency for 15 min" in web
    assert (
        "web_Source --> web_Approval --> web_Deploy_entry --> web_Deploy --> web_Deploy_success"
        in web
    )
    assert "web_Build" not in web and "web_Publish" not in web, "prod builds and publishes nothing"
    assert "started by cicd promote" in prod, "thumbnailer is promoted by hand"
    assert "Lambda thumbnailer-prod:live<br/>Canary10Percent5Minutes<br/>watches alarms" in prod


def test_staging_publishes_and_dev_tests_in_parallel(diagrams: dict[str, str]) -> None:
    staging, dev = diagrams["staging"], diagrams["dev"]
    assert "web_Deploy --> web_Deploy_success --> web_Publish" in staging, "publish after the bake"
    assert (
        "S3 gh-aws-delivery-staging-releases-111111111111-eu-west-1<br/>releases/web/release.zip"
        in staging
    )
    assert 'web_Test_functional["functional<br/>CodeBuild web-dev-test-functional"]' in dev
    assert 'web_Test_unit["unit<br/>CodeBuild web-dev-test-unit"]' in dev
    assert not re.search(r"web_Test_\w+ --> web_Test_\w+", dev), (
        "tests of one run order are parallel"
    )
    assert "web_Build_Build --> web_Build_Package" in dev
    assert "on push touching app/**, scripts/**, appspec.yml, buildspec*.yml" in dev
    assert "Approval" not in dev


def test_svg_and_png_render_without_a_browser(diagrams: dict[str, str], tmp_path: Path) -> None:
    svg = render(diagrams["prod"], "svg").decode()
    assert svg.lstrip().startswith("<svg") and "web-prod-pipeline" in svg
    code, _, err = cicd(
        "diagram", "--stack", "dev", "--format", "png", "--output", str(tmp_path / "dev.png")
    )
    assert code == 0 and err.startswith(f"wrote {tmp_path / 'dev.png'} (")
    assert (tmp_path / "dev.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_make_diagrams_rewrites_only_the_blocks_between_the_markers(
    diagrams: dict[str, str], tmp_path: Path
) -> None:
    stale = PIPELINES.read_text().replace("CodeDeployDefault.OneAtATime", "CodeDeployDefault.Stale")
    copy = tmp_path / "pipelines.md"
    copy.write_text(stale)
    code, _, err = cicd("diagram", "--page", str(copy))
    assert (code, err) == (0, f"{copy}: diagrams updated\n")
    assert copy.read_text() == PIPELINES.read_text()
    code, _, err = cicd("diagram", "--page", str(copy))
    assert err == f"{copy}: diagrams already current\n"
    # The option's former name still works.
    code, _, err = cicd("diagram", "--readme", str(copy))
    assert (code, err) == (0, f"{copy}: diagrams already current\n")
    with pytest.raises(UsageError, match=r"notes\.md has no diagram block for stack qa"):
        update_page("# nothing here\n", {"qa": "flowchart TB\n"}, "notes.md")
    assert BLOCK_START.format(stack="dev") in PIPELINES.read_text()
    assert BLOCK_END.format(stack="dev") in PIPELINES.read_text()


def test_diagram_needs_a_stack_or_a_page() -> None:
    code, _, err = cicd("diagram")
    assert code == 2
    assert err == "cicd: give --stack STACK (or --page FILE to refresh every stack's diagram)\n"


def test_the_documented_plan_example_is_real_output() -> None:
    block = re.search(r"```console\n(.*?)```", examples_section(), re.DOTALL)
    assert block is not None
    example = block.group(1).split("$ cicd diff")[0].splitlines()[1:]
    code, out, _ = cicd("plan", "--stack", "prod", "--check")
    assert code == 0
    for line in example:
        if line != "...":
            assert line in out.splitlines(), f"plan example: {line!r} is not in the output"
