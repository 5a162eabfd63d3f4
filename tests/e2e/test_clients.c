/* test_clients.c — real clients under the shim (through ttft-run) against
 * the fixture server: TTFT and decode time must match the injected delays,
 * token counts what the server sent, and the first-token instant what the
 * client's own CLOCK_MONOTONIC saw. */
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
 * a token every 10 ms; 5 tokens. The chat role chunk leads by 30 ms. */
#define HDR_MS 20.0
#define FIRST_MS 60.0
#define TOK_MS 10.0
#define NTOK 5
#define TOL_MS 2.0
#define CLOCK_TOL_MS 1.0

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
	int n;
	double client_start[16], client_first[16]; /* seconds, monotonic */
	int client_tokens[16];
	int nclient;
};

/* Run CMD (a shell command line) under ttft-run, keeping the log; analyse
 * it here and collect the JSON lines the client printed. */
static void run_client(const char *cmd, struct run *r)
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
		int i = r->nclient++;
		r->client_start[i] = cJSON_GetObjectItem(o, "start_ns")->valuedouble / 1e9;
		cJSON *f = cJSON_GetObjectItem(o, "first_ns");
		r->client_first[i] = cJSON_IsNumber(f) ? f->valuedouble / 1e9 : NAN;
		r->client_tokens[i] = cJSON_GetObjectItem(o, "tokens")->valueint;
		cJSON_Delete(o);
	}
	free(out);
	char err[512];
	ck_assert_msg(ttft_analyze_file(log, NULL, &r->a, err, sizeof err) == 0, "%s", err);
	unlink(log);
	r->n = (int)r->a.nreqs;
}

static double ms_between(int64_t a, int64_t b)
{
	return (double)(b - a) / 1e6;
}

/* Check request i against the injected delays, measured from the instant
 * the request's last byte left (REQ_SENT): that is when the server's clock
 * starts. warm: also the first token and the decode span (the first
 * request of a fresh interpreter may be read late by the client itself:
 * JIT, imports — real TTFT, but not the server's doing). */
static void check_req(struct run *r, int i, int expect_new_conn, int warm)
{
	const struct ttft_record *q = &r->a.reqs[i];
	struct ttft_phases p;
	ttft_record_phases(q, &p);
	ck_assert_int_eq(q->status, 200);
	ck_assert_int_eq((int)q->ntok, NTOK);
	ck_assert_int_eq(!isnan(p.connect_s), expect_new_conn);
	double hdr = ms_between(q->t_req1, q->t_hdr);
	ck_assert_msg(hdr >= HDR_MS - 0.05 && (!warm || hdr - HDR_MS < TOL_MS),
		      "request %d wait_headers %.3f ms", i, hdr);
	double first = ms_between(q->t_req1, q->tok[0]);
	double last = ms_between(q->t_req1, q->tok[NTOK - 1]);
	double decode = p.decode_s * 1e3;
	/* never less than what the server was told to spend */
	ck_assert_msg(first >= HDR_MS + FIRST_MS - 0.05, "request %d first token "
		      "%.3f ms after the request, injected %.1f", i, first, HDR_MS + FIRST_MS);
	/* the last token arrives on the server's schedule; a cold client
	 * (a fresh Node or Python process) may still be busy when it lands,
	 * so there only the bounds: never early, at most 10 ms late */
	double want_last = HDR_MS + FIRST_MS + (NTOK - 1) * TOK_MS;
	ck_assert_msg(last >= want_last - 0.05 && last - want_last < (warm ? TOL_MS : 10.0),
		      "request %d last token at %.3f ms, injected %.1f", i, last, want_last);
	if (warm) {
		ck_assert_msg(fabs(first - (HDR_MS + FIRST_MS)) < TOL_MS,
			      "request %d first token %.3f ms after the request, "
			      "injected %.1f", i, first, HDR_MS + FIRST_MS);
		ck_assert_msg(fabs(decode - (NTOK - 1) * TOK_MS) < TOL_MS,
			      "request %d decode %.3f ms, injected %.1f", i, decode,
			      (NTOK - 1) * TOK_MS);
		ck_assert(fabs(p.itl_p50_s * 1e3 - TOK_MS) < TOL_MS);
	}
	/* ttft_s is exactly its definition: from connect (or first byte) */
	int64_t t0 = expect_new_conn ? q->t_conn0 : q->t_req0;
	ck_assert(fabs(p.ttft_s - (double)(q->tok[0] - t0) / 1e9) < 1e-9);
	ck_assert(p.e2e_s >= p.ttft_s + p.decode_s - 1e-9);
}

/* The client's own clock: the same first-token instant within 1 ms (the
 * shim stamps the read's return, the client stamps after parsing), and the
 * client started no later than the shim's start. The first request of a
 * fresh process pays the client's own cold paths (Node: ~1.05 ms of JIT in
 * web streams; CPython: first-call costs, ~1 ms under load) between read()
 * and the application: a real client-side gap, bounded at 3 ms there
 * (the first ncold requests) and documented in docs/phases.md. Node
 * needs two requests before its fetch path is warm (check_clock_median). */
static void check_clock_tol(struct run *r, int ncold, int per_process)
{
	ck_assert_int_eq(r->nclient, r->n);
	for (int i = 0; i < r->n; i++) {
		const struct ttft_record *q = &r->a.reqs[i];
		double start = (double)q->t_start / 1e9;
		double first = (double)q->tok[0] / 1e9;
		ck_assert_int_eq(r->client_tokens[i], (int)q->ntok);
		double d = (r->client_first[i] - first) * 1e3;
		int cold = per_process || i < ncold;
		ck_assert_msg(d > -0.05 && d < (cold ? 3.0 : CLOCK_TOL_MS),
			      "request %d: client saw its first token %.3f ms after "
			      "the shim's read", i, d);
		ck_assert(r->client_start[i] <= start + 1e-6);
	}
}

static void check_clock(struct run *r)
{
	check_clock_tol(r, 1, 0);
}

/* Node's fetch hands tokens through web streams and promises: even warm,
 * a busy moment puts one over 1 ms now and then. Its agreement is the
 * median over the warm requests (< 1 ms), each under 3 ms. */
static void check_clock_median(struct run *r, int ncold)
{
	check_clock_tol(r, r->n, 0); /* the 3 ms bound on each */
	double d[16];
	int k = 0;
	for (int i = ncold; i < r->n && k < 16; i++)
		d[k++] = (r->client_first[i] - (double)r->a.reqs[i].tok[0] / 1e9) * 1e3;
	double med = ttft_percentile(d, (size_t)k, 0.5);
	ck_assert_msg(med < CLOCK_TOL_MS, "warm median client gap %.3f ms", med);
}

static void done(struct run *r)
{
	ttft_analysis_free(&r->a);
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
	run_client(cmd, &r);
	ck_assert_int_eq(r.n, 3);
	check_req(&r, 0, 1, 1);
	check_req(&r, 1, 0, 1); /* --next reuses the connection */
	check_req(&r, 2, 1, 1);
	ck_assert_uint_eq(r.a.reqs[0].conn, r.a.reqs[1].conn);
	done(&r);
}
END_TEST

/* A Python client's series of 3, on one keep-alive connection and then on
 * a new connection each: only the first request of a process is cold. */
static void python_series(const char *script)
{
	static const char *const modes[] = {"keepalive", "new"};
	for (int m = 0; m < 2; m++) {
		char cmd[512];
		struct run r;
		snprintf(cmd, sizeof cmd, "python3 tests/clients/%s %d 3 %s", script, g_port,
			 modes[m]);
		run_client(cmd, &r);
		ck_assert_int_eq(r.n, 3);
		for (int i = 0; i < 3; i++)
			check_req(&r, i, m == 1 || i == 0, i > 0);
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
	/* The role chunk arrives 30 ms before the first token: counting it
	 * would make TTFT 30 ms short. */
	char cmd[512];
	struct run r;
	snprintf(cmd, sizeof cmd,
		 "python3 tests/clients/py_httpclient.py %d 2 keepalive chat role=30",
		 g_port);
	run_client(cmd, &r);
	ck_assert_int_eq(r.n, 2);
	check_req(&r, 0, 1, 0);
	check_req(&r, 1, 0, 1);
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
	run_client(cmd, &r);
	ck_assert_int_eq(r.n, 7);
	for (int i = 0; i < 7; i++)
		check_req(&r, i, r.a.reqs[i].new_conn, i > 1);
	check_clock_median(&r, 2);
	done(&r);
	/* new connections: one process per request */
	snprintf(cmd, sizeof cmd,
		 "node tests/clients/node_fetch.mjs %d 1 && node tests/clients/node_fetch.mjs %d 1",
		 g_port, g_port);
	run_client(cmd, &r);
	ck_assert_int_eq(r.n, 2);
	for (int i = 0; i < 2; i++)
		check_req(&r, i, 1, 0);
	check_clock_tol(&r, 1, 1);
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
	ck_assert_int_eq(ttft_analyze_file(log, NULL, &a, err, sizeof err), 0);
	unlink(log);
	ck_assert_uint_eq(a.nreqs, 1);
	ck_assert_int_eq((int)a.reqs[0].ntok, NTOK);
	struct ttft_phases p;
	ttft_record_phases(&a.reqs[0], &p);
	ck_assert(fabs((double)(a.reqs[0].tok[0] - a.reqs[0].t_req1) / 1e6 -
		       (HDR_MS + FIRST_MS)) < TOL_MS);
	ttft_analysis_free(&a);
	tu_fixture_stop(v6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clients");
	TCase *t = tcase_create("matrix");
	tcase_set_timeout(t, 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, curl_keepalive_and_new);
	tcase_add_test(t, python_httpclient);
	tcase_add_test(t, python_chat_role_chunk_not_counted);
	tcase_add_test(t, python_asyncio);
	tcase_add_test(t, node_fetch);
	tcase_add_test(t, exit_code_and_clean_stdout);
	tcase_add_test(t, refused_connection_is_reported);
	tcase_add_test(t, filter_keeps_only_the_server);
	tcase_add_test(t, ipv6_and_address_filter);
	suite_add_tcase(s, t);
	return tu_run(s);
}
