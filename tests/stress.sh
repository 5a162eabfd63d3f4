#!/usr/bin/env bash
# stress.sh — `make test-stress`: the whole suite (make test, make sanitize,
# make tsan) N times in a row while CPU hogs keep the cores busy, as on a
# shared 2-core machine. One line per iteration, then a summary; exit 1 if
# any iteration failed or left files behind.
#   N=10        iterations
#   HOGS=2      busy processes (stress-ng --cpu HOGS, or shell busy loops)
#   STRESS_TARGETS="test sanitize tsan"
# Each iteration also checks that the suite left nothing in /tmp or
# /dev/shm. Run as root where unshare(1) works, the run gets private, empty
# /tmp and /dev/shm (a mount namespace), so that check sees every file and
# nobody else's; otherwise it looks at the names the suite uses (ttft-*,
# server-cycle*). Logs of failed iterations: build/stress/.
set -u
cd "$(dirname "$0")/.."

if [ "${TTFT_STRESS_NS:-}" = "" ] && [ "$(id -u)" = 0 ] &&
	unshare -m --propagation private true 2>/dev/null; then
	exec env TTFT_STRESS_NS=1 unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /dev/shm &&
		 exec bash "$0" "$@"' "$0" "$@"
fi

N=${N:-10}
HOGS=${HOGS:-2}
TARGETS=${STRESS_TARGETS:-test sanitize tsan}
logs=build/stress
mkdir -p "$logs"

files() {
	if [ "${TTFT_STRESS_NS:-}" = 1 ]; then
		find /tmp /dev/shm -mindepth 1 -maxdepth 1 2>/dev/null
	else
		ls -d /tmp/ttft-* /tmp/server-cycle* /dev/shm/ttft-* 2>/dev/null
	fi | sort
}

# Build everything first, without the hogs: the iterations time the tests.
echo "stress: building (make all, sanitize-build, tsan-build)"
make -s -j2 all >/dev/null && make -s -j2 sanitize-build tsan-build >/dev/null || {
	echo "stress: the build failed; run make to see why" >&2
	exit 2
}

hogs=()
stop_hogs() {
	for p in "${hogs[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${hogs[@]}"; do
		wait "$p" 2>/dev/null
	done
	hogs=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM
if command -v stress-ng >/dev/null; then
	stress-ng --cpu "$HOGS" --quiet &
	hogs+=($!)
	what="stress-ng --cpu $HOGS"
else
	for _ in $(seq "$HOGS"); do
		bash -c 'while :; do :; done' &
		hogs+=($!)
	done
	what="$HOGS shell busy loops"
fi
echo "stress: $N iterations of: $TARGETS; hogs: $what ($(nproc) cores)"

green=0 red=0 total_s=0
for i in $(seq "$N"); do
	t0=$(date +%s)
	before=$(files)
	line="" ok=1
	log="$logs/iteration-$i.log"
	: >"$log"
	for t in $TARGETS; do
		s0=$(date +%s)
		if make -s "$t" >>"$log" 2>&1; then
			res=ok
		else
			res=FAILED
			ok=0
		fi
		counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		line="$line $t $res ($(($(date +%s) - s0)) s${counts:+, $counts});"
	done
	left=$(comm -13 <(echo "$before") <(files))
	if [ -n "$left" ]; then
		ok=0
		line="$line left behind: $(echo $left);"
		# private and empty at the start: clear it, so that the next
		# iteration's leftovers show even under the same names
		if [ "${TTFT_STRESS_NS:-}" = 1 ]; then
			for f in $left; do
				rm -rf "$f"
			done
		fi
	fi
	dt=$(($(date +%s) - t0))
	total_s=$((total_s + dt))
	if [ $ok = 1 ]; then
		green=$((green + 1))
		rm -f "$log"
		echo "iteration $i/$N: green in $dt s:$line"
	else
		red=$((red + 1))
		echo "iteration $i/$N: RED in $dt s:$line log: $log"
		grep -E ':[EF]:|passed, [0-9]+ failed|ERROR: .*Sanitizer' "$log" | head -n 20 |
			sed 's/^/    /'
	fi
done
stop_hogs
echo "stress: $green of $N iterations green, $red red; $((total_s / N)) s an iteration" \
	"on average under $what"
[ $red = 0 ]
