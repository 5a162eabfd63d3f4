/* ttft_analyze.c — group log records into connections and requests.
 *
 * Records from many threads arrive in reservation order, which is not quite
 * time order; they are sorted by timestamp first. Connection ids are handed
 * out densely by the log, so connections live in an array indexed by id.
 */
#include "ttft_analyze.h"
#include "ttft_join.h"
#include "ttft_prom.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct conn {
	int seen;
	int pid, fd;
	int64_t t_conn0, t_est;
	int err;
	int desync;
	int closed;
	int64_t t_close;
	int64_t t_dns0, t_dns1;
	char peer[TTFT_REC_TEXT];
	size_t *reqs;      /* indexes into the analysis' request array */
	size_t nreqs, cap;
};

struct dns {
	int pid, tid;
	int64_t t0, t1;
	int claimed;
};

static int cmp_rec(const void *x, const void *y)
{
	const struct ttft_rec *a = x, *b = y;
	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns ? -1 : 1;
	/* Same instant: keep causal order within a connection. */
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 8;
	while (nc < need)
		nc *= 2;
	void *q = realloc(p, nc * elem);
	if (!q) {
		fprintf(stderr, "ttft-analyze: out of memory\n");
		exit(2);
	}
	*cap = nc;
	return q;
}

static struct ttft_req *find_req(struct ttft_analysis *a, struct conn *c,
				 uint32_t seq)
{
	for (size_t i = c->nreqs; i-- > 0;) {
		struct ttft_req *r = &a->reqs[c->reqs[i]];
		if (r->seq == seq)
			return r;
	}
	return NULL;
}

static void copy_text(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);
	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

static void split_request_line(struct ttft_req *r, const char *text)
{
	char line[TTFT_REC_TEXT + 1];
	copy_text(line, sizeof line, text, TTFT_REC_TEXT);
	char *sp = strchr(line, ' ');
	if (sp) {
		*sp = 0;
		copy_text(r->method, sizeof r->method, line, sizeof line);
		copy_text(r->path, sizeof r->path, sp + 1, sizeof line);
	} else {
		copy_text(r->method, sizeof r->method, line, sizeof line);
	}
}

static void claim_dns(struct dns *d, size_t nd, struct conn *c)
{
	/* The latest resolution in the same process (same thread preferred)
	 * that finished before this connect began and no connect took yet. */
	struct dns *best = NULL;
	for (size_t i = 0; i < nd; i++) {
		struct dns *x = &d[i];
		if (x->claimed || x->pid != c->pid || !x->t1 ||
		    x->t1 > c->t_conn0)
			continue;
		if (!best || x->t1 > best->t1)
			best = x;
	}
	if (best) {
		best->claimed = 1;
		c->t_dns0 = best->t0;
		c->t_dns1 = best->t1;
	}
}

static int cmp_req_start(const void *x, const void *y)
{
	const struct ttft_req *a = x, *b = y;
	if (a->t_start != b->t_start)
		return a->t_start < b->t_start ? -1 : 1;
	return a->conn < b->conn ? -1 : a->conn > b->conn;
}

static int keep(const struct ttft_req *r, const struct ttft_filter *f)
{
	if (!f)
		return 1;
	if (f->pid && r->pid != f->pid)
		return 0;
	if (f->path_prefix &&
	    strncmp(r->path, f->path_prefix, strlen(f->path_prefix)) != 0)
		return 0;
	return 1;
}

static void apply(struct ttft_analysis *a, struct conn *conns, uint64_t nconn,
		  struct dns **dns, size_t *ndns, size_t *dnscap,
		  const struct ttft_rec *e)
{
	if (e->kind == TTFT_EV_DNS_BEGIN || e->kind == TTFT_EV_DNS_END) {
		if (e->kind == TTFT_EV_DNS_BEGIN) {
			*dns = grow(*dns, dnscap, *ndns + 1, sizeof **dns);
			(*dns)[(*ndns)++] = (struct dns){e->pid, e->tid, e->t_ns, 0, 0};
			return;
		}
		for (size_t i = *ndns; i-- > 0;) {
			struct dns *d = &(*dns)[i];
			if (d->pid == e->pid && d->tid == e->tid && !d->t1) {
				d->t1 = e->t_ns;
				break;
			}
		}
		return;
	}
	if (e->conn == 0 || e->conn >= nconn)
		return;
	struct conn *c = &conns[e->conn];
	switch (e->kind) {
	case TTFT_EV_CONNECT_BEGIN:
		c->seen = 1;
		c->pid = e->pid;
		c->fd = e->fd;
		c->t_conn0 = e->t_ns;
		copy_text(c->peer, sizeof c->peer, e->text, TTFT_REC_TEXT);
		claim_dns(*dns, *ndns, c);
		return;
	case TTFT_EV_CONNECT_END:
		/* In progress is not failure: the outcome comes later. */
		if (e->a != 0 && e->err && e->err != EINPROGRESS &&
		    e->err != EALREADY && e->err != EINTR)
			c->err = e->err;
		return;
	case TTFT_EV_ESTABLISHED:
		if (!c->t_est)
			c->t_est = e->t_ns;
		return;
	case TTFT_EV_DESYNC:
		if (!c->desync)
			c->desync = (int)e->b;
		return;
	case TTFT_EV_CLOSE:
		c->closed = 1;
		c->t_close = e->t_ns;
		for (size_t i = 0; i < c->nreqs; i++) {
			struct ttft_req *r = &a->reqs[c->reqs[i]];
			if (!r->t_end)
				r->closed_early = 1;
		}
		return;
	case TTFT_EV_REQ_BEGIN: {
		if (!c->seen) { /* connection opened before the log: no connect */
			c->seen = 1;
			c->pid = e->pid;
			c->fd = e->fd;
		}
		if (find_req(a, c, e->seq))
			return; /* duplicate: ignore */
		a->reqs = grow(a->reqs, &a->reqs_cap, a->nreqs + 1,
			       sizeof *a->reqs);
		struct ttft_req *r = &a->reqs[a->nreqs];
		memset(r, 0, sizeof *r);
		r->pid = e->pid;
		r->fd = e->fd;
		r->conn = e->conn;
		r->seq = e->seq;
		split_request_line(r, e->text);
		r->t_req0 = e->t_ns;
		r->new_conn = e->seq == 0 && c->t_conn0 != 0;
		if (r->new_conn) {
			r->t_start = c->t_conn0;
			r->t_conn0 = c->t_conn0;
			r->t_est = c->t_est;
			r->t_dns0 = c->t_dns0;
			r->t_dns1 = c->t_dns1;
		} else {
			r->t_start = e->t_ns;
		}
		c->reqs = grow(c->reqs, &c->cap, c->nreqs + 1, sizeof *c->reqs);
		c->reqs[c->nreqs++] = a->nreqs++;
		return;
	}
	default:
		break;
	}
	struct ttft_req *r = find_req(a, c, e->seq);
	if (!r)
		return;
	switch (e->kind) {
	case TTFT_EV_REQ_SENT:
		r->t_req1 = e->t_ns;
		break;
	case TTFT_EV_RESP_HEADERS:
		r->t_hdr = e->t_ns;
		r->status = (int)e->a;
		r->rtt_us = e->b;
		break;
	case TTFT_EV_SSE_TOKEN: {
		size_t cap = r->ntok_cap;
		r->tok = grow(r->tok, &cap, r->tokens + 1, sizeof *r->tok);
		r->ntok_cap = (uint32_t)cap;
		r->tok[r->tokens++] = e->t_ns;
		break;
	}
	case TTFT_EV_SSE_DONE:
		r->done = 1;
		break;
	case TTFT_EV_SSE_ERROR:
		r->sse_error = 1;
		break;
	case TTFT_EV_RESP_END:
		r->t_end = e->t_ns;
		r->end_flags = e->flags;
		break;
	case TTFT_EV_MARK:
		if (e->b == TTFT_MARK_FIRST_TOKEN && !r->t_app_first)
			r->t_app_first = e->t_ns;
		break;
	default:
		break;
	}
}

/* Marks carry the connection's tx.seq at the time of the mark: the first
 * token of request k is marked after request k was sent, when tx.seq is
 * k+1. Shift them onto the request they belong to. */
static void fix_mark(struct ttft_rec *e)
{
	if (e->kind == TTFT_EV_MARK && e->seq > 0 &&
	    e->b != TTFT_MARK_REQ_START)
		e->seq--;
}

struct snap {
	uint32_t seq;
	int ok;
	struct ttft_truth tr;
};

/* METRIC records of one snapshot share its number and the GET's start;
 * the SCRAPE record after them closes it at the answer's arrival. */
static int take_metric(struct snap **sn, size_t *n, size_t *cap, const struct ttft_rec *e)
{
	if (e->kind != TTFT_EV_METRIC && e->kind != TTFT_EV_SCRAPE)
		return 0;
	struct snap *last = *n ? &(*sn)[*n - 1] : NULL;
	if (!last || last->seq != (uint32_t)e->b) {
		*sn = grow(*sn, cap, *n + 1, sizeof **sn);
		last = &(*sn)[(*n)++];
		memset(last, 0, sizeof *last);
		last->seq = (uint32_t)e->b;
		for (int i = 0; i < TR__N; i++)
			last->tr.v[i] = NAN;
		last->tr.t0_ns = e->t_ns;
	}
	last->tr.t_ns = e->t_ns;
	if (e->kind == TTFT_EV_SCRAPE) {
		last->ok = e->a > 0;
		return 1;
	}
	char name[TTFT_REC_TEXT + 1];
	copy_text(name, sizeof name, e->text, TTFT_REC_TEXT);
	int id = ttft_truth_id(name);
	if (id >= 0) {
		memcpy(&last->tr.v[id], &e->a, sizeof(double));
		last->tr.have |= 1u << id;
	}
	return 1;
}

/* The request as the join sees it (ttft_join.h): every request of the log,
 * before any filter, since another process's request can share a window. */
static void join_req_of(const struct ttft_req *r, struct ttft_join_req *j)
{
	memset(j, 0, sizeof *j);
	j->t_sent = r->t_req1 ? r->t_req1 : r->t_req0;
	j->t_hdr = r->t_hdr;
	j->t_first = r->tokens ? r->tok[0] : 0;
	j->t_end_lo = j->t_end_hi = r->t_end;
	j->skew_ns = TTFT_JOIN_SKEW_NS + (r->rtt_us > 0 ? r->rtt_us * 1000 : 0);
	j->generate = !strcmp(r->method, "POST");
	j->complete = r->status >= 200 && r->status < 300 && r->t_end && !r->sse_error &&
		      !r->closed_early && !(r->end_flags & TTFT_F_TRUNCATED);
}

/* Each request gets the server's numbers of the window that provably holds
 * its moment alone (ttft_join.c), else a note saying why not. */
static void join_snapshots(struct ttft_analysis *a, const struct snap *sn, size_t n)
{
	struct ttft_truth *good = malloc((n ? n : 1) * sizeof *good);
	struct ttft_join_req *jr = malloc((a->nreqs ? a->nreqs : 1) * sizeof *jr);
	struct ttft_join_out *out = malloc((a->nreqs ? a->nreqs : 1) * sizeof *out);
	if (!good || !jr || !out) {
		fprintf(stderr, "ttft-analyze: out of memory\n");
		exit(2);
	}
	size_t ng = 0;
	for (size_t k = 0; k < n; k++)
		if (sn[k].ok)
			good[ng++] = sn[k].tr;
	for (size_t i = 0; i < a->nreqs; i++)
		join_req_of(&a->reqs[i], &jr[i]);
	ttft_join(good, ng, jr, a->nreqs, out);
	for (size_t i = 0; i < a->nreqs; i++) {
		struct ttft_req *r = &a->reqs[i];
		if (out[i].split) {
			r->s_source = out[i].source;
			r->s_queue = out[i].queue_s;
			r->s_prefill = out[i].prefill_s;
			r->s_hit = out[i].hit_tokens;
			r->s_ttft = out[i].server_ttft_s;
		}
		snprintf(r->s_note, sizeof r->s_note, "%s", out[i].note);
	}
	free(good);
	free(jr);
	free(out);
}

int ttft_analyze_file(const char *path, const struct ttft_filter *flt,
		      struct ttft_analysis *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct ttft_log_view v;
	if (ttft_log_view_open(&v, path, err, errlen) != 0)
		return -1;
	uint64_t claimed = v.hdr->reserved < v.hdr->capacity ? v.hdr->reserved
							      : v.hdr->capacity;
	out->truncated = v.n_slots < claimed;
	out->anchor_mono_ns = v.hdr->anchor_mono_ns;
	out->anchor_real_ns = v.hdr->anchor_real_ns;
	uint64_t nconn = v.hdr->next_conn;
	if (nconn > v.n_slots + 1)
		nconn = v.n_slots + 1; /* every connection has a record */

	struct ttft_rec *recs = malloc((v.n_slots ? v.n_slots : 1) * sizeof *recs);
	struct conn *conns = calloc(nconn ? nconn : 1, sizeof *conns);
	if (!recs || !conns) {
		snprintf(err, errlen, "out of memory reading '%s'", path);
		free(recs);
		free(conns);
		ttft_log_view_close(&v);
		return -1;
	}
	uint64_t n = 0;
	for (uint64_t i = 0; i < v.n_slots; i++)
		if (ttft_log_view_get(&v, i, &recs[n]))
			fix_mark(&recs[n]), n++;
	out->records = n;
	out->dropped = v.dropped;
	out->unpublished = v.unpublished;
	out->corrupt = v.corrupt;
	ttft_log_view_close(&v);
	qsort(recs, n, sizeof *recs, cmp_rec);

	struct dns *dns = NULL;
	size_t ndns = 0, dnscap = 0;
	struct snap *snaps = NULL;
	size_t nsnap = 0, snapcap = 0;
	for (uint64_t i = 0; i < n; i++)
		if (!take_metric(&snaps, &nsnap, &snapcap, &recs[i]))
			apply(out, conns, nconn, &dns, &ndns, &dnscap, &recs[i]);
	for (size_t i = 0; i < out->nreqs; i++) {
		out->reqs[i].s_queue = out->reqs[i].s_prefill = out->reqs[i].s_hit = NAN;
		out->reqs[i].s_ttft = NAN;
	}
	out->snapshots = nsnap;
	if (nsnap) {
		size_t good = 0;
		for (size_t i = 0; i < nsnap; i++)
			good += snaps[i].ok;
		if (good < nsnap)
			snprintf(out->metrics_warning, sizeof out->metrics_warning,
				 "%zu of %zu /metrics snapshots were unusable (garbage, "
				 "truncated, or without request metrics)", nsnap - good, nsnap);
		join_snapshots(out, snaps, nsnap);
	}
	free(snaps);

	for (uint64_t i = 1; i < nconn; i++) {
		struct conn *c = &conns[i];
		if (c->seen && (c->err || (c->desync && c->nreqs == 0) ||
				(!c->t_est && c->nreqs == 0 && c->closed))) {
			out->notes = realloc(out->notes,
					     (out->nnotes + 1) * sizeof *out->notes);
			struct ttft_conn_note *nt = &out->notes[out->nnotes++];
			nt->conn = i;
			nt->pid = c->pid;
			nt->err = c->err;
			nt->desync = c->desync;
			memcpy(nt->peer, c->peer, sizeof nt->peer);
		}
		free(c->reqs);
	}
	free(conns);
	free(dns);
	free(recs);

	size_t k = 0;
	for (size_t i = 0; i < out->nreqs; i++) {
		if (keep(&out->reqs[i], flt))
			out->reqs[k++] = out->reqs[i];
		else
			free(out->reqs[i].tok);
	}
	out->nreqs = k;
	if (k)
		qsort(out->reqs, k, sizeof *out->reqs, cmp_req_start);
	return 0;
}

void ttft_analysis_free(struct ttft_analysis *a)
{
	for (size_t i = 0; i < a->nreqs; i++)
		free(a->reqs[i].tok);
	free(a->reqs);
	free(a->notes);
	memset(a, 0, sizeof *a);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

double ttft_percentile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return v[n - 1];
	double frac = pos - (double)lo;
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

static double span(int64_t a, int64_t b)
{
	return a && b ? (double)(b - a) / 1e9 : NAN;
}

void ttft_req_phases(const struct ttft_analysis *a, const struct ttft_req *r,
		     struct ttft_phases *p)
{
	p->start_s = (double)r->t_start / 1e9;
	p->start_unix_s = (double)(r->t_start - a->anchor_mono_ns +
				   a->anchor_real_ns) / 1e9;
	p->dns_s = r->new_conn ? span(r->t_dns0, r->t_dns1) : NAN;
	p->connect_s = r->new_conn ? span(r->t_conn0, r->t_est) : NAN;
	p->send_s = span(r->t_req0, r->t_req1);
	p->wait_headers_s = span(r->t_req1, r->t_hdr);
	int64_t first = r->tokens ? r->tok[0] : 0;
	int64_t last = r->tokens ? r->tok[r->tokens - 1] : 0;
	p->ttft_s = span(r->t_start, first);
	p->decode_s = span(first, last);
	p->e2e_s = span(r->t_start, r->t_end);
	ttft_itl(r->tok, r->tokens, &p->itl_p50_s, &p->itl_p99_s);
	p->app_gap_s = span(first, r->t_app_first);
	p->queue_s = r->s_queue;
	p->prefill_s = r->s_prefill;
	p->hit_tokens = r->s_hit;
	p->server_ttft_s = r->s_ttft;
	p->server_other_s = r->s_source && first && r->t_req1
		? (double)(first - r->t_req1) / 1e9 - p->prefill_s -
		  (isnan(p->queue_s) ? 0 : p->queue_s)
		: NAN;
	p->network_s = r->rtt_us > 0 ? (double)r->rtt_us / 1e6 : NAN;
}

int ttft_dump_events(FILE *f, const char *path, const struct ttft_filter *flt,
		     char *err, size_t errlen)
{
	struct ttft_log_view v;
	if (ttft_log_view_open(&v, path, err, errlen) != 0)
		return -1;
	struct ttft_rec *recs = malloc((v.n_slots ? v.n_slots : 1) * sizeof *recs);
	uint64_t n = 0;
	for (uint64_t i = 0; recs && i < v.n_slots; i++)
		if (ttft_log_view_get(&v, i, &recs[n]) &&
		    (!flt || !flt->pid || recs[n].pid == flt->pid))
			n++;
	qsort(recs, n, sizeof *recs, cmp_rec);
	fprintf(f, "%16s %7s %7s %4s %5s %3s %-14s %6s %10s %10s %s\n", "t_s", "pid",
		"tid", "fd", "conn", "seq", "kind", "flags", "a", "b", "text/err");
	for (uint64_t i = 0; i < n; i++) {
		const struct ttft_rec *r = &recs[i];
		char text[TTFT_REC_TEXT + 1];
		copy_text(text, sizeof text, r->text, TTFT_REC_TEXT);
		fprintf(f, "%16.6f %7d %7d %4d %5llu %3u %-14s %6x %10lld %10lld %s%s%s\n",
			(double)r->t_ns / 1e9, r->pid, r->tid, r->fd,
			(unsigned long long)r->conn, r->seq, ttft_kind_name(r->kind),
			r->flags, (long long)r->a, (long long)r->b, text,
			r->err ? " " : "", r->err ? strerror(r->err) : "");
	}
	fprintf(f, "%llu records, %llu dropped, %llu unpublished, %llu damaged\n",
		(unsigned long long)n, (unsigned long long)v.dropped,
		(unsigned long long)v.unpublished, (unsigned long long)v.corrupt);
	free(recs);
	ttft_log_view_close(&v);
	return 0;
}

void ttft_itl(const int64_t *tok, size_t n, double *p50_s, double *p99_s)
{
	*p50_s = *p99_s = NAN;
	double *d = n >= 2 ? malloc((n - 1) * sizeof *d) : NULL;
	if (!d)
		return;
	for (size_t i = 1; i < n; i++)
		d[i - 1] = (double)(tok[i] - tok[i - 1]) / 1e9;
	*p50_s = ttft_percentile(d, n - 1, 0.5);
	*p99_s = ttft_percentile(d, n - 1, 0.99);
	free(d);
}
