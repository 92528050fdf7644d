#!/bin/bash
# Two local OCI registries for the tests (Debian's docker-registry, distribution v2):
#   127.0.0.1:5100  open
#   127.0.0.1:5101  htpasswd basic auth, user pkituser, password pkitpass
# Both listen on loopback only, store blobs under the state dir, and allow deletes.
#
# Usage: registries.sh start|stop|status|env
#   start   start both (reuses a running one whose PID is alive and whose port answers)
#   stop    TERM (then KILL) exactly the PIDs recorded by start, remove the PID files
#   status  exit 0 if both are running
#   env     print `export` lines for the tests
# State dir: $PKIT_TESTBED_DIR, default /tmp/pkit-testbed.
set -euo pipefail

# (A user other than root gets /tmp/pkit-testbed-<uid> when /tmp/pkit-testbed is not theirs.)
STATE=${PKIT_TESTBED_DIR:-/tmp/pkit-testbed}
if [ -z "${PKIT_TESTBED_DIR:-}" ] && [ "$(id -u)" != 0 ] && [ -e "$STATE" ] \
  && [ "$(stat -c %u "$STATE")" != "$(id -u)" ]; then
  STATE=/tmp/pkit-testbed-$(id -u)
fi
REGISTRY_BIN=${PKIT_REGISTRY_BIN:-/usr/bin/docker-registry}
HOST=127.0.0.1
AUTH_USER=pkituser
AUTH_PASS=pkitpass
NAMES=(open auth)
declare -A PORT=([open]=5100 [auth]=5101)
declare -A WANT_CODE=([open]=200 [auth]=401)
START_TIMEOUT=${PKIT_REGISTRY_TIMEOUT:-20}

die() { echo "registries: $*" >&2; exit 1; }

pidfile() { echo "$STATE/$1.pid"; }

# The recorded PID if that process is alive and is a registry, else nothing.
live_pid() {
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [ -d "/proc/$pid" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "registry" || return 0
  echo "$pid"
}

http_code() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:${PORT[$1]}/v2/" 2>/dev/null || true
}

answers() { [ "$(http_code "$1")" = "${WANT_CODE[$1]}" ]; }

write_config() {
  local name=$1 dir=$STATE/$1
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: info"
    echo "  fields:"
    echo "    service: pkit-testbed-$name"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "  maintenance:"
    echo "    uploadpurging:"
    echo "      enabled: false"
    echo "http:"
    echo "  addr: $HOST:${PORT[$name]}"
    echo "  secret: pkit-testbed-$name"
    echo "  headers:"
    echo "    X-Content-Type-Options: [nosniff]"
    if [ "$name" = auth ]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: pkit-testbed"
      echo "    path: $dir/htpasswd"
    fi
  } >"$dir/config.yml"
  if [ "$name" = auth ] && [ ! -s "$dir/htpasswd" ]; then
    command -v htpasswd >/dev/null || die "htpasswd not found: install the apache2-utils package"
    htpasswd -Bbn "$AUTH_USER" "$AUTH_PASS" | sed '/^$/d' >"$dir/htpasswd"
  fi
}

start_one() {
  local name=$1 pid log=$STATE/$1.log i
  pid=$(live_pid "$name")
  if [ -n "$pid" ]; then
    if answers "$name"; then
      echo "registries: $name registry already running on $HOST:${PORT[$name]} (pid $pid)" >&2
      return 0
    fi
    die "$name registry (pid $pid) is running but $HOST:${PORT[$name]}/v2/ does not answer ${WANT_CODE[$name]}: run '$0 stop' and retry"
  fi
  rm -f "$(pidfile "$name")"
  if [ "$(http_code "$name")" != 000 ]; then
    die "port ${PORT[$name]} on $HOST is already in use by another process (not started by this script)"
  fi
  write_config "$name"
  # setsid: own session, so a Ctrl-C in the terminal that started it does not reach it.
  # (A non-interactive shell's background child is not a group leader, so setsid does not
  # fork and $! is the registry's own PID.)
  set +m
  setsid "$REGISTRY_BIN" serve "$STATE/$name/config.yml" </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$(pidfile "$name")"
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    if answers "$name"; then
      echo "registries: $name registry listening on $HOST:${PORT[$name]} (pid $pid, log $log)" >&2
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  local why="did not come up on $HOST:${PORT[$name]} within ${START_TIMEOUT}s"
  kill -0 "$pid" 2>/dev/null || why="exited before it answered on $HOST:${PORT[$name]}"
  echo "registries: the $name registry ($REGISTRY_BIN, pid $pid) $why" \
    "(GET /v2/ gave '$(http_code "$name")', want ${WANT_CODE[$name]}); last lines of $log:" >&2
  tail -n 20 "$log" | sed 's/^/  | /' >&2
  stop_one "$name"
  exit 1
}

stop_one() {
  local name=$1 pid i
  pid=$(live_pid "$name")
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
    fi
    echo "registries: stopped $name registry (pid $pid)" >&2
  fi
  rm -f "$(pidfile "$name")"
}

case "${1:-}" in
  start)
    [ -x "$REGISTRY_BIN" ] || die "$REGISTRY_BIN not found: install the docker-registry package"
    command -v curl >/dev/null || die "curl not found: install the curl package"
    mkdir -p "$STATE"
    for n in "${NAMES[@]}"; do start_one "$n"; done
    ;;
  stop)
    for n in "${NAMES[@]}"; do stop_one "$n"; done
    ;;
  status)
    rc=0
    for n in "${NAMES[@]}"; do
      pid=$(live_pid "$n")
      if [ -n "$pid" ] && answers "$n"; then
        echo "$n: running on $HOST:${PORT[$n]} (pid $pid)"
      else
        echo "$n: not running"
        rc=1
      fi
    done
    exit $rc
    ;;
  env)
    echo "export PKIT_TEST_REGISTRY=$HOST:${PORT[open]}"
    echo "export PKIT_TEST_AUTH_REGISTRY=$HOST:${PORT[auth]}"
    echo "export PKIT_TEST_AUTH_USER=$AUTH_USER"
    echo "export PKIT_TEST_AUTH_PASS=$AUTH_PASS"
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
