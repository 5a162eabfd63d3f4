/* ttft_scrape.h — sample a server's /metrics during a run and write
 * timestamped snapshots into the shim's log (TTFT_EV_METRIC records, then a
 * TTFT_EV_SCRAPE record that closes the snapshot). ttft-run --metrics. */
#ifndef TTFT_SCRAPE_H
#define TTFT_SCRAPE_H

#include <pthread.h>

#include "ttft_log.h"

/* How often /metrics is sampled by default (ttft-run --metrics, ttft-probe
 * under --concurrency): docs/server-truth.md says why this often. */
#define TTFT_SCRAPE_INTERVAL_MS 50

struct ttft_scraper {
	char url[2100];
	int interval_ms;
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
