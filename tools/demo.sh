#!/usr/bin/env bash
# demo.sh — `make demo`: the main job on the embedded engine.
# Builds what is missing (the tools, llama-server, a random-weight Qwen2
# model), starts llama-server on a free loopback port under ttft-cold (three
# restarts, each a cold request then warm runs, timed by ttft-probe under the
# shim), prints the shim's per-request breakdown (and its Chrome trace and
# waterfall), writes first_token_latency.md, cold.json and the shim's
# shim.json, stops the server, then runs ttft-sweep's prefix-caching and
# KV-scaling experiments at a small scale, which add their sections to the
# report (and first_token_latency.html, charts inline), and prints the
# report's path as its last line. The shim's log lives in /dev/shm only
# while the demo runs.
#   DEMO_SHAPE=tiny|qwen2.5-0.5b|qwen2.5-1.5b  (default tiny: fast on a CPU)
#   DEMO_OUT=out/demo   DEMO_WARM=5   DEMO_TOKENS=64   DEMO_CYCLES=3
#   DEMO_LOG=/dev/shm/ttft-demo.PID.log (the shim's log while the demo runs; removed)
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPE=${DEMO_SHAPE:-tiny}
OUT=${DEMO_OUT:-out/demo}
WARM=${DEMO_WARM:-5}
TOKENS=${DEMO_TOKENS:-64}
CYCLES=${DEMO_CYCLES:-3}
B=${TTFT_BUILD:-build}
CACHE=${TTFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ttftshim}
say() { printf '\n== demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# the shim's log: private, and gone however the demo ends
LOG=${DEMO_LOG:-/dev/shm/ttft-demo.$$.log}
trap 'rm -f "$LOG"' EXIT
trap 'exit 130' INT TERM

if [ -z "${TTFT_DEPS_OK:-}" ]; then
	bash tools/deps.sh demo || exit 1
fi
say "building the tools"
make -s TTFT_DEPS_OK=1 all >&2 || die "make failed (see above)"
say "finding or building llama-server (a first build takes ~16 min on 2 busy cores, with progress every 30 s; cached in $CACHE)"
SERVER=$(tools/engine.sh server) || die "no llama-server (see the messages above)"
make -s TTFT_DEPS_OK=1 "$B/ttft-mkmodel" >&2 || die "building the model generator failed"

# r2: the model's name says "random weights (ttft-mkmodel)", which the report quotes
MODEL=$CACHE/models/qwen2-$SHAPE-seed42.r2.gguf
if [ ! -s "$MODEL" ]; then
	say "writing a random-weight $SHAPE model (real Qwen2 tokenizer) to $MODEL"
	mkdir -p "$(dirname "$MODEL")"
	"$B/ttft-mkmodel" --vocab "$(tools/engine.sh src)/models/ggml-vocab-qwen2.gguf" \
		--shape "$SHAPE" --out "$MODEL.tmp.$$" || die "could not write the model"
	mv "$MODEL.tmp.$$" "$MODEL"
fi

# a free loopback port: the first that nothing answers on (looked for again
# before each job: the machine may be shared)
free_port() {
	for p in $(seq 18180 18280); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
}
PORT=${DEMO_PORT:-$(free_port)}
[ -n "$PORT" ] || die "no free port in 18180-18280 (set DEMO_PORT)"
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT"
CMD="$SERVER -m $MODEL --host 127.0.0.1 --port $PORT -np 1 -c 4096 --cache-ram 0 --metrics -lv 4 --log-timestamps --log-prefix"

say "$CYCLES restarts, each a cold request + $WARM warm runs, against llama-server on $URL"
rc=0
"$B/ttft-run" --quiet --log "$LOG" -- "$B/ttft-cold" --server "$CMD" --url "$URL" \
	--cycles "$CYCLES" --warm-runs "$WARM" --max-tokens "$TOKENS" --ignore-eos \
	--report "$OUT/first_token_latency.md" --json "$OUT/cold.json" || rc=$?
[ $rc -eq 0 ] || die "ttft-cold failed (exit $rc); the server logs are in $OUT"

say "the shim's view of the same requests (socket boundary; app_gap = the probe seeing the token)"
"$B/ttft-analyze" --path /v1/completions --trace "$OUT/trace.json" --svg "$OUT/waterfall.svg" \
	"$LOG" >&2
"$B/ttft-analyze" --quiet --json --path /v1/completions "$LOG" >"$OUT/shim.json"

# The rest of the day at a small scale: prefix caching (3 lengths, 4 misses
# and 4 hits each) and KV scaling (2 capacity configurations x 2 prompt
# lengths x concurrency 1, 2, 4), each configuration started and stopped.
PORT=${DEMO_PORT:-$(free_port)}
[ -n "$PORT" ] || die "no free port in 18180-18280 (set DEMO_PORT)"
URL=http://127.0.0.1:$PORT
BASE="$SERVER -m $MODEL --host 127.0.0.1 --port $PORT --cache-ram 0 --metrics"
say "prefix caching and KV scaling (small scale: seconds) against llama-server"
rc=0
"$B/ttft-sweep" --server "$BASE" --url "$URL" --ignore-eos --max-tokens "${DEMO_SWEEP_TOKENS:-8}" \
	--prefix-tokens 64,256,1024 --prefix-requests 4 --cache-on-flags "-np 1 -c 4096" \
	--kv-config "np1=-np 1 -c 2048" --kv-config "np2=-np 2 -c 4096" \
	--prompt-tokens 128,512 --concurrency 1,2,4 \
	--report "$OUT/first_token_latency.md" --json "$OUT/sweep.json" || rc=$?
[ $rc -eq 0 ] || die "ttft-sweep failed (exit $rc); the server logs are in $OUT"
say "done: report, its HTML page ($OUT/first_token_latency.html), charts, trace (open $OUT/trace.json in ui.perfetto.dev), cold.json, shim.json and sweep.json in $OUT"
echo "$OUT/first_token_latency.md"
