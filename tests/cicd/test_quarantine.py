"""Rejected (quarantined) releases: `cicd reject RELEASE`, `cicd unreject`, and what `promote`,
`status` and `rollback` do with them.

Staging's release bucket is moto's S3 (versioned, real zips and manifests, version tagging);
CodePipeline, tag discovery and STS are stubbed. Every PutObjectTagging the CLI sends is
recorded, so the tests see the exact tag sets and version ids written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from moto import mock_aws

from cicd.decide.quarantine import (
    check_tag_value,
    merge_rejection,
    resolve_releases,
    tag_safe,
)
from cicd.errors import NotFound, Refused, UsageError
from cicd.model.pipeline import ReleaseLocation
from cicd.model.release import Manifest, PublishedVersion
from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    CliRunner,
    ReleaseBucket,
    StubbedAws,
    execution_id,
    expect_discovery,
    release_key,
    session,
    sha,
    stage_state,
    summary,
)
from tests.cicd.docs import assert_documented_shape

PROD = "web-prod-pipeline"
STAGING = "web-staging-pipeline"
WHERE = f"s3://{RELEASE_BUCKET}/releases/web/release.zip"
ALICE = "arn:aws:sts::123456789012:assumed-role/release-managers/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/release-managers/bob,ops"  # ',' is no tag char


@dataclass
class Sample:
    aws: StubbedAws
    bucket: ReleaseBucket
    s3: BaseClient
    writes: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def tags(self, version: str) -> list[dict[str, str]]:
        return self.s3.get_object_tagging(
            Bucket=RELEASE_BUCKET, Key=release_key("web"), VersionId=version
        )["TagSet"]

    def tag(self, version: str, tags: dict[str, str]) -> None:
        """Set a version's tags as the test's setup (not recorded as the CLI's writes)."""
        written = len(self.writes)
        self.s3.put_object_tagging(
            Bucket=RELEASE_BUCKET,
            Key=release_key("web"),
            VersionId=version,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        )
        del self.writes[written:]

    def reject(self, version: str, reason: str = "breaks checkout", by: str = ALICE) -> None:
        self.tag(
            version,
            {
                "cicd:rejected": "true",
                "cicd:rejected-reason": reason,
                "cicd:rejected-by": by,
                "cicd:rejected-at": "2025-05-01T11:20:00Z",
            },
        )

    def caller(self, arn: str = ALICE) -> None:
        self.aws.stub("sts").add_response("get_caller_identity", {"Arn": arn})

    def refuse(self, operation: str, code: str = "AccessDenied") -> None:
        """Make every `operation` call answer `code` (moto cannot deny)."""

        def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            response = AWSResponse("https://s3.example", 403, {}, None)
            return response, {"Error": {"Code": code, "Message": "Access Denied"}}

        self.s3.meta.events.register(f"before-call.s3.{operation}", deny)


@pytest.fixture
def sample() -> Iterator[Sample]:
    with mock_aws():
        s3 = session().client("s3")
        found = Sample(StubbedAws({"s3": s3}), ReleaseBucket(s3), s3)

        def record(params: dict[str, Any], **_: Any) -> None:
            found.writes.append(
                {"VersionId": params.get("VersionId"), "TagSet": params["Tagging"]["TagSet"]}
            )

        s3.meta.events.register("before-parameter-build.s3.PutObjectTagging", record)
        yield found
        found.aws.verify()


def _staging_found(aws: StubbedAws) -> None:
    """`--service web --stage staging`: staging's pipeline, which publishes to the bucket."""
    expect_discovery(
        aws.tagging, stage="staging", service="web", found=[(STAGING, "web", "staging")]
    )
    aws.expect_pipeline("web", "staging", targets=[], publish_to=RELEASE_BUCKET)


REJECTED_AT = "2025-05-01T12:00:00Z"


def _marks(reason: str, by: str = ALICE) -> list[dict[str, str]]:
    return [
        {"Key": "cicd:rejected", "Value": "true"},
        {"Key": "cicd:rejected-reason", "Value": reason},
        {"Key": "cicd:rejected-by", "Value": by},
        {"Key": "cicd:rejected-at", "Value": REJECTED_AT},
    ]


# ---------------------------------------------------------------------------------------------
# reject RELEASE


def test_reject_of_a_version_prefix_merges_the_rejection_into_that_versions_tags(
    sample: Sample, cli: CliRunner
) -> None:
    older = sample.bucket.publish(1)
    bad = sample.bucket.publish(2, message="Faster search")
    sample.tag(bad, {"team": "web", "cost-centre": "42"})
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "--service", "web", "--stage", "staging", bad[:10],
        "--reason", "breaks checkout on Safari", clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    expected = [
        {"Key": "team", "Value": "web"},
        {"Key": "cost-centre", "Value": "42"},
        *_marks("breaks checkout on Safari"),
    ]
    assert sample.writes == [{"VersionId": bad, "TagSet": expected}]
    assert sample.tags(bad) == expected
    assert sample.tags(older) == []
    assert result.out.splitlines() == [
        f'Rejected release {bad[:12]} (commit {sha(2)[:7]} "Faster search") at {WHERE}: '
        "`cicd promote` skips it and the promoted pipelines refuse it.",
        f"Lift it with `cicd unreject --service web --stage staging {bad[:10]}`.",
    ]


def test_reject_of_a_commit_marks_every_published_version_of_it_and_prints_the_documented_json(
    sample: Sample, cli: CliRunner
) -> None:
    first = sample.bucket.publish(2)
    other = sample.bucket.publish(3)
    again = sample.bucket.publish(2)
    _staging_found(sample.aws)
    sample.caller(BOB)

    result = cli(
        "reject", "-s", "web", "-e", "staging", sha(2)[:7], "--reason", "data loss",
        "--json", clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    by = "arn:aws:sts::123456789012:assumed-role/release-managers/bob_ops"
    assert sample.writes == [
        {"VersionId": again, "TagSet": _marks("data loss", by)},
        {"VersionId": first, "TagSet": _marks("data loss", by)},
    ]
    assert sample.tags(other) == []
    document = json.loads(result.out)
    assert_documented_shape("reject RELEASE", document)
    assert document["rejection"] == {
        "by": by,
        "at": "2025-05-01T12:00:00+00:00",
        "reason": "data loss",
    }
    assert [r["versionId"] for r in document["releases"]] == [again, first]


def test_reject_without_a_stage_finds_the_location_from_every_pipeline_of_the_service(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2)
    expect_discovery(
        sample.aws.tagging,
        stage=None,
        service="web",
        found=[
            ("web-dev-pipeline", "web", "dev"),
            (STAGING, "web", "staging"),
            (PROD, "web", "prod", "staging"),
        ],
    )
    sample.aws.expect_pipeline("web", "dev", targets=[])
    sample.aws.expect_pipeline("web", "staging", targets=[], publish_to=RELEASE_BUCKET)
    sample.aws.expect_promoted_pipeline("web", "prod", targets=[])
    sample.caller()

    result = cli("reject", "--service", "web", bad, "--reason", "bad", clients=sample.aws.clients())

    assert result.code == 0, result.err
    # staging publishes to, and prod deploys from, the same location: it is tagged once.
    assert sample.writes == [{"VersionId": bad, "TagSet": _marks("bad")}]


def test_reject_of_an_already_rejected_release_replaces_the_rejection_and_says_so(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2)
    sample.reject(bad, reason="first look")
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "-s", "web", "-e", "staging", bad, "--reason", "confirmed",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert sample.tags(bad) == _marks("confirmed")
    assert (
        f'(it was already rejected by {ALICE} at 2025-05-01 11:20:00 UTC: "first look")'
        in result.out
    )


def test_reject_refuses_when_the_merged_tags_would_exceed_ten_and_writes_nothing(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2)
    sample.tag(bad, {f"team-{n}": "x" for n in range(7)})
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "-s", "web", "-e", "staging", bad, "--reason", "bad",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 3
    assert result.err.splitlines()[0] == (
        f"cicd: release {bad[:12]} at {WHERE} carries 7 other tags; with the 4 that mark it "
        "rejected it would have 11, and S3 allows 10 per object version"
    )
    assert result.err.splitlines()[1] == (
        "hint: remove tags it no longer needs (aws s3api put-object-tagging --version-id ...), "
        "then reject it again"
    )
    assert sample.writes == []


@pytest.mark.parametrize(
    ("reason", "refused"),
    [("breaks, checkout!", "'!' ','"), ('say "no"', "'\"'"), ("a\tb", "'\\t'")],
)
def test_reject_refuses_a_reason_s3_would_not_take_as_a_tag_value_before_any_call(
    cli: CliRunner, reason: str, refused: str
) -> None:
    result = cli(
        "reject", "-s", "web", "-e", "staging", "3HL4kqtJlcpX", "--reason", reason,
        clients=StubbedAws().clients(),
    )  # fmt: skip

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        f"cicd: --reason contains characters S3 does not accept in a tag value: {refused}"
    )


def test_reject_with_a_release_and_commit_is_a_usage_error(cli: CliRunner) -> None:
    result = cli(
        "reject", "-s", "web", "-e", "staging", "3HL4kqtJlcpX", "--commit", sha(1)[:7],
        "--reason", "bad", clients=StubbedAws().clients(),
    )  # fmt: skip

    assert result.code == 2
    assert result.err.startswith("cicd: --commit checks the release waiting for approval")


def test_reject_of_a_release_that_was_never_published_is_not_found(
    sample: Sample, cli: CliRunner
) -> None:
    sample.bucket.publish(1)
    _staging_found(sample.aws)

    result = cli(
        "reject", "-s", "web", "-e", "staging", sha(9)[:8], "--reason", "bad",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 5
    assert result.err.splitlines()[0] == (
        f"cicd: no published release at {WHERE} was built from commit {sha(9)[:8]} (among the 1 "
        f"newest) and no version id starts with {sha(9)[:8]}"
    )


# ---------------------------------------------------------------------------------------------
# unreject


def test_unreject_removes_only_the_rejection_tags(sample: Sample, cli: CliRunner) -> None:
    bad = sample.bucket.publish(2)
    sample.tag(bad, {"team": "web", **{t["Key"]: t["Value"] for t in _marks("bad")}})
    _staging_found(sample.aws)

    result = cli(
        "unreject", "-s", "web", "-e", "staging", bad, "--json", clients=sample.aws.clients()
    )

    assert result.code == 0, result.err
    assert sample.writes[-1] == {"VersionId": bad, "TagSet": [{"Key": "team", "Value": "web"}]}
    document = json.loads(result.out)
    assert_documented_shape("unreject", document)
    assert document["releases"][0]["rejection"] == {
        "by": ALICE,
        "at": "2025-05-01T12:00:00+00:00",
        "reason": "bad",
    }


def test_unreject_of_a_release_that_is_not_rejected_refuses(sample: Sample, cli: CliRunner) -> None:
    good = sample.bucket.publish(2, message="Fine")
    _staging_found(sample.aws)

    result = cli("unreject", "-s", "web", "-e", "staging", good, clients=sample.aws.clients())

    assert result.code == 3
    assert result.err == (
        f'cicd: release {good[:12]} (commit {sha(2)[:7]} "Fine") is not rejected: nothing to lift\n'
    )
    assert sample.writes == []


# ---------------------------------------------------------------------------------------------
# promote


def _prod_found(aws: StubbedAws) -> None:
    expect_discovery(
        aws.tagging, stage="prod", service="web", found=[(PROD, "web", "prod", "staging")]
    )
    aws.expect_promoted_pipeline("web", "prod", targets=[])


def _expect_start(aws: StubbedAws, version: str) -> None:
    aws.codepipeline.add_response(
        "start_pipeline_execution",
        {"pipelineExecutionId": execution_id(50)},
        {
            "name": PROD,
            "sourceRevisions": [
                {
                    "actionName": "Release",
                    "revisionType": "S3_OBJECT_VERSION_ID",
                    "revisionValue": version,
                }
            ],
        },
    )


def test_promote_skips_the_rejected_newest_release_says_which_and_promotes_the_next(
    sample: Sample, cli: CliRunner
) -> None:
    live = sample.bucket.publish(1)
    good = sample.bucket.publish(2, message="Add basket")
    bad = sample.bucket.publish(3, message="Faster search")
    sample.reject(bad, reason="breaks checkout")
    _prod_found(sample.aws)
    sample.aws.expect_history(PROD, [summary(10, version=live)], 100)
    _expect_start(sample.aws, good)

    result = cli(
        "promote", "--service", "web", "--from", "staging", "--to", "prod",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        f'Skipping release {bad[:12]} (commit {sha(3)[:7]} "Faster search"): rejected by '
        f'{ALICE} at 2025-05-01 11:20:00 UTC: "breaks checkout".'
    )
    assert lines[1] == (
        f'Promoting release {good[:12]} (commit {sha(2)[:7]} "Add basket") from staging to prod.'
    )


def test_promote_json_lists_the_rejected_releases_it_skipped(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(2)
    bad = sample.bucket.publish(3)
    sample.reject(bad)
    _prod_found(sample.aws)
    sample.aws.expect_history(PROD, [], 100)
    _expect_start(sample.aws, good)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--json",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert_documented_shape("promote", document)
    assert document["skippedRejected"] == [
        {
            "versionId": bad,
            "commit": sha(3),
            "rejection": {
                "by": ALICE,
                "at": "2025-05-01T11:20:00+00:00",
                "reason": "breaks checkout",
            },
        }
    ]
    assert document["versionId"] == good


def test_promote_of_a_rejected_commit_refuses_naming_who_when_and_why(
    sample: Sample, cli: CliRunner
) -> None:
    sample.bucket.publish(2)
    bad = sample.bucket.publish(3, message="Faster search")
    sample.reject(bad, reason="breaks checkout")
    _prod_found(sample.aws)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", "--commit", sha(3)[:7],
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 3
    assert result.err.splitlines() == [
        f'cicd: release {bad[:12]} (commit {sha(3)[:7]} "Faster search") at {WHERE} is '
        f'rejected by {ALICE} at 2025-05-01 11:20:00 UTC: "breaks checkout"',
        "hint: promote another commit, or if it was rejected by mistake: `cicd unreject "
        f"--service web --stage staging {bad}`",
    ]


def test_promote_refuses_when_every_published_release_is_rejected(
    sample: Sample, cli: CliRunner
) -> None:
    for n in (1, 2):
        sample.reject(sample.bucket.publish(n))
    _prod_found(sample.aws)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", clients=sample.aws.clients()
    )

    assert result.code == 3
    assert result.err.splitlines()[0] == (
        f"cicd: nothing to promote: every one of the 2 newest releases staging published to "
        f"{WHERE} is rejected"
    )


def test_promote_that_may_not_read_tags_warns_and_promotes_the_newest(
    sample: Sample, cli: CliRunner
) -> None:
    newest = sample.bucket.publish(2)
    sample.refuse("GetObjectTagging")
    _prod_found(sample.aws)
    sample.aws.expect_history(PROD, [], 100)
    _expect_start(sample.aws, newest)

    result = cli(
        "promote", "-s", "web", "--from", "staging", "--to", "prod", clients=sample.aws.clients()
    )

    assert result.code == 0, result.err
    assert result.err == (
        "cicd: cannot tell whether releases are rejected (unknown (needs "
        f"s3:GetObjectVersionTagging)); {PROD}'s own checks still refuse a rejected release\n"
    )


# ---------------------------------------------------------------------------------------------
# status


def _prod_status(aws: StubbedAws, live: str) -> None:
    aws.expect_promoted_pipeline("web", "prod", targets=[])
    aws.expect_state(PROD, stage_state("Deploy", 10, "Succeeded"))
    aws.expect_history(PROD, [summary(10, version=live)], 25)
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "cicd:promotes-from", "value": "staging"}]},
        {"resourceArn": f"arn:aws:codepipeline:eu-west-1:123456789012:{PROD}"},
    )


def test_status_offers_the_newest_release_that_is_not_rejected_and_lists_the_passed_over(
    sample: Sample, cli: CliRunner
) -> None:
    live = sample.bucket.publish(1)
    good = sample.bucket.publish(2, message="Add basket")
    bad = sample.bucket.publish(3, message="Faster search")
    sample.reject(bad)
    _prod_status(sample.aws, live)

    result = cli("status", "--pipeline", PROD, clients=sample.aws.clients())

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Waiting to be promoted"))
    assert lines[start].startswith(
        f'Waiting to be promoted: release {good[:12]} (commit {sha(2)[:7]} "Add basket")'
    )
    assert lines[start + 2] == (
        f'  passed over: release {bad[:12]} (commit {sha(3)[:7]} "Faster search") is rejected '
        f'by {ALICE} at 2025-05-01 11:20:00 UTC: "breaks checkout"'
    )


def test_status_offers_nothing_when_every_newer_release_is_rejected(
    sample: Sample, cli: CliRunner
) -> None:
    live = sample.bucket.publish(1)
    bad = sample.bucket.publish(3)
    sample.reject(bad)
    _prod_status(sample.aws, live)

    result = cli("status", "--pipeline", PROD, "--json", clients=sample.aws.clients())

    assert result.code == 0, result.err
    waiting = json.loads(result.out)["pipelines"][0]["waiting"]
    assert (waiting["release"], waiting["command"]) == (None, None)
    assert [r["versionId"] for r in waiting["rejected"]] == [bad]


def test_status_table_marks_nothing_waiting_when_the_newer_release_is_rejected(
    sample: Sample, cli: CliRunner
) -> None:
    live = sample.bucket.publish(1)
    sample.reject(sample.bucket.publish(3))
    expect_discovery(
        sample.aws.tagging, stage="prod", service=None, found=[(PROD, "web", "prod", "staging")]
    )
    sample.aws.expect_promoted_pipeline("web", "prod", targets=[])
    sample.aws.expect_state(PROD, stage_state("Deploy", 10, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(10, version=live)], 25)

    result = cli("status", "--stage", "prod", clients=sample.aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split() == ["web", sha(1)[:7], "Succeeded"]
    assert "waits to be promoted" not in result.out


# ---------------------------------------------------------------------------------------------
# rollback marks the release it rolled back


def _rollback(aws: StubbedAws, pipeline: str, to: int) -> None:
    aws.codepipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(99)},
        {
            "pipelineName": pipeline,
            "stageName": "Deploy",
            "targetPipelineExecutionId": execution_id(to),
        },
    )


def test_rollback_of_prod_marks_the_release_it_rolled_back_rejected(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(1, message="Good one")
    bad = sample.bucket.publish(2, message="Break checkout")
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5, version=bad), summary(3, version=good)], 100)
    _rollback(sample.aws, PROD, 3)
    sample.caller()

    result = cli(
        "rollback", "-s", "web", "-e", "prod", "--yes", "--json", clients=sample.aws.clients()
    )

    assert result.code == 0, result.err
    assert sample.writes == [{"VersionId": bad, "TagSet": _marks("rolled back in prod")}]
    assert sample.tags(good) == []
    rejected = json.loads(result.out)["rejected"]
    assert rejected == {
        "location": WHERE,
        "versionId": bad,
        "commit": sha(2),
        "tagged": True,
        "problem": None,
        "command": None,
    }


def test_rollback_with_keep_release_marks_nothing(sample: Sample, cli: CliRunner) -> None:
    good = sample.bucket.publish(1, message="Good one")
    bad = sample.bucket.publish(2, message="Fine, but the database is down")
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5, version=bad), summary(3, version=good)], 100)
    _rollback(sample.aws, PROD, 3)

    result = cli(
        "rollback", "-s", "web", "-e", "prod", "--yes", "--keep-release", "--json",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert sample.writes == []
    assert json.loads(result.out)["rejected"]["problem"] == "kept: --keep-release"


def test_rolling_back_a_config_release_leaves_its_code_release_unmarked() -> None:
    from types import SimpleNamespace
    from typing import cast

    from cicd.cli.rollback import mark_rolled_back
    from cicd.model.release import Release

    said: list[str] = []
    location = ReleaseLocation(RELEASE_BUCKET, "releases/web/release.zip")
    layout = SimpleNamespace(promoted=SimpleNamespace(location=location), publishes_to=None)
    ctx = SimpleNamespace(say=said.append)
    config_release = Release(execution_id(6), "Succeeded", commit=sha(3), kind="config")

    marked = mark_rolled_back(
        cast(Any, ctx), cast(Any, None), cast(Any, layout), config_release, "rolled back"
    )

    assert marked is not None and marked["tagged"] is False
    assert marked["problem"] == "a config release"
    assert said == [
        f"Not marked rejected: commit {sha(3)[:7]} was a config release; its code was not the "
        "change."
    ]


def test_rollback_of_staging_marks_the_version_its_rolled_back_execution_published(
    sample: Sample, cli: CliRunner
) -> None:
    # Staging's execution 1000 + n built commit n and published it (the manifest says so).
    good = sample.bucket.publish(3, message="Good one")
    bad = sample.bucket.publish(5, message="Break checkout")
    _staging_found(sample.aws)
    sample.aws.expect_state(STAGING, stage_state("Deploy", 1005, "Succeeded"))
    sample.aws.expect_history(STAGING, [summary(1005, commit=5), summary(1003, commit=3)], 100)
    _rollback(sample.aws, STAGING, 1003)
    sample.caller()

    result = cli(
        "rollback", "-s", "web", "-e", "staging", "--yes", "--reason", "INC-4711 checkout",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert sample.writes == [{"VersionId": bad, "TagSet": _marks("INC-4711 checkout")}]
    assert sample.tags(good) == []
    assert result.out.splitlines()[-2] == (
        f'Marked release {bad[:12]} (commit {sha(5)[:7]} "Change 5") at {WHERE} rejected: '
        "`cicd promote` skips it (`cicd unreject` lifts it)."
    )


def test_rollback_whose_mark_is_denied_still_rolled_back_and_prints_the_reject_to_run(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(1)
    bad = sample.bucket.publish(2)
    sample.refuse("PutObjectTagging")
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5, version=bad), summary(3, version=good)], 100)
    _rollback(sample.aws, PROD, 3)
    sample.caller()

    result = cli(
        "rollback", "-s", "web", "-e", "prod", "--yes", "--json", clients=sample.aws.clients()
    )

    assert result.code == 0, result.err
    command = f"cicd reject --service web --stage staging {bad} --reason 'rolled back in prod'"
    assert result.err.splitlines() == [
        f'cicd: the rollback started, but commit {sha(2)[:7]} "Change 2" was not marked '
        "rejected: access denied: your AWS identity lacks s3:PutObjectVersionTagging (AWS "
        "said: Access Denied)",
        f"cicd: mark it with the upstream's credentials: {command}",
    ]
    document = json.loads(result.out)
    assert document["executionId"] == execution_id(99)
    assert (document["rejected"]["tagged"], document["rejected"]["command"]) == (False, command)


def test_rollback_with_a_reason_s3_would_refuse_is_a_usage_error_before_any_call(
    cli: CliRunner,
) -> None:
    result = cli(
        "rollback", "-s", "web", "-e", "prod", "--yes", "--reason", "oops!",
        clients=StubbedAws().clients(),
    )  # fmt: skip

    assert result.code == 2
    assert result.err.startswith(
        "cicd: --reason contains characters S3 does not accept in a tag value: '!'"
    )


# ---------------------------------------------------------------------------------------------
# The decisions, directly.

LOCATION = ReleaseLocation(RELEASE_BUCKET, release_key("web"))


def _manifest(n: int) -> Manifest:
    return Manifest(commit=sha(n), message=f"Change {n}", repository="acme/web", service="web")


def test_a_version_prefix_shared_by_two_versions_is_ambiguous() -> None:
    versions = [PublishedVersion("abcdefgh111"), PublishedVersion("abcdefgh222")]

    with pytest.raises(UsageError, match="RELEASE abcdefgh is ambiguous: 2 versions"):
        resolve_releases("abcdefgh", versions, lambda v: _manifest(1), LOCATION, warn=print)


def test_a_release_shorter_than_seven_characters_is_refused() -> None:
    with pytest.raises(UsageError, match="is too short"):
        resolve_releases(
            "abc12", [PublishedVersion("abc123456")], lambda v: _manifest(1), LOCATION, warn=print
        )


def test_an_exact_version_id_wins_over_longer_ones_it_prefixes() -> None:
    versions = [PublishedVersion("abcdefgh1"), PublishedVersion("abcdefgh")]

    found = resolve_releases("abcdefgh", versions, lambda v: _manifest(1), LOCATION, warn=print)

    assert [c.version.version_id for c in found] == ["abcdefgh"]


def test_a_sha_search_skips_unreadable_manifests_and_says_so() -> None:
    versions = [PublishedVersion("v-broken"), PublishedVersion("v-two")]
    said: list[str] = []
    manifests: dict[str, Manifest | str] = {"v-broken": "not a zip archive", "v-two": _manifest(2)}

    found = resolve_releases(
        sha(2)[:9], versions, manifests.__getitem__, LOCATION, warn=said.append
    )

    assert [c.version.version_id for c in found] == ["v-two"]
    assert said == ["skipping version v-broken: not a zip archive"]


def test_a_name_that_is_neither_a_version_nor_a_sha_is_not_found() -> None:
    with pytest.raises(NotFound, match="has a version id starting with Zz9Yy8Xx"):
        resolve_releases(
            "Zz9Yy8Xx", [PublishedVersion("abc")], lambda v: _manifest(1), LOCATION, warn=print
        )


def test_tag_values_take_letters_of_any_script_digits_spaces_and_the_allowed_punctuation() -> None:
    assert check_tag_value("Läuft nicht: 500er in /checkout @ 10:00 +2 = 12_3.") is not None
    with pytest.raises(UsageError, match="at most 256"):
        check_tag_value("x" * 257)


def test_the_caller_is_made_a_valid_tag_value_and_cut_to_256() -> None:
    assert tag_safe("arn:aws:sts::1:assumed-role/r/a,b#c") == "arn:aws:sts::1:assumed-role/r/a_b_c"
    assert len(tag_safe("a" * 300)) == 256


def test_merging_keeps_other_tags_in_order_and_replaces_an_earlier_rejection() -> None:
    existing = [
        {"Key": "team", "Value": "web"},
        {"Key": "cicd:rejected-reason", "Value": "old"},
        {"Key": "cicd:rejected", "Value": "true"},
    ]
    marks = {"cicd:rejected": "true", "cicd:rejected-reason": "new"}

    assert merge_rejection(existing, marks, "release x") == [
        {"Key": "team", "Value": "web"},
        {"Key": "cicd:rejected", "Value": "true"},
        {"Key": "cicd:rejected-reason", "Value": "new"},
    ]
    with pytest.raises(Refused, match="carries 9 other tags"):
        merge_rejection([{"Key": f"k{n}", "Value": "v"} for n in range(9)], marks, "release x")


def test_the_rejection_time_is_written_in_utc_with_a_z() -> None:
    from cicd.decide.quarantine import tag_time

    assert tag_time(datetime(2026, 12, 3, 11, 0, tzinfo=UTC)) == "2026-12-03T11:00:00Z"
