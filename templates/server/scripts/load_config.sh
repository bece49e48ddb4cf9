#!/usr/bin/env bash
# BeforeInstall, after before_install.sh: write this environment's configuration for the app.
#
# The release is the same in every environment, so what differs (API URLs, feature flags,
# secrets) is read here, on the instance, at each deployment, into ${CONFIG_FILE}: one
# NAME="value" line per variable, readable only by ${APP_USER}; the unit loads that file
# (EnvironmentFile=). config/load_config.py, shipped in the same bundle, does the reading; the
# release task and the Lambda loader use it too, so the rule is the same everywhere: the name is
# the parameter's name below the path, upper-cased, with every character that is not a letter or
# digit turned into "_" (/web/prod/feature.new-checkout becomes FEATURE_NEW_CHECKOUT); a value
# of __cicd_unset__ (what `cicd config unset` writes) leaves the variable out.
#
# Which values: the pipeline's Deploy stage puts config-snapshot.json at the root of the bundle,
# the exact parameter versions this release runs with (a rollback gets the versions its release
# had). CodeDeploy runs this script from the bundle it unpacked under the agent's deployment
# root, so the bundle is the directory above scripts/. A bundle without a snapshot (a release
# deployed by a pipeline without runtime configuration) gets what this script read before: the
# newest version of every parameter under PARAMETER_PATH.
#
# ${ENVIRONMENT_FILE} is written by the launch template's user data: AWS_REGION=... (optional
# when the image configures the CLI's region) and, for bundles without a snapshot only,
# PARAMETER_PATH=/web/prod/ (the stack's runtime_config.path; default /<service>/<stage>).
# CodeDeploy gives hooks its own names only (application, deployment group, deployment id), not
# the pipeline's variables. The instance profile needs the stack's per-service managed policy,
# output services.<name>.config_reader_policy_arn: ssm:GetParameters on the path's parameters,
# ssm:GetParametersByPath on the path, kms:Decrypt through SSM on the key of SecureString ones.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

bundle_dir="$(dirname "$(dirname "$(readlink -f "$0")")")"
snapshot="${bundle_dir}/config-snapshot.json"
reader="${bundle_dir}/config/load_config.py"

command -v aws >/dev/null 2>&1 ||
  die "the AWS CLI (aws) is required to read Parameter Store; add it to the instance image"
command -v python3 >/dev/null 2>&1 || die "python3 is required"
[[ -r "${reader}" ]] ||
  die "${reader} is missing: list config/load_config.py in buildspec.yml's artifacts.files"

# NAME=value from ENVIRONMENT_FILE (the last one wins, surrounding quotes dropped). Read, not
# sourced: nothing in it runs.
setting() {
  local value
  [[ -r "${ENVIRONMENT_FILE}" ]] || return 0
  value="$(sed -n "s/^[[:space:]]*$1=//p" "${ENVIRONMENT_FILE}" | tail -n 1)"
  value="${value%\"}" && value="${value#\"}" && value="${value%\'}" && value="${value#\'}"
  printf '%s' "${value}"
}

if [[ -f "${snapshot}" ]]; then
  source_args=(--snapshot "${snapshot}")
  log "reading the parameter versions ${snapshot##*/} pins"
else
  [[ -r "${ENVIRONMENT_FILE}" ]] ||
    die "this bundle has no config-snapshot.json and ${ENVIRONMENT_FILE} is missing, so this" \
      "instance does not know its environment. Have the launch template's user data write it," \
      "e.g. PARAMETER_PATH=/${APP_NAME}/staging/"
  parameter_path="$(setting PARAMETER_PATH)"
  [[ "${parameter_path}" == /* ]] ||
    die "${ENVIRONMENT_FILE}: PARAMETER_PATH is '${parameter_path}'; expected a Parameter Store" \
      "path such as /${APP_NAME}/staging/"
  source_args=(--path "${parameter_path}")
  log "no config-snapshot.json in this bundle: reading every parameter under ${parameter_path}"
fi
region="$(setting AWS_REGION)"
if [[ -n "${region}" ]]; then
  export AWS_REGION="${region}" AWS_DEFAULT_REGION="${region}"
fi

# Build the new file next to the old one and swap it in with one rename: a failure below leaves
# the previous configuration in place, and no one ever reads a half-written file.
config_dir="$(dirname "${CONFIG_FILE}")"
install -d -m 0755 "${config_dir}"
umask 077
work="$(mktemp -d "${config_dir}/.load_config.XXXXXX")"
trap 'rm -rf -- "${work}"' EXIT

# Names only, on stderr: the values may be secrets, and this log ends up in the deployment's
# console. Double quotes with \ " $ ` escaped: read the same way by systemd's EnvironmentFile=
# and by bash (set -a; source), with no expansion of what a value holds.
python3 "${reader}" "${source_args[@]}" --format env --output "${work}/config.env" ||
  die "nothing written; ${CONFIG_FILE} is unchanged"

chown "${APP_USER}:" "${work}/config.env"
chmod 0600 "${work}/config.env"
mv -f "${work}/config.env" "${CONFIG_FILE}"
log "wrote ${CONFIG_FILE} for ${APP_USER}"
