/* ttft_scrape.c — see ttft_scrape.h. */
#include "ttft_scrape.h"

#include <arpa/inet.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ttft_cli.h"
#include "ttft_clock.h"
#include "ttft_fetch.h"
#include "ttft_join.h"
#include "ttft_prom.h"
#include "ttft_url.h"

/* A snapshot's record, through the log's one writer (ttft_log_put),
 * stamped with the thread that took the snapshot. */
static void put(struct ttft_log *log, uint16_t kind, int64_t t, int err, int64_t a,
		int64_t b, const char *text)
{
	ttft_log_put(log, &(struct ttft_event){
		.kind = kind, .t_ns = t, .pid = (int32_t)getpid(), .tid = (int32_t)gettid(),
		.fd = -1, .err = err, .a = a, .b = b, .text = text,
		.text_len = text ? strnlen(text, TTFT_REC_TEXT) : 0});
}

static void fail(struct ttft_scraper *s, const char *why)
{
	s->failures++;
	if (!s->first_error[0])
		snprintf(s->first_error, sizeof s->first_error, "%.250s", why);
}

/* The scrapes Prometheus took since the last call, each written as the
 * snapshot ttft-run would have taken at that moment. */
static void snapshot_prom(struct ttft_scraper *s)
{
	struct ttft_promapi_snap *sn;
	size_t n;
	char err[512];
	int64_t mono = ttft_now_ns(), real = ttft_clock_ns(CLOCK_REALTIME);
	double now = (double)real / 1e9;
	if (ttft_promapi_fetch(&s->api, s->seen_unix_s, now, &sn, &n, err, sizeof err) != 0) {
		fail(s, err);
		return;
	}
	/* Prometheus's timestamps are wall-clock: into our monotonic clock */
	int64_t off = real - mono;
	/* before the run only the latest scrape matters (the first request's
	 * "before"): the minutes of history behind it are not written */
	size_t from = s->snapshots == 0 && n ? n - 1 : 0;
	for (size_t i = from; i < n; i++) {
		if (sn[i].ts_unix_s <= s->seen_unix_s)
			continue; /* the range's first sample: written last time */
		unsigned seq = ++s->snapshots;
		int64_t t0 = (int64_t)llround(sn[i].t0_unix_s * 1e9) - off;
		int64_t t1 = (int64_t)llround(sn[i].t1_unix_s * 1e9) - off;
		int found = 0;
		for (int k = 0; k < TR__N && sn[i].ok; k++) {
			if (!((sn[i].tr.have >> k) & 1))
				continue;
			int64_t bits;
			memcpy(&bits, &sn[i].tr.v[k], sizeof bits);
			put(&s->log, TTFT_EV_METRIC, t0, 0, bits, seq, ttft_truth_name(k));
			found++;
		}
		put(&s->log, TTFT_EV_SCRAPE, t1, sn[i].ok ? 0 : -1, found, seq,
		    sn[i].ok ? NULL : "target down or no request metrics");
		if (sn[i].ts_unix_s > s->seen_unix_s)
			s->seen_unix_s = sn[i].ts_unix_s;
	}
	free(sn);
}

int ttft_scrape_interval_for(const struct ttft_truth *t)
{
	if ((t->have >> TR_QUEUE_CNT) & 1)
		return TTFT_SCRAPE_VLLM_MS;
	if ((t->have >> TR_LC_PROMPT_S) & 1)
		return TTFT_SCRAPE_LLAMACPP_MS;
	return TTFT_SCRAPE_OTHER_MS;
}

/* The log's count of slots handed out: every record any process wrote
 * (or tried to) moves it. */
static uint64_t log_reserved(const struct ttft_scraper *s)
{
	return s->log.hdr ? __atomic_load_n(&s->log.hdr->reserved, __ATOMIC_ACQUIRE) : 0;
}

/* The same values, bit for bit, as the last page written. */
static int same_page(const struct ttft_truth *a, const struct ttft_truth *b)
{
	if (a->have != b->have)
		return 0;
	for (int i = 0; i < TR__N; i++)
		if (((a->have >> i) & 1) && memcmp(&a->v[i], &b->v[i], sizeof a->v[i]))
			return 0;
	return 1;
}

/* Takes one snapshot; the page's kind of server in *kind_ms when it was
 * good (its default interval), else *kind_ms is left alone. Unless force,
 * a good page is not written when nothing could tell it from the last
 * one written (struct ttft_scraper): no window a join could use starts or
 * ends between them (docs/server-truth.md), and an idle run at 20 ms had
 * filled the default log with pages in 35 minutes. */
static void snapshot(struct ttft_scraper *s, int *kind_ms, int force)
{
	if (s->prom) {
		snapshot_prom(s);
		return;
	}
	char *body = NULL, cerr[128] = "";
	long status = 0;
	int64_t t0 = ttft_now_ns();
	CURLcode rc = ttft_fetch(s->url, NULL, 2.0, 8u << 20, &body, &status, cerr, sizeof cerr);
	int64_t t1 = ttft_now_ns();
	/* records since the last page written, the answer's moment included;
	 * the mark below counts from this read, so that a record written
	 * from here on is seen at the next page */
	uint64_t seen = log_reserved(s);
	if (seen != s->mark)
		s->active_ns = t1;
	/* why: the whole reason, for the user; its first 63 bytes go into
	 * the log's record */
	char why[200] = "";
	int found = 0;
	struct ttft_truth tr;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof why, "%s", cerr);
	} else if (status != 200) {
		snprintf(why, sizeof why, "HTTP %ld", status);
	} else {
		char reason[160];
		found = ttft_truth_page(body ? body : "", body ? strlen(body) : 0, &tr,
					reason, sizeof reason);
		if (found < 0) {
			snprintf(why, sizeof why, "%s", reason);
			found = 0;
		}
		if (found > 0 && kind_ms)
			*kind_ms = ttft_scrape_interval_for(&tr);
	}
	if (!force && !why[0] && found > 0 && s->have_last && same_page(&tr, &s->last) &&
	    seen == s->mark && t0 - s->active_ns >= TTFT_SCRAPE_QUIET_NS) {
		s->quiet++;
		free(body);
		return;
	}
	/* The server rendered the page somewhere between the GET's start and
	 * the answer's arrival: the values carry the one, the closing record
	 * the other, so that a window is only trusted for what surely lies
	 * between two pages (ttft_join.c). */
	unsigned seq = ++s->snapshots;
	uint64_t mark = seen;
	for (int i = 0; i < TR__N && found; i++) {
		if (!((tr.have >> i) & 1))
			continue;
		int64_t bits;
		memcpy(&bits, &tr.v[i], sizeof bits);
		put(&s->log, TTFT_EV_METRIC, t0, 0, bits, seq, ttft_truth_name(i));
		mark++;
	}
	if (why[0]) {
		char msg[400];
		snprintf(msg, sizeof msg, "%.180s: %s", s->url, why);
		fail(s, msg);
	}
	put(&s->log, TTFT_EV_SCRAPE, t1, why[0] ? (int)(status ? status : -1) : 0, found,
	    seq, why[0] ? why : s->target[0] ? s->target : NULL);
	/* another writer's record among these moves reserved past the mark:
	 * the next page is then written */
	s->mark = mark + 1;
	if (!why[0] && found > 0) {
		s->last = tr;
		s->have_last = 1;
	} else {
		s->have_last = 0;
	}
	free(body);
}

/* The addresses host:port resolves to, as the shim writes a peer
 * ("1.2.3.4:80", "[::1]:80"), space-separated, as many as fit in a
 * record's text; "" when it does not resolve (every request is then
 * taken as going to it, as before). */
static void resolve_target(const struct ttft_url *u, char *out, size_t outlen)
{
	out[0] = 0;
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	char port[16];
	snprintf(port, sizeof port, "%d", u->port);
	if (getaddrinfo(u->host, port, &hints, &res) != 0)
		return;
	size_t o = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char ip[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 16];
		const void *in = a->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
			: a->ai_family == AF_INET6
			? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr : NULL;
		if (!in || !inet_ntop(a->ai_family, in, ip, sizeof ip))
			continue;
		int k = snprintf(one, sizeof one, a->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
				 ip, u->port);
		if (strstr(out, one))
			continue; /* the same address for another protocol */
		if (o + (size_t)k + (o ? 1 : 0) >= outlen) {
			out[0] = 0; /* not all of them fit: not said at all */
			break;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? " " : "", one);
	}
	freeaddrinfo(res);
}

/* Wait until Prometheus has scraped the replica after now (so that the
 * last request has a snapshot after its end), the URL's wait_s at most. */
static void await_scrape(struct ttft_scraper *s)
{
	double end = (double)ttft_clock_ns(CLOCK_REALTIME) / 1e9, latest = 0;
	int64_t give_up = ttft_now_ns() + (int64_t)(s->api.wait_s * 1e9);
	char err[512] = "";
	/* Relaxed: the flag is all ttft_scraper_cut carries */
	int cut = 0;
	while (ttft_promapi_latest(&s->api, &latest, err, sizeof err) == 0 && latest <= end &&
	       ttft_now_ns() < give_up && !(cut = __atomic_load_n(&s->cut, __ATOMIC_RELAXED)))
		usleep(100000);
	if (latest <= end) {
		char msg[700];
		if (cut)
			snprintf(msg, sizeof msg, "stopped waiting for Prometheus to scrape "
				 "the replica after the run (interrupted): the last "
				 "requests have no snapshot after them");
		else
			snprintf(msg, sizeof msg, "Prometheus did not scrape the replica "
				 "within %g s after the run%s%s: the last requests have "
				 "no snapshot after them", s->api.wait_s, err[0] ? ": " : "",
				 err);
		fail(s, msg);
	}
}

/* Sleeps until the next tick on a fixed cadence (no drift) or until
 * ttft_scraper_stop(); returns 0 when stopped. */
static int wait_tick(struct ttft_scraper *s, int64_t *next)
{
	*next += (int64_t)s->interval_ms * 1000000;
	int64_t now = ttft_now_ns();
	if (*next < now) /* a slow scrape: skip the ticks it overran */
		*next = now;
	struct timespec ts = {*next / 1000000000, *next % 1000000000};
	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
		;
	int go = !s->stop;
	pthread_mutex_unlock(&s->mu);
	return go;
}

static void *loop(void *arg)
{
	struct ttft_scraper *s = arg;
	int64_t next = ttft_now_ns();
	while (wait_tick(s, &next)) {
		unsigned bad = s->failures;
		snapshot(s, s->settled ? NULL : &s->interval_ms, 0);
		s->settled = s->settled || s->failures == bad;
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
	double latest;
	if (!strncmp(url, "prom+", 5)) {
		if (ttft_promapi_parse(url, &s->api, err, errlen) != 0 ||
		    ttft_promapi_latest(&s->api, &latest, err, errlen) != 0)
			return -1;
		s->prom = 1;
		snprintf(s->url, sizeof s->url, "%s", url);
		/* the scrapes before the run: the first request's "before" */
		s->seen_unix_s = (double)ttft_clock_ns(CLOCK_REALTIME) / 1e9 - 300;
		if (interval_ms < TTFT_SCRAPE_PROM_MIN_MS)
			interval_ms = TTFT_SCRAPE_PROM_MIN_MS;
	} else if (n >= 8 && !strncmp(url + n - 8, "/metrics", 8)) {
		snprintf(s->url, sizeof s->url, "%.*s", (int)n, url);
		char e2[64];
		if (ttft_url_parse(url, &u, e2, sizeof e2) == 0)
			resolve_target(&u, s->target, sizeof s->target);
	} else if (ttft_url_parse(url, &u, err, errlen) == 0) {
		snprintf(s->url, sizeof s->url, "%s/metrics", u.base);
		resolve_target(&u, s->target, sizeof s->target);
	} else {
		return -1;
	}
	const char *why;
	if (ttft_log_open(&s->log, log_path, (uint64_t)TTFT_LOG_DEFAULT_MB << 20, &why) != 0) {
		snprintf(err, errlen, "cannot open log %s: %s", log_path, why);
		return -1;
	}
	/* asked for, or by the first good page (until then, the fallback) */
	s->interval_ms = interval_ms;
	s->settled = interval_ms > 0;
	int kind_ms = TTFT_SCRAPE_OTHER_MS;
	snapshot(s, s->settled ? NULL : &kind_ms, 1);
	if (!s->settled)
		s->interval_ms = kind_ms;
	s->settled = s->settled || s->snapshots > s->failures;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the ticks' clock */
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->running = ttft_cli_thread(&s->th, loop, s) == 0;
	return 0;
}

void ttft_scraper_cut(struct ttft_scraper *s)
{
	/* Relaxed: paired with await_scrape's load, which needs no other data */
	__atomic_store_n(&s->cut, 1, __ATOMIC_RELAXED);
}

void ttft_scraper_stop(struct ttft_scraper *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->running)
		pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	if (s->prom) {
		await_scrape(s);
	} else {
		/* The last request may have just ended: the last snapshot must
		 * come after its end and the join's skew, or it has no window. */
		struct timespec pause = {0, 2 * TTFT_JOIN_SKEW_NS};
		nanosleep(&pause, NULL);
	}
	snapshot(s, NULL, 1);
	ttft_log_close(&s->log);
}
