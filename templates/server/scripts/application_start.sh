#!/usr/bin/env bash
# ApplicationStart: (re)start the service on the new release.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

unit_installed ||
  die "${UNIT_NAME} is not installed: is deploy/${UNIT_NAME} listed in appspec.yml files:?"

systemctl daemon-reload
systemctl enable "${UNIT_NAME}"
# restart, not start: ApplicationStop did not run on a first deployment, or was skipped with
# --ignore-application-stop-failures, so the old process may still be up.
log "restarting ${UNIT_NAME}"
systemctl restart "${UNIT_NAME}"
