/* ttft_tmpl_eq.h — the one-token read's template compare: are the bytes
 * [a, a + n) those of [t, t + n), and [b, b + m) those of [u, u + m)? (A
 * token event's bytes up to its token, and from its closing quote to its
 * line end, against the stream's template.) One call for both spans, where
 * two of libc's memcmp cost ~37 instructions each plus their calls: with
 * AVX2 (chosen at run time, __builtin_cpu_supports) 32 bytes a step, the
 * differences OR-ed and tested once, the last step overlapping the one
 * before; memcmp elsewhere. Exact: every byte is compared. Only for
 * shim/core's sniffer (ttft_sse.c). */
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

#define AVX2_FN __attribute__((target("avx2")))

/* The bits where [a, a + n) and [t, t + n) differ, folded into 32 bytes;
 * n >= 32. */
static inline __attribute__((always_inline)) AVX2_FN __m256i
diff32(const char *a, const char *t, size_t n)
{
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
	__m256i d = _mm256_xor_si256(LD(a + n - 32), LD(t + n - 32));
	for (size_t i = 0; i + 32 < n; i += 32)
		d = _mm256_or_si256(d, _mm256_xor_si256(LD(a + i), LD(t + i)));
#undef LD
	return d;
}

/* The same for n < 32, 16 or 8 bytes at a time (two overlapping loads),
 * byte by byte below 8: 0 when equal. */
static inline __attribute__((always_inline)) AVX2_FN uint64_t
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

static AVX2_FN int tmpl_eq_avx2(const char *a, const char *t, size_t n,
				const char *b, const char *u, size_t m)
{
	if (__builtin_expect(n >= 32 && m >= 32, 1)) {
		__m256i d = _mm256_or_si256(diff32(a, t, n), diff32(b, u, m));
		return _mm256_testz_si256(d, d);
	}
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
#undef AVX2_FN
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
