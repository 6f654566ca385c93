#!/usr/bin/env bash
# The flaky-test guard: runs again, STRESS_COUNT times (default 8), every test
# binary that exercises concurrency (it starts threads or tasks, or uses a
# multi-thread runtime), found by reading crates/*/tests, so a new concurrent
# test is covered without editing this list. Binaries that start other programs
# (Command::new: process tests, real SDK clients) are left to the main run:
# they are slow and their concurrency is the peer's.
#
#   bash scripts/stress-tests.sh            # what CI runs
#   STRESS_COUNT=20 bash scripts/stress-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${STRESS_COUNT:-8}
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked

filter=""
for f in crates/*/tests/*.rs; do
  grep -qE 'multi_thread|thread::spawn|thread::scope|tokio::spawn|JoinSet' "$f" || continue
  grep -q 'Command::new' "$f" && continue
  crate=$(basename "$(dirname "$(dirname "$f")")")
  bin=$(basename "$f" .rs)
  filter+="${filter:+ | }binary_id(${crate}::${bin})"
done
if [ -z "$filter" ]; then
  echo "stress: no concurrent test binaries found"
  exit 0
fi
echo "stress: $count runs of: $filter"
# nextest 0.9.143 exits 0 when only some stress iterations fail (seen in CI:
# "8/8 stress run iterations: 7 passed, 1 failed"), so the summary is read too.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo nextest run --workspace --all-features --no-fail-fast --stress-count "$count" -E "$filter" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  exit "$rc"
fi
if grep -qE 'stress run iterations: [0-9]+ passed, [1-9][0-9]* failed' "$log"; then
  echo "stress: a test failed in some iterations (above): a flaky test is a defect" >&2
  exit 1
fi
