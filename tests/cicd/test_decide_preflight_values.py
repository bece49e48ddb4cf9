"""`cicd.decide.preflight.assess` (what `cicd promote --preflight` lists) for facts the other
preflight tests do not reach: a window that never opens, alarms that cannot be read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cicd.decide.preflight import assess
from cicd.model.pipeline import DeploymentWindow, GitHubSource, PipelineLayout
from cicd.model.preflight import AlarmState, Finding, PreflightFacts, Subscribers
from cicd.model.status import Unknown

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _layout(cron: str = "* * 9-17 ? * MON-FRI") -> PipelineLayout:
    return PipelineLayout(
        name="web-prod-pipeline",
        stages=("Source", "Build", "Deploy"),
        source=GitHubSource(
            "Source", "arn:aws:codeconnections:eu-west-1:1:connection/x", "o/w", "main"
        ),
        deploy_targets=(),
        windows=(DeploymentWindow("Deploy", cron, "UTC"),),
    )


def _findings(layout: PipelineLayout, facts: PreflightFacts, check: str) -> list[Finding]:
    return [f for f in assess(layout, facts) if f.check == check]


def test_a_window_that_never_opens_again_blocks_and_points_at_the_stack_file() -> None:
    found = _findings(_layout("* 0 9 ? * MON 2020"), PreflightFacts(now=NOW), "window")

    assert found == [
        Finding(
            "window",
            True,
            'the deployment window of Deploy (cron "* 0 9 ? * MON 2020", UTC) does not open '
            "within a year, or cannot be evaluated here",
            "check deploy.window in the stack file",
        )
    ]


def test_alarms_that_cannot_be_read_are_a_warning_that_says_why() -> None:
    facts = PreflightFacts(now=NOW, alarms=Unknown("access denied to cloudwatch:DescribeAlarms"))

    assert _findings(_layout(), facts, "alarms") == [
        Finding(
            "alarms",
            False,
            "cannot read the watched alarms' state (access denied to cloudwatch:DescribeAlarms)",
        )
    ]


def test_alarms_without_a_state_reason_are_named_without_one() -> None:
    facts = PreflightFacts(
        now=NOW,
        alarms=(AlarmState("web-5xx", "ALARM"), AlarmState("web-latency", "INSUFFICIENT_DATA")),
    )

    assert _findings(_layout(), facts, "alarms") == [
        Finding(
            "alarms",
            True,
            "alarm web-5xx is in ALARM now; the deployment would stop and roll back at once",
            "find out why it fires, and promote once it is OK",
        ),
        Finding(
            "alarms",
            False,
            "alarm web-latency is in INSUFFICIENT_DATA now: it sees no data, so it cannot stop "
            "a bad release",
        ),
    ]


def test_deployments_that_cannot_be_listed_warn_and_running_ones_block() -> None:
    unknown = PreflightFacts(now=NOW, running_deployments=Unknown("access denied"))
    running = PreflightFacts(
        now=NOW,
        running_deployments=("web/web-prod: d-ABC (InProgress)",),
        executions_in_progress=("eeeeeeee-1111",),
    )

    assert _findings(_layout(), unknown, "deployment") == [
        Finding("deployment", False, "cannot list deployments (access denied)")
    ]
    assert _findings(_layout(), running, "deployment") == [
        Finding(
            "deployment",
            True,
            "a deployment is running in CodeDeploy web/web-prod: d-ABC (InProgress)",
            "wait for it to end (`cicd status`)",
        ),
        Finding(
            "deployment",
            True,
            "execution eeeeeeee of the target is in progress",
            "wait for it to end, or stop it (`cicd stop`)",
        ),
    ]


def _approved() -> PipelineLayout:
    return replace(
        _layout(),
        stages=("Source", "Build", "Approval", "Deploy"),
        release_topic="arn:aws:sns:eu-west-1:1:web-prod-releases",
    )


def test_approvers_without_a_topic_are_quiet_unreadable_ones_warn_and_none_confirmed_blocks() -> (
    None
):
    layout = _approved()

    assert _findings(layout, PreflightFacts(now=NOW), "approvers") == [
        Finding(
            "approvers",
            False,
            "the approval notifies no topic: approvers must watch the console or `cicd status`",
            quiet=True,
        )
    ]
    denied = PreflightFacts(now=NOW, subscribers=Unknown("access denied"))
    assert _findings(layout, denied, "approvers") == [
        Finding("approvers", False, "cannot list the release topic's subscribers (access denied)")
    ]
    nobody = PreflightFacts(now=NOW, subscribers=Subscribers(confirmed=0, pending=2))
    assert _findings(layout, nobody, "approvers") == [
        Finding(
            "approvers",
            True,
            "nobody is subscribed to the release topic arn:aws:sns:eu-west-1:1:web-prod-releases "
            "(2 still PendingConfirmation): nobody is told that an approval waits, and it times "
            "out",
            "subscribe approvers (approval.approvers in the stack file) and have them confirm "
            "the subscription",
        )
    ]


def test_a_stage_rollback_is_unavailable_when_the_live_release_ran_on_another_structure() -> None:
    layout = replace(_layout(), version=4)
    facts = PreflightFacts(now=NOW, live_execution="aaaaaaaa-1111", live_version=3)

    assert _findings(layout, facts, "rollback") == [
        Finding(
            "rollback",
            False,
            "stage rollback will not be available: the live release (execution aaaaaaaa) ran on "
            "version 3 of the pipeline, now at version 4, and AWS rolls a stage back only to an "
            "execution of the current structure "
            "(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html)",
            "a failed release is then undone by promoting the previous commit "
            "(`cicd promote ... --commit SHA`)",
        )
    ]
    unknown = PreflightFacts(
        now=NOW, live_execution="aaaaaaaa-1111", live_version=Unknown("denied")
    )
    assert _findings(layout, unknown, "rollback") == [
        Finding(
            "rollback", False, "cannot tell whether a stage rollback will be available (denied)"
        )
    ]


def test_blocking_findings_come_first_then_the_warnings_each_in_check_order() -> None:
    facts = PreflightFacts(
        now=NOW,
        alarms=(AlarmState("web-latency", "INSUFFICIENT_DATA"),),
        executions_in_progress=("eeeeeeee-1111",),
    )

    found = assess(_layout(), facts)

    assert [(f.check, f.blocking) for f in found] == [
        ("deployment", True),
        ("alarms", False),
        ("rollback", False),
    ]
