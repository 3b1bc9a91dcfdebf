#!/usr/bin/env bash
# Installs a CPU Vulkan driver that Dawn (the npm package `webgpu`) accepts, plus Debian's
# Chromium for the browser test of @tessera/backend-webgpu, on Debian 12 (bookworm), as root.
#
# Debian 12's own lavapipe (Mesa 22.3) is rejected by Dawn, so Mesa's lavapipe comes from
# bookworm-backports (Mesa 25), from the same mirror the machine already uses. Idempotent:
# a second run with everything present does nothing but print the ICD path.
#
#   scripts/install-vulkan.sh            # install (if needed), print the ICD json path last
#   VK_ICD_FILENAMES=$(scripts/install-vulkan.sh | tail -n 1) node ...
#
# The last line of stdout is the lavapipe ICD json path; everything else goes to stderr.
set -euo pipefail

log() { echo "install-vulkan: $*" >&2; }

find_icd() {
  local f
  for f in /usr/share/vulkan/icd.d/lvp_icd.x86_64.json /usr/share/vulkan/icd.d/lvp_icd.json \
           /usr/share/vulkan/icd.d/lvp_icd.*.json; do
    if [ -f "$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

# lavapipe from Mesa >= 23 (Dawn rejects 22.x); the version of the installed package, if any.
mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23 && find_icd >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 -o -n "$(ldconfig -p 2>/dev/null | grep libvulkan.so.1 || true)" ]
}

chromium_ok() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (apt-get)"; exit 1
fi
if ! grep -q 'bookworm' /etc/os-release 2>/dev/null; then
  log "warning: written for Debian 12 (bookworm); this is: $(. /etc/os-release; echo "${PRETTY_NAME:-unknown}")"
fi

if mesa_ok && chromium_ok; then
  log "lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) and chromium already installed"
  find_icd
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive

# The Debian mirror the machine uses: first URI serving the plain bookworm suite, from the
# deb822 .sources files or the one-line sources.list format; deb.debian.org as a fallback.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '
    /^[[:space:]]*$/ { if (uri != "" && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) { print uri; exit } uri=""; suites=""; next }
    /^URIs:/   { uri=$2 }
    /^Suites:/ { $1=""; suites=$0 }
    END { if (uri != "" && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) print uri }
  ' "$f" | head -n 1)
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mirror=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == "bookworm") { print $i; exit } }' "$f")
    [ -n "$mirror" ] && break
  done
fi
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
log "Debian mirror: $mirror"

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding bookworm-backports"
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi

log "apt-get update"
apt-get update -qq >&2
if ! mesa_ok; then
  log "installing mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2
fi
if ! chromium_ok; then
  log "installing chromium"
  apt-get install -y -qq --no-install-recommends chromium >&2
fi

if ! mesa_ok; then
  log "lavapipe from Mesa >= 23 is still missing after the install"; exit 1
fi
log "installed lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers); chromium: $(command -v chromium || echo missing)"
find_icd
