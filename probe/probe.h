/* probe.h — the probe's request engine, shared by ttft-probe and
 * ttft-cold: one thread, libcurl's multi interface, any number of
 * concurrent streams, each timed with CLOCK_MONOTONIC in the write
 * callback. SSE events are classified by the shim's own classifier
 * (shim/core/ttft_sse.c); their JSON by cJSON. A run's state lives in its
 * struct probe_run, nothing in globals; errors come back with a message,
 * nothing is printed. */
#ifndef TTFT_PROBE_H
#define TTFT_PROBE_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ttft_sse.h"
#include "ttft_join.h"
#include "ttft_prom.h"
#include "ttft_record.h"

struct probe_cfg {
	const char *base;        /* the server, as ttft_url_parse gives it */
	const char *model;       /* NULL: first of /v1/models */
	const char *prompt;
	int max_tokens;
	double temperature;
	int chat, stream, ignore_eos;
	double timeout_s;
	struct curl_slist *headers; /* user's --header lines + ours */
	int keep_text;           /* keep the generated text (tests, --text) */
	int metrics;             /* scrape base/metrics around requests */
	const char *const *prompts; /* prompts[i] for probe_run's request i
				     * (ttft-cold: one per run), or NULL:
				     * prompt for every request */
	int no_prompt_cache;     /* llama.cpp: "cache_prompt": false, so that
				  * the slot reuses none of its cached prompt */
	/* set (by a signal handler) to stop: requests in flight end at once
	 * with an "interrupted" error (and .interrupted set), the rest are
	 * never started (t_start 0) */
	const volatile sig_atomic_t *stop;
	int metrics_interval_ms; /* under concurrency: sample /metrics this
	                            often (0: by the server,
	                            ttft_scrape_interval_for) */
	int user_traceparent;    /* the user's headers carry a traceparent:
	                            kept, not replaced by one per request */
};

/* One run of requests. Set the inputs, call probe_run. */
struct probe_run {
	/* in */
	const struct probe_cfg *cfg;
	int conc;                /* at most this many at once */
	/* called after each request finishes (may be NULL) */
	void (*progress)(void *arg, const struct ttft_record *r, int done, int n);
	void *progress_arg;
	/* out: under concurrency with metrics, the server's aggregate over
	 * the whole run, and the samples of /metrics taken while it ran (each
	 * request gets the window that provably holds it alone, ttft_join.h) */
	int have_window;
	struct ttft_server_split window;
	int scrapes, scrape_failures;
	/* the run's own state */
	void (*mark)(int fd, int code); /* the shim's ttft_mark when preloaded */
	int *port_fd;            /* local port → the connection's fd + 1 */
};

/* Run n requests into res (overwritten, origin TTFT_ORIGIN_PROBE,
 * finished: ttft_record_finish done; res[i].run = i + 1, labels are left
 * to the caller). Returns how many failed (each record holds its error;
 * interrupted ones included; with cfg->stop set, the ones never started
 * keep t_start 0),
 * or -1 with a message in err when the run itself could not go on (out of
 * memory, libcurl could not start); records already finished keep their
 * results. */
int probe_run(struct probe_run *run, struct ttft_record *res, int n, char *err,
	      size_t errlen);

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
 * with a message in err that says what to do (a plain-HTTP server behind
 * an https:// URL is found in about 3 s, not after the whole timeout). */
char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen);

/* A --header line checked before any request: "Name: value", the name an
 * HTTP token (letters, digits, !#$%&'*+-.^_`|~), no line break; a
 * traceparent one W3C-valid, or blank (curl's "send none"). 0, with
 * *traceparent set when it names one (its user_traceparent), or -1 with
 * "bad value '…' for --header: …" in err. */
int probe_header_check(const char *h, int *traceparent, char *err, size_t errlen);
/* For an https:// base: does the same host:port answer plain HTTP? Then
 * plain gets the http:// base. A plain server never completes a TLS
 * handshake, so a request to it waits out its whole timeout. */
int probe_plain_http(const char *base, char *plain, size_t n);
/* For an https:// base (with --model, so /v1/models is not asked for
 * otherwise): -1 with the message when the server speaks plain HTTP. */
int probe_check_tls(const struct probe_cfg *cfg, char *err, size_t errlen);

#endif
