/* ttft_summary.c — see ttft_summary.h. */
#include "ttft_summary.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

size_t ttft_quantile_min_n(double q)
{
	if (!(q > 0.5) || q >= 1)
		return 1; /* q 1 is the max: not a tail estimate */
	/* 1 / (1 - 0.9) is 10.000000000000002 in doubles: the slack keeps
	 * ceil from making it 11 */
	return (size_t)ceil(1 / (1 - q) - 1e-9);
}

double ttft_percentile_sorted(const double *v, size_t n, double q)
{
	if (n == 0 || n < ttft_quantile_min_n(q))
		return NAN;
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return v[n - 1];
	double frac = pos - (double)lo;
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

double ttft_percentile(double *v, size_t n, double q)
{
	if (n)
		qsort(v, n, sizeof *v, cmp_double);
	return ttft_percentile_sorted(v, n, q);
}

static void swap(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* Hoare's selection: afterwards v[k] holds the k-th smallest, everything
 * before it is <= and everything after it >=. Median-of-three pivots keep
 * sorted and reversed input linear. */
static void select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (hi > lo) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap(&v[hi], &v[mid]);
		double pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The q-quantile, knowing that v[0..from) holds the from smallest values
 * (a rank selected before): the selection works on what lies above. */
static double select_from(double *v, size_t n, size_t from, double q)
{
	if (n == 0 || n < ttft_quantile_min_n(q))
		return NAN;
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		lo = n - 1;
	if (lo < from)
		from = 0; /* a lower quantile than the last: all of v */
	select_kth(v + from, n - from, lo - from);
	if (lo + 1 >= n)
		return v[lo];
	/* the next rank is the smallest of what lies above */
	double next = v[lo + 1];
	for (size_t i = lo + 2; i < n; i++)
		if (v[i] < next)
			next = v[i];
	return v[lo] + (next - v[lo]) * (pos - (double)lo);
}

double ttft_percentile_select(double *v, size_t n, double q)
{
	return select_from(v, n, 0, q);
}

void ttft_percentiles_select(double *v, size_t n, const double *q, double *out, size_t nq)
{
	size_t from = 0;
	for (size_t i = 0; i < nq; i++) {
		out[i] = NAN;
		if (n < ttft_quantile_min_n(q[i]))
			continue; /* nothing selected: the next starts where this would have */
		out[i] = select_from(v, n, from, q[i]);
		/* v[0..lo] now holds the lo + 1 smallest: the next selection
		 * starts at lo (the rank just found stays where it is) */
		double pos = q[i] * (double)(n ? n - 1 : 0);
		size_t lo = (size_t)pos;
		from = n && lo < n ? lo : 0;
	}
}

/* The k-th smallest (0-based) of v[0..n) and zeros values 0, with v's
 * negatives in v[0..neg). */
static double kth_with_zeros(double *v, size_t n, size_t neg, size_t zeros, size_t k)
{
	if (k < neg) {
		select_kth(v, neg, k);
		return v[k];
	}
	if (k - neg < zeros)
		return 0;
	k -= zeros;
	select_kth(v + neg, n - neg, k - neg);
	return v[k];
}

void ttft_percentiles_select_zeros(double *v, size_t n, size_t zeros, const double *q,
				   double *out, size_t nq)
{
	if (!zeros) {
		ttft_percentiles_select(v, n, q, out, nq);
		return;
	}
	/* the negatives first (a damaged log's times may go back): the
	 * zeros rank between them and the rest */
	size_t neg = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0)
			swap(&v[i], &v[neg++]);
	size_t all = n + zeros;
	for (size_t i = 0; i < nq; i++) {
		out[i] = NAN;
		if (all < ttft_quantile_min_n(q[i]))
			continue;
		/* the same ranks and interpolation as select_from */
		double pos = q[i] * (double)(all - 1);
		size_t lo = (size_t)pos;
		if (lo + 1 >= all) {
			out[i] = kth_with_zeros(v, n, neg, zeros, all - 1);
			continue;
		}
		double at = kth_with_zeros(v, n, neg, zeros, lo);
		double next = kth_with_zeros(v, n, neg, zeros, lo + 1);
		out[i] = at + (next - at) * (pos - (double)lo);
	}
}

/* v's bits turned into an unsigned key in v's order: negatives' bits
 * reversed, the sign bit set on the rest; -0 is +0's key (equal values,
 * the same key). */
static inline uint64_t sort_key(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	if (v == 0)
		b = 0;
	return b >> 63 ? ~b : b | (1ull << 63);
}

/* The value of key k (+0 for a zero's). */
static inline double key_value(uint64_t k)
{
	uint64_t b = k >> 63 ? k & ~(1ull << 63) : ~k;
	double v;
	memcpy(&v, &b, sizeof v);
	return v;
}

/* A key from where a value was (memcpy: v's memory may be declared
 * double). */
static inline uint64_t ld(const uint64_t *p)
{
	uint64_t k;
	memcpy(&k, p, sizeof k);
	return k;
}

/* Sorts v ascending (no NaNs): a radix sort on sort_key, a byte at a
 * time from the lowest, each pass stable, so equal values keep their
 * order as in glibc's merge sort that qsort is (-0 and 0 included). A
 * byte all keys share is skipped. The keys are made once, in v's place,
 * sorted, then turned back into values; +0 and -0 share a key, so which
 * of the zeros, in their order, was -0 is kept aside (a bit each, only
 * once there is one). Few values, or no memory for the copy: qsort. */
static void sort_values(double *v, size_t n)
{
	uint64_t *tmp = n >= 256 ? malloc(n * sizeof *tmp) : NULL;
	if (!tmp) {
		if (n)
			qsort(v, n, sizeof *v, cmp_double);
		return;
	}
	size_t count[8][256] = {{0}}; /* per byte of the key: its values' counts */
	unsigned char *neg_zero = NULL; /* bit z: the z-th zero is -0 */
	size_t zeros = 0;
	uint64_t *key = (uint64_t *)(void *)v; /* its values read before written */
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		uint64_t k = sort_key(x);
		if (x == 0) {
			if (signbit(x) && !neg_zero && !(neg_zero = calloc(n / 8 + 1, 1))) {
				free(tmp);
				qsort(v, n, sizeof *v, cmp_double);
				return;
			}
			if (neg_zero && signbit(x))
				neg_zero[zeros / 8] |= (unsigned char)(1u << zeros % 8);
			zeros++;
		}
		memcpy(&key[i], &k, sizeof k);
		for (int d = 0; d < 8; d++)
			count[d][(k >> (8 * d)) & 255]++;
	}
	uint64_t *from = key, *to = tmp;
	for (int d = 0; d < 8; d++) {
		size_t *c = count[d], at = 0;
		if (c[(ld(&from[0]) >> (8 * d)) & 255] == n)
			continue;
		for (int b = 0; b < 256; b++) {
			size_t k = c[b];
			c[b] = at;
			at += k;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t k = ld(&from[i]);
			memcpy(&to[c[(k >> (8 * d)) & 255]++], &k, sizeof k);
		}
		uint64_t *t = from;
		from = to;
		to = t;
	}
	size_t z = 0;
	for (size_t i = 0; i < n; i++) {
		double x = key_value(ld(&from[i]));
		if (neg_zero && x == 0) {
			if (neg_zero[z / 8] >> z % 8 & 1)
				x = -0.0;
			z++;
		}
		v[i] = x;
	}
	free(neg_zero);
	free(tmp);
}

void ttft_summary_of(double *v, size_t n, struct ttft_summary *s)
{
	s->n = n;
	sort_values(v, n);
	s->min = n ? v[0] : NAN;
	s->max = n ? v[n - 1] : NAN;
	s->median = ttft_percentile_sorted(v, n, 0.5);
	s->p90 = ttft_percentile_sorted(v, n, 0.9);
	s->p99 = ttft_percentile_sorted(v, n, 0.99);
	double sum = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = n ? sum / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		var += (v[i] - s->mean) * (v[i] - s->mean);
	s->cv = n > 1 ? sqrt(var / (double)(n - 1)) / s->mean : NAN;
}
