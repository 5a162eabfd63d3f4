/* ttft_promapi.h — a replica's /metrics as a Prometheus server stored them,
 * read through its HTTP API, for fleets where the replicas cannot be
 * scraped directly (ttft-run --metrics prom+http://…). Every sample
 * Prometheus kept of the request histograms is one snapshot of the
 * replica, at the time Prometheus scraped it: the same snapshots
 * ttft-run --metrics takes itself, only as often as Prometheus scrapes
 * (docs/server-truth.md says what that costs).
 */
#ifndef TTFT_PROMAPI_H
#define TTFT_PROMAPI_H

#include <stddef.h>

#include "ttft_prom.h"

struct ttft_promapi {
	char base[2048];      /* http[s]://host:port[/prefix], no trailing '/' */
	char matchers[1024];  /* job="…",instance="…" */
	double skew_s;        /* how far Prometheus's clock may be from ours */
	double wait_s;        /* at the end, how long to wait for one more scrape */
};

/* One scrape of the replica as Prometheus stored it: rendered between
 * t0_unix_s (the scrape's start, ms) and t1_unix_s (its end: start +
 * scrape_duration_seconds + 1 ms, widened by skew). ok 0: the target was
 * down (up = 0) or the request metrics are not on the page. */
struct ttft_promapi_snap {
	double ts_unix_s;       /* the sample's timestamp, as Prometheus keeps it */
	double t0_unix_s, t1_unix_s;
	int ok;
	struct ttft_truth tr;   /* t_ns unset: the caller's clock */
};

/* "prom+http://HOST:PORT[/PREFIX]?job=J&instance=I[&skew_ms=N][&wait_s=S]"
 * (prom+https too). job or instance (or both) must be given. -1 with a
 * message in err. */
int ttft_promapi_parse(const char *url, struct ttft_promapi *p, char *err, size_t errlen);
/* Every scrape of the target in (from, to] (unix seconds), in time order,
 * into *out (malloc'd, *n of them). -1 with a message in err: Prometheus
 * unreachable or answering an error, or the matchers selecting more than
 * one target. */
int ttft_promapi_fetch(const struct ttft_promapi *p, double from_unix_s, double to_unix_s,
		       struct ttft_promapi_snap **out, size_t *n, char *err, size_t errlen);
/* When Prometheus last scraped the target (timestamp(up{…}), unix
 * seconds). -1 with a message in err (unreachable, or no such target). */
int ttft_promapi_latest(const struct ttft_promapi *p, double *unix_s, char *err, size_t errlen);

/* How far before a scrape's start Prometheus may stamp it, moving the
 * stamp back onto the interval's grid (its --scrape.timestamp-tolerance,
 * 2 ms by default, at most 1% of the interval): a snapshot's window ends
 * that much later. */
#define TTFT_PROMAPI_ALIGN_S 0.002

#endif
