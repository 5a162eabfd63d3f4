/* ttft_scan.h — the sniffer's block scanning: find the first byte of a set
 * in a buffer 16 bytes at a time (SSE2, the x86-64 baseline) or 8 at a
 * time (64-bit words, everywhere else; -DTTFT_SCAN_PORTABLE forces it, so
 * it is tested on x86 too). Only for shim/core's sniffer files. */
#ifndef TTFT_SCAN_H
#define TTFT_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(TTFT_SCAN_PORTABLE)
#include <emmintrin.h>
#define BLOCK 16
typedef __m128i block_t;
static inline block_t load_block(const char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}
/* '"', '\\' or a control byte (which inside a string can only be a line
 * end or malformed): one bit per byte. (Always inline: the one-token test
 * has it on every token event's path.) */
static inline __attribute__((always_inline)) unsigned mask_str(block_t v)
{
	__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(m, ctl));
}
static inline unsigned mask_lf(block_t v)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
}
static inline unsigned mask_eol(block_t v)
{
	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
}
/* what ends a literal: ',', '}', ']', whitespace, a line end */
static inline unsigned mask_lit(block_t v)
{
	__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('}')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(']')));
	__m128i sp = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v);
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(m, sp));
}
/* a space or a control byte (what a request target cannot hold) */
static inline unsigned mask_sp(block_t v)
{
	return (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v));
}
#define FIRST(m) ((size_t)__builtin_ctz(m))
#define DROP(m, k) ((m) >> (k)) /* forget the first k bytes' bits */
/* two blocks a step: one test for 32 bytes */
#define WIDE_BYTES 32
#define WIDE(MASK, p) (MASK(load_block(p)) | MASK(load_block((p) + 16)) << 16)
#else
#define BLOCK 8
typedef uint64_t block_t;
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline block_t load_block(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v); /* byte 0 in the low bits, as on x86 */
#endif
	return v;
}
/* High bit of each byte below n (n <= 128). Exact for the lowest such
 * byte; a borrow can only mark bytes above a true one, and only the lowest
 * is used. */
static inline uint64_t below(uint64_t v, unsigned n)
{
	return (v - ONES * n) & ~v & HIGHS;
}
static inline uint64_t equal(uint64_t v, unsigned c)
{
	return below(v ^ (ONES * c), 1);
}
static inline __attribute__((always_inline)) uint64_t mask_str(block_t v)
{
	return equal(v, '"') | equal(v, '\\') | below(v, 0x20);
}
static inline uint64_t mask_lf(block_t v)
{
	return equal(v, '\n');
}
static inline uint64_t mask_eol(block_t v)
{
	return equal(v, '\n') | equal(v, '\r');
}
static inline uint64_t mask_lit(block_t v)
{
	return equal(v, ',') | equal(v, '}') | equal(v, ']') | below(v, 0x21);
}
static inline uint64_t mask_sp(block_t v)
{
	return below(v, 0x21);
}
#define FIRST(m) ((size_t)__builtin_ctzll(m) >> 3)
#define DROP(m, k) ((m) >> (8 * (k)))
#define WIDE_BYTES 8
#define WIDE(MASK, p) MASK(load_block(p))
#endif

/* The first byte in [p, e) that MASK marks, or e. b is the start of the
 * buffer: a last partial block is read as the BLOCK bytes ending at e when
 * the buffer holds them, never outside it — with SSE2 only: a word mask's
 * borrow from a marked byte before p could mark the byte at p. */
#define SCANNER(name, MASK, MATCH)                                           \
	static inline const char *name(const char *b, const char *p,         \
				       const char *e)                        \
	{                                                                    \
		while (e - p >= WIDE_BYTES) {                                \
			__typeof__(MASK(load_block(p))) m = WIDE(MASK, p);   \
			if (m)                                               \
				return p + FIRST(m);                         \
			p += WIDE_BYTES;                                     \
		}                                                            \
		while (e - p >= BLOCK) {                                     \
			__typeof__(MASK(load_block(p))) m = MASK(load_block(p)); \
			if (m)                                               \
				return p + FIRST(m);                         \
			p += BLOCK;                                          \
		}                                                            \
		if (p == e)                                                  \
			return e;                                            \
		if (BLOCK == 16 && e - b >= BLOCK) {                         \
			__typeof__(MASK(load_block(p))) m =                  \
				DROP(MASK(load_block(e - BLOCK)),            \
				     BLOCK - (size_t)(e - p));               \
			return m ? p + FIRST(m) : e;                         \
		}                                                            \
		for (; p < e; p++) {                                         \
			unsigned char c = (unsigned char)*p;                 \
			if (MATCH)                                           \
				return p;                                    \
		}                                                            \
		return e;                                                    \
	}

#endif
