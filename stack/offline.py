"""Run this project's Pulumi program offline, under Pulumi's own mocks, and record what it declares.

Defines `Recorder` (a `pulumi.runtime.Mocks` that records every registration and invents the
outputs AWS would compute, such as ARNs), `RecordingMonitor` (Pulumi's `MockMonitor`, extended
to also record resource options the mocks API does not pass on: protect, retain_on_delete,
ignore_changes, parent and URN), and `run_program`/`run_stacks`, which run the real
`__main__.py` with a stack file's config. Used by the tests, the benchmarks and `cicd plan`. It
does not emulate AWS or the Pulumi engine: nothing here diffs against state or deploys.
"""

from __future__ import annotations

import json
import runpy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks

ROOT = Path(__file__).resolve().parent.parent
"""The repository: Pulumi.yaml, the stack files and __main__.py."""
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
ACCOUNT = "111111111111"
"""The sample stack files' account: the mocks answer as that account, so ARNs agree."""
REGION = "eu-west-1"
ORGANIZATION = "organization"
"""What `pulumi.get_organization()` returns with a self-managed backend (`pulumi login --local`)."""
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


@dataclass
class Resource:
    """One registration: the type token, logical name, inputs (camelCase) and options."""

    typ: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    parent: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    read: bool = False
    """True for an existing resource read with `.get(...)`, which Pulumi does not manage."""
    ignore_changes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    """URNs (mock) of the resources this one depends on: `depends_on` and every input's."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> URNs (mock) of the resources that input's value came from. It links a
    bucket's settings to their bucket even where the value itself is unknown in a preview."""


# ARN shapes for the types whose ARNs other resources consume; `{name}` is the physical name.
_ARNS = {
    "aws:s3/bucket:Bucket": "arn:aws:s3:::{name}",
    # A role's ARN carries its path (`/` when none is given), as IAM's does.
    "aws:iam/role:Role": "arn:aws:iam::{account}:role{path}{name}",
    "aws:iam/policy:Policy": "arn:aws:iam::{account}:policy/{name}",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
    ),
    "aws:codebuild/project:Project": "arn:aws:codebuild:{region}:{account}:project/{name}",
    "aws:codepipeline/pipeline:Pipeline": "arn:aws:codepipeline:{region}:{account}:{name}",
    "aws:codedeploy/application:Application": (
        "arn:aws:codedeploy:{region}:{account}:application:{name}"
    ),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": (
        "arn:aws:codedeploy:{region}:{account}:deploymentgroup:{app}/{name}"
    ),
    "aws:codedeploy/deploymentConfig:DeploymentConfig": (
        "arn:aws:codedeploy:{region}:{account}:deploymentconfig:{name}"
    ),
    "aws:codeconnections/connection:Connection": (
        "arn:aws:codeconnections:{region}:{account}:connection/0f7c1e2a-{name}"
    ),
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:aws:events:{region}:{account}:rule/{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:kms/key:Key": "arn:aws:kms:{region}:{account}:key/1234abcd-{name}",
    "aws:codestarnotifications/notificationRule:NotificationRule": (
        "arn:aws:codestar-notifications:{region}:{account}:notificationrule/{name}"
    ),
    # The delivery reporter's (issue 21): a secret's ARN ends in six random characters.
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:secretsmanager/secret:Secret": (
        "arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"
    ),
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
}

# Inputs that carry a resource's physical name, by type; the rest use `name`.
_NAME_KEYS = {"aws:s3/bucket:Bucket": "bucket", "aws:codedeploy/application:Application": "name"}


class Recorder(pulumi.runtime.Mocks):
    """Records every resource and answers invokes the way AWS would for this fixed account.

    `stack_outputs` answers stack references: fully qualified stack name -> that stack's
    exports (for example another stack file's run); a reference to any other stack fails.
    `account` is the caller's account; omitted, the sample stack files' (`ACCOUNT`).
    """

    def __init__(
        self, stack_outputs: dict[str, dict[str, Any]] | None = None, account: str = ACCOUNT
    ) -> None:
        self.account = account
        self.resources: list[Resource] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        state = dict(inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(inputs["name"])
            if name not in self.stack_outputs:
                raise LookupError(
                    f"stack reference to {name!r}: the test gave outputs for "
                    f"{sorted(self.stack_outputs)}"
                )
            state = {"name": name, "outputs": self.stack_outputs[name], "secretOutputNames": []}
            self.resources.append(
                Resource(typ=args.typ, name=args.name, inputs=inputs, custom=True, state=state)
            )
            return name, state
        if args.custom is None and args.resource_id:
            # A read (`Resource.get`): the id is what the program passed, e.g. an ARN.
            state.setdefault("arn", args.resource_id)
            if args.typ == "aws:codeconnections/connection:Connection":
                state.setdefault("connectionStatus", "AVAILABLE")
        elif args.custom:
            physical = inputs.get(_NAME_KEYS.get(args.typ, "name")) or args.name
            if args.typ == "aws:codedeploy/deploymentGroup:DeploymentGroup":
                physical = inputs.get("deploymentGroupName", args.name)
            state.setdefault("name", physical)
            shape = _ARNS.get(args.typ)
            if shape:
                state.setdefault(
                    "arn",
                    shape.format(
                        name=physical,
                        account=self.account,
                        region=REGION,
                        app=inputs.get("appName", ""),
                        path=inputs.get("path") or "/",
                    ),
                )
            if args.typ == "aws:s3/bucket:Bucket":
                state.setdefault("bucket", physical)
            if args.typ == "aws:codeconnections/connection:Connection":
                # A new connection stays PENDING until someone completes the handshake.
                state.setdefault("connectionStatus", "PENDING")
            if args.typ == "aws:sqs/queue:Queue":
                state.setdefault(
                    "url", f"https://sqs.{REGION}.amazonaws.com/{self.account}/{physical}"
                )
            if args.typ == "aws:kms/key:Key":
                state.setdefault("keyId", f"1234abcd-{args.name}")
        self.resources.append(
            Resource(
                typ=args.typ, name=args.name, inputs=inputs, custom=bool(args.custom), state=state
            )
        )
        resource_id = args.resource_id or f"{args.name}-id"
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        result = self._answer(args)
        return result, []

    def _answer(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/test",
                "userId": "AIDTEST",
                "id": self.account,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        raise LookupError(f"the test mocks do not answer invoke {args.token}")

    # Queries used by tests -------------------------------------------------------------------

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        names = [r.name for r in self.of_type(typ)]
        assert len(found) == 1, f"expected one {typ} named {name!r}; declared: {names}"
        return found[0]

    def by_name(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
        return found[0]

    def engine_urn(self, resource: Resource) -> str:
        """The URN the Pulumi engine would give: the *whole* chain of parent types.

        Pulumi's MockMonitor only prefixes the direct parent's type, so a resource moved under
        another component would keep its mock URN while the real one (and so its identity in
        state) changes. Rebuilding the chain from recorded parents closes that gap.
        """
        by_urn = {r.urn: r for r in self.resources}
        chain = [resource.typ]
        parent = by_urn.get(resource.parent)
        while parent is not None:
            chain.insert(0, parent.typ)
            parent = by_urn.get(parent.parent)
        stack, project = resource.urn.split("::")[0:2]
        return f"{stack}::{project}::{'$'.join(chain)}::{resource.name}"

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources:
            out[r.typ] = out.get(r.typ, 0) + 1
        return dict(sorted(out.items()))


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Pulumi's MockMonitor, also recording the options mocks do not see (protect, parent...).

    Pulumi registers resources from a thread pool; the lock keeps each registration and the
    options recorded for it together (without it, one resource's URN can land on another's).
    """

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        with self._lock:
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                last = self.recorder.resources[-1]
                last.urn = response.urn
                last.parent = request.parent
                last.protect = bool(request.protect)
                last.retain_on_delete = bool(request.retainOnDelete)
                last.ignore_changes = list(request.ignoreChanges)
                last.dependencies = sorted(set(request.dependencies))
                last.property_dependencies = {
                    key: sorted(set(deps.urns))
                    for key, deps in sorted(request.propertyDependencies.items())
                    if deps.urns
                }
            return response

    def ReadResource(self, request: Any) -> Any:
        with self._lock:
            response = super().ReadResource(request)
            last = self.recorder.resources[-1]
            last.urn = response.urn
            last.parent = request.parent
            last.read = True
            return response


def flatten_stack_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    """A stack file's `config:` as `set_all_config` wants it: structured values become JSON.

    `secure:` values cannot be decrypted offline, so they become a placeholder and are marked
    secret, as the CLI would hand them to the program.
    """
    config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    flat: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in config.items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[full_key] = "offline-placeholder-secret"
            secrets.append(full_key)
        elif isinstance(value, str):
            flat[full_key] = value
        else:
            flat[full_key] = json.dumps(value)
    return flat, secrets


def reset_pulumi(stack: str, recorder: Recorder, preview: bool = False) -> None:
    """Point Pulumi's runtime at fresh mocks and an empty config for `stack`."""
    pulumi.runtime.set_all_config({}, [])
    pulumi.runtime.set_mocks(
        recorder,
        project=PROJECT,
        stack=stack,
        preview=preview,
        monitor=RecordingMonitor(recorder),
        organization=ORGANIZATION,
    )


def run_pulumi(fn: Callable[[], Any]) -> None:
    """Run `fn` as a Pulumi program and wait for every registration it starts."""
    pulumi.runtime.test(fn)()


@dataclass
class StackRun:
    recorder: Recorder
    exports: dict[str, Any]


def run_program(
    stack: str,
    config: dict[str, str],
    secrets: list[str] | None = None,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    account: str = ACCOUNT,
) -> StackRun:
    """Run the real `__main__.py` under mocks with the given flat config; return what it made.

    Exports are captured by wrapping `pulumi.export`, because the mock stack resource is finished
    before the program runs and never registers outputs. `stack_outputs` answers the program's
    stack references (see `Recorder`); `account` is the account the run's credentials belong to
    (omitted: `ACCOUNT`, the sample stack files').
    """
    recorder = Recorder(stack_outputs, account)
    reset_pulumi(stack, recorder)
    pulumi.runtime.set_all_config(config, secrets or [])
    exports: dict[str, Any] = {}
    original_export = pulumi.export

    def capture(name: str, value: Any) -> None:
        exports[name] = value

    def program() -> Any:
        pulumi.export = capture
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = original_export
        return pulumi.Output.all(**{k: pulumi.Output.from_input(v) for k, v in exports.items()})

    resolved: dict[str, Any] = {}

    def program_resolving() -> Any:
        return program().apply(resolved.update)

    run_pulumi(program_resolving)
    return StackRun(recorder=recorder, exports=resolved)


def qualified_stack(stack: str) -> str:
    """The name a stack reference to another stack of this project uses by default."""
    return f"{ORGANIZATION}/{PROJECT}/{stack}"


def run_stacks(stacks: dict[str, Path]) -> dict[str, StackRun]:
    """Run every stack file, upstream stages first, each seeing the exports of those it
    references: the order of a team's first `pulumi up`s."""
    pending = dict(stacks)
    runs: dict[str, StackRun] = {}
    while pending:
        ready = [s for s, p in pending.items() if set(_upstreams_of(p)) <= set(runs)]
        if not ready:
            raise AssertionError(f"stack files reference each other in a cycle: {sorted(pending)}")
        for stack in sorted(ready):
            flat, secrets = flatten_stack_config(pending.pop(stack))
            outputs = {qualified_stack(name): runs[name].exports for name in runs}
            runs[stack] = run_program(stack, flat, secrets, outputs)
    return runs


def _upstreams_of(stack_file: Path) -> list[str]:
    config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    return sorted((config.get(f"{PROJECT}:upstreams") or {}).keys())


def upstreams_of(stack_file: Path) -> list[str]:
    """The stacks this stack file promotes from (its `upstreams:` keys), sorted."""
    return _upstreams_of(stack_file)


def with_upstreams(stacks: list[str]) -> list[str]:
    """`stacks` and every stack they reference, transitively: what must run before them.

    An upstream without a stack file here (another project's stack) is left out: its reference
    then fails with the names that do exist, as for any unknown stack.
    """
    files = dict(iter_stacks())
    needed: set[str] = set()
    pending = list(stacks)
    while pending:
        name = pending.pop()
        if name in needed or name not in files:
            continue
        needed.add(name)
        pending.extend(_upstreams_of(files[name]))
    return sorted(needed)


def stack_name(stack_file: Path) -> str:
    return stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")


def iter_stacks() -> Iterator[tuple[str, Path]]:
    for path in STACK_FILES:
        yield stack_name(path), path
