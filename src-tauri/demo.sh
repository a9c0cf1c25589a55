#!/usr/bin/env bash
# The demo, in one command on a fresh Debian 12 / Ubuntu machine: installs what is missing,
# builds the console with its `demo` feature (the shipped console has none: it carries no clinic
# server), starts a clinic server inside it on loopback with the seeded demo clinic and its
# simulated patients, and opens the console signed in as the demo receptionist.
#
#   bash src-tauri/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh
(cd ui && npm run build --silent)
exec cargo run -p frontdesk --features demo -- --demo
