/* sweep.h — ttft-sweep's experiments: prefix caching (hit vs miss TTFT
 * over prefix lengths) and KV scaling (TTFT and queueing over concurrency ×
 * prompt length × the server's capacity flags), shared by the flow
 * (ttft-sweep.c), the experiments (sweep_prefix.c, sweep_kv.c), the
 * server side (sweep_server.c) and the outputs (sweep_report.c). */
#ifndef TTFT_SWEEP_H
#define TTFT_SWEEP_H

#include <pthread.h>

#include "cold_server.h"
#include "probe.h"
#include "ttft_json.h"
#include "ttft_record.h"

#define SWEEP_MAX_LIST 16

enum sweep_off { OFF_REQUEST, OFF_BUST, OFF_FLAGS };

/* What became of a point: run whole; begun and cut by the sweep's stop
 * (Ctrl-C, SIGTERM: nothing is judged from it); never begun; begun and
 * left when a request failed and the experiment ended there. */
enum sweep_status { SWEEP_COMPLETE, SWEEP_INTERRUPTED, SWEEP_NOT_RUN, SWEEP_INCOMPLETE };
const char *sweep_status_name(enum sweep_status st);

struct sweep_config {
	char label[64];
	const char *flags;        /* appended to --server (may be "") */
};

struct sweep_opts {
	const char *url, *server, *kind;
	char host[256];           /* of --url */
	int port;
	struct probe_cfg probe;   /* base, model, headers, max tokens, timeout */
	int prefix, kv;           /* the experiments asked for */
	int prefix_tokens[SWEEP_MAX_LIST], nprefix, prefix_requests;
	enum sweep_off cache_off;
	int cache_off_given;
	const char *off_flags, *on_flags;
	int conc[SWEEP_MAX_LIST], nconc;
	int prompt_tokens[SWEEP_MAX_LIST], nprompt;
	int kv_requests;          /* per point; 0: 3 × concurrency, at least 4 */
	struct sweep_config cfgs[SWEEP_MAX_LIST];
	int ncfg;
	double ready_timeout, stop_timeout;
	const char *report, *json, *log_dir;
	const char *server_log;   /* a running server's start-up log (capacity lines) */
	unsigned run_id;          /* makes this run's prompts its own */
	void (*say)(const char *line); /* progress, one line at a time (main's) */
};

/* Progress through o->say, when set. */
void sweep_say(const struct sweep_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What the server states about its capacity, and where it said it. NAN
 * (or 0 for counts) where it says nothing. */
struct sweep_capacity {
	double kv_tokens;         /* vLLM "GPU KV cache size"; llama.cpp KV cells */
	int kv_engines;           /* vLLM: the processes that logged a "GPU KV cache
				   * size", data-parallel engines (EngineCore_DP0,
				   * _DP1), each its own cache; with more than one,
				   * kv_tokens is the smallest engine's, not the
				   * server's whole */
	double max_conc, max_conc_len; /* vLLM "Maximum concurrency for L tokens per request: X" */
	int slots;                /* llama.cpp slots (-np) */
	int slot_ctx;             /* llama.cpp context of one slot */
	int unified;              /* llama.cpp: one KV pool shared by all slots */
	int max_num_seqs;         /* vLLM --max-num-seqs from the command, 0: not given */
	int block;                /* vLLM KV block size in tokens (16 unless told) */
	int starts;               /* starts the log holds (the pattern file's restart
				   * rows): the capacity is the last one's, an earlier,
				   * dead start's lines not read; 0: not looked for
				   * (no log, kind unknown, no pattern file: source
				   * says which) */
	char source[400];         /* "/props: …; log: …" */
};

/* A server as the experiments use it: managed (started by us from a
 * command line, stopped after) or already running. */
struct sweep_srv {
	const char *kind;         /* "llamacpp", "vllm" or "unknown" */
	int managed;
	char cmd[8192];
	char label[64];
	struct cold_server cs;
	double ready_s;           /* spawn → /health 200 */
	struct sweep_capacity cap;
	int has_metrics;          /* /metrics answers with a known page */
	char host[256];           /* where it listens (--url) */
	int port;
	char error[1024];
};

/* Start (or, when cmd is NULL, just look at) the server at o->url;
 * ready = port open and /health 200. 0, or -1 with s->error set. */
int sweep_srv_open(struct sweep_srv *s, const struct sweep_opts *o, const char *cmd,
		   const char *label);
void sweep_srv_close(struct sweep_srv *s, const struct sweep_opts *o);
/* A started server that has exited (1, why it ended in why); 0 while it
 * runs, and for a server not started by ttft-sweep. after_failures: the
 * point before failed requests, so the server may be dying: where its
 * port refuses connections, its exit is waited for (up to
 * SWEEP_EXIT_WAIT_S); where it still accepts them, its failures were its
 * answers, and nothing is waited for. */
#define SWEEP_EXIT_WAIT_S 10.0
int sweep_srv_gone(struct sweep_srv *s, int after_failures, char *why, size_t n);
/* Set by the signal handler to the signal (SIGINT, SIGTERM): every wait
 * gives up, the probe's requests in flight end marked interrupted
 * (o->probe.stop points here). */
extern volatile sig_atomic_t sweep_stop;
/* started servers' logs (--log-dir) whose writing failed (a full disk) */
extern int sweep_logs_unwritten;
/* The managed server's process group, for a second signal's SIGKILL. */
extern volatile pid_t sweep_pgid;

/* The server's token count of text (vLLM and llama.cpp POST /tokenize;
 * else usage.prompt_tokens of a one-token completion). -1 with err. */
long sweep_count_tokens(const struct probe_cfg *cfg, const char *kind, const char *text,
			const char **how, char *err, size_t errlen);
/* Text of about `tokens` tokens (measured, written to *got), beginning
 * with lead. malloc'd; NULL with err. */
char *sweep_text_of(const struct probe_cfg *cfg, const char *kind, const char *lead,
		    long tokens, long *got, const char **how, char *err, size_t errlen);

/* The server's own view while a point runs: /metrics (and llama.cpp's
 * /slots) sampled every interval. Maxima over the samples; NAN where the
 * server does not report the value. */
struct sweep_state {
	double running_max, waiting_max, kv_usage_max_pct;
	const char *kv_usage_source;  /* which metric, or NULL */
	int samples, failures;
};
struct sweep_sampler {
	const struct probe_cfg *cfg;
	const char *kind;
	int use_metrics, use_slots;
	double kv_cells;          /* the KV pool, for /slots' usage (0: unknown) */
	int stop;                 /* atomic: set by sweep_sampler_stop */
	pthread_t th;
	struct sweep_state st;
};
void sweep_sampler_start(struct sweep_sampler *s);
void sweep_sampler_stop(struct sweep_sampler *s);

/* --- both experiments --- */
/* One request: the probe's record, and its queue — the record's own
 * (the server's split), else what a point can derive for it (llama.cpp:
 * request sent → response headers), else NAN. */
struct sweep_req {
	struct ttft_record rec;
	double queue_s;
	const char *queue_source;
};

/* n requests, at most conc at once, prompts[i] for request i; into out
 * (records owned by out, freed by sweep_reqs_free). t0: when the run
 * began. Returns how many failed (the first error in err; the ones the
 * stop cut in flight are not failures: *cut counts them), -1 when the run
 * could not go on (err says why). *started: the requests begun (all n
 * unless the sweep was stopped; the rest are out's tail, never sent).
 * window: the server's aggregate over the run under concurrency, when it
 * has /metrics. */
int sweep_requests(const struct probe_cfg *cfg, int conc, char **prompts, int n,
		   struct sweep_req *out, int64_t *t0, struct ttft_server_split *window,
		   int *have_window, int *started, int *cut, char *err, size_t errlen);
void sweep_reqs_free(struct sweep_req *q, int n);

/* --- prefix caching --- */
struct sweep_prefix_point {
	long want_tokens, prefix_tokens;   /* asked, measured */
	char *prefix;                      /* its text */
	struct sweep_req *miss, *hit;
	int nmiss, nhit;
	int miss_served, hit_served;       /* the TTFTs the percentiles are of */
	/* the sweep was stopped: requests planned, begun and cut in flight
	 * (nmiss / nhit hold the ones begun) */
	int planned_miss, planned_hit, cut, primed;
	enum sweep_status status;          /* sweep_prefix_finish's */
	struct sweep_req prime;
	int64_t t0;
	double miss_p50, miss_p90, hit_p50, hit_p90;       /* seconds */
	double hit_tokens_hit, hit_tokens_miss;             /* medians, server's */
	double prefill_miss, prefill_hit;                   /* medians, server's */
	double saved_s, saved_per_token_s;
	int pays;
	const char *pays_why;              /* not judged by the times: why */
};

struct sweep_prefix {
	int ran;
	char server_label[64];
	const char *miss_how;      /* how misses were made */
	const char *tokens_how;    /* how lengths were measured */
	const char *hits_how;      /* where hit tokens come from */
	struct sweep_prefix_point pts[SWEEP_MAX_LIST];
	int npts;
	int from_tokens;           /* caching pays from this prefix length up; 0: none */
	/* the lengths disagree: the longest judged length that paid below
	 * from_tokens (any, when it is 0), and the shortest judged one above
	 * it that did not; 0: none (it stops paying once, or never pays) */
	int paid_below, unpaid_above;
	double slope_s_per_token, intercept_s; /* saved = a + b × cached tokens */
	int fit_ok;
	double jitter_s;           /* the median (p90 − p50) of all series */
	char error[512];
};
/* In three steps, because a cache-off server configuration and the
 * cache-on one cannot listen on the same port at once: prepare the texts
 * (lengths measured by srv's tokenizer), run the misses on the cache-off
 * server (or with misses forced per request), run the prime and the hits
 * on the cache-on server; then the numbers. */
int sweep_prefix_prepare(const struct sweep_opts *o, struct sweep_srv *srv,
			 struct sweep_prefix *out);
int sweep_prefix_misses(const struct sweep_opts *o, struct sweep_srv *srv,
			struct sweep_prefix *out);
int sweep_prefix_hits(const struct sweep_opts *o, struct sweep_srv *srv, struct sweep_prefix *out);
void sweep_prefix_finish(struct sweep_prefix *out);
void sweep_prefix_free(struct sweep_prefix *out);

/* --- KV scaling --- */
struct sweep_kv_point {
	int conc, nreq, failed;   /* nreq: begun; failed: not counting cut */
	enum sweep_status status; /* SWEEP_INTERRUPTED: its figures are NAN */
	int planned, cut;         /* requests it was to make; cut in flight */
	int64_t t0;               /* when the point's first request began */
	char error[512];          /* the first failure, when one failed */
	long prompt_tokens;       /* median usage.prompt_tokens */
	struct sweep_req *req;
	/* p90 / p99 NAN below 10 / 100 values (ttft_quantile_min_n) */
	double ttft_p50, ttft_p90, ttft_p99, queue_share_p50, queue_share_p90, queue_p50;
	int ttft_n, share_n;      /* the values those are of */
	const char *queue_source;
	int queue_known;          /* requests with a queue value */
	double queue_share_all;   /* Σ queue / Σ TTFT over the point */
	const char *share_source; /* the requests' own queue, or vLLM's sums */
	double wall_s, out_tok_s, req_s;
	int tok_events;           /* requests whose tokens are token events
	                             counted (no usage), or not known: out_tok_s
	                             at least */
	struct sweep_state state;
};
struct sweep_kv_series {      /* one configuration × one prompt length */
	char cfg[64];
	long want_tokens;
	long per_request_tokens;  /* prompt + max_tokens */
	struct sweep_capacity cap;
	const char *kind;
	struct sweep_kv_point pts[SWEEP_MAX_LIST];
	int npts;
	int predicted_knee;       /* concurrency served without waiting; 0: unknown;
				   * one engine's when cap.kv_engines > 1 */
	char predicted_why[300];
	int measured_knee;        /* highest swept C without waiting; 0: waited at once */
	int waited_from;          /* lowest swept C with waiting; 0: none waited */
	int failed_from;          /* lowest swept C where a request failed (0:
				   * none): no knee is judged there or above */
	int interrupted_at;       /* the C the sweep was stopped in (0: none):
				   * likewise */
	int cut_before;           /* the first swept C not begun because the
				   * sweep was stopped between two points (0:
				   * none): no knee is judged from the series
				   * unless a request was seen waiting below */
	const char *criterion;    /* how the measured knee was told (sweep_kv_knee) */
	const char *waited_by;    /* how waiting was told at waited_from: the
				   * gauge, or the criterion a point its
				   * samples did not see whole fell back to */
	char explain[600];
};
struct sweep_kv {
	int ran;
	struct sweep_kv_series s[SWEEP_MAX_LIST * 4];
	int ns;
	char error[512];
};
int sweep_kv_run(const struct sweep_opts *o, struct sweep_srv *srv, struct sweep_kv *out);
/* The knee from the measured points (fills measured_knee and criterion)
 * and the prediction from the capacity (predicted_knee, predicted_why). */
void sweep_kv_knee(struct sweep_kv_series *s, int max_tokens);
/* Whether predicted_knee is one data-parallel engine's (vLLM: several
 * engines logged their own KV cache), not the whole server's. */
int sweep_kv_per_engine(const struct sweep_kv_series *s);
/* Whether measured_knee means anything: not where the lowest concurrency
 * failed, nor where the sweep was cut before any request waited. */
int sweep_kv_knee_known(const struct sweep_kv_series *s);

/* --- outputs --- */
struct sweep_run {
	const struct sweep_opts *o;
	int stop_sig;             /* the signal that stopped the sweep, 0: none */
	const char *kind, *model;
	struct sweep_prefix prefix;
	struct sweep_kv kv;
	char date[64];
};
/* Insert (or replace) the "Prefix caching" and "KV scaling" sections in
 * the Markdown report, write their charts beside it, then the HTML. */
int sweep_write_report(const struct sweep_run *r, const char *path, char *err, size_t errlen);
/* The --json document and a newline into j. */
void sweep_json(struct ttft_json *j, const struct sweep_run *r);

/* Percentile of the finite values (seconds), NAN if none. */
double sweep_pct(const double *v, int n, double q);

#endif
