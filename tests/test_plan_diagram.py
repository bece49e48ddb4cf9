"""`cicd diagram`: each sample stack's pipelines as Mermaid, the README's copies kept current,
SVG and PNG rendered without a browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from cicd.cli import main
from cicd.diagram import diagrams_for, render, update_readme
from cicd.errors import UsageError


@pytest.fixture(scope="module")
def diagrams() -> dict[str, str]:
    return diagrams_for()


def cicd(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


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
        'web_Approval_Approve{{"Approve: manual approval<br/>times out after 480 min<br/>notifies the release topic"}}'
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
    assert "web_Deploy --> web_Publish" in staging
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


def test_a_readme_without_the_markers_is_refused() -> None:
    with pytest.raises(UsageError, match="the README has no diagram block for stack qa"):
        update_readme("# nothing here\n", {"qa": "flowchart TB\n"})


def test_diagram_needs_a_stack_or_a_readme() -> None:
    code, _, err = cicd("diagram")
    assert code == 2
    assert err == "cicd: give --stack STACK (or --readme FILE to refresh every stack's diagram)\n"
