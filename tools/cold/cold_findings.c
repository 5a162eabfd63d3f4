/* cold_findings.c — the report's prose: where spawn → ready went, cold
 * against warm like for like, what stands out (a busy host, outliers, the
 * largest phase, the spread across restarts), the mental model and the
 * paragraph for an SRE. Every sentence is built from a number measured in
 * this run, or says that it could not be. */
#include "cold_md.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "cold_stats.h"

/* ---- the decomposition ---- */

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

void cold_md_decomposition(struct ttft_str *b, const struct cold_run *run, const struct cold_cycle *c)
{
	const struct cold_decomp *d = &c->dec;
	if (!d->found) {
		ttft_str_printf(b, "No line of the server's output matched %s: the whole start-up "
				   "(%.3f s) is unaccounted.%s\n", run->patterns_path ? run->patterns_path
				: "a pattern file", c->spawn_to_ready_s, !strcmp(run->kind, "llamacpp")
				? " llama-server prints its phases only with `-lv 4 --log-timestamps "
				  "--log-prefix`." : "");
		return;
	}
	int many = run->ncycles > 1;
	ttft_str_printf(b, "Where spawn → ready went (cycle %d; seconds since the spawn, from the "
			   "server's own log lines as they arrived). Indented phases run inside the "
			   "one above them and are not added again; the top-level phases and the "
			   "unaccounted time add up to spawn → ready.\n\n", c->index);
	if (d->starts > 1)
		ttft_str_printf(b, "**The server started %d times in this spawn:** a line each start "
				   "prints once came again at %.3f s (a crash and a restart). The "
				   "phases below are its last start's; the %.3f s before it are in "
				   "unaccounted.\n\n", d->starts, d->last_start_s, d->last_start_s);
	ttft_str_printf(b, "| phase | what it is | start_s | duration_s | stated by the line (s) |%s\n",
			many ? " duration across cycles (min–max) |" : "");
	ttft_str_printf(b, "|---|---|---|---|---|%s\n", many ? "---|" : "");
	double sum = 0;
	for (size_t k = 0; k < d->norder; k++) {
		const struct cold_phase *p = &d->phases[d->order[k]];
		if (p->parent < 0)
			sum += p->duration_s;
		char indent[64] = "";
		for (int i = 0; i < p->depth && i < 4; i++)
			strcat(indent, "&nbsp;&nbsp;&nbsp;&nbsp;");
		/* title, name and meaning from the pattern file, the note may
		 * quote a log line: one cell's text each */
		ttft_str_printf(b, "| %s%s", indent, p->depth ? "↳ " : "**");
		ttft_str_md_cell(b, p->title);
		ttft_str_printf(b, "%s (`", p->depth ? "" : "**");
		ttft_str_md_cell(b, p->name);
		ttft_str_printf(b, "`) | ");
		ttft_str_md_cell(b, p->meaning);
		ttft_str_printf(b, " [%s]", cold_cat_name(p->category));
		if (p->copies > 1)
			ttft_str_printf(b, "; %d processes logged it (tensor- or data-parallel ranks): counted "
					   "once, until the last", p->copies);
		if (p->note[0]) {
			ttft_str_printf(b, "; ");
			ttft_str_md_cell(b, p->note);
		}
		ttft_str_printf(b, " | %.3f | %.3f |", p->start_s, p->duration_s);
		cold_md_num_cell(b, p->stated_s, " %.3f |");
		if (many) {
			double lo, hi;
			int n;
			spread_of_phase(run, p->name, &lo, &hi, &n);
			ttft_str_printf(b, " %.3f–%.3f (%d of %d) |", lo, hi, n, run->ncycles);
		}
		ttft_str_printf(b, "\n");
	}
	ttft_str_printf(b, "| **unaccounted** | no log line explains it: process start, imports, "
			   "device set-up, gaps between phases");
	if (!isnan(d->first_line_s))
		ttft_str_printf(b, "; %.3f s of it before the server's first line", d->first_line_s);
	ttft_str_printf(b, " | | %.3f | |%s\n", d->unaccounted_s, many ? " |" : "");
	ttft_str_printf(b, "| **= spawn → ready** (/health 200) | top-level phases %.3f s + unaccounted "
			   "%.3f s | 0 | %.3f | |%s\n\n", sum, d->unaccounted_s, c->spawn_to_ready_s,
			many ? " |" : "");
}

/* ---- cold vs warm ---- */

void cold_md_comparison(struct ttft_str *b, const struct cold_run *run)
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
			cold_cached = cold_cached_tokens(&c->cold);
		for (int i = 0; i < c->nwarm; i++) {
			double ct = cold_cached_tokens(&c->warm[i]);
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
		ttft_str_printf(b, "Like for like: every run sent its own prompt, the same text behind "
				   "a label of its own (\"0. %.60s\", \"1. …\"), so all are equally "
				   "long and none could reuse another's prefix from the server's "
				   "cache%s. ", run->prompt, run->warm_runs + 1 > 62
				   ? " (after 62 runs the labels repeat)" : "");
	else
		ttft_str_printf(b, "Not like for like: every run sent the same prompt (`--same-prompt`), "
				   "so warm runs could take most of it from the server's prefix cache; "
				   "the cold/warm difference then includes that cache, not only the "
				   "first request's warm-up. Drop `--same-prompt` (distinct prompts, "
				   "the default) or turn the server's prefix cache off for a fair "
				   "comparison. ");
	if (cold_pt >= 0 && warm_pt_lo >= 0)
	{
		ttft_str_printf(b, "The cold request had %ld prompt tokens, the warm ones %ld", cold_pt,
				warm_pt_lo);
		if (warm_pt_hi != warm_pt_lo)
			ttft_str_printf(b, "–%ld", warm_pt_hi);
		ttft_str_printf(b, ". ");
	}
	if (known) {
		/* a run the server gave no count for (it failed, or its /metrics
		 * scrape did) says nothing either way: the others are named */
		char of[64] = "";
		if (unknown)
			snprintf(of, sizeof of, " of the %d warm runs it counted for", known);
		if (wc_max <= 0)
			ttft_str_printf(b, "The server confirms it: no warm run%s found a cached prompt "
					   "token (%s).", of, cold_is_vllm(run) ? "vLLM's prefix-cache counters"
					: "llama.cpp's timings.cache_n");
		else
			ttft_str_printf(b, "The server counted up to %.0f cached prompt tokens in a warm run%s "
					   "(the cold one: %.0f)%s: those were not prefilled again, so "
					   "compare the prefill_s column, not only ttft_s.", wc_max, of,
					isnan(cold_cached) ? 0 : cold_cached, run->distinct_prompts
					? " — the start all prompts share (a chat template's system part, "
					  "a BOS token)" : "");
		if (unknown)
			ttft_str_printf(b, " For the other %d it gave no cached-token count (a run that "
					   "failed has none), so whether they hit a prefix cache is not "
					   "known.", unknown);
	} else if (unknown && !isnan(cold_cached)) {
		/* the warm runs failed or were cut: the server did count, for
		 * the cold one (a review: "reported no cached-token counts"
		 * beside a cold run that had one) */
		ttft_str_printf(b, "The server counted %.0f cached prompt tokens in the cold run but "
				   "gave no count for the %d warm run%s (a run that failed or was cut "
				   "has none), so whether they hit a prefix cache is not known.",
				cold_cached, unknown, unknown == 1 ? "" : "s");
	} else if (!unknown) {
		ttft_str_printf(b, "No warm run was made, so no prefix-cache hit can be compared.");
	} else {
		ttft_str_printf(b, "The server reported no cached-token counts (no llama.cpp timings, no "
				   "readable vLLM /metrics), so whether warm runs hit a prefix cache "
				   "cannot be shown here.");
	}
	ttft_str_printf(b, "\n");
}

/* ---- outliers ---- */

/* A line worth quoting next to an outlier: a warning or an error, or one
 * that says what happened (slow, preempted, swapped, evicted, retried).
 * A level begins the line or follows a space or a bracket, or is vLLM's
 * with its stamp after it anywhere ("myapp:WARNING 11-30 12:00:00 [x.py:N]",
 * VLLM_LOGGING_PREFIX's text right before the level). Request chatter
 * ("conv_id= (empty=1)") is counted, not quoted. */
static int notable(const char *s)
{
	static regex_t re;
	static int ready;
	if (!ready) {
		ready = regcomp(&re, "(^|[ \\]])(W|E|WARNING|ERROR|CRITICAL) |"
				"(WARNING|ERROR|CRITICAL) [0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} |[Ss]low|"
				"[Tt]imeout|timed out|[Pp]reempt|[Ee]vict|[Ss]wap|[Rr]etry|"
				"[Ee]rror|[Ff]ail|out of memory|OOM", REG_EXTENDED | REG_NOSUB)
			== 0 ? 1 : -1;
	}
	return ready == 1 && regexec(&re, s, 0, NULL, 0) == 0;
}

static void outliers(struct ttft_str *b, const struct cold_cycle *c, double med)
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
		ttft_str_printf(b, "- **Outlier:** cycle %d, warm run %d: TTFT %.4f s (%.1f× the median); "
				   "meanwhile the server printed %d line%s", c->index, r->run, t, t / med,
				nl, nl == 1 ? "" : "s");
		if (quote)
			ttft_str_printf(b, ", among them `%.160s`", quote);
		else if (nl)
			ttft_str_printf(b, ", none of them a warning or a reason");
		if (gmax >= 0)
			ttft_str_printf(b, "; GPU utilisation peaked at %.0f%%", gmax);
		ttft_str_printf(b, ".\n");
	}
}

/* ---- observations ---- */

void cold_md_observations(struct ttft_str *b, const struct cold_run *run)
{
	const struct cold_cycle *c = cold_first_usable(run);
	struct cold_factors f;
	cold_factors_of(run, &f);
	if (cold_any_busy(run)) {
		ttft_str_printf(b, "- **Busy host:** ");
		for (int k = 0; k < run->ncycles; k++) {
			const struct cold_cycle *y = &run->cycles[k];
			ttft_str_printf(b, "%scycle %d: load average %.2f on %ld cores, steal %.1f%%",
					k ? "; " : "", y->index, y->host_start.load1, y->host_start.ncpu,
					y->steal_pct);
		}
		ttft_str_printf(b, ". Other work competed for the CPUs, so single timings are noisy; "
				   "read the spread across cycles, not one cycle, and rerun on a quiet "
				   "host before drawing a firm conclusion.\n");
	}
	if (f.n) {
		ttft_str_printf(b, "- **Cold vs warm:** the cold request's TTFT was ");
		for (size_t i = 0; i < f.n; i++)
			ttft_str_printf(b, "%s%.1f×", i ? " / " : "", f.v[i]);
		ttft_str_printf(b, " the median warm TTFT (%s).", f.n > 1 ? "per cycle" : "one cycle");
		if (f.n > 1 && f.lo < 1.2 && f.hi >= 1.2)
			ttft_str_printf(b, " The cycles disagree on whether the first request is slower at "
					   "all: no conclusion from this run%s.", cold_any_busy(run)
					? " on a busy host" : "");
		else if (f.n == 1)
			ttft_str_printf(b, " One cycle: run --cycles 3 or more before trusting the factor.");
		ttft_str_printf(b, "\n");
	}
	if (!c)
		return;
	const struct cold_decomp *d = &c->dec;
	const struct cold_phase *dp = cold_dominant(d);
	if (dp && c->spawn_to_ready_s > 0)
		ttft_str_printf(b, "- **Largest start-up phase:** %s (`%s`: %s), %.3f s of the %.3f s from "
				   "spawn to ready (%.0f%%).\n", dp->title, dp->name, dp->meaning,
				dp->duration_s, c->spawn_to_ready_s, 100 * dp->duration_s / c->spawn_to_ready_s);
	if (d->starts > 1)
		ttft_str_printf(b, "- **Restarted while starting:** the server started %d times before "
				   "it was ready (cycle %d); the phases are its last start's, from %.3f "
				   "s.\n", d->starts, c->index, d->last_start_s);
	if (!isnan(d->unaccounted_s) && c->spawn_to_ready_s > 0)
		ttft_str_printf(b, "- **Unaccounted start-up:** %.3f s (%.0f%%) that no log line explains%s.\n",
				d->unaccounted_s, 100 * d->unaccounted_s / c->spawn_to_ready_s,
				!isnan(d->first_line_s) && d->first_line_s > 0.25 * d->unaccounted_s
				? "; most of it before the server printed anything (interpreter "
				  "start, imports, device set-up)" : "");
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *y = &run->cycles[k];
		double mn, mx, cv, med = cold_warm_median(y, &mn, &mx, &cv);
		int measured = 0; /* the spread is over the runs that gave a TTFT */
		for (int i = 0; i < y->nwarm; i++)
			measured += !isnan(ttft_record_ttft_s(&y->warm[i]));
		if (!isnan(cv)) {
			ttft_str_printf(b, "- **Warm stability (cycle %d):** coefficient of variation %.1f%% "
					   "over ", y->index, 100 * cv);
			if (measured < y->nwarm)
				ttft_str_printf(b, "the %d of %d warm runs that returned a token", measured,
						y->nwarm);
			else
				ttft_str_printf(b, "%d warm runs", measured);
			ttft_str_printf(b, " (%s).\n", cv < 0.05 ? "stable" : cv < 0.15 ? "some jitter"
					: "noisy: look at the outliers");
		}
		outliers(b, y, med);
	}
	/* each run's prefill and the rest of its own TTFT, over the runs
	 * that have both: the median TTFT less the median prefill mixed two
	 * runs' numbers into one that was no run's (a review) */
	double pf[1024], rest[1024];
	size_t npf = 0;
	for (int i = 0; i < c->nwarm && npf < 1024; i++) {
		double p = cold_prefill_s(&c->warm[i]), t = ttft_record_ttft_s(&c->warm[i]);
		if (!isnan(p) && !isnan(t)) {
			pf[npf] = p;
			rest[npf++] = t - p;
		}
	}
	double pfm = cold_median(pf, npf), restm = cold_median(rest, npf);
	if (!isnan(pfm) && !isnan(restm))
		ttft_str_printf(b, "- **Inside warm TTFT (cycle %d):** the server reports %.4f s of "
				   "prefill; the rest of each run's TTFT, %.4f s (medians over the %zu "
				   "warm run%s with both), is HTTP, queueing, tokenization and the "
				   "first token's flush.\n", c->index, pfm, restm, npf,
				npf == 1 ? "" : "s");
	if (run->ncycles > 1) {
		double sr[1000], ct[1000];
		size_t n = 0;
		for (int k = 0; k < run->ncycles && n < 1000; k++)
			if (cold_usable(&run->cycles[k])) {
				sr[n] = run->cycles[k].spawn_to_ready_s;
				ct[n] = ttft_record_ttft_s(&run->cycles[k].cold);
				n++;
			}
		double srm = cold_median(sr, n), ctm = cold_median(ct, n);
		/* one value is no spread: its min, median and max are itself */
		if (n == 1)
			ttft_str_printf(b, "- **Across restarts:** only 1 of the %d cycles measured a "
					   "start-up and a cold request: no spread to give.\n",
					run->ncycles);
		else if (n)
			ttft_str_printf(b, "- **Across %zu restarts:** spawn → ready %.3f / %.3f / %.3f s "
					   "and cold TTFT %.4f / %.4f / %.4f s (min / median / max).\n", n,
					sr[0], srm, sr[n - 1], ct[0], ctm, ct[n - 1]);
	}
}
/* ---- the mental model ---- */

void cold_md_mental_model(struct ttft_str *b, const struct cold_run *run)
{
	struct cold_medians m;
	cold_medians_of(run, &m);
	struct cold_factors f;
	cold_factors_of(run, &f);
	if (!m.n) {
		ttft_str_printf(b, "No cycle measured both a cold and a warm request, so there is no "
				   "model to give.\n");
		return;
	}
	double first_user = m.ready + m.cold;
	ttft_str_printf(b, "After a restart the first user waits for the start-up and then for the "
			   "cold request: %.2f s + %.1f ms = %.2f s, about %.0f× a warm request's "
			   "%.1f ms (the cold request alone is %.1f× a warm one; medians over %zu "
			   "cycle%s). ", m.ready, m.cold * 1e3, first_user, first_user / m.warm,
			m.warm * 1e3, f.med, m.n, m.n == 1 ? "" : "s");
	double tot = 0;
	for (int i = 0; i < COLD_CAT__N; i++)
		tot += m.cat[i];
	if (tot > 0) {
		ttft_str_printf(b, "Of the start-up, ");
		static const int order[] = {COLD_CAT_WEIGHTS, COLD_CAT_WARMUP, COLD_CAT_ALLOC,
					    COLD_CAT_OTHER, COLD_CAT_STARTUP};
		int first = 1;
		for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
			double v = m.cat[order[i]];
			if (v <= 0 && order[i] != COLD_CAT_WEIGHTS && order[i] != COLD_CAT_WARMUP)
				continue;
			ttft_str_printf(b, "%s%s %.2f s (%.0f%%)", first ? "" : ", ",
					order[i] == COLD_CAT_STARTUP ? "process and server start-up with what no "
					"line explains" : cold_cat_name(order[i]), v, 100 * v / tot);
			first = 0;
		}
		ttft_str_printf(b, ". ");
	}
	int mixed = f.n > 1 && f.lo < 1.2 && f.hi >= 1.2, slower = f.n && f.lo >= 1.2;
	double wc_most, cc_most;
	int cached = cold_warm_cached(run, &wc_most, &cc_most);
	if (mixed) {
		ttft_str_printf(b, "Whether the cold request pays extra, the cycles disagree (%.1f× to %.1f× "
				   "a warm one)%s, so its own cost is not told apart from noise here. ",
				f.lo, f.hi, cold_any_busy(run) ? " on a busy host" : "");
	} else if (slower && cached) {
		ttft_str_printf(b, "The cold request's extra %.1f ms over a warm one is not all "
				   "first-use cost: ", m.extra * 1e3);
		if (cached > 0)
			ttft_str_printf(b, "the warm runs took up to %.0f of their prompt tokens from "
					   "the server's prefix cache (the cold one %.0f) and did not "
					   "prefill them again", wc_most, cc_most);
		else
			ttft_str_printf(b, "every run sent the same prompt (`--same-prompt`) and the "
					   "server counted no cached tokens, so the warm runs may have "
					   "taken it from its prefix cache");
		ttft_str_printf(b, ", so part of it is the cache's saving, which this run cannot tell "
				   "apart from warm-up (distinct prompts, the default, can). ");
	} else if (slower) {
		double inside = m.pf_cold - m.pf_warm;
		ttft_str_printf(b, "The cold request's own extra %.1f ms over a warm one is first-use "
				   "cost inside the engine", m.extra * 1e3);
		if (!isnan(inside) && inside >= m.extra)
			ttft_str_printf(b, ": by the server's count its prefill took %.1f ms against %.1f ms "
					   "warm, so all of it happened inside the first prefill (the first "
					   "use of the weights' memory and of the kernels)", m.pf_cold * 1e3,
					m.pf_warm * 1e3);
		else if (!isnan(inside))
			ttft_str_printf(b, ": by the server's count its prefill took %.1f ms against %.1f ms "
					   "warm, so %.1f ms of it happened inside the first prefill (the "
					   "first use of the weights' memory and of the kernels) and %.1f ms "
					   "around it (HTTP, tokenisation, scheduling)", m.pf_cold * 1e3,
					m.pf_warm * 1e3, (inside > 0 ? inside : 0) * 1e3,
					(m.extra - (inside > 0 ? inside : 0)) * 1e3);
		ttft_str_printf(b, ". ");
	} else {
		ttft_str_printf(b, "The cold request costs about what a warm one does: the restart's "
				   "cost is all start-up. ");
	}
	ttft_str_printf(b, "For an SRE: a restart costs about %.0f s without service%s; after that, "
			   "TTFT is %.1f ms until load changes it.\n", ceil(m.ready),
			slower ? " and one slow first request" : "", m.warm * 1e3);
}

/* ---- the SRE paragraph ---- */

void cold_md_sre(struct ttft_str *b, const struct cold_run *run)
{
	struct cold_medians m;
	cold_medians_of(run, &m);
	struct cold_factors f;
	cold_factors_of(run, &f);
	const struct cold_cycle *c = cold_first_usable(run);
	if (!c) {
		ttft_str_printf(b, "No cycle measured a cold and a warm request; see the errors above.");
		return;
	}
	double mn, mx, cv;
	cold_warm_median(c, &mn, &mx, &cv);
	ttft_str_printf(b, "TTFT is how long a user stares at an empty reply: from sending the "
			   "request to the first generated token on the wire, before any decoding "
			   "speed matters. On %s served by %s (%s), a warm request waits %.1f ms "
			   "(median over %zu cycle%s). ", run->model, cold_engine_name(run->kind), run->gpu,
			m.warm * 1e3, m.n, m.n == 1 ? "" : "s");
	if (!isnan(m.pf_warm))
		ttft_str_printf(b, "The engine's own prefill is %.1f ms of that; the rest is the HTTP "
				   "path, queueing and the first flush. ", m.pf_warm * 1e3);
	const struct cold_phase *d = cold_dominant(&c->dec);
	ttft_str_printf(b, "A restart is different: the server needs %.2f s before /health says "
			   "ready", m.ready);
	if (d)
		ttft_str_printf(b, ", most of it %s (%.2f s)", d->title, d->duration_s);
	if (!isnan(c->dec.unaccounted_s))
		ttft_str_printf(b, ", and %.2f s of it no log line explains", c->dec.unaccounted_s);
	ttft_str_printf(b, ". ");
	int mixed = f.n > 1 && f.lo < 1.2 && f.hi >= 1.2, cached;
	double wc_most, cc_most;
	if (mixed)
		ttft_str_printf(b, "Whether the first request after it is slower, this run cannot say: "
				   "%.1f× to %.1f× a warm one across cycles%s. So: alert on warm p99 "
				   "TTFT; ", f.lo, f.hi, cold_any_busy(run) ? " on a busy host" : "");
	else if (f.n && f.lo >= 1.2 && (cached = cold_warm_cached(run, &wc_most, &cc_most)))
		ttft_str_printf(b, "Then the first request takes %.1f ms — %.1f× a warm one%s — but "
				   "the warm ones %s the server's prefix cache, so how much of that "
				   "is one-time warm-up this run cannot say. So: alert on warm p99 "
				   "TTFT, not on the first request after a deploy; ", m.cold * 1e3,
				f.med, f.n > 1 ? " (median of the cycles)" : "",
				cached > 0 ? "took part of their prompts from"
				: "sent the same prompt and could take it from");
	else if (f.n && f.lo >= 1.2)
		ttft_str_printf(b, "Then the first request takes %.1f ms — %.1f× a warm one%s — because "
				   "it pays one-time warm-up inside the engine. So: alert on warm p99 "
				   "TTFT, not on the first request after a deploy; send a warm-up "
				   "request before the instance takes traffic; ", m.cold * 1e3, f.med,
				f.n > 1 ? " (median of the cycles)" : "");
	else
		ttft_str_printf(b, "Once ready, even the first request is about as fast as a warm one "
				   "(%.1f ms%s), so the restart cost is all start-up, none of it on the "
				   "first user. So: alert on warm p99 TTFT; ", m.cold * 1e3,
				f.n > 1 ? " in every cycle" : ", one cycle");
	ttft_str_printf(b, "and budget %.0f s per restart in rollout plans.", ceil(m.ready));
}

