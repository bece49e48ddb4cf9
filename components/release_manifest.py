"""The release manifest: what the `Package` step writes and the `Describe` step reads.

Every release carries `release-manifest.json` at its root (commit, message, repository, branch,
where and by which execution and build it was built), so a stage that deploys a promoted release
still speaks of commits; a scanned service's release also carries the scan's SBOM in `sbom/`. Defines the two platform-owned buildspecs (CodeBuild projects the
pipelines run, not files in the application repository) and the variables they need. The
file's format is a contract with the `cicd` tool. Nothing here declares resources.

Why CodeBuild projects and not the V2 Commands action: the Package step needs this execution's
id, and only the CodeBuild action's `EnvironmentVariables` is documented to resolve pipeline
variables such as `#{codepipeline.PipelineExecutionId}`; pulumi-aws offers no environment
variables on a Commands action.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from components import approval_evidence
from components.release_channel import MANIFEST_FILE
from components.release_config import REJECTED_COMMANDS, RELEASE_OPTIONS_FILE

EXECUTION_ID_VARIABLE = "PIPELINE_EXECUTION_ID"
RELEASE_VARIABLES = ("COMMIT_ID", "COMMIT_MESSAGE", "REPOSITORY", *approval_evidence.VARIABLES)
"""What `Describe` exports for the approval: the manifest's commit, message and repository, and
the evidence `components.approval_evidence` computes (what runs now and the commits since, the
upstream's verification and bake, the watched alarms' state)."""
# The step runs the module's own source (from its first import: the docstring stays here), so
# what the tests exercise is what CodeBuild runs.
_EVIDENCE_SOURCE = Path(approval_evidence.__file__).read_text()
_EVIDENCE_SCRIPT = _EVIDENCE_SOURCE[_EVIDENCE_SOURCE.index("from __future__") :]
SCAN_ARTIFACT = "ScanArtifact"
"""The InspectorScan action's output: the SBOM of the source, a second input of Package."""
SBOM_FOLDER = "sbom"
"""Where the release carries that SBOM, next to the manifest (a contract with `cicd info`)."""

# The manifest's facts come from CodePipeline's own record of this execution (its source
# revision, and the Build action's CodeBuild id) and from project variables. The commit message
# reaches the script as data from the API, never through the shell: a message cannot inject
# commands into a step that may read the pipeline's executions.
_MANIFEST_SCRIPT = """\
import datetime, json, os, sys
execution = json.load(open(sys.argv[1]))["pipelineExecution"]
actions = json.load(open(sys.argv[2]))["actionExecutionDetails"]
revisions = execution.get("artifactRevisions", [])
source = ([r for r in revisions if r.get("name") == "SourceArtifact"] or revisions)[0]
summary = source.get("revisionSummary") or ""
message = json.loads(summary).get("CommitMessage", "") if summary.startswith("{") else summary
builds = [
    a.get("output", {}).get("executionResult", {}).get("externalExecutionId")
    for a in actions
    if a.get("stageName") == "Build" and a.get("actionName") == "Build"
]
options_path = os.path.join(os.environ["CODEBUILD_SRC_DIR"], "{RELEASE_OPTIONS_FILE}")
options = json.load(open(options_path)) if os.path.exists(options_path) else {}
contracts = options.get("contracts_schema", False) if isinstance(options, dict) else None
if not isinstance(contracts, bool):
    sys.exit(f"{RELEASE_OPTIONS_FILE}: contracts_schema must be true or false, got {contracts!r}")
manifest = {
    "schema": 1,
    "service": os.environ["SERVICE"],
    "commit": source["revisionId"],
    "message": message[:200],
    "repository": os.environ["REPOSITORY"],
    "branch": os.environ["BRANCH"],
    "stage": os.environ["STAGE"],
    "pipeline": os.environ["PIPELINE_NAME"],
    "pipeline_execution_id": execution["pipelineExecutionId"],
    "build_id": (builds or [None])[0],
    "contracts_schema": contracts,
    "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
}
print(json.dumps(manifest, indent=2, sort_keys=True))
""".replace("{RELEASE_OPTIONS_FILE}", RELEASE_OPTIONS_FILE)

PACKAGE_BUILDSPEC = f"""\
version: 0.2
# Platform-owned (gh-aws-delivery): adds {MANIFEST_FILE} to the build's output, unchanged.
env:
  shell: bash
phases:
  build:
    commands:
      - 'test -n "${EXECUTION_ID_VARIABLE}" || {{ echo "{EXECUTION_ID_VARIABLE} is not set" >&2; exit 1; }}'
      - aws codepipeline get-pipeline-execution --pipeline-name "$PIPELINE_NAME" --pipeline-execution-id "${EXECUTION_ID_VARIABLE}" --output json > /tmp/execution.json
      - aws codepipeline list-action-executions --pipeline-name "$PIPELINE_NAME" --filter "pipelineExecutionId=${EXECUTION_ID_VARIABLE}" --output json > /tmp/actions.json
      - |
        python3 - /tmp/execution.json /tmp/actions.json > "$CODEBUILD_SRC_DIR/{MANIFEST_FILE}" <<'PY'
{textwrap.indent(_MANIFEST_SCRIPT.rstrip(), " " * 8)}
        PY
      - cat "$CODEBUILD_SRC_DIR/{MANIFEST_FILE}"
      # With a scan, CodeBuild puts its output (the SBOM) in a secondary source directory named
      # after the artifact; it goes into the release so it is promoted with the code it describes.
      - |
        if [ -n "${{CODEBUILD_SRC_DIR_{SCAN_ARTIFACT}:-}}" ]; then
          rm -rf "$CODEBUILD_SRC_DIR/{SBOM_FOLDER}"
          mkdir -p "$CODEBUILD_SRC_DIR/{SBOM_FOLDER}"
          cp -R "$CODEBUILD_SRC_DIR_{SCAN_ARTIFACT}/." "$CODEBUILD_SRC_DIR/{SBOM_FOLDER}/"
          ls -l "$CODEBUILD_SRC_DIR/{SBOM_FOLDER}"
        fi
artifacts:
  # The primary source's directory: the build's files as they came, and the manifest.
  files:
    - '**/*'
"""

_READ = "json.load(open(sys.argv[1]))"
DESCRIBE_BUILDSPEC = f"""\
version: 0.2
# Platform-owned (gh-aws-delivery): exports the release's commit and the evidence for the approval.
env:
  shell: bash
  exported-variables:
{textwrap.indent(chr(10).join(f"- {name}" for name in RELEASE_VARIABLES), "    ")}
phases:
  build:
    commands:
      # A release rejected upstream (`cicd reject`) is refused before anyone is asked to approve.
{textwrap.indent(chr(10).join(f"- {command}" for command in REJECTED_COMMANDS), "      ")}
      - |
        manifest="$CODEBUILD_SRC_DIR/{MANIFEST_FILE}"
        test -f "$manifest" || {{ echo "the release has no {MANIFEST_FILE}" >&2; exit 1; }}
        export COMMIT_ID="$(python3 -c 'import json, sys; print({_READ}["commit"])' "$manifest")"
        # One line of at most 100 characters: it goes into the approval's CustomData.
        export COMMIT_MESSAGE="$(python3 -c 'import json, sys; print(" ".join({_READ}["message"].split())[:100])' "$manifest")"
        export REPOSITORY="$(python3 -c 'import json, sys; print({_READ}["repository"])' "$manifest")"
        # The evidence (components/approval_evidence.py): one file per variable, read back as is.
        evidence="$(mktemp -d)"
        AWS_CLI="$(command -v aws)" python3 - "$manifest" "$evidence" <<'PY'
{textwrap.indent(_EVIDENCE_SCRIPT.rstrip(), " " * 8)}
        PY
{textwrap.indent(chr(10).join(f'export {name}="$(cat "$evidence/{name}")"' for name in approval_evidence.VARIABLES), " " * 8)}
"""


def package_variables(
    *, service: str, stage: str, repository: str, branch: str, pipeline_name: str
) -> str:
    """The Package action's EnvironmentVariables: this pipeline's facts and execution id.

    Passed by the action rather than set on the project, so one project serves every pipeline
    of a stage. The configuration is checked by config validation to need no quoting.
    """
    values = {
        EXECUTION_ID_VARIABLE: "#{codepipeline.PipelineExecutionId}",
        "SERVICE": service,
        "STAGE": stage,
        "REPOSITORY": repository,
        "BRANCH": branch,
        "PIPELINE_NAME": pipeline_name,
    }
    return json.dumps(
        [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in values.items()],
        separators=(",", ":"),
    )
