"""`cicd promote` to a pipeline that builds from GitHub, from one that deploys published releases.

The upstream's executions name object versions, not commits: promote reads each successful one's
manifest for its commit, starts the target at that commit, and its JSON names the command and
that nothing rejected was skipped (rejections are of published releases, which the target does
not deploy). moto holds both pipelines and staging's release bucket.
"""

from __future__ import annotations

import json

from tests.cicd.aws_fakes import CliRunner, MotoWorld, StubbedAws, sha


def test_promote_from_a_promoted_pipeline_rebuilds_the_commit_its_manifest_names(
    world: MotoWorld, cli: CliRunner
) -> None:
    bucket = world.release_bucket()
    prod = world.create_promoted_pipeline("web", "prod")
    dr = world.create_pipeline("web", "dr")
    world.record(prod, version=bucket.publish(3, message="Faster search"), minutes_ago=30)

    result = cli(
        "promote", "--from-pipeline", prod, "--to-pipeline", dr, "--json", clients=world.clients()
    )

    assert result.code == 0, result.err
    assert world.started == [
        {
            "name": dr,
            "sourceRevisions": [
                {"actionName": "GitHub", "revisionType": "COMMIT_ID", "revisionValue": sha(3)}
            ],
        }
    ]
    document = json.loads(result.out)
    assert (document["command"], document["commit"], document["message"]) == (
        "promote",
        sha(3),
        "Faster search",
    )
    assert (document["promotedFrom"], document["rebuilds"], document["skippedRejected"]) == (
        prod,
        True,
        [],
    )


def test_promote_without_a_target_is_a_usage_error_naming_both_ways_to_give_one(
    cli: CliRunner,
) -> None:
    result = cli("promote", "--from", "staging", clients=StubbedAws().clients())

    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "cicd: promote to where? pass --to dev|staging|prod, or --to-pipeline NAME"
    )
