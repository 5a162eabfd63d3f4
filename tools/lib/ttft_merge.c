/* ttft_merge.c — see ttft_merge.h. */
#include "ttft_merge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_str.h"
#include "ttft_summary.h"

/* The most maxerror a kernel keeps (NTP_MAXPHASE's 16 s: past it the
 * clock is called unsynchronised), and the most an anchor read can take
 * that is still a read (its two monotonic reads a second apart). */
#define MAX_NTP_ERROR_US INT64_C(16000000)
#define MAX_ANCHOR_ERROR_NS INT64_C(1000000000)

/* How fast a wall clock may be slewed against CLOCK_MONOTONIC (the
 * kernel's MAXFREQ, 500 ppm), and what two anchors of one clock may
 * disagree by besides: their reads' errors (a damaged one: a second). */
#define MAX_SLEW 500e-6
#define ONE_CLOCK_SLACK_NS INT64_C(1000000)

/* v × unit as a bound, NAN when v is not one (negative, past max). */
static double bound(int64_t v, int64_t max, double unit)
{
	return v >= 0 && v <= max ? (double)v * unit : NAN;
}

int ttft_merge_same_log(const struct ttft_analysis *a, const struct ttft_analysis *b)
{
	/* two logs created at the same nanosecond of both clocks, by one
	 * process of one boot, are one log */
	return a->anchor_mono_ns == b->anchor_mono_ns &&
	       a->anchor_real_ns == b->anchor_real_ns && a->creator_pid == b->creator_pid &&
	       !strcmp(a->clock.boot_id, b->clock.boot_id);
}

/* Its read error, as a bound in ns: a second when not one. */
static int64_t anchor_err(const struct ttft_merge_log *m)
{
	int64_t e = m->a.clock.anchor_err_ns;
	return e >= 0 && e <= MAX_ANCHOR_ERROR_NS ? e : MAX_ANCHOR_ERROR_NS;
}

/* Do a and b (of one boot) both say their time namespace's offset? Then
 * that alone tells whether they share CLOCK_MONOTONIC, and, being of one
 * kernel, they share CLOCK_REALTIME whatever their namespaces. */
static int both_say_namespace(const struct ttft_merge_log *a, const struct ttft_merge_log *b)
{
	return (a->a.clock.flags & TTFT_CLOCK_TIMENS) && (b->a.clock.flags & TTFT_CLOCK_TIMENS);
}

/* 0 when m and g (the first of a group: its anchor its own) are on one
 * CLOCK_MONOTONIC; else by how much they are apart (ns, signed, never 0).
 * Their headers' time namespace offsets tell, where both have one; an
 * older log's only its anchors: one clock when their offsets (real less
 * monotonic) agree within what the kernel may slew the wall clock over
 * the time between them, their reads' errors and a millisecond. */
static int64_t one_clock_apart(const struct ttft_merge_log *m, const struct ttft_merge_log *g)
{
	/* both say which time namespace: that alone tells (a wall clock
	 * stepped between them is still one CLOCK_MONOTONIC) */
	const struct ttft_log_clock *cm = &m->a.clock, *cg = &g->a.clock;
	if (both_say_namespace(m, g)) {
		long double t = (long double)cm->timens_mono_ns - (long double)cg->timens_mono_ns;
		if (t == 0)
			return 0;
		return t > (long double)INT64_MAX ? INT64_MAX
		       : t < (long double)-INT64_MAX ? -INT64_MAX : (int64_t)t;
	}
	/* in long double: anchors of damaged headers may be anything */
	long double d = ((long double)m->a.anchor_real_ns - (long double)m->a.anchor_mono_ns) -
			((long double)g->a.anchor_real_ns - (long double)g->a.anchor_mono_ns);
	long double span = fabsl((long double)m->a.anchor_mono_ns -
				 (long double)g->a.anchor_mono_ns);
	long double allowed = MAX_SLEW * span + (long double)anchor_err(m) +
			      (long double)anchor_err(g) + (long double)ONE_CLOCK_SLACK_NS;
	if (fabsl(d) <= allowed)
		return 0;
	if (d > (long double)INT64_MAX)
		return INT64_MAX;
	if (d < (long double)-INT64_MAX)
		return -INT64_MAX;
	return (int64_t)d;
}

void ttft_merge_prepare(struct ttft_merge_log *l, size_t n)
{
	int groups = 0;
	for (size_t i = 0; i < n; i++) {
		struct ttft_merge_log *m = &l[i];
		const struct ttft_log_clock *c = &m->a.clock;
		const char *base = strrchr(m->path, '/');
		snprintf(m->name, sizeof m->name, "%s", c->host[0] ? c->host : base ? base + 1
											    : m->path);
		m->group = -1;
		m->apart_from = -1;
		m->apart_s = NAN;
		/* one boot, one CLOCK_MONOTONIC: one anchor for all its logs —
		 * unless their anchors show two (a container in its own time
		 * namespace shares the boot, not the clock's origin; a wall
		 * clock stepped between them): each on its own anchor then,
		 * with its own bound */
		for (size_t j = 0; j < i && m->group < 0; j++)
			if (c->boot_id[0] && !strcmp(c->boot_id, l[j].a.clock.boot_id)) {
				int64_t apart = one_clock_apart(m, &l[j]);
				if (apart) {
					if (m->apart_from < 0) {
						m->apart_from = (int)j;
						m->apart_s = fabs((double)apart / 1e9);
					}
					continue;
				}
				m->group = l[j].group;
				m->a.anchor_mono_ns = l[j].a.anchor_mono_ns;
				m->a.anchor_real_ns = l[j].a.anchor_real_ns;
			}
		if (m->group >= 0) { /* one clock with a later log of its boot */
			m->apart_from = -1;
			m->apart_s = NAN;
		} else {
			m->group = groups++;
		}
		m->err_why[0] = 0;
		int info = (c->flags & TTFT_CLOCK_INFO) != 0;
		m->ntp_max_error_s = info ? bound(c->maxerror_us, MAX_NTP_ERROR_US, 1e-6) : NAN;
		m->ntp_est_error_s = info ? bound(c->esterror_us, MAX_NTP_ERROR_US, 1e-6) : NAN;
		m->anchor_error_s = info ? bound(c->anchor_err_ns, MAX_ANCHOR_ERROR_NS, 1e-9)
					 : NAN;
		if (!info) {
			m->err_s = NAN;
			snprintf(m->err_why, sizeof m->err_why, "the log predates the clock fields "
				 "(an older shim): its wall clock's error is not known");
		} else if (c->flags & TTFT_CLOCK_UNSYNC) {
			m->err_s = NAN;
			snprintf(m->err_why, sizeof m->err_why, "the kernel called the wall clock "
				 "unsynchronised when the log was made (no NTP daemon?)");
		} else if (isnan(m->ntp_max_error_s)) {
			m->err_s = NAN;
			snprintf(m->err_why, sizeof m->err_why, "the header's NTP error bound "
				 "(%lld us) is not one a kernel gives (a damaged header): its "
				 "wall clock's error is not known", (long long)c->maxerror_us);
		} else if (isnan(m->anchor_error_s)) {
			m->err_s = NAN;
			snprintf(m->err_why, sizeof m->err_why, "the header's anchor read error "
				 "(%lld ns) is not one a read gives (a damaged header): its "
				 "wall clock's error is not known", (long long)c->anchor_err_ns);
		} else {
			m->err_s = m->anchor_error_s + m->ntp_max_error_s;
		}
	}
}

double ttft_merge_gap(const struct ttft_merge_log *l, size_t i, size_t j)
{
	if (l[i].group == l[j].group)
		return 0;
	/* one kernel's CLOCK_REALTIME read through each one's anchor (time
	 * namespaces move CLOCK_MONOTONIC only) */
	if (l[i].a.clock.boot_id[0] && !strcmp(l[i].a.clock.boot_id, l[j].a.clock.boot_id) &&
	    both_say_namespace(&l[i], &l[j]))
		return l[i].anchor_error_s + l[j].anchor_error_s; /* NAN when either is */
	return l[i].err_s + l[j].err_s; /* NAN when either is */
}

double ttft_merge_spread(const struct ttft_merge_log *l, size_t n)
{
	double worst = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double g = ttft_merge_gap(l, i, j);
			if (isnan(g))
				return NAN;
			if (g > worst)
				worst = g;
		}
	return worst;
}

/* A log's requests: its rows less its encrypted connections (a row each,
 * no request seen), as the log alone counts them. */
static size_t requests(const struct ttft_analysis *a)
{
	return a->nreqs - a->nencrypted;
}

/* Over the requests of logs [from, to) (to = from + 1: one log); -1 when
 * out of memory. *first and *last NAN when no request has the instant,
 * or one has it but not on the wall clock (a damaged anchor or record:
 * the first of all is then not known; *unplaced set). An encrypted
 * connection is no request: not counted, not a first or last. */
static int summarise(const struct ttft_merge_log *l, size_t from, size_t to,
		      struct ttft_summary *ttft, struct ttft_summary *e2e, size_t *count,
		      double *first, double *last, int *unplaced)
{
	size_t total = 0;
	for (size_t i = from; i < to; i++)
		total += l[i].a.nreqs;
	double *v = malloc((total ? total : 1) * sizeof *v);
	if (!v)
		return -1;
	*count = 0;
	for (size_t i = from; i < to; i++)
		*count += requests(&l[i].a);
	*first = INFINITY;
	*last = -INFINITY;
	int unplaced_first = 0, unplaced_last = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		for (size_t i = from; i < to; i++)
			for (size_t r = 0; r < l[i].a.nreqs; r++) {
				const struct ttft_record *q = &l[i].a.reqs[r];
				if (q->encrypted)
					continue;
				double x = pass ? ttft_record_e2e_s(q) : ttft_record_ttft_s(q);
				if (!isnan(x))
					v[k++] = x;
				/* NAN compares false: min and max of the known
				 * ones, each unknown one noted */
				double u = ttft_analysis_unix_s(&l[i].a, q->t_start);
				unplaced_first |= q->t_start && isnan(u);
				if (u < *first)
					*first = u;
				int64_t e = q->t_end ? q->t_end : q->t_start;
				u = ttft_analysis_unix_s(&l[i].a, e);
				unplaced_last |= e && isnan(u);
				if (u > *last)
					*last = u;
			}
		ttft_summary_of(v, k, pass ? e2e : ttft);
	}
	free(v);
	if (unplaced_first || isinf(*first))
		*first = NAN;
	if (unplaced_last || isinf(*last))
		*last = NAN;
	*unplaced = unplaced_first || unplaced_last;
	return 0;
}

/* A large value with fewer decimals, so that it keeps to its column. */
static void ms(FILE *f, double s)
{
	char t[64];
	if (isnan(s))
		fprintf(f, " %9s", "-");
	else
		fprintf(f, " %s", ttft_str_num(t, sizeof t, s * 1e3, 9, 3));
}

/* *few set when a p90 or p99 of the row is '-' for want of values,
 * *unplaced when its first or last is for want of a wall-clock time. */
static int row(FILE *f, const char *host, const char *log, const struct ttft_merge_log *l,
	       size_t from, size_t to, int *few, int *unplaced)
{
	struct ttft_summary t, e;
	size_t count;
	double first, last;
	int un;
	if (summarise(l, from, to, &t, &e, &count, &first, &last, &un) != 0)
		return -1;
	*unplaced |= un;
	/* cut by characters, never inside one: the table stays UTF-8 and
	 * its columns aligned */
	char h[4 * 16 + 1], lg[4 * 28 + 1];
	fprintf(f, "%s %s %8zu", ttft_str_column(h, sizeof h, host, 16),
		ttft_str_column(lg, sizeof lg, log, 28), count);
	char a[24] = "-", z[24] = "-";
	if (!isnan(first))
		ttft_str_num(a, sizeof a, first, 17, 6);
	if (!isnan(last))
		ttft_str_num(z, sizeof z, last, 17, 6);
	fprintf(f, " %17s %17s", a, z);
	ms(f, t.median);
	ms(f, t.p90);
	ms(f, t.p99);
	ms(f, e.median);
	ms(f, e.p90);
	ms(f, e.p99);
	fputc('\n', f);
	*few |= (!isnan(t.median) && isnan(t.p99)) || (!isnan(e.median) && isnan(e.p99));
	return 0;
}

int ttft_merge_print(FILE *f, const struct ttft_merge_log *l, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ttft_analysis *a = &l[i].a;
		total += requests(a);
		fprintf(f, "== %s (%s): %zu request%s ==\n", l[i].name, l[i].path, requests(a),
			requests(a) == 1 ? "" : "s");
		ttft_print_warnings(f, a);
		ttft_print_table(f, a);
		fputc('\n', f);
	}
	fprintf(f, "== %zu logs, %zu requests, on one wall clock ==\n", n, total);
	fprintf(f, "%-16s %-28s %8s %17s %17s %9s %9s %9s %9s %9s %9s\n", "host", "log",
		"requests", "first_unix_s", "last_unix_s", "ttft_p50", "ttft_p90", "ttft_p99",
		"e2e_p50", "e2e_p90", "e2e_p99");
	int few = 0, unplaced = 0;
	for (size_t i = 0; i < n; i++)
		if (row(f, l[i].name, l[i].path, l, i, i + 1, &few, &unplaced) != 0)
			return -1;
	if (row(f, "all", "", l, 0, n, &few, &unplaced) != 0)
		return -1;
	fprintf(f, "(milliseconds; first and last: the wall-clock start of the first "
		   "request and end of the last%s%s%s%s)\nclocks:\n", few ? "; " : "",
		few ? TTFT_QUANTILE_RULE : "", unplaced ? "; " : "",
		unplaced ? "first or last '-': a request's instant does not fit on the wall "
			   "clock through its log's anchor (a damaged header or record)" : "");
	for (size_t i = 0; i < n; i++) {
		size_t same = i;
		for (size_t j = 0; j < i && same == i; j++)
			if (l[j].group == l[i].group)
				same = j;
		char est[32] = "not known";
		if (!isnan(l[i].ntp_est_error_s))
			snprintf(est, sizeof est, "%.3f ms", l[i].ntp_est_error_s * 1e3);
		if (same != i) {
			fprintf(f, "  %s (%s): the same boot as %s (%s): one clock, aligned "
				   "exactly\n", l[i].name, l[i].path, l[same].name, l[same].path);
			continue;
		}
		if (l[i].apart_from >= 0) {
			const struct ttft_merge_log *o = &l[l[i].apart_from];
			if (both_say_namespace(&l[i], o))
				fprintf(f, "  %s (%s): the same boot as %s (%s), but another time "
					   "namespace: CLOCK_MONOTONIC %.6f s apart, so aligned "
					   "through its own anchor; one wall clock with it (within "
					   "their anchors' read errors)\n", l[i].name, l[i].path,
					o->name, o->path, l[i].apart_s);
			else
				fprintf(f, "  %s (%s): the same boot as %s (%s), but not one clock: "
					   "their anchors disagree by %.6f s (another time namespace, "
					   "or the wall clock stepped between them): aligned through "
					   "its own anchor\n", l[i].name, l[i].path, o->name, o->path,
					l[i].apart_s);
		}
		if (isnan(l[i].err_s))
			fprintf(f, "  %s (%s): no bound: %s\n", l[i].name, l[i].path, l[i].err_why);
		else
			fprintf(f, "  %s (%s): within ±%.3f ms of true time (the kernel's NTP "
				   "bound %.3f ms, estimate %s; the anchor read to ±%.3f us)\n",
				l[i].name, l[i].path, l[i].err_s * 1e3,
				l[i].ntp_max_error_s * 1e3, est, l[i].anchor_error_s * 1e6);
	}
	double spread = ttft_merge_spread(l, n);
	if (isnan(spread))
		fprintf(f, "  how far the hosts' clocks are apart is not known (see above): "
			   "each host's numbers stand, but the order of requests on different "
			   "hosts is not known\n");
	else
		fprintf(f, "  the hosts' clocks may be up to %.3f ms apart: requests on "
			   "different hosts closer than that may have happened in either "
			   "order\n", spread * 1e3);
	return 0;
}

struct at {
	double unix_s;
	uint32_t log, req;
};

static int cmp_at(const void *x, const void *y)
{
	const struct at *a = x, *b = y;
	/* no wall-clock time (NAN) after every time, in log order */
	int na = isnan(a->unix_s) != 0, nb = isnan(b->unix_s) != 0;
	if (na != nb)
		return na - nb;
	if (!na && a->unix_s != b->unix_s)
		return a->unix_s < b->unix_s ? -1 : 1;
	return a->log != b->log ? (a->log > b->log) - (a->log < b->log)
				: (a->req > b->req) - (a->req < b->req);
}

static int summary_json(struct ttft_json *j, const char *key, const struct ttft_merge_log *l,
			size_t from, size_t to)
{
	struct ttft_summary t, e;
	size_t count;
	double first, last;
	int unplaced;
	if (summarise(l, from, to, &t, &e, &count, &first, &last, &unplaced) != 0)
		return -1;
	size_t idle = 0, dark = 0; /* not requests: idle connections closed
				      with a 408, encrypted connections */
	for (size_t i = from; i < to; i++) {
		idle += l[i].a.idle_408;
		dark += l[i].a.nencrypted;
	}
	ttft_json_begin_obj(j, key);
	ttft_json_int(j, "count", (long long)count);
	ttft_json_int(j, "encrypted_connections", (long long)dark);
	ttft_json_int(j, "idle_408", (long long)idle);
	ttft_json_summary(j, "ttft_s", &t);
	ttft_json_summary(j, "e2e_s", &e);
	ttft_json_num(j, "first_unix_s", first);
	ttft_json_num(j, "last_unix_s", last);
	if (unplaced) /* why they are null; the rows' null start_unix_s say which */
		ttft_json_str(j, "unix_note", "a request's instant does not fit on the wall "
			      "clock through its log's anchor (a damaged header or record)");
	ttft_json_end_obj(j);
	return 0;
}

int ttft_merge_json(struct ttft_json *j, const struct ttft_merge_log *l, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += l[i].a.nreqs;
	struct at *order = malloc((total ? total : 1) * sizeof *order);
	if (!order)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < l[i].a.nreqs; r++) {
			/* a start not seen (request_unseen): at its end */
			const struct ttft_record *q = &l[i].a.reqs[r];
			int64_t t = q->t_start ? q->t_start : q->t_end;
			order[k++] = (struct at){ttft_analysis_unix_s(&l[i].a, t), (uint32_t)i,
						 (uint32_t)r};
		}
	qsort(order, total, sizeof *order, cmp_at);
	ttft_json_begin_obj(j, NULL);
	ttft_json_begin_arr(j, "logs");
	for (size_t i = 0; i < n; i++) {
		const struct ttft_log_clock *c = &l[i].a.clock;
		ttft_json_begin_obj(j, NULL);
		ttft_json_str(j, "host", l[i].name);
		ttft_json_str(j, "log", l[i].path);
		ttft_json_str(j, "boot_id", c->boot_id[0] ? c->boot_id : NULL);
		if (summary_json(j, "summary", l, i, i + 1) != 0)
			goto oom;
		ttft_json_int(j, "dropped", (long long)l[i].a.dropped);
		ttft_json_int(j, "dropped_no_room", (long long)l[i].a.unwritable);
		ttft_json_bool(j, "log_complete", !l[i].a.truncated && !l[i].a.corrupt);
		ttft_json_int(j, "damaged_records", (long long)l[i].a.corrupt);
		ttft_json_bool(j, "log_truncated", l[i].a.truncated);
		ttft_json_int(j, "unsealed_records", (long long)l[i].a.unpublished);
		ttft_json_begin_obj(j, "clock");
		if (c->flags & TTFT_CLOCK_INFO)
			ttft_json_bool(j, "synchronised", !(c->flags & TTFT_CLOCK_UNSYNC));
		else
			ttft_json_null(j, "synchronised");
		ttft_json_num(j, "error_s", l[i].err_s);
		ttft_json_num(j, "ntp_max_error_s", l[i].ntp_max_error_s);
		ttft_json_num(j, "anchor_error_s", l[i].anchor_error_s);
		if (l[i].err_why[0])
			ttft_json_str(j, "note", l[i].err_why);
		/* the same boot as another log, but not its clock */
		ttft_json_num(j, "same_boot_apart_s", l[i].apart_s);
		ttft_json_end_obj(j);
		ttft_json_end_obj(j);
	}
	ttft_json_end_arr(j);
	ttft_json_begin_arr(j, "requests");
	for (size_t k2 = 0; k2 < total; k2++) {
		const struct ttft_merge_log *m = &l[order[k2].log];
		struct ttft_json_ctx ctx = {.anchor_mono_ns = m->a.anchor_mono_ns,
					    .anchor_real_ns = m->a.anchor_real_ns,
					    .host = m->name};
		ttft_json_record(j, NULL, &m->a.reqs[order[k2].req], &ctx);
	}
	ttft_json_end_arr(j);
	if (summary_json(j, "summary", l, 0, n) != 0)
		goto oom;
	double spread = ttft_merge_spread(l, n);
	ttft_json_num(j, "clock_spread_s", spread);
	ttft_json_str(j, "clock_note", isnan(spread)
		      ? "how far the hosts' clocks are apart is not known (logs[].clock.note)"
		      : "the hosts' clocks may be up to clock_spread_s apart: requests on "
			"different hosts closer than that may have happened in either order");
	ttft_json_end_obj(j);
	ttft_json_newline(j);
	free(order);
	return 0;
oom:
	free(order);
	return -1;
}
