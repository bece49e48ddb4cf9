"""GitHubRepositorySettings: the environment, variables and ruleset each stack owns on GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_github as github
import pytest

from components.github_oidc import GitHubActionsOidc
from components.github_repository import (
    GITHUB_ACTIONS_APP_ID,
    GitHubRepositorySettings,
    GitHubRepositorySettingsArgs,
    preview_check_name,
    preview_role_variable_name,
    short_stack_name,
    stacks_from_stack_files,
)
from tests.harness import Recorder, run_pulumi

ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
BRANCH_POLICY = (
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
)
ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
REPO_VARIABLE = "github:index/actionsVariable:ActionsVariable"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
GITHUB_PROVIDER = "pulumi:providers:github"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the mock monitor marks a secret input

PREVIEW_ARN = "arn:aws:iam::123456789012:role/payments-prod-gha-preview"
DEPLOY_ARN = "arn:aws:iam::123456789012:role/payments-prod-gha-deploy"


def settings_args(**overrides: Any) -> GitHubRepositorySettingsArgs:
    args: GitHubRepositorySettingsArgs = {
        "repository": "acme/payments",
        "stage": "prod",
        "preview_role_arn": PREVIEW_ARN,
        "deploy_role_arn": DEPLOY_ARN,
        "github_token": "ghp_offline",
    }
    args.update(overrides)  # type: ignore[typeddict-item]
    return args


def build(opts: pulumi.ResourceOptions | None = None, **overrides: Any) -> None:
    run_pulumi(lambda: GitHubRepositorySettings("gh", settings_args(**overrides), opts))


def variables(mocks: Recorder) -> dict[str, dict[str, Any]]:
    """Every Actions variable by name, with its inputs."""
    found = mocks.of_type(ENV_VARIABLE) + mocks.of_type(REPO_VARIABLE)
    return {r.inputs["variableName"]: r.inputs for r in found}


# --- The environment --------------------------------------------------------------------------


def test_an_environment_with_reviewers_requires_them_and_deploys_only_from_main(
    mocks: Recorder,
) -> None:
    build(reviewer_user_ids=[101, 102], reviewer_team_ids=[7])
    environment = mocks.one(ENVIRONMENT, "gh-environment").inputs
    assert environment["environment"] == "prod", "gh-environment name"
    assert environment["repository"] == "payments", "gh-environment repository (owner in provider)"
    assert environment["reviewers"] == [{"users": [101, 102], "teams": [7]}], "gh-environment"
    assert environment["preventSelfReview"] is True, "gh-environment self review"
    assert environment["deploymentBranchPolicy"] == {
        "protectedBranches": False,
        "customBranchPolicies": True,
    }, "gh-environment branch policy"
    [policy] = mocks.of_type(BRANCH_POLICY)
    assert policy.name == "gh-deploy-from-main"
    assert policy.inputs == {
        "repository": "payments",
        "environment": "prod",
        "branchPattern": "main",
    }


def test_an_environment_without_reviewers_still_deploys_only_from_main(mocks: Recorder) -> None:
    build(stage="dev")
    environment = mocks.one(ENVIRONMENT, "gh-environment").inputs
    assert "reviewers" not in environment, "gh-environment must not require reviewers"
    assert "preventSelfReview" not in environment
    assert [p.inputs["branchPattern"] for p in mocks.of_type(BRANCH_POLICY)] == ["main"]


def test_an_empty_branch_list_lifts_the_branch_restriction(mocks: Recorder) -> None:
    build(deploy_branches=[])
    assert "deploymentBranchPolicy" not in mocks.one(ENVIRONMENT, "gh-environment").inputs
    assert mocks.of_type(BRANCH_POLICY) == []


# --- Variables --------------------------------------------------------------------------------


def test_the_variables_hold_the_roles_of_the_oidc_component(mocks: Recorder) -> None:
    resolved: dict[str, str] = {}

    def program() -> Any:
        oidc = GitHubActionsOidc(
            "gha", {"service": "payments", "stage": "dev", "repository": "acme/payments"}
        )
        GitHubRepositorySettings(
            "gh",
            {
                "repository": "acme/payments",
                "stage": "dev",
                "preview_role_arn": oidc.preview_role_arn,
                "deploy_role_arn": oidc.deploy_role_arn,
                "github_token": "ghp_offline",
            },
        )
        return pulumi.Output.all(preview=oidc.preview_role_arn, deploy=oidc.deploy_role_arn).apply(
            resolved.update
        )

    run_pulumi(program)
    found = variables(mocks)
    assert set(found) == {
        "PULUMI_DEPLOY_ROLE_ARN",
        "PULUMI_STACK_NAME",
        "PULUMI_PREVIEW_ROLE_ARN_DEV",
    }
    assert found["PULUMI_DEPLOY_ROLE_ARN"]["value"] == resolved["deploy"], "gh-deploy-role-variable"
    assert found["PULUMI_DEPLOY_ROLE_ARN"]["environment"] == "dev", "gh-deploy-role-variable"
    assert found["PULUMI_STACK_NAME"]["value"] == "dev", "gh-stack-name-variable"
    assert found["PULUMI_STACK_NAME"]["environment"] == "dev", "gh-stack-name-variable"
    preview = found["PULUMI_PREVIEW_ROLE_ARN_DEV"]
    assert preview["value"] == resolved["preview"], "gh-preview-role-variable"
    assert "environment" not in preview, "the preview variable is repository-level"
    assert mocks.one(REPO_VARIABLE, "gh-preview-role-variable")


def test_a_qualified_stack_name_is_deployed_as_given_and_previewed_by_its_short_name(
    mocks: Recorder,
) -> None:
    build(stack_name="acme-org/prod")
    found = variables(mocks)
    assert found["PULUMI_STACK_NAME"]["value"] == "acme-org/prod"
    assert "PULUMI_PREVIEW_ROLE_ARN_PROD" in found


def test_variable_and_check_names_follow_the_stack_file_name() -> None:
    assert preview_role_variable_name("dev") == "PULUMI_PREVIEW_ROLE_ARN_DEV"
    assert preview_role_variable_name("us-east.blue") == "PULUMI_PREVIEW_ROLE_ARN_US_EAST_BLUE"
    assert short_stack_name("acme/proj/prod") == "prod"
    assert preview_check_name("staging") == "preview (staging)"


# --- Provider ---------------------------------------------------------------------------------


def test_a_provider_is_created_from_the_token_for_the_repository_owner_and_kept_secret(
    mocks: Recorder,
) -> None:
    build()
    provider = mocks.one(GITHUB_PROVIDER, "gh-github")
    assert provider.inputs["owner"] == "acme", "gh-github owner"
    token = provider.inputs["token"]
    assert isinstance(token, dict) and SECRET_SIG in token, "gh-github token must be secret"
    assert token["value"] == "ghp_offline"


def test_an_explicit_provider_is_used_and_none_is_created(mocks: Recorder) -> None:
    def program() -> None:
        provider = github.Provider("explicit", owner="acme", token="ghp_offline")
        args = settings_args()
        del args["github_token"]
        args["provider_owner"] = "acme"
        GitHubRepositorySettings("gh", args, pulumi.ResourceOptions(provider=provider))

    run_pulumi(program)
    assert [r.name for r in mocks.of_type(GITHUB_PROVIDER)] == ["explicit"]
    assert mocks.one(ENVIRONMENT, "gh-environment")


# --- Ruleset ----------------------------------------------------------------------------------


def test_the_owning_stack_requires_every_stacks_preview_check_on_main(mocks: Recorder) -> None:
    build(owns_ruleset=True, ruleset_stacks=["staging", "dev", "prod"])
    ruleset = mocks.one(RULESET, "gh-main-ruleset").inputs
    assert ruleset["target"] == "branch" and ruleset["enforcement"] == "active", "gh-main-ruleset"
    assert ruleset["conditions"] == {"refName": {"includes": ["refs/heads/main"], "excludes": []}}
    checks = ruleset["rules"]["requiredStatusChecks"]["requiredChecks"]
    assert [c["context"] for c in checks] == [
        "preview (dev)",
        "preview (prod)",
        "preview (staging)",
    ]
    assert {c["integrationId"] for c in checks} == {GITHUB_ACTIONS_APP_ID}, "gh-main-ruleset"


def test_the_ruleset_stacks_default_to_the_stack_files(
    mocks: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for file in ("Pulumi.yaml", "Pulumi.qa.yaml", "Pulumi.live.yaml"):
        (tmp_path / file).write_text("config: {}\n")
    monkeypatch.chdir(tmp_path)
    assert stacks_from_stack_files(tmp_path) == ["live", "qa"]
    build(owns_ruleset=True)
    checks = mocks.one(RULESET, "gh-main-ruleset").inputs["rules"]["requiredStatusChecks"]
    assert [c["context"] for c in checks["requiredChecks"]] == ["preview (live)", "preview (qa)"]


def test_stacks_that_do_not_own_the_ruleset_leave_it_alone(mocks: Recorder) -> None:
    build()
    assert mocks.of_type(RULESET) == [], "only the owning stack manages gh-main-ruleset"


def test_children_are_parented_to_the_component_and_logical_names_are_pinned(
    mocks: Recorder,
) -> None:
    build(owns_ruleset=True, ruleset_stacks=["prod"])
    component = mocks.one("delivery:cicd:GitHubRepositorySettings", "gh")
    children = [r for r in mocks.resources if r.custom]
    assert {r.parent for r in children} == {component.urn}, [
        (r.typ, r.name, r.parent) for r in children
    ]
    assert sorted(r.name for r in children) == [
        "gh-deploy-from-main",
        "gh-deploy-role-variable",
        "gh-environment",
        "gh-github",
        "gh-main-ruleset",
        "gh-preview-role-variable",
        "gh-stack-name-variable",
    ]


# --- Bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("repository", ["payments", "acme/pay/ments", "https://github.com/a/b"])
def test_a_repository_that_is_not_owner_slash_name_is_refused(
    mocks: Recorder, repository: str
) -> None:
    with pytest.raises(ValueError, match=r"must be 'owner/name'"):
        build(repository=repository)
    assert mocks.resources == [], "nothing may be registered before validation"


def test_a_provider_owner_other_than_the_repository_owner_names_both_and_the_fix(
    mocks: Recorder,
) -> None:
    def program() -> None:
        provider = github.Provider("explicit", owner="globex", token="ghp_offline")
        args = settings_args(provider_owner="globex")
        del args["github_token"]
        GitHubRepositorySettings("gh", args, pulumi.ResourceOptions(provider=provider))

    with pytest.raises(
        ValueError,
        match=r"owner is 'globex' but repository 'acme/payments' belongs to 'acme'.*"
        r"pulumi config set github:owner acme",
    ):
        run_pulumi(program)


def test_a_token_and_a_provider_together_are_refused(mocks: Recorder) -> None:
    def program() -> None:
        provider = github.Provider("explicit", owner="acme", token="ghp_offline")
        GitHubRepositorySettings("gh", settings_args(), pulumi.ResourceOptions(provider=provider))

    with pytest.raises(ValueError) as refused:
        run_pulumi(program)
    assert str(refused.value) == (
        "GitHubRepositorySettings 'gh': both github_token and a github.Provider in "
        "opts were given; pass one: the provider, or the token to create one here"
    )


def test_no_credentials_at_all_are_refused_with_the_config_command(mocks: Recorder) -> None:
    args = settings_args()
    del args["github_token"]
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: GitHubRepositorySettings("gh", args))
    assert str(refused.value) == (
        "GitHubRepositorySettings 'gh': no GitHub credentials; pass github_token="
        'config.require_secret("githubToken") (set it with `pulumi config set --secret '
        "githubToken <token>`) or a github.Provider in opts.provider"
    )


def test_more_reviewers_than_github_allows_are_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match=r"reviewer_user_ids has 7 IDs .* at most 6"):
        build(reviewer_user_ids=list(range(1, 8)))


def test_reviewers_given_as_logins_are_refused(mocks: Recorder) -> None:
    with pytest.raises(ValueError, match="must be numeric GitHub IDs"):
        build(reviewer_user_ids=["octocat"])


# --- RequiredStatusChecks ---------------------------------------------------------------------


def test_required_checks_guard_one_branch_with_its_ruleset_parented_to_the_component(
    mocks: Recorder,
) -> None:
    from components.github_repository import RequiredStatusChecks

    seen: list[Any] = []

    def program() -> Any:
        checks = RequiredStatusChecks(
            "api",
            {
                "repository": "acme/api",
                "branch": "release",
                "checks": ["cicd/api-qa-pr", "cicd/api-prod-pr"],
                "github_token": "t",
            },
        )
        return checks.required_checks.apply(seen.append)

    run_pulumi(program)
    component = mocks.one("delivery:cicd:RequiredStatusChecks", "api")
    ruleset = mocks.one(RULESET, "api-ruleset")
    assert ruleset.parent == component.urn, "api-ruleset parent"
    assert ruleset.inputs["name"] == "release: cicd/api-qa-pr, cicd/api-prod-pr"
    assert ruleset.inputs["conditions"] == {
        "refName": {"includes": ["refs/heads/release"], "excludes": []}
    }, "api-ruleset conditions"
    assert seen == [["cicd/api-qa-pr", "cicd/api-prod-pr"]], "required_checks output"


def test_reviewers_may_be_allowed_to_approve_their_own_deployments(mocks: Recorder) -> None:
    build(reviewer_user_ids=[101], prevent_self_review=False)
    environment = mocks.one(ENVIRONMENT, "gh-environment").inputs
    assert environment["preventSelfReview"] is False, "gh-environment self review"
