/* ttft_env.h — the environment the shim reads, parsed one way for the shim
 * and the tools alike (docs/shim.md). No allocation, no locale: it runs in
 * the shim's constructor. */
#ifndef TTFT_ENV_H
#define TTFT_ENV_H

#include <stdint.h>

#define TTFT_LOG_MB_MAX 65536u

/* TTFT_LOG_MB: the record space, in MiB, of a log created from now on.
 * *mb is the value, or TTFT_LOG_DEFAULT_MB when the variable is unset or
 * empty. Returns 0, or -1 when it is set to anything but a whole number in
 * 1..TTFT_LOG_MB_MAX (*mb is then the default). */
int ttft_env_log_mb(uint64_t *mb);

/* TTFT_DISABLE: 1 when it is set to anything but "" or "0" (the shim then
 * loads but traces nothing). */
int ttft_env_disabled(void);

#endif
