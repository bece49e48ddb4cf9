#!/usr/bin/env bash
# BeforeInstall: prepare the instance for the files CodeDeploy is about to copy (appspec.yml
# `files:`): the service account, the application directory, and an empty release directory.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

# The build ships wheels, not an interpreter: the instance image must provide python3 with the
# same minor version and CPU architecture the build used (see buildspec.yml).
command -v python3 >/dev/null 2>&1 ||
  die "python3 is not installed; add it to the AMI or the launch template's user data"

if ! id -u "${APP_USER}" >/dev/null 2>&1; then
  log "creating system user ${APP_USER}"
  useradd --system --user-group --home-dir "${APP_HOME}" --no-create-home \
    --shell /sbin/nologin "${APP_USER}"
fi

install -d -m 0755 -o root -g root "${APP_HOME}" "${VENVS_DIR}"

# Start each release from an empty directory so that files deleted from the app do not linger;
# the code stays root-owned so the service account cannot modify what it runs.
rm -rf -- "${RELEASE_DIR:?}"
install -d -m 0755 -o root -g root "${RELEASE_DIR}"
log "ready to install into ${RELEASE_DIR}"
