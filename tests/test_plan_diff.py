"""`cicd diff`: two plans of the real program, one at a git ref and one in the working tree, of a
temporary repository the test makes (so the result never depends on this checkout's state)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cicd.cli.main import main
from stack.plan.diff import ABSENT, compare, diff_plans, render_markdown, render_text
from stack.plan.replacements import REPLACE_ON_CHANGE, forces_replacement
from tests.harness import ROOT

GIT = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository holding the program and the dev stack file, with one commit, then a working
    tree where Pulumi.dev.yaml renames a test suite, changes a deployment strategy and an
    expiry, and renames the GitHub connection."""
    repo = tmp_path_factory.mktemp("repo")
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py"):
        shutil.copy(ROOT / name, repo / name)
    for package in ("components", "stack"):
        shutil.copytree(
            ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    stack_file = repo / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    for before, after in (
        (
            "strategy: CodeDeployDefault.LambdaAllAtOnce",
            "strategy: CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        ),
        (
            "        - name: functional\n          compute_type: BUILD_GENERAL1_MEDIUM\n",
            "        - name: e2e\n",
        ),
        ("expire_days: 14", "expire_days: 21"),
        ("name: acme-github-dev\n", "name: acme-github-devel\n"),
    ):
        assert before in text, before
        text = text.replace(before, after)
    stack_file.write_text(text)
    return repo


def cicd(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def text_diff(repo: Path) -> str:
    code, out, err = cicd("diff", "--base", "HEAD", "--root", str(repo))
    assert (code, err) == (0, "")
    return out


CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/0f7c1e2a-acme-github-dev"


def test_the_diff_lists_exactly_the_resources_added_removed_and_changed(text_diff: str) -> None:
    resource_lines = [
        line
        for line in text_diff.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert text_diff.splitlines()[:2] == [
        "Offline plan diff: HEAD -> working tree",
        "Stack dev: 5 to add, 6 to update, 1 to replace, 5 to remove, 3 output changes",
    ]
    assert resource_lines == [
        "  ~ aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration  artifacts-lifecycle",
        "  +- aws:codeconnections/connection:Connection  github-connection  (replaced: the old one is deleted)",
        "  + aws:cloudwatch/logGroup:LogGroup  web-test-e2e-logs",
        "  - aws:cloudwatch/logGroup:LogGroup  web-test-functional-logs",
        "  + aws:codebuild/project:Project  web-test-e2e-project",
        "  - aws:codebuild/project:Project  web-test-functional-project",
        "  + aws:iam/role:Role  web-test-e2e-role",
        "  - aws:iam/role:Role  web-test-functional-role",
        "  + aws:iam/rolePolicy:RolePolicy  web-test-e2e-policy",
        "  - aws:iam/rolePolicy:RolePolicy  web-test-functional-policy",
        "  + delivery:cicd:BuildProject  web-test-e2e",
        "  - delivery:cicd:BuildProject  web-test-functional",
        "  ~ aws:codepipeline/pipeline:Pipeline  thumbnailer-pipeline-pipeline",
        "  ~ aws:codepipeline/pipeline:Pipeline  web-pipeline-pipeline",
        "  ~ aws:iam/rolePolicy:RolePolicy  thumbnailer-pipeline-policy",
        "  ~ aws:iam/rolePolicy:RolePolicy  web-pipeline-policy",
        "  ~ aws:codedeploy/deploymentGroup:DeploymentGroup  thumbnailer-deploy-thumbnailer",
        f'  ~ output connection_arn: "{CONNECTION}" -> "{CONNECTION}el"',
        '  ~ output services.web.test_projects.e2e: (absent) -> "web-dev-test-e2e"',
        '  ~ output services.web.test_projects.functional: "web-dev-test-functional" -> (absent)',
    ]


def test_each_changed_input_shows_before_and_after_and_what_forces_replacement(
    text_diff: str,
) -> None:
    changes = [line.strip() for line in text_diff.splitlines() if line.startswith("      ")]
    expected = [
        "rules[expire-artifacts].expiration.days: 14 -> 21",
        'name: "acme-github-dev" -> "acme-github-devel"  (forces replacement)',
        'stages[Deploy].actions[thumbnailer].configuration.DeployStrategy: "AllAtOnce" -> "Linear10PercentEvery1Minute"',
        f'stages[Source].actions[GitHub].configuration.ConnectionArn: "{CONNECTION}" -> "{CONNECTION}el"',
        f'policy.Statement[UseGitHubConnection].Resource: "{CONNECTION}" -> "{CONNECTION}el"',
        'policy.Statement[RunBuildsAndTests].Resource[3]: "arn:aws:codebuild:eu-west-1:111111111111:project/web-dev-test-functional" -> "arn:aws:codebuild:eu-west-1:111111111111:project/web-dev-test-e2e"',
        'deploymentConfigName: "CodeDeployDefault.LambdaAllAtOnce" -> "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"',
    ]
    for line in expected:
        assert line in changes, line
    web_pipeline = [c for c in changes if c.startswith("stages[Test]")]
    assert [c.split(":", 1)[0] for c in web_pipeline] == [
        "stages[Test].actions[e2e]",
        "stages[Test].actions[functional]",
    ], "an action added or removed is one change holding the whole action"
    assert web_pipeline[0].startswith('stages[Test].actions[e2e]: (absent) -> {"category": "Test"')
    assert len(changes) == 11


def test_the_markdown_diff_has_a_table_and_one_collapsed_section_per_changed_stack(
    repo: Path,
) -> None:
    code, out, _ = cicd("diff", "--base", "HEAD", "--root", str(repo), "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "### Offline plan diff against `HEAD`"
    assert "| dev | 5 | 6 | 1 | 0 | 5 |" in lines
    assert (
        "<details><summary><b>dev</b>: 5 to add, 6 to update, 1 to replace, 5 to remove, 3 output changes</summary>"
        in lines
    )
    assert (
        lines[lines.index("```diff") + 1]
        == "~ aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration  artifacts-lifecycle"
    )
    assert out.count("<details>") == 1 and out.rstrip().endswith("</details>")


def test_the_diff_of_an_unchanged_tree_is_short_and_exit_code_tells_changes(
    repo: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    git(repo, "worktree", "add", "-q", "--detach", str(clean), "HEAD")
    try:
        code, out, _ = cicd(
            "diff", "--base", "HEAD", "--root", str(clean), "--format", "markdown", "--exit-code"
        )
        assert (code, out) == (
            0,
            "### Offline plan diff against `HEAD`\n\nNo changes in any stack (dev).\n",
        )
    finally:
        git(repo, "worktree", "remove", "--force", str(clean))
    code, _, _ = cicd(
        "diff", "--base", "HEAD", "--root", str(repo), "--format", "json", "--exit-code"
    )
    assert code == 1
    assert git(repo, "worktree", "list").count("\n") == 1, "the temporary worktree was removed"


def test_a_ref_that_is_not_a_commit_is_a_usage_error(repo: Path) -> None:
    code, out, err = cicd("diff", "--base", "no-such-branch", "--root", str(repo))
    assert (code, out) == (2, "")
    assert err == "cicd: --base no-such-branch: not a commit of this repository (git rev-parse)\n"


def test_a_ref_without_the_offline_harness_is_refused_not_planned_with_this_program(
    repo: Path,
) -> None:
    empty_tree = git(repo, "hash-object", "-t", "tree", "/dev/null").strip()
    empty = git(repo, "commit-tree", empty_tree, "-m", "nothing").strip()
    code, _, err = cicd("diff", "--base", empty, "--root", str(repo))
    assert code == 1
    assert err.startswith(
        f"cicd: cannot evaluate the stacks of {empty} ({empty[:12]}): this revision has no stack/offline.py"
    )


# --- The comparison itself ----------------------------------------------------------------------


def plan(*resources: dict[str, Any], outputs: Any = None) -> dict[str, Any]:
    return {"resources": list(resources), "outputs": outputs or {}}


def resource(urn: str, typ: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"urn": urn, "type": typ, "name": urn.rsplit("::", 1)[-1], "inputs": inputs, **options}


def test_a_change_to_a_force_new_input_is_a_replacement_and_to_another_an_update() -> None:
    bucket = "aws:s3/bucket:Bucket"
    before = plan(resource("u::b", bucket, {"bucket": "a", "tags": {"x": "1"}}))
    renamed = diff_plans(
        "s", before, plan(resource("u::b", bucket, {"bucket": "b", "tags": {"x": "1"}}))
    )
    retagged = diff_plans(
        "s", before, plan(resource("u::b", bucket, {"bucket": "a", "tags": {"x": "2"}}))
    )
    assert [(r.kind, [(c.path, c.replaces) for c in r.changes]) for r in renamed.resources] == [
        ("replace", [("bucket", True)])
    ]
    assert [(r.kind, [(c.path, c.replaces) for c in r.changes]) for r in retagged.resources] == [
        ("update", [("tags.x", False)])
    ]


def test_a_resource_under_a_new_parent_is_reported_as_moved() -> None:
    role = "aws:iam/role:Role"
    before = plan(resource("urn:a$aws:iam/role:Role::r", role, {"name": "r"}))
    after = plan(resource("urn:b$aws:iam/role:Role::r", role, {"name": "r"}))
    [moved] = diff_plans("s", before, after).resources
    assert (moved.kind, moved.moved_from) == ("move", "urn:a$aws:iam/role:Role::r")
    assert "(URN changed: replaced unless an alias names the old URN)" in render_text(
        "x", [diff_plans("s", before, after)]
    )


def test_option_changes_are_shown_and_stacks_added_or_removed_are_named() -> None:
    before = plan(resource("u::b", "aws:s3/bucket:Bucket", {}, protect=False))
    after = plan(resource("u::b", "aws:s3/bucket:Bucket", {}, protect=True))
    [changed] = diff_plans("s", before, after).resources
    assert [(c.path, c.before, c.after) for c in changed.changes] == [
        ("(option) protect", False, True)
    ]
    assert diff_plans("qa", None, after).summary == "new stack: 1 to add"
    assert diff_plans("qa", before, None).summary == "stack removed: 1 to remove"
    assert "No changes" in render_markdown("r", [diff_plans("s", before, before)])


def test_compare_matches_named_items_and_reports_whole_items_added_or_removed() -> None:
    old = {"stages": [{"name": "Build", "x": 1}, {"name": "Deploy", "x": 1}]}
    new = {
        "stages": [{"name": "Build", "x": 1}, {"name": "Test", "x": 1}, {"name": "Deploy", "x": 2}]
    }
    assert compare(old, new) == [
        ("stages[Deploy].x", 1, 2),
        ("stages[Test]", ABSENT, {"name": "Test", "x": 1}),
    ]
    assert compare({"a": [1, 2]}, {"a": [1]}) == [("a[1]", 2, ABSENT)]


def test_the_replacement_table_covers_the_stateful_types_the_program_declares() -> None:
    snapshot = json.loads((ROOT / "tests" / "snapshots" / "stateful_urns.json").read_text())
    types = (
        {urn.split("::")[2].rsplit("$", 1)[-1] for urns in snapshot.values() for urn in urns}
        if isinstance(snapshot, dict)
        else set()
    )
    for typ in types:
        if typ.startswith("aws:"):
            assert typ in REPLACE_ON_CHANGE, typ
    assert forces_replacement("aws:iam/policy:Policy", "description")
    assert not forces_replacement("aws:codedeploy/application:Application", "name")


def test_the_documented_diff_example_is_this_scenarios_real_output(text_diff: str) -> None:
    page = (ROOT / "docs" / "plan-and-policy.md").read_text()
    start = page.index("\n## Examples\n")
    section = page[start : page.index("\n## ", start + 1)]
    example = section.split("$ cicd diff")[1].split("$ cicd diagram")[0].splitlines()[1:]
    shown = [line for line in example if line.startswith("  ")]
    assert len(shown) >= 5
    for line in shown:
        assert line in text_diff.splitlines(), f"documented diff example: {line!r}"
    assert (
        "Stack dev: 5 to add, 6 to update, 1 to replace, 5 to remove, 3 output changes" in example
    )
