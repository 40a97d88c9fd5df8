#!/usr/bin/env bash
# Authenticode-signs Windows files with signtool (Windows SDK), with a timestamp. Given a folder (the bundle),
# signs its qlq-kiosk.exe; given files (the Inno Setup installer), signs them.
#   WINDOWS_CERT_PFX=cert.pfx WINDOWS_CERT_PASSWORD=… bash installer/windows/signtool.sh PATH...
# The certificate comes from the CI's secret store (.github/workflows/release.yml); never commit it.
set -euo pipefail
: "${WINDOWS_CERT_PFX:?set WINDOWS_CERT_PFX to the code-signing certificate (.pfx)}"
: "${WINDOWS_CERT_PASSWORD:?set WINDOWS_CERT_PASSWORD}"
TIMESTAMP_URL="${WINDOWS_TIMESTAMP_URL:-http://timestamp.digicert.com}"
signtool="$(command -v signtool.exe || ls -1 "/c/Program Files (x86)/Windows Kits/10/bin/"*/x64/signtool.exe | sort | tail -1)"
files=()
for path in "$@"; do
  if [ -d "$path" ]; then files+=("$path/qlq-kiosk.exe"); else files+=("$path"); fi
done
MSYS_NO_PATHCONV=1 "$signtool" sign /fd SHA256 /tr "$TIMESTAMP_URL" /td SHA256 \
  /f "$(cygpath -w "$WINDOWS_CERT_PFX")" /p "$WINDOWS_CERT_PASSWORD" "${files[@]}"
MSYS_NO_PATHCONV=1 "$signtool" verify /pa "${files[@]}"
