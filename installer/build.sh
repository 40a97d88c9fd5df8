#!/usr/bin/env bash
# Builds the kiosk's one-folder bundle with PyInstaller, archives it, writes its sha256 and, when a signing key
# is configured, signs the archive (installer/sign.sh). PyInstaller does not cross-compile: build the Linux
# bundle on the oldest Linux the tablets run, the Windows one on Windows (see installer/README.md).
#   bash installer/build.sh [OUT_DIR]          (default: dist/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/dist}")"
cd "$ROOT"
source scripts/bootstrap.sh
"$UV" run --frozen --extra installer pyinstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT" --workpath "$OUT/.build" installer/kiosk.spec
VERSION="$("$UV" run --frozen python -c 'import kiosk; print(kiosk.__version__)')"
ARCHIVE="$OUT/qlq-kiosk-$VERSION-linux-$(uname -m).tar.gz"
tar -C "$OUT" -czf "$ARCHIVE" qlq-kiosk
(cd "$OUT" && sha256sum "$(basename "$ARCHIVE")" > "$(basename "$ARCHIVE").sha256")
if [ -n "${QLQ_SIGNING_KEY:-}" ]; then bash installer/sign.sh "$ARCHIVE"; else
  echo "QLQ_SIGNING_KEY not set: archive left unsigned (see installer/README.md)" >&2; fi
echo "$ARCHIVE"
