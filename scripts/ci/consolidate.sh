#!/usr/bin/env bash
# Builds and runs examples/new_user: a program outside the workspace, written
# the way the README says (the facade, serde, schemars, tokio). It must compile
# and run the loop with an approval. Idempotent; needs only cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The workspace's pinned versions, so the build reuses the workspace's artifacts.
cp Cargo.lock examples/new_user/Cargo.lock
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}" \
  cargo run --quiet --manifest-path examples/new_user/Cargo.toml
