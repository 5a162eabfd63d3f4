/* ttft_assemble.c — see ttft_assemble.h.
 *
 * Connection ids are handed out densely by the log, so connections live in
 * an array indexed by id; each keeps its requests in request-number order,
 * so the request a record belongs to is found without a scan.
 */
#include "ttft_assemble.h"
#include "ttft_http.h"

#include <errno.h>
#include <sys/mman.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct asm_conn {
	int seen;
	int pid, tid, fd;
	int err;
	int desync;
	int rx_desync;       /* the first desync of its responses' side */
	int untraced;        /* the shim's table was full: not traced */
	uint8_t io_cut;      /* an io_error already cut its open requests */
	uint8_t aio;         /* TTFT_AIO_*: its fd went to POSIX AIO, whose
	                        I/O the shim does not see (TTFT_EV_AIO) */
	int closed;
	int64_t t_conn0, t_est;
	int64_t t_dns0, t_dns1;
	int tls, tapped;     /* a TLS record came; a library's plaintext too */
	uint32_t tunnel_tls; /* … after a request (through a CONNECT's tunnel):
				the last request's seq + 1 then, 0: none */
	char peer[TTFT_REC_TEXT];
	uint32_t *reqs;      /* indexes into the analysis' requests, by seq */
	uint32_t nreqs, cap;
	uint32_t marked;     /* requests before this were seen by a close */
	/* inherited across exec (TTFT_F_INHERITED): its first `owed`
	 * responses answer requests `origin` sent before the exec, from seq
	 * owed_base on; its own requests follow them */
	uint8_t inherited;
	uint32_t origin, owed, owed_base;
	uint8_t origin_closed; /* the origin closed its copy (before or after) */
	uint32_t heir;         /* the latest connection that inherited this one */
	/* responses to requests the shim did not see (sent by a raw system
	 * call, wide-character stdio, an untraced program image): each is
	 * a row of its own; the responses after them answer the requests
	 * seen, rx_skew numbers later */
	uint32_t rx_skew;
	uint32_t unseen;     /* the last such row + 1, 0 = none */
	uint32_t unseen_seq; /* its response's number as the shim counted */
	/* shared across fork (TTFT_EV_INHERIT): a child that sent on this
	 * connection took a new id for it; the parent's id reads on */
	uint32_t fork_child; /* its (first) child's id for it, 0 = none */
	uint8_t fork_tangled;/* several senders' requests were due at once
	                        (two children, or the parent sent while a
	                        child's request was due): which response
	                        answers which is not known */
	uint32_t fork_parent;/* this id's parent id, 0 = none */
	uint32_t fork_kids;  /* its children's ids, a list: the last one's */
	uint32_t fork_sib;   /* the next child of its parent, 0 = none */
	uint8_t rx_cut;      /* an rx desync cut its children's requests */
	uint8_t rx_stopped;  /* a desync not of its requests' side alone
	                        ("tx": the responses are read on): no
	                        record of a response on it comes any more */
	uint32_t fork_next;  /* the first of its requests maybe unanswered */
	uint8_t answered;    /* a response's headers were read on it */
	/* unsolicited 408s on it while every request was answered: the
	 * server closing an idle connection (RFC 9110 15.5.9), no request;
	 * the records of the last one (its response number + 1) are
	 * dropped */
	uint32_t idle_408, idle_seq;
	uint8_t est_tick;    /* t_est is the kernel's, to its tick (b = 1) */
	uint8_t est_unknown; /* its establishment is not known (b = 2) */
	uint8_t gave_up;     /* closed with its connect under way (CLOSE
	                        b = 1): the client gave up on it */
	uint64_t ino;        /* its socket's inode (CONNECT_BEGIN's b), 0
	                        unknown: an exec's heir takes it over */
};

/* One getaddrinfo call. */
struct asm_dns {
	int pid, tid;
	int64_t t0, t1;
	uint32_t prev;       /* the thread's call below this one, or the
	                        thread's previous unclaimed finished call */
	uint8_t claimed;
};

/* uint64 → uint32 map, open addressing: per thread and per process. Keys
 * are never removed (there are only as many as threads); NONE is a value. */
struct asm_slot {
	uint64_t key;
	uint32_t val;
	uint32_t used;
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

/* The request records are most of a short request log's memory, and the
 * kernel gives each of their pages on its first touch: a page fault every
 * ten records, which on a VM costs more than the zeroing (perf: ~40% of
 * the short log's time under the faults). Their pages are asked for 1 MiB
 * at a time ahead of the records (MADV_POPULATE_WRITE: the same pages, no
 * fault each), never past the array's capacity: a hint, which an older
 * kernel refuses, with nothing changed. The array moved (realloc): what
 * lies ahead of its records is asked for again. */
#define POPULATE_AHEAD (1u << 20)
static void populate_reqs(struct ttft_asm *ps)
{
	struct ttft_analysis *a = ps->out;
	size_t used = (a->nreqs + 1) * sizeof *a->reqs, cap = a->reqs_cap * sizeof *a->reqs;
	if ((void *)a->reqs != ps->pop_base || ps->pop_end > cap) {
		ps->pop_base = a->reqs;
		ps->pop_end = used - sizeof *a->reqs;
	}
	if (used <= ps->pop_end)
		return;
	size_t end = ps->pop_end + POPULATE_AHEAD;
	if (end > cap)
		end = cap;
	uintptr_t pg = 4096, base = (uintptr_t)a->reqs;
	uintptr_t from = (base + ps->pop_end) & ~(pg - 1), to = (base + end) & ~(pg - 1);
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
	ps->pop_end = end > used ? end : used;
}

/* Room for one more request record in ps->out->reqs; -1 when there is
 * none (nothing changed). */
static int grow_reqs(struct ttft_asm *ps)
{
	struct ttft_analysis *a = ps->out;
	if (a->nreqs >= NONE ||
	    grow(&a->reqs, &a->reqs_cap, a->nreqs + 1, sizeof *a->reqs) != 0)
		return -1;
	populate_reqs(ps);
	return 0;
}

static size_t slot_of(const struct asm_map *m, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
	while (m->s[i].used && m->s[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint32_t map_get(const struct asm_map *m, uint64_t key)
{
	if (!m->cap)
		return NONE;
	const struct asm_slot *e = &m->s[slot_of(m, key)];
	return e->used ? e->val : NONE;
}

/* -1 when out of memory. */
static int map_set(struct asm_map *m, uint64_t key, uint32_t val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct asm_map g = {NULL, 0, m->cap ? 2 * m->cap : 64};
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
	struct asm_slot *e = &m->s[slot_of(m, key)];
	if (!e->used)
		m->n++;
	*e = (struct asm_slot){key, val, 1};
	return 0;
}

static void map_free(struct asm_map *m)
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
static uint32_t find_pos(const struct ttft_analysis *a, const struct asm_conn *c, uint32_t seq,
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

static struct ttft_record *find_req(struct ttft_analysis *a, struct asm_conn *c, uint32_t seq)
{
	int found;
	uint32_t pos = find_pos(a, c, seq, &found);
	return found ? &a->reqs[c->reqs[pos]] : NULL;
}

/* 1 when the 8 bytes of w hold a control byte (below 0x20, or 0x7f):
 * a byte's top bit set by b - 0x20 borrowing (b < 0x20) or by b + 1
 * carrying into it (b == 0x7f, from below 0x80) — neither where b has
 * its own top bit set, which clears both (bytes of 0x80 and above are
 * not control bytes). The borrow of a byte below 0x20 may set the next
 * byte's bit: only when a control byte is there anyway. */
static inline int has_ctl(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
	uint64_t low = w & ~tops; /* each byte's 7 low bits */
	return (((w - ones * 0x20) | (low + ones)) & ~w & tops) != 0;
}

/* 0 when s[0..n) may hold a control byte; 1: it holds none. With loads
 * that may overlap (the last 8, or the first and last 4 bytes): only
 * whether, not where. */
static inline int all_clean(const char *s, size_t n)
{
	uint64_t w;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, sizeof w);
			if (has_ctl(w))
				return 0;
		}
		memcpy(&w, s + n - 8, sizeof w);
		return !has_ctl(w);
	}
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, sizeof a);
		memcpy(&b, s + n - 4, sizeof b);
		return !has_ctl((uint64_t)a | (uint64_t)b << 32);
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* n bytes of src that hold no NUL as a C string in dst (dlen > n). */
static void copy_clean(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = 0;
	if (all_clean(dst, n)) /* the usual text */
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

void ttft_asm_copy_text(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);
	copy_clean(dst, src, n < dlen ? n : dlen - 1);
}

/* "METHOD PATH" (cut at TTFT_REC_TEXT bytes, or without a space: all
 * method), each part copied once from the record's text: its length
 * known, no NUL in it. */
static void split_request_line(struct ttft_record *r, const char *text)
{
	size_t n = strnlen(text, TTFT_REC_TEXT);
	const char *sp = memchr(text, ' ', n);
	size_t m = sp ? (size_t)(sp - text) : n;
	copy_clean(r->method, text, m < sizeof r->method ? m : sizeof r->method - 1);
	if (sp) {
		m = n - m - 1;
		copy_clean(r->path, sp + 1, m < sizeof r->path ? m : sizeof r->path - 1);
	}
}

/* getaddrinfo's begin and end: a stack of unfinished calls per thread;
 * finished calls wait, per thread, for the connect that uses them. */
static void on_dns(struct ttft_asm *ps, const struct ttft_rec *e)
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
		ps->dns[i] = (struct asm_dns){e->pid, e->tid, e->t_ns, 0, top, 0};
		if (map_set(&ps->pending, tk, i) != 0)
			ps->oom = 1;
		return;
	}
	if (top == NONE)
		return; /* an end without a begin: the begin was before the log */
	struct asm_dns *d = &ps->dns[top];
	d->t1 = e->t_ns;
	uint32_t below = d->prev;
	d->prev = map_get(&ps->finished, tk);
	if (map_set(&ps->pending, tk, below) != 0 ||
	    map_set(&ps->finished, tk, top) != 0)
		ps->oom = 1;
}

/* A connect uses the latest lookup of its own thread that finished before
 * it and no connect took yet. Without one, a lookup of a helper thread
 * (one that never connects) may be its own; that is decided after the last
 * record (ttft_asm_dns_helpers), when it is known which threads connect.
 * Another connecting thread's lookup never is (thread B's connect must not
 * take thread A's). */
static void claim_dns(struct ttft_asm *ps, struct asm_conn *c, uint64_t id)
{
	uint64_t tk = thread_key(c->pid, c->tid);
	if (map_set(&ps->connectors, tk, 1) != 0) {
		ps->oom = 1;
		return;
	}
	uint32_t top = map_get(&ps->finished, tk);
	/* one a follower gave a helper-less connect already: never twice */
	while (top != NONE && ps->dns[top].claimed)
		top = ps->dns[top].prev;
	if (top == NONE) {
		if (grow(&ps->waiting, &ps->waitcap, ps->nwait + 1, sizeof *ps->waiting) != 0)
			ps->oom = 1;
		else
			ps->waiting[ps->nwait++] = id;
		return;
	}
	struct asm_dns *d = &ps->dns[top];
	d->claimed = 1;
	c->t_dns0 = d->t0;
	c->t_dns1 = d->t1;
	if (map_set(&ps->finished, tk, d->prev) != 0)
		ps->oom = 1;
}

static int cmp_t1(const void *x, const void *y, void *dns)
{
	const struct asm_dns *d = dns;
	int64_t a = d[*(const uint32_t *)x].t1, b = d[*(const uint32_t *)y].t1;
	return (a > b) - (a < b);
}

int ttft_asm_dns_helpers(struct ttft_asm *ps)
{
	return ttft_asm_dns_helpers_upto(ps, INT64_MAX);
}

int ttft_asm_dns_helpers_upto(struct ttft_asm *ps, int64_t upto)
{
	if (!ps->nwait)
		return 0;
	uint32_t *help = malloc((ps->ndns ? ps->ndns : 1) * sizeof *help);
	uint32_t *below = malloc((ps->ndns ? ps->ndns : 1) * sizeof *below);
	struct asm_map top = {0};
	if (!help || !below) {
		free(help);
		free(below);
		return -1;
	}
	size_t nh = 0;
	for (size_t i = 0; i < ps->ndns; i++) {
		const struct asm_dns *d = &ps->dns[i];
		if (d->t1 && !d->claimed &&
		    map_get(&ps->connectors, thread_key(d->pid, d->tid)) == NONE)
			help[nh++] = (uint32_t)i;
	}
	qsort_r(help, nh, sizeof *help, cmp_t1, ps->dns);
	size_t h = 0, w = 0;
	int rc = 0;
	for (; w < ps->nwait && rc == 0; w++) {
		struct asm_conn *c = &ps->conns[ps->waiting[w]];
		if (c->t_conn0 > upto)
			break; /* decided later, when more is known */
		/* every helper lookup that finished before this connect goes on
		 * its process's stack; the connect takes the top */
		for (; h < nh && ps->dns[help[h]].t1 <= c->t_conn0 && rc == 0; h++) {
			uint64_t pk = (uint32_t)ps->dns[help[h]].pid;
			below[help[h]] = map_get(&top, pk);
			rc = map_set(&top, pk, help[h]);
		}
		uint64_t pk = (uint32_t)c->pid;
		uint32_t t = map_get(&top, pk);
		if (rc != 0 || t == NONE)
			continue;
		rc = map_set(&top, pk, below[t]);
		ps->dns[t].claimed = 1;
		c->t_dns0 = ps->dns[t].t0;
		c->t_dns1 = ps->dns[t].t1;
		struct ttft_record *r = c->nreqs ? &ps->out->reqs[c->reqs[0]] : NULL;
		if (r && r->new_conn && r->seq == 0) {
			r->t_dns0 = c->t_dns0;
			r->t_dns1 = c->t_dns1;
		}
	}
	memmove(ps->waiting, ps->waiting + w, (ps->nwait - w) * sizeof *ps->waiting);
	ps->nwait -= w;
	map_free(&top);
	free(help);
	free(below);
	return rc;
}

static void fork_tangle(struct ttft_asm *ps, struct asm_conn *pc);
static struct ttft_record *fork_oldest_due(struct ttft_asm *ps, struct asm_conn *c);

static void new_request(struct ttft_asm *ps, struct asm_conn *c, const struct ttft_rec *e)
{
	struct ttft_analysis *a = ps->out;
	int found;
	uint32_t pos = find_pos(a, c, e->seq, &found);
	if (found)
		return; /* duplicate: ignore */
	size_t ccap = c->cap;
	if (grow_reqs(ps) != 0 ||
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
	r->aio = c->aio != 0;
	split_request_line(r, e->text);
	r->t_req0 = e->t_ns;
	r->tls = (uint8_t)c->tls;
	r->new_conn = e->seq == 0 && c->t_conn0 != 0;
	r->inherited = c->inherited;
	r->forked = c->fork_parent != 0;
	r->after_answer = c->answered;
	/* sent after the sniffer stopped reading the connection's responses
	 * (a desync stops the requests' side only at a request it cannot
	 * read, which makes no row): its answer, if one came, went unread */
	if (c->desync)
		r->desync = c->desync;
	/* a fork child's: its copy of the sniffer stopped where its
	 * parent's did, which left the responses unread on the parent's id */
	else if (c->fork_parent && c->fork_parent < ps->nconn)
		r->desync = ps->conns[c->fork_parent].rx_desync;
	/* the parent sends while its child's request is due: tangled */
	if (c->fork_child && !c->fork_tangled && fork_oldest_due(ps, c))
		fork_tangle(ps, c);
	r->fork_unsure = c->fork_tangled ||
			 (c->fork_parent && c->fork_parent < ps->nconn &&
			  ps->conns[c->fork_parent].fork_tangled);
	if (r->new_conn) {
		r->t_conn0 = c->t_conn0;
		/* never before the connect began (a damaged or a ticked
		 * stamp; the log's order puts it first when it is earlier) */
		r->t_est = c->t_est && c->t_conn0 && c->t_est < c->t_conn0 ? c->t_conn0 : c->t_est;
		r->t_dns0 = c->t_dns0;
		r->t_dns1 = c->t_dns1;
		/* opened ahead of the request: its setup and idle time are
		 * reported apart, and TTFT starts here. Not on TLS, where the
		 * handshake fills that gap and its end is not seen (tls_s). */
		int64_t idle;
		/* a kernel-ticked establishment (b = 1) may be a tick (10
		 * ms at HZ=100, the coarsest) either way: pre-opened only
		 * when that cannot decide it */
		r->preopened = !c->tls && r->t_est &&
			       !__builtin_sub_overflow(e->t_ns, r->t_est, &idle) &&
			       idle > TTFT_PREOPEN_IDLE_NS + (c->est_tick ? TTFT_TICK_NS : 0);
		/* its setup's end not known: TTFT from the request, which
		 * holds no idle time that may not be its own (said) */
		r->setup_unknown = c->est_unknown && !r->t_est;
		r->t_start = r->preopened || r->setup_unknown ? e->t_ns : c->t_conn0;
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

/* Numbers the server put in its stream (-1 when out of memory). llama.cpp's
 * timings belong to
 * this one request whatever else runs (they come in its own stream): its
 * split, with no queue (the timings have none) — server_other_s then holds
 * any queueing. */
static int take_numbers(struct ttft_record *r, const struct ttft_rec *e)
{
	struct ttft_rec_numbers nv;
	memcpy(&nv, e->text, sizeof nv);
	uint32_t have = (uint32_t)e->a;
#define HAVE(i) (have & (1u << (i)))
	if (HAVE(TTFT_NUM_COMPLETION_TOKENS)) {
		r->usage_tokens = nv.v[TTFT_NUM_COMPLETION_TOKENS];
		r->tokens_timings = 0;
	}
	/* several tasks' timings seen: each says its own prompt's count
	 * (its own usage too), none the request's */
	if (r->timings_several)
		;
	else if (HAVE(TTFT_NUM_PROMPT_TOKENS))
		r->prompt_tokens = nv.v[TTFT_NUM_PROMPT_TOKENS];
	else if (have & TTFT_NUM_F_PROMPT_UNKNOWN)
		r->prompt_tokens = -1; /* an earlier count is stale */
	if (!HAVE(TTFT_NUM_PROMPT_US))
		return 0;
	struct ttft_server_split *sp = ttft_record_split_rw(r);
	if (!sp)
		return -1;
	/* Timings again (timings_per_token repeats a task's): other ones are
	 * another task's, of a request of several prompts streamed as one */
	double cache_n = HAVE(TTFT_NUM_CACHE_N) ? nv.v[TTFT_NUM_CACHE_N] : NAN;
	/* A prefill's progress (return_progress with timings_per_token):
	 * nothing predicted yet, its prompt_ms the prefill so far; the same
	 * task's later timings replace it (not another task's) */
	int partial = HAVE(TTFT_NUM_PREDICTED_N) && nv.v[TTFT_NUM_PREDICTED_N] == 0;
	if (sp->source && !strcmp(sp->source, TTFT_SPLIT_LLAMACPP_TIMINGS) &&
	    !r->timings_partial &&
	    (sp->prefill_s != nv.v[TTFT_NUM_PROMPT_US] / 1e6 ||
	     !(sp->hit_tokens == cache_n || (isnan(sp->hit_tokens) && isnan(cache_n)))))
		r->timings_several = 1;
	r->timings_partial = (unsigned)partial;
	sp->source = TTFT_SPLIT_LLAMACPP_TIMINGS;
	sp->queue_s = NAN;
	sp->server_ttft_s = NAN;
	sp->prefill_s = nv.v[TTFT_NUM_PROMPT_US] / 1e6;
	sp->decode_s = HAVE(TTFT_NUM_PREDICTED_US) ? nv.v[TTFT_NUM_PREDICTED_US] / 1e6 : NAN;
	sp->hit_tokens = HAVE(TTFT_NUM_CACHE_N) ? nv.v[TTFT_NUM_CACHE_N] : NAN;
	if (r->timings_several)
		r->prompt_tokens = -1;
	else if (HAVE(TTFT_NUM_PROMPT_N) && HAVE(TTFT_NUM_CACHE_N))
		r->prompt_tokens = (long)nv.v[TTFT_NUM_PROMPT_N] + nv.v[TTFT_NUM_CACHE_N];
	/* The tokens it generated, where no usage said so (its native
	 * /completion has none): llama.cpp sends no event for a token that
	 * ends inside a UTF-8 character (its bytes go with the next one's),
	 * so its events can be fewer than its tokens. Not from several
	 * tasks' timings: none is the request's count. */
	if (r->timings_several && r->tokens_timings) {
		r->usage_tokens = -1;
		r->tokens_timings = 0;
	} else if (!r->timings_several && HAVE(TTFT_NUM_PREDICTED_N) &&
		   (r->usage_tokens < 0 || r->tokens_timings)) {
		r->usage_tokens = nv.v[TTFT_NUM_PREDICTED_N];
		r->tokens_timings = 1;
	}
	/* the queue (from the headers) is worked out at the join, when the
	 * request's times are all in */
#undef HAVE
	return 0;
}

/* METRIC records of one snapshot share its number and the GET's start;
 * the SCRAPE record after them closes it at the answer's arrival. */
static void take_metric(struct ttft_asm *ps, const struct ttft_rec *e)
{
	struct ttft_snap *last = ps->nsnap ? &ps->snaps[ps->nsnap - 1] : NULL;
	if (!last || last->seq != (uint32_t)e->b) {
		if (ps->nsnap >= NONE ||
		    grow(&ps->snaps, &ps->snapcap, ps->nsnap + 1, sizeof *ps->snaps) != 0) {
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
		if (!last->ok) {
			if (e->err != 0 && e->text[0] && !ps->scrape_why[0])
				ttft_asm_copy_text(ps->scrape_why, sizeof ps->scrape_why,
						   e->text, TTFT_REC_TEXT);
			return;
		}
		/* a good page's record names the scraped server's addresses */
		if (e->err == 0 && e->text[0] && !ps->target[0])
			ttft_asm_copy_text(ps->target, sizeof ps->target, e->text, TTFT_REC_TEXT);
		if (grow(&ps->good, &ps->goodcap, ps->ngood + 1, sizeof *ps->good) != 0) {
			ps->oom = 1;
			return;
		}
		ps->good[ps->ngood++] = (uint32_t)(ps->nsnap - 1);
		return;
	}
	char name[TTFT_REC_TEXT + 1];
	ttft_asm_copy_text(name, sizeof name, e->text, TTFT_REC_TEXT);
	int id = ttft_truth_id(name);
	if (id >= 0) {
		memcpy(&last->tr.v[id], &e->a, sizeof(double));
		last->tr.have |= 1u << id;
	}
}

/* A fork child's request whose answer its own sniffer is reading: its
 * response's head came on the child's id (not read by its parent). The
 * child's copy of the sniffer did not stop with its parent's then: the
 * parent lost the framing after the fork (the log cannot say when the
 * fork was), and that desync is not this request's. */
static int own_answer(const struct ttft_record *r)
{
	return (r->t_hdr || r->interim) && !r->fork_read;
}

/* Something cut the requests of c whose response was still due. */
static void cut_open_requests(struct ttft_analysis *a, struct asm_conn *c, int err,
			      int desync)
{
	for (uint32_t i = 0; i < c->nreqs; i++) {
		struct ttft_record *r = &a->reqs[c->reqs[i]];
		if (r->t_end)
			continue;
		if (err && !r->io_err)
			r->io_err = err;
		if (desync && !r->desync)
			r->desync = desync;
	}
}

/* The parent of child c lost the framing of its responses: c's requests
 * still due whose answer c's own sniffer is not reading go unread. */
static void cut_child_requests(struct ttft_analysis *a, struct asm_conn *c, int desync)
{
	for (uint32_t i = 0; i < c->nreqs; i++) {
		struct ttft_record *r = &a->reqs[c->reqs[i]];
		if (!r->t_end && !r->desync && !own_answer(r))
			r->desync = desync;
	}
}

/* Connections by socket inode (CONNECT_BEGIN's b): the latest to have it. */
static void same_socket(struct ttft_asm *ps, const struct ttft_rec *e)
{
	if (e->b > 0 && e->conn < ps->nconn)
		ps->conns[e->conn].ino = (uint64_t)e->b;
	if (e->b > 0 && e->conn < NONE && map_set(&ps->inodes, (uint64_t)e->b,
						  (uint32_t)e->conn) != 0)
		ps->oom = 1;
}

/* A connection found open by a new program image: the one it continues
 * (the same socket inode, connected or found earlier) is its origin, and
 * that connection's requests still waiting for their response headers are
 * answered by the first responses read here. */
static void inherit(struct ttft_asm *ps, struct asm_conn *c, const struct ttft_rec *e)
{
	c->inherited = 1;
	uint32_t o = e->b > 0 ? map_get(&ps->inodes, (uint64_t)e->b) : NONE;
	same_socket(ps, e);
	if (o == NONE || o == e->conn || o >= ps->nconn)
		return;
	struct asm_conn *oc = &ps->conns[o];
	uint32_t k = oc->nreqs;
	while (k > 0 && !ps->out->reqs[oc->reqs[k - 1]].t_hdr &&
	       !ps->out->reqs[oc->reqs[k - 1]].t_end)
		k--;
	if (k == oc->nreqs)
		return; /* nothing owed: its own requests only */
	c->origin = o;
	oc->heir = e->conn;
	c->owed = oc->nreqs - k;
	c->owed_base = ps->out->reqs[oc->reqs[k]].seq;
	/* the origin's close, if it came, was one copy's (a parent that
	 * spawned the heir and closed its own): the socket lived on here,
	 * and what is read here answers its requests, not a client that
	 * gave up on them; the heir's own close ends them (origin_closed) */
	c->origin_closed = oc->closed;
	for (uint32_t i = k; oc->closed && i < oc->nreqs; i++) {
		ps->out->reqs[oc->reqs[i]].closed_early = 0;
		ps->out->reqs[oc->reqs[i]].closed_in_head = 0;
	}
}

/* A TTFT_F_TIMES record's tokens (ttft_log.h), each at its time. A count
 * out of 2..TTFT_TIMES_MAX, or a time before the one before it, is a
 * writer's fault: the first token only, bad_run set (its note). -1: out
 * of memory. */
static int add_token_times(struct ttft_record *r, const struct ttft_rec *e)
{
	if (e->a < 2 || e->a > TTFT_TIMES_MAX) {
		r->bad_run = 1;
		return ttft_record_add_tokens(r, e->t_ns, 1);
	}
	uint32_t d[TTFT_TIMES_MAX - 1];
	memcpy(d, e->text, sizeof d);
	for (int64_t i = 1; i + 1 < e->a; i++)
		if (d[i] < d[i - 1]) {
			r->bad_run = 1;
			return ttft_record_add_tokens(r, e->t_ns, 1);
		}
	/* the last time past INT64_MAX (a damaged record's t_ns): no time
	 * (a signed overflow, a wrapped time before the first) */
	int64_t last;
	if (__builtin_add_overflow(e->t_ns, (int64_t)d[e->a - 2], &last)) {
		r->bad_run = 1;
		return ttft_record_add_tokens(r, e->t_ns, 1);
	}
	if (ttft_record_add_tokens(r, e->t_ns, 1) != 0)
		return -1;
	for (int64_t i = 0; i + 1 < e->a; i++)
		if (ttft_record_add_tokens(r, e->t_ns + d[i], 1) != 0)
			return -1;
	return 0;
}

static int rx_kind(uint16_t kind)
{
	switch (kind) {
	case TTFT_EV_RESP_INTERIM:
	case TTFT_EV_RESP_HEADERS:
	case TTFT_EV_SERVER_NUMBERS:
	case TTFT_EV_SSE_TOKEN:
	case TTFT_EV_SSE_DONE:
	case TTFT_EV_SSE_ERROR:
	case TTFT_EV_RESP_END:
	case TTFT_EV_TLS_WIRE:
		return 1;
	default:
		return 0;
	}
}

/* Several senders on a connection shared across fork had requests due at
 * once (two children, or the parent sent while its child's request was
 * due): the socket's order of requests is not the order either process
 * numbered, so no response is paired with a request of the group from
 * now on, and the rows still due say so (fork_unsure). Not a settled one
 * (ttft_asm_settled: all its records are in, none paired after this; the
 * live follower may have handed it out, a row that never changes: a
 * review found rows settled by a lost framing or a child's close marked
 * so at the parent's later send). A child found gone, which no record
 * says, settles nothing here: the follower waits for the parent's send,
 * close or end too (ttft_asm_parent_may_tangle). Nor one whose answer
 * ended, paired (a CONNECT's settles later for the follower, at what
 * goes through its tunnel, but its times are its own). */
static void fork_tangle(struct ttft_asm *ps, struct asm_conn *pc)
{
	pc->fork_tangled = 1;
	struct ttft_analysis *a = ps->out;
	for (uint32_t i = 0; i < pc->nreqs; i++) {
		struct ttft_record *r = &a->reqs[pc->reqs[i]];
		if (!r->t_end && !ttft_asm_settled(ps, r))
			r->fork_unsure = 1;
	}
	/* its children only, not every connection: once per parent, and a
	 * log of many forked connections would cost their number squared */
	for (uint32_t k = pc->fork_kids; k; k = ps->conns[k].fork_sib) {
		struct asm_conn *kc = &ps->conns[k];
		for (uint32_t i = 0; i < kc->nreqs; i++) {
			struct ttft_record *r = &a->reqs[kc->reqs[i]];
			if (!r->t_end && !ttft_asm_settled(ps, r))
				r->fork_unsure = 1;
		}
	}
}

/* The child's oldest request still due (no response yet), or NULL. A
 * request answered stays answered: the cursor only moves on, so every
 * child request is passed once. */
static struct ttft_record *fork_oldest_due(struct ttft_asm *ps, struct asm_conn *c)
{
	if (!c->fork_child || c->fork_child >= ps->nconn)
		return NULL;
	struct asm_conn *k = &ps->conns[c->fork_child];
	struct ttft_analysis *a = ps->out;
	while (k->fork_next < k->nreqs) {
		struct ttft_record *r = &a->reqs[k->reqs[k->fork_next]];
		if (!r->t_hdr && !r->t_end && !r->fork_read)
			return r;
		k->fork_next++;
	}
	return NULL;
}

/* A response this process read on a connection where no request of its
 * own waits, while a forked child sent on the same socket: HTTP/1.1
 * answers in order, so it answers the child's oldest request still
 * without a response (every send on the socket is seen: the parent's
 * own are not waiting, the child's are its requests). NULL when there is
 * none, or when several senders tangled the order. */
static struct ttft_record *fork_answer(struct ttft_asm *ps, struct asm_conn *c)
{
	return c->fork_tangled ? NULL : fork_oldest_due(ps, c);
}

/* Every request of c (its own, in order) had its response begin: HTTP/1.1
 * answers in order, so the last one's is enough. An unseen row's response
 * ended before the next one began. */
static int all_answered(const struct ttft_analysis *a, const struct asm_conn *c)
{
	if (!c->nreqs)
		return 0; /* none seen: one may have gone unseen (raw write) */
	const struct ttft_record *r = &a->reqs[c->reqs[c->nreqs - 1]];
	return r->t_hdr || r->t_end;
}

/* A row for a response whose request's record the log lost (see
 * response_of): request_unseen, request_lost; NULL when out of memory. */
static struct ttft_record *lost_request_row(struct ttft_asm *ps, struct asm_conn *c,
					    const struct ttft_rec *e, uint64_t id)
{
	struct ttft_analysis *a = ps->out;
	if (grow_reqs(ps) != 0) {
		ps->oom = 1;
		return NULL;
	}
	struct ttft_record *r = &a->reqs[a->nreqs++];
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	r->pid = e->pid;
	r->fd = e->fd;
	r->conn = id;
	r->seq = e->seq >= c->rx_skew ? e->seq - c->rx_skew : e->seq;
	r->tls = (uint8_t)c->tls;
	r->inherited = c->inherited;
	r->request_unseen = 1;
	r->request_lost = 1;
	r->aio = c->aio != 0;
	r->fork_unsure = c->fork_tangled;
	c->unseen = (uint32_t)a->nreqs;
	c->unseen_seq = e->seq;
	return r;
}

/* The request a response record answers. A response that begins where no
 * request was seen answers one the shim could not see: a row of its own,
 * request_unseen, with the response's facts and no TTFT (its start is not
 * known), never another request's; or, on a connection a forked child
 * sent on, that child's request (fork_answer). */
static struct ttft_record *response_of(struct ttft_asm *ps, struct asm_conn *c,
				       const struct ttft_rec *e, uint64_t id)
{
	struct ttft_analysis *a = ps->out;
	if (c->idle_seq && e->seq == c->idle_seq - 1 && e->kind != TTFT_EV_RESP_HEADERS)
		return NULL; /* the rest of an idle connection's 408: no request */
	if (c->unseen && e->seq == c->unseen_seq && e->kind != TTFT_EV_RESP_HEADERS)
		return &a->reqs[c->unseen - 1];
	struct ttft_record *r = e->seq >= c->rx_skew ? find_req(a, c, e->seq - c->rx_skew)
						     : NULL;
	if (r || e->kind != TTFT_EV_RESP_HEADERS)
		return r;
	/* A response the shim saw answer a request it had seen, whose
	 * request is not here: that request's record was lost (damaged,
	 * never sealed, in a part of the log not allocated). A row of its
	 * own that says so, numbered as the shim numbered it (the shim
	 * counted the request: no skew). */
	if (!(e->flags & TTFT_F_UNSOLICITED))
		return lost_request_row(ps, c, e, id);
	if (c->fork_tangled) {
		/* no pairing: the row says why */
	} else if ((r = fork_answer(ps, c)) != NULL) {
		r->fork_read = 1;
		r->reader_pid = e->pid;
		c->rx_skew++;
		c->unseen = (uint32_t)(r - a->reqs) + 1;
		c->unseen_seq = e->seq;
		return r;
	} else if (e->a == 408 && all_answered(a, c) && e->seq < UINT32_MAX) {
		/* "408 Request Timeout" where no request waits: the server
		 * closing an idle keep-alive connection (RFC 9110 lets it),
		 * not an answer to a request the shim missed: no row, a
		 * connection note (ttft_asm_notes) */
		c->idle_408++;
		c->idle_seq = e->seq + 1;
		c->rx_skew++;
		return NULL;
	}
	if (grow_reqs(ps) != 0) {
		ps->oom = 1;
		return NULL;
	}
	r = &a->reqs[a->nreqs++];
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	r->pid = e->pid;
	r->fd = e->fd;
	r->conn = id;
	r->seq = e->seq;
	r->tls = (uint8_t)c->tls;
	r->inherited = c->inherited;
	r->request_unseen = 1;
	r->aio = c->aio != 0;
	r->fork_unsure = c->fork_tangled;
	/* the framing was lost earlier on this connection: that is why its
	 * request could not be read (not a raw system call) */
	r->desync = c->desync;
	c->rx_skew++;
	c->unseen = (uint32_t)a->nreqs;
	c->unseen_seq = e->seq;
	return r;
}

/* A response's head read on c for r. A fork child's request marked with
 * a lost framing whose answer came on the child's own id: the child's
 * sniffer read on, and its parent's desync (new_request, INHERIT,
 * cut_child_requests) came after the fork, none of this request's. What
 * stays is the child's own: none, or the first desync on c (its request
 * side's: a request of c is marked with c's first desync or its parent's,
 * never another), which a request already marked with the parent's kept
 * out (a review found the child's row noted with its parent's reason). */
static void forked_answer_read(const struct asm_conn *c, struct ttft_record *r)
{
	if (c->fork_parent && r->desync && !r->fork_read && !r->request_unseen)
		r->desync = c->desync;
}

/* What an inherited connection's record is about: a response to a request
 * sent before the exec (the origin's, renumbered), or one of its own
 * (renumbered past those). Requests it sends are its own as numbered. */
static struct asm_conn *owed_conn(struct ttft_asm *ps, struct asm_conn *c, struct ttft_rec *e)
{
	if (!rx_kind(e->kind))
		return c;
	if (e->seq >= c->owed) {
		e->seq -= c->owed;
		return c;
	}
	e->seq += c->owed_base;
	return &ps->conns[c->origin];
}

void ttft_asm_apply(void *ctx, struct ttft_rec *e)
{
	struct ttft_asm *ps = ctx;
	struct ttft_analysis *a = ps->out;
	if (ps->oom)
		return;
	ps->gen++; /* the join built so far is out of date */
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
	if (e->conn >= ps->nconn && e->conn <= ps->max_conn) {
		/* an id the header did not count: it is damaged; ids are
		 * dense and every connection has a record, so the room asked
		 * for stays below the records read */
		if (e->conn >= ps->hdr_next_conn)
			a->bad_next_conn = 1;
		uint64_t want = ps->nconn * 2 > e->conn ? ps->nconn * 2 : e->conn + 1;
		if (ttft_asm_room(ps, want < ps->max_conn + 1 ? want : ps->max_conn + 1) != 0) {
			ps->oom = 1;
			return;
		}
	}
	if (ps->max_conn && e->conn > ps->max_conn) {
		/* ids are dense, one record at least each: an id above the
		 * records read is damage its seal did not catch. Said, and
		 * the log not complete: never a request left out unsaid */
		a->bad_conn_ids++;
		return;
	}
	if (e->conn == 0 || e->conn >= ps->nconn)
		return;
	fix_mark(e);
	struct asm_conn *c = &ps->conns[e->conn];
	switch (e->kind) {
	case TTFT_EV_CONNECT_BEGIN:
		c->seen = 1;
		c->pid = e->pid;
		c->tid = e->tid;
		c->fd = e->fd;
		c->untraced = (e->flags & TTFT_F_UNTRACED) != 0;
		ttft_asm_copy_text(c->peer, sizeof c->peer, e->text, TTFT_REC_TEXT);
		if (e->flags & TTFT_F_INHERITED) {
			/* found open, not connected: no setup time, no DNS */
			inherit(ps, c, e);
			return;
		}
		c->t_conn0 = e->t_ns;
		same_socket(ps, e);
		claim_dns(ps, c, e->conn);
		return;
	case TTFT_EV_CONNECT_END:
		/* In progress is not failure: the outcome comes later. */
		if (e->a != 0 && e->err && e->err != EINPROGRESS &&
		    e->err != EALREADY && e->err != EINTR)
			c->err = e->err;
		return;
	case TTFT_EV_ESTABLISHED:
		/* b = 1: when the kernel says the connection was established,
		 * to its tick (a connect whose end no call showed) */
		if (e->b == 2 && !c->t_est) {
			/* not known: no setup time, and whether it sat open
			 * before its request is not known; a request begun
			 * before this (TCP Fast Open's) is said so too */
			c->est_unknown = 1;
			struct ttft_record *r = c->nreqs ? &ps->out->reqs[c->reqs[0]] : NULL;
			if (r && r->new_conn && r->seq == 0 && !r->t_est) {
				r->setup_unknown = 1;
				r->t_start = r->t_req0;
			}
			return;
		}
		if (!c->t_est) {
			c->t_est = e->t_ns;
			c->est_tick = e->b == 1;
			/* its first request began before this, in the call that
			 * set the connection up (TCP Fast Open's sendto: the
			 * connect and the request begin at the same instant) */
			struct ttft_record *r = c->nreqs ? &ps->out->reqs[c->reqs[0]] : NULL;
			if (r && r->new_conn && r->seq == 0 && !r->t_est &&
			    r->t_req0 == c->t_conn0)
				r->t_est = c->t_est < c->t_conn0 ? c->t_conn0 : c->t_est;
		}
		return;
	case TTFT_EV_AIO:
		/* its I/O from here on is partly glibc's AIO threads',
		 * unseen: every request not ended yet, and every later one,
		 * says so (ttft_record_note) */
		c->aio |= (uint8_t)(e->a & (TTFT_AIO_READ | TTFT_AIO_WRITE));
		if (!c->aio)
			c->aio = TTFT_AIO_READ | TTFT_AIO_WRITE; /* not said: both */
		for (uint32_t i = 0; i < c->nreqs; i++)
			if (!a->reqs[c->reqs[i]].t_end)
				a->reqs[c->reqs[i]].aio = 1;
		return;
	case TTFT_EV_DESYNC:
		/* once per direction at most; after a 101 the connection is
		 * another protocol: its request has no HTTP/1.x end (an h2c
		 * upgrade's response follows on HTTP/2) */
		if (!c->desync)
			c->desync = (int)e->b;
		if (memcmp(e->text, "tx", 3))
			c->rx_stopped = 1; /* rx, or a direction not said */
		cut_open_requests(a, c, 0, (int)e->b);
		if (!memcmp(e->text, "rx", 3) && !c->rx_cut) {
			/* once (a damaged log's reason of 0 too) */
			c->rx_cut = 1;
			c->rx_desync = (int)e->b;
			/* the responses its fork children's requests are owed
			 * come on this socket, unread from now on too (its
			 * children's list: every connection, for every such
			 * desync, was a log's connections squared) */
			for (uint32_t k = c->fork_kids; k; k = ps->conns[k].fork_sib)
				cut_child_requests(a, &ps->conns[k], c->rx_desync);
		}
		if (c->nreqs) {
			/* what went through a CONNECT's tunnel is not HTTP/1.x
			 * (HTTPS through a proxy): its requests are not seen,
			 * and the CONNECT's row, whole as it is, says so */
			struct ttft_record *r = &a->reqs[c->reqs[c->nreqs - 1]];
			if (r->t_end && e->seq > r->seq && !strcmp(r->method, "CONNECT"))
				r->tunnel_lost = 1;
		}
		return;
	case TTFT_EV_IO_ERROR:
		/* the first failure cuts what was due; later ones repeat it */
		if (!c->io_cut) {
			c->io_cut = 1;
			cut_open_requests(a, c, e->err, 0);
		}
		return;
	case TTFT_EV_TLS:
		c->tls = 1;
		c->tapped |= e->a != 0;
		if (c->nreqs) {
			/* a handshake after a request: a proxy tunnel's (HTTPS
			 * through a CONNECT). Tapped, its requests are rows of
			 * their own; else the CONNECT's row says that what went
			 * through its tunnel is not seen (a shim before
			 * TTFT_F_TUNNEL gave a lost framing there instead) */
			struct ttft_record *r = &a->reqs[c->reqs[c->nreqs - 1]];
			c->tunnel_tls = r->seq + 1;
			if (!e->a && r->t_end && !strcmp(r->method, "CONNECT"))
				r->tunnel_lost = 1;
		}
		return;
	case TTFT_EV_CLOSE:
		c->closed = 1;
		if (e->b == 1 && !c->t_est)
			c->gave_up = 1;
		/* a forked child's copy: the socket lives on in its parent,
		 * which may read what the child's requests are owed; a
		 * response the child itself was reading is cut */
		if (c->fork_parent) {
			for (uint32_t i = c->marked; i < c->nreqs; i++) {
				struct ttft_record *r = &a->reqs[c->reqs[i]];
				if (!r->t_end && r->t_hdr && !r->fork_read)
					r->closed_early = 1;
			}
			return;
		}
		/* an exec's heir holds the socket still: this close was one
		 * copy's, and what the heir owes its requests it may yet
		 * read (its own close ends them) */
		struct asm_conn *h = c->heir ? &ps->conns[c->heir] : NULL;
		if (h && (h->closed || h->origin != e->conn))
			h = NULL;
		if (h)
			h->origin_closed = 1;
		int first = 1;
		for (uint32_t i = c->marked; i < c->nreqs; i++) {
			struct ttft_record *r = &a->reqs[c->reqs[i]];
			if (h && r->seq >= h->owed_base && r->seq - h->owed_base < h->owed)
				continue;
			if (!r->t_end) {
				r->closed_early = 1;
				/* a = 1: the first one unanswered was being
				 * read: its head had begun to arrive */
				if (first && e->a == 1 && !r->t_hdr)
					r->closed_in_head = 1;
				first = 0;
			}
		}
		c->marked = c->nreqs;
		if (c->origin && c->origin_closed) {
			/* an exec's heir closed, its origin's copy closed
			 * before: what it still owed the origin's requests
			 * went unread (inherit cleared that close there) */
			const struct asm_conn *oc = &ps->conns[c->origin];
			for (uint32_t i = 0; i < oc->nreqs; i++) {
				struct ttft_record *r = &a->reqs[oc->reqs[i]];
				if (r->seq >= c->owed_base && r->seq - c->owed_base < c->owed &&
				    !r->t_end)
					r->closed_early = 1;
			}
		}
		return;
	case TTFT_EV_INHERIT:
		/* this id is a fork child's for connection a, which its
		 * parent goes on using */
		if (e->a > 0 && (uint64_t)e->a < ps->nconn && (uint64_t)e->a != e->conn &&
		    !c->fork_parent) {
			struct asm_conn *pc = &ps->conns[e->a];
			c->fork_parent = (uint32_t)e->a;
			c->fork_sib = pc->fork_kids;
			pc->fork_kids = (uint32_t)e->conn;
			/* its requests so far (the log's order can put the
			 * first before this record, at the same instant) */
			for (uint32_t i = 0; i < c->nreqs; i++) {
				struct ttft_record *q = &a->reqs[c->reqs[i]];
				q->forked = 1;
				if (!q->t_end && !q->desync && !own_answer(q))
					q->desync = pc->rx_desync;
			}
			if (pc->fork_child && pc->fork_child != e->conn) {
				/* a second child: tangled (once; a later
				 * child's requests so far are marked here) */
				if (!pc->fork_tangled)
					fork_tangle(ps, pc);
				for (uint32_t i = 0; i < c->nreqs; i++)
					if (!a->reqs[c->reqs[i]].t_end)
						a->reqs[c->reqs[i]].fork_unsure = 1;
			} else {
				pc->fork_child = (uint32_t)e->conn;
			}
			if (!c->seen) {
				struct asm_conn *p = &ps->conns[e->a];
				c->seen = 1;
				c->pid = e->pid;
				c->fd = e->fd;
				c->t_conn0 = 0; /* not a connection of its own */
				c->tls = p->tls;
				memcpy(c->peer, p->peer, sizeof c->peer);
			}
		}
		return;
	case TTFT_EV_REQ_BEGIN:
		if (!c->seen) { /* connection opened before the log: no connect */
			c->seen = 1;
			c->pid = e->pid;
			c->fd = e->fd;
		}
		new_request(ps, c, e);
		if (e->flags & TTFT_F_SENT) {
			struct ttft_record *r = find_req(ps->out, c, e->seq);
			if (r)
				r->sent_one_call = 1;
			/* sent whole by one call: the record stands for its
			 * REQ_SENT too (a = bytes, b = that time) */
			struct ttft_rec s = *e;
			s.kind = TTFT_EV_REQ_SENT;
			s.flags = 0;
			s.t_ns = e->b;
			s.b = 0;
			memset(s.text, 0, sizeof s.text);
			ttft_asm_apply(ctx, &s);
		}
		return;
	default:
		break;
	}
	struct asm_conn *oc = c->origin ? owed_conn(ps, c, e) : c;
	struct ttft_record *r = oc != c		     ? find_req(a, oc, e->seq)
				: rx_kind(e->kind) ? response_of(ps, c, e, e->conn)
						   : find_req(a, c, e->seq);
	if (!r)
		return;
	/* an event of a choice other than 0: the server runs several
	 * requests for this one (n > 1), whatever its other events say */
	if (e->kind >= TTFT_EV_SSE_TOKEN && e->kind <= TTFT_EV_SSE_ERROR &&
	    (e->flags & TTFT_SSE_F_CHOICE))
		r->several_choices = 1;
	switch (e->kind) {
	case TTFT_EV_REQ_SENT:
		r->t_req1 = e->t_ns;
		break;
	case TTFT_EV_RESP_HEADERS:
		c->answered = 1;
		forked_answer_read(c, r);
		r->t_hdr = e->t_ns;
		r->status = (int)e->a;
		r->rtt_us = e->b > 0 && e->b <= UINT32_MAX ? (uint32_t)e->b : 0;
		r->compressed = (e->flags & TTFT_F_COMPRESSED) != 0;
		r->not_sse = (e->flags & TTFT_F_SSE) == 0;
		r->len_apart = (e->flags & TTFT_F_LEN_APART) != 0;
		r->http_minor = e->flags & TTFT_F_HTTP_MINOR
				? (e->text[7] > ' ' && e->text[7] < 0x7f ? e->text[7] : '?')
				: 0;
		break;
	case TTFT_EV_RESP_INTERIM:
		forked_answer_read(c, r);
		/* a 100 after another 1xx keeps that one: Python's http.client
		 * skips a 100 only, and took the other as its answer */
		if (e->a > 0 && e->a < 200 && !(e->a == 100 && r->interim))
			r->interim = (uint16_t)e->a;
		break;
	case TTFT_EV_SERVER_NUMBERS:
		ps->nnumbers++;
		if (take_numbers(r, e) != 0)
			ps->oom = 1;
		break;
	case TTFT_EV_TRACEPARENT: {
		struct ttft_w3c *w = ttft_record_w3c_rw(r);
		if (!w) {
			ps->oom = 1;
			break;
		}
		ttft_asm_copy_text(w->traceparent, sizeof w->traceparent, e->text,
				   TTFT_TRACEPARENT_LEN);
		/* "00-<trace id>-…": the id vLLM's spans carry; none from a
		 * header W3C calls invalid. The shim checks the shape and the
		 * hex only (its send path stays short): the version ff, the
		 * zero ids and a version 00 with more after it are refused
		 * here, and any writer's log is judged again */
		if (ttft_traceparent_ok(w->traceparent, e->flags & TTFT_F_TP_MORE))
			snprintf(w->trace_id, sizeof w->trace_id, "%.32s", w->traceparent + 3);
		else
			w->trace_id[0] = 0;
		break;
	}
	case TTFT_EV_SSE_TOKEN: {
		/* flagged run (log version 4): a token events that one read
		 * delivered, all at its time; a count no read could hold is
		 * a writer's fault: the record one token, the row says so */
		int64_t k = 1;
		if ((e->flags & (TTFT_F_RUN | TTFT_F_TIMES)) == TTFT_F_TIMES) {
			/* token times (log version 5): read one by one, each
			 * at its own time; times out of order or a count the
			 * text cannot hold are a writer's fault: the first
			 * token only, the row says so */
			if (add_token_times(r, e) != 0)
				ps->oom = 1;
			break;
		}
		if (e->flags & TTFT_F_RUN) {
			if (e->a >= 2 && e->a <= TTFT_RUN_MAX &&
			    !(e->flags & TTFT_F_TIMES))
				k = e->a;
			else
				r->bad_run = 1;
		}
		/* kept as one time and its count: never a time a token */
		if (ttft_record_add_tokens(r, e->t_ns, (uint32_t)k) != 0)
			ps->oom = 1;
		break;
	}
	case TTFT_EV_SSE_DONE:
		r->done = 1;
		break;
	case TTFT_EV_SSE_ERROR:
		r->sse_error = 1;
		break;
	case TTFT_EV_RESP_END:
		/* "the server closed unanswered" by a process that saw none of
		 * the answer: another (a fork child) may have read it */
		if ((e->flags & TTFT_F_NO_ANSWER) && (r->t_hdr || r->t_end || r->fork_read))
			break;
		r->t_end = e->t_ns;
		r->end_flags = e->flags;
		/* when its last bytes arrived, to the kernel's tick (taken as
		 * 10 ms: HZ 100 and up) */
		r->t_end_arrived = 0;
		/* not known where it would be before INT64_MIN (a damaged
		 * record's t_ns): no signed overflow */
		if ((e->flags & TTFT_F_ARRIVAL) && e->err >= 0 &&
		    __builtin_sub_overflow(e->t_ns, (int64_t)e->err * 1000000 + TTFT_TICK_NS,
					   &r->t_end_arrived))
			r->t_end_arrived = 0;
		r->body_bytes = e->a;
		/* no body (a HEAD, a 304, Content-Length: 0, which carry a GET's
		 * Content-Encoding) is nothing compressed: seen whole and empty
		 * (no_body_is_no_compressed_body) */
		if (e->a == 0 && !(e->flags & (TTFT_F_TRUNCATED | TTFT_F_EOF_BODY)))
			r->compressed = 0;
		/* its tokens are in: the times between the first and the last
		 * go back to the heap, for the next requests' (inline ones take
		 * no memory of their own) */
		if (ps->settle && r->timecap && ttft_record_settle(r) != 0)
			ps->oom = 1;
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

/* Whether peer is one of the scraped server's addresses (target: a
 * space-separated list; "" = not known, taken as yes). An IPv4-mapped
 * IPv6 peer is its IPv4 address. */
static int to_target(const char *target, const char *peer)
{
	if (!target[0])
		return 1;
	if (!peer || !peer[0])
		return 0;
	char p[TTFT_REC_TEXT + 8];
	if (!strncmp(peer, "[::ffff:", 8) && strchr(peer, '.')) {
		const char *e = strchr(peer, ']');
		if (!e)
			return 0;
		snprintf(p, sizeof p, "%.*s%s", (int)(e - peer - 8), peer + 8, e + 1);
	} else {
		snprintf(p, sizeof p, "%s", peer);
	}
	size_t n = strlen(p);
	for (const char *t = target; (t = strstr(t, p)); t += n)
		if ((t == target || t[-1] == ' ') && (t[n] == 0 || t[n] == ' '))
			return 1;
	return 0;
}

/* A request that may reach the engine: a POST, less the ones vLLM and
 * llama.cpp answer without it (the tokenizer, chat templates, adapters,
 * admin calls). Those are counted in no histogram or counter: a window
 * around one that grew by one holds another request's numbers (a review
 * gave a /tokenize row an unseen client's queue and prefill), and one
 * stands in no completion's way. */
static int engine_request(const struct ttft_record *r)
{
	static const char *const not_engine[] = {
		"tokenize", "detokenize", "apply-template", "load_lora_adapter",
		"unload_lora_adapter", "lora-adapters", "reset_prefix_cache", "sleep",
		"wake_up", "start_profile", "stop_profile", "collective_rpc",
	};
	if (strcmp(r->method, "POST"))
		return 0;
	size_t n = strcspn(r->path, "?#");
	while (n > 1 && r->path[n - 1] == '/')
		n--;
	size_t b = n;
	while (b && r->path[b - 1] != '/')
		b--;
	for (size_t i = 0; i < sizeof not_engine / sizeof *not_engine; i++)
		if (n - b == strlen(not_engine[i]) && !memcmp(r->path + b, not_engine[i], n - b))
			return 0;
	return 1;
}

/* The request as the join sees it (ttft_join.h). */
static void join_req_of(const struct ttft_asm *as, const struct ttft_record *r,
			struct ttft_join_req *j)
{
	memset(j, 0, sizeof *j);
	/* sent to another server than the one scraped: its pages cannot say
	 * anything of it (it still keeps others' windows from being proved:
	 * that server may be behind a proxy to this one) */
	j->elsewhere = !to_target(as->target, ttft_asm_peer(as, r->conn));
	/* answered before its last byte went out (ttft_record_early): the
	 * server had begun by the headers, so only the first byte bounds
	 * its moment (and what the split must fit in) from below */
	j->t_sent = r->t_req1 && !ttft_record_early(r) ? r->t_req1 : r->t_req0;
	j->t_hdr = r->t_hdr;
	j->t_first = r->ntok ? r->t_first : 0;
	/* A client may read its bytes long after they came (a slow reader,
	 * work between reads): the server's finish lies no earlier than the
	 * last bytes' arrival, which the shim asks the kernel for; where
	 * that is not known, no earlier than the request's send. Its first
	 * token and headers: only the send bounds them from below (a
	 * review found a late reader's row given another request's split). */
	j->t_end_hi = r->t_end;
	j->t_end_lo = r->t_end_arrived > j->t_sent ? r->t_end_arrived : j->t_sent;
	if (j->t_end_lo > j->t_end_hi)
		j->t_end_lo = j->t_end_hi;
	j->reads_late = 1;
	j->prompt_tokens = r->prompt_tokens > 0 ? r->prompt_tokens : 0;
	j->skew_ns = TTFT_JOIN_SKEW_NS + (int64_t)r->rtt_us * 1000;
	j->generate = engine_request(r);
	j->several = r->several_choices;
	j->complete = r->status >= 200 && r->status < 300 && r->t_end && !r->sse_error &&
		      !r->closed_early && !(r->end_flags & TTFT_F_TRUNCATED);
}

/* The join over every request and good snapshot applied so far: built
 * once for a batch of questions (no record applied in between). */
static int build_join(struct ttft_asm *as)
{
	if (as->joined && as->jgen == as->gen)
		return 0;
	if (as->joined)
		ttft_joiner_free(&as->jn);
	as->joined = 0;
	size_t n = as->out->nreqs;
	struct ttft_truth *sn = realloc(as->jsnaps, (as->ngood + 1) * sizeof *sn);
	if (sn)
		as->jsnaps = sn;
	struct ttft_join_req *jr = sn ? realloc(as->jreqs, (n + 1) * sizeof *jr) : NULL;
	if (jr)
		as->jreqs = jr;
	if (!sn || !jr)
		return -1;
	for (size_t k = 0; k < as->ngood; k++)
		sn[k] = as->snaps[as->good[k]].tr;
	for (size_t i = 0; i < n; i++)
		join_req_of(as, &as->out->reqs[i], &jr[i]);
	if (ttft_joiner_init(&as->jn, sn, as->ngood, jr, n) != 0)
		return -1;
	as->joined = 1;
	as->jgen = as->gen;
	return 0;
}

int ttft_asm_join(struct ttft_asm *as, struct ttft_record *r)
{
	if (r->several_choices) {
		/* no split is its own, ended or not: a stream cut after one
		 * choice's last event kept that choice's timings (a review) */
		struct ttft_server_split s = {
			.queue_s = NAN, .prefill_s = NAN, .decode_s = NAN,
			.server_ttft_s = NAN, .hit_tokens = NAN, .requests = NAN,
		};
		snprintf(s.note, sizeof s.note, "%s", TTFT_JOIN_NOTE_CHOICES);
		return ttft_record_set_split(r, &s) != 0 ? -1 : 1;
	}
	if (!r->status || r->fork_unsure)
		return 1; /* no response (of its own): nothing the server can say */
	const char *src = ttft_record_split(r)->source;
	if (!r->t_end && !(src && !strcmp(src, TTFT_SPLIT_LLAMACPP_TIMINGS))) {
		/* cut short (its client closed it, or the log ended first): the
		 * server may count it any time later, so no window is its own.
		 * Said, else the table took it for a log without snapshots. */
		if (!as->nsnap)
			return 1;
		struct ttft_server_split s = {
			.queue_s = NAN, .prefill_s = NAN, .decode_s = NAN,
			.server_ttft_s = NAN, .hit_tokens = NAN, .requests = NAN,
		};
		snprintf(s.note, sizeof s.note, "%s", TTFT_JOIN_NOTE_UNENDED);
		return ttft_record_set_split(r, &s) != 0 ? -1 : 1;
	}
	struct ttft_join_req jr;
	join_req_of(as, r, &jr);
	if (src && !strcmp(src, TTFT_SPLIT_LLAMACPP_TIMINGS)) {
		/* the server's own per-request timings come first; the queue
		 * from the headers, now that the request's times are in */
		struct ttft_server_split *t = ttft_record_split_rw(r);
		if (!t)
			return -1;
		if (r->timings_partial && !ttft_record_complete(r)) {
			/* cut during its prefill: the timings read were its
			 * progress, a part of the prefill */
			t->source = NULL;
			t->queue_s = t->prefill_s = t->decode_s = t->hit_tokens = NAN;
			snprintf(t->note, sizeof t->note, "llama.cpp's timings read were the "
				 "prefill's progress (nothing predicted yet) and the response "
				 "did not end: the whole prefill is not known");
			return 1;
		}
		if (r->timings_several) {
			/* several tasks' prefills, in a slot or side by side: not
			 * one to give, and no /metrics window holds one either */
			t->source = NULL;
			t->queue_s = t->prefill_s = t->decode_s = t->hit_tokens = NAN;
			snprintf(t->note, sizeof t->note, "llama.cpp's timings of several "
				 "tasks in this one stream (a request of several prompts): "
				 "no one prefill is this request's");
			return 1;
		}
		ttft_join_timings(&jr, t->prefill_s * 1e3, t->decode_s * 1e3, t->hit_tokens,
				  t);
		return 1;
	}
	if (build_join(as) != 0)
		return -1;
	/* most rows get no split: only one that says something takes memory */
	struct ttft_server_split s;
	int rc = ttft_joiner_one(&as->jn, &jr, &s);
	return ttft_record_set_split(r, &s) != 0 ? -1 : rc;
}

int ttft_asm_joins(const struct ttft_asm *as, const struct ttft_record *r)
{
	const char *src = ttft_record_split(r)->source;
	return as->nsnap || (src && !strcmp(src, TTFT_SPLIT_LLAMACPP_TIMINGS));
}

/* No response read on the fork parent's id can answer a request of c
 * any more (c is no fork child: none can): the parent's sniffer stopped
 * reading its responses, or the parent closed its copy, or several
 * senders tangled the order (fork_answer pairs none then). */
static int parent_reads_no_more(const struct ttft_asm *as, const struct asm_conn *c)
{
	if (!c->fork_parent || c->fork_parent >= as->nconn)
		return 1;
	const struct asm_conn *p = &as->conns[c->fork_parent];
	return p->rx_stopped || p->closed || p->fork_tangled;
}

/* r, a CONNECT answered, is the last request of its open connection,
 * whose framing is not lost: what goes through its tunnel next says
 * whether its row is whole (a lost framing there, or a TLS handshake no
 * tapped library made, HTTPS through a proxy: tunnel_lost, set at that
 * record), so it waits for that, for a tapped handshake through its own
 * tunnel (not an outer one's: a CONNECT inside a tapped tunnel's TLS, a
 * proxy chain, waits for what goes through it) or a request through it,
 * or for the close (a review found the row handed out at its
 * end without the note the analyzer gives it at the desync that follows;
 * a CONNECT refused, a 407, waits the same: the analyzer's rule does not
 * look at the status either). */
static int tunnel_unsaid(const struct ttft_asm *as, const struct asm_conn *c,
			 const struct ttft_record *r)
{
	return !c->desync && !c->closed && c->tunnel_tls != r->seq + 1 && c->nreqs &&
	       &as->out->reqs[c->reqs[c->nreqs - 1]] == r && !strcmp(r->method, "CONNECT");
}

int ttft_asm_settled(const struct ttft_asm *as, const struct ttft_record *r)
{
	if (r->closed_early)
		return 1;
	if (r->conn == 0 || r->conn >= as->nconn)
		return 1; /* no connection state to wait on */
	const struct asm_conn *c = &as->conns[r->conn];
	if (r->t_end)
		return !tunnel_unsaid(as, c, r);
	/* the sniffer stopped reading its responses; its requests' side
	 * alone ("tx") leaves the answers read on: a request due then still
	 * gets its own (a review found a row handed out at such a desync
	 * with no status, and a fork child's with its parent's reason, where
	 * the analyzer gives the answer read after it) */
	if (c->rx_stopped)
		return 1;
	/* a fork child's request its parent's lost framing reached: its
	 * answer went unread only if its own sniffer did not read it, which
	 * is known once the child closed its copy (the parent may have lost
	 * the framing after the fork). Only where its parent reads no more:
	 * one whose own request side alone lost it ("tx") may be answered
	 * on its parent's id (fork_answer) after the child closed its copy
	 * or ended (a review found it handed out with no status, the
	 * parent's read of its answer still to come) */
	if (r->desync && c->closed && parent_reads_no_more(as, c))
		return 1;
	/* a later request on the connection had its answer begin: HTTP/1.1
	 * answers in order, so this one will get no more of its own records.
	 * Only sent, it settles nothing: a request pipelined behind this one
	 * goes out before this one's answer (a review found such a request
	 * handed out with no status, its answer still to come) */
	for (uint32_t k = c->nreqs; k-- > 0;) {
		const struct ttft_record *q = &as->out->reqs[c->reqs[k]];
		if (q->seq <= r->seq)
			break;
		if (q->t_hdr || q->t_end || q->closed_early)
			return 1;
	}
	return 0;
}

int ttft_asm_waits_for_child(const struct ttft_asm *as, const struct ttft_record *r)
{
	if (!r->desync || r->conn == 0 || r->conn >= as->nconn)
		return 0;
	const struct asm_conn *c = &as->conns[r->conn];
	return c->fork_parent && !c->closed && parent_reads_no_more(as, c) &&
	       !ttft_asm_settled(as, r);
}

uint64_t ttft_asm_heir_may_come(const struct ttft_asm *as, const struct ttft_record *r)
{
	if (!r->closed_early || r->t_end || r->conn == 0 || r->conn >= as->nconn)
		return 0;
	const struct asm_conn *c = &as->conns[r->conn];
	if (!c->closed || !c->ino || map_get(&as->inodes, c->ino) != r->conn)
		return 0;
	return c->ino;
}

int ttft_asm_parent_may_tangle(const struct ttft_asm *as, const struct ttft_record *r)
{
	if (r->conn == 0 || r->conn >= as->nconn)
		return 0;
	const struct asm_conn *c = &as->conns[r->conn];
	if (!c->fork_parent || c->fork_parent >= as->nconn)
		return 0;
	const struct asm_conn *p = &as->conns[c->fork_parent];
	/* closed: no send on its id any more; tangled: r was marked or
	 * left alone at the tangle (fork_tangle, once), for good */
	if (p->closed || p->fork_tangled)
		return 0;
	return p->pid > 0 ? p->pid : -1;
}

const char *ttft_asm_peer(const struct ttft_asm *as, uint64_t conn)
{
	if (conn == 0 || conn >= as->nconn || !as->conns[conn].peer[0])
		return NULL;
	return as->conns[conn].peer;
}

/* A row of connection c (id) that has no request of its own: its setup's
 * times, no method, path or answer. NULL out of memory. */
static struct ttft_record *add_conn_row(struct ttft_analysis *a, const struct asm_conn *c,
					uint64_t id)
{
	if (grow(&a->reqs, &a->reqs_cap, a->nreqs + 1, sizeof *a->reqs) != 0)
		return NULL;
	struct ttft_record *r = &a->reqs[a->nreqs++];
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	r->pid = c->pid;
	r->fd = c->fd;
	r->conn = id;
	r->new_conn = c->t_conn0 != 0;
	r->t_start = r->t_conn0 = c->t_conn0;
	r->t_est = c->t_est && c->t_conn0 && c->t_est < c->t_conn0 ? c->t_conn0 : c->t_est;
	r->t_dns0 = c->t_dns0;
	r->t_dns1 = c->t_dns1;
	return r;
}

/* A TLS connection whose plaintext no tapped library handed over (Node and
 * Go carry their own TLS): one row that says so, with the connection's
 * timing, instead of nothing or a request that never was. */
static int add_encrypted(struct ttft_analysis *a, const struct asm_conn *c, uint64_t id)
{
	struct ttft_record *r = add_conn_row(a, c, id);
	if (!r)
		return -1;
	r->tls = r->encrypted = 1;
	r->aio = c->aio != 0;
	return 0;
}

/* A connection whose fd went to POSIX AIO and that has no row (its
 * request and answer both went through it, unseen): a row that says so,
 * not nothing (an encrypted connection's kind of row: no method, path or
 * times but its setup's). */
static int add_aio_row(struct ttft_analysis *a, const struct asm_conn *c, uint64_t id)
{
	struct ttft_record *r = add_conn_row(a, c, id);
	if (!r)
		return -1;
	r->aio = 1;
	r->request_unseen = 1;
	r->inherited = (uint8_t)c->inherited;
	return 0;
}

int ttft_asm_notes(struct ttft_asm *ps)
{
	struct ttft_analysis *a = ps->out;
	size_t cap = 0;
	for (uint64_t i = 1; i < ps->nconn; i++) {
		struct asm_conn *c = &ps->conns[i];
		if (c->seen && c->tls && !c->tapped && c->nreqs == 0 &&
		    add_encrypted(a, c, i) != 0)
			return -1;
		if (c->seen && c->aio && c->nreqs == 0 && !c->unseen && !(c->tls && !c->tapped) &&
		    add_aio_row(a, c, i) != 0)
			return -1;
		if (!c->seen || !(c->err || c->untraced || (c->desync && c->nreqs == 0) ||
				  (!c->t_est && !c->inherited && c->nreqs == 0 && c->closed) ||
				  (c->tapped && c->nreqs == 0) || c->idle_408))
			continue;
		if (grow(&a->notes, &cap, a->nnotes + 1, sizeof *a->notes) != 0)
			return -1;
		struct ttft_conn_note *nt = &a->notes[a->nnotes++];
		nt->conn = i;
		nt->pid = c->pid;
		nt->err = c->err;
		nt->desync = c->desync;
		nt->tls = c->tls;
		nt->untraced = c->untraced;
		nt->idle_408 = c->idle_408;
		nt->gave_up = c->gave_up && !c->err && c->nreqs == 0;
		memcpy(nt->peer, c->peer, sizeof nt->peer);
	}
	return 0;
}

int ttft_asm_room(struct ttft_asm *as, uint64_t nconn)
{
	if (nconn <= as->nconn)
		return 0;
	struct asm_conn *c = realloc(as->conns, nconn * sizeof *c);
	if (!c)
		return -1;
	memset(c + as->nconn, 0, (nconn - as->nconn) * sizeof *c);
	as->conns = c;
	as->nconn = nconn;
	return 0;
}

int ttft_asm_init(struct ttft_asm *as, struct ttft_analysis *out, uint64_t nconn)
{
	memset(as, 0, sizeof *as);
	as->out = out;
	return ttft_asm_room(as, nconn ? nconn : 1);
}

void ttft_asm_free(struct ttft_asm *ps)
{
	for (uint64_t i = 0; ps->conns && i < ps->nconn; i++)
		free(ps->conns[i].reqs);
	free(ps->conns);
	free(ps->dns);
	free(ps->snaps);
	free(ps->good);
	free(ps->waiting);
	if (ps->joined)
		ttft_joiner_free(&ps->jn);
	free(ps->jsnaps);
	free(ps->jreqs);
	map_free(&ps->pending);
	map_free(&ps->finished);
	map_free(&ps->connectors);
	map_free(&ps->inodes);
	memset(ps, 0, sizeof *ps);
}

/* Forgetting requests (ttft_assemble.h): a follower's memory. */

/* t less the widest skew, INT64_MIN where that would overflow */
static int64_t less_skew(int64_t t)
{
	return t > INT64_MIN + TTFT_ASM_MAX_SKEW_NS ? t - TTFT_ASM_MAX_SKEW_NS : INT64_MIN;
}

/* The least of r's times less skew: the floor of its join intervals. */
static int64_t floor_of(const struct ttft_record *r, int64_t now, int64_t skew)
{
	if (!engine_request(r))
		return INT64_MAX; /* join_req_of: never generate, never asked */
	int64_t t[] = {r->t_req0, r->t_req1, r->t_hdr, r->ntok ? r->t_first : 0,
		       r->t_end_arrived, r->t_end};
	int64_t m = now;
	if (!r->t_req0)
		return INT64_MIN; /* its start not known: any window */
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (!t[i])
			continue;
		if (t[i] < 0 || t[i] >= INT64_C(1) << 62)
			return INT64_MIN; /* not a time the join takes */
		if (t[i] < m)
			m = t[i];
	}
	return m > INT64_MIN + skew ? m - skew : INT64_MIN;
}

int64_t ttft_asm_join_floor(const struct ttft_record *r, int64_t now)
{
	if (!r) /* one still to come: its records are all after now */
		return less_skew(now);
	return floor_of(r, now, TTFT_ASM_MAX_SKEW_NS);
}

int64_t ttft_asm_reach_floor(const struct ttft_record *r)
{
	/* the headers' record carries the round trip, once (the shim writes
	 * one per request: a 1xx is not one); before it, any */
	int64_t skew = r->t_hdr ? TTFT_JOIN_SKEW_NS + (int64_t)r->rtt_us * 1000
				: TTFT_ASM_MAX_SKEW_NS;
	return floor_of(r, INT64_MAX, skew);
}

static int64_t t0_of_snap(const struct ttft_snap *s)
{
	return s->tr.t0_ns ? s->tr.t0_ns : s->tr.t_ns;
}

/* How many good snapshots were answered before t (in time order). */
static size_t good_before(const struct ttft_asm *as, int64_t t)
{
	size_t lo = 0, hi = as->ngood;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (as->snaps[as->good[mid]].tr.t_ns < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int64_t ttft_asm_window_end(const struct ttft_asm *as, const struct ttft_record *r)
{
	/* the rows ttft_asm_join decides without a window */
	const char *src = ttft_record_split(r)->source;
	if (r->several_choices || !r->t_end || !r->status || r->fork_unsure ||
	    (src && !strcmp(src, TTFT_SPLIT_LLAMACPP_TIMINGS)))
		return INT64_MIN;
	struct ttft_join_req j;
	join_req_of(as, r, &j);
	if (!j.generate || j.elsewhere || !j.complete)
		return INT64_MIN;
	/* the widest of its moments' windows closes at the first snapshot
	 * answered after its reach and asked for after it (ttft_join.c
	 * window()): the later moments' windows close there or before */
	int64_t reach = ttft_join_reach(&j);
	for (size_t k = good_before(as, reach); reach != INT64_MAX && k < as->ngood; k++) {
		const struct ttft_snap *s = &as->snaps[as->good[k]];
		if (s->tr.t_ns > reach && t0_of_snap(s) > reach)
			return s->tr.t_ns;
	}
	return INT64_MAX;
}

int64_t ttft_asm_join_horizon(const struct ttft_asm *as, int64_t floor, int64_t now)
{
	/* a window begins at the last good snapshot answered before the
	 * interval: those answered before floor, at the latest of them;
	 * snapshots are in time order, their starts too */
	size_t lo = good_before(as, floor);
	if (lo)
		return t0_of_snap(&as->snaps[as->good[lo - 1]]);
	if (as->ngood)
		return t0_of_snap(&as->snaps[as->good[0]]);
	/* none yet: one still to come began after now, or is under way */
	if (as->nsnap && t0_of_snap(&as->snaps[as->nsnap - 1]) < now)
		return t0_of_snap(&as->snaps[as->nsnap - 1]);
	return now;
}

size_t ttft_asm_forget_snaps(struct ttft_asm *as, int64_t floor)
{
	/* a join picks the last good snapshot answered before an interval
	 * that begins at floor or later (ttft_join.c window()): the last one
	 * before floor, or a later one; the first stays (the join reads the
	 * page's kind from the first and the last) */
	size_t h = good_before(as, floor);
	uint32_t from = h > 1 ? as->good[h - 1] : 0;
	/* a failed or unfinished one is never joined: only the latest may
	 * still take METRIC records (take_metric) */
	int last_good = as->ngood && as->good[as->ngood - 1] + 1 == as->nsnap;
	size_t failed = as->nsnap - as->ngood - (as->nsnap && !last_good);
	if (h <= 2 && !failed)
		return 0;
	size_t k = 0, g = 0, ng = 0;
	for (size_t i = 0; i < as->nsnap; i++) {
		int good = g < as->ngood && as->good[g] == i;
		g += good;
		if (i + 1 < as->nsnap && !(good && (g == 1 || i >= from)))
			continue;
		if (good)
			as->good[ng++] = (uint32_t)k;
		as->snaps[k++] = as->snaps[i];
	}
	size_t dropped = as->nsnap - k;
	as->nsnap = k;
	as->ngood = ng;
	as->gen++; /* the join built so far holds the dropped ones */
	return dropped;
}

int ttft_asm_forgettable(const struct ttft_asm *as, const struct ttft_record *r,
			 int64_t horizon)
{
	struct ttft_join_req j;
	join_req_of(as, r, &j);
	/* reaching (ttft_join.c) counts an interval that ends by a window's
	 * start as nothing: strictly before, so that it cancels */
	if (j.generate && ttft_join_reach(&j) >= horizon)
		return 0;
	if (r->conn == 0 || r->conn >= as->nconn)
		return 1; /* no connection looks it up */
	const struct asm_conn *c = &as->conns[r->conn];
	uint32_t i = (uint32_t)(r - as->out->reqs);
	/* a response row the connection's next records may still belong
	 * to; requests a fork's parent or child answers or tangles */
	if (c->fork_child || c->fork_parent)
		return 0;
	if (c->closed) {
		/* its records are all in; but a request still owed its
		 * answer stays while an exec's heir may take the socket over
		 * (inherit: the inode's latest connection is this one), as
		 * the heir's first answers are its own (a review found an
		 * extra unseen row where it had gone) */
		return r->t_hdr || r->t_end || !c->ino ||
		       map_get(&as->inodes, c->ino) != r->conn;
	}
	if (c->unseen == i + 1)
		return 0;
	if (r->request_unseen)
		return 1; /* not among the connection's requests */
	/* its response ended: no later record is its own. The last request
	 * of the connection stays: the connection's next records are
	 * judged by it (settled, all_answered, a tunnel); one before it
	 * goes only with one answered after it, so that an exec's heir
	 * (inherit) counts the same requests owed */
	if (!r->t_end || !c->nreqs)
		return 0;
	const struct ttft_record *last = &as->out->reqs[c->reqs[c->nreqs - 1]];
	return last != r && (last->t_hdr || last->t_end);
}

void ttft_asm_renumber(struct ttft_asm *as, const uint32_t *remap)
{
	for (uint64_t id = 1; id < as->nconn; id++) {
		struct asm_conn *c = &as->conns[id];
		/* kept while its connection is open */
		if (c->unseen)
			c->unseen = remap[c->unseen - 1] == NONE ? 0 : remap[c->unseen - 1] + 1;
		uint32_t k = 0, marked = c->marked, fork_next = c->fork_next;
		for (uint32_t i = 0; i < c->nreqs; i++) {
			if (remap[c->reqs[i]] == NONE) {
				/* indexes into c->reqs move down with it */
				marked -= i < c->marked;
				fork_next -= i < c->fork_next;
				continue;
			}
			c->reqs[k++] = remap[c->reqs[i]];
		}
		c->marked = marked;
		c->fork_next = fork_next;
		c->nreqs = k;
		if (!k && c->cap) {
			free(c->reqs);
			c->reqs = NULL;
			c->cap = 0;
		}
	}
	as->gen++; /* the join built so far numbers the old requests */
}
