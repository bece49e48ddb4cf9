"""The exact refusals and notes of `cicd.decide.config` that `cicd config set`/`unset` print:
a config release refused while another runs, a live release without a commit, the release
note at exactly a pipeline variable's limit, and the config keys of a pinned snapshot.
"""

from __future__ import annotations

import pytest

from cicd.contract import RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE
from cicd.decide.config import (
    MAX_NOTE,
    ConfigChange,
    check_release,
    name_problems,
    parse_assignments,
    release_note,
    release_revision,
)
from cicd.errors import Refused
from cicd.model.config import ConfigSnapshot, ConfigWrite, ParameterPin
from cicd.model.pipeline import GitHubSource, PipelineLayout
from cicd.model.release import Release

PIPELINE = "web-prod-pipeline"
A = "aaaaaaaa-1111-2222-3333-444444444444"
LAYOUT = PipelineLayout(
    name=PIPELINE,
    stages=("Source", "Build", "Deploy"),
    source=GitHubSource(
        "Source", "arn:aws:codeconnections:eu-west-1:1:connection/x", "o/web", "main"
    ),
    deploy_targets=(),
    variables=(RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE),
    execution_mode="SUPERSEDED",
)


def test_a_config_release_while_another_runs_in_superseded_mode_says_how_to_wait_for_it() -> None:
    running = Release(A, "InProgress", commit="c" * 40, message="Faster search")

    with pytest.raises(Refused) as refused:
        check_release(LAYOUT, [running], options="--pipeline web-prod-pipeline")

    assert refused.value.hint == (
        "wait for it (`cicd follow --pipeline web-prod-pipeline aaaaaaaa`) and run this again, "
        "or pass --no-release: the running release picks the change up if it has not passed "
        "Configure yet"
    )


def test_a_live_release_without_a_commit_cannot_be_started_again_with_new_config() -> None:
    with pytest.raises(Refused) as refused:
        release_revision(LAYOUT, Release(A, "Succeeded"))

    assert (refused.value.message, refused.value.hint) == (
        f"the live release aaaaaaaa of {PIPELINE} names no commit, so it cannot be started again",
        "start a release (`cicd release`); it deploys the new config",
    )


def test_a_release_note_of_exactly_1000_characters_lists_every_key() -> None:
    who = "arn:aws:iam::123456789012:user/ops"
    fixed = len(f"config: set  by {who}")
    key = "K" * (MAX_NOTE - fixed)
    change = ConfigChange("set", (ConfigWrite(key, f"/web/prod/{key}", "v", "String"),))

    assert release_note(change, who) == f"config: set {key} by {who}"
    assert len(release_note(change, who)) == MAX_NOTE


def test_a_snapshot_under_a_path_written_with_a_trailing_slash_names_keys_without_it() -> None:
    snapshot = ConfigSnapshot("/web/prod/", "latest", (ParameterPin("/web/prod/DATABASE_URL", 3),))

    assert snapshot.versions() == {"DATABASE_URL": 3}


def test_an_empty_argument_to_config_set_says_to_write_key_equals_value() -> None:
    found, problems = parse_assignments([""])

    assert found == []
    assert [p.line() for p in problems] == [
        "(empty): no '=' and so no value; write KEY=VALUE (quote it if the value has spaces)"
    ]


def test_a_key_with_a_forbidden_character_names_only_that_character_not_its_capitals() -> None:
    [problem] = name_problems("Db$Url")

    assert problem.problem == "the name has characters Parameter Store does not allow ('$')"
