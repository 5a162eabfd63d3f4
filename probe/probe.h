/* probe.h — ttft-probe's request engine: one thread, libcurl's multi
 * interface, any number of concurrent streams, each timed with
 * CLOCK_MONOTONIC in the write callback. SSE events are classified by the
 * shim's own classifier (shim/core/ttft_sse.c); their JSON by cJSON. */
#ifndef TTFT_PROBE_H
#define TTFT_PROBE_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "ttft_sse.h"
#include "ttft_prom.h"
#include "ttft_record.h"

struct probe_cfg {
	const char *base;        /* http://host:port, no trailing slash */
	const char *model;       /* NULL: first of /v1/models */
	const char *prompt;
	int max_tokens;
	double temperature;
	int chat, stream, ignore_eos;
	double timeout_s;
	struct curl_slist *headers; /* user's --header lines + ours */
	int keep_text;           /* keep the generated text (tests, --text) */
	int metrics;             /* scrape base/metrics around requests */
};

/* Run n requests, at most conc at once, into records of origin
 * TTFT_ORIGIN_PROBE (finished: ttft_record_finish done). results[i].run =
 * i+1; the labels are left to the caller. Progress goes to stderr when progress != 0.
 * Returns the number that failed. */
int probe_run(const struct probe_cfg *cfg, struct ttft_record *results, int n,
	      int conc, int progress);
/* Under concurrency: the server's aggregate over the whole run (the last
 * probe_run's), when metrics were scraped; NULL otherwise. */
const struct ttft_split *probe_window(void);

/* A fitted model TTFT ≈ a + b·prompt_tokens (ttft-probe --calibrate), for
 * servers that explain nothing: under load, the excess is estimated queue. */
struct probe_fit {
	int ok;
	double a_s, b_s;       /* seconds, seconds per prompt token */
};
/* For a request the server explained nothing about: the TTFT above the fit
 * for its prompt length, as queue_s with split source "model" (an
 * estimate, labelled so). Leaves a record with a split alone. */
void probe_apply_fit(struct ttft_record *r, const struct probe_fit *fit);
/* Least squares over n points; -1 when the x values do not vary. */
int probe_fit_points(const double *x, const double *y, int n, struct probe_fit *f);
/* GET base/metrics into a truth snapshot; 0 ok, -1 (err set) otherwise. */
int probe_scrape(const struct probe_cfg *cfg, struct ttft_truth *t, char *err, size_t errlen);

/* GET base/v1/models and return the first model id (malloc'd), or NULL
 * with a message in err. */
char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen);

int64_t probe_now(void);

#endif
