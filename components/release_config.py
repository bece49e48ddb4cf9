"""The Configure step: what a release runs with, pinned, recorded, and checked, before Deploy.

Defines the platform-owned buildspec of the first action of every Deploy stage that has runtime
configuration (`CONFIGURE_BUILDSPEC`) and the variables the action passes it
(`configure_variables`). For each execution that reaches Deploy, the step:

1. refuses a promoted release whose object version is tagged `cicd:rejected` (`cicd reject`),
   so a release quarantined upstream is not deployed even when an event started the pipeline;
2. pins the service's configuration: the newest version of every parameter under its path, or,
   in a rollback, the very versions the execution rolled back to ran with (read from that
   execution's own Configure action: CodePipeline keeps each action's output variables with
   the execution history);
3. writes `config-snapshot.json` (names and versions, never values) into its output artifact,
   which the release task, the deploy actions and verification then take: hosts, the function
   and the migration read exactly those versions;
4. records the release (kind, note, commit, whether it contracts the schema, the pinned
   versions) as output variables and as `deploy-records/<pipeline>/<execution>.json` in the
   artifact bucket, for `cicd info` and `cicd rollback`.

The record's durable copy is the output variables: the artifact bucket's lifecycle expires the
JSON file with the artifacts. Why a CodeBuild project and not a Commands action: as for the
Package step, only the CodeBuild action's `EnvironmentVariables` is documented to resolve
pipeline variables (`components.release_manifest`). Nothing here declares resources.
"""

from __future__ import annotations

import json
import textwrap

import pulumi

from components.release_channel import MANIFEST_FILE

ACTION = "Configure"
NAMESPACE = "ConfigVariables"
OUTPUT_ARTIFACT = "DeployArtifact"
SNAPSHOT_FILE = "config-snapshot.json"
RECORDS_PREFIX = "deploy-records/"
RELEASE_OPTIONS_FILE = "release-options.json"
UNSET_VALUE = "__cicd_unset__"
"""What `cicd config unset` writes instead of deleting; readers treat it as absent."""
RELEASE_KIND_VARIABLE, RELEASE_NOTE_VARIABLE = "RELEASE_KIND", "RELEASE_NOTE"
TAG_REJECTED = "cicd:rejected"
# CodePipeline caps all output variables of one action at 122,880 bytes
# (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html, "Variable quotas"):
# about 2,000 parameters' names and versions; the step refuses well before the cap.
MAX_VERSIONS_BYTES = 100_000
EXPORTED = (
    "CONFIG_VERSIONS",
    "CONFIG_DIGEST",
    "CONFIG_COUNT",
    "CONFIG_SOURCE",
    "COMMIT_ID",
    "CONTRACTS_SCHEMA",
    "RELEASE_KIND",
    "ROLLBACK_OF",
)

# Reads the tag set GetObjectTagging returned; a rejected version stops the step. Shared with the
# Describe step (`components.release_manifest`), which runs it before the approval.
REJECTED_CHECK = """\
import json, os, sys
tags = {t["Key"]: t["Value"] for t in json.load(open(sys.argv[1])).get("TagSet", [])}
if tags.get("cicd:rejected") == "true":
    where = f"s3://{os.environ['RELEASE_BUCKET']}/{os.environ['RELEASE_KEY']}"
    sys.exit(
        f"release {os.environ['RELEASE_VERSION']} of {where} was rejected by "
        f"{tags.get('cicd:rejected-by', 'someone')} at {tags.get('cicd:rejected-at', '?')}: "
        f"{tags.get('cicd:rejected-reason', 'no reason given')}. It is not deployed; if that "
        "was a mistake, `cicd unreject` it and promote it again"
    )
"""

# The command that fetches the tag set of the promoted release version, when there is one, and
# stops on a rejected one (a YAML block: a buildspec command, as CodeBuild runs it in bash).
REJECTED_COMMANDS = [
    "|\n"
    '  if [ -n "${RELEASE_VERSION:-}" ]; then\n'
    '    aws s3api get-object-tagging --bucket "$RELEASE_BUCKET" --key "$RELEASE_KEY" '
    '--version-id "$RELEASE_VERSION" --output json > /tmp/tags.json\n'
    "    python3 - /tmp/tags.json <<'PY'\n"
    + textwrap.indent(REJECTED_CHECK.rstrip(), "  ")
    + "\n  PY\n"
    "  fi",
]

# Everything comes from CodePipeline's record of this execution, the release's manifest and the
# environment; the note is data from the environment, never passed through the shell.
_CONFIGURE_SCRIPT = f"""\
import datetime, hashlib, json, os, shlex, sys
src, env = os.environ["CODEBUILD_SRC_DIR"], os.environ
execution = json.load(open("/tmp/execution.json"))["pipelineExecution"]
rollback_of = None
if execution.get("executionType") == "ROLLBACK":
    rollback_of = execution.get("rollbackMetadata", {{}}).get("rollbackTargetPipelineExecutionId")
if rollback_of:
    details = json.load(open("/tmp/target-actions.json")).get("actionExecutionDetails", [])
    pinned = [
        d for d in details
        if d.get("stageName") == "Deploy" and d.get("actionName") == "{ACTION}"
        and d.get("status") == "Succeeded"
        and "CONFIG_VERSIONS" in d.get("output", {{}}).get("outputVariables", {{}})
    ]
    if not pinned:
        sys.exit(
            f"execution {{rollback_of}}, which this rollback returns to, has no successful "
            "{ACTION} action, so the configuration it ran with is unknown: nothing is deployed"
        )
    versions = json.loads(pinned[0]["output"]["outputVariables"]["CONFIG_VERSIONS"])
    source = f"rollback:{{rollback_of}}"
else:
    found = json.load(open("/tmp/parameters.json")).get("Parameters", [])
    versions = sorted([p["Name"], int(p["Version"])] for p in found)
    source = "latest"
manifest_path = os.path.join(src, "{MANIFEST_FILE}")
manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {{}}
contracts = manifest.get("contracts_schema", False)
if not isinstance(contracts, bool):
    sys.exit(f"{MANIFEST_FILE}: contracts_schema must be true or false, got {{contracts!r}}")
snapshot = {{
    "schema": 1,
    "path": env["CONFIG_PATH"],
    "source": source,
    "parameters": [{{"name": name, "version": version}} for name, version in versions],
}}
with open(os.path.join(src, "{SNAPSHOT_FILE}"), "w") as out:
    json.dump(snapshot, out, indent=2, sort_keys=True)
encoded = json.dumps(versions, separators=(",", ":"))
if len(encoded) > {MAX_VERSIONS_BYTES}:
    sys.exit(
        f"{{len(versions)}} parameters under {{env['CONFIG_PATH']}} take {{len(encoded)}} bytes to "
        "record, more than a pipeline action's output variables hold (122,880 bytes in all); "
        "split the configuration"
    )
record = {{
    "schema": 1,
    "pipeline": env["PIPELINE_NAME"],
    "execution_id": env["PIPELINE_EXECUTION_ID"],
    "kind": env.get("RELEASE_KIND") or "code",
    "note": env.get("RELEASE_NOTE") or "-",
    "rollback_of": rollback_of,
    "commit": manifest.get("commit"),
    "contracts_schema": contracts,
    "config": snapshot,
    "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
}}
with open("/tmp/record.json", "w") as out:
    json.dump(record, out, indent=2, sort_keys=True)
exported = {{
    "CONFIG_VERSIONS": encoded,
    "CONFIG_DIGEST": hashlib.sha256(encoded.encode()).hexdigest()[:16],
    "CONFIG_COUNT": str(len(versions)),
    "CONFIG_SOURCE": source,
    "COMMIT_ID": manifest.get("commit") or "-",
    "CONTRACTS_SCHEMA": "true" if contracts else "false",
    "RELEASE_KIND": record["kind"],
    "ROLLBACK_OF": rollback_of or "-",
}}
with open("/tmp/exports.sh", "w") as out:
    out.writelines(f"export {{k}}={{shlex.quote(v)}}\\n" for k, v in exported.items())
names = ", ".join(name.rsplit("/", 1)[-1] for name, _ in versions) or "none"
print(f"{{source}}: {{len(versions)}} parameters under {{env['CONFIG_PATH']}}: {{names}}")
"""

CONFIGURE_BUILDSPEC = f"""\
version: 0.2
# Platform-owned (gh-aws-delivery): pins this release's configuration, records the release.
env:
  shell: bash
  exported-variables:
{textwrap.indent(chr(10).join(f"- {name}" for name in EXPORTED), "    ")}
phases:
  build:
    commands:
      - 'test -n "$PIPELINE_EXECUTION_ID" || {{ echo "PIPELINE_EXECUTION_ID is not set" >&2; exit 1; }}'
      - aws codepipeline get-pipeline-execution --pipeline-name "$PIPELINE_NAME" --pipeline-execution-id "$PIPELINE_EXECUTION_ID" --output json > /tmp/execution.json
{textwrap.indent(chr(10).join(f"- {command}" for command in REJECTED_COMMANDS), "      ")}
      - target="$(python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["pipelineExecution"]; print(e.get("rollbackMetadata", {{}}).get("rollbackTargetPipelineExecutionId", "") if e.get("executionType") == "ROLLBACK" else "")' /tmp/execution.json)"
      - 'if [ -n "$target" ]; then aws codepipeline list-action-executions --pipeline-name "$PIPELINE_NAME" --filter "pipelineExecutionId=$target" --output json > /tmp/target-actions.json; else echo "{{}}" > /tmp/target-actions.json; fi'
      # Names and versions only: without --with-decryption no SecureString value is read here.
      - 'if [ -z "$target" ]; then aws ssm get-parameters-by-path --path "$CONFIG_PATH" --output json > /tmp/parameters.json; else echo "{{}}" > /tmp/parameters.json; fi'
      - |
        python3 - <<'PY'
{textwrap.indent(_CONFIGURE_SCRIPT.rstrip(), " " * 8)}
        PY
      - source /tmp/exports.sh
      - aws s3 cp /tmp/record.json "s3://$RECORD_BUCKET/{RECORDS_PREFIX}$PIPELINE_NAME/$PIPELINE_EXECUTION_ID.json" --content-type application/json
artifacts:
  # The release as it came, and the snapshot beside its manifest.
  files:
    - '**/*'
"""


def configure_variables(
    *,
    service: str,
    stage: str,
    pipeline_name: str,
    config_path: str,
    record_bucket: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str] | None = None,
    release: tuple[pulumi.Input[str], str] | None = None,
) -> list[tuple[str, pulumi.Input[str]]]:
    """The Configure action's environment variables as (name, value) pairs, values possibly
    Outputs (the pipeline serializes them); `release` is the promoted release's (bucket name,
    object key)."""
    values: dict[str, pulumi.Input[str]] = {
        "PIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}",
        "PIPELINE_NAME": pipeline_name,
        "SERVICE": service,
        "STAGE": stage,
        "CONFIG_PATH": config_path,
        RELEASE_KIND_VARIABLE: f"#{{variables.{RELEASE_KIND_VARIABLE}}}",
        RELEASE_NOTE_VARIABLE: f"#{{variables.{RELEASE_NOTE_VARIABLE}}}",
        "RECORD_BUCKET": record_bucket,
    }
    if kms_key_arn is not None:
        values["CONFIG_KMS_KEY_ARN"] = kms_key_arn
    if release is not None:
        values["RELEASE_BUCKET"], values["RELEASE_KEY"] = release
        values["RELEASE_VERSION"] = "#{ReleaseSource.VersionId}"
    return list(values.items())


def environment_json(variables: list[dict[str, str]]) -> str:
    """Action `EnvironmentVariables` as CodePipeline reads them: compact JSON text."""
    return json.dumps(variables, separators=(",", ":"))
