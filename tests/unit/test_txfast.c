/* test_txfast.c — the request sniffer's fast path (a head whole in one
 * read, its lines found a block at a time) changes nothing: every request
 * of a table, fed whole and cut at every byte into two reads, gives the
 * same events (kind, flags, seq, time, counts, text) and leaves the same
 * state as the same bytes fed one at a time, which never take it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static struct tu_events want, got;

/* Byte k goes in a call stamped (2j+1, 2j+2), j the read that holds it. */
static int64_t t_of(size_t k, size_t cut, size_t n)
{
	return cut && cut < n && k >= cut ? 3 : 1;
}

/* Bytes p[0..n) in their own allocation: a read past the end is an
 * AddressSanitizer report, not a lucky byte. */
static void feed(struct ttft_http_tx *tx, const char *p, size_t n,
		 int64_t t, struct tu_events *e)
{
	char *copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p, n);
	ttft_http_tx_feed(tx, copy, n, t, t + 1, tu_collect, e);
	free(copy);
}

/* What the state carries into later events. A dead direction says no
 * more, so how far it read before it knew is no matter. */
static void same_state(const struct ttft_http_tx *a, const struct ttft_http_tx *b,
		       const char *name, size_t cut)
{
	int dead = a->st == 5 && b->st == 5;
	ck_assert_msg(a->st == b->st && a->seq == b->seq &&
		      a->head_mask == b->head_mask && a->expect == b->expect &&
		      a->chunked == b->chunked && a->body_left == b->body_left &&
		      a->t_first == b->t_first && a->t_head == b->t_head &&
		      (dead || (a->bytes == b->bytes && a->llen == b->llen &&
				a->hlen == b->hlen)),
		      "%s cut at %zu: state st %d/%d seq %u/%u head %x/%x expect "
		      "%d/%d chunked %d/%d body_left %llu/%llu bytes %llu/%llu",
		      name, cut, a->st, b->st, a->seq, b->seq, a->head_mask,
		      b->head_mask, a->expect, b->expect, a->chunked, b->chunked,
		      (unsigned long long)a->body_left,
		      (unsigned long long)b->body_left,
		      (unsigned long long)a->bytes, (unsigned long long)b->bytes);
}

static void same_events(const char *name, size_t cut)
{
	char kw[512], kg[512];
	ck_assert_msg(want.n == got.n, "%s cut at %zu: %s, want %s", name, cut,
		      tu_kinds(&got, kg, sizeof kg), tu_kinds(&want, kw, sizeof kw));
	for (size_t i = 0; i < want.n; i++) {
		const struct ttft_http_event *w = &want.ev[i], *g = &got.ev[i];
		ck_assert_msg(w->kind == g->kind && w->flags == g->flags &&
			      w->seq == g->seq && w->t_ns == g->t_ns && w->a == g->a &&
			      w->b == g->b && w->text_len == g->text_len &&
			      !strcmp(want.text[i], got.text[i]),
			      "%s cut at %zu, event %zu: kind %u/%u seq %u/%u t %lld/%lld "
			      "a %lld/%lld b %lld/%lld text '%s'/'%s'", name, cut, i,
			      g->kind, w->kind, g->seq, w->seq, (long long)g->t_ns,
			      (long long)w->t_ns, (long long)g->a, (long long)w->a,
			      (long long)g->b, (long long)w->b, got.text[i], want.text[i]);
	}
}

/* r fed in one read (cut 0) or two (cut at every byte), against the same
 * bytes and stamps one at a time. Then one more request, a byte at a time,
 * to both: what the state carries shows in its events too. */
static void check_request(const char *name, const char *r, size_t n)
{
	static const char next[] = "HEAD /next HTTP/1.1\r\n\r\n";
	for (size_t cut = 0; cut < n; cut++) {
		struct ttft_http_tx ref, tx;
		ttft_http_tx_init(&ref);
		ttft_http_tx_init(&tx);
		want.n = got.n = 0;
		for (size_t k = 0; k < n; k++)
			feed(&ref, r + k, 1, t_of(k, cut, n), &want);
		if (cut == 0) {
			feed(&tx, r, n, 1, &got);
		} else {
			feed(&tx, r, cut, 1, &got);
			feed(&tx, r + cut, n - cut, 3, &got);
		}
		same_events(name, cut);
		same_state(&tx, &ref, name, cut);
		for (size_t k = 0; k < sizeof next - 1; k++) {
			feed(&ref, next + k, 1, 5, &want);
			feed(&tx, next + k, 1, 5, &got);
		}
		same_events(name, cut);
		same_state(&tx, &ref, name, cut);
	}
}

#define CHECK(name, lit) check_request(name, lit, sizeof lit - 1)

START_TEST(requests_of_every_kind)
{
	CHECK("bench GET", "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
	CHECK("POST body here",
	      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
	      "User-Agent: curl/8.5.0\r\nAccept: */*\r\n"
	      "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
	      "{\"prompt\":1}\n");
	CHECK("HEAD", "HEAD /health HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("absolute", "GET http://example.com:8000/x?y=1 HTTP/1.0\r\n\r\n");
	CHECK("chunked",
	      "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	      "5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n");
	CHECK("expect", "POST /e HTTP/1.1\r\nExpect: 100-continue\r\n"
			"Content-Length: 3\r\n\r\nabc");
	CHECK("expect, no body", "POST /e HTTP/1.1\r\nexpect: 100-Continue\r\n\r\n");
	CHECK("traceparent",
	      "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\n"
	      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	      "Traceparent: 00-abc-01\r\nContent-Length: 2\r\n\r\n{}");
	CHECK("odd case", "POST /o HTTP/1.1\r\ncontent-LENGTH:\t4\r\n"
			  "TRANSFER-encoding: Chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n");
	CHECK("c t e that do not matter",
	      "GET /n HTTP/1.1\r\nConnection: keep-alive\r\nCookie: a=b\r\n"
	      "Te: trailers\r\nTrailer: x\r\nEtag: 1\r\nExpires: 0\r\n"
	      "Content-Lengthy: 5\r\nContent-Typo: x\r\nContent-Type: text/plain\r\n"
	      "Content-Encoding: gzip\r\ntransfer-encodings: chunked\r\n\r\n");
	CHECK("pipelined", "GET /a HTTP/1.1\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
			   "POST /c HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /d HTTP/1.1\r\n\r\n");
	CHECK("body then next", "POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
				"GET /q HTTP/1.1\r\n\r\n");
	CHECK("leading line ends", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("Gilfix", "Michael Gilfix was here\xe1\x88\xb4\r\n");
	CHECK("PRI", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	CHECK("PRI as HTTP/1", "PRI / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("LF only", "GET / HTTP/1.1\nHost: h\nContent-Length: 1\n\nxGET /2 HTTP/1.1\n\n");
	CHECK("LF only, a block", "GET / HTTP/1.1\n\n");
	CHECK("shorter than a block", "GET / HTTP/1.1\n");
	CHECK("long request line",
	      "POST /v1/chat/completions/with/a/path/longer/than/sixty/four/bytes"
	      "?and=a&query=string HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("long header line",
	      "GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	      "Content-Length:                                                     "
	      "         12\r\n\r\n");
	CHECK("length at the kept bytes' end",
	      "POST / HTTP/1.1\r\nContent-Length:                                "
	      "                             12\r\n\r\n0123456789ab");
	CHECK("CR inside lines", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\r\nContent-Length: 1\r\r\n\r\nx");
	CHECK("CR in the request line", "GET /a\rb HTTP/1.1\r\n\r\n");
	CHECK("control in target", "GET /a\x01z HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK("no blank line", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n");
	CHECK("TLS", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GET / HTTP/1.1\r\n");
	CHECK("lower case", "get / http/1.1\r\nHost: h\r\n\r\n");
	CHECK("after the head", "GET / HTTP/1.1\r\n\r\nxyz garbage\r\n\r\n");
	CHECK("bad chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	/* a byte 0x0b just after an LF: the word masks mark it too */
	CHECK("VT after LF", "GET /vt HTTP/1.1\n\x0bX: 1\r\n\x0b\n\nGET / HTTP/1.1\r\n\x0b\r\n\r\n");
	CHECK("NUL in a header", "GET / HTTP/1.1\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

/* Random heads built from the pieces above: lines of every length, so
 * that line ends fall at every place of a block. */
START_TEST(random_heads)
{
	static const char *const lines[] = {
		"Host: 127.0.0.1:8000", "Content-Length: 3", "content-length: 0",
		"Transfer-Encoding: chunked", "Expect: 100-continue",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"Accept: */*", "c", "T", "E:", "X-Pad: ", "Connection: close",
	};
	static const char *const starts[] = {
		"GET / HTTP/1.1", "POST /v1/completions HTTP/1.1", "HEAD /h HTTP/1.0",
		"OPTIONS * HTTP/1.1", "GET http://h/ HTTP/1.1", "GET /x HTTP/2.0",
	};
	unsigned seed = 12345;
	char r[1024];
	const int rounds = 300 / tu_stride("random_heads");
	for (int round = 0; round < rounds; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = (size_t)snprintf(r, sizeof r, "%s%s",
					    starts[(seed >> 8) % 6],
					    (seed >> 4) & 1 ? "\n" : "\r\n");
		int nl = (int)((seed >> 12) % 5);
		for (int k = 0; k < nl; k++) {
			seed = seed * 1103515245u + 12345u;
			n += (size_t)snprintf(r + n, sizeof r - n, "%s%.*s%s",
					      lines[(seed >> 8) % 12],
					      (int)((seed >> 16) % 17),
					      "xxxxxxxxxxxxxxxxx",
					      (seed >> 4) & 1 ? "\n" : "\r\n");
		}
		n += (size_t)snprintf(r + n, sizeof r - n, "\r\nabc0\r\n\r\n");
		char name[32];
		snprintf(name, sizeof name, "random %d", round);
		check_request(name, r, n);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("txfast");
	TCase *t = tu_tcase(s, "same events", 120);
	tcase_add_test(t, requests_of_every_kind);
	tcase_add_test(t, random_heads);
	return tu_run(s);
}
