"""`cicd reject RELEASE`'s words and JSON in the cases test_quarantine.py does not pin whole.

A release found without --stage (the lift command names no stage), a manifest without a message
or unreadable, a release already rejected (its earlier rejection in the JSON), and the usage error
of RELEASE with --commit. The moto bucket and stubs are test_quarantine.py's.
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import RELEASE_BUCKET, CliRunner, StubbedAws, expect_discovery, sha
from tests.cicd.test_quarantine import ALICE, PROD, STAGING, WHERE, Sample, _staging_found, sample

__all__ = ["sample"]  # the fixture, used by name


def test_reject_found_without_a_stage_says_to_lift_it_without_one(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2, message="Faster search")
    expect_discovery(
        sample.aws.tagging,
        stage=None,
        service="web",
        found=[(STAGING, "web", "staging"), (PROD, "web", "prod", "staging")],
    )
    sample.aws.expect_pipeline("web", "staging", targets=[], publish_to=RELEASE_BUCKET)
    sample.aws.expect_promoted_pipeline("web", "prod", targets=[])
    sample.caller()

    result = cli("reject", "--service", "web", bad, "--reason", "bad", clients=sample.aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"Lift it with `cicd unreject --service web {bad}`."


def test_reject_of_a_release_whose_manifest_has_no_message_names_only_the_commit(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2, message="  ")
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "-s", "web", "-e", "staging", bad, "--reason", "bad",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"Rejected release {bad[:12]} (commit {sha(2)[:7]}) at {WHERE}: `cicd promote` skips it "
        "and the promoted pipelines refuse it."
    )


def test_reject_json_of_an_unreadable_release_has_no_commit_and_says_why(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2, body=b"not a zip")
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "-s", "web", "-e", "staging", bad, "--reason", "bad", "--json",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["command"], document["service"]) == ("reject", "web")
    [release] = document["releases"]
    assert (release["versionId"], release["commit"], release["message"]) == (bad, None, None)
    assert release["manifestProblem"] == (
        f"release manifest of {WHERE} version {bad}: not a zip archive (File is not a zip file)"
    )
    assert release["previously"] is None


def test_reject_json_of_an_already_rejected_release_keeps_the_earlier_rejection(
    sample: Sample, cli: CliRunner
) -> None:
    bad = sample.bucket.publish(2)
    sample.reject(bad, reason="first look")
    _staging_found(sample.aws)
    sample.caller()

    result = cli(
        "reject", "-s", "web", "-e", "staging", bad, "--reason", "confirmed", "--json",
        clients=sample.aws.clients(),
    )  # fmt: skip

    assert result.code == 0, result.err
    [release] = json.loads(result.out)["releases"]
    assert release["previously"] == {
        "by": ALICE,
        "at": "2025-05-01T11:20:00+00:00",
        "reason": "first look",
    }


def test_reject_with_a_release_and_commit_says_to_name_the_commit_as_release(
    cli: CliRunner,
) -> None:
    result = cli(
        "reject", "-s", "web", "-e", "staging", "3HL4kqtJlcpX", "--commit", sha(1)[:7],
        "--reason", "bad", clients=StubbedAws().clients(),
    )  # fmt: skip

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "cicd: --commit checks the release waiting for approval; with RELEASE, name the commit "
        "as RELEASE instead"
    )


def test_unreject_without_a_service_or_stage_is_a_usage_error_that_says_what_to_pass(
    cli: CliRunner,
) -> None:
    result = cli("unreject", "3HL4kqtJlcpX", clients=StubbedAws().clients())

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "cicd: which service's release? pass --service (or set CICD_SERVICE), and --stage to say "
        "whose release location"
    )


def test_reject_of_a_release_of_a_service_that_publishes_none_is_refused(
    aws: StubbedAws, cli: CliRunner
) -> None:
    dev = "web-dev-pipeline"
    expect_discovery(aws.tagging, stage=None, service="web", found=[(dev, "web", "dev")])
    aws.expect_pipeline("web", "dev", targets=[])

    result = cli(
        "reject", "--service", "web", "3HL4kqtJlcpX", "--reason", "bad", clients=aws.clients()
    )

    assert result.code == 3
    assert result.err.splitlines() == [
        f"cicd: {dev} neither publishes releases nor deploys published ones: no release there "
        "can be rejected",
        "hint: pass --stage of the stage that publishes the release (staging in the samples)",
    ]
