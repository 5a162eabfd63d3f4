/* cold_report.c — ttft-cold's outputs: the seed's Markdown template filled
 * from measurements, and the JSON document. */
#include "cold.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cold_charts.h"
#include "ttft_analyze.h"
#include "ttft_html.h"

/* A growing string. */
struct sb {
	char *s;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3)))
static void sbf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if (b->n + (size_t)k + 1 > b->cap) {
		b->cap = (b->n + (size_t)k + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

static const char *str(struct sb *b)
{
	return b->s ? b->s : "";
}

double cold_warm_median(const struct cold_cycle *c, double *min, double *max, double *cv)
{
	double v[1024];
	size_t n = 0;
	for (int i = 0; i < c->nwarm && n < 1024; i++) {
		double t = probe_ttft_s(&c->warm[i]);
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
	double med = ttft_percentile(v, n, 0.5);
	*min = n ? v[0] : NAN;
	*max = n ? v[n - 1] : NAN;
	return med;
}

static double median_of(double *v, size_t n)
{
	return ttft_percentile(v, n, 0.5);
}

static const char *engine_name(const char *kind)
{
	return !strcmp(kind, "vllm") ? "vLLM" : !strcmp(kind, "llamacpp")
	       ? "llama.cpp llama-server" : kind;
}

static void row(struct sb *b, const char *run, const struct probe_result *r, const char *note)
{
	sbf(b, "| %s | %s | %.4f | %.4f | %ld | %s |\n", run, r->label, probe_ttft_s(r),
	    probe_e2e_s(r), probe_tokens(r), r->ok ? note : r->error);
}

static const struct cold_phase *dominant(const struct cold_cycle *c)
{
	const struct cold_phase *best = NULL;
	for (size_t i = 0; i < c->nphases; i++) {
		const struct cold_phase *p = &c->phases[i];
		if (p->found && (!best || p->duration_s > best->duration_s))
			best = p;
	}
	return best;
}

static double warm_prefill_median(const struct cold_cycle *c)
{
	double v[1024];
	size_t n = 0;
	for (int i = 0; i < c->nwarm && n < 1024; i++)
		if (!isnan(c->warm[i].prompt_ms))
			v[n++] = c->warm[i].prompt_ms / 1e3;
	return n ? median_of(v, n) : NAN;
}

static void gpu_cell(struct sb *b, const struct gpu_snap *g)
{
	if (g->present)
		sbf(b, "%.0f MiB of %.0f (%s)", g->mem_used_mib, g->mem_total_mib, g->source);
	else
		sbf(b, "no GPU");
}

static void decomposition(struct sb *b, const struct cold_cycle *c)
{
	sbf(b, "Cold-start decomposition (cycle %d; seconds since spawn, from the "
	       "server's own log lines as they arrived):\n\n", c->index);
	sbf(b, "| phase | start_s | duration_s (by arrival) | stated_s (by the line) |\n|---|---|---|---|\n");
	for (size_t i = 0; i < c->nphases; i++) {
		const struct cold_phase *p = &c->phases[i];
		if (!p->found)
			continue;
		sbf(b, "| %s | %.3f | %.3f | ", p->name, p->start_s, p->duration_s);
		if (isnan(p->stated_s))
			sbf(b, "- |\n");
		else
			sbf(b, "%.3f |\n", p->stated_s);
	}
	sbf(b, "| **unaccounted** (no line explains it) | | %.3f | |\n", c->unaccounted_s);
	sbf(b, "| spawn → listening | 0 | %.3f | |\n", c->spawn_to_listen_s);
	sbf(b, "| spawn → ready (/health 200) | 0 | %.3f | |\n", c->spawn_to_ready_s);
	double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
	sbf(b, "| first request's own warm-up (cold − median warm TTFT) | | %.4f | |\n\n",
	    probe_ttft_s(&c->cold) - med);
}

static void observations(struct sb *b, const struct cold_run *run)
{
	const struct cold_cycle *c = &run->cycles[0];
	if (c->ok)
		decomposition(b, c);
	double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
	double cold = probe_ttft_s(&c->cold);
	if (c->ok && !isnan(med) && med > 0)
		sbf(b, "- **Cold vs warm:** the cold request's TTFT (%.4f s) is %.1f× the "
		       "median warm TTFT (%.4f s); %.4f s of it is the first request's own "
		       "warm-up.\n", cold, cold / med, med, cold - med);
	const struct cold_phase *d = dominant(c);
	if (d && c->spawn_to_ready_s > 0)
		sbf(b, "- **Dominant cold phase:** %s, %.3f s of the %.3f s from spawn to "
		       "ready (%.0f%%).\n", d->name, d->duration_s, c->spawn_to_ready_s,
		    100 * d->duration_s / c->spawn_to_ready_s);
	else
		sbf(b, "- **Dominant cold phase:** unknown: no log line matched %s.\n",
		    run->patterns_path ? run->patterns_path : "a pattern file");
	if (!isnan(c->unaccounted_s) && c->spawn_to_ready_s > 0)
		sbf(b, "- **Unaccounted start-up:** %.3f s (%.0f%%) that no log line "
		       "explains%s.\n", c->unaccounted_s,
		    100 * c->unaccounted_s / c->spawn_to_ready_s,
		    c->unaccounted_s > 0.25 * c->spawn_to_ready_s
		    ? " — interpreter/import time, process spawn, device init" : "");
	if (!isnan(cv))
		sbf(b, "- **Warm stability:** coefficient of variation %.1f%% over %d warm "
		       "runs (%s).\n", 100 * cv, c->nwarm, cv < 0.05 ? "stable"
		       : cv < 0.15 ? "some jitter" : "noisy: look at the outliers");
	double pf = warm_prefill_median(c);
	if (!isnan(pf) && !isnan(med))
		sbf(b, "- **Inside warm TTFT:** the server reports %.4f s of prefill "
		       "(llama.cpp timings); the other %.4f s is HTTP, queueing, "
		       "tokenization and the first token's flush.\n", pf, med - pf);
	for (int i = 0; i < c->nwarm; i++) {
		const struct probe_result *r = &c->warm[i];
		double t = probe_ttft_s(r);
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
		const char *first = NULL;
		for (size_t k = 0; k < c->nlines; k++) {
			double tl = (double)(c->lines[k].t_ns - c->t_spawn) / 1e9;
			if (tl >= a && tl <= z) {
				if (!first)
					first = c->lines[k].text;
				nl++;
			}
		}
		sbf(b, "- **Outlier:** warm run %d, TTFT %.4f s (%.1f× the median); "
		       "meanwhile the server printed %d line%s%s%.100s%s", r->run, t, t / med,
		    nl, nl == 1 ? "" : "s", first ? " (first: `" : "", first ? first : "",
		    first ? "`)" : "");
		if (gmax >= 0)
			sbf(b, ", GPU utilisation peaked at %.0f%%", gmax);
		sbf(b, ".\n");
	}
	if (run->ncycles > 1) {
		double sr[1000], ct[1000];
		size_t n = 0;
		for (int k = 0; k < run->ncycles && n < 1000; k++)
			if (run->cycles[k].ok) {
				sr[n] = run->cycles[k].spawn_to_ready_s;
				ct[n] = probe_ttft_s(&run->cycles[k].cold);
				n++;
			}
		double srm = median_of(sr, n), ctm = median_of(ct, n);
		sbf(b, "- **Across %d restarts:** spawn → ready %.3f / %.3f / %.3f s and cold "
		       "TTFT %.4f / %.4f / %.4f s (min / median / max).\n", run->ncycles,
		    n ? sr[0] : NAN, srm, n ? sr[n - 1] : NAN, n ? ct[0] : NAN, ctm,
		    n ? ct[n - 1] : NAN);
	}
}

static void sre(struct sb *b, const struct cold_run *run)
{
	const struct cold_cycle *c = &run->cycles[0];
	double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
	const struct cold_phase *d = dominant(c);
	sbf(b, "TTFT is how long a user stares at an empty reply: from sending the "
	       "request to the first generated token on the wire, before any decoding "
	       "speed matters. On %s served by %s (%s), a warm request waits %.1f ms "
	       "(median; %.1f–%.1f ms over %d runs). ", run->model, engine_name(run->kind),
	    run->gpu, med * 1e3, mn * 1e3, mx * 1e3, c->nwarm);
	double pf = warm_prefill_median(c);
	if (!isnan(pf))
		sbf(b, "The engine's own prefill is %.1f ms of that; the rest is the HTTP "
		       "path, queueing and the first flush. ", pf * 1e3);
	sbf(b, "A restart is different: the server needs %.2f s before /health says "
	       "ready", c->spawn_to_ready_s);
	if (d)
		sbf(b, ", most of it %s (%.2f s)", d->name, d->duration_s);
	double cold = probe_ttft_s(&c->cold);
	sbf(b, ", and %.2f s of it no log line explains. ", c->unaccounted_s);
	if (cold / med >= 1.2)
		sbf(b, "Then the first request takes %.1f ms — %.1f× a warm one — because "
		       "it pays one-time warm-up inside the engine. So: alert on warm p99 "
		       "TTFT, not on the first request after a deploy; send a warm-up "
		       "request before the instance takes traffic; ", cold * 1e3, cold / med);
	else
		sbf(b, "Once ready, even the first request is about as fast as a warm one "
		       "(%.1f ms), so the restart cost is all start-up, none of it on the "
		       "first user. So: alert on warm p99 TTFT; ", cold * 1e3);
	sbf(b, "and budget %.0f s per restart in rollout plans.", ceil(c->spawn_to_ready_s));
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
	return b.s;
}

int cold_write_report(const struct cold_run *run, const char *tpl_path,
		      const char *out_path, char *err, size_t errlen)
{
	/* the pictures beside the report: the timeline leads the
	 * observations, the spread follows the variance table */
	char tl_link[4200], var_link[4200];
	if (cold_write_charts(run, out_path, tl_link, var_link, sizeof tl_link, err, errlen) != 0)
		return -1;
	FILE *f = fopen(tpl_path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read template %s", tpl_path);
		return -1;
	}
	struct sb t = {0};
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		sbf(&t, "%.*s", (int)k, buf);
	fclose(f);

	struct sb runs = {0}, warm = {0}, san = {0}, obs = {0}, srep = {0}, flags = {0};
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		char id[32], note[128];
		snprintf(id, sizeof id, run->ncycles > 1 ? "%d.1" : "1", c->index);
		snprintf(note, sizeof note, "first request after a restart; spawn → ready %.3f s",
			 c->spawn_to_ready_s);
		if (!c->cold.t_start) {
			sbf(&runs, "| %s | cold | - | - | - | %s |\n", id, c->error);
			continue;
		}
		row(&runs, id, &c->cold, note);
		for (int j = 0; j < c->nwarm; j++) {
			if (run->ncycles > 1)
				snprintf(id, sizeof id, "%d.%d", c->index, j + 2);
			else
				snprintf(id, sizeof id, "%d", j + 2);
			row(&runs, id, &c->warm[j], "");
		}
		double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
		sbf(&warm, "| %d%s | %.4f | %.4f | %.4f | %.1f%% |\n", c->nwarm,
		    run->ncycles > 1 ? "" : "", mn, med, mx, 100 * cv);
		if (i == 0) {
			sbf(&san, "| GPU memory before start | ");
			gpu_cell(&san, &c->gpu_before);
			sbf(&san, " |\n| GPU memory after ready | ");
			gpu_cell(&san, &c->gpu_ready);
			sbf(&san, " |\n| GPU memory after the cold request | ");
			gpu_cell(&san, &c->gpu_after_cold);
			double avg = 0, gmax = 0;
			for (size_t s = 0; s < c->nsamples; s++) {
				avg += c->samples[s].gpu_util;
				if (c->samples[s].gpu_util > gmax)
					gmax = c->samples[s].gpu_util;
			}
			if (c->nsamples)
				sbf(&san, " |\n| GPU utilisation during warm runs | mean %.0f%%, max %.0f%% "
					  "(%zu samples, every 100 ms) |\n", avg / (double)c->nsamples,
				    gmax, c->nsamples);
			else
				sbf(&san, " |\n| GPU utilisation during warm runs | no GPU |\n");
			sbf(&san, "| system CPU busy: cold request / warm runs | %.0f%% / %.0f%% |\n",
			    c->sys_cpu_cold, c->sys_cpu_warm);
			sbf(&san, "| server CPU (%% of one core): cold / warm | %.0f%% / %.0f%% |\n",
			    c->srv_cpu_cold, c->srv_cpu_warm);
			sbf(&san, "| spawn → listening / ready | %.3f s / %.3f s |\n",
			    c->spawn_to_listen_s, c->spawn_to_ready_s);
			sbf(&san, "| stop (SIGTERM → all gone) | %.3f s |\n", c->stop_s);
			for (size_t s = 0; s < c->ninfo; s++)
				sbf(&san, "| %s (server log) | %s |\n", c->infos[s].name, c->infos[s].value);
			sbf(&san, "| server log | `%s` |\n", c->log_path);
		}
	}
	if (tl_link[0])
		sbf(&obs, "![Cold start: spawn → listening → ready → first token](%s)\n\n", tl_link);
	sbf(&warm, "\n![Warm-run variance: TTFT of each request](%s)\n", var_link);
	observations(&obs, run);
	sre(&srep, run);
	/* the flags: every --option of the command line */
	for (const char *p = run->server_cmd; (p = strstr(p, "--")); p += 2) {
		size_t n = strcspn(p, " ");
		const char *v = p + n;
		while (*v == ' ')
			v++;
		size_t vn = *v && *v != '-' ? strcspn(v, " ") : 0;
		sbf(&flags, "%s`%.*s%s%.*s`", flags.n ? ", " : "", (int)n, p, vn ? " " : "",
		    (int)vn, v);
	}
	const char *keys[] = {"engine", "model", "command", "flags", "server_version", "gpu",
			      "cpu", "os", "date", "runs_table", "warm_table", "sanity_table",
			      "observations", "sre_paragraph"};
	const char *vals[] = {engine_name(run->kind), run->model, run->server_cmd,
			      flags.n ? str(&flags) : "(none)", run->version, run->gpu,
			      run->cpu, run->os, run->date, str(&runs), str(&warm), str(&san),
			      str(&obs), str(&srep)};
	char *out = fill(str(&t), keys, vals, sizeof keys / sizeof keys[0]);
	int rc = 0;
	FILE *o = fopen(out_path, "w");
	if (!o || fputs(out, o) < 0 || fclose(o) != 0) {
		snprintf(err, errlen, "cannot write report %s", out_path);
		rc = -1;
	} else {
		/* the same report as one page, charts inline, beside it */
		char html[4200];
		snprintf(html, sizeof html, "%.*s.html", (int)(strlen(out_path) -
			 (strlen(out_path) > 3 && !strcmp(out_path + strlen(out_path) - 3, ".md")
			  ? 3 : 0)), out_path);
		rc = ttft_html_write(out_path, html, err, errlen);
	}
	free(out), free(t.s), free(runs.s), free(warm.s), free(san.s), free(obs.s);
	free(srep.s), free(flags.s);
	return rc;
}

static void num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

static cJSON *req_json(const struct probe_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "run", r->run);
	cJSON_AddBoolToObject(o, "ok", r->ok);
	num(o, "ttft_s", probe_ttft_s(r));
	num(o, "e2e_s", probe_e2e_s(r));
	cJSON_AddNumberToObject(o, "tokens", (double)probe_tokens(r));
	num(o, "prefill_s", isnan(r->prompt_ms) ? NAN : r->prompt_ms / 1e3);
	if (!r->ok)
		cJSON_AddStringToObject(o, "error", r->error);
	return o;
}

static void mmm(cJSON *parent, const char *k, double *v, size_t n)
{
	cJSON *o = cJSON_AddObjectToObject(parent, k);
	double med = ttft_percentile(v, n, 0.5);
	num(o, "min", n ? v[0] : NAN);
	num(o, "median", med);
	num(o, "max", n ? v[n - 1] : NAN);
}

char *cold_json(const struct cold_run *run)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *sv = cJSON_AddObjectToObject(root, "server");
	cJSON_AddStringToObject(sv, "command", run->server_cmd);
	cJSON_AddStringToObject(sv, "kind", run->kind ? run->kind : "unknown");
	cJSON_AddStringToObject(sv, "model", run->model);
	cJSON_AddStringToObject(sv, "version", run->version);
	cJSON_AddStringToObject(sv, "gpu", run->gpu);
	cJSON *cys = cJSON_AddArrayToObject(root, "cycles");
	size_t n = (size_t)run->ncycles;
	double *sr = calloc(n + 1, sizeof *sr), *ct = calloc(n + 1, sizeof *ct),
	       *wm = calloc(n + 1, sizeof *wm), *fw = calloc(n + 1, sizeof *fw),
	       *un = calloc(n + 1, sizeof *un);
	size_t k = 0;
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "cycle", c->index);
		cJSON_AddBoolToObject(o, "ok", c->ok);
		if (!c->ok)
			cJSON_AddStringToObject(o, "error", c->error);
		num(o, "spawn_to_listen_s", c->spawn_to_listen_s);
		num(o, "spawn_to_ready_s", c->spawn_to_ready_s);
		cJSON *ph = cJSON_AddArrayToObject(o, "phases");
		for (size_t p = 0; p < c->nphases; p++) {
			if (!c->phases[p].found)
				continue;
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "name", c->phases[p].name);
			num(x, "start_s", c->phases[p].start_s);
			num(x, "duration_s", c->phases[p].duration_s);
			num(x, "stated_s", c->phases[p].stated_s);
			cJSON_AddItemToArray(ph, x);
		}
		num(o, "unaccounted_s", c->unaccounted_s);
		cJSON *info = cJSON_AddObjectToObject(o, "info");
		for (size_t p = 0; p < c->ninfo; p++)
			cJSON_AddStringToObject(info, c->infos[p].name, c->infos[p].value);
		cJSON *cold = cJSON_AddObjectToObject(o, "cold");
		num(cold, "ttft_s", c->cold.t_start ? probe_ttft_s(&c->cold) : NAN);
		num(cold, "e2e_s", c->cold.t_start ? probe_e2e_s(&c->cold) : NAN);
		cJSON_AddNumberToObject(cold, "tokens", c->cold.t_start ? (double)probe_tokens(&c->cold) : 0);
		cJSON *w = cJSON_AddArrayToObject(o, "warm");
		for (int j = 0; j < c->nwarm; j++)
			cJSON_AddItemToArray(w, req_json(&c->warm[j]));
		double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
		num(o, "warm_ttft_min_s", mn);
		num(o, "warm_ttft_median_s", med);
		num(o, "warm_ttft_max_s", mx);
		num(o, "warm_ttft_cv", cv);
		double fwu = c->cold.t_start ? probe_ttft_s(&c->cold) - med : NAN;
		num(o, "first_request_warmup_s", fwu);
		cJSON *s = cJSON_AddObjectToObject(o, "sanity");
		num(s, "gpu_mem_before_mib", c->gpu_before.present ? c->gpu_before.mem_used_mib : NAN);
		num(s, "gpu_mem_ready_mib", c->gpu_ready.present ? c->gpu_ready.mem_used_mib : NAN);
		num(s, "gpu_mem_after_cold_mib", c->gpu_after_cold.present ? c->gpu_after_cold.mem_used_mib : NAN);
		num(s, "system_cpu_cold_pct", c->sys_cpu_cold);
		num(s, "system_cpu_warm_pct", c->sys_cpu_warm);
		num(s, "server_cpu_cold_pct", c->srv_cpu_cold);
		num(s, "server_cpu_warm_pct", c->srv_cpu_warm);
		cJSON_AddStringToObject(o, "server_log", c->log_path);
		cJSON_AddItemToArray(cys, o);
		if (c->ok) {
			sr[k] = c->spawn_to_ready_s;
			ct[k] = probe_ttft_s(&c->cold);
			wm[k] = med;
			fw[k] = fwu;
			un[k] = c->unaccounted_s;
			k++;
		}
	}
	cJSON *sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "cycles", run->ncycles);
	cJSON_AddNumberToObject(sum, "cycles_ok", (double)k);
	mmm(sum, "spawn_to_ready_s", sr, k);
	mmm(sum, "cold_ttft_s", ct, k);
	mmm(sum, "warm_ttft_median_s", wm, k);
	mmm(sum, "first_request_warmup_s", fw, k);
	mmm(sum, "unaccounted_s", un, k);
	free(sr), free(ct), free(wm), free(fw), free(un);
	char *s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}
