/* test_analyze.c — ttft-analyze's arithmetic on a log of known events:
 * every phase, the summary, the filters, and the JSON field names. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"

static char g_path[256];
static struct ttft_log g_log;

#define MS(x) ((int64_t)((x) * 1000000.0))

static void ev(uint16_t kind, int64_t t, int pid, uint64_t conn, uint32_t seq,
	       int64_t a, int64_t b, const char *text)
{
	struct ttft_rec *r = ttft_log_reserve(&g_log);
	r->kind = kind;
	r->t_ns = t;
	r->pid = pid;
	r->tid = pid;
	r->fd = 5;
	r->conn = conn;
	r->seq = seq;
	r->a = a;
	r->b = b;
	if (text)
		strncpy(r->text, text, sizeof r->text);
	ttft_log_publish(r);
}

/* conn 1 (pid 100): DNS 1 ms, connect 2 ms, two streamed requests with
 * keep-alive; conn 2 (pid 200): a non-streamed request; written out of
 * time order on purpose. */
static void build_log(void)
{
	tu_tmp_log(g_path, sizeof g_path, "analyze");
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, g_path, 1 << 20, &why), 0);
	uint64_t c1 = ttft_log_new_conn(&g_log), c2 = ttft_log_new_conn(&g_log);
	int64_t T = MS(1000);
	/* request 2 on conn 1, first (out of order) */
	ev(TTFT_EV_REQ_BEGIN, T + MS(500), 100, c1, 1, 0, 0, "POST /v1/chat/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(500.2), 100, c1, 1, 300, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T + MS(510), 100, c1, 1, 200, 0, NULL);
	ev(TTFT_EV_SSE_EMPTY, T + MS(540), 100, c1, 1, 0, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T + MS(550), 100, c1, 1, 0, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T + MS(560), 100, c1, 1, 0, 1, NULL);
	ev(TTFT_EV_RESP_END, T + MS(561), 100, c1, 1, 900, 2, NULL);
	/* request 1 on conn 1 */
	ev(TTFT_EV_DNS_BEGIN, T, 100, 0, 0, 0, 0, "localhost");
	ev(TTFT_EV_DNS_END, T + MS(1), 100, 0, 0, 0, 0, "localhost");
	ev(TTFT_EV_CONNECT_BEGIN, T + MS(1.5), 100, c1, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_CONNECT_END, T + MS(1.6), 100, c1, 0, -1, 0, NULL);
	ev(TTFT_EV_ESTABLISHED, T + MS(3.5), 100, c1, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T + MS(4), 100, c1, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(4.5), 100, c1, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T + MS(14.5), 100, c1, 0, 200, 0, NULL);
	double toks[] = {54.5, 64.5, 74.5, 84.5, 184.5}; /* ITLs 10,10,10,100 */
	for (int i = 0; i < 5; i++)
		ev(TTFT_EV_SSE_TOKEN, T + MS(toks[i]), 100, c1, 0, 0, i, NULL);
	ev(TTFT_EV_SSE_DONE, T + MS(185), 100, c1, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T + MS(186), 100, c1, 0, 999, 5, NULL);
	ev(TTFT_EV_MARK, T + MS(54.9), 100, c1, 1, 0, TTFT_MARK_FIRST_TOKEN, NULL);
	/* conn 2: non-streamed, pid 200 */
	ev(TTFT_EV_CONNECT_BEGIN, T + MS(300), 200, c2, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_CONNECT_END, T + MS(300.1), 200, c2, 0, 0, 0, NULL);
	ev(TTFT_EV_ESTABLISHED, T + MS(300.1), 200, c2, 0, 0, 0, NULL);
	ev(TTFT_EV_REQ_BEGIN, T + MS(301), 200, c2, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(301), 200, c2, 0, 100, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T + MS(400), 200, c2, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_END, T + MS(400), 200, c2, 0, 500, 0, NULL);
	ttft_log_close(&g_log);
}

#define NEAR(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%s = %.9f, want %.9f", #a, (double)(a), (double)(b))

START_TEST(phases_are_exact)
{
	build_log();
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 3);
	struct ttft_phases p;
	/* request 1: new connection, so TTFT starts at connect */
	ttft_req_phases(&a, &a.reqs[0], &p);
	ck_assert_str_eq(a.reqs[0].path, "/v1/completions");
	ck_assert_str_eq(a.reqs[0].method, "POST");
	NEAR(p.dns_s, 0.001);
	NEAR(p.connect_s, 0.002);
	NEAR(p.send_s, 0.0005);
	NEAR(p.wait_headers_s, 0.010);
	NEAR(p.ttft_s, 0.053);
	NEAR(p.decode_s, 0.130);
	NEAR(p.e2e_s, 0.1845);
	NEAR(p.itl_p50_s, 0.010);
	NEAR(p.itl_p99_s, 0.010 + 0.090 * 0.97); /* 3 of 4 gaps are 10 ms */
	NEAR(p.app_gap_s, 0.0004);
	ck_assert_uint_eq(a.reqs[0].tokens, 5);
	NEAR(p.start_s, 1.0015);
	/* request 2 (conn 2, non-streamed) starts next */
	ttft_req_phases(&a, &a.reqs[1], &p);
	ck_assert_int_eq(a.reqs[1].pid, 200);
	ck_assert(isnan(p.ttft_s));
	NEAR(p.e2e_s, 0.100);
	/* request 3: reused connection: from its first byte, no connect;
	 * the role-only event is not the first token */
	ttft_req_phases(&a, &a.reqs[2], &p);
	ck_assert(isnan(p.connect_s) && isnan(p.dns_s));
	NEAR(p.ttft_s, 0.050);
	NEAR(p.decode_s, 0.010);
	ttft_analysis_free(&a);

	struct ttft_filter f = {200, NULL};
	ck_assert_int_eq(ttft_analyze_file(g_path, &f, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 1);
	ttft_analysis_free(&a);
	struct ttft_filter g = {0, "/v1/chat"};
	ck_assert_int_eq(ttft_analyze_file(g_path, &g, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 1);
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

START_TEST(json_shape)
{
	build_log();
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	static const char *const fields[] = {
		"pid", "conn", "method", "path", "status", "start_s", "start_unix_s",
		"tokens", "dns_s", "connect_s", "send_s", "wait_headers_s", "ttft_s",
		"decode_s", "e2e_s", "itl_p50_s", "itl_p99_s", "app_gap_s", "queue_s",
		"prefill_s", "server_other_s", "network_s", "prefix_cache_hit_tokens",
		"server_ttft_s", "split_source",
	};
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 3);
	cJSON *q = cJSON_GetArrayItem(reqs, 0);
	int n = 0;
	for (cJSON *c = q->child; c; c = c->next)
		ck_assert_str_eq(c->string, fields[n++]);
	ck_assert_int_eq(n, (int)(sizeof fields / sizeof fields[0]));
	/* requests in start order; nulls where not applicable */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "ttft_s")));
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "count")->valueint, 3);
	cJSON *t = cJSON_GetObjectItem(sum, "ttft_s");
	ck_assert(fabs(cJSON_GetObjectItem(t, "min")->valuedouble - 0.050) < 1e-9);
	ck_assert(fabs(cJSON_GetObjectItem(t, "median")->valuedouble - 0.0515) < 1e-9);
	ck_assert(fabs(cJSON_GetObjectItem(t, "max")->valuedouble - 0.053) < 1e-9);
	/* the wall-clock start goes through the log's anchor pair */
	struct ttft_log_view v;
	char err[256];
	ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
	double want = (double)(MS(1001.5) - v.hdr->anchor_mono_ns +
			       v.hdr->anchor_real_ns) / 1e9;
	ttft_log_view_close(&v);
	double unix0 = cJSON_GetObjectItem(q, "start_unix_s")->valuedouble;
	ck_assert_msg(fabs(unix0 - want) < 1e-6, "%.6f vs %.6f", unix0, want);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "dropped")->valueint, 0);
	cJSON_Delete(j);
	free(out);
	/* the table: milliseconds */
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "53.000") && strstr(out, "130.000"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

START_TEST(percentiles)
{
	double v[] = {5, 1, 4, 2, 3};
	ck_assert(fabs(ttft_percentile(v, 5, 0.5) - 3) < 1e-12);
	ck_assert(fabs(ttft_percentile(v, 5, 0.9) - 4.6) < 1e-12);
	ck_assert(fabs(ttft_percentile(v, 5, 0.0) - 1) < 1e-12);
	ck_assert(fabs(ttft_percentile(v, 5, 1.0) - 5) < 1e-12);
	double one[] = {7};
	ck_assert(fabs(ttft_percentile(one, 1, 0.99) - 7) < 1e-12);
	ck_assert(isnan(ttft_percentile(NULL, 0, 0.5)));
}
END_TEST

START_TEST(usage_errors)
{
	char cmd[256], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --pid x 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "bad value 'x' for --pid") != NULL, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --help", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert(strstr(out, "exit status") != NULL);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("analyze");
	TCase *t = tcase_create("analyze");
	tcase_add_test(t, phases_are_exact);
	tcase_add_test(t, json_shape);
	tcase_add_test(t, percentiles);
	tcase_add_test(t, usage_errors);
	suite_add_tcase(s, t);
	return tu_run(s);
}
