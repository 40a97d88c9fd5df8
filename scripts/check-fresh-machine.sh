#!/usr/bin/env bash
# Tries the README's two commands as a new user would, on a truly fresh Debian 12: builds a minimal chroot
# (debootstrap --variant=minbase, then only git and ca-certificates), clones this repository into it, runs
#   1. QLQ_KIOSK_EXIT_WHEN_READY=1 bash scripts/run-demo.sh   (must print READY)
#   2. bash scripts/run-tests.sh
#   3. bash scripts/run-tests.sh again in a network namespace with only loopback up: no PostgreSQL answers on
#      127.0.0.1:5432 there, so the test harness must start its own throwaway cluster
# and prints pass/fail and the wall time of each step, with the sizes a first run leaves behind.
#
# Usage (as root, on a Debian or Ubuntu host; installs debootstrap on the host if missing):
#   sudo bash scripts/check-fresh-machine.sh [COMMIT]
# COMMIT (default: HEAD of the repository this script is in) is what gets cloned: uncommitted changes are not
# tried. Takes 20-40 minutes on 2 cores (most of it the test suite, twice).
#
# Cache: QLQ_FRESH_CACHE (default /var/cache/qlq-fresh-machine, outside the repository) keeps the base chroot
# (after debootstrap, git and ca-certificates) as base-bookworm.tar, so a second run skips debootstrap
# (~2-4 minutes saved); delete the folder to rebuild it. Nothing else is cached: every run starts from that base,
# with no Debian package, uv, Python package or uv cache of the project's, as on a new machine.
# Each run's chroot and logs are under QLQ_FRESH_CACHE/runs/<time>/; the chroot is deleted at the end unless
# QLQ_FRESH_KEEP=1 (the logs stay). QLQ_FRESH_MIRROR overrides the Debian mirror (default deb.debian.org).
#
# The host's extra CA certificates (/usr/local/share/ca-certificates) are trusted in the chroot, as networks that
# inspect TLS require; nothing else of the host's (environment, pip or uv configuration, caches) goes in: each
# step runs under `env -i` with only HOME, PATH and TERM. Services do not start inside the chroot
# (policy-rc.d, as in container images), so the chroot's PostgreSQL package never runs on the host's port 5432.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMMIT="$(git -C "$ROOT" rev-parse "${1:-HEAD}")"
CACHE="${QLQ_FRESH_CACHE:-/var/cache/qlq-fresh-machine}"
MIRROR="${QLQ_FRESH_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
BASE_TAR="$CACHE/base-$SUITE.tar"
RUN="$CACHE/runs/$(date -u +%Y%m%dT%H%M%SZ)"
CHROOT="$RUN/root"
LOGS="$RUN/logs"
REPO_IN=/root/qlq-c30  # where the clone lives inside the chroot

log() { printf '\033[1m[fresh]\033[0m %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "check-fresh-machine.sh must run as root (debootstrap, chroot, mounts)" >&2; exit 2; }

mkdir -p "$CACHE" "$LOGS" "$CHROOT"
# Every mount under the run's chroot, deepest first.
chroot_mounts() { findmnt -rn -o TARGET | grep "^$CHROOT/" | sort -r || true; }
cleanup() {
  local m pid
  # Processes still running inside the chroot (a step interrupted mid-way): stop them first.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$CHROOT" ] && kill -9 "$pid" 2>/dev/null || true
  done
  for m in $(chroot_mounts); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ "${QLQ_FRESH_KEEP:-0}" != 1 ] && [ -d "$CHROOT" ]; then
    # Refuse to delete through a mount that would not go away (it would delete the host's files).
    if [ -n "$(chroot_mounts)" ]; then
      log "mounts still under $CHROOT; not deleting it"
    else
      rm -rf --one-file-system "$CHROOT"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS=()
FAILED=0
now() { date +%s.%N; }
# step NAME LOGFILE COMMAND...: run, record pass/fail and wall time; on failure show the log's tail.
step() {
  local name="$1" logfile="$LOGS/$2"; shift 2
  log "$name (log: $logfile)"
  local start rc took
  start="$(now)"
  # In a subshell with errexit on (a function called from an `||` list would run with it off).
  set +e; (set -e; "$@") >"$logfile" 2>&1; rc=$?; set -e
  took="$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')"
  if [ "$rc" -eq 0 ]; then
    RESULTS+=("$(printf '%-44s PASS  %5ss' "$name" "$took")")
  else
    FAILED=1
    RESULTS+=("$(printf '%-44s FAIL  %5ss  (exit %s; log %s)' "$name" "$took" "$rc" "$logfile")")
    log "$name FAILED (exit $rc); last lines of its log:"
    tail -n 40 "$logfile" >&2
  fi
  return "$rc"
}

# A command inside the chroot, as a new user's shell: clean environment, the clone as working directory.
in_chroot() {
  chroot "$CHROOT" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd $REPO_IN && $1"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  log "installing debootstrap on the host"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

build_base() {
  local base="$CACHE/base-build"
  rm -rf --one-file-system "$base"
  debootstrap --variant=minbase "$SUITE" "$base" "$MIRROR"
  cat >"$base/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
  # No service starts inside the chroot (it shares the host's network and ports).
  printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
  chmod 755 "$base/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$base/etc/resolv.conf"
  chroot "$base" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates && apt-get clean'
  tar -C "$base" -cf "$BASE_TAR.part" . && mv "$BASE_TAR.part" "$BASE_TAR"
  rm -rf --one-file-system "$base"
}

prepare_chroot() {
  if [ ! -f "$BASE_TAR" ]; then build_base; else log "base chroot from the cache: $BASE_TAR"; fi
  tar -C "$CHROOT" -xf "$BASE_TAR"
  cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
  # Trust the host's extra CA certificates (TLS-inspecting networks), then refresh the chroot's bundle.
  if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
    cp -r /usr/local/share/ca-certificates/. "$CHROOT/usr/local/share/ca-certificates/"
  fi
  chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin update-ca-certificates >/dev/null
  # The kernel's file systems (the exit trap unmounts them all before the chroot is deleted).
  mount -t proc proc "$CHROOT/proc"
  mount --rbind /sys "$CHROOT/sys"; mount --make-rslave "$CHROOT/sys"
  mount --rbind /dev "$CHROOT/dev"; mount --make-rslave "$CHROOT/dev"
  # A private /dev/shm (Qt, Chromium and multiprocessing use it) and an empty /tmp, as a new machine has them.
  mount -t tmpfs -o mode=1777 shm "$CHROOT/dev/shm"
  mount -t tmpfs -o mode=1777 tmpfs "$CHROOT/tmp"
}

clone_repo() {
  git clone --quiet --no-checkout "$ROOT" "$CHROOT$REPO_IN"
  git -C "$CHROOT$REPO_IN" checkout --quiet --detach "$COMMIT"
  git -C "$CHROOT$REPO_IN" log -1 --format='%H %s'
}

run_demo() {
  local out="$LOGS/demo.stdout"
  in_chroot 'QLQ_KIOSK_EXIT_WHEN_READY=1 timeout 900 bash scripts/run-demo.sh' | tee "$out"
  grep -qx READY "$out" || { echo "run-demo.sh did not print READY" >&2; return 1; }
}

# The tests in a fresh network namespace with only loopback up (nothing listens on 127.0.0.1:5432 there).
run_tests_loopback_only() {
  unshare -n /bin/bash -c "ip link set lo up && exec chroot '$CHROOT' /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c \
    'cd $REPO_IN && ! pg_isready -q -h 127.0.0.1 -p 5432 && bash scripts/run-tests.sh'"
}

dpkg_kib() { chroot "$CHROOT" dpkg-query -W -f='${Installed-Size}\n' | awk '{ s += $1 } END { print s }'; }

size() { if [ -e "$CHROOT$1" ]; then du -sh "$CHROOT$1" | cut -f1; else echo "-"; fi; }
summary() {
  local total after_kib
  total="$(awk -v a="$TOTAL_START" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')"
  echo
  echo "== check-fresh-machine: commit $COMMIT =="
  printf '%s\n' "${RESULTS[@]}"
  printf '%-44s %s\n' "total wall time" "${total}s"
  if [ -n "${BEFORE_KIB:-}" ]; then
    after_kib="$(dpkg_kib)"
    printf '%-44s %s\n' ".venv (du -sh)" "$(size $REPO_IN/.venv)"
    printf '%-44s %s\n' "uv cache (du -sh ~/.cache/uv)" "$(size /root/.cache/uv)"
    # uv hard-links the cache's files into .venv: together they take about as much as .venv alone.
    printf '%-44s %s\n' ".venv + uv cache on disk (du -shc)" \
      "$(du -shc "$CHROOT$REPO_IN/.venv" "$CHROOT/root/.cache/uv" 2>/dev/null | tail -1 | cut -f1)"
    printf '%-44s %s MB\n' "Debian packages added (installed size)" "$(( (after_kib - BEFORE_KIB) / 1024 ))"
  fi
  printf '%-44s %s\n' "logs" "$LOGS"
}

TOTAL_START="$(now)"
log "commit $COMMIT; run folder $RUN"
step "host: debootstrap present" host.log ensure_debootstrap || { summary; exit 1; }
step "chroot: minbase + git + ca-certificates" chroot.log prepare_chroot || { summary; exit 1; }
step "clone $(git -C "$ROOT" rev-parse --short "$COMMIT")" clone.log clone_repo || { summary; exit 1; }
BEFORE_KIB="$(dpkg_kib)"
step "run-demo.sh prints READY" demo.log run_demo || true
step "run-tests.sh" tests.log in_chroot 'bash scripts/run-tests.sh' || true
step "run-tests.sh, loopback-only network" tests-loopback.log run_tests_loopback_only || true
summary
exit "$FAILED"
