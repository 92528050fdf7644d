#!/bin/bash
# The full test run: setup (as root), the two test registries, the typecheck, and every uvu
# test under test/ (test/unit/**, test/e2e/**), run as the unprivileged user pkit-test when
# started as root. Ends with one line "N passed, M failed"; exits non-zero if a test failed,
# the typecheck failed, or no test ran.
#
# Usage: scripts/test.sh                   everything (this is `npm test`)
#        scripts/test.sh FILE|DIR          one test file or directory, no typecheck
#                                          (`npm test -- test/unit/storage/digest.test.ts`)
# Environment: PKIT_SKIP_SETUP=1 (skip setup), PKIT_TEST_TIMEOUT (seconds, default 1800),
#              PKIT_TESTBED_DIR (registry state, default /tmp/pkit-testbed); every other
#              PKIT_* variable is passed on to the tests.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Paths given as arguments are relative to where the caller stands.
args=()
for a in "$@"; do
  if [ -e "$a" ]; then args+=("$(realpath --relative-to="$REPO" "$a")"); else args+=("$a"); fi
done
set -- "${args[@]}"
cd "$REPO" || exit 1
TEST_USER=pkit-test
FIXTURE=$REPO/test/bed/out/busybox-rootfs.tar
TIMEOUT=${PKIT_TEST_TIMEOUT:-1800}

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

# --- setup --------------------------------------------------------------------------------
if [ $is_root = 1 ] && [ "${PKIT_SKIP_SETUP:-}" != 1 ]; then
  bash scripts/setup.sh || { echo "test: setup failed"; echo "0 passed, 0 failed"; exit 1; }
fi
if [ ! -x node_modules/.bin/node ]; then
  echo "test: node_modules/.bin/node is missing: run 'npm test' as root, or 'pnpm install'" >&2
  echo "0 passed, 0 failed"
  exit 1
fi
if [ ! -f "$FIXTURE" ]; then
  bash test/bed/make-busybox-fixture.sh || { echo "0 passed, 0 failed"; exit 1; }
fi

# --- registries ---------------------------------------------------------------------------
work=$(mktemp -d /tmp/pkit-test-run.XXXXXX)
chmod 0755 "$work"
started_registries=0
cleanup() {
  local rc=$?
  if [ $started_registries = 1 ]; then
    bash test/bed/registries.sh stop || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! bash test/bed/registries.sh status >/dev/null 2>&1; then
  started_registries=1
  bash test/bed/registries.sh start || { echo "test: the test registries did not start"; echo "0 passed, 0 failed"; exit 1; }
else
  echo "test: reusing the test registries that are already running" >&2
fi
eval "$(bash test/bed/registries.sh env)"

# The real node binary first: pnpm's .bin/node is a shell wrapper that does not exec, so a
# signal sent to a CLI would stop the wrapper and not the CLI.
export PATH="$REPO/node_modules/node/bin:$REPO/node_modules/.bin:$PATH"
echo "test: node $(node --version), $(tsc --version)" >&2

# --- typecheck ----------------------------------------------------------------------------
failures=()
if [ $# -eq 0 ]; then
  echo "test: typecheck: tsc -p tsconfig.json" >&2
  if ! node_modules/.bin/tsc -p tsconfig.json; then
    failures+=("the typecheck failed")
  fi
fi

# --- uvu ----------------------------------------------------------------------------------
# Arguments: none -> all of test/; a file -> that file; a directory -> its *.test.ts.
uvu_args=(test '\.test\.ts$')
if [ $# -eq 1 ] && [ -f "$1" ]; then
  f=$1
  esc=$(basename "$f" | sed 's/[][\.*^$+?(){}|]/\\&/g')
  uvu_args=("$(dirname "$f")" "(^|/)$esc\$")
elif [ $# -eq 1 ] && [ -d "$1" ]; then
  uvu_args=("$1" '\.test\.ts$')
elif [ $# -gt 0 ]; then
  uvu_args=("$@")
fi

run_env=(
  "PATH=$PATH"
  "LANG=C.UTF-8"
  "PKIT_REPO=$REPO"
  "PKIT_TEST_FIXTURE=$FIXTURE"
  "PKIT_TEST_REGISTRY=$PKIT_TEST_REGISTRY"
  "PKIT_TEST_AUTH_REGISTRY=$PKIT_TEST_AUTH_REGISTRY"
  "PKIT_TEST_AUTH_USER=$PKIT_TEST_AUTH_USER"
  "PKIT_TEST_AUTH_PASS=$PKIT_TEST_AUTH_PASS"
)
while IFS='=' read -r name _; do
  case "$name" in
    PKIT_REPO|PKIT_TEST_FIXTURE|PKIT_TEST_REGISTRY|PKIT_TEST_AUTH_*) ;;
    PKIT_*) run_env+=("$name=${!name}") ;;
  esac
done < <(env | grep -E '^PKIT_[A-Za-z0-9_]*=' || true)
for v in CI TERM NO_COLOR; do
  [ -n "${!v:-}" ] && run_env+=("$v=${!v}")
done

if [ $is_root = 1 ]; then
  uid=$(id -u "$TEST_USER") || { echo "test: no user $TEST_USER: run scripts/setup.sh"; echo "0 passed, 0 failed"; exit 1; }
  runtime_dir=/run/user/$uid
  if [ "$(stat -c %u "$runtime_dir" 2>/dev/null)" != "$uid" ]; then
    install -d -o "$uid" -g "$(id -g "$TEST_USER")" -m 0700 "$runtime_dir"
  fi
  run_env+=("HOME=/home/$TEST_USER" "USER=$TEST_USER" "LOGNAME=$TEST_USER" "XDG_RUNTIME_DIR=$runtime_dir")
  runner=(runuser -u "$TEST_USER" -- env -i -C "$REPO" "${run_env[@]}")
  echo "test: uvu ${uvu_args[*]} (as $TEST_USER)" >&2
else
  [ -n "${HOME:-}" ] && run_env+=("HOME=$HOME")
  [ -n "${USER:-}" ] && run_env+=("USER=$USER")
  [ -n "${XDG_RUNTIME_DIR:-}" ] && run_env+=("XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR")
  runner=(env -i -C "$REPO" "${run_env[@]}")
  echo "test: uvu ${uvu_args[*]} (as $(id -un))" >&2
fi

log=$work/uvu.log
# uvu forces colour by default; keep it only when the output goes to a terminal.
[ -t 1 ] || uvu_args+=(--no-color)
timeout --kill-after=10 "$TIMEOUT" "${runner[@]}" node_modules/.bin/uvu "${uvu_args[@]}" </dev/null 2>&1 | tee "$log"
uvu_rc=${PIPESTATUS[0]}

# Stop the registries now, so that nothing is printed after the summary line.
if [ $started_registries = 1 ]; then
  bash test/bed/registries.sh stop || true
  started_registries=0
fi

# --- summary ------------------------------------------------------------------------------
# uvu prints "Total: N / Passed: N / Skipped: N" per run (Total excludes skipped tests);
# sum every summary in case there are several.
read -r total passed skipped < <(
  sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | awk '
    /^[[:space:]]*Total:[[:space:]]*[0-9]+/   { t += $2 }
    /^[[:space:]]*Passed:[[:space:]]*[0-9]+/  { p += $2 }
    /^[[:space:]]*Skipped:[[:space:]]*[0-9]+/ { s += $2 }
    END { printf "%d %d %d\n", t, p, s }'
)
failed=$((total - passed))
[ $failed -lt 0 ] && failed=0

if [ "$uvu_rc" = 124 ] || [ "$uvu_rc" = 137 ]; then
  failures+=("the tests did not finish within ${TIMEOUT}s (PKIT_TEST_TIMEOUT)")
elif [ "$uvu_rc" != 0 ] && [ $failed = 0 ]; then
  failures+=("uvu exited with code $uvu_rc without a failed test (a test file failed to load, or a test exited early)")
fi
[ $failed -gt 0 ] && failures+=("$failed test(s) failed")
[ "$total" = 0 ] && [ $failed = 0 ] && failures+=("no test ran")

echo
[ "$skipped" -gt 0 ] && echo "test: $skipped test(s) skipped"
for f in "${failures[@]}"; do echo "test: FAIL: $f"; done
echo "$passed passed, $failed failed"
[ ${#failures[@]} -eq 0 ]
