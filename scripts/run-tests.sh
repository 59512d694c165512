#!/usr/bin/env bash
# `npm test`: makes sure the Debian test peers are present, then runs the whole mocha suite
# on the compiled output (npm's `pretest` has already run `tsc`).
set -euo pipefail
cd "$(dirname "$0")/.."

peers=(baresip sipp sox tshark linphonec socat)
missing=()
for bin in "${peers[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "npm test: test peers missing (${missing[*]}); installing them with scripts/install-test-peers.sh"
    bash scripts/install-test-peers.sh
  else
    echo "npm test: test peers missing: ${missing[*]}" >&2
    echo "Install them once with:  sudo scripts/install-test-peers.sh" >&2
    exit 1
  fi
fi

# With no arguments, the whole suite; otherwise the files given.
if [ $# -eq 0 ]; then set -- "dist/test/**/*.test.js"; fi
exec npx --no-install mocha "$@"
