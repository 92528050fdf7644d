#!/bin/bash
# Builds test/bed/out/busybox-rootfs.tar (and a gzip copy, busybox-rootfs.tar.gz): a minimal
# root filesystem made of the static busybox from the busybox-static package, one symlink per
# applet in /bin, the usual top-level directories and a tiny /etc.
#
# The output is deterministic: the same busybox binary always gives the same bytes (sorted
# names, mtime 0, owner 0:0 numeric, fixed modes, PAX headers without pid/atime/ctime, gzip -n).
#
# Usage: make-busybox-fixture.sh [--force]   (without --force, does nothing if both exist)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${PKIT_FIXTURE_OUT:-$HERE/out}
TAR=$OUT/busybox-rootfs.tar
TGZ=$OUT/busybox-rootfs.tar.gz
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ "${1:-}" != --force ] && [ -f "$TAR" ] && [ -f "$TGZ" ]; then
  exit 0
fi
if ! "$BUSYBOX" --list >/dev/null 2>&1; then
  echo "make-busybox-fixture: $BUSYBOX not found or not runnable: install the busybox-static package" >&2
  exit 1
fi

mkdir -p "$OUT"
stage=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
umask 022
r=$stage/rootfs
mkdir "$r"

for d in bin dev etc home proc root sys tmp usr usr/bin var; do
  mkdir -p "$r/$d"
done
install -m 0755 "$BUSYBOX" "$r/bin/busybox"
while read -r applet; do
  case "$applet" in
    ''|busybox|*/*) continue ;;
  esac
  ln -s busybox "$r/bin/$applet"
done < <("$BUSYBOX" --list | LC_ALL=C sort -u)

cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$r/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo busybox >"$r/etc/hostname"

find "$r" -type d -exec chmod 0755 {} +
find "$r" -type f -exec chmod 0644 {} +
chmod 0755 "$r/bin/busybox"
chmod 1777 "$r/tmp"
chmod 0700 "$r/root"

# Top-level entries in byte order, no "./" prefix; --sort=name orders everything below.
mapfile -t top < <(cd "$r" && LC_ALL=C ls -A | LC_ALL=C sort)
LC_ALL=C tar -C "$r" -cf "$stage/rootfs.tar" \
  --format=pax \
  --pax-option='exthdr.name=%d/PaxHeaders/%f,globexthdr.name=/tmp/GlobalHead.0,delete=atime,delete=ctime' \
  --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs --no-selinux \
  "${top[@]}"
gzip -n -9 -c "$stage/rootfs.tar" >"$stage/rootfs.tar.gz"
chmod 0644 "$stage/rootfs.tar" "$stage/rootfs.tar.gz"
mv -f "$stage/rootfs.tar" "$TAR"
mv -f "$stage/rootfs.tar.gz" "$TGZ"
echo "make-busybox-fixture: wrote $TAR ($(sha256sum "$TAR" | cut -c1-16)...), $(basename "$TGZ")" >&2
