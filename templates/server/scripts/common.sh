#!/usr/bin/env bash
# Settings and helpers shared by the CodeDeploy hook scripts. Sourced by each hook, never run
# directly. The defaults are the contract with appspec.yml and deploy/myapp.service: when you rename
# the app, change APP_NAME here and every "myapp" in those two files together.
#
# CodeDeploy does not pass the pipeline's environment variables to the instance, so everything a
# hook needs is either defaulted here or read from the instance itself (ENVIRONMENT_FILE).
# Environment overrides exist for local runs and tests (HEALTH_URL=... ./validate_service.sh).

APP_NAME="${APP_NAME:-myapp}"
APP_USER="${APP_USER:-${APP_NAME}}"
APP_HOME="${APP_HOME:-/opt/${APP_NAME}}"
RELEASE_DIR="${RELEASE_DIR:-${APP_HOME}/release}"
VENV_LINK="${VENV_LINK:-${APP_HOME}/venv}"
VENVS_DIR="${VENVS_DIR:-${APP_HOME}/venvs}"
UNIT_NAME="${UNIT_NAME:-${APP_NAME}.service}"

# load_config.sh: the instance's environment, written by its launch template's user data
# (AWS_REGION=... unless the image sets the CLI's region; PARAMETER_PATH=/<service>/<stage>/ for
# bundles without config-snapshot.json), and the file it writes from Parameter Store, which
# deploy/myapp.service loads (EnvironmentFile=).
ENVIRONMENT_FILE="${ENVIRONMENT_FILE:-/etc/${APP_NAME}/environment}"
CONFIG_FILE="${CONFIG_FILE:-/etc/${APP_NAME}/config.env}"

# Virtualenvs kept after a deployment: the live one plus predecessors an operator can point the
# symlink back to by hand. A CodeDeploy rollback is a new deployment and builds its own.
KEEP_VENVS="${KEEP_VENVS:-3}"

# ValidateService: HEALTH_RETRIES * (HEALTH_INTERVAL + HEALTH_TIMEOUT) seconds at most. Keep that
# below the hook's timeout in appspec.yml (300 s), or CodeDeploy kills the script before it can
# print why the service is unhealthy.
HEALTH_URL="${HEALTH_URL:-http://127.0.0.1:8080/health}"
HEALTH_RETRIES="${HEALTH_RETRIES:-30}"
HEALTH_INTERVAL="${HEALTH_INTERVAL:-5}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-3}"

log() {
  # LIFECYCLE_EVENT and DEPLOYMENT_ID are set by the CodeDeploy agent; the output lands in
  # /opt/codedeploy-agent/deployment-root/.../logs/scripts.log and in the console's event log.
  printf '%s [%s %s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "${DEPLOYMENT_ID:-manual}" "${LIFECYCLE_EVENT:-local}" "$*"
}

die() {
  log "ERROR: $*" >&2
  exit 1
}

unit_installed() {
  systemctl cat "${UNIT_NAME}" >/dev/null 2>&1
}
