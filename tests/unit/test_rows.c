/* test_rows.c — a row says what it is: a connection opened ahead of its
 * request (TTFT from the request, the idle time apart), a request cut by a
 * server reset, lost framing or a full log (complete: false and why, in the
 * table and in --json), DNS only from the connecting thread or a resolver
 * helper, a damaged header, connections the shim could not follow. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
#include "ttft_http.h"

static char g_path[256];
static struct ttft_log g_log;

#define MS(x) ((int64_t)((x) * 1000000.0))
#define T0 MS(1000)

static void ev_full(uint16_t kind, uint16_t flags, int64_t t, int pid, int tid,
		    uint64_t conn, uint32_t seq, int err, int64_t a, int64_t b,
		    const char *text)
{
	ttft_log_put(&g_log, &(struct ttft_event){
		.kind = kind, .flags = flags, .t_ns = t, .pid = pid, .tid = tid, .fd = 5,
		.conn = conn, .seq = seq, .err = err, .a = a, .b = b, .text = text,
		.text_len = text ? strnlen(text, TTFT_REC_TEXT) : 0});
}

static void ev(uint16_t kind, int64_t t, uint64_t conn, uint32_t seq, int64_t a,
	       int64_t b, const char *text)
{
	ev_full(kind, 0, t, 100, 100, conn, seq, 0, a, b, text);
}

static void open_log(uint64_t bytes)
{
	tu_tmp_log(g_path, sizeof g_path, "rows");
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, g_path, bytes, &why), 0);
}

/* connect at t, established 1 ms later, a request at t+gap with a token
 * 10 ms after it; ended unless cut. */
static uint64_t exchange(int64_t t, double gap_ms, int end)
{
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, t + MS(1), c, 0, 0, 0, NULL);
	int64_t q = t + MS(1 + gap_ms);
	ev(TTFT_EV_REQ_BEGIN, q, c, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, q + MS(0.1), c, 0, 100, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, q + MS(2), c, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, q + MS(10), c, 0, 0, 0, NULL);
	if (end)
		ev(TTFT_EV_RESP_END, q + MS(11), c, 0, 100, 1, NULL);
	return c;
}

/* A new connection opened at T0 and established 1 ms later, with one
 * request (seq 0, TARGET) begun at T0 + 2 ms and sent 0.1 ms after. */
static uint64_t asked(const char *target)
{
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(1), c, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(2), c, 0, 0, 0, target);
	ev(TTFT_EV_REQ_SENT, T0 + MS(2.1), c, 0, 30, 0, NULL);
	return c;
}

static void analyse(struct ttft_analysis *a)
{
	ttft_log_close(&g_log);
	char err[512];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, a, err, sizeof err), 0);
}

static cJSON *json_of(void)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s 2>/dev/null", tu_build_dir(),
		 g_path);
	tu_sh(cmd, &out);
	cJSON *j = cJSON_Parse(out);
	ck_assert_msg(j != NULL, "%s", out);
	free(out);
	return j;
}

/* The table's output (stdout and stderr) for the log. */
static char *table_of(const char *extra)
{
	char cmd[1200], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s %s 2>&1", tu_build_dir(), extra, g_path);
	tu_sh(cmd, &out);
	return out;
}

/* Every number in a breakdown line ("where TTFT went") is >= 0. */
static void no_negative_part(const char *out)
{
	const char *w = strstr(out, "where TTFT went");
	ck_assert_msg(w, "%s", out);
	ck_assert_msg(!strstr(w, "+ -") && !strstr(w, "= -"), "%s", out);
}

/* A log that ends while a request's only answer read is an interim 103
 * (its final response still to come): the row says so, not a bare
 * "incomplete"; with a final response after it, the 103 leaves the row as
 * it was (its headers the final one's), complete, but it says that
 * Python's http.client takes a 1xx other than 100 as the whole answer
 * (interim_other_than_100_is_said in test_shim_fd: its status 103, its
 * body empty); a 100 Continue, which it skips, as every client does, is
 * no note, not even after a 103 (the 103 is still what it took). */
START_TEST(interim_only_then_log_ends)
{
	open_log(1 << 20);
	uint64_t c = asked("GET /a");
	ev(TTFT_EV_RESP_INTERIM, T0 + MS(3), c, 0, 103, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(5), c, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(6), c, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(7), c, 1, 0, 0, "GET /b");
	ev(TTFT_EV_REQ_SENT, T0 + MS(7.1), c, 1, 30, 0, NULL);
	ev(TTFT_EV_RESP_INTERIM, T0 + MS(8), c, 1, 103, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	char nb[320];
	ck_assert(ttft_record_complete(&a.reqs[0]));
	ck_assert_int_eq(a.reqs[0].status, 200);
	ck_assert_int_eq(a.reqs[0].t_hdr, T0 + MS(5));
	const char *n = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(n && !strncmp(n, "an interim 103 response came before it, which "
				       "Python's http.client (urllib3, requests) takes as "
				       "the whole answer", 99), "%s", n ? n : "(none)");
	ck_assert(!ttft_record_complete(&a.reqs[1]));
	ck_assert_int_eq(a.reqs[1].status, 0);
	ck_assert_str_eq(ttft_record_note(&a.reqs[1], nb, sizeof nb),
			 "incomplete: only an interim 103 response was read");
	ttft_analysis_free(&a);
	unlink(g_path);
	/* a 100 Continue alone is no note; a 103 then a 100 still is */
	open_log(1 << 20);
	c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(1), c, 0, 0, 0, NULL);
	for (uint32_t k = 0; k < 2; k++) {
		int64_t t = T0 + MS(10 * (k + 1));
		ev(TTFT_EV_REQ_BEGIN, t, c, k, 0, 0, "POST /a");
		if (k)
			ev(TTFT_EV_RESP_INTERIM, t + MS(1), c, k, 103, 0, NULL);
		ev(TTFT_EV_RESP_INTERIM, t + MS(2), c, k, 100, 0, NULL);
		ev(TTFT_EV_REQ_SENT, t + MS(3), c, k, 30, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t + MS(5), c, k, 200, 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(6), c, k, 0, 0, NULL);
	}
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	n = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(!n || !strstr(n, "interim"), "%s", n);
	n = ttft_record_note(&a.reqs[1], nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "an interim 103 response came before it"), "%s",
		      n ? n : "(none)");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A response whose Content-Length curl and CPython read apart (the shim's
 * TTFT_F_LEN_APART: "34, 34", "34abc"): framed by the length, as curl
 * reads it, still complete, and the note says that CPython reads such a
 * body to the close; without the flag, no such note. */
START_TEST(a_length_clients_read_apart_is_said)
{
	for (int flagged = 0; flagged < 2; flagged++) {
		open_log(1 << 20);
		uint64_t c = asked("GET /a");
		ev_full(TTFT_EV_RESP_HEADERS, flagged ? TTFT_F_LEN_APART : 0, T0 + MS(5), 100,
			100, c, 0, 0, 200, 0, NULL);
		ev(TTFT_EV_RESP_END, T0 + MS(6), c, 0, 0, 0, NULL);
		struct ttft_analysis a;
		analyse(&a);
		ck_assert_uint_eq(a.nreqs, 1);
		ck_assert(ttft_record_complete(&a.reqs[0]));
		char nb[400];
		const char *n = ttft_record_note(&a.reqs[0], nb, sizeof nb);
		if (flagged)
			ck_assert_msg(n && strstr(n, "its Content-Length is one length to curl, "
						     "but Python's http.client reads such a body "
						     "to the close"),
				      "%s", n ? n : "(none)");
		else
			ck_assert_msg(!n || !strstr(n, "Content-Length"), "%s", n);
		ttft_analysis_free(&a);
		unlink(g_path);
	}
}
END_TEST

START_TEST(preopened_connection)
{
	open_log(1 << 20);
	exchange(T0, 50, 1);   /* opened 50 ms ahead: pre-opened */
	exchange(T0 + MS(500), 0.2, 1); /* the ordinary case */
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	struct ttft_phases p;
	ttft_record_phases(&a.reqs[0], &p);
	ck_assert(a.reqs[0].preopened);
	/* TTFT from the request, not from the connect 51 ms earlier */
	ck_assert_double_eq_tol(p.ttft_s, 0.010, 1e-9);
	ck_assert_double_eq_tol(p.preopen_idle_s, 0.050, 1e-9);
	ck_assert_double_eq_tol(p.connect_s, 0.001, 1e-9);
	ck_assert(ttft_record_complete(&a.reqs[0]));
	char nb[320];
	ck_assert_str_eq(ttft_record_note(&a.reqs[0], nb, sizeof nb),
			 "connection opened 50.0 ms before the request");
	ttft_record_phases(&a.reqs[1], &p);
	ck_assert(!a.reqs[1].preopened);
	ck_assert_double_eq_tol(p.ttft_s, 0.0112, 1e-9); /* from the connect */
	ck_assert(isnan(p.preopen_idle_s));
	ck_assert_ptr_null(ttft_record_note(&a.reqs[1], nb, sizeof nb));
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "preopened")));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(q, "preopen_idle_s")->valuedouble, 0.050, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(q, "ttft_s")->valuedouble, 0.010, 1e-9);
	cJSON_Delete(j);
	/* its breakdown: the connect is not inside its TTFT, so not a part
	 * of it (the send would be left negative) */
	char *out = table_of("");
	no_negative_part(out);
	ck_assert_msg(strstr(out, "10.0 ms = 0.1 send + 9.9 server"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A non-blocking connect whose end no call showed, whose first send found
 * the response already there when the shim asked the kernel (b = 2): when
 * it was established is not known. No connect time, TTFT from the request
 * (not from the connect 300 ms earlier: the idle time may not be its own),
 * and the note says so; the row stays complete. */
START_TEST(setup_end_not_seen)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev_full(TTFT_EV_CONNECT_END, 0, T0 + MS(0.1), 100, 100, c, 0, EINPROGRESS, -1, 0,
		NULL);
	ev(TTFT_EV_ESTABLISHED, T0 + MS(300), c, 0, 0, 2, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(300), c, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T0 + MS(300.1), c, 0, 100, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(301), 100, 100, c,
		0, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(320), c, 0, 0, 0, NULL);
	ev(TTFT_EV_SSE_DONE, T0 + MS(330), c, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(330), c, 0, 300, 1, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 1);
	struct ttft_phases p;
	ttft_record_phases(&a.reqs[0], &p);
	ck_assert(isnan(p.connect_s));
	ck_assert(!a.reqs[0].preopened);
	ck_assert_double_eq_tol(p.ttft_s, 0.020, 1e-9);
	ck_assert(ttft_record_complete(&a.reqs[0]));
	char nb[320];
	const char *note = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(note && strstr(note, "setup end was not seen"), "%s", note ? note : "");
	ttft_analysis_free(&a);
	char *out = table_of("");
	no_negative_part(out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A response that began before the request's last byte went out (the
 * server answered after the headers, the client sent the rest of its body
 * later; curl's early 401, after which the body is never sent): nothing
 * between the last byte and the response is a wait. wait_headers and the
 * server's share are null, never negative; TTFT and e2e (from the start)
 * stay; the note says why, and no breakdown or chart shows a negative part
 * or takes the null for 0. */
START_TEST(answered_before_the_request_was_sent)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(0.2), c, 0, 0, 0, "POST /v1/chat/completions");
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(1), 100, 100, c, 0,
		0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(30), c, 0, 0, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(60), c, 0, 0, 1, NULL);
	ev(TTFT_EV_SSE_DONE, T0 + MS(90), c, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(90), c, 0, 300, 2, NULL);
	ev(TTFT_EV_REQ_SENT, T0 + MS(190), c, 0, 4000, 0, NULL); /* the rest of the body */
	/* curl's early 401: the body never goes out */
	uint64_t d = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(500), d, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(500.1), d, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(500.2), d, 0, 0, 0, "POST /v1/chat/completions");
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(502), d, 0, 401, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(502), d, 0, 0, 0, NULL);
	ev(TTFT_EV_CLOSE, T0 + MS(503), d, 1, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	struct ttft_phases p;
	char nb[320];
	const struct ttft_record *r = &a.reqs[0];
	ttft_record_phases(r, &p);
	ck_assert_msg(isnan(p.wait_headers_s), "wait_headers_s %f", p.wait_headers_s);
	ck_assert(isnan(p.server_other_s));
	ck_assert_double_eq_tol(p.ttft_s, 0.030, 1e-9);
	ck_assert_double_eq_tol(p.e2e_s, 0.090, 1e-9);
	ck_assert_double_eq_tol(p.send_s, 0.1898, 1e-9); /* the sending itself was real */
	ck_assert(ttft_record_complete(r));
	ck_assert_str_eq(ttft_record_note(r, nb, sizeof nb),
			 "the server answered before the request was fully sent (its "
			 "headers 189.0 ms before the request's last byte)");
	r = &a.reqs[1];
	ttft_record_phases(r, &p);
	ck_assert(isnan(p.wait_headers_s) && isnan(p.send_s));
	ck_assert_double_eq_tol(p.e2e_s, 0.002, 1e-9);
	ck_assert_str_eq(ttft_record_note(r, nb, sizeof nb),
			 "the server answered before the request was fully sent (its "
			 "last byte was never seen sent)");
	ttft_analysis_free(&a);
	/* --json: null, not a negative number */
	cJSON *j = json_of();
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "wait_headers_s")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "server_other_s")));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(q, "ttft_s")->valuedouble, 0.030, 1e-9);
	ck_assert(strstr(cJSON_GetObjectItem(q, "note")->valuestring, "before the request"));
	q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 1);
	ck_assert(strstr(cJSON_GetObjectItem(q, "note")->valuestring, "never seen sent"));
	cJSON_Delete(j);
	/* the table: "-" for the wait, and a breakdown that does not split */
	char trace[300], svg[300];
	snprintf(trace, sizeof trace, "%s.trace.json", g_path);
	snprintf(svg, sizeof svg, "%s.svg", g_path);
	char extra[700];
	snprintf(extra, sizeof extra, "--trace %s --svg %s", trace, svg);
	char *out = table_of(extra);
	no_negative_part(out);
	ck_assert_msg(strstr(out, "30.0 ms = 0.1 connect + 29.9 request to first token, not "
			      "taken apart (the server answered before the request was fully "
			      "sent)"), "%s", out);
	free(out);
	/* the trace: no slice of negative length, no wait slice; the svg: no
	 * server part drawn, the row says why */
	char *t = tu_read_file(trace, NULL);
	ck_assert_ptr_nonnull(t);
	cJSON *tj = cJSON_Parse(t);
	ck_assert_ptr_nonnull(tj);
	cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(tj, "traceEvents"))
	{
		cJSON *dur = cJSON_GetObjectItem(e, "dur");
		ck_assert(!dur || dur->valuedouble >= 0);
		const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
		ck_assert_msg(!nm || !strstr(nm, "wait"), "%s", nm);
	}
	cJSON_Delete(tj);
	free(t);
	char *sv = tu_read_file(svg, NULL);
	ck_assert_ptr_nonnull(sv);
	ck_assert_msg(!strstr(sv, "<title>wait") && strstr(sv, "TTFT 30.0 ms (answered "
							      "mid-request)"), "%s", sv);
	free(sv);
	unlink(trace);
	unlink(svg);
	unlink(g_path);
}
END_TEST

/* An unsolicited "408 Request Timeout" on a connection whose requests were
 * all answered: the server closing an idle keep-alive connection (RFC 9110
 * 15.5.9), not a request: no row, not counted, a note and summary.idle_408;
 * the responses after it still answer the requests after it. Another
 * response no request waited for is still a request_unseen row. */
static const struct ttft_record *of_conn(const struct ttft_analysis *a, uint64_t conn)
{
	for (size_t i = 0; i < a->nreqs; i++)
		if (a->reqs[i].conn == conn)
			return &a->reqs[i];
	ck_abort_msg("no row on conn %llu", (unsigned long long)conn);
	return NULL;
}

/* Events lost in the middle of a log (a segment that could not be
 * allocated while later ones were: the quarter the log leaves its
 * filesystem): a request in progress then is not complete and says why,
 * whole as it looks (it had a token lost and its end seen); one before
 * the hole and one after stand. */
START_TEST(a_hole_in_the_log_is_said)
{
	open_log(1 << 20);
	uint64_t before = exchange(T0, 0.2, 1);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(100), c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(100.1), c, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(101), c, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T0 + MS(101.1), c, 0, 100, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(102), 100, 100, c,
		0, 0, 200, 0, NULL);
	/* five slots handed out, never written: their segment could not be
	 * allocated (as the writers count them) */
	__atomic_fetch_add(&g_log.hdr->reserved, 5, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_log.hdr->unwritable, 5, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_log.hdr->dropped, 5, __ATOMIC_RELAXED);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(150), c, 0, 0, 1, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(151), c, 0, 100, 2, NULL);
	uint64_t after = exchange(T0 + MS(500), 0.2, 1);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	ck_assert(ttft_record_complete(of_conn(&a, before)));
	ck_assert(ttft_record_complete(of_conn(&a, after)));
	ck_assert(!ttft_record_complete(of_conn(&a, c)));
	char nb[320];
	const char *n = ttft_record_note(of_conn(&a, c), nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "the log lost events while this request was in progress"),
		      "%s", n ? n : "");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A request whose own records fell in the part of the log that was lost
 * (its segment could not be allocated), its response after it written:
 * the response is a row of its own that says its request's record is not
 * in the log, with its status and tokens, no TTFT, not complete; it is
 * never dropped unsaid, and never given to the connection's next
 * request, which stands whole. */
START_TEST(a_request_lost_with_the_log_is_a_row)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	/* request 0's req_begin and req_sent: in the lost part */
	__atomic_fetch_add(&g_log.hdr->reserved, 2, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_log.hdr->unwritable, 2, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_log.hdr->dropped, 2, __ATOMIC_RELAXED);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(3), 100, 100, c,
		0, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(10), c, 0, 0, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(12), c, 0, 0, 1, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(13), c, 0, 100, 2, NULL);
	/* request 1 on the same connection, whole */
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(20), c, 1, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T0 + MS(20.1), c, 1, 100, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(22), c, 1, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(30), c, 1, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(31), c, 1, 100, 1, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	const struct ttft_record *lost = NULL, *whole = NULL;
	for (size_t i = 0; i < a.nreqs; i++)
		*(a.reqs[i].request_unseen ? &lost : &whole) = &a.reqs[i];
	ck_assert_ptr_nonnull(lost);
	ck_assert_ptr_nonnull(whole);
	ck_assert(lost->request_lost);
	ck_assert_int_eq(lost->status, 200);
	ck_assert_int_eq(ttft_record_tokens(lost), 2);
	ck_assert(!ttft_record_complete(lost));
	struct ttft_phases ph;
	ttft_record_phases(lost, &ph);
	ck_assert(isnan(ph.ttft_s));
	char nb[320];
	const char *n = ttft_record_note(lost, nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "its request's record is not in the log"), "%s",
		      n ? n : "");
	/* the next request keeps its own response */
	ck_assert(ttft_record_complete(whole));
	ck_assert_int_eq(whole->seq, 1);
	ck_assert_int_eq(ttft_record_tokens(whole), 1);
	ttft_record_phases(whole, &ph);
	ck_assert_double_eq_tol(ph.ttft_s, 0.010, 1e-9);
	ttft_analysis_free(&a);
	/* the same in --json: a row, request_unseen, not complete, its note */
	cJSON *j = json_of(), *rows = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 2);
	int seen = 0;
	cJSON *q;
	cJSON_ArrayForEach(q, rows) {
		if (!cJSON_IsTrue(cJSON_GetObjectItem(q, "request_unseen")))
			continue;
		seen++;
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "ttft_s")));
		const char *note = cJSON_GetStringValue(cJSON_GetObjectItem(q, "note"));
		ck_assert_msg(note && strstr(note, "not in the log"), "%s", note ? note : "");
	}
	ck_assert_int_eq(seen, 1);
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* A parent sends a request and forks; the child sends its own (a new id
 * for the connection, its count going on from its parent's) and reads
 * both responses. In a log that lost nothing, no row says a request's
 * record was lost (a review found one: 3 rows for 2 requests), and the
 * parent's row is given no answer it cannot be proven to own (a pairing
 * by number gave a pipelined request a later answer's time): 2 rows. */
START_TEST(a_child_reading_its_parents_answer_is_no_lost_request)
{
	open_log(1 << 20);
	uint64_t p = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, p, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), p, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(0.2), p, 0, 0, 0, "POST /parent");
	ev(TTFT_EV_REQ_SENT, T0 + MS(0.3), p, 0, 100, 0, NULL);
	uint64_t k = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_REQ_BEGIN, 0, T0 + MS(1), 200, 200, k, 1, 0, 0, 0, "POST /child");
	ev_full(TTFT_EV_INHERIT, 0, T0 + MS(1), 200, 200, k, 1, 0, (int64_t)p, 100, NULL);
	ev_full(TTFT_EV_REQ_SENT, 0, T0 + MS(1.1), 200, 200, k, 1, 0, 100, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(5), 200, 200, k,
		0, 0, 200, 0, NULL);
	ev_full(TTFT_EV_SSE_TOKEN, 0, T0 + MS(20), 200, 200, k, 0, 0, 0, 0, NULL);
	ev_full(TTFT_EV_SSE_TOKEN, 0, T0 + MS(22), 200, 200, k, 0, 0, 0, 1, NULL);
	ev_full(TTFT_EV_RESP_END, 0, T0 + MS(23), 200, 200, k, 0, 0, 100, 2, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(30), 200, 200, k,
		1, 0, 200, 0, NULL);
	ev_full(TTFT_EV_SSE_TOKEN, 0, T0 + MS(40), 200, 200, k, 1, 0, 0, 0, NULL);
	ev_full(TTFT_EV_RESP_END, 0, T0 + MS(41), 200, 200, k, 1, 0, 100, 1, NULL);
	ev(TTFT_EV_CLOSE, T0 + MS(50), p, 1, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_int_eq(a.nreqs, 2);
	char nb[320];
	for (size_t i = 0; i < a.nreqs; i++) {
		ck_assert(!a.reqs[i].request_unseen && !a.reqs[i].request_lost);
		const char *n = ttft_record_note(&a.reqs[i], nb, sizeof nb);
		ck_assert_msg(!n || !strstr(n, "not in the log"), "%s", n);
	}
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A fork child's CONNECT answered on its own id, its tunnel still open,
 * and then a second child: the tangle marks the requests still due, not
 * one whose answer was read and paired (its times are its own). A review
 * of this stop's change found the tangle asking ttft_asm_settled, whose
 * CONNECT waits for its tunnel (a follower's rule), and so marking it
 * "which response answers this one is not known", its times nulled. */
START_TEST(a_tangle_leaves_an_answered_connect_alone)
{
	open_log(1 << 20);
	uint64_t p = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, p, 0, 0, 0, "127.0.0.1:3128");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), p, 0, 0, 0, NULL);
	uint64_t k = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_REQ_BEGIN, 0, T0 + MS(1), 200, 200, k, 0, 0, 0, 0, "CONNECT 10.9.9.9:443");
	ev_full(TTFT_EV_INHERIT, 0, T0 + MS(1), 200, 200, k, 0, 0, (int64_t)p, 100, NULL);
	ev_full(TTFT_EV_REQ_SENT, 0, T0 + MS(1.1), 200, 200, k, 0, 0, 60, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, 0, T0 + MS(2), 200, 200, k, 0, 0, 200, 0, NULL);
	ev_full(TTFT_EV_RESP_END, 0, T0 + MS(2), 200, 200, k, 0, 0, 0, 0, NULL);
	uint64_t k2 = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_REQ_BEGIN, 0, T0 + MS(5), 300, 300, k2, 1, 0, 0, 0, "GET /second");
	ev_full(TTFT_EV_INHERIT, 0, T0 + MS(5), 300, 300, k2, 1, 0, (int64_t)p, 100, NULL);
	ev_full(TTFT_EV_REQ_SENT, 0, T0 + MS(5.1), 300, 300, k2, 1, 0, 60, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	const struct ttft_record *t = of_conn(&a, k), *u = of_conn(&a, k2);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(t->status, 200);
	ck_assert_msg(!t->fork_unsure, "the answered CONNECT marked unsure");
	ck_assert_msg(u->fork_unsure, "the second child's request, due at the tangle, not marked");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A CONNECT whose tunnel carried what the sniffer cannot read (TLS: HTTPS
 * through a proxy) is not complete and says so: the requests through it
 * are not seen (it looked like a whole 200 with nothing lost). A 101's
 * request has its status and is not complete: what followed is another
 * protocol (an h2c upgrade's response comes on HTTP/2). */
START_TEST(a_tunnel_or_an_upgrade_is_said)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:3128");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(1), 100, 100, c, 0, 0, 60, T0 + MS(1.1),
		"CONNECT 10.9.9.9:443");
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(2), c, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(2), c, 0, 0, 0, NULL);
	ev_full(TTFT_EV_DESYNC, 0, T0 + MS(3), 100, 100, c, 1, 0, 0, TTFT_DESYNC_NOT_HTTP, "tx");
	uint64_t d = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(10), d, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(10.1), d, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(11), 100, 100, d, 0, 0, 90, T0 + MS(11.1),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(12), d, 0, 101, 0, NULL);
	ev_full(TTFT_EV_DESYNC, 0, T0 + MS(12), 100, 100, d, 0, 0, 0, TTFT_DESYNC_UPGRADE, "rx");
	ev(TTFT_EV_CLOSE, T0 + MS(400), d, 1, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	char nb[320];
	const struct ttft_record *t = of_conn(&a, c), *u = of_conn(&a, d);
	ck_assert(!ttft_record_complete(t));
	const char *n = ttft_record_note(t, nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "through its tunnel is not HTTP/1.x"), "%s", n ? n : "");
	ck_assert_int_eq(u->status, 101);
	ck_assert(!ttft_record_complete(u));
	n = ttft_record_note(u, nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "protocol upgrade (101)"), "%s", n ? n : "");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* HTTPS through a tunnel as the shim logs it now (TTFT_F_TUNNEL): its
 * handshake is a TLS record after the CONNECT, not a lost framing. Tapped,
 * the requests through it are rows of their own, TLS, numbered on, and the
 * CONNECT's row is whole; not tapped, the CONNECT's row says that what went
 * through is not seen (seen failing: complete, with no note, where the
 * tunnel carried requests nobody saw) and no "encrypted" row is added. */
START_TEST(a_tunnels_tls_is_tapped_or_said)
{
	open_log(1 << 20);
	uint64_t id[2];
	for (int k = 0; k < 2; k++) {
		int64_t t = T0 + MS(100) * k;
		uint64_t c = id[k] = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:3128");
		ev(TTFT_EV_ESTABLISHED, t + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(1), 100, 100, c, 0, 0, 60,
			t + MS(1.1), "CONNECT 10.9.9.9:443");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_TUNNEL, t + MS(2), 100, 100, c, 0, 0,
			200, 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(2), c, 0, 0, 0, NULL);
		ev(TTFT_EV_TLS, t + MS(3), c, 0, k == 0, 0, k == 0 ? "openssl" : NULL);
		if (k == 0) {
			ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(10), 100, 100, c, 1, 0,
				90, t + MS(10.1), "POST /v1/completions");
			ev(TTFT_EV_RESP_HEADERS, t + MS(20), c, 1, 200, 0, NULL);
			ev(TTFT_EV_RESP_END, t + MS(21), c, 1, 0, 0, NULL);
		}
		ev(TTFT_EV_CLOSE, t + MS(50), c, 0, 0, 0, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	ck_assert_uint_eq(a.nencrypted, 0);
	char nb[320];
	for (size_t i = 0; i < a.nreqs; i++) {
		const struct ttft_record *r = &a.reqs[i];
		const char *n = ttft_record_note(r, nb, sizeof nb);
		if (r->seq == 1) { /* through the tapped tunnel */
			ck_assert(r->conn == id[0] && r->tls && ttft_record_complete(r));
			continue;
		}
		ck_assert_str_eq(r->method, "CONNECT");
		ck_assert(!r->tls);
		if (r->conn == id[0]) {
			ck_assert(!r->tunnel_lost && ttft_record_complete(r));
		} else {
			ck_assert(r->tunnel_lost && !ttft_record_complete(r));
			ck_assert_msg(n && strstr(n, "TLS no tapped library opened"), "%s",
				      n ? n : "");
		}
	}
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A kept-alive connection whose responses the sniffer stopped reading (a
 * Content-Length the clients read differently): the next request, sent
 * after the desync, got its answer too, unread; its row said "no response
 * on a reused connection: the client retries" (a client that got its
 * answer, read as one that had none). It says the framing was lost. */
START_TEST(a_request_after_the_framing_was_lost_says_so)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(1), 100, 100, c, 0, 0, 90,
		T0 + MS(1.1), "POST /v1/completions");
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, T0 + MS(2), 100, 100, c, 0, 0, 200, 0,
		NULL);
	ev_full(TTFT_EV_DESYNC, 0, T0 + MS(2), 100, 100, c, 0, 0, 0,
		TTFT_DESYNC_BAD_LENGTH, "rx");
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(300), 100, 100, c, 1, 0, 90,
		T0 + MS(300.1), "POST /v1/completions");
	ev(TTFT_EV_CLOSE, T0 + MS(700), c, 0, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	char nb[320];
	for (size_t i = 0; i < a.nreqs; i++) {
		const struct ttft_record *r = &a.reqs[i];
		ck_assert(!ttft_record_complete(r));
		const char *n = ttft_record_note(r, nb, sizeof nb);
		ck_assert_msg(n && strstr(n, "lost the framing") &&
			      strstr(n, "Content-Length"), "row %zu: %s", i,
			      n ? n : "");
		/* the reason whole, not cut by the note's part buffer */
		ck_assert_msg(strstr(n, ttft_desync_text(TTFT_DESYNC_BAD_LENGTH, 0)),
			      "row %zu: %s", i, n);
	}
	/* every reason fits a note whole, also where the request could not
	 * be read because of it */
	struct ttft_record u;
	ttft_record_init(&u, TTFT_ORIGIN_LOG);
	for (int d = 1; d <= TTFT_DESYNC_BAD_LENGTH; d++)
		for (int unseen = 0; unseen < 2; unseen++) {
			u.desync = d;
			u.request_unseen = (unsigned)unseen;
			const char *n = ttft_record_note(&u, nb, sizeof nb);
			ck_assert_msg(n && strstr(n, ttft_desync_text(d, 0)),
				      "reason %d: %s", d, n ? n : "");
		}
	ttft_record_free(&u);
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A connection of the parent (pid 100) opened at T0 to ADDR, established
 * 0.1 ms later. */
static uint64_t opened(const char *addr)
{
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, addr);
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	return c;
}

/* The parent's connection opened, its "POST /parent" sent whole at T0 +
 * 1 ms, and its response's head (HEAD_FLAGS) read at T0 + 2 ms. */
static uint64_t parent_answered(uint16_t head_flags)
{
	uint64_t p = opened("127.0.0.1:8000");
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(1), 100, 100, p, 0, 0, 90,
		T0 + MS(1.1), "POST /parent");
	ev_full(TTFT_EV_RESP_HEADERS, head_flags, T0 + MS(2), 100, 100, p, 0, 0, 200, 0,
		NULL);
	return p;
}

/* The parent's sniffer lost the framing of P's DIR ("rx", "tx") at T: a
 * Content-Length the clients read differently. */
static void lost_framing(uint64_t p, int64_t t, const char *dir)
{
	ev_full(TTFT_EV_DESYNC, 0, t, 100, 100, p, 0, 0, 0, TTFT_DESYNC_BAD_LENGTH, dir);
}

/* A fork child (PID) of P sends "POST /child" (SEQ) whole at T on a new id
 * for the connection, returned; its INHERIT naming P, at the same
 * instant, comes before its REQ_BEGIN when INHERIT_FIRST, after it
 * otherwise. */
static uint64_t child_asks(uint64_t p, int pid, uint32_t seq, int64_t t,
			   int inherit_first)
{
	uint64_t k = ttft_log_new_conn(&g_log);
	if (inherit_first)
		ev_full(TTFT_EV_INHERIT, 0, t, pid, pid, k, seq, 0, (int64_t)p, 100, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t, pid, pid, k, seq, 0, 90, t + MS(0.1),
		"POST /child");
	if (!inherit_first)
		ev_full(TTFT_EV_INHERIT, 0, t, pid, pid, k, seq, 0, (int64_t)p, 100, NULL);
	return k;
}

/* The child K (pid 200) closes its copy at T0 + 600 ms, the parent P its
 * own at T0 + 700 ms; the log analysed into A has both requests, and K's
 * row, returned, is a forked one. */
static const struct ttft_record *child_row(struct ttft_analysis *a, uint64_t p,
					   uint64_t k)
{
	ev_full(TTFT_EV_CLOSE, 0, T0 + MS(600), 200, 200, k, 2, 0, 0, 0, NULL);
	ev(TTFT_EV_CLOSE, T0 + MS(700), p, 1, 0, 0, NULL);
	analyse(a);
	ck_assert_uint_eq(a->nreqs, 2);
	const struct ttft_record *r = of_conn(a, k);
	ck_assert(r && r->forked);
	return r;
}

/* A parent whose connection's responses the sniffer stopped reading (a
 * Content-Length the clients read differently) forks; the child sends a
 * request of its own on the connection (a new id, its INHERIT naming the
 * parent's), which its copy of the sniffer cannot read the answer of
 * either. Its row said "no response read: a forked process's request …,
 * which read no response for it either", as if no answer came: the desync
 * is on its parent's id. It says the framing was lost, whichever of its
 * REQ_BEGIN and INHERIT the log puts first (the same instant), and so does
 * a child's request still due when its parent lost the framing. The
 * parent's requests' framing lost (tx) is not the child's: its own
 * sniffer reads its requests, and the parent's its answers. */
START_TEST(a_forked_request_after_the_framing_was_lost_says_so)
{
	for (int order = 0; order < 4; order++) {
		const char *dir = order == 3 ? "tx" : "rx";
		open_log(1 << 20);
		uint64_t p = parent_answered(TTFT_F_SSE);
		/* order 2: the desync comes after the child's request */
		if (order != 2)
			lost_framing(p, T0 + MS(2), dir);
		uint64_t k = child_asks(p, 200, 1, T0 + MS(300), order == 1);
		if (order == 2)
			lost_framing(p, T0 + MS(301), "rx");
		struct ttft_analysis a;
		const struct ttft_record *r = child_row(&a, p, k);
		char nb[640];
		ck_assert(!ttft_record_complete(r));
		const char *n = ttft_record_note(r, nb, sizeof nb);
		ck_assert(n);
		if (order == 3)
			ck_assert_msg(!strstr(n, "lost the framing"), "%s", n);
		else
			ck_assert_msg(strstr(n, "lost the framing") &&
				      strstr(n, ttft_desync_text(TTFT_DESYNC_BAD_LENGTH, 0)) &&
				      !strstr(n, "no response"), "order %d: %s", order, n);
		ttft_analysis_free(&a);
		unlink(g_path);
	}
}
END_TEST

/* The other side of it: the parent's sniffer lost the framing after the
 * fork (the log cannot say when the fork was: INHERIT comes at the
 * child's first send), and the child reads its own answer through its own
 * copy of the sniffer, which did not stop: the answer's records come on
 * the child's id. Its row is whole and complete, not "lost the framing"
 * (a review found the row read whole, with its token and end, noted
 * "the sniffer lost the framing": under LD_PRELOAD a Python client whose
 * parent read a response with two Content-Lengths after the fork, and
 * whose child then sent and read its own SSE answer). Orders: the
 * parent's desync before the child's request, INHERIT first or not,
 * while the child's request is due, and after its headers came. */
START_TEST(a_forked_request_read_by_its_own_sniffer_is_whole)
{
	for (int order = 0; order < 4; order++) {
		open_log(1 << 20);
		uint64_t p = parent_answered(0);
		if (order < 2)
			lost_framing(p, T0 + MS(2), "rx");
		uint64_t k = child_asks(p, 200, 1, T0 + MS(300), order == 1);
		if (order == 2)
			lost_framing(p, T0 + MS(301), "rx");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, T0 + MS(302), 200, 200, k, 1, 0,
			200, 0, NULL);
		if (order == 3)
			lost_framing(p, T0 + MS(303), "rx");
		ev_full(TTFT_EV_SSE_TOKEN, 0, T0 + MS(304), 200, 200, k, 1, 0, 0, 0, NULL);
		ev_full(TTFT_EV_SSE_DONE, 0, T0 + MS(304), 200, 200, k, 1, 0, 0, 0, NULL);
		ev_full(TTFT_EV_RESP_END, 0, T0 + MS(304), 200, 200, k, 1, 0, 62, 1, NULL);
		struct ttft_analysis a;
		const struct ttft_record *r = child_row(&a, p, k);
		char nb[640];
		const char *n = ttft_record_note(r, nb, sizeof nb);
		ck_assert_msg(ttft_record_complete(r) && !r->desync,
			      "order %d: %s", order, n ? n : "(no note)");
		ttft_analysis_free(&a);
		unlink(g_path);
	}
}
END_TEST

/* A fork child whose own request side lost the framing (bytes it sent
 * after its request that are not HTTP: a desync on the child's id, "tx")
 * while its parent had lost the framing of its responses, and which then
 * read its answer itself (on its own id): its row said its parent's
 * reason (a Content-Length the clients read differently), as if its
 * answer went unread by the parent's stopped sniffer. It says its own
 * (the bytes that are not HTTP), as a connection of its own would, in
 * every order of the two desyncs and the child's request. */
START_TEST(a_forked_request_says_its_own_lost_framing)
{
	for (int order = 0; order < 3; order++) {
		open_log(1 << 20);
		uint64_t p = parent_answered(0);
		if (order == 0)
			lost_framing(p, T0 + MS(2), "rx");
		uint64_t k = child_asks(p, 200, 1, T0 + MS(300), 1);
		if (order == 1)
			lost_framing(p, T0 + MS(300.5), "rx");
		ev_full(TTFT_EV_DESYNC, 0, T0 + MS(301), 200, 200, k, 2, 0, 0,
			TTFT_DESYNC_NOT_HTTP, "tx");
		if (order == 2)
			lost_framing(p, T0 + MS(301.5), "rx");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, T0 + MS(302), 200, 200, k, 1, 0,
			200, 0, NULL);
		ev_full(TTFT_EV_SSE_TOKEN, 0, T0 + MS(304), 200, 200, k, 1, 0, 0, 0, NULL);
		ev_full(TTFT_EV_RESP_END, 0, T0 + MS(305), 200, 200, k, 1, 0, 62, 1, NULL);
		struct ttft_analysis a;
		const struct ttft_record *r = child_row(&a, p, k);
		char nb[640];
		const char *n = ttft_record_note(r, nb, sizeof nb);
		ck_assert_msg(r->desync == TTFT_DESYNC_NOT_HTTP && n &&
			      strstr(n, ttft_desync_text(TTFT_DESYNC_NOT_HTTP, 0)) &&
			      !strstr(n, ttft_desync_text(TTFT_DESYNC_BAD_LENGTH, 0)),
			      "order %d: desync %d: %s", order, r->desync, n ? n : "(no note)");
		ck_assert(!ttft_record_complete(r));
		ck_assert_int_eq(r->status, 200);
		ttft_analysis_free(&a);
		unlink(g_path);
	}
}
END_TEST

/* Every child of a connection, not only its first, is reached by its
 * parent's lost framing and by a tangle (the assembler walks a parent's
 * children, not every connection of the log: that was the log's
 * connections squared, 40 000 forked connections each losing the framing
 * took 21.7 s): two children with a request due each when the parent
 * loses the framing of its responses; a third connection's child, whose
 * parent did not, keeps its answer. */
START_TEST(a_parents_lost_framing_reaches_every_child)
{
	open_log(1 << 20);
	uint64_t p = opened("127.0.0.1:8000");
	uint64_t q = opened("127.0.0.1:8001");
	uint64_t k[3];
	for (int i = 0; i < 3; i++)
		k[i] = child_asks(i < 2 ? p : q, 200 + i, 0, T0 + MS(10 * (i + 1)), 1);
	lost_framing(p, T0 + MS(50), "rx");
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	for (int i = 0; i < 3; i++) {
		const struct ttft_record *r = of_conn(&a, k[i]);
		ck_assert(r && r->forked);
		ck_assert_msg(i < 2 ? r->desync == TTFT_DESYNC_BAD_LENGTH && r->fork_unsure
				    : !r->desync && !r->fork_unsure,
			      "child %d: desync %d, unsure %d", i, r->desync, r->fork_unsure);
	}
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* What is not "answered before it was sent", nor an idle 408, nor 0
 * tokens: (1) a request sent whole by one call whose response's head was
 * read (by another thread) before that call returned: no wait, and the
 * note says why, not that the server answered early; (2) a request whose
 * framing was lost (its last byte unseen for that reason); (3) a 408 on a
 * connection where no request was seen (one went unseen: a raw write) is
 * its row; (4) a non-stream response cut before any byte of its body has
 * tokens unknown, not 0. */
START_TEST(not_early_not_idle_not_zero)
{
	open_log(1 << 20);
	/* (1) */
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(1), 100, 100, c, 0, 0, 90, T0 + MS(1.5),
		"POST /v1/completions");
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(1.4), 100, 101, c, 0,
		0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(20), c, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(21), c, 0, 100, 1, NULL);
	/* (2) */
	uint64_t d = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(100), d, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(100.1), d, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(101), d, 0, 0, 0, "POST /v1/completions");
	ev_full(TTFT_EV_DESYNC, 0, T0 + MS(102), 100, 100, d, 0, 0, 0, TTFT_DESYNC_BAD_CHUNK,
		"tx");
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T0 + MS(105), 100, 100, d, 0,
		0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(120), d, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(121), d, 0, 100, 1, NULL);
	/* (3) */
	uint64_t e = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(200), e, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(200.1), e, 0, 0, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_UNSOLICITED, T0 + MS(205), 100, 100, e, 0, 0, 408,
		0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(205), e, 0, 0, 0, NULL);
	/* (4) */
	uint64_t f = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0 + MS(300), f, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(300.1), f, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(301), 100, 100, f, 0, 0, 40, T0 + MS(301.1),
		"GET /v1/models");
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(302), f, 0, 200, 0, NULL);
	ev_full(TTFT_EV_RESP_END, TTFT_F_TRUNCATED, T0 + MS(303), 100, 100, f, 0, 0, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 4);
	char nb[320];
	const char *n0 = ttft_record_note(of_conn(&a, c), nb, sizeof nb);
	ck_assert_msg(n0 && strstr(n0, "another thread") && !strstr(n0, "answered before"),
		      "%s", n0 ? n0 : "");
	struct ttft_phases p;
	ttft_record_phases(of_conn(&a, c), &p);
	ck_assert(isnan(p.wait_headers_s));
	const char *n1 = ttft_record_note(of_conn(&a, d), nb, sizeof nb);
	ck_assert_msg(n1 && !strstr(n1, "answered before"), "%s", n1 ? n1 : "");
	ck_assert_int_eq(of_conn(&a, e)->status, 408);
	ck_assert(of_conn(&a, e)->request_unseen);
	ck_assert_int_eq(ttft_record_tokens(of_conn(&a, f)), -1);
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

START_TEST(idle_408_is_no_request)
{
	open_log(1 << 20);
	uint64_t c = exchange(T0, 0.2, 1);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_UNSOLICITED, T0 + MS(100), 100, 100, c, 1, 0, 408,
		0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(100), c, 1, 0, 0, NULL);
	/* the client had not read it yet: its next request, answered */
	ev(TTFT_EV_REQ_BEGIN, T0 + MS(150), c, 1, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T0 + MS(150.1), c, 1, 100, 0, NULL);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, T0 + MS(152), 100, 100, c, 2, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T0 + MS(160), c, 2, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(161), c, 2, 100, 1, NULL);
	/* an unsolicited 200 elsewhere: its request went out unseen */
	uint64_t d = exchange(T0 + MS(300), 0.2, 1);
	ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_UNSOLICITED, T0 + MS(400), 100, 100, d, 1, 0, 200,
		0, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(401), d, 1, 10, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 4);
	size_t unseen = 0;
	for (size_t i = 0; i < a.nreqs; i++) {
		ck_assert_int_ne(a.reqs[i].status, 408);
		unseen += a.reqs[i].request_unseen;
	}
	ck_assert_uint_eq(unseen, 1);
	/* the request after the 408 has its own response */
	ck_assert_str_eq(a.reqs[1].method, "POST");
	ck_assert_int_eq(a.reqs[1].status, 200);
	ck_assert_uint_eq(a.reqs[1].ntok, 1);
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "count")->valueint, 4);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "idle_408")->valueint, 1);
	cJSON_Delete(j);
	char *out = table_of("");
	ck_assert_msg(strstr(out, "conn 1 to 127.0.0.1:8000: the server closed the idle "
			      "connection with \"408 Request Timeout\""), "%s", out);
	ck_assert_msg(strstr(out, "requests: 4 "), "%s", out);
	free(out);
	/* one log of several: the same in its summary and the overall one;
	 * the other log holds the same records but is another log (its
	 * creator another pid: the same log twice is refused) */
	char cmd[800], other[300], *mo;
	snprintf(other, sizeof other, "%s.other", g_path);
	snprintf(cmd, sizeof cmd, "cp %s %s", g_path, other);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	int fd = open(other, O_RDWR);
	int32_t pid = -1;
	ck_assert(fd >= 0);
	ck_assert(pwrite(fd, &pid, sizeof pid, offsetof(struct ttft_log_hdr, creator_pid)) ==
		  sizeof pid);
	close(fd);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s %s 2>/dev/null", tu_build_dir(),
		 g_path, other);
	tu_sh(cmd, &mo);
	unlink(other);
	j = cJSON_Parse(mo);
	ck_assert_msg(j != NULL, "%s", mo);
	free(mo);
	sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "count")->valueint, 8);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "idle_408")->valueint, 2);
	cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "logs"), 0);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(l0, "summary"), "idle_408")
				 ->valueint, 1);
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* The tokens column of row n of a table ("" when there is none). */
/* noinline: inlined, gcc 12 takes strstr's result for a dangling pointer */
static __attribute__((noinline)) void tokens_of_row(const char *table, int n, char *dst, size_t len)
{
	char key[16], m[16], p[64], st[8], s0[32], s1[32], tok[16];
	snprintf(key, sizeof key, "\n%4d ", n);
	const char *row = strstr(table, key);
	dst[0] = 0;
	if (row && sscanf(row + strlen(key), "%*d %*d %15s %63s %7s %31s %31s %15s", m, p, st,
			  s0, s1, tok) == 6)
		snprintf(dst, len, "%s", tok);
}

/* The table's tokens cells are want[0..n), "≥N" explained once under it,
 * and the columns aligned: the events row (3) as wide as the usage row (1,
 * neither has a split or a note), "≥" 3 bytes in 1 column. noinline: gcc
 * 12 takes strstr's results for dangling pointers once inlined. */
static __attribute__((noinline)) void token_cells_are(const char *out,
						      const char *const *want, int n)
{
	for (int i = 0; i < n; i++) {
		char tok[16];
		tokens_of_row(out, i + 1, tok, sizeof tok);
		ck_assert_msg(!strcmp(tok, want[i]), "row %d: '%s', want '%s':\n%s", i + 1, tok,
			      want[i], out);
	}
	const char *why = "(tokens '≥N': token events counted, the stream carried no usage the count could take";
	const char *w = strstr(out, why);
	ck_assert_msg(w && !strstr(w + 1, why), "%s", out);
	const char *r1 = strstr(out, "\n   1 "), *r3 = strstr(out, "\n   3 ");
	ck_assert(r1 && r3);
	size_t w1 = strcspn(r1 + 1, "\n"), w3 = strcspn(r3 + 1, "\n");
	ck_assert_msg(w3 == w1 + 2, "row 3 %zu bytes, row 1 %zu:\n%s", w3, w1, out);
}

/* Where a row's tokens come from, and whether they are exact: the
 * server's usage (vLLM with stream_options.include_usage) and llama.cpp's
 * timings.predicted_n are its own count; without them the token events
 * are counted, and one event can carry several tokens (vLLM's speculative
 * decoding or stream_interval, a detokenizer holding back a partial UTF-8
 * character): at least that many. The row showed such a count as if
 * exact, no note, no flag. --json says tokens_source on every row, the
 * table "≥N" for a count of events, with one line under it saying why;
 * an empty body's 0 is exact; unknown stays null and "-". */
START_TEST(tokens_say_whether_counted_or_told)
{
	open_log(1 << 20);
	/* usage, timings, events only, empty body, not an event stream */
	enum { N = 5 };
	/* llama.cpp's predicted_n comes with its timings (a prompt time) */
	const uint32_t have[N] = {1 << TTFT_NUM_COMPLETION_TOKENS,
				  1 << TTFT_NUM_PREDICTED_N | 1 << TTFT_NUM_PROMPT_US, 0, 0, 0};
	const uint16_t flags[N] = {TTFT_F_SSE, TTFT_F_SSE, TTFT_F_SSE, 0, TTFT_F_CHUNKED};
	const int64_t body[N] = {300, 300, 300, 0, 400};
	static const char *const want_src[N] = {"usage", "timings", "events", "empty", NULL};
	static const char *const want_cell[N] = {"6", "5", "≥2", "0", "-"};
	const long want_tok[N] = {6, 5, 2, 0, -1};
	for (int i = 0; i < N; i++) {
		int64_t at = T0 + MS(100 * i);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, at, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, at + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, at + MS(0.2), 100, 100, c, 0, 0, 90,
			at + MS(0.3), "POST /v1/completions");
		ev_full(TTFT_EV_RESP_HEADERS, flags[i], at + MS(5), 100, 100, c, 0, 0, 200, 0,
			NULL);
		if (flags[i] & TTFT_F_SSE) {
			ev(TTFT_EV_SSE_TOKEN, at + MS(10), c, 0, 0, 0, NULL);
			ev(TTFT_EV_SSE_TOKEN, at + MS(20), c, 0, 0, 1, NULL);
		}
		if (have[i]) {
			struct ttft_rec_numbers nv = {{0}};
			nv.v[TTFT_NUM_COMPLETION_TOKENS] = 6;
			nv.v[TTFT_NUM_PREDICTED_N] = 5;
			nv.v[TTFT_NUM_PROMPT_US] = 1000;
			ev(TTFT_EV_SSE_EMPTY, at + MS(30), c, 0, 0, 0, NULL);
			ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
				.kind = TTFT_EV_SERVER_NUMBERS, .t_ns = at + MS(30), .pid = 100,
				.tid = 100, .fd = 5, .conn = c, .a = have[i], .text = (void *)&nv,
				.text_len = sizeof nv}));
		}
		ev(TTFT_EV_RESP_END, at + MS(50), c, 0, body[i], 0, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(ttft_record_tokens(&a.reqs[i]), want_tok[i]);
		const char *src = ttft_tokens_source_name(ttft_record_tokens_source(&a.reqs[i]));
		ck_assert_msg(want_src[i] ? src && !strcmp(src, want_src[i]) : !src,
			      "row %d: %s, want %s", i + 1, src ? src : "NULL",
			      want_src[i] ? want_src[i] : "NULL");
	}
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), N);
	for (int i = 0; i < N; i++) {
		cJSON *q = cJSON_GetArrayItem(reqs, i);
		cJSON *s = cJSON_GetObjectItem(q, "tokens_source");
		ck_assert_msg(s, "row %d: no tokens_source", i + 1);
		if (want_src[i])
			ck_assert_str_eq(cJSON_GetStringValue(s) ? s->valuestring : "(not a string)",
					 want_src[i]);
		else /* unknown: null, as its tokens */
			ck_assert(cJSON_IsNull(s) &&
				  cJSON_IsNull(cJSON_GetObjectItem(q, "tokens")));
		if (want_tok[i] >= 0)
			ck_assert_int_eq(cJSON_GetObjectItem(q, "tokens")->valueint,
					 (int)want_tok[i]);
	}
	cJSON_Delete(j);
	char trace[300], extra[400];
	snprintf(trace, sizeof trace, "%s.trace.json", g_path);
	snprintf(extra, sizeof extra, "--trace %s", trace);
	char *out = table_of(extra);
	token_cells_are(out, want_cell, N);
	free(out);
	/* the trace's request slices: the row's count and its source */
	char *t = tu_read_file(trace, NULL);
	ck_assert_ptr_nonnull(t);
	cJSON *tj = cJSON_Parse(t);
	ck_assert_ptr_nonnull(tj);
	int k = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(tj, "traceEvents"))
	{
		cJSON *cat = cJSON_GetObjectItem(e, "cat");
		if (!cJSON_IsString(cat) || strcmp(cat->valuestring, "request"))
			continue;
		ck_assert_int_lt(k, N);
		cJSON *args = cJSON_GetObjectItem(e, "args");
		cJSON *tk = cJSON_GetObjectItem(args, "tokens");
		cJSON *s = cJSON_GetObjectItem(args, "tokens_source");
		if (want_tok[k] >= 0)
			ck_assert_msg(cJSON_IsNumber(tk) && tk->valueint == want_tok[k],
				      "slice %d: tokens %d, want %ld", k + 1,
				      cJSON_IsNumber(tk) ? tk->valueint : -1, want_tok[k]);
		else
			ck_assert(cJSON_IsNull(tk));
		if (want_src[k])
			ck_assert_msg(cJSON_GetStringValue(s) && !strcmp(s->valuestring, want_src[k]),
				      "slice %d: no tokens_source %s", k + 1, want_src[k]);
		else
			ck_assert(cJSON_IsNull(s));
		k++;
	}
	ck_assert_int_eq(k, N);
	cJSON_Delete(tj);
	free(t);
	unlink(trace);
	unlink(g_path);
}
END_TEST

/* Each token event carries one token at least, so a usage below the
 * count of token events is not the stream's count: a usage said before
 * the stream ended (vLLM's continuous_usage_stats puts one in every chunk,
 * its role chunk's says 0 and is the only one read when the stream is cut
 * before its usage chunk; a proxy's running usage) with token events after
 * it. Its row said 'tokens: 1', "usage", after 4 token events (seen
 * failing: 1). The events are counted (a lower bound, "events"), as for
 * timings and several choices' usage; a usage at or above them is taken. */
START_TEST(a_usage_below_the_events_is_not_the_count)
{
	open_log(1 << 20);
	const int64_t usage[2] = {1, 4};
	for (int i = 0; i < 2; i++) {
		int64_t at = T0 + MS(100 * i);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, at, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, at + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, at + MS(0.2), 100, 100, c, 0, 0, 90,
			at + MS(0.3), "POST /v1/chat/completions");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, at + MS(5), 100, 100, c, 0, 0, 200,
			0, NULL);
		ev(TTFT_EV_SSE_TOKEN, at + MS(10), c, 0, 0, 0, NULL);
		/* a usage-only chunk after the first token */
		struct ttft_rec_numbers nv = {{0}};
		nv.v[TTFT_NUM_COMPLETION_TOKENS] = usage[i];
		nv.v[TTFT_NUM_PROMPT_TOKENS] = 3;
		ev(TTFT_EV_SSE_EMPTY, at + MS(11), c, 0, 0, 0, NULL);
		ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
			.kind = TTFT_EV_SERVER_NUMBERS, .t_ns = at + MS(11), .pid = 100,
			.tid = 100, .fd = 5, .conn = c,
			.a = 1 << TTFT_NUM_COMPLETION_TOKENS | 1 << TTFT_NUM_PROMPT_TOKENS,
			.text = (void *)&nv, .text_len = sizeof nv}));
		for (int k = 1; k < 4; k++)
			ev(TTFT_EV_SSE_TOKEN, at + MS(10 + 5 * k), c, 0, 0, k, NULL);
		ev(TTFT_EV_SSE_DONE, at + MS(40), c, 0, 0, 0, NULL);
		ev(TTFT_EV_RESP_END, at + MS(41), c, 0, 400, 4, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[0]), 4);
	ck_assert_int_eq(ttft_record_tokens_source(&a.reqs[0]), TTFT_TOKENS_EVENTS);
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[1]), 4);
	ck_assert_int_eq(ttft_record_tokens_source(&a.reqs[1]), TTFT_TOKENS_USAGE);
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert_int_eq(cJSON_GetObjectItem(q, "tokens")->valueint, 4);
	ck_assert_str_eq(cJSON_GetObjectItem(q, "tokens_source")->valuestring, "events");
	ck_assert_int_eq(cJSON_GetObjectItem(q, "prompt_tokens")->valueint, 3);
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* A request that got no answer at all (no response head, no event: the
 * server closed, or the client gave up) has no token count: it was
 * '≥0', tokens_source "events", with the line "token events counted, the
 * stream carried no usage" under the table — of a stream that never came
 * (seen failing: 0, "events"). */
START_TEST(no_answer_has_no_token_count)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_CONNECT_BEGIN, T0, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T0 + MS(0.1), c, 0, 0, 0, NULL);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0 + MS(0.2), 100, 100, c, 0, 0, 90,
		T0 + MS(0.3), "POST /v1/completions");
	ev(TTFT_EV_CLOSE, T0 + MS(50), c, 0, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 1);
	ck_assert_int_eq(a.reqs[0].status, 0);
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[0]), -1);
	ck_assert_int_eq(ttft_record_tokens_source(&a.reqs[0]), TTFT_TOKENS_UNKNOWN);
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "tokens")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "tokens_source")));
	cJSON_Delete(j);
	char *out = table_of("");
	ck_assert_msg(!strstr(out, "≥0") && !strstr(out, "token events counted"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A response with a Content-Encoding but no body (a HEAD, a 304, a
 * Content-Length: 0: RFC 9110 has a HEAD and a 304 carry the headers a GET
 * would, Content-Encoding: gzip included, and nginx and CDNs send them so)
 * has nothing compressed to read: its row said "compressed body: tokens not
 * visible", complete false, tokens null (seen failing: not complete), where
 * it ended normally with an empty body: 0 tokens for sure. A body with
 * bytes stays compressed. */
START_TEST(no_body_is_no_compressed_body)
{
	open_log(1 << 20);
	/* 0: HEAD, 1: 304, both gzip and empty; 2: gzip with 300 bytes */
	static const char *const line[3] = {"HEAD /v1/models", "GET /v1/models",
					    "POST /v1/completions"};
	const int status[3] = {200, 304, 200};
	const int64_t body[3] = {0, 0, 300};
	for (int k = 0; k < 3; k++) {
		int64_t t = T0 + MS(100 * k);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(0.2), 100, 100, c, 0, 0,
			90, t + MS(0.3), line[k]);
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_COMPRESSED, t + MS(1),
			100, 100, c, 0, 0, status[k], 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(k == 2 ? 20 : 1), c, 0, body[k], 0, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	char nb[512];
	for (int k = 0; k < 2; k++) {
		const struct ttft_record *r = &a.reqs[k];
		const char *n = ttft_record_note(r, nb, sizeof nb);
		ck_assert_msg(ttft_record_complete(r), "row %d: %s", k + 1, n ? n : "(no note)");
		ck_assert_msg(!n, "row %d: %s", k + 1, n);
		ck_assert_int_eq(ttft_record_tokens(r), 0);
		ck_assert_int_eq(ttft_record_tokens_source(r), TTFT_TOKENS_EMPTY);
	}
	ck_assert(!ttft_record_complete(&a.reqs[2]));
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[2]), -1);
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "compressed")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "compressed")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 2), "compressed")));
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* An event stream that ended at the server's close with no byte of body
 * (the server died after its headers, or had nothing to say) was 'tokens:
 * 0', "empty": 0 for sure, as a 204's; the close would end a cut one the
 * same way, so it is a count of the events (none: "≥0"), with the note of
 * a stream ended by the close (seen failing: "empty"). A 204, a HEAD and
 * a Content-Length: 0 keep their sure 0. */
START_TEST(an_empty_stream_ended_by_the_close_is_no_sure_0)
{
	open_log(1 << 20);
	/* 0: close-delimited, empty; 1: Content-Length: 0 */
	for (int k = 0; k < 2; k++) {
		int64_t t = T0 + MS(100 * k);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(0.2), 100, 100, c, 0, 0,
			90, t + MS(0.3), "POST /v1/completions");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, t + MS(1), 100, 100, c, 0, 0,
			200, 0, NULL);
		ev_full(TTFT_EV_RESP_END, k == 0 ? TTFT_F_EOF_BODY : 0,
			t + MS(k == 0 ? 30 : 1), 100, 100, c, 0, 0, 0, 0, NULL);
		ev(TTFT_EV_CLOSE, t + MS(31), c, 0, 0, 0, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[0]), 0);
	ck_assert_str_eq(ttft_tokens_source_name(ttft_record_tokens_source(&a.reqs[0])),
			 "events");
	char nb[512];
	const char *n0 = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(n0 && strstr(n0, "the server's close"), "%s", n0 ? n0 : "(no note)");
	ck_assert_str_eq(ttft_tokens_source_name(ttft_record_tokens_source(&a.reqs[1])),
			 "empty");
	ck_assert_ptr_null(ttft_record_note(&a.reqs[1], nb, sizeof nb));
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* An event stream whose end is the server's close (no Content-Length, not
 * chunked: HTTP/1.0, or "Connection: close" without a length) ended
 * however the server stopped: a stream cut short (the server died after its
 * second token) ends the same way as a whole one. Its row looked whole
 * (complete, no note) with the tokens it got; it says so when no [DONE]
 * came. One that sent [DONE] and one with a length say nothing. */
START_TEST(a_stream_ended_by_the_close_says_so)
{
	open_log(1 << 20);
	/* 0: close-delimited, no [DONE]; 1: close-delimited, [DONE];
	 * 2: a length, no [DONE]; 3: close-delimited, no [DONE], several
	 * choices (n > 1: that note too, not instead) */
	for (int k = 0; k < 4; k++) {
		int64_t t = T0 + MS(100 * k);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(0.2), 100, 100, c, 0, 0,
			90, t + MS(0.3), "POST /v1/completions");
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, t + MS(1), 100, 100, c, 0, 0,
			200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + MS(10), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_SSE_TOKEN, k == 3 ? TTFT_SSE_F_CHOICE : 0, t + MS(20), 100, 100,
			c, 0, 0, 0, 0, NULL);
		if (k == 1)
			ev(TTFT_EV_SSE_DONE, t + MS(21), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_RESP_END, k == 2 ? 0 : TTFT_F_EOF_BODY, t + MS(30), 100,
			100, c, 0, 0, 120, 2, NULL);
		ev(TTFT_EV_CLOSE, t + MS(31), c, 0, 0, 0, NULL);
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 4);
	char nb[512];
	const char *n0 = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(n0 && strstr(n0, "the server's close") && strstr(n0, "[DONE]"),
		      "%s", n0 ? n0 : "(no note)");
	const char *n3 = ttft_record_note(&a.reqs[3], nb, sizeof nb);
	ck_assert_msg(n3 && strstr(n3, "several choices") && strstr(n3, "the server's close"),
		      "%s", n3 ? n3 : "(no note)");
	n0 = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[0]), 2);
	ck_assert_ptr_null(ttft_record_note(&a.reqs[1], nb, sizeof nb));
	ck_assert_ptr_null(ttft_record_note(&a.reqs[2], nb, sizeof nb));
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	cJSON *note = cJSON_GetObjectItem(q, "note");
	ck_assert_msg(cJSON_IsString(note) && strstr(note->valuestring, "close"),
		      "no note in --json");
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* A response that is not an event stream (Ollama's NDJSON stream, a
 * non-streamed JSON answer) is not read for events: its tokens are not
 * known (null, "-"), never a made-up 0, and the note says why; an empty
 * body (204, HEAD, Content-Length: 0) has 0 for sure; an event stream's
 * are counted. The trace says the same. */
START_TEST(not_an_event_stream_has_no_token_count)
{
	open_log(1 << 20);
	const int64_t at[4] = {T0, T0 + MS(100), T0 + MS(200), T0 + MS(300)};
	const int status[4] = {200, 204, 200, 200};
	const uint16_t flags[4] = {TTFT_F_CHUNKED, 0, TTFT_F_SSE, 0};
	const int64_t body[4] = {400, 0, 300, -1}; /* -1: no end, a reset */
	uint64_t c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, at[i], c[i], 0, 0, 0, "127.0.0.1:11434");
		ev(TTFT_EV_ESTABLISHED, at[i] + MS(0.1), c[i], 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, at[i] + MS(0.2), 100, 100, c[i], 0, 0, 90,
			at[i] + MS(0.3), "POST /api/chat");
		ev_full(TTFT_EV_RESP_HEADERS, flags[i], at[i] + MS(5), 100, 100, c[i], 0, 0,
			status[i], 0, NULL);
		if (flags[i] & TTFT_F_SSE) {
			ev(TTFT_EV_SSE_TOKEN, at[i] + MS(10), c[i], 0, 0, 0, NULL);
			ev(TTFT_EV_SSE_TOKEN, at[i] + MS(20), c[i], 0, 0, 1, NULL);
		}
		if (body[i] >= 0)
			ev(TTFT_EV_RESP_END, at[i] + MS(50), c[i], 0, body[i], 0, NULL);
		else
			ev_full(TTFT_EV_IO_ERROR, 0, at[i] + MS(50), 100, 100, c[i], 0, ECONNRESET,
				-1, 0, "recv");
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 4);
	char nb[320];
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[0]), -1);
	ck_assert(ttft_record_complete(&a.reqs[0])); /* it ended normally */
	ck_assert_str_eq(ttft_record_note(&a.reqs[0], nb, sizeof nb),
			 "not an event stream: its tokens are not read");
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[1]), 0);
	ck_assert_ptr_null(ttft_record_note(&a.reqs[1], nb, sizeof nb));
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[2]), 2);
	ck_assert_ptr_null(ttft_record_note(&a.reqs[2], nb, sizeof nb));
	ck_assert_int_eq(ttft_record_tokens(&a.reqs[3]), -1);
	ck_assert_str_eq(ttft_record_note(&a.reqs[3], nb, sizeof nb),
			 "the server reset the connection (ECONNRESET); not an event stream: "
			 "its tokens are not read");
	ttft_analysis_free(&a);
	cJSON *j = json_of();
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "tokens")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "complete")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "tokens")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 2), "tokens")->valueint, 2);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 3), "tokens")));
	cJSON_Delete(j);
	char trace[300], extra[400];
	snprintf(trace, sizeof trace, "%s.trace.json", g_path);
	snprintf(extra, sizeof extra, "--trace %s", trace);
	char *out = table_of(extra);
	/* the table: "-" in the tokens column (after start_unix_s), the note */
	ck_assert_msg(strstr(out, "(not an event stream: its tokens are not read)"), "%s", out);
	char tok[16];
	tokens_of_row(out, 1, tok, sizeof tok);
	free(out);
	ck_assert_str_eq(tok, "-");
	char *t = tu_read_file(trace, NULL);
	ck_assert_ptr_nonnull(t);
	cJSON *tj = cJSON_Parse(t);
	ck_assert_ptr_nonnull(tj);
	int nulls = 0, twos = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(tj, "traceEvents"))
	{
		cJSON *tk = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "tokens");
		nulls += tk && cJSON_IsNull(tk);
		twos += tk && cJSON_IsNumber(tk) && tk->valueint == 2;
	}
	ck_assert_int_eq(nulls, 2);
	ck_assert_int_eq(twos, 1);
	cJSON_Delete(tj);
	free(t);
	unlink(trace);
	unlink(g_path);
}
END_TEST

START_TEST(failure_reasons)
{
	open_log(1 << 20);
	uint64_t c1 = exchange(T0, 0.2, 0);
	ev_full(TTFT_EV_IO_ERROR, 0, T0 + MS(20), 100, 100, c1, 0, ECONNRESET, -1, 0, "recv");
	uint64_t c2 = exchange(T0 + MS(100), 0.2, 0);
	ev(TTFT_EV_DESYNC, T0 + MS(120), c2, 0, 0, TTFT_DESYNC_LOST_BYTES, "rx");
	exchange(T0 + MS(200), 0.2, 1); /* whole: complete, no note */
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	char nb[320];
	ck_assert(!ttft_record_complete(&a.reqs[0]));
	ck_assert_str_eq(ttft_record_note(&a.reqs[0], nb, sizeof nb),
			 "the server reset the connection (ECONNRESET)");
	ck_assert(!ttft_record_complete(&a.reqs[1]));
	ck_assert_msg(strstr(ttft_record_note(&a.reqs[1], nb, sizeof nb), "bytes passed unseen"),
		      "%s", nb);
	ck_assert(ttft_record_complete(&a.reqs[2]));
	ttft_analysis_free(&a);
	/* the same in --json and in the table */
	cJSON *j = json_of();
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "note")->valuestring,
			 "the server reset the connection (ECONNRESET)");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 2), "complete")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 2), "note")));
	cJSON_Delete(j);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s", tu_build_dir(), g_path);
	tu_sh(cmd, &out);
	ck_assert_msg(strstr(out, "(the server reset the connection (ECONNRESET))"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A client that stops at [DONE] and closes before the response's own end
 * (its last chunk, a close-delimited body's close: requests' iter_lines
 * with a break, then close) got every event: its row said "client closed
 * early", as one that gave up mid-stream (seen failing). It says the
 * client closed after [DONE]; still not complete and no e2e (the
 * response's end was not seen). One that closed before [DONE] is "client
 * closed early" as ever. */
START_TEST(closed_after_done_is_not_early)
{
	open_log(1 << 20);
	uint64_t c1 = exchange(T0, 0.2, 0);
	ev(TTFT_EV_SSE_DONE, T0 + MS(15), c1, 0, 0, 0, NULL);
	ev(TTFT_EV_CLOSE, T0 + MS(16), c1, 0, 0, 0, NULL);
	uint64_t c2 = exchange(T0 + MS(100), 0.2, 0);
	ev(TTFT_EV_CLOSE, T0 + MS(116), c2, 0, 0, 0, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 2);
	char nb[320];
	const char *n0 = ttft_record_note(&a.reqs[0], nb, sizeof nb);
	ck_assert_msg(n0 && strstr(n0, "after [DONE]") && !strstr(n0, "closed early"), "%s",
		      n0 ? n0 : "(no note)");
	ck_assert(!ttft_record_complete(&a.reqs[0]));
	ck_assert(isnan(ttft_record_e2e_s(&a.reqs[0])));
	ck_assert_str_eq(ttft_record_note(&a.reqs[1], nb, sizeof nb), "client closed early");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* --path PREFIX matches the path of an absolute-form target too: a
 * request through a plain HTTP proxy (curl -x) is sent as "POST
 * http://host:8000/v1/completions", and --path /v1/completions dropped it
 * from the table and the summary ("no HTTP requests match the filters";
 * seen failing: 1 row of 3). A prefix given whole (with its scheme and
 * host) still matches as it is. */
START_TEST(path_filter_sees_through_an_absolute_target)
{
	open_log(1 << 20);
	static const char *const line[6] = {
		"POST /v1/completions", "POST http://vllm:8000/v1/completions",
		"GET http://vllm:8000/health", "POST https://vllm/v1/completionsX",
		"GET http://vllm:8000", "GET http://h?x=/v1/completions"};
	for (int k = 0; k < 6; k++) {
		int64_t t = T0 + MS(100 * k);
		uint64_t c = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t + MS(0.1), c, 0, 0, 0, NULL);
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t + MS(0.2), 100, 100, c, 0, 0,
			90, t + MS(0.3), line[k]);
		ev_full(TTFT_EV_RESP_HEADERS, TTFT_F_SSE, t + MS(1), 100, 100, c, 0, 0,
			200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + MS(10), c, 0, 0, 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(11), c, 0, 100, 1, NULL);
	}
	ttft_log_close(&g_log);
	char err[512];
	struct ttft_analysis a;
	struct ttft_filter f = {.path_prefix = "/v1/completions"};
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 3);
	ck_assert_str_eq(a.reqs[1].path, "http://vllm:8000/v1/completions");
	ck_assert_str_eq(a.reqs[2].path, "https://vllm/v1/completionsX");
	ttft_analysis_free(&a);
	f.path_prefix = "http://vllm:8000/";
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 2);
	ttft_analysis_free(&a);
	f.path_prefix = "/health";
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 1);
	ttft_analysis_free(&a);
	/* an absolute target with no path asks for "/"; a query's slashes
	 * are no path */
	f.path_prefix = "/";
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 6);
	ttft_analysis_free(&a);
	f.path_prefix = "/?";
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 1);
	ck_assert_str_eq(a.reqs[0].path, "http://h?x=/v1/completions");
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

/* A note in a buffer too small for it is cut there, the parts' "; "
 * included, and always ended: the same bytes as before the parts were
 * joined without printf. */
START_TEST(a_note_is_cut_to_its_buffer)
{
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.encrypted = 1;
	r.inherited = 1;
	const char *full = "encrypted: not visible; connection inherited across exec: "
			   "its setup was not seen";
	char nb[128];
	ck_assert_str_eq(ttft_record_note(&r, nb, sizeof nb), full);
	size_t n = strlen(full);
	for (size_t len = 1; len <= n + 1; len++) {
		memset(nb, 'x', sizeof nb);
		const char *got = ttft_record_note(&r, nb, len);
		ck_assert_msg(len == 1 ? got == NULL : got == nb, "len %zu", len);
		ck_assert_msg(!strncmp(nb, full, len - 1) && nb[len - 1] == 0, "len %zu: %s",
			      len, nb);
	}
	nb[0] = 'x';
	ck_assert_ptr_null(ttft_record_note(&r, nb, 0));
	ck_assert_int_eq(nb[0], 'x');
	ttft_record_free(&r);
}
END_TEST

START_TEST(cut_by_a_full_log)
{
	/* room for 16 records: the first exchange (7) fits, the second is cut
	 * after its token; its row must not look whole */
	open_log(16 * TTFT_REC_SIZE);
	exchange(T0, 0.2, 1);
	uint64_t c = exchange(T0 + MS(100), 0.2, 0);
	for (int i = 1; i < 40; i++) /* tokens the log has no room for */
		ev(TTFT_EV_SSE_TOKEN, T0 + MS(112 + i), c, 0, 0, i, NULL);
	ev(TTFT_EV_RESP_END, T0 + MS(160), c, 0, 100, 40, NULL);
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_gt(a.dropped, 0);
	ck_assert_uint_eq(a.nreqs, 2);
	ck_assert(ttft_record_complete(&a.reqs[0]));
	ck_assert(!ttft_record_complete(&a.reqs[1]));
	char nb[320];
	ck_assert_msg(strstr(ttft_record_note(&a.reqs[1], nb, sizeof nb), "log filled up"),
		      "%s", nb);
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

START_TEST(dns_stays_with_its_thread)
{
	/* thread 101 resolves, thread 102 connects first without a lookup,
	 * then 101 connects; a helper thread 103 (never connects) resolves
	 * for 104's connect */
	open_log(1 << 20);
	ev_full(TTFT_EV_DNS_BEGIN, 0, T0, 100, 101, 0, 0, 0, 0, 0, "localhost");
	ev_full(TTFT_EV_DNS_END, 0, T0 + MS(2), 100, 101, 0, 0, 0, 0, 0, "localhost");
	uint64_t cb = ttft_log_new_conn(&g_log), ca = ttft_log_new_conn(&g_log),
		 cc = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_CONNECT_BEGIN, 0, T0 + MS(3), 100, 102, cb, 0, 0, 0, 0, "127.0.0.1:1");
	ev_full(TTFT_EV_CONNECT_BEGIN, 0, T0 + MS(10), 100, 101, ca, 0, 0, 0, 0, "127.0.0.1:1");
	ev_full(TTFT_EV_DNS_BEGIN, 0, T0 + MS(20), 100, 103, 0, 0, 0, 0, 0, "h");
	ev_full(TTFT_EV_DNS_END, 0, T0 + MS(25), 100, 103, 0, 0, 0, 0, 0, "h");
	ev_full(TTFT_EV_CONNECT_BEGIN, 0, T0 + MS(26), 100, 104, cc, 0, 0, 0, 0, "127.0.0.1:1");
	uint64_t cs[3] = {cb, ca, cc};
	int64_t ts[3] = {MS(3), MS(10), MS(26)};
	for (int i = 0; i < 3; i++) {
		ev(TTFT_EV_ESTABLISHED, T0 + ts[i] + MS(0.1), cs[i], 0, 0, 0, NULL);
		ev(TTFT_EV_REQ_BEGIN, T0 + ts[i] + MS(0.2), cs[i], 0, 0, 0, "GET /");
	}
	struct ttft_analysis a;
	analyse(&a);
	ck_assert_uint_eq(a.nreqs, 3);
	struct ttft_phases p;
	ttft_record_phases(&a.reqs[0], &p); /* 102: no lookup of its own */
	ck_assert(isnan(p.dns_s));
	ttft_record_phases(&a.reqs[1], &p); /* 101: its own, 2 ms */
	ck_assert_double_eq_tol(p.dns_s, 0.002, 1e-9);
	ttft_record_phases(&a.reqs[2], &p); /* 104: the helper's, 5 ms */
	ck_assert_double_eq_tol(p.dns_s, 0.005, 1e-9);
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

START_TEST(damaged_header_and_untraced)
{
	open_log(1 << 20);
	exchange(T0, 0.2, 1);
	uint64_t u = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_CONNECT_BEGIN, TTFT_F_UNTRACED, T0 + MS(50), 100, 100, u, 0, 0, 0,
		0, "127.0.0.1:8000");
	g_log.hdr->next_conn = 0; /* damaged */
	struct ttft_analysis a;
	analyse(&a);
	/* the request is still found, and the damage is said */
	ck_assert_uint_eq(a.nreqs, 1);
	ck_assert(a.bad_next_conn);
	ttft_analysis_free(&a);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s 2>&1", tu_build_dir(), g_path);
	tu_sh(cmd, &out);
	ck_assert_msg(strstr(out, "next_conn") && strstr(out, "damaged"), "%s", out);
	ck_assert_msg(strstr(out, "not traced: the process had more connections"), "%s", out);
	ck_assert_msg(strstr(out, "requests: 1 "), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

static cJSON *row_of(cJSON *j, uint64_t conn)
{
	cJSON *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "requests"))
		if ((uint64_t)cJSON_GetObjectItem(r, "conn")->valuedouble == conn)
			return r;
	ck_abort_msg("no row of conn %llu", (unsigned long long)conn);
	return NULL;
}

/* Sealed records whose times contradict each other (a writer's fault,
 * or damage the seal did not catch): a send that ends before it began, a
 * token after the response's end. The row says so, is not complete, and
 * shows no negative phase, no TTFT longer than its e2e (a review's
 * repro: send_s -0.006 and "-5.5 send", ttft + decode > e2e, both
 * complete). A record whose connection id no log of its size holds is
 * damaged too: counted and said, the log not complete (it had vanished,
 * log_complete true). */
START_TEST(times_out_of_order_are_said)
{
	open_log(1 << 20);
	uint64_t ok = exchange(T0, 0, 1);
	uint64_t c1 = ttft_log_new_conn(&g_log), c2 = ttft_log_new_conn(&g_log);
	int64_t t = T0 + MS(100);
	/* sent whole by one call whose end (b) is 6 ms before its start */
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t, 100, 100, c1, 0, 0, 100, t - MS(6),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, t + MS(2), c1, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, t + MS(10), c1, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, t + MS(11), c1, 0, 100, 1, NULL);
	t += MS(100);
	ev(TTFT_EV_REQ_BEGIN, t, c2, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, t + MS(0.1), c2, 0, 100, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, t + MS(2), c2, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, t + MS(10), c2, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, t + MS(11), c2, 0, 100, 1, NULL);
	ev(TTFT_EV_SSE_TOKEN, t + MS(30), c2, 0, 0, 1, NULL); /* after its end */
	ev(TTFT_EV_REQ_BEGIN, t + MS(40), 100000, 0, 0, 0, "GET /nowhere");
	cJSON *j = json_of();
	ttft_log_close(&g_log);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row_of(j, ok), "complete")));
	for (int k = 0; k < 2; k++) {
		cJSON *r = row_of(j, k ? c2 : c1);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "complete")));
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "note"));
		ck_assert_msg(n && strstr(n, "out of order"), "%s", n ? n : "(no note)");
		static const char *const f[] = {"send_s", "wait_headers_s", "ttft_s",
						"decode_s", "e2e_s"};
		for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
			cJSON *v = cJSON_GetObjectItem(r, f[i]);
			ck_assert_msg(!cJSON_IsNumber(v) || v->valuedouble >= 0, "%s %g", f[i],
				      v->valuedouble);
		}
		cJSON *tt = cJSON_GetObjectItem(r, "ttft_s"), *e = cJSON_GetObjectItem(r, "e2e_s");
		cJSON *d = cJSON_GetObjectItem(r, "decode_s");
		if (cJSON_IsNumber(tt) && cJSON_IsNumber(e))
			ck_assert(tt->valuedouble + (cJSON_IsNumber(d) ? d->valuedouble : 0) <=
				  e->valuedouble + 1e-12);
	}
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "log_complete")));
	ck_assert_int_eq(cJSON_GetObjectItem(j, "damaged_records")->valueint, 1);
	cJSON_Delete(j);
	char *out = table_of("");
	ck_assert_msg(strstr(out, "1 records name a connection id that no log"), "%s", out);
	ck_assert_msg(strstr(out, "not taken apart (its times are out of order"), "%s", out);
	no_negative_part(out);
	free(out);
	unlink(g_path);
}
END_TEST

/* TCP Fast Open: the request rides the handshake, so its sending is
 * counted from the connection's establishment (send_s). A log whose
 * establishment comes after the request was sent (the shim never writes
 * that: a blocking sendto returns established, a non-blocking one says
 * the end was not seen; a damaged record) made send_s negative, on a row
 * that said complete. Now it is out of order, as any send that ends
 * before it began: not complete, said, no negative phase. The same with
 * the establishment at the send's end is whole (send_s 0). */
START_TEST(a_fast_open_sent_before_established_is_said)
{
	open_log(1 << 20);
	uint64_t c[2];
	for (int k = 0; k < 2; k++) {
		int64_t t = T0 + MS(100 * k);
		c[k] = ttft_log_new_conn(&g_log);
		ev(TTFT_EV_CONNECT_BEGIN, t, c[k], 0, 0, 0, "127.0.0.1:8000");
		/* begun with the connect, sent 0.1 ms later */
		ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, t, 100, 100, c[k], 0, 0, 100,
			t + MS(0.1), "POST /v1/completions");
		/* established at the send's return, or 0.4 ms after it */
		ev(TTFT_EV_ESTABLISHED, t + MS(k ? 0.1 : 0.5), c[k], 0, 0, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t + MS(2), c[k], 0, 200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + MS(10), c[k], 0, 0, 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(11), c[k], 0, 100, 1, NULL);
	}
	cJSON *j = json_of();
	ttft_log_close(&g_log);
	cJSON *bad = row_of(j, c[0]), *good = row_of(j, c[1]);
	char *js = cJSON_PrintUnformatted(bad);
	cJSON *send = cJSON_GetObjectItem(bad, "send_s");
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(bad, "note"));
	ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(bad, "complete")) && !cJSON_IsNumber(send) &&
		      n && strstr(n, "out of order"), "%s", js);
	free(js);
	js = cJSON_PrintUnformatted(good);
	send = cJSON_GetObjectItem(good, "send_s");
	n = cJSON_GetStringValue(cJSON_GetObjectItem(good, "note"));
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(good, "complete")) && cJSON_IsNumber(send) &&
		      send->valuedouble == 0 && n && strstr(n, "TCP Fast Open"), "%s", js);
	free(js);
	cJSON_Delete(j);
	char *out = table_of("");
	no_negative_part(out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A damaged log's instants may be anything, two token times of one
 * request more than 2^63 ns apart too (sealed, in time order): their gap
 * was worked out wrapped (signed overflow: UBSan's "runtime error"),
 * and the row showed a negative ITL. No gap that does not fit is a
 * number: ITL null, as decode and e2e are (span), and nothing negative. */
START_TEST(a_token_gap_past_2_63_is_no_itl)
{
	open_log(1 << 20);
	uint64_t c = ttft_log_new_conn(&g_log);
	int64_t lo = INT64_MIN + MS(1000), hi = INT64_MAX - MS(1000);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, lo, 100, 100, c, 0, 0, 100, lo + MS(0.1),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, lo + MS(2), c, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, lo + MS(10), c, 0, 0, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, lo + MS(20), c, 0, 0, 1, NULL);
	ev(TTFT_EV_SSE_TOKEN, hi, c, 0, 0, 2, NULL);
	ev(TTFT_EV_RESP_END, hi + MS(1), c, 0, 100, 1, NULL);
	cJSON *j = json_of();
	ttft_log_close(&g_log);
	cJSON *r = row_of(j, c);
	char *js = cJSON_PrintUnformatted(r);
	ck_assert_msg(!cJSON_IsNumber(cJSON_GetObjectItem(r, "itl_p50_s")) &&
		      !cJSON_IsNumber(cJSON_GetObjectItem(r, "itl_p99_s")), "%s", js);
	cJSON *v;
	cJSON_ArrayForEach(v, r)
		ck_assert_msg(!cJSON_IsNumber(v) || v->valuedouble >= 0 ||
			      !strcmp(v->string, "start_s") || !strcmp(v->string, "start_unix_s"),
			      "%s %g: %s", v->string, v->valuedouble, js);
	free(js);
	cJSON_Delete(j);
	char *out = table_of("");
	no_negative_part(out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A record's raw text (binary: numbers, token times). */
static void ev_bin(uint16_t kind, uint16_t flags, int64_t t, uint64_t conn, int err, int64_t a,
		   const void *text, size_t n)
{
	ttft_log_put(&g_log, &(struct ttft_event){
		.kind = kind, .flags = flags, .t_ns = t, .pid = 100, .tid = 100, .fd = 5,
		.conn = conn, .err = err, .a = a, .b = 1, .text = text, .text_len = n});
}

/* A damaged log's other instants more than 2^63 ns apart: the wait the
 * server's split leaves (the last request byte to the first token, less
 * the prefill) is no number, not a wrapped, negative one (a signed
 * overflow: UBSan's runtime error; other_ms -2005.1 on a complete row);
 * a TTFT_F_TIMES record whose last time would be past INT64_MAX is a
 * writer's fault (first token only, said), not a token wrapped to before
 * the first (tokens 3, no note); a RESP_END whose arrival would be before
 * INT64_MIN is of no known arrival (a signed overflow: under `make
 * sanitize` ttft-analyze stops at it, no JSON). */
START_TEST(instants_past_int64_are_no_numbers)
{
	open_log(1 << 20);
	int64_t lo = INT64_MIN + MS(1000), hi = INT64_MAX - MS(1000);
	uint64_t c[3];
	for (int k = 0; k < 3; k++)
		c[k] = ttft_log_new_conn(&g_log);
	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, lo, 100, 100, c[0], 0, 0, 100, lo + MS(0.1),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, lo + MS(2), c[0], 0, 200, 0, NULL);
	struct ttft_rec_numbers nv = {{0}};
	nv.v[TTFT_NUM_PROMPT_US] = 5000;
	ev_bin(TTFT_EV_SERVER_NUMBERS, 0, lo + MS(3), c[0], 0, 1 << TTFT_NUM_PROMPT_US, &nv,
	       sizeof nv);
	ev(TTFT_EV_SSE_TOKEN, hi, c[0], 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, hi + MS(1), c[0], 0, 100, 1, NULL);

	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, T0, 100, 100, c[1], 0, 0, 100, T0 + MS(0.1),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, T0 + MS(2), c[1], 0, 200, 0, NULL);
	uint32_t d[TTFT_TIMES_MAX - 1] = {1000000000u, 4000000000u};
	ev_bin(TTFT_EV_SSE_TOKEN, TTFT_F_TIMES, INT64_MAX - 10, c[1], 0, 3, d, sizeof d);
	ev(TTFT_EV_RESP_END, INT64_MAX, c[1], 0, 100, 1, NULL);

	ev_full(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, lo, 100, 100, c[2], 0, 0, 100, lo + MS(0.1),
		"POST /v1/completions");
	ev(TTFT_EV_RESP_HEADERS, lo + MS(2), c[2], 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, lo + MS(3), c[2], 0, 0, 0, NULL);
	ev_bin(TTFT_EV_RESP_END, TTFT_F_ARRIVAL, lo + MS(4), c[2], INT32_MAX, 100, NULL, 0);
	cJSON *j = json_of();
	ttft_log_close(&g_log);

	cJSON *r = row_of(j, c[0]);
	char *js = cJSON_PrintUnformatted(r);
	ck_assert_msg(!cJSON_IsNumber(cJSON_GetObjectItem(r, "server_other_s")), "%s", js);
	cJSON *v;
	cJSON_ArrayForEach(v, r)
		ck_assert_msg(!cJSON_IsNumber(v) || v->valuedouble >= 0 ||
			      !strcmp(v->string, "start_s"), "%s %g: %s", v->string,
			      v->valuedouble, js);
	free(js);

	r = row_of(j, c[1]);
	js = cJSON_PrintUnformatted(r);
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "note"));
	cJSON *tok = cJSON_GetObjectItem(r, "tokens");
	ck_assert_msg(cJSON_IsNumber(tok) && tok->valuedouble == 1 && n && strstr(n, "impossible"),
		      "%s", js);
	free(js);

	r = row_of(j, c[2]);
	js = cJSON_PrintUnformatted(r);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")), "%s", js);
	free(js);
	cJSON_Delete(j);
	char *out = table_of("");
	ck_assert_msg(!strstr(out, "runtime error"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rows");
	TCase *t = tu_tcase(s, "rows", 60);
	tcase_add_test(t, preopened_connection);
	tcase_add_test(t, interim_only_then_log_ends);
	tcase_add_test(t, a_length_clients_read_apart_is_said);
	tcase_add_test(t, setup_end_not_seen);
	tcase_add_test(t, not_early_not_idle_not_zero);
	tcase_add_test(t, a_request_after_the_framing_was_lost_says_so);
	tcase_add_test(t, a_forked_request_after_the_framing_was_lost_says_so);
	tcase_add_test(t, a_forked_request_read_by_its_own_sniffer_is_whole);
	tcase_add_test(t, a_forked_request_says_its_own_lost_framing);
	tcase_add_test(t, a_parents_lost_framing_reaches_every_child);
	tcase_add_test(t, a_hole_in_the_log_is_said);
	tcase_add_test(t, a_request_lost_with_the_log_is_a_row);
	tcase_add_test(t, a_child_reading_its_parents_answer_is_no_lost_request);
	tcase_add_test(t, a_tangle_leaves_an_answered_connect_alone);
	tcase_add_test(t, a_tunnel_or_an_upgrade_is_said);
	tcase_add_test(t, a_tunnels_tls_is_tapped_or_said);
	tcase_add_test(t, failure_reasons);
	tcase_add_test(t, path_filter_sees_through_an_absolute_target);
	tcase_add_test(t, closed_after_done_is_not_early);
	tcase_add_test(t, a_note_is_cut_to_its_buffer);
	tcase_add_test(t, answered_before_the_request_was_sent);
	tcase_add_test(t, idle_408_is_no_request);
	tcase_add_test(t, not_an_event_stream_has_no_token_count);
	tcase_add_test(t, cut_by_a_full_log);
	tcase_add_test(t, dns_stays_with_its_thread);
	tcase_add_test(t, damaged_header_and_untraced);
	tcase_add_test(t, times_out_of_order_are_said);
	tcase_add_test(t, a_fast_open_sent_before_established_is_said);
	tcase_add_test(t, a_token_gap_past_2_63_is_no_itl);
	tcase_add_test(t, instants_past_int64_are_no_numbers);
	tcase_add_test(t, tokens_say_whether_counted_or_told);
	tcase_add_test(t, no_answer_has_no_token_count);
	tcase_add_test(t, a_usage_below_the_events_is_not_the_count);
	tcase_add_test(t, a_stream_ended_by_the_close_says_so);
	tcase_add_test(t, no_body_is_no_compressed_body);
	tcase_add_test(t, an_empty_stream_ended_by_the_close_is_no_sure_0);
	return tu_run(s);
}
