#!/usr/bin/env bash
# Makes a headless Chromium available for the console's browser test (packages/console), which
# drives it with playwright-core (playwright-core never downloads a browser of its own).
#
# Idempotent: does nothing when Chromium is already installed. Otherwise, on Debian, installs
# Debian's `chromium` package with apt-get. Elsewhere it says what to install and exits 1: a missing
# browser fails loudly, the browser test never skips.
#
# Writes the browser's path to .tools/chromium-path, which the browser test reads
# (TRIBUTARY_CHROMIUM overrides it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools"
mkdir -p "$TOOLS_DIR"
log() { printf '[install-chromium] %s\n' "$*" >&2; }

fail() {
  log "$*"
  log "Install Chromium (Debian: apt-get install chromium), then set TRIBUTARY_CHROMIUM to its executable."
  exit 1
}

record() { # $1 = the executable
  printf '%s\n' "$1" >"$TOOLS_DIR/chromium-path"
  log "Chromium: $1 ($("$1" --version 2>/dev/null || echo 'version unknown'))"
}

if [ -n "${TRIBUTARY_CHROMIUM:-}" ]; then
  [ -x "$TRIBUTARY_CHROMIUM" ] || fail "TRIBUTARY_CHROMIUM=$TRIBUTARY_CHROMIUM is not an executable"
  record "$TRIBUTARY_CHROMIUM"
  exit 0
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then record "$candidate"; exit 0; fi
done

[ -r /etc/os-release ] || fail "no /etc/os-release: cannot tell how to install Chromium here"
# shellcheck disable=SC1091
. /etc/os-release
[ "${ID:-}" = debian ] || fail "this script installs on Debian only (found ${ID:-unknown})"

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || fail "installing needs root (or sudo) for apt-get"
  SUDO=(sudo)
fi
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
log "Debian ${VERSION_ID:-?}: installing chromium (and fonts for readable screenshots)"
"${APT[@]}" update >&2
"${APT[@]}" install --no-install-recommends chromium fonts-liberation >&2
[ -x /usr/bin/chromium ] || fail "apt-get installed chromium but /usr/bin/chromium is missing"
record /usr/bin/chromium
