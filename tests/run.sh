#!/usr/bin/env bash
# The whole test suite: the console's UI tests, then formatting, lints and every Rust test in the
# workspace — the end-to-end suite included, which drives the real app binary in a headless
# desktop (see tests/e2e/env.sh). Set CARGO_TARGET_DIR to share build output between checkouts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ui: tests and build"
(cd ui && npm run check && npm test --silent && npm run build --silent)

echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
# With the console's demo (src-tauri/demo.sh's build), so its code is linted too.
cargo clippy --workspace --all-targets --features frontdesk/demo -- -D warnings
echo "== tests"
# tests/setup.sh installs Schemathesis under the cache dir as it is now; the headless desktop
# below moves XDG_CACHE_HOME into a temp dir, so name the install for the contract test.
export FRONTDESK_CACHE="${FRONTDESK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontdesk}"
# One cargo invocation builds everything once; the desktop is there for the e2e suite. The
# console crate's demo test runs (frontdesk-console/demo); the app binary the e2e suite drives
# is built without its own `demo` feature, as shipped (no `--demo`, which a test checks).
bash tests/e2e/env.sh cargo test --workspace --no-fail-fast --features frontdesk-console/demo
