#!/usr/bin/env bash
# ApplicationStop: stop the running service before the new revision's files are installed.
#
# CodeDeploy runs this hook from the *previously* deployed revision, and not at all on the first
# deployment to an instance, so it must succeed when the unit does not exist. A broken version of
# this script blocks every later deployment; the way out is a deployment with
# `--ignore-application-stop-failures`.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

if ! unit_installed; then
  log "${UNIT_NAME} is not installed; nothing to stop"
  exit 0
fi

if systemctl is-active --quiet "${UNIT_NAME}"; then
  log "stopping ${UNIT_NAME}"
  systemctl stop "${UNIT_NAME}"
else
  log "${UNIT_NAME} is not running"
fi
