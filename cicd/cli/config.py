"""`cicd config`: a service's runtime config in one stage (`heroku config`, `config:get`,
`config:set`, `config:unset`), and how two stages' config compare (`config diff`).

list (no subcommand), get: parse -> gather (the path from the pipeline's Configure action, the
parameters) -> print, secrets masked. set, unset: parse and validate (`cicd.decide.config`,
before any call) -> gather (the layout, what runs now, the parameters) -> decide (what to write;
whether a release may start) -> write -> start a config release of what runs now
(RELEASE_KIND=config, RELEASE_NOTE says what changed and who changed it) -> follow with --wait.
diff: gather both stages -> compare by SHA-256 -> print. A change is a release because the
Configure step pins the config versions a release runs with: a new value reaches the service
only through a new execution.

Also what other commands run for config: `check_promotion_config` (`cicd promote`: the target
must have every key the source has) and `review_rollback` (`cicd rollback`: the config versions
now and after, and no crossing of a release that contracted the schema).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from cicd.aws.clients import MAX_ATTEMPTS
from cicd.aws.errors import from_client_error
from cicd.aws.executions import HISTORY_DEPTH, recent_releases
from cicd.aws.manifests import with_manifest
from cicd.aws.parameters import caller, key_of, read_config, read_parameter, write
from cicd.aws.partial import attempt
from cicd.aws.pipelines import read_layout
from cicd.aws.records import RecordOrProblem, lookup_record, outputs_record
from cicd.aws.rollback import redeploy_hint
from cicd.aws.variables import start_with_variables
from cicd.cli.context import Context, locate_pipeline, select_pipeline
from cicd.cli.following import follow_release
from cicd.cli.options import Commands, service_option
from cicd.contract import CONFIGURE_ACTION, DEPLOY_STAGE, ENVIRONMENTS, UNSET_VALUE
from cicd.decide.config import (
    ConfigChange,
    check_promotable,
    check_release,
    collision_problems,
    describe_live,
    diff_config,
    key_problems,
    length_problems,
    parse_assignments,
    plan_set,
    plan_unset,
    refuse_problems,
    release_note,
    release_revision,
    release_variables,
)
from cicd.decide.contracts import Contracting, check_contracting, crossed
from cicd.decide.rollback import RollbackPlan
from cicd.errors import AwsError, CicdError, ExitCode, NotFound, Refused, UsageError
from cicd.model.config import ConfigSet, DeployRecord, RuntimeConfig, record_key
from cicd.model.pipeline import PipelineLayout, PipelineRef
from cicd.model.release import Manifest, Release
from cicd.model.status import Unknown
from cicd.render.config import (
    change_document,
    change_lines,
    config_document,
    config_rows,
    diff_document,
    diff_rows,
    pins_document,
    rollback_config_lines,
    value_document,
)
from cicd.text import short_id

UNSET_WHY = (
    f"Unset writes a new version whose value is {UNSET_VALUE} (same type and key), which every "
    "reader treats as absent; it never deletes the parameter, because a delete erases every "
    "version and a rollback to a release that used the value could not restore it."
)
RULES = (
    "Names: letters, digits, '_', '.' and '-', one level under the stage's path (no '/'), not "
    "starting with a digit (the service reads NAME as the environment variable NAME, "
    "upper-cased, other characters as '_'). Values: 1 byte to 4 KB."
)


def register(commands: Commands) -> None:
    config = commands.add(
        "config",
        run_list,
        "runtime config of a service in a stage (like heroku config)",
        "List the runtime config (config vars) of a service in one stage: each name, its "
        "value (SecureString values masked), type, version and when it changed (like `heroku "
        "config`). The config lives in SSM Parameter Store under the path the pipeline's "
        f"{CONFIGURE_ACTION} action names; the subcommands get, set, unset and diff read and "
        "change it. A change is a release: it takes effect when the pipeline runs again.",
        "  cicd config --service web --stage prod\n"
        "  cicd config get DATABASE_URL --service web --stage prod --reveal\n"
        "  cicd config set FEATURE_X=on --service web --stage prod\n"
        "  cicd config set DATABASE_URL=postgres://db/web --secret --service web --stage prod\n"
        "  cicd config unset FEATURE_X --service web --stage prod\n"
        "  cicd config diff --service web --from staging --to prod\n",
        commands.target,
    )
    sub = commands.subcommands(config, "config_command")
    get = sub.add(
        "get",
        run_get,
        "print one value (like heroku config:get)",
        "Print the value of one config key, for scripts (like `heroku config:get`). A "
        "SecureString's value is printed only with --reveal.",
        "  cicd config get FEATURE_X --service web --stage prod\n"
        "  cicd config get DATABASE_URL --service web --stage prod --reveal\n",
    )
    get.add_argument("key", metavar="KEY")
    get.add_argument(
        "--reveal", action="store_true", help="print a SecureString's value (default: refuse)"
    )
    set_ = sub.add(
        "set",
        run_set,
        "set keys and release the change (like heroku config:set)",
        "Set config keys (like `heroku config:set`) and release the change: the pipeline runs "
        "again on the release that runs now (a promoted pipeline on its release object "
        "version; a pipeline that builds from GitHub rebuilds and retests that commit, since "
        "AWS cannot re-run only the Deploy stage with a new input), with RELEASE_KIND=config "
        "and a RELEASE_NOTE naming the keys and who set them. A SecureString (--secret, or a "
        "key that is one already) is encrypted with the stage's KMS key when the stack names "
        "one. Keys already set to the same value are left alone. " + RULES,
        "  cicd config set FEATURE_X=on --service web --stage prod --wait\n"
        "  cicd config set DATABASE_URL=postgres://db/web --secret --service web --stage prod\n"
        "  cicd config set A=1 B=2 --service web --stage dev --no-release\n"
        '  printf %s "$TOKEN" | cicd config set API_TOKEN --secret --stdin -s web -e prod\n',
        commands.wait,
    )
    set_.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    set_.add_argument(
        "--secret",
        action="store_true",
        help="store as SecureString (KMS-encrypted); a SecureString stays one without it",
    )
    set_.add_argument(
        "--stdin",
        action="store_true",
        help="read the value of the one KEY given from stdin (keeps it out of the shell history "
        "and the process list)",
    )
    _no_release(set_)
    unset = sub.add(
        "unset",
        run_unset,
        "unset keys and release the change (like heroku config:unset)",
        "Unset config keys (like `heroku config:unset`) and release the change, as set does. "
        + UNSET_WHY,
        "  cicd config unset FEATURE_X --service web --stage prod --wait\n"
        "  cicd config unset OLD_A OLD_B --service web --stage dev --no-release\n",
        commands.wait,
    )
    unset.add_argument("keys", nargs="+", metavar="KEY")
    _no_release(unset)
    diff = sub.add(
        "diff",
        run_diff,
        "compare two stages' config keys and values (values never shown)",
        "Compare the config of one service in two stages: which keys each has, and whether "
        "the values of the keys both have are equal, compared by the SHA-256 of the decrypted "
        "values. No value and no digest is printed. `cicd promote` makes the same comparison "
        "and refuses when the target lacks a key the source has.",
        "  cicd config diff --service web --from staging --to prod\n"
        "  cicd config diff -s thumbnailer --from dev --to staging --json\n",
        target=False,
    )
    suppressed = {**service_option(), "default": argparse.SUPPRESS}
    diff.add_argument("-s", "--service", **suppressed)
    diff.add_argument(
        "--from", dest="source_stage", choices=ENVIRONMENTS, required=True, help="one stage"
    )
    diff.add_argument(
        "--to", dest="target_stage", choices=ENVIRONMENTS, required=True, help="the other"
    )


def _no_release(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-release",
        action="store_true",
        help="only write the change; the next release (or config change) deploys it",
    )


def runtime_config(layout: PipelineLayout) -> RuntimeConfig:
    """The pipeline's runtime config, or a refusal naming the fix."""
    if layout.config is None:
        raise Refused(
            f"{layout.name} has no {CONFIGURE_ACTION} action with a CONFIG_PATH in its "
            f"{DEPLOY_STAGE} stage, so cicd cannot tell where its runtime config lives (its "
            "stack predates runtime config)",
            "run `pulumi up` for this stage with the current stacks",
        )
    return layout.config


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    ref, layout = select_pipeline(args, ctx)
    config = runtime_config(layout)
    values = read_config(ctx.clients.ssm, config.path)
    ctx.emit(config_document(ref, layout, values))
    ctx.say(f"=== {ref.describe()} config at {config.path}")
    if not values.live:
        ctx.say(f"No config yet: `cicd config set {ref.options()} KEY=VALUE` sets some.")
        return ExitCode.OK
    ctx.say(*config_rows(values, ctx.now(), ctx.style))
    if any(v.secret for v in values.live):
        ctx.say(
            "", f"SecureString values are masked: `cicd config get KEY {ref.options()} --reveal`."
        )
    return ExitCode.OK


def run_get(args: argparse.Namespace, ctx: Context) -> int:
    refuse_problems("config get", key_problems([args.key]))
    ref, layout = select_pipeline(args, ctx)
    config = runtime_config(layout)
    value = read_parameter(ctx.clients.ssm, config.path, args.key, reveal=args.reveal)
    if value is None or value.unset:
        raise NotFound(
            f"{args.key} is not set in {config.path} ({layout.name})",
            f"`cicd config {ref.options()}` lists what is set",
        )
    if value.secret and not args.reveal:
        raise Refused(
            f"{args.key} is a SecureString: its value is printed only with --reveal",
            f"`cicd config get {args.key} {ref.options()} --reveal`",
        )
    ctx.emit(value_document(ref, layout, value))
    ctx.say(value.value or "")
    return ExitCode.OK


def _stdin_assignment(args: argparse.Namespace, ctx: Context) -> list[str]:
    if len(args.assignments) != 1 or "=" in args.assignments[0]:
        raise UsageError(
            "--stdin reads the value of one key: give exactly one KEY, without '='",
            '`printf %s "$VALUE" | cicd config set KEY --stdin ...`',
        )
    value = ctx.stdin.read()
    value = value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")
    return [f"{args.assignments[0]}={value}"]


def run_set(args: argparse.Namespace, ctx: Context) -> int:
    words = _stdin_assignment(args, ctx) if args.stdin else list(args.assignments)
    assignments, problems = parse_assignments(words)
    refuse_problems("config set", problems)
    ref, layout = select_pipeline(args, ctx)
    config = runtime_config(layout)
    keys = [key for key, _ in assignments]
    refuse_problems("config set", length_problems(keys, config.path, ctx.clients.region))
    target = _release_target(args, ctx, ref, layout)
    current = read_config(ctx.clients.ssm, config.path)
    refuse_problems("config set", collision_problems(keys, current))
    change = plan_set(assignments, current, config, secret=args.secret)
    return _apply(args, ctx, ref, layout, config, change, target)


def run_unset(args: argparse.Namespace, ctx: Context) -> int:
    refuse_problems("config unset", key_problems(args.keys))
    ref, layout = select_pipeline(args, ctx)
    config = runtime_config(layout)
    target = _release_target(args, ctx, ref, layout)
    current = read_config(ctx.clients.ssm, config.path)
    # The tombstone keeps the key a SecureString's value was encrypted with (design §1).
    secret_keys = {
        key: key_of(ctx.clients.ssm, value.parameter)
        for key in dict.fromkeys(args.keys)
        if (value := current.get(key)) is not None and value.secret and not value.unset
    }
    change = plan_unset(args.keys, current, secret_keys)
    return _apply(args, ctx, ref, layout, config, change, target)


@dataclass(frozen=True)
class _Target:
    """The release a config change starts again, and how."""

    live: Release
    revision: tuple[str, str, str]


def _release_target(
    args: argparse.Namespace, ctx: Context, ref: PipelineRef, layout: PipelineLayout
) -> _Target | None:
    """What runs now, checked before anything is written (None: --no-release, or nothing
    ran yet)."""
    if args.no_release:
        return None
    history = recent_releases(ctx.clients.codepipeline, layout, HISTORY_DEPTH)
    live = check_release(layout, history, options=ref.options())
    if live is None:
        return None
    return _Target(live, release_revision(layout, live))


def _apply(
    args: argparse.Namespace,
    ctx: Context,
    ref: PipelineRef,
    layout: PipelineLayout,
    config: RuntimeConfig,
    change: ConfigChange,
    target: _Target | None,
) -> int:
    if not change.writes:
        raise Refused(
            f"nothing to change: {', '.join(change.unchanged)} already "
            f"{'has' if len(change.unchanged) == 1 else 'have'} that value in {config.path}",
            "a release of what runs now deploys the config as it is (`cicd release` or "
            "`cicd promote`)",
        )
    # Who asks, before anything is written: a failure here leaves nothing half done.
    who = caller(ctx.clients.sts) if target is not None else None
    written = write(ctx.clients.ssm, change.writes)
    ctx.say(*change_lines(change.command, config.path, written, change.unchanged))
    document = change_document(
        change.command,
        layout,
        ref,
        target.live if target else None,
        config.path,
        written,
        change.unchanged,
    )
    if target is None:
        why = (
            "--no-release: nothing was started"
            if args.no_release
            else f"nothing runs in {layout.name} yet"
        )
        ctx.say(f"Not released ({why}); the next release of {ref.describe()} deploys it.")
        ctx.emit({**document, "followed": None})
        return ExitCode.OK
    assert who is not None
    note = release_note(change, who)
    try:
        execution_id = start_with_variables(
            ctx.clients.codepipeline, layout.name, target.revision, release_variables(note)
        )
    except ClientError as error:
        reason = from_client_error(error, max_attempts=MAX_ATTEMPTS).message
        raise AwsError(
            f"the change is written, but no release was started: {reason}",
            "the next release deploys it; to start one now: "
            + (
                f"`cicd promote {ref.options()}`"
                if layout.promoted
                else f"`cicd release {ref.options()} --commit {target.live.commit}`"
            ),
        ) from error
    lines = [
        f"Releasing it: started execution {execution_id} of {ref.describe()} on "
        f"{describe_live(layout, target.live)}, what runs now.",
        f'  RELEASE_KIND=config, RELEASE_NOTE "{note}"',
    ]
    if layout.github is not None:
        lines.append(
            f"  {layout.name} builds from GitHub, so this rebuilds and retests that commit: AWS "
            "offers no way to re-run only the Deploy stage with a new input."
        )
    if layout.has_approval:
        lines.append("  It waits for approval before Deploy, like any release of this stage.")
    ctx.say(*lines)
    document.update(executionId=execution_id, note=note, rebuilds=layout.github is not None)
    return follow_release(args, ctx, ref, layout, execution_id, document)


def _stage_config(
    ctx: Context, stage: str, service: str | None
) -> tuple[PipelineRef, PipelineLayout, ConfigSet]:
    ref = locate_pipeline(
        ctx.clients.tagging, stage=stage, service=service, region=ctx.clients.region
    )
    layout = read_layout(ctx.clients.codepipeline, ref.name)
    config = runtime_config(layout)
    return ref, layout, read_config(ctx.clients.ssm, config.path)


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    source_stage, target_stage = args.source_stage, args.target_stage
    if source_stage == target_stage:
        raise UsageError(f"--from and --to are both {source_stage}: nothing to compare")
    service = getattr(args, "service", None)
    source_ref, source_layout, source = _stage_config(ctx, source_stage, service)
    _, target_layout, target = _stage_config(ctx, target_stage, source_ref.service or service)
    diff = diff_config(source, target)
    ctx.emit(
        diff_document(
            source_ref.service,
            (source_stage, source_layout.name, source.path),
            (target_stage, target_layout.name, target.path),
            diff,
        )
    )
    ctx.say(
        f"=== config of {source_ref.service or source_layout.name}: {source_stage} "
        f"({source.path}) and {target_stage} ({target.path})"
    )
    if not diff.keys:
        ctx.say("Neither has any config.")
        return ExitCode.OK
    ctx.say(*diff_rows(diff, source_stage, target_stage), "")
    if diff.missing:
        ctx.say(
            f"{target_stage} lacks {', '.join(diff.missing)}, which {source_stage} has: `cicd "
            f"promote` from {source_stage} to {target_stage} refuses until "
            f"{'it is' if len(diff.missing) == 1 else 'they are'} set (or --allow-missing-config)."
        )
    if diff.differ:
        ctx.say(f"Values differ: {', '.join(diff.differ)}.")
    if not diff.missing and not diff.extra and not diff.differ:
        ctx.say(f"Same keys and values in {source_stage} and {target_stage}.")
    ctx.say("Values are compared by the SHA-256 of the decrypted values; none is shown.")
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------
# What `cicd promote` and `cicd rollback` run for config.


class _CannotCompare(Exception):
    pass


def check_promotion_config(
    args: argparse.Namespace, ctx: Context, ref: PipelineRef, target: PipelineLayout
) -> None:
    """`cicd promote`'s config check: refuse (exit 3, naming the keys) when the target lacks a
    key the source has, unless --allow-missing-config; when the source's config cannot be read
    (another account, access denied, a pipeline without Configure) warn in one line and go on.
    A target without runtime config has nothing to compare."""
    if target.config is None or (target.promoted and (args.from_pipeline or not args.source_stage)):
        return  # nothing to compare, or promote refuses the arguments next
    source_name = args.source_stage or args.from_pipeline
    target_name = args.target_stage or ref.stage or target.name
    try:
        source_config = _promotion_source(args, ctx, ref)
        source = read_config(ctx.clients.ssm, source_config.path)
        current = read_config(ctx.clients.ssm, target.config.path)
    except (CicdError, ClientError, _CannotCompare) as error:
        if isinstance(error, ClientError):
            reason = from_client_error(error, max_attempts=MAX_ATTEMPTS).message
        else:
            reason = error.message if isinstance(error, CicdError) else str(error)
        ctx.warn(f"could not compare config with {source_name} ({reason}); promoting without it")
        return
    diff = diff_config(source, current)
    missing = check_promotable(
        diff,
        source=source_name,
        target=target_name,
        set_command=f"cicd config set {ref.options()}",
        allow_missing=args.allow_missing_config,
    )
    if missing:
        ctx.warn(
            f"promoting although {target_name} lacks config {', '.join(missing)}, which "
            f"{source_name} has (--allow-missing-config)"
        )
    else:
        ctx.say(f"Config: {target_name} has every key {source_name} has ({diff.target_path}).")


def _promotion_source(args: argparse.Namespace, ctx: Context, ref: PipelineRef) -> RuntimeConfig:
    if args.from_pipeline:
        source = read_layout(ctx.clients.codepipeline, args.from_pipeline)
    else:
        found = locate_pipeline(
            ctx.clients.tagging,
            stage=args.source_stage,
            service=ref.service or args.service,
            region=ctx.clients.region,
        )
        source = read_layout(ctx.clients.codepipeline, found.name)
    if source.config is None:
        raise _CannotCompare(f"{source.name} has no {CONFIGURE_ACTION} action")
    return source.config


class _Records:
    """Deploy records of one pipeline, each read at most once."""

    def __init__(self, ctx: Context, layout: PipelineLayout) -> None:
        self._ctx, self._layout = ctx, layout
        self._cache: dict[str, RecordOrProblem] = {}

    def get(self, release: Release) -> RecordOrProblem:
        """The record file, or when it is gone (the bucket's lifecycle expires it) what the
        execution's Configure action exported; None when neither exists."""
        config = self._layout.config
        if config is None or config.record_bucket is None:
            return None
        if release.execution_id not in self._cache:
            found = lookup_record(
                self._ctx.clients.s3, config.record_bucket, self._layout.name, release.execution_id
            )
            if found is None:
                exported = attempt(
                    lambda: outputs_record(
                        self._ctx.clients.codepipeline,
                        self._layout.name,
                        release.execution_id,
                        config.path,
                    )
                )
                found = str(exported) if isinstance(exported, Unknown) else exported
            self._cache[release.execution_id] = found
        return self._cache[release.execution_id]

    def location(self, release: Release) -> str | None:
        config = self._layout.config
        if config is None or config.record_bucket is None:
            return None
        return f"s3://{config.record_bucket}/{record_key(self._layout.name, release.execution_id)}"


def read_record(
    ctx: Context, layout: PipelineLayout, release: Release
) -> tuple[RecordOrProblem, str | None]:
    """The deploy record of one release and where it is (None, None: a pipeline without
    runtime config has none)."""
    records = _Records(ctx, layout)
    return records.get(release), records.location(release)


def _contracting(
    ctx: Context, layout: PipelineLayout, records: _Records, release: Release
) -> Contracting:
    record = records.get(release)
    if isinstance(record, DeployRecord):
        return Contracting(release, record.contracts_schema, record.origin)
    if isinstance(record, str):
        return Contracting(release, record)
    promoted = layout.promoted
    # No record: the execution did not reach Deploy, or ran before runtime config. A release
    # that succeeded then says it in its manifest (promoted pipelines; a GitHub-built one's
    # manifest is inside its build artifact, which cicd does not read).
    if promoted is None or release.status != "Succeeded" or not release.version_id:
        return Contracting(release, False)
    manifest = ctx.manifests.lookup(promoted.location, release.version_id)
    if isinstance(manifest, Manifest):
        return Contracting(release, manifest.contracts_schema, "its release manifest")
    return Contracting(release, f"its release manifest: {manifest}", "its release manifest")


def _named(
    ctx: Context, layout: PipelineLayout, found: Contracting, resolved: dict[str, Release]
) -> Contracting:
    """A crossed release to be named in a refusal, with its commit (from its manifest)."""
    if found.contracts is False:
        return found
    release = resolved.get(found.release.execution_id) or with_manifest(
        found.release, layout, ctx.manifests
    )
    return replace(found, release=release)


def review_rollback(
    args: argparse.Namespace,
    ctx: Context,
    layout: PipelineLayout,
    history: Sequence[Release],
    plan: RollbackPlan,
) -> dict[str, Any]:
    """What `cicd rollback` shows and checks beyond the code: the config versions now and after
    (from the deploy records), and that it crosses no release that contracted the schema
    (refused unless --force). Prints to the human stream; returns its keys of the JSON document.
    """
    records = _Records(ctx, layout)
    config_keys: dict[str, Any] | None = None
    if layout.config is not None:
        now, after = records.get(plan.current), records.get(plan.target)
        if after is None:
            # The rollback's Configure step re-pins what the target's Configure pinned: without
            # one, it stops the rollback before anything deploys.
            raise Refused(
                f"{plan.target.describe()} has no successful {CONFIGURE_ACTION} action (it ran "
                "before this pipeline had runtime config), so a rollback to it cannot re-pin "
                "the config it ran with: its Configure step would stop it",
                f"redeploy that commit instead: {redeploy_hint(plan.target)}",
            )
        lines = rollback_config_lines(layout.config.path, plan.current, now, plan.target, after)
        ctx.human.write("".join(f"{line}\n" for line in lines))
        config_keys = {
            "path": layout.config.path,
            "current": pins_document(now),
            "target": pins_document(after),
        }
    resolved = {plan.current.execution_id: plan.current}
    found = [
        _named(ctx, layout, _contracting(ctx, layout, records, r), resolved)
        for r in crossed(history, plan.target)
    ]
    forced = check_contracting(layout.name, plan.target, found, force=args.force)
    for item in forced:
        what = (
            "contracted the schema"
            if item.contracts is True
            else f"may have contracted the schema ({item.contracts})"
        )
        ctx.warn(
            f"--force: rolling back across {short_id(item.release.execution_id)}, which {what}"
        )
    return {
        "config": config_keys,
        "crossesContracting": [item.release.execution_id for item in forced],
    }
