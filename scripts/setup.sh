#!/bin/bash
# Prepares this machine (Debian bookworm, run as root) for building and testing pkit:
# system packages, pnpm, the workspace install (Node 24 + native addon), the build, an
# unprivileged test user with subordinate id ranges, the device and sysctl settings that
# rootless containers need, and the busybox root-filesystem fixture.
#
# Idempotent: every step checks whether it is already done and skips it if so.
# See docs/testbed.md for what is set up and why.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

TEST_USER=pkit-test
TEST_HOME=/home/$TEST_USER
SUB_START_DEFAULT=200000
SUB_COUNT=65536
# catatonit: prun --init; bzip2 xz-utils zstd: pbuild add's archives; python3 bsdutils: the
# terminal tests (a pty driver, script(1)); wget: the demo fetches from a published port.
PACKAGES=(g++ make uidmap busybox-static docker-registry apache2-utils skopeo podman buildah
  crun runc slirp4netns passt fuse-overlayfs libseccomp-dev libjson-c-dev util-linux tar gzip hyperfine
  catatonit bzip2 xz-utils zstd python3 bsdutils wget procps)

done_steps=()
skipped_steps=()
warnings=()
did() { done_steps+=("$1"); }
skip() { skipped_steps+=("$1"); }
warn() { warnings+=("$1"); echo "setup: warning: $1" >&2; }
log() { echo "setup: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (it installs packages and creates the test user)" >&2
  exit 1
fi

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" </dev/null
  did "apt-get install ${missing[*]}"
else
  skip "Debian packages (all ${#PACKAGES[@]} present)"
fi

# --- 2. pnpm ------------------------------------------------------------------------------
want_pnpm=$(sed -n 's/.*"packageManager"[[:space:]]*:[[:space:]]*"pnpm@\([^"+]*\).*/\1/p' package.json)
if [ -z "$want_pnpm" ]; then
  echo "setup: package.json has no \"packageManager\": \"pnpm@<version>\"" >&2
  exit 1
fi
have_pnpm=$(pnpm --version 2>/dev/null || true)
if [ "$have_pnpm" != "$want_pnpm" ]; then
  log "installing pnpm@$want_pnpm (found: ${have_pnpm:-none})"
  npm install -g --no-fund --no-audit "pnpm@$want_pnpm" </dev/null
  hash -r
  did "npm install -g pnpm@$want_pnpm"
else
  skip "pnpm $want_pnpm"
fi

# --- 3. workspace install (Node 24, native addon) and build -------------------------------
# pnpm re-runs the native build on every install, so a stamp of everything that affects the
# install decides whether it is needed at all.
install_inputs() {
  {
    printf '%s\n' package.json pnpm-lock.yaml pnpm-workspace.yaml
    ls packages/*/package.json 2>/dev/null
    find native -path native/build -prune -o -path native/node_modules -prune -o -type f -print
  } | LC_ALL=C sort -u | while read -r f; do
    [ -f "$f" ] && { echo "== $f"; cat "$f"; }
  done | sha256sum | cut -d' ' -f1
}
stamp=node_modules/.pkit-install-stamp
want_stamp="$(install_inputs) pnpm@$want_pnpm"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] \
  && [ -x node_modules/.bin/node ] && [ -f native/build/Release/pkit.node ]; then
  skip "pnpm install (inputs unchanged)"
else
  log "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile </dev/null
  echo "$want_stamp" >"$stamp"
  did "pnpm install"
fi
node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v24.*) ;;
  *) echo "setup: node_modules/.bin/node is $node_version, expected v24" >&2; exit 1 ;;
esac

if [ -f scripts/build.sh ]; then
  log "pnpm run build"
  PATH="$REPO/node_modules/.bin:$PATH" pnpm run build </dev/null
  did "pnpm run build"
else
  skip "build (scripts/build.sh does not exist yet)"
fi

# --- 4. the unprivileged test user --------------------------------------------------------
if ! getent passwd "$TEST_USER" >/dev/null; then
  useradd --create-home --home-dir "$TEST_HOME" --shell /bin/bash "$TEST_USER"
  did "created user $TEST_USER"
else
  skip "user $TEST_USER exists"
fi
TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")

# A subordinate range per file, after every range already there (200000 on a clean machine).
add_subids() {
  local file=$1 start
  touch "$file"
  if grep -qE "^($TEST_USER|$TEST_UID):" "$file"; then
    skip "$file has a range for $TEST_USER"
    return
  fi
  start=$(awk -F: -v s=$SUB_START_DEFAULT 'NF>=3 { e = $2 + $3; if (e > s) s = e } END { print s }' "$file")
  echo "$TEST_USER:$start:$SUB_COUNT" >>"$file"
  did "$file: $TEST_USER:$start:$SUB_COUNT"
}
add_subids /etc/subuid
add_subids /etc/subgid

# Rootless podman (used for comparisons) on overlay, as on a normal machine.
storage_conf=$TEST_HOME/.config/containers/storage.conf
want_conf=$'[storage]\ndriver = "overlay"'
if [ "$(cat "$storage_conf" 2>/dev/null)" != "$want_conf" ]; then
  install -d -o "$TEST_UID" -g "$TEST_GID" -m 0755 "$TEST_HOME/.config" "$TEST_HOME/.config/containers"
  printf '%s\n' "$want_conf" >"$storage_conf"
  chown "$TEST_UID:$TEST_GID" "$storage_conf"
  did "wrote $storage_conf"
else
  skip "$storage_conf"
fi

# The runtime dir logind would create at login.
runtime_dir=/run/user/$TEST_UID
if [ "$(stat -c '%u %a' "$runtime_dir" 2>/dev/null)" != "$TEST_UID 700" ]; then
  install -d -m 0755 /run/user
  install -d -o "$TEST_UID" -g "$TEST_GID" -m 0700 "$runtime_dir"
  did "created $runtime_dir"
else
  skip "$runtime_dir"
fi

# The repository must be readable by the test user: every parent directory traversable,
# every directory listable, every file readable.
d=$REPO
while [ "$d" != / ]; do
  d=$(dirname "$d")
  perms=$(stat -c '%A' "$d")
  if [ "${perms:9:1}" != x ] && [ "${perms:9:1}" != t ]; then
    chmod o+x "$d"
    did "chmod o+x $d"
  fi
done
unreadable() {
  find "$REPO" \( \( -type d \( ! -perm -o=r -o ! -perm -o=x \) \) -o \( -type f ! -perm -o=r \) \) "$@"
}
n=$(unreadable -print 2>/dev/null | wc -l)
if [ "$n" -gt 0 ]; then
  unreadable -print0 | xargs -0 -r chmod o+rX
  did "made $n paths in the repo readable by others"
else
  skip "repo readable by $TEST_USER"
fi
if ! runuser -u "$TEST_USER" -- "$REPO/node_modules/.bin/node" -e 0 </dev/null; then
  echo "setup: $TEST_USER cannot run $REPO/node_modules/.bin/node" >&2
  exit 1
fi

# --- 5. rootless readiness, as a distribution ships it ------------------------------------
if [ ! -e /dev/net/tun ]; then
  mkdir -p /dev/net
  mknod /dev/net/tun c 10 200
  did "created /dev/net/tun"
fi
for dev in /dev/net/tun /dev/fuse; do
  [ -e "$dev" ] || continue
  if [ "$(stat -c '%a' "$dev")" != 666 ]; then
    chmod 0666 "$dev"
    did "chmod 0666 $dev"
  fi
done
for b in newuidmap newgidmap; do
  path=$(command -v "$b" || true)
  if [ -z "$path" ]; then
    echo "setup: $b not found: install the uidmap package" >&2
    exit 1
  fi
  if [ "$(stat -c '%u' "$path")" != 0 ] || [ $(( 0$(stat -c '%a' "$path") & 04000 )) -eq 0 ]; then
    chown root:root "$path"
    chmod u+s "$path"
    did "made $path setuid root"
  fi
done
if [ -e /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" != 1 ]; then
  echo 1 >/proc/sys/kernel/unprivileged_userns_clone
  did "kernel.unprivileged_userns_clone=1"
fi
if [ "$(cat /proc/sys/user/max_user_namespaces)" -le 0 ]; then
  echo 15000 >/proc/sys/user/max_user_namespaces
  did "user.max_user_namespaces=15000"
fi

# cgroups: this machine has v1 hierarchies for cpu, memory, pids, ..., and hugetlb alone on
# the v2 hierarchy at /sys/fs/cgroup/unified. crun refuses that hybrid until hugetlb is a v1
# hierarchy too. Best effort only.
if [ -d /sys/fs/cgroup/unified ] && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then
  if mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null; then
    skip "cgroup v1 hugetlb already mounted"
  elif mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null \
      && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null; then
    did "mounted cgroup v1 hugetlb at /sys/fs/cgroup/hugetlb"
  else
    rmdir /sys/fs/cgroup/hugetlb 2>/dev/null || true
    warn "could not mount a v1 hugetlb cgroup hierarchy at /sys/fs/cgroup/hugetlb (crun may refuse this hybrid cgroup layout)"
  fi
fi

# --- 6. the busybox root-filesystem fixture -----------------------------------------------
if [ -f test/bed/out/busybox-rootfs.tar ] && [ -f test/bed/out/busybox-rootfs.tar.gz ]; then
  skip "busybox fixture exists"
else
  bash test/bed/make-busybox-fixture.sh
  did "built test/bed/out/busybox-rootfs.tar(.gz)"
fi
chmod -R o+rX test/bed/out

# --- summary ------------------------------------------------------------------------------
echo "setup: summary"
if [ ${#done_steps[@]} -gt 0 ]; then
  for s in "${done_steps[@]}"; do echo "  done:    $s"; done
fi
if [ ${#skipped_steps[@]} -gt 0 ]; then
  echo "  already: $(IFS=';'; echo "${skipped_steps[*]}" | sed 's/;/; /g')"
fi
if [ ${#warnings[@]} -gt 0 ]; then
  for s in "${warnings[@]}"; do echo "  warning: $s"; done
fi
echo "  node $node_version, pnpm $want_pnpm, test user $TEST_USER (uid $TEST_UID), fixture test/bed/out/busybox-rootfs.tar"
