#!/usr/bin/env bash
# Idempotent set-up of a Debian machine with Node 20 for pmiplab:
# system packages (only those missing), npm dependencies (only when the
# lockfile changed), then a build. Used by the README commands, .ci/run and
# images/Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(iproute2 redis-server tshark tcpdump iperf3 iputils-ping nftables graphviz procps python3 python3-scapy chromium make g++)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  # tshark asks whether non-root users may capture: answer no, quietly.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then echo "setup: Node >= 20 needed, found $(node --version)" >&2; exit 1; fi

stamp=node_modules/.pmiplab-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

echo "setup: build"
npm run --silent build
echo "setup: ready"
