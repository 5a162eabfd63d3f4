/* ttft_follow.c — see ttft_follow.h. */
#include "ttft_follow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ttft_clock.h"
#include "ttft_logsort.h"

#define CHUNK 1024u /* slots read at once */
#define FORGET_MIN 4096u /* requests kept before the first forget() */

void ttft_follow_init(struct ttft_follow *f, const char *path, int64_t lag_ns,
		      int64_t grace_ns, int64_t split_wait_ns)
{
	memset(f, 0, sizeof *f);
	snprintf(f->path, sizeof f->path, "%s", path);
	f->lag_ns = lag_ns > 0 ? lag_ns : TTFT_FOLLOW_LAG_NS;
	f->grace_ns = grace_ns > 0 ? grace_ns : TTFT_FOLLOW_GRACE_NS;
	f->split_wait_ns = split_wait_ns > 0 ? split_wait_ns : TTFT_FOLLOW_SPLIT_WAIT_NS;
	f->forget_at = FORGET_MIN;
	f->v.fd = -1;
}

static int oom(struct ttft_follow *f)
{
	snprintf(f->err, sizeof f->err, "out of memory following '%.300s' (%llu records, "
		 "%zu requests); restart the exporter", f->path,
		 (unsigned long long)f->records, f->an.nreqs);
	return -1;
}

/* Forget the current log (its requests were handed out). */
static void reset_log(struct ttft_follow *f)
{
	if (f->open) {
		ttft_log_view_close(&f->v);
		ttft_asm_free(&f->as);
		ttft_analysis_free(&f->an);
		f->dropped_before += f->dropped;
		/* the unreadable counts too: counters only grow (a replaced log
		 * had set them back to 0, a review found) */
		f->unreadable_before[0] = f->unpublished;
		f->unreadable_before[1] = f->corrupt;
	}
	f->open = 0;
	f->dropped = 0;
	f->cursor = 0;
	f->stuck_since = 0;
	f->stuck_upto = 0;
	f->nheld = 0;
	f->max_t = 0;
	f->have_last = 0;
	f->nopen = 0;
	f->seen_reqs = 0;
	f->forget_at = FORGET_MIN;
	f->holes_seen = 0;
}

static int open_log(struct ttft_follow *f)
{
	struct ttft_log_view v;
	char err[512];
	if (ttft_log_view_open(&v, f->path, err, sizeof err) != 0) {
		snprintf(f->err, sizeof f->err, "%s", err);
		return 0;
	}
	struct stat st;
	if (fstat(v.fd, &st) != 0) {
		snprintf(f->err, sizeof f->err, "cannot stat '%.300s': %s", f->path, strerror(errno));
		ttft_log_view_close(&v);
		return 0;
	}
	memset(&f->an, 0, sizeof f->an);
	if (ttft_asm_init(&f->as, &f->an, 1) != 0) {
		ttft_log_view_close(&v);
		return oom(f);
	}
	f->v = v;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->an.anchor_mono_ns = v.hdr->anchor_mono_ns;
	f->an.anchor_real_ns = v.hdr->anchor_real_ns;
	f->open = 1;
	f->logs++;
	f->quiet_since = ttft_now_ns();
	f->err[0] = 0;
	return 0;
}

/* Insert r into the held records, keeping them sorted (from the back:
 * records come nearly in order). */
static int hold(struct ttft_follow *f, const struct ttft_rec *r)
{
	if (f->nheld == f->heldcap) {
		size_t nc = f->heldcap ? 2 * f->heldcap : 256;
		struct ttft_rec *h = realloc(f->held, nc * sizeof *h);
		if (!h)
			return -1;
		f->held = h;
		f->heldcap = nc;
	}
	size_t k = f->nheld;
	while (k > 0 && ttft_rec_cmp(&f->held[k - 1], r) > 0)
		k--;
	memmove(f->held + k + 1, f->held + k, (f->nheld - k) * sizeof *r);
	f->held[k] = *r;
	f->nheld++;
	return 0;
}

/* A zero slot at the cursor: a writer between reservation and seal, one
 * that died there, or a slot its writer could not write (unwritable).
 * 1: give it up (it is counted as the analyzer counts it); 0: wait.
 * The grace runs from when the reader first saw the slot, so a run of
 * zero slots already there then costs one grace, not one each (a review
 * found 30 zero slots freezing the page for 60 s, and a segment not
 * allocated, 8192 of them, for hours). */
static int give_up(struct ttft_follow *f, uint64_t slot, int64_t now)
{
	if (!f->stuck_since || slot >= f->stuck_upto) {
		/* the slots there now were reserved by now */
		f->stuck_since = now;
		f->stuck_upto = f->v.n_slots;
		f->stuck_poll = f->polls;
		return 0;
	}
	if (now - f->stuck_since >= f->grace_ns)
		return 1;
	/* the header says its writers could not write so many: still zero a
	 * poll later, these are those (a writer is that slow only when
	 * preempted: it then loses its record, counted) */
	return f->v.zeros_explained < f->v.unwritable && f->polls > f->stuck_poll;
}

/* Read the slots published since the last poll, up to the first that is
 * reserved but not sealed (all: past it; the writers are gone). */
static int read_new(struct ttft_follow *f, int all, int64_t now)
{
	if (ttft_log_view_refresh(&f->v) != 0) {
		snprintf(f->err, sizeof f->err, "cannot read '%.300s' any more: %s", f->path,
			 strerror(errno));
		return 0;
	}
	f->dropped = f->v.dropped;
	struct ttft_rec buf[CHUNK];
	while (f->cursor < f->v.n_slots) {
		size_t got = ttft_log_view_read(&f->v, f->cursor, buf, CHUNK);
		if (!got)
			break;
		size_t i = 0;
		for (; i < got; i++) {
			if (buf[i].seal == 0 && !all && !give_up(f, f->cursor + i, now))
				break;
			if (ttft_log_view_check(&f->v, &buf[i])) {
				if (hold(f, &buf[i]) != 0)
					return oom(f);
				f->records++;
				if (buf[i].t_ns > f->max_t)
					f->max_t = buf[i].t_ns;
				f->quiet_since = now;
			}
		}
		f->cursor += i;
		if (i < got)
			break;
	}
	f->unpublished = f->unreadable_before[0] + f->v.unpublished;
	f->corrupt = f->unreadable_before[1] + f->v.corrupt;
	return 0;
}

static void apply(struct ttft_follow *f, struct ttft_rec *r, const struct ttft_follow_sink *s)
{
	if (f->have_last && ttft_rec_cmp(r, &f->last_out) < 0)
		f->late++;
	else {
		f->last_out = *r;
		f->have_last = 1;
	}
	if (r->kind == TTFT_EV_DESYNC && s && s->desync)
		s->desync(s->ctx, ttft_asm_peer(&f->as, r->conn), (int)r->b);
	/* what the analyzer says of a connection in its notes: TLS it could
	 * not read, a connect that failed (a review found both missing from
	 * the exporter: a page that looked idle) */
	if (r->kind == TTFT_EV_TLS && r->a == 0 && s && s->desync)
		s->desync(s->ctx, ttft_asm_peer(&f->as, r->conn), 6);
	if (r->kind == TTFT_EV_CONNECT_END && r->a != 0 && r->err && r->err != EINPROGRESS &&
	    r->err != EALREADY && r->err != EINTR && s && s->connect_failed)
		s->connect_failed(s->ctx, ttft_asm_peer(&f->as, r->conn), r->err);
	/* closed with its connect under way: the client gave up waiting for
	 * the server's answer to its SYN */
	if (r->kind == TTFT_EV_CLOSE && r->b == 1 && s && s->connect_failed)
		s->connect_failed(s->ctx, ttft_asm_peer(&f->as, r->conn), ETIMEDOUT);
	ttft_asm_apply(&f->as, r);
}

/* Apply the held records the log has moved lag_ns past, or all of them. */
static int release(struct ttft_follow *f, int all, int64_t now,
		   const struct ttft_follow_sink *s)
{
	if (!f->nheld)
		return 0;
	/* connection ids of every record read are below next_conn now
	 * (a connection's id is taken before its first record is written);
	 * a damaged header cannot ask for more than one per slot */
	uint64_t nconn = f->v.hdr->next_conn;
	if (nconn > f->v.n_slots + 1)
		nconn = f->v.n_slots + 1;
	if (ttft_asm_room(&f->as, nconn) != 0)
		return oom(f);
	if (now - f->quiet_since >= f->lag_ns)
		all = 1; /* nothing new for a while: nothing left to wait for */
	size_t k = 0;
	while (k < f->nheld && (all || f->held[k].t_ns <= f->max_t - f->lag_ns))
		apply(f, &f->held[k++], s);
	memmove(f->held, f->held + k, (f->nheld - k) * sizeof *f->held);
	f->nheld -= k;
	return f->as.oom ? oom(f) : 0;
}

static int track_new_requests(struct ttft_follow *f)
{
	size_t n = f->an.nreqs;
	if (n > f->reqcap) {
		size_t nc = n * 2;
		uint8_t *h = realloc(f->handed, nc);
		if (!h)
			return oom(f);
		f->handed = h;
		int64_t *t = realloc(f->settled_at, nc * sizeof *t);
		if (!t)
			return oom(f);
		f->settled_at = t;
		f->reqcap = nc;
	}
	if (n > f->opencap) {
		size_t nc = n * 2;
		uint32_t *q = realloc(f->openq, nc * sizeof *q);
		if (!q)
			return oom(f);
		f->openq = q;
		f->opencap = nc;
	}
	for (size_t i = f->seen_reqs; i < n; i++) {
		f->handed[i] = 0;
		f->settled_at[i] = 0;
		f->openq[f->nopen++] = (uint32_t)i;
	}
	f->seen_reqs = n;
	return 0;
}

static void hand_out(struct ttft_follow *f, uint32_t i, int complete,
		     const struct ttft_follow_sink *s)
{
	struct ttft_record *r = &f->an.reqs[i];
	if (ttft_record_finish(r) != 0)
		r->itl_p50_s = r->itl_p99_s = NAN; /* the percentiles only */
	/* a response whose request is not in the log is a row only where
	 * the log lost records (as ttft-analyze): in a whole one it is a
	 * fork child's read of an answer it cannot be paired with */
	int lost = f->corrupt || f->unpublished || f->dropped;
	if (s && s->request && (!r->request_lost || lost))
		s->request(s->ctx, r, ttft_asm_peer(&f->as, r->conn), complete);
	f->handed[i] = 1;
	f->handed_out++;
	/* its token times are what it costs; late records may add a few
	 * back, harmlessly (it is not handed out again) */
	ttft_record_free(r);
}

/* Hand out the open requests that are settled (all: every one). */
/* Connects applied without a lookup of their own thread take a helper
 * thread's, as the analyzer decides it after its last record. A helper is
 * a thread that never connects, which only the whole log tells: so a
 * connect is decided when a settled request of a new connection at or
 * after it is about to be handed out, not when it is applied (the lookup
 * of a thread that connects a moment later is that thread's own). Records
 * come in time order: every lookup that finished before it is applied. */
static int decide_dns(struct ttft_follow *f, int all)
{
	int64_t upto = all ? INT64_MAX : 0;
	for (size_t j = 0; j < f->nopen && !all; j++) {
		const struct ttft_record *r = &f->an.reqs[f->openq[j]];
		if (r->new_conn && r->t_conn0 > upto && ttft_asm_settled(&f->as, r))
			upto = r->t_conn0;
	}
	return upto ? ttft_asm_dns_helpers_upto(&f->as, upto) : 0;
}

/* Whether r was in progress while the log lost events in its middle (the
 * analyzer's test, ttft_analyze.c); *stale: a hole it may have ended in
 * was found split_wait_ns ago or more. */
static int in_a_hole(const struct ttft_follow *f, const struct ttft_record *r, int64_t now,
		     int *stale)
{
	int64_t t0 = r->t_start ? r->t_start : r->t_req0 ? r->t_req0 : r->t_hdr;
	int in = 0;
	*stale = 0;
	for (size_t h = 0; h < f->v.nholes; h++)
		if ((!r->t_end || r->t_end >= f->v.holes[h][0]) && t0 <= f->v.holes[h][1]) {
			in = 1;
			if (now - f->hole_found[h] >= f->split_wait_ns)
				*stale = 1;
		}
	return in;
}

static void hand_out_settled(struct ttft_follow *f, int all, int64_t now,
			     const struct ttft_follow_sink *s)
{
	for (; f->holes_seen < f->v.nholes; f->holes_seen++)
		f->hole_found[f->holes_seen] = now;
	size_t k = 0;
	for (size_t j = 0; j < f->nopen; j++) {
		uint32_t i = f->openq[j];
		struct ttft_record *r = &f->an.reqs[i];
		int settled = ttft_asm_settled(&f->as, r);
		int stale = 0, cut = f->v.nholes && in_a_hole(f, r, now, &stale);
		/* its end may be among the events lost: it would be in flight
		 * for ever (a review found) */
		int go = all || (cut && stale);
		if (settled && !go) {
			if (!f->settled_at[i])
				f->settled_at[i] = now;
			/* with snapshots in the log, wait for the one that
			 * decides its split, a while at most (llama.cpp's
			 * in-stream timings: joined at once) */
			go = !ttft_asm_joins(&f->as, r) || ttft_asm_join(&f->as, r) ||
			     now - f->settled_at[i] >= f->split_wait_ns;
		}
		if (go) {
			if (all && settled && ttft_asm_joins(&f->as, r))
				ttft_asm_join(&f->as, r);
			r->cut_by_hole = (uint8_t)cut;
			hand_out(f, i, settled && !cut, s);
		} else {
			f->openq[k++] = i;
		}
	}
	f->nopen = k;
}

/* Shrink an array of cap elements that holds n to twice n (the memory of
 * a burst goes back); a failure keeps it as it is. */
static void shrink(void *p, size_t *cap, size_t n, size_t elem)
{
	size_t want = n < 512 ? 1024 : 2 * n;
	if (*cap <= 2 * want)
		return;
	void *q = realloc(*(void **)p, want * elem);
	if (q) {
		*(void **)p = q;
		*cap = want;
	}
}

/* Forget the requests handed out that nothing can reach any more: the
 * follower's memory then follows what is in flight, not the log's
 * history (a review found 84 MB kept for a 48,000-request log). A pass
 * looks at every request and connection, so it runs when the requests
 * kept doubled since the last. -1 when out of memory. */
static int forget(struct ttft_follow *f)
{
	size_t n = f->an.nreqs;
	if (n < f->forget_at || !f->have_last)
		return 0;
	int64_t now = f->last_out.t_ns;
	int64_t floor = ttft_asm_join_floor(NULL, now);
	for (size_t j = 0; j < f->nopen; j++) {
		int64_t t = ttft_asm_join_floor(&f->an.reqs[f->openq[j]], now);
		if (t < floor)
			floor = t;
	}
	int64_t horizon = ttft_asm_join_horizon(&f->as, floor, now);
	uint32_t *remap = malloc(n * sizeof *remap);
	if (!remap)
		return oom(f);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct ttft_record *r = &f->an.reqs[i];
		if (f->handed[i] && ttft_asm_forgettable(&f->as, r, horizon)) {
			ttft_record_free(r); /* what late records added */
			remap[i] = UINT32_MAX;
			continue;
		}
		remap[i] = (uint32_t)k;
		if (k != i) {
			f->an.reqs[k] = *r;
			f->handed[k] = f->handed[i];
			f->settled_at[k] = f->settled_at[i];
		}
		k++;
	}
	for (size_t j = 0; j < f->nopen; j++)
		f->openq[j] = remap[f->openq[j]];
	ttft_asm_renumber(&f->as, remap);
	free(remap);
	f->forgotten += n - k;
	f->an.nreqs = f->seen_reqs = k;
	shrink(&f->an.reqs, &f->an.reqs_cap, k, sizeof *f->an.reqs);
	size_t cap = f->reqcap;
	shrink(&f->handed, &cap, k, sizeof *f->handed);
	shrink(&f->settled_at, &f->reqcap, k, sizeof *f->settled_at);
	if (cap != f->reqcap) /* one shrank, the other not: the smaller */
		f->reqcap = cap < f->reqcap ? cap : f->reqcap;
	shrink(&f->openq, &f->opencap, f->nopen, sizeof *f->openq);
	f->forget_at = 2 * k > FORGET_MIN ? 2 * k : FORGET_MIN;
	return 0;
}

static int same_file(const struct ttft_follow *f)
{
	struct stat st;
	return stat(f->path, &st) != 0 || (st.st_dev == f->dev && st.st_ino == f->ino);
}

static int step(struct ttft_follow *f, int all, const struct ttft_follow_sink *s)
{
	int64_t now = ttft_now_ns();
	f->polls++;
	if (f->open && !all && !same_file(f)) {
		/* replaced by a new log: finish the old one first */
		if (step(f, 1, s) != 0)
			return -1;
		reset_log(f);
	}
	if (!f->open) {
		if (open_log(f) != 0)
			return -1;
		if (!f->open)
			return 0; /* not there (yet): f->err says why */
	}
	if (read_new(f, all, now) != 0 || release(f, all, now, s) != 0)
		return -1;
	if (track_new_requests(f) != 0)
		return -1;
	if (decide_dns(f, all) != 0)
		return oom(f);
	hand_out_settled(f, all, now, s);
	return forget(f);
}

int ttft_follow_poll(struct ttft_follow *f, const struct ttft_follow_sink *sink)
{
	return step(f, 0, sink);
}

int ttft_follow_drain(struct ttft_follow *f, const struct ttft_follow_sink *sink)
{
	return step(f, 1, sink);
}

size_t ttft_follow_in_flight(const struct ttft_follow *f)
{
	return f->nopen;
}

size_t ttft_follow_kept(const struct ttft_follow *f)
{
	return f->an.nreqs;
}

void ttft_follow_free(struct ttft_follow *f)
{
	reset_log(f);
	free(f->held);
	free(f->handed);
	free(f->settled_at);
	free(f->openq);
	memset(f, 0, sizeof *f);
	f->v.fd = -1;
}
