/* ttft_logsort.c — see ttft_logsort.h. */
#include "ttft_logsort.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

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

/* The window of keys both passes below keep, sorted by insertion. */
struct keys {
	struct key *w;       /* a ring: entry k is w[(head + k) & mask] */
	size_t mask, head, len;
	struct key last;     /* the last key handed out */
	int have_last, late;
};

/* Room for more than window keys; -1 when out of memory. */
static int keys_init(struct keys *q, unsigned window)
{
	size_t cap = 1;
	while (cap <= window)
		cap <<= 1;
	*q = (struct keys){.w = malloc(cap * sizeof *q->w), .mask = cap - 1};
	return q->w ? 0 : -1;
}

static inline void keys_insert(struct keys *q, struct key k)
{
	size_t at = q->len, mask = q->mask;
	if (__builtin_expect(at > 0 && !key_after(&q->w[(q->head + at - 1) & mask], &k), 1)) {
		q->w[(q->head + at) & mask] = k; /* in order: the usual case */
		q->len++;
		return;
	}
	/* after every key that does not sort after it */
	while (at > 0 && key_after(&q->w[(q->head + at - 1) & mask], &k)) {
		q->w[(q->head + at) & mask] = q->w[(q->head + at - 1) & mask];
		at--;
	}
	if (at == 0 && q->have_last && key_after(&q->last, &k))
		k.late = 1; /* belongs before what was handed out */
	q->w[(q->head + at) & mask] = k;
	q->len++;
}

static inline struct key keys_pop(struct keys *q)
{
	struct key o = q->w[q->head];
	q->head = (q->head + 1) & q->mask;
	q->len--;
	return o;
}

/* o's record passed its check and is handed out. */
static inline void keys_taken(struct keys *q, struct key o)
{
	q->late |= o.late;
	q->last = o;
	q->have_last = 1;
}

/* A slot met in slot order: 0 for a zero slot, counted (first as one the
 * writers could not allocate, then as unpublished); else 1, its time given
 * to the holes' bookkeeping. */
static inline int slot_met(struct ttft_log_view *v, const struct ttft_rec *r)
{
	if (r->seal == 0) {
		if (v->zeros_explained < v->unwritable) {
			v->zeros_explained++;
			ttft_log_view_hole_zero(v);
		} else {
			v->unpublished++;
		}
		return 0;
	}
	ttft_log_view_hole_rec(v, r->t_ns);
	return 1;
}

#define SEG_SHIFT 13 /* pages are given back 8192 slots (1 MiB) at a time */

struct pass {
	struct ttft_log_view *v;
	const struct ttft_rec *map;
	struct keys q;
	uint32_t *held;      /* records in the window, by segment */
	size_t freed;        /* segments given back */
	char *probe_buf;     /* mapping_dearer's (freed if a SIGBUS ends it) */
	void (*fn)(void *ctx, struct ttft_rec *r);
	void *ctx;
	struct ttft_rec rec; /* the record handed out */
};

static void pass_free(struct pass *p)
{
	free(p->q.w);
	free(p->held);
	free(p->probe_buf);
	free(p);
}

static inline void insert(struct pass *p, struct key k)
{
	p->held[k.slot >> SEG_SHIFT]++;
	keys_insert(&p->q, k);
}

/* Hand out the oldest record of the window. */
static inline void hand_out(struct pass *p)
{
	if (p->q.len > 8) {
		/* the record a few hand-outs ahead: on its way to the cache */
		const struct key *k = &p->q.w[(p->q.head + 8) & p->q.mask];
		const char *soon = (const char *)&p->map[k->slot];
		__builtin_prefetch(soon);
		__builtin_prefetch(soon + 64);
	}
	struct key o = keys_pop(&p->q);
	p->held[o.slot >> SEG_SHIFT]--;
	if (__builtin_expect(ttft_log_view_take(p->v, &p->rec, &p->map[o.slot]), 1)) {
		keys_taken(&p->q, o);
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

/* Which costs this machine more a page: a page of the mapping read for
 * the first time (its fault, on a VM whose page tables the hypervisor
 * keeps a trap each) or the same bytes copied with pread into a buffer in
 * use. The least of PROBE_TRIES tries each, PROBE_PAGES pages a try, each
 * try on pages not read before (the mapping's are the ones the pass reads
 * next, so they are not wasted; the pread's the ones after them), the
 * pread's buffer touched once before. Seen: the mapping 0.4-0.5x pread's
 * cost on the H200 host, 5-9x on this project's 2-core VM
 * (docs/performance.md). Called inside the mapped pass's SIGBUS catch: a
 * file cut under it starts the pass over. */
#define PROBE_PAGES 32u
#define PROBE_TRIES 3u
/* 32 MiB of records: below, the ring's own pages (4 MiB, asked for at
 * once) cost the pread pass as much as it saves on this project's VM
 * (about even at 250,000 records; the mapping ahead at 65,536). The
 * probe reads 2 * PROBE_TRIES * PROBE_PAGES pages: 12 MiB at 64 KiB. */
#define PROBE_MIN_SLOTS 262144u

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t page_size(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	return pg >= 4096 && pg <= 65536 ? (size_t)pg : 4096;
}

/* The bytes of one try: the buffer the caller gives mapping_dearer. */
static size_t probe_len(void)
{
	return PROBE_PAGES * page_size();
}

/* buf: probe_len() bytes, the caller's (a SIGBUS here jumps out of this
 * function: a buffer of its own was lost, a review found) */
static int mapping_dearer(struct ttft_log_view *v, char *buf)
{
	const size_t page = page_size(), len = PROBE_PAGES * page;
	memset(buf, 0, len);
	volatile const char *m = (const char *)v->map;
	int64_t best_map = INT64_MAX, best_read = INT64_MAX;
	unsigned sum = 0;
	for (unsigned k = 0; k < PROBE_TRIES; k++) {
		int64_t t0 = mono_ns();
		for (size_t i = 0; i < PROBE_PAGES; i++)
			sum += (unsigned char)m[(k * PROBE_PAGES + i) * page];
		int64_t t1 = mono_ns();
		ssize_t got = pread(v->fd, buf, len,
				    (off_t)(TTFT_LOG_HDR_SIZE + (PROBE_TRIES + k) * len));
		int64_t t2 = mono_ns();
		if (got != (ssize_t)len)
			return 0; /* the file shrank: the pass finds out */
		if (t1 - t0 < best_map)
			best_map = t1 - t0;
		if (t2 - t1 < best_read)
			best_read = t2 - t1;
	}
	(void)sum;
	return best_map > best_read;
}

static int each_mapped(struct ttft_log_view *v, unsigned window, int probe,
		       void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	uint64_t n = v->n_slots;
	struct pass *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	*p = (struct pass){.v = v, .map = v->map, .fn = fn, .ctx = ctx};
	p->held = calloc((size_t)(n >> SEG_SHIFT) + 1, sizeof *p->held);
	p->probe_buf = probe ? malloc(probe_len()) : NULL;
	if (keys_init(&p->q, window) != 0 || !p->held || (probe && !p->probe_buf) ||
	    n > UINT32_MAX) {
		pass_free(p);
		return -1;
	}
	sigjmp_buf jb;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &g_prev_bus);
	t_lo = (const char *)v->map;
	t_hi = (const char *)(v->map + n);
	/* p is not changed past this point: after the jump it is what it
	 * was */
	if (sigsetjmp(jb, 1)) {
		/* the file shrank under the mapping: start over, with pread */
		t_jump = NULL;
		v->holes_by_loop = 0;
		sigaction(SIGBUS, &g_prev_bus, NULL);
		pass_free(p);
		v->no_map = 1;
		ttft_log_view_unmap(v);
		return 2;
	}
	t_jump = &jb;
	if (p->probe_buf && mapping_dearer(v, p->probe_buf)) {
		t_jump = NULL;
		sigaction(SIGBUS, &g_prev_bus, NULL);
		pass_free(p);
		ttft_log_view_unmap(v);
		return 3;
	}
	v->holes_by_loop = 1; /* records are checked in time order below */
	const struct ttft_rec *map = v->map;
	for (uint64_t i = 0; i < n; i++) {
		const struct ttft_rec *r = &map[i];
		if (i + 32 < n)
			__builtin_prefetch(r + 32); /* 4 KiB ahead */
		if (!slot_met(v, r))
			continue;
		if ((i & ((1u << SEG_SHIFT) - 1)) == 0)
			give_back(p, i); /* a segment begins: what lies behind */
		insert(p, (struct key){r->t_ns, r->b, (uint32_t)i, kind_rank(r->kind), 0});
		if (p->q.len > window)
			hand_out(p);
	}
	while (p->q.len)
		hand_out(p);
	v->holes_by_loop = 0;
	t_jump = NULL;
	sigaction(SIGBUS, &g_prev_bus, NULL);
	int late = p->q.late;
	pass_free(p);
	return late;
}


/* ---- the window over records read into a ring ----
 *
 * The same window of keys as the mapped pass, the records read with
 * pread, a chunk at a time, into a ring of RING_SLOTS records that the
 * pass uses again: no page of the log is mapped (where the hypervisor
 * traps each page-table change, a mapped page cost 5-9x the copy of its
 * bytes; mapping_dearer above measures it). Each record is copied once
 * into the ring, keyed there, and handed out from there (copied once more
 * and its seal checked on that copy, as the mapped pass does). A record
 * held longer than the ring keeps it (its time far after the records read
 * since) is read again by itself; a file cut under the pass (that read
 * fails) is a start over with v->no_map set, as a SIGBUS is for the
 * mapped pass. */
#define RING_SLOTS (4 * CHUNK)

struct ring {
	struct ttft_log_view *v;
	struct ttft_rec *ring; /* slot i lies at ring[i & (rslots - 1)] */
	uint64_t rslots, read_end; /* slots read so far: [read_end - rslots, read_end) lie in it */
	struct keys q;
	int lost;
	void (*fn)(void *ctx, struct ttft_rec *r);
	void *ctx;
	struct ttft_rec rec, one;
};

static inline void ring_hand_out(struct ring *p)
{
	struct key o = keys_pop(&p->q);
	const struct ttft_rec *src;
	if (__builtin_expect(o.slot + p->rslots >= p->read_end, 1)) {
		src = &p->ring[o.slot & (p->rslots - 1)];
	} else {
		/* overwritten in the ring since: read again by itself */
		if (ttft_log_view_read(p->v, o.slot, &p->one, 1) != 1) {
			p->lost = 1; /* cut under the pass: start over */
			return;
		}
		src = &p->one;
	}
	if (__builtin_expect(ttft_log_view_take(p->v, &p->rec, src), 1)) {
		keys_taken(&p->q, o);
		p->fn(p->ctx, &p->rec);
	}
}

static int each_ring(struct ttft_log_view *v, unsigned window,
		     void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	uint64_t rslots = RING_SLOTS;
	while (rslots < (uint64_t)window + 2 * CHUNK)
		rslots <<= 1;
	while (rslots > CHUNK && rslots / 2 >= v->n_slots)
		rslots /= 2; /* a small log: no more ring than it has slots */
	struct ring *p = calloc(1, sizeof *p);
	struct keys q;
	int no_keys = keys_init(&q, window);
	/* every page of the ring is written, and soon: asked for at once
	 * (MAP_POPULATE: one call, not a fault a page) */
	struct ttft_rec *ring = mmap(NULL, rslots * sizeof *ring, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ring == MAP_FAILED)
		ring = NULL;
	if (!p || no_keys || !ring || v->n_slots > UINT32_MAX) {
		free(p);
		free(q.w);
		if (ring)
			munmap(ring, rslots * sizeof *ring);
		return -1;
	}
	*p = (struct ring){.v = v, .ring = ring, .rslots = rslots, .q = q, .fn = fn, .ctx = ctx};
	v->holes_by_loop = 1; /* records are checked in time order below */
	for (uint64_t i = 0; i < v->n_slots && !p->lost;) {
		size_t at = (size_t)(i & (rslots - 1)), want = CHUNK;
		if (want > rslots - at)
			want = (size_t)(rslots - at);
		if (want > v->n_slots - i)
			want = (size_t)(v->n_slots - i);
		size_t got = ttft_log_view_read(v, i, ring + at, want);
		if (got < want && i + got >= rslots) {
			/* the file was cut under the pass inside a record: the
			 * part of it there was lies in the ring over the slot
			 * rslots before it, a record the window may still hold
			 * (that torn copy was handed out as that record, a
			 * review found): read that slot back */
			if (ttft_log_view_read(v, i + got - rslots, ring + at + got, 1) != 1) {
				p->lost = 1; /* cut below it too: start over */
				break;
			}
		}
		if (!got)
			break;
		p->read_end = i + got;
		for (size_t j = 0; j < got && !p->lost; j++, i++) {
			const struct ttft_rec *r = &ring[at + j];
			if (!slot_met(v, r))
				continue;
			keys_insert(&p->q, (struct key){r->t_ns, r->b, (uint32_t)i,
							kind_rank(r->kind), 0});
			if (p->q.len > window)
				ring_hand_out(p);
		}
	}
	while (p->q.len && !p->lost)
		ring_hand_out(p);
	v->holes_by_loop = 0;
	int rc = p->lost ? 2 : p->q.late;
	if (p->lost)
		v->no_map = 1;
	free(p);
	free(q.w);
	munmap(ring, rslots * sizeof *ring);
	return rc;
}

int ttft_log_each(struct ttft_log_view *v, unsigned window,
		  void (*fn)(void *ctx, struct ttft_rec *r), void *ctx)
{
	if (window == 0)
		return each_sorted(v, fn, ctx);
	const char *how = getenv("TTFT_LOG_READER");
	int want = how && !strcmp(how, "map") ? 1 : how && !strcmp(how, "pread") ? 2 : 0;
	if (!v->no_map && want != 2) {
		if (ttft_log_view_map(v) != 0) { /* none: the plain window */
			v->reader = TTFT_READER_WINDOW;
			return each_read(v, window, fn, ctx);
		}
		int rc = each_mapped(v, window, want == 0 && v->n_slots >= PROBE_MIN_SLOTS, fn,
				     ctx);
		if (rc != 3) {
			v->reader = TTFT_READER_MAP;
			return rc;
		}
	}
	if (v->no_map) { /* started over after a cut */
		v->reader = TTFT_READER_WINDOW;
		return each_read(v, window, fn, ctx);
	}
	v->reader = TTFT_READER_RING;
	return each_ring(v, window, fn, ctx);
}
