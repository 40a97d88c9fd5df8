#!/usr/bin/env bash
# Builds the kiosk's one-folder bundle with PyInstaller, archives it as qlq-kiosk-VERSION-OS-ARCH.tar.gz, and
# writes beside it: its .sha256, its CycloneDX SBOM (.cdx.json, from uv.lock: installer/sbom.py) and, when a
# signing key is configured, its signature and signed manifest (installer/sign.sh). PyInstaller does not
# cross-compile: each OS builds its own (.github/workflows/release.yml, installer/README.md).
#   bash installer/build.sh [OUT_DIR]          (default: dist/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/dist}" 2>/dev/null || python3 -c 'import os,sys; print(os.path.abspath(sys.argv[1]))' "${1:-$ROOT/dist}")"
cd "$ROOT"
source scripts/bootstrap.sh
# The French audio pack ships in the bundle (resources/audio/fr; the self-test fails a bundle without it). Only
# missing or reworded clips are synthesised. QLQ_AUDIO_ENGINE=google uses Google Text-to-Speech (credentials in the
# keyring or GOOGLE_APPLICATION_CREDENTIALS), else espeak-ng (installed by the bootstrap). QLQ_AUDIO_PACK_READY=1:
# the pack is already in resources/audio/fr (the release workflow builds it once on Linux for every OS).
if [ "${QLQ_AUDIO_PACK_READY:-}" != 1 ]; then
  "$UV" run --frozen qlq-kiosk prepare-audio --language fr --engine "${QLQ_AUDIO_ENGINE:-espeak}" --quiet >&2
fi
"$UV" run --frozen --extra installer pyinstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT" --workpath "$OUT/.build" installer/kiosk.spec
# Platform code signing of the bundle's executables BEFORE archiving (Authenticode, codesign + notarization):
# QLQ_SIGN_BUNDLE names the script, set by the release workflow when the certificates are configured.
if [ -n "${QLQ_SIGN_BUNDLE:-}" ]; then bash "$QLQ_SIGN_BUNDLE" "$OUT/qlq-kiosk" >&2; fi
VERSION="$("$UV" run --frozen python -c 'import kiosk; print(kiosk.__version__)')"  # from pyproject.toml
case "$(uname -s)" in
  Linux) OS=linux ;; Darwin) OS=macos ;; MINGW*|MSYS*|CYGWIN*) OS=windows ;; *) OS="$(uname -s | tr 'A-Z' 'a-z')" ;;
esac
ARCH="$(uname -m)"; case "$ARCH" in aarch64) ARCH=arm64 ;; amd64|x64) ARCH=x86_64 ;; esac  # kiosk/update names
ARCHIVE="$OUT/qlq-kiosk-$VERSION-$OS-$ARCH.tar.gz"
tar -C "$OUT" -czf "$ARCHIVE" qlq-kiosk
if command -v sha256sum >/dev/null; then SHA256=(sha256sum); else SHA256=(shasum -a 256); fi
(cd "$OUT" && "${SHA256[@]}" "$(basename "$ARCHIVE")" > "$(basename "$ARCHIVE").sha256")
"$UV" run --frozen --extra installer python installer/sbom.py "$ARCHIVE" --uv "$UV" >/dev/null
if [ -n "${QLQ_SIGNING_KEY:-}" ]; then bash installer/sign.sh "$ARCHIVE" >&2; else
  echo "QLQ_SIGNING_KEY not set: archive left unsigned (see installer/README.md)" >&2; fi
echo "$ARCHIVE"
