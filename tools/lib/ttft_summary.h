/* ttft_summary.h — percentiles and the min / median / p90 / p99 / max
 * summary that every report prints (one definition: linear interpolation
 * between closest ranks, numpy's default; docs/phases.md).
 *
 * A tail quantile is given only from enough values to have one: a
 * q-quantile with q > 0.5 needs ceil(1 / (1 - q)) of them (p90: 10,
 * p99: 100); from fewer it is NAN (null in JSON, '-' in tables), never
 * the max or a value between the top two dressed up as a tail. The
 * median, min and max are given from 1. */
#ifndef TTFT_SUMMARY_H
#define TTFT_SUMMARY_H

#include <stddef.h>

struct ttft_summary {
	size_t n;               /* the values it was computed from */
	double min, median, p90, p99, max;
	double mean, cv;        /* cv: sample standard deviation / mean */
};

/* The fewest values a q-quantile is given from: 1 up to the median and
 * for the max (q 1), ceil(1 / (1 - q)) between (10 for 0.9, 20 for
 * 0.95, 100 for 0.99). */
size_t ttft_quantile_min_n(double q);

/* The line a table prints under itself once when a p90 or p99 there is
 * '-' for want of values (from ttft_quantile_min_n). */
#define TTFT_QUANTILE_RULE "p90 needs 10 values and p99 100: '-' below that"

/* Summarise n values (NANs are the caller's to leave out). Sorts v in
 * place. All NAN when n == 0; cv NAN when n < 2; p90 and p99 NAN below
 * ttft_quantile_min_n. */
void ttft_summary_of(double *v, size_t n, struct ttft_summary *s);

/* The q-quantile (0..1) of n values. Sorts v in place. NAN for
 * n < ttft_quantile_min_n(q) (n == 0 for the median). */
double ttft_percentile(double *v, size_t n, double q);
/* The same of values already sorted ascending. */
double ttft_percentile_sorted(const double *v, size_t n, double q);
/* The same in linear time: reorders v but does not sort it. */
double ttft_percentile_select(double *v, size_t n, double q);
/* The same for nq quantiles q[] (ascending: each selection then works on
 * what lies above the last rank found) into out[]. */
void ttft_percentiles_select(double *v, size_t n, const double *q, double *out, size_t nq);
/* The same of the n values of v and `zeros` more values 0 that are not
 * in memory (token events that came at one instant: the gaps between
 * them); reorders v. */
void ttft_percentiles_select_zeros(double *v, size_t n, size_t zeros, const double *q,
				   double *out, size_t nq);

#endif
