/* mkseed_log — seeds for fuzz_logread: each exchange in tests/fixtures
 * (request, "=====RESPONSE=====", response) run through the sniffer as the
 * shim would log it, written in fuzz_logread's input format.
 * usage: mkseed_log OUTDIR FIXTURE.http... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_http.h"
#include "ttft_log.h"

static struct ttft_rec g_recs[8192];
static size_t g_n;
static int64_t g_t;

static void add(uint16_t kind, uint16_t flags, uint32_t seq, int64_t a, int64_t b,
		const char *text, size_t tl)
{
	if (g_n == sizeof g_recs / sizeof g_recs[0])
		return;
	struct ttft_rec *r = &g_recs[g_n++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->flags = flags;
	r->t_ns = g_t += 1000000;
	r->pid = 100;
	r->tid = 100;
	r->fd = 5;
	r->conn = 1;
	r->a = a;
	r->b = b;
	r->seq = seq;
	if (text)
		memcpy(r->text, text, tl < TTFT_REC_TEXT ? tl : TTFT_REC_TEXT);
}

static void emit(void *ctx, const struct ttft_http_event *ev)
{
	(void)ctx;
	add(ev->kind, ev->flags, ev->seq, ev->a, ev->b, ev->text, ev->text_len);
}

int main(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f)
			return 1;
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *sep = strstr(buf, "=====RESPONSE=====\n");
		if (!sep)
			continue;
		char *resp = sep + strlen("=====RESPONSE=====\n");
		g_n = 0;
		g_t = 1000000000;
		add(TTFT_EV_CONNECT_BEGIN, 0, 0, 0, 0, "127.0.0.1:8080", 14);
		add(TTFT_EV_ESTABLISHED, 0, 0, 0, 0, NULL, 0);
		struct ttft_http_tx tx;
		struct ttft_http_rx rx;
		ttft_http_tx_init(&tx);
		ttft_http_rx_init(&rx);
		ttft_http_tx_feed(&tx, buf, (size_t)(sep - buf), g_t, g_t, emit, NULL);
		for (char *p = resp; *p; p += 97) /* reads of 97 bytes */
			ttft_http_rx_feed(&rx, &tx, p, strnlen(p, 97), g_t += 1000, emit, NULL);
		ttft_http_rx_eof(&rx, &tx, g_t, emit, NULL); /* the server closed */
		add(TTFT_EV_CLOSE, 0, 1, 0, 0, NULL, 0);
		char out[4096];
		snprintf(out, sizeof out, "%s/seed-%d", argv[1], i);
		FILE *o = fopen(out, "wb");
		uint64_t hdr[4] = {g_n, g_n, 0, 2};
		uint8_t flags = 1;
		fwrite(hdr, sizeof hdr, 1, o);
		fwrite(&flags, 1, 1, o);
		fwrite(g_recs, sizeof g_recs[0], g_n, o);
		fclose(o);
	}
	return 0;
}
