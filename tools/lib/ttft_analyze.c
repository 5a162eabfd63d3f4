/* ttft_analyze.c — a whole log at once: one pass over the records in time
 * order (ttft_logsort.c) through the assembler (ttft_assemble.c), then the
 * server's split, the filters, the order and the summaries.
 */
#include "ttft_analyze.h"
#include "ttft_assemble.h"
#include "ttft_clock.h"
#include "ttft_logsort.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether an absolute-form target's path (ttft_target_path: "" or a
 * query alone is the path "/" with it) begins with PREFIX, itself a path. */
static int origin_starts(const char *target, const char *prefix, size_t n)
{
	const char *o = ttft_target_path(target);
	if (o == target || prefix[0] != '/')
		return 0;
	return *o == '/' ? strncmp(o, prefix, n) == 0 : strncmp(o, prefix + 1, n - 1) == 0;
}

static int keep(const struct ttft_record *r, const struct ttft_filter *f)
{
	if (!f)
		return 1;
	if (f->pid && r->pid != f->pid)
		return 0;
	if (f->path_prefix) {
		/* the target as sent, or an absolute one's path: --path
		 * /v1/completions keeps a proxied request to it
		 * (path_filter_sees_through_an_absolute_target) */
		size_t n = strlen(f->path_prefix);
		if (strncmp(r->path, f->path_prefix, n) != 0 &&
		    !origin_starts(r->path, f->path_prefix, n))
			return 0;
	}
	return 1;
}

static int before(const struct ttft_record *a, const struct ttft_record *b)
{
	if (a->t_start != b->t_start)
		return a->t_start < b->t_start;
	return a->conn < b->conn;
}

static int cmp_start(const void *x, const void *y, void *reqs)
{
	const struct ttft_record *r = reqs;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	return before(&r[i], &r[j]) ? -1 : before(&r[j], &r[i]) ? 1 : (i > j) - (i < j);
}

/* Requests by start (connect or first byte), ties by connection. They
 * were created in order of their first byte, and a new connection's
 * connect comes just before it: nearly sorted, so an insertion sort of
 * indexes finishes in linear time; a budget of moves hands anything else
 * to qsort. Then the records follow their indexes, each moved once. */
#define NONE UINT32_MAX
static int sort_by_start(struct ttft_analysis *a)
{
	size_t n = a->nreqs;
	if (n < 2)
		return 0;
	uint32_t *idx = malloc(n * sizeof *idx);
	if (!idx)
		return -1;
	size_t moves = 0;
	int sorted = 1;
	for (size_t i = 0; i < n; i++) {
		idx[i] = (uint32_t)i;
		size_t k = i;
		while (sorted && k > 0 && before(&a->reqs[i], &a->reqs[idx[k - 1]])) {
			idx[k] = idx[k - 1];
			k--;
			if (++moves > 8 * n)
				sorted = 0;
		}
		idx[k] = (uint32_t)i;
	}
	if (!sorted) {
		for (size_t i = 0; i < n; i++)
			idx[i] = (uint32_t)i;
		qsort_r(idx, n, sizeof *idx, cmp_start, a->reqs);
	}
	/* idx[k] is the record that belongs at k: follow each cycle */
	for (size_t k = 0; k < n; k++) {
		if (idx[k] == k || idx[k] == NONE)
			continue;
		struct ttft_record hold = a->reqs[k];
		size_t at = k;
		while (idx[at] != k) {
			size_t from = idx[at];
			a->reqs[at] = a->reqs[from];
			idx[at] = NONE;
			at = from;
		}
		a->reqs[at] = hold;
		idx[at] = NONE;
	}
	free(idx);
	return 0;
}

/* TTFT and e2e over the requests, for the table and the JSON: their
 * values gathered (tv, ev) in the pass that finishes each request, not
 * in another pass over the records (a cache miss each in a large log).
 * That pass is before the sort by start, which changes nothing here: a
 * value is a span of whole nanoseconds or NaN (left out), never -0, so
 * the sorted values, and all a summary takes from them, are the same in
 * any order. */
static void summarise(struct ttft_analysis *a, double *tv, size_t nt, double *ev, size_t ne)
{
	ttft_summary_of(tv, nt, &a->ttft);
	ttft_summary_of(ev, ne, &a->e2e);
}

/* One pass over the log in time order; 1 when the log was too far out of
 * order for the window, 2 when it shrank under the reader's mapping
 * (start over), -1 when out of memory. */
static int run_pass(struct ttft_asm *as, struct ttft_log_view *v, struct ttft_analysis *out,
		    unsigned window, unsigned opts)
{
	uint64_t nconn = v->hdr->next_conn;
	if (nconn > v->n_slots + 1)
		nconn = v->n_slots + 1; /* every connection has a record */
	if (ttft_asm_init(as, out, nconn) != 0)
		return -1;
	/* a record may name an id the header did not count (a damaged
	 * next_conn): room for it is made on demand, up to the records */
	as->hdr_next_conn = v->hdr->next_conn;
	as->max_conn = v->n_slots;
	as->settle = !(opts & TTFT_ANALYZE_ALL_TOKENS);
	int rc = ttft_log_each(v, window, ttft_asm_apply, as);
	return rc < 0 || as->oom ? -1 : rc;
}

int ttft_analyze_file(const char *path, const struct ttft_filter *flt,
		      struct ttft_analysis *out, char *err, size_t errlen)
{
	return ttft_analyze_file_opt(path, flt, 0, out, err, errlen);
}

int ttft_analyze_file_opt(const char *path, const struct ttft_filter *flt, unsigned opts,
			  struct ttft_analysis *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct ttft_log_view v;
	if (ttft_log_view_open(&v, path, err, errlen) != 0)
		return -1;
	out->anchor_mono_ns = v.hdr->anchor_mono_ns;
	out->anchor_real_ns = v.hdr->anchor_real_ns;
	struct ttft_asm ps;
	unsigned window = TTFT_LOGSORT_WINDOW;
	int rc = run_pass(&ps, &v, out, window, opts);
	while (rc == 1 || rc == 2) {
		/* too far out of order for the window: sort it all; shrunk
		 * under the mapping: read it again (with pread) */
		if (rc == 1)
			window = 0;
		ttft_asm_free(&ps);
		ttft_analysis_free(out);
		out->anchor_mono_ns = v.hdr->anchor_mono_ns;
		out->anchor_real_ns = v.hdr->anchor_real_ns;
		ttft_log_view_restart(&v);
		rc = run_pass(&ps, &v, out, window, opts);
	}
	const struct ttft_log_hdr *h = v.hdr;
	out->creator_pid = h->creator_pid;
	if (h->clock_flags & TTFT_CLOCK_INFO) {
		out->clock.flags = h->clock_flags;
		out->clock.anchor_err_ns = h->anchor_err_ns;
		out->clock.maxerror_us = h->ntp_maxerror_us;
		out->clock.esterror_us = h->ntp_esterror_us;
		out->clock.timens_mono_ns = h->timens_mono_ns;
		ttft_asm_copy_text(out->clock.host, sizeof out->clock.host, h->host, sizeof h->host);
		ttft_asm_copy_text(out->clock.boot_id, sizeof out->clock.boot_id, h->boot_id,
				   sizeof h->boot_id);
	}
	out->dropped = v.dropped;
	out->unwritable = v.unwritable;
	out->unpublished = v.unpublished;
	out->corrupt = v.corrupt + out->bad_conn_ids;
	out->truncated = v.truncated;
	out->slots_claimed = v.claimed;
	out->slots_read = v.n_slots;
	out->records = v.n_slots - v.unpublished - v.corrupt;
	out->snapshots = ps.nsnap;
	size_t nholes = v.nholes;
	int64_t holes[TTFT_LOG_HOLES][2];
	memcpy(holes, v.holes, sizeof holes);
	ttft_log_view_close(&v);
	if (rc == 0 && ps.nsnap && ps.ngood < ps.nsnap)
		snprintf(out->metrics_warning, sizeof out->metrics_warning,
			 "%zu of %zu /metrics snapshots were unusable (%s%s)",
			 ps.nsnap - ps.ngood, ps.nsnap,
			 ps.scrape_why[0] ? "the first failed: " : "garbage, truncated, "
			 "or without request metrics", ps.scrape_why);
	/* every request of the log, before any filter: another process's
	 * request can share a window; llama.cpp's in-stream timings need no
	 * snapshot, but their queue and their fit are worked out there */
	/* (none joins without a snapshot or a server's numbers: no pass over
	 * the records then, each a cache miss in a large log) */
	for (size_t i = 0; rc == 0 && (ps.nsnap || ps.nnumbers) && i < out->nreqs; i++)
		if (ttft_asm_joins(&ps, &out->reqs[i]))
			ttft_asm_join(&ps, &out->reqs[i]);
	if (rc == 0)
		rc = ttft_asm_dns_helpers(&ps);
	if (rc == 0)
		rc = ttft_asm_notes(&ps);
	ttft_asm_free(&ps);
	/* idle connections closed with a 408: the process asked for; a
	 * connection has no path, so none under a path filter */
	for (size_t i = 0; rc == 0 && i < out->nnotes; i++)
		if (!flt || (!flt->path_prefix && (!flt->pid || out->notes[i].pid == flt->pid)))
			out->idle_408 += out->notes[i].idle_408;
	/* A full log drops every later event: what had not ended is cut. */
	for (size_t i = 0; out->dropped && i < out->nreqs; i++)
		if (!out->reqs[i].t_end && !out->reqs[i].encrypted)
			out->reqs[i].cut_by_full_log = 1;
	/* Events lost in the middle (a segment not allocated, later ones
	 * written): a request that was in progress then may miss some of
	 * its own, whole as it looks (its tokens short, a phase wrong). */
	for (size_t h = 0; h < nholes; h++)
		for (size_t i = 0; i < out->nreqs; i++) {
			struct ttft_record *r = &out->reqs[i];
			int64_t t0 = r->t_start ? r->t_start : r->t_req0;
			if (!t0)
				t0 = r->t_hdr;
			if ((!r->t_end || r->t_end >= holes[h][0]) && t0 <= holes[h][1])
				r->cut_by_hole = 1;
		}
	/* A response whose request is not in the log is a row only where the
	 * log lost records (damaged, unsealed, not allocated, cut): in a
	 * whole log it is a fork child's read of an answer to its parent's
	 * request, which cannot be paired, and no row claims a loss there. */
	int lost = out->corrupt || out->unpublished || out->unwritable || out->truncated ||
		   nholes;
	size_t m = out->nreqs ? out->nreqs : 1, nt = 0, ne = 0;
	double *tv = rc == 0 ? malloc(2 * m * sizeof *tv) : NULL, *ev = tv ? tv + m : NULL;
	if (!tv)
		rc = -1;
	/* in order already (sort_by_start would move nothing): the usual log */
	int in_order = 1;
	size_t k = 0;
	for (size_t i = 0; i < out->nreqs; i++) {
		if (rc == 0 && (lost || !out->reqs[i].request_lost) && keep(&out->reqs[i], flt)) {
			if (ttft_record_finish(&out->reqs[i]) != 0)
				rc = -1;
			out->nencrypted += out->reqs[i].encrypted;
			if (k != i)
				out->reqs[k] = out->reqs[i];
			const struct ttft_record *r = &out->reqs[k];
			if (k && before(r, r - 1))
				in_order = 0;
			double x, y;
			ttft_record_ttft_e2e_s(r, &x, &y);
			if (!isnan(x))
				tv[nt++] = x;
			if (!isnan(y))
				ev[ne++] = y;
			k++;
		} else {
			ttft_record_free(&out->reqs[i]);
		}
	}
	out->nreqs = k;
	if (rc == 0 && !in_order)
		rc = sort_by_start(out);
	if (rc == 0)
		summarise(out, tv, nt, ev, ne);
	free(tv);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory analysing '%s' (%llu records); analyse "
			 "a copy on a machine with more memory", path,
			 (unsigned long long)out->records);
		ttft_analysis_free(out);
		return -1;
	}
	return 0;
}

void ttft_analysis_free(struct ttft_analysis *a)
{
	for (size_t i = 0; i < a->nreqs; i++)
		ttft_record_free(&a->reqs[i]);
	free(a->reqs);
	free(a->notes);
	memset(a, 0, sizeof *a);
}

double ttft_analysis_unix_s(const struct ttft_analysis *a, int64_t t_ns)
{
	int64_t u;
	if (!t_ns || ttft_clock_to_real_ns(t_ns, a->anchor_mono_ns, a->anchor_real_ns, &u) != 0)
		return NAN;
	return (double)u / 1e9;
}

struct dump {
	FILE *f;
	const struct ttft_filter *flt;
	uint64_t n;
};

static void dump_one(void *ctx, struct ttft_rec *r)
{
	struct dump *d = ctx;
	if (d->flt && d->flt->pid && r->pid != d->flt->pid)
		return;
	char text[16 * TTFT_TIMES_MAX];
	if (r->kind == TTFT_EV_SSE_TOKEN && (r->flags & TTFT_F_TIMES) &&
	    !(r->flags & TTFT_F_RUN)) {
		/* token times: the later tokens' ns after t_s, as written */
		uint32_t dt[TTFT_TIMES_MAX - 1];
		memcpy(dt, r->text, sizeof dt);
		size_t k = 0;
		for (int64_t i = 0; i + 1 < r->a && i + 1 < TTFT_TIMES_MAX; i++)
			k += (size_t)snprintf(text + k, sizeof text - k, "%s+%u",
					      i ? " " : "", dt[i]);
		text[k] = 0;
	} else {
		ttft_asm_copy_text(text, sizeof text, r->text, TTFT_REC_TEXT);
	}
	fprintf(d->f, "%16.6f %7d %7d %4d %5llu %3u %-14s %6x %10lld %10lld %s%s%s\n",
		(double)r->t_ns / 1e9, r->pid, r->tid, r->fd,
		(unsigned long long)r->conn, r->seq, ttft_kind_name(r->kind),
		r->flags, (long long)r->a, (long long)r->b, text,
		r->err ? " " : "", r->err ? strerror(r->err) : "");
	d->n++;
}

int ttft_dump_events(FILE *f, const char *path, const struct ttft_filter *flt,
		     char *err, size_t errlen)
{
	struct ttft_log_view v;
	if (ttft_log_view_open(&v, path, err, errlen) != 0)
		return -1;
	fprintf(f, "%16s %7s %7s %4s %5s %3s %-14s %6s %10s %10s %s\n", "t_s", "pid",
		"tid", "fd", "conn", "seq", "kind", "flags", "a", "b", "text/err");
	/* everything in memory: a record printed cannot be taken back */
	struct dump d = {f, flt, 0};
	if (ttft_log_each(&v, 0, dump_one, &d) != 0) {
		snprintf(err, errlen, "out of memory sorting '%s' (%llu records)", path,
			 (unsigned long long)v.n_slots);
		ttft_log_view_close(&v);
		return -1;
	}
	fprintf(f, "%llu records, %llu dropped, %llu unpublished, %llu damaged\n",
		(unsigned long long)d.n, (unsigned long long)v.dropped,
		(unsigned long long)v.unpublished, (unsigned long long)v.corrupt);
	ttft_log_view_close(&v);
	return 0;
}
