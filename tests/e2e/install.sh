#!/usr/bin/env bash
# Installs what the end-to-end rig (tests/e2e/env.sh) needs, and only what is missing:
# Debian packages (checked one by one with `dpkg -s`; `apt-get update` only if one is missing),
# `tauri-driver` (cargo, only if not on PATH), and a Python that can import `dbusmock`.
# On a prepared machine it takes about a second and changes nothing.
#
#   bash tests/e2e/install.sh
#
# Environment:
#   TAURI_DRIVER_TARGET_DIR  cargo target dir for building tauri-driver
#                            (default /var/tmp/tauri-driver-build, so the shared
#                            CARGO_TARGET_DIR of the workspace is not locked meanwhile)
set -euo pipefail

log() { printf 'e2e-install: %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

# The Tauri build deps (from docs/test-rig.md) and the e2e rig's own tools.
packages=(
  build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
  webkit2gtk-driver xvfb xauth dbus-daemon dbus-bin dbus-x11 libglib2.0-bin gnome-keyring
  python3-dbusmock libsecret-tools imagemagick curl
  x11-utils python3-gi gir1.2-gtk-3.0
  chromium chromium-driver
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# tauri-driver: the WebDriver intermediary in front of WebKitWebDriver.
if ! command -v tauri-driver >/dev/null 2>&1; then
  if ! command -v cargo >/dev/null 2>&1; then
    log "cargo is missing; install Rust (https://rustup.rs) and run this again" >&2
    exit 1
  fi
  log "installing tauri-driver (cargo install, takes a few minutes)"
  CARGO_TARGET_DIR="${TAURI_DRIVER_TARGET_DIR:-/var/tmp/tauri-driver-build}" \
    cargo install tauri-driver --locked --quiet
  if ! command -v tauri-driver >/dev/null 2>&1; then
    log "tauri-driver was installed but is not on PATH (add ~/.cargo/bin)" >&2
    exit 1
  fi
fi

# A Python that can import dbusmock. `python3` may be a pyenv CPython that does not see
# Debian's dist-packages; env.sh then uses /usr/bin/python3. Only if neither works, pip it in.
dbusmock_python=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import dbusmock' >/dev/null 2>&1; then
    dbusmock_python="$py"
    break
  fi
done
if [ -z "$dbusmock_python" ]; then
  py=python3
  [ -x /usr/bin/python3 ] && py=/usr/bin/python3
  log "no python can import dbusmock; pip-installing python-dbusmock and dbus-python for $py"
  "$py" -m pip install --quiet python-dbusmock dbus-python ||
    "$py" -m pip install --quiet --break-system-packages python-dbusmock dbus-python
  "$py" -c 'import dbusmock' >/dev/null
fi

log "ready"
