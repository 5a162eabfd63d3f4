#!/usr/bin/env bash
# fake_vllm.sh PORT — prints a realistic vLLM (V1) start-up log with the
# delays its lines state (scaled down), then becomes fixture-server on PORT.
# Ground truth for test_cold: 0.30 s of silence first (imports: no line
# explains it), weights 0.40 s, model load 0.46 s, torch.compile 0.30 s,
# graph capture 1 s, init engine 1.30 s, API server 0.10 s.
set -eu
PORT=$1
B=${TTFT_BUILD:-build}
ts() { date -u +'%m-%d %H:%M:%S'; }
log() { printf 'INFO %s [%s] %s\n' "$(ts)" "$1" "$2" >&2; }
sleep 0.30
log __init__.py:239 "Automatically detected platform cuda."
log api_server.py:1043 "vLLM API server version 0.8.5"
log core.py:58 "Initializing a V1 LLM engine (v0.8.5) with config: model='Qwen/Qwen2.5-1.5B-Instruct', dtype=torch.bfloat16, max_seq_len=4096"
sleep 0.10
log gpu_model_runner.py:1329 "Starting to load model Qwen/Qwen2.5-1.5B-Instruct..."
sleep 0.40
log loader.py:458 "Loading weights took 0.40 seconds"
sleep 0.05
log gpu_model_runner.py:1347 "Model loading took 2.8871 GiB and 0.46 seconds"
sleep 0.30
log monitor.py:33 "torch.compile takes 0.30 s in total"
log gpu_worker.py:217 "Available KV cache memory: 116.34 GiB"
log kv_cache_utils.py:634 "GPU KV cache size: 3,519,424 tokens"
log kv_cache_utils.py:637 "Maximum concurrency for 4,096 tokens per request: 859.23x"
sleep 1.00
log gpu_model_runner.py:1686 "Graph capturing finished in 1 secs, took 0.45 GiB"
log core.py:159 "init engine (profile, create kv cache, warmup model) took 1.30 seconds"
log api_server.py:1090 "Starting vLLM API server on http://127.0.0.1:$PORT"
echo "INFO:     Started server process [$$]" >&2
sleep 0.10
echo "INFO:     Application startup complete." >&2
exec "$B/fixture-server" --port "$PORT" --first-ms 30 --token-ms 5
