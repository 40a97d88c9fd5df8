#!/usr/bin/env bash
# Starts the kiosk in demo mode on its embedded default: local SQLite in a temporary folder, no server,
# no cloud credentials, touch mode, and a demo nurse PIN (1234) shown on screen. Set-up is automatic.
# The questions are read aloud: an espeak-ng audio pack (French and English) is built on first run by
# `qlq-kiosk prepare-audio --engine espeak` into .cache/audio-packs/ (git-ignored) and only updated after that
# (only prompts whose text changed are re-synthesised). QLQ_AUDIO_DIR=/some/folder uses another pack folder
# (e.g. a Google Text-to-Speech pack made by IT).
# Extra arguments go to qlq-kiosk (e.g. `bash scripts/run-demo.sh --windowed`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/bootstrap.sh

if [ -z "${QLQ_AUDIO_DIR:-}" ]; then
  export QLQ_AUDIO_DIR="$ROOT/.cache/audio-packs"
  if command -v espeak-ng >/dev/null 2>&1; then
    log "audio packs (espeak-ng, cached in .cache/audio-packs): checking what is missing or changed"
    for lang in fr en; do
      "$UV" run --frozen qlq-kiosk prepare-audio --language "$lang" --engine espeak --rate 0.9 \
        --out "$QLQ_AUDIO_DIR/$lang" --quiet \
        || log "the $lang audio pack is incomplete: missing prompts are spoken live, or shown as 'audio indisponible'"
    done
  else
    log "espeak-ng is not installed: no audio pack; the kiosk shows 'audio indisponible' and stays usable by touch"
  fi
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "No display found: the kiosk needs a screen. Running it offscreen instead (nothing will be visible);" >&2
  echo "on a desktop, run this command from a graphical session." >&2
  export QT_QPA_PLATFORM=offscreen
fi
exec "$UV" run --frozen qlq-kiosk --demo "$@"
