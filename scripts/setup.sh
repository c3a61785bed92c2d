#!/usr/bin/env bash
# Installs what sioactor needs to run its examples: a virtualenv with the package and its test extras,
# and the pinned npm clients (npm ci, from package-lock.json; the browser bundle of socket.io-client lives there).
# With --test-tools it also installs the Debian packages the tests drive (chromium, tmux, redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test-tools" ]; then
  need_apt=()
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
  command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
      echo "setup: missing ${need_apt[*]}; install them with apt-get as root; tests that need them are skipped" >&2
    fi
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
