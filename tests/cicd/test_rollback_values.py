"""`cicd rollback` marking the release it rolled back: the `cicd reject` it prints when it may
not, and what it says when the release is not a published version.

The moto bucket and stubs are test_quarantine.py's; PutObjectTagging is refused there with
`sample.refuse` (moto cannot deny).
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, execution_id, stage_state, summary
from tests.cicd.test_quarantine import (
    PROD,
    STAGING,
    WHERE,
    Sample,
    _prod_found,
    _rollback,
    _staging_found,
    sample,
)

__all__ = ["sample"]  # the fixture, used by name


def test_a_denied_mark_in_staging_prints_the_reject_of_staging_itself(
    sample: Sample, cli: CliRunner
) -> None:
    sample.bucket.publish(3)
    bad = sample.bucket.publish(5)
    sample.refuse("PutObjectTagging")
    _staging_found(sample.aws)
    sample.aws.expect_state(STAGING, stage_state("Deploy", 1005, "Succeeded"))
    sample.aws.expect_history(STAGING, [summary(1005, commit=5), summary(1003, commit=3)], 100)
    _rollback(sample.aws, STAGING, 1003)
    sample.caller()

    result = cli("rollback", "-s", "web", "-e", "staging", "--yes", clients=sample.aws.clients())

    assert result.code == 0, result.err
    assert result.err.splitlines()[-1] == (
        "cicd: mark it with the upstream's credentials: cicd reject --service web --stage "
        f"staging {bad} --reason 'rolled back in staging'"
    )


def test_a_denied_mark_of_a_pipeline_named_by_name_reads_its_upstream_from_its_tags(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(1)
    bad = sample.bucket.publish(2)
    sample.refuse("PutObjectTagging")
    sample.aws.expect_promoted_pipeline("web", "prod", targets=[])
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5, version=bad), summary(3, version=good)], 100)
    _rollback(sample.aws, PROD, 3)
    sample.caller()
    sample.aws.codepipeline.add_response(
        "list_tags_for_resource",
        {
            "tags": [
                {"key": "cicd:service", "value": "web"},
                {"key": "cicd:stage", "value": "prod"},
                {"key": "cicd:promotes-from", "value": "staging"},
            ]
        },
        {"resourceArn": f"arn:aws:codepipeline:eu-west-1:123456789012:{PROD}"},
    )

    result = cli("rollback", "--pipeline", PROD, "--yes", clients=sample.aws.clients())

    assert result.code == 0, result.err
    assert result.err.splitlines()[-1] == (
        "cicd: mark it with the upstream's credentials: cicd reject --service web --stage "
        f"staging {bad} --reason 'rolled back in {PROD}'"
    )


def test_a_promoted_release_without_an_object_version_is_not_marked_and_says_so(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(1)
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5), summary(3, version=good)], 100)
    _rollback(sample.aws, PROD, 3)

    result = cli(
        "rollback", "-s", "web", "-e", "prod", "--yes", "--json", clients=sample.aws.clients()
    )

    assert result.code == 0, result.err
    assert sample.writes == []
    document = json.loads(result.out)
    assert document["executionId"] == execution_id(99)
    assert document["rejected"] == {
        "location": WHERE,
        "versionId": None,
        "commit": None,
        "tagged": False,
        "problem": "not published",
        "command": None,
    }


def test_a_rollback_across_a_release_whose_manifest_is_unreadable_refuses_naming_why(
    sample: Sample, cli: CliRunner
) -> None:
    good = sample.bucket.publish(1)
    bad = sample.bucket.publish(2, body=b"not a zip")
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    sample.aws.expect_history(PROD, [summary(5, version=bad), summary(3, version=good)], 100)

    result = cli("rollback", "-s", "web", "-e", "prod", "--yes", clients=sample.aws.clients())

    assert result.code == 3
    assert result.err.splitlines() == [
        f"cicd: cannot tell whether rolling {PROD} back to {execution_id(3)[:8]} crosses a "
        f"release that contracted the database schema ({execution_id(5)[:8]}: its release "
        f"manifest: release manifest of {WHERE} version {bad}: not a zip archive (File is not "
        "a zip file))",
        "hint: grant the read named above and run it again, or pass --force if you know none did",
    ]
    assert sample.writes == []


def test_a_rollback_reads_no_manifest_of_a_failed_release_it_crosses(
    sample: Sample, cli: CliRunner
) -> None:
    # A release that failed never deployed, so it contracted nothing: its manifest is not read.
    good = sample.bucket.publish(1)
    bad = sample.bucket.publish(2)
    failed = sample.bucket.publish(3)
    _prod_found(sample.aws)
    sample.aws.expect_state(PROD, stage_state("Deploy", 5, "Succeeded"))
    history = [
        summary(6, status="Failed", version=failed),
        summary(5, version=bad),
        summary(3, version=good),
    ]
    sample.aws.expect_history(PROD, history, 100)
    _rollback(sample.aws, PROD, 3)
    sample.caller()

    result = cli("rollback", "-s", "web", "-e", "prod", "--yes", clients=sample.aws.clients())

    assert result.code == 0, result.err
    read = {get["VersionId"] for get in sample.bucket.gets}
    assert bad in read
    assert failed not in read
