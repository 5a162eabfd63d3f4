/* ttft_summary.h — percentiles and the min / median / p90 / p99 / max
 * summary that every report prints (one definition: linear interpolation
 * between closest ranks, numpy's default; docs/phases.md). */
#ifndef TTFT_SUMMARY_H
#define TTFT_SUMMARY_H

#include <stddef.h>

struct ttft_summary {
	size_t n;
	double min, median, p90, p99, max;
	double mean, cv;        /* cv: sample standard deviation / mean */
};

/* Summarise n values (NANs are the caller's to leave out). Sorts v in
 * place. All NAN when n == 0; cv NAN when n < 2. */
void ttft_summary_of(double *v, size_t n, struct ttft_summary *s);

/* The q-quantile (0..1) of n values. Sorts v in place. NAN for n == 0. */
double ttft_percentile(double *v, size_t n, double q);
/* The same of values already sorted ascending. */
double ttft_percentile_sorted(const double *v, size_t n, double q);
/* The same in linear time: reorders v but does not sort it. */
double ttft_percentile_select(double *v, size_t n, double q);
/* The same for nq quantiles q[] (ascending: each selection then works on
 * what lies above the last rank found) into out[]. */
void ttft_percentiles_select(double *v, size_t n, const double *q, double *out, size_t nq);

#endif
