"""What kind of release an execution is, and why: its RELEASE_KIND and RELEASE_NOTE variables.

Only GetPipelineExecution reports an execution's resolved pipeline variables;
ListPipelineExecutions' summaries carry none (AWS API reference, PipelineExecutionSummary), so
a listing learns them with one call per execution. `with_kinds` makes those calls for the newest
`KIND_DEPTH` releases only, and only for a pipeline that declares the variables (an older
pipeline has none to read), so a listing costs a bounded number of calls.
`start_with_variables` starts an execution with variables (a config release).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.client import BaseClient

from cicd.aws.partial import attempt
from cicd.contract import RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE
from cicd.model.pipeline import PipelineLayout
from cicd.model.release import Release
from cicd.model.status import Unknown

# `cicd releases` reads the kind of at most this many releases (one call each).
KIND_DEPTH = 30


def kind_and_note(execution: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """RELEASE_KIND and RELEASE_NOTE of a `get_pipeline_execution()["pipelineExecution"]`
    (None for each it does not have)."""
    variables = {
        str(v.get("name")): str(v.get("resolvedValue", "")) for v in execution.get("variables", [])
    }
    return variables.get(RELEASE_KIND_VARIABLE), variables.get(RELEASE_NOTE_VARIABLE)


def with_kind(codepipeline: BaseClient, layout: PipelineLayout, release: Release) -> Release:
    """`release` with its kind and note (one GetPipelineExecution), for a pipeline declaring the
    release variables; an execution from before they were declared is a code release."""
    if not layout.declares_release_variables or release.kind is not None:
        return release
    execution = codepipeline.get_pipeline_execution(
        pipelineName=layout.name, pipelineExecutionId=release.execution_id
    )["pipelineExecution"]
    kind, note = kind_and_note(execution)
    return replace(release, kind=kind or "code", note=note)


def with_kinds(
    codepipeline: BaseClient,
    layout: PipelineLayout,
    releases: Sequence[Release],
    limit: int = KIND_DEPTH,
) -> tuple[list[Release], Unknown | None]:
    """The newest `limit` releases with their kind and note; the reason when it was denied."""
    if not layout.declares_release_variables:
        return list(releases), None
    read: list[Release] = []
    for release in releases[:limit]:
        found = attempt(lambda r=release: with_kind(codepipeline, layout, r))
        if isinstance(found, Unknown):
            return [*read, *releases[len(read) :]], found
        read.append(found)
    return [*read, *releases[limit:]], None


def start_with_variables(
    codepipeline: BaseClient,
    pipeline: str,
    revision: tuple[str, str, str],
    variables: Sequence[Mapping[str, str]],
) -> str:
    """Start `pipeline` on one source revision (action, revision type, value) with pipeline
    `variables`; returns the execution id.

    A client request token makes the call idempotent, so a retry after a lost answer (the
    client retries timeouts) cannot start a second execution.
    """
    action, revision_type, value = revision
    response = codepipeline.start_pipeline_execution(
        name=pipeline,
        variables=[dict(v) for v in variables],
        sourceRevisions=[
            {"actionName": action, "revisionType": revision_type, "revisionValue": value}
        ],
        clientRequestToken=str(uuid.uuid4()),
    )
    return str(response["pipelineExecutionId"])
