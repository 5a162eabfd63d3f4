/* ttft_scrape.c — see ttft_scrape.h. */
#include "ttft_scrape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttft_clock.h"
#include "ttft_fetch.h"
#include "ttft_prom.h"
#include "ttft_url.h"

static void put(struct ttft_log *log, uint16_t kind, int64_t t, int err, int64_t a,
		int64_t b, const char *text)
{
	struct ttft_rec *r = ttft_log_reserve(log);
	if (!r)
		return;
	r->kind = kind;
	r->t_ns = t;
	r->pid = (int32_t)getpid();
	r->fd = -1;
	r->err = err;
	r->a = a;
	r->b = b;
	if (text) {
		size_t n = strnlen(text, sizeof r->text);
		memcpy(r->text, text, n); /* NUL-padded, not terminated (ABI) */
	}
	ttft_log_publish(r);
}

static void snapshot(struct ttft_scraper *s)
{
	char *body = NULL, cerr[128] = "";
	long status = 0;
	/* The server made the page somewhere inside the GET. Stamped with
	 * the GET's start, a snapshot taken "after" a request (at or after its
	 * end) surely holds it: stamped later, a slow GET that began before the
	 * request ended could hold a page made before it and make the window
	 * look empty. */
	int64_t t = ttft_now_ns();
	CURLcode rc = ttft_fetch(s->url, NULL, 2.0, 8u << 20, &body, &status, cerr, sizeof cerr);
	unsigned seq = ++s->snapshots;
	char why[64] = "";
	int found = 0;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof why, "%.60s", cerr);
	} else if (status != 200) {
		snprintf(why, sizeof why, "HTTP %ld", status);
	} else {
		struct ttft_truth tr;
		char reason[160];
		found = ttft_truth_page(body ? body : "", body ? strlen(body) : 0, &tr,
					reason, sizeof reason);
		if (found < 0) {
			snprintf(why, sizeof why, "%.60s", reason);
			found = 0;
		}
		for (int i = 0; i < TR__N && found; i++) {
			if (!((tr.have >> i) & 1))
				continue;
			int64_t bits;
			memcpy(&bits, &tr.v[i], sizeof bits);
			put(&s->log, TTFT_EV_METRIC, t, 0, bits, seq, ttft_truth_name(i));
		}

	}
	if (why[0]) {
		s->failures++;
		if (!s->first_error[0])
			snprintf(s->first_error, sizeof s->first_error, "%.180s: %s", s->url, why);
	}
	put(&s->log, TTFT_EV_SCRAPE, t, why[0] ? (int)(status ? status : -1) : 0, found,
	    seq, why[0] ? why : NULL);
	free(body);
}

static void *loop(void *arg)
{
	struct ttft_scraper *s = arg;
	/* Relaxed: a flag, ordering nothing; the join publishes the rest. */
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		usleep((useconds_t)s->interval_ms * 1000);
		if (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			snapshot(s);
	}
	return NULL;
}

int ttft_scraper_start(struct ttft_scraper *s, const char *url, const char *log_path,
		       int interval_ms, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	struct ttft_url u;
	if (n >= 8 && !strncmp(url + n - 8, "/metrics", 8)) {
		snprintf(s->url, sizeof s->url, "%.*s", (int)n, url);
	} else if (ttft_url_parse(url, &u, err, errlen) == 0) {
		snprintf(s->url, sizeof s->url, "%s/metrics", u.base);
	} else {
		return -1;
	}
	s->interval_ms = interval_ms > 0 ? interval_ms : 50;
	const char *why;
	if (ttft_log_open(&s->log, log_path, (uint64_t)TTFT_LOG_DEFAULT_MB << 20, &why) != 0) {
		snprintf(err, errlen, "cannot open log %s: %s", log_path, why);
		return -1;
	}
	snapshot(s);
	s->running = pthread_create(&s->th, NULL, loop, s) == 0;
	return 0;
}

void ttft_scraper_stop(struct ttft_scraper *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	if (s->running)
		pthread_join(s->th, NULL);
	snapshot(s);
	ttft_log_close(&s->log);
}
