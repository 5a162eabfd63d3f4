#!/usr/bin/env bash
# scrape_cost.sh — what one GET /metrics costs the server, to choose how
# often ttft-run --metrics and ttft-probe --concurrency sample it
# (docs/server-truth.md). For each server: the GET's time at the client
# (p50, p99) and the CPU time the server spent per scrape (all its threads,
# from /proc/PID/task/*/schedstat, minus the same wall time idle), then what
# share of one core that is at a few intervals.
#   the fixture server (vLLM's page, llama.cpp's page)
#   llama.cpp's llama-server, when tools/engine.sh has built it (-np 1)
#   vLLM's page rendered by prometheus_client, the library vLLM uses, with
#   vLLM's metric families and buckets (the render only: vLLM's HTTP stack
#   adds its own cost on top), when /usr/bin/python3 has prometheus_client
# usage: bench/scrape_cost.sh [SCRAPES]   (TTFT_BUILD=build by default)
set -u
cd "$(dirname "$0")/.."
B=${TTFT_BUILD:-build}
N=${1:-400}
TMP=$(mktemp -d /tmp/ttft-scrape-cost.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

cpu_ns() { # total on-CPU ns of every thread of PID
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'
}

measure() { # NAME PID PORT: one keep-alive connection, open while the CPU
	# is read (a server may spend it in a thread per connection)
	python3 - "$1" "$2" "$3" "$N" <<'EOF'
import glob, http.client, sys, time
name, pid, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def cpu():
    s = 0
    for f in glob.glob("/proc/%s/task/*/schedstat" % pid):
        try:
            s += int(open(f).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return s
c = http.client.HTTPConnection("127.0.0.1", port)
def get():
    c.request("GET", "/metrics")
    r = c.getresponse()
    r.read()
    return r.status
get()
times = []
c0, t0 = cpu(), time.monotonic()
for _ in range(n):
    a = time.perf_counter()
    get()
    times.append(time.perf_counter() - a)
c1, t1 = cpu(), time.monotonic()
time.sleep(t1 - t0)  # the same wall time idle: what the server spends anyway
c2 = cpu()
c.close()
times.sort()
us = max(0, ((c1 - c0) - (c2 - c1)) / n / 1e3)
print("%-34s %8.3f %8.3f %10.1f" % (name, times[len(times) // 2] * 1e3,
      times[int(0.99 * (len(times) - 1))] * 1e3, us)
      + "".join(" %7.2f%%" % (us / (i * 1e3) * 100) for i in (10, 20, 50, 100)))
EOF
}

port_of() { awk '/^port /{print $2; exit}' "$1"; }

start_fixture() { # STYLE: sets PORT and PID
	"$B/fixture-server" --port 0 --style "$1" >"$TMP/fx-$1" 2>/dev/null &
	PID=$!
	PIDS+=("$PID")
	for _ in $(seq 50); do [ -s "$TMP/fx-$1" ] && break; sleep 0.05; done
	PORT=$(port_of "$TMP/fx-$1")
}

printf '%-34s %8s %8s %10s %8s %8s %8s %8s\n' "server ($N scrapes)" "p50_ms" "p99_ms" \
	"cpu_us" "@10ms" "@20ms" "@50ms" "@100ms"
for style in vllm llamacpp; do
	start_fixture "$style"
	curl -s "http://127.0.0.1:$PORT/v1/completions" -d '{"prompt":"hi","max_tokens":3}' \
		-o /dev/null
	measure "fixture-server ($style page)" "$PID" "$PORT"
done

server=$(tools/engine.sh server 2>/dev/null | tail -n 1)
src=$(tools/engine.sh src 2>/dev/null | tail -n 1)
if [ -x "${server:-}" ] && [ -x "$B/ttft-mkmodel" ] && [ -n "$src" ]; then
	"$B/ttft-mkmodel" --shape tiny --vocab "$src/models/ggml-vocab-qwen2.gguf" \
		--out "$TMP/tiny.gguf" >/dev/null 2>&1
	start_fixture vllm # a free port, then the fixture goes
	kill "$PID"; wait "$PID" 2>/dev/null
	port=$PORT
	"$server" -m "$TMP/tiny.gguf" --host 127.0.0.1 --port "$port" -np 1 -c 2048 -t 1 \
		--metrics >"$TMP/llama.log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	for _ in $(seq 300); do
		curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
		sleep 0.1
	done
	curl -s "http://127.0.0.1:$port/v1/completions" -d '{"prompt":"hi","max_tokens":3}' \
		-o /dev/null
	measure "llama-server (-np 1, idle)" "$PID" "$port"
else
	echo "llama-server: not built (tools/engine.sh server), skipped"
fi

if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	/usr/bin/python3 - "$N" <<'EOF'
# vLLM's registry as prometheus_client renders it: its histograms with
# their buckets, counters and gauges, labels model_name and engine, plus
# the default process and GC collectors vLLM's page also carries.
import sys, time
from prometheus_client import Counter, Gauge, Histogram, REGISTRY, generate_latest
n = int(sys.argv[1])
lab = ["model_name", "engine"]
req = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
       60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]
ttft = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
        5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
itl = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
       7.5, 10.0, 20.0, 40.0, 80.0]
tok = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
hs = [Histogram("vllm:time_to_first_token_seconds", "", lab, buckets=ttft),
      Histogram("vllm:inter_token_latency_seconds", "", lab, buckets=itl),
      Histogram("vllm:request_time_per_output_token_seconds", "", lab, buckets=itl)]
for name in ["e2e_request_latency", "request_queue_time", "request_inference_time",
             "request_prefill_time", "request_decode_time"]:
    hs.append(Histogram("vllm:%s_seconds" % name, "", lab, buckets=req))
for name in ["request_prompt_tokens", "request_generation_tokens", "iteration_tokens_total",
             "request_max_num_generation_tokens", "request_params_n",
             "request_params_max_tokens"]:
    hs.append(Histogram("vllm:" + name, "", lab, buckets=tok))
cs = [Counter("vllm:" + c, "", lab) for c in
      ["prompt_tokens", "generation_tokens", "num_preemptions", "prefix_cache_queries",
       "prefix_cache_hits"]]
ok = Counter("vllm:request_success", "", lab + ["finished_reason"])
gs = [Gauge("vllm:" + g, "", lab) for g in
      ["num_requests_running", "num_requests_waiting", "kv_cache_usage_perc"]]
for h in hs:
    h.labels("Qwen/Qwen2.5-1.5B-Instruct", "0").observe(0.05)
for c in cs:
    c.labels("Qwen/Qwen2.5-1.5B-Instruct", "0").inc(10)
for r in ["stop", "length", "abort", "error"]:
    ok.labels("Qwen/Qwen2.5-1.5B-Instruct", "0", r).inc()
for g in gs:
    g.labels("Qwen/Qwen2.5-1.5B-Instruct", "0").set(1)
page = generate_latest(REGISTRY)
c0 = time.process_time()
for _ in range(n):
    generate_latest(REGISTRY)
cpu = (time.process_time() - c0) / n * 1e6
print("%-34s %8s %8s %10.1f" % ("vLLM page, prometheus_client render", "-", "-", cpu)
      + "".join(" %7.2f%%" % (cpu / (i * 1e3) * 100) for i in (10, 20, 50, 100))
      + "   (%d lines, render only)" % page.count(b"\n"))
EOF
else
	echo "vLLM page render: /usr/bin/python3 has no prometheus_client" \
		"(apt-get install python3-prometheus-client), skipped"
fi
