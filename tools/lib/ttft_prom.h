/* ttft_prom.h — Prometheus text format, and the server's own per-request
 * truth read from it (vLLM histograms, llama.cpp counters).
 * Shared by ttft-probe (scrapes around requests), ttft-run --metrics
 * (scrapes during any client) and ttft-analyze (joins snapshots). */
#ifndef TTFT_PROM_H
#define TTFT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_record.h"

struct ttft_prom_sample {
	char *name;     /* e.g. vllm:request_queue_time_seconds_sum */
	char *labels;   /* canonical k="v",… with escapes resolved; "" if none */
	double value;   /* NaN and ±Inf allowed */
};

struct ttft_prom {
	struct ttft_prom_sample *s;
	size_t n, cap;
	size_t bad_lines;    /* lines that are neither samples nor comments */
	int truncated;       /* the last line had no newline */
};

/* Parse a /metrics page. Never fails on bad input: malformed lines are
 * counted in bad_lines and skipped. Returns the number of samples, or -1
 * with a message in err when out of memory (p is then empty). */
int ttft_prom_parse(const char *text, size_t len, struct ttft_prom *p, char *err,
		    size_t errlen);
void ttft_prom_free(struct ttft_prom *p);
/* Sum of NAME over all label sets (one per model/engine); *found = 0 when
 * no sample has that name. */
double ttft_prom_get(const struct ttft_prom *p, const char *name, int *found);

/* The values ttftshim reads. Older vLLM names are folded into the new. */
enum ttft_truth_id {
	TR_QUEUE_SUM, TR_QUEUE_CNT, TR_PREFILL_SUM, TR_PREFILL_CNT,
	TR_DECODE_SUM, TR_DECODE_CNT, TR_TTFT_SUM, TR_TTFT_CNT,
	TR_PC_HITS, TR_PC_QUERIES, TR_KV_USAGE,
	TR_LC_PROMPT_S, TR_LC_PREDICTED_S, TR_LC_PROMPT_TOK, TR_LC_CACHED_TOK,
	TR_PROC_START, /* the process's start (prometheus_client's, so vLLM's):
	                  which process rendered the page, not a request metric */
	TR__N
};

struct ttft_truth {
	double v[TR__N];
	uint32_t have;       /* bit i: v[i] was on the page */
	int64_t t0_ns;       /* CLOCK_MONOTONIC when the GET was sent (0: t_ns) */
	int64_t t_ns;        /* … and when the page had arrived: the server
	                        rendered it in between */
};

const char *ttft_truth_name(int id);
/* The older name vLLM gave value id, NULL when it had none. */
const char *ttft_truth_old_name(int id);
/* Extract the known values from a parsed page; returns how many (the
 * process's start time, which any Python exporter has, not counted). */
int ttft_truth_from(const struct ttft_prom *p, struct ttft_truth *t);
/* Parse a whole /metrics body into t. Returns the number of known values,
 * or -1 with why set: not Prometheus text, cut short (Prometheus text ends
 * with a newline), none of the request metrics on it, or out of memory. */
int ttft_truth_page(const char *body, size_t len, struct ttft_truth *t, char *why,
		    size_t whylen);
/* Names in the log (records carry the metric name as text). */
int ttft_truth_id(const char *name);

/* b - a for value id, NAN unless both pages have it. */
double ttft_truth_delta(const struct ttft_truth *a, const struct ttft_truth *b, int id);
/* 1 when a and b came from two processes (their start times differ: a
 * restart, or two replicas behind one address) or a counter went backwards
 * from a to b (the server restarted in between), with why; else 0. */
int ttft_truth_restarted(const struct ttft_truth *a, const struct ttft_truth *b,
			 char *why, size_t whylen);

/* What the server says about the window between two snapshots.
 * expect_one: the caller knows exactly one request ended in the window
 * (needed for llama.cpp, whose counters do not count requests). Values
 * are NAN where the server gives none. Returns 1 for a per-request split,
 * 0 otherwise (note says why; an aggregate may still be in the values). */
int ttft_truth_split(const struct ttft_truth *a, const struct ttft_truth *b,
		     int expect_one, struct ttft_server_split *out);

#endif
