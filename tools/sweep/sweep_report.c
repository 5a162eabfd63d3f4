/* sweep_report.c — ttft-sweep's outputs: the "Prefix caching" and "KV
 * scaling" sections of the Markdown report (inserted, or replacing the
 * previous run's), their SVG charts beside it, the self-contained HTML,
 * and the JSON document. */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_charts.h"
#include "ttft_cli.h"
#include "ttft_html.h"
#include "ttft_str.h"
#include "ttft_summary.h"
#include "ttft_svg.h"

/* Numbers for the tables, from a ring of buffers so that one printf can
 * take many ("-" when there is none). Single-threaded, like the report. */
static char *ring(void)
{
	static char b[32][48];
	static int i;
	return b[i++ % 32];
}

static const char *ms(double s)
{
	char *b = ring();
	if (!isfinite(s))
		snprintf(b, 48, "-");
	else
		snprintf(b, 48, "%.*f", fabs(s) < 0.01 ? 2 : 1, s * 1e3);
	return b;
}

static const char *pct(double f)
{
	char *b = ring();
	if (!isfinite(f))
		snprintf(b, 48, "-");
	else
		snprintf(b, 48, "%.0f%%", f * 100);
	return b;
}

/* The point's requests ran, yet the gauge's samples caught none of them
 * running: its maxima (0 / 0) are no reading of the point's load. */
static int gauge_saw_none(const struct sweep_kv_point *p)
{
	return isfinite(p->state.running_max) && p->state.running_max < 1 &&
	       p->nreq - p->failed > 0;
}

static const char *num(double v, int dec)
{
	char *b = ring();
	if (!isfinite(v))
		snprintf(b, 48, "-");
	else
		snprintf(b, 48, "%.*f", dec, v);
	return b;
}

/* A point's prompt tokens, the median of its requests' usage: "-" where
 * none was served (every request refused: -1 inside, never a count) */
static const char *toks(long v)
{
	char *b = ring();
	if (v < 0)
		snprintf(b, 48, "-");
	else
		snprintf(b, 48, "%ld", v);
	return b;
}

/* A series' prompt length for titles: the first point's measured one,
 * else the length asked for ("asked"); into b. */
static const char *series_prompt(const struct sweep_kv_series *s, char *b, size_t n)
{
	for (int i = 0; i < s->npts; i++)
		if (s->pts[i].prompt_tokens >= 0) {
			snprintf(b, n, "%ld-token prompts", s->pts[i].prompt_tokens);
			return b;
		}
	snprintf(b, n, "%ld-token prompts asked (none served)", s->want_tokens);
	return b;
}

/* Replaced whole (a new file renamed over it): a full disk leaves the old
 * file, never half of the new one. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	if (!text) {
		snprintf(err, errlen, "out of memory drawing %s", path);
		return -1;
	}
	return ttft_write_atomic(path, text, strlen(text), err, errlen);
}

static const char *sig_words(int sig)
{
	return sig == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM";
}

/* The series of configuration label and prompt length want, or NULL. */
static const struct sweep_kv_series *series_of(const struct sweep_kv *k, const char *label,
					       long want)
{
	for (int i = 0; i < k->ns; i++)
		if (!strcmp(k->s[i].cfg, label) && k->s[i].want_tokens == want)
			return &k->s[i];
	return NULL;
}

static int has_point(const struct sweep_kv_series *s, int conc)
{
	for (int i = 0; s && i < s->npts; i++)
		if (s->pts[i].conc == conc)
			return 1;
	return 0;
}

/* Each configuration × prompt length of the grid with concurrencies the
 * sweep did not begin: f(arg, label, prompt, their concurrencies). */
static int kv_not_run(const struct sweep_run *r,
		      void (*f)(void *arg, const char *label, long want, const int *c, int n),
		      void *arg)
{
	const struct sweep_opts *o = r->o;
	int total = 0;
	for (int i = 0; i < (o->ncfg ? o->ncfg : 1); i++) {
		const char *label = o->ncfg ? o->cfgs[i].label : "default";
		for (int p = 0; p < o->nprompt; p++) {
			const struct sweep_kv_series *s = series_of(&r->kv, label,
								    o->prompt_tokens[p]);
			int c[SWEEP_MAX_LIST], n = 0;
			for (int j = 0; j < o->nconc; j++)
				if (!has_point(s, o->conc[j]))
					c[n++] = o->conc[j];
			if (n && f)
				f(arg, label, o->prompt_tokens[p], c, n);
			total += n;
		}
	}
	return total;
}

static void not_run_md(void *arg, const char *label, long want, const int *c, int n)
{
	struct ttft_str *b = arg;
	ttft_str_printf(b, "; not run: [%s] %ld-token prompts at concurrency ", label, want);
	for (int i = 0; i < n; i++)
		ttft_str_printf(b, "%s%d", i ? ", " : "", c[i]);
}

static void not_run_json(void *arg, const char *label, long want, const int *c, int n)
{
	struct ttft_json *j = arg;
	ttft_json_begin_obj(j, NULL);
	ttft_json_str(j, "config", label);
	ttft_json_int(j, "prompt_tokens_asked", want);
	ttft_json_begin_arr(j, "concurrency");
	for (int i = 0; i < n; i++)
		ttft_json_int(j, NULL, c[i]);
	ttft_json_end_arr(j);
	ttft_json_end_obj(j);
}

/* Prefix lengths asked for that the sweep did not begin (no point, or
 * one never run): f(arg, length) each; how many. */
static int prefix_not_run(const struct sweep_run *r, void (*f)(void *arg, long want), void *arg)
{
	const struct sweep_opts *o = r->o;
	int n = 0;
	for (int i = 0; i < o->nprefix; i++) {
		int begun = 0;
		for (int k = 0; k < r->prefix.npts; k++)
			begun |= r->prefix.pts[k].want_tokens == o->prefix_tokens[i] &&
				 r->prefix.pts[k].status != SWEEP_NOT_RUN;
		if (!begun) {
			if (f)
				f(arg, o->prefix_tokens[i]);
			n++;
		}
	}
	return n;
}

static void len_md(void *arg, long want)
{
	struct ttft_str *b = arg;
	ttft_str_printf(b, "%s%ld", b->s && b->s[b->n - 1] == ' ' ? "" : ", ", want);
}

static void len_json(void *arg, long want)
{
	ttft_json_int(arg, NULL, want);
}

/* The line that says the sweep was cut short, and what it left undone. */
static void interrupted_md(struct ttft_str *b, const struct sweep_run *r, int kv)
{
	if (!r->stop_sig)
		return;
	ttft_str_printf(b, "**Interrupted** by %s: what ran whole is below; ",
			sig_words(r->stop_sig));
	if (kv) {
		const struct sweep_kv_point *cut = NULL;
		const struct sweep_kv_series *cs = NULL;
		for (int i = 0; i < r->kv.ns; i++)
			for (int j = 0; j < r->kv.s[i].npts; j++)
				if (r->kv.s[i].pts[j].status == SWEEP_INTERRUPTED) {
					cs = &r->kv.s[i];
					cut = &cs->pts[j];
				}
		if (cut)
			ttft_str_printf(b, "the point in progress, [%s] %ld-token prompts at "
					   "concurrency %d, was cut (%d of %d requests begun, %d of "
					   "them cut in flight, marked interrupted): its figures are "
					   "'-' and nothing is judged from it or above it",
					cs->cfg, cs->want_tokens, cut->conc, cut->nreq, cut->planned,
					cut->cut);
		else
			ttft_str_printf(b, "no point was in progress");
		kv_not_run(r, not_run_md, b);
	} else {
		ttft_str_printf(b, "a length cut short or not run is marked so and not judged");
		if (prefix_not_run(r, NULL, NULL)) {
			ttft_str_printf(b, "; not run: prefix lengths ");
			prefix_not_run(r, len_md, b);
		}
		if (r->o->kv && !r->kv.ran)
			ttft_str_printf(b, "; the KV scaling experiment was not run");
	}
	ttft_str_printf(b, ".\n\n");
}

/* The chart at base-NAME.svg; its link (the file's own name) into link. */
static int chart(const char *base, const char *name, char *svg, char *link, size_t ll,
		 char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s-%s.svg", base, name);
	const char *slash = strrchr(path, '/');
	snprintf(link, ll, "%s", slash ? slash + 1 : path);
	int rc = write_file(path, svg, err, errlen);
	free(svg);
	return rc;
}

static int prefix_section(struct ttft_str *b, const struct sweep_run *r, const char *base,
			  char *err, size_t errlen)
{
	const struct sweep_prefix *p = &r->prefix;
	const struct sweep_opts *o = r->o;
	ttft_str_printf(b, "## Prefix caching\n\n");
	ttft_str_printf(b, "Scale: %d prefix length%s (", p->npts, p->npts == 1 ? "" : "s");
	for (int i = 0; i < p->npts; i++)
		ttft_str_printf(b, "%s%ld", i ? ", " : "", p->pts[i].prefix_tokens);
	ttft_str_printf(b, " tokens, counted by %s), each with %d misses, then 1 prime and %d "
			   "hits, one request at a time (after one warm-up request), max_tokens %d, "
			   "on [%s] (%s). Misses: %s. "
			   "Cached tokens: %s. %s.\n\n", p->tokens_how, o->prefix_requests,
			o->prefix_requests, o->probe.max_tokens, p->server_label, r->kind,
			p->miss_how, p->hits_how, r->date);
	interrupted_md(b, r, 0);
	if (p->error[0])
		ttft_str_printf(b, "**Incomplete:** %s.\n\n", p->error);
	ttft_str_printf(b, "| prefix tokens | miss TTFT p50 / p90 (ms) | hit TTFT p50 / p90 (ms) | "
			   "cached tokens per hit / miss (server) | TTFT saved p50 (ms) | saved per "
			   "cached token (µs) | prefill miss / hit (ms, server) | pays |\n"
			   "|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < p->npts; i++) {
		const struct sweep_prefix_point *q = &p->pts[i];
		ttft_str_printf(b, "| %ld%s%s%s | %s / %s | %s / %s | %s / %s | %s | %s | %s / %s | %s |\n",
				q->prefix_tokens, q->status == SWEEP_COMPLETE ? "" : " (",
				q->status == SWEEP_COMPLETE ? "" : sweep_status_name(q->status),
				q->status == SWEEP_COMPLETE ? "" : ")", ms(q->miss_p50), ms(q->miss_p90),
				ms(q->hit_p50), ms(q->hit_p90),
				num(q->hit_tokens_hit, 0), num(q->hit_tokens_miss, 0),
				ms(q->saved_s), num(q->saved_per_token_s * 1e6, 2),
				ms(q->prefill_miss), ms(q->prefill_hit),
				q->pays ? "yes" : q->pays_why ? "not judged" : "no");
	}
	int few = 0; /* a p90 '-' for want of values */
	for (int i = 0; i < p->npts; i++)
		few |= (isfinite(p->pts[i].miss_p50) && isnan(p->pts[i].miss_p90)) ||
		       (isfinite(p->pts[i].hit_p50) && isnan(p->pts[i].hit_p90));
	if (few)
		ttft_str_printf(b, "\n(%s.)\n", TTFT_QUANTILE_RULE);
	int unjudged = 0;
	for (int i = 0; i < p->npts; i++)
		if (p->pts[i].pays_why) {
			if (!unjudged++)
				ttft_str_printf(b, "\n");
			ttft_str_printf(b, "- *Not judged at %ld tokens:* %s.\n",
					p->pts[i].prefix_tokens, p->pts[i].pays_why);
		}
	/* the chart: TTFT against prefix length, hit and miss */
	double px[SWEEP_MAX_LIST], m50[SWEEP_MAX_LIST], m90[SWEEP_MAX_LIST], h50[SWEEP_MAX_LIST],
	       h90[SWEEP_MAX_LIST];
	for (int i = 0; i < p->npts; i++) {
		px[i] = (double)p->pts[i].prefix_tokens;
		m50[i] = p->pts[i].miss_p50 * 1e3;
		m90[i] = p->pts[i].miss_p90 * 1e3;
		h50[i] = p->pts[i].hit_p50 * 1e3;
		h90[i] = p->pts[i].hit_p90 * 1e3;
	}
	struct ttft_series ser[] = {
		{"miss p50", px, m50, (size_t)p->npts, 0, 0},
		{"hit p50", px, h50, (size_t)p->npts, 0, 0},
		{"miss p90", px, m90, (size_t)p->npts, 0, 1},
		{"hit p90", px, h90, (size_t)p->npts, 0, 1},
	};
	struct ttft_mark mk[1];
	char mlabel[96];
	size_t nmk = 0;
	if (p->from_tokens && !p->paid_below) {
		snprintf(mlabel, sizeof mlabel, "caching pays from %d tokens", p->from_tokens);
		mk[nmk++] = (struct ttft_mark){p->from_tokens, mlabel};
	}
	char sub[300], link[4200];
	snprintf(sub, sizeof sub, "%d misses and %d hits per length on [%s] (%s), max_tokens %d",
		 o->prefix_requests, o->prefix_requests, p->server_label, r->kind,
		 o->probe.max_tokens);
	struct ttft_linechart lc = {
		.title = "Prefix cache: hit vs miss TTFT against prefix length",
		.subtitle = sub, .xlabel = "shared prefix length (tokens, the server's count)",
		.ylabel = "TTFT (ms)", .logx = 1, .series = ser, .nseries = 4, .marks = mk,
		.nmarks = nmk,
	};
	if (chart(base, "prefix", ttft_svg_lines(&lc), link, sizeof link, err, errlen) != 0)
		return -1;
	ttft_str_printf(b, "\n![Prefix cache: hit vs miss TTFT against prefix length](%s)\n\n",
			link);
	/* findings */
	/* the shortest length judged */
	long first_judged = 0;
	for (int i = 0; i < p->npts && !first_judged; i++)
		if (!p->pts[i].pays_why)
			first_judged = p->pts[i].prefix_tokens;
	const char *left_out = unjudged ? " (the lengths not judged left out)" : "";
	if (p->paid_below) {
		ttft_str_printf(b, "- **Where caching stops paying:** not told apart from noise: the "
				   "lengths disagree, it paid at %d tokens but not at %d, a longer "
				   "prefix", p->paid_below, p->unpaid_above);
		if (p->from_tokens)
			ttft_str_printf(b, "; every judged length from %d tokens up pays",
					p->from_tokens);
		ttft_str_printf(b, " (jitter, the median p90 − p50: %s ms)%s; rerun with more "
				   "--prefix-requests before reading a threshold from it.\n",
				ms(p->jitter_s), left_out);
	} else if (p->from_tokens && p->from_tokens == (int)first_judged)
		ttft_str_printf(b, "- **Where caching stops paying:** not within the sweep: it pays at "
				   "every %s length, down to %d tokens (the hits' p90 TTFT is "
				   "below the misses' p50)%s; sweep shorter prefixes to find where it "
				   "stops.\n", unjudged ? "judged" : "swept", p->from_tokens, left_out);
	else if (p->from_tokens)
		ttft_str_printf(b, "- **Where caching stops paying:** below %d tokens. From there up "
				   "the hits' p90 TTFT is below the misses' p50; at shorter prefixes "
				   "the saving is within the jitter (median p90 − p50: %s ms)%s.\n",
				p->from_tokens, ms(p->jitter_s), left_out);
	else if (unjudged == p->npts)
		ttft_str_printf(b, "- **Where caching stops paying:** not judged at any swept "
				   "length (see above).\n");
	else
		ttft_str_printf(b, "- **Where caching stops paying:** it did not pay at any swept "
				   "length judged (no hit p90 below the miss p50; jitter %s ms).\n",
				ms(p->jitter_s));
	if (p->fit_ok)
		ttft_str_printf(b, "- **Saved per cached token:** %s µs of TTFT (least squares over "
				   "the lengths: saved = %s ms + %s µs × cached tokens).\n",
				num(p->slope_s_per_token * 1e6, 2),
				num(p->intercept_s * 1e3, 2),
				num(p->slope_s_per_token * 1e6, 2));
	else
		ttft_str_printf(b, "- **Saved per cached token:** no fit: fewer than two lengths "
				   "whose hits the server counted cached tokens for (and whose "
				   "misses it did not).\n");
	/* over the lengths run whole (or ended by a failure: their counts
	 * are the server's); the longest such is the one quoted */
	int counted = 0, none = 1, last = p->npts - 1;
	for (int i = 0; i < p->npts; i++) {
		if (p->pts[i].status == SWEEP_INTERRUPTED || p->pts[i].status == SWEEP_NOT_RUN)
			continue;
		counted += isfinite(p->pts[i].hit_tokens_hit);
		none &= !(p->pts[i].hit_tokens_hit > 0);
		if (isfinite(p->pts[i].hit_tokens_hit))
			last = i;
	}
	if (!counted)
		ttft_str_printf(b, "- **The server's count:** the server reported no cached tokens "
				   "(%s); the hit/miss difference above is the client's TTFT "
				   "alone.\n", p->hits_how);
	else if (none)
		ttft_str_printf(b, "- **The server's count:** 0 cached tokens for the hits: the "
				   "prefix cache is off in this configuration, so the \"hits\" were "
				   "misses too.\n");
	else
		ttft_str_printf(b, "- **The server's count:** the hits took a median of %s cached "
				   "tokens of a %ld-token prefix at the longest length, the misses "
				   "%s.\n", num(p->pts[last].hit_tokens_hit, 0),
				p->pts[last].prefix_tokens, num(p->pts[last].hit_tokens_miss, 0));
	ttft_str_printf(b, "\n");
	return 0;
}

static void capacity_row(struct ttft_str *b, const struct sweep_kv_series *s,
			 const struct sweep_opts *o)
{
	const struct sweep_capacity *c = &s->cap;
	const char *flags = "";
	for (int i = 0; i < o->ncfg; i++)
		if (!strcmp(o->cfgs[i].label, s->cfg))
			flags = o->cfgs[i].flags;
	/* the flags as the user gave them: one cell's text */
	ttft_str_printf(b, "| %s | `", s->cfg);
	ttft_str_md_cell(b, flags[0] ? flags : "(as started)");
	ttft_str_printf(b, "` | %s | ", s->kind);
	if (c->slots)
		ttft_str_printf(b, "%d | %d%s | ", c->slots, c->slot_ctx, c->unified ? " (one pool)" : "");
	else
		ttft_str_printf(b, "- | - | ");
	ttft_str_printf(b, "%s", num(c->kv_tokens, 0));
	if (c->kv_engines > 1 && isfinite(c->kv_tokens))
		ttft_str_printf(b, " in each of %d engines (data parallel; the smallest)",
				c->kv_engines);
	ttft_str_printf(b, " | ");
	if (isfinite(c->max_conc))
		ttft_str_printf(b, "%s× for %s tokens | ", num(c->max_conc, 2),
				num(c->max_conc_len, 0));
	else
		ttft_str_printf(b, "- | ");
	ttft_str_md_cell(b, c->source[0] ? c->source : "nothing stated");
	ttft_str_printf(b, " |\n");
}

static char *kv_chart(const struct sweep_kv_series *s, const struct sweep_run *r)
{
	double c[SWEEP_MAX_LIST], p50[SWEEP_MAX_LIST], p99[SWEEP_MAX_LIST], q50[SWEEP_MAX_LIST],
	       q90[SWEEP_MAX_LIST];
	for (int i = 0; i < s->npts; i++) {
		c[i] = s->pts[i].conc;
		p50[i] = s->pts[i].ttft_p50 * 1e3;
		p99[i] = s->pts[i].ttft_p99 * 1e3;
		q50[i] = s->pts[i].queue_share_all * 100;
		q90[i] = s->pts[i].queue_share_p90 * 100;
	}
	struct ttft_series ser[] = {
		{"TTFT p50 (ms)", c, p50, (size_t)s->npts, 0, 0},
		{"TTFT p99 (ms)", c, p99, (size_t)s->npts, 0, 0},
		{"queued, share of all TTFT (%)", c, q50, (size_t)s->npts, 1, 0},
		{"queue share p90 (%)", c, q90, (size_t)s->npts, 1, 0},
	};
	char pl[96], ml[96], title[256], sub[300];
	struct ttft_mark mk[2];
	size_t nmk = 0;
	if (s->predicted_knee) {
		if (sweep_kv_per_engine(s))
			snprintf(pl, sizeof pl, "predicted knee: %d in each of %d engines",
				 s->predicted_knee, s->cap.kv_engines);
		else
			snprintf(pl, sizeof pl, "predicted knee: %d at once", s->predicted_knee);
		mk[nmk++] = (struct ttft_mark){s->predicted_knee, pl};
	}
	if (s->waited_from) {
		snprintf(ml, sizeof ml, "measured knee: %d (waiting from %d)", s->measured_knee,
			 s->waited_from);
		mk[nmk++] = (struct ttft_mark){s->measured_knee ? s->measured_knee : s->waited_from, ml};
	}
	char sp[96];
	snprintf(title, sizeof title, "TTFT and queueing against concurrency: [%s], %s", s->cfg,
		 series_prompt(s, sp, sizeof sp));
	const char *src = NULL;
	for (int i = 0; i < s->npts && !src; i++)
		src = s->pts[i].share_source;
	int n = snprintf(sub, sizeof sub, "%s; %d output tokens each; queue from: %s", r->kind,
			 r->o->probe.max_tokens, src ? src : "nowhere");
	if (s->failed_from && n > 0 && (size_t)n < sizeof sub)
		n += snprintf(sub + n, sizeof sub - (size_t)n, "; requests failed from %d on: "
			      "those points are the survivors'", s->failed_from);
	if (s->interrupted_at && n > 0 && (size_t)n < sizeof sub)
		snprintf(sub + n, sizeof sub - (size_t)n, "; interrupted at %d: not drawn",
			 s->interrupted_at);
	struct ttft_linechart lc = {
		.title = title, .subtitle = sub, .xlabel = "requests in flight (concurrency)",
		.ylabel = "TTFT (ms)", .y2label = "queue share of TTFT (%)", .logx = 1,
		.y2max = 100, .series = ser, .nseries = 4, .marks = mk, .nmarks = nmk,
	};
	return ttft_svg_lines(&lc);
}

static char *kv_waterfall(const struct sweep_kv_series *s, const struct sweep_kv_point *p)
{
	struct ttft_wf *w = calloc((size_t)p->nreq, sizeof *w);
	if (!w)
		return NULL;
	for (int i = 0; i < p->nreq; i++) {
		const struct sweep_req *q = &p->req[i];
		snprintf(w[i].label, sizeof w[i].label, "request %d", i + 1);
		ttft_wf_of(&q->rec, p->t0, &w[i]);
		/* the point's queue where the record has none (llama.cpp's
		 * request → headers) */
		w[i].queue_ms = q->queue_s * 1e3;
	}
	char title[256], sub[300];
	char sp[96];
	snprintf(title, sizeof title, "Requests at concurrency %d: [%s], %s", p->conc, s->cfg,
		 series_prompt(s, sp, sizeof sp));
	snprintf(sub, sizeof sub, "queue: %s; prefill: the server's own; order inside the "
		 "server's part schematic", p->queue_source ? p->queue_source : "not known");
	char *svg = ttft_waterfall_svg(title, sub, w, (size_t)p->nreq);
	free(w);
	return svg;
}

static int kv_section(struct ttft_str *b, const struct sweep_run *r, const char *base,
		      char *err, size_t errlen)
{
	const struct sweep_kv *k = &r->kv;
	const struct sweep_opts *o = r->o;
	char link[4200];
	ttft_str_printf(b, "## KV scaling\n\n");
	ttft_str_printf(b, "Scale: %d server configuration%s × %d prompt length%s × concurrency ",
			o->ncfg ? o->ncfg : 1, o->ncfg > 1 ? "s" : "", o->nprompt,
			o->nprompt == 1 ? "" : "s");
	for (int i = 0; i < o->nconc; i++)
		ttft_str_printf(b, "%s%d", i ? ", " : "", o->conc[i]);
	if (o->kv_requests)
		ttft_str_printf(b, "; %d requests a point", o->kv_requests);
	else
		ttft_str_printf(b, "; 3 × concurrency requests a point (at least 4)");
	ttft_str_printf(b, ", max_tokens %d, every prompt its own (no prefix-cache hits), each "
			   "configuration warmed by one request first. "
			   "Queue share: each request's queue over its TTFT. %s.\n\n", o->probe.max_tokens,
			r->date);
	interrupted_md(b, r, 1);
	if (k->error[0])
		ttft_str_printf(b, "**Incomplete:** %s.\n\n", k->error);
	for (int i = 0; i < k->ns; i++)
		for (int j = 0; j < k->s[i].npts; j++) {
			const struct sweep_kv_point *p = &k->s[i].pts[j];
			if (p->failed && p->status == SWEEP_INTERRUPTED)
				/* cut too: its figures are null, none "served" */
				ttft_str_printf(b, "**Incomplete:** [%s] %ld-token prompts at "
						   "concurrency %d: %d of %d requests failed (%s) and "
						   "%d were cut by the interruption; that point shows no "
						   "figures, and no knee is judged there or above.\n\n",
						k->s[i].cfg, k->s[i].want_tokens, p->conc, p->failed,
						p->nreq, p->error[0] ? p->error : "no reason recorded",
						p->cut);
			else if (p->failed)
				ttft_str_printf(b, "**Incomplete:** [%s] %ld-token prompts at "
						   "concurrency %d: %d of %d requests failed (%s); that "
						   "point's TTFT, queue and throughput are of the %d served, "
						   "and no knee is judged there or above.\n\n",
						k->s[i].cfg, k->s[i].want_tokens, p->conc, p->failed,
						p->nreq, p->error[0] ? p->error : "no reason recorded",
						p->nreq - p->failed);
		}
	ttft_str_printf(b, "Capacity as the server stated it at start-up:\n\n"
			   "| config | flags | server | slots | cells a slot | KV tokens | maximum "
			   "concurrency (stated) | source |\n|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < k->ns; i++)
		if (!i || strcmp(k->s[i].cfg, k->s[i - 1].cfg))
			capacity_row(b, &k->s[i], o);
	ttft_str_printf(b, "\n| config | prompt tokens | concurrency | requests (failed) | TTFT "
			   "p50 / p99 (ms) | queued, share of all TTFT | queue share p50 / p90 "
			   "(a request's) | queue p50 (ms) | queue source | output tok/s | req/s | "
			   "server: most running / waiting | most KV in use |\n"
			   "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < k->ns; i++) {
		const struct sweep_kv_series *s = &k->s[i];
		for (int j = 0; j < s->npts; j++) {
			const struct sweep_kv_point *p = &s->pts[j];
			if (p->status == SWEEP_INTERRUPTED) {
				ttft_str_printf(b, "| %s | %s | %d | interrupted: %d of %d begun "
						   "(%d failed, %d cut in flight) | - / - | - | - / - "
						   "| - | - | - | - | - / - | - |\n", s->cfg,
						toks(p->prompt_tokens), p->conc, p->nreq, p->planned,
						p->failed, p->cut);
				continue;
			}
			ttft_str_printf(b, "| %s | %s | %d | %d (%d) | %s / %s | %s%s%s%s | %s / %s | "
					   "%s | %s | %s%s | %s | %s / %s", s->cfg, toks(p->prompt_tokens),
					p->conc, p->nreq, p->failed, ms(p->ttft_p50), ms(p->ttft_p99),
					pct(p->queue_share_all), p->share_source &&
					p->share_source != p->queue_source ? " (" : "",
					p->share_source && p->share_source != p->queue_source
					? p->share_source : "", p->share_source &&
					p->share_source != p->queue_source ? ")" : "",
					pct(p->queue_share_p50), pct(p->queue_share_p90),
					ms(p->queue_p50), p->queue_source ? p->queue_source : "-",
					/* from token events: at least */
					p->tok_events && isfinite(p->out_tok_s) ? "≥" : "",
					num(p->out_tok_s, 1), num(p->req_s, 2),
					num(p->state.running_max, 0),
					num(p->state.waiting_max, 0));
			ttft_str_printf(b, "%s | ", gauge_saw_none(p) ? " (samples saw none)" : "");
			if (isfinite(p->state.kv_usage_max_pct))
				ttft_str_printf(b, "%.1f%% (%s) |\n", p->state.kv_usage_max_pct,
						p->state.kv_usage_source);
			else
				ttft_str_printf(b, "- |\n");
		}
	}
	int few = 0; /* a p90 / p99 '-' for want of values */
	int counted = 0; /* an output tok/s '≥' */
	int blind = 0; /* a gauge whose samples saw none of the point's requests */
	for (int i = 0; i < k->ns; i++)
		for (int j = 0; j < k->s[i].npts; j++) {
			const struct sweep_kv_point *p = &k->s[i].pts[j];
			few |= (isfinite(p->ttft_p50) && isnan(p->ttft_p99)) ||
			       (isfinite(p->queue_share_p50) && isnan(p->queue_share_p90));
			counted |= p->status != SWEEP_INTERRUPTED && p->tok_events &&
				   isfinite(p->out_tok_s);
			blind |= p->status != SWEEP_INTERRUPTED && gauge_saw_none(p);
		}
	if (blind)
		ttft_str_printf(b, "\n(most running / waiting 'samples saw none': the server's "
				   "gauges, sampled every 50 ms, never caught one of the point's "
				   "requests running, so their 0 says nothing of its load; the knee "
				   "is then told by the next signal.)\n");
	if (few)
		ttft_str_printf(b, "\n(%s.)\n", TTFT_QUANTILE_RULE);
	if (counted)
		ttft_str_printf(b, "\n(output tok/s '≥': the server gave no usage, its token "
				   "events were counted, and one event can carry several tokens.)\n");
	ttft_str_printf(b, "\nThe knee: the highest concurrency served without waiting for "
			   "capacity. Measured: from the server's own count of waiting requests "
			   "where it has one (vLLM `num_requests_waiting`, llama.cpp "
			   "`requests_deferred`); else once the queued share of all TTFT grew over 10 "
			   "points above the lowest concurrency's; else once the TTFT median grew "
			   "1.5×. "
			   "Predicted: from the capacity the server stated.\n\n"
			   "| config | prompt + max tokens | predicted knee | measured knee | waiting "
			   "from | measured by | prediction | measured vs predicted |\n"
			   "|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < k->ns; i++) {
		const struct sweep_kv_series *s = &k->s[i];
		char pk[48], mk[32], wf[32];
		if (sweep_kv_per_engine(s))
			snprintf(pk, sizeof pk, "%d per engine (%d engines)", s->predicted_knee,
				 s->cap.kv_engines);
		else
			snprintf(pk, sizeof pk, s->predicted_knee ? "%d" : "-", s->predicted_knee);
		if (!sweep_kv_knee_known(s))
			snprintf(mk, sizeof mk, "not known");
		else
			snprintf(mk, sizeof mk, "%d", s->measured_knee);
		if (s->interrupted_at && !s->waited_from)
			snprintf(wf, sizeof wf, "not known (interrupted at %d)", s->interrupted_at);
		else if (s->failed_from && !s->waited_from)
			snprintf(wf, sizeof wf, "not known (failed at %d)", s->failed_from);
		else
			snprintf(wf, sizeof wf, s->waited_from ? "%d" : "none", s->waited_from);
		ttft_str_printf(b, "| %s | %ld | %s | %s | %s | %s | ", s->cfg,
				s->per_request_tokens, pk, mk, wf, s->criterion);
		ttft_str_md_cell(b, s->predicted_why);
		ttft_str_printf(b, " | ");
		ttft_str_md_cell(b, s->explain);
		ttft_str_printf(b, " |\n");
	}
	ttft_str_printf(b, "\n");
	for (int i = 0; i < k->ns; i++) {
		char name[64];
		snprintf(name, sizeof name, "kv-%d", i + 1);
		if (chart(base, name, kv_chart(&k->s[i], r), link, sizeof link, err, errlen) != 0)
			return -1;
		char sp[96];
		ttft_str_printf(b, "![TTFT and queueing against concurrency, %s, %s](%s)\n\n",
				k->s[i].cfg, series_prompt(&k->s[i], sp, sizeof sp), link);
	}
	/* one picture of queueing itself: the busiest point of the series
	 * with the most waiting (by its median TTFT: a p90 may not be
	 * there, and a NAN is no order) */
	const struct sweep_kv_series *ws = NULL;
	const struct sweep_kv_point *wp = NULL;
	int npts = 0;
	for (int i = 0; i < k->ns; i++) {
		/* the last point run whole that served a request a TTFT (one
		 * whose requests all failed was drawn as if they had queued
		 * and prefilled) */
		const struct sweep_kv_point *z = NULL;
		for (int j = 0; j < k->s[i].npts && k->s[i].pts[j].status != SWEEP_INTERRUPTED; j++)
			if (k->s[i].pts[j].ttft_n > 0)
				z = &k->s[i].pts[j];
		npts += k->s[i].npts;
		if (z && (!wp || z->ttft_p50 > wp->ttft_p50)) {
			ws = &k->s[i];
			wp = z;
		}
	}
	if (ws) {
		const struct sweep_kv_point *p = wp;
		if (chart(base, "kv-waterfall", kv_waterfall(ws, p), link, sizeof link, err, errlen) != 0)
			return -1;
		ttft_str_printf(b, "![Requests at concurrency %d, %s](%s)\n\n", p->conc, ws->cfg, link);
	} else if (npts) {
		ttft_str_printf(b, "No picture of requests queueing: no point served a request a "
				"first token.\n\n");
	}
	/* the lesson, with this run's numbers */
	ttft_str_printf(b, "**Flags are capacity commitments.** ");
	for (int i = 0; i < k->ns; i++) {
		const struct sweep_kv_series *s = &k->s[i];
		if (!s->npts)
			continue;
		/* the last point below the first that had failures */
		int last = 0;
		while (last < s->npts && !s->pts[last].failed &&
		       s->pts[last].status != SWEEP_INTERRUPTED)
			last++;
		int cut = last < s->npts && !s->pts[last].failed;
		last--;
		ttft_str_printf(b, "[%s] %ld-token requests: %s; ", s->cfg, s->per_request_tokens,
				s->predicted_why);
		if (last < 0) {
			ttft_str_printf(b, "%s at the lowest concurrency (%d): no trend is "
					   "given. ", cut ? "the sweep was interrupted"
					   : "requests failed", s->pts[0].conc);
			continue;
		}
		if (last == 0) {
			ttft_str_printf(b, "only concurrency %d was run whole (%s above it): no "
					   "trend is given. ", s->pts[0].conc,
					   cut || (s->npts == 1 && s->cut_before)
					   ? "the sweep was interrupted" : "requests failed");
			continue;
		}
		const struct sweep_kv_point *a = &s->pts[0], *z2 = &s->pts[last];
		ttft_str_printf(b, "measured TTFT p50 %s ms at concurrency %d → %s ms at %d "
				   "(queued: %s → %s of all TTFT)%s. ", ms(a->ttft_p50), a->conc,
				ms(z2->ttft_p50), z2->conc, pct(a->queue_share_all),
				pct(z2->queue_share_all), last == s->npts - 1
				? (s->cut_before ? "; above it the sweep was interrupted" : "")
				: cut ? "; above it the sweep was interrupted"
				: "; above it requests failed");
	}
	ttft_str_printf(b, "What a server can hold at once is fixed when it starts — slots and "
			   "context (-np, -c) for llama.cpp, KV memory and model length "
			   "(--gpu-memory-utilization, --max-model-len) for vLLM — and past it every "
			   "extra request waits in full before its prefill begins.\n\n");
	return 0;
}

/* The text without the section that starts with heading (up to the next
 * "## " heading or the end). */
static void drop_section(char *md, const char *heading)
{
	size_t hl = strlen(heading);
	for (char *p = md; (p = strstr(p, heading));) {
		int at_line = p == md || p[-1] == '\n';
		int whole = p[hl] == '\n' || p[hl] == 0;
		if (!at_line || !whole) {
			p += hl;
			continue;
		}
		char *e = strstr(p + hl, "\n## ");
		e = e ? e + 1 : p + strlen(p);
		memmove(p, e, strlen(e) + 1);
	}
}

int sweep_write_report(const struct sweep_run *r, const char *path, char *err, size_t errlen)
{
	char base[4096];
	snprintf(base, sizeof base, "%s", path);
	size_t bl = strlen(base);
	if (bl > 3 && !strcmp(base + bl - 3, ".md"))
		base[bl - 3] = 0;
	struct ttft_str b = {0};
	FILE *f = fopen(path, "r");
	if (f) {
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			ttft_str_add(&b, buf, n);
		fclose(f);
	} else if (errno == ENOENT) {
		ttft_str_printf(&b, "# Prefix caching and KV scaling — %s\n\n", r->model);
	} else {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* asked for and not run for a failure: the previous run's section
	 * would stand beside this run's KV section as if it were this run's
	 * (the JSON said "experiments_not_run"): replaced by the reason */
	int prefix_failed = r->o->prefix && !r->prefix.ran && r->prefix.error[0];
	if (b.s) {
		if (r->prefix.ran || prefix_failed)
			drop_section(b.s, "## Prefix caching");
		if (r->kv.ran)
			drop_section(b.s, "## KV scaling");
		b.n = strlen(b.s);
		while (b.n && b.s[b.n - 1] == '\n')
			b.s[--b.n] = 0;
		ttft_str_printf(&b, "\n\n");
	}
	int rc = 0;
	if (prefix_failed)
		ttft_str_printf(&b, "## Prefix caching\n\n**Not run** (%s): %s.\n\n", r->date,
				r->prefix.error);
	if (r->prefix.ran)
		rc = prefix_section(&b, r, base, err, errlen);
	if (!rc && r->kv.ran)
		rc = kv_section(&b, r, base, err, errlen);
	if (!rc && !ttft_str_ok(&b)) {
		snprintf(err, errlen, "out of memory writing %s", path);
		rc = -1;
	}
	if (!rc)
		rc = write_file(path, ttft_str_get(&b), err, errlen);
	ttft_str_free(&b);
	if (!rc) {
		char html[4200];
		snprintf(html, sizeof html, "%s.html", base);
		rc = ttft_html_write(path, html, err, errlen);
	}
	return rc;
}

/* A request: its queue as the experiment has it (the record's own, or
 * derived: queue_source says which), its prompt length, and the record. */
static void req_json(struct ttft_json *j, const struct sweep_req *q, int64_t t0)
{
	struct ttft_json_ctx ctx = {.t0 = t0};
	ttft_json_begin_obj(j, NULL);
	/* cut in flight by the sweep's stop: not a failure of the server's */
	ttft_json_bool(j, "interrupted", q->rec.interrupted);
	ttft_json_num(j, "queue_s", q->queue_s);
	ttft_json_str(j, "queue_source", q->queue_source);
	if (q->rec.prompt_tokens >= 0)
		ttft_json_int(j, "prompt_tokens", q->rec.prompt_tokens);
	else
		ttft_json_null(j, "prompt_tokens");
	ttft_json_record(j, "request", &q->rec, &ctx);
	ttft_json_end_obj(j);
}

static void reqs_json(struct ttft_json *j, const char *key, const struct sweep_req *q, int n,
		      int64_t t0)
{
	ttft_json_begin_arr(j, key);
	for (int i = 0; i < n; i++)
		req_json(j, &q[i], t0);
	ttft_json_end_arr(j);
}

/* A count that 0 means "not stated": null then. */
static void count(struct ttft_json *j, const char *key, long long v)
{
	if (v)
		ttft_json_int(j, key, v);
	else
		ttft_json_null(j, key);
}

static void cap_json(struct ttft_json *j, const struct sweep_capacity *c)
{
	ttft_json_begin_obj(j, "capacity");
	ttft_json_num(j, "kv_tokens", c->kv_tokens);
	/* vLLM data parallelism: the engines that logged a KV cache, each
	 * its own; kv_tokens is then the smallest engine's */
	count(j, "kv_engines", c->kv_engines);
	/* the starts the log held (a restart); the capacity is the last
	 * one's; null: not looked for */
	count(j, "starts", c->starts);
	ttft_json_num(j, "max_concurrency", c->max_conc);
	ttft_json_num(j, "max_concurrency_tokens", c->max_conc_len);
	count(j, "slots", c->slots);
	count(j, "slot_ctx", c->slot_ctx);
	ttft_json_bool(j, "unified", c->unified);
	count(j, "max_num_seqs", c->max_num_seqs);
	ttft_json_int(j, "block", c->block);
	ttft_json_str(j, "source", c->source);
	ttft_json_end_obj(j);
}

static void prefix_json(struct ttft_json *j, const struct sweep_run *r)
{
	const struct sweep_prefix *p = &r->prefix;
	ttft_json_begin_obj(j, "prefix");
	ttft_json_str(j, "server", p->server_label);
	ttft_json_str(j, "misses_by", p->miss_how);
	ttft_json_str(j, "tokens_counted_by", p->tokens_how);
	ttft_json_str(j, "hits_counted_by", p->hits_how);
	if (p->error[0])
		ttft_json_str(j, "error", p->error);
	ttft_json_begin_arr(j, "points");
	for (int i = 0; i < p->npts; i++) {
		const struct sweep_prefix_point *q = &p->pts[i];
		ttft_json_begin_obj(j, NULL);
		ttft_json_str(j, "status", sweep_status_name(q->status));
		ttft_json_int(j, "requests_interrupted", q->cut);
		ttft_json_int(j, "prefix_tokens_asked", q->want_tokens);
		ttft_json_int(j, "prefix_tokens", q->prefix_tokens);
		/* the TTFTs the p50 / p90 are of: p90 null below 10 */
		ttft_json_int(j, "miss_ttft_n", q->miss_served);
		ttft_json_int(j, "hit_ttft_n", q->hit_served);
		ttft_json_num(j, "miss_ttft_p50_s", q->miss_p50);
		ttft_json_num(j, "miss_ttft_p90_s", q->miss_p90);
		ttft_json_num(j, "hit_ttft_p50_s", q->hit_p50);
		ttft_json_num(j, "hit_ttft_p90_s", q->hit_p90);
		ttft_json_num(j, "hit_cached_tokens_p50", q->hit_tokens_hit);
		ttft_json_num(j, "miss_cached_tokens_p50", q->hit_tokens_miss);
		ttft_json_num(j, "miss_prefill_p50_s", q->prefill_miss);
		ttft_json_num(j, "hit_prefill_p50_s", q->prefill_hit);
		ttft_json_num(j, "saved_p50_s", q->saved_s);
		ttft_json_num(j, "saved_per_cached_token_s", q->saved_per_token_s);
		if (q->pays_why) { /* not judged: null, and why */
			ttft_json_null(j, "pays");
			ttft_json_str(j, "pays_not_judged", q->pays_why);
		} else {
			ttft_json_bool(j, "pays", q->pays);
		}
		reqs_json(j, "misses", q->miss, q->nmiss, q->t0);
		ttft_json_begin_arr(j, "prime");
		if (q->primed)
			req_json(j, &q->prime, q->t0);
		ttft_json_end_arr(j);
		reqs_json(j, "hits", q->hit, q->nhit, q->t0);
		ttft_json_end_obj(j);
	}
	ttft_json_end_arr(j);
	count(j, "pays_from_tokens", p->from_tokens);
	/* non-null: the lengths disagree, pays_from_tokens is no threshold */
	count(j, "paid_below_pays_from", p->paid_below);
	count(j, "not_paid_above", p->unpaid_above);
	ttft_json_num(j, "saved_per_cached_token_fit_s", p->slope_s_per_token);
	ttft_json_num(j, "saved_fit_intercept_s", p->intercept_s);
	ttft_json_num(j, "jitter_s", p->jitter_s);
	ttft_json_begin_arr(j, "not_run"); /* prefix lengths asked, never begun */
	prefix_not_run(r, len_json, j);
	ttft_json_end_arr(j);
	ttft_json_end_obj(j);
}

static void point_json(struct ttft_json *j, const struct sweep_kv_point *p)
{
	ttft_json_begin_obj(j, NULL);
	ttft_json_int(j, "concurrency", p->conc);
	/* interrupted: the figures are null, the requests begun are kept */
	ttft_json_str(j, "status", sweep_status_name(p->status));
	ttft_json_int(j, "requests", p->nreq);
	ttft_json_int(j, "requests_planned", p->planned);
	ttft_json_int(j, "requests_interrupted", p->cut);
	ttft_json_int(j, "requests_not_started", p->planned - p->nreq);
	ttft_json_int(j, "failed", p->failed);
	if (p->failed)
		ttft_json_str(j, "error", p->error);
	if (p->prompt_tokens >= 0)
		ttft_json_int(j, "prompt_tokens", p->prompt_tokens);
	else
		ttft_json_null(j, "prompt_tokens");
	/* the values the percentiles are of: p90 / p99 null below 10 / 100 */
	ttft_json_int(j, "ttft_n", p->ttft_n);
	ttft_json_num(j, "ttft_p50_s", p->ttft_p50);
	ttft_json_num(j, "ttft_p90_s", p->ttft_p90);
	ttft_json_num(j, "ttft_p99_s", p->ttft_p99);
	ttft_json_int(j, "queue_share_n", p->share_n);
	ttft_json_num(j, "queue_share_p50", p->queue_share_p50);
	ttft_json_num(j, "queue_share_p90", p->queue_share_p90);
	ttft_json_num(j, "queue_share_of_all_ttft", p->queue_share_all);
	ttft_json_str(j, "queue_share_of_all_ttft_source", p->share_source);
	ttft_json_num(j, "queue_p50_s", p->queue_p50);
	ttft_json_str(j, "queue_source", p->queue_source);
	ttft_json_num(j, "wall_s", p->wall_s);
	ttft_json_num(j, "output_tokens_per_s", p->out_tok_s);
	/* above 0: the rate is a lower bound (docs/experiments.md) */
	ttft_json_int(j, "requests_tokens_from_events", p->tok_events);
	ttft_json_num(j, "requests_per_s", p->req_s);
	ttft_json_begin_obj(j, "server");
	ttft_json_num(j, "running_max", p->state.running_max);
	ttft_json_num(j, "waiting_max", p->state.waiting_max);
	ttft_json_num(j, "kv_usage_max_pct", p->state.kv_usage_max_pct);
	ttft_json_str(j, "kv_usage_source", p->state.kv_usage_source);
	ttft_json_int(j, "samples", p->state.samples);
	ttft_json_end_obj(j);
	reqs_json(j, "requests_detail", p->req, p->nreq, p->t0);
	ttft_json_end_obj(j);
}

static void kv_json(struct ttft_json *j, const struct sweep_run *r)
{
	const struct sweep_kv *k = &r->kv;
	ttft_json_begin_obj(j, "kv");
	if (k->error[0])
		ttft_json_str(j, "error", k->error);
	ttft_json_begin_arr(j, "series");
	for (int i = 0; i < k->ns; i++) {
		const struct sweep_kv_series *s = &k->s[i];
		ttft_json_begin_obj(j, NULL);
		ttft_json_str(j, "config", s->cfg);
		ttft_json_int(j, "prompt_tokens_asked", s->want_tokens);
		ttft_json_int(j, "tokens_per_request", s->per_request_tokens);
		cap_json(j, &s->cap);
		count(j, "predicted_knee", s->predicted_knee);
		/* true: one data-parallel engine's, not the whole server's */
		ttft_json_bool(j, "predicted_per_engine", sweep_kv_per_engine(s));
		ttft_json_str(j, "predicted_why", s->predicted_why);
		if (!sweep_kv_knee_known(s))
			ttft_json_null(j, "measured_knee"); /* failed at the lowest, or cut */
		else
			ttft_json_int(j, "measured_knee", s->measured_knee);
		count(j, "waited_from", s->waited_from);
		/* requests failed from this concurrency on: measured_knee and
		 * waited_from say nothing about it or above */
		count(j, "failed_from", s->failed_from);
		/* the sweep was stopped in this concurrency: likewise */
		count(j, "interrupted_at", s->interrupted_at);
		ttft_json_str(j, "knee_criterion", s->criterion);
		/* what told waiting at waited_from: the server's own count, or
		 * the proxy a point its samples did not see whole fell back to
		 * (null: no point waited) */
		ttft_json_str(j, "waited_by", s->waited_by);
		ttft_json_str(j, "explanation", s->explain);
		ttft_json_begin_arr(j, "points");
		for (int p = 0; p < s->npts; p++)
			point_json(j, &s->pts[p]);
		ttft_json_end_arr(j);
		ttft_json_end_obj(j);
	}
	ttft_json_end_arr(j);
	ttft_json_begin_arr(j, "not_run"); /* the grid's points never begun */
	kv_not_run(r, not_run_json, j);
	ttft_json_end_arr(j);
	ttft_json_end_obj(j);
}

void sweep_json(struct ttft_json *j, const struct sweep_run *r)
{
	ttft_json_begin_obj(j, NULL);
	ttft_json_str(j, "kind", r->kind);
	ttft_json_str(j, "model", r->model);
	ttft_json_str(j, "date", r->date);
	ttft_json_int(j, "max_tokens", r->o->probe.max_tokens);
	/* stopped by a signal: what ran is below, each point's status says
	 * how far it got; an experiment asked for and never begun is named */
	ttft_json_bool(j, "interrupted", r->stop_sig != 0);
	if (r->stop_sig)
		ttft_json_str(j, "interrupted_by", r->stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
	ttft_json_begin_arr(j, "experiments_not_run");
	if (r->o->prefix && !r->prefix.ran)
		ttft_json_str(j, NULL, "prefix");
	if (r->o->kv && !r->kv.ran)
		ttft_json_str(j, NULL, "kv");
	ttft_json_end_arr(j);
	/* an experiment not run for a failure (its server did not start or
	 * answer, its lengths could not be measured): why */
	ttft_json_begin_obj(j, "experiments_not_run_why");
	if (r->o->prefix && !r->prefix.ran && r->prefix.error[0])
		ttft_json_str(j, "prefix", r->prefix.error);
	ttft_json_end_obj(j);
	if (r->prefix.ran)
		prefix_json(j, r);
	if (r->kv.ran)
		kv_json(j, r);
	ttft_json_end_obj(j);
	ttft_json_newline(j);
}
