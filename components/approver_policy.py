"""Who may approve a release: an IAM policy scoped to one pipeline's one manual-approval action.

Defines `approval_action_arn` and `approver_policy_document` (pure functions: an ARN and a policy
document from a pipeline ARN and the approval stage and action names) and `ApproverPolicy`, a
component that creates the managed policy. It does not decide *who* approves: attach the policy to
the approvers' group, role or permission set outside this module.

CodePipeline authorizes `PutApprovalResult` on the *action* ARN
(`arn:aws:codepipeline:REGION:ACCOUNT:PIPELINE/STAGE/ACTION`), so a person holding this policy can
approve or reject exactly one gate and nothing else, in this pipeline or any other.

`ServicePipeline` no longer uses it (it makes an `ApproverRole`): a managed policy attached to
people is only as safe as whoever may write new versions of it. Declare it in a stack that an
administrator runs, never in one the GitHub Actions deploy role updates, or people would hold
whatever a merge to `main` writes into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components.naming import NamingContext

DEFAULT_APPROVAL_STAGE = "Approval"
DEFAULT_APPROVAL_ACTION = "Approve"

# Managed policy names allow 128 characters.
IAM_POLICY_NAME_MAX = 128

# CodePipeline's own rule for pipeline, stage and action names: it excludes `*` and `/`, so an ARN
# built from valid names can never widen into a wildcard or spill into another stage.
_CODEPIPELINE_NAME = re.compile(r"^[A-Za-z0-9.@_-]{1,100}$")
_PIPELINE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):codepipeline:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):(?P<pipeline>[^:/]+)$"
)

# What an approver needs to *see* what they approve (the pipeline's structure, which execution is
# waiting, which revision it carries). All four take the pipeline ARN as their resource.
PIPELINE_READ_ACTIONS = (
    "codepipeline:GetPipeline",
    "codepipeline:GetPipelineState",
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListPipelineExecutions",
)


def _check_name(arg: str, value: str) -> None:
    if not _CODEPIPELINE_NAME.match(value):
        raise ValueError(
            f"approver policy: {arg} {value!r} is not a CodePipeline name; use 1-100 letters, "
            "digits, '.', '@', '-' or '_' (the name the pipeline gives the stage or action)"
        )


def approval_action_arn(
    pipeline_arn: str,
    stage: str = DEFAULT_APPROVAL_STAGE,
    action: str = DEFAULT_APPROVAL_ACTION,
) -> str:
    """The ARN of one pipeline action: `arn:aws:codepipeline:REGION:ACCOUNT:PIPELINE/STAGE/ACTION`.

    Raises ValueError when `pipeline_arn` is not a pipeline ARN or a name is not a valid
    CodePipeline stage or action name (which also rules out `*` and `/`).
    """
    match = _PIPELINE_ARN.match(pipeline_arn)
    if not match:
        raise ValueError(
            f"approver policy: pipeline_arn {pipeline_arn!r} is not a CodePipeline pipeline ARN; "
            "expected arn:aws:codepipeline:REGION:ACCOUNT:PIPELINE (the pipeline's `arn` output)"
        )
    _check_name("pipeline name", match["pipeline"])
    _check_name("stage", stage)
    _check_name("action", action)
    return f"{pipeline_arn}/{stage}/{action}"


def approver_policy_document(
    pipeline_arn: str,
    stage: str = DEFAULT_APPROVAL_STAGE,
    action: str = DEFAULT_APPROVAL_ACTION,
) -> dict[str, Any]:
    """An IAM policy allowing approval of one action, plus reading the pipeline it belongs to.

    The console's pipeline *list* needs `codepipeline:ListPipelines` on `*`; it is deliberately
    not granted, so approvers open the pipeline from the notification's link or use the CLI.
    """
    action_arn = approval_action_arn(pipeline_arn, stage, action)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ApproveOrRejectThisGateOnly",
                "Effect": "Allow",
                "Action": "codepipeline:PutApprovalResult",
                "Resource": action_arn,
            },
            {
                "Sid": "SeeWhatIsBeingApproved",
                "Effect": "Allow",
                "Action": list(PIPELINE_READ_ACTIONS),
                "Resource": pipeline_arn,
            },
        ],
    }


class ApproverPolicyArgs(TypedDict):
    """Inputs of `ApproverPolicy`."""

    service: str
    """Service name for naming and tags (`{service}-{stage}-approvers`)."""
    stage: str
    """Environment stage for naming and tags, e.g. `prod`."""
    pipeline_arn: pulumi.Input[str]
    """ARN of the pipeline whose approval action the policy allows."""
    approval_stage_name: NotRequired[str]
    """Name of the pipeline stage holding the manual-approval action. Default: `Approval`."""
    approval_action_name: NotRequired[str]
    """Name of the manual-approval action in that stage. Default: `Approve`."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags; the naming context's `cicd:*` tags always win. Default: none."""


class ApproverPolicy(pulumi.ComponentResource):
    """A managed IAM policy letting its holders approve or reject one pipeline's approval action."""

    policy_arn: pulumi.Output[str]
    """ARN of the managed policy, to attach to the approvers' group, role or permission set."""

    def __init__(
        self, name: str, args: ApproverPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        naming = NamingContext.current(args["service"], args["stage"])
        stage_name = args.get("approval_stage_name", DEFAULT_APPROVAL_STAGE)
        action_name = args.get("approval_action_name", DEFAULT_APPROVAL_ACTION)
        tags = {**args.get("tags", {}), **naming.tags}
        pipeline_arn = args["pipeline_arn"]
        # Fail at construction, not inside an apply, for everything known now.
        _check_name("approval_stage_name", stage_name)
        _check_name("approval_action_name", action_name)
        if isinstance(pipeline_arn, str):
            approval_action_arn(pipeline_arn, stage_name, action_name)

        super().__init__("delivery:cicd:ApproverPolicy", name, None, opts)

        policy = aws.iam.Policy(
            f"{name}-approvers",
            name=naming.name("approvers", IAM_POLICY_NAME_MAX),
            description=(
                f"Approve or reject {stage_name}/{action_name} of the "
                f"{naming.service} {naming.stage} pipeline, and read that pipeline"
            ),
            policy=pulumi.Output.from_input(pipeline_arn).apply(
                lambda arn: json.dumps(approver_policy_document(arn, stage_name, action_name))
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.policy_arn = policy.arn
        self.register_outputs({"policy_arn": self.policy_arn})
