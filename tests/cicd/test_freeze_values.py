"""`cicd freeze` / `unfreeze` naming who froze Deploy only when AWS says who did.

GetPipelineState's `lastChangedBy` may be absent or empty; then the line names nobody (rather
than "by None"). The stubs are test_freeze.py's.
"""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner, StubbedAws
from tests.cicd.test_freeze import PROD, _enable, _prod, deploy_state


def test_an_already_frozen_deploy_without_a_last_changer_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, reason="release train", by=""))

    result = cli("freeze", "-s", "web", "-e", "prod", "--reason", "again", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out == (
        f"{PROD} (service web, stage prod) is already frozen since 2025-05-01 10:00:00 UTC "
        '(2h ago): "release train"; nothing changed.\n'
    )


def test_unfreeze_of_a_deploy_without_a_last_changer_names_nobody(
    aws: StubbedAws, cli: CliRunner
) -> None:
    _prod(aws)
    aws.expect_state(PROD, deploy_state(frozen=True, by=""))
    _enable(aws, PROD)

    result = cli("unfreeze", "-s", "web", "-e", "prod", clients=aws.clients())

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"Unfroze Deploy of {PROD} (service web, stage prod), frozen since 2025-05-01 10:00:00 "
        'UTC (2h ago): "Black Friday".'
    )
