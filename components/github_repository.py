"""The GitHub side of one stack's deploys, managed with pulumi-github.

Defines `GitHubRepositorySettings`, which gives one stage of one repository:

- a GitHub environment named after the stage, with required reviewers when given and a
  deployment branch policy (default: only `main` may deploy);
- in that environment, the Actions variables `deploy.yml` reads: `PULUMI_DEPLOY_ROLE_ARN` and
  `PULUMI_STACK_NAME`;
- a repository-level Actions variable `PULUMI_PREVIEW_ROLE_ARN_<STACK>` that `preview.yml` reads
  (repository-level so a preview never waits for an environment's reviewers);
- optionally, the ruleset on `main` that requires every stack's preview check. Three stacks
  share one repository, so exactly one of them should own it (`owns_ruleset`).

Also defines `RequiredStatusChecks`, a ruleset on one branch of an application repository that
requires commit statuses (a service's pull-request check, `cicd/{service}-{stage}-pr`), and the
naming functions the workflows must agree with (`preview_role_variable_name`,
`preview_check_name`), so tests can hold the two sides together. It creates nothing in AWS: the
role ARNs come from `components/github_oidc.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_github as github

from components.github_oidc import parse_repository

MAIN_BRANCH = "main"
DEPLOY_ROLE_VARIABLE = "PULUMI_DEPLOY_ROLE_ARN"
STACK_NAME_VARIABLE = "PULUMI_STACK_NAME"
PREVIEW_ROLE_VARIABLE_PREFIX = "PULUMI_PREVIEW_ROLE_ARN_"
# The preview job's `name:` in .github/workflows/preview.yml, with the matrix value filled in:
# GitHub reports a matrix job's check run under that expanded name.
PREVIEW_CHECK = "preview ({stack})"
# GitHub Actions' app ID: a required check pinned to it cannot be satisfied by a commit status
# that anything else with `statuses: write` posts under the same name.
GITHUB_ACTIONS_APP_ID = 15368
MAX_REVIEWERS = 6  # per kind (users, teams): GitHub's limit for an environment


class GitHubRepositorySettingsArgs(TypedDict):
    """Inputs of `GitHubRepositorySettings`."""

    repository: str
    """GitHub repository as `owner/name`."""
    stage: str
    """Stage (dev, staging, prod): the GitHub environment's name, which deploy jobs declare and
    the deploy role's trust policy names."""
    preview_role_arn: pulumi.Input[str]
    """ARN of the stack's preview role (`GitHubActionsOidc.preview_role_arn`)."""
    deploy_role_arn: pulumi.Input[str]
    """ARN of the stack's deploy role (`GitHubActionsOidc.deploy_role_arn`)."""
    stack_name: NotRequired[str]
    """Stack name `deploy.yml` passes to Pulumi (`org/stack` for a Pulumi Cloud organization
    other than the token's default). Default: the running stack's name."""
    github_token: NotRequired[pulumi.Input[str]]
    """Token for a GitHub provider created here, owned by the repository's owner; pass
    `config.require_secret("githubToken")`. It is kept secret whatever is passed. Default: none,
    and a `github.Provider` must come in `opts.provider` or `opts.providers` (exactly one of the
    two is required)."""
    provider_owner: NotRequired[str]
    """The `owner` the `github.Provider` in opts was configured with. Default: not checked. When
    given, it must be the repository's owner (resources would otherwise land in another
    account's repository of the same name, or fail with a 404)."""
    reviewer_user_ids: NotRequired[Sequence[int]]
    """GitHub user IDs (up to 6) who must approve each deploy to this environment. Default: none."""
    reviewer_team_ids: NotRequired[Sequence[int]]
    """GitHub team IDs (up to 6) who must approve each deploy to this environment. Default: none;
    with neither users nor teams, deploys to this environment start without approval."""
    prevent_self_review: NotRequired[bool]
    """Whether whoever triggered a deploy is barred from approving it. Default: True (only used
    when there are reviewers)."""
    deploy_branches: NotRequired[Sequence[str]]
    """Branch name patterns allowed to deploy to this environment. Default: `["main"]`. An empty
    list lifts the restriction (any branch may deploy)."""
    owns_ruleset: NotRequired[bool]
    """Whether this stack manages the ruleset on `main` that requires every stack's preview
    check. Default: False. Set it on exactly one stack of the repository."""
    ruleset_stacks: NotRequired[Sequence[str]]
    """Stacks whose preview checks the ruleset requires. Default: the stacks of the
    `Pulumi.<stack>.yaml` files in the working directory (the project directory when Pulumi runs
    the program), the same list `preview.yml` builds its matrix from."""


# --- Pure helpers: the names the workflows read -------------------------------------------------


def short_stack_name(stack_name: str) -> str:
    """`dev` from `dev` or `acme/dev` or `acme/project/dev`: the stack file's name part."""
    return stack_name.rsplit("/", 1)[-1]


def preview_role_variable_name(stack: str) -> str:
    """`PULUMI_PREVIEW_ROLE_ARN_<STACK>`: upper case, anything not a letter or digit as `_`.

    preview.yml computes the same name with jq from the stack file's name; a test runs both.
    """
    return PREVIEW_ROLE_VARIABLE_PREFIX + re.sub(r"[^A-Z0-9]", "_", stack.upper())


def preview_check_name(stack: str) -> str:
    """The check run that preview.yml's job reports for `stack`, e.g. `preview (dev)`."""
    return PREVIEW_CHECK.format(stack=stack)


def stacks_from_stack_files(project_dir: Path) -> list[str]:
    """Stack names of the `Pulumi.<stack>.yaml` files in `project_dir`, sorted."""
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for path in project_dir.glob("Pulumi.*.yaml")
    )


def _explicit_github_provider(
    opts: pulumi.ResourceOptions | None,
) -> pulumi.ProviderResource | None:
    if opts is None:
        return None
    candidates: list[pulumi.ProviderResource] = []
    if opts.provider is not None:
        candidates.append(opts.provider)
    if isinstance(opts.providers, Mapping):
        candidates += list(opts.providers.values())
    elif opts.providers:
        candidates += list(opts.providers)
    return next((p for p in candidates if p.package == "github"), None)


def _logical_key(value: str) -> str:
    """A branch pattern as a stable piece of a logical name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value)


# --- The component ------------------------------------------------------------------------------


class GitHubRepositorySettings(pulumi.ComponentResource):
    """One stage's GitHub environment and Actions variables, and optionally the main ruleset."""

    environment_name: pulumi.Output[str]
    """The GitHub environment deploy jobs for this stage run in."""
    preview_role_variable: pulumi.Output[str]
    """Name of the repository-level variable holding this stack's preview role ARN."""
    required_checks: pulumi.Output[list[str]]
    """Check names the ruleset on main requires (empty unless `owns_ruleset`)."""

    def __init__(
        self,
        name: str,
        args: GitHubRepositorySettingsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Defaults and validation, all in one place, before anything is registered.
        owner, repository = parse_repository(args["repository"])
        stage = args["stage"]
        stack_name = args.get("stack_name") or pulumi.get_stack()
        explicit_provider = _explicit_github_provider(opts)
        token = args.get("github_token")
        if explicit_provider is not None and token is not None:
            raise ValueError(
                f"GitHubRepositorySettings {name!r}: both github_token and a github.Provider in "
                "opts were given; pass one: the provider, or the token to create one here"
            )
        if explicit_provider is None and token is None:
            raise ValueError(
                f"GitHubRepositorySettings {name!r}: no GitHub credentials; pass github_token="
                'config.require_secret("githubToken") (set it with `pulumi config set --secret '
                "githubToken <token>`) or a github.Provider in opts.provider"
            )
        provider_owner = args.get("provider_owner")
        if provider_owner is not None and provider_owner.casefold() != owner.casefold():
            raise ValueError(
                f"GitHubRepositorySettings {name!r}: the GitHub provider's owner is "
                f"{provider_owner!r} but repository {args['repository']!r} belongs to {owner!r}; "
                f"configure the provider with owner={owner!r} (`pulumi config set github:owner "
                f"{owner}`) or fix the repository"
            )
        user_ids = list(args.get("reviewer_user_ids") or [])
        team_ids = list(args.get("reviewer_team_ids") or [])
        for kind, ids in (("reviewer_user_ids", user_ids), ("reviewer_team_ids", team_ids)):
            if len(ids) > MAX_REVIEWERS:
                raise ValueError(
                    f"GitHubRepositorySettings {name!r}: {kind} has {len(ids)} IDs {ids}; "
                    f"GitHub allows at most {MAX_REVIEWERS} per environment: use a team"
                )
            if any(not isinstance(i, int) or isinstance(i, bool) or i <= 0 for i in ids):
                raise ValueError(
                    f"GitHubRepositorySettings {name!r}: {kind} {ids} must be numeric GitHub IDs "
                    "(`gh api users/<login> --jq .id`, `gh api orgs/<org>/teams/<slug> --jq .id`)"
                )
        prevent_self_review = args.get("prevent_self_review", True)
        deploy_branches = list(args.get("deploy_branches", [MAIN_BRANCH]))
        owns_ruleset = args.get("owns_ruleset", False)
        ruleset_stacks: list[str] = []
        if owns_ruleset:
            ruleset_stacks = sorted(
                args.get("ruleset_stacks") or stacks_from_stack_files(Path.cwd())
            )
        if owns_ruleset and not ruleset_stacks:
            raise ValueError(
                f"GitHubRepositorySettings {name!r}: owns_ruleset is True but no stacks were "
                f"found in {Path.cwd()}/Pulumi.*.yaml; pass ruleset_stacks"
            )
        required_checks = [preview_check_name(stack) for stack in ruleset_stacks]
        preview_variable = preview_role_variable_name(short_stack_name(stack_name))

        super().__init__("delivery:cicd:GitHubRepositorySettings", name, None, opts)

        provider: pulumi.ProviderResource
        if explicit_provider is not None:
            provider = explicit_provider
        else:
            provider = github.Provider(
                f"{name}-github",
                owner=owner,
                token=pulumi.Output.secret(token),
                opts=pulumi.ResourceOptions(parent=self),
            )
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        reviewers: list[github.RepositoryEnvironmentReviewerArgsDict] = []
        if user_ids or team_ids:
            reviewer: github.RepositoryEnvironmentReviewerArgsDict = {}
            if user_ids:
                reviewer["users"] = user_ids
            if team_ids:
                reviewer["teams"] = team_ids
            reviewers.append(reviewer)
        environment = github.RepositoryEnvironment(
            f"{name}-environment",
            repository=repository,
            environment=stage,
            reviewers=reviewers or None,
            prevent_self_review=prevent_self_review if reviewers else None,
            deployment_branch_policy=(
                {"protected_branches": False, "custom_branch_policies": True}
                if deploy_branches
                else None
            ),
            opts=child,
        )
        for branch in deploy_branches:
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{name}-deploy-from-{_logical_key(branch)}",
                repository=repository,
                environment=environment.environment,
                branch_pattern=branch,
                opts=child,
            )

        github.ActionsEnvironmentVariable(
            f"{name}-deploy-role-variable",
            repository=repository,
            environment=environment.environment,
            variable_name=DEPLOY_ROLE_VARIABLE,
            value=args["deploy_role_arn"],
            opts=child,
        )
        github.ActionsEnvironmentVariable(
            f"{name}-stack-name-variable",
            repository=repository,
            environment=environment.environment,
            variable_name=STACK_NAME_VARIABLE,
            value=stack_name,
            opts=child,
        )
        github.ActionsVariable(
            f"{name}-preview-role-variable",
            repository=repository,
            variable_name=preview_variable,
            value=args["preview_role_arn"],
            opts=child,
        )

        if owns_ruleset:
            github.RepositoryRuleset(
                f"{name}-main-ruleset",
                name=f"{MAIN_BRANCH}: pulumi previews pass",
                repository=repository,
                target="branch",
                enforcement="active",
                conditions={
                    "ref_name": {"includes": [f"refs/heads/{MAIN_BRANCH}"], "excludes": []}
                },
                rules={
                    "required_status_checks": {
                        "required_checks": [
                            {"context": check, "integration_id": GITHUB_ACTIONS_APP_ID}
                            for check in required_checks
                        ],
                    },
                },
                opts=child,
            )

        self.environment_name = environment.environment
        self.preview_role_variable = pulumi.Output.from_input(preview_variable)
        self.required_checks = pulumi.Output.from_input(required_checks)
        self.register_outputs(
            {
                "environment_name": self.environment_name,
                "preview_role_variable": self.preview_role_variable,
                "required_checks": self.required_checks,
            }
        )


class RequiredStatusChecksArgs(TypedDict):
    """Inputs of `RequiredStatusChecks`."""

    repository: str
    """The application repository as `owner/name`, e.g. `acme/web`."""
    branch: str
    """The branch whose pull requests must pass, e.g. `main`."""
    checks: Sequence[str]
    """Commit status contexts required, e.g. `["cicd/web-staging-pr"]`."""
    github_token: NotRequired[pulumi.Input[str]]
    """Token for a GitHub provider created here (Administration: write on the repository);
    kept secret. Default: none, and a `github.Provider` must come in `opts.provider`."""
    integration_id: NotRequired[int]
    """The GitHub App that must post the statuses (its app ID). Default: any poster; a status
    with that context from anyone with `statuses: write` satisfies the check."""


class RequiredStatusChecks(pulumi.ComponentResource):
    """A ruleset on one branch of an application repository: its pull requests merge only when
    the given commit statuses passed. The statuses come from elsewhere: CodePipeline reports
    nothing to GitHub itself (docs/pull-requests-and-deploys.md)."""

    ruleset_name: pulumi.Output[str]
    """The ruleset's name in the repository's settings."""
    required_checks: pulumi.Output[list[str]]
    """The contexts it requires."""

    def __init__(
        self,
        name: str,
        args: RequiredStatusChecksArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        owner, repository = parse_repository(args["repository"])
        branch = args["branch"]
        checks = list(args["checks"])
        if not checks or len(set(checks)) != len(checks):
            raise ValueError(
                f"RequiredStatusChecks {name!r}: checks {checks} must name at least one status "
                "context, each once"
            )
        explicit_provider = _explicit_github_provider(opts)
        token = args.get("github_token")
        if (explicit_provider is None) == (token is None):
            raise ValueError(
                f"RequiredStatusChecks {name!r}: pass github_token (a provider is created for "
                f"{owner!r}) or a github.Provider in opts.provider, exactly one"
            )
        integration_id = args.get("integration_id")
        ruleset_name = f"{branch}: {', '.join(checks)}"

        super().__init__("delivery:cicd:RequiredStatusChecks", name, None, opts)
        provider: pulumi.ProviderResource
        if explicit_provider is not None:
            provider = explicit_provider
        else:
            provider = github.Provider(
                f"{name}-github",
                owner=owner,
                token=pulumi.Output.secret(token),
                opts=pulumi.ResourceOptions(parent=self),
            )
        required: list[github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgsDict] = []
        for check in checks:
            entry: github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgsDict = {
                "context": check
            }
            if integration_id is not None:
                entry["integration_id"] = integration_id
            required.append(entry)
        ruleset = github.RepositoryRuleset(
            f"{name}-ruleset",
            name=ruleset_name,
            repository=repository,
            target="branch",
            enforcement="active",
            conditions={"ref_name": {"includes": [f"refs/heads/{branch}"], "excludes": []}},
            rules={"required_status_checks": {"required_checks": required}},
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.ruleset_name = ruleset.name
        self.required_checks = pulumi.Output.from_input(checks)
        self.register_outputs(
            {"ruleset_name": self.ruleset_name, "required_checks": self.required_checks}
        )
