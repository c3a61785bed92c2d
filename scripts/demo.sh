#!/usr/bin/env bash
# Sets up sioactor on a fresh machine and starts the chat demo on the embedded server:
# open http://127.0.0.1:3000 in two browser windows. Extra arguments go to examples/chat/server.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/chat/server.py "$@"
