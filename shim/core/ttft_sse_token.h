/* ttft_sse_token.h — the bytes half of the one-token test
 * (ttft_sse_whole_token, ttft_sse.h), inline for the sniffer's
 * whole-chunk paths (ttft_sse.c, ttft_http.c): a burst read tries it on
 * every chunk, the state half (ttft_sse_template_ready) once. Only for
 * shim/core's sniffer files. */
#ifndef TTFT_SSE_TOKEN_H
#define TTFT_SSE_TOKEN_H

#include <stddef.h>
#include <string.h>

#include "ttft_scan.h"
#include "ttft_sse.h"

/* Are [a, a + n) the bytes of [t, t + n), and [b, b + m) those of
 * [u, u + m)? (ttft_tmpl_eq.h) */
typedef int (*ttft_tmpl_eq_fn)(const char *a, const char *t, size_t n,
			       const char *b, const char *u, size_t m);
/* The one this CPU runs best, set by the first ttft_sse_init (relaxed
 * atomics: every version is exact, ttft_sse.c); ttft_sse_tmpl_avx2_ is 1
 * when it is the AVX2 one (ttft_http.c then runs its AVX2 version of the
 * whole-chunk paths, the compare inline). */
extern ttft_tmpl_eq_fn ttft_sse_tmpl_eq_;
extern unsigned char ttft_sse_tmpl_avx2_;

/* A template's lengths, read once for a run of chunks (the state does not
 * change while the run lasts): prefix tl, suffix sl; an event of the
 * template is fix bytes and its token, and at least min (a token of one
 * byte, and a block to read from the token's start). With SSE2 and keys
 * (a run's loop) the token test's three bytes too, made once (kept in
 * registers through the run). */
struct sse_tmpl_shape {
	const char *tmpl;
	size_t tl, sl, fix, min;
#if BLOCK == 16
	block_t kq, kb, kc; /* '"', '\\', 0x1f in every byte */
#endif
};

static inline __attribute__((always_inline)) void
sse_tmpl_shape(const struct ttft_sse *s, struct sse_tmpl_shape *sh,
	       const int keys)
{
	size_t tl = __atomic_load_n(&s->tlen, __ATOMIC_RELAXED);
	size_t sl = __atomic_load_n(&s->slen, __ATOMIC_RELAXED);
	/* each read once: lengths torn by two threads on one connection
	 * (each up to TTFT_SSE_SPAN) are never compared past tmpl (no
	 * suffix then: such an event is not one of the template's) */
	sl = tl + sl <= TTFT_SSE_TMPL ? sl : 0;
	(void)keys;
	sh->tmpl = s->tmpl;
	sh->tl = tl;
	sh->sl = sl;
	sh->fix = tl + sl + 2;
	sh->min = sl + 3 > BLOCK ? tl + sl + 3 : tl + BLOCK;
#if BLOCK == 16
	if (!keys)
		return;
	sh->kq = _mm_set1_epi8('"');
	sh->kb = _mm_set1_epi8('\\');
	sh->kc = _mm_set1_epi8(0x1f);
	/* opaque: the compiler keeps them rather than making them anew for
	 * each token */
	__asm__("" : "+x"(sh->kq), "+x"(sh->kb), "+x"(sh->kc));
#endif
}

/* With ttft_sse_template_ready: whether [p, p + n) can be one token event
 * of the stream's template (sh) whose token holds no quote, backslash or
 * control byte and at most BLOCK bytes, its data line ended by "\n\n":
 * where its suffix starts (the token's closing quote), or NULL. The
 * template's bytes are the caller's to compare: [p, p + sh->tl) and
 * [q, q + sh->sl). big: the caller knows that sl + 3 > BLOCK; keys: sh
 * has the token test's bytes. */
static inline __attribute__((always_inline)) const char *
sse_shape_q(const struct sse_tmpl_shape *sh, const char *p, size_t n,
	    const int big, const int keys)
{
	size_t tn = n - sh->fix;
	(void)keys;
	if (big || sh->sl + 3 > BLOCK) {
		/* n >= min is tn >= 1 (n < fix wraps tn) */
		if (tn - 1 >= BLOCK)
			return NULL;
	} else if (n < sh->min || tn > BLOCK) {
		return NULL;
	}
	char lf2[2];
	memcpy(lf2, p + n - 2, 2);
	if (memcmp(lf2, "\n\n", 2) != 0)
		return NULL;
	/* a token with no quote, backslash or control byte: its string ends
	 * at q, where the suffix must be */
	const char *t = p + sh->tl;
	block_t v = load_block(t);
#if BLOCK == 16
	unsigned m = keys ? (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(_mm_cmpeq_epi8(v, sh->kq), _mm_cmpeq_epi8(v, sh->kb)),
		_mm_cmpeq_epi8(_mm_min_epu8(v, sh->kc), v))) : mask_str(v);
	/* (its closing quote is usually in the block: one test) */
	if (FIRST(m | 1u << BLOCK) < tn)
		return NULL;
#else
	__typeof__(mask_str(v)) m = mask_str(v);
	if (m && FIRST(m) < tn)
		return NULL;
#endif
	return t + tn;
}

/* The same, the template's bytes compared by eq (a constant where the
 * caller is inlined: the compare inlines too). */
static inline __attribute__((always_inline)) int
sse_shape_token(const struct sse_tmpl_shape *sh, const char *p, size_t n,
		ttft_tmpl_eq_fn eq, const int keys)
{
	const char *q = sse_shape_q(sh, p, n, 0, keys);
	return q && eq(p, sh->tmpl, sh->tl, q, sh->tmpl + sh->tl, sh->sl);
}

static inline __attribute__((always_inline)) int
sse_template_token_eq(const struct ttft_sse *s, const char *p, size_t n,
		      ttft_tmpl_eq_fn eq)
{
	struct sse_tmpl_shape sh;
	sse_tmpl_shape(s, &sh, 0);
	return sse_shape_token(&sh, p, n, eq, 0);
}

/* The same with the compare ttft_sse_init picked. */
static inline __attribute__((always_inline)) int
sse_template_token(const struct ttft_sse *s, const char *p, size_t n)
{
	return sse_template_token_eq(
		s, p, n, __atomic_load_n(&ttft_sse_tmpl_eq_, __ATOMIC_RELAXED));
}

#endif
