#!/usr/bin/env bash
# Installs the Debian test peers Ciphergate's integration tests run against:
# baresip (TLS/SRTP client), SIPp (load and scenarios), sox (audio checks),
# tshark (proof a leg is encrypted), linphonec (certificate-verifying client).
# Must run as root on Debian 12. Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(baresip-core sip-tester sox tshark linphone-cli socat)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-peers: must run as root (try: sudo $0)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-peers: all peers present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-test-peers: installed ${missing[*]}"
