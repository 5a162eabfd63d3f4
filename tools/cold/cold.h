/* cold.h — one cold-start cycle's results, shared by ttft-cold's flow
 * (ttft-cold.c) and its report (cold_report.c). */
#ifndef TTFT_COLD_H
#define TTFT_COLD_H

#include <limits.h>

#include "probe.h"
#include "ttft_json.h"
#include "cold_phases.h"
#include "cold_sanity.h"

#define COLD_MAX_PHASES 32
#define COLD_MAX_SAMPLES 4096

struct cold_sample {
	double t_s;          /* since spawn */
	double gpu_util;
};

struct cold_cycle {
	int index;            /* 1-based */
	int ok;
	char error[1024];
	double spawn_to_listen_s, spawn_to_ready_s, stop_s;
	struct cold_phase phases[COLD_MAX_PHASES];
	size_t nphases, found;
	struct cold_info infos[COLD_MAX_PHASES];
	size_t ninfo;
	double unaccounted_s;
	struct ttft_record cold;
	struct ttft_record *warm;
	int nwarm;
	long long t_spawn;    /* CLOCK_MONOTONIC ns */
	struct gpu_snap gpu_before, gpu_ready, gpu_after_cold;
	struct cold_sample *samples;
	size_t nsamples;
	double sys_cpu_cold, sys_cpu_warm, srv_cpu_cold, srv_cpu_warm;
	char log_path[PATH_MAX + 32];
	char model[256];      /* from --model or /v1/models */
	char version[128];    /* from /version (vLLM) or /props (llama.cpp) */
	/* server lines, kept for outlier notes (owned) */
	struct cold_line *lines;
	size_t nlines;
};

struct cold_run {
	const char *server_cmd, *url, *kind, *model, *version;
	char gpu[160], cpu[200], os[200], date[64];
	struct cold_cycle *cycles;
	int ncycles, warm_runs, max_tokens;
	const char *patterns_path;
};

/* Derived per cycle */
double cold_warm_median(const struct cold_cycle *c, double *min, double *max, double *cv);

/* Fill the template at tpl_path into out_path. -1 with err on failure. */
int cold_write_report(const struct cold_run *run, const char *tpl_path,
		      const char *out_path, char *err, size_t errlen);
/* The --json document and a newline; -1 when out of memory. */
int cold_json(struct ttft_json *j, const struct cold_run *run);

#endif
