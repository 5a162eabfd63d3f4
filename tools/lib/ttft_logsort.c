/* ttft_logsort.c — see ttft_logsort.h. */
#include "ttft_logsort.h"

#include <stdlib.h>
#include <string.h>

int ttft_rec_cmp(const struct ttft_rec *a, const struct ttft_rec *b)
{
	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static int cmp_idx(const void *x, const void *y, void *recs)
{
	const struct ttft_rec *r = recs;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c = ttft_rec_cmp(&r[i], &r[j]);
	return c ? c : (i > j) - (i < j);
}

static int each_sorted(struct ttft_log_view *v, void (*fn)(void *, struct ttft_rec *),
		       void *ctx)
{
	uint64_t cap = v->n_slots ? v->n_slots : 1;
	if (cap > UINT32_MAX)
		return -1;
	struct ttft_rec *recs = malloc(cap * sizeof *recs);
	uint32_t *idx = malloc(cap * sizeof *idx);
	if (!recs || !idx) {
		free(recs);
		free(idx);
		return -1;
	}
	uint32_t n = 0;
	for (uint64_t i = 0; i < v->n_slots; i++)
		if (ttft_log_view_get(v, i, &recs[n])) {
			idx[n] = n;
			n++;
		}
	qsort_r(idx, n, sizeof *idx, cmp_idx, recs);
	for (uint32_t i = 0; i < n; i++)
		fn(ctx, &recs[idx[i]]);
	free(idx);
	free(recs);
	return 0;
}

#define CHUNK 8192u /* slots read at once */

int ttft_log_each(struct ttft_log_view *v, unsigned window,
		  void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	if (window == 0)
		return each_sorted(v, fn, ctx);
	/* The window lives in [head, tail) of an array, sorted; slots are
	 * read straight in behind it, and it moves back to the start when
	 * the next read would not fit: with room for four windows, each
	 * record is moved a third of a time on average. */
	size_t cap = 4 * (size_t)window + CHUNK;
	if (cap > v->n_slots + CHUNK)
		cap = (size_t)v->n_slots + CHUNK;
	struct ttft_rec *w = malloc(cap * sizeof *w);
	if (!w)
		return -1;
	size_t head = 0, tail = 0;
	struct ttft_rec last = {0}; /* the key of the last record handed out */
	int have_last = 0, late = 0;
	for (uint64_t i = 0; i < v->n_slots;) {
		if (tail + CHUNK > cap) {
			memmove(w, w + head, (tail - head) * sizeof *w);
			tail -= head;
			head = 0;
		}
		size_t got = ttft_log_view_read(v, i, w + tail, CHUNK);
		i += got;
		if (!got)
			break;
		for (size_t j = tail, end = tail + got; j < end; j++) {
			if (!ttft_log_view_check(v, &w[j]))
				continue;
			/* insert after every record that does not sort after
			 * it: nearly always right where it is */
			size_t k = tail;
			while (k > head && ttft_rec_cmp(&w[k - 1], &w[j]) > 0)
				k--;
			if (k < tail) {
				struct ttft_rec r = w[j];
				memmove(w + k + 1, w + k, (tail - k) * sizeof *w);
				w[k] = r;
			} else if (j != tail) {
				w[tail] = w[j];
			}
			tail++;
			if (have_last && k == head && ttft_rec_cmp(&w[head], &last) < 0)
				late = 1; /* belongs before what was handed out */
			while (tail - head > window) {
				last.t_ns = w[head].t_ns;
				last.kind = w[head].kind;
				last.b = w[head].b;
				have_last = 1;
				fn(ctx, &w[head++]);
			}
		}
	}
	while (head < tail)
		fn(ctx, &w[head++]);
	free(w);
	return late;
}
