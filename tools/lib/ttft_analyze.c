/* ttft_analyze.c — group log records into connections and requests.
 *
 * One pass over the records in time order (ttft_logsort.c), each record
 * touching only its own connection's state: linear in the log's size.
 * Connection ids are handed out densely by the log, so connections live in
 * an array indexed by id; each keeps its requests in request-number order,
 * so the request a record belongs to is found without a scan.
 */
#include "ttft_analyze.h"
#include "ttft_join.h"
#include "ttft_logsort.h"
#include "ttft_prom.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct conn {
	int seen;
	int pid, fd;
	int err;
	int desync;
	int closed;
	int64_t t_conn0, t_est;
	int64_t t_dns0, t_dns1;
	int tls, tapped;     /* a TLS record came; a library's plaintext too */
	char peer[TTFT_REC_TEXT];
	uint32_t *reqs;      /* indexes into the analysis' requests, by seq */
	uint32_t nreqs, cap;
	uint32_t marked;     /* requests before this were seen by a close */
};

/* One getaddrinfo call. */
struct dns {
	int pid;
	int64_t t0, t1;
	uint32_t prev;       /* the thread's call below this one, or the
	                        process's previous unclaimed finished call */
};

/* uint64 → uint32 map, open addressing: per thread and per process. Keys
 * are never removed (there are only as many as threads); NONE is a value. */
struct map {
	struct slot {
		uint64_t key;
		uint32_t val;
		uint32_t used;
	} *s;
	size_t n, cap;
};

struct snap {
	uint32_t seq;
	int ok;
	struct ttft_truth tr;
};

/* The state of one pass. */
struct pass {
	struct ttft_analysis *out;
	struct conn *conns;
	uint64_t nconn;
	struct dns *dns;
	size_t ndns, dnscap;
	struct map pending;  /* pid:tid → its unfinished call */
	struct map finished; /* pid → its latest unclaimed finished call */
	struct snap *snaps;
	size_t nsnap, snapcap;
	int oom;
};

/* Make room for need elements of size elem in *p; 0, or -1 when out of
 * memory (nothing changed). */
static int grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap + *cap / 2 : 8;
	if (nc < need)
		nc = need;
	void *q = realloc(*(void **)p, nc * elem);
	if (!q)
		return -1;
	*(void **)p = q;
	*cap = nc;
	return 0;
}

static size_t slot_of(const struct map *m, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
	while (m->s[i].used && m->s[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint32_t map_get(const struct map *m, uint64_t key)
{
	if (!m->cap)
		return NONE;
	const struct slot *e = &m->s[slot_of(m, key)];
	return e->used ? e->val : NONE;
}

/* -1 when out of memory. */
static int map_set(struct map *m, uint64_t key, uint32_t val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct map g = {NULL, 0, m->cap ? 2 * m->cap : 64};
		g.s = calloc(g.cap, sizeof *g.s);
		if (!g.s)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].used) {
				g.s[slot_of(&g, m->s[i].key)] = m->s[i];
				g.n++;
			}
		free(m->s);
		*m = g;
	}
	struct slot *e = &m->s[slot_of(m, key)];
	if (!e->used)
		m->n++;
	*e = (struct slot){key, val, 1};
	return 0;
}

static void map_free(struct map *m)
{
	free(m->s);
}

static uint64_t thread_key(int pid, int tid)
{
	return (uint64_t)(uint32_t)pid << 32 | (uint32_t)tid;
}

/* Where request seq of conn c is (*found) or belongs. Requests arrive in
 * seq order, so the last one (or after it) is the usual answer; else a
 * binary search. */
static uint32_t find_pos(const struct ttft_analysis *a, const struct conn *c, uint32_t seq,
			 int *found)
{
	uint32_t lo = 0, hi = c->nreqs;
	if (hi) {
		uint32_t last = a->reqs[c->reqs[hi - 1]].seq;
		if (last <= seq) {
			*found = last == seq;
			return last == seq ? hi - 1 : hi;
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a->reqs[c->reqs[mid]].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->nreqs && a->reqs[c->reqs[lo]].seq == seq;
	return lo;
}

static struct ttft_record *find_req(struct ttft_analysis *a, struct conn *c, uint32_t seq)
{
	int found;
	uint32_t pos = find_pos(a, c, seq, &found);
	return found ? &a->reqs[c->reqs[pos]] : NULL;
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

static void split_request_line(struct ttft_record *r, const char *text)
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

/* getaddrinfo's begin and end: a stack of unfinished calls per thread;
 * finished calls wait, per process, for the connect that uses them. */
static void on_dns(struct pass *ps, const struct ttft_rec *e)
{
	uint64_t tk = thread_key(e->pid, e->tid);
	uint32_t top = map_get(&ps->pending, tk);
	if (e->kind == TTFT_EV_DNS_BEGIN) {
		if (ps->ndns >= NONE - 1 ||
		    grow(&ps->dns, &ps->dnscap, ps->ndns + 1, sizeof *ps->dns) != 0) {
			ps->oom = 1;
			return;
		}
		uint32_t i = (uint32_t)ps->ndns++;
		ps->dns[i] = (struct dns){e->pid, e->t_ns, 0, top};
		if (map_set(&ps->pending, tk, i) != 0)
			ps->oom = 1;
		return;
	}
	if (top == NONE)
		return; /* an end without a begin: the begin was before the log */
	struct dns *d = &ps->dns[top];
	d->t1 = e->t_ns;
	uint64_t pk = (uint32_t)d->pid;
	uint32_t below = d->prev;
	d->prev = map_get(&ps->finished, pk);
	if (map_set(&ps->pending, tk, below) != 0 ||
	    map_set(&ps->finished, pk, top) != 0)
		ps->oom = 1;
}

/* The latest resolution in the same process that finished before this
 * connect began and no connect took yet. */
static void claim_dns(struct pass *ps, struct conn *c)
{
	uint64_t pk = (uint32_t)c->pid;
	uint32_t top = map_get(&ps->finished, pk);
	if (top == NONE)
		return;
	struct dns *d = &ps->dns[top];
	c->t_dns0 = d->t0;
	c->t_dns1 = d->t1;
	if (map_set(&ps->finished, pk, d->prev) != 0)
		ps->oom = 1;
}

static void new_request(struct pass *ps, struct conn *c, const struct ttft_rec *e)
{
	struct ttft_analysis *a = ps->out;
	int found;
	uint32_t pos = find_pos(a, c, e->seq, &found);
	if (found)
		return; /* duplicate: ignore */
	size_t ccap = c->cap;
	if (a->nreqs >= NONE ||
	    grow(&a->reqs, &a->reqs_cap, a->nreqs + 1, sizeof *a->reqs) != 0 ||
	    grow(&c->reqs, &ccap, (size_t)c->nreqs + 1, sizeof *c->reqs) != 0) {
		ps->oom = 1;
		return;
	}
	c->cap = (uint32_t)ccap;
	struct ttft_record *r = &a->reqs[a->nreqs];
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	r->pid = e->pid;
	r->fd = e->fd;
	r->conn = e->conn;
	r->seq = e->seq;
	split_request_line(r, e->text);
	r->t_req0 = e->t_ns;
	r->tls = (uint8_t)c->tls;
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
	memmove(c->reqs + pos + 1, c->reqs + pos, (c->nreqs - pos) * sizeof *c->reqs);
	c->reqs[pos] = (uint32_t)a->nreqs++;
	c->nreqs++;
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

/* METRIC records of one snapshot share its number and the GET's start;
 * the SCRAPE record after them closes it at the answer's arrival. */
static void take_metric(struct pass *ps, const struct ttft_rec *e)
{
	struct snap *last = ps->nsnap ? &ps->snaps[ps->nsnap - 1] : NULL;
	if (!last || last->seq != (uint32_t)e->b) {
		if (grow(&ps->snaps, &ps->snapcap, ps->nsnap + 1, sizeof *ps->snaps) != 0) {
			ps->oom = 1;
			return;
		}
		last = &ps->snaps[ps->nsnap++];
		memset(last, 0, sizeof *last);
		last->seq = (uint32_t)e->b;
		for (int i = 0; i < TR__N; i++)
			last->tr.v[i] = NAN;
		last->tr.t0_ns = e->t_ns;
	}
	last->tr.t_ns = e->t_ns;
	if (e->kind == TTFT_EV_SCRAPE) {
		last->ok = e->a > 0;
		return;
	}
	char name[TTFT_REC_TEXT + 1];
	copy_text(name, sizeof name, e->text, TTFT_REC_TEXT);
	int id = ttft_truth_id(name);
	if (id >= 0) {
		memcpy(&last->tr.v[id], &e->a, sizeof(double));
		last->tr.have |= 1u << id;
	}
}

static void apply(void *ctx, struct ttft_rec *e)
{
	struct pass *ps = ctx;
	struct ttft_analysis *a = ps->out;
	if (ps->oom)
		return;
	switch (e->kind) {
	case TTFT_EV_METRIC:
	case TTFT_EV_SCRAPE:
		take_metric(ps, e);
		return;
	case TTFT_EV_DNS_BEGIN:
	case TTFT_EV_DNS_END:
		on_dns(ps, e);
		return;
	default:
		break;
	}
	if (e->conn == 0 || e->conn >= ps->nconn)
		return;
	fix_mark(e);
	struct conn *c = &ps->conns[e->conn];
	switch (e->kind) {
	case TTFT_EV_CONNECT_BEGIN:
		c->seen = 1;
		c->pid = e->pid;
		c->fd = e->fd;
		c->t_conn0 = e->t_ns;
		copy_text(c->peer, sizeof c->peer, e->text, TTFT_REC_TEXT);
		claim_dns(ps, c);
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
	case TTFT_EV_TLS:
		c->tls = 1;
		c->tapped |= e->a != 0;
		return;
	case TTFT_EV_CLOSE:
		c->closed = 1;
		for (uint32_t i = c->marked; i < c->nreqs; i++) {
			struct ttft_record *r = &a->reqs[c->reqs[i]];
			if (!r->t_end)
				r->closed_early = 1;
		}
		c->marked = c->nreqs;
		return;
	case TTFT_EV_REQ_BEGIN:
		if (!c->seen) { /* connection opened before the log: no connect */
			c->seen = 1;
			c->pid = e->pid;
			c->fd = e->fd;
		}
		new_request(ps, c, e);
		return;
	default:
		break;
	}
	struct ttft_record *r = find_req(a, c, e->seq);
	if (!r)
		return;
	switch (e->kind) {
	case TTFT_EV_REQ_SENT:
		r->t_req1 = e->t_ns;
		break;
	case TTFT_EV_RESP_HEADERS:
		r->t_hdr = e->t_ns;
		r->status = (int)e->a;
		r->rtt_us = e->b > 0 && e->b <= UINT32_MAX ? (uint32_t)e->b : 0;
		break;
	case TTFT_EV_SSE_TOKEN:
		if (ttft_record_add_token(r, e->t_ns) != 0)
			ps->oom = 1;
		break;
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
	case TTFT_EV_TLS_WIRE:
		if (!r->t_wire_first)
			r->t_wire_first = e->t_ns;
		break;
	default:
		break;
	}
}

/* The request as the join sees it (ttft_join.h). */
static void join_req_of(const struct ttft_record *r, struct ttft_join_req *j)
{
	memset(j, 0, sizeof *j);
	j->t_sent = r->t_req1 ? r->t_req1 : r->t_req0;
	j->t_hdr = r->t_hdr;
	j->t_first = r->ntok ? r->tok[0] : 0;
	j->t_end_lo = j->t_end_hi = r->t_end;
	j->skew_ns = TTFT_JOIN_SKEW_NS + (int64_t)r->rtt_us * 1000;
	j->generate = !strcmp(r->method, "POST");
	j->complete = r->status >= 200 && r->status < 300 && r->t_end && !r->sse_error &&
		      !r->closed_early && !(r->end_flags & TTFT_F_TRUNCATED);
}

/* Each request gets the server's numbers of the window that provably holds
 * its moment alone (ttft_join.c), else a note saying why not. Every request
 * of the log takes part, before any filter: another process's request can
 * share a window. */
static int join_snapshots(struct ttft_analysis *a, const struct snap *sn, size_t n)
{
	struct ttft_truth *good = malloc((n ? n : 1) * sizeof *good);
	struct ttft_join_req *jr = malloc((a->nreqs ? a->nreqs : 1) * sizeof *jr);
	struct ttft_server_split *out = malloc((a->nreqs ? a->nreqs : 1) * sizeof *out);
	int rc = good && jr && out ? 0 : -1;
	size_t ng = 0;
	for (size_t k = 0; rc == 0 && k < n; k++)
		if (sn[k].ok)
			good[ng++] = sn[k].tr;
	for (size_t i = 0; rc == 0 && i < a->nreqs; i++)
		join_req_of(&a->reqs[i], &jr[i]);
	if (rc == 0 && ttft_join(good, ng, jr, a->nreqs, out) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < a->nreqs; i++)
		a->reqs[i].split = out[i];
	free(good);
	free(jr);
	free(out);
	return rc;
}

static int keep(const struct ttft_record *r, const struct ttft_filter *f)
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

/* TTFT and e2e over the requests, for the table and the JSON. */
static int summarise(struct ttft_analysis *a)
{
	double *v = malloc((a->nreqs ? a->nreqs : 1) * sizeof *v);
	if (!v)
		return -1;
	for (int e2e = 0; e2e < 2; e2e++) {
		size_t n = 0;
		for (size_t i = 0; i < a->nreqs; i++) {
			const struct ttft_record *r = &a->reqs[i];
			double x = e2e ? ttft_record_e2e_s(r) : ttft_record_ttft_s(r);
			if (!isnan(x))
				v[n++] = x;
		}
		ttft_summary_of(v, n, e2e ? &a->e2e : &a->ttft);
	}
	free(v);
	return 0;
}

/* A TLS connection whose plaintext no tapped library handed over (Node and
 * Go carry their own TLS): one row that says so, with the connection's
 * timing, instead of nothing or a request that never was. */
static int add_encrypted(struct ttft_analysis *a, const struct conn *c, uint64_t id)
{
	if (grow(&a->reqs, &a->reqs_cap, a->nreqs + 1, sizeof *a->reqs) != 0)
		return -1;
	struct ttft_record *r = &a->reqs[a->nreqs++];
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	r->pid = c->pid;
	r->fd = c->fd;
	r->conn = id;
	r->tls = r->encrypted = 1;
	r->new_conn = c->t_conn0 != 0;
	r->t_start = r->t_conn0 = c->t_conn0;
	r->t_est = c->t_est;
	r->t_dns0 = c->t_dns0;
	r->t_dns1 = c->t_dns1;
	return 0;
}

/* Failed, non-HTTP and request-less TLS connections, for the warnings;
 * encrypted ones as rows. */
static int conn_notes(struct pass *ps)
{
	struct ttft_analysis *a = ps->out;
	size_t cap = 0;
	for (uint64_t i = 1; i < ps->nconn; i++) {
		struct conn *c = &ps->conns[i];
		if (c->seen && c->tls && !c->tapped && c->nreqs == 0 &&
		    add_encrypted(a, c, i) != 0)
			return -1;
		if (!c->seen || !(c->err || (c->desync && c->nreqs == 0) ||
				  (!c->t_est && c->nreqs == 0 && c->closed) ||
				  (c->tapped && c->nreqs == 0)))
			continue;
		if (grow(&a->notes, &cap, a->nnotes + 1, sizeof *a->notes) != 0)
			return -1;
		struct ttft_conn_note *nt = &a->notes[a->nnotes++];
		nt->conn = i;
		nt->pid = c->pid;
		nt->err = c->err;
		nt->desync = c->desync;
		nt->tls = c->tls;
		memcpy(nt->peer, c->peer, sizeof nt->peer);
	}
	return 0;
}

static void pass_free(struct pass *ps)
{
	for (uint64_t i = 0; ps->conns && i < ps->nconn; i++)
		free(ps->conns[i].reqs);
	free(ps->conns);
	free(ps->dns);
	free(ps->snaps);
	map_free(&ps->pending);
	map_free(&ps->finished);
	memset(ps, 0, sizeof *ps);
}

/* One pass over the log in time order; 1 when the log was too far out of
 * order for the window (start over), -1 when out of memory. */
static int run_pass(struct pass *ps, struct ttft_log_view *v, struct ttft_analysis *out,
		    unsigned window)
{
	memset(ps, 0, sizeof *ps);
	ps->out = out;
	ps->nconn = v->hdr->next_conn;
	if (ps->nconn > v->n_slots + 1)
		ps->nconn = v->n_slots + 1; /* every connection has a record */
	ps->conns = calloc(ps->nconn ? ps->nconn : 1, sizeof *ps->conns);
	if (!ps->conns)
		return -1;
	int rc = ttft_log_each(v, window, apply, ps);
	return rc < 0 || ps->oom ? -1 : rc;
}

int ttft_analyze_file(const char *path, const struct ttft_filter *flt,
		      struct ttft_analysis *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct ttft_log_view v;
	if (ttft_log_view_open(&v, path, err, errlen) != 0)
		return -1;
	out->anchor_mono_ns = v.hdr->anchor_mono_ns;
	out->anchor_real_ns = v.hdr->anchor_real_ns;
	struct pass ps;
	int rc = run_pass(&ps, &v, out, TTFT_LOGSORT_WINDOW);
	if (rc == 1) {
		/* too far out of order for the window: sort it all */
		pass_free(&ps);
		ttft_analysis_free(out);
		out->anchor_mono_ns = v.hdr->anchor_mono_ns;
		out->anchor_real_ns = v.hdr->anchor_real_ns;
		v.unpublished = v.corrupt = 0;
		rc = run_pass(&ps, &v, out, 0);
	}
	out->dropped = v.dropped;
	out->unpublished = v.unpublished;
	out->corrupt = v.corrupt;
	out->truncated = v.truncated;
	out->slots_claimed = v.claimed;
	out->slots_read = v.n_slots;
	out->records = v.n_slots - v.unpublished - v.corrupt;
	out->snapshots = ps.nsnap;
	ttft_log_view_close(&v);
	if (rc == 0 && ps.nsnap) {
		size_t good = 0;
		for (size_t i = 0; i < ps.nsnap; i++)
			good += ps.snaps[i].ok;
		if (good < ps.nsnap)
			snprintf(out->metrics_warning, sizeof out->metrics_warning,
				 "%zu of %zu /metrics snapshots were unusable (garbage, "
				 "truncated, or without request metrics)", ps.nsnap - good,
				 ps.nsnap);
		rc = join_snapshots(out, ps.snaps, ps.nsnap);
	}
	if (rc == 0)
		rc = conn_notes(&ps);
	pass_free(&ps);
	size_t k = 0;
	for (size_t i = 0; i < out->nreqs; i++) {
		if (rc == 0 && keep(&out->reqs[i], flt)) {
			if (ttft_record_finish(&out->reqs[i]) != 0)
				rc = -1;
			out->nencrypted += out->reqs[i].encrypted;
			out->reqs[k++] = out->reqs[i];
		} else {
			ttft_record_free(&out->reqs[i]);
		}
	}
	out->nreqs = k;
	if (rc == 0)
		rc = sort_by_start(out);
	if (rc == 0)
		rc = summarise(out);
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
	return (double)(t_ns - a->anchor_mono_ns + a->anchor_real_ns) / 1e9;
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
	char text[TTFT_REC_TEXT + 1];
	copy_text(text, sizeof text, r->text, TTFT_REC_TEXT);
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
