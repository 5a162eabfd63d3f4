/* cold_json.c — ttft-cold's --json document, through the one JSON writer
 * (ttft_json.h): the run, each cycle's phases, requests (the shared
 * request record), host and sanity readings, and the summary across
 * cycles. A number that could not be measured is null. */
#include "cold.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cold_stats.h"
#include "ttft_json.h"
#include "ttft_summary.h"

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
	ttft_json_str(j, "ran", cold_run_argv(run));
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
		/* more than 1: a crash and restart inside the spawn; the
		 * phases are the last start's, from last_start_s */
		ttft_json_int(j, "starts", d->starts);
		ttft_json_num(j, "last_start_s", d->last_start_s);
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
		cold_by_category(d, cat);
		ttft_json_begin_obj(j, "by_category_s");
		for (int q = 0; q < COLD_CAT__N; q++)
			ttft_json_num(j, cold_cat_name(q), isnan(c->spawn_to_ready_s) ? NAN : cat[q]);
		ttft_json_end_obj(j);
		ttft_json_begin_obj(j, "info");
		for (size_t p = 0; p < d->ninfo; p++)
			ttft_json_str(j, d->infos[p].name, d->infos[p].value);
		ttft_json_end_obj(j);
		/* infos whose processes logged other values (ranks or engines
		 * of other sizes): info holds the smallest */
		ttft_json_begin_obj(j, "info_differs");
		for (size_t p = 0; p < d->ninfo; p++) {
			const struct cold_info *x = &d->infos[p];
			if (!x->differ)
				continue;
			ttft_json_begin_obj(j, x->name);
			ttft_json_num(j, "min", x->min);
			ttft_json_num(j, "max", x->max);
			ttft_json_int(j, "copies", x->copies);
			ttft_json_end_obj(j);
		}
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
		ttft_json_bool(j, "busy", cold_busy(c));
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
		ttft_json_str(j, "server_log_error", c->log_error[0] ? c->log_error : NULL);
		ttft_json_end_obj(j);
		if (cold_usable(c)) {
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
	ttft_json_bool(j, "busy_host", cold_any_busy(run));
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
