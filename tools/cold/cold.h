/* cold.h — one cold-start run's results, shared by ttft-cold's flow
 * (ttft-cold.c), its Markdown report (cold_report.c) and its JSON
 * (cold_json.c). */
#ifndef TTFT_COLD_H
#define TTFT_COLD_H

#include <limits.h>

#include "probe.h"
#include "ttft_json.h"
#include "cold_phases.h"
#include "cold_sanity.h"

#define COLD_MAX_SAMPLES 4096

struct cold_sample {
	double t_s;          /* since spawn */
	double gpu_util;
};

struct cold_cycle {
	int index;            /* 1-based */
	int ok;
	int interrupted;      /* Ctrl-C / SIGTERM during this cycle */
	char error[1024];
	double spawn_to_listen_s, spawn_to_ready_s, stop_s;
	struct cold_decomp dec;
	/* the cold request and the warm ones; a run that was never made (an
	 * interrupted cycle) has t_start 0 and is not reported */
	struct ttft_record cold;
	struct ttft_record *warm;
	int nwarm;            /* made */
	long long t_spawn;    /* CLOCK_MONOTONIC ns */
	struct gpu_snap gpu_before, gpu_ready, gpu_after_cold;
	struct cold_sample *samples;
	size_t nsamples;
	double sys_cpu_cold, sys_cpu_warm, srv_cpu_cold, srv_cpu_warm;
	struct host_snap host_start, host_end;
	double steal_pct;
	char log_path[PATH_MAX + 32];
	char log_error[128];  /* writing the log failed: why ("": it is whole) */
	char model[256];      /* from --model or /v1/models */
	char version[128];    /* from /version (vLLM) or /props (llama.cpp) */
	char *server_argv;    /* what the server process ran (/proc/PID/cmdline) */
	int server_pid;
	/* server lines, kept for outlier notes (owned) */
	struct cold_line *lines;
	size_t nlines;
};

struct cold_run {
	const char *server_cmd, *url, *kind, *model, *version, *tool_version;
	char gpu[160], cpu[200], os[200], date[64];
	struct cold_cycle *cycles;
	int ncycles;          /* run (started) */
	int cycles_wanted;
	int warm_runs, max_tokens, chat;
	const char *patterns_path;
	const char *prompt;
	int distinct_prompts; /* each run's prompt starts with its own number */
	int interrupted;
};

/* Per cycle: min / median / max and coefficient of variation of the warm
 * TTFTs that were measured (NAN when none). */
double cold_warm_median(const struct cold_cycle *c, double *min, double *max, double *cv);

/* The filled-in template (malloc'd), or NULL with err. Its charts are
 * written beside out_path (where the caller will write the report) first. */
char *cold_report(const struct cold_run *run, const char *tpl_path, const char *out_path,
		  char *err, size_t errlen);
/* Can tpl_path fill a report? 0, or -1 with err: it cannot be read, holds
 * none of the placeholders (a report already filled in would be copied
 * with its old numbers), or is report_path itself (the run would fill the
 * template in for good). Checked before any server starts. */
int cold_template_check(const char *tpl_path, const char *report_path, char *err,
			size_t errlen);
/* The --json document and a newline into j (cold_json.c); -1 when out of
 * memory. */
int cold_json(struct ttft_json *j, const struct cold_run *run);

#endif
