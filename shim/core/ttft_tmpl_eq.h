/* ttft_tmpl_eq.h — the one-token read's template compare: are the bytes
 * [a, a + n) those of [t, t + n), and [b, b + m) those of [u, u + m)? (A
 * token event's bytes up to its token, and from its closing quote to its
 * line end, against the stream's template.) One call for both spans, where
 * two of libc's memcmp cost ~37 instructions each plus their calls: with
 * AVX2 (chosen at run time, __builtin_cpu_supports) 32 bytes a step, the
 * differences OR-ed and tested once, straight-line steps from both ends
 * that meet or overlap; memcmp elsewhere. Exact: every byte is compared.
 * ttft_http.c's AVX2 run loop inlines the compare (tmpl_eq_avx2_long), or
 * holds the template's bytes in registers for a run (the same steps).
 * Only for shim/core's sniffer (ttft_sse.c, ttft_http.c). */
#ifndef TTFT_TMPL_EQ_H
#define TTFT_TMPL_EQ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ttft_sse_token.h" /* ttft_tmpl_eq_fn */

static int tmpl_eq_plain(const char *a, const char *t, size_t n,
			 const char *b, const char *u, size_t m)
{
	return memcmp(a, t, n) == 0 && memcmp(b, u, m) == 0;
}

#if defined(__x86_64__) && !defined(TTFT_SCAN_PORTABLE) && \
	(defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TTFT_TMPL_AVX2 1

#define TTFT_AVX2_FN __attribute__((target("avx2")))

/* The bits where [a, a + n) and [t, t + n) differ, folded into 32 bytes;
 * 32 <= n <= 256 (a template's spans are at most TTFT_SSE_SPAN bytes):
 * straight-line, 32-byte steps from both ends that meet or overlap
 * (2 * ceil(n / 64) of them, n's range found in two tests). */
static inline __attribute__((always_inline)) TTFT_AVX2_FN __m256i
diff32(const char *a, const char *t, size_t n)
{
#define X(i) _mm256_xor_si256(                                             \
		_mm256_loadu_si256((const __m256i *)(const void *)(a + (i))), \
		_mm256_loadu_si256((const __m256i *)(const void *)(t + (i))))
#define OR _mm256_or_si256
	if (n <= 128) {
		if (n <= 64)
			return OR(X(0), X(n - 32));
		return OR(OR(X(0), X(32)), OR(X(n - 64), X(n - 32)));
	}
	if (n <= 192)
		return OR(OR(OR(X(0), X(32)), X(64)),
			  OR(OR(X(n - 96), X(n - 64)), X(n - 32)));
	return OR(OR(OR(X(0), X(32)), OR(X(64), X(96))),
		  OR(OR(X(n - 128), X(n - 96)), OR(X(n - 64), X(n - 32))));
#undef OR
#undef X
}

/* The same for n < 32, 16 or 8 bytes at a time (two overlapping loads),
 * byte by byte below 8: 0 when equal. */
static inline __attribute__((always_inline)) TTFT_AVX2_FN uint64_t
diff_short(const char *a, const char *t, size_t n)
{
	if (n >= 16) {
#define LD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
		__m128i d = _mm_or_si128(_mm_xor_si128(LD(a), LD(t)),
					 _mm_xor_si128(LD(a + n - 16), LD(t + n - 16)));
#undef LD
		return !_mm_testz_si128(d, d);
	}
	if (n >= 8) {
		uint64_t x, y, z, w;
		memcpy(&x, a, 8), memcpy(&y, t, 8);
		memcpy(&z, a + n - 8, 8), memcpy(&w, t + n - 8, 8);
		return (x ^ y) | (z ^ w);
	}
	uint64_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint64_t)(uint8_t)(a[i] ^ t[i]);
	return d;
}

/* Either span shorter than 32 bytes (a short suffix: Anthropic's "}}"). */
static __attribute__((noinline)) TTFT_AVX2_FN int
tmpl_eq_avx2_short(const char *a, const char *t, size_t n, const char *b,
		   const char *u, size_t m)
{
	uint64_t d;
	if (n >= 32) {
		__m256i x = diff32(a, t, n);
		d = !_mm256_testz_si256(x, x);
	} else {
		d = diff_short(a, t, n);
	}
	if (m >= 32) {
		__m256i x = diff32(b, u, m);
		d |= !_mm256_testz_si256(x, x);
	} else {
		d |= diff_short(b, u, m);
	}
	return d == 0;
}

/* Both spans at least 32 bytes (the usual template: a run of chunks
 * checks once that its are), inline in an AVX2 caller (ttft_http.c's AVX2
 * run loop, which ttft_sse_tmpl_avx2_ selects): no call, no spills. */
static inline __attribute__((always_inline)) TTFT_AVX2_FN int
tmpl_eq_avx2_long(const char *a, const char *t, size_t n, const char *b,
		  const char *u, size_t m)
{
	__m256i d = _mm256_or_si256(diff32(a, t, n), diff32(b, u, m));
	return _mm256_testz_si256(d, d);
}

static TTFT_AVX2_FN int tmpl_eq_avx2(const char *a, const char *t, size_t n,
				     const char *b, const char *u, size_t m)
{
	if (__builtin_expect(n >= 32 && m >= 32, 1))
		return tmpl_eq_avx2_long(a, t, n, b, u, m);
	return tmpl_eq_avx2_short(a, t, n, b, u, m);
}
#endif

/* The compare this CPU runs best. */
static inline ttft_tmpl_eq_fn tmpl_eq_pick(void)
{
#ifdef TTFT_TMPL_AVX2
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return tmpl_eq_avx2;
#endif
	return tmpl_eq_plain;
}

#endif
