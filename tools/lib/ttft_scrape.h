/* ttft_scrape.h — sample a server's /metrics during a run and write
 * timestamped snapshots into the shim's log (TTFT_EV_METRIC records, then a
 * TTFT_EV_SCRAPE record that closes the snapshot). ttft-run --metrics.
 * Given a prom+http:// URL, the snapshots are the ones a Prometheus server
 * took of the replica (ttft_promapi.h), read as they arrive and once more
 * after the run, when Prometheus has scraped the replica again. */
#ifndef TTFT_SCRAPE_H
#define TTFT_SCRAPE_H

#include <pthread.h>

#include "ttft_log.h"
#include "ttft_promapi.h"

struct ttft_scraper {
	char url[2100];
	int interval_ms;
	struct ttft_log log;
	pthread_t th;
	int stop;          /* atomic: set by ttft_scraper_stop */
	int running;
	unsigned snapshots, failures;
	char first_error[256];
	/* prom+http: */
	int prom;
	struct ttft_promapi api;
	double seen_unix_s;  /* the latest scrape already written */
};

/* How often Prometheus is asked for new samples, at least (ms). */
#define TTFT_SCRAPE_PROM_MIN_MS 500

/* url: the server (as for --url: /metrics is added), the full /metrics
 * URL, or prom+http://PROMETHEUS?job=…&instance=… Takes one snapshot
 * before returning. -1 with err set when the URL is not one, Prometheus
 * has no such target, or the log cannot be opened. */
int ttft_scraper_start(struct ttft_scraper *s, const char *url, const char *log_path,
		       int interval_ms, char *err, size_t errlen);
/* Stops the sampling, takes a last snapshot (prom+http: waits, the URL's
 * wait_s at most, for Prometheus to scrape the replica after this moment),
 * closes the log. */
void ttft_scraper_stop(struct ttft_scraper *s);

#endif
