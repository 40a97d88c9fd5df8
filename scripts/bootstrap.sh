#!/usr/bin/env bash
# Installs everything the kiosk, the server and the tests need, on a fresh Debian machine (as root or with sudo):
# Debian packages that are missing, uv, and the locked Python dependencies (uv.lock) in .venv.
# Safe to run again: each step is skipped when already done. Sourced by run-demo.sh and run-tests.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages: PyAudio builds against portaudio; QtMultimedia needs libpulse; espeak-ng and sox make
# the test audio, the demo's audio pack and the kiosk's live fallback voice; pulseaudio gives the audio tests and
# bench/voice_prompt_latency.py a private null sink (a real output on a machine without a sound card); Qt (even offscreen) needs GLib, EGL/GL/xkbcommon/fontconfig and a font; PostgreSQL binaries let the
# test harness start a throwaway cluster when no server is running.
# gnome-keyring + dbus-daemon (dbus-run-session) + libsecret give the secret-store tests a real Secret Service,
# as a Linux kiosk has.
DEBIAN_PACKAGES=(
  build-essential python3 python3-dev python3-venv python3-pip
  portaudio19-dev libpulse0 espeak-ng sox pulseaudio
  libglib2.0-0 libegl1 libgl1 libxkbcommon0 libfontconfig1 fonts-dejavu-core libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0
  postgresql postgresql-client
  gnome-keyring dbus-daemon libsecret-1-0
)

# Optional extras a caller may ask for (run-tests.sh: GNU PSPP, a second, independent reader of the .sav
# exports). Installed when possible; if that fails the run goes on and the tests needing them say why they skip.
OPTIONAL_DEBIAN_PACKAGES=(${OPTIONAL_DEBIAN_PACKAGES[@]+"${OPTIONAL_DEBIAN_PACKAGES[@]}"})

# Debian packages only the test command needs (run-tests.sh: Debian's chromium, the real browser the web
# console's tests drive with Playwright — Playwright never downloads a browser here). Required when asked for.
TEST_DEBIAN_PACKAGES=(${TEST_DEBIAN_PACKAGES[@]+"${TEST_DEBIAN_PACKAGES[@]}"})

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# MISSING = those of the given Debian packages that are not installed.
find_missing() {
  MISSING=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$pkg")
  done
}

# apt_install WHAT PKG...: install with apt-get, as root or through sudo; fails (1) when neither is possible.
apt_install() {
  local what="$1"; shift
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      log "$what not installed (no root/sudo): apt-get install $*"; return 1
    fi
  fi
  log "installing $what: $*"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "$@" >/dev/null
}

install_debian_packages() {
  command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian system: install the equivalent of: ${DEBIAN_PACKAGES[*]}"; return 0; }
  find_missing "${DEBIAN_PACKAGES[@]}"
  local missing=(${MISSING[@]+"${MISSING[@]}"})
  # A python3 from elsewhere (pyenv, a venv) is fine: don't pull Debian's just for it.
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys, venv; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    local keep=()
    for pkg in ${missing[@]+"${missing[@]}"}; do
      case "$pkg" in python3|python3-dev|python3-venv|python3-pip) ;; *) keep+=("$pkg") ;; esac
    done
    missing=(${keep[@]+"${keep[@]}"})
  fi
  # postgresql: only needed when no server answers; the machine's own server is preferred.
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "${QLQ_TEST_DATABASE_URL:-}" ]; then
    local keep=()
    for pkg in ${missing[@]+"${missing[@]}"}; do
      case "$pkg" in postgresql) ;; *) keep+=("$pkg") ;; esac
    done
    missing=(${keep[@]+"${keep[@]}"})
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "Debian packages" "${missing[@]}"
}

install_optional_packages() {
  [ ${#OPTIONAL_DEBIAN_PACKAGES[@]} -eq 0 ] && return 0
  command -v dpkg-query >/dev/null 2>&1 || return 0
  find_missing "${OPTIONAL_DEBIAN_PACKAGES[@]}"
  [ ${#MISSING[@]} -eq 0 ] && return 0
  apt_install "optional Debian packages" "${MISSING[@]}" \
    || log "could not install ${MISSING[*]}; the tests that use them will say why they skip"
}

UV_VERSION=0.13.9  # the uv installed when none is on PATH (pinned: its options and lock format change)

install_test_packages() {
  [ ${#TEST_DEBIAN_PACKAGES[@]} -eq 0 ] && return 0
  command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian system: install the equivalent of: ${TEST_DEBIAN_PACKAGES[*]}"; return 0; }
  find_missing "${TEST_DEBIAN_PACKAGES[@]}"
  [ ${#MISSING[@]} -eq 0 ] && return 0
  apt_install "Debian packages for the tests" "${MISSING[@]}"
}

ensure_uv() {
  if command -v uv >/dev/null 2>&1; then UV=uv; return; fi
  if [ -x "$ROOT/.tools/bin/uv" ]; then UV="$ROOT/.tools/bin/uv"; return; fi
  log "installing uv $UV_VERSION (into .tools/, from PyPI)"
  python3 -m venv "$ROOT/.tools"
  "$ROOT/.tools/bin/pip" install -q "uv==$UV_VERSION"
  UV="$ROOT/.tools/bin/uv"
}

# uv trusts the system's CA certificates (as pip and git do), not only its bundled Mozilla roots: on a network
# that inspects TLS, its CA is installed system-wide and downloads from PyPI fail without it.
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"

install_debian_packages
install_optional_packages
install_test_packages
ensure_uv
log "installing Python dependencies from uv.lock (kiosk, server, dev tools)"
(cd "$ROOT" && "$UV" sync --frozen --all-extras --quiet)
export UV
