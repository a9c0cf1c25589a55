#!/usr/bin/env bash
# Runs a command inside a private, headless desktop for the end-to-end suite:
#
#   bash tests/e2e/env.sh <command> [args...]
#   bash tests/e2e/env.sh cargo test -p frontdesk-tests --test e2e -- --test-threads=1
#
# What the command gets:
#   - an X server (xvfb-run -a) and its own session D-Bus (dbus-run-session);
#     NO_AT_BRIDGE=1, WEBKIT_DISABLE_COMPOSITING_MODE=1
#   - XDG_DATA_HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR in a fresh temp dir
#     (HOME is left alone, so cargo and rustup keep working)
#   - an unlocked Secret Service (gnome-keyring-daemon, secrets component, password "pw");
#     whatever the daemon prints (VAR=value lines) is exported
#   - a recording notification daemon (python-dbusmock notification_daemon template) owning
#     org.freedesktop.Notifications; its log is FRONTDESK_NOTIFY_LOG
#   - tauri-driver answering on FRONTDESK_WEBDRIVER_URL (http://127.0.0.1:PORT); the app it
#     launches writes its stderr to $FRONTDESK_E2E_DIR/logs/tauri-driver.log
#   - FRONTDESK_E2E_DIR: the temp dir, free for the command to use
#
# The exit status is the command's. Quiet on success; if the set-up or the command fails, the
# helpers' logs (tauri-driver + app stderr, dbusmock, keyring, dbus, Xvfb, the notification
# log) are printed to stderr and the temp dir is kept. Everything started here is stopped on
# exit, including on Ctrl-C or SIGTERM.
#
# Environment knobs:
#   FRONTDESK_E2E_PORT       tauri-driver port (default: a free one); WebKitWebDriver gets
#                            PORT+1 when this is set, otherwise another free one
#   FRONTDESK_E2E_KEEP=1     keep the temp dir even on success
#   FRONTDESK_E2E_VERBOSE=1  print the helpers' logs even on success
#   FRONTDESK_E2E_SCREEN     Xvfb screen (default 1280x800x24)
#   FRONTDESK_E2E_TIMEOUT    seconds to wait for each helper to come up (default 20)
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash tests/e2e/env.sh <command> [args...]" >&2
  exit 2
fi

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

die() {
  printf 'e2e-env: %s\n' "$*" >&2
  exit 1
}

# Runs "$@" in the background with our stdin, waits for it (signal traps stay live meanwhile)
# and sets $child_rc. $child_pid names it while it runs.
child_pid=""
child_rc=0
run_child() {
  "$@" <&3 3<&- &
  child_pid=$!
  while :; do
    if wait "$child_pid"; then child_rc=0; else child_rc=$?; fi
    kill -0 "$child_pid" 2>/dev/null || break
  done
  child_pid=""
}
if { true <&0; } 2>/dev/null; then exec 3<&0; else exec 3</dev/null; fi

# ---------------------------------------------------------------------------------------------
# Outer half: put ourselves under Xvfb and a private session bus, then run the inner half.
# ---------------------------------------------------------------------------------------------
if [ "${FRONTDESK_E2E_INNER:-}" != "1" ]; then
  for tool in xvfb-run xauth dbus-run-session dbus-daemon gdbus gnome-keyring-daemon \
    tauri-driver WebKitWebDriver curl setsid timeout; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing; run: bash tests/e2e/install.sh"
  done
  # If the caller already has a session bus, it must not leak into ours.
  unset DBUS_SESSION_BUS_ADDRESS
  base="$(mktemp -d "${TMPDIR:-/tmp}/frontdesk-e2e.XXXXXX")"
  mkdir -p "$base/logs"
  # dbus-daemon (as root in a container) warns that it cannot raise its fd limit, and services
  # it activates (the a11y bus, ...) print to its stdout: send all of that to a log instead of
  # the command's output. dbus-run-session reads the bus address on fd 4, not stdout.
  printf '#!/bin/sh\nexec %q "$@" >>%q 2>&1\n' "$(command -v dbus-daemon)" \
    "$base/logs/dbus-daemon.log" >"$base/dbus-daemon"
  chmod +x "$base/dbus-daemon"

  # Signals to us go to the inner half (which stops the command and cleans up).
  forward() {
    local target=""
    [ -s "$base/inner.pid" ] && target="$(cat "$base/inner.pid")"
    [ -n "$target" ] || target="$child_pid"
    [ -n "$target" ] && kill -"$1" "$target" 2>/dev/null
    return 0
  }
  trap 'forward TERM' TERM
  trap 'forward INT' INT
  trap 'forward HUP' HUP

  export FRONTDESK_E2E_INNER=1 FRONTDESK_E2E_DIR="$base"
  export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
  run_child xvfb-run -a -e "$base/logs/xvfb.log" \
    -s "-screen 0 ${FRONTDESK_E2E_SCREEN:-1280x800x24}" \
    dbus-run-session --dbus-daemon="$base/dbus-daemon" -- bash "$self" "$@"
  rc=$child_rc

  trap '' PIPE
  if [ "$rc" -ne 0 ] || [ "${FRONTDESK_E2E_KEEP:-}" = "1" ]; then
    # (If the inner half got going, it has printed every log already.)
    if [ "$rc" -ne 0 ] && [ ! -d "$base/data" ] && [ -s "$base/logs/xvfb.log" ]; then
      printf '\n----- %s -----\n' "$base/logs/xvfb.log" >&2
      tail -n 40 "$base/logs/xvfb.log" >&2 || true
    fi
    printf 'e2e-env: logs and temp files kept in %s\n' "$base" >&2 || true
  else
    rm -rf "$base"
  fi
  exit "$rc"
fi

# ---------------------------------------------------------------------------------------------
# Inner half: we are under Xvfb (DISPLAY set) with a private DBUS_SESSION_BUS_ADDRESS.
# ---------------------------------------------------------------------------------------------
base="${FRONTDESK_E2E_DIR:?}"
wait_s="${FRONTDESK_E2E_TIMEOUT:-20}"
logs="$base/logs"
mkdir -p "$logs"
for d in data cache config run; do
  mkdir -p -m 700 "$base/$d"
done
echo "$$" >"$base/inner.pid"
export XDG_DATA_HOME="$base/data" XDG_CACHE_HOME="$base/cache" XDG_CONFIG_HOME="$base/config"
export XDG_RUNTIME_DIR="$base/run"
export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
export FRONTDESK_NOTIFY_LOG="$base/notifications.log"

groups=()      # process groups we started (each helper runs under setsid)
keyring_pid="" # gnome-keyring-daemon daemonizes; its pid comes from the bus
ok=0

# True while $1 is a live (not zombie) process.
alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

show_logs() {
  local f
  for f in "$logs"/*.log "$FRONTDESK_NOTIFY_LOG"; do
    [ -e "$f" ] || continue
    printf '\n----- %s -----\n' "$f" >&2
    if [ -s "$f" ]; then tail -n 80 "$f" >&2; else echo "(empty)" >&2; fi
  done
}

cleanup() {
  local rc=$?
  # Nothing may interrupt the clean-up, and a closed output pipe must not kill it.
  trap '' INT TERM HUP PIPE
  set +e
  [ -n "$child_pid" ] && kill -TERM "$child_pid" 2>/dev/null
  local p w
  for p in "${groups[@]}"; do
    kill -TERM -- "-$p" 2>/dev/null
  done
  [ -n "$keyring_pid" ] && kill -TERM "$keyring_pid" 2>/dev/null
  # Reap our direct children (at most 3 s each, then KILL), then KILL any stragglers.
  for p in "${groups[@]}"; do
    (sleep 3 && kill -KILL -- "-$p") 2>/dev/null &
    w=$!
    wait "$p" 2>/dev/null
    kill "$w" 2>/dev/null
    wait "$w" 2>/dev/null
    kill -KILL -- "-$p" 2>/dev/null
  done
  if [ -n "$keyring_pid" ]; then
    for _ in $(seq 30); do
      alive "$keyring_pid" || break
      sleep 0.1
    done
    alive "$keyring_pid" && kill -KILL "$keyring_pid" 2>/dev/null
  fi
  if [ "$ok" != "1" ] || [ "$rc" -ne 0 ] || [ "${FRONTDESK_E2E_VERBOSE:-}" = "1" ]; then
    show_logs
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Waits up to $wait_s seconds for a well-known name on the session bus.
wait_for_name() {
  timeout "$((wait_s + 5))" gdbus wait --session --timeout "$wait_s" "$1" >/dev/null 2>&1
}

# --- Python for dbusmock: pyenv's python3 may not see Debian's dist-packages. -----------------
py=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import dbusmock' >/dev/null 2>&1; then
    py="$candidate"
    break
  fi
done
[ -n "$py" ] || die "no python3 can import dbusmock; run: bash tests/e2e/install.sh"

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Secret Service: gnome-keyring, unlocked, secrets only. ------------------------------------
keyring_env="$(printf pw | gnome-keyring-daemon --unlock --components=secrets \
  2>"$logs/gnome-keyring.log" 3<&-)" ||
  die "gnome-keyring-daemon failed to start"
while IFS= read -r line; do
  case "$line" in
    [A-Z_]*=*) export "${line?}" ;;
  esac
done <<<"$keyring_env"
wait_for_name org.freedesktop.secrets || die "org.freedesktop.secrets did not appear within ${wait_s}s"
keyring_pid="$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.GetConnectionUnixProcessID org.freedesktop.secrets 2>/dev/null |
  sed -nE 's/^\(uint32 ([0-9]+),\)$/\1/p')" || keyring_pid=""

# --- Notification recorder: python-dbusmock's notification_daemon template. --------------------
: >"$FRONTDESK_NOTIFY_LOG"
setsid "$py" -m dbusmock --session --template notification_daemon -l "$FRONTDESK_NOTIFY_LOG" \
  >"$logs/dbusmock.log" 2>&1 </dev/null 3<&- &
groups+=("$!")
wait_for_name org.freedesktop.Notifications ||
  die "org.freedesktop.Notifications did not appear within ${wait_s}s (see dbusmock log)"

# --- tauri-driver (it starts WebKitWebDriver on the native port). ------------------------------
started=0
for attempt in 1 2 3; do
  if [ -n "${FRONTDESK_E2E_PORT:-}" ]; then
    port="$FRONTDESK_E2E_PORT"
    native_port=$((port + 1))
  else
    port="$(free_port)"
    native_port="$(free_port)"
    [ "$native_port" != "$port" ] || native_port="$(free_port)"
  fi
  RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 setsid tauri-driver --port "$port" \
    --native-port "$native_port" >>"$logs/tauri-driver.log" 2>&1 </dev/null 3<&- &
  driver_pid=$!
  groups+=("$driver_pid")
  deadline=$((SECONDS + wait_s))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/status" 2>/dev/null; then
      started=1
      break
    fi
    alive "$driver_pid" || break
    sleep 0.2
  done
  [ "$started" = "1" ] && break
  echo "e2e-env: tauri-driver attempt $attempt on port $port failed" >>"$logs/tauri-driver.log"
  kill -TERM -- "-$driver_pid" 2>/dev/null || true
  [ -z "${FRONTDESK_E2E_PORT:-}" ] || break
done
[ "$started" = "1" ] || die "tauri-driver did not answer GET /status within ${wait_s}s"
export FRONTDESK_WEBDRIVER_URL="http://127.0.0.1:$port"

# --- The command. ------------------------------------------------------------------------------
ok=1
run_child "$@"
[ "$child_rc" -eq 0 ] || ok=0
exit "$child_rc"
