/* ttft_exporter.h — a thread that follows a log (ttft_follow.h), counts
 * each request into the histograms (ttft_export.h) and serves them on
 * /metrics (ttft_httpd.h). Everything it keeps is its own thread's: the
 * caller only starts it and stops it. ttft-run --export and ttft-export.
 */
#ifndef TTFT_EXPORTER_H
#define TTFT_EXPORTER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ttft_export.h"
#include "ttft_follow.h"
#include "ttft_httpd.h"

/* How often the log is read for new records. */
#define TTFT_EXPORTER_POLL_MS 200

struct ttft_exporter {
	struct ttft_httpd http;
	struct ttft_follow follow;
	struct ttft_export x;
	pthread_t th;
	int running;
	int wake[2];          /* a byte on wake[1] tells the thread to look at mode */
	int mode;             /* atomic: 0 run, 1 drain and linger, 2 stop now */
	int64_t linger_ns;    /* after the drain: serve until a page of the
	                         drained numbers went out, this long at most */
	int cut;              /* atomic: 1 ends the linger now (Ctrl-C) */
	char fail[512];       /* why following stopped, "" while fine (the
	                         thread's until it is joined) */
	int log_state;        /* TTFT_EXPORT_LOG_*: said on stderr when it changes */
	int said_state;       /* the state last said (-1: none yet) */
};

/* Listen on addr, follow log_path (it may not exist yet), serve.
 * max_series: ttft_export_init's; replaced_wait_ns: the follower's
 * (ttft_follow.h), 0 its default. -1 with a message in err. */
int ttft_exporter_start(struct ttft_exporter *e, const char *addr, const char *log_path,
			size_t max_series, int64_t replaced_wait_ns, char *err,
			size_t errlen);
/* The address it listens on ("127.0.0.1:9464"): fixed once started. */
const char *ttft_exporter_addr(const struct ttft_exporter *e);
/* Stop. drain: read the log to its end first and hand out every request
 * (those still in flight as incomplete), then keep serving until a page
 * of those numbers was sent or linger_ms passed. After this the numbers
 * are in e->x and e->follow for the caller to read. */
void ttft_exporter_stop(struct ttft_exporter *e, int drain, int linger_ms);
/* From a signal handler (async-signal-safe): the drain still happens, the
 * linger after it ends at once, be it under way or still to come. */
void ttft_exporter_cut(struct ttft_exporter *e);
void ttft_exporter_free(struct ttft_exporter *e);

#endif
