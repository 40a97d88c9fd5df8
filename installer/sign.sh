#!/usr/bin/env bash
# Signs a release archive qlq-kiosk-VERSION-OS-ARCH.tar.gz with the Ed25519 release key, writing exactly what
# `qlq-kiosk verify-release` (kiosk/domain/release.py) checks, beside the archive:
#   ARCHIVE.sig            raw Ed25519 signature of the archive          (openssl pkeyutl -sign -rawin)
#   ARCHIVE.manifest       signed SHA-256 manifest: header + one sha256sum line per file inside the archive
#   ARCHIVE.manifest.sig   raw Ed25519 signature of the manifest
# Usage:
#   QLQ_SIGNING_KEY=/path/release-key.pem [QLQ_SIGNING_KEY_PASS=env:VAR] bash installer/sign.sh ARCHIVE
#   bash installer/sign.sh --verify ARCHIVE PUBLIC.pem      (the same checks with OpenSSL only)
# Needs OpenSSL >= 3.0 (Ed25519 with -rawin). The private key never lives in the repository: on a build machine
# it comes from the CI's secret store or the OS keyring and is written to a temporary file only for the build
# (installer/README.md, "Release key").
set -euo pipefail

die() { echo "sign.sh: $*" >&2; exit 1; }
if command -v sha256sum >/dev/null; then SHA256=(sha256sum); else SHA256=(shasum -a 256); fi  # macOS: shasum
sha256() { "${SHA256[@]}" "$@"; }
hash_of() { sha256 "$1" | cut -d' ' -f1; }

# The sorted "SHA256  path" lines of every regular file inside the archive (what the manifest lists).
list_contents() {
  local archive="$1" tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  tar -xzf "$archive" -C "$tmp" || die "cannot unpack $archive"
  (cd "$tmp" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 "${SHA256[@]}" | sed 's|  \./|  |')
}

if [ "${1:-}" = "--verify" ]; then
  [ $# -eq 3 ] || die "usage: sign.sh --verify ARCHIVE PUBLIC.pem"
  file="$2"; pub="$3"; manifest="$file.manifest"
  for f in "$file" "$file.sig" "$manifest" "$manifest.sig" "$pub"; do [ -f "$f" ] || die "missing: $f"; done
  openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$manifest" -sigfile "$manifest.sig" >/dev/null \
    || die "manifest signature does not verify with $pub (wrong key or altered manifest)"
  openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$file" -sigfile "$file.sig" >/dev/null \
    || die "archive signature does not verify with $pub (wrong key or altered archive)"
  header() { sed -n "s/^# $1: //p" "$manifest"; }
  [ "$(header archive-sha256)" = "$(hash_of "$file")" ] || die "archive SHA-256 differs from the manifest's"
  keyid="$(openssl pkey -pubin -in "$pub" -outform DER | sha256 | cut -d' ' -f1)"
  [ "$(header key-sha256)" = "$keyid" ] || die "the manifest names another signing key"
  diff <(grep -v '^#' "$manifest") <(list_contents "$file") >/dev/null \
    || die "the manifest's file list does not match the archive"
  echo "signature OK: $file"
  exit 0
fi

[ $# -eq 1 ] || die "usage: QLQ_SIGNING_KEY=key.pem sign.sh ARCHIVE"
file="$1"
[ -f "$file" ] || die "no such archive: $file"
key="${QLQ_SIGNING_KEY:?set QLQ_SIGNING_KEY to the Ed25519 private key (PEM)}"
pass=()
if [ -n "${QLQ_SIGNING_KEY_PASS:-}" ]; then pass=(-passin "$QLQ_SIGNING_KEY_PASS"); fi
openssl pkey -in "$key" "${pass[@]}" -noout -text 2>/dev/null | head -1 | grep -qi ed25519 \
  || die "$key is not an Ed25519 private key (openssl genpkey -algorithm ed25519)"
name="$(basename "$file")"
[[ "$name" =~ ^qlq-kiosk-([0-9][0-9A-Za-z.+!]*)-([a-z0-9]+)-([A-Za-z0-9_]+)\.tar\.gz$ ]] \
  || die "archive name must be qlq-kiosk-VERSION-OS-ARCH.tar.gz, got $name"
manifest="$file.manifest"
{
  echo "# qlq-kiosk release manifest v1"
  echo "# archive: $name"
  echo "# archive-sha256: $(hash_of "$file")"
  echo "# version: ${BASH_REMATCH[1]}"
  echo "# os: ${BASH_REMATCH[2]}"
  echo "# arch: ${BASH_REMATCH[3]}"
  echo "# key-sha256: $(openssl pkey -in "$key" "${pass[@]}" -pubout -outform DER | sha256 | cut -d' ' -f1)"
  list_contents "$file"
} > "$manifest.tmp"
mv "$manifest.tmp" "$manifest"
openssl pkeyutl -sign -inkey "$key" "${pass[@]}" -rawin -in "$file" -out "$file.sig"
openssl pkeyutl -sign -inkey "$key" "${pass[@]}" -rawin -in "$manifest" -out "$manifest.sig"
echo "signed: $file.sig $manifest $manifest.sig"
