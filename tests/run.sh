#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test in the workspace.
# Run from anywhere; set CARGO_TARGET_DIR to share build output between checkouts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== tests"
cargo test --workspace --no-fail-fast
