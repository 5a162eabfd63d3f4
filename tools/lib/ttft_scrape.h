/* ttft_scrape.h — sample a server's /metrics during a run and write
 * timestamped snapshots into the shim's log (TTFT_EV_METRIC records stamped
 * when the GET went out, then a TTFT_EV_SCRAPE record, stamped when the
 * answer had arrived, that closes the snapshot: the server rendered the
 * page in between, which ttft_join.c relies on). ttft-run --metrics.
 * Given a prom+http:// URL, the snapshots are the ones a Prometheus server
 * took of the replica (ttft_promapi.h), read as they arrive and once more
 * after the run, when Prometheus has scraped the replica again. */
#ifndef TTFT_SCRAPE_H
#define TTFT_SCRAPE_H

#include <pthread.h>

#include "ttft_log.h"
#include "ttft_prom.h"
#include "ttft_promapi.h"

/* How often /metrics is sampled by default (ttft-run --metrics, ttft-probe
 * under --concurrency), by the server the first page shows: as often as
 * keeps the server's own cost of answering under 1% of one core, measured
 * by bench/scrape_cost.sh (docs/server-truth.md). */
#define TTFT_SCRAPE_VLLM_MS 200    /* its page costs ~1.5 ms of Python */
#define TTFT_SCRAPE_LLAMACPP_MS 20 /* ~0.12 ms of CPU */
#define TTFT_SCRAPE_OTHER_MS 50    /* neither: nothing to join anyway */

/* The default interval for the server that gave this page. */
int ttft_scrape_interval_for(const struct ttft_truth *t);

struct ttft_scraper {
	char url[2100];
	int interval_ms;   /* as asked, else by the first good page */
	int settled;       /* interval_ms is final */
	struct ttft_log log;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the sampler early to stop */
	int stop;          /* under mu */
	int running;
	unsigned snapshots, failures; /* written (each its seq), failed */
	unsigned quiet;    /* taken and not written: nothing had changed */
	/* a page is not written when it equals the last one written, no
	 * record has come into the log since that one (mark: the log's
	 * reserved count after it), and the last record that did came
	 * TTFT_SCRAPE_QUIET_NS before (active_ns) */
	struct ttft_truth last;
	int have_last;
	uint64_t mark;
	int64_t active_ns;
	char target[TTFT_REC_TEXT]; /* the server's addresses, "1.2.3.4:80
	                               [::1]:80", written on every good page's
	                               record ("" for Prometheus's API) */
	char first_error[256];
	/* prom+http: */
	int prom;
	struct ttft_promapi api;
	double seen_unix_s;  /* the latest scrape already written */
	int cut;             /* atomic: 1 ends the wait for Prometheus (Ctrl-C) */
};

/* How long after the log's last record other than the scraper's own
 * every page is written, changed or not: a window must be able to close
 * after a request's end plus its skew (5 ms + the round trip). */
#define TTFT_SCRAPE_QUIET_NS 1000000000LL

/* How often Prometheus is asked for new samples, at least (ms). */
#define TTFT_SCRAPE_PROM_MIN_MS 500

/* url: the server (as for --url: /metrics is added), the full /metrics
 * URL, or prom+http://PROMETHEUS?job=…&instance=…; interval_ms 0: by the
 * server (ttft_scrape_interval_for). Takes one snapshot before returning.
 * -1 with err set when the URL is not one, Prometheus has no such target,
 * or the log cannot be opened. */
int ttft_scraper_start(struct ttft_scraper *s, const char *url, const char *log_path,
		       int interval_ms, char *err, size_t errlen);
/* Stops the sampling, takes a last snapshot (prom+http: waits, the URL's
 * wait_s at most, for Prometheus to scrape the replica after this moment),
 * closes the log. */
void ttft_scraper_stop(struct ttft_scraper *s);
/* From a signal handler (async-signal-safe): ttft_scraper_stop waits no
 * more for Prometheus (within 0.1 s, or the query under way); the last
 * snapshot is still taken. */
void ttft_scraper_cut(struct ttft_scraper *s);

#endif
