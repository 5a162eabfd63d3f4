/* sweep_prefix.c — prefix caching: for each prefix length, K requests that
 * share a long prefix (distinct suffixes) served with the cache off
 * (misses), then one prime and K more served with it on (hits). The
 * server says how many tokens it took from its cache (llama.cpp's
 * timings.cache_n, vLLM's prefix_cache_hits_total deltas). */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_clock.h"
#include "ttft_summary.h"

double sweep_pct(const double *v, int n, double q)
{
	double *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
	size_t k = 0;
	for (int i = 0; w && i < n; i++)
		if (isfinite(v[i]))
			w[k++] = v[i];
	double p = w ? ttft_percentile(w, k, q) : NAN;
	free(w);
	return p;
}

const char *sweep_status_name(enum sweep_status st)
{
	return st == SWEEP_COMPLETE ? "complete" : st == SWEEP_INTERRUPTED ? "interrupted"
		: st == SWEEP_NOT_RUN ? "not_run" : "incomplete";
}

int sweep_requests(const struct probe_cfg *cfg, int conc, char **prompts, int n,
		   struct sweep_req *out, int64_t *t0, struct ttft_server_split *window,
		   int *have_window, int *started, int *cut, char *err, size_t errlen)
{
	struct ttft_record *r = calloc((size_t)(n > 0 ? n : 1), sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct probe_cfg c = *cfg;
	c.prompts = (const char *const *)prompts;
	struct probe_run run = {.cfg = &c, .conc = conc};
	*t0 = ttft_now_ns();
	int failed = probe_run(&run, r, n, err, errlen);
	/* requests begin in order: the ones never begun are the tail */
	*started = 0;
	*cut = 0;
	while (*started < n && (r[*started].t_start || r[*started].error))
		++*started;
	for (int i = 0; i < n; i++)
		*cut += r[i].interrupted;
	if (failed > 0)
		failed -= *cut; /* the stop's doing, not the server's */
	/* answered, but no token came: no TTFT was measured, so the request
	 * was not served as one (a point of 6 "served, 0 failed" had its
	 * TTFT p50 from 2: the other 4 streamed only [DONE]) */
	for (int i = 0; i < n && failed >= 0; i++)
		if (r[i].ok && !r[i].interrupted && isnan(ttft_record_ttft_s(&r[i]))) {
			ttft_record_set_error(&r[i], "no token streamed (HTTP %d, no event "
					      "carried one): no TTFT", r[i].status);
			failed++;
		}
	for (int i = 0; i < n; i++) {
		/* the records move into out: their buffers go with them */
		const struct ttft_server_split *sp = ttft_record_split(&r[i]);
		out[i] = (struct sweep_req){r[i], sp->queue_s,
					    isfinite(sp->queue_s) ? sp->source : NULL};
		if (failed > 0 && !r[i].ok && !r[i].interrupted && !err[0])
			snprintf(err, errlen, "request %d failed: %s", i + 1,
				 ttft_record_error(&r[i]));
	}
	free(r);
	if (window)
		*window = run.window;
	if (have_window)
		*have_window = run.have_window;
	return failed;
}

void sweep_reqs_free(struct sweep_req *q, int n)
{
	for (int i = 0; q && i < n; i++)
		ttft_record_free(&q[i].rec);
}

/* A question that no other request of the run asks: the i-th of the
 * misses (hit 0) or of the prime and the hits (hit 1). The i-th miss and
 * the i-th hit were one question: a server that keeps what a miss computed
 * ("cache_prompt": false stops llama.cpp reusing a cache, not filling it;
 * its RAM prompt cache keeps the prompt) served the hit whole from it, and
 * counted the question as cached too (81 cached tokens for a 65-token
 * prefix). They now part right after the number, at its mark, as long in
 * both. */
static void suffix(char *out, size_t n, int i, int hit)
{
	static const char *const topic[] = {"river", "engine", "garden", "signal", "harbor",
					    "planet", "library", "forest", "camera", "village"};
	/* the number first: the prompts part right after the shared prefix */
	snprintf(out, n, "\n%d%c What does the text say about the %s and the %s?\nAnswer:",
		 i + 1, hit ? ')' : '.', topic[i % 10], topic[(i / 10 + 3) % 10]);
}

/* A miss's first character under --cache-off bust: a letter other than
 * 'Z' (the hits'), the j-th of 51 */
static char miss_letter(int j)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY";
	return a[j % 51];
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

int sweep_prefix_prepare(const struct sweep_opts *o, struct sweep_srv *srv,
			 struct sweep_prefix *out)
{
	out->tokens_how = "unknown";
	for (int i = 0; i < o->nprefix && !sweep_stop; i++) {
		struct sweep_prefix_point *p = &out->pts[out->npts];
		memset(p, 0, sizeof *p);
		p->want_tokens = o->prefix_tokens[i];
		p->planned_miss = p->planned_hit = o->prefix_requests;
		char lead[96];
		/* each length its own document: no length is a prefix of another */
		snprintf(lead, sizeof lead, "Document %u-%ld. Read it, then answer.", o->run_id,
			 p->want_tokens);
		char err[512] = "";
		p->prefix = sweep_text_of(&o->probe, srv->kind, lead, p->want_tokens,
					  &p->prefix_tokens, &out->tokens_how, err, sizeof err);
		if (!p->prefix) {
			snprintf(out->error, sizeof out->error, "cannot measure a %ld-token prefix: %.400s",
				 p->want_tokens, err);
			return -1;
		}
		p->miss = calloc((size_t)o->prefix_requests, sizeof *p->miss);
		p->hit = calloc((size_t)o->prefix_requests, sizeof *p->hit);
		out->npts++;
		if (!p->miss || !p->hit) {
			snprintf(out->error, sizeof out->error, "out of memory");
			return -1;
		}
	}
	out->ran = 1;
	return 0;
}

/* Run n prompts one after another; each record into dst; the ones begun
 * into *started, those cut in flight added to *cut. */
static int series(const struct probe_cfg *cfg, char **prompts, int n, struct sweep_req *dst,
		  int64_t *t0, int *started, int *cut, char *err, size_t errlen)
{
	err[0] = 0;
	int c = 0;
	int failed = sweep_requests(cfg, 1, prompts, n, dst, t0, NULL, NULL, started, &c, err,
				    errlen);
	*cut += c;
	return failed;
}

int sweep_prefix_misses(const struct sweep_opts *o, struct sweep_srv *srv,
			struct sweep_prefix *out)
{
	int k = o->prefix_requests;
	struct probe_cfg cfg = o->probe;
	cfg.metrics = srv->has_metrics;
	cfg.no_prompt_cache = o->cache_off == OFF_REQUEST;
	out->miss_how = o->cache_off == OFF_REQUEST
		? "\"cache_prompt\": false in each miss request (llama.cpp: the slot reuses none of its cache)"
		: o->cache_off == OFF_BUST
		? "a unique first line in each miss prompt (the cache holds nothing it starts with)"
		: "a server started with the cache off (--cache-off-flags)";
	for (int i = 0; i < out->npts && !sweep_stop; i++) {
		struct sweep_prefix_point *p = &out->pts[i];
		char **pr = calloc((size_t)k, sizeof *pr);
		for (int j = 0; pr && j < k; j++) {
			char sfx[160], bust[96] = "";
			suffix(sfx, sizeof sfx, j, 0);
			/* the line's first character is the miss's own (one of
			 * 51 letters; 'Z', the hits'), so that misses share
			 * nothing they begin with: "[case RUN-LEN-%06d]" made
			 * every miss share its first ~6 tokens with the miss
			 * before (a review: misses counted 6 cached tokens).
			 * The hits begin with one line of the same shape, so
			 * that a miss is not a few tokens longer than a hit (a
			 * review found that line's prefill counted as the
			 * cache's saving) */
			if (o->cache_off == OFF_BUST)
				snprintf(bust, sizeof bust, "%c%05d case %u-%ld] ", miss_letter(j),
					 j / 51, o->run_id, p->want_tokens);
			pr[j] = join(bust, p->prefix, sfx);
		}
		char err[300] = "";
		int begun = 0;
		int failed = pr ? series(&cfg, pr, k, p->miss, &p->t0, &begun, &p->cut, err,
					 sizeof err) : -1;
		for (int j = 0; pr && j < k; j++)
			free(pr[j]);
		free(pr);
		p->nmiss = begun;
		sweep_say(o, "prefix %ld tokens: %d misses%s%s\n", p->prefix_tokens, p->nmiss,
			failed ? ", " : "", failed ? err : "");
		if (failed) {
			snprintf(out->error, sizeof out->error, "prefix %ld tokens, misses: %s",
				 p->prefix_tokens, failed < 0 ? "out of memory" : err);
			return -1;
		}
	}
	return sweep_stop ? -1 : 0;
}

int sweep_prefix_hits(const struct sweep_opts *o, struct sweep_srv *srv, struct sweep_prefix *out)
{
	int k = o->prefix_requests;
	struct probe_cfg cfg = o->probe;
	cfg.metrics = srv->has_metrics;
	snprintf(out->server_label, sizeof out->server_label, "%s", srv->label);
	out->hits_how = !strcmp(srv->kind, "llamacpp")
		? "timings.cache_n in each stream's last chunk (llama.cpp)"
		: srv->has_metrics ? "vllm:prefix_cache_hits_total before and after each request"
				   : "nowhere: the server reports no cache hits";
	for (int i = 0; i < out->npts && !sweep_stop; i++) {
		struct sweep_prefix_point *p = &out->pts[i];
		/* request 0 primes the cache; 1..k are the hits */
		char **pr = calloc((size_t)k + 1, sizeof *pr);
		struct sweep_req *all = calloc((size_t)k + 1, sizeof *all);
		char same[96] = "";
		if (o->cache_off == OFF_BUST) /* as long as a miss's first line */
			snprintf(same, sizeof same, "Z99999 case %u-%ld] ", o->run_id,
				 p->want_tokens);
		for (int j = 0; pr && j <= k; j++) {
			char sfx[160];
			suffix(sfx, sizeof sfx, j ? j - 1 : k, 1);
			pr[j] = join(same, p->prefix, sfx);
		}
		char err[300] = "";
		int64_t t0;
		int begun = 0;
		int failed = pr && all ? series(&cfg, pr, k + 1, all, &t0, &begun, &p->cut, err,
						sizeof err) : -1;
		if (all) {
			p->prime = all[0];
			memcpy(p->hit, all + 1, (size_t)k * sizeof *all);
		}
		for (int j = 0; pr && j <= k; j++)
			free(pr[j]);
		free(pr);
		free(all);
		p->primed = begun > 0;
		p->nhit = begun > 0 ? begun - 1 : 0;
		sweep_say(o, "prefix %ld tokens: 1 prime + %d hits%s%s\n",
			p->prefix_tokens, p->nhit, failed ? ", " : "", failed ? err : "");
		if (failed) {
			snprintf(out->error, sizeof out->error, "prefix %ld tokens, hits: %s",
				 p->prefix_tokens, failed < 0 ? "out of memory" : err);
			return -1;
		}
	}
	return sweep_stop ? -1 : 0;
}

/* A percentile over the requests that succeeded. */
enum field { F_TTFT, F_HIT, F_PREFILL };

static double field_pct(const struct sweep_req *q, int n, enum field f, double pq)
{
	double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
	if (!v)
		return NAN;
	for (int i = 0; i < n; i++) {
		const struct ttft_record *r = &q[i].rec;
		const struct ttft_server_split *sp = ttft_record_split(r);
		v[i] = !r->ok ? NAN : f == F_TTFT ? ttft_record_ttft_s(r)
			: f == F_HIT ? sp->hit_tokens : sp->prefill_s;
	}
	double p = sweep_pct(v, n, pq);
	free(v);
	return p;
}

static int served(const struct sweep_req *q, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += q[i].rec.ok && isfinite(ttft_record_ttft_s(&q[i].rec));
	return k;
}

void sweep_prefix_finish(struct sweep_prefix *out)
{
	double jit[2 * SWEEP_MAX_LIST] = {0}, x[SWEEP_MAX_LIST], y[SWEEP_MAX_LIST];
	int nj = 0, nf = 0;
	for (int i = 0; i < out->npts; i++) {
		struct sweep_prefix_point *p = &out->pts[i];
		p->miss_p50 = field_pct(p->miss, p->nmiss, F_TTFT, 0.5);
		p->miss_p90 = field_pct(p->miss, p->nmiss, F_TTFT, 0.9);
		p->hit_p50 = field_pct(p->hit, p->nhit, F_TTFT, 0.5);
		p->hit_p90 = field_pct(p->hit, p->nhit, F_TTFT, 0.9);
		p->hit_tokens_hit = field_pct(p->hit, p->nhit, F_HIT, 0.5);
		p->hit_tokens_miss = field_pct(p->miss, p->nmiss, F_HIT, 0.5);
		p->prefill_miss = field_pct(p->miss, p->nmiss, F_PREFILL, 0.5);
		p->prefill_hit = field_pct(p->hit, p->nhit, F_PREFILL, 0.5);
		p->saved_s = p->miss_p50 - p->hit_p50;
		/* per cached token: only where the server counted the tokens */
		p->saved_per_token_s = p->hit_tokens_hit > 0 ? p->saved_s / p->hit_tokens_hit : NAN;
		/* pays: even the slow hits (p90) beat the typical miss (p50);
		 * judged only on 3 or more misses served and enough hits for
		 * a p90 (10: ttft_quantile_min_n), and never where the server
		 * counted no cached tokens in the hits (a faster hit is then
		 * not the cache's doing) nor more than a tenth of the prefix
		 * in the misses (they were hits: a BOS token or two is not) */
		int nm = served(p->miss, p->nmiss), nh = served(p->hit, p->nhit);
		p->miss_served = nm;
		p->hit_served = nh;
		p->pays_why = NULL;
		p->status = p->nmiss == p->planned_miss && p->nhit == p->planned_hit && !p->cut
			    ? SWEEP_COMPLETE : !p->nmiss && !p->primed && sweep_stop ? SWEEP_NOT_RUN
			    : sweep_stop || p->cut ? SWEEP_INTERRUPTED : SWEEP_INCOMPLETE;
		if (p->status == SWEEP_INTERRUPTED || p->status == SWEEP_NOT_RUN)
			p->pays_why = p->status == SWEEP_NOT_RUN
				? "not run: the sweep was interrupted before it"
				: "interrupted: the sweep was stopped before its misses and hits "
				  "had all run";
		else if (nm < 3)
			p->pays_why = "too few misses served to tell (3 or more needed)";
		else if (isnan(p->hit_p90) || isnan(p->miss_p50))
			p->pays_why = "too few hits served for their p90 (10 needed: "
				      "--prefix-requests 10 or more)";
		else if (p->hit_tokens_hit == 0)
			p->pays_why = "the server counted no cached tokens in the hits";
		else if (p->hit_tokens_miss > 0.1 * (double)p->prefix_tokens)
			p->pays_why = "the server counted cached tokens in the misses: its cache "
				      "was not kept out of them, so they were hits too (vLLM "
				      "ignores \"cache_prompt\": false: --cache-off bust, or "
				      "--cache-off-flags with the cache off)";
		p->pays = !p->pays_why && p->hit_p90 < p->miss_p50;
		/* misses that were hits: what the hits saved on them is not
		 * the cache's, per cached token least of all (left out of the
		 * fit below too; the table says why under it) */
		if (p->hit_tokens_miss > 0.1 * (double)p->prefix_tokens)
			p->saved_per_token_s = NAN;
		if (p->status == SWEEP_INTERRUPTED || p->status == SWEEP_NOT_RUN) {
			/* a cut length is no evidence: its figures null (as a
			 * cut KV point's: its requests are kept), not drawn, no
			 * jitter, no fit */
			p->miss_p50 = p->miss_p90 = p->hit_p50 = p->hit_p90 = NAN;
			p->hit_tokens_hit = p->hit_tokens_miss = NAN;
			p->prefill_miss = p->prefill_hit = NAN;
			p->saved_s = p->saved_per_token_s = NAN;
			p->pays = 0;
			continue;
		}
		if (isfinite(p->miss_p90 - p->miss_p50))
			jit[nj++] = p->miss_p90 - p->miss_p50;
		if (isfinite(p->hit_p90 - p->hit_p50))
			jit[nj++] = p->hit_p90 - p->hit_p50;
		/* misses that were hits saved nothing that is the cache's */
		if (isfinite(p->saved_s) && p->hit_tokens_hit > 0 &&
		    !(p->hit_tokens_miss > 0.1 * (double)p->prefix_tokens)) {
			x[nf] = p->hit_tokens_hit;
			y[nf++] = p->saved_s;
		}
	}
	out->jitter_s = sweep_pct(jit, nj, 0.5);
	/* the points in increasing length; caching pays from the shortest
	 * length at and above which every swept length pays */
	out->from_tokens = 0;
	/* over the lengths judged only (one not judged is no evidence
	 * either way: a review found one read as "did not pay") */
	for (int i = out->npts - 1; i >= 0; i--) {
		int shorter_or_equal = 1;
		for (int j = 0; j < out->npts; j++)
			if (!out->pts[j].pays_why &&
			    out->pts[j].prefix_tokens >= out->pts[i].prefix_tokens && !out->pts[j].pays)
				shorter_or_equal = 0;
		if (shorter_or_equal && out->pts[i].pays &&
		    (!out->from_tokens || out->pts[i].prefix_tokens < out->from_tokens))
			out->from_tokens = (int)out->pts[i].prefix_tokens;
	}
	out->paid_below = out->unpaid_above = 0;
	for (int i = 0; i < out->npts; i++) {
		const struct sweep_prefix_point *q = &out->pts[i];
		if (!q->pays_why && q->pays && q->prefix_tokens > out->paid_below &&
		    (!out->from_tokens || q->prefix_tokens < out->from_tokens))
			out->paid_below = (int)q->prefix_tokens;
	}
	for (int i = 0; out->paid_below && i < out->npts; i++) {
		const struct sweep_prefix_point *q = &out->pts[i];
		if (!q->pays_why && !q->pays && q->prefix_tokens > out->paid_below &&
		    (!out->unpaid_above || q->prefix_tokens < out->unpaid_above))
			out->unpaid_above = (int)q->prefix_tokens;
	}
	struct probe_fit f;
	out->fit_ok = nf >= 2 && probe_fit_points(x, y, nf, &f) == 0;
	out->slope_s_per_token = out->fit_ok ? f.b_s : NAN;
	out->intercept_s = out->fit_ok ? f.a_s : NAN;
}

void sweep_prefix_free(struct sweep_prefix *out)
{
	for (int i = 0; i < out->npts; i++) {
		struct sweep_prefix_point *p = &out->pts[i];
		free(p->prefix);
		sweep_reqs_free(p->miss, p->nmiss);
		sweep_reqs_free(p->hit, p->nhit);
		sweep_reqs_free(&p->prime, p->primed);
		free(p->miss);
		free(p->hit);
	}
	out->npts = 0;
}
