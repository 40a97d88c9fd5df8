#!/usr/bin/env bash
# Signs the macOS bundle folder (every Mach-O file inside, innermost first) with the Developer ID identity and
# the hardened runtime, then submits it to Apple's notary service and waits for the verdict.
#   MACOS_SIGN_IDENTITY="Developer ID Application: … (TEAMID)" APPLE_ID=… APPLE_TEAM_ID=… APPLE_APP_PASSWORD=… \
#     bash installer/macos/codesign.sh dist/qlq-kiosk
# A bare folder cannot be stapled (only .app/.dmg/.pkg can): Gatekeeper looks the notarization up online.
set -euo pipefail
dir="$1"
: "${MACOS_SIGN_IDENTITY:?set MACOS_SIGN_IDENTITY}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# deepest paths first, so each library is signed before what loads it
find "$dir" -type f | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | while IFS= read -r f; do
  if file -b "$f" | grep -q 'Mach-O'; then
    codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
      --sign "$MACOS_SIGN_IDENTITY" "$f"
  fi
done
codesign --verify --strict --verbose=2 "$dir/qlq-kiosk"
if [ -n "${APPLE_ID:-}" ]; then
  zip="$(mktemp -d)/qlq-kiosk-notarize.zip"
  ditto -c -k --keepParent "$dir" "$zip"
  xcrun notarytool submit "$zip" --apple-id "$APPLE_ID" --team-id "${APPLE_TEAM_ID:?}" \
    --password "${APPLE_APP_PASSWORD:?}" --wait
else
  echo "APPLE_ID not set: signed but not notarized" >&2
fi
