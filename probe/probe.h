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
#include "ttft_join.h"
#include "ttft_prom.h"

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
	int metrics_interval_ms; /* under concurrency: scrape this often */
	int user_traceparent;    /* the user's --header sets traceparent */
};

struct probe_result {
	int run;                 /* 1-based */
	const char *label;       /* "cold", "warm", or "run" */
	int ok;
	char error[512];
	long http_status;
	int64_t t_start, t_first, t_end;  /* CLOCK_MONOTONIC ns */
	int64_t *tok;            /* token event times */
	int ntok, tokcap;
	long usage_tokens;       /* -1: no usage object */
	long prompt_tokens;      /* usage.prompt_tokens, -1 unknown */
	int done;                /* [DONE] seen */
	double dns_s, connect_s, pretransfer_s, starttransfer_s;
	/* llama.cpp's final-chunk timings, NAN when absent */
	double prompt_ms, predicted_ms, cache_n;
	/* the request as the join sees it (times from the callbacks), and the
	 * server's split: llama.cpp's timings, else /metrics (ttft_join.h) */
	struct ttft_join_req jr;
	struct ttft_join_out srv;
	double network_s;        /* TCP_INFO round-trip time, NAN if unknown */
	char trace_id[33];       /* the W3C traceparent's trace id it was sent with */
	char *text;              /* generated text when cfg.keep_text */
	size_t textlen, textcap;
};

/* Derived numbers, seconds; NAN when not applicable. */
double probe_ttft_s(const struct probe_result *r);
double probe_e2e_s(const struct probe_result *r);
long probe_tokens(const struct probe_result *r);
void probe_itl(const struct probe_result *r, double *p50, double *p99);

/* Run n requests, at most conc at once. results[i].run = i+1; the labels
 * are left to the caller. Progress goes to stderr when progress != 0.
 * Returns the number that failed. */
int probe_run(const struct probe_cfg *cfg, struct probe_result *results, int n,
	      int conc, int progress);
/* Under concurrency: the server's aggregate over the whole run (the last
 * probe_run's), when metrics were scraped; NULL otherwise. */
const struct ttft_split *probe_window(void);
/* Under concurrency: how many /metrics scrapes ran during the last
 * probe_run, and how many of them failed. */
void probe_scrapes(int *taken, int *failed);

/* The split of one request into queue / prefill / other, with its source:
 * llama.cpp's timings first, then the /metrics deltas. NAN where unknown. */
struct probe_split {
	double queue_s, prefill_s, decode_s, hit_tokens, server_other_s, server_ttft_s;
	const char *source;
	const char *note;
};
/* A fitted model TTFT ≈ a + b·prompt_tokens (ttft-probe --calibrate), for
 * servers that explain nothing: under load, the excess is estimated queue. */
struct probe_fit {
	int ok;
	double a_s, b_s;       /* seconds, seconds per prompt token */
};
void probe_split_of(const struct probe_result *r, const struct probe_fit *fit,
		    struct probe_split *s);
/* Least squares over n points; -1 when the x values do not vary. */
int probe_fit_points(const double *x, const double *y, int n, struct probe_fit *f);
/* GET base/metrics into a truth snapshot; 0 ok, -1 (err set) otherwise. */
int probe_scrape(const struct probe_cfg *cfg, struct ttft_truth *t, char *err, size_t errlen);
void probe_result_free(struct probe_result *r);

/* GET base/v1/models and return the first model id (malloc'd), or NULL
 * with a message in err. */
char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen);

int64_t probe_now(void);

#endif
