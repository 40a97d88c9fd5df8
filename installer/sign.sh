#!/usr/bin/env bash
# Signs a release archive with the release key: a detached signature FILE.sig (RSA-PSS/SHA-256 or Ed25519,
# whatever the key is) that tablets' update step verifies with the public key before installing.
#   QLQ_SIGNING_KEY=/path/to/private.pem [QLQ_SIGNING_KEY_PASS=env:VAR] bash installer/sign.sh FILE
#   bash installer/sign.sh --verify FILE PUBLIC.pem
# The private key never lives in the repository; on a build machine keep it in the OS keyring or a CI secret
# and write it to a temporary file only for the duration of the build.
set -euo pipefail
if [ "${1:-}" = "--verify" ]; then
  file="$2"; pub="$3"
  openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$file" -sigfile "$file.sig" >/dev/null 2>&1 \
    || openssl dgst -sha256 -verify "$pub" -signature "$file.sig" "$file" >/dev/null
  echo "signature OK: $file"
  exit 0
fi
file="$1"
key="${QLQ_SIGNING_KEY:?set QLQ_SIGNING_KEY to the private key (PEM)}"
pass=()
[ -n "${QLQ_SIGNING_KEY_PASS:-}" ] && pass=(-passin "$QLQ_SIGNING_KEY_PASS")
if openssl pkey -in "$key" "${pass[@]}" -noout -text 2>/dev/null | head -1 | grep -qi ed25519; then
  openssl pkeyutl -sign -inkey "$key" "${pass[@]}" -rawin -in "$file" -out "$file.sig"
else
  openssl dgst -sha256 -sign "$key" "${pass[@]}" -out "$file.sig" "$file"
fi
echo "signed: $file.sig"
