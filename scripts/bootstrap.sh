#!/usr/bin/env bash
# Sourced by scripts/demo.sh and scripts/test.sh. Makes Node >= 22 and the pinned pnpm
# available without asking the user to install anything by hand, then installs the workspace.
#
# - Node: the system Node is used when it is >= 22; otherwise the official binary is fetched
#   from the npm registry (package node-<platform>-<arch>@22) into .tools/node.
# - pnpm: the version pinned in package.json "packageManager" is installed into .tools/pnpm
#   with the system npm (pnpm itself then runs on Node 22).
set -euo pipefail

TRIBUTARY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$TRIBUTARY_ROOT/.tools"
REQUIRED_NODE_MAJOR=22
mkdir -p "$TOOLS_DIR/bin"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local system_node path_without_tools
  # Look for Node outside .tools/bin, which may already be on PATH (and holds our own link).
  path_without_tools="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$TOOLS_DIR/bin" | paste -sd: -)"
  system_node="$(PATH="$path_without_tools" command -v node || true)"
  if [ -n "$system_node" ] && [ "$(node_major "$system_node")" -ge "$REQUIRED_NODE_MAJOR" ]; then
    ln -sf "$system_node" "$TOOLS_DIR/bin/node"
    return
  fi
  local platform arch package local_node
  case "$(uname -s)" in
    Linux) platform=linux ;;
    Darwin) platform=darwin ;;
    *) log "unsupported OS $(uname -s): install Node >= $REQUIRED_NODE_MAJOR yourself"; exit 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "unsupported CPU $(uname -m): install Node >= $REQUIRED_NODE_MAJOR yourself"; exit 1 ;;
  esac
  package="node-$platform-$arch"
  local_node="$TOOLS_DIR/node/node_modules/$package/bin/node"
  if [ ! -x "$local_node" ] || [ "$(node_major "$local_node")" -lt "$REQUIRED_NODE_MAJOR" ]; then
    if ! command -v npm >/dev/null; then
      log "npm is needed to fetch Node $REQUIRED_NODE_MAJOR (found no npm on PATH)"; exit 1
    fi
    log "system Node is $(node --version 2>/dev/null || echo missing); fetching $package@$REQUIRED_NODE_MAJOR from the npm registry"
    npm install --prefix "$TOOLS_DIR/node" --no-save --no-audit --no-fund --loglevel=error \
      "$package@$REQUIRED_NODE_MAJOR" >&2
  fi
  ln -sf "$local_node" "$TOOLS_DIR/bin/node"
}

ensure_pnpm() {
  local wanted pnpm_entry
  wanted="$("$TOOLS_DIR/bin/node" -p 'require(process.argv[1]).packageManager.split("@")[1]' "$TRIBUTARY_ROOT/package.json")"
  pnpm_entry="$TOOLS_DIR/pnpm/node_modules/pnpm/bin/pnpm.cjs"
  if [ ! -f "$pnpm_entry" ] || [ "$("$TOOLS_DIR/bin/node" "$pnpm_entry" --version)" != "$wanted" ]; then
    log "installing pnpm@$wanted into .tools/pnpm"
    npm install --prefix "$TOOLS_DIR/pnpm" --no-save --no-audit --no-fund --loglevel=error \
      "pnpm@$wanted" >&2
  fi
  cat >"$TOOLS_DIR/bin/pnpm" <<SHIM
#!/usr/bin/env bash
exec "$TOOLS_DIR/bin/node" "$pnpm_entry" "\$@"
SHIM
  chmod +x "$TOOLS_DIR/bin/pnpm"
}

ensure_node
export PATH="$TOOLS_DIR/bin:$PATH"
ensure_pnpm
log "node $(node --version), pnpm $(pnpm --version)"

# Install the workspace exactly as locked (CI and fresh clones get the same tree).
# With TRIBUTARY_INSTALL_LOG set (the demo does), its output goes to that file unless it fails.
if [ "${TRIBUTARY_SKIP_INSTALL:-0}" != "1" ]; then
  if [ -n "${TRIBUTARY_INSTALL_LOG:-}" ]; then
    mkdir -p "$(dirname "$TRIBUTARY_INSTALL_LOG")"
    if ! (cd "$TRIBUTARY_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >"$TRIBUTARY_INSTALL_LOG" 2>&1); then
      tail -n 40 "$TRIBUTARY_INSTALL_LOG" >&2
      log "pnpm install failed; the whole log is in $TRIBUTARY_INSTALL_LOG"
      exit 1
    fi
  else
    (cd "$TRIBUTARY_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
  fi
fi
