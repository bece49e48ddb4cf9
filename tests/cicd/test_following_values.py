"""Following a release held by a deployment window whose next opening cannot be computed here.

`next_opening` gives None for a cron or time zone this CLI cannot evaluate (or nothing within a
year); the line then says the release waits until the window opens, without a time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cicd.model.pipeline import DeploymentWindow
from cicd.render.following import window_lines
from tests.cicd.aws_fakes import execution_id


def test_a_window_whose_opening_is_unknown_holds_the_release_until_it_opens() -> None:
    window = DeploymentWindow(stage="Deploy", cron="0 9 L * ? *", time_zone="Mars/Olympus")

    lines = window_lines(
        "web-prod-pipeline",
        execution_id(9),
        "Deploy",
        window,
        None,
        datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
    )

    assert lines == [
        f"Release {execution_id(9)[:8]} is held before Deploy of web-prod-pipeline by its "
        'deployment window (cron "0 9 L * ? *", Mars/Olympus) until the window opens.'
    ]
