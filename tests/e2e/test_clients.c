/* test_clients.c — real clients under the shim (through ttft-run) against
 * the fixture server. Every stamp is CLOCK_MONOTONIC of this run, so the
 * shim's are checked against the fixture's own record of when it read and
 * wrote each byte (its --truth) and the client's own clock: nothing is
 * seen before the fixture wrote it nor after the client did; every phase
 * in order; exact counts of requests, tokens, statuses and connections.
 * How close (in ms) is `make bench`'s to report, not a pass/fail here. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"

/* Injected: headers 20 ms after the request, first token 60 ms later, then
 * a token every 10 ms; 5 tokens. */
#define HDR_MS 20.0
#define FIRST_MS 60.0
#define TOK_MS 10.0
#define NTOK 5
#define MS_NS(ms) ((int64_t)((ms) * 1e6))

static int g_port;
static pid_t g_srv;

static void setup(void)
{
	char args[128];
	snprintf(args, sizeof args, "--headers-ms %g --first-ms %g --token-ms %g",
		 HDR_MS, FIRST_MS, TOK_MS);
	g_port = tu_fixture_start(args, &g_srv);
}

static void teardown(void)
{
	tu_fixture_stop(g_srv);
}

struct run {
	struct ttft_analysis a;
	struct tu_truth truth; /* the fixture's record, once the client is done */
	int n;
	int64_t client_start[16], client_first[16], client_end[16];
	int client_tokens[16];
	int nclient;
};

static int64_t jns(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "client printed no %s", k);
	return (int64_t)v->valuedouble;
}

/* Run CMD (a shell command line) under ttft-run, keeping the log; analyse
 * it here, collect the JSON lines the client printed and the fixture's
 * record. */
static void run_client(const char *cmd, pid_t srv, struct run *r)
{
	memset(r, 0, sizeof *r);
	char log[256], line[2048], *out;
	tu_tmp_log(log, sizeof log, "clients");
	snprintf(line, sizeof line, "%s/ttft-run --quiet --log %s -- sh -c '%s'",
		 tu_build_dir(), log, cmd);
	int rc = tu_sh(line, &out);
	ck_assert_msg(rc == 0, "client failed (%d): %s\n%s", rc, cmd, out);
	for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(p);
		if (!o)
			continue;
		ck_assert_int_lt(r->nclient, 16);
		int i = r->nclient++;
		r->client_start[i] = jns(o, "start_ns");
		r->client_first[i] = jns(o, "first_ns");
		r->client_end[i] = jns(o, "end_ns");
		r->client_tokens[i] = (int)jns(o, "tokens");
		cJSON_Delete(o);
	}
	free(out);
	char err[512];
	/* every token's time kept: check_req holds each against the fixture's */
	ck_assert_msg(ttft_analyze_file_opt(log, NULL, TTFT_ANALYZE_ALL_TOKENS, &r->a, err,
					    sizeof err) == 0, "%s", err);
	unlink(log);
	r->n = (int)r->a.nreqs;
	tu_fixture_truth(srv, &r->truth);
}

static void done(struct run *r)
{
	ttft_analysis_free(&r->a);
	tu_truth_free(&r->truth);
}

#define LE(a, b) ck_assert_msg((a) <= (b), "request %d: %s (%lld) > %s (%lld)", i, #a, \
			       (long long)(a), #b, (long long)(b))

/* One request q as the shim saw it against the fixture's record s of the
 * same request: */
static void check_req(const struct ttft_record *q, const struct tu_treq *s, int i,
		      int expect_new_conn)
{
	ck_assert_msg(s != NULL, "the fixture has no record of request %d", i);
	struct ttft_phases p;
	ttft_record_phases(q, &p);
	/* exact counts: status and tokens as the fixture sent them */
	ck_assert_int_eq(q->status, 200);
	ck_assert_int_eq(s->status, 200);
	ck_assert_int_eq(s->ntok, NTOK);
	ck_assert_int_eq((int)q->ntok, s->ntok);
	ck_assert_int_eq(q->new_conn, expect_new_conn);
	ck_assert_int_eq(!isnan(p.connect_s), expect_new_conn);
	/* order: connect ≤ request ≤ headers ≤ first token ≤ … ≤ end */
	if (expect_new_conn) {
		LE(q->t_conn0, q->t_est);
		LE(q->t_est, q->t_req0);
	}
	/* TTFT starts at connect, or at the request's first byte on a reused
	 * connection or on one that sat idle first (pre-opened: on a busy
	 * machine a client can be held up between its connect and its
	 * write), and the row says which */
	int64_t t0 = expect_new_conn && !q->preopened ? q->t_conn0 : q->t_req0;
	ck_assert_int_eq(q->t_start, t0);
	ck_assert_int_eq(q->preopened,
			 expect_new_conn && q->t_req0 - q->t_est > TTFT_PREOPEN_IDLE_NS);
	LE(q->t_req0, q->t_req1);
	LE(q->t_req1, q->t_hdr);
	LE(q->t_hdr, q->t_first);
	for (int k = 1; k < NTOK; k++)
		LE(ttft_record_token_at(q, k - 1), ttft_record_token_at(q, k));
	LE(ttft_record_token_at(q, NTOK - 1), q->t_end);
	/* containment: the client connected and began sending before the
	 * fixture accepted and read; the shim read nothing before the fixture
	 * wrote it */
	if (expect_new_conn)
		LE(q->t_conn0, s->accept_ns);
	LE(q->t_req0, s->recv_first_ns);
	LE(s->hdr_ns, q->t_hdr);
	for (int k = 0; k < NTOK; k++)
		LE(s->tok[k], ttft_record_token_at(q, k));
	LE(s->fin_ns, q->t_end);
	/* the injected delays are there (a sleep never ends early), counted
	 * from the request's first byte */
	ck_assert_int_ge(q->t_hdr - q->t_req0, MS_NS(HDR_MS));
	ck_assert_int_ge(q->t_first - q->t_req0, MS_NS(HDR_MS + FIRST_MS));
	ck_assert_int_ge(ttft_record_token_at(q, NTOK - 1) - q->t_req0,
			 MS_NS(HDR_MS + FIRST_MS + (NTOK - 1) * TOK_MS));
	/* phases: none negative, and they add up to the totals */
	ck_assert(p.send_s >= 0 && p.wait_headers_s >= 0 && p.decode_s >= 0);
	ck_assert(!expect_new_conn || p.connect_s >= 0);
	double named = (expect_new_conn && !q->preopened ? p.connect_s : 0) + p.send_s +
		       p.wait_headers_s;
	ck_assert_msg(named <= p.ttft_s + 1e-9, "request %d: phases %.6f s > ttft %.6f s",
		      i, named, p.ttft_s);
	ck_assert(p.ttft_s + p.decode_s <= p.e2e_s + 1e-9);
	/* ttft_s and e2e_s are exactly their definitions, from t0 */
	ck_assert(fabs(p.ttft_s - (double)(q->t_first - t0) / 1e9) < 1e-9);
	ck_assert(fabs(p.e2e_s - (double)(q->t_end - t0) / 1e9) < 1e-9);
	ck_assert(!isnan(p.itl_p50_s) && p.itl_p50_s >= 0);
}

/* Every completion of the run against the fixture's record, in order;
 * requests share a shim connection exactly when they shared a fixture
 * one. new_conn: -1 = take the shim's word (a pool may or may not reuse),
 * else what every request must be. */
static void check_run(struct run *r, int want, int new_conn)
{
	ck_assert_int_eq(r->n, want);
	ck_assert_uint_eq(tu_truth_count(&r->truth, "/v1/"), (size_t)want);
	for (int i = 0; i < r->n; i++) {
		const struct ttft_record *q = &r->a.reqs[i];
		const struct tu_treq *s = tu_truth_req(&r->truth, "/v1/", (size_t)i);
		int nc = new_conn >= 0 ? (i == 0 || new_conn) : q->new_conn;
		check_req(q, s, i, nc);
		for (int j = 0; j < i; j++)
			ck_assert_int_eq(q->conn == r->a.reqs[j].conn,
					 s->conn == tu_truth_req(&r->truth, "/v1/", (size_t)j)->conn);
	}
}

/* The client's own clock: it started no later than the shim's start, saw
 * its first token no earlier than the shim's read of it, and finished no
 * earlier than the shim saw the response end; the same token count. */
static void check_clock(struct run *r)
{
	ck_assert_int_eq(r->nclient, r->n);
	for (int i = 0; i < r->n; i++) {
		const struct ttft_record *q = &r->a.reqs[i];
		ck_assert_int_eq(r->client_tokens[i], (int)q->ntok);
		LE(r->client_start[i], q->t_start);
		LE(q->t_first, r->client_first[i]);
		LE(q->t_end, r->client_end[i]);
	}
}

START_TEST(curl_keepalive_and_new)
{
	char cmd[1024];
	const char *body = "@tests/clients/completion.json";
	snprintf(cmd, sizeof cmd,
		 "curl -sfN http://127.0.0.1:%d/v1/completions -d %s --next "
		 "-sfN http://127.0.0.1:%d/v1/completions -d %s >/dev/null && "
		 "curl -sfN http://127.0.0.1:%d/v1/completions -d %s >/dev/null",
		 g_port, body, g_port, body, g_port, body);
	struct run r;
	run_client(cmd, g_srv, &r);
	ck_assert_int_eq(r.n, 3);
	check_req(&r.a.reqs[0], tu_truth_req(&r.truth, "/v1/", 0), 0, 1);
	/* --next reuses the connection */
	check_req(&r.a.reqs[1], tu_truth_req(&r.truth, "/v1/", 1), 1, 0);
	check_req(&r.a.reqs[2], tu_truth_req(&r.truth, "/v1/", 2), 2, 1);
	ck_assert_uint_eq(r.a.reqs[0].conn, r.a.reqs[1].conn);
	/* two connections, as the fixture accepted them */
	ck_assert_int_eq(tu_truth_req(&r.truth, "/v1/", 0)->conn,
			 tu_truth_req(&r.truth, "/v1/", 1)->conn);
	ck_assert_int_ne(tu_truth_req(&r.truth, "/v1/", 1)->conn,
			 tu_truth_req(&r.truth, "/v1/", 2)->conn);
	done(&r);
}
END_TEST

/* A Python client's series of 3, on one keep-alive connection and then on
 * a new connection each. Each mode gets a fresh fixture, so its record
 * holds only that series. */
static void python_series(const char *script)
{
	static const char *const modes[] = {"keepalive", "new"};
	for (int m = 0; m < 2; m++) {
		char cmd[512];
		struct run r;
		if (m) {
			tu_fixture_stop(g_srv);
			setup();
		}
		snprintf(cmd, sizeof cmd, "python3 tests/clients/%s %d 3 %s", script, g_port,
			 modes[m]);
		run_client(cmd, g_srv, &r);
		check_run(&r, 3, m);
		check_clock(&r);
		done(&r);
	}
}

START_TEST(python_httpclient)
{
	python_series("py_httpclient.py");
}
END_TEST

START_TEST(python_chat_role_chunk_not_counted)
{
	/* The role chunk goes out 30 ms before the first token: the shim's
	 * first token is never earlier than the fixture's first token write
	 * (check_req), which counting the role chunk would break. */
	char cmd[512];
	struct run r;
	snprintf(cmd, sizeof cmd,
		 "python3 tests/clients/py_httpclient.py %d 2 keepalive chat role=30",
		 g_port);
	run_client(cmd, g_srv, &r);
	check_run(&r, 2, 0);
	for (int i = 0; i < 2; i++) {
		const struct tu_treq *s = tu_truth_req(&r.truth, "/v1/", (size_t)i);
		ck_assert(s->role_ns && s->role_ns < s->tok[0]);
	}
	check_clock(&r);
	done(&r);
}
END_TEST

START_TEST(python_asyncio)
{
	python_series("py_asyncio.py");
}
END_TEST

START_TEST(node_fetch)
{
	char cmd[512];
	struct run r;
	/* one process: undici's pool (keep-alive when it can) */
	snprintf(cmd, sizeof cmd, "node tests/clients/node_fetch.mjs %d 7", g_port);
	run_client(cmd, g_srv, &r);
	check_run(&r, 7, -1);
	ck_assert_int_eq(r.a.reqs[0].new_conn, 1);
	check_clock(&r);
	done(&r);
	/* new connections: one process per request */
	tu_fixture_stop(g_srv);
	setup();
	snprintf(cmd, sizeof cmd,
		 "node tests/clients/node_fetch.mjs %d 1 && node tests/clients/node_fetch.mjs %d 1",
		 g_port, g_port);
	run_client(cmd, g_srv, &r);
	check_run(&r, 2, 1);
	check_clock(&r);
	done(&r);
}
END_TEST

START_TEST(exit_code_and_clean_stdout)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run -- sh -c 'echo hello; exit 7' 2>/dev/null",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 7);
	ck_assert_str_eq(out, "hello\n");
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-run -- /nonexistent/program 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 127);
	ck_assert_msg(strstr(out, "cannot run") != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(refused_connection_is_reported)
{
	/* a port nobody listens on: the client fails, the run says why */
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run -- curl -s http://127.0.0.1:1/v1/completions 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 7); /* curl: couldn't connect */
	ck_assert_msg(strstr(out, "connect failed: Connection refused") != NULL, "%s", out);
	free(out);
}
END_TEST

/* The notes' count of connects given up, and the client's "key N" lines. */
static int given_up_notes(const char *out)
{
	int n = 0;
	for (const char *p = out; (p = strstr(p, ": connect given up: ")); p++)
		n++;
	return n;
}

static int client_said(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	ck_assert_msg(p != NULL, "the client did not say '%s':\n%s", key, out);
	return atoi(p + strlen(key));
}

/* tests/clients/SCRIPT under ttft-run: what it and the run printed. */
static char *run_script(const char *script)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run -- python3 tests/clients/%s 2>&1",
		 tu_build_dir(), script);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	return out;
}

/* Connects the server never answered, closed by the client while still
 * under way (its own timeout): a note each, as many as the client's own
 * TCP_INFO found pending (a review found them said nowhere). */
START_TEST(connects_given_up_are_reported)
{
	char *out = run_script("py_connect_given_up.py");
	int pending = client_said(out, "pending ");
	ck_assert_msg(pending >= 1, "no connect was left pending: %s", out);
	ck_assert_msg(strstr(out, ": connect given up: the server had not answered its SYN"),
		      "%s", out);
	int notes = given_up_notes(out);
	ck_assert_msg(notes == pending, "%d notes for %d pending connects:\n%s", notes, pending, out);
	free(out);
}
END_TEST

/* A parent that hands a connecting socket to a forked worker and closes
 * its copy while the SYN is unanswered gave nothing up: the worker
 * connects and is answered (a review found it noted and counted). */
START_TEST(a_connect_handed_to_a_child_is_not_given_up)
{
	char *out = run_script("py_fork_handoff_connect.py");
	ck_assert_int_eq(client_said(out, "parent state "), 2); /* SYN_SENT at its close */
	ck_assert_msg(strstr(out, "worker got HTTP/1.1 200 OK"), "%s", out);
	ck_assert_msg(given_up_notes(out) == 0, "%s", out);
	free(out);
}
END_TEST

/* An established connection replaced by dup2 with one still connecting,
 * then closed: only the second was given up (a review found the kernel
 * asked of the fd after the dup2, naming the other socket). */
START_TEST(dup2_over_a_connection_asks_of_the_right_socket)
{
	char *out = run_script("py_dup2_pending.py");
	ck_assert_int_eq(client_said(out, "A state "), 1); /* ESTABLISHED */
	ck_assert_int_eq(client_said(out, "B state "), 2); /* SYN_SENT */
	ck_assert_msg(given_up_notes(out) == 1, "%s", out);
	free(out);
}
END_TEST

START_TEST(filter_keeps_only_the_server)
{
	/* two servers; the filter names one port */
	pid_t other;
	int p2 = tu_fixture_start("", &other);
	char cmd[1024], js[256], *out;
	tu_tmp_log(js, sizeof js, "filter");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --filter port:%d --json %s -- sh -c "
		 "'curl -s http://127.0.0.1:%d/health; curl -s http://127.0.0.1:%d/health'",
		 tu_build_dir(), p2, js, g_port, p2);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *text = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(text);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests")), 1);
	cJSON_Delete(j);
	free(text);
	/* both servers were asked, once each */
	struct tu_truth t;
	tu_fixture_truth(other, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/health"), 1);
	tu_truth_free(&t);
	tu_fixture_truth(g_srv, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/health"), 1);
	tu_truth_free(&t);
	tu_fixture_stop(other);
}
END_TEST

START_TEST(ipv6_and_address_filter)
{
	pid_t v6;
	char args[128];
	snprintf(args, sizeof args, "--ipv6 --headers-ms %g --first-ms %g --token-ms %g",
		 HDR_MS, FIRST_MS, TOK_MS);
	int p6 = tu_fixture_start(args, &v6);
	char cmd[1024], log[256], *out;
	tu_tmp_log(log, sizeof log, "ipv6");
	/* two requests: one over IPv6 (traced), one over IPv4 (filtered out) */
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --log %s --filter '[::1]:%d' -- sh -c 'curl -sfgN "
		 "http://[::1]:%d/v1/completions -d @tests/clients/completion.json >/dev/null && "
		 "curl -sfN http://127.0.0.1:%d/v1/completions -d @tests/clients/completion.json "
		 ">/dev/null' && %s/ttft-analyze --events %s", tu_build_dir(), log, p6, p6, g_port,
		 tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	char peer[64];
	snprintf(peer, sizeof peer, "[::1]:%d", p6);
	ck_assert_msg(strstr(out, peer) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "127.0.0.1") == NULL, "%s", out);
	free(out);
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file_opt(log, NULL, TTFT_ANALYZE_ALL_TOKENS, &a, err,
					       sizeof err), 0);
	unlink(log);
	ck_assert_uint_eq(a.nreqs, 1);
	/* the traced one against the IPv6 fixture's record of it */
	struct tu_truth t;
	tu_fixture_truth(v6, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/"), 1);
	check_req(&a.reqs[0], tu_truth_req(&t, "/v1/", 0), 0, 1);
	tu_truth_free(&t);
	/* the IPv4 one reached its server all the same */
	tu_fixture_truth(g_srv, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/"), 1);
	tu_truth_free(&t);
	ttft_analysis_free(&a);
	tu_fixture_stop(v6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clients");
	TCase *t = tu_tcase(s, "matrix", 300);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, curl_keepalive_and_new);
	tcase_add_test(t, python_httpclient);
	tcase_add_test(t, python_chat_role_chunk_not_counted);
	tcase_add_test(t, python_asyncio);
	tcase_add_test(t, node_fetch);
	tcase_add_test(t, exit_code_and_clean_stdout);
	tcase_add_test(t, refused_connection_is_reported);
	tcase_add_test(t, connects_given_up_are_reported);
	tcase_add_test(t, a_connect_handed_to_a_child_is_not_given_up);
	tcase_add_test(t, dup2_over_a_connection_asks_of_the_right_socket);
	tcase_add_test(t, filter_keeps_only_the_server);
	tcase_add_test(t, ipv6_and_address_filter);
	return tu_run(s);
}
