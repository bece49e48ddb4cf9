#!/usr/bin/env bash
# BeforeInstall, after before_install.sh: write this environment's configuration for the app.
#
# The release is the same in every environment, so what differs (API URLs, feature flags,
# secrets) is read here, on the instance, at each deployment: every parameter under the
# instance's PARAMETER_PATH in Parameter Store, decrypted, goes into ${CONFIG_FILE} as a
# NAME="value" line, readable only by ${APP_USER}; the unit loads that file (EnvironmentFile=).
# The name is the parameter's path below PARAMETER_PATH, upper-cased, with every character that
# is not a letter or digit turned into "_": /myapp/prod/db/url becomes DB_URL.
#
# Which environment this instance is in, it learns from ${ENVIRONMENT_FILE}, which its launch
# template's user data writes (PARAMETER_PATH=/myapp/prod/, optionally AWS_REGION=...):
# CodeDeploy gives hooks its own names only (application, deployment group, deployment id), not
# the pipeline's variables. The instance profile needs ssm:GetParametersByPath on the path, and
# kms:Decrypt on the key of SecureString parameters under a customer managed key.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

command -v aws >/dev/null 2>&1 ||
  die "the AWS CLI (aws) is required to read Parameter Store; add it to the instance image"
command -v python3 >/dev/null 2>&1 || die "python3 is required"

[[ -r "${ENVIRONMENT_FILE}" ]] ||
  die "${ENVIRONMENT_FILE} is missing, so this instance does not know its environment. Have" \
    "the launch template's user data write it, e.g. PARAMETER_PATH=/${APP_NAME}/staging/"

# NAME=value from ENVIRONMENT_FILE (the last one wins, surrounding quotes dropped). Read, not
# sourced: nothing in it runs.
setting() {
  local value
  value="$(sed -n "s/^[[:space:]]*$1=//p" "${ENVIRONMENT_FILE}" | tail -n 1)"
  value="${value%\"}" && value="${value#\"}" && value="${value%\'}" && value="${value#\'}"
  printf '%s' "${value}"
}

parameter_path="$(setting PARAMETER_PATH)"
[[ "${parameter_path}" == /* ]] ||
  die "${ENVIRONMENT_FILE}: PARAMETER_PATH is '${parameter_path}'; expected a Parameter Store" \
    "path such as /${APP_NAME}/staging/"
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

log "reading every parameter under ${parameter_path}"
aws ssm get-parameters-by-path --path "${parameter_path}" --recursive --with-decryption \
  --output json >"${work}/parameters.json" ||
  die "could not read ${parameter_path} from Parameter Store: may the instance profile call" \
    "ssm:GetParametersByPath on it (and kms:Decrypt for SecureString parameters)?"

# Double quotes with \ " $ ` escaped: read the same way by systemd's EnvironmentFile= and by bash
# (set -a; source), with no expansion of what a value holds.
names="$(
  python3 - "${parameter_path}" "${work}" "${ENVIRONMENT_FILE}" <<'PY'
import json
import re
import sys

path, work, environment_file = sys.argv[1:]
root = path.rstrip("/") + "/"
with open(f"{work}/parameters.json") as f:
    parameters = json.load(f).get("Parameters") or []
if not parameters:
    sys.exit(f"no parameters under {root}: create them there, or correct PARAMETER_PATH in "
             f"{environment_file}")
lines, seen, problems = [], {}, []
for parameter in sorted(parameters, key=lambda p: p["Name"]):
    relative = parameter["Name"][len(root):]
    name = re.sub(r"[^A-Za-z0-9]", "_", relative).upper()
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
        problems.append(f"{parameter['Name']} gives {name!r}, which is not a variable name")
    elif name in seen:
        problems.append(f"{parameter['Name']} and {seen[name]} both give {name}")
    seen[name] = parameter["Name"]
    value = re.sub(r'([\\"$`])', r"\\\1", parameter["Value"])
    lines.append(f'{name}="{value}"\n')
if problems:
    sys.exit("; ".join(problems))
with open(f"{work}/config.env", "w") as f:
    f.writelines(lines)
print(" ".join(seen))
PY
)" || die "nothing written; ${CONFIG_FILE} is unchanged"

chown "${APP_USER}:" "${work}/config.env"
chmod 0600 "${work}/config.env"
mv -f "${work}/config.env" "${CONFIG_FILE}"
# Names only: the values may be secrets, and this log ends up in the deployment's console.
log "wrote ${CONFIG_FILE} for ${APP_USER}: ${names}"
