#!/usr/bin/env bash
# AfterInstall: turn the wheels CodeDeploy copied into ${RELEASE_DIR} into a virtualenv, switch the
# ${VENV_LINK} symlink to it, and make systemd read the (possibly changed) unit file.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

wheelhouse="${RELEASE_DIR}/wheels"
compgen -G "${wheelhouse}/*.whl" >/dev/null ||
  die "no wheels in ${wheelhouse}: does buildspec.yml put release/** in the artifact?"

# One virtualenv per deployment, never modified in place: a venv cannot be moved (its scripts
# hard-code its path), so the live one is chosen by a symlink that is swapped atomically.
venv="${VENVS_DIR}/${DEPLOYMENT_ID:-manual-$(date -u +%Y%m%d%H%M%S)}"
rm -rf -- "${venv:?}"
log "creating ${venv}"
python3 -m venv "${venv}"
# --no-index: install exactly the wheels the pipeline built and tested, never a newer upload.
"${venv}/bin/python" -m pip install --quiet --no-index --find-links "${wheelhouse}" \
  "${wheelhouse}"/*.whl

ln -sfn "${venv}" "${VENV_LINK}.next"
mv -Tf "${VENV_LINK}.next" "${VENV_LINK}"
log "${VENV_LINK} -> ${venv}"

# Newest first; keep the live one and a few predecessors.
find "${VENVS_DIR}" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' |
  sort -rn | tail -n "+$((KEEP_VENVS + 1))" | cut -d' ' -f2- |
  while IFS= read -r old; do
    log "pruning ${old}"
    rm -rf -- "${old:?}"
  done

systemctl daemon-reload
