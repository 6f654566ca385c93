#!/usr/bin/env bash
# The gateway's overhead benchmark (issue 15). A benchmark, not a test, and
# not a CI step: it takes about 25 minutes and its figures depend on the load
# of the machine.
#
#   bash scripts/bench/gateway.sh [FIGURES.md]
#
# A fake OpenAI-compatible upstream on 127.0.0.1 answers at once (one fixed
# chat completion; one fixed short stream): the `bench_upstream` example of
# toolplane-server. `oha` (pinned, from crates.io) sends requests
#   1. at fixed rates (500 and 2,000 req/s, 30 s each) straight to the
#      upstream, through `toolplane serve` (release build, one expert pointing
#      at the upstream) and through LiteLLM's proxy (pinned, in a venv) in
#      front of the same upstream; overhead = the difference of p50 and p99;
#   2. without a rate limit at a fixed concurrency (sustained throughput);
# then `bench_upstream ttfb` measures the time to the first byte of a stream
# on each path, and a soak sends 500 req/s through the gateway for
# SOAK_SECONDS (default 600) while sampling its resident memory every 10 s.
# Each comparison runs its targets alternately, twice, so the machine's noise
# falls on all of them; the figures file quotes the load average of each run.
#
# Environment: RATE_SECONDS (30), SOAK_SECONDS (600), ROUNDS (2),
# CONCURRENCY (64, for the throughput runs), TOOLPLANE_CACHE, NO_LITELLM=1 (only
# the upstream and the gateway), SOAK_SECONDS=0 (no soak), SOAK_ONLY=1 (only
# the soak: no LiteLLM, no rate, throughput or TTFB runs). The soak's processes
# run at nice -5 when the script may renice (root), so other work on the
# machine cannot starve the gateway into a backlog that the memory figure
# would then measure instead of a leak.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${1:-$root/target/bench-gateway.md}
cache=${TOOLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolplane}
OHA_VERSION=1.16.0
LITELLM_VERSION=1.81.13
RATE_SECONDS=${RATE_SECONDS:-30}
SOAK_SECONDS=${SOAK_SECONDS:-600}
ROUNDS=${ROUNDS:-2}
CONCURRENCY=${CONCURRENCY:-64}
work=$(mktemp -d)
raw="$work/raw.jsonl"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# --- tools -------------------------------------------------------------------
oha="$cache/oha/bin/oha"
if [ ! -x "$oha" ] || ! "$oha" --version | grep -q "$OHA_VERSION"; then
  log "installing oha $OHA_VERSION"
  cargo install oha --version "$OHA_VERSION" --locked --root "$cache/oha"
fi
litellm_venv="$cache/litellm-venv"
if ! "$litellm_venv/bin/pip" show litellm 2>/dev/null | grep -q "^Version: $LITELLM_VERSION$"; then
  log "installing litellm[proxy] $LITELLM_VERSION"
  python3 -m venv "$litellm_venv"
  "$litellm_venv/bin/pip" install -q --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
fi
log "building toolplane and bench_upstream (release)"
cargo build -q --release -p toolplane-cli --bin toolplane
cargo build -q --release -p toolplane-server --example bench_upstream
target_dir=${CARGO_TARGET_DIR:-$root/target}
toolplane="$target_dir/release/toolplane"
bench="$target_dir/release/examples/bench_upstream"

# Starts "$@" in the background with stdout to $1.log; waits for `pattern` in it.
start() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$name.pid"
  for _ in $(seq 1 3000); do
    if grep -q "$pattern" "$work/$name.log"; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# --- the three targets -------------------------------------------------------
start upstream "listening on" "$bench" serve
upstream=$(sed -n 's/^listening on //p' "$work/upstream.log" | head -1)
log "upstream $upstream"

key=tp-bench-key
cat >"$work/toolplane.toml" <<EOF
[server]
bind = "127.0.0.1:0"
max_concurrent_requests = 4096

[[server.keys]]
sha256 = "$("$toolplane" serve --hash-key "$key")"
principal = "bench"
roles = ["member"]

[[experts]]
id = "bench"
provider = "openai-compatible"
model = "bench-model"
base_url = "$upstream/v1"
api_key_env = "BENCH_UPSTREAM_KEY"
EOF
BENCH_UPSTREAM_KEY=sk-bench start gateway "listening on" "$toolplane" serve --config "$work/toolplane.toml"
gateway=$(sed -n 's/^toolplane serve listening on //p' "$work/gateway.log" | head -1)
log "gateway $gateway"

targets="upstream gateway litellm"
[ -n "${NO_LITELLM:-}" ] && targets="upstream gateway"
if [ -z "${SOAK_ONLY:-}" ] && [ -z "${NO_LITELLM:-}" ]; then
litellm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/litellm.yaml" <<EOF
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench-model
      api_base: $upstream/v1
      api_key: sk-bench
general_settings:
  master_key: $key
litellm_settings:
  telemetry: false
EOF
LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
  "$litellm_venv/bin/litellm" --config "$work/litellm.yaml" \
  --host 127.0.0.1 --port "$litellm_port" --telemetry False >"$work/litellm.log" 2>&1 &
pids+=($!)
echo $! >"$work/litellm.pid"
litellm="http://127.0.0.1:$litellm_port"
# Importing LiteLLM takes a while (minutes on a loaded machine).
for _ in $(seq 1 600); do
  if curl -sf -m 2 "$litellm/health/liveliness" >/dev/null; then break; fi
  sleep 0.5
done
curl -sf -m 2 "$litellm/health/liveliness" >/dev/null || { cat "$work/litellm.log" >&2; exit 1; }
log "litellm $litellm"
fi

body='{"model":"bench","messages":[{"role":"user","content":"Say hello."}]}'
url_of() {
  case $1 in
    upstream) echo "$upstream/v1/chat/completions" ;;
    gateway) echo "$gateway/v1/chat/completions" ;;
    litellm) echo "$litellm/v1/chat/completions" ;;
  esac
}

# One oha run; appends {"kind", "target", "rate", "round", "load", "oha": {...}} to $raw.
run_oha() {
  local kind=$1 target=$2 rate=$3 round=$4 seconds=$5
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  local args=(-z "${seconds}s" --no-tui --output-format json -m POST
    -H "content-type: application/json" -H "authorization: Bearer $key" -d "$body")
  if [ "$rate" = max ]; then
    args+=(-c "$CONCURRENCY")
  else
    args+=(-q "$rate" --latency-correction -c 256)
  fi
  log "$kind $target rate=$rate round=$round (load $load)"
  "$oha" "${args[@]}" "$(url_of "$target")" >"$work/oha.json"
  python3 - "$kind" "$target" "$rate" "$round" "$load" "$work/oha.json" >>"$raw" <<'PY'
import json, sys
kind, target, rate, rnd, load, path = sys.argv[1:]
o = json.load(open(path))
print(json.dumps({"kind": kind, "target": target, "rate": rate, "round": int(rnd), "load": load, "oha": o}))
PY
}

if [ -z "${SOAK_ONLY:-}" ]; then
# Warm each path (connections, caches) before measuring.
for t in $targets; do run_oha warmup "$t" 200 0 5; done

for rate in 500 2000; do
  for round in $(seq 1 "$ROUNDS"); do
    for t in $targets; do run_oha rate "$t" "$rate" "$round" "$RATE_SECONDS"; done
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for t in $targets; do run_oha throughput "$t" max "$round" 15; done
done

# Time to the first byte of a stream, 200 streams per second for 20 s on each path.
for round in $(seq 1 "$ROUNDS"); do
  for t in $targets; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    log "ttfb $t round=$round (load $load)"
    "$bench" ttfb "$(url_of "$t")" "$key" bench 200 20 >"$work/ttfb.json"
    python3 - "$t" "$round" "$load" "$work/ttfb.json" >>"$raw" <<'PY'
import json, sys
target, rnd, load, path = sys.argv[1:]
print(json.dumps({"kind": "ttfb", "target": target, "round": int(rnd), "load": load, "ttfb": json.load(open(path))}))
PY
  done
done

[ -f "$work/litellm.pid" ] && kill "$(cat "$work/litellm.pid")" 2>/dev/null || true
fi

if [ "$SOAK_SECONDS" -gt 0 ]; then
# The soak: 500 req/s through the gateway; its RSS every 10 s.
gateway_pid=$(cat "$work/gateway.pid")
for p in "$gateway_pid" "$(cat "$work/upstream.pid")" $$; do renice -n -5 -p "$p" >/dev/null 2>&1 || true; done
log "soak: ${SOAK_SECONDS}s at 500 req/s through the gateway"
(
  for _ in $(seq 1 $((SOAK_SECONDS / 10))); do
    sleep 10
    echo "$(date +%s) $(ps -o rss= -p "$gateway_pid" | tr -d ' ')"
  done
) >"$work/rss.txt" &
sampler=$!
start_rss=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
run_oha soak gateway 500 1 "$SOAK_SECONDS"
wait "$sampler" || true
python3 - "$start_rss" "$work/rss.txt" >>"$raw" <<'PY'
import json, sys
start, path = sys.argv[1], sys.argv[2]
samples = [list(map(int, l.split())) for l in open(path) if len(l.split()) == 2]
print(json.dumps({"kind": "rss", "before_kib": int(start), "samples_kib": [s[1] for s in samples]}))
PY
fi

# --- the figures -------------------------------------------------------------
python3 - "$raw" "$out" "$OHA_VERSION" "$LITELLM_VERSION" "$RATE_SECONDS" "$SOAK_SECONDS" "$CONCURRENCY" <<'PY'
import json, statistics, sys, platform, os
raw, out, oha_v, litellm_v, rate_s, soak_s, conc = sys.argv[1:]
rows = [json.loads(l) for l in open(raw)]
ms = lambda s: s * 1000.0

def pct(o, p):
    return ms(o["latencyPercentiles"][p]) if o["latencyPercentiles"].get(p) is not None else float("nan")

def ok_ratio(o):
    codes = o.get("statusCodeDistribution", {})
    total = sum(codes.values()) + sum(o.get("errorDistribution", {}).values())
    return codes.get("200", 0), total

lines = ["# Gateway benchmark (issue 15)", "",
         f"Command: `bash scripts/bench/gateway.sh` (oha {oha_v}, litellm[proxy] {litellm_v}, "
         f"{os.cpu_count()} cores, {platform.platform()}).",
         "Targets: `upstream` = the fake upstream directly; `gateway` = `toolplane serve` (release) with one "
         "expert pointing at it; `litellm` = LiteLLM's proxy (1 worker, master key, no database) in front of it. "
         "All latencies in ms; oha with `--latency-correction` (no coordinated omission). Load average = 1/5/15-minute "
         "load of the machine when the run began (the machine is shared).", ""]

lines += [f"## Fixed rates ({rate_s} s each, runs alternated)", "",
          "| rate | round | target | p50 | p99 | max | ok/total | load |", "|---|---|---|---|---|---|---|---|"]
by = {}
for r in rows:
    if r["kind"] != "rate":
        continue
    o = r["oha"]
    ok, total = ok_ratio(o)
    by.setdefault((r["rate"], r["target"]), []).append(o)
    lines.append(f"| {r['rate']} | {r['round']} | {r['target']} | {pct(o,'p50'):.3f} | {pct(o,'p99'):.3f} | "
                 f"{ms(o['summary']['slowest']):.3f} | {ok}/{total} | {r['load']} |")
lines += ["", "Overhead = target minus upstream, median over rounds:", "",
          "| rate | target | added p50 | added p99 |", "|---|---|---|---|"]
for rate in ("500", "2000"):
    base = by.get((rate, "upstream"), [])
    for t in ("gateway", "litellm"):
        runs = by.get((rate, t), [])
        if not base or not runs:
            continue
        d50 = statistics.median(pct(o, "p50") for o in runs) - statistics.median(pct(o, "p50") for o in base)
        d99 = statistics.median(pct(o, "p99") for o in runs) - statistics.median(pct(o, "p99") for o in base)
        lines.append(f"| {rate} | {t} | {d50:.3f} | {d99:.3f} |")

lines += ["", f"## Sustained throughput (no rate limit, {conc} connections, 15 s, runs alternated)", "",
          "| round | target | req/s | p50 | p99 | ok/total | load |", "|---|---|---|---|---|---|---|"]
tp = {}
for r in rows:
    if r["kind"] != "throughput":
        continue
    o = r["oha"]
    ok, total = ok_ratio(o)
    tp.setdefault(r["target"], []).append(o["summary"]["requestsPerSec"])
    lines.append(f"| {r['round']} | {r['target']} | {o['summary']['requestsPerSec']:.0f} | {pct(o,'p50'):.3f} | "
                 f"{pct(o,'p99'):.3f} | {ok}/{total} | {r['load']} |")
if tp.get("gateway") and tp.get("litellm"):
    g, l = statistics.median(tp["gateway"]), statistics.median(tp["litellm"])
    lines += ["", f"Median throughput: gateway {g:.0f} req/s, litellm {l:.0f} req/s: ratio {g / l:.1f}x."]
    if tp.get("upstream"):
        lines.append(f"Upstream alone: {statistics.median(tp['upstream']):.0f} req/s "
                     "(oha, the upstream and the proxy share the 2 cores).")

lines += ["", "## Time to first byte of a stream (200 streams/s, 20 s, runs alternated)", "",
          "| round | target | p50 | p99 | max | errors | load |", "|---|---|---|---|---|---|---|"]
tt = {}
for r in rows:
    if r["kind"] != "ttfb":
        continue
    t = r["ttfb"]
    tt.setdefault(r["target"], []).append(t["ttfb_ms"])
    lines.append(f"| {r['round']} | {r['target']} | {t['ttfb_ms']['p50']:.3f} | {t['ttfb_ms']['p99']:.3f} | "
                 f"{t['ttfb_ms']['max']:.3f} | {t['errors']}/{t['requests']} | {r['load']} |")
if tt.get("upstream"):
    b99 = statistics.median(x["p99"] for x in tt["upstream"])
    for t in ("gateway", "litellm"):
        if tt.get(t):
            lines.append(f"\nAdded TTFB p99, {t}: {statistics.median(x['p99'] for x in tt[t]) - b99:.3f} ms.")

for r in rows:
    if r["kind"] == "soak":
        o = r["oha"]
        ok, total = ok_ratio(o)
        lines += ["", f"## Soak: 500 req/s through the gateway for {soak_s} s", "",
                  f"p50 {pct(o,'p50'):.3f} ms, p99 {pct(o,'p99'):.3f} ms, {ok}/{total} answered 200, load at start {r['load']}."]
    if r["kind"] == "rss":
        s = r["samples_kib"]
        if s:
            first, last, peak = s[0], s[-1], max(s)
            lines += [f"RSS before the soak {r['before_kib']} KiB; every 10 s: {', '.join(map(str, s))} KiB.",
                      f"Growth from the first sample (10 s) to the last: {100.0 * (last - first) / first:+.2f}% "
                      f"(peak {peak} KiB)."]
            if len(s) > 6:
                warm = s[5]
                half = s[len(s) // 2]
                lines += [f"Growth after a minute of warm-up (sample at 60 s, {warm} KiB) to the last: "
                          f"{100.0 * (last - warm) / warm:+.2f}%; over the second half ({half} KiB to {last} KiB): "
                          f"{100.0 * (last - half) / half:+.2f}%."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
log "figures written to $out"
