#!/usr/bin/env bash
# Builds every fuzz target in fuzz/ and runs each for a fixed time, seeded from
# our own fixtures (fuzz/seeds, crate test fixtures) and the shared recorded
# traffic. A crash, a panic or a failed assertion fails the script and leaves the
# input under fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh            # every target, FUZZ_SECONDS (default 30) each
#   bash scripts/fuzz.sh 300 sse_reader decode_anthropic
#
# Needs cargo-fuzz (installed here when missing). libFuzzer's instrumentation
# flags are nightly-only in name only: RUSTC_BOOTSTRAP=1 lets the one stable
# toolchain accept them. No sanitizer (-s none): the workspace forbids unsafe
# code, so memory errors are not what we hunt; panics, aborts, hangs
# (-timeout) and runaway memory (-rss_limit_mb) are.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-${FUZZ_SECONDS:-30}}
shift || true
fixtures=${TOOLPLANE_FIXTURES:-$root/../shared/fixtures}

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked
export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^toolplane-fuzz$')
fi

echo "fuzz: building ${#targets[@]} targets"
(cd fuzz && cargo fuzz build -s none -O)

# Seeds: a work corpus per target under .cache/fuzz (kept between runs, never
# committed), filled from the seed folders below.
seed() { # target, files...
  local t=$1; shift
  mkdir -p ".cache/fuzz/$t"
  for f in "$@"; do [ -f "$f" ] && cp -f "$f" ".cache/fuzz/$t/seed-$(basename "$f")"; done
  return 0
}
for t in "${targets[@]}"; do
  mkdir -p ".cache/fuzz/$t"
  [ -d "fuzz/seeds/$t" ] && seed "$t" fuzz/seeds/"$t"/*
done
pfix=crates/toolplane-providers/tests/fixtures
seed sse_reader "$pfix"/*.sse "$fixtures"/providers/openai/chat-streams/*.sse "$fixtures"/providers/anthropic/message-streams/*.sse
seed decode_openai_chat "$pfix"/openai-*.sse "$pfix"/mistral-*.sse "$fixtures"/providers/openai/chat-streams/*.sse
seed decode_openai_responses "$pfix"/responses-*.sse
seed decode_anthropic "$pfix"/anthropic-*.sse "$fixtures"/providers/anthropic/message-streams/*.sse
seed decode_cohere "$pfix"/cohere-*.sse
seed openapi_yaml crates/toolplane-openapi/tests/fixtures/*.yaml examples/data/*.yaml
seed openapi_json crates/toolplane-openapi/tests/fixtures/external/*.json
for y in crates/toolplane-openapi/tests/fixtures/*.yaml examples/data/tasks-api.yaml; do
  python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$y" \
    > ".cache/fuzz/openapi_json/seed-$(basename "$y" .yaml).json" 2>/dev/null \
    || rm -f ".cache/fuzz/openapi_json/seed-$(basename "$y" .yaml).json"
done
seed pipeline_yaml crates/toolplane-pipeline/examples/data/*.yaml
seed skill_front_matter crates/toolplane-skills/tests/skills/*/SKILL.md

failed=()
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds}s"
  mkdir -p "fuzz/artifacts/$t"
  if ! fuzz/target/x86_64-unknown-linux-gnu/release/"$t" ".cache/fuzz/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 2> ".cache/fuzz/$t.log"; then
    failed+=("$t")
    tail -40 ".cache/fuzz/$t.log"
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' ".cache/fuzz/$t.log" | tr '\n' ' ' || true
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs under fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a finding"
