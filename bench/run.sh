#!/usr/bin/env bash
# The benchmark, in one command:  bash bench/run.sh [--quick] [run.py flags, e.g. --servers node,sioactor-trio]
# Sets up the bench's pinned npm packages and the Python reference server's packages, raises the fd limit
# for 10,000 connections, then runs bench/run.py (full run ≈ 12–15 min on 2 cores; --quick ≈ 1–2 min).
# Not part of the test command. Every process it starts is stopped by PID, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  npm ci --prefix bench --no-audit --no-fund --loglevel=error
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import socketio, uvicorn, uvloop, httptools, websockets' 2>/dev/null; then
  .venv/bin/python -m pip install -q -e '.[bench]'
fi
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }

# 10,000 idle connections need ~10k descriptors in the server and as many in the load generator.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10240 ]; then
  echo "bench: fd limit $(ulimit -n) is below 10240; the 10k idle scenario will fail" >&2
fi

runner=""
stop_runner() {
  # run.py stops its own server and load generator on SIGTERM/SIGINT (by PID, in its finally blocks).
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
}
trap stop_runner EXIT INT TERM
.venv/bin/python bench/run.py "$@" &
runner=$!
wait "$runner"
