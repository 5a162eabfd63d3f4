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

#endif
