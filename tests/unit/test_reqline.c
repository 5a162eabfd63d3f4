/* test_reqline.c — what the request sniffer takes for a request: only
 * "METHOD SP target SP HTTP/1.x" (at every split point, however long the
 * target), a request whose Expect: 100-continue was refused ends with its
 * headers, and bytes it cannot see (sendfile) count against a body. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static struct tu_events ev;

/* Feed line (then a blank line) split at every byte; each split must give
 * the same verdict: "REQ SENT" or "DESYNC". */
static void check_line(const char *line, const char *expect)
{
	char req[4096], kinds[256];
	int n = snprintf(req, sizeof req, "%s\r\nHost: x\r\n\r\n", line);
	for (int i = 0; i <= n; i++) {
		struct ttft_http_tx tx;
		ttft_http_tx_init(&tx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, req, (size_t)i, 1, 1, tu_collect, &ev);
		ttft_http_tx_feed(&tx, req + i, (size_t)(n - i), 2, 2, tu_collect, &ev);
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), expect),
			      "'%s' split at %d: %s, want %s", line, i, kinds, expect);
	}
}

START_TEST(request_lines)
{
	check_line("GET / HTTP/1.1", "REQ SENT");
	check_line("POST /v1/completions HTTP/1.0", "REQ SENT");
	check_line("GET http://example.com/x?y=1 HTTP/1.1", "REQ SENT");
	check_line("OPTIONS * HTTP/1.1", "REQ SENT");
	check_line("M-SEARCH /x HTTP/1.1", "REQ SENT");
	/* CPython test_socket's payload, and its kin */
	check_line("Michael Gilfix was here\xe1\x88\xb4", "DESYNC");
	check_line("GET /", "DESYNC");
	check_line("GET / HTTP/2.0", "DESYNC");
	/* a 1.x above 1 is framed as 1.1 (RFC 9112 2.3: its framing is 1.1's);
	 * llama-server (cpp-httplib) answers it 400, which its row shows; a
	 * minor that is no digit is no HTTP/1.x */
	check_line("GET / HTTP/1.7", "REQ SENT");
	check_line("GET / HTTP/1.x", "DESYNC");
	check_line("GET  / HTTP/1.1", "DESYNC");
	check_line("GET / HTTP/1.1 extra", "DESYNC");
	check_line("GET x HTTP/1.1", "DESYNC");
	check_line("GET * HTTP/1.1", "DESYNC");
	/* authority-form: CONNECT's alone (a proxy tunnel's request) */
	check_line("CONNECT host:443 HTTP/1.1", "REQ SENT");
	check_line("CONNECT [::1]:443 HTTP/1.1", "REQ SENT");
	check_line("GET host:443 HTTP/1.1", "DESYNC");
	check_line("CONNECT host HTTP/1.1", "DESYNC");
	check_line("CONNECT host: HTTP/1.1", "DESYNC");
	check_line("CONNECT host:abc HTTP/1.1", "DESYNC");
	check_line("CONNECT a:b:1 HTTP/1.1", "REQ SENT");
	check_line("G(T / HTTP/1.1", "DESYNC");
	check_line("GET /a\tb HTTP/1.1", "DESYNC");
	check_line("HELLO WORLD", "DESYNC");
	/* a CR inside the line (found by fuzz_http: in place it failed, in
	 * pieces the CR was skipped) */
	check_line("POST /v1/completions HTTP/1.\r1", "DESYNC");
	check_line("GET /a\rb HTTP/1.1", "DESYNC");
	/* a method longer than the kept bytes: judged on them, alike */
	char lm[200];
	memset(lm, 'A', sizeof lm);
	strcpy(lm + 100, " / HTTP/1.1");
	check_line(lm, "DESYNC");
	/* a target longer than the kept line: the version is still checked */
	char longl[600];
	memset(longl, 'a', sizeof longl);
	memcpy(longl, "GET /", 5);
	strcpy(longl + 500, " HTTP/1.1");
	check_line(longl, "REQ SENT");
	strcpy(longl + 500, " HTTP/9.1");
	check_line(longl, "DESYNC");
	strcpy(longl + 500, " FTP/1.1x");
	check_line(longl, "DESYNC");
}
END_TEST

/* The target is checked a block at a time: a control byte or a space at
 * any place of a target longer than a block, the last byte before the
 * version too, is found; bytes above the space are not. */
START_TEST(target_bytes_every_place)
{
	char line[128];
	for (int len = 1; len <= 40; len++)
		for (int k = 1; k < len; k++)
			for (int bad = 0; bad < 2; bad++) {
				memset(line, 'a', sizeof line);
				memcpy(line, "GET /", 5);
				line[4 + k] = bad ? ' ' : '\x01';
				strcpy(line + 4 + len, " HTTP/1.1");
				check_line(line, "DESYNC");
			}
	memset(line, 0, sizeof line);
	strcpy(line, "GET /\x7f\x80\xff\x21~abcdefghijklmnopqrstuvwxyz HTTP/1.1");
	check_line(line, "REQ SENT");
}
END_TEST

static void feed(struct ttft_http_tx *tx, const struct ttft_http_rx *rx,
		 const char *s, int64_t t)
{
	ttft_http_tx_sync(tx, rx->seq, s, strlen(s), tu_collect, &ev);
	ttft_http_tx_feed(tx, s, strlen(s), t, t, tu_collect, &ev);
}

START_TEST(refused_expect_ends_the_request)
{
	struct ttft_http_tx tx;
	struct ttft_http_rx rx;
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed(&tx, &rx, "POST /a HTTP/1.1\r\nExpect: 100-continue\r\n"
		       "Content-Length: 5\r\n\r\n", 10);
	static const char r417[] = "HTTP/1.1 417 Expectation Failed\r\n"
				   "Content-Length: 0\r\n\r\n";
	ttft_http_rx_feed(&rx, &tx, r417, sizeof r417 - 1, 20, tu_collect, &ev);
	feed(&tx, &rx, "GET /b HTTP/1.1\r\n\r\n", 30);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ H END SENT REQ SENT");
	/* the refused request ended when its headers went out */
	ck_assert_int_eq(ev.ev[3].t_ns, 10);
	ck_assert_uint_eq(ev.ev[3].seq, 0);
	ck_assert_str_eq(ev.text[4], "GET /b");
	ck_assert_uint_eq(ev.ev[4].seq, 1);
}
END_TEST

START_TEST(expect_continue_then_body)
{
	/* 100 Continue, then the body: an ordinary request. */
	struct ttft_http_tx tx;
	struct ttft_http_rx rx;
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed(&tx, &rx, "POST /a HTTP/1.1\r\nExpect: 100-continue\r\n"
		       "Content-Length: 5\r\n\r\n", 10);
	static const char c100[] = "HTTP/1.1 100 Continue\r\n\r\n";
	ttft_http_rx_feed(&rx, &tx, c100, sizeof c100 - 1, 20, tu_collect, &ev);
	feed(&tx, &rx, "Hello", 30);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ 1XX SENT");
	ck_assert_int_eq(ev.ev[1].a, 100);
	ck_assert_int_eq(ev.ev[2].t_ns, 30);
	/* and a final answer that comes while the body is on its way (the
	 * body's bytes do not start like a method) is not a refusal */
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed(&tx, &rx, "POST /a HTTP/1.1\r\nExpect: 100-continue\r\n"
		       "Content-Length: 7\r\n\r\n", 10);
	static const char r200[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	ttft_http_rx_feed(&rx, &tx, r200, sizeof r200 - 1, 20, tu_collect, &ev);
	feed(&tx, &rx, "{\"a\":1}", 30);
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ H END SENT");
	ck_assert_int_eq(ev.ev[3].t_ns, 30);
}
END_TEST

START_TEST(unseen_bytes)
{
	struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ev.n = 0;
	static const char head[] = "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
	ttft_http_tx_feed(&tx, head, sizeof head - 1, 1, 1, tu_collect, &ev);
	ttft_http_tx_unseen(&tx, 4, 2, tu_collect, &ev);
	ttft_http_tx_unseen(&tx, 6, 3, tu_collect, &ev);
	static const char next[] = "GET /b HTTP/1.1\r\n\r\n";
	ttft_http_tx_feed(&tx, next, sizeof next - 1, 4, 4, tu_collect, &ev);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ SENT REQ SENT");
	ck_assert_int_eq(ev.ev[1].t_ns, 3);
	ck_assert_int_eq(ev.ev[1].a, (int64_t)(sizeof head - 1) + 10);
	/* unseen bytes where a request line or headers should be: lost */
	ttft_http_tx_unseen(&tx, 3, 5, tu_collect, &ev);
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ SENT REQ SENT DESYNC");
	ck_assert_int_eq(ev.ev[4].b, TTFT_DESYNC_LOST_BYTES);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reqline");
	TCase *t = tu_tcase(s, "reqline", 60);
	tcase_add_test(t, request_lines);
	tcase_add_test(t, target_bytes_every_place);
	tcase_add_test(t, refused_expect_ends_the_request);
	tcase_add_test(t, expect_continue_then_body);
	tcase_add_test(t, unseen_bytes);
	return tu_run(s);
}
