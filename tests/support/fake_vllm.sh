#!/usr/bin/env bash
# fake_vllm.sh PORT [TRUTH] — a realistic vLLM (V1) start-up log with the
# delays its lines state (fake_vllm_startup.txt beside it, replayed by
# fixture-server, which stamps each line into TRUTH as it writes it), then
# the fixture server itself on PORT.
set -eu
B=${TTFT_BUILD:-build}
here=$(dirname "$0")
exec "$B/fixture-server" --port "$1" --startup "$here/fake_vllm_startup.txt" \
	${2:+--truth "$2"} --first-ms 30 --token-ms 5
