#!/bin/bash
# A short tour of pkit, run as the unprivileged user pkit-test when started as root (after
# scripts/setup.sh, skipped with PKIT_SKIP_SETUP=1): import the busybox root filesystem
# fixture into the local store as an image, build new images from it (step by step, and from a
# Containerfile), run containers (in the foreground, and in
# the background with a published port), and copy it through an OCI archive.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
TEST_USER=pkit-test
FIXTURE=test/bed/out/busybox-rootfs.tar

if [ "$(id -u)" -eq 0 ] && [ "${PKIT_SKIP_SETUP:-}" != 1 ]; then
  bash scripts/setup.sh
fi
[ -f "$FIXTURE" ] || bash test/bed/make-busybox-fixture.sh

PATH="$REPO/node_modules/node/bin:$REPO/node_modules/.bin:$PATH"
if [ "$(id -u)" -eq 0 ]; then
  uid=$(id -u "$TEST_USER")
  as_user=(runuser -u "$TEST_USER" -- env -i -C "$REPO" "PATH=$PATH" "LANG=C.UTF-8"
    "HOME=/home/$TEST_USER" "USER=$TEST_USER" "LOGNAME=$TEST_USER" "XDG_RUNTIME_DIR=/run/user/$uid"
    ${TERM:+"TERM=$TERM"})
else
  as_user=(env -C "$REPO" "PATH=$PATH")
fi

step() {
  printf '\n$ %s\n' "$*"
  "${as_user[@]}" "$@"
}

echo "demo: running as $([ "$(id -u)" -eq 0 ] && echo "$TEST_USER" || id -un), node $(node --version)"
step packages/prun/bin/prun import "$FIXTURE" localhost/busybox:demo
step packages/prun/bin/prun images

# Build, step by step as with buildah: a working container from the image, a change made in it,
# committed as a new image with one more layer.
ctr=$("${as_user[@]}" packages/pbuild/bin/pbuild from busybox:demo)
step packages/pbuild/bin/pbuild run "$ctr" -- sh -c 'echo "built by pbuild" > /greeting'
step packages/pbuild/bin/pbuild commit "$ctr" localhost/busybox:built
step packages/pbuild/bin/pbuild rm "$ctr"
step packages/prun/bin/prun run --rm busybox:built cat /greeting

# Build from a Containerfile: two stages, the second copying the first's result.
ctx=$("${as_user[@]}" mktemp -d /tmp/pkit-demo-ctx.XXXXXX)
"${as_user[@]}" sh -c "printf '%s\\n' 'FROM localhost/busybox:demo AS builder' 'RUN echo \"built from a Containerfile\" > /msg' 'FROM localhost/busybox:demo' 'COPY --from=builder /msg /msg' 'CMD [\"cat\", \"/msg\"]' > $ctx/Containerfile"
step packages/pbuild/bin/pbuild build -t localhost/demo-app "$ctx"
step packages/prun/bin/prun run --rm localhost/demo-app
"${as_user[@]}" rm -rf "$ctx"

# Run: a rootless container in the foreground, then a web server in the background whose port
# is published on the host (slirp4netns), its logs, and its removal.
step packages/prun/bin/prun run --rm busybox:demo sh -c 'echo "hello from $(hostname), uid $(id -u) inside"'
step packages/prun/bin/prun run -d --name demo-web -p 127.0.0.1:18081:8080 busybox:demo sh -c 'echo "served by pkit" > /index.html; echo started; httpd -f -p 8080 -h /'
for _ in $(seq 50); do "${as_user[@]}" wget -qO- http://127.0.0.1:18081/index.html 2>/dev/null && break; sleep 0.1; done
step packages/prun/bin/prun ps
step packages/prun/bin/prun logs demo-web
step packages/prun/bin/prun rm -f demo-web

# Copy: out of the store into an OCI archive, inspect it as skopeo would, and back in by another
# name through a pipe.
out=$("${as_user[@]}" mktemp -d /tmp/pkit-demo.XXXXXX)
step packages/pcopy/bin/pcopy copy local:busybox:demo "oci-archive:$out/busybox.tar:demo"
step packages/pcopy/bin/pcopy inspect "oci-archive:$out/busybox.tar:demo"
step bash -o pipefail -c "packages/pcopy/bin/pcopy copy -q local:busybox:demo oci-archive:/dev/stdout | packages/pcopy/bin/pcopy copy -q oci-archive:/dev/stdin local:busybox:piped"
step packages/prun/bin/prun images
"${as_user[@]}" rm -rf "$out"
