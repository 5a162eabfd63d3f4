/* cold_stats.h — the numbers of a cold-start run that ttft-cold's Markdown
 * report (cold_report.c, cold_findings.c, cold_knobs.c) and its JSON
 * (cold_json.c) share, each computed one way for both: which cycles count,
 * whether the host was busy, the start-up by category, the cold/warm
 * factors and medians across cycles, what the server logged and ran. */
#ifndef TTFT_COLD_STATS_H
#define TTFT_COLD_STATS_H

#include <stddef.h>

#include "cold.h"

/* The median of v[0..n) (sorts v); NAN when n is 0. */
double cold_median(double *v, size_t n);
/* "vLLM", "llama.cpp llama-server", else kind itself. */
const char *cold_engine_name(const char *kind);
int cold_is_vllm(const struct cold_run *run);
/* A cycle with both a cold TTFT and a warm one measured. */
int cold_usable(const struct cold_cycle *c);
const struct cold_cycle *cold_first_usable(const struct cold_run *run);
/* Cached prompt tokens of one run, from whichever the server gives
 * (llama.cpp's timings.cache_n, vLLM's prefix-cache counter deltas). */
double cold_cached_tokens(const struct ttft_record *r);
/* The server's own prefill time of one run, seconds. */
double cold_prefill_s(const struct ttft_record *r);
/* Whether the warm runs of the usable cycles took more of their prompts
 * from the server's prefix cache than their cycle's cold run: 1 (the
 * server counted more; *most: the most a warm run took, *cold: the cold
 * runs' most), -1 (not counted, and every run sent the same prompt: they
 * could have), 0 (no). Then the cold/warm difference holds the cache's
 * saving, not only the first request's own cost. */
int cold_warm_cached(const struct cold_run *run, double *most, double *cold);
/* The host had a load average of at least its cores, or 5% steal. */
int cold_busy(const struct cold_cycle *c);
int cold_any_busy(const struct cold_run *run);
/* Seconds of each category (COLD_CAT__N of them), counting every phase
 * once: a phase's own time is its duration less its children's;
 * unaccounted goes to start-up. */
void cold_by_category(const struct cold_decomp *d, double *cat);
/* The longest top-level phase, or NULL. */
const struct cold_phase *cold_dominant(const struct cold_decomp *d);

/* Cold TTFT over the median warm TTFT, per usable cycle (v, in cycle
 * order), and their min / median / max. */
struct cold_factors {
	double v[1000];
	size_t n;
	double lo, med, hi;
};
void cold_factors_of(const struct cold_run *run, struct cold_factors *f);

/* Medians over the usable cycles: spawn → ready, cold TTFT, median warm
 * TTFT, their difference, the server's prefill of cold and warm runs, and
 * the start-up by category. */
struct cold_medians {
	double ready, cold, warm, extra, pf_cold, pf_warm;
	double cat[COLD_CAT__N];
	size_t n;
};
void cold_medians_of(const struct cold_run *run, struct cold_medians *m);

/* Info NAME as the first cycle that has it logged it, or NULL; as a
 * number (thousands commas dropped), NAN when absent or not a number. */
const char *cold_info_of(const struct cold_run *run, const char *name);
/* The same info's record (its copies: processes that logged it; lines:
 * the lines an infosum added up), or NULL. */
const struct cold_info *cold_info_rec(const struct cold_run *run, const char *name);
double cold_info_num(const struct cold_run *run, const char *name);
/* The median duration of phase NAME over the cycles that found it. */
double cold_phase_median(const struct cold_run *run, const char *name);
/* The median of what phase NAME's closing line states, over the cycles
 * whose line stated one (NAN: none did). */
double cold_phase_stated_median(const struct cold_run *run, const char *name);
/* What the server ran (/proc/PID/cmdline of the first cycle that read
 * it), else the command as given. */
const char *cold_run_argv(const struct cold_run *run);

#endif
