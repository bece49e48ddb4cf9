"""`cicd logs --tail`: when it keeps reading a stream and when it stops.

A running action's stream is read again even when a round brought no line (a build can be quiet
for a while), and a finished action's stream is read again while lines still arrive (CloudWatch
Logs delivers after the action ends); it stops at the first round of a finished action that
brings nothing. The stubs are test_info_logs_open.py's (the Build action of web staging).
"""

from __future__ import annotations

from typing import Any

from tests.cicd.aws_fakes import CliRunner, StubbedAws, execution_id
from tests.cicd.test_info_logs_open import ACTIONS, BUILD_ID, STAGING, _actions, _builds, _staging

REQUEST = {
    "pipelineName": STAGING,
    "filter": {"pipelineExecutionId": execution_id(9)},
    "maxResults": 100,
}
STREAM = {"logGroupName": "g", "logStreamName": "s"}
RUNNING = [*ACTIONS[:1], {**ACTIONS[1], "status": "InProgress"}]


def _round(aws: StubbedAws, actions: list[dict[str, Any]], lines: list[str], token: int) -> None:
    """One --tail round: the actions as they are, then the stream's events since `token`."""
    aws.codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": actions}, REQUEST
    )
    aws.logs.add_response(
        "get_log_events",
        {
            "events": [{"timestamp": 10 + n, "message": m} for n, m in enumerate(lines)],
            "nextForwardToken": f"t{token + (1 if lines else 0)}",
        },
        {**STREAM, "startFromHead": True, "nextToken": f"t{token}"},
    )


def test_tail_reads_a_quiet_running_build_again_and_a_finished_one_until_lines_stop(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws, status="InProgress")
    aws.codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": RUNNING}, REQUEST
    )
    aws.codebuild.add_response(
        "batch_get_builds",
        {"builds": [{"id": BUILD_ID, "logs": {"groupName": "g", "streamName": "s"}}]},
        {"ids": [BUILD_ID]},
    )
    aws.logs.add_response(
        "get_log_events",
        {"events": [{"timestamp": 1, "message": "compiling"}], "nextForwardToken": "t1"},
        {**STREAM, "startFromHead": False, "limit": 200},
    )
    _round(aws, RUNNING, [], 1)  # running and quiet: read again
    _round(aws, RUNNING, ["linking"], 1)
    _round(aws, ACTIONS[:2], ["uploading"], 2)  # finished, but lines still arrive: read again
    _round(aws, ACTIONS[:2], [], 3)  # finished and quiet: stop

    result = cli(
        "logs", "-s", "web", "-e", "staging", "--action", "Build", "--tail", "--interval", "3",
        clients=aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        "[Build] compiling",
        "[Build] linking",
        "[Build] uploading",
    ]
    assert cli.sleeps == [3.0, 3.0, 3.0, 3.0]


def test_logs_of_an_action_whose_log_cannot_be_read_say_why_under_its_name_and_go_on(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _staging(aws)
    _actions(aws)
    _builds(aws)
    aws.logs.add_client_error("get_log_events", service_error_code="AccessDeniedException")
    for group, name, message in (
        ("/aws/codepipeline/web-staging-pipeline", "Package/0a1b2c3d", "wrote manifest"),
        ("/aws/codebuild/web-staging-unit", "u1", "2 failed"),
    ):
        aws.logs.add_response(
            "get_log_events",
            {"events": [{"timestamp": 1746097200000, "message": message}], "nextForwardToken": "f"},
            {"logGroupName": group, "logStreamName": name, "startFromHead": False, "limit": 50},
        )

    result = cli("logs", "-s", "web", "-e", "staging", "--lines", "50", clients=aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[2].startswith("[Build] ") and "logs:GetLogEvents" in lines[2], lines
    assert lines[3:] == ["[Package] wrote manifest", "[unit] 2 failed"]
