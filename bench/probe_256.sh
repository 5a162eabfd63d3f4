#!/usr/bin/env bash
# probe_256.sh — can ttft-probe hold 256 concurrent streams on one thread of
# a 2-core machine and still stamp each token when it arrives?
# Runs the probe under the shim against the fixture server (256 streams,
# 64 tokens each, a token every 20 ms) and compares, per stream, the
# probe's first-token timestamp with the instant the shim saw the read
# return at the socket. Prints the gap's distribution (ours) and the same
# for a named alternative: a Python asyncio client (bench/py_asyncio_many.py).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${TTFT_BUILD:-build}
N=${N:-256}
make -s all "$B/fixture-server" >/dev/null
# everything in one directory, removed on the way out
dir=$(mktemp -d /dev/shm/ttft-bench256.XXXXXX)
srv=
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
# the fixture prints its port once it listens: read that line, no polling
exec 3< <(exec "$B/fixture-server" --port 0 --first-ms 100 --token-ms 20)
srv=$!
read -r _ port <&3
log=$dir/log
"$B/ttft-run" --quiet --log "$log" -- "$B/ttft-probe" --url "http://127.0.0.1:$port" \
	--concurrency "$N" --requests "$N" --max-tokens 64 --json "$dir/probe.jsonl" -q
"$B/ttft-analyze" --json --path /v1/completions "$log" > "$dir/probe.json"
rm -f "$log"
"$B/ttft-run" --quiet --log "$log" -- python3 bench/py_asyncio_many.py "$port" "$N"
"$B/ttft-analyze" --json --path /v1/completions "$log" > "$dir/py.json"
rm -f "$log"
python3 - "$N" "$dir" <<'PY'
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
recs = [json.loads(l) for l in open(f"{d}/probe.jsonl")]
reqs, summ = recs[:-1], recs[-1]["summary"]
ok = sum(r["ok"] for r in reqs)
toks = sum(r["tokens"] for r in reqs)
def gaps(path):
    an = json.load(open(path))["requests"]
    return sorted(r["app_gap_s"] * 1e6 for r in an if r["app_gap_s"] is not None)
def show(name, g):
    q = lambda p: g[min(len(g) - 1, int(p * (len(g) - 1) + 0.5))]
    print(f"{name:<16} p50 {q(.5):9.1f}  p90 {q(.9):9.1f}  p99 {q(.99):9.1f}  "
          f"max {g[-1]:9.1f}  ({len(g)} streams)")
    return q(.5)
print(f"streams: {len(reqs)} requested {n}, ok {ok}, tokens {toks} (want {n * 64})")
print("first token seen by the application after the socket read returned (us):")
ours = show("ttft-probe", gaps(f"{d}/probe.json"))
theirs = show("python asyncio", gaps(f"{d}/py.json"))
print(f"ratio of medians (asyncio / ttft-probe): {theirs / ours:.1f}")
print(f"probe TTFT p50 {summ['ttft_s']['median']*1e3:.2f} ms, ITL p50 {summ['itl_s']['median']*1e3:.2f} ms "
      f"(injected 100 / 20), output {summ['output_tokens_per_s']:.0f} tok/s")
PY
