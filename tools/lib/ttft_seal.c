/* ttft_seal.c — see ttft_seal.h. */
#include "ttft_seal.h"

#include <string.h>

#define V2_K 0x9e3779b97f4a7c15ull

static inline uint64_t v2_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * V2_K;
	return h << 31 | h >> 33;
}

static inline __attribute__((always_inline)) uint64_t seal_v2(const struct ttft_rec *rec)
{
	uint64_t w0 = ttft_rec_word_(rec, 0) >> 32;        /* kind, flags */
	uint64_t w7 = ttft_rec_word_(rec, 7) & 0xffffffffu; /* seq */
	uint64_t h0 = 1, h1 = 2, h2 = 3, h3 = 4;
	h0 = v2_step(h0, w0);
	h1 = v2_step(h1, ttft_rec_word_(rec, 1));
	h2 = v2_step(h2, ttft_rec_word_(rec, 2));
	h3 = v2_step(h3, ttft_rec_word_(rec, 3));
	h0 = v2_step(h0, ttft_rec_word_(rec, 4));
	h1 = v2_step(h1, ttft_rec_word_(rec, 5));
	h2 = v2_step(h2, ttft_rec_word_(rec, 6));
	h3 = v2_step(h3, w7);
#pragma GCC unroll 2
	for (size_t i = 8; i < TTFT_REC_SIZE / 8; i += 4) {
		h0 = v2_step(h0, ttft_rec_word_(rec, i));
		h1 = v2_step(h1, ttft_rec_word_(rec, i + 1));
		h2 = v2_step(h2, ttft_rec_word_(rec, i + 2));
		h3 = v2_step(h3, ttft_rec_word_(rec, i + 3));
	}
	uint64_t k = h0 ^ h1 ^ h2 ^ h3;
	if ((uint32_t)k == 0)
		k |= 1;
	return k;
}

uint64_t ttft_rec_seal_v2(const struct ttft_rec *rec)
{
	return seal_v2(rec);
}

static int matches(const struct ttft_rec *rec, uint64_t k)
{
	return rec->seal == (uint32_t)k && rec->seal_hi == (uint32_t)(k >> 32);
}

int ttft_rec_sealed_as(uint32_t version, const struct ttft_rec *rec)
{
	return version == 2 ? matches(rec, seal_v2(rec)) : ttft_rec_sealed(rec);
}

static int take_plain_v3(struct ttft_rec *dst, const struct ttft_rec *src)
{
	*dst = *src;
	return ttft_rec_sealed(dst);
}

static int take_plain_v2(struct ttft_rec *dst, const struct ttft_rec *src)
{
	*dst = *src;
	return matches(dst, seal_v2(dst));
}

/* The copy and the check in one pass over the record's 16 words, as four
 * 256-bit vectors of four 64-bit lanes, where the CPU multiplies 64-bit
 * lanes (AVX-512 DQ and VL). Each gives the plain function's answer. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TAKE_AVX512 1
#define AVX512 __attribute__((target("avx2,avx512f,avx512dq,avx512vl")))

AVX512 static inline __m256i load_copy(__m256i *o, const __m256i *s)
{
	__m256i x = _mm256_loadu_si256(s);
	_mm256_storeu_si256(o, x);
	return x;
}

/* Version 3: word i's term in lane i % 4 of vector i / 4; u (kind, flags
 * | seq) goes in word 0's lane, and word 7's constant is 0. */
AVX512 static inline __m256i v3_term(__m256i x, const uint64_t *k)
{
	x = _mm256_mullo_epi64(x, _mm256_set1_epi64x((long long)TTFT_SEAL_K));
	x = _mm256_shuffle_epi32(x, 0xb1); /* swap each lane's halves */
	return _mm256_mullo_epi64(x, _mm256_loadu_si256((const __m256i *)(const void *)k));
}

AVX512 static int take_avx512_v3(struct ttft_rec *dst, const struct ttft_rec *src)
{
	const __m256i *s = (const __m256i *)(const void *)src;
	__m256i *o = (__m256i *)(void *)dst;
	__m256i a = load_copy(o, s), b = load_copy(o + 1, s + 1);
	__m256i c = load_copy(o + 2, s + 2), d = load_copy(o + 3, s + 3);
	/* word 0's low half (the seal) from word 7's low half (seq) */
	a = _mm256_mask_blend_epi32(0x01, a, _mm256_permute4x64_epi64(b, 0x03));
	__m256i t = _mm256_add_epi64(
		_mm256_add_epi64(v3_term(a, ttft_seal_k_), v3_term(b, ttft_seal_k_ + 4)),
		_mm256_add_epi64(v3_term(c, ttft_seal_k_ + 8), v3_term(d, ttft_seal_k_ + 12)));
	__m128i x = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
	uint64_t k = (uint64_t)_mm_cvtsi128_si64(x) + (uint64_t)_mm_extract_epi64(x, 1);
	if ((uint32_t)k == 0)
		k |= 1;
	return matches(dst, k);
}

/* Version 2: the four lanes h0..h3 are the vector's lanes (lane j takes
 * words j, j + 4, j + 8, j + 12). */
AVX512 static int take_avx512_v2(struct ttft_rec *dst, const struct ttft_rec *src)
{
	const __m256i *s = (const __m256i *)(const void *)src;
	__m256i *o = (__m256i *)(void *)dst;
	__m256i a = load_copy(o, s), b = load_copy(o + 1, s + 1);
	__m256i c = load_copy(o + 2, s + 2), d = load_copy(o + 3, s + 3);
	/* the seal's own bytes read as zero: word 0 keeps kind and flags,
	 * word 7 keeps seq */
	a = _mm256_mask_srli_epi64(a, 0x1, a, 32);
	b = _mm256_mask_and_epi64(b, 0x8, b, _mm256_set1_epi64x(0xffffffff));
	const __m256i k = _mm256_set1_epi64x((long long)V2_K);
	__m256i h = _mm256_set_epi64x(4, 3, 2, 1);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, a), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, b), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, c), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, d), k), 31);
	__m128i x = _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
	uint64_t sum = (uint64_t)_mm_cvtsi128_si64(x) ^ (uint64_t)_mm_extract_epi64(x, 1);
	if ((uint32_t)sum == 0)
		sum |= 1;
	return matches(dst, sum);
}
#endif

ttft_seal_take_fn ttft_seal_take_for(uint32_t version)
{
#ifdef TAKE_AVX512
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		return version == 2 ? take_avx512_v2 : take_avx512_v3;
#endif
	return version == 2 ? take_plain_v2 : take_plain_v3;
}
