"""Fixtures for the `cicd` tests: fake AWS settings, a CLI runner, and a moto account.

Nothing here reaches the network: credentials are fake, instance metadata is disabled, the
user's ~/.aws is hidden, and every client is either moto-backed or stubbed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from tests.cicd.aws_fakes import REGION, CliRunner, MotoWorld, StubbedAws


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Fake credentials and region; no profile, config file or metadata service to fall back on."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "CICD_STAGE",
        "CICD_SERVICE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # moto reports times without a zone, which botocore reads as local time: pin it to UTC.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    """A moto account with an IAM role for pipelines; tag discovery is stubbed."""
    with mock_aws():
        moto_world = MotoWorld(monkeypatch)
        yield moto_world
        moto_world.verify()


@pytest.fixture
def cli() -> CliRunner:
    """Runs `cicd.cli.main.main` with captured streams and a sleep that only records."""
    return CliRunner()


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    """Stubbed clients; the test fails if an expected AWS call was never made."""
    stubs = StubbedAws()
    yield stubs
    stubs.verify()
