#!/usr/bin/env bash
# Emergency zeroing of a Ciphergate gateway (Linux): runs `ciphergate zeroize` with the arguments
# given, e.g.
#   scripts/ims-zeroing.sh --config /etc/ciphergate.yaml          (asks for ZEROIZE on a terminal)
#   scripts/ims-zeroing.sh --yes --set dataDir=/var/lib/ciphergate  (unattended)
#   scripts/ims-zeroing.sh --dry-run --config /etc/ciphergate.yaml  (lists targets, changes nothing)
# Run it as the user that owns the data directory (or root). See docs/OPERATIONS.md.
#
# Node is taken from $CIPHERGATE_NODE, else <install>/node/bin/node, else the PATH (sudo may reset
# PATH: set CIPHERGATE_NODE or use sudo -E). The CLI is found relative to this script, so the
# script works from any working directory and through a symbolic link.
set -euo pipefail

self="${BASH_SOURCE[0]}"
if command -v readlink >/dev/null 2>&1 && real="$(readlink -f -- "$self" 2>/dev/null)"; then self="$real"; fi
root="$(cd -- "$(dirname -- "$self")/.." && pwd -P)"
cli="$root/dist/gateway/cli.js"

node="${CIPHERGATE_NODE:-}"
if [ -z "$node" ]; then
  if [ -x "$root/node/bin/node" ]; then
    node="$root/node/bin/node"
  elif command -v node >/dev/null 2>&1; then
    node="$(command -v node)"
  else
    echo "ims-zeroing: node not found; set CIPHERGATE_NODE=/path/to/node" >&2
    exit 127
  fi
fi
if [ ! -f "$cli" ]; then
  echo "ims-zeroing: $cli not found; build the gateway first (npm run build)" >&2
  exit 1
fi

exec "$node" "$cli" zeroize "$@"
