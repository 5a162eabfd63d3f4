#!/usr/bin/env bash
# replay_vllm_log.sh FIXTURE PORT [SCALE] — replays a vLLM start-up log from
# tests/fixtures/vllm/ ("OFFSET<TAB>TEXT" lines, OFFSET in seconds since the
# spawn) on stderr with its own timing times SCALE (default 1), then becomes
# fixture-server on PORT: the server is ready when the log says it is.
# TEXT goes through printf %b (\033 colour codes, \r progress bars); a TEXT
# ending in \r gets no newline: a progress bar redrawn in place.
set -eu
FIX=$1 PORT=$2 SCALE=${3:-1}
B=${TTFT_BUILD:-build}
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
t0=$(now_us)
# absolute targets in microseconds, computed once (no fork per line)
while IFS=$'\t' read -r at text; do
	target=$((t0 + at))
	now=$(now_us)
	if ((target > now)); then
		d=$((target - now))
		sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
	fi
	if [[ $text == *'\r' ]]; then printf '%b' "$text" >&2; else printf '%b\n' "$text" >&2; fi
done < <(awk -F'\t' -v s="$SCALE" '!/^#/ && NF { printf "%d\t%s\n", $1 * s * 1e6, substr($0, index($0, "\t") + 1) }' "$FIX")
exec "$B/fixture-server" --port "$PORT" --first-ms 30 --token-ms 5
