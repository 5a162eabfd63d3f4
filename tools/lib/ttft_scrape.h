/* ttft_scrape.h — sample a server's /metrics during a run and write
 * timestamped snapshots into the shim's log (TTFT_EV_METRIC records, then a
 * TTFT_EV_SCRAPE record that closes the snapshot). ttft-run --metrics. */
#ifndef TTFT_SCRAPE_H
#define TTFT_SCRAPE_H

#include <pthread.h>

#include "ttft_log.h"
#include "ttft_prom.h"

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
	unsigned snapshots, failures;
	char first_error[256];
};

/* url: the server (as for --url: /metrics is added) or the full /metrics
 * URL. Takes one snapshot before returning. -1 with err set when the URL
 * is not one or the log cannot be opened. */
int ttft_scraper_start(struct ttft_scraper *s, const char *url, const char *log_path,
		       int interval_ms, char *err, size_t errlen);
/* Stops the sampling, takes a last snapshot, closes the log. */
void ttft_scraper_stop(struct ttft_scraper *s);

#endif
