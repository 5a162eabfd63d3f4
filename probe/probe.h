/* probe.h — ttft-probe's request engine: one thread, libcurl's multi
 * interface, any number of concurrent streams, each timed with
 * CLOCK_MONOTONIC in the write callback. SSE events are classified by the
 * shim's own classifier (shim/core/ttft_sse.c); their JSON by cJSON. */
#ifndef TTFT_PROBE_H
#define TTFT_PROBE_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ttft_sse.h"
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
	const char *const *prompts; /* one per run (prompts[run - 1]); NULL: prompt */
	/* set (by a signal handler) to stop: requests in flight end at once
	 * with an "interrupted" error, the rest are never started (t_start 0) */
	const volatile sig_atomic_t *stop;
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
	/* the server's split from /metrics deltas around this request */
	double m_queue_s, m_prefill_s, m_decode_s, m_hit_tokens, m_server_ttft_s;
	const char *m_source;    /* NULL when there is no per-request split */
	char m_note[160];        /* why not, when not */
	double network_s;        /* TCP_INFO round-trip time, NAN if unknown */
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
 * Returns the number that failed (interrupted ones included). */
int probe_run(const struct probe_cfg *cfg, struct probe_result *results, int n,
	      int conc, int progress);
/* Under concurrency: the server's aggregate over the whole run (the last
 * probe_run's), when metrics were scraped; NULL otherwise. */
const struct ttft_split *probe_window(void);

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
 * with a message in err that says what to do (a plain-HTTP server behind
 * an https:// URL is found in about 3 s, not after the whole timeout). */
char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen);
/* For an https:// base: does the same host:port answer plain HTTP? Then
 * plain gets the http:// base. A plain server never completes a TLS
 * handshake, so a request to it waits out its whole timeout. */
int probe_plain_http(const char *base, char *plain, size_t n);
/* For an https:// base (with --model, so /v1/models is not asked for
 * otherwise): -1 with the message when the server speaks plain HTTP. */
int probe_check_tls(const struct probe_cfg *cfg, char *err, size_t errlen);

int64_t probe_now(void);

#endif
