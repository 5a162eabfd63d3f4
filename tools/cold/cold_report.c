/* cold_report.c — ttft-cold's outputs: the seed's Markdown template filled
 * from measurements (the decomposition nested as the server nests it, cold
 * against warm like for like, the spread across restarts, the mental model
 * and the knobs with this run's numbers), and the JSON document. Every
 * sentence is built from a number measured in this run, or says that it
 * could not be. */
#include "cold.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cold_charts.h"
#include "ttft_json.h"
#include "ttft_summary.h"

/* A growing string; oom: something could not be added. */
struct sb {
	char *s;
	size_t n, cap;
	int oom;
};

__attribute__((format(printf, 2, 3)))
static void sbf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || b->oom)
		return;
	if (b->n + (size_t)k + 1 > b->cap) {
		size_t cap = (b->n + (size_t)k + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

static const char *str(const struct sb *b)
{
	return b->s ? b->s : "";
}

static double median_of(double *v, size_t n)
{
	return ttft_percentile(v, n, 0.5);
}

double cold_warm_median(const struct cold_cycle *c, double *min, double *max, double *cv)
{
	double v[1024];
	size_t n = 0;
	for (int i = 0; i < c->nwarm && n < 1024; i++) {
		double t = ttft_record_ttft_s(&c->warm[i]);
		if (!isnan(t))
			v[n++] = t;
	}
	double mean = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean = n ? mean / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		var += (v[i] - mean) * (v[i] - mean);
	*cv = n > 1 ? sqrt(var / (double)(n - 1)) / mean : NAN;
	double med = median_of(v, n);
	*min = n ? v[0] : NAN;
	*max = n ? v[n - 1] : NAN;
	return med;
}

static const char *engine_name(const char *kind)
{
	return !strcmp(kind, "vllm") ? "vLLM" : !strcmp(kind, "llamacpp")
	       ? "llama.cpp llama-server" : kind;
}

static int is_vllm(const struct cold_run *run)
{
	return !strcmp(run->kind, "vllm");
}

/* Cycles with both a cold request and warm ones measured. */
static int usable(const struct cold_cycle *c)
{
	return c->cold.t_start && c->cold.ok && c->nwarm > 0 && !isnan(c->spawn_to_ready_s);
}

static const struct cold_cycle *first_usable(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (usable(&run->cycles[k]))
			return &run->cycles[k];
	return NULL;
}

/* Cached prompt tokens of one run, from whichever the server gives
 * (llama.cpp's timings.cache_n, vLLM's prefix-cache counter deltas). */
static double cached_tokens(const struct ttft_record *r)
{
	return r->split.hit_tokens;
}

/* The server's own prefill time of one run, seconds. */
static double prefill_s(const struct ttft_record *r)
{
	return r->split.prefill_s;
}

static void num_cell(struct sb *b, double v, const char *fmt)
{
	if (isnan(v))
		sbf(b, " - |");
	else
		sbf(b, fmt, v);
}

static void row(struct sb *b, const char *id, const struct ttft_record *r, const char *note)
{
	sbf(b, "| %s | %s |", id, r->label ? r->label : "");
	num_cell(b, ttft_record_ttft_s(r), " %.4f |");
	num_cell(b, ttft_record_e2e_s(r), " %.4f |");
	sbf(b, " %ld |", ttft_record_tokens(r));
	num_cell(b, r->prompt_tokens >= 0 ? (double)r->prompt_tokens : NAN, " %.0f |");
	num_cell(b, cached_tokens(r), " %.0f |");
	num_cell(b, prefill_s(r), " %.4f |");
	sbf(b, " %s |\n", r->ok ? note : ttft_record_error(r));
}

/* ---- the decomposition ---- */

/* Seconds of each category, counting every phase once: a phase's own time
 * is its duration less its children's; unaccounted goes to start-up. */
static void by_category(const struct cold_decomp *d, double *cat)
{
	for (int i = 0; i < COLD_CAT__N; i++)
		cat[i] = 0;
	for (size_t i = 0; i < d->nphases; i++) {
		const struct cold_phase *p = &d->phases[i];
		if (!p->found)
			continue;
		double own = p->duration_s;
		for (size_t j = 0; j < d->nphases; j++)
			if (d->phases[j].found && d->phases[j].parent == (int)i)
				own -= d->phases[j].duration_s;
		cat[p->category] += own;
	}
	if (!isnan(d->unaccounted_s))
		cat[COLD_CAT_STARTUP] += d->unaccounted_s;
}

/* The longest top-level phase, or NULL. */
static const struct cold_phase *dominant(const struct cold_decomp *d)
{
	const struct cold_phase *best = NULL;
	for (size_t i = 0; i < d->nphases; i++) {
		const struct cold_phase *p = &d->phases[i];
		if (p->found && p->parent < 0 && (!best || p->duration_s > best->duration_s))
			best = p;
	}
	return best;
}

static void spread_of_phase(const struct cold_run *run, const char *name, double *lo,
			    double *hi, int *n)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	*n = 0;
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_decomp *d = &run->cycles[k].dec;
		for (size_t i = 0; i < d->nphases; i++)
			if (d->phases[i].found && !strcmp(d->phases[i].name, name)) {
				double v = d->phases[i].duration_s;
				*lo = v < *lo ? v : *lo;
				*hi = v > *hi ? v : *hi;
				(*n)++;
			}
	}
}

static void decomposition(struct sb *b, const struct cold_run *run, const struct cold_cycle *c)
{
	const struct cold_decomp *d = &c->dec;
	if (!d->found) {
		sbf(b, "No line of the server's output matched %s: the whole start-up "
		       "(%.3f s) is unaccounted.%s\n", run->patterns_path ? run->patterns_path
		    : "a pattern file", c->spawn_to_ready_s, !strcmp(run->kind, "llamacpp")
		    ? " llama-server prints its phases only with `-lv 4 --log-timestamps "
		      "--log-prefix`." : "");
		return;
	}
	int many = run->ncycles > 1;
	sbf(b, "Where spawn → ready went (cycle %d; seconds since the spawn, from the "
	       "server's own log lines as they arrived). Indented phases run inside the "
	       "one above them and are not added again; the top-level phases and the "
	       "unaccounted time add up to spawn → ready.\n\n", c->index);
	sbf(b, "| phase | what it is | start_s | duration_s | stated by the line (s) |%s\n",
	    many ? " duration across cycles (min–max) |" : "");
	sbf(b, "|---|---|---|---|---|%s\n", many ? "---|" : "");
	double sum = 0;
	for (size_t k = 0; k < d->norder; k++) {
		const struct cold_phase *p = &d->phases[d->order[k]];
		if (p->parent < 0)
			sum += p->duration_s;
		char indent[64] = "";
		for (int i = 0; i < p->depth && i < 4; i++)
			strcat(indent, "&nbsp;&nbsp;&nbsp;&nbsp;");
		sbf(b, "| %s%s%s%s (`%s`) | %s [%s]", indent, p->depth ? "↳ " : "**", p->title,
		    p->depth ? "" : "**", p->name, p->meaning, cold_cat_name(p->category));
		if (p->copies > 1)
			sbf(b, "; %d processes logged it (tensor-parallel ranks): counted "
			       "once, until the last", p->copies);
		if (p->note[0])
			sbf(b, "; %s", p->note);
		sbf(b, " | %.3f | %.3f |", p->start_s, p->duration_s);
		num_cell(b, p->stated_s, " %.3f |");
		if (many) {
			double lo, hi;
			int n;
			spread_of_phase(run, p->name, &lo, &hi, &n);
			sbf(b, " %.3f–%.3f (%d of %d) |", lo, hi, n, run->ncycles);
		}
		sbf(b, "\n");
	}
	sbf(b, "| **unaccounted** | no log line explains it: process start, imports, "
	       "device set-up, gaps between phases");
	if (!isnan(d->first_line_s))
		sbf(b, "; %.3f s of it before the server's first line", d->first_line_s);
	sbf(b, " | | %.3f | |%s\n", d->unaccounted_s, many ? " |" : "");
	sbf(b, "| **= spawn → ready** (/health 200) | top-level phases %.3f s + unaccounted "
	       "%.3f s | 0 | %.3f | |%s\n\n", sum, d->unaccounted_s, c->spawn_to_ready_s,
	    many ? " |" : "");
}

/* ---- the host ---- */

static int busy(const struct cold_cycle *c)
{
	return c->host_start.ncpu > 0 &&
	       (c->host_start.load1 >= (double)c->host_start.ncpu || c->steal_pct >= 5);
}

static int any_busy(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (busy(&run->cycles[k]))
			return 1;
	return 0;
}

/* ---- cold vs warm ---- */

struct factors {
	double v[1000];
	size_t n;
	double lo, med, hi;
};

static void cold_factors(const struct cold_run *run, struct factors *f)
{
	f->n = 0;
	for (int k = 0; k < run->ncycles && f->n < 1000; k++) {
		const struct cold_cycle *c = &run->cycles[k];
		double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
		if (usable(c) && med > 0)
			f->v[f->n++] = ttft_record_ttft_s(&c->cold) / med;
	}
	double tmp[1000];
	memcpy(tmp, f->v, f->n * sizeof *tmp);
	f->med = median_of(tmp, f->n);
	f->lo = f->n ? tmp[0] : NAN;
	f->hi = f->n ? tmp[f->n - 1] : NAN;
}

static void comparison(struct sb *b, const struct cold_run *run)
{
	double wc_max = -1, cold_cached = NAN;
	long cold_pt = -1, warm_pt_lo = -1, warm_pt_hi = -1;
	int known = 0, unknown = 0;
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *c = &run->cycles[k];
		if (!c->cold.t_start)
			continue;
		if (cold_pt < 0)
			cold_pt = c->cold.prompt_tokens;
		if (isnan(cold_cached))
			cold_cached = cached_tokens(&c->cold);
		for (int i = 0; i < c->nwarm; i++) {
			double ct = cached_tokens(&c->warm[i]);
			long pt = c->warm[i].prompt_tokens;
			if (isnan(ct))
				unknown++;
			else {
				known++;
				wc_max = ct > wc_max ? ct : wc_max;
			}
			if (pt >= 0) {
				warm_pt_lo = warm_pt_lo < 0 || pt < warm_pt_lo ? pt : warm_pt_lo;
				warm_pt_hi = pt > warm_pt_hi ? pt : warm_pt_hi;
			}
		}
	}
	if (run->distinct_prompts)
		sbf(b, "Like for like: every run sent its own prompt, the same text behind "
		       "a label of its own (\"0. %.60s\", \"1. …\"), so all are equally "
		       "long and none could reuse another's prefix from the server's "
		       "cache%s. ", run->prompt, run->warm_runs + 1 > 62
		       ? " (after 62 runs the labels repeat)" : "");
	else
		sbf(b, "Not like for like: every run sent the same prompt (`--same-prompt`), "
		       "so warm runs could take most of it from the server's prefix cache; "
		       "the cold/warm difference then includes that cache, not only the "
		       "first request's warm-up. Drop `--same-prompt` (distinct prompts, "
		       "the default) or turn the server's prefix cache off for a fair "
		       "comparison. ");
	if (cold_pt >= 0 && warm_pt_lo >= 0)
	{
		sbf(b, "The cold request had %ld prompt tokens, the warm ones %ld", cold_pt,
		    warm_pt_lo);
		if (warm_pt_hi != warm_pt_lo)
			sbf(b, "–%ld", warm_pt_hi);
		sbf(b, ". ");
	}
	if (known && !unknown) {
		if (wc_max <= 0)
			sbf(b, "The server confirms it: no warm run found a cached prompt "
			       "token (%s).", is_vllm(run) ? "vLLM's prefix-cache counters"
			    : "llama.cpp's timings.cache_n");
		else
			sbf(b, "The server counted up to %.0f cached prompt tokens in a warm run "
			       "(the cold one: %.0f)%s: those were not prefilled again, so "
			       "compare the prefill_s column, not only ttft_s.", wc_max,
			    isnan(cold_cached) ? 0 : cold_cached, run->distinct_prompts
			    ? " — the start all prompts share (a chat template's system part, "
			      "a BOS token)" : "");
	} else {
		sbf(b, "The server reported no cached-token counts (no llama.cpp timings, no "
		       "readable vLLM /metrics), so whether warm runs hit a prefix cache "
		       "cannot be shown here.");
	}
	sbf(b, "\n");
}

/* ---- outliers ---- */

/* A line worth quoting next to an outlier: a warning or an error, or one
 * that says what happened (slow, preempted, swapped, evicted, retried).
 * Request chatter ("conv_id= (empty=1)") is counted, not quoted. */
static int notable(const char *s)
{
	static regex_t re;
	static int ready;
	if (!ready) {
		ready = regcomp(&re, "(^|[ \\]])(W|E|WARNING|ERROR|CRITICAL) |[Ss]low|"
				"[Tt]imeout|timed out|[Pp]reempt|[Ee]vict|[Ss]wap|[Rr]etry|"
				"[Ee]rror|[Ff]ail|out of memory|OOM", REG_EXTENDED | REG_NOSUB)
			== 0 ? 1 : -1;
	}
	return ready == 1 && regexec(&re, s, 0, NULL, 0) == 0;
}

static void outliers(struct sb *b, const struct cold_cycle *c, double med)
{
	for (int i = 0; i < c->nwarm; i++) {
		const struct ttft_record *r = &c->warm[i];
		double t = ttft_record_ttft_s(r);
		if (isnan(t) || isnan(med) || t < 1.5 * med || t - med < 0.001)
			continue;
		double a = (double)(r->t_start - c->t_spawn) / 1e9;
		double z = (double)(r->t_end - c->t_spawn) / 1e9;
		double gmax = -1;
		for (size_t k = 0; k < c->nsamples; k++)
			if (c->samples[k].t_s >= a - 0.1 && c->samples[k].t_s <= z + 0.1 &&
			    c->samples[k].gpu_util > gmax)
				gmax = c->samples[k].gpu_util;
		int nl = 0;
		const char *quote = NULL;
		for (size_t k = 0; k < c->nlines; k++) {
			double tl = (double)(c->lines[k].t_ns - c->t_spawn) / 1e9;
			if (tl >= a && tl <= z) {
				nl++;
				if (!quote && notable(c->lines[k].text))
					quote = c->lines[k].text;
			}
		}
		sbf(b, "- **Outlier:** cycle %d, warm run %d: TTFT %.4f s (%.1f× the median); "
		       "meanwhile the server printed %d line%s", c->index, r->run, t, t / med,
		    nl, nl == 1 ? "" : "s");
		if (quote)
			sbf(b, ", among them `%.160s`", quote);
		else if (nl)
			sbf(b, ", none of them a warning or a reason");
		if (gmax >= 0)
			sbf(b, "; GPU utilisation peaked at %.0f%%", gmax);
		sbf(b, ".\n");
	}
}

/* ---- observations ---- */

static void observations(struct sb *b, const struct cold_run *run)
{
	const struct cold_cycle *c = first_usable(run);
	struct factors f;
	cold_factors(run, &f);
	if (any_busy(run)) {
		sbf(b, "- **Busy host:** ");
		for (int k = 0; k < run->ncycles; k++) {
			const struct cold_cycle *y = &run->cycles[k];
			sbf(b, "%scycle %d: load average %.2f on %ld cores, steal %.1f%%",
			    k ? "; " : "", y->index, y->host_start.load1, y->host_start.ncpu,
			    y->steal_pct);
		}
		sbf(b, ". Other work competed for the CPUs, so single timings are noisy; "
		       "read the spread across cycles, not one cycle, and rerun on a quiet "
		       "host before drawing a firm conclusion.\n");
	}
	if (f.n) {
		sbf(b, "- **Cold vs warm:** the cold request's TTFT was ");
		for (size_t i = 0; i < f.n; i++)
			sbf(b, "%s%.1f×", i ? " / " : "", f.v[i]);
		sbf(b, " the median warm TTFT (%s).", f.n > 1 ? "per cycle" : "one cycle");
		if (f.n > 1 && f.lo < 1.2 && f.hi >= 1.2)
			sbf(b, " The cycles disagree on whether the first request is slower at "
			       "all: no conclusion from this run%s.", any_busy(run)
			    ? " on a busy host" : "");
		else if (f.n == 1)
			sbf(b, " One cycle: run --cycles 3 or more before trusting the factor.");
		sbf(b, "\n");
	}
	if (!c)
		return;
	const struct cold_decomp *d = &c->dec;
	const struct cold_phase *dp = dominant(d);
	if (dp && c->spawn_to_ready_s > 0)
		sbf(b, "- **Largest start-up phase:** %s (`%s`: %s), %.3f s of the %.3f s from "
		       "spawn to ready (%.0f%%).\n", dp->title, dp->name, dp->meaning,
		    dp->duration_s, c->spawn_to_ready_s, 100 * dp->duration_s / c->spawn_to_ready_s);
	if (!isnan(d->unaccounted_s) && c->spawn_to_ready_s > 0)
		sbf(b, "- **Unaccounted start-up:** %.3f s (%.0f%%) that no log line explains%s.\n",
		    d->unaccounted_s, 100 * d->unaccounted_s / c->spawn_to_ready_s,
		    !isnan(d->first_line_s) && d->first_line_s > 0.25 * d->unaccounted_s
		    ? "; most of it before the server printed anything (interpreter "
		      "start, imports, device set-up)" : "");
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *y = &run->cycles[k];
		double mn, mx, cv, med = cold_warm_median(y, &mn, &mx, &cv);
		if (!isnan(cv))
			sbf(b, "- **Warm stability (cycle %d):** coefficient of variation %.1f%% "
			       "over %d warm runs (%s).\n", y->index, 100 * cv, y->nwarm,
			    cv < 0.05 ? "stable" : cv < 0.15 ? "some jitter"
			    : "noisy: look at the outliers");
		outliers(b, y, med);
	}
	double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
	double pf[1024];
	size_t npf = 0;
	for (int i = 0; i < c->nwarm && npf < 1024; i++)
		if (!isnan(prefill_s(&c->warm[i])))
			pf[npf++] = prefill_s(&c->warm[i]);
	double pfm = median_of(pf, npf);
	if (!isnan(pfm) && !isnan(med))
		sbf(b, "- **Inside warm TTFT (cycle %d):** the server reports %.4f s of "
		       "prefill; the other %.4f s is HTTP, queueing, tokenization and the "
		       "first token's flush.\n", c->index, pfm, med - pfm);
	if (run->ncycles > 1) {
		double sr[1000], ct[1000];
		size_t n = 0;
		for (int k = 0; k < run->ncycles && n < 1000; k++)
			if (usable(&run->cycles[k])) {
				sr[n] = run->cycles[k].spawn_to_ready_s;
				ct[n] = ttft_record_ttft_s(&run->cycles[k].cold);
				n++;
			}
		double srm = median_of(sr, n), ctm = median_of(ct, n);
		if (n)
			sbf(b, "- **Across %zu restarts:** spawn → ready %.3f / %.3f / %.3f s "
			       "and cold TTFT %.4f / %.4f / %.4f s (min / median / max).\n", n,
			    sr[0], srm, sr[n - 1], ct[0], ctm, ct[n - 1]);
	}
}

/* ---- the mental model ---- */

struct medians {
	double ready, cold, warm, extra, pf_cold, pf_warm;
	double cat[COLD_CAT__N];
	size_t n;
};

static void medians_of(const struct cold_run *run, struct medians *m)
{
	double r[1000], c[1000], w[1000], pc[1000], pw[1000], cat[COLD_CAT__N][1000];
	size_t n = 0, npc = 0, npw = 0;
	for (int k = 0; k < run->ncycles && n < 1000; k++) {
		const struct cold_cycle *y = &run->cycles[k];
		if (!usable(y))
			continue;
		double mn, mx, cv;
		r[n] = y->spawn_to_ready_s;
		c[n] = ttft_record_ttft_s(&y->cold);
		w[n] = cold_warm_median(y, &mn, &mx, &cv);
		double cc[COLD_CAT__N];
		by_category(&y->dec, cc);
		for (int i = 0; i < COLD_CAT__N; i++)
			cat[i][n] = cc[i];
		if (!isnan(prefill_s(&y->cold)))
			pc[npc++] = prefill_s(&y->cold);
		for (int i = 0; i < y->nwarm && npw < 1000; i++)
			if (!isnan(prefill_s(&y->warm[i])))
				pw[npw++] = prefill_s(&y->warm[i]);
		n++;
	}
	m->n = n;
	m->ready = median_of(r, n);
	m->cold = median_of(c, n);
	m->warm = median_of(w, n);
	m->extra = m->cold - m->warm;
	m->pf_cold = median_of(pc, npc);
	m->pf_warm = median_of(pw, npw);
	for (int i = 0; i < COLD_CAT__N; i++)
		m->cat[i] = median_of(cat[i], n);
}

static void mental_model(struct sb *b, const struct cold_run *run)
{
	struct medians m;
	medians_of(run, &m);
	struct factors f;
	cold_factors(run, &f);
	if (!m.n) {
		sbf(b, "No cycle measured both a cold and a warm request, so there is no "
		       "model to give.\n");
		return;
	}
	double first_user = m.ready + m.cold;
	sbf(b, "After a restart the first user waits for the start-up and then for the "
	       "cold request: %.2f s + %.1f ms = %.2f s, about %.0f× a warm request's "
	       "%.1f ms (the cold request alone is %.1f× a warm one; medians over %zu "
	       "cycle%s). ", m.ready, m.cold * 1e3, first_user, first_user / m.warm,
	    m.warm * 1e3, f.med, m.n, m.n == 1 ? "" : "s");
	double tot = 0;
	for (int i = 0; i < COLD_CAT__N; i++)
		tot += m.cat[i];
	if (tot > 0) {
		sbf(b, "Of the start-up, ");
		static const int order[] = {COLD_CAT_WEIGHTS, COLD_CAT_WARMUP, COLD_CAT_ALLOC,
					    COLD_CAT_OTHER, COLD_CAT_STARTUP};
		int first = 1;
		for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
			double v = m.cat[order[i]];
			if (v <= 0 && order[i] != COLD_CAT_WEIGHTS && order[i] != COLD_CAT_WARMUP)
				continue;
			sbf(b, "%s%s %.2f s (%.0f%%)", first ? "" : ", ",
			    order[i] == COLD_CAT_STARTUP ? "process and server start-up with what no "
			    "line explains" : cold_cat_name(order[i]), v, 100 * v / tot);
			first = 0;
		}
		sbf(b, ". ");
	}
	int mixed = f.n > 1 && f.lo < 1.2 && f.hi >= 1.2, slower = f.n && f.lo >= 1.2;
	if (mixed) {
		sbf(b, "Whether the cold request pays extra, the cycles disagree (%.1f× to %.1f× "
		       "a warm one)%s, so its own cost is not told apart from noise here. ",
		    f.lo, f.hi, any_busy(run) ? " on a busy host" : "");
	} else if (slower) {
		double inside = m.pf_cold - m.pf_warm;
		sbf(b, "The cold request's own extra %.1f ms over a warm one is first-use "
		       "cost inside the engine", m.extra * 1e3);
		if (!isnan(inside) && inside >= m.extra)
			sbf(b, ": by the server's count its prefill took %.1f ms against %.1f ms "
			       "warm, so all of it happened inside the first prefill (the first "
			       "use of the weights' memory and of the kernels)", m.pf_cold * 1e3,
			    m.pf_warm * 1e3);
		else if (!isnan(inside))
			sbf(b, ": by the server's count its prefill took %.1f ms against %.1f ms "
			       "warm, so %.1f ms of it happened inside the first prefill (the "
			       "first use of the weights' memory and of the kernels) and %.1f ms "
			       "around it (HTTP, tokenisation, scheduling)", m.pf_cold * 1e3,
			    m.pf_warm * 1e3, (inside > 0 ? inside : 0) * 1e3,
			    (m.extra - (inside > 0 ? inside : 0)) * 1e3);
		sbf(b, ". ");
	} else {
		sbf(b, "The cold request costs about what a warm one does: the restart's "
		       "cost is all start-up. ");
	}
	sbf(b, "For an SRE: a restart costs about %.0f s without service%s; after that, "
	       "TTFT is %.1f ms until load changes it.\n", ceil(m.ready),
	    slower ? " and one slow first request" : "", m.warm * 1e3);
}

/* ---- the knobs ---- */

static const char *info_of(const struct cold_run *run, const char *name)
{
	for (int k = 0; k < run->ncycles; k++) {
		const char *v = cold_info(&run->cycles[k].dec, name);
		if (v)
			return v;
	}
	return NULL;
}

static double info_num(const struct cold_run *run, const char *name)
{
	const char *v = info_of(run, name);
	if (!v)
		return NAN;
	char buf[64];
	size_t o = 0;
	for (const char *p = v; *p && o + 1 < sizeof buf; p++)
		if (*p != ',')
			buf[o++] = *p;
	buf[o] = 0;
	char *e;
	double x = strtod(buf, &e);
	return e == buf ? NAN : x;
}

static double phase_median(const struct cold_run *run, const char *name)
{
	double v[1000];
	size_t n = 0;
	for (int k = 0; k < run->ncycles && n < 1000; k++) {
		const struct cold_decomp *d = &run->cycles[k].dec;
		for (size_t i = 0; i < d->nphases; i++)
			if (d->phases[i].found && !strcmp(d->phases[i].name, name))
				v[n++] = d->phases[i].duration_s;
	}
	return median_of(v, n);
}

/* A flag's value as the server ran it ("--max-model-len 4096",
 * "--max-model-len=4096", "-c 4096"), or NULL. */
static const char *flag_value(const char *argv, const char *const *names, char *out, size_t n)
{
	if (!argv)
		return NULL;
	for (size_t i = 0; names[i]; i++) {
		size_t l = strlen(names[i]);
		for (const char *p = argv; (p = strstr(p, names[i])); p += l) {
			if (p != argv && p[-1] != ' ')
				continue;
			if (p[l] != ' ' && p[l] != '=')
				continue;
			const char *v = p + l + 1;
			size_t k = strcspn(v, " ");
			if (!k || k >= n)
				continue;
			memcpy(out, v, k);
			out[k] = 0;
			return out;
		}
	}
	return NULL;
}

static const char *server_argv(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (run->cycles[k].server_argv)
			return run->cycles[k].server_argv;
	return run->server_cmd;
}

static void knobs_vllm(struct sb *b, const struct cold_run *run)
{
	const char *argv = server_argv(run);
	char v1[64], v2[64], v3[64];
	double mem = info_num(run, "model_memory_gib"), wl = phase_median(run, "weight_load");
	double tokens = info_num(run, "kv_cache_tokens"), blocks = info_num(run, "gpu_blocks");
	double bs = info_num(run, "block_size"), conc = info_num(run, "max_concurrency");
	double kvgib = info_num(run, "kv_cache_memory_gib");
	const char *mml = flag_value(argv, (const char *const[]){"--max-model-len", NULL}, v1,
				     sizeof v1);
	double len = mml ? atof(mml) : info_num(run, "max_model_len");
	const char *gmu = flag_value(argv, (const char *const[]){"--gpu-memory-utilization",
								NULL}, v2, sizeof v2);
	double util = gmu ? atof(gmu) : info_num(run, "gpu_memory_utilization");
	const char *seqs = flag_value(argv, (const char *const[]){"--max-num-seqs", NULL}, v3,
				      sizeof v3);
	sbf(b, "**Model size** sets the weights load and what memory is left for the KV "
	       "cache: ");
	if (!isnan(mem))
		sbf(b, "the weights took %.2f GiB here", mem);
	else
		sbf(b, "the log did not state the weights' memory");
	if (!isnan(wl))
		sbf(b, " and %.2f s to load", wl);
	sbf(b, ". **--max-model-len** is the longest request the server accepts");
	if (!isnan(len))
		sbf(b, " (%.0f here%s)", len, mml ? "" : ", as the engine logged it");
	if (isnan(tokens) && !isnan(blocks)) {
		int guessed = isnan(bs);
		if (guessed)
			bs = 16;
		tokens = blocks * bs;
		sbf(b, "; the KV cache holds %.0f blocks × %.0f tokens = %.0f tokens "
		       "(V0 logs blocks; %s)", blocks, bs, tokens, guessed
		    ? "block size 16 is vLLM's default: the log did not state it"
		    : "block size as logged");
	} else if (!isnan(tokens)) {
		sbf(b, "; the KV cache holds %.0f tokens", tokens);
		if (!isnan(kvgib))
			sbf(b, " (%.2f GiB)", kvgib);
	}
	if (!isnan(tokens) && !isnan(len) && len > 0)
		sbf(b, ", so at most %.2f requests of full length fit at once%s", tokens / len,
		    !isnan(conc) ? "" : " (computed: tokens ÷ max-model-len)");
	if (!isnan(conc))
		sbf(b, " (vLLM logged %.2fx)", conc);
	sbf(b, "; shorter requests share it, so more of them run together. "
	       "**--gpu-memory-utilization** (");
	if (!isnan(util))
		sbf(b, "%.2f here", util);
	else
		sbf(b, "not set: vLLM's default 0.9");
	sbf(b, ") is the share of GPU memory vLLM takes: the KV cache gets what the "
	       "weights and the profiling run leave of it — higher fits more concurrent "
	       "requests, lower leaves room for other processes on the GPU. **Batching** "
	       "(--max-num-seqs");
	if (seqs)
		sbf(b, " %s here", seqs);
	sbf(b, ", --max-num-batched-tokens) caps the requests and prompt tokens of one "
	       "engine step: bigger batches raise throughput, but a long prefill in the "
	       "same step delays the others' first tokens (chunked prefill bounds that). "
	       "**Start-up:** torch.compile and CUDA-graph capture");
	double tc = phase_median(run, "torch_compile"), gc = phase_median(run, "graph_capture");
	if (!isnan(tc) || !isnan(gc))
		sbf(b, " (%.2f s here)", (isnan(tc) ? 0 : tc) + (isnan(gc) ? 0 : gc));
	sbf(b, " make warm requests faster; --enforce-eager skips them: a shorter "
	       "restart, a slower warm TTFT and decode.\n");
}

static void knobs_llamacpp(struct sb *b, const struct cold_run *run)
{
	double mib = info_num(run, "model_buffer_mib"), wl = phase_median(run, "weight_load");
	double cells = info_num(run, "kv_cache_cells"), slots = info_num(run, "n_slots");
	double slot_ctx = info_num(run, "n_ctx_slot"), kvmib = info_num(run, "kv_cache_mib");
	double nb = info_num(run, "n_batch"), nub = info_num(run, "n_ubatch");
	sbf(b, "**Model size** sets the weights load: ");
	if (!isnan(mib))
		sbf(b, "%.2f MiB of weights here", mib);
	else
		sbf(b, "the log did not state the model buffer");
	if (!isnan(wl))
		sbf(b, ", loaded in %.3f s", wl);
	sbf(b, ". **-c** is the KV cache");
	if (!isnan(cells))
		sbf(b, " (%.0f cells here%s)", cells, !isnan(kvmib) ? "" : "");
	if (!isnan(kvmib))
		sbf(b, ", %.2f MiB of memory", kvmib);
	sbf(b, "; **-np** slots divide it");
	if (!isnan(slots))
		sbf(b, " (%.0f slot%s here", slots, slots == 1 ? "" : "s");
	if (!isnan(slot_ctx))
		sbf(b, ", %.0f tokens each", slot_ctx);
	if (!isnan(slots))
		sbf(b, ")");
	sbf(b, ": at most that many requests run at once, each up to its slot's "
	       "tokens; the next one waits for a free slot, and its TTFT grows by whole "
	       "requests. A bigger -c costs memory and allocation time at start-up. "
	       "**Batching:** -b/-ub");
	if (!isnan(nb) && !isnan(nub))
		sbf(b, " (%.0f / %.0f here)", nb, nub);
	sbf(b, " set the chunks a prompt is prefilled in: bigger chunks prefill faster "
	       "and take more compute buffer. The **prompt cache** (on by default; "
	       "--cache-ram for the RAM copy) lets a repeated prefix skip prefill: "
	       "what makes same-prompt warm runs look faster than they are.\n");
}

/* ---- the SRE paragraph ---- */

static void sre(struct sb *b, const struct cold_run *run)
{
	struct medians m;
	medians_of(run, &m);
	struct factors f;
	cold_factors(run, &f);
	const struct cold_cycle *c = first_usable(run);
	if (!c) {
		sbf(b, "No cycle measured a cold and a warm request; see the errors above.");
		return;
	}
	double mn, mx, cv;
	cold_warm_median(c, &mn, &mx, &cv);
	sbf(b, "TTFT is how long a user stares at an empty reply: from sending the "
	       "request to the first generated token on the wire, before any decoding "
	       "speed matters. On %s served by %s (%s), a warm request waits %.1f ms "
	       "(median over %zu cycle%s). ", run->model, engine_name(run->kind), run->gpu,
	    m.warm * 1e3, m.n, m.n == 1 ? "" : "s");
	if (!isnan(m.pf_warm))
		sbf(b, "The engine's own prefill is %.1f ms of that; the rest is the HTTP "
		       "path, queueing and the first flush. ", m.pf_warm * 1e3);
	const struct cold_phase *d = dominant(&c->dec);
	sbf(b, "A restart is different: the server needs %.2f s before /health says "
	       "ready", m.ready);
	if (d)
		sbf(b, ", most of it %s (%.2f s)", d->title, d->duration_s);
	if (!isnan(c->dec.unaccounted_s))
		sbf(b, ", and %.2f s of it no log line explains", c->dec.unaccounted_s);
	sbf(b, ". ");
	int mixed = f.n > 1 && f.lo < 1.2 && f.hi >= 1.2;
	if (mixed)
		sbf(b, "Whether the first request after it is slower, this run cannot say: "
		       "%.1f× to %.1f× a warm one across cycles%s. So: alert on warm p99 "
		       "TTFT; ", f.lo, f.hi, any_busy(run) ? " on a busy host" : "");
	else if (f.n && f.lo >= 1.2)
		sbf(b, "Then the first request takes %.1f ms — %.1f× a warm one%s — because "
		       "it pays one-time warm-up inside the engine. So: alert on warm p99 "
		       "TTFT, not on the first request after a deploy; send a warm-up "
		       "request before the instance takes traffic; ", m.cold * 1e3, f.med,
		    f.n > 1 ? " (median of the cycles)" : "");
	else
		sbf(b, "Once ready, even the first request is about as fast as a warm one "
		       "(%.1f ms%s), so the restart cost is all start-up, none of it on the "
		       "first user. So: alert on warm p99 TTFT; ", m.cold * 1e3,
		    f.n > 1 ? " in every cycle" : ", one cycle");
	sbf(b, "and budget %.0f s per restart in rollout plans.", ceil(m.ready));
}

/* ---- Server Config cells ---- */

static void model_note(struct sb *b, const struct cold_run *run)
{
	const char *name = info_of(run, "model_name");
	if (name && (strstr(name, "random weights") || strstr(name, "ttft-mkmodel"))) {
		sbf(b, "**This model has random weights:** %s", name);
		const char *keys[][2] = {{"n_embd", "embedding width"}, {"n_layer", "layers"},
					 {"n_head", "attention heads"}, {"n_head_kv", "KV heads"},
					 {"n_ff", "feed-forward width"}, {"model_params", "parameters"},
					 {"model_file_size", "file size"}};
		int k = 0;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			const char *v = info_of(run, keys[i][0]);
			if (v)
				sbf(b, "%s%s %s", k++ ? ", " : " — its shape: ", keys[i][1], v);
		}
		sbf(b, ". Its text is meaningless; its timings are real: prefill and decode "
		       "cost what this shape costs (the same matrix sizes, the same bytes "
		       "to read per token), whatever the weights hold.\n");
	} else if (name) {
		sbf(b, "The model, as the server names it: %s.\n", name);
	}
}

static void status(struct sb *b, const struct cold_run *run)
{
	sbf(b, "> Generated by ttft-cold (%s) on %s: %d of %d cycle%s run, %d warm "
	       "run%s each.\n", run->tool_version ? run->tool_version : "ttftshim",
	    run->date, run->ncycles, run->cycles_wanted, run->cycles_wanted == 1 ? "" : "s",
	    run->warm_runs, run->warm_runs == 1 ? "" : "s");
	if (run->interrupted)
		sbf(b, ">\n> **Interrupted** (Ctrl-C or SIGTERM) during cycle %d: the numbers "
		       "below cover what was measured before it; runs that were never made "
		       "are not listed.\n", run->ncycles);
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *c = &run->cycles[k];
		if (!c->ok && !c->interrupted)
			sbf(b, ">\n> **Cycle %d failed:** %s\n", c->index, c->error);
	}
}

static char *fill(const char *tpl, const char *const *keys, const char *const *vals, size_t n)
{
	struct sb b = {0};
	for (const char *p = tpl; *p;) {
		const char *o = strstr(p, "{{");
		if (!o) {
			sbf(&b, "%s", p);
			break;
		}
		sbf(&b, "%.*s", (int)(o - p), p);
		const char *e = strstr(o, "}}");
		size_t i = 0;
		for (; e && i < n; i++)
			if (strlen(keys[i]) == (size_t)(e - o - 2) && !strncmp(o + 2, keys[i], strlen(keys[i])))
				break;
		if (!e || i == n) {
			sbf(&b, "{{");
			p = o + 2;
			continue;
		}
		sbf(&b, "%s", vals[i]);
		p = e + 2;
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static void gpu_cell(struct sb *b, const struct gpu_snap *g)
{
	if (g->present)
		sbf(b, "%.0f MiB of %.0f (%s)", g->mem_used_mib, g->mem_total_mib, g->source);
	else
		sbf(b, "no GPU");
}

static void sanity(struct sb *san, const struct cold_run *run)
{
	const struct cold_cycle *c = first_usable(run);
	if (!c)
		c = &run->cycles[0];
	sbf(san, "| GPU memory before start | ");
	gpu_cell(san, &c->gpu_before);
	sbf(san, " |\n| GPU memory after ready | ");
	gpu_cell(san, &c->gpu_ready);
	sbf(san, " |\n| GPU memory after the cold request | ");
	gpu_cell(san, &c->gpu_after_cold);
	double avg = 0, gmax = 0;
	for (size_t s = 0; s < c->nsamples; s++) {
		avg += c->samples[s].gpu_util;
		if (c->samples[s].gpu_util > gmax)
			gmax = c->samples[s].gpu_util;
	}
	if (c->nsamples)
		sbf(san, " |\n| GPU utilisation during warm runs | mean %.0f%%, max %.0f%% "
			 "(%zu samples, every 100 ms) |\n", avg / (double)c->nsamples, gmax,
		    c->nsamples);
	else
		sbf(san, " |\n| GPU utilisation during warm runs | no GPU |\n");
	sbf(san, "| system CPU busy: cold request / warm runs | %.0f%% / %.0f%% |\n",
	    c->sys_cpu_cold, c->sys_cpu_warm);
	sbf(san, "| server CPU (%% of one core): cold / warm | %.0f%% / %.0f%% |\n",
	    c->srv_cpu_cold, c->srv_cpu_warm);
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *y = &run->cycles[k];
		sbf(san, "| host, cycle %d: load average (1 min) at start / end, CPU steal | "
			 "%.2f / %.2f on %ld cores, %.1f%%%s |\n", y->index, y->host_start.load1,
		    y->host_end.load1, y->host_start.ncpu, y->steal_pct,
		    busy(y) ? " — **busy**" : "");
	}
	sbf(san, "| spawn → listening / ready | %.3f s / %.3f s |\n", c->spawn_to_listen_s,
	    c->spawn_to_ready_s);
	sbf(san, "| stop (SIGTERM → all gone) | %.3f s |\n", c->stop_s);
	static const char *const hidden[] = {"logged_args", "model_name", NULL};
	for (size_t s = 0; s < c->dec.ninfo; s++) {
		const struct cold_info *in = &c->dec.infos[s];
		int skip = 0;
		for (size_t h = 0; hidden[h] && !skip; h++)
			skip = !strcmp(in->name, hidden[h]);
		if (skip)
			continue;
		int neg = in->value[0] == '-' && (strstr(in->name, "_gib") || strstr(in->name, "_mib"));
		sbf(san, "| %s (server log) | %s%s |\n", in->name, in->value, neg
		    ? " (as logged: a negative amount cannot be memory taken; read it as noise)"
		    : "");
	}
	for (int k = 0; k < run->ncycles; k++)
		if (run->cycles[k].log_path[0])
			sbf(san, "| server log, cycle %d | `%s` |\n", run->cycles[k].index,
			    run->cycles[k].log_path);
}

char *cold_report(const struct cold_run *run, const char *tpl_path, const char *out_path,
		  char *err, size_t errlen)
{
	/* the pictures beside the report: the timeline leads the
	 * observations, the spread follows the variance table */
	char tl_link[4200], var_link[4200];
	if (cold_write_charts(run, out_path, tl_link, var_link, sizeof tl_link, err, errlen) != 0)
		return NULL;
	FILE *f = fopen(tpl_path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read the template %s", tpl_path);
		return NULL;
	}
	struct sb t = {0};
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		sbf(&t, "%.*s", (int)k, buf);
	fclose(f);

	struct sb runs = {0}, warm = {0}, san = {0}, obs = {0}, srep = {0}, flags = {0};
	struct sb dec = {0}, cmp = {0}, mm = {0}, kn = {0}, st = {0}, mn = {0}, ran = {0},
		  logged = {0};
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		char id[32], note[160];
		snprintf(id, sizeof id, "%d.1", c->index);
		snprintf(note, sizeof note, "first request after a restart; spawn → ready %.3f s",
			 c->spawn_to_ready_s);
		if (!c->cold.t_start) {
			sbf(&runs, "| %s | cold | - | - | - | - | - | - | not made: %s |\n", id,
			    c->error[0] ? c->error : "no request");
			continue;
		}
		row(&runs, id, &c->cold, note);
		for (int j = 0; j < c->nwarm; j++) {
			snprintf(id, sizeof id, "%d.%d", c->index, j + 2);
			row(&runs, id, &c->warm[j], "");
		}
		double mnv, mxv, cv, med = cold_warm_median(c, &mnv, &mxv, &cv);
		sbf(&warm, "| %d | %d | ", c->index, c->nwarm);
		num_cell(&warm, mnv, " %.4f |");
		num_cell(&warm, med, " %.4f |");
		num_cell(&warm, mxv, " %.4f |");
		num_cell(&warm, 100 * cv, " %.1f%% |");
		num_cell(&warm, c->cold.ok && med > 0 ? ttft_record_ttft_s(&c->cold) / med : NAN,
			 " %.1f× |");
		sbf(&warm, "\n");
	}
	if (tl_link[0])
		sbf(&obs, "![Cold start: spawn → listening → ready → first token](%s)\n\n", tl_link);
	sbf(&warm, "\n![Warm-run variance: TTFT of each request](%s)\n", var_link);
	if (run->ncycles)
		sanity(&san, run);
	const struct cold_cycle *u = first_usable(run);
	if (!u && run->ncycles && !isnan(run->cycles[0].spawn_to_ready_s))
		u = &run->cycles[0];
	if (u)
		decomposition(&dec, run, u);
	else
		sbf(&dec, "No cycle became ready: there is no start-up to decompose.\n");
	comparison(&cmp, run);
	observations(&obs, run);
	mental_model(&mm, run);
	if (is_vllm(run))
		knobs_vllm(&kn, run);
	else if (!strcmp(run->kind, "llamacpp"))
		knobs_llamacpp(&kn, run);
	else
		sbf(&kn, "The server's kind is unknown (pass --kind), so its knobs are not "
			 "described.\n");
	sre(&srep, run);
	status(&st, run);
	model_note(&mn, run);
	const char *argv = server_argv(run);
	char *fl = cold_cmdline_flags(argv);
	sbf(&flags, "%s", fl ? fl : "(none)");
	free(fl);
	int pid = 0;
	for (int i = 0; i < run->ncycles && !pid; i++)
		pid = run->cycles[i].server_argv ? run->cycles[i].server_pid : 0;
	if (pid)
		sbf(&ran, "`%s` (/proc/%d/cmdline, cycle 1)", argv, pid);
	else
		sbf(&ran, "not read (the server was gone before it was ready)");
	const char *la = info_of(run, "logged_args");
	if (la)
		sbf(&logged, "`%.400s%s`", la, strlen(la) > 400 ? "…" : "");
	else
		sbf(&logged, "(the server's log states none)");
	const char *keys[] = {"engine", "model", "model_note", "command", "ran", "flags",
			      "logged_args", "server_version", "gpu", "cpu", "os", "date",
			      "status", "runs_table", "comparison", "warm_table", "sanity_table",
			      "decomposition", "observations", "mental_model", "knobs",
			      "sre_paragraph"};
	const char *vals[] = {engine_name(run->kind), run->model, str(&mn), run->server_cmd,
			      str(&ran), str(&flags), str(&logged), run->version, run->gpu,
			      run->cpu, run->os, run->date, str(&st), str(&runs), str(&cmp),
			      str(&warm), str(&san), str(&dec), str(&obs), str(&mm), str(&kn),
			      str(&srep)};
	struct sb *all[] = {&t, &runs, &warm, &san, &obs, &srep, &flags, &dec, &cmp, &mm,
			    &kn, &st, &mn, &ran, &logged};
	int oom = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		oom |= all[i]->oom;
	char *out = oom ? NULL : fill(str(&t), keys, vals, sizeof keys / sizeof keys[0]);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]->s);
	if (!out)
		snprintf(err, errlen, "out of memory filling %s", tpl_path);
	return out;
}

/* ---- JSON ---- */

static void summary_json(struct ttft_json *j, const char *k, double *v, size_t n)
{
	struct ttft_summary s;
	ttft_summary_of(v, n, &s);
	ttft_json_summary(j, k, &s);
}

int cold_json(struct ttft_json *j, const struct cold_run *run)
{
	size_t n = (size_t)run->ncycles;
	double *sr = calloc(n + 1, sizeof *sr), *ct = calloc(n + 1, sizeof *ct),
	       *wm = calloc(n + 1, sizeof *wm), *fw = calloc(n + 1, sizeof *fw),
	       *un = calloc(n + 1, sizeof *un), *fa = calloc(n + 1, sizeof *fa);
	if (!sr || !ct || !wm || !fw || !un || !fa) {
		free(sr), free(ct), free(wm), free(fw), free(un), free(fa);
		errno = ENOMEM;
		return -1;
	}
	ttft_json_begin_obj(j, NULL);
	ttft_json_bool(j, "interrupted", run->interrupted);
	ttft_json_str(j, "tool", run->tool_version);
	ttft_json_begin_obj(j, "server");
	ttft_json_str(j, "command", run->server_cmd);
	ttft_json_str(j, "ran", server_argv(run));
	ttft_json_str(j, "kind", run->kind ? run->kind : "unknown");
	ttft_json_str(j, "model", run->model);
	ttft_json_str(j, "version", run->version);
	ttft_json_str(j, "gpu", run->gpu);
	ttft_json_end_obj(j);
	ttft_json_str(j, "prompts", run->distinct_prompts ? "distinct" : "same");
	ttft_json_begin_arr(j, "cycles");
	size_t k = 0;
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		const struct cold_decomp *d = &c->dec;
		/* request start offsets count from the server's spawn */
		struct ttft_json_ctx ctx = {.t0 = c->t_spawn};
		ttft_json_begin_obj(j, NULL);
		ttft_json_int(j, "cycle", c->index);
		ttft_json_bool(j, "ok", c->ok);
		ttft_json_bool(j, "interrupted", c->interrupted);
		if (!c->ok)
			ttft_json_str(j, "error", c->error);
		ttft_json_num(j, "spawn_to_listen_s", c->spawn_to_listen_s);
		ttft_json_num(j, "spawn_to_ready_s", c->spawn_to_ready_s);
		ttft_json_num(j, "first_line_s", d->first_line_s);
		ttft_json_begin_arr(j, "phases");
		for (size_t p = 0; p < d->norder; p++) {
			const struct cold_phase *x = &d->phases[d->order[p]];
			ttft_json_begin_obj(j, NULL);
			ttft_json_str(j, "name", x->name);
			ttft_json_str(j, "title", x->title);
			ttft_json_str(j, "category", cold_cat_name(x->category));
			ttft_json_str(j, "parent", x->parent >= 0 ? d->phases[x->parent].name : NULL);
			ttft_json_num(j, "start_s", x->start_s);
			ttft_json_num(j, "duration_s", x->duration_s);
			ttft_json_num(j, "arrival_s", x->arrival_s);
			ttft_json_num(j, "stated_s", x->stated_s);
			ttft_json_num(j, "clipped_s", x->clipped_s);
			ttft_json_int(j, "copies", x->copies);
			if (x->note[0])
				ttft_json_str(j, "note", x->note);
			ttft_json_end_obj(j);
		}
		ttft_json_end_arr(j);
		ttft_json_num(j, "unaccounted_s", d->unaccounted_s);
		double cat[COLD_CAT__N];
		by_category(d, cat);
		ttft_json_begin_obj(j, "by_category_s");
		for (int q = 0; q < COLD_CAT__N; q++)
			ttft_json_num(j, cold_cat_name(q), isnan(c->spawn_to_ready_s) ? NAN : cat[q]);
		ttft_json_end_obj(j);
		ttft_json_begin_obj(j, "info");
		for (size_t p = 0; p < d->ninfo; p++)
			ttft_json_str(j, d->infos[p].name, d->infos[p].value);
		ttft_json_end_obj(j);
		if (c->cold.t_start)
			ttft_json_record(j, "cold", &c->cold, &ctx);
		else
			ttft_json_null(j, "cold");
		ttft_json_begin_arr(j, "warm");
		for (int w = 0; w < c->nwarm; w++)
			ttft_json_record(j, NULL, &c->warm[w], &ctx);
		ttft_json_end_arr(j);
		double mnv, mxv, cv, med = cold_warm_median(c, &mnv, &mxv, &cv);
		ttft_json_num(j, "warm_ttft_min_s", mnv);
		ttft_json_num(j, "warm_ttft_median_s", med);
		ttft_json_num(j, "warm_ttft_max_s", mxv);
		ttft_json_num(j, "warm_ttft_cv", cv);
		double ctt = c->cold.t_start && c->cold.ok ? ttft_record_ttft_s(&c->cold) : NAN;
		double fwu = ctt - med;
		ttft_json_num(j, "first_request_warmup_s", fwu);
		ttft_json_num(j, "cold_over_warm", med > 0 ? ctt / med : NAN);
		ttft_json_begin_obj(j, "host");
		ttft_json_num(j, "load1_start", c->host_start.load1);
		ttft_json_num(j, "load1_end", c->host_end.load1);
		ttft_json_int(j, "cpus", c->host_start.ncpu);
		ttft_json_num(j, "steal_pct", c->steal_pct);
		ttft_json_bool(j, "busy", busy(c));
		ttft_json_end_obj(j);
		ttft_json_begin_obj(j, "sanity");
		ttft_json_num(j, "gpu_mem_before_mib",
			      c->gpu_before.present ? c->gpu_before.mem_used_mib : NAN);
		ttft_json_num(j, "gpu_mem_ready_mib",
			      c->gpu_ready.present ? c->gpu_ready.mem_used_mib : NAN);
		ttft_json_num(j, "gpu_mem_after_cold_mib",
			      c->gpu_after_cold.present ? c->gpu_after_cold.mem_used_mib : NAN);
		ttft_json_num(j, "system_cpu_cold_pct", c->sys_cpu_cold);
		ttft_json_num(j, "system_cpu_warm_pct", c->sys_cpu_warm);
		ttft_json_num(j, "server_cpu_cold_pct", c->srv_cpu_cold);
		ttft_json_num(j, "server_cpu_warm_pct", c->srv_cpu_warm);
		ttft_json_end_obj(j);
		ttft_json_str(j, "server_log", c->log_path[0] ? c->log_path : NULL);
		ttft_json_end_obj(j);
		if (usable(c)) {
			sr[k] = c->spawn_to_ready_s;
			ct[k] = ctt;
			wm[k] = med;
			fw[k] = fwu;
			un[k] = d->unaccounted_s;
			fa[k] = ctt / med;
			k++;
		}
	}
	ttft_json_end_arr(j);
	ttft_json_begin_obj(j, "summary");
	ttft_json_int(j, "cycles", run->ncycles);
	ttft_json_int(j, "cycles_wanted", run->cycles_wanted);
	ttft_json_int(j, "cycles_ok", (long long)k);
	ttft_json_bool(j, "busy_host", any_busy(run));
	summary_json(j, "spawn_to_ready_s", sr, k);
	summary_json(j, "cold_ttft_s", ct, k);
	summary_json(j, "warm_ttft_median_s", wm, k);
	summary_json(j, "first_request_warmup_s", fw, k);
	summary_json(j, "unaccounted_s", un, k);
	summary_json(j, "cold_over_warm", fa, k);
	ttft_json_end_obj(j);
	ttft_json_end_obj(j);
	ttft_json_newline(j);
	free(sr), free(ct), free(wm), free(fw), free(un), free(fa);
	return 0;
}
