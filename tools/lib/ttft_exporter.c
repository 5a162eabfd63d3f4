/* ttft_exporter.c — see ttft_exporter.h. */
#include "ttft_exporter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ttft_cli.h"
#include "ttft_clock.h"

static void on_request(void *ctx, const struct ttft_record *r, const char *peer, int complete,
		       double unix_s)
{
	struct ttft_exporter *e = ctx;
	/* every bucket the request lands in gets an exemplar linking to its trace */
	if (ttft_export_request(&e->x, r, peer, complete, ttft_export_trace_id(r), unix_s) != 0 &&
	    !e->fail[0])
		snprintf(e->fail, sizeof e->fail, "out of memory counting a request");
}

static void on_desync(void *ctx, const char *peer, int reason)
{
	struct ttft_exporter *e = ctx;
	if (ttft_export_desync(&e->x, peer, reason) != 0 && !e->fail[0])
		snprintf(e->fail, sizeof e->fail, "out of memory counting a desync");
}

static void on_connect_failed(void *ctx, const char *peer, int err)
{
	struct ttft_exporter *e = ctx;
	(void)err;
	if (ttft_export_connect_failed(&e->x, peer) != 0 && !e->fail[0])
		snprintf(e->fail, sizeof e->fail, "out of memory counting a connect");
}

/* A log replaced under its path: said once, with what is waited for (a
 * review found the switch silent, and the old log's requests in flight
 * counted incomplete at once though they may end a moment later). */
static void on_replaced(void *ctx, size_t in_flight)
{
	struct ttft_exporter *e = ctx;
	if (!in_flight)
		fprintf(stderr, "ttftshim exporter: the log %s was replaced by a new file: "
			"reading the new one (none of the old one's requests was in flight)\n",
			e->follow.path);
	else
		fprintf(stderr, "ttftshim exporter: the log %s was replaced by a new file: "
			"reading the new one, and the old one on while its %zu request%s in "
			"flight may end (%.10g s without a record at most)\n", e->follow.path,
			in_flight, in_flight == 1 ? "" : "s",
			(double)e->follow.replaced_wait_ns / 1e9);
}

static void on_old_done(void *ctx, int why, size_t in_flight, size_t ended, size_t incomplete)
{
	struct ttft_exporter *e = ctx;
	char b[96];
	const char *because = "the exporter stopped";
	if (why == TTFT_FOLLOW_OLD_ENDED)
		because = "nothing of it in flight any more";
	else if (why == TTFT_FOLLOW_OLD_UNREADABLE)
		because = "it could not be read any more";
	else if (why == TTFT_FOLLOW_OLD_QUIET) {
		snprintf(b, sizeof b, "no record for %.10g s: nothing left to end them",
			 (double)e->follow.replaced_wait_ns / 1e9);
		because = b;
	} else if (why == TTFT_FOLLOW_OLD_PUSHED) {
		snprintf(b, sizeof b, "replaced again: at most %d old logs are read on",
			 TTFT_FOLLOW_OLD_MAX);
		because = b;
	}
	if (!in_flight && !ended && !incomplete)
		return; /* nothing was waited for: said with the switch */
	fprintf(stderr, "ttftshim exporter: done with the replaced log %s (%s): %zu of its "
		"requests ended after the switch, %zu counted incomplete\n", e->follow.path,
		because, ended, incomplete);
}

/* A replaced log moved back under its path, while still read on: read on
 * from where it was (read from its start, its requests were counted
 * twice). */
static void on_returned(void *ctx)
{
	struct ttft_exporter *e = ctx;
	fprintf(stderr, "ttftshim exporter: the log %s is again the file read before it was "
		"replaced (moved back under its path): reading it on from where it was, nothing "
		"of it counted again\n", e->follow.path);
}

/* A log let go that is at the path again (moved back, or a copy put
 * back): read from its start, its requests counted again; said, since
 * the counters cannot be taken back. */
static void on_reread(void *ctx, uint64_t handed)
{
	struct ttft_exporter *e = ctx;
	fprintf(stderr, "ttftshim exporter: the log %s has the header or the records of a log "
		"read before (moved back under its path once no longer followed, a copy put back, "
		"or only its header overwritten): read "
		"again from its start, its %llu request%s counted again in the totals\n",
		e->follow.path,
		(unsigned long long)handed, handed == 1 ? "" : "s");
}

/* A log cut under its writers and whole again, the same log: read on
 * from where it was (before, the exporter stayed down for good, its
 * ttftshim_log_up 0, a review found). What the cut lost is said. */
static void on_refilled(void *ctx, int current)
{
	struct ttft_exporter *e = ctx;
	fprintf(stderr, "ttftshim exporter: the %slog %s holds all its records again after it "
		"was cut (the same header, the last record read still there): reading it on "
		"from where it was; slots it no longer holds are counted unreadable, and "
		"writers that wrote into it while it was cut write no more to it (each says "
		"on its stderr at exit how many events it did not record)\n",
		current ? "" : "replaced ", e->follow.path);
}

static char *page(void *ctx, int om, size_t *len, const char **type)
{
	struct ttft_exporter *e = ctx;
	const struct ttft_follow *f = &e->follow;
	struct ttft_export_log log = {
		f->records, f->late, f->unpublished, f->corrupt, f->dropped_before + f->dropped,
		ttft_follow_in_flight(f), e->log_state, f->replaced, f->reread, f->refilled,
	};
	*type = ttft_export_content_type(om);
	return ttft_export_render(&e->x, &log, om, len);
}

static void follow(struct ttft_exporter *e, int drain)
{
	struct ttft_follow_sink sink = {e, on_request, on_desync, on_connect_failed, on_replaced,
					on_old_done, on_returned, on_reread, on_refilled};
	int rc = drain ? ttft_follow_drain(&e->follow, &sink) : ttft_follow_poll(&e->follow, &sink);
	if (rc != 0 && !e->fail[0])
		snprintf(e->fail, sizeof e->fail, "%s", e->follow.err);
	/* A log missing, unreadable or cut must not look like an idle one (a
	 * review found both serving zeros, silent): ttftshim_log_up, and a
	 * line on stderr when that changes. */
	const struct ttft_follow *f = &e->follow;
	e->log_state = !f->cur || f->err[0] ? TTFT_EXPORT_LOG_NONE
		     : f->cur->v.truncated ? TTFT_EXPORT_LOG_CUT : TTFT_EXPORT_LOG_UP;
	/* not there yet, at the start: what ttft-export and ttft-run expect */
	int waiting = e->log_state == TTFT_EXPORT_LOG_NONE && e->said_state < 0 &&
		      access(f->path, F_OK) != 0;
	if (e->log_state != e->said_state && !waiting) {
		if (e->log_state == TTFT_EXPORT_LOG_NONE)
			fprintf(stderr, "ttftshim exporter: cannot read the log %s: %s\n", f->path,
				f->err[0] ? f->err : "not there yet");
		else if (e->log_state == TTFT_EXPORT_LOG_CUT)
			fprintf(stderr, "ttftshim exporter: the log %s was cut shorter than it "
				"says (emptied or truncated under its writers): what was lost is "
				"not counted here\n", f->path);
		else if (e->said_state >= 0)
			fprintf(stderr, "ttftshim exporter: reading the log %s\n", f->path);
		e->said_state = e->log_state;
	}
}

static void *loop(void *arg)
{
	struct ttft_exporter *e = arg;
	int64_t next = ttft_now_ns();
	int64_t until = 0;
	uint64_t drained_gen = 0;
	for (;;) {
		/* Acquire: pairs with the release in ttft_exporter_stop, which
		 * orders nothing else; the flag is all it carries. */
		int mode = __atomic_load_n(&e->mode, __ATOMIC_ACQUIRE);
		if (mode == 2)
			break;
		int64_t now = ttft_now_ns();
		if (mode == 1 && !until) {
			follow(e, 1);
			/* pages made from here on hold the drained numbers */
			drained_gen = ++e->http.gen;
			until = now + e->linger_ns;
		}
		/* Relaxed: the flag is all ttft_exporter_cut carries */
		if (until && (now >= until || e->http.served_gen > drained_gen ||
			      __atomic_load_n(&e->cut, __ATOMIC_RELAXED)))
			break;
		if (!until && now >= next && !e->fail[0]) {
			follow(e, 0);
			next = now + (int64_t)TTFT_EXPORTER_POLL_MS * 1000000;
		}
		int64_t wait = until ? until - now : next - now;
		int ms = wait > 0 ? (int)(wait / 1000000) + 1 : 0;
		ttft_httpd_step(&e->http, ms, e->wake[0], page, e);
		char b[16];
		while (read(e->wake[0], b, sizeof b) > 0)
			;
	}
	return NULL;
}

int ttft_exporter_start(struct ttft_exporter *e, const char *addr, const char *log_path,
			size_t max_series, int64_t replaced_wait_ns, char *err,
			size_t errlen)
{
	memset(e, 0, sizeof *e);
	e->wake[0] = e->wake[1] = -1;
	if (ttft_httpd_listen(&e->http, addr, err, errlen) != 0)
		return -1;
	if (pipe2(e->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		ttft_httpd_close(&e->http);
		return -1;
	}
	ttft_follow_init(&e->follow, log_path, 0, 0, 0);
	if (replaced_wait_ns > 0)
		e->follow.replaced_wait_ns = replaced_wait_ns;
	e->said_state = -1;
	ttft_export_init(&e->x, max_series);
	if (ttft_cli_thread(&e->th, loop, e) != 0) {
		snprintf(err, errlen, "cannot start the exporter's thread");
		ttft_exporter_free(e);
		return -1;
	}
	e->running = 1;
	return 0;
}

const char *ttft_exporter_addr(const struct ttft_exporter *e)
{
	return e->http.addr;
}

void ttft_exporter_stop(struct ttft_exporter *e, int drain, int linger_ms)
{
	if (!e->running)
		return;
	e->linger_ns = (int64_t)(linger_ms > 0 ? linger_ms : 0) * 1000000;
	/* Release: linger_ns is written before the mode that makes the
	 * thread read it. */
	__atomic_store_n(&e->mode, drain ? 1 : 2, __ATOMIC_RELEASE);
	ssize_t w;
	do
		w = write(e->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(e->th, NULL);
	e->running = 0;
}

void ttft_exporter_cut(struct ttft_exporter *e)
{
	/* Relaxed: paired with the thread's load, which needs no other data */
	__atomic_store_n(&e->cut, 1, __ATOMIC_RELAXED);
	int saved = errno;
	if (e->wake[1] >= 0)
		(void)!write(e->wake[1], "x", 1);
	errno = saved;
}

void ttft_exporter_free(struct ttft_exporter *e)
{
	if (e->running)
		ttft_exporter_stop(e, 0, 0);
	ttft_httpd_close(&e->http);
	for (int i = 0; i < 2; i++)
		if (e->wake[i] >= 0)
			close(e->wake[i]);
	e->wake[0] = e->wake[1] = -1;
	ttft_follow_free(&e->follow);
	ttft_export_free(&e->x);
}
