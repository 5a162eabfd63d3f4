/* ttft_clock.h — the one clock: integer nanoseconds of CLOCK_MONOTONIC
 * inside everything (the shim, the tools, the probe, the tests); seconds
 * only at the edges. clock_gettime is async-signal-safe. */
#ifndef TTFT_CLOCK_H
#define TTFT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t ttft_clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t ttft_now_ns(void)
{
	return ttft_clock_ns(CLOCK_MONOTONIC);
}

/* A CLOCK_MONOTONIC instant t on CLOCK_REALTIME through an anchor pair
 * (the two clocks read together): *real_ns = t - mono + real. -1, and
 * *real_ns untouched, when that does not fit in 64 bits, or when the
 * anchor's real time or the sum is not after 1970 (an anchor of 0 was
 * never read, or is damaged): a damaged log's header or record may hold
 * anything, and a wrapped sum, or 1970, would be an instant that looks
 * like any other. The one such sum. */
static inline int ttft_clock_to_real_ns(int64_t t, int64_t mono, int64_t real,
					int64_t *real_ns)
{
	int64_t d, r;
	if (real <= 0 || __builtin_sub_overflow(t, mono, &d) ||
	    __builtin_add_overflow(d, real, &r) || r <= 0)
		return -1;
	*real_ns = r;
	return 0;
}

#endif
