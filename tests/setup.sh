#!/usr/bin/env bash
# One-time set-up of a Debian 12 / Ubuntu machine for building, testing and running Frontdesk.
# Installs only what is missing, so on a prepared machine it takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is missing; install it from https://rustup.rs (stable, 1.95 or newer)" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done
if ! command -v npm >/dev/null 2>&1 || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)'; then
  echo "setup: Node.js 20 or newer with npm is needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# Debian packages for the Tauri build, and the headless desktop the end-to-end suite drives
# (Xvfb, a private D-Bus, a notification recorder, an unlocked keyring, WebKitWebDriver), and
# tauri-driver.
bash tests/e2e/install.sh

# PostgreSQL (Debian's package) for the scale-out backend's tests: each test binary starts a
# throwaway cluster of its own with initdb and pg_ctl, so the package's own service stays off.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi

# Schemathesis (OpenAPI fuzzing, for crates/server/tests/contract.rs) in a virtual environment of
# its own under the cache dir, never system-wide; the test finds it there or at $SCHEMATHESIS.
SCHEMATHESIS_VERSION=4.32.5
schemathesis_env="${FRONTDESK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontdesk}/schemathesis"
if ! "$schemathesis_env/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$schemathesis_env"
  python3 -m venv "$schemathesis_env"
  "$schemathesis_env/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

# fhir.resources (FHIR R4 models, for crates/server/tests/fhir.rs: an independent validator of
# what the FHIR export answers) in a virtual environment of its own under the cache dir. 6.2.2
# is the last release whose models are R4 (4.0.1); it is written for pydantic 1.
FHIR_RESOURCES_VERSION=6.2.2
fhir_env="${FRONTDESK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontdesk}/fhir-resources"
if ! "$fhir_env/bin/python" -c "import fhir.resources as f; assert f.__fhir_version__ == '4.0.1'" 2>/dev/null; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$fhir_env"
  python3 -m venv "$fhir_env"
  "$fhir_env/bin/pip" install --quiet --disable-pip-version-check \
    "fhir.resources==$FHIR_RESOURCES_VERSION" "pydantic[email]==1.10.27"
fi

# The Tauri CLI, for the console's .deb package (`cargo tauri build`; src-tauri/tests/package.rs).
TAURI_CLI_VERSION=2.12.4
if ! cargo tauri --version 2>/dev/null | grep -qx "tauri-cli $TAURI_CLI_VERSION"; then
  cargo install tauri-cli --version "$TAURI_CLI_VERSION" --locked
fi

# The console's front end.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ready"
