/* ttft_join.c — see ttft_join.h for the rule; docs/server-truth.md for why. */
#include "ttft_join.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER INT64_MAX

/* The moments at which the servers count (ttft_join.h). */
enum anchor { A_FINISH, A_FIRST, A_SCHED, A_PREFILL, A__N };
_Static_assert(A__N == sizeof ((struct ttft_joiner *)0)->sp /
		       sizeof ((struct ttft_joiner *)0)->sp[0], "one span set a moment");

static const char *const anchor_what[A__N] = {
	[A_FINISH] = "ended", [A_FIRST] = "got its first token",
	[A_SCHED] = "was scheduled", [A_PREFILL] = "finished its prefill",
};

static int64_t sub(int64_t t, int64_t s)
{
	return t == NEVER ? NEVER : t > INT64_MIN + s ? t - s : INT64_MIN;
}

static int64_t add(int64_t t, int64_t s)
{
	return t == NEVER || t > NEVER - s ? NEVER : t + s;
}

/* A CLOCK_MONOTONIC instant is positive and far from overflow; anything
 * else is taken as not known, so that no difference below can overflow. */
static int64_t sane(int64_t t)
{
	return t > 0 && t < (INT64_C(1) << 62) ? t : 0;
}

static struct ttft_join_req sane_req(const struct ttft_join_req *r)
{
	struct ttft_join_req c = *r;
	c.t_sent = sane(c.t_sent);
	c.t_hdr = sane(c.t_hdr);
	c.t_first = sane(c.t_first);
	c.t_end_lo = sane(c.t_end_lo);
	c.t_end_hi = sane(c.t_end_hi);
	if (c.t_end_hi < c.t_end_lo)
		c.t_end_hi = c.t_end_lo;
	c.skew_ns = c.skew_ns > 0 && c.skew_ns < (INT64_C(1) << 60) ? c.skew_ns : 0;
	return c;
}

/* Whether the server counts moment k (vLLM's histograms' _count), so that
 * a window's count shows every request whose moment lies in it. */
static int has_count(int vllm, enum anchor k)
{
	return vllm && (k == A_FINISH || k == A_FIRST);
}

/* The interval the server's moment lies in, by the client's times. An end
 * that never came leaves it open: the server may count it any time later.
 * A request of several choices is several to the server, each with its
 * moments anywhere from its send to its end: where no count would show an
 * extra one (counters, not histograms), its whole life. */
static void interval(const struct ttft_join_req *req, enum anchor k, int vllm, int64_t *lo,
		     int64_t *hi)
{
	struct ttft_join_req c = sane_req(req);
	const struct ttft_join_req *r = &c;
	int64_t s = r->skew_ns;
	int64_t start = r->t_sent ? r->t_sent : INT64_MIN;
	int64_t end = r->t_end_hi ? r->t_end_hi : NEVER;
	int64_t first_or_end = r->t_first ? r->t_first : end;
	if (r->several && !has_count(vllm, k)) {
		*lo = sub(start, s);
		*hi = add(end, s);
		return;
	}
	switch (k) {
	case A_FINISH:
		*lo = r->t_end_lo ? r->t_end_lo : start;
		*hi = end;
		break;
	case A_FIRST:
		*lo = r->t_first && !r->reads_late ? r->t_first : start;
		*hi = first_or_end;
		break;
	case A_SCHED:
		*lo = start;
		*hi = first_or_end;
		break;
	default: /* A_PREFILL: headers ≈ slot start when they precede the token
		  * (llama.cpp's counters, without timings in the stream: this
		  * one trusts the headers' read to be prompt, docs/server-truth.md) */
		*lo = r->t_first && r->t_hdr && r->t_hdr <= r->t_first ? r->t_hdr
		    : r->t_first ? r->t_first : start;
		*hi = first_or_end;
		break;
	}
	*lo = sub(*lo, s);
	*hi = add(*hi, s);
}

static int64_t t0_of(const struct ttft_truth *t)
{
	return t->t0_ns ? t->t0_ns : t->t_ns;
}

/* How many snapshots' answers arrived before t (or by t): snapshots are in
 * time order, one GET at a time. */
static size_t arrived(const struct ttft_truth *sn, size_t n, int64_t t, int or_at)
{
	size_t l = 0, h = n;
	while (l < h) {
		size_t m = l + (h - l) / 2;
		if (sn[m].t_ns < t || (or_at && sn[m].t_ns == t))
			l = m + 1;
		else
			h = m;
	}
	return l;
}

/* The last snapshot certainly rendered before lo (its answer was in) and
 * the first certainly rendered after hi (its GET went out later); -1 when
 * there is none. */
static void window(const struct ttft_truth *sn, size_t n, int64_t lo, int64_t hi,
		   long *a, long *b)
{
	*a = (long)arrived(sn, n, lo, 0) - 1;
	*b = -1;
	for (size_t k = arrived(sn, n, hi, 1); k < n; k++)
		if (t0_of(&sn[k]) > hi) {
			*b = (long)k;
			break;
		}
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* How many of the sorted values are < x (or <= x). */
static size_t below(const int64_t *v, size_t n, int64_t x, int or_equal)
{
	size_t l = 0, h = n;
	while (l < h) {
		size_t m = l + (h - l) / 2;
		if (v[m] < x || (or_equal && v[m] == x))
			l = m + 1;
		else
			h = m;
	}
	return l;
}

/* How many of a joiner's intervals for one moment can reach into the
 * window (x, y): #(lo < y) - #(hi <= x), as lo <= hi. */
static int reaching(const struct ttft_join_spans *s, int64_t x, int64_t y)
{
	return (int)(below(s->lo, s->n, y, 0) - below(s->hi, s->n, x, 1));
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static int has(const struct ttft_truth *t, int id)
{
	return (t->have >> id) & 1;
}

static int is_vllm(const struct ttft_truth *a, const struct ttft_truth *b)
{
	return has(a, TR_QUEUE_CNT) && has(b, TR_QUEUE_CNT);
}

static int is_llamacpp(const struct ttft_truth *a, const struct ttft_truth *b)
{
	return has(a, TR_LC_PROMPT_S) && has(b, TR_LC_PROMPT_S);
}

static void clear(struct ttft_server_split *o)
{
	memset(o, 0, sizeof *o);
	o->queue_s = o->prefill_s = o->decode_s = o->server_ttft_s = o->hit_tokens = NAN;
	o->requests = NAN;
}

/* The parts must fit in what the client waited, request sent → first token
 * (→ the end, unstreamed): else they are not this request's alone. */
static void check_fit(const struct ttft_join_req *r, struct ttft_server_split *o)
{
	if (!o->source)
		return;
	double q = isnan(o->queue_s) ? 0 : o->queue_s;
	/* The same arithmetic as ttft_record_server_other_s(), so that what
	 * passes here is never negative there. */
	/* unstreamed: until the answer was read (the arrival's lower bound
	 * would make the wait short and refuse a split that fits, a review
	 * found) */
	int64_t until = r->t_first ? r->t_first : r->reads_late ? r->t_end_hi : r->t_end_lo;
	double waited = r->t_sent && until ? (double)(until - r->t_sent) / 1e9 : NAN;
	const char *bad = NULL;
	if (q < 0 || o->prefill_s < 0)
		bad = "a negative part";
	else if (!isnan(waited) && q + o->prefill_s > waited)
		bad = "more than the client waited";
	if (bad) {
		char note[512], qn[64] = ""; /* room for any number; the note keeps its start */
		/* an unknown queue is no part: not one to name (as 0) */
		if (!isnan(o->queue_s))
			snprintf(qn, sizeof qn, "queue %.3f ms + ", q * 1e3);
		snprintf(note, sizeof note, "refused: the server's %sprefill %.3f ms is %s "
			 "(%.3f ms, sent to %s): not this request's alone, or the client "
			 "stamped its send late (busy)", qn, o->prefill_s * 1e3, bad,
			 waited * 1e3, r->t_first ? "first token" : "the end");
		clear(o);
		snprintf(o->note, sizeof o->note, "%.*s", (int)sizeof o->note - 1, note);
		return;
	}
	if (!isnan(o->server_ttft_s) && !isnan(waited) && o->server_ttft_s > waited) {
		/* the window's first token was not this one, or the client's
		 * send was stamped after the server had it: either way not a
		 * number to show as this request's */
		if (!o->note[0])
			snprintf(o->note, sizeof o->note, "%s %.3f ms, more than the "
				 "client waited (%.3f ms from request sent to %s): not shown "
				 "(the client stamped its send late, busy?)",
				 TTFT_JOIN_NOTE_SERVER_TTFT, o->server_ttft_s * 1e3, waited * 1e3,
				 r->t_first ? "first token" : "the end");
		o->server_ttft_s = NAN;
	}
}

/* vLLM at the finish: queue, prefill, decode, with _count grown by one. */
static void vllm_finish(const struct ttft_truth *a, const struct ttft_truth *b,
			struct ttft_server_split *o)
{
	double n = ttft_truth_delta(a, b, TR_QUEUE_CNT);
	double q = ttft_truth_delta(a, b, TR_QUEUE_SUM);
	double p = ttft_truth_delta(a, b, TR_PREFILL_SUM);
	double np = ttft_truth_delta(a, b, TR_PREFILL_CNT);
	o->requests = n; /* the finishes the server counted in the window */
	if (n == 0) {
		snprintf(o->note, sizeof o->note, "the server counted no finish between "
			 "the snapshots around this request's end");
		return;
	}
	if (n != 1) {
		snprintf(o->note, sizeof o->note, "the window holds %.0f finishes: queue "
			 "%.4f s, prefill %.4f s in all (no per-request split)", n, q, p);
		return;
	}
	if (!isnan(np) && np != 1) {
		snprintf(o->note, sizeof o->note, "the queue and prefill histograms counted "
			 "%.0f and %.0f finishes in the window (a scrape between their "
			 "updates)", n, np);
		return;
	}
	o->source = TTFT_SPLIT_VLLM_METRICS;
	o->queue_s = q;
	o->prefill_s = p;
	if (ttft_truth_delta(a, b, TR_DECODE_CNT) == 1)
		o->decode_s = ttft_truth_delta(a, b, TR_DECODE_SUM);
}

/* vLLM's time_to_first_token histogram moves at the first token. */
static void vllm_first(const struct ttft_truth *a, const struct ttft_truth *b,
		       struct ttft_server_split *o)
{
	if (ttft_truth_delta(a, b, TR_TTFT_CNT) == 1)
		o->server_ttft_s = ttft_truth_delta(a, b, TR_TTFT_SUM);
}

/* vLLM's prefix-cache counters move when the scheduler takes a request. */
static void vllm_sched(const struct ttft_truth *a, const struct ttft_truth *b,
		       const struct ttft_join_req *r, struct ttft_server_split *o)
{
	/* The counters count tokens, not requests: a request the shim does
	 * not see, scheduled in the same window, would add its hits (a
	 * review found 368 on a 9-token prompt). Its own only when the
	 * queries grew by exactly its prompt tokens. */
	double q = ttft_truth_delta(a, b, TR_PC_QUERIES);
	if (r->prompt_tokens > 0 && has(a, TR_PC_QUERIES) && q == (double)r->prompt_tokens)
		o->hit_tokens = ttft_truth_delta(a, b, TR_PC_HITS);
}

/* llama.cpp's prompt counters move when a prefill ends. */
static void lc_prefill(const struct ttft_truth *a, const struct ttft_truth *b,
		       struct ttft_server_split *o)
{
	double p = ttft_truth_delta(a, b, TR_LC_PROMPT_S);
	if (!(p > 0)) {
		snprintf(o->note, sizeof o->note, "llama.cpp's prompt_seconds_total did not "
			 "move between the snapshots around this request's prefill");
		return;
	}
	o->source = TTFT_SPLIT_LLAMACPP_METRICS;
	o->prefill_s = p;
	o->hit_tokens = ttft_truth_delta(a, b, TR_LC_CACHED_TOK);
}

/* llama.cpp's generation counter moves when the request finishes. */
static void lc_finish(const struct ttft_truth *a, const struct ttft_truth *b,
		      struct ttft_server_split *o)
{
	o->decode_s = ttft_truth_delta(a, b, TR_LC_PREDICTED_S);
}

static int unusable(const struct ttft_join_req *r, struct ttft_server_split *o)
{
	if (!r->generate)
		return 1;
	if (r->several) {
		snprintf(o->note, sizeof o->note, "%s", TTFT_JOIN_NOTE_CHOICES);
		return 1;
	}
	if (r->elsewhere) {
		snprintf(o->note, sizeof o->note, "sent to another server than the one whose "
			 "/metrics were scraped: their pages say nothing of it");
		return 1;
	}
	if (!r->complete) {
		snprintf(o->note, sizeof o->note, "the request did not complete: the "
			 "server may not have counted it");
		return 1;
	}
	return 0;
}

void ttft_join_pair(const struct ttft_truth *a, const struct ttft_truth *b,
		    const struct ttft_join_req *req, struct ttft_server_split *o)
{
	struct ttft_join_req c = sane_req(req);
	const struct ttft_join_req *r = &c;
	clear(o);
	if (unusable(r, o) || ttft_truth_restarted(a, b, o->note, sizeof o->note))
		return;
	if (is_vllm(a, b)) {
		vllm_finish(a, b, o);
		if (o->source) {
			vllm_first(a, b, o);
			vllm_sched(a, b, r, o);
		}
	} else if (is_llamacpp(a, b)) {
		lc_prefill(a, b, o);
		if (o->source)
			lc_finish(a, b, o);
	} else {
		snprintf(o->note, sizeof o->note, "the /metrics page lacks vLLM's request "
			 "histograms and llama.cpp's counters");
	}
	check_fit(r, o);
}

/* Whether r's interval for moment k is among the ones counted: vLLM's
 * histograms count the requests they hold, so a request whose end (first
 * token) never came cannot hide in a window with a count of one — it would
 * make the count two. Every other moment counts nothing: there an open
 * interval stays in, and keeps later windows from being proved. */
static int counted(int vllm, enum anchor k, const struct ttft_join_req *r)
{
	if (!r->generate)
		return 0;
	if (vllm && k == A_FINISH)
		return sane(r->t_end_lo) != 0;
	if (vllm && k == A_FIRST)
		return sane(r->t_first) != 0;
	return 1;
}

/* The window around request r's moment k, with no restart in it, that no
 * other request can reach into: 1 with a and b set; else 0 with why in note
 * (when note), *later = 1 when only a snapshot after the moment is missing
 * (one may still come). */
static int clean(const struct ttft_joiner *j, const struct ttft_join_req *r,
		 enum anchor k, const struct ttft_truth **a, const struct ttft_truth **b,
		 char *note, size_t notelen, int *later)
{
	int64_t lo, hi;
	interval(r, k, j->vllm, &lo, &hi);
	long ia, ib;
	window(j->sn, j->nsn, lo, hi, &ia, &ib);
	if (ia < 0 || ib < 0) {
		if (note)
			snprintf(note, notelen, "no usable /metrics snapshot %s the moment "
				 "this request %s (±%.1f ms)", ia < 0 ? "before" : "after",
				 anchor_what[k], ms(r->skew_ns));
		if (later)
			*later = ia >= 0;
		return 0;
	}
	*a = &j->sn[ia];
	*b = &j->sn[ib];
	char why[160];
	if (ttft_truth_restarted(*a, *b, why, sizeof why)) {
		if (note)
			snprintf(note, notelen, "%s", why);
		return 0;
	}
	int others = reaching(&j->sp[k], t0_of(*a), (*b)->t_ns) -
		     counted(j->vllm, k, r);
	if (others > 0) {
		if (note)
			snprintf(note, notelen, "%d other request%s %s within the %.1f ms "
				 "between the snapshots around this one's (±%.1f ms): whose "
				 "numbers are whose cannot be proved", others,
				 others == 1 ? "" : "s", anchor_what[k],
				 ((double)(*b)->t_ns - (double)t0_of(*a)) / 1e6, ms(r->skew_ns));
		return 0;
	}
	return 1;
}

int64_t ttft_join_reach(const struct ttft_join_req *r)
{
	int64_t reach = INT64_MIN;
	for (int k = 0; k < A__N; k++) {
		int64_t lo, hi;
		interval(r, (enum anchor)k, 0, &lo, &hi); /* the widest */
		if (hi > reach)
			reach = hi;
	}
	return reach;
}

int ttft_joiner_init(struct ttft_joiner *j, const struct ttft_truth *snaps, size_t nsnaps,
		     const struct ttft_join_req *reqs, size_t nreqs)
{
	memset(j, 0, sizeof *j);
	j->sn = snaps;
	j->nsn = nsnaps;
	j->vllm = nsnaps && is_vllm(&snaps[0], &snaps[nsnaps - 1]);
	j->kind = j->vllm || (nsnaps && is_llamacpp(&snaps[0], &snaps[nsnaps - 1]));
	for (int k = 0; k < A__N && j->kind; k++) {
		struct ttft_join_spans *sp = &j->sp[k];
		sp->lo = malloc((nreqs + 1) * sizeof(int64_t));
		sp->hi = malloc((nreqs + 1) * sizeof(int64_t));
		if (!sp->lo || !sp->hi) {
			ttft_joiner_free(j);
			return -1;
		}
		for (size_t i = 0; i < nreqs; i++)
			if (counted(j->vllm, (enum anchor)k, &reqs[i])) {
				interval(&reqs[i], (enum anchor)k, j->vllm, &sp->lo[sp->n],
					 &sp->hi[sp->n]);
				sp->n++;
			}
		qsort(sp->lo, sp->n, sizeof(int64_t), cmp_i64);
		qsort(sp->hi, sp->n, sizeof(int64_t), cmp_i64);
	}
	return 0;
}

void ttft_joiner_free(struct ttft_joiner *j)
{
	for (int k = 0; k < A__N; k++) {
		free(j->sp[k].lo);
		free(j->sp[k].hi);
	}
	memset(j, 0, sizeof *j);
}

int ttft_joiner_one(const struct ttft_joiner *j, const struct ttft_join_req *req,
		    struct ttft_server_split *o)
{
	struct ttft_join_req c = sane_req(req);
	const struct ttft_join_req *r = &c;
	clear(o);
	if (unusable(r, o))
		return 1;
	if (!j->kind) {
		snprintf(o->note, sizeof o->note, "%s", !j->nsn ? "no usable /metrics "
			 "snapshot" : "the /metrics page lacks vLLM's request histograms "
			 "and llama.cpp's counters");
		return j->nsn != 0;
	}
	const struct ttft_truth *a, *b;
	int later = 0;
	if (!clean(j, r, j->vllm ? A_FINISH : A_PREFILL, &a, &b, o->note, sizeof o->note,
		   &later))
		return !later;
	if (j->vllm) {
		/* The one finish the server counted is this request's only if
		 * no other could have ended in the window (see clean()). */
		vllm_finish(a, b, o);
		if (o->source && clean(j, r, A_FIRST, &a, &b, NULL, 0, NULL))
			vllm_first(a, b, o);
		if (o->source && clean(j, r, A_SCHED, &a, &b, NULL, 0, NULL))
			vllm_sched(a, b, r, o);
	} else {
		lc_prefill(a, b, o);
		if (o->source && clean(j, r, A_FINISH, &a, &b, NULL, 0, NULL))
			lc_finish(a, b, o);
	}
	check_fit(r, o);
	return 1;
}

int ttft_join(const struct ttft_truth *snaps, size_t nsnaps,
	      const struct ttft_join_req *reqs, size_t nreqs,
	      struct ttft_server_split *out)
{
	struct ttft_joiner j;
	int rc = ttft_joiner_init(&j, snaps, nsnaps, reqs, nreqs);
	for (size_t i = 0; i < nreqs; i++) {
		if (rc == 0) {
			ttft_joiner_one(&j, &reqs[i], &out[i]);
			continue;
		}
		clear(&out[i]);
		if (reqs[i].generate)
			snprintf(out[i].note, sizeof out[i].note, "out of memory joining the "
				 "/metrics snapshots");
	}
	ttft_joiner_free(&j);
	return rc;
}

void ttft_join_timings(const struct ttft_join_req *req, double prompt_ms,
		       double predicted_ms, double cache_n, struct ttft_server_split *o)
{
	struct ttft_join_req c = sane_req(req);
	const struct ttft_join_req *r = &c;
	clear(o);
	if (isnan(prompt_ms) || prompt_ms < 0) {
		snprintf(o->note, sizeof o->note, "llama.cpp's timings carry no prompt_ms");
		return;
	}
	o->source = TTFT_SPLIT_LLAMACPP_TIMINGS;
	o->prefill_s = prompt_ms / 1e3;
	o->decode_s = isnan(predicted_ms) ? NAN : predicted_ms / 1e3;
	o->hit_tokens = cache_n;
	if (!r->t_first || !r->t_hdr || !r->t_sent) {
		snprintf(o->note, sizeof o->note, "queue unknown: not streamed (llama.cpp "
			 "sends the headers with the answer)");
	} else {
		/* Headers go out when a slot takes the request: their arrival ends
		 * the queue, if the client read them before the prefill could
		 * have ended. */
		int64_t q = r->t_hdr - r->t_sent, gap = r->t_first - r->t_hdr;
		if (q >= 0 && (double)gap / 1e9 >= o->prefill_s)
			o->queue_s = (double)q / 1e9;
		else
			snprintf(o->note, sizeof o->note, "queue unknown: the headers arrived "
				 "%.3f ms before the first token, less than the prefill took "
				 "(%.3f ms): they do not mark where the queue ended", ms(gap),
				 prompt_ms);
	}
	check_fit(r, o);
}
