#!/usr/bin/env bash
# make fuzz: run each libFuzzer harness for SECONDS (default 60) on a corpus
# seeded from tests/fixtures (the sniffer's also from tests/fuzz/seeds);
# fails on the first crash, hang, leak or sanitizer report (the input is
# kept in build/fuzz/artifacts/).
# usage: tests/fuzz/run.sh [SECONDS] [HARNESS...]
set -u
cd "$(dirname "$0")/../.."
F=build/fuzz
secs=${1:-60}
shift || true
harnesses=${*:-fuzz_http fuzz_prom fuzz_logread}
mkdir -p "$F/artifacts"
fix=tests/fixtures/llamacpp
for h in $harnesses; do
	c="$F/corpus/$h"
	mkdir -p "$c"
	case $h in
	fuzz_http)
		cp $fix/*.http "$c/" 2>/dev/null
		for x in $fix/*.http; do # the responses alone, with a split point
			{ printf '\x40\x00'; sed -n '/^=====RESPONSE=====$/,$p' "$x" | tail -n +2; } \
				>"$c/resp-$(basename "$x")"
		done
		# forms no fixture holds: 1xx before the answer, HTTP/1.2,
		# Content-Length as clients differ on it, zero-padded chunk
		# sizes, Content-Encoding: none, an Anthropic stream
		cp tests/fuzz/seeds/*.resp "$c/" ;;
	fuzz_prom)
		sed -n '/^=====RESPONSE=====$/,$p' $fix/metrics.http | sed '1,/^\r*$/d' >"$c/llamacpp.txt" ;;
	fuzz_logread)
		"$F/mkseed_log" "$c" $fix/*.http ;;
	esac
	echo "== $h: ${secs}s from $(ls "$c" | wc -l) inputs"
	"$F/$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$F/artifacts/$h-" -print_final_stats=1 "$c" 2>"$F/$h.log"
	rc=$?
	grep -E '^stat::number_of_executed_units|^stat::peak_rss' "$F/$h.log" | tr '\n' ' '
	echo
	if [ $rc -ne 0 ]; then
		tail -n 40 "$F/$h.log"
		echo "fuzz: $h failed (rc $rc); input in $F/artifacts/"
		exit 1
	fi
done
echo "fuzz: no crash, hang, leak or sanitizer report"
