/* ttft_sse_token.h — the bytes half of the one-token test
 * (ttft_sse_whole_token, ttft_sse.h), inline for the sniffer's
 * whole-chunk paths (ttft_sse.c, ttft_http.c): a burst read tries it on
 * every chunk, the state half (ttft_sse_template_ready) once. Only for
 * shim/core's sniffer files. */
#ifndef TTFT_SSE_TOKEN_H
#define TTFT_SSE_TOKEN_H

#include <stddef.h>

#include "ttft_scan.h"
#include "ttft_sse.h"

/* Are [a, a + n) the bytes of [t, t + n), and [b, b + m) those of
 * [u, u + m)? (ttft_tmpl_eq.h) */
typedef int (*ttft_tmpl_eq_fn)(const char *a, const char *t, size_t n,
			       const char *b, const char *u, size_t m);
/* The one this CPU runs best, set by the first ttft_sse_init (relaxed
 * atomics: every version is exact, ttft_sse.c). */
extern ttft_tmpl_eq_fn ttft_sse_tmpl_eq_;

/* With ttft_sse_template_ready(s): [p, p + n) is one token event of the
 * stream's template whose token holds no quote, backslash or control byte
 * and at most BLOCK bytes, its data line ended by "\n\n". */
static inline __attribute__((always_inline)) int
sse_template_token(const struct ttft_sse *s, const char *p, size_t n)
{
	size_t tl = s->tlen, sl = s->slen;
	if (n < tl + sl + 3 || n - tl < BLOCK)
		return 0;
	const char *t = p + tl, *q = p + n - 2 - sl;
	size_t tn = (size_t)(q - t);
	if (tn > BLOCK || p[n - 2] != '\n' || p[n - 1] != '\n')
		return 0;
	/* a token with no quote, backslash or control byte: its string ends
	 * at q, where the suffix must be */
	__typeof__(mask_str(load_block(t))) m = mask_str(load_block(t));
	if (m && FIRST(m) < tn)
		return 0;
	return __atomic_load_n(&ttft_sse_tmpl_eq_, __ATOMIC_RELAXED)(
		p, s->tmpl, tl, q, s->tmpl + tl, sl);
}

#endif
