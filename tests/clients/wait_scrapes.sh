#!/bin/sh
# wait_scrapes.sh TRUTH K — wait until the fixture whose --truth file is
# TRUTH has served K more /metrics pages than it had when called. A page
# served after a response was read includes that request; K=2 also means the
# scraper has logged the first of them (it fetches one page at a time).
# Polls every 5 ms; gives up after $TTFT_WAIT_S seconds (default 120).
set -eu
truth=$1 k=$2
count() { grep -c '"path":"/metrics"' "$truth" || true; }
want=$(($(count) + k))
deadline=$(($(date +%s) + ${TTFT_WAIT_S:-120}))
while [ "$(count)" -lt "$want" ]; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "wait_scrapes.sh: fewer than $k /metrics pages in ${TTFT_WAIT_S:-120} s" \
			"(is the scraper running?) in $truth" >&2
		exit 1
	fi
	sleep 0.005
done
