"""`cicd promote --preflight`, and the same checks before every promote.

moto holds prod's pipeline, its CodeDeploy group and staging's release bucket; CloudWatch and
SNS are botocore Stubbers (requests checked against AWS's service model). Each blocking
condition is set up alone: it must produce its reason on its own line and exit 3; a clear
target exits 0; a plain promote refuses on the same conditions and starts nothing.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from cicd.aws.pipelines import parse_layout
from cicd.aws.preflight import RUNNING_DEPLOYMENT_STATUSES
from tests.cicd import docs
from tests.cicd.aws_fakes import (
    PREFLIGHT_STATUSES,
    RELEASE_BUCKET,
    CliRunner,
    MotoWorld,
    ReleaseBucket,
    StubbedAws,
    execution,
    execution_id,
    expect_discovery,
    lambda_target,
    manifest,
    promoted_declaration,
    release_zip,
    sha,
    summary,
    tags,
)
from tests.cicd.docs import assert_documented_shape
from tests.cicd.test_sample_stacks import api_document
from tests.harness import iter_stacks, run_stacks

PROD = "web-prod-pipeline"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:web-prod-releases"
# NOW (tests/cicd/aws_fakes.py) is Thursday 2025-05-01 12:00 UTC, 14:00 in Berlin.
OPEN = "* * 9-15 ? * MON-FRI"
CLOSED = "* * 16-17 ? * MON-FRI"


@pytest.fixture
def bucket(world: MotoWorld) -> ReleaseBucket:
    return world.release_bucket()


def _prod(
    world: MotoWorld,
    *,
    window: str | None = None,
    approval: bool = True,
    topic: str | None = None,
    lambda_alarms: str | None = None,
) -> str:
    """Prod as the stacks make it, optionally with a Lambda target watching `lambda_alarms`
    and an approval that notifies `topic`."""
    options: dict[str, Any] = {"window": window, "approval": approval}
    if lambda_alarms is not None:
        target = lambda_target("web", "prod")
        target["configuration"]["Alarms"] = lambda_alarms
        options["targets"] = [target]
    declaration = promoted_declaration(
        "web", "prod", bucket=RELEASE_BUCKET, role_arn=world.role_arn, **options
    )
    if topic is not None:
        [approve] = [
            a
            for s in declaration["stages"]
            if s["name"] == "Approval"
            for a in s["actions"]
            if a["name"] == "Approve"
        ]
        approve["configuration"]["NotificationArn"] = topic
    world.codepipeline.create_pipeline(
        pipeline=declaration,
        tags=[{"key": k, "value": v} for k, v in tags("web", "prod", "staging").items()],
    )
    world.create_groups(declaration)
    expect_discovery(
        world.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    return PROD


def _releases(world: MotoWorld, bucket: ReleaseBucket) -> tuple[str, str]:
    """Prod runs release 1; staging published release 2 since."""
    live = bucket.publish(1)
    newest = bucket.publish(2, message="Faster search")
    world.record(PROD, version=live)
    return live, newest


def _preflight(cli: CliRunner, world: MotoWorld, *extra: str):
    return cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--preflight", *extra,
        clients=world.clients(),
    )  # fmt: skip


def _alarms(world: MotoWorld, *alarms: tuple[str, str], asked: list[str] | None = None) -> None:
    """DescribeAlarms for the alarms `asked` (default: those given) answers `alarms`."""
    world.stubs.stub("cloudwatch").add_response(
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": name, "StateValue": state, "StateReason": f"{name} is {state}"}
                for name, state in alarms
            ],
            "CompositeAlarms": [],
        },
        {
            "AlarmNames": asked if asked is not None else [name for name, _ in alarms],
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        },
    )


def _subscriptions(world: MotoWorld, *arns: str) -> None:
    world.stubs.stub("sns").add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {"SubscriptionArn": arn, "Protocol": "email", "TopicArn": TOPIC} for arn in arns
            ]
        },
        {"TopicArn": TOPIC},
    )


def _refusals(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("refuse: ")]


def test_a_clear_target_exits_0_lists_the_window_and_alarms_and_starts_nothing(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=OPEN, topic=TOPIC, lambda_alarms="web-prod-errors")
    _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "OK"))
    _subscriptions(world, f"{TOPIC}:0a1b2c3d")

    result = _preflight(cli, world)

    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        f"Preflight: promoting commit {sha(2)[:7]} to {PROD} (service web, stage prod) is clear."
    )
    assert lines[1] == f'  window: open now (cron "{OPEN}", Europe/Berlin)'
    assert lines[2] == "  alarms watched: web-prod-errors OK"
    assert _refusals(result.out) == []
    assert world.started == []


def test_a_closed_window_without_an_approval_blocks_and_says_when_it_opens(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=CLOSED, approval=False)
    _releases(world, bucket)

    result = _preflight(cli, world)

    assert result.code == 3
    assert _refusals(result.out) == [
        f'refuse: the deployment window of Deploy (cron "{CLOSED}", Europe/Berlin) is closed '
        "now; it opens 2025-05-01 16:00 Europe/Berlin, and the release would reach Deploy at "
        "once and fail at its entry"
    ]
    assert "  window: closed, opens 2025-05-01 16:00 Europe/Berlin (14:00 UTC;" in result.out


def test_a_closed_window_with_an_approval_is_a_warning_when_it_opens_before_the_timeout(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=CLOSED, topic=TOPIC)
    _releases(world, bucket)
    _subscriptions(world, f"{TOPIC}:0a1b2c3d")

    result = _preflight(cli, world)

    assert result.code == 0, result.out
    assert (
        'warn: the deployment window of Deploy (cron "* * 16-17 ? * MON-FRI", Europe/Berlin) '
        "is closed now; it opens 2025-05-01 16:00 Europe/Berlin: approve after that"
    ) in result.out


def test_a_window_that_opens_after_the_approval_times_out_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window="* 0 9 ? * MON 2026", topic=TOPIC)  # next January; AWS waits 7 days
    _releases(world, bucket)
    _subscriptions(world, f"{TOPIC}:0a1b2c3d")

    result = _preflight(cli, world)

    assert result.code == 3
    [refusal] = _refusals(result.out)
    assert refusal.endswith(
        "is closed now and opens 2026-01-05 09:00 Europe/Berlin, after the approval times out "
        "(10080 minutes from now)"
    )


def test_a_watched_alarm_in_alarm_blocks_with_its_reason(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors,web-prod-throttles")
    _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "ALARM"), ("web-prod-throttles", "OK"))

    result = _preflight(cli, world)

    assert result.code == 3
    assert _refusals(result.out) == [
        "refuse: alarm web-prod-errors is in ALARM now: web-prod-errors is ALARM; the deployment "
        "would stop and roll back at once"
    ]
    assert "  alarms watched: web-prod-errors ALARM, web-prod-throttles OK" in result.out


def test_a_watched_alarm_that_does_not_exist_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors")
    _releases(world, bucket)
    _alarms(world, asked=["web-prod-errors"])  # CloudWatch knows no such alarm

    result = _preflight(cli, world)

    assert result.code == 3
    assert _refusals(result.out) == [
        "refuse: alarm web-prod-errors does not exist, so watching it proves nothing"
    ]


def test_an_alarm_with_insufficient_data_is_a_warning_and_does_not_block(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors")
    _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "INSUFFICIENT_DATA"))

    result = _preflight(cli, world)

    assert result.code == 0, result.out
    assert (
        "warn: alarm web-prod-errors is in INSUFFICIENT_DATA now: web-prod-errors is "
        "INSUFFICIENT_DATA: it sees no data, so it cannot stop a bad release"
    ) in result.out.splitlines()


def test_a_deployment_running_in_the_codedeploy_group_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    _releases(world, bucket)
    running = world.codedeploy.create_deployment(
        applicationName="web-prod-app", deploymentGroupName="web-prod-web"
    )["deploymentId"]

    result = _preflight(cli, world)

    assert RUNNING_DEPLOYMENT_STATUSES == PREFLIGHT_STATUSES
    assert result.code == 3
    assert _refusals(result.out) == [
        f"refuse: a deployment is running in CodeDeploy web-prod-app/web-prod-web: {running}"
    ]


def test_an_execution_of_the_target_in_progress_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    live, _newest = _releases(world, bucket)
    waiting = world.record(PROD, version=live, status="InProgress", minutes_ago=5)

    result = _preflight(cli, world)

    assert result.code == 3
    assert _refusals(result.out) == [
        f"refuse: execution {waiting[:8]} of the target is in progress"
    ]


def test_a_release_topic_with_only_pending_subscriptions_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, topic=TOPIC)
    _releases(world, bucket)
    _subscriptions(world, "PendingConfirmation", "PendingConfirmation")

    result = _preflight(cli, world)

    assert result.code == 3
    assert _refusals(result.out) == [
        f"refuse: nobody is subscribed to the release topic {TOPIC} (2 still "
        "PendingConfirmation): nobody is told that an approval waits, and it times out"
    ]


def test_a_rejected_release_blocks_with_who_rejected_it(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    _live, newest = _releases(world, bucket)
    world.s3.put_object_tagging(
        Bucket=RELEASE_BUCKET,
        Key="releases/web/release.zip",
        VersionId=newest,
        Tagging={
            "TagSet": [
                {"Key": "cicd:rejected", "Value": "true"},
                {"Key": "cicd:rejected-reason", "Value": "breaks checkout"},
                {"Key": "cicd:rejected-by", "Value": "alice"},
                {"Key": "cicd:rejected-at", "Value": "2025-05-01T11:20:00Z"},
            ]
        },
    )

    result = _preflight(cli, world, "--commit", sha(2))

    assert result.code == 3
    [refusal] = _refusals(result.out)
    assert "rejected" in refusal and "breaks checkout" in refusal and "alice" in refusal
    assert world.started == []


def test_the_release_prod_already_runs_blocks(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    live, _newest = _releases(world, bucket)

    result = _preflight(cli, world, "--commit", sha(1))

    assert result.code == 3
    [refusal] = _refusals(result.out)
    assert refusal.startswith(f"refuse: {PROD} already runs release {live[:12]}")


def test_a_pipeline_changed_since_the_live_release_warns_that_rollback_is_unavailable(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world)
    _live, _newest = _releases(world, bucket)
    # A `pulumi up` that changes the pipeline makes a new structure version (moto: version 2).
    declaration = world.codepipeline.get_pipeline(name=PROD)["pipeline"]
    world.codepipeline.update_pipeline(pipeline=declaration)

    result = _preflight(cli, world)

    assert result.code == 0, result.out
    [warning] = [line for line in result.out.splitlines() if "rollback" in line]
    assert warning.startswith(
        "warn: stage rollback will not be available: the live release (execution "
    )
    assert "ran on version 1 of the pipeline, now at version 2" in warning
    assert (
        "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html" in warning
    )


def test_every_reason_is_listed_at_once_each_on_its_own_line(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=CLOSED, approval=False, lambda_alarms="web-prod-errors")
    live, _newest = _releases(world, bucket)
    world.record(PROD, version=live, status="InProgress", minutes_ago=5)
    _alarms(world, ("web-prod-errors", "ALARM"))

    result = _preflight(cli, world)

    assert result.code == 3
    refusals = _refusals(result.out)
    assert [r.split(" ")[1:3] for r in refusals] == [
        ["the", "deployment"],
        ["alarm", "web-prod-errors"],
        ["execution", refusals[2].split(" ")[2]],
    ]
    assert result.out.splitlines()[0].endswith("would fail (3 reasons).")


def test_preflight_json_has_the_documented_shape(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, window=CLOSED, approval=False, lambda_alarms="web-prod-errors")
    _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "ALARM"))

    result = _preflight(cli, world, "--json")

    assert result.code == 3
    document = json.loads(result.out)
    assert_documented_shape("promote --preflight", document)
    assert document["clear"] is False
    assert [(f["check"], f["blocking"]) for f in document["findings"]] == [
        ("window", True),
        ("alarms", True),
    ]
    assert document["window"] == {
        "cron": CLOSED,
        "timeZone": "Europe/Berlin",
        "open": False,
        "opens": "2025-05-01T16:00:00+02:00",
    }
    assert document["alarms"] == [{"name": "web-prod-errors", "state": "ALARM"}]
    assert document["commit"] == sha(2)
    assert document["release"]["commit"] == sha(2)


def test_promote_refuses_on_a_blocking_finding_with_every_reason_and_starts_nothing(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors")
    _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "ALARM"))

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert result.code == 3
    first, reason, hint = result.err.splitlines()
    assert first == f"cicd: promoting to {PROD} now would fail:"
    assert reason.startswith("  alarm web-prod-errors is in ALARM now")
    assert hint.startswith("hint: find out why it fires, and promote once it is OK")
    assert world.started == []


def test_promote_warns_about_what_does_not_block_and_starts_the_release(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors")
    _live, newest = _releases(world, bucket)
    _alarms(world, ("web-prod-errors", "INSUFFICIENT_DATA"))

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert result.err.startswith("cicd: warning: alarm web-prod-errors is in INSUFFICIENT_DATA")
    assert [s["sourceRevisions"][0]["revisionValue"] for s in world.started] == [newest]


def test_promote_with_skip_preflight_reads_none_of_it_and_starts(
    world: MotoWorld, cli: CliRunner, bucket: ReleaseBucket
) -> None:
    _prod(world, lambda_alarms="web-prod-errors")  # no DescribeAlarms expected: none is made
    _live, newest = _releases(world, bucket)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--skip-preflight",
        clients=world.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert [s["sourceRevisions"][0]["revisionValue"] for s in world.started] == [newest]


# ---------------------------------------------------------------------------------------------
# The example in docs/cicd.md, against prod as the sample stacks declare it.

DOC_COMMIT = "78b3ba12002f9cab5cbb57fac87d8c703702a196"


def _documented_example() -> tuple[list[str], list[str]]:
    section = docs.section("Promotion: prod deploys what staging proved")
    start = section.index("### Preflight")
    block = re.search(r"```console\n(.*?)```", section[start:], re.DOTALL)
    assert block is not None
    command, *output = block.group(1).splitlines()
    return shlex.split(command.removeprefix("$ "))[1:], output


def test_the_documented_preflight_runs_as_written_against_the_sample_prod(
    world: MotoWorld, cli: CliRunner
) -> None:
    runs = run_stacks(dict(iter_stacks()))
    [declared] = [
        p
        for p in runs["prod"].recorder.of_type("aws:codepipeline/pipeline:Pipeline")
        if p.inputs["name"] == PROD
    ]
    # The role's ARN is an output under mocks; GetPipeline's answer always has one.
    document = {**api_document(declared.inputs), "roleArn": "arn:aws:iam::111111111111:role/x"}
    layout = parse_layout(document)
    assert layout.promoted is not None and layout.release_topic is not None
    [group] = layout.codedeploy_targets
    bucket = ReleaseBucket(world.s3, layout.promoted.location.bucket)
    live = bucket.publish(1)
    bucket.publish(2, body=release_zip(manifest(2, commit=DOC_COMMIT, message="Faster search")))
    aws = StubbedAws({"s3": world.s3})
    expect_discovery(
        aws.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    aws.codepipeline.add_response(
        "get_pipeline",
        {"pipeline": document, "metadata": {"pipelineArn": f"arn:aws:codepipeline:::{PROD}"}},
        {"name": PROD},
    )
    # Staging's config is not compared here (its pipeline is not found): promote says so.
    expect_discovery(aws.tagging, stage="staging", service="web", found=[])
    expect_discovery(aws.tagging, stage="staging", service=None, found=[])
    aws.expect_history(PROD, [summary(8, version=live)], 100)
    aws.codepipeline.add_response(
        "get_pipeline_execution",
        execution(8, version=live),
        {"pipelineName": PROD, "pipelineExecutionId": execution_id(8)},
    )
    where = {"applicationName": group.application, "deploymentGroupName": group.deployment_group}
    aws.codedeploy.add_response(
        "get_deployment_group",
        {
            "deploymentGroupInfo": {
                **where,
                "alarmConfiguration": {
                    "enabled": True,
                    "alarms": [{"name": name} for name in layout.watched_alarms],
                },
            }
        },
        where,
    )
    aws.codedeploy.add_response(
        "list_deployments",
        {"deployments": []},
        {**where, "includeOnlyStatuses": PREFLIGHT_STATUSES},
    )
    states = {
        "web-prod-p99-latency": (
            "ALARM",
            "Threshold Crossed: 1 datapoint [2.4] was greater than the threshold (1.5).",
        ),
        "web-prod-alb-unhealthy-hosts": (
            "INSUFFICIENT_DATA",
            "Insufficient Data: 1 datapoint was unknown.",
        ),
    }
    aws.stub("cloudwatch").add_response(
        "describe_alarms",
        {
            "MetricAlarms": [
                {
                    "AlarmName": name,
                    "StateValue": states.get(name, ("OK", ""))[0],
                    "StateReason": states.get(name, ("OK", "Threshold not crossed"))[1],
                }
                for name in layout.watched_alarms
            ]
        },
        {
            "AlarmNames": list(layout.watched_alarms),
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        },
    )
    aws.stub("sns").add_response(
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email"}]},
        {"TopicArn": layout.release_topic},
    )
    argv, output = _documented_example()

    result = cli(*argv, clients=aws.clients())

    assert result.code == 3, result.err
    assert result.out.splitlines() == output
    aws.verify()
