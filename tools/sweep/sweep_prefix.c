/* sweep_prefix.c — prefix caching: for each prefix length, K requests that
 * share a long prefix (distinct suffixes) served with the cache off
 * (misses), then one prime and K more served with it on (hits). The
 * server says how many tokens it took from its cache (llama.cpp's
 * timings.cache_n, vLLM's prefix_cache_hits_total deltas). */
#include "sweep.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_analyze.h"

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

void sweep_req_from(struct sweep_req *d, const struct probe_result *r, int64_t t0)
{
	struct probe_split sp;
	probe_split_of(r, NULL, &sp);
	memset(d, 0, sizeof *d);
	d->ttft_s = probe_ttft_s(r);
	d->e2e_s = probe_e2e_s(r);
	d->queue_s = sp.queue_s;
	d->queue_source = !isnan(sp.queue_s) ? sp.source : NULL;
	d->prefill_s = sp.prefill_s;
	d->hit_tokens = sp.hit_tokens;
	d->prompt_tokens = r->prompt_tokens;
	d->tokens = probe_tokens(r);
	d->ok = r->ok;
	snprintf(d->error, sizeof d->error, "%s", r->error);
	d->pretransfer_s = r->pretransfer_s;
	d->starttransfer_s = r->starttransfer_s;
	d->connect_s = r->connect_s;
	d->start_s = (double)(r->t_start - t0) / 1e9;
	d->t_first_s = r->t_first ? (double)(r->t_first - t0) / 1e9 : NAN;
	d->t_last_s = r->ntok ? (double)(r->tok[r->ntok - 1] - t0) / 1e9 : NAN;
}

/* A question that no other request of the run asks. */
static void suffix(char *out, size_t n, int i)
{
	static const char *const topic[] = {"river", "engine", "garden", "signal", "harbor",
					    "planet", "library", "forest", "camera", "village"};
	/* the number first: the prompts part right after the shared prefix */
	snprintf(out, n, "\n%d. What does the text say about the %s and the %s?\nAnswer:",
		 i + 1, topic[i % 10], topic[(i / 10 + 3) % 10]);
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
	for (int i = 0; i < o->nprefix; i++) {
		struct sweep_prefix_point *p = &out->pts[out->npts];
		memset(p, 0, sizeof *p);
		p->want_tokens = o->prefix_tokens[i];
		char lead[96];
		/* each length its own document: no length is a prefix of another */
		snprintf(lead, sizeof lead, "Document %u-%ld. Read it, then answer.", o->run_id,
			 p->want_tokens);
		char err[512] = "";
		p->prefix = sweep_text_of(&o->probe, srv->kind, lead, p->want_tokens,
					  &p->prefix_tokens, &out->tokens_how, err, sizeof err);
		if (!p->prefix) {
			snprintf(out->error, sizeof out->error, "cannot measure a %ld-token prefix: %s",
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

/* Run n prompts one after another; each record into dst. */
static int series(const struct probe_cfg *cfg, char **prompts, int n, struct sweep_req *dst,
		  char *err, size_t errlen)
{
	struct probe_result *r = calloc((size_t)n, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct probe_cfg c = *cfg;
	c.prompts = (const char *const *)prompts;
	int64_t t0 = probe_now();
	probe_run(&c, r, n, 1, 0);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		sweep_req_from(&dst[i], &r[i], t0);
		if (!r[i].ok && !failed++)
			snprintf(err, errlen, "request %d failed: %s", i + 1, r[i].error);
		probe_result_free(&r[i]);
	}
	free(r);
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
			suffix(sfx, sizeof sfx, j);
			if (o->cache_off == OFF_BUST)
				snprintf(bust, sizeof bust, "[miss %u-%ld-%d] ", o->run_id,
					 p->want_tokens, j);
			pr[j] = join(bust, p->prefix, sfx);
		}
		char err[300] = "";
		int failed = pr ? series(&cfg, pr, k, p->miss, err, sizeof err) : -1;
		for (int j = 0; pr && j < k; j++)
			free(pr[j]);
		free(pr);
		p->nmiss = k;
		fprintf(stderr, "ttft-sweep: prefix %ld tokens: %d misses%s%s\n", p->prefix_tokens, k,
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
		for (int j = 0; pr && j <= k; j++) {
			char sfx[160];
			suffix(sfx, sizeof sfx, j ? j - 1 : k);
			pr[j] = join("", p->prefix, sfx);
		}
		char err[300] = "";
		int failed = pr && all ? series(&cfg, pr, k + 1, all, err, sizeof err) : -1;
		if (all) {
			p->prime = all[0];
			memcpy(p->hit, all + 1, (size_t)k * sizeof *all);
		}
		for (int j = 0; pr && j <= k; j++)
			free(pr[j]);
		free(pr);
		free(all);
		p->nhit = k;
		fprintf(stderr, "ttft-sweep: prefix %ld tokens: 1 prime + %d hits%s%s\n",
			p->prefix_tokens, k, failed ? ", " : "", failed ? err : "");
		if (failed) {
			snprintf(out->error, sizeof out->error, "prefix %ld tokens, hits: %s",
				 p->prefix_tokens, failed < 0 ? "out of memory" : err);
			return -1;
		}
	}
	return sweep_stop ? -1 : 0;
}

static double field_pct(const struct sweep_req *r, int n, size_t off, double q)
{
	double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
	if (!v)
		return NAN;
	for (int i = 0; i < n; i++)
		v[i] = r[i].ok ? *(const double *)((const char *)&r[i] + off) : NAN;
	double p = sweep_pct(v, n, q);
	free(v);
	return p;
}

#define FIELD(f) offsetof(struct sweep_req, f)

void sweep_prefix_finish(struct sweep_prefix *out)
{
	double jit[2 * SWEEP_MAX_LIST] = {0}, x[SWEEP_MAX_LIST], y[SWEEP_MAX_LIST];
	int nj = 0, nf = 0;
	for (int i = 0; i < out->npts; i++) {
		struct sweep_prefix_point *p = &out->pts[i];
		p->miss_p50 = field_pct(p->miss, p->nmiss, FIELD(ttft_s), 0.5);
		p->miss_p90 = field_pct(p->miss, p->nmiss, FIELD(ttft_s), 0.9);
		p->hit_p50 = field_pct(p->hit, p->nhit, FIELD(ttft_s), 0.5);
		p->hit_p90 = field_pct(p->hit, p->nhit, FIELD(ttft_s), 0.9);
		p->hit_tokens_hit = field_pct(p->hit, p->nhit, FIELD(hit_tokens), 0.5);
		p->hit_tokens_miss = field_pct(p->miss, p->nmiss, FIELD(hit_tokens), 0.5);
		p->prefill_miss = field_pct(p->miss, p->nmiss, FIELD(prefill_s), 0.5);
		p->prefill_hit = field_pct(p->hit, p->nhit, FIELD(prefill_s), 0.5);
		p->saved_s = p->miss_p50 - p->hit_p50;
		/* per cached token: only where the server counted the tokens */
		p->saved_per_token_s = p->hit_tokens_hit > 0 ? p->saved_s / p->hit_tokens_hit : NAN;
		/* pays: even the slow hits (p90) beat the typical miss (p50) */
		p->pays = p->hit_p90 < p->miss_p50;
		if (isfinite(p->miss_p90 - p->miss_p50))
			jit[nj++] = p->miss_p90 - p->miss_p50;
		if (isfinite(p->hit_p90 - p->hit_p50))
			jit[nj++] = p->hit_p90 - p->hit_p50;
		if (isfinite(p->saved_s) && p->hit_tokens_hit > 0) {
			x[nf] = p->hit_tokens_hit;
			y[nf++] = p->saved_s;
		}
	}
	out->jitter_s = sweep_pct(jit, nj, 0.5);
	/* the points in increasing length; caching pays from the shortest
	 * length at and above which every swept length pays */
	out->from_tokens = 0;
	for (int i = out->npts - 1; i >= 0; i--) {
		int shorter_or_equal = 1;
		for (int j = 0; j < out->npts; j++)
			if (out->pts[j].prefix_tokens >= out->pts[i].prefix_tokens && !out->pts[j].pays)
				shorter_or_equal = 0;
		if (shorter_or_equal && out->pts[i].pays &&
		    (!out->from_tokens || out->pts[i].prefix_tokens < out->from_tokens))
			out->from_tokens = (int)out->pts[i].prefix_tokens;
	}
	struct probe_fit f;
	out->fit_ok = nf >= 2 && probe_fit_points(x, y, nf, &f) == 0;
	out->slope_s_per_token = out->fit_ok ? f.b_s : NAN;
	out->intercept_s = out->fit_ok ? f.a_s : NAN;
}

void sweep_prefix_free(struct sweep_prefix *out)
{
	for (int i = 0; i < out->npts; i++) {
		free(out->pts[i].prefix);
		free(out->pts[i].miss);
		free(out->pts[i].hit);
	}
	out->npts = 0;
}
