#!/usr/bin/env bash
# Builds the Linux kiosk-session package qlq-kiosk_VERSION_ARCH.deb from the PyInstaller one-folder bundle
# (installer/build.sh): the bundle under /opt/qlq-kiosk, the systemd unit qlq-kiosk.service (the kiosk full
# screen under cage), its PAM session file, and maintainer scripts that create the unprivileged user qlq-kiosk
# and remove everything again (see installer/README.md).
#   bash installer/linux/build-deb.sh [BUNDLE_DIR] [OUT_DIR]     (default: dist/qlq-kiosk, and its parent)
# Depends: cage and Xwayland (cage 0.1.4 will not start without it), adduser, and the system libraries the
# bundle links to but does not carry (found with ldd, mapped to their Debian packages with dpkg -S); libc6 at
# least the build host's version (the bundle links the build host's glibc: build on the oldest target).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUNDLE="$(realpath -m "${1:-$ROOT/dist/qlq-kiosk}")"
OUT="$(realpath -m "${2:-$(dirname "$BUNDLE")}")"
[ -x "$BUNDLE/qlq-kiosk" ] || { echo "build-deb.sh: no bundle at $BUNDLE (build it first: bash installer/build.sh)" >&2; exit 2; }
for tool in dpkg-deb dpkg-query ldd; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool is needed (Debian: dpkg, libc-bin)" >&2; exit 2; }
done

VERSION="$("$BUNDLE/qlq-kiosk" --version | awk '{print $2}')"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/qlq-deb.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

# System libraries the bundle needs from the machine: every ELF file's dependencies that ldd resolves outside it.
libdirs="$BUNDLE/_internal:$BUNDLE/_internal/PySide6/Qt/lib"
mapfile -t system_libs < <(
  find "$BUNDLE" -type f \( -name '*.so' -o -name '*.so.*' -o -path "$BUNDLE/qlq-kiosk" \) -print0 |
    xargs -0 -n 50 env LD_LIBRARY_PATH="$libdirs" ldd 2>/dev/null |
    awk -v b="$BUNDLE/" '$2 == "=>" && $3 ~ /^\// && index($3, b) != 1 {print $3}' | sort -u)
packages=()
for lib in "${system_libs[@]}"; do
  owner="$(dpkg-query -S "$(realpath "$lib")" 2>/dev/null || dpkg-query -S "$lib" 2>/dev/null || true)"
  [ -n "$owner" ] || { echo "build-deb.sh: no Debian package owns $lib (needed by the bundle)" >&2; exit 1; }
  packages+=("${owner%%:*}")
done
glibc="$(dpkg-query -W -f='${Version}' libc6 | sed 's/-[^-]*$//')"
depends="cage, xwayland, adduser, systemd (>= 250), fonts-dejavu-core, libc6 (>= $glibc)"
for pkg in $(printf '%s\n' "${packages[@]}" | sort -u); do
  [ "$pkg" = libc6 ] || depends="$depends, $pkg"
done

mkdir -p "$STAGE/opt" "$STAGE/usr/lib/systemd/system" "$STAGE/etc/pam.d" "$STAGE/DEBIAN" \
  "$STAGE/usr/share/doc/qlq-kiosk"
cp -a "$BUNDLE" "$STAGE/opt/qlq-kiosk"
install -m 0644 "$HERE/qlq-kiosk.service" "$STAGE/usr/lib/systemd/system/qlq-kiosk.service"
# The launcher the unit starts (the newest of this bundle and an update the kiosk installed), and this bundle's version
install -D -m 0755 "$HERE/qlq-kiosk-launch" "$STAGE/usr/lib/qlq-kiosk/launch"
printf '%s\n' "$VERSION" > "$STAGE/usr/lib/qlq-kiosk/package-version"
install -m 0644 "$HERE/qlq-kiosk.pam" "$STAGE/etc/pam.d/qlq-kiosk"
install -m 0644 "$ROOT/installer/README.md" "$STAGE/usr/share/doc/qlq-kiosk/README.md"
for script in postinst prerm postrm; do install -m 0755 "$HERE/debian/$script" "$STAGE/DEBIAN/$script"; done
echo /etc/pam.d/qlq-kiosk > "$STAGE/DEBIAN/conffiles"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: qlq-kiosk
Version: $VERSION
Architecture: $ARCH
Maintainer: Kiosque QLQ-C30 <it@kiosque-qlq-c30.invalid>
Section: misc
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $depends
Description: Kiosque QLQ-C30 questionnaire kiosk, as a locked-down kiosk session
 The EORTC QLQ-C30 kiosk (PyInstaller bundle in /opt/qlq-kiosk), started full screen at boot by the
 systemd unit qlq-kiosk.service under the cage Wayland kiosk compositor, as the unprivileged system
 user qlq-kiosk, restarted whenever it ends. Data: /var/lib/qlq-kiosk/.local/share/kiosque-qlq-c30.
CONTROL

mkdir -p "$OUT"
DEB="$OUT/qlq-kiosk_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
