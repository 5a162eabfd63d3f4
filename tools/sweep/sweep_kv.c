/* sweep_kv.c — KV scaling: for one server configuration, each prompt
 * length × each concurrency: N requests with C in flight, every prompt its
 * own (no prefix-cache hits, so that every request pays its prefill). Per
 * point: TTFT p50/p99, each request's queue share of its TTFT, throughput,
 * and the server's own queue and KV state while it ran. Then the knee: at
 * which concurrency requests began to wait, against the one the server's
 * stated capacity predicts. */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_clock.h"

/* The queue a request waited, and where that number comes from:
 * - the record's own split (vLLM's metrics, when the probe could
 *   attribute them to this one request);
 * - llama.cpp: it sends the response headers when a slot starts the
 *   request's prompt (server-context.cpp: "signal HTTP to send the
 *   headers"), so request sent → headers is the wait for a slot (plus the
 *   HTTP hand-off and tokenization, which are there at any load); only
 *   for a request with no split of its own (no timings): where it has
 *   one, that split has said whether the headers mark the queue's end. */
static void queue_of(struct sweep_req *q, const char *kind)
{
	const struct ttft_record *r = &q->rec;
	if (isfinite(q->queue_s))
		return;
	/* The record's own split (llama.cpp's timings) has judged the
	 * headers already: it leaves the queue unknown where they came
	 * less than the prefill before the first token (the llama-server
	 * tools/engine.sh builds sends them with the token). Request sent →
	 * headers then holds the prefill: no queue (a review measured
	 * "queued 70% of TTFT" at concurrency 1 on one slot). */
	if (ttft_record_split(r)->source)
		return;
	if (!strcmp(kind, "llamacpp") && r->ok && r->t_req1 && r->t_hdr >= r->t_req1) {
		q->queue_s = (double)(r->t_hdr - r->t_req1) / 1e9;
		q->queue_source = "llamacpp-headers";
	}
}

static void point(const struct sweep_opts *o, struct sweep_srv *srv, const char *filler,
		  long want, int conc, struct sweep_kv_point *pt, int si)
{
	int n = o->kv_requests ? o->kv_requests : conc * 3 < 4 ? 4 : conc * 3;
	pt->conc = conc;
	pt->nreq = pt->planned = n;
	pt->status = SWEEP_COMPLETE;
	char **pr = calloc((size_t)n, sizeof *pr);
	pt->req = calloc((size_t)n, sizeof *pt->req);
	double *ttft = calloc((size_t)n, sizeof *ttft), *share = calloc((size_t)n, sizeof *share);
	double *q = calloc((size_t)n, sizeof *q), *pt_tok = calloc((size_t)n, sizeof *pt_tok);
	int ok = pr && pt->req && ttft && share && q && pt_tok;
	for (int i = 0; ok && i < n; i++) {
		/* the request's own number first: no two prompts share a prefix */
		size_t len = strlen(filler) + 64;
		pr[i] = malloc(len);
		if (pr[i])
			snprintf(pr[i], len, "[%d-%d-%ld-%d-%u] %s", i, conc, want, si, o->run_id,
				 filler);
		ok = pr[i] != NULL;
	}
	if (!ok) {
		pt->failed = n;
		snprintf(pt->error, sizeof pt->error, "out of memory");
		goto out;
	}
	struct probe_cfg cfg = o->probe;
	cfg.metrics = srv->has_metrics;
	cfg.no_prompt_cache = !strcmp(srv->kind, "llamacpp");
	struct sweep_sampler smp = {.cfg = &o->probe, .kind = srv->kind,
				    .use_metrics = srv->has_metrics,
				    .use_slots = !strcmp(srv->kind, "llamacpp"),
				    .kv_cells = isfinite(srv->cap.kv_tokens) ? srv->cap.kv_tokens : 0};
	struct ttft_server_split w;
	int have_w = 0, begun = n;
	sweep_sampler_start(&smp);
	pt->failed = sweep_requests(&cfg, conc, pr, n, pt->req, &pt->t0, &w, &have_w, &begun,
				    &pt->cut, pt->error, sizeof pt->error);
	pt->wall_s = (double)(ttft_now_ns() - pt->t0) / 1e9;
	sweep_sampler_stop(&smp);
	pt->state = smp.st;
	if (pt->failed < 0) {
		pt->failed = n;
		goto out;
	}
	if (begun < n || pt->cut) {
		/* stopped: what ran is kept (the requests), but no figure of a
		 * point whose slowest requests were cut or never sent is the
		 * point's */
		pt->status = SWEEP_INTERRUPTED;
		pt->nreq = begun;
		pt->ttft_p50 = pt->ttft_p90 = pt->ttft_p99 = NAN;
		pt->queue_share_p50 = pt->queue_share_p90 = pt->queue_p50 = NAN;
		pt->queue_share_all = pt->out_tok_s = pt->req_s = pt->wall_s = NAN;
		for (int i = 0; i < begun; i++)
			pt->ttft_n += pt->req[i].rec.ok;
		double ptk;
		for (int i = 0; i < n; i++)
			pt_tok[i] = pt->req[i].rec.prompt_tokens > 0
				    ? (double)pt->req[i].rec.prompt_tokens : NAN;
		ptk = sweep_pct(pt_tok, n, 0.5);
		pt->prompt_tokens = isfinite(ptk) ? (long)ptk : -1;
		goto out;
	}
	long toks = 0;
	pt->tok_events = 0;
	pt->queue_known = 0;
	pt->queue_source = NULL;
	for (int i = 0; i < n; i++) {
		struct sweep_req *d = &pt->req[i];
		const struct ttft_record *r = &d->rec;
		queue_of(d, srv->kind);
		ttft[i] = r->ok ? ttft_record_ttft_s(r) : NAN;
		q[i] = r->ok ? d->queue_s : NAN;
		share[i] = r->ok && isfinite(d->queue_s) && ttft[i] > 0 ? d->queue_s / ttft[i] : NAN;
		pt_tok[i] = r->prompt_tokens > 0 ? (double)r->prompt_tokens : NAN;
		pt->ttft_n += isfinite(ttft[i]);
		if (isfinite(share[i])) {
			pt->queue_known++;
			pt->queue_source = d->queue_source;
		}
		if (r->ok) {
			/* a count not known adds nothing: the total is then a
			 * lower bound too, said as the events' is */
			long tk = ttft_record_tokens(r);
			toks += tk > 0 ? tk : 0;
			pt->tok_events += tk < 0 ||
					  ttft_record_tokens_source(r) == TTFT_TOKENS_EVENTS;
		}
	}
	/* the share of all TTFT spent queued: from the requests' own queue
	 * values, else from vLLM's queue histogram summed over the point
	 * (when the window holds exactly this point's requests) */
	double sq = 0, st = 0, all = 0;
	for (int i = 0; i < n; i++) {
		if (isfinite(q[i]) && isfinite(ttft[i])) {
			sq += q[i];
			st += ttft[i];
		}
		all += isfinite(ttft[i]) ? ttft[i] : 0;
	}
	pt->queue_share_all = NAN;
	pt->share_source = NULL;
	if (pt->queue_known * 2 >= n && st > 0) {
		pt->queue_share_all = sq / st;
		pt->share_source = pt->queue_source;
	} else if (have_w && w.source && w.requests == n - pt->failed && isfinite(w.queue_s) &&
		   all > 0) {
		pt->queue_share_all = w.queue_s / all;
		pt->share_source = "vllm-metrics sums over the point";
	}
	pt->ttft_p50 = sweep_pct(ttft, n, 0.5);
	pt->ttft_p90 = sweep_pct(ttft, n, 0.9);
	pt->ttft_p99 = sweep_pct(ttft, n, 0.99);
	pt->queue_p50 = sweep_pct(q, n, 0.5);
	pt->queue_share_p50 = sweep_pct(share, n, 0.5);
	pt->queue_share_p90 = sweep_pct(share, n, 0.9);
	pt->share_n = pt->queue_known;
	double ptk = sweep_pct(pt_tok, n, 0.5);
	pt->prompt_tokens = isfinite(ptk) ? (long)ptk : -1;
	pt->out_tok_s = pt->wall_s > 0 ? (double)toks / pt->wall_s : NAN;
	pt->req_s = pt->wall_s > 0 ? (double)(n - pt->failed) / pt->wall_s : NAN;
out:
	for (int i = 0; pr && i < n; i++)
		free(pr[i]);
	free(ttft), free(share), free(q), free(pt_tok), free(pr);
}

int sweep_kv_run(const struct sweep_opts *o, struct sweep_srv *srv, struct sweep_kv *out)
{
	out->ran = 1;
	for (int p = 0; p < o->nprompt && !sweep_stop; p++) {
		if (out->ns >= (int)(sizeof out->s / sizeof out->s[0]))
			break;
		struct sweep_kv_series *s = &out->s[out->ns];
		memset(s, 0, sizeof *s);
		snprintf(s->cfg, sizeof s->cfg, "%s", srv->label);
		s->want_tokens = o->prompt_tokens[p];
		s->cap = srv->cap;
		s->kind = srv->kind;
		/* the server's exit, said in out->error (512) with the rest:
		 * 400 of it at most (gcc at -O1 counts the whole) */
		char err[400] = "", lead[64];
		const struct sweep_kv_series *prev = out->ns ? &out->s[out->ns - 1] : NULL;
		int prev_failed = prev && prev->npts && prev->pts[prev->npts - 1].failed;
		if (sweep_srv_gone(srv, prev_failed, err, sizeof err)) {
			snprintf(out->error, sizeof out->error, "%s: its points from %ld-token "
				 "prompts on were not run", err, s->want_tokens);
			return -1;
		}
		long got = 0;
		const char *how = "";
		snprintf(lead, sizeof lead, "Context %u.", o->run_id);
		char *filler = sweep_text_of(&o->probe, srv->kind, lead, s->want_tokens, &got, &how,
					     err, sizeof err);
		if (sweep_stop) { /* stopped while measuring it: not run */
			free(filler);
			break;
		}
		if (!filler) {
			snprintf(out->error, sizeof out->error, "[%s] cannot measure a %ld-token "
				 "prompt: %.400s", srv->label, s->want_tokens, err);
			return -1;
		}
		out->ns++;
		for (int c = 0; c < o->nconc && !sweep_stop; c++) {
			/* a started server that died: the rest of its grid is not
			 * sent to a port nobody listens on (every request of it
			 * "failed" as "is the server up?", and the report never
			 * said the server had gone); those points are listed as
			 * not run */
			char gone[200];
			if (sweep_srv_gone(srv, c && s->pts[s->npts - 1].failed, gone,
					   sizeof gone)) {
				snprintf(out->error, sizeof out->error, "%s: its points from "
					 "%ld-token prompts at concurrency %d on were not run", gone,
					 s->want_tokens, o->conc[c]);
				sweep_kv_knee(s, o->probe.max_tokens);
				free(filler);
				return -1;
			}
			struct sweep_kv_point *pt = &s->pts[s->npts++];
			point(o, srv, filler, s->want_tokens, o->conc[c], pt, out->ns);
			if (pt->status == SWEEP_INTERRUPTED) {
				sweep_say(o, "[%s] prompt %ld tokens, concurrency %d: interrupted "
						"(%d of %d requests begun, %d cut in flight)\n",
					srv->label, pt->prompt_tokens > 0 ? pt->prompt_tokens
					: s->want_tokens, pt->conc, pt->nreq, pt->planned,
					pt->cut);
				continue;
			}
			/* none served: no prompt count, TTFT or share to give */
			char ptk[32], tt[32], qs[32];
			snprintf(ptk, sizeof ptk, pt->prompt_tokens >= 0 ? "%ld" : "%ld (asked)",
				 pt->prompt_tokens >= 0 ? pt->prompt_tokens : s->want_tokens);
			snprintf(tt, sizeof tt, isfinite(pt->ttft_p50) ? "%.1f ms" : "-",
				 pt->ttft_p50 * 1e3);
			snprintf(qs, sizeof qs, isfinite(pt->queue_share_all) ? "%.0f%%" : "unknown",
				 pt->queue_share_all * 100);
			sweep_say(o, "[%s] prompt %s tokens, concurrency %d: %d requests, TTFT "
					"p50 %s, queued %s of TTFT%s%s\n", srv->label, ptk, pt->conc,
				pt->nreq, tt, qs, pt->failed ? ", failed: " : "",
				pt->failed ? pt->error : "");
		}
		free(filler);
		/* stopped between two points: the rest of the grid not run */
		if (sweep_stop && s->npts < o->nconc &&
		    (!s->npts || s->pts[s->npts - 1].status != SWEEP_INTERRUPTED))
			s->cut_before = o->conc[s->npts];
		sweep_kv_knee(s, o->probe.max_tokens);
	}
	return sweep_stop ? -1 : 0;
}

/* The swept concurrency at or below c (the grid's view of a number). */
static int on_grid(const struct sweep_kv_series *s, int c)
{
	int g = 0;
	for (int i = 0; i < s->npts; i++)
		if (s->pts[i].conc <= c)
			g = s->pts[i].conc;
	return g;
}

const char *const sweep_kv_by_gauge = "the server reported requests waiting";

/* waiting told by a proxy at a point where the server's own count was
 * sampled and never saw a request wait */
static int proxy_unconfirmed(const struct sweep_kv_series *s)
{
	if (!s->waited_by || s->waited_by == sweep_kv_by_gauge)
		return 0;
	for (int i = 0; i < s->npts; i++)
		if (s->pts[i].conc == s->waited_from)
			return isfinite(s->pts[i].state.waiting_max) &&
			       s->pts[i].state.waiting_max < 1;
	return 0;
}

static void explain(struct sweep_kv_series *s)
{
	int pg = on_grid(s, s->predicted_knee);
	int top = s->npts ? s->pts[s->npts - 1].conc : 0;
	const char *what = s->waited_by ? s->waited_by : s->criterion;
	if (s->interrupted_at && !s->waited_from) {
		int n = snprintf(s->explain, sizeof s->explain, "not known: the sweep was "
				 "interrupted at concurrency %d, before any request was seen "
				 "waiting", s->interrupted_at);
		if (s->measured_knee && n > 0 && (size_t)n < sizeof s->explain)
			snprintf(s->explain + n, sizeof s->explain - (size_t)n, "; none waited up "
				 "to %d, the last concurrency run whole", s->measured_knee);
		return;
	}
	if (s->failed_from && !s->waited_from) {
		const struct sweep_kv_point *f = NULL;
		for (int i = 0; i < s->npts && !f; i++)
			if (s->pts[i].conc == s->failed_from)
				f = &s->pts[i];
		int n = snprintf(s->explain, sizeof s->explain, "not known: requests failed at "
				 "concurrency %d (%d of %d), so where waiting began is not "
				 "measured", s->failed_from, f ? f->failed : 0, f ? f->nreq : 0);
		if (s->measured_knee && n > 0 && (size_t)n < sizeof s->explain)
			snprintf(s->explain + n, sizeof s->explain - (size_t)n, "; none waited up "
				 "to %d, the last concurrency below it", s->measured_knee);
		return;
	}
	if (!s->predicted_knee) {
		snprintf(s->explain, sizeof s->explain, "no prediction (%s)", s->predicted_why);
	} else if (sweep_kv_per_engine(s)) {
		/* the measured knee is the whole server's, the prediction one
		 * engine's: how the server spread its requests over the
		 * engines lies between them, and no line states it */
		int e = s->cap.kv_engines, k1 = s->predicted_knee;
		int n = s->waited_from
			? snprintf(s->explain, sizeof s->explain, "from concurrency %d %s; ",
				   s->waited_from, what)
			: snprintf(s->explain, sizeof s->explain, "no request waited up to "
				   "concurrency %d; ", top);
		if (n > 0 && (size_t)n < sizeof s->explain)
			snprintf(s->explain + n, sizeof s->explain - (size_t)n, "one engine holds %d "
				 "of these requests at once, the %d engines together up to %ld when "
				 "the server spreads its requests evenly over them: not compared "
				 "with the whole server's knee", k1, e, (long)k1 * e);
	} else if (!s->waited_from && s->predicted_knee >= top) {
		snprintf(s->explain, sizeof s->explain, "as predicted: no request waited up to "
			 "concurrency %d, and the stated capacity (%d) is above the sweep", top,
			 s->predicted_knee);
	} else if (!s->waited_from) {
		snprintf(s->explain, sizeof s->explain, "requests did not wait even at %d, above "
			 "the predicted %d: the server held more than its stated capacity (blocks are "
			 "taken as tokens arrive; short requests finish before others need theirs), "
			 "or the sweep did not reach steady state", top, s->predicted_knee);
	} else if (s->measured_knee == pg && pg == s->predicted_knee) {
		snprintf(s->explain, sizeof s->explain, "as predicted: from concurrency %d %s",
			 s->waited_from, what);
	} else if (s->measured_knee == pg) {
		snprintf(s->explain, sizeof s->explain, "as predicted, as far as the sweep can "
			 "tell: from concurrency %d %s (the predicted %d lies between %d and %d)",
			 s->waited_from, what, s->predicted_knee, pg, s->waited_from);
	} else if (s->measured_knee < pg && proxy_unconfirmed(s)) {
		/* told by a proxy where the server's own count, sampled, never
		 * saw a request wait: the queued share and the TTFT median also
		 * grow when requests wait for the engine's loop or a busy CPU,
		 * not for capacity (CI: one slot of two taken at concurrency 2,
		 * a 2-core machine, "measured 1, predicted 2") */
		snprintf(s->explain, sizeof s->explain, "earlier than predicted, by a proxy only: "
			 "at %d %s, below the %d the stated capacity holds, but the server's own "
			 "count of waiting requests never saw one there (its samples missed the "
			 "point's full load); the proxy also grows when requests wait for the "
			 "engine's loop or a busy CPU, not for capacity: not proof that "
			 "capacity ran out", s->waited_from, what, s->predicted_knee);
	} else if (s->measured_knee < pg) {
		snprintf(s->explain, sizeof s->explain, "earlier than predicted: at %d %s, below "
			 "the %d the stated capacity holds; something other than KV space ran "
			 "out first (vLLM: --max-num-seqs or the prefill token budget "
			 "--max-num-batched-tokens; llama.cpp: slots busy longer than one "
			 "request's service time)", s->waited_from, what, s->predicted_knee);
	} else {
		snprintf(s->explain, sizeof s->explain, "later than predicted: requests waited only "
			 "from %d, above the predicted %d (the server held more than its stated "
			 "capacity, or requests finished before the next ones arrived)",
			 s->waited_from, s->predicted_knee);
	}
}

int sweep_kv_per_engine(const struct sweep_kv_series *s)
{
	return s->predicted_knee && s->cap.kv_engines > 1 &&
	       strcmp(s->kind ? s->kind : "", "llamacpp") != 0;
}

int sweep_kv_knee_known(const struct sweep_kv_series *s)
{
	if (s->failed_from && s->npts && s->failed_from == s->pts[0].conc)
		return 0; /* failed at the lowest concurrency */
	return !(s->interrupted_at && !s->waited_from);
}

void sweep_kv_knee(struct sweep_kv_series *s, int max_tokens)
{
	/* measured, by the best signal every point has: the server's own
	 * count of waiting requests (vLLM num_requests_waiting, llama.cpp
	 * requests_deferred: a request waits for capacity, not for compute);
	 * else the queue share of all TTFT grown 10 points over the lowest
	 * concurrency's (llama.cpp's request → slot time includes a hand-off
	 * that is there at any load); else the TTFT median grown 1.5× (a
	 * p90 needs 10 requests a point: the lowest concurrencies have 4
	 * to 9, and a p90 that is not there cannot be compared) */
	/* the points the sweep ran whole: a cut one (and none run after it)
	 * is no evidence either way */
	int whole = 0;
	while (whole < s->npts && s->pts[whole].status != SWEEP_INTERRUPTED)
		whole++;
	int gauge = whole > 0, share = whole > 0;
	for (int i = 0; i < whole; i++) {
		gauge &= isfinite(s->pts[i].state.waiting_max);
		share &= isfinite(s->pts[i].queue_share_all);
	}
	s->criterion = gauge ? "the server reported requests waiting"
		       : share ? "the queued share of all TTFT grew over 10 points"
		       : "the TTFT median grew over 1.5x";
	/* the gauge is sampled (every 50 ms): a sample that saw a request
	 * waiting is proof, but samples that saw none prove nothing unless
	 * they saw the point's load, all C requests running at once; a
	 * short point's samples can fall between its requests (a review:
	 * one slot, concurrency 3, 55% of TTFT queued by the server's own
	 * timings, samples "0 running / 0 waiting", called served without
	 * waiting "above the predicted 1"). Such a point is judged by the
	 * next criterion. */
	int fell_back = 0;
	s->measured_knee = 0;
	s->waited_from = 0;
	s->waited_by = NULL;
	s->failed_from = 0;
	s->interrupted_at = 0;
	const struct sweep_kv_point *lo = s->npts ? &s->pts[0] : NULL;
	for (int i = 0; i < s->npts; i++) {
		const struct sweep_kv_point *p = &s->pts[i];
		if (p->status == SWEEP_INTERRUPTED && !p->failed) {
			s->interrupted_at = p->conc;
			break;
		}
		/* a point where requests failed (refused, reset, cut) was not
		 * served: its figures are the survivors', so neither it nor a
		 * higher concurrency says where waiting began (a review found
		 * 2 of 24 served called "served without waiting") */
		if (p->failed) {
			s->failed_from = p->conc;
			break;
		}
		int seen = gauge && (p->state.waiting_max >= 1 ||
				     p->state.running_max >= p->conc);
		if (gauge && !seen)
			fell_back = 1;
		int waits = seen ? p->state.waiting_max >= 1
			    : share ? p->queue_share_all - lo->queue_share_all > 0.10
			    : p->ttft_p50 > 1.5 * lo->ttft_p50;
		if (waits) {
			s->waited_from = p->conc;
			s->waited_by = seen ? sweep_kv_by_gauge
				       : share ? "the queued share of all TTFT grew over 10 points"
				       : "the TTFT median grew over 1.5x";
			break;
		}
		s->measured_knee = p->conc;
	}
	if (fell_back)
		s->criterion = share ? "the server reported requests waiting; where its samples "
				       "never saw a point's requests all running at once, the "
				       "queued share of all TTFT grew over 10 points"
			       : "the server reported requests waiting; where its samples never "
				 "saw a point's requests all running at once, the TTFT median "
				 "grew over 1.5x";
	/* the grid cut after the last point run: as if stopped in the next */
	if (!s->interrupted_at && !s->waited_from && !s->failed_from && s->cut_before)
		s->interrupted_at = s->cut_before;

	/* predicted: how many requests of this size the stated capacity holds */
	long ptok = -1;
	for (int i = 0; i < s->npts && ptok < 0; i++)
		ptok = s->pts[i].prompt_tokens;
	if (ptok < 0)
		ptok = s->want_tokens;
	s->per_request_tokens = ptok + max_tokens;
	const struct sweep_capacity *c = &s->cap;
	long need = s->per_request_tokens;
	s->predicted_knee = 0;
	if (!strcmp(s->kind ? s->kind : "", "llamacpp") && c->slots > 0 && c->slot_ctx > 0) {
		if (need > c->slot_ctx) {
			s->predicted_knee = 0;
			snprintf(s->predicted_why, sizeof s->predicted_why,
				 "a request needs %ld tokens (prompt %ld + max_tokens %d) but a slot "
				 "holds %d: refused at any concurrency", need, ptok, max_tokens,
				 c->slot_ctx);
		} else if (c->unified) {
			long fit = (long)(c->slot_ctx / need);
			s->predicted_knee = (int)(fit < c->slots ? fit : c->slots);
			snprintf(s->predicted_why, sizeof s->predicted_why,
				 "%d slots sharing one pool of %d cells: min(%d slots, %d cells / %ld "
				 "tokens a request = %ld)", c->slots, c->slot_ctx, c->slots,
				 c->slot_ctx, need, fit);
		} else {
			s->predicted_knee = c->slots;
			snprintf(s->predicted_why, sizeof s->predicted_why,
				 "%d slot%s (-np) of %d cells each; a request of %ld tokens fits one, "
				 "so request %d waits for a slot", c->slots, c->slots == 1 ? "" : "s",
				 c->slot_ctx, need, c->slots + 1);
		}
	} else if (isfinite(c->kv_tokens) && c->kv_tokens > 0) {
		int blk = c->block > 0 ? c->block : 16;
		long blocks = (need + blk - 1) / blk;
		long fit = (long)(c->kv_tokens / (double)(blocks * blk));
		s->predicted_knee = (int)(fit > 1000000 ? 1000000 : fit);
		int n = c->kv_engines > 1
			? snprintf(s->predicted_why, sizeof s->predicted_why,
				   "each of the %d data-parallel engines logged its own KV cache "
				   "(the smallest %.0f tokens): %.0f / %ld tokens a request (%ld "
				   "blocks of %d) = %ld at once in each engine, not in the whole "
				   "server", c->kv_engines, c->kv_tokens, c->kv_tokens, need, blocks,
				   blk, fit)
			: snprintf(s->predicted_why, sizeof s->predicted_why,
				   "KV cache of %.0f tokens / %ld tokens a request (%ld blocks of "
				   "%d) = %ld at once", c->kv_tokens, need, blocks, blk, fit);
		if (c->max_num_seqs > 0 && c->max_num_seqs < s->predicted_knee) {
			s->predicted_knee = c->max_num_seqs;
			snprintf(s->predicted_why + n, sizeof s->predicted_why - (size_t)n,
				 "; --max-num-seqs %d caps it", c->max_num_seqs);
		}
	} else {
		snprintf(s->predicted_why, sizeof s->predicted_why,
			 "the server stated no capacity (vLLM: pass --server-log with its "
			 "start-up log; llama.cpp: /props did not answer)");
	}
	explain(s);
}
