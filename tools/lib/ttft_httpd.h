/* ttft_httpd.h — the exporter's HTTP server: one thread, poll(), no
 * allocation per request beyond the page. GET (or HEAD) /metrics, its
 * target also in absolute form (http://host:port/metrics), is answered
 * with the page; any other path 404, another method 405, a
 * request that is not HTTP 400, headers over 8 KiB 431; then the server
 * ends its side and reads (and drops) what the client still sends until
 * the client closes: closing with bytes unread would reset the
 * connection, and a client still sending would lose the answer. Robust to
 * slow and garbage clients: sockets are non-blocking, every connection has
 * TTFT_HTTPD_DEADLINE_MS to send its request, take the answer and close,
 * and when all TTFT_HTTPD_CONNS slots are taken a new connection evicts
 * one that has had its answer, else the oldest.
 *
 * Listens on loopback unless told otherwise: "PORT", ":PORT" and
 * "localhost:PORT" mean 127.0.0.1; "HOST:PORT" and "[V6]:PORT" take a
 * numeric address (0.0.0.0 to be scraped from other hosts). Port 0 picks
 * a free one (ttft_httpd.addr says which).
 */
#ifndef TTFT_HTTPD_H
#define TTFT_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#define TTFT_HTTPD_CONNS 16
#define TTFT_HTTPD_REQ_MAX 8192
#define TTFT_HTTPD_DEADLINE_MS 10000

/* The page for one request; malloc'd (the server frees it), *len bytes,
 * its content type (static) in *type; NULL: 500. */
typedef char *(*ttft_httpd_page_fn)(void *ctx, int openmetrics, size_t *len,
				    const char **type);

struct ttft_httpd_conn {
	int fd;                  /* -1: free */
	int64_t deadline;        /* CLOCK_MONOTONIC ns */
	uint64_t order;          /* accept order: the oldest goes first */
	size_t nin;
	char in[TTFT_HTTPD_REQ_MAX];
	char *out;               /* the answer being written */
	size_t nout, off;
	int draining;            /* answered: reading what the client still
	                            sends until it closes */
	uint64_t page_gen;       /* ttft_httpd.gen when its page was made */
};

struct ttft_httpd {
	int lfd;
	char addr[80];           /* what it listens on: "127.0.0.1:9464" */
	struct ttft_httpd_conn c[TTFT_HTTPD_CONNS];
	uint64_t accepted;
	uint64_t gen;            /* the caller's generation of its data */
	uint64_t served_gen;     /* the latest gen a whole page was sent of,
	                            +1 (0: none yet) */
	uint64_t pages, errors, evicted, timed_out;
};

/* Listen on addr. -1 with a message in err (what address, why, what to
 * do). */
int ttft_httpd_listen(struct ttft_httpd *h, const char *addr, char *err, size_t errlen);
/* One round: wait up to timeout_ms for the listening socket, the
 * clients and wake_fd (-1: none; readable: return at once), then accept,
 * read, answer and write what can be without blocking. */
void ttft_httpd_step(struct ttft_httpd *h, int timeout_ms, int wake_fd,
		     ttft_httpd_page_fn page, void *ctx);
void ttft_httpd_close(struct ttft_httpd *h);

#endif
