/* ttft_trace.c — see ttft_trace.h. Written with the one JSON writer,
 * straight out (a log of a long run holds many thousands of token
 * events). */
#include "ttft_trace.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	struct ttft_json *j;
	int64_t t0;
	uint64_t tid; /* the track of the request being written */
};

/* t − t0 in µs, or NAN when t is not known (0) or the difference does not
 * fit (a damaged log's instants may be anything): never a wrapped time. */
static double us(const struct ctx *c, int64_t t)
{
	int64_t d;
	if (!t || __builtin_sub_overflow(t, c->t0, &d))
		return NAN;
	return (double)d / 1e3;
}

/* z − a in µs, NAN when either is not known or it does not fit. */
static double dur_us(int64_t a, int64_t z)
{
	int64_t d;
	if (!a || !z || __builtin_sub_overflow(z, a, &d))
		return NAN;
	return (double)d / 1e3;
}

/* The members every event on a request's track has. */
static void track(const struct ctx *c, const struct ttft_record *r)
{
	ttft_json_int(c->j, "pid", r->pid);
	ttft_json_int(c->j, "tid", (long long)c->tid);
}

/* A phase slice [a, z) on the request's track, starting no earlier than
 * the previous one ended (*prev), so that slices nest and never overlap.
 * None where a time is not known or does not fit. */
static void phase(struct ctx *c, const struct ttft_record *r, const char *name, int64_t a,
		  int64_t z, int64_t *prev)
{
	if (!a || !z)
		return;
	if (*prev && a < *prev)
		a = *prev;
	if (z < a)
		return;
	double ts = us(c, a), dur = dur_us(a, z);
	if (!isfinite(ts) || !isfinite(dur))
		return;
	ttft_json_begin_obj(c->j, NULL);
	ttft_json_str(c->j, "name", name);
	ttft_json_str(c->j, "cat", "phase");
	ttft_json_str(c->j, "ph", "X");
	ttft_json_num(c->j, "ts", ts);
	ttft_json_num(c->j, "dur", dur);
	track(c, r);
	ttft_json_end_obj(c->j);
	*prev = z;
}

/* n > 1: that many events at the one instant (args.tokens). */
static void instant(struct ctx *c, const struct ttft_record *r, const char *name,
		    const char *cat, int64_t t, uint32_t n)
{
	double ts = us(c, t);
	if (!isfinite(ts))
		return;
	ttft_json_begin_obj(c->j, NULL);
	ttft_json_str(c->j, "name", name);
	ttft_json_str(c->j, "cat", cat);
	ttft_json_str(c->j, "ph", "i");
	ttft_json_str(c->j, "s", "t");
	ttft_json_num(c->j, "ts", ts);
	track(c, r);
	if (n > 1) {
		ttft_json_begin_obj(c->j, "args");
		ttft_json_int(c->j, "tokens", n);
		ttft_json_end_obj(c->j);
	}
	ttft_json_end_obj(c->j);
}

static int64_t req_begin(const struct ttft_record *r)
{
	/* a start not seen (request_unseen): the slice begins with the
	 * response, its first known instant, never at the clock's origin */
	if (!r->t_start) {
		const int64_t c[] = {r->t_hdr, r->ntok ? r->t_first : 0, r->t_end};
		int64_t b = 0;
		for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
			if (c[i] && (!b || c[i] < b))
				b = c[i];
		return b;
	}
	return r->new_conn && r->t_dns0 && r->t_dns0 < r->t_start ? r->t_dns0 : r->t_start;
}

/* The request's last known instant (0: none), so that its slice holds
 * every phase drawn on it (a connection that sent nothing, or never its
 * last byte, ends with its connect or its first byte). A response not
 * known to be its own (fork_unsure: no e2e) is not in it: the slice ends
 * with what it sent. */
static int64_t req_finish(const struct ttft_record *r)
{
	int64_t z = r->t_start;
	const int64_t c[] = {r->new_conn ? r->t_dns1 : 0, r->new_conn ? r->t_est : 0,
			     r->t_req0, r->t_req1, r->t_hdr, ttft_record_last_token(r),
			     r->t_end};
	size_t n = r->fork_unsure ? 4 : sizeof c / sizeof c[0];
	for (size_t i = 0; i < n; i++)
		if (c[i] && (!z || c[i] > z)) /* 0 is not seen, never "later" */
			z = c[i];
	return z;
}

static void request(struct ctx *c, const struct ttft_record *r)
{
	struct ttft_json *j = c->j;
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	int64_t b0 = req_begin(r), b1 = req_finish(r);
	double ts = us(c, b0), dur = dur_us(b0, b1);
	char name[TTFT_REC_TEXT + 40], nb[640];
	const char *note = ttft_record_note(r, nb, sizeof nb);
	if (r->encrypted) /* no method, no path: the table's '-' */
		snprintf(name, sizeof name, "encrypted connection (not visible)");
	else
		snprintf(name, sizeof name, "%s %s", r->method, r->path);
	/* a request whose instants do not fit one time line (a damaged
	 * log) has no slice; what of it does fit is still drawn */
	if (isfinite(ts) && isfinite(dur)) {
		ttft_json_begin_obj(j, NULL);
		ttft_json_str(j, "name", name);
		ttft_json_str(j, "cat", "request");
		ttft_json_str(j, "ph", "X");
		ttft_json_num(j, "ts", ts);
		ttft_json_num(j, "dur", dur);
		track(c, r);
		ttft_json_begin_obj(j, "args");
		ttft_json_int(j, "status", r->status);
		/* the row's count (the server's usage where it gave one), and
		 * where it comes from ("events": at least that many) */
		int from;
		long tokens = ttft_record_tokens_src(r, &from);
		const char *src = ttft_tokens_source_name(from);
		if (tokens < 0) /* unknown, not zero */
			ttft_json_null(j, "tokens");
		else
			ttft_json_int(j, "tokens", tokens);
		if (src)
			ttft_json_str(j, "tokens_source", src);
		else
			ttft_json_null(j, "tokens_source");
		ttft_json_bool(j, "new_connection", r->new_conn);
		ttft_json_num(j, "ttft_ms", p.ttft_s * 1e3);
		ttft_json_num(j, "e2e_ms", p.e2e_s * 1e3);
		ttft_json_num(j, "queue_ms", ttft_record_split(r)->queue_s * 1e3);
		ttft_json_num(j, "prefill_ms", ttft_record_split(r)->prefill_s * 1e3);
		ttft_json_num(j, "server_other_ms", ttft_record_server_other_s(r) * 1e3);
		ttft_json_num(j, "prefix_cache_hit_tokens", ttft_record_split(r)->hit_tokens);
		ttft_json_str(j, "split_source", ttft_record_split(r)->source);
		if (note)
			ttft_json_str(j, "note", note);
		else
			ttft_json_null(j, "note");
		ttft_json_end_obj(j);
		ttft_json_end_obj(j);
	}

	/* what the table refuses (a NAN TTFT, wait or decode: a response
	 * not known to be this request's, a request not seen) is no slice
	 * and no "first token" here either; the note says why */
	int ttft = isfinite(p.ttft_s), decode = isfinite(p.decode_s);
	int64_t prev = b0, first = r->ntok ? r->t_first : 0;
	if (r->new_conn) {
		phase(c, r, "dns", r->t_dns0, r->t_dns1, &prev);
		phase(c, r, "connect", r->t_conn0, r->t_est, &prev);
	}
	if (ttft_record_early(r)) {
		/* the response began before the request's last byte: sending
		 * and the response overlap, so neither is a slice of this
		 * track (they would not nest) and nothing is a wait; the last
		 * byte is an instant */
		if (r->t_req1)
			instant(c, r, "request's last byte sent (after the response "
				"began)", "request", r->t_req1, 1);
	} else {
		phase(c, r, "send", r->t_req0, r->t_req1, &prev);
		if (r->t_hdr && (!first || r->t_hdr <= first)) {
			if (isfinite(p.wait_headers_s))
				phase(c, r, "wait headers", r->t_req1, r->t_hdr, &prev);
			if (ttft)
				phase(c, r, "wait first token", r->t_hdr, first, &prev);
			else if (r->request_unseen && !r->fork_unsure && first)
				/* its request's start was not seen (no TTFT), but
				 * this part of its own response was */
				phase(c, r, "headers to first token", r->t_hdr, first, &prev);
		} else if (ttft) {
			phase(c, r, "wait first token", r->t_req1, first, &prev);
		}
	}
	if (r->ntok && decode) {
		phase(c, r, "decode", first, ttft_record_last_token(r), &prev);
		phase(c, r, "finish", ttft_record_last_token(r), r->t_end, &prev);
	}
	/* an instant a time: the events a read brought at once are one, its
	 * args say how many (a run of 2^20 is not 2^20 instants) */
	const int64_t *tt = ttft_record_tok_times(r);
	const uint32_t *tn = ttft_record_tok_counts(r);
	if (!r->fork_unsure)
		for (uint32_t i = 0; i < r->ntime; i++)
			instant(c, r, i || !ttft ? "token" : "first token", "token", tt[i],
				tn[i]);
	if (r->t_app_first && ttft)
		instant(c, r, "application saw the first token", "mark", r->t_app_first, 1);
}

/* A request in the order tracks are given out: by pid, connection, then
 * when it began. */
struct slot {
	int pid;
	uint64_t conn;
	int64_t b0, b1;
	size_t i;
};

static int cmp_slot(const void *x, const void *y)
{
	const struct slot *a = x, *b = y;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->conn != b->conn)
		return a->conn < b->conn ? -1 : 1;
	if (a->b0 != b->b0)
		return a->b0 < b->b0 ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* A connection's track (lane 1) or a lane of its pipelined requests. */
struct lane {
	int64_t end;    /* when its last request finished */
	uint64_t tid;
	unsigned no;
	int fd;
	uint64_t conn;
	int pid;
};

/* The lanes of one connection as a heap on end: the one free soonest on
 * top. */
static int before(const struct lane *a, const struct lane *b)
{
	return a->end != b->end ? a->end < b->end : a->no < b->no;
}

static void sift_down(struct lane *h, size_t n, size_t k)
{
	for (;;) {
		size_t m = k, l = 2 * k + 1, r = l + 1;
		if (l < n && before(&h[l], &h[m]))
			m = l;
		if (r < n && before(&h[r], &h[m]))
			m = r;
		if (m == k)
			return;
		struct lane t = h[k];
		h[k] = h[m], h[m] = t;
		k = m;
	}
}

static void sift_up(struct lane *h, size_t k)
{
	while (k && before(&h[k], &h[(k - 1) / 2])) {
		struct lane t = h[k];
		h[k] = h[(k - 1) / 2], h[(k - 1) / 2] = t;
		k = (k - 1) / 2;
	}
}

/* Each request's track into tid[]: its connection's (tid = the
 * connection id), or, where it began before every request already drawn
 * on its connection's lanes had finished (pipelined: HTTP/1.1 lets a
 * client send the next request before the previous response), a lane of
 * its own, reused once free: one track's slices never overlap, which
 * Perfetto cannot draw. A lane's tid is one no connection of its pid
 * has: above the pid's highest id, or the smallest free ones where that
 * does not fit (a damaged log's ids may be anything). Every track
 * (connection first, then its lanes) into lanes[], *nlanes of them. */
static int assign(const struct ttft_analysis *a, uint64_t *tid, struct lane *lanes,
		  size_t *nlanes)
{
	size_t n = a->nreqs, nl = 0;
	struct slot *s = malloc((n ? n : 1) * sizeof *s);
	struct lane *h = malloc((n ? n : 1) * sizeof *h);
	if (!s || !h) {
		free(s), free(h);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ttft_record *r = &a->reqs[i];
		int64_t b0 = req_begin(r), b1 = req_finish(r);
		s[i] = (struct slot){r->pid, r->conn, b0, b1 > b0 ? b1 : b0, i};
	}
	qsort(s, n, sizeof *s, cmp_slot);
	for (size_t p = 0, q; p < n; p = q) {
		for (q = p; q < n && s[q].pid == s[p].pid; q++)
			;
		/* the pid's connections are s[p..q), by id: the highest last */
		uint64_t next = s[q - 1].conn <= (uint64_t)INT64_MAX - n ? s[q - 1].conn + 1 : 0;
		size_t used = p; /* the first of its ids not below next */
		for (size_t g = p, z; g < q; g = z) {
			size_t nh = 0;
			for (z = g; z < q && s[z].conn == s[g].conn; z++) {
				const struct ttft_record *r = &a->reqs[s[z].i];
				if (nh && (!s[z].b0 || h[0].end <= s[z].b0)) {
					/* nothing known (b0 0) draws nothing: the
					 * connection's own track */
					tid[s[z].i] = s[z].b0 ? h[0].tid : lanes[nl - nh].tid;
					if (s[z].b0) {
						h[0].end = s[z].b1;
						sift_down(h, nh, 0);
					}
					continue;
				}
				struct lane l = {s[z].b0 ? s[z].b1 : INT64_MIN, r->conn,
						 (unsigned)nh + 1, r->fd, r->conn, r->pid};
				if (nh) {
					for (;;) {
						while (used < q && s[used].conn < next)
							used++;
						if (used == q || s[used].conn != next)
							break;
						next++;
					}
					l.tid = next++;
				}
				tid[s[z].i] = l.tid;
				lanes[nl++] = l;
				h[nh] = l;
				sift_up(h, nh++);
			}
		}
	}
	free(s);
	free(h);
	*nlanes = nl;
	return 0;
}

static void meta(struct ttft_json *j, const char *what, int pid, uint64_t tid, const char *key,
		 const char *name, long long index)
{
	ttft_json_begin_obj(j, NULL);
	ttft_json_str(j, "name", what);
	ttft_json_str(j, "ph", "M");
	ttft_json_int(j, "pid", pid);
	ttft_json_int(j, "tid", (long long)tid);
	ttft_json_begin_obj(j, "args");
	if (name)
		ttft_json_str(j, key, name);
	else
		ttft_json_int(j, key, index);
	ttft_json_end_obj(j);
	ttft_json_end_obj(j);
}

int ttft_trace_json(struct ttft_json *j, const struct ttft_analysis *a)
{
	struct ctx c = {j, 0, 0};
	for (size_t i = 0; i < a->nreqs; i++) {
		int64_t t = req_begin(&a->reqs[i]);
		if (t && (!c.t0 || t < c.t0))
			c.t0 = t;
	}
	/* names first: one process per pid, one track per connection and
	 * per lane of its pipelined requests, each named once (sorted, so
	 * that a long log stays n log n) */
	size_t nl = 0;
	uint64_t *tid = malloc((a->nreqs ? a->nreqs : 1) * sizeof *tid);
	struct lane *t = malloc((a->nreqs ? a->nreqs : 1) * sizeof *t);
	if (!tid || !t || assign(a, tid, t, &nl) != 0) {
		free(tid), free(t);
		return -1;
	}
	ttft_json_begin_obj(j, NULL);
	ttft_json_str(j, "displayTimeUnit", "ms");
	ttft_json_begin_obj(j, "otherData");
	/* no request with a known instant: no origin (null, never 0) */
	if (c.t0)
		ttft_json_ns(j, "origin_monotonic_s", c.t0);
	else
		ttft_json_null(j, "origin_monotonic_s");
	ttft_json_num(j, "origin_unix_s", ttft_analysis_unix_s(a, c.t0));
	/* as the table counts them: an encrypted connection is no request */
	ttft_json_int(j, "requests", (long long)(a->nreqs - a->nencrypted));
	ttft_json_int(j, "encrypted_connections", (long long)a->nencrypted);
	ttft_json_int(j, "dropped", (long long)a->dropped);
	ttft_json_end_obj(j);
	ttft_json_begin_arr(j, "traceEvents");
	for (size_t i = 0; i < nl; i++) {
		char name[120];
		if (!i || t[i].pid != t[i - 1].pid) {
			snprintf(name, sizeof name, "client pid %d", t[i].pid);
			meta(j, "process_name", t[i].pid, 0, "name", name, 0);
		}
		if (t[i].no > 1)
			snprintf(name, sizeof name, "connection %" PRIu64 " (fd %d, pipelined %u)",
				 t[i].conn, t[i].fd, t[i].no);
		else
			snprintf(name, sizeof name, "connection %" PRIu64 " (fd %d)", t[i].conn,
				 t[i].fd);
		meta(j, "thread_name", t[i].pid, t[i].tid, "name", name, 0);
		/* a connection's lanes right below it */
		meta(j, "thread_sort_index", t[i].pid, t[i].tid, "sort_index", NULL,
		     (long long)i);
	}
	free(t);
	for (size_t i = 0; i < a->nreqs; i++) {
		c.tid = tid[i];
		request(&c, &a->reqs[i]);
	}
	free(tid);
	ttft_json_end_arr(j);
	ttft_json_end_obj(j);
	ttft_json_newline(j);
	return 0;
}
