#!/usr/bin/env bash
# ValidateService: succeed once the service answers its health check; fail the deployment (and let
# the deployment group roll back, if configured) when it does not answer in time.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

command -v curl >/dev/null 2>&1 || die "curl is required for the health check"

tried=0
for ((attempt = 1; attempt <= HEALTH_RETRIES; attempt++)); do
  tried=${attempt}
  if curl --fail --silent --show-error --max-time "${HEALTH_TIMEOUT}" \
    --output /dev/null "${HEALTH_URL}"; then
    log "healthy: ${HEALTH_URL} (attempt ${attempt}/${HEALTH_RETRIES})"
    exit 0
  fi
  log "not healthy yet: ${HEALTH_URL} (attempt ${attempt}/${HEALTH_RETRIES})"
  # A unit that systemd gave up on will not become healthy; stop waiting.
  if systemctl is-failed --quiet "${UNIT_NAME}"; then
    break
  fi
  if ((attempt < HEALTH_RETRIES)); then
    sleep "${HEALTH_INTERVAL}"
  fi
done

# The deployment's event log is where people look first: put the reason there.
systemctl status --no-pager "${UNIT_NAME}" 2>&1 | head -n 20 || true
journalctl --unit "${UNIT_NAME}" --lines 50 --no-pager 2>&1 || true
die "${UNIT_NAME} did not pass ${HEALTH_URL} after ${tried} attempt(s)"
