#!/usr/bin/env bash
# Starts the kiosk in demo mode on its embedded default: local SQLite in a temporary folder, no server,
# no cloud credentials, touch mode, and a demo nurse PIN (1234) shown on screen. Set-up is automatic.
# Extra arguments go to qlq-kiosk (e.g. `bash scripts/run-demo.sh --windowed`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/bootstrap.sh

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "No display found: the kiosk needs a screen. Running it offscreen instead (nothing will be visible);" >&2
  echo "on a desktop, run this command from a graphical session." >&2
  export QT_QPA_PLATFORM=offscreen
fi
exec "$UV" run --frozen qlq-kiosk --demo "$@"
