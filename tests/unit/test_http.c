/* test_http.c — HTTP/1.1 framing: every split of real and vLLM-format
 * responses yields the same events, each stamped with the read that
 * completed it; keep-alive, errors, truncation and non-HTTP bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ttft_http_int.h"

static struct tu_events ev;

static void feed_rx(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		    const char *p, size_t n, int64_t t)
{
	ttft_http_rx_feed(rx, tx, p, n, t, tu_collect, &ev);
}

/* End offsets (index of the last byte) of each SSE event in a raw
 * response, and of the header block. */
static size_t event_ends(const char *r, size_t n, size_t *ends, size_t max)
{
	size_t k = 0;
	const char *p = r;
	while (k < max && (p = strstr(p, "data:")) != NULL && (size_t)(p - r) < n) {
		const char *lf = strstr(p, "\n\n");
		const char *crlf = strstr(p, "\r\n\r\n");
		/* A CR alone ends a line (SSE spec), so with CRLF the event is
		 * complete at the blank line's CR. */
		const char *e = lf && (!crlf || lf < crlf) ? lf + 1 : crlf + 2;
		ends[k++] = (size_t)(e - r);
		p = e;
	}
	return k;
}

/* Split at every byte: the event kinds never change, and each event's
 * time is the time of the piece that held its last byte. */
/* resp[0..n) to a fresh sniffer in two reads, split at i, then the
 * connection's end; its events in ev. */
static void feed_split(const char *resp, size_t n, size_t i)
{
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, resp, i, 1);
	feed_rx(&rx, NULL, resp + i, n - i, 2);
	ttft_http_rx_eof(&rx, NULL, 3, tu_collect, &ev);
}

static void check_every_split(const char *resp, size_t n, const char *expect)
{
	size_t ends[512];
	size_t ne = event_ends(resp, n, ends, 512);
	size_t hdr_end = (size_t)(strstr(resp, "\r\n\r\n") - resp) + 3;
	char kinds[4096];
	for (size_t i = 1; i < n; i++) {
		feed_split(resp, n, i);
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), expect),
			      "split at %zu: got %s", i, kinds);
		size_t k = 0;
		int64_t tok = 0;
		for (size_t j = 0; j < ev.n; j++) {
			const struct ttft_http_event *e = &ev.ev[j];
			/* tokens are numbered in order, however the reads
			 * split (a token that is a whole chunk is reported
			 * by the framing's fast path, the rest by the
			 * classifier) */
			if (e->kind == TTFT_EV_SSE_TOKEN)
				ck_assert_msg(e->b == tok++, "split %zu: token %lld "
					      "numbered %lld", i, (long long)tok - 1,
					      (long long)e->b);
			if (e->kind == TTFT_EV_RESP_HEADERS)
				ck_assert_int_eq(e->t_ns, hdr_end < i ? 1 : 2);
			if (e->kind >= TTFT_EV_SSE_TOKEN && e->kind <= TTFT_EV_SSE_ERROR) {
				ck_assert_uint_lt(k, ne);
				ck_assert_msg(e->t_ns == (ends[k] < i ? 1 : 2),
					      "split %zu event %zu end %zu t %lld", i,
					      k, ends[k], (long long)e->t_ns);
				k++;
			}
		}
		ck_assert_uint_eq(k, ne);
	}
	/* and one byte at a time */
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	for (size_t i = 0; i < n; i++)
		feed_rx(&rx, NULL, resp + i, 1, (int64_t)i);
	ttft_http_rx_eof(&rx, NULL, (int64_t)n, tu_collect, &ev);
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), expect);
	size_t k = 0;
	for (size_t j = 0; j < ev.n; j++)
		if (ev.ev[j].kind >= TTFT_EV_SSE_TOKEN && ev.ev[j].kind <= TTFT_EV_SSE_ERROR)
			ck_assert_int_eq(ev.ev[j].t_ns, (int64_t)ends[k++]);
}

START_TEST(vllm_streams_every_split)
{
	/* completions and chat, LF and CRLF, chunked and close-delimited */
	for (int chat = 0; chat < 2; chat++)
		for (int crlf = 0; crlf < 2; crlf++)
			for (int chunked = 0; chunked < 2; chunked++) {
				size_t n;
				char *r = tu_vllm_stream(chat, crlf, chunked, 3, 1, &n);
				check_every_split(r, n, chat ? "H E T T T E N D END"
							     : "H T T T E N D END");
				free(r);
			}
}
END_TEST

START_TEST(llamacpp_captures_every_split)
{
	char *req, *resp;
	size_t rl, n;
	tu_load_http("completions-stream", &req, &rl, &resp, &n);
	check_every_split(resp, n, "H T T T T T T T T E N D END");
	free(req), free(resp);
	/* llama.cpp's role chunk has content null, in the same chunk as
	 * the first token. */
	tu_load_http("chat-stream", &req, &rl, &resp, &n);
	check_every_split(resp, n, "H E T T T T T T T T E E N D END");
	free(req), free(resp);
}
END_TEST

START_TEST(llamacpp_capture_in_its_real_reads)
{
	/* Replay the response as the recv() calls that really returned it. */
	char *req, *resp;
	size_t rl, n;
	tu_load_http("completions-stream", &req, &rl, &resp, &n);
	char *js = tu_read_file("tests/fixtures/llamacpp/completions-stream.reads.json", NULL);
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	size_t off = 0;
	int reads = 0;
	for (char *p = js; (p = strchr(p, '[')) != NULL; p++) {
		double t;
		size_t len;
		if (sscanf(p, "[%lf, %zu]", &t, &len) != 2)
			continue;
		feed_rx(&rx, NULL, resp + off, len, (int64_t)(t * 1e6));
		off += len;
		reads++;
	}
	ck_assert_uint_eq(off, n);
	ck_assert_int_eq(reads, 13);
	/* first token completed by the 2nd read (0.009692 s) */
	size_t i = 0;
	while (ev.ev[i].kind != TTFT_EV_SSE_TOKEN)
		i++;
	ck_assert_int_eq(ev.ev[i].t_ns, 9692);
	ck_assert_uint_eq(tu_count(&ev, TTFT_EV_SSE_TOKEN), 8);
	ck_assert_uint_eq(tu_count(&ev, TTFT_EV_RESP_END), 1);
	free(js), free(req), free(resp);
}
END_TEST

START_TEST(request_framing_and_keepalive)
{
	char *req, *resp;
	size_t rl, n;
	tu_load_http("completions-stream", &req, &rl, &resp, &n);
	struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ev.n = 0;
	/* two requests on one connection, the second split mid-header */
	ttft_http_tx_feed(&tx, req, rl, 10, 11, tu_collect, &ev);
	ttft_http_tx_feed(&tx, req, 30, 20, 21, tu_collect, &ev);
	ttft_http_tx_feed(&tx, req + 30, rl - 30, 22, 23, tu_collect, &ev);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ SENT REQ SENT");
	ck_assert_str_eq(ev.ev[0].text, "POST /v1/completions");
	ck_assert_int_eq(ev.ev[0].t_ns, 10);
	ck_assert_int_eq(ev.ev[1].t_ns, 11);
	ck_assert_int_eq(ev.ev[1].a, (int64_t)rl);
	ck_assert_uint_eq(ev.ev[2].seq, 1);
	ck_assert_int_eq(ev.ev[2].t_ns, 20); /* the call that sent byte 0 */
	ck_assert_int_eq(ev.ev[3].t_ns, 23);
	/* responses numbered in order on the same connection */
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	char *two = malloc(2 * n);
	memcpy(two, resp, n);
	memcpy(two + n, resp, n);
	feed_rx(&rx, &tx, two, 2 * n, 5);
	ck_assert_uint_eq(tu_count(&ev, TTFT_EV_RESP_END), 2);
	ck_assert_uint_eq(ev.ev[ev.n - 1].seq, 1);
	ck_assert_uint_eq(tu_count(&ev, TTFT_EV_SSE_TOKEN), 16);
	free(two), free(req), free(resp);
}
END_TEST

START_TEST(chunked_request_body)
{
	const char *r = "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
			"GET /health HTTP/1.1\r\n\r\n";
	struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ev.n = 0;
	for (size_t i = 0; r[i]; i++)
		ttft_http_tx_feed(&tx, r + i, 1, (int64_t)i, (int64_t)i, tu_collect, &ev);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "REQ SENT REQ SENT");
	ck_assert_str_eq(ev.ev[2].text, "GET /health");
}
END_TEST

START_TEST(nonstream_errors_and_continue)
{
	char *req, *resp;
	size_t rl, n;
	tu_load_http("completions-nostream", &req, &rl, &resp, &n);
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, resp, n, 7);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H END");
	ck_assert_int_eq(ev.ev[0].a, 200);
	ck_assert_int_eq(ev.ev[1].a, 613);
	free(req), free(resp);

	const char *errs = "HTTP/1.1 100 Continue\r\n\r\n"
			   "HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\n\r\n{\"a\":\"bad\"}"
			   "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
			   "HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n"
			   "content-type: application/json\r\n\r\n4\r\n{}\r\n\r\n0\r\n\r\n";
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, errs, strlen(errs), 1);
	/* the 100 is said: its status, before the response it precedes */
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "1XX H END H END H END");
	ck_assert_int_eq(ev.ev[0].a, 100);
	ck_assert_uint_eq(ev.ev[0].seq, 0);
	ck_assert_int_eq(ev.ev[1].a, 400);
	ck_assert_int_eq(ev.ev[3].a, 503);
	ck_assert_int_eq(ev.ev[5].a, 500);
}
END_TEST

START_TEST(head_and_no_body_statuses)
{
	struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ev.n = 0;
	const char *q = "HEAD /health HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
	ttft_http_tx_feed(&tx, q, strlen(q), 1, 1, tu_collect, &ev);
	const char *r = "HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n"
			"HTTP/1.1 204 No Content\r\n\r\n";
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, &tx, r, strlen(r), 2);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H END H END");
}
END_TEST

/* A close with a request waiting and not a byte of its answer: that
 * request's end, flagged as unanswered (a server that closes a new
 * connection, or a kept-alive one as the request went out); with no
 * request waiting (an idle kept-alive connection closed), nothing. */
START_TEST(close_before_any_answer_ends_the_waiting_request)
{
	static const char req[] = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct ttft_http_tx tx;
	struct ttft_http_rx rx;
	/* unanswered: the first request on the connection */
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	ttft_http_tx_feed(&tx, req, sizeof req - 1, 1, 2, tu_collect, &ev);
	size_t sent = ev.n;
	ttft_http_rx_eof(&rx, &tx, 5, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, sent + 1);
	ck_assert_uint_eq(ev.ev[sent].kind, TTFT_EV_RESP_END);
	ck_assert_uint_eq(ev.ev[sent].flags & (TTFT_F_TRUNCATED | TTFT_F_NO_ANSWER),
			  TTFT_F_TRUNCATED | TTFT_F_NO_ANSWER);
	ck_assert_uint_eq(ev.ev[sent].seq, 0);
	ck_assert_int_eq(ev.ev[sent].a, 0);
	ck_assert_int_eq(ev.ev[sent].t_ns, 5);
	/* once: a second close read adds nothing */
	ttft_http_rx_eof(&rx, &tx, 6, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, sent + 1);

	/* answered, then the idle connection closed: nothing */
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	ttft_http_tx_feed(&tx, req, sizeof req - 1, 1, 2, tu_collect, &ev);
	feed_rx(&rx, &tx, resp, sizeof resp - 1, 3);
	size_t done = ev.n;
	ck_assert_uint_eq(ev.ev[done - 1].kind, TTFT_EV_RESP_END);
	ck_assert_uint_eq(ev.ev[done - 1].flags & TTFT_F_NO_ANSWER, 0);
	ttft_http_rx_eof(&rx, &tx, 4, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, done);

	/* the second request on it waits: its end, seq 1 */
	ttft_http_tx_feed(&tx, req, sizeof req - 1, 5, 6, tu_collect, &ev);
	sent = ev.n;
	ttft_http_rx_eof(&rx, &tx, 7, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, sent + 1);
	ck_assert_uint_eq(ev.ev[sent].kind, TTFT_EV_RESP_END);
	ck_assert_uint_eq(ev.ev[sent].flags & TTFT_F_NO_ANSWER, TTFT_F_NO_ANSWER);
	ck_assert_uint_eq(ev.ev[sent].seq, 1);

	/* pipelined: three sent, the first answered close-delimited, then
	 * the close: the first ends as its body did, the other two each
	 * unanswered (a review found only one marked, none after a
	 * close-delimited body) */
	static const char resp10[] = "HTTP/1.0 200 OK\r\n\r\nok";
	ttft_http_tx_init(&tx);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	for (int k = 0; k < 3; k++)
		ttft_http_tx_feed(&tx, req, sizeof req - 1, 1, 2, tu_collect, &ev);
	feed_rx(&rx, &tx, resp10, sizeof resp10 - 1, 3);
	sent = ev.n;
	ttft_http_rx_eof(&rx, &tx, 4, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, sent + 3);
	ck_assert_uint_eq(ev.ev[sent].kind, TTFT_EV_RESP_END);
	ck_assert_uint_eq(ev.ev[sent].flags & (TTFT_F_EOF_BODY | TTFT_F_NO_ANSWER),
			  TTFT_F_EOF_BODY);
	for (unsigned k = 1; k < 3; k++) {
		ck_assert_uint_eq(ev.ev[sent + k].kind, TTFT_EV_RESP_END);
		ck_assert_uint_eq(ev.ev[sent + k].seq, k);
		ck_assert_uint_eq(ev.ev[sent + k].flags & TTFT_F_NO_ANSWER, TTFT_F_NO_ANSWER);
	}

	/* no sending half known (NULL): nothing, as before */
	ttft_http_rx_init(&rx);
	ev.n = 0;
	ttft_http_rx_eof(&rx, NULL, 2, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, 0);
}
END_TEST

/* Header names are matched but for case, a word at a time from 8 bytes
 * on: every letter in either case matches, any other byte at any
 * position does not (a '-' is never '\r' nor ',', a letter never its
 * neighbour). Seen in the response head's flags. */
START_TEST(header_names_match_but_for_case_only)
{
	static const char *const names[] = {"transfer-encoding", "content-type"};
	static const char *const values[] = {"chunked", "text/event-stream"};
	static const unsigned flag[] = {TTFT_F_CHUNKED, TTFT_F_SSE};
	for (int k = 0; k < 2; k++) {
		size_t nl = strlen(names[k]);
		for (size_t pos = 0; pos < nl; pos++)
			for (int how = 0; how < 3; how++) {
				char name[32];
				memcpy(name, names[k], nl + 1);
				char c = name[pos];
				int letter = c >= 'a' && c <= 'z';
				if (how == 0) /* the other case: still the name */
					name[pos] = letter ? (char)(c - 32) : c;
				else if (how == 1) /* another byte */
					name[pos] = (char)(c ^ 0x01);
				else /* 0x20 off: a non-letter becomes a control */
					name[pos] = (char)(c ^ 0x20);
				int same = how == 0 || (how == 2 && letter);
				char resp[128];
				int n = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\n%s: %s\r\n\r\n",
						 name, values[k]);
				struct ttft_http_rx rx;
				ttft_http_rx_init(&rx);
				ev.n = 0;
				feed_rx(&rx, NULL, resp, (size_t)n, 1);
				ck_assert_uint_ge(ev.n, 1);
				ck_assert_uint_eq(ev.ev[0].kind, TTFT_EV_RESP_HEADERS);
				ck_assert_msg(!!(ev.ev[0].flags & flag[k]) == same, "'%s': %s", name,
					      same ? "not matched" : "matched");
			}
	}
}
END_TEST

START_TEST(truncated_stream_and_eof)
{
	size_t n;
	char *r = tu_vllm_stream(0, 0, 1, 4, 0, &n);
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, r, n / 2, 1);
	ttft_http_rx_eof(&rx, NULL, 2, tu_collect, &ev);
	ck_assert_uint_eq(ev.ev[ev.n - 1].kind, TTFT_EV_RESP_END);
	ck_assert_uint_eq(ev.ev[ev.n - 1].flags & TTFT_F_TRUNCATED, TTFT_F_TRUNCATED);
	/* EOF again: nothing more */
	size_t before = ev.n;
	ttft_http_rx_eof(&rx, NULL, 3, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, before);
	free(r);
}
END_TEST

/* Chunk sizes with leading zeros: "00" and "000" are the last chunk (the
 * body ends there, the next response follows), "02a" a chunk of 42; read a
 * chunk per call (the whole-chunk path) and at every split. */
START_TEST(zero_padded_chunk_sizes)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				  "transfer-encoding: chunked\r\n\r\n";
	static const char evt[] = "data: {\"choices\":[{\"text\":\"hi\"}]}\n\n";
	char resp[2][1024], pieces[8][256];
	size_t rn[2] = {0, 0};
	int np = 0;
	for (int r = 0; r < 2; r++) {
		snprintf(pieces[np++], sizeof pieces[0], "%s", hdr);
		snprintf(pieces[np++], sizeof pieces[0], "%03zx\r\n%s\r\n", sizeof evt - 1, evt);
		snprintf(pieces[np++], sizeof pieces[0], "%s\r\n\r\n", r ? "000" : "00");
		for (int k = np - 3; k < np; k++)
			rn[r] += (size_t)snprintf(resp[r] + rn[r], sizeof resp[r] - rn[r], "%s",
						  pieces[k]);
		check_every_split(resp[r], rn[r], "H T END");
	}
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	for (int k = 0; k < np; k++)
		feed_rx(&rx, NULL, pieces[k], strlen(pieces[k]), k);
	char kinds[256];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H T END H T END");
	ck_assert_int_eq(ev.ev[2].t_ns, 2); /* "00": the end, in its own read */
	ck_assert_int_eq(ev.ev[2].a, (int64_t)sizeof evt - 1);
	ck_assert_int_eq(ev.ev[5].t_ns, 5);
	ck_assert_uint_eq(rx.seq, 2);
}
END_TEST

/* A chunk size's leading zeros are no limit: "000000000000002a" (16
 * characters, which curl takes) and 19 or 40 of them (CPython takes any)
 * are 42, at every split; 16 significant digits are too many. They were
 * counted as digits, and past 15 the body was "malformed chunked
 * encoding": a desync where curl and CPython read every token. */
START_TEST(a_chunk_sizes_leading_zeros_are_no_limit)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				  "transfer-encoding: chunked\r\n\r\n";
	static const char evt[] = "data: {\"choices\":[{\"text\":\"hi\"}]}\n\n";
	static const int width[] = {16, 19, 40};
	for (size_t w = 0; w < sizeof width / sizeof *width; w++) {
		char resp[1024];
		int n = snprintf(resp, sizeof resp, "%s%0*zx\r\n%s\r\n%0*d\r\n\r\n", hdr,
				 width[w], sizeof evt - 1, evt, width[w], 0);
		check_every_split(resp, (size_t)n, "H T END");
	}
	char big[256];
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	int n = snprintf(big, sizeof big, "%s1000000000000000\r\nx", hdr);
	feed_rx(&rx, NULL, big, (size_t)n, 1);
	ck_assert_uint_eq(ev.ev[ev.n - 1].kind, TTFT_EV_DESYNC);
	ck_assert_int_eq(ev.ev[ev.n - 1].b, TTFT_DESYNC_BAD_CHUNK);
}
END_TEST

/* The read-is-one-token path (ttft_sse_whole_token) against the byte
 * machines: tokens with escapes, quotes, control bytes, 16 and 17 bytes,
 * empty, a CRLF event, a usage event and [DONE], one chunk a read and one
 * byte a read: the same events, numbers and byte counts. */
START_TEST(token_reads_match_the_byte_machines)
{
	static const char *const toks[] = {
		"a", " hello", "\\n", "say \\\"hi\\\"", "0123456789abcdef",
		"0123456789abcdefg", "\\u00e9", "", "tab\\there", "b", "c",
		"a much longer token that spans several blocks of sixteen", "d",
	};
	static const char hdr[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				  "transfer-encoding: chunked\r\n\r\n";
	char pieces[24][512], evt[400];
	int np = 0;
	snprintf(pieces[np++], sizeof pieces[0], "%s", hdr);
	for (size_t k = 0; k < sizeof toks / sizeof toks[0] + 3; k++) {
		if (k < sizeof toks / sizeof toks[0])
			snprintf(evt, sizeof evt,
				 "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\","
				 "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
				 "\"text\":\"%s\",\"logprobs\":null,\"finish_reason\":null}]}%s",
				 toks[k], k == 9 ? "\r\n\r\n" : "\n\n");
		else if (k == sizeof toks / sizeof toks[0])
			snprintf(evt, sizeof evt, "data: {\"id\":\"cmpl-1\",\"choices\":[],"
				 "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":12}}\n\n");
		else
			snprintf(evt, sizeof evt, "data: [DONE]\n\n");
		if (k == sizeof toks / sizeof toks[0] + 2)
			snprintf(pieces[np++], sizeof pieces[0], "0\r\n\r\n");
		else
			snprintf(pieces[np++], sizeof pieces[0], "%zx\r\n%s\r\n", strlen(evt), evt);
	}
	struct tu_events whole, bytes;
	for (int way = 0; way < 2; way++) {
		struct ttft_http_rx rx;
		ttft_http_rx_init(&rx);
		ev.n = 0;
		for (int k = 0; k < np; k++) {
			size_t len = strlen(pieces[k]);
			if (way == 0)
				feed_rx(&rx, NULL, pieces[k], len, 0);
			else
				for (size_t i = 0; i < len; i++)
					feed_rx(&rx, NULL, pieces[k] + i, 1, 0);
		}
		if (way == 0)
			whole = ev;
		else
			bytes = ev;
	}
	char a[512], b[512];
	ck_assert_str_eq(tu_kinds(&whole, a, sizeof a), tu_kinds(&bytes, b, sizeof b));
	ck_assert_str_eq(a, "H T T T T T T T E T T T T T E N D END");
	for (size_t j = 0; j < whole.n; j++) {
		/* token numbers, flags; the byte counts where a read ends at
		 * the event's end in both ways (the last byte of a chunk's
		 * CRLF is after the event: counted the same) */
		ck_assert_int_eq(whole.ev[j].b, bytes.ev[j].b);
		ck_assert_uint_eq(whole.ev[j].flags, bytes.ev[j].flags);
		ck_assert_uint_eq(whole.ev[j].seq, bytes.ev[j].seq);
	}
	ck_assert_int_eq(whole.ev[whole.n - 1].a, bytes.ev[bytes.n - 1].a);
}
END_TEST

/* The token events one read delivers whole, after the stream's template
 * is known, are one event flagged run (a = how many, b = the first's
 * number, the read's time); the events before, between and after are as
 * they were, and the tokens they stand for are the byte machine's. */
static struct tu_events raw;

static void collect_raw(void *ctx, const struct ttft_http_event *e)
{
	(void)ctx;
	ck_assert_uint_lt(raw.n, TU_MAXEV);
	raw.ev[raw.n++] = *e;
}

START_TEST(a_read_of_token_events_is_one_run)
{
	size_t n;
	char *r = tu_vllm_stream(0, 0, 1, 8, 1, &n);
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	raw.n = 0;
	ttft_http_rx_feed(&rx, NULL, r, n, 7, collect_raw, NULL);
	/* the first token event is read in full (it makes the template:
	 * its prefix and its suffix), the seven after it are one run */
	size_t ntok = 0, runs = 0;
	int64_t covered = 0;
	for (size_t j = 0; j < raw.n; j++) {
		const struct ttft_http_event *e = &raw.ev[j];
		if (e->kind != TTFT_EV_SSE_TOKEN)
			continue;
		ck_assert_int_eq(e->t_ns, 7);
		ck_assert_int_eq(e->b, covered); /* numbered in order */
		ntok++;
		if (e->flags & TTFT_F_RUN) {
			runs++;
			ck_assert_int_eq(e->a, 7);
			covered += e->a;
		} else {
			covered++;
		}
	}
	ck_assert_uint_eq(ntok, 2);
	ck_assert_uint_eq(runs, 1);
	ck_assert_int_eq(covered, 8);
	/* expanded, the same events as the byte machine's, in order */
	char a[256], b[256];
	struct ttft_http_rx one;
	ttft_http_rx_init(&one);
	ev.n = 0;
	for (size_t i = 0; i < n; i++)
		feed_rx(&one, NULL, r + i, 1, 7);
	tu_kinds(&ev, b, sizeof b);
	ck_assert_str_eq(b, "H T T T T T T T T E N D END");
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, r, n, 7);
	ck_assert_str_eq(tu_kinds(&ev, a, sizeof a), b);
	/* a read of one token event stays one plain event */
	ttft_http_rx_init(&rx);
	const char *second = strstr(strstr(r, "\r\n\r\n"), "\n\n\r\n") + 4;
	const char *third = strstr(second, "\n\n\r\n") + 4;
	ttft_http_rx_feed(&rx, NULL, r, (size_t)(second - r), 1, collect_raw, NULL);
	raw.n = 0;
	ttft_http_rx_feed(&rx, NULL, second, (size_t)(third - second), 2, collect_raw, NULL);
	ck_assert_uint_eq(raw.n, 1); /* (the template made by the first) */
	ck_assert_uint_eq(raw.ev[0].kind, TTFT_EV_SSE_TOKEN);
	ck_assert_uint_eq(raw.ev[0].flags, 0);
	ck_assert_int_eq(raw.ev[0].b, 1);
	ck_assert_int_eq(raw.ev[0].a, (int64_t)rx.body_bytes);
	free(r);
}
END_TEST

/* A run longer than a record may hold (TTFT_RUN_MAX) is split: a read of
 * TTFT_RUN_MAX + 1 token events of the template (llama.cpp's native
 * format, the smallest) gives a run of TTFT_RUN_MAX and one plain event,
 * numbered on. */
START_TEST(a_run_is_split_at_what_a_record_holds)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				  "transfer-encoding: chunked\r\n\r\n";
	static const char one[] = "24\r\ndata: {\"content\":\"a\",\"stop\":false}\n\n\r\n";
	size_t n1 = sizeof one - 1, nev = TTFT_RUN_MAX + 1;
	char *buf = malloc(n1 * nev);
	ck_assert_ptr_nonnull(buf);
	for (size_t k = 0; k < nev; k++)
		memcpy(buf + k * n1, one, n1);
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	raw.n = 0;
	ttft_http_rx_feed(&rx, NULL, hdr, sizeof hdr - 1, 1, collect_raw, NULL);
	/* the first two: the first makes the template (its prefix and its
	 * suffix), the second is the one-token read */
	ttft_http_rx_feed(&rx, NULL, one, n1, 2, collect_raw, NULL);
	ttft_http_rx_feed(&rx, NULL, one, n1, 3, collect_raw, NULL);
	raw.n = 0;
	ttft_http_rx_feed(&rx, NULL, buf, n1 * nev, 4, collect_raw, NULL);
	ck_assert_uint_eq(raw.n, 2);
	ck_assert_uint_eq(raw.ev[0].kind, TTFT_EV_SSE_TOKEN);
	ck_assert_uint_eq(raw.ev[0].flags, TTFT_F_RUN);
	ck_assert_int_eq(raw.ev[0].a, TTFT_RUN_MAX);
	ck_assert_int_eq(raw.ev[0].b, 2);
	ck_assert_uint_eq(raw.ev[1].kind, TTFT_EV_SSE_TOKEN);
	ck_assert_uint_eq(raw.ev[1].flags, 0);
	ck_assert_int_eq(raw.ev[1].b, 2 + TTFT_RUN_MAX);
	ck_assert_int_eq(raw.ev[1].a, (int64_t)rx.body_bytes);
	free(buf);
}
END_TEST

/* A read of token events of the template compares every byte of the
 * template's prefix and suffix, whatever their lengths (each way the
 * compare takes: spans under and over 32 bytes, held in registers or
 * not): one byte changed anywhere in the middle event of five keeps it out
 * of the run, and the events, expanded, are the byte machine's. */
static int64_t g_max_run;

static void collect_runs(void *ctx, const struct ttft_http_event *e)
{
	if (e->kind == TTFT_EV_SSE_TOKEN && (e->flags & TTFT_F_RUN) &&
	    e->a > g_max_run)
		g_max_run = e->a;
	tu_collect(ctx, e);
}

START_TEST(a_run_compares_every_template_byte)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				  "transfer-encoding: chunked\r\n\r\n";
	/* prefix 62 + model bytes; suffix 10, 26, or 36 + pad bytes (a
	 * template is at most TTFT_SSE_TMPL bytes, each span TTFT_SSE_SPAN) */
	static const int models[] = {0, 1, 20, 65, 66, 100, 140};
	static const int pads[] = {-2, -1, 0, 30, 31, 60, 94, 95};
	/* tokens of eight bytes (what a portable build's block holds): with
	 * the shortest suffix, a block from the token's start is inside the
	 * event */
	static const char *const toks[] = {"aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd",
					   "eeeeeeee", "ffffffff", "gggggggg"};
	char model[160], pad[100], evt[7][600];
	size_t elen[7];
	char *buf = malloc(8192), *one = malloc(8192);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(one);
	for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++)
		for (size_t pi = 0; pi < sizeof pads / sizeof pads[0]; pi++) {
			memset(model, 'm', (size_t)models[mi]);
			model[models[mi]] = 0;
			int pl = pads[pi] < 0 ? 0 : pads[pi];
			memset(pad, 'p', (size_t)pl);
			pad[pl] = 0;
			char suf[200];
			if (pads[pi] == -2)
				snprintf(suf, sizeof suf, "\"}],\"u\":0}");
			else if (pads[pi] == -1)
				snprintf(suf, sizeof suf, "\",\"finish_reason\":null}]}");
			else
				snprintf(suf, sizeof suf,
					 "\",\"pad\":\"%s\",\"finish_reason\":null}]}", pad);
			for (int k = 0; k < 7; k++) {
				snprintf(evt[k], sizeof evt[k],
					 "data: {\"id\":\"cmpl-1\",\"model\":\"%s\","
					 "\"choices\":[{\"index\":0,\"text\":\"%s%s\n\n",
					 model, toks[k], suf);
				elen[k] = strlen(evt[k]);
			}
			size_t tl = (size_t)(strstr(evt[0], "\"text\":\"") - evt[0]) + 8,
			       sl = strlen(suf);
			ck_assert_uint_eq(elen[0], tl + 8 + sl + 2);
			if (tl > TTFT_SSE_SPAN || sl > TTFT_SSE_SPAN || tl + sl > TTFT_SSE_TMPL)
				continue;
			/* every byte of the prefix and of the suffix */
			for (size_t at = 0; at < tl + sl; at++) {
				size_t off = at < tl ? at : at + 8; /* past the token */
				size_t n = 0;
				for (int k = 2; k < 7; k++) {
					char e[600];
					memcpy(e, evt[k], elen[k] + 1);
					if (k == 3)
						e[off] ^= 0x01;
					n += (size_t)snprintf(buf + n, 8192 - n, "%zx\r\n%s\r\n",
							      elen[k], e);
				}
				/* the byte machine's events */
				struct ttft_http_rx rx;
				ttft_http_rx_init(&rx);
				ev.n = 0;
				size_t m = (size_t)snprintf(one, 8192, "%s", hdr);
				for (int k = 0; k < 2; k++)
					m += (size_t)snprintf(one + m, 8192 - m, "%zx\r\n%s\r\n",
							      elen[k], evt[k]);
				memcpy(one + m, buf, n);
				for (size_t i = 0; i < m + n; i++)
					feed_rx(&rx, NULL, one + i, 1, 0);
				char a[256], b[256];
				tu_kinds(&ev, b, sizeof b);
				/* the template's two events, then the five at once */
				ttft_http_rx_init(&rx);
				ev.n = 0;
				g_max_run = 0;
				ttft_http_rx_feed(&rx, NULL, one, sizeof hdr - 1, 0,
						  collect_runs, &ev);
				ttft_http_rx_feed(&rx, NULL, one + sizeof hdr - 1,
						  m - (sizeof hdr - 1), 0, collect_runs, &ev);
				ttft_http_rx_feed(&rx, NULL, buf, n, 0, collect_runs, &ev);
				ck_assert_msg(!strcmp(tu_kinds(&ev, a, sizeof a), b),
					      "tl %zu sl %zu byte %zu: %s, not %s", tl, sl, at, a, b);
				ck_assert_msg(g_max_run <= 3, "tl %zu sl %zu byte %zu: a run of %lld",
					      tl, sl, at, (long long)g_max_run);
			}
			/* and unchanged, the five are one run */
			size_t n = 0;
			for (int k = 2; k < 7; k++)
				n += (size_t)snprintf(buf + n, 8192 - n, "%zx\r\n%s\r\n",
						      elen[k], evt[k]);
			struct ttft_http_rx rx;
			ttft_http_rx_init(&rx);
			ev.n = 0;
			g_max_run = 0;
			ttft_http_rx_feed(&rx, NULL, hdr, sizeof hdr - 1, 0, collect_runs, &ev);
			for (int k = 0; k < 2; k++) {
				size_t m = (size_t)snprintf(one, 8192, "%zx\r\n%s\r\n", elen[k],
							    evt[k]);
				ttft_http_rx_feed(&rx, NULL, one, m, 0, collect_runs, &ev);
			}
			ttft_http_rx_feed(&rx, NULL, buf, n, 0, collect_runs, &ev);
			ck_assert_msg(g_max_run == 5, "tl %zu sl %zu: a run of %lld", tl, sl,
				      (long long)g_max_run);
		}
	free(buf);
	free(one);
}
END_TEST

START_TEST(not_http_is_a_desync)
{
	struct ttft_http_tx tx;
	ttft_http_tx_init(&tx);
	ev.n = 0;
	const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	ttft_http_tx_feed(&tx, tls, sizeof tls - 1, 1, 1, tu_collect, &ev);
	ttft_http_tx_feed(&tx, "GET / HTTP/1.1\r\n\r\n", 18, 1, 1, tu_collect, &ev);
	ck_assert_uint_eq(ev.n, 1);
	ck_assert_uint_eq(ev.ev[0].kind, TTFT_EV_DESYNC);
	ck_assert_int_eq(ev.ev[0].b, TTFT_DESYNC_NOT_HTTP);
	ttft_http_tx_init(&tx);
	ev.n = 0;
	const char *h2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	ttft_http_tx_feed(&tx, h2, strlen(h2), 1, 1, tu_collect, &ev);
	ck_assert_uint_eq(ev.ev[0].kind, TTFT_EV_DESYNC);

	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, "SSH-2.0-OpenSSH\r\n", 17, 1);
	ck_assert_uint_eq(ev.n, 1);
	ck_assert_int_eq(ev.ev[0].b, TTFT_DESYNC_BAD_STATUS);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	const char *bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	feed_rx(&rx, NULL, bad, strlen(bad), 1);
	ck_assert_uint_eq(ev.ev[ev.n - 1].kind, TTFT_EV_DESYNC);
	ck_assert_int_eq(ev.ev[ev.n - 1].b, TTFT_DESYNC_BAD_CHUNK);
}
END_TEST

START_TEST(random_garbage_never_crashes)
{
	unsigned x = 99;
	char buf[2048];
	for (int round = 0; round < 500; round++) {
		for (size_t i = 0; i < sizeof buf; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		/* half the rounds start as a plausible response */
		if (round % 2)
			memcpy(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
				    "Content-Type: text/event-stream\r\n\r\n", 80);
		struct ttft_http_rx rx;
		struct ttft_http_tx tx;
		ttft_http_rx_init(&rx);
		ttft_http_tx_init(&tx);
		ev.n = 0;
		feed_rx(&rx, &tx, buf, sizeof buf, 1);
		ttft_http_tx_feed(&tx, buf, sizeof buf, 1, 1, tu_collect, &ev);
		ttft_http_rx_eof(&rx, NULL, 2, tu_collect, &ev);
	}
}
END_TEST

/* A line kept across reads whose length another thread reading the same
 * socket stored meanwhile (the sniffer is lock-free; such a connection's
 * rows are wrong anyway): its lines may be wrong, but nothing is written
 * past the buffer. Before, a kept length past the buffer made the room
 * left wrap around, and the next piece was copied past it. */
START_TEST(a_kept_line_never_writes_past_its_buffer)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/ev";
	struct {
		struct ttft_http_rx rx;
		char guard[512];
	} r;
	memset(&r, 0, sizeof r);
	ttft_http_rx_init(&r.rx);
	memset(r.guard, 0x5a, sizeof r.guard);
	ev.n = 0;
	feed_rx(&r.rx, NULL, resp, sizeof resp - 1, 1);
	ck_assert_uint_gt(r.rx.hlen, 0); /* a header line is kept */
	struct ttft_sse sse = r.rx.sse;
	r.rx.hlen = 255;
	feed_rx(&r.rx, NULL, "ent-stream-and-more", 19, 2);
	ck_assert_msg(!memcmp(&sse, &r.rx.sse, sizeof sse),
		      "a kept header line was written past its buffer");
	for (size_t i = 0; i < sizeof r.guard; i++)
		ck_assert_int_eq(r.guard[i], 0x5a);

	struct {
		struct ttft_http_tx tx;
		char guard[512];
	} t;
	memset(&t, 0, sizeof t);
	ttft_http_tx_init(&t.tx);
	memset(t.guard, 0x5a, sizeof t.guard);
	ttft_http_tx_feed(&t.tx, "GET /v1/mod", 11, 1, 1, tu_collect, &ev);
	ck_assert_uint_gt(t.tx.llen, 0); /* the request line is kept */
	char hdr[sizeof t.tx.hdr];
	memcpy(hdr, t.tx.hdr, sizeof hdr);
	t.tx.llen = 255;
	ttft_http_tx_feed(&t.tx, "els-and-more-bytes-than-that", 28, 2, 2,
			  tu_collect, &ev);
	ck_assert_msg(!memcmp(hdr, t.tx.hdr, sizeof hdr),
		      "a kept request line was written past its buffer");
	for (size_t i = 0; i < sizeof t.guard; i++)
		ck_assert_int_eq(t.guard[i], 0x5a);
	ttft_http_tx_feed(&t.tx, "Host: x", 7, 3, 3, tu_collect, &ev);
	t.tx.hlen = 255;
	ttft_http_tx_feed(&t.tx, "-and-more-bytes-than-that", 25, 4, 4,
			  tu_collect, &ev);
	for (size_t i = 0; i < sizeof t.guard; i++)
		ck_assert_int_eq(t.guard[i], 0x5a);
}
END_TEST

/* CONNECT host:port (a proxy's tunnel) is a request, whole or cut at any
 * byte; its 2xx has no body, and the plain HTTP through the tunnel is
 * read afresh: the next request and its streamed response, numbered on;
 * its headers event alone is flagged TTFT_F_TUNNEL. A CONNECT answered
 * 407 keeps its body and opens no tunnel. A target that is no authority
 * is not HTTP. */
START_TEST(connect_tunnel_at_every_split)
{
	static const char req[] = "CONNECT 10.9.9.9:8000 HTTP/1.1\r\nHost: 10.9.9.9:8000\r\n\r\n"
				  "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 Connection established\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t rl = sizeof req - 1;
	for (size_t cut = 1; cut < rl; cut++) {
		struct ttft_http_tx tx;
		struct ttft_http_rx rx;
		ttft_http_tx_init(&tx);
		ttft_http_rx_init(&rx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, req, cut, 1, 1, tu_collect, &ev);
		ttft_http_tx_feed(&tx, req + cut, rl - cut, 2, 2, tu_collect, &ev);
		feed_rx(&rx, &tx, resp, sizeof resp - 1, 3);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_REQ_BEGIN), 2);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_DESYNC), 0);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_RESP_HEADERS), 2);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_RESP_END), 2);
		ck_assert_str_eq(ev.text[0], "CONNECT 10.9.9.9:8000");
		ck_assert_uint_eq(rx.seq, 2);
		/* the CONNECT's 2xx alone says a tunnel opened (the shim then
		 * tests the tunnel's first bytes for a TLS handshake) */
		int tunnels = 0, first = -1;
		for (size_t i = 0; i < ev.n; i++)
			if (ev.ev[i].kind == TTFT_EV_RESP_HEADERS) {
				tunnels += (ev.ev[i].flags & TTFT_F_TUNNEL) != 0;
				if (first < 0)
					first = (ev.ev[i].flags & TTFT_F_TUNNEL) != 0;
			}
		ck_assert_int_eq(tunnels, 1);
		ck_assert_int_eq(first, 1);
	}
	/* 407: the body is the response's, then the next request's answer */
	{
		struct ttft_http_tx tx;
		struct ttft_http_rx rx;
		ttft_http_tx_init(&tx);
		ttft_http_rx_init(&rx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, req, 55, 1, 1, tu_collect, &ev);
		static const char r407[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
					   "Content-Length: 4\r\n\r\nauth";
		feed_rx(&rx, &tx, r407, sizeof r407 - 1, 3);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_RESP_END), 1);
		ck_assert_uint_eq(tu_count(&ev, TTFT_EV_DESYNC), 0);
		for (size_t i = 0; i < ev.n; i++) /* refused: no tunnel */
			ck_assert(!(ev.ev[i].kind == TTFT_EV_RESP_HEADERS &&
				    (ev.ev[i].flags & TTFT_F_TUNNEL)));
	}
	/* 101: its request's row gets the status (it said "read none",
	 * status null), then what follows is another protocol: no end */
	{
		struct ttft_http_tx tx;
		struct ttft_http_rx rx;
		ttft_http_tx_init(&tx);
		ttft_http_rx_init(&rx);
		ev.n = 0;
		static const char up[] = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
		ttft_http_tx_feed(&tx, up, sizeof up - 1, 1, 1, tu_collect, &ev);
		static const char r101[] = "HTTP/1.1 101 Switching Protocols\r\n"
					   "Upgrade: websocket\r\n\r\n\x81\x05hello";
		feed_rx(&rx, &tx, r101, sizeof r101 - 1, 3);
		char k[128];
		ck_assert_str_eq(tu_kinds(&ev, k, sizeof k), "REQ SENT H DESYNC");
		ck_assert_int_eq(ev.ev[2].a, 101);
	}
	static const char *bad[] = {"CONNECT /x HTTP/1.1\r\n\r\n", "CONNECT host HTTP/1.1\r\n\r\n",
				    "CONNECT a:b:c\" HTTP/1.1\r\n\r\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ttft_http_tx tx;
		ttft_http_tx_init(&tx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, bad[i], strlen(bad[i]), 1, 1, tu_collect, &ev);
		ck_assert_msg(tu_count(&ev, TTFT_EV_DESYNC) == 1 ||
			      (i == 0 && tu_count(&ev, TTFT_EV_REQ_BEGIN) == 1), "%s", bad[i]);
	}
}
END_TEST

START_TEST(compressed_stream_is_marked_not_read)
{
	/* gzip'd events are bytes the sniffer cannot read: the response says
	 * so (and yields no events) instead of looking like no stream. */
	/* a Content-Encoding (a coding anywhere in its list), or the coding
	 * list of a Transfer-Encoding: compressed under the chunks */
	static const char *const enc[] = {
		"Content-Encoding: gzip\r\nTransfer-Encoding: chunked",
		"Content-Encoding: br\r\nTransfer-Encoding: chunked",
		"Content-Encoding: deflate\r\nTransfer-Encoding: chunked",
		"Content-Encoding: zstd\r\nTransfer-Encoding: chunked",
		"Content-Encoding: GZIP\r\nTransfer-Encoding: chunked",
		"Content-Encoding: x-gzip\r\nTransfer-Encoding: chunked",
		"Content-Encoding: identity, gzip\r\nTransfer-Encoding: chunked",
		"Content-Encoding: Identity ,\tBR\r\nTransfer-Encoding: chunked",
		"Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"
		"Content-Encoding: identity",
		"Transfer-Encoding: gzip, chunked",
		"transfer-encoding: GZIP,CHUNKED",
		"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
	};
	for (size_t k = 0; k < sizeof enc / sizeof enc[0]; k++) {
		char r[512];
		int n = snprintf(r, sizeof r,
				 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				 "%s\r\n\r\n"
				 "19\r\ndata: {\"choices\":[{\"text\"\r\n"
				 "9\r\n:\"x\"}]}\n\n\r\n0\r\n\r\n", enc[k]);
		for (int i = 1; i < n; i++) {
			struct ttft_http_rx rx;
			ttft_http_rx_init(&rx);
			ev.n = 0;
			feed_rx(&rx, NULL, r, (size_t)i, 1);
			feed_rx(&rx, NULL, r + i, (size_t)(n - i), 2);
			char kinds[64];
			ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "H END"),
				      "%s: %s", enc[k], kinds);
			ck_assert_msg((ev.ev[0].flags & (TTFT_F_COMPRESSED | TTFT_F_SSE)) ==
				      (TTFT_F_COMPRESSED | TTFT_F_SSE), "%s", enc[k]);
		}
	}
	/* identity is no compression, nor is a list of identities, nor a
	 * Transfer-Encoding of chunked and identity; nor is "none", which
	 * some servers send: curl takes it for identity, and CPython,
	 * urllib3 and undici decode only the codings they know, so every
	 * client reads such a body as it came */
	static const char *const ids[] = {"content-encoding: identity",
					  "Content-Encoding: identity, IDENTITY",
					  "transfer-encoding: identity",
					  "Content-Encoding: none",
					  "Content-Encoding: NONE ",
					  "Content-Encoding: none, identity"};
	for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
		char id[512];
		snprintf(id, sizeof id, "HTTP/1.1 200 OK\r\n%s\r\n"
			 "content-type: text/event-stream\r\ncontent-length: 34\r\n\r\n"
			 "data: {\"choices\":[{\"text\":\"x\"}]}\n\n", ids[k]);
		struct ttft_http_rx rx;
		ttft_http_rx_init(&rx);
		ev.n = 0;
		feed_rx(&rx, NULL, id, strlen(id), 1);
		char kinds[64];
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "H T END"), "%s: %s",
			      ids[k], kinds);
		ck_assert_uint_eq(ev.ev[0].flags & TTFT_F_COMPRESSED, 0);
	}
}
END_TEST

START_TEST(server_numbers_follow_their_event)
{
	char *req, *resp;
	size_t rl, n;
	tu_load_http("completions-stream", &req, &rl, &resp, &n);
	for (size_t step = 1; step <= n; step = step < 16 ? step + 1 : step * 4) {
		struct ttft_http_rx rx;
		ttft_http_rx_init(&rx);
		ev.n = 0;
		for (size_t i = 0; i < n; i += step)
			feed_rx(&rx, NULL, resp + i, n - i < step ? n - i : step, (int64_t)i);
		size_t k = 0;
		while (k < ev.n && ev.ev[k].kind != TTFT_EV_SERVER_NUMBERS)
			k++;
		ck_assert_uint_lt(k, ev.n);
		/* right after the last chunk's event, stamped alike */
		ck_assert_uint_eq(ev.ev[k - 1].kind, TTFT_EV_SSE_EMPTY);
		ck_assert_uint_eq(ev.ev[k - 1].flags & TTFT_SSE_F_NUMS, TTFT_SSE_F_NUMS);
		ck_assert_int_eq(ev.ev[k].t_ns, ev.ev[k - 1].t_ns);
		ck_assert_int_eq(ev.ev[k].a, 0xff);
		ck_assert_uint_eq(ev.ev[k].text_len, sizeof(struct ttft_rec_numbers));
		struct ttft_rec_numbers v;
		memcpy(&v, ev.ev[k].text, sizeof v);
		ck_assert_uint_eq(v.v[TTFT_NUM_PROMPT_N], 1);
		ck_assert_uint_eq(v.v[TTFT_NUM_PROMPT_US], 8424);
		ck_assert_uint_eq(v.v[TTFT_NUM_CACHE_N], 7);
		ck_assert_uint_eq(v.v[TTFT_NUM_PREDICTED_N], 8);
		ck_assert_uint_eq(v.v[TTFT_NUM_PREDICTED_US], 47862);
		ck_assert_uint_eq(v.v[TTFT_NUM_PROMPT_TOKENS], 8);
	}
	free(req), free(resp);
}
END_TEST

START_TEST(headers_any_case_any_split)
{
	const char *r = "HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: Chunked\r\n"
			"Content-TYPE:text/Event-Stream\r\nX-Long: "
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
			"22\r\ndata: {\"choices\":[{\"text\":\"x\"}]}\n\n\r\n0\r\n\r\n";
	size_t n = strlen(r);
	for (size_t i = 1; i < n; i++) {
		struct ttft_http_rx rx;
		ttft_http_rx_init(&rx);
		ev.n = 0;
		feed_rx(&rx, NULL, r, i, 1);
		feed_rx(&rx, NULL, r + i, n - i, 2);
		char kinds[64];
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "H T END"),
			      "split %zu: %s", i, kinds);
		ck_assert_uint_eq(ev.ev[0].flags, TTFT_F_CHUNKED | TTFT_F_SSE);
	}
}
END_TEST


START_TEST(traceparent_is_kept_at_every_split)
{
	static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	char r[512];
	int n = snprintf(r, sizeof r,
			 "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
			 "Content-Type: application/json\r\nTraceparent: %s\r\n"
			 "Content-Length: 2\r\n\r\n{}"
			 "GET /health HTTP/1.1\r\ntraceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736"
			 "-00f067aa0ba902b7-01\r\ntraceparent: 00-abc-01\r\n\r\n", tp);
	for (int i = 1; i < n; i++) {
		struct ttft_http_tx tx;
		ttft_http_tx_init(&tx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, r, (size_t)i, 1, 1, tu_collect, &ev);
		ttft_http_tx_feed(&tx, r + i, (size_t)(n - i), 2, 2, tu_collect, &ev);
		char kinds[64];
		/* the second request's values are not W3C traceparents */
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "REQ TP SENT REQ SENT"),
			      "split %d: %s", i, kinds);
		ck_assert_str_eq(ev.ev[1].text, tp);
		ck_assert_uint_eq(ev.ev[1].seq, 0);
		ck_assert_str_eq(ev.ev[0].text, "POST /v1/chat/completions");
		ck_assert_str_eq(ev.ev[3].text, "GET /health");
		ck_assert_int_eq(ev.ev[2].a, (int64_t)(strstr(r, "GET") - r));
	}
}
END_TEST

/* What follows a traceparent's 55 characters: a '-' and more (a later
 * version's fields; W3C calls version 00 with them invalid, which the
 * tools judge) is flagged TTFT_F_TP_MORE; blanks (HTTP's trailing
 * whitespace) are nothing; anything else makes it no traceparent. The
 * record's text is the 55 characters either way. */
START_TEST(traceparent_says_what_follows_its_55_characters)
{
	static const char id[] = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	static const struct {
		const char *ver, *after;
		int tp, flags;
	} c[] = {
		{"00", "", 1, 0},
		{"00", "  \t", 1, 0},
		{"00", "-what-the-future-will-be-like", 1, TTFT_F_TP_MORE},
		{"cc", "-what-the-future-will-be-like", 1, TTFT_F_TP_MORE},
		{"00", " what", 0, 0},
		{"cc", ".what", 0, 0},
	};
	for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
		char r[256], want[64];
		snprintf(want, sizeof want, "%s-%s", c[k].ver, id);
		int n = snprintf(r, sizeof r, "GET / HTTP/1.1\r\ntraceparent: %s%s\r\n\r\n",
				 want, c[k].after);
		struct ttft_http_tx tx;
		ttft_http_tx_init(&tx);
		ev.n = 0;
		ttft_http_tx_feed(&tx, r, (size_t)n, 1, 1, tu_collect, &ev);
		char kinds[64];
		ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds),
				 c[k].tp ? "REQ TP SENT" : "REQ SENT");
		if (!c[k].tp)
			continue;
		ck_assert_str_eq(ev.ev[1].text, want);
		ck_assert_msg(ev.ev[1].flags == c[k].flags, "\"%s%s\": flags %#x", want,
			      c[k].after, ev.ev[1].flags);
	}
}
END_TEST

/* ---- header lines: the word-at-a-time reader against the byte one ---- */

/* The reader as it was, a byte at a time: the reference. */
static char ref_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int ref_ieq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ref_lower(s[i]) != lit[i])
			return 0;
	return 1;
}

static int ref_icontains(const char *s, size_t n, const char *lit, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (ref_ieq(s + i, lit, k))
			return 1;
	return 0;
}

/* Whether a header line names a coding no client decodes here, from the
 * rule itself (docs/shim.md), written apart from the reader: the line
 * lower-cased (ASCII letters only), its name Transfer-Encoding or
 * Content-Encoding, and its value cut at each ',', each member trimmed of
 * blanks: one that is not empty, identity, none (Content-Encoding) or
 * chunked (Transfer-Encoding) compresses. */
static int ref_codings(const char *h, size_t n)
{
	char s[64];
	ck_assert_uint_le(n, sizeof s);
	for (size_t i = 0; i < n; i++)
		s[i] = ref_lower(h[i]);
	const char *end = s + n, *colon = memchr(s, ':', n);
	if (!colon)
		return 0;
	size_t k = (size_t)(colon - s);
	int te = k == 17 && !memcmp(s, "transfer-encoding", k);
	int ce = k == 16 && !memcmp(s, "content-encoding", k);
	for (const char *m = colon + 1; te || ce; ) {
		const char *cut = memchr(m, ',', (size_t)(end - m));
		const char *a = m, *z = cut ? cut : end;
		for (; a < z && (*a == ' ' || *a == '\t'); a++)
			;
		for (; z > a && (z[-1] == ' ' || z[-1] == '\t'); z--)
			;
		size_t len = (size_t)(z - a);
		if (len && !(len == 8 && !memcmp(a, "identity", 8)) &&
		    !(ce && len == 4 && !memcmp(a, "none", 4)) &&
		    !(te && len == 7 && !memcmp(a, "chunked", 7)))
			return 1;
		if (!cut)
			break;
		m = cut + 1;
	}
	return 0;
}

/* The coding lists read as the byte-at-a-time reader reads them: every
 * byte of these lines as each of its 256 values (the usual line's one
 * compare: case, and the bytes that differ from it by 0x20 only), and,
 * through the sniffer, a response's headers flagged compressed as that
 * says (a line is asked only where its name can be 16 or 17 bytes). */
START_TEST(coding_lists_read_as_byte_by_byte)
{
	static const char *const lines[] = {
		"Transfer-Encoding: chunked", "transfer-encoding:chunked",
		"Transfer-Encoding:  chunked", "Transfer-Encoding: chunked ",
		"Transfer-Encoding: gzip, chunked", "Content-Encoding: gzip",
		"Content-Encoding: identity", "Content-Encoding:  none",
		"Content-Type: text/event-stream", "Transfer-Encoding:\tchunked",
	};
	size_t checked = 0;
	for (size_t k = 0; k < sizeof lines / sizeof *lines; k++) {
		char h[64];
		size_t n = strlen(lines[k]);
		for (size_t i = 0; i < n; i++)
			for (int c = 0; c < 256; c++) {
				memcpy(h, lines[k], n);
				h[i] = (char)c;
				int want = ref_codings(h, n);
				ck_assert_msg(ttft_http_codings_compress_(h, n) == want,
					      "%s, byte %zu as 0x%02x", lines[k], i, c);
				char r[256];
				int rn = snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\n%.*s\r\n"
						  "content-length: 0\r\n\r\n", (int)n, h);
				if (memchr(h, '\r', n) || memchr(h, '\n', n) || !c)
					continue;
				struct ttft_http_rx rx;
				ttft_http_rx_init(&rx);
				ev.n = 0;
				feed_rx(&rx, NULL, r, (size_t)rn, 1);
				ck_assert_msg(ev.n >= 1 && ev.ev[0].kind == TTFT_EV_RESP_HEADERS,
					      "%s, byte %zu as 0x%02x", lines[k], i, c);
				/* a Content-Encoding's first coding is header_line's */
				if (want)
					ck_assert_msg(ev.ev[0].flags & TTFT_F_COMPRESSED,
						      "%s, byte %zu as 0x%02x", lines[k], i, c);
				checked++;
			}
	}
	ck_assert_uint_gt(checked, 5000);
}
END_TEST

/* 0: none; 1: 55 characters, then nothing or blanks; 2: then '-' and more */
static int ref_traceparent(const char *v, size_t n)
{
	if (n < 55)
		return 0;
	for (size_t i = 0; i < 55; i++) {
		char c = v[i];
		int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (i == 2 || i == 35 || i == 52 ? c != '-' : !hex)
			return 0;
	}
	if (n > 55 && v[55] == '-')
		return 2;
	for (size_t i = 55; i < n; i++)
		if (v[i] != ' ' && v[i] != '\t')
			return 0;
	return 1;
}

static void ref_header_line(const char *h, size_t n, struct hdr_info *hi)
{
	const char *colon = memchr(h, ':', n);
	if (!colon)
		return;
	size_t k = (size_t)(colon - h);
	const char *v = colon + 1, *e = h + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	size_t vn = (size_t)(e - v);
	if (k == 14 && ref_ieq(h, "content-length", 14)) {
		uint64_t x = 0;
		int digits = 0;
		for (; v < e && *v >= '0' && *v <= '9' && digits < 19; v++, digits++)
			x = x * 10 + (uint64_t)(*v - '0');
		if (digits) {
			hi->length = x;
			hi->has_len = 1;
		}
	} else if (k == 17 && ref_ieq(h, "transfer-encoding", 17)) {
		hi->chunked = (uint8_t)ref_icontains(v, vn, "chunked", 7);
	} else if (k == 12 && ref_ieq(h, "content-type", 12)) {
		hi->sse = (uint8_t)ref_icontains(v, vn, "text/event-stream", 17);
	} else if (k == 16 && ref_ieq(h, "content-encoding", 16)) {
		hi->compressed = vn && !(vn >= 8 && ref_ieq(v, "identity", 8) &&
					 (vn == 8 || v[8] == ' ' || v[8] == ','));
	} else if (k == 11 && ref_ieq(h, "traceparent", 11) && ref_traceparent(v, vn)) {
		hi->traceparent = v;
		hi->tp_flags = ref_traceparent(v, vn) == 2 ? TTFT_F_TP_MORE : 0;
	} else if (k == 6 && ref_ieq(h, "expect", 6)) {
		hi->expect = (uint8_t)ref_icontains(v, vn, "100-continue", 12);
	}
}

static long g_lines_checked;

/* The line in its own allocation (a read past it is ASan's report), read
 * by both; every field the same. */
static void same_reading(const char *line, size_t n)
{
	char *h = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(h);
	memcpy(h, line, n);
	struct hdr_info a = {0}, b = {0};
	ref_header_line(h, n, &a);
	ttft_http_header_line_(h, n, &b);
	ck_assert_msg(a.length == b.length && a.has_len == b.has_len &&
		      a.chunked == b.chunked && a.sse == b.sse &&
		      a.compressed == b.compressed && a.expect == b.expect &&
		      a.traceparent == b.traceparent && a.tp_flags == b.tp_flags,
		      "\"%.*s\": len %d/%d chunked %d/%d sse %d/%d enc %d/%d "
		      "expect %d/%d tp %d/%d tp flags %d/%d", (int)n, line, a.has_len,
		      b.has_len, a.chunked, b.chunked, a.sse, b.sse, a.compressed,
		      b.compressed, a.expect, b.expect, a.traceparent != NULL,
		      b.traceparent != NULL, a.tp_flags, b.tp_flags);
	free(h);
	g_lines_checked++;
}

/* Every byte of the line, in turn, as each of the 256 values. */
static void every_byte_every_value(const char *line)
{
	size_t n = strlen(line);
	char buf[256];
	ck_assert_uint_lt(n, sizeof buf);
	memcpy(buf, line, n);
	same_reading(buf, n);
	for (size_t i = 0; i < n; i++) {
		char keep = buf[i];
		for (int c = 0; c < 256; c++) {
			buf[i] = (char)c;
			same_reading(buf, n);
		}
		buf[i] = keep;
	}
}

START_TEST(header_lines_read_as_byte_by_byte)
{
	static const char *const lines[] = {
		"Content-Length: 1234",
		"content-length:42",
		"CONTENT-LENGTH: 18446744073709551615999",
		"Transfer-Encoding: chunked",
		"transfer-encoding: gzip, CHUNKED",
		"Content-Type: text/event-stream; charset=utf-8",
		"content-type:TEXT/EVENT-STREAM",
		"Content-Type: application/json; x=text/event-strea",
		"Content-Encoding: gzip",
		"content-encoding: identity",
		"Content-Encoding: IDENTITY, gzip",
		"content-encoding: identity ",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"Traceparent:\t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
		"TRACEPARENT: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
		"traceparent: cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x-y",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \t x",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
		"Expect: 100-continue",
		"expect:100-CONTINUE",
		"Exp: 1",
		"Host: 127.0.0.1:8000",
		"content-length",
		"c:",
	};
	long want = 5;
	for (size_t k = 0; k < sizeof lines / sizeof *lines; k++) {
		every_byte_every_value(lines[k]);
		want += 1 + 256 * (long)strlen(lines[k]) + (long)strlen(lines[k]) + 1;
	}
	/* every length of every line, every prefix a line cut short */
	for (size_t k = 0; k < sizeof lines / sizeof *lines; k++)
		for (size_t n = 0; n <= strlen(lines[k]); n++)
			same_reading(lines[k], n);
	/* the dash positions against the bytes that 0x20 would make a dash
	 * ('\r' | 0x20 is '-'), the letters against their case partners */
	const char *tricky[] = {"content\rlength: 5", "transfer\rencoding: chunked",
				"CONTENT\x0dTYPE: text/event-stream",
				"content-type: text\x0f" "event-stream",
				"Expect: 100\x0d" "continue"};
	for (size_t k = 0; k < sizeof tricky / sizeof *tricky; k++) {
		struct hdr_info hi = {0};
		ttft_http_header_line_(tricky[k], strlen(tricky[k]), &hi);
		ck_assert_msg(!hi.has_len && !hi.chunked && !hi.sse && !hi.expect,
			      "%s read as a known header", tricky[k]);
		same_reading(tricky[k], strlen(tricky[k]));
	}
	ck_assert_int_eq(g_lines_checked, want);
}
END_TEST

/* The response's events, the same whole in one read as a byte at a time
 * (which never reads a line in place); times aside: a byte's read is its
 * own there. */
static void same_events_whole_and_bytewise(const char *r, size_t n)
{
	static struct tu_events whole;
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	whole.n = 0;
	char *copy = malloc(n);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, r, n);
	ttft_http_rx_feed(&rx, NULL, copy, n, 1, tu_collect, &whole);
	ttft_http_rx_eof(&rx, NULL, 2, tu_collect, &whole);
	ttft_http_rx_init(&rx);
	ev.n = 0;
	for (size_t i = 0; i < n; i++)
		feed_rx(&rx, NULL, copy + i, 1, 1);
	ttft_http_rx_eof(&rx, NULL, 2, tu_collect, &ev);
	free(copy);
	ck_assert_msg(whole.n == ev.n, "\"%.20s\": %zu events whole, %zu bytewise",
		      r, whole.n, ev.n);
	for (size_t k = 0; k < ev.n; k++)
		ck_assert_msg(whole.ev[k].kind == ev.ev[k].kind &&
			      whole.ev[k].flags == ev.ev[k].flags &&
			      whole.ev[k].a == ev.ev[k].a && whole.ev[k].b == ev.ev[k].b,
			      "\"%.20s\": event %zu differs", r, k);
}

/* The one-token read tests is_sse and compressed as one word
 * (rx_sse_plain): each stays 0 or 1 however many lines set it, and the
 * word says is_sse && !compressed. */
START_TEST(sse_and_compressed_are_each_0_or_1)
{
	static const char *const heads[] = {
		"content-type: text/event-stream\r\ncontent-type: text/event-stream\r\n",
		"content-type: text/event-stream\r\ncontent-encoding: gzip\r\n"
		"content-encoding: br\r\ntransfer-encoding: gzip, chunked\r\n",
		"content-encoding: identity, gzip\r\ncontent-type: TEXT/EVENT-STREAM; a=b\r\n",
		"content-type: application/json\r\n",
		"content-encoding: identity\r\ncontent-type: text/event-stream\r\n",
	};
	for (size_t k = 0; k < sizeof heads / sizeof *heads; k++) {
		char buf[512];
		int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n%s"
			"transfer-encoding: chunked\r\n\r\n", heads[k]);
		struct ttft_http_rx rx;
		ttft_http_rx_init(&rx);
		ev.n = 0;
		feed_rx(&rx, NULL, buf, (size_t)n, 1);
		ck_assert_uint_le(rx.is_sse, 1);
		ck_assert_uint_le(rx.compressed, 1);
		ck_assert_int_eq(rx_sse_plain(&rx), rx.is_sse && !rx.compressed);
		ck_assert_int_eq(rx.is_sse && !rx.compressed, k == 0 || k == 4);
	}
}
END_TEST

/* The one-token read's whole-chunk test (chunk_whole) says what
 * chunk_span does of a whole read: chunks of every size to 300 bytes and
 * around 4 KiB, their sizes in each spelling (lower and upper case, leading
 * zeros, an extension), each of their first six and last two bytes as
 * every byte value, and one byte short or over. */
START_TEST(a_whole_chunk_is_what_chunk_span_says)
{
	static const char *const fmt[] = {"%zx", "%zX", "%02zx", "%03zx", "%04zx",
					  "%zx;e"};
	static char buf[4200 + 16];
	size_t checked = 0, whole = 0;
	/* under the sanitizers, each changed byte takes 1 value in k, a
	 * different one at each size, spelling and place: every value still
	 * comes at every place over the sizes */
	const int k = tu_stride("a_whole_chunk_is_what_chunk_span_says");
	for (size_t v = 0; v <= 4200; v++) {
		if (v > 300 && v < 4070)
			v = 4070;
		for (size_t f = 0; f < sizeof fmt / sizeof *fmt; f++) {
			int h = snprintf(buf, 16, fmt[f], v);
			memcpy(buf + h, "\r\n", 2);
			memset(buf + h + 2, 'x', v);
			memcpy(buf + h + 2 + v, "\r\n", 2);
			size_t n = (size_t)h + 4 + v;
			for (size_t pos = 0; pos < 8; pos++) {
				size_t at = pos < 6 ? pos : n - 8 + pos;
				char keep = buf[at];
				for (int c = pos ? (int)((v + f + pos) % (size_t)k) : 255; c < 256; c += k) {
					if (pos)
						buf[at] = (char)c;
					for (size_t m = n - 1; m <= n + 1; m++) {
						const char *d1 = NULL, *d2 = NULL;
						size_t l1 = 0, l2 = 0;
						int w = chunk_whole(buf, m, &d1, &l1);
						int s = chunk_span(buf, m, &d2, &l2) == m;
						ck_assert_msg(w == s, "%s of %zu, byte %zu as %d, %zu bytes: %d, chunk_span %d",
							      fmt[f], v, at, c, m, w, s);
						if (w) {
							ck_assert_ptr_eq(d1, d2);
							ck_assert_uint_eq(l1, l2);
							whole++;
						}
						checked++;
					}
				}
				buf[at] = keep;
			}
		}
	}
	ck_assert_uint_gt(whole, 1000 / (size_t)k);
	ck_assert_uint_gt(checked, 1000000 / (size_t)k);
}
END_TEST

/* A body's last chunk where whole chunks were read ("0\r\n\r\n", taken
 * by rx_rest itself): the same events as the byte machine's, alone in its
 * read or with the next answer behind it, and the forms it does not take
 * (a trailer, "00", an extension, one cut) the byte machine's too; the
 * response's end at every split. */
START_TEST(a_last_chunk_after_whole_chunks_ends_the_response)
{
	static const char *const last[] = {"0\r\n\r\n", "0\r\nX-T: 1\r\n\r\n",
					   "00\r\n\r\n", "0;e\r\n\r\n", "0\r\n\r"};
	static const char head[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				   "transfer-encoding: chunked\r\n\r\n";
	static const char one[] = "24\r\ndata: {\"content\":\"a\",\"stop\":false}\n\n\r\n";
	static const char more[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n";
	for (size_t k = 0; k < sizeof last / sizeof *last; k++)
		for (int m = 0; m < 2; m++) {
			char buf[1024];
			int n = snprintf(buf, sizeof buf, "%s%s%s%s", head, one,
					 last[k], m ? more : "");
			same_events_whole_and_bytewise(buf, (size_t)n);
			struct ttft_http_rx rx;
			ttft_http_rx_init(&rx);
			ev.n = 0;
			feed_rx(&rx, NULL, buf, (size_t)n, 1);
			size_t ends = 0;
			for (size_t j = 0; j < ev.n; j++)
				if (ev.ev[j].kind == TTFT_EV_RESP_END) {
					/* the first ends its read only alone */
					ck_assert_int_eq(ev.read_end[j], ends ? 1 : !m);
					ends++;
				}
			ck_assert_uint_eq(ends, k == 4 ? 0 : 1 + (size_t)m);
			for (size_t i = 1; k < 4 && i < (size_t)n; i++) {
				feed_split(buf, (size_t)n, i);
				char kinds[256];
				tu_kinds(&ev, kinds, sizeof kinds);
				ck_assert_msg(strstr(kinds, "END") != NULL, "%zu/%d split at %zu: %s",
					      k, m, i, kinds);
			}
		}
}
END_TEST

/* The sniffer tells the shim whether a response's end was the last byte
 * of its read (only then may the kernel's "time since data came" be that
 * end's arrival): not when the next answer's bytes (a 408 on an idle
 * connection, a pipelined one) came in the same read. */
START_TEST(a_responses_end_says_if_it_ended_the_read)
{
	static const char one[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "2\r\nok\r\n0\r\n\r\n";
	static const char more[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n";
	const char *resp[] = {one, chunked};
	for (int k = 0; k < 2; k++) {
		char buf[512];
		struct ttft_http_rx rx;
		/* alone in its read: the end ends it */
		ttft_http_rx_init(&rx);
		ev.n = 0;
		snprintf(buf, sizeof buf, "%s", resp[k]);
		feed_rx(&rx, NULL, buf, strlen(buf), 1);
		ck_assert_uint_eq(ev.n, 2);
		ck_assert_int_eq(ev.ev[1].kind, TTFT_EV_RESP_END);
		ck_assert_msg(ev.read_end[1], "%d", k);
		/* with the next answer behind it in the same read: not */
		ttft_http_rx_init(&rx);
		ev.n = 0;
		snprintf(buf, sizeof buf, "%s%s", resp[k], more);
		feed_rx(&rx, NULL, buf, strlen(buf), 1);
		ck_assert_uint_eq(ev.n, 4);
		ck_assert_int_eq(ev.ev[1].kind, TTFT_EV_RESP_END);
		ck_assert_msg(!ev.read_end[1], "%d", k);
		ck_assert(ev.read_end[3]); /* the 408 ends the read */
	}
}
END_TEST

/* Content-Length as the clients read it, two responses on one connection
 * at every split: "+N" is N (curl and CPython take it; read as no length,
 * the first response ran to the close and took the second's tokens into
 * its row, the second "no response"); values that differ, in two lines
 * or in one, give the framing up (curl frames by the last, CPython by the
 * first: a row by either would be wrong for the other client, with
 * nothing to say so), as does one folded onto the next line; equal ones are one length; a value too long for an
 * int64_t is none (curl reads to the close); chunked still wins. */
static void content_length_reads(const char *hdrs, const char *expect)
{
	static const char ev1[] = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n";
	char one[256], two[512], kinds[512];
	snprintf(one, sizeof one,
		 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s\r\n%s",
		 hdrs, ev1);
	snprintf(two, sizeof two, "%s%s", one, one);
	size_t n = strlen(two);
	for (size_t i = 1; i < n; i++) {
		feed_split(two, n, i);
		ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), expect),
			      "\"%s\" split at %zu: got %s, want %s", hdrs, i,
			      kinds, expect);
		for (size_t k = 0; k < ev.n; k++)
			if (ev.ev[k].kind == TTFT_EV_DESYNC)
				ck_assert_int_eq(ev.ev[k].b, TTFT_DESYNC_BAD_LENGTH);
	}
	same_events_whole_and_bytewise(one, strlen(one));
}

START_TEST(content_length_as_the_clients_read_it)
{
	/* the event is 34 bytes */
	content_length_reads("Content-Length: 34\r\n", "H T END H T END");
	content_length_reads("Content-Length: +34\r\n", "H T END H T END");
	content_length_reads("content-length:\t+34 \r\n", "H T END H T END");
	content_length_reads("Content-Length: 34, 34\r\n", "H T END H T END");
	content_length_reads("Content-Length: 34\r\nContent-Length: 34\r\n",
			     "H T END H T END");
	content_length_reads("Content-Length: 34\r\nContent-Length: 68\r\n",
			     "H DESYNC");
	content_length_reads("Content-Length: 68\r\nContent-Length: 34\r\n",
			     "H DESYNC");
	content_length_reads("Content-Length: 34, 68\r\n", "H DESYNC");
	content_length_reads("Content-Length: 34,,+68\r\n", "H DESYNC");
	content_length_reads("Content-Length: 34\r\nContent-Length: 1, 1\r\n",
			     "H DESYNC");
	/* folded onto the next line (obs-fold): curl refuses it, CPython
	 * joins it; a fold after another header is nothing to the length */
	content_length_reads("Content-Length:\r\n 34\r\n", "H DESYNC");
	content_length_reads("Content-Length: 3\r\n\t4\r\n", "H DESYNC");
	content_length_reads("Content-Length: 34\r\nX-A: b\r\n c\r\n",
			     "H T END H T END");
	content_length_reads("X-A: b\r\n c\r\nContent-Length: 34\r\n",
			     "H T END H T END");
	/* too long for an int64_t: to the close (both responses' bytes are
	 * the body), as curl reads it */
	content_length_reads("Content-Length: 99999999999999999999999\r\n",
			     "H T T END");
	content_length_reads("Content-Length: 9223372036854775808\r\n",
			     "H T T END");
	/* chunked wins over any Content-Length (RFC 9112 6.3) */
	static const char chunked[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"
		"Content-Length: 4\r\n\r\n22\r\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n"
		"\r\n0\r\n\r\n";
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, chunked, strlen(chunked), 1);
	char kinds[64];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H T END");
}
END_TEST

/* A Content-Length that curl and CPython read apart, though not in
 * conflict: a list of equal values ("34, 34", one length to RFC 9110 and
 * curl) or text after the number ("34abc", 34 to curl): CPython's int()
 * refuses both and reads the body to the close. The sniffer frames by the
 * length, as curl does, and flags the response headers (TTFT_F_LEN_APART)
 * so that the row can say so; a plain value, "+34" or two equal lines
 * (CPython takes the first) are no flag. */
static uint16_t len_flags(const char *hdrs, size_t split)
{
	char one[256];
	snprintf(one, sizeof one,
		 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s\r\n"
		 "data: {\"choices\":[{\"text\":\"a\"}]}\n\n", hdrs);
	size_t n = strlen(one);
	if (split >= n)
		split = n - 1;
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, one, split, 1);
	feed_rx(&rx, NULL, one + split, n - split, 2);
	char kinds[64];
	ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "H T END"), "%s: %s",
		      hdrs, kinds);
	return ev.ev[0].flags;
}

START_TEST(a_content_length_clients_read_apart_is_flagged)
{
	static const char *const apart[] = {"Content-Length: 34, 34\r\n",
					    "Content-Length: 34,34 ,\r\n",
					    "Content-Length: 34abc\r\n",
					    "Content-Length: +34, 34\r\n"};
	static const char *const plain[] = {"Content-Length: 34\r\n",
					    "Content-Length: +34 \r\n",
					    "Content-Length: 34\r\nContent-Length: 34\r\n"};
	for (size_t split = 1; split < 140; split++) {
		for (size_t k = 0; k < sizeof apart / sizeof apart[0]; k++)
			ck_assert_msg(len_flags(apart[k], split) & TTFT_F_LEN_APART,
				      "%s split at %zu: no flag", apart[k], split);
		for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++)
			ck_assert_msg(!(len_flags(plain[k], split) & TTFT_F_LEN_APART),
				      "%s split at %zu: flagged", plain[k], split);
	}
}
END_TEST

/* A Content-Length line longer than the sniffer keeps of a header line (40
 * bytes): its value, cut there, is not the one the clients read ("000…034"
 * with 28 zeros is 34 to curl and CPython; cut, it read as 0, the first
 * row ended at its head, complete and empty, and its event went to a
 * desync of the next). A value that runs to the cut gives the framing up;
 * one that ends before it, blanks after it, is read. */
START_TEST(a_content_length_cut_by_the_line_buffer_is_no_length)
{
	char h[160];
	snprintf(h, sizeof h, "Content-Length: %030d\r\n", 34);
	content_length_reads(h, "H DESYNC");
	content_length_reads("Content-Length: 34, 34, 34, 34, 34, 34, 34\r\n",
			     "H DESYNC");
	snprintf(h, sizeof h, "Content-Length: %023d\r\n", 34);
	content_length_reads(h, "H T END H T END"); /* 39 bytes: whole */
	snprintf(h, sizeof h, "Content-Length: 34%30s\r\n", "");
	content_length_reads(h, "H DESYNC"); /* blanks to the cut: what after? */
}
END_TEST

START_TEST(status_lines_whole_read_as_bytewise)
{
	static const char *const status[] = {
		"HTTP/1.1 200 OK\r\n", "HTTP/1.0 404 Not Found\r\n", "HTTP/1.1 200\r\n",
		"HTTP/1.1 204 No Content\n", "\r\n\r\nHTTP/1.1 503 x\r\n",
		"HTTP/1.1 20 OK\r\n", "HTTP/1.1 2x0 OK\r\n", "HTTP/2 200 OK\r\n",
		"HTTX/1.1 200 OK\r\n", "HTTP/1.1  200 OK\r\n", "HTTP/1.120 OK\r\n",
		"HTTP/1.1 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Made\r\n",
		"HTTP/1.1 101 Switching\r\n", "HTTP\r\n", "\n",
	};
	static const char rest[] = "content-length: 3\r\n\r\nabc";
	char buf[256], one[256];
	for (size_t k = 0; k < sizeof status / sizeof *status; k++) {
		int n = snprintf(buf, sizeof buf, "%s%s", status[k], rest);
		same_events_whole_and_bytewise(buf, (size_t)n);
		/* every byte of the status line as each of 256 values */
		size_t sl = strlen(status[k]);
		for (size_t i = 0; i < sl; i++)
			for (int c = 0; c < 256; c++) {
				memcpy(one, buf, (size_t)n);
				one[i] = (char)c;
				same_events_whole_and_bytewise(one, (size_t)n);
			}
	}
	/* and the usual one reads as a response with its status */
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	snprintf(buf, sizeof buf, "HTTP/1.1 418 Teapot\r\n%s", rest);
	feed_rx(&rx, NULL, buf, strlen(buf), 1);
	char kinds[64];
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H END");
	ck_assert_int_eq(ev.ev[0].a, 418);
}
END_TEST

/* buf[0..n) to a fresh sniffer, whole in one read or a byte at a time;
 * its events in ev. */
static void feed_fresh(const char *buf, size_t n, int bytewise)
{
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			feed_rx(&rx, NULL, buf + i, 1, 1);
	else
		feed_rx(&rx, NULL, buf, n, 1);
}

/* A status code is three digits and ends there (RFC 9112: status-code =
 * 3DIGIT, then SP): "HTTP/1.1 2000 OK" is no status line (curl: "Unsupported
 * response code", CPython: BadStatusLine), yet its first three digits made a
 * row of status 200 with its token and a TTFT, complete, where the client saw
 * an error and no token. A reason phrase may be missing (the line ends after
 * the code) or follow a tab (curl and CPython take any space there). Whole
 * and byte by byte. */
START_TEST(a_status_code_is_three_digits)
{
	static const struct {
		const char *line;
		int status; /* 0: no status line */
	} cases[] = {
		{"HTTP/1.1 2000 OK\r\n", 0}, {"HTTP/1.1 2001\r\n", 0},
		{"HTTP/1.1 200x\r\n", 0},    {"HTTP/1.1 200.\n", 0},
		{"HTTP/1.1 200 OK\r\n", 200}, {"HTTP/1.1 200\r\n", 200},
		{"HTTP/1.1 200\n", 200},      {"HTTP/1.1 201\tOK\r\n", 201},
	};
	static const char rest[] = "content-length: 3\r\n\r\nabc";
	char buf[128], kinds[64];
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			int n = snprintf(buf, sizeof buf, "%s%s", cases[k].line, rest);
			feed_fresh(buf, (size_t)n, bytewise);
			tu_kinds(&ev, kinds, sizeof kinds);
			if (!cases[k].status) {
				ck_assert_msg(ev.n == 1 && ev.ev[0].kind == TTFT_EV_DESYNC &&
						      ev.ev[0].b == TTFT_DESYNC_BAD_STATUS,
					      "%s (bytewise %d): %s", cases[k].line, bytewise,
					      kinds);
			} else {
				ck_assert_msg(strcmp(kinds, "H END") == 0, "%s (bytewise %d): %s",
					      cases[k].line, bytewise, kinds);
				ck_assert_int_eq(ev.ev[0].a, cases[k].status);
			}
		}
}
END_TEST

/* A status line's version: HTTP/1.0 and 1.1 are the sniffer's own; any
 * other HTTP/1.x (RFC 9112 2.3: read as 1.1, as CPython does; curl and
 * cpp-httplib refuse the response) is framed as 1.1 and said, with its
 * version as the record's text (flag TTFT_F_HTTP_MINOR), whole in one read
 * or a byte at a time; a status line it comes before is no status line. */
START_TEST(a_minor_version_above_one_is_said)
{
	static const struct {
		const char *ver;
		const char *said; /* NULL: not said */
	} cases[] = {
		{"HTTP/1.1", NULL}, {"HTTP/1.0", NULL}, {"HTTP/1.2", "HTTP/1.2"},
		{"HTTP/1.9", "HTTP/1.9"}, {"HTTP/1.x", "HTTP/1.x"},
		{"HTTP/1.\x01", "HTTP/1.?"},
	};
	static const char rest[] = " 200 OK\r\ncontent-length: 3\r\n\r\nabc";
	char buf[128], kinds[64];
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			int n = snprintf(buf, sizeof buf, "%s%s", cases[k].ver, rest);
			feed_fresh(buf, (size_t)n, bytewise);
			ck_assert_msg(strcmp(tu_kinds(&ev, kinds, sizeof kinds), "H END") == 0,
				      "%s (bytewise %d): %s", cases[k].ver, bytewise, kinds);
			ck_assert_int_eq(ev.ev[0].a, 200);
			ck_assert_uint_eq(ev.ev[1].a, 3);
			if (cases[k].said) {
				ck_assert_uint_eq(ev.ev[0].flags & TTFT_F_HTTP_MINOR,
						  TTFT_F_HTTP_MINOR);
				ck_assert_str_eq(ev.text[0], cases[k].said);
			} else {
				ck_assert_uint_eq(ev.ev[0].flags & TTFT_F_HTTP_MINOR, 0);
			}
		}
	/* the next response on the connection says its own version */
	static const char two[] = "HTTP/1.2 204 No Content\r\n\r\n"
				  "HTTP/1.1 204 No Content\r\n\r\n";
	struct ttft_http_rx rx;
	ttft_http_rx_init(&rx);
	ev.n = 0;
	feed_rx(&rx, NULL, two, sizeof two - 1, 1);
	ck_assert_str_eq(tu_kinds(&ev, kinds, sizeof kinds), "H END H END");
	ck_assert_uint_eq(ev.ev[0].flags & TTFT_F_HTTP_MINOR, TTFT_F_HTTP_MINOR);
	ck_assert_uint_eq(ev.ev[2].flags & TTFT_F_HTTP_MINOR, 0);
	/* a minor version of two digits is no status line: the framing is
	 * given up (curl 7.88 refuses it too, "Unsupported HTTP version in
	 * response", exit 1; CPython takes it as 1.1), whole or bytewise */
	static const char *const two_digits[] = {"HTTP/1.12", "HTTP/1.10"};
	for (size_t k = 0; k < 2; k++)
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			int n = snprintf(buf, sizeof buf, "%s%s", two_digits[k], rest);
			feed_fresh(buf, (size_t)n, bytewise);
			ck_assert_msg(!strcmp(tu_kinds(&ev, kinds, sizeof kinds), "DESYNC"),
				      "%s (bytewise %d): %s", two_digits[k], bytewise, kinds);
			ck_assert_int_eq(ev.ev[0].b, TTFT_DESYNC_BAD_STATUS);
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *t = tu_tcase(s, "framing", 120);
	tcase_add_test(t, vllm_streams_every_split);
	tcase_add_test(t, a_content_length_cut_by_the_line_buffer_is_no_length);
	tcase_add_test(t, llamacpp_captures_every_split);
	tcase_add_test(t, llamacpp_capture_in_its_real_reads);
	tcase_add_test(t, request_framing_and_keepalive);
	tcase_add_test(t, chunked_request_body);
	tcase_add_test(t, nonstream_errors_and_continue);
	tcase_add_test(t, head_and_no_body_statuses);
	tcase_add_test(t, truncated_stream_and_eof);
	tcase_add_test(t, header_names_match_but_for_case_only);
	tcase_add_test(t, close_before_any_answer_ends_the_waiting_request);
	tcase_add_test(t, zero_padded_chunk_sizes);
	tcase_add_test(t, a_chunk_sizes_leading_zeros_are_no_limit);
	tcase_add_test(t, token_reads_match_the_byte_machines);
	tcase_add_test(t, a_read_of_token_events_is_one_run);
	tcase_add_test(t, a_run_is_split_at_what_a_record_holds);
	tcase_add_test(t, a_run_compares_every_template_byte);
	tcase_add_test(t, not_http_is_a_desync);
	tcase_add_test(t, random_garbage_never_crashes);
	tcase_add_test(t, compressed_stream_is_marked_not_read);
	tcase_add_test(t, coding_lists_read_as_byte_by_byte);
	tcase_add_test(t, server_numbers_follow_their_event);
	tcase_add_test(t, headers_any_case_any_split);
	tcase_add_test(t, traceparent_is_kept_at_every_split);
	tcase_add_test(t, traceparent_says_what_follows_its_55_characters);
	tcase_add_test(t, header_lines_read_as_byte_by_byte);
	tcase_add_test(t, status_lines_whole_read_as_bytewise);
	tcase_add_test(t, a_status_code_is_three_digits);
	tcase_add_test(t, a_minor_version_above_one_is_said);
	tcase_add_test(t, content_length_as_the_clients_read_it);
	tcase_add_test(t, a_content_length_clients_read_apart_is_flagged);
	tcase_add_test(t, a_responses_end_says_if_it_ended_the_read);
	tcase_add_test(t, a_last_chunk_after_whole_chunks_ends_the_response);
	tcase_add_test(t, a_whole_chunk_is_what_chunk_span_says);
	tcase_add_test(t, sse_and_compressed_are_each_0_or_1);
	tcase_add_test(t, a_kept_line_never_writes_past_its_buffer);
	tcase_add_test(t, connect_tunnel_at_every_split);
	return tu_run(s);
}
