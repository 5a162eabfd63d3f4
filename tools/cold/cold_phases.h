/* cold_phases.h — cold-start phases from a server's own log lines, driven
 * by a pattern file per server kind (tools/patterns/KIND.tsv). */
#ifndef TTFT_COLD_PHASES_H
#define TTFT_COLD_PHASES_H

#include <regex.h>
#include <stddef.h>

#include "cold_server.h"

struct cold_pattern {
	int is_info;
	char name[64];
	int has_start, has_stated;
	regex_t start, end, stated;
	double unit;               /* seconds per stated unit */
};

struct cold_patterns {
	struct cold_pattern *p;
	size_t n;
	char path[512];
};

struct cold_phase {
	char name[64];
	double start_s;            /* since spawn; by arrival, or end - stated */
	double end_s;              /* arrival of the END line */
	double duration_s;         /* by arrival when START was seen, else stated */
	double stated_s;           /* NAN when the line states none */
	int found;
};

struct cold_info {
	char name[64];
	char value[64];
};

/* Load a pattern file; -1 with a message in err. */
int cold_patterns_load(struct cold_patterns *ps, const char *path, char *err, size_t errlen);
void cold_patterns_free(struct cold_patterns *ps);

/* Match lines (in arrival order, times relative to t_spawn). Fills phases
 * (one per phase pattern, found or not) and infos. Returns the number of
 * phases found. */
size_t cold_phases_match(const struct cold_patterns *ps, const struct cold_line *lines,
			 size_t nlines, long long t_spawn, double until_s,
			 struct cold_phase *phases, struct cold_info *infos, size_t *ninfo);

/* Seconds of [0, total_s] covered by no found phase. */
double cold_unaccounted(const struct cold_phase *ph, size_t n, double total_s);

/* "vllm" or "llamacpp" from the lines, or NULL. */
const char *cold_detect_kind(const struct cold_line *lines, size_t n);

#endif
