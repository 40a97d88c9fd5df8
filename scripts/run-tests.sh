#!/usr/bin/env bash
# The whole test suite: set-up (scripts/bootstrap.sh), lint (ruff), types (mypy), import layering
# (import-linter: the contracts in pyproject.toml), then pytest:
# unit, integration (real SQLite files, real PostgreSQL, gRPC fakes), UI (pytest-qt, offscreen) and e2e.
# Extra arguments go to pytest (e.g. `bash scripts/run-tests.sh tests/unit -x`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OPTIONAL_DEBIAN_PACKAGES=(pspp)  # GNU PSPP re-reads the .sav exports (tests/unit/server_exports)
TEST_DEBIAN_PACKAGES=(chromium cage xwayland gnome-keyring dbus-daemon)  # tests/browser: the real browser; tests/e2e: cage + Xwayland (the .deb's kiosk session), a real keyring for the self-test
source scripts/bootstrap.sh

export QT_QPA_PLATFORM=offscreen
export QT_LOGGING_RULES="qt.multimedia.*=false"
export GRPC_VERBOSITY=ERROR
export PYTHONDONTWRITEBYTECODE=1

echo "== ruff (lint) =="
"$UV" run --frozen ruff check .
echo "== ruff (format: the code is as ruff format leaves it; run it to fix) =="
"$UV" run --frozen ruff format --check .
echo "== mypy (types: strict on kiosk, sync_server and bench; tests too, eased as pyproject.toml says) =="
"$UV" run --frozen mypy
echo "== import-linter (layering contracts in pyproject.toml) =="
"$UV" run --frozen lint-imports --no-cache
echo "== pytest =="
"$UV" run --frozen pytest "$@"
