/* ttft_logsort.c — see ttft_logsort.h. */
#include "ttft_logsort.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A kind's place among records of one instant: its number, but an
 * interim response (kind 25, appended to the ABI later) just before the
 * final response's headers, as they came on the wire when one read
 * brought both. */
static inline uint16_t kind_rank(uint16_t kind)
{
	/* 16 bits, as the window's key holds it: the window orders a
	 * record before its seal and kind are checked (when it is handed
	 * out), so a damaged kind of 32768 or more wraps there, and is then
	 * counted damaged; the full sort sees only checked records */
	return (uint16_t)(2u * kind - (kind == TTFT_EV_RESP_INTERIM
				       ? 2u * (TTFT_EV_RESP_INTERIM - TTFT_EV_RESP_HEADERS) + 1u
				       : 0u));
}

int ttft_rec_cmp(const struct ttft_rec *a, const struct ttft_rec *b)
{
	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns ? -1 : 1;
	if (a->kind != b->kind)
		return kind_rank(a->kind) < kind_rank(b->kind) ? -1 : 1;
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

/* The window over records copied into memory (pread): a file that
 * shrinks gives fewer records. */
static int each_read(struct ttft_log_view *v, unsigned window,
		     void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
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

/* ---- the window over the mapped log ----
 *
 * The window holds each record's sort key and slot (24 bytes), not the
 * record: the record is read where it lies when it is handed out, copied
 * once into a buffer of this pass, and its seal checked there — the
 * check covers exactly the bytes handed out. A slot whose seal is 0 is
 * counted (not published) as it is met, in slot order, as the copying
 * reader does. Pages behind every record still held leave the process's
 * memory as the pass moves on, so the mapping costs a few MiB of memory
 * whatever the log's size. */

struct key {
	int64_t t, b;
	uint32_t slot;
	uint16_t kind;  /* its kind_rank */
	uint16_t late;  /* sorted before a record already handed out */
};

static inline int key_after(const struct key *x, const struct key *y)
{
	if (x->t != y->t)
		return x->t > y->t;
	if (x->kind != y->kind)
		return x->kind > y->kind;
	return x->b > y->b;
}

/* A SIGBUS while this thread reads the mapping: the file shrank under it. */
static __thread sigjmp_buf *t_jump;
static __thread const char *t_lo, *t_hi;
static struct sigaction g_prev_bus;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	const char *a = si->si_addr;
	if (t_jump && a >= t_lo && a < t_hi)
		siglongjmp(*t_jump, 1);
	/* not ours: the fault repeats under the disposition before ours */
	sigaction(SIGBUS, &g_prev_bus, NULL);
}

#define SEG_SHIFT 13 /* pages are given back 8192 slots (1 MiB) at a time */

struct pass {
	struct ttft_log_view *v;
	const struct ttft_rec *map;
	struct key *w;       /* a ring: entry k is w[(head + k) & mask] */
	size_t mask, head, len;
	uint32_t *held;      /* records in the window, by segment */
	size_t freed;        /* segments given back */
	struct key last;     /* the last key handed out */
	int have_last, late;
	void (*fn)(void *ctx, struct ttft_rec *r);
	void *ctx;
	struct ttft_rec rec; /* the record handed out */
};

static inline void insert(struct pass *p, struct key k)
{
	size_t at = p->len, mask = p->mask;
	p->held[k.slot >> SEG_SHIFT]++;
	if (__builtin_expect(at > 0 && !key_after(&p->w[(p->head + at - 1) & mask], &k), 1)) {
		p->w[(p->head + at) & mask] = k; /* in order: the usual case */
		p->len++;
		return;
	}
	/* after every key that does not sort after it */
	while (at > 0 && key_after(&p->w[(p->head + at - 1) & mask], &k)) {
		p->w[(p->head + at) & mask] = p->w[(p->head + at - 1) & mask];
		at--;
	}
	if (at == 0 && p->have_last && key_after(&p->last, &k))
		k.late = 1; /* belongs before what was handed out */
	p->w[(p->head + at) & mask] = k;
	p->len++;
}

/* Hand out the oldest record of the window. */
static inline void hand_out(struct pass *p)
{
	struct key o = p->w[p->head];
	if (p->len > 8) {
		/* the record a few hand-outs ahead: on its way to the cache */
		const char *soon = (const char *)&p->map[p->w[(p->head + 8) & p->mask].slot];
		__builtin_prefetch(soon);
		__builtin_prefetch(soon + 64);
	}
	p->head = (p->head + 1) & p->mask;
	p->len--;
	p->held[o.slot >> SEG_SHIFT]--;
	if (__builtin_expect(ttft_log_view_take(p->v, &p->rec, &p->map[o.slot]), 1)) {
		p->late |= o.late;
		p->last = o;
		p->have_last = 1;
		p->fn(p->ctx, &p->rec);
	}
}

/* Give back every segment below `below` that holds nothing any more. */
static void give_back(struct pass *p, uint64_t below)
{
	while (p->freed < (below >> SEG_SHIFT) && !p->held[p->freed]) {
		ttft_log_view_unmap_range(p->v, (uint64_t)p->freed << SEG_SHIFT,
					  (uint64_t)(p->freed + 1) << SEG_SHIFT);
		p->freed++;
	}
}

static int each_mapped(struct ttft_log_view *v, unsigned window,
		       void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	uint64_t n = v->n_slots;
	size_t cap = 1;
	while (cap <= window)
		cap <<= 1;
	struct pass *p = calloc(1, sizeof *p);
	struct key *w = malloc(cap * sizeof *w);
	uint32_t *held = calloc((size_t)(n >> SEG_SHIFT) + 1, sizeof *held);
	if (!p || !w || !held || n > UINT32_MAX) {
		free(p);
		free(w);
		free(held);
		return -1;
	}
	*p = (struct pass){.v = v, .map = v->map, .w = w, .mask = cap - 1, .held = held,
			   .fn = fn, .ctx = ctx};
	sigjmp_buf jb;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &g_prev_bus);
	t_lo = (const char *)v->map;
	t_hi = (const char *)(v->map + n);
	/* p, w and held are not changed past this point: after the jump
	 * they are what they were */
	if (sigsetjmp(jb, 1)) {
		/* the file shrank under the mapping: start over, with pread */
		t_jump = NULL;
		v->holes_by_loop = 0;
		sigaction(SIGBUS, &g_prev_bus, NULL);
		free(p);
		free(w);
		free(held);
		v->no_map = 1;
		ttft_log_view_unmap(v);
		return 2;
	}
	t_jump = &jb;
	v->holes_by_loop = 1; /* records are checked in time order below */
	const struct ttft_rec *map = v->map;
	for (uint64_t i = 0; i < n; i++) {
		const struct ttft_rec *r = &map[i];
		if (i + 32 < n)
			__builtin_prefetch(r + 32); /* 4 KiB ahead */
		if (r->seal == 0) {
			/* first the slots the writers could not allocate */
			if (v->zeros_explained < v->unwritable) {
				v->zeros_explained++;
				ttft_log_view_hole_zero(v);
			} else {
				v->unpublished++;
			}
			continue;
		}
		ttft_log_view_hole_rec(v, r->t_ns); /* in slot order here */
		if ((i & ((1u << SEG_SHIFT) - 1)) == 0)
			give_back(p, i); /* a segment begins: what lies behind */
		insert(p, (struct key){r->t_ns, r->b, (uint32_t)i,
				       kind_rank(r->kind), 0});
		if (p->len > window)
			hand_out(p);
	}
	while (p->len)
		hand_out(p);
	v->holes_by_loop = 0;
	t_jump = NULL;
	sigaction(SIGBUS, &g_prev_bus, NULL);
	int late = p->late;
	free(p);
	free(w);
	free(held);
	return late;
}

int ttft_log_each(struct ttft_log_view *v, unsigned window,
		  void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	if (window == 0)
		return each_sorted(v, fn, ctx);
	if (ttft_log_view_map(v) == 0)
		return each_mapped(v, window, fn, ctx);
	return each_read(v, window, fn, ctx);
}
