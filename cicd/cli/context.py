"""What every command is given besides its arguments, and how each finds its pipeline.

`Context` holds the AWS clients, the manifest cache, the streams, the clock and the output mode
(`--json`, colour); tests replace every part. `select_pipeline` applies --pipeline / --service /
--stage the same way for every command; `locate_pipeline` finds a service's pipeline in a stage
by its tags and chooses it (`cicd.decide.pipelines`). `choose_execution` is the execution
`info`, `follow`, `logs` and `open` look at; `execution_by_id` one named by an id or a prefix.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from botocore.client import BaseClient

from cicd.aws.clients import Clients
from cicd.aws.executions import HISTORY_DEPTH, get_release, recent_releases
from cicd.aws.manifests import Manifests, with_manifest
from cicd.aws.pipelines import find_pipelines, read_layout
from cicd.contract import ENVIRONMENTS
from cicd.decide.commits import (
    newest_execution,
    newest_of_commit,
    resolve_execution,
    validate_commit,
)
from cicd.decide.pipelines import choose_pipeline, services_of
from cicd.errors import NotFound, UsageError
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import Release
from cicd.text import PLAIN, Style

Sleep = Callable[[float], None]
_UUID_LENGTH = 36


@dataclass(frozen=True)
class Context:
    """What a command may touch besides its arguments; tests replace every part."""

    clients: Clients
    manifests: Manifests
    out: TextIO
    err: TextIO
    stdin: TextIO
    sleep: Sleep
    now: Callable[[], datetime]
    style: Style = PLAIN
    json: bool = False
    # Opens a URL in a browser; returns False when there is none (tests record instead).
    open_url: Callable[[str], bool] = field(default=lambda url: False)
    _quiet: TextIO = field(default_factory=io.StringIO)

    @property
    def human(self) -> TextIO:
        """Where text for people goes: stdout, or nowhere when stdout carries JSON."""
        return self._quiet if self.json else self.out

    def say(self, *lines: str) -> None:
        """Print lines for people (nothing in --json mode)."""
        for line in lines:
            self.human.write(line + "\n")
        self.human.flush()

    def warn(self, message: str) -> None:
        """One `cicd: ...` line on stderr, in every output mode."""
        self.err.write(f"cicd: {message}\n")
        self.err.flush()

    def emit(self, document: Any) -> None:
        """Print the command's JSON document (only in --json mode)."""
        if self.json:
            self.out.write(json.dumps(document, indent=2) + "\n")
            self.out.flush()


def locate_pipeline(
    tagging: BaseClient, *, stage: str, service: str | None, region: str
) -> PipelineRef:
    """Find and choose the pipeline of `service` (or the only service) in `stage`.

    When a named service has no pipeline, the NotFound message lists the services the stage does
    have, which turns a typo into a one-glance fix.
    """
    refs = find_pipelines(tagging, stage=stage, service=service)
    if not refs and service is not None:
        others = services_of(find_pipelines(tagging, stage=stage, service=None))
        if others:
            raise NotFound(
                f"no pipeline for service {service} in stage {stage} ({region})",
                f"services with a pipeline in {stage}: {', '.join(others)}",
            )
    return choose_pipeline(refs, stage=stage, service=service, region=region)


def _stage_or_usage(args: argparse.Namespace) -> str:
    stage: str | None = args.stage
    if stage is None:
        raise UsageError(
            "which environment? pass --stage "
            + "|".join(ENVIRONMENTS)
            + " (or set CICD_STAGE), or name the pipeline with --pipeline NAME"
        )
    return stage


def select_pipeline(args: argparse.Namespace, ctx: Context) -> tuple[PipelineRef, PipelineLayout]:
    """The pipeline named with --pipeline, or found by --stage and --service."""
    if args.pipeline:
        ref = PipelineRef(args.pipeline)
    else:
        ref = locate_pipeline(
            ctx.clients.tagging,
            stage=_stage_or_usage(args),
            service=args.service,
            region=ctx.clients.region,
        )
    return ref, read_layout(ctx.clients.codepipeline, ref.name)


def execution_by_id(
    ctx: Context, layout: PipelineLayout, given: str, history: Sequence[Release]
) -> Release:
    """The execution whose id starts with `given` among `history`, or by its full id."""
    found = resolve_execution(given, history)
    if found is not None:
        return found
    if len(given) == _UUID_LENGTH:
        return get_release(ctx.clients.codepipeline, layout.name, given.lower(), layout.source)
    raise NotFound(
        f"no execution starting with {given} among the last {len(history)} of {layout.name}",
        "pass the full execution id (`cicd releases --json` prints them)",
    )


def choose_execution(
    args: argparse.Namespace, ctx: Context, layout: PipelineLayout, *, running: bool = False
) -> Release:
    """The execution named by EXECUTION or --commit, else the newest (or newest running)."""
    given: str | None = getattr(args, "execution", None)
    commit = validate_commit(args.commit) if getattr(args, "commit", None) else None
    history = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    if given:
        return execution_by_id(ctx, layout, given, history)
    if commit is not None:
        return newest_of_commit(
            history, commit, lambda r: with_manifest(r, layout, ctx.manifests), layout.name
        )
    return newest_execution(history, layout.name, running=running)
