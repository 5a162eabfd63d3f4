/* fuzz_http — libFuzzer harness for the sniffer (shim/core/ttft_http.c,
 * ttft_sse.c): any bytes, as a response (rx), a request stream (tx) and an
 * SSE body, must never crash, and must give the same events whether they
 * arrive in one piece or split at any point (the sniffer's promise; the
 * first two input bytes choose the split; a run of token events one read
 * delivered counts as the events it stands for), and a request stream
 * the same as one byte at a time.
 * Built and run by `make fuzz` (tests/fuzz/run.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_http.h"
#include "ttft_log.h"

#define MAXEV 4096

struct evs {
	uint16_t kind[MAXEV];
	uint32_t seq[MAXEV];
	size_t n;
	int overflow;
};

static void collect(void *ctx, const struct ttft_http_event *ev)
{
	struct evs *e = ctx;
	if (ev->kind == TTFT_EV_SSE_TOKEN && (ev->flags & TTFT_F_RUN)) {
		/* a run of token events one read delivered (log version 4):
		 * the events it stands for, as the log's readers take it; a
		 * count no run may have is the writer's fault */
		if (ev->a < 2 || ev->a > TTFT_RUN_MAX)
			abort();
		struct ttft_http_event one = *ev;
		one.flags = 0;
		for (int64_t k = 0; k < ev->a; k++)
			collect(ctx, &one);
		return;
	}
	if (e->n == MAXEV) {
		e->overflow = 1;
		return;
	}
	if (ev->text && ev->text_len > TTFT_REC_TEXT)
		abort(); /* a record holds at most 64 bytes of text */
	e->kind[e->n] = ev->kind;
	e->seq[e->n++] = ev->seq;
}

static void same(const struct evs *a, const struct evs *b)
{
	if (a->overflow || b->overflow)
		return;
	if (a->n != b->n || memcmp(a->kind, b->kind, a->n * sizeof a->kind[0]) ||
	    memcmp(a->seq, b->seq, a->n * sizeof a->seq[0]))
		abort();
}

static void rx_run(const char *p, size_t n, size_t cut, struct evs *e)
{
	static struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	e->n = 0;
	e->overflow = 0;
	ttft_http_rx_feed(&rx, NULL, p, cut, 1, collect, e);
	ttft_http_rx_feed(&rx, NULL, p + cut, n - cut, 2, collect, e);
	ttft_http_rx_eof(&rx, NULL, 3, collect, e);
}

static void tx_run(const char *p, size_t n, size_t cut, struct evs *e)
{
	static struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	e->n = 0;
	e->overflow = 0;
	ttft_http_tx_feed(&tx, p, cut, 1, 1, collect, e);
	ttft_http_tx_feed(&tx, p + cut, n - cut, 2, 2, collect, e);
}

/* One byte a call: the request sniffer's byte machine alone, never its
 * fast path for a head whole in one read. */
static void tx_bytes(const char *p, size_t n, struct evs *e)
{
	static struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	e->n = 0;
	e->overflow = 0;
	for (size_t k = 0; k < n; k++)
		ttft_http_tx_feed(&tx, p + k, 1, 1, 1, collect, e);
}

struct classes {
	uint8_t c[MAXEV];
	size_t n;
};

static void sse_cb(void *ctx, enum ttft_sse_class cls, unsigned flags)
{
	(void)flags;
	struct classes *c = ctx;
	if (c->n < MAXEV)
		c->c[c->n++] = (uint8_t)cls;
}

static void sse_run(const char *p, size_t n, size_t cut, struct classes *c)
{
	static struct ttft_sse s;
	ttft_sse_init(&s, sse_cb, NULL, c);
	c->n = 0;
	ttft_sse_feed(&s, p, cut);
	ttft_sse_feed(&s, p + cut, n - cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 2)
		return 0;
	size_t cut = ((size_t)d[0] | (size_t)d[1] << 8);
	const char *p = (const char *)d + 2;
	n -= 2;
	cut = n ? cut % (n + 1) : 0;
	static struct evs a, b;
	rx_run(p, n, n, &a);
	rx_run(p, n, cut, &b);
	same(&a, &b);
	tx_run(p, n, n, &a);
	tx_run(p, n, cut, &b);
	same(&a, &b);
	tx_bytes(p, n, &b);
	same(&a, &b);
	static struct classes ca, cb;
	sse_run(p, n, n, &ca);
	sse_run(p, n, cut, &cb);
	if (ca.n != cb.n || memcmp(ca.c, cb.c, ca.n))
		abort();
	/* the shim's other entry points on arbitrary state */
	static struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ttft_http_tx_feed(&tx, p, cut, 1, 1, collect, &a);
	ttft_http_tx_sync(&tx, d[0], p + cut, n - cut, collect, &a);
	ttft_http_tx_unseen(&tx, d[1], 2, collect, &a);
	ttft_http_tx_feed(&tx, p + cut, n - cut, 3, 3, collect, &a);
	return 0;
}
