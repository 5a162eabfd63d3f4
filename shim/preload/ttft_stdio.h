/* ttft_stdio.h — what the stdio taps share (ttft_stdio.c: the output calls
 * on a traced stream; ttft_stdio_exit.c: the flush at exit, dprintf). */
#ifndef TTFT_STDIO_H
#define TTFT_STDIO_H

#include <stdarg.h>
#include <stdio.h>

#include "ttft_shim.h"

/* Formatted text and pending bytes up to this are copied and seen; more is
 * reported as unseen. */
#define SHIM_STDIO_MAX 8192

/* A stream on a traced fd, seen by an output wrapper: flushed, seen, before
 * libc's own flush at exit. */
TTFT_HIDDEN void shim_stdio_watch(FILE *f);
/* libc's own __vsnprintf_chk (ttft_stdio.c): a fortified call on a traced
 * stream formats with it, its checks libc's. */
typedef int (*shim_vsnprintf_chk_fn)(char *, size_t, int, size_t, const char *,
				     va_list);
TTFT_HIDDEN shim_vsnprintf_chk_fn shim_libc_vsnprintf_chk(void);
/* f is being closed: never flush it at exit. */
TTFT_HIDDEN void shim_stdio_forget(FILE *f);
/* Nonzero once any stream was watched (relaxed): fclose's fast check. */
extern TTFT_HIDDEN int shim_stdio_any;

static inline void shim_stdio_closing(FILE *f)
{
	if (__builtin_expect(__atomic_load_n(&shim_stdio_any, __ATOMIC_RELAXED), 0))
		shim_stdio_forget(f);
}

#endif
