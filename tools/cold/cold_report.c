/* cold_report.c — ttft-cold's outputs: the seed's Markdown template filled
 * from measurements, and the JSON document. */
#include "cold.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		size_t nc = (b->n + (size_t)k + 1) * 2;
		char *q = realloc(b->s, nc);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->s = q;
		b->cap = nc;
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
		double t = ttft_record_ttft_s(&c->warm[i]);
		if (!isnan(t))
			v[n++] = t;
	}
	struct ttft_summary s;
	ttft_summary_of(v, n, &s);
	*min = s.min;
	*max = s.max;
	*cv = s.cv;
	return s.median;
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

static void row(struct sb *b, const char *run, const struct ttft_record *r, const char *note)
{
	sbf(b, "| %s | %s | %.4f | %.4f | %ld | %s |\n", run, r->label, ttft_record_ttft_s(r),
	    ttft_record_e2e_s(r), ttft_record_tokens(r), r->ok ? note : ttft_record_error(r));
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
	for (int i = 0; i < c->nwarm && n < 1024; i++) {
		const struct ttft_server_split *s = &c->warm[i].split;
		if (s->source && !strcmp(s->source, TTFT_SPLIT_LLAMACPP_TIMINGS))
			v[n++] = s->prefill_s;
	}
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
	    ttft_record_ttft_s(&c->cold) - med);
}

static void observations(struct sb *b, const struct cold_run *run)
{
	const struct cold_cycle *c = &run->cycles[0];
	if (c->ok)
		decomposition(b, c);
	double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
	double cold = ttft_record_ttft_s(&c->cold);
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
				ct[n] = ttft_record_ttft_s(&run->cycles[k].cold);
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
	double cold = ttft_record_ttft_s(&c->cold);
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
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int cold_write_report(const struct cold_run *run, const char *tpl_path,
		      const char *out_path, char *err, size_t errlen)
{
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
	struct sb *all[] = {&t, &runs, &warm, &san, &obs, &srep, &flags};
	int oom = !out;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		oom |= all[i]->oom;
	FILE *o = oom ? NULL : fopen(out_path, "w");
	if (oom) {
		snprintf(err, errlen, "out of memory building report %s", out_path);
		rc = -1;
	} else {
		int bad = !o || fputs(out, o) < 0;
		if (o && fclose(o) != 0)
			bad = 1;
		if (bad) {
			snprintf(err, errlen, "cannot write report %s: %s", out_path,
				 strerror(errno));
			rc = -1;
		}
	}
	free(out), free(t.s), free(runs.s), free(warm.s), free(san.s), free(obs.s);
	free(srep.s), free(flags.s);
	return rc;
}

/* The min / median / max (and p90, p99) of n values, in place. */
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
	       *un = calloc(n + 1, sizeof *un);
	if (!sr || !ct || !wm || !fw || !un) {
		free(sr), free(ct), free(wm), free(fw), free(un);
		errno = ENOMEM;
		return -1;
	}
	ttft_json_begin_obj(j, NULL);
	ttft_json_begin_obj(j, "server");
	ttft_json_str(j, "command", run->server_cmd);
	ttft_json_str(j, "kind", run->kind ? run->kind : "unknown");
	ttft_json_str(j, "model", run->model);
	ttft_json_str(j, "version", run->version);
	ttft_json_str(j, "gpu", run->gpu);
	ttft_json_end_obj(j);
	ttft_json_begin_arr(j, "cycles");
	size_t k = 0;
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		/* request start offsets count from the server's spawn */
		struct ttft_json_ctx ctx = {.t0 = c->t_spawn};
		ttft_json_begin_obj(j, NULL);
		ttft_json_int(j, "cycle", c->index);
		ttft_json_bool(j, "ok", c->ok);
		if (!c->ok)
			ttft_json_str(j, "error", c->error);
		ttft_json_num(j, "spawn_to_listen_s", c->spawn_to_listen_s);
		ttft_json_num(j, "spawn_to_ready_s", c->spawn_to_ready_s);
		ttft_json_begin_arr(j, "phases");
		for (size_t p = 0; p < c->nphases; p++) {
			if (!c->phases[p].found)
				continue;
			ttft_json_begin_obj(j, NULL);
			ttft_json_str(j, "name", c->phases[p].name);
			ttft_json_num(j, "start_s", c->phases[p].start_s);
			ttft_json_num(j, "duration_s", c->phases[p].duration_s);
			ttft_json_num(j, "stated_s", c->phases[p].stated_s);
			ttft_json_end_obj(j);
		}
		ttft_json_end_arr(j);
		ttft_json_num(j, "unaccounted_s", c->unaccounted_s);
		ttft_json_begin_obj(j, "info");
		for (size_t p = 0; p < c->ninfo; p++)
			ttft_json_str(j, c->infos[p].name, c->infos[p].value);
		ttft_json_end_obj(j);
		ttft_json_record(j, "cold", &c->cold, &ctx);
		ttft_json_begin_arr(j, "warm");
		for (int w = 0; w < c->nwarm; w++)
			ttft_json_record(j, NULL, &c->warm[w], &ctx);
		ttft_json_end_arr(j);
		double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
		ttft_json_num(j, "warm_ttft_min_s", mn);
		ttft_json_num(j, "warm_ttft_median_s", med);
		ttft_json_num(j, "warm_ttft_max_s", mx);
		ttft_json_num(j, "warm_ttft_cv", cv);
		double fwu = c->cold.t_start ? ttft_record_ttft_s(&c->cold) - med : NAN;
		ttft_json_num(j, "first_request_warmup_s", fwu);
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
		ttft_json_str(j, "server_log", c->log_path);
		ttft_json_end_obj(j);
		if (c->ok) {
			sr[k] = c->spawn_to_ready_s;
			ct[k] = ttft_record_ttft_s(&c->cold);
			wm[k] = med;
			fw[k] = fwu;
			un[k] = c->unaccounted_s;
			k++;
		}
	}
	ttft_json_end_arr(j);
	ttft_json_begin_obj(j, "summary");
	ttft_json_int(j, "cycles", run->ncycles);
	ttft_json_int(j, "cycles_ok", (long long)k);
	summary_json(j, "spawn_to_ready_s", sr, k);
	summary_json(j, "cold_ttft_s", ct, k);
	summary_json(j, "warm_ttft_median_s", wm, k);
	summary_json(j, "first_request_warmup_s", fw, k);
	summary_json(j, "unaccounted_s", un, k);
	ttft_json_end_obj(j);
	ttft_json_end_obj(j);
	ttft_json_newline(j);
	free(sr), free(ct), free(wm), free(fw), free(un);
	return 0;
}
