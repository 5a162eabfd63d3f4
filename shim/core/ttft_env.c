/* ttft_env.c — see ttft_env.h. */
#include "ttft_env.h"

#include <stdlib.h>
#include <string.h>

#include "ttft_log.h"

int ttft_env_log_mb(uint64_t *mb)
{
	*mb = TTFT_LOG_DEFAULT_MB;
	const char *s = getenv("TTFT_LOG_MB");
	if (!s || !*s)
		return 0;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > TTFT_LOG_MB_MAX)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < 1 || v > TTFT_LOG_MB_MAX)
		return -1;
	*mb = v;
	return 0;
}

int ttft_env_disabled(void)
{
	const char *off = getenv("TTFT_DISABLE");
	return off && *off && strcmp(off, "0") != 0;
}
