#!/usr/bin/env bash
# serve_slm_vllm.sh — the known-good vLLM launch for the TTFT baseline.
# MODEL is frozen here; every setting can be overridden from the
# environment, e.g.  MODEL=microsoft/Phi-3-mini-4k-instruct PORT=8001 tools/serve_slm_vllm.sh
# EXTRA_ARGS adds flags (e.g. EXTRA_ARGS="--enable-prefix-caching"), and so
# do arguments after the script's name (ttft-sweep's configurations append
# theirs: serve_slm_vllm.sh --no-enable-prefix-caching); the last of a flag
# given twice wins.
# Prints the exact command, then becomes it (exec), so ttft-cold can stop it.
set -euo pipefail
MODEL=${MODEL:-Qwen/Qwen2.5-1.5B-Instruct}   # the other baseline: microsoft/Phi-3-mini-4k-instruct
DTYPE=${DTYPE:-auto}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-4096}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.92}
PORT=${PORT:-8000}
VLLM_BIN=${VLLM_BIN:-vllm}

if ! command -v "$VLLM_BIN" >/dev/null 2>&1; then
	echo "serve_slm_vllm.sh: '$VLLM_BIN' not found: install vLLM on a GPU machine" \
	     "(pip install vllm), or try the embedded llama.cpp engine with 'make demo'" >&2
	exit 127
fi
# shellcheck disable=SC2206  # EXTRA_ARGS is split on purpose
cmd=("$VLLM_BIN" serve "$MODEL" --dtype "$DTYPE" --max-model-len "$MAX_MODEL_LEN"
     --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION" --port "$PORT" ${EXTRA_ARGS:-} "$@")
printf '+'
printf ' %q' "${cmd[@]}"
printf '\n'
exec "${cmd[@]}"
