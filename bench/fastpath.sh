#!/usr/bin/env bash
# Instructions the shim adds to one call on an fd it does not trace, by
# callgrind: slopes over N and 2N calls (start-up cancels), with and without
# the shim. usage: bench/fastpath.sh [BUILD_DIR]   (needs valgrind)
set -eu
B=${1:-build}
command -v valgrind >/dev/null || { echo "fastpath: valgrind not installed"; exit 1; }
N=20000
count() { # preload call n -> instructions
	local out
	out=$(mktemp /tmp/ttft-fastpath.XXXXXX)
	LD_PRELOAD=$1 TTFT_LOG=/dev/shm/ttft-fastpath.$$.log valgrind --tool=callgrind \
		--callgrind-out-file="$out" "$B/fastpath" "$3" "$2" 2>&1 |
		sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
	rm -f "$out"
}
printf '%-8s %12s %12s %10s\n' call plain/call shim/call added
for call in write read send close; do
	p1=$(count "" $call $N); p2=$(count "" $call $((2 * N)))
	s1=$(count "$B/libttftshim.so" $call $N); s2=$(count "$B/libttftshim.so" $call $((2 * N)))
	awk -v c=$call -v p1=$p1 -v p2=$p2 -v s1=$s1 -v s2=$s2 -v n=$N 'BEGIN {
		p = (p2 - p1) / n; s = (s2 - s1) / n
		printf "%-8s %12.1f %12.1f %10.1f\n", c, p, s, s - p }'
done
rm -f /dev/shm/ttft-fastpath.$$.log
