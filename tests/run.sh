#!/usr/bin/env bash
# Runs the Check suites listed in tests/suites.mk (or $TTFT_SUITES) from
# build/ (or $TTFT_BUILD) and prints one closing line:
#   "N passed, N failed"  (counted over Check's individual tests)
# plus ", N SKIPPED" and the reasons again when a suite could not run some
# tests (a line "SKIP: … N tests not run", e.g. no prometheus installed).
# Each suite's wall time follows its output ("time: SUITE N s") and all of
# them again before the closing line ("seconds per suite: SUITE:N …").
# TTFT_SLOW=1 also runs the suites that need the real engine (llama-server).
set -u
cd "$(dirname "$0")/.."
# Check drops a failure message over 4 KiB ("Message string too long") and
# reports an early exit instead: a failed report check printing the whole
# report (test_engine's demo_end_to_end) lost what failed. Room for it.
export CK_MAX_MSG_SIZE=${CK_MAX_MSG_SIZE:-65536}
B=${TTFT_BUILD:-build}
list() { sed -n "s/^$1 *:= *//p" tests/suites.mk; }
suites=${TTFT_SUITES:-"$(list UNIT_SUITES) $(list E2E_SUITES)"}
[ "${TTFT_SLOW:-0}" = 1 ] && [ -z "${TTFT_SUITES:-}" ] && suites="$suites $(list SLOW_SUITES)"
passed=0 failed=0 skipped=0 broken="" skips="" fails="" times=""
for s in $suites; do
	[ -x "$B/$s" ] || { echo "missing $B/$s (run make)"; broken="$broken $s"; continue; }
	t0=$SECONDS
	out=$("$B/$s" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	# the suite's wall time, so a CI log shows where its minutes went
	echo "time: $s $((SECONDS - t0)) s"
	times="$times $s:$((SECONDS - t0))"
	while IFS= read -r l; do
		k=$(sed -E 's/.*: ([0-9]+) tests? not run.*/\1/' <<<"$l")
		skipped=$((skipped + k))
		skips="$skips
$l"
	done < <(printf '%s\n' "$out" | grep -E '^SKIP: .*[0-9]+ tests? not run')
	# Check's own failure lines (file:line:F|E:suite:test:iteration: message),
	# repeated at the very end so a log's tail names them
	fl=$(printf '%s\n' "$out" | grep -E '^[^ :]+:[0-9]+:[FE]:' | sed "s|^|  $s: |")
	[ -n "$fl" ] && fails="$fails
$fl"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
	if [ -z "$line" ]; then
		broken="$broken $s"
		continue
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
	[ $rc -ne 0 ] && [ $((f + e)) -eq 0 ] && broken="$broken $s"
done
echo "seconds per suite:$times"
[ -n "$broken" ] && echo "suites that did not run or report cleanly:$broken"
[ -n "$fails" ] && printf 'FAILED (Check'"'"'s lines, again):%s\n' "$fails"
if [ $skipped -gt 0 ]; then
	printf 'NOT RUN (counted as skipped, not passed):%s\n' "$skips"
	echo "$passed passed, $failed failed, $skipped SKIPPED"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ] && [ -z "$broken" ]
