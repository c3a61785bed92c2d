#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh machine, then runs ruff, mypy and pytest.
# Idempotent: a second run reuses .venv and node_modules when they are current.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test-tools
. .venv/bin/activate
ruff check sioactor tests examples
ruff format --check sioactor tests examples
mypy
exec pytest "$@"
