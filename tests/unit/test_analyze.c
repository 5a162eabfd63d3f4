/* test_analyze.c — ttft-analyze's arithmetic on a log of known events:
 * every phase, the summary, the filters, and the JSON field names; an
 * instant put on the wall clock, or not where the sum does not fit. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
#include "ttft_logsort.h"

static char g_path[256];
static struct ttft_log g_log;

#define MS(x) ((int64_t)((x) * 1000000.0))

static void ev(uint16_t kind, int64_t t, int pid, uint64_t conn, uint32_t seq,
	       int64_t a, int64_t b, const char *text)
{
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = kind, .t_ns = t, .pid = pid, .tid = pid, .fd = 5, .conn = conn,
		.seq = seq, .a = a, .b = b, .text = text,
		.text_len = text ? strnlen(text, TTFT_REC_TEXT) : 0}));
}

/* A new log (1 MiB) at g_path, named after TAG. */
static void new_log(const char *tag)
{
	tu_tmp_log(g_path, sizeof g_path, tag);
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, g_path, 1 << 20, &why), 0);
}

/* A new log (new_log) with one connection, returned, on which pid 100
 * begins its request TARGET (seq 0) at T and sends it whole (100 bytes)
 * 0.1 ms later. */
static uint64_t asked(const char *tag, const char *target, int64_t t)
{
	new_log(tag);
	uint64_t c = ttft_log_new_conn(&g_log);
	ev(TTFT_EV_REQ_BEGIN, t, 100, c, 0, 0, 0, target);
	ev(TTFT_EV_REQ_SENT, t + MS(0.1), 100, c, 0, 100, 0, NULL);
	return c;
}

/* conn 1 (pid 100): DNS 1 ms, connect 2 ms, two streamed requests with
 * keep-alive; conn 2 (pid 200): a non-streamed request; written out of
 * time order on purpose. */
static void build_log(void)
{
	new_log("analyze");
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

/* The order records are handed out in: time, kind, b and a of each. */
static void collect(void *ctx, struct ttft_rec *r)
{
	struct {
		int64_t k[4 * 3200 * 12];
		size_t n;
	} *s = ctx;
	if (s->n + 4 > sizeof s->k / sizeof s->k[0])
		return;
	s->k[s->n++] = r->t_ns;
	s->k[s->n++] = r->kind;
	s->k[s->n++] = r->b;
	s->k[s->n++] = r->a;
}

/* conn 1: TLS, tapped: handshake 3 ms after the TCP connect, two requests,
 * the first token's ciphertext read 0.2 ms before the TLS read returned
 * it; conn 2: TLS no library showed (a dark one); conn 3: TLS tapped, but
 * no request (the handshake failed). */
static void build_tls_log(void)
{
	new_log("analyze-tls");
	uint64_t c1 = ttft_log_new_conn(&g_log), c2 = ttft_log_new_conn(&g_log);
	uint64_t c3 = ttft_log_new_conn(&g_log);
	int64_t T = MS(2000);
	ev(TTFT_EV_CONNECT_BEGIN, T, 100, c1, 0, 0, 0, "127.0.0.1:443");
	ev(TTFT_EV_ESTABLISHED, T + MS(1), 100, c1, 0, 0, 0, NULL);
	ev(TTFT_EV_TLS, T + MS(1.1), 100, c1, 0, 1, 0, "openssl");
	for (uint32_t k = 0; k < 2; k++) {
		int64_t t = T + MS(4) + MS(100) * k;
		ev(TTFT_EV_REQ_BEGIN, t, 100, c1, k, 0, 0, "POST /v1/completions");
		ev(TTFT_EV_REQ_SENT, t + MS(0.5), 100, c1, k, 200, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t + MS(10), 100, c1, k, 200, 0, NULL);
		ev(TTFT_EV_TLS_WIRE, t + MS(49.8), 100, c1, k, 0, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + MS(50), 100, c1, k, 0, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + MS(60), 100, c1, k, 0, 1, NULL);
		ev(TTFT_EV_RESP_END, t + MS(61), 100, c1, k, 500, 2, NULL);
	}
	ev(TTFT_EV_CONNECT_BEGIN, T + MS(300), 200, c2, 0, 0, 0, "127.0.0.1:443");
	ev(TTFT_EV_ESTABLISHED, T + MS(302), 200, c2, 0, 0, 0, NULL);
	ev(TTFT_EV_TLS, T + MS(302.5), 200, c2, 0, 0, 0, NULL);
	ev(TTFT_EV_CLOSE, T + MS(400), 200, c2, 1, 0, 0, NULL);
	ev(TTFT_EV_CONNECT_BEGIN, T + MS(500), 300, c3, 0, 0, 0, "127.0.0.1:443");
	ev(TTFT_EV_ESTABLISHED, T + MS(501), 300, c3, 0, 0, 0, NULL);
	ev(TTFT_EV_TLS, T + MS(501.5), 300, c3, 0, 1, 0, "openssl");
	ev(TTFT_EV_CLOSE, T + MS(503), 300, c3, 0, 0, 0, NULL);
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
	ttft_record_phases(&a.reqs[0], &p);
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
	ck_assert(isnan(p.itl_p99_s)); /* 4 gaps: a p99 needs 100 */
	NEAR(p.app_gap_s, 0.0004);
	ck_assert_uint_eq(a.reqs[0].ntok, 5);
	NEAR(p.start_s, 1.0015);
	/* request 2 (conn 2, non-streamed) starts next */
	ttft_record_phases(&a.reqs[1], &p);
	ck_assert_int_eq(a.reqs[1].pid, 200);
	ck_assert(isnan(p.ttft_s));
	NEAR(p.e2e_s, 0.100);
	/* request 3: reused connection: from its first byte, no connect;
	 * the role-only event is not the first token */
	ttft_record_phases(&a.reqs[2], &p);
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

/* A request line's method and path: split at the first space, each cut
 * to its field, control bytes as '?', a line with no space all method
 * (the record's text may fill all TTFT_REC_TEXT bytes, no NUL). */
START_TEST(request_lines_split_into_method_and_path)
{
	static const struct {
		const char *line, *method, *path;
	} cases[] = {
		{"GET /health", "GET", "/health"},
		{"OPTIONS", "OPTIONS", ""},
		{"AVERYLONGMETHODNAME /x", "AVERYLONGMETHOD", "/x"},
		{" /lead", "", "/lead"},
		{"GET /a\tb\x7f", "GET", "/a?b?"},
		{"GET  /two spaces", "GET", " /two spaces"},
		{"GET /ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp",
		 "GET", "/ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"},
		{"MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM",
		 "MMMMMMMMMMMMMMM", ""},
	};
	size_t nc = sizeof cases / sizeof cases[0];
	new_log("analyze-lines");
	for (size_t i = 0; i < nc; i++) {
		uint64_t c = ttft_log_new_conn(&g_log);
		int64_t t = MS(1000) + MS(10) * (int64_t)i;
		ev(TTFT_EV_CONNECT_BEGIN, t, 100, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t, 100, c, 0, 0, 0, NULL);
		ev(TTFT_EV_REQ_BEGIN, t + MS(1), 100, c, 0, 0, 0, cases[i].line);
		ev(TTFT_EV_REQ_SENT, t + MS(1), 100, c, 0, 100, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t + MS(2), 100, c, 0, 200, 0, NULL);
		ev(TTFT_EV_RESP_END, t + MS(3), 100, c, 0, 0, 0, NULL);
	}
	ttft_log_close(&g_log);
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, nc);
	for (size_t i = 0; i < nc; i++) {
		ck_assert_str_eq(a.reqs[i].method, cases[i].method);
		ck_assert_str_eq(a.reqs[i].path, cases[i].path);
	}
	ttft_analysis_free(&a);
	unlink(g_path);
}
END_TEST

START_TEST(tls_rows)
{
	build_tls_log();
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	unlink(g_path);
	ck_assert_uint_eq(a.nreqs, 3);
	ck_assert_uint_eq(a.nencrypted, 1);
	struct ttft_phases p;
	/* a new TLS connection: the handshake from established to the first
	 * byte; TTFT at the TLS read, the wire's 0.2 ms before */
	ttft_record_phases(&a.reqs[0], &p);
	ck_assert(a.reqs[0].tls && !a.reqs[0].encrypted);
	NEAR(p.connect_s, 0.001);
	NEAR(p.tls_s, 0.003);
	NEAR(p.ttft_s, 0.054);
	NEAR(p.wire_ttft_s, 0.0538);
	/* reused: no handshake, both TTFTs from the first byte */
	ttft_record_phases(&a.reqs[1], &p);
	ck_assert(a.reqs[1].tls && isnan(p.tls_s));
	NEAR(p.ttft_s, 0.050);
	NEAR(p.wire_ttft_s, 0.0498);
	/* the dark connection: one row, its connect time, nothing made up */
	const struct ttft_record *d = &a.reqs[2];
	ttft_record_phases(d, &p);
	ck_assert(d->tls && d->encrypted && d->new_conn);
	ck_assert_int_eq(d->pid, 200);
	ck_assert_int_eq(d->status, 0);
	NEAR(p.connect_s, 0.002);
	ck_assert(isnan(p.tls_s) && isnan(p.ttft_s) && isnan(p.e2e_s) &&
		  isnan(p.send_s) && isnan(ttft_record_split(d)->queue_s) &&
		  isnan(p.server_other_s));
	/* the tapped connection without a request: a note */
	ck_assert_uint_eq(a.nnotes, 1);
	ck_assert_int_eq(a.notes[0].pid, 300);
	ck_assert(a.notes[0].tls && !a.notes[0].err && !a.notes[0].desync);
	/* the summary counts requests, the dark connection apart */
	ck_assert_uint_eq(a.ttft.n, 2);
	struct ttft_json jw;
	ck_assert_int_eq(ttft_json_init(&jw, NULL, 0), 0);
	ttft_analysis_json(&jw, &a);
	char *js = ttft_json_take(&jw);
	ck_assert_ptr_nonnull(js);
	cJSON *j = cJSON_Parse(js);
	ck_assert_ptr_nonnull(j);
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "count")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "encrypted_connections")->valueint, 1);
	cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 2);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "method")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "tokens")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "encrypted")));
	ck_assert_str_eq(cJSON_GetObjectItem(row, "note")->valuestring, "encrypted: not visible");
	cJSON_Delete(j);
	free(js);
	ttft_analysis_free(&a);
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
		"tokens", "tokens_source", "prompt_tokens", "compressed", "several_choices",
		"traceparent", "dns_s", "connect_s", "tls_s", "send_s", "wait_headers_s",
		"ttft_s", "wire_ttft_s", "decode_s", "e2e_s", "itl_n", "itl_p50_s", "itl_p99_s",
		"app_gap_s", "queue_s", "prefill_s", "server_other_s", "network_s",
		"server_decode_s", "prefix_cache_hit_tokens", "server_ttft_s",
		"split_source", "tls", "encrypted", "preopened", "preopen_idle_s",
		"inherited", "request_unseen", "aio", "complete", "note",
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
	ck_assert_double_eq_tol(cJSON_GetObjectItem(t, "min")->valuedouble, 0.050, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(t, "median")->valuedouble, 0.0515, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(t, "max")->valuedouble, 0.053, 1e-9);
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
	ck_assert(isnan(ttft_percentile(v, 5, 0.9))); /* 5 values: no p90 */
	ck_assert(fabs(ttft_percentile(v, 5, 0.0) - 1) < 1e-12);
	ck_assert(fabs(ttft_percentile(v, 5, 1.0) - 5) < 1e-12);
	double ten[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
	ck_assert_double_eq_tol(ttft_percentile(ten, 10, 0.9), 9.1, 1e-12);
	ck_assert(isnan(ttft_percentile(ten, 10, 0.99)));
	double one[] = {7};
	ck_assert(isnan(ttft_percentile(one, 1, 0.99)));
	ck_assert(fabs(ttft_percentile(one, 1, 0.5) - 7) < 1e-12);
	ck_assert(fabs(ttft_percentile(one, 1, 1.0) - 7) < 1e-12);
	/* the rule: ceil(1 / (1 - q)) above the median, 1 up to it and for q 1 */
	ck_assert_uint_eq(ttft_quantile_min_n(0.0), 1);
	ck_assert_uint_eq(ttft_quantile_min_n(0.5), 1);
	ck_assert_uint_eq(ttft_quantile_min_n(0.75), 4);
	ck_assert_uint_eq(ttft_quantile_min_n(0.9), 10);
	ck_assert_uint_eq(ttft_quantile_min_n(0.95), 20);
	ck_assert_uint_eq(ttft_quantile_min_n(0.99), 100);
	ck_assert_uint_eq(ttft_quantile_min_n(1.0), 1);
	ck_assert(isnan(ttft_percentile(NULL, 0, 0.5)));
	/* several quantiles in one go: what selecting each alone gives */
	unsigned x = 12345;
	for (size_t n = 0; n < 120; n++) {
		double a[120], b[120], c[120];
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			a[i] = b[i] = (double)((x >> 16) % 7); /* with ties */
		}
		static const double q[] = {0, 0.5, 0.9, 0.99, 1};
		double got[5];
		ttft_percentiles_select(a, n, q, got, 5);
		for (int k = 0; k < 5; k++) {
			memcpy(c, b, n * sizeof *c);
			double want = ttft_percentile(c, n, q[k]);
			ck_assert_msg(isnan(want) ? isnan(got[k]) : got[k] == want,
				      "n %zu q %g: %g, want %g",
				      n, q[k], got[k], want);
		}
	}
}
END_TEST

struct at {
	double v;
	size_t i;
};

/* by value, then by place: a stable sort, as glibc's qsort (a merge
 * sort) is */
static int cmp_at(const void *x, const void *y)
{
	const struct at *a = x, *b = y;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* The summary sorts its values (a radix sort from 256 of them) into the
 * order a stable comparison sort gives, bit for bit: -0 and 0 where they
 * came, subnormals, infinities, negatives, many ties. */
START_TEST(summary_sorts_like_a_stable_sort)
{
	unsigned long long x = 0x2545f4914f6cdd1dull;
	static const size_t sizes[] = {0, 1, 2, 255, 256, 257, 1000, 4096, 100003};
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		for (int kind = 0; kind < 4; kind++) {
			size_t n = sizes[si];
			double *v = malloc((n ? n : 1) * sizeof *v);
			struct at *w = malloc((n ? n : 1) * sizeof *w);
			ck_assert(v && w);
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				double d;
				switch (kind) {
				case 0: d = (double)(x % 1000000000ull) / 1e9; break; /* durations */
				case 1: d = (double)(x % 7) - 3; break; /* ties */
				case 2: /* any bits but NaN's */
					memcpy(&d, &x, sizeof d);
					if (isnan(d))
						d = -INFINITY;
					break;
				default: /* zeros of both signs, subnormals */
					d = x % 4 == 0 ? 0.0 : x % 4 == 1 ? -0.0
					  : (double)(int)(x % 9 - 4) * 4.9e-324;
					break;
				}
				v[i] = w[i].v = d;
				w[i].i = i;
			}
			qsort(w, n, sizeof *w, cmp_at);
			struct ttft_summary s;
			ttft_summary_of(v, n, &s);
			for (size_t i = 0; i < n; i++)
				ck_assert_msg(!memcmp(&v[i], &w[i].v, sizeof v[i]),
					      "n %zu kind %d: [%zu] %a, want %a", n, kind, i, v[i],
					      w[i].v);
			free(v);
			free(w);
		}
	}
}
END_TEST

/* n requests, each on its own connection, the i-th (from 1) with its
 * first token i ms after its connect began, then gaps more tokens 1 ms
 * apart but the last, 10 ms. */
static void build_n_log(int n, int gaps)
{
	new_log("analyze-n");
	for (int i = 1; i <= n; i++) {
		uint64_t c = ttft_log_new_conn(&g_log);
		int64_t t = MS(1000) + MS(1000) * i;
		ev(TTFT_EV_CONNECT_BEGIN, t, 100, c, 0, 0, 0, "127.0.0.1:8000");
		ev(TTFT_EV_ESTABLISHED, t, 100, c, 0, 0, 0, NULL);
		ev(TTFT_EV_REQ_BEGIN, t, 100, c, 0, 0, 0, "POST /v1/completions");
		ev(TTFT_EV_REQ_SENT, t, 100, c, 0, 100, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t, 100, c, 0, 200, 0, NULL);
		int64_t at = t + MS(i);
		ev(TTFT_EV_SSE_TOKEN, at, 100, c, 0, 0, 0, NULL);
		for (int k = 1; k <= gaps; k++) {
			at += k == gaps ? MS(10) : MS(1);
			ev(TTFT_EV_SSE_TOKEN, at, 100, c, 0, 0, (int64_t)k, NULL);
		}
		ev(TTFT_EV_RESP_END, at + MS(1), 100, c, 0, 500, gaps + 1, NULL);
	}
	ttft_log_close(&g_log);
}

/* ttft-analyze --json's summary of n requests: "n", and p90 / p99 only
 * from 10 / 100 values (null below: from 1 request the old p90 and p99
 * were that request's TTFT, looking like tails). */
static cJSON *summary_of_n(int n, char **out)
{
	build_n_log(n, 1);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, out), 0);
	cJSON *j = cJSON_Parse(*out);
	ck_assert_ptr_nonnull(j);
	unlink(g_path);
	return j;
}

START_TEST(tail_percentiles_need_enough_requests)
{
	static const int ns[] = {1, 9, 10, 99, 100};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		int n = ns[k];
		char *out;
		cJSON *j = summary_of_n(n, &out);
		cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "ttft_s");
		ck_assert_ptr_nonnull(t);
		cJSON *cn = cJSON_GetObjectItem(t, "n");
		ck_assert_msg(cJSON_IsNumber(cn) && cn->valueint == n, "n %d: %s", n, out);
		/* TTFTs 1..n ms: the median (n + 1) / 2 ms, given from 1 */
		double med = cJSON_GetObjectItem(t, "median")->valuedouble;
		ck_assert_msg(fabs(med - (n + 1) / 2e3) < 1e-9, "n %d: median %.9f", n, med);
		cJSON *p90 = cJSON_GetObjectItem(t, "p90"), *p99 = cJSON_GetObjectItem(t, "p99");
		ck_assert_msg(n < 10 ? cJSON_IsNull(p90) : cJSON_IsNumber(p90), "n %d: %s", n, out);
		ck_assert_msg(n < 100 ? cJSON_IsNull(p99) : cJSON_IsNumber(p99), "n %d: %s", n, out);
		/* linear interpolation: rank 0.9 (n - 1) of 1..n ms */
		if (n >= 10)
			ck_assert(fabs(p90->valuedouble - (1 + 0.9 * (n - 1)) / 1e3) < 1e-9);
		if (n >= 100)
			ck_assert(fabs(p99->valuedouble - (1 + 0.99 * (n - 1)) / 1e3) < 1e-9);
		cJSON_Delete(j);
		free(out);
	}
	/* the table: '-' and one line saying why, not a number */
	build_n_log(1, 1);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	const char *row = strstr(out, "\nttft ");
	ck_assert_msg(row, "%s", out);
	ck_assert_msg(!strncmp(row, "\nttft          1.000      1.000          -          -      "
			       "1.000\n", 60), "%s", row);
	ck_assert_msg(strstr(out, "p90 needs 10 values and p99 100: '-' below that"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A request's ITL p99 is its gaps' only from 100 gaps: from 63 (a
 * 64-token answer) it was the slowest gap, or near it. */
START_TEST(itl_p99_needs_100_gaps)
{
	static const int gaps[] = {1, 63, 99, 100};
	for (size_t k = 0; k < sizeof gaps / sizeof gaps[0]; k++) {
		build_n_log(1, gaps[k]);
		struct ttft_analysis a;
		char err[256];
		ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
		ck_assert_uint_eq(a.nreqs, 1);
		const struct ttft_record *r = &a.reqs[0];
		ck_assert_uint_eq(r->ntok, (uint32_t)gaps[k] + 1);
		/* all gaps 1 ms but the last (10 ms): the median 1 ms from 1
		 * gap on (from 1 gap: that gap) */
		NEAR(r->itl_p50_s, gaps[k] == 1 ? 0.010 : 0.001);
		if (gaps[k] < 100) {
			ck_assert_msg(isnan(r->itl_p99_s), "%d gaps: itl_p99 %.9f", gaps[k],
				      r->itl_p99_s);
		} else {
			/* rank 0.99 * 99 = 98.01: between 1 ms and 10 ms */
			NEAR(r->itl_p99_s, 0.001 + 0.009 * (0.99 * 99 - 98));
		}
		ttft_analysis_free(&a);
		unlink(g_path);
	}
}
END_TEST

/* One keep-alive connection carrying 100k requests (a health-check loop
 * fills a default log like this): every request found, in order, with
 * its own numbers. Counts, not time: linearity is make bench's. */
START_TEST(one_connection_100k_requests)
{
	enum { N = 100000 };
	tu_tmp_log(g_path, sizeof g_path, "onecon");
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, g_path, (uint64_t)(6 * N + 64) * TTFT_REC_SIZE,
				       &why), 0);
	uint64_t c = ttft_log_new_conn(&g_log);
	int64_t T = MS(1000);
	ev(TTFT_EV_CONNECT_BEGIN, T, 100, c, 0, 0, 0, "127.0.0.1:8000");
	ev(TTFT_EV_ESTABLISHED, T + 1000, 100, c, 0, 0, 0, NULL);
	for (uint32_t i = 0; i < N; i++) {
		int64_t t = T + 10000 + (int64_t)i * 10000; /* a request every 10 us */
		ev(TTFT_EV_REQ_BEGIN, t, 100, c, i, 0, 0, "GET /health");
		ev(TTFT_EV_REQ_SENT, t + 100, 100, c, i, 40, 0, NULL);
		ev(TTFT_EV_RESP_HEADERS, t + 2000, 100, c, i, 200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + 3000, 100, c, i, 0, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, t + 3000 + (i % 7) * 100, 100, c, i, 0, 1, NULL);
		ev(TTFT_EV_RESP_END, t + 4000, 100, c, i, 10, 0, NULL);
	}
	ev(TTFT_EV_CLOSE, T + 10000 + (int64_t)N * 10000, 100, c, N, 0, 0, NULL);
	ttft_log_close(&g_log);
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	unlink(g_path);
	ck_assert_uint_eq(a.nreqs, N);
	ck_assert_uint_eq(a.records, 6 * N + 3);
	ck_assert_uint_eq(a.ttft.n, N);
	for (uint32_t i = 0; i < N; i++) {
		const struct ttft_record *r = &a.reqs[i];
		ck_assert_uint_eq(r->seq, i);
		ck_assert_uint_eq(r->ntok, 2);
		ck_assert_int_eq(r->status, 200);
		ck_assert_int_eq(r->closed_early, 0);
		ck_assert_int_eq(r->new_conn, i == 0);
		struct ttft_phases p;
		ttft_record_phases(r, &p);
		/* the first opened the connection: from its connect */
		NEAR(p.ttft_s, i ? 0.000003 : 0.000013);
		NEAR(p.itl_p50_s, (i % 7) * 100 / 1e9);
	}
	ttft_analysis_free(&a);
}
END_TEST

/* A connect takes the latest lookup its process finished before it began
 * and no other connect took: never another process's, never one still
 * running. Then 20k connections, each after its own lookup. */
START_TEST(dns_goes_to_the_connect_that_used_it)
{
	enum { N = 20000 };
	tu_tmp_log(g_path, sizeof g_path, "dns");
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, g_path, 64u << 20, &why), 0);
	uint64_t c[5];
	for (int i = 0; i < 5; i++)
		c[i] = ttft_log_new_conn(&g_log);
	int64_t T = MS(1000);
	ev(TTFT_EV_DNS_BEGIN, T, 100, 0, 0, 0, 0, "a");
	ev(TTFT_EV_DNS_END, T + MS(1), 100, 0, 0, 0, 0, "a");
	ev(TTFT_EV_DNS_BEGIN, T + MS(2), 100, 0, 0, 0, 0, "b");
	ev(TTFT_EV_DNS_END, T + MS(4), 100, 0, 0, 0, 0, "b");
	ev(TTFT_EV_DNS_BEGIN, T + MS(9), 100, 0, 0, 0, 0, "late");
	ev(TTFT_EV_DNS_END, T + MS(11), 100, 0, 0, 0, 0, "late");
	int64_t at[5] = {MS(5), MS(6), MS(7), MS(8), MS(10)};
	int pid[5] = {100, 100, 200, 100, 100};
	for (int i = 0; i < 5; i++) {
		ev(TTFT_EV_CONNECT_BEGIN, T + at[i], pid[i], c[i], 0, 0, 0, "127.0.0.1:80");
		ev(TTFT_EV_ESTABLISHED, T + at[i] + 1000, pid[i], c[i], 0, 0, 0, NULL);
		ev(TTFT_EV_REQ_BEGIN, T + at[i] + 2000, pid[i], c[i], 0, 0, 0, "GET /");
	}
	uint64_t first = ttft_log_new_conn(&g_log);
	for (int i = 0; i < N; i++) {
		int64_t t = T + MS(20) + (int64_t)i * 10000;
		ev(TTFT_EV_DNS_BEGIN, t, 300, 0, 0, 0, 0, "x");
		ev(TTFT_EV_DNS_END, t + 1000 + i % 100, 300, 0, 0, 0, 0, "x");
		uint64_t cc = i ? ttft_log_new_conn(&g_log) : first;
		ev(TTFT_EV_CONNECT_BEGIN, t + 2000, 300, cc, 0, 0, 0, "127.0.0.1:80");
		ev(TTFT_EV_REQ_BEGIN, t + 3000, 300, cc, 0, 0, 0, "GET /");
	}
	ttft_log_close(&g_log);
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	unlink(g_path);
	ck_assert_uint_eq(a.nreqs, 5 + N);
	struct ttft_phases p;
	double want[5] = {0.002, 0.001, NAN, NAN, NAN}; /* b, a, other pid, none left, running */
	for (int i = 0; i < 5; i++) {
		ttft_record_phases(&a.reqs[i], &p);
		if (isnan(want[i]))
			ck_assert_msg(isnan(p.dns_s), "connect %d: dns %.6f", i, p.dns_s);
		else
			NEAR(p.dns_s, want[i]);
	}
	for (int i = 0; i < N; i++) {
		ttft_record_phases(&a.reqs[5 + i], &p);
		NEAR(p.dns_s, (1000 + i % 100) / 1e9);
	}
	ttft_analysis_free(&a);
}
END_TEST

/* Requests on two connections, A's starting 5 us before B's each time.
 * In order: the records as a log would hold them. Late: all of B's, then
 * all of A's, so A's come more than a window's worth late and the analysis
 * sorts the whole log in memory; it must come out the same. */
struct tev {
	int64_t t;
	uint64_t conn;
	uint32_t seq;
	uint16_t kind;
	int64_t a, b;
};

static int cmp_tev(const void *x, const void *y)
{
	const struct tev *p = x, *q = y;
	if (p->t != q->t)
		return p->t < q->t ? -1 : 1;
	return p->conn < q->conn ? -1 : p->conn > q->conn;
}

static void two_conns(const char *path, int late)
{
	enum { N = 1600, PER = 12 };
	struct tev *e = malloc(2 * N * PER * sizeof *e);
	size_t n = 0;
	for (uint64_t c = 1; c <= 2; c++) {
		int64_t T = MS(1000) + (c == 1 ? 0 : 5000);
		for (uint32_t i = 0; i < N; i++) {
			int64_t t = T + (int64_t)i * 20000;
			e[n++] = (struct tev){t, c, i, TTFT_EV_REQ_BEGIN, 0, 0};
			e[n++] = (struct tev){t + 100, c, i, TTFT_EV_REQ_SENT, 40, 0};
			e[n++] = (struct tev){t + 2000, c, i, TTFT_EV_RESP_HEADERS, 200, 0};
			for (int k = 0; k < 8; k++)
				e[n++] = (struct tev){t + 3000 + k * (i % 5 + 1) * 100, c, i,
						      TTFT_EV_SSE_TOKEN, 0, k};
			e[n++] = (struct tev){t + 9000, c, i, TTFT_EV_RESP_END, 10, 0};
		}
	}
	if (!late)
		qsort(e, n, sizeof *e, cmp_tev);
	else /* B's first */
		for (size_t i = 0; i < n / 2; i++) {
			struct tev x = e[i];
			e[i] = e[i + n / 2];
			e[i + n / 2] = x;
		}
	const char *why;
	ck_assert_int_eq(ttft_log_open(&g_log, path, 16u << 20, &why), 0);
	ck_assert_uint_eq(ttft_log_new_conn(&g_log), 1);
	ck_assert_uint_eq(ttft_log_new_conn(&g_log), 2);
	for (size_t i = 0; i < n; i++)
		ev(e[i].kind, e[i].t, 100, e[i].conn, e[i].seq, e[i].a, e[i].b,
		   e[i].kind == TTFT_EV_REQ_BEGIN ? "POST /v1/completions" : NULL);
	ttft_log_close(&g_log);
	free(e);
}

START_TEST(far_out_of_order_log_sorts_in_memory)
{
	char late[256];
	tu_tmp_log(g_path, sizeof g_path, "inorder");
	tu_tmp_log(late, sizeof late, "late");
	two_conns(g_path, 0);
	two_conns(late, 1);
	struct ttft_analysis a, b;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	ck_assert_int_eq(ttft_analyze_file(late, NULL, &b, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 3200);
	ck_assert_uint_eq(b.nreqs, a.nreqs);
	for (size_t i = 0; i < a.nreqs; i++) {
		const struct ttft_record *x = &a.reqs[i], *y = &b.reqs[i];
		ck_assert_int_eq(x->t_start, y->t_start);
		ck_assert_uint_eq(x->seq, y->seq);
		ck_assert_uint_eq(x->ntok, 8);
		ck_assert_uint_eq(y->ntok, 8);
		ck_assert_int_eq(x->t_end, y->t_end);
		ck_assert(x->itl_p50_s == y->itl_p50_s);
		ck_assert(isnan(x->itl_p99_s) && isnan(y->itl_p99_s)); /* 7 gaps */
		/* A and B alternate: A started 5 us earlier each time */
		ck_assert_uint_eq(x->conn, (uint64_t)(i % 2 + 1));
	}
	ttft_analysis_free(&a);
	ttft_analysis_free(&b);
	/* the window and the full sort hand out the same sequence */
	struct seq {
		int64_t k[4 * 3200 * 12];
		size_t n;
	} *w = calloc(1, sizeof *w), *m = calloc(1, sizeof *m);
	struct ttft_log_view v;
	ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
	ck_assert_int_eq(ttft_log_each(&v, 0, collect, m), 0);
	ttft_log_view_close(&v);
	ck_assert_uint_eq(m->n, 3200 * 12 * 4);
	/* through the mapping and with pread into a ring alike */
	static const char *const readers[] = {"map", "pread"};
	for (int r = 0; r < 2; r++) {
		setenv("TTFT_LOG_READER", readers[r], 1);
		w->n = 0;
		ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
		ck_assert_int_eq(ttft_log_each(&v, TTFT_LOGSORT_WINDOW, collect, w), 0);
		ck_assert_int_eq(v.reader, r ? TTFT_READER_RING : TTFT_READER_MAP);
		ttft_log_view_close(&v);
		ck_assert_uint_eq(w->n, m->n);
		ck_assert_msg(memcmp(w->k, m->k, w->n * sizeof w->k[0]) == 0, "%s", readers[r]);
		/* and the late log is reported as such by the window */
		struct seq *l = calloc(1, sizeof *l);
		ck_assert_int_eq(ttft_log_view_open(&v, late, err, sizeof err), 0);
		ck_assert_int_eq(ttft_log_each(&v, TTFT_LOGSORT_WINDOW, collect, l), 1);
		ttft_log_view_close(&v);
		free(l);
	}
	unsetenv("TTFT_LOG_READER");
	free(w);
	free(m);
	unlink(g_path);
	unlink(late);
}
END_TEST

/* An interim response (a 103) and the final one read in one call share
 * their time: --events, the window and the full sort hand their records
 * out in the order they came on the wire, the 103's first (a sort by kind
 * put resp_interim, kind 25, after the final response's records). */
struct kinds {
	uint16_t k[16];
	size_t n;
};

static void collect_kind(void *ctx, struct ttft_rec *r)
{
	struct kinds *ks = ctx;
	if (ks->n < 16)
		ks->k[ks->n] = r->kind;
	ks->n++;
}

START_TEST(interim_records_come_in_wire_order)
{
	int64_t T = MS(2000);
	uint64_t c = asked("interim-order", "POST /v1/completions", T);
	ev(TTFT_EV_RESP_INTERIM, T + MS(5), 100, c, 0, 103, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T + MS(5), 100, c, 0, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, T + MS(5), 100, c, 0, 0, 0, NULL);
	ev(TTFT_EV_RESP_END, T + MS(5), 100, c, 0, 100, 1, NULL);
	ttft_log_close(&g_log);
	const uint16_t want[] = {TTFT_EV_REQ_BEGIN, TTFT_EV_REQ_SENT, TTFT_EV_RESP_INTERIM,
				 TTFT_EV_RESP_HEADERS, TTFT_EV_SSE_TOKEN, TTFT_EV_RESP_END};
	char err[256];
	for (int window = 0; window < 2; window++) {
		struct kinds ks = {{0}, 0};
		struct ttft_log_view v;
		ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
		ck_assert_int_eq(ttft_log_each(&v, window ? TTFT_LOGSORT_WINDOW : 0,
					       collect_kind, &ks), 0);
		ttft_log_view_close(&v);
		ck_assert_uint_eq(ks.n, 6);
		for (size_t i = 0; i < 6; i++)
			ck_assert_msg(ks.k[i] == want[i], "window %d: record %zu is kind %u",
				      window, i, ks.k[i]);
	}
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --events %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	const char *i = strstr(out, "resp_interim"), *h = strstr(out, "resp_headers");
	ck_assert_msg(i && h && i < h, "%s", out);
	free(out);
	/* the row is as before: the 200's, its 103 said */
	struct ttft_analysis a;
	ck_assert_int_eq(ttft_analyze_file(g_path, NULL, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 1);
	ck_assert_int_eq(a.reqs[0].status, 200);
	ck_assert_int_eq(a.reqs[0].interim, 103);
	ttft_analysis_free(&a);
	unlink(g_path);
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


/* A record with flags and binary text, which ev() cannot write. */
static void ev_raw(uint16_t kind, uint16_t flags, int64_t t, uint64_t conn,
		   int64_t a, const void *text, size_t tlen)
{
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = kind, .flags = flags, .t_ns = t, .pid = 100, .tid = 100, .fd = 5,
		.conn = conn, .a = a, .text = text, .text_len = tlen}));
}

/* llama.cpp's timings arrive in each request's own stream: each of two
 * overlapping requests gets its own split, whatever runs beside it, its
 * queue from the headers, with no /metrics snapshot in the log (the join
 * had been skipped without one: queue null, and a prefill longer than the
 * client waited shown with a negative "other"); a request's traceparent
 * and a compressed response stay with its row. */
START_TEST(stream_numbers_and_traceparent_per_request)
{
	new_log("numbers");
	uint64_t c1 = ttft_log_new_conn(&g_log), c2 = ttft_log_new_conn(&g_log);
	uint64_t c3 = ttft_log_new_conn(&g_log);
	int64_t T = MS(2000);
	static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	static const char tp0[] = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
	struct {
		uint64_t conn;
		double start, first;
		uint32_t prompt_us, predicted_us, prompt_n, cache_n;
	} q[] = {{c1, 0, 30, 8424, 47862, 1, 7}, {c2, 5, 60, 21000, 90500, 120, 0},
		 {0, 100, 109, 50000, 1000, 4, 0}};
	q[2].conn = ttft_log_new_conn(&g_log);
	for (int k = 0; k < 3; k++) {
		ev(TTFT_EV_REQ_BEGIN, T + MS(q[k].start), 100, q[k].conn, 0, 0, 0,
		   "POST /v1/completions");
		ev(TTFT_EV_REQ_SENT, T + MS(q[k].start + 0.1), 100, q[k].conn, 0, 100, 0, NULL);
		/* the second's trace id is all zeros: invalid (W3C), so none */
		ev(TTFT_EV_TRACEPARENT, T + MS(q[k].start + 0.1), 100, q[k].conn, 0, 0, 0,
		   k == 0 ? tp : tp0);
		ev(TTFT_EV_RESP_HEADERS, T + MS(q[k].start + 1), 100, q[k].conn, 0, 200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, T + MS(q[k].first), 100, q[k].conn, 0, 0, 0, NULL);
		ev(TTFT_EV_SSE_EMPTY, T + MS(q[k].first + 50), 100, q[k].conn, 0, 0, 0, NULL);
		struct ttft_rec_numbers nv = {{0}};
		nv.v[TTFT_NUM_PROMPT_US] = q[k].prompt_us;
		nv.v[TTFT_NUM_PREDICTED_US] = q[k].predicted_us;
		nv.v[TTFT_NUM_PROMPT_N] = q[k].prompt_n;
		nv.v[TTFT_NUM_CACHE_N] = q[k].cache_n;
		nv.v[TTFT_NUM_COMPLETION_TOKENS] = 8;
		ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(q[k].first + 50), q[k].conn,
		       1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PREDICTED_US |
		       1 << TTFT_NUM_PROMPT_N | 1 << TTFT_NUM_CACHE_N |
		       1 << TTFT_NUM_COMPLETION_TOKENS, &nv, sizeof nv);
		ev(TTFT_EV_RESP_END, T + MS(q[k].first + 51), 100, q[k].conn, 0, 900, 1, NULL);
	}
	/* a gzip'd stream: the headers say so, and no event follows */
	ev(TTFT_EV_REQ_BEGIN, T + MS(10), 100, c3, 0, 0, 0, "POST /v1/chat/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(10.1), 100, c3, 0, 100, 0, NULL);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_COMPRESSED, T + MS(12), c3, 200,
	       "", 0);
	ev(TTFT_EV_RESP_END, T + MS(90), 100, c3, 0, 4000, 0, NULL);
	ttft_log_close(&g_log);

	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 4);
	for (int k = 0; k < 2; k++) {
		cJSON *r = cJSON_GetArrayItem(reqs, k == 0 ? 0 : 1);
		ck_assert_str_eq(cJSON_GetObjectItem(r, "split_source")->valuestring,
				 "llamacpp-timings");
		ck_assert(fabs(cJSON_GetObjectItem(r, "prefill_s")->valuedouble -
			       q[k].prompt_us / 1e6) < 1e-12);
		ck_assert(fabs(cJSON_GetObjectItem(r, "server_decode_s")->valuedouble -
			       q[k].predicted_us / 1e6) < 1e-12);
		ck_assert_int_eq(cJSON_GetObjectItem(r, "prefix_cache_hit_tokens")->valueint,
				 (int)q[k].cache_n);
		ck_assert_int_eq(cJSON_GetObjectItem(r, "prompt_tokens")->valueint,
				 (int)(q[k].prompt_n + q[k].cache_n));
		ck_assert_int_eq(cJSON_GetObjectItem(r, "tokens")->valueint, 8);
		/* the queue: sent → headers (a slot took it) */
		ck_assert(fabs(cJSON_GetObjectItem(r, "queue_s")->valuedouble - 0.9e-3) < 1e-9);
		/* what llama.cpp does not explain: first token − sent − queue −
		 * prefill */
		ck_assert(fabs(cJSON_GetObjectItem(r, "server_other_s")->valuedouble -
			       ((q[k].first - q[k].start - 0.1 - 0.9) / 1e3 -
				q[k].prompt_us / 1e6)) < 1e-9);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "compressed")));
	}
	cJSON *r0 = cJSON_GetArrayItem(reqs, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(r0, "traceparent")->valuestring, tp);
	ck_assert_str_eq(cJSON_GetObjectItem(r0, "trace_id")->valuestring,
			 "4bf92f3577b34da6a3ce929d0e0e4736");
	cJSON *r1 = cJSON_GetArrayItem(reqs, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(r1, "traceparent")->valuestring, tp0);
	cJSON *id1 = cJSON_GetObjectItem(r1, "trace_id");
	ck_assert_msg(!id1 || cJSON_IsNull(id1), "an all-zero trace id was copied");
	/* a prefill of 50 ms where the client waited 8.9 ms is not this
	 * request's alone: refused, said, never a negative "other" */
	cJSON *f = cJSON_GetArrayItem(reqs, 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(f, "prefill_s")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(f, "server_other_s")));
	const char *fn = cJSON_GetStringValue(cJSON_GetObjectItem(f, "split_note"));
	ck_assert_msg(fn && strstr(fn, "more than the client waited"), "%s", fn ? fn : "(none)");
	cJSON *z = cJSON_GetArrayItem(reqs, 2);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(z, "compressed")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(z, "tokens"))); /* unknown, not 0 */
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(z, "ttft_s")));
	cJSON_Delete(j);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "(compressed body: tokens not visible)") != NULL, "%s", out);
	/* the refused split's row says why its queue and prefill are '-' (it
	 * said nothing, where --json has split_note; "where TTFT went" names
	 * the slowest five only) */
	const char *row = strstr(out, "\n   4 ");
	ck_assert_msg(row != NULL, "no row 4: %s", out);
	const char *end = strchr(row + 1, '\n');
	char line[2048];
	snprintf(line, sizeof line, "%.*s", (int)(end ? end - row - 1 : (long)strlen(row + 1)),
		 row + 1);
	ck_assert_msg(strstr(line, "(no split: refused: the server's prefill") &&
		      strstr(line, "more than the client waited"), "row 4 says no why: %s", line);
	free(out);
	unlink(g_path);
}
END_TEST

/* ttft-analyze --json of the log at g_path, parsed (the caller deletes it). */
static cJSON *analyzed_json(void)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *j = cJSON_Parse(out);
	free(out);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* llama.cpp streams a request of several prompts (a /v1/completions
 * prompt array: one task each) as one response, with each task's timings
 * in its own last chunk. No one of them is the request's prefill: the row
 * took the last task's (a review: 3.5 ms of the second prompt's, queued
 * behind the first, labelled llamacpp-timings). Timings repeated
 * unchanged (timings_per_token) are still one task's. */
START_TEST(timings_of_several_prompts_are_not_one_split)
{
	for (int several = 0; several < 2; several++) {
		int64_t T = MS(2000);
		uint64_t c = asked("several", "POST /v1/completions", T);
		ev(TTFT_EV_RESP_HEADERS, T + MS(1), 100, c, 0, 200, 0, NULL);
		ev(TTFT_EV_SSE_TOKEN, T + MS(30), 100, c, 0, 0, 0, NULL);
		static const uint32_t prompt_us[2][2] = {{8424, 8424}, {8424, 3500}};
		for (int k = 0; k < 2; k++) {
			ev(TTFT_EV_SSE_EMPTY, T + MS(60 + 30 * k), 100, c, 0, 0, 0, NULL);
			struct ttft_rec_numbers nv = {{0}};
			nv.v[TTFT_NUM_PROMPT_US] = prompt_us[several][k];
			nv.v[TTFT_NUM_PROMPT_N] = 12;
			ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(60 + 30 * k), c,
			       1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PROMPT_N, &nv, sizeof nv);
		}
		ev(TTFT_EV_RESP_END, T + MS(91), 100, c, 0, 900, 1, NULL);
		ttft_log_close(&g_log);
		cJSON *j = analyzed_json();
		cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
		cJSON *src = cJSON_GetObjectItem(r, "split_source");
		if (!several) {
			ck_assert_str_eq(cJSON_GetStringValue(src), "llamacpp-timings");
			ck_assert(fabs(cJSON_GetObjectItem(r, "prefill_s")->valuedouble -
				       8424e-6) < 1e-12);
		} else {
			ck_assert_msg(!cJSON_IsString(src), "several prompts' timings given as "
				      "one: prefill %.6f",
				      cJSON_GetObjectItem(r, "prefill_s")->valuedouble);
			ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "prefill_s")));
			const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
			ck_assert_msg(n && strstr(n, "several"), "%s", n ? n : "(none)");
		}
		cJSON_Delete(j);
		unlink(g_path);
	}
}
END_TEST

/* llama-server with "timings_per_token" and "return_progress" sends the
 * prefill's progress before the first token: events with timings whose
 * prompt_ms is the prefill so far (0, then 4.016 ms) and predicted_n 0,
 * then every token's with the whole prefill (4.298 ms). One prompt, one
 * task: the row had no split, its note "timings of several tasks"
 * (a review against llama-server -np 4). Now the last timings are its
 * split; a stream cut during the prefill, after progress alone, gives no
 * prefill (the one it read was partial), and says so. */
START_TEST(llamacpp_progress_timings_are_not_several_tasks)
{
	for (int cut = 0; cut < 2; cut++) {
		int64_t T = MS(2000);
		uint64_t c = asked("progress", "POST /v1/completions", T);
		ev(TTFT_EV_RESP_HEADERS, T + MS(1), 100, c, 0, 200, 0, NULL);
		/* two progress events, three tokens (the shim reads the numbers
		 * of events without text), the last event's timings */
		static const uint32_t prompt_us[] = {0, 4016, 0, 0, 0, 4298};
		for (int k = 0; k < (cut ? 2 : 6); k++) {
			int64_t t = T + MS(2 + 3 * k);
			if (k >= 2 && k < 5) {
				ev(TTFT_EV_SSE_TOKEN, t, 100, c, 0, 0, 0, NULL);
				continue;
			}
			ev(TTFT_EV_SSE_EMPTY, t, 100, c, 0, 0, 0, NULL);
			struct ttft_rec_numbers nv = {{0}};
			nv.v[TTFT_NUM_PROMPT_US] = prompt_us[k];
			nv.v[TTFT_NUM_PROMPT_N] = 8;
			nv.v[TTFT_NUM_CACHE_N] = 0;
			nv.v[TTFT_NUM_PREDICTED_N] = k < 2 ? 0 : 3;
			nv.v[TTFT_NUM_PREDICTED_US] = k < 2 ? 0 : 6001;
			ev_raw(TTFT_EV_SERVER_NUMBERS, 0, t, c,
			       1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PROMPT_N |
			       1 << TTFT_NUM_CACHE_N | 1 << TTFT_NUM_PREDICTED_N |
			       1 << TTFT_NUM_PREDICTED_US, &nv, sizeof nv);
		}
		if (cut)
			ev(TTFT_EV_CLOSE, T + MS(6), 100, c, 1, 0, 0, NULL);
		else
			ev(TTFT_EV_RESP_END, T + MS(18), 100, c, 0, 900, 1, NULL);
		ttft_log_close(&g_log);
		cJSON *j = analyzed_json();
		cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_source"));
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
		cJSON *p = cJSON_GetObjectItem(r, "prefill_s");
		if (!cut) {
			ck_assert_msg(src && !strcmp(src, "llamacpp-timings") &&
				      fabs(p->valuedouble - 4298e-6) < 1e-12,
				      "one prompt's progress and final timings: split %s, "
				      "note %s", src ? src : "null", n ? n : "(none)");
			ck_assert_int_eq(cJSON_GetObjectItem(r, "tokens")->valueint, 3);
		} else {
			ck_assert_msg(!src && cJSON_IsNull(p) && n && strstr(n, "prefill"),
				      "cut during the prefill: split %s, prefill %.6f, note %s",
				      src ? src : "null", cJSON_IsNumber(p) ? p->valuedouble : -1,
				      n ? n : "(none)");
		}
		cJSON_Delete(j);
		unlink(g_path);
	}
}
END_TEST

/* A /v1/completions prompt array streamed by llama.cpp: each task's last
 * event carries its own usage and timings, its own prompt's count (1 and
 * 8 tokens here). The row showed the last task's, 8, as the request's
 * prompt_tokens (a review against llama-server -np 4): not the request's
 * count; now null, as the tokens come from the events. */
START_TEST(several_tasks_prompt_counts_are_not_the_requests)
{
	int64_t T = MS(2000);
	uint64_t c = asked("tasks-prompts", "POST /v1/completions", T);
	ev(TTFT_EV_RESP_HEADERS, T + MS(1), 100, c, 0, 200, 0, NULL);
	static const uint32_t prompt_n[2] = {1, 8}, prompt_us[2] = {1200, 4300};
	for (int k = 0; k < 2; k++) {
		int64_t t = T + MS(10 + 10 * k);
		ev(TTFT_EV_SSE_TOKEN, t, 100, c, 0, 0, 0, NULL);
		ev(TTFT_EV_SSE_EMPTY, t + MS(1), 100, c, 0, 0, 0, NULL);
		struct ttft_rec_numbers nv = {{0}};
		nv.v[TTFT_NUM_PROMPT_TOKENS] = prompt_n[k];
		nv.v[TTFT_NUM_COMPLETION_TOKENS] = 1;
		nv.v[TTFT_NUM_PROMPT_US] = prompt_us[k];
		nv.v[TTFT_NUM_PROMPT_N] = prompt_n[k];
		nv.v[TTFT_NUM_CACHE_N] = 0;
		nv.v[TTFT_NUM_PREDICTED_N] = 1;
		ev_raw(TTFT_EV_SERVER_NUMBERS, 0, t + MS(1), c,
		       1 << TTFT_NUM_PROMPT_TOKENS | 1 << TTFT_NUM_COMPLETION_TOKENS |
		       1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PROMPT_N |
		       1 << TTFT_NUM_CACHE_N | 1 << TTFT_NUM_PREDICTED_N, &nv, sizeof nv);
	}
	ev(TTFT_EV_RESP_END, T + MS(31), 100, c, 0, 900, 1, NULL);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	cJSON *p = cJSON_GetObjectItem(r, "prompt_tokens");
	ck_assert_msg(cJSON_IsNull(p), "prompt_tokens %d, one task's of two",
		      cJSON_IsNumber(p) ? p->valueint : -1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "split_source")));
	ck_assert_int_eq(cJSON_GetObjectItem(r, "tokens")->valueint, 2);
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

#ifndef TTFT_SSE_F_CHOICE
#define TTFT_SSE_F_CHOICE 0x0800u /* so that the old code builds: it fails */
#endif

/* One /metrics snapshot (ttft-run --metrics' records): n values, GET sent
 * and answer in at t. */
static void snap(int64_t t, uint32_t seq, const char *const *names, const double *v, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t bits;
		memcpy(&bits, &v[i], sizeof bits);
		ev(TTFT_EV_METRIC, t, 0, 0, 0, bits, seq, names[i]);
	}
	ev(TTFT_EV_SCRAPE, t, 0, 0, 0, n, seq, NULL);
}

/* vLLM with n=2: a chat stream whose events carry choices[{"index":0}] and
 * choices[{"index":1}] (the shim flags choice 1's). vLLM ran a request for
 * each choice and counted each one's finish: a window around this
 * request's end whose count grew by one held one choice's finish (choice
 * 0 finished earlier, before the snapshot at +45 ms), and the row had
 * shown that choice's queue and prefill as its own, labelled
 * vllm-metrics. Now: no split, the note says why, several_choices is
 * true, the tokens are both choices' (usage agrees), and no ITL. */
START_TEST(several_choices_get_no_split_and_say_why)
{
	static const char *const vn[] = {
		"vllm:request_queue_time_seconds_count", "vllm:request_queue_time_seconds_sum",
		"vllm:request_prefill_time_seconds_count", "vllm:request_prefill_time_seconds_sum"};
	new_log("choices");
	uint64_t c = ttft_log_new_conn(&g_log);
	int64_t T = MS(2000);
	snap(T - MS(50), 1, vn, (double[]){0, 0, 0, 0}, 4);
	ev(TTFT_EV_REQ_BEGIN, T, 100, c, 0, 0, 0, "POST /v1/chat/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(0.1), 100, c, 0, 100, 0, NULL);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T + MS(1), c, 200, NULL, 0);
	ev_raw(TTFT_EV_SSE_EMPTY, 0, T + MS(9), c, 0, NULL, 0);
	ev_raw(TTFT_EV_SSE_EMPTY, TTFT_SSE_F_CHOICE, T + MS(9), c, 0, NULL, 0);
	for (int k = 0; k < 2; k++) {
		ev_raw(TTFT_EV_SSE_TOKEN, 0, T + MS(10 + 10 * k), c, 0, NULL, 0);
		ev_raw(TTFT_EV_SSE_TOKEN, TTFT_SSE_F_CHOICE, T + MS(10.5 + 10 * k), c, 0, NULL, 0);
	}
	/* choice 0 ended at +20 and was counted by +45; choice 1 goes on */
	snap(T + MS(45), 2, vn, (double[]){1, 0.001, 1, 0.004}, 4);
	ev_raw(TTFT_EV_SSE_TOKEN, TTFT_SSE_F_CHOICE, T + MS(60), c, 0, NULL, 0);
	struct ttft_rec_numbers nv = {{0}};
	nv.v[TTFT_NUM_PROMPT_TOKENS] = 9;
	nv.v[TTFT_NUM_COMPLETION_TOKENS] = 5;
	ev_raw(TTFT_EV_SSE_EMPTY, TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS, T + MS(61), c, 0, NULL, 0);
	ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(61), c,
	       1 << TTFT_NUM_PROMPT_TOKENS | 1 << TTFT_NUM_COMPLETION_TOKENS, &nv, sizeof nv);
	ev_raw(TTFT_EV_SSE_DONE, 0, T + MS(61), c, 0, NULL, 0);
	/* its last bytes arrived as read (TCP_INFO): the window of its
	 * finish starts at the snapshot at +45 */
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = TTFT_EV_RESP_END, .flags = TTFT_F_ARRIVAL, .t_ns = T + MS(62),
		.pid = 100, .tid = 100, .fd = 5, .conn = c, .a = 900, .b = 5, .err = 0}));
	snap(T + MS(120), 3, vn, (double[]){2, 0.003, 2, 0.009}, 4);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(r, "split_source")),
		      "one choice's numbers given as the request's: %s, queue %.6f",
		      cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_source")),
		      cJSON_GetObjectItem(r, "queue_s")->valuedouble);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "queue_s")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "prefill_s")));
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
	ck_assert_msg(n && strstr(n, "several choices"), "%s", n ? n : "(none)");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "several_choices")));
	ck_assert_int_eq(cJSON_GetObjectItem(r, "tokens")->valueint, 5);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "itl_n")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "itl_p50_s")));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(r, "ttft_s")->valuedouble, 0.010, 1e-9);
	n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "note"));
	ck_assert_msg(n && strstr(n, "several choices"), "%s", n ? n : "(none)");
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* llama.cpp streams a request of several prompts (or choices) with
 * choices[{"index":1}] for the second task, whose prefill ends long after
 * the request's first token. Its counters (no count) moved inside the
 * window of a neighbour, a request of one choice not streamed, which got
 * 27 ms of "prefill" for its own 20. Now the request of several choices
 * is in the others' way for its whole life: the neighbour gets none. */
START_TEST(several_choices_keep_their_prefills_from_neighbours)
{
	static const char *const ln[] = {"llamacpp:prompt_seconds_total",
					 "llamacpp:tokens_predicted_seconds_total"};
	new_log("choices-lc");
	uint64_t r2 = ttft_log_new_conn(&g_log), s1 = ttft_log_new_conn(&g_log);
	int64_t T = MS(3000);
	snap(T - MS(200), 1, ln, (double[]){0, 0}, 2);
	/* the request of two tasks: task 0's prefill by its first token */
	ev(TTFT_EV_REQ_BEGIN, T - MS(100), 100, r2, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T - MS(99.9), 100, r2, 0, 100, 0, NULL);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T - MS(99), r2, 200, NULL, 0);
	ev_raw(TTFT_EV_SSE_TOKEN, 0, T - MS(90), r2, 0, NULL, 0);
	snap(T - MS(50), 2, ln, (double[]){0.010, 0}, 2);
	/* the neighbour, alone in the window (T - 50, T + 250) but for task
	 * 1's prefill, which ended at T + 95 */
	ev(TTFT_EV_REQ_BEGIN, T, 200, s1, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(1), 200, s1, 0, 100, 0, NULL);
	ev_raw(TTFT_EV_SSE_TOKEN, TTFT_SSE_F_CHOICE, T + MS(100), r2, 0, NULL, 0);
	ev(TTFT_EV_RESP_HEADERS, T + MS(200), 200, s1, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_END, T + MS(200), 200, s1, 0, 500, 0, NULL);
	snap(T + MS(250), 3, ln, (double[]){0.037, 0.1}, 2);
	ev_raw(TTFT_EV_SSE_DONE, 0, T + MS(300), r2, 0, NULL, 0);
	ev(TTFT_EV_RESP_END, T + MS(300), 100, r2, 0, 900, 2, NULL);
	snap(T + MS(400), 4, ln, (double[]){0.037, 0.2}, 2);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *q, *s = NULL, *r = NULL;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests"))
		if (cJSON_GetObjectItem(q, "conn")->valueint == (int)s1)
			s = q;
		else if (cJSON_GetObjectItem(q, "conn")->valueint == (int)r2)
			r = q;
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(s, "split_source")),
		      "the neighbour given another task's prefill: %s, prefill %.6f",
		      cJSON_GetStringValue(cJSON_GetObjectItem(s, "split_source")),
		      cJSON_GetObjectItem(s, "prefill_s")->valuedouble);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(s, "prefill_s")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(s, "several_choices")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "split_source")));
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
	ck_assert_msg(n && strstr(n, "several choices"), "%s", n ? n : "(none)");
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* A stream the client closed after its first tokens, with /metrics
 * sampled around it (a review, under llama-server with 4 slots): no split
 * can be its own (the server may count it any time later), but the row
 * said nothing of why in --json (no split_note), and the table's "where
 * TTFT went" line said "no /metrics sampled" of a log full of snapshots.
 * Now the note says the request did not end. */
START_TEST(stream_closed_early_says_why_no_split)
{
	static const char *const vn[] = {
		"vllm:request_queue_time_seconds_count", "vllm:request_queue_time_seconds_sum",
		"vllm:request_prefill_time_seconds_count", "vllm:request_prefill_time_seconds_sum"};
	new_log("closed-early");
	uint64_t c = ttft_log_new_conn(&g_log);
	int64_t T = MS(2000);
	snap(T - MS(50), 1, vn, (double[]){0, 0, 0, 0}, 4);
	ev(TTFT_EV_REQ_BEGIN, T, 100, c, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(0.1), 100, c, 0, 100, 0, NULL);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T + MS(1), c, 200, NULL, 0);
	ev_raw(TTFT_EV_SSE_TOKEN, 0, T + MS(10), c, 0, NULL, 0);
	ev_raw(TTFT_EV_SSE_TOKEN, 0, T + MS(14), c, 0, NULL, 0);
	ev(TTFT_EV_CLOSE, T + MS(15), 100, c, 1, 0, 0, NULL);
	snap(T + MS(50), 2, vn, (double[]){1, 0.001, 1, 0.004}, 4);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "split_source")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "prefill_s")));
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
	ck_assert_msg(n && strstr(n, "did not end"), "a stream closed early, /metrics "
		      "sampled, no split and its note: %s", n ? n : "(none)");
	cJSON_Delete(j);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s 2>&1", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	const char *w = strstr(out, "where TTFT went");
	ck_assert_msg(w && !strstr(w, "no /metrics sampled") && strstr(w, "did not end"),
		      "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* A server down for part of the run (a restart): ttft-run's scrapes of it
 * failed ("Failed to connect …", in each failed page's record). The
 * analyzer's warning said those pages were "garbage, truncated, or
 * without request metrics" (a review): it now gives the first failure's
 * own reason. */
START_TEST(failed_scrapes_say_their_reason)
{
	static const char *const vn[] = {"vllm:request_queue_time_seconds_count",
					 "vllm:request_queue_time_seconds_sum"};
	new_log("scrape-failed");
	int64_t T = MS(2000);
	snap(T, 1, vn, (double[]){0, 0}, 2);
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = TTFT_EV_SCRAPE, .t_ns = T + MS(20), .pid = 0, .tid = 0, .fd = -1,
		.err = -1, .a = 0, .b = 2,
		.text = "Failed to connect to 127.0.0.1 port 8000",
		.text_len = strlen("Failed to connect to 127.0.0.1 port 8000")}));
	snap(T + MS(40), 3, vn, (double[]){0, 0}, 2);
	ttft_log_close(&g_log);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s 2>&1", tu_build_dir(), g_path);
	tu_sh(cmd, &out);
	const char *w = strstr(out, "1 of 3 /metrics snapshots");
	ck_assert_msg(w && strstr(w, "Failed to connect to 127.0.0.1 port 8000") &&
		      !strstr(w, "garbage"), "%s", out);
	free(out);
	unlink(g_path);
}
END_TEST

/* llama.cpp with n=2 on /v1/chat/completions: choice 1's events are
 * flagged (its "index" comes before its delta), choice 0 ends first and
 * its last event carries its own timings. The client closes the stream
 * before choice 1 ends (a cancel, a max-time): the row kept choice 0's
 * timings as its split, labelled llamacpp-timings (the join, which
 * refuses a request of several choices any split, was skipped for a row
 * with no end). Such a row has no split, ended or not. */
START_TEST(several_choices_cut_short_keep_no_timings)
{
	int64_t T = MS(2000);
	uint64_t c = asked("choices-cut", "POST /v1/chat/completions", T);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T + MS(1), c, 200, NULL, 0);
	for (int k = 0; k < 4; k++)
		ev_raw(TTFT_EV_SSE_TOKEN, k & 1 ? TTFT_SSE_F_CHOICE : 0, T + MS(10 + 5 * k), c,
		       0, NULL, 0);
	struct ttft_rec_numbers nv = {{0}};
	nv.v[TTFT_NUM_PROMPT_US] = 4000;
	nv.v[TTFT_NUM_PREDICTED_US] = 20000;
	nv.v[TTFT_NUM_PROMPT_N] = 8;
	nv.v[TTFT_NUM_CACHE_N] = 0;
	ev_raw(TTFT_EV_SSE_EMPTY, TTFT_SSE_F_NUMS, T + MS(31), c, 0, NULL, 0);
	ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(31), c,
	       1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PREDICTED_US | 1 << TTFT_NUM_PROMPT_N |
		       1 << TTFT_NUM_CACHE_N,
	       &nv, sizeof nv);
	ev_raw(TTFT_EV_SSE_TOKEN, TTFT_SSE_F_CHOICE, T + MS(35), c, 0, NULL, 0);
	ev(TTFT_EV_CLOSE, T + MS(40), 100, c, 0, 0, 0, NULL);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "several_choices")));
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(r, "split_source")),
		      "one choice's timings given as the request's: %s, prefill %.6f",
		      cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_source")),
		      cJSON_GetObjectItem(r, "prefill_s")->valuedouble);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "prefill_s")));
	const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "split_note"));
	ck_assert_msg(n && strstr(n, "several choices"), "%s", n ? n : "(none)");
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* An Anthropic stream whose message_delta said its prompt's parts anew
 * but not whole (TTFT_NUM_F_PROMPT_UNKNOWN: a part it left out known from
 * no earlier event): message_start's count is stale,
 * and the row's prompt_tokens is null, not that count; one that said them
 * all gives its sum, the last one read. */
START_TEST(a_prompt_said_anew_but_not_whole_is_null)
{
	for (int whole = 0; whole < 2; whole++) {
		int64_t T = MS(2000);
		uint64_t c = asked("prompt-anew", "POST /v1/messages", T);
		ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T + MS(1), c, 200,
		       NULL, 0);
		struct ttft_rec_numbers nv = {{0}};
		nv.v[TTFT_NUM_PROMPT_TOKENS] = 1243;
		ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(2), c, 1 << TTFT_NUM_PROMPT_TOKENS,
		       &nv, sizeof nv);
		ev_raw(TTFT_EV_SSE_TOKEN, 0, T + MS(10), c, 0, NULL, 0);
		nv.v[TTFT_NUM_PROMPT_TOKENS] = 1672;
		nv.v[TTFT_NUM_COMPLETION_TOKENS] = 47;
		ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(20), c,
		       (int64_t)(1u << TTFT_NUM_COMPLETION_TOKENS |
				 (whole ? 1u << TTFT_NUM_PROMPT_TOKENS
					: TTFT_NUM_F_PROMPT_UNKNOWN)), &nv, sizeof nv);
		ev(TTFT_EV_RESP_END, T + MS(21), 100, c, 0, 100, 1, NULL);
		ttft_log_close(&g_log);
		cJSON *j = analyzed_json();
		cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
		cJSON *p = cJSON_GetObjectItem(r, "prompt_tokens");
		if (whole)
			ck_assert(cJSON_IsNumber(p) && p->valuedouble == 1672);
		else
			ck_assert_msg(cJSON_IsNull(p), "prompt_tokens %g", p ? p->valuedouble : -1);
		cJSON_Delete(j);
		unlink(g_path);
	}
}
END_TEST

/* llama.cpp with n=2 (n_cmpl) on /v1/completions streams each choice as a
 * task of its own, and each task's last event carries its own usage (and
 * timings): {"choices":[{"text":"","index":1,…}],"usage":{
 * "completion_tokens":3,…}}. Its "text" comes before its "index", so the
 * shim flags only that last event of choice 1 (its token events were
 * decided at their text). The row took the last usage for the request's:
 * 3 tokens where the two choices' 6 token events came. A usage count
 * below the events is one choice's: the events are counted. */
START_TEST(several_choices_tokens_are_not_one_tasks_usage)
{
	int64_t T = MS(2000);
	uint64_t c = asked("choices-usage", "POST /v1/completions", T);
	ev_raw(TTFT_EV_RESP_HEADERS, TTFT_F_SSE | TTFT_F_CHUNKED, T + MS(1), c, 200, NULL, 0);
	for (int k = 0; k < 6; k++)
		ev_raw(TTFT_EV_SSE_TOKEN, 0, T + MS(10 + 5 * k), c, 0, NULL, 0);
	struct ttft_rec_numbers nv = {{0}};
	nv.v[TTFT_NUM_PROMPT_TOKENS] = 8;
	nv.v[TTFT_NUM_COMPLETION_TOKENS] = 3;
	for (int i = 0; i < 2; i++) {
		ev_raw(TTFT_EV_SSE_EMPTY, (uint16_t)(TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS |
						     (i ? TTFT_SSE_F_CHOICE : 0)),
		       T + MS(41 + i), c, 0, NULL, 0);
		ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(41 + i), c,
		       1 << TTFT_NUM_PROMPT_TOKENS | 1 << TTFT_NUM_COMPLETION_TOKENS, &nv,
		       sizeof nv);
	}
	ev_raw(TTFT_EV_SSE_DONE, 0, T + MS(43), c, 0, NULL, 0);
	ev(TTFT_EV_RESP_END, T + MS(43), 100, c, 0, 900, 6, NULL);
	ttft_log_close(&g_log);
	cJSON *j = analyzed_json();
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "several_choices")));
	ck_assert_msg(cJSON_GetObjectItem(r, "tokens")->valueint == 6,
		      "one choice's usage given as the request's tokens: %d",
		      cJSON_GetObjectItem(r, "tokens")->valueint);
	cJSON_Delete(j);
	unlink(g_path);
}
END_TEST

/* llama.cpp sends no event for a token that ends inside a UTF-8
 * character (its bytes go out with the next token's event): a stream of
 * emoji or rare CJK has fewer token events than tokens. Its native
 * /completion stream has no usage, but its last event's timings say how
 * many it generated (predicted_n): the row said 3 tokens where the server
 * generated 5, looking normal. Usage, where there is one, still wins;
 * several tasks' timings give no count (the events are counted); a count
 * below the events is not this request's. Found by review reading
 * llama.cpp's process_token (validate_utf8 gates send_partial_response). */
START_TEST(llamacpp_tokens_from_timings_without_usage)
{
	/* predicted_n of each task; usage (-1: none); several tasks; want */
	static const struct {
		uint32_t pred[2];
		int ntasks;
		long usage;
		long want;
		const char *src; /* tokens_source: events are a lower bound */
	} cs[] = {
		{{5, 0}, 1, -1, 5, "timings"},
		{{5, 0}, 1, 4, 4, "usage"},
		{{5, 2}, 2, -1, 3, "events"}, /* several tasks (their prefills differ) */
		{{2, 0}, 1, -1, 3, "events"}, /* below the events: not its count */
	};
	for (size_t k = 0; k < sizeof cs / sizeof *cs; k++) {
		int64_t T = MS(2000);
		uint64_t c = asked("predn", "POST /completion", T);
		ev(TTFT_EV_RESP_HEADERS, T + MS(1), 100, c, 0, 200, 0, NULL);
		for (int i = 0; i < 3; i++)
			ev(TTFT_EV_SSE_TOKEN, T + MS(30 + 10 * i), 100, c, 0, 0, i, NULL);
		for (int t = 0; t < cs[k].ntasks; t++) {
			ev(TTFT_EV_SSE_EMPTY, T + MS(60 + t), 100, c, 0, 0, 0, NULL);
			struct ttft_rec_numbers nv = {{0}};
			uint32_t have = 1 << TTFT_NUM_PROMPT_US | 1 << TTFT_NUM_PROMPT_N |
					1 << TTFT_NUM_CACHE_N | 1 << TTFT_NUM_PREDICTED_N |
					1 << TTFT_NUM_PREDICTED_US;
			nv.v[TTFT_NUM_PROMPT_US] = 8424 + 1000 * (uint32_t)t;
			nv.v[TTFT_NUM_PROMPT_N] = 12;
			nv.v[TTFT_NUM_CACHE_N] = 0;
			nv.v[TTFT_NUM_PREDICTED_N] = cs[k].pred[t];
			nv.v[TTFT_NUM_PREDICTED_US] = 30000;
			if (cs[k].usage >= 0) {
				nv.v[TTFT_NUM_COMPLETION_TOKENS] = (uint32_t)cs[k].usage;
				have |= 1 << TTFT_NUM_COMPLETION_TOKENS;
			}
			ev_raw(TTFT_EV_SERVER_NUMBERS, 0, T + MS(60 + t), c, have, &nv,
			       sizeof nv);
		}
		ev(TTFT_EV_RESP_END, T + MS(91), 100, c, 0, 900, 3, NULL);
		ttft_log_close(&g_log);
		cJSON *j = analyzed_json();
		cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
		cJSON *tk = cJSON_GetObjectItem(r, "tokens");
		ck_assert_msg(cJSON_IsNumber(tk) && tk->valuedouble == cs[k].want,
			      "case %zu: tokens %g, want %ld", k,
			      cJSON_IsNumber(tk) ? tk->valuedouble : -1.0, cs[k].want);
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(r, "tokens_source"));
		ck_assert_msg(src && !strcmp(src, cs[k].src), "case %zu: tokens_source %s, want %s",
			      k, src ? src : "(none)", cs[k].src);
		ck_assert_int_eq(cJSON_GetObjectItem(r, "itl_n")->valueint, 2);
		cJSON_Delete(j);
		unlink(g_path);
	}
}
END_TEST

/* A log (named after TAG) of requests on one connection (returned), a
 * second apart from FIRST_T0: first_token_of writes each one's start. */
#define FIRST_T0 MS(1000)
static uint64_t first_tokens_log(const char *tag)
{
	new_log(tag);
	return ttft_log_new_conn(&g_log);
}

/* Request q of connection c: sent, answered 10 ms on, its first token at
 * +50 ms; the rest of its stream is the caller's. Returns when it began. */
static int64_t first_token_of(uint64_t c, uint32_t q)
{
	int64_t t = FIRST_T0 + MS(1000) * q;
	ev(TTFT_EV_REQ_BEGIN, t, 100, c, q, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, t + MS(1), 100, c, q, 200, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, t + MS(10), 100, c, q, 200, 0, NULL);
	ev(TTFT_EV_SSE_TOKEN, t + MS(50), 100, c, q, 0, 0, NULL);
	return t;
}

/* The log of first_token_of's requests closed and analyzed (then
 * removed): its n rows; returns the first, whose first token is at +50
 * ms. */
static const struct ttft_record *first_tokens_read(struct ttft_analysis *a, uint32_t n)
{
	ttft_log_close(&g_log);
	char err[256];
	/* every token's time kept, as a trace keeps them */
	ck_assert_int_eq(ttft_analyze_file_opt(g_path, NULL, TTFT_ANALYZE_ALL_TOKENS, a, err,
					       sizeof err), 0);
	unlink(g_path);
	ck_assert_uint_eq(a->nreqs, n);
	ck_assert_int_eq(a->reqs[0].t_first, FIRST_T0 + MS(50));
	return &a->reqs[0];
}

/* A record flagged run (log version 4) is read as the token records it
 * stands for: one plain token, a run of 4 and a plain one give 6 tokens,
 * the run's at its time (gaps 0 inside it); a count no record may hold is
 * a writer's fault, read as one token and said in the row's note. */
START_TEST(a_run_record_is_its_tokens)
{
	uint64_t c = first_tokens_log("run");
	const int64_t T = FIRST_T0;
	for (uint32_t q = 0; q < 2; q++) {
		int64_t t = first_token_of(c, q);
		ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
			.kind = TTFT_EV_SSE_TOKEN, .flags = TTFT_F_RUN, .t_ns = t + MS(60),
			.pid = 100, .tid = 100, .fd = 5, .conn = c, .seq = q,
			.a = q ? TTFT_RUN_MAX + 1 : 4, .b = 1}));
		ev(TTFT_EV_SSE_TOKEN, t + MS(100), 100, c, q, 0, q ? 2 : 5, NULL);
		ev(TTFT_EV_RESP_END, t + MS(101), 100, c, q, 999, q ? 3 : 6, NULL);
	}
	struct ttft_analysis a;
	const struct ttft_record *r = first_tokens_read(&a, 2);
	ck_assert_uint_eq(r->ntok, 6);
	for (int k = 1; k < 5; k++)
		ck_assert_int_eq(ttft_record_token_at(r, k), T + MS(60));
	ck_assert_int_eq(ttft_record_token_at(r, 5), T + MS(100));
	/* kept as three times, the run one with its count */
	ck_assert_uint_eq(r->ntime, 3);
	ck_assert_uint_eq(ttft_record_tok_counts(r)[1], 4);
	ck_assert_uint_eq(a.reqs[1].ntok, 3);
	/* the row with the impossible count says so; the other is whole */
	char note[256];
	ck_assert(ttft_record_complete(r));
	ck_assert(!ttft_record_complete(&a.reqs[1]));
	const char *n = ttft_record_note(&a.reqs[1], note, sizeof note);
	ck_assert_ptr_nonnull(n);
	ck_assert_msg(strstr(n, "token count is not known"), "note: %s", n);
	ttft_analysis_free(&a);
}
END_TEST

/* A record of token times (log version 5: TTFT_F_TIMES) is read as the
 * token records it stands for, each at its own time: a plain first token,
 * then 17 tokens in one record, then 3 in another give 21 tokens at
 * exactly the times written, their ITL those of a record a token. A count
 * the text cannot hold (1, TTFT_TIMES_MAX + 1) or a time before the one
 * before it is a writer's fault: that record's first token only, the row
 * says so. */
static void put_times(uint64_t c, uint32_t q, int64_t t0, int64_t a, int64_t b,
		      const uint32_t *d, size_t nd)
{
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = TTFT_EV_SSE_TOKEN, .flags = TTFT_F_TIMES, .t_ns = t0,
		.pid = 100, .tid = 100, .fd = 5, .conn = c, .seq = q, .a = a, .b = b,
		.text = (const char *)d, .text_len = nd * sizeof *d}));
}

START_TEST(a_times_record_is_its_tokens)
{
	uint64_t c = first_tokens_log("times");
	const int64_t T = FIRST_T0;
	for (uint32_t q = 0; q < 4; q++) {
		int64_t t = first_token_of(c, q);
		/* tokens 2-17 at (i-1)*i us + i ns after token 1: gaps that
		 * all differ, to the ns */
		uint32_t d[TTFT_TIMES_MAX - 1];
		for (int i = 2; i <= (int)TTFT_TIMES_MAX; i++)
			d[i - 2] = (uint32_t)((i - 1) * i * 1000 + i);
		if (q == 2)
			d[5] = d[4] - 1; /* a time before the one before */
		put_times(c, q, t + MS(60),
			  q == 1 ? TTFT_TIMES_MAX + 1 : q == 3 ? 1 : TTFT_TIMES_MAX, 1, d,
			  TTFT_TIMES_MAX - 1);
		uint32_t e[2] = {500001, 500001};
		put_times(c, q, t + MS(100), 3, 18, e, 2);
		ev(TTFT_EV_RESP_END, t + MS(101), 100, c, q, 999, 21, NULL);
	}
	struct ttft_analysis a;
	const struct ttft_record *r = first_tokens_read(&a, 4);
	ck_assert_uint_eq(r->ntok, 21);
	double gaps[20];
	int64_t prev = T + MS(50);
	for (int k = 1; k < 21; k++) {
		int64_t want = k <= (int)TTFT_TIMES_MAX
				       ? T + MS(60) + (k == 1 ? 0 : (int64_t)(k - 1) * k * 1000 + k)
				       : T + MS(100) + (k == 18 ? 0 : 500001);
		ck_assert_msg(ttft_record_token_at(r, (uint64_t)k) == want,
			      "token %d at %lld, want %lld", k,
			      (long long)ttft_record_token_at(r, (uint64_t)k), (long long)want);
		gaps[k - 1] = (double)(want - prev) / 1e9;
		prev = want;
	}
	ck_assert_int_eq(ttft_record_itl_n(r), 20);
	double p50 = ttft_percentile(gaps, 20, 0.5);
	ck_assert_msg(r->itl_p50_s == p50, "p50 %.17g, want %.17g", r->itl_p50_s, p50);
	ck_assert(ttft_record_complete(r));
	/* the three faulty records: their first token only, the row said */
	for (size_t i = 1; i < 4; i++) {
		const struct ttft_record *f = &a.reqs[i];
		ck_assert_msg(f->ntok == 1 + 1 + 3, "request %zu: %llu tokens", i,
			      (unsigned long long)f->ntok);
		ck_assert(!ttft_record_complete(f));
		char note[256];
		const char *n = ttft_record_note(f, note, sizeof note);
		ck_assert_msg(n && strstr(n, "token count is not known"), "request %zu: %s", i,
			      n ? n : "(no note)");
	}
	ttft_analysis_free(&a);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RUN_AS_LIMIT 0 /* a sanitizer reserves terabytes of address space */
#else
#define RUN_AS_LIMIT (512ul << 20)
#endif

/* Request 0 of the run log: 200 runs of TTFT_RUN_MAX, 1-3 ms apart. */
static int64_t run_time(int64_t t, int i)
{
	return t + MS(20) + MS(1) * i + MS(1) * (i % 3);
}

/* Request 1's 150 plain tokens, gaps 1-13 ms; a run of 50 joins the 61st. */
static int64_t plain_time(int64_t t, int i)
{
	int64_t at = t + MS(20);
	for (int k = 1; k <= i; k++)
		at += MS(1 + (k * 7) % 13);
	return at;
}

/* The child's checks of request 0 (exit status: which failed). */
static int check_max_runs(const struct ttft_record *r, int64_t t)
{
	if (r->ntok != 200ull << 20 || ttft_record_tokens(r) != 200l << 20)
		return 10;
	if (ttft_record_itl_n(r) != (200l << 20) - 1)
		return 11;
	/* all but 199 of the gaps are the zeros inside the runs */
	if (r->itl_p50_s != 0 || r->itl_p99_s != 0)
		return 12;
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	if (p.decode_s != (double)(run_time(t, 199) - run_time(t, 0)) / 1e9)
		return 13;
	return 0;
}

/* A run record is kept as one time and its count, never a time a token:
 * 200 records of 2^20 tokens (a 30 KB log) analyse within 512 MiB of
 * address space (a time a token took 1.6 GB: out of memory), 200 * 2^20
 * tokens; the ITL percentiles are those of the gaps the tokens make (a 0
 * for each inside a run), bit for bit; the trace draws an instant a
 * time, the run's count in its args. */
START_TEST(token_runs_stay_runs)
{
	new_log("runs");
	uint64_t c = ttft_log_new_conn(&g_log);
	const int64_t T = MS(1000), T1 = MS(5000);
	ev(TTFT_EV_REQ_BEGIN, T, 100, c, 0, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T + MS(1), 100, c, 0, 200, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T + MS(10), 100, c, 0, 200, 0, NULL);
	for (int i = 0; i < 200; i++)
		ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
			.kind = TTFT_EV_SSE_TOKEN, .flags = TTFT_F_RUN, .t_ns = run_time(T, i),
			.pid = 100, .tid = 100, .fd = 5, .conn = c, .seq = 0,
			.a = TTFT_RUN_MAX, .b = i}));
	ev(TTFT_EV_RESP_END, run_time(T, 200), 100, c, 0, 999, 200, NULL);
	ev(TTFT_EV_REQ_BEGIN, T1, 100, c, 1, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, T1 + MS(1), 100, c, 1, 200, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, T1 + MS(10), 100, c, 1, 200, 0, NULL);
	for (int i = 0; i < 150; i++)
		ev(TTFT_EV_SSE_TOKEN, plain_time(T1, i), 100, c, 1, 0, i, NULL);
	ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
		.kind = TTFT_EV_SSE_TOKEN, .flags = TTFT_F_RUN, .t_ns = plain_time(T1, 60),
		.pid = 100, .tid = 100, .fd = 5, .conn = c, .seq = 1, .a = 50, .b = 1000}));
	ev(TTFT_EV_RESP_END, plain_time(T1, 150), 100, c, 1, 999, 200, NULL);
	ttft_log_close(&g_log);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {RUN_AS_LIMIT, RUN_AS_LIMIT};
		if (RUN_AS_LIMIT && setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(2);
		struct ttft_analysis a;
		char err[256];
		if (ttft_analyze_file(g_path, NULL, &a, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(3);
		}
		_exit(a.nreqs != 2 ? 4 : check_max_runs(&a.reqs[0], T));
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child: status %d", st);

	struct ttft_analysis a;
	char err[256];
	/* every time kept, as --trace keeps them */
	ck_assert_int_eq(ttft_analyze_file_opt(g_path, NULL, TTFT_ANALYZE_ALL_TOKENS, &a, err,
					       sizeof err), 0);
	const struct ttft_record *r = &a.reqs[1];
	ck_assert_uint_eq(r->ntok, 200);
	ck_assert_uint_eq(r->ntime, 150);
	ck_assert_int_eq(ttft_record_itl_n(r), 199);
	/* the gaps one by one, as a time a token gave them */
	double gaps[199];
	size_t n = 0;
	for (int i = 1; i < 150; i++) {
		gaps[n++] = (double)(plain_time(T1, i) - plain_time(T1, i - 1)) / 1e9;
		for (int z = 0; i == 61 && z < 50; z++)
			gaps[n++] = 0;
	}
	ck_assert_uint_eq(n, 199);
	double p50 = ttft_percentile(gaps, n, 0.5), p99 = ttft_percentile(gaps, n, 0.99);
	ck_assert_msg(r->itl_p50_s == p50 && r->itl_p99_s == p99, "p50 %.17g (%.17g), "
		      "p99 %.17g (%.17g)", r->itl_p50_s, p50, r->itl_p99_s, p99);
	ck_assert(p50 > 0 && p99 > p50);
	ttft_analysis_free(&a);

	char tr[300], cmd[1024];
	snprintf(tr, sizeof tr, "%s.trace.json", g_path);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --trace %s %s >/dev/null", tu_build_dir(),
		 tr, g_path);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	unlink(g_path);
	char *t = tu_read_file(tr, NULL);
	unlink(tr);
	cJSON *j = cJSON_Parse(t), *e;
	ck_assert_ptr_nonnull(j);
	size_t instants = 0, max_runs = 0, run_of_51 = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "traceEvents")) {
		cJSON *cat = cJSON_GetObjectItem(e, "cat");
		if (!cJSON_IsString(cat) || strcmp(cat->valuestring, "token"))
			continue;
		instants++;
		cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "tokens");
		max_runs += cJSON_IsNumber(k) && k->valuedouble == TTFT_RUN_MAX;
		run_of_51 += cJSON_IsNumber(k) && k->valuedouble == 51;
	}
	ck_assert_uint_eq(instants, 200 + 150);
	ck_assert_uint_eq(max_runs, 200);
	ck_assert_uint_eq(run_of_51, 1);
	cJSON_Delete(j);
	free(t);
}
END_TEST

/* A log's instants go onto the wall clock through its header's anchor
 * pair; a damaged header or record may hold anything: a sum that does not
 * fit is no time (NAN; '-' in the table, which says why), never a wrapped
 * one. */
/* The rows' JSON of g_path analysed with opts (ttft_analyze_file_opt),
 * the analysis kept in a. */
static char *json_with(unsigned opts, struct ttft_analysis *a)
{
	char err[256], *out = NULL;
	size_t len = 0;
	ck_assert_int_eq(ttft_analyze_file_opt(g_path, NULL, opts, a, err, sizeof err), 0);
	FILE *f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, f, 0), 0);
	ttft_analysis_json(&j, a);
	ck_assert_int_eq(ttft_json_flush(&j), 0);
	ttft_json_free(&j);
	fclose(f);
	return out;
}

/* A streamed request on connection c (seq q) beginning at t: ntok token
 * events whose gaps are gap(i) ms (0: the same instant, a run of zero
 * gaps), the first a run record of first_run tokens when that is 2 or
 * more, then its end. Returns its end's time. */
static int64_t stream_req(uint64_t c, uint32_t q, int64_t t, int ntok, int first_run,
			  int (*gap)(int))
{
	ev(TTFT_EV_REQ_BEGIN, t, 100, c, q, 0, 0, "POST /v1/completions");
	ev(TTFT_EV_REQ_SENT, t, 100, c, q, 100, 0, NULL);
	ev(TTFT_EV_RESP_HEADERS, t + MS(1), 100, c, q, 200, 0, NULL);
	int64_t at = t + MS(5);
	if (first_run >= 2)
		ck_assert(ttft_log_put(&g_log, &(struct ttft_event){
			.kind = TTFT_EV_SSE_TOKEN, .flags = TTFT_F_RUN, .t_ns = at, .pid = 100,
			.tid = 100, .fd = 5, .conn = c, .seq = q, .a = first_run}));
	else
		ev(TTFT_EV_SSE_TOKEN, at, 100, c, q, 0, 0, NULL);
	for (int i = 1; i < ntok; i++) {
		at += MS(gap(i)) + (gap(i) ? i * 1000 : 0); /* distinct gaps */
		ev(TTFT_EV_SSE_TOKEN, at, 100, c, q, 0, i, NULL);
	}
	ev(TTFT_EV_RESP_END, at + MS(1), 100, c, q, 500, ntok, NULL);
	return at + MS(1);
}

static int gap_mixed(int i) { return (i * 37) % 11; }
static int gap_one(int i) { (void)i; return 1; }

/* A request's token times between its first and last are given back as
 * its response ends (ttft_record_settle: a stream log's rows in half the
 * memory): every row, its ITL and the summary the same, byte for byte,
 * as with every time kept (TTFT_ANALYZE_ALL_TOKENS, --trace's), for
 * streams of mixed gaps, runs of one instant, a run record first, 150
 * gaps (p99), two requests on one connection, a choice other than 0 shown
 * after the end, and 2 tokens (inline: nothing to give back). A token
 * event after its request's end leaves the gaps unknown there: no ITL,
 * never one from the two times kept. */
START_TEST(settled_tokens_give_the_rows_of_all_tokens)
{
	new_log("analyze-settle");
	int64_t t = MS(1000);
	uint64_t c1 = ttft_log_new_conn(&g_log), c2 = ttft_log_new_conn(&g_log),
		 c3 = ttft_log_new_conn(&g_log), c4 = ttft_log_new_conn(&g_log),
		 c5 = ttft_log_new_conn(&g_log);
	int64_t e = stream_req(c1, 0, t, 40, 0, gap_mixed);
	stream_req(c1, 1, e + MS(2), 33, 3, gap_mixed); /* keep-alive; a run first */
	stream_req(c2, 0, t + MS(3), 151, 0, gap_one);  /* 150 gaps: a p99 */
	stream_req(c3, 0, t + MS(7), 2, 0, gap_one);    /* inline */
	e = stream_req(c4, 0, t + MS(9), 20, 0, gap_mixed);
	ev_raw(TTFT_EV_SSE_DONE, TTFT_SSE_F_CHOICE, e + MS(1), c4, 0, NULL, 0);
	stream_req(c5, 0, t + MS(11), 25, 2, gap_mixed);
	ttft_log_close(&g_log);

	struct ttft_analysis a, b;
	char *settled = json_with(0, &a), *all = json_with(TTFT_ANALYZE_ALL_TOKENS, &b);
	ck_assert_str_eq(settled, all);
	ck_assert_uint_eq(a.nreqs, 6);
	ck_assert_uint_eq(b.nreqs, 6);
	int settled_n = 0;
	for (size_t i = 0; i < a.nreqs; i++) {
		const struct ttft_record *x = &a.reqs[i], *y = &b.reqs[i];
		ck_assert_uint_eq(x->ntok, y->ntok);
		ck_assert(!y->tokens_settled);
		if (y->ntime <= TTFT_TOK_INLINE) {
			ck_assert(!x->tokens_settled); /* nothing to give back */
			continue;
		}
		/* given back: the first and the last time kept, and the counts */
		ck_assert_msg(x->tokens_settled && x->timecap == 0 && x->ntime == 2,
			      "request %zu: settled %d, timecap %u, ntime %u", i,
			      x->tokens_settled, x->timecap, x->ntime);
		ck_assert(ttft_record_tok_times(x)[0] == ttft_record_tok_times(y)[0]);
		ck_assert(ttft_record_last_token(x) == ttft_record_last_token(y));
		ck_assert_uint_eq(ttft_record_tok_counts(x)[0], ttft_record_tok_counts(y)[0]);
		ck_assert(x->itl_p50_s == y->itl_p50_s || (isnan(x->itl_p50_s) && x->several_choices));
		/* a token's time: the first time's and the last token's as
		 * kept whole, the others' not known (0), never the last's in
		 * their place (an e2e check of each token against the server's
		 * went on passing with it) */
		uint32_t n0 = ttft_record_tok_counts(x)[0];
		for (uint64_t k = 0; k < x->ntok; k++) {
			int64_t got = ttft_record_token_at(x, k);
			int64_t want = k < n0 || k + 1 == x->ntok ? ttft_record_token_at(y, k) : 0;
			ck_assert_msg(got == want, "request %zu, token %llu: %lld, want %lld", i,
				      (unsigned long long)k, (long long)got, (long long)want);
		}
		settled_n++;
	}
	ck_assert_int_eq(settled_n, 5);
	/* the request of 150 gaps has its p99, the one shown to be of
	 * several choices after its end none */
	int p99 = 0, several = 0;
	for (size_t i = 0; i < a.nreqs; i++) {
		p99 += !isnan(a.reqs[i].itl_p99_s);
		if (a.reqs[i].several_choices) {
			several++;
			ck_assert(isnan(a.reqs[i].itl_p50_s));
		}
	}
	ck_assert_int_eq(p99, 1);
	ck_assert_int_eq(several, 1);
	free(settled);
	free(all);
	ttft_analysis_free(&a);
	ttft_analysis_free(&b);
	unlink(g_path);

	/* a token event after its request's end */
	new_log("analyze-settle-late");
	uint64_t c = ttft_log_new_conn(&g_log);
	e = stream_req(c, 0, t, 10, 0, gap_mixed);
	ev(TTFT_EV_SSE_TOKEN, e + MS(3), 100, c, 0, 0, 11, NULL);
	ttft_log_close(&g_log);
	settled = json_with(0, &a);
	all = json_with(TTFT_ANALYZE_ALL_TOKENS, &b);
	ck_assert(a.reqs[0].tokens_late && a.reqs[0].ntok == 11 && b.reqs[0].ntok == 11);
	ck_assert(isnan(a.reqs[0].itl_p50_s) && !isnan(b.reqs[0].itl_p50_s));
	ck_assert_int_eq(ttft_record_itl_n(&a.reqs[0]), -1);
	ck_assert_int_eq(ttft_record_itl_n(&b.reqs[0]), 10);
	ck_assert_msg(strstr(settled, "\"itl_n\":null,\"itl_p50_s\":null,\"itl_p99_s\":null") &&
		      strstr(settled, "after its response's end") &&
		      !strstr(all, "after its response's end"), "%s", settled);
	ck_assert(ttft_record_last_token(&a.reqs[0]) == ttft_record_last_token(&b.reqs[0]));
	free(settled);
	free(all);
	ttft_analysis_free(&a);
	ttft_analysis_free(&b);
	unlink(g_path);
}
END_TEST

/* ttft-analyze --trace draws every token time (an instant each), though
 * its rows settle their tokens: 40 token events at 37 distinct times
 * (gap_mixed's zeros are runs of one instant) are 37 instants of 40
 * tokens in the trace, and the row's JSON is that of a run without it. */
START_TEST(a_trace_keeps_every_token_time)
{
	new_log("analyze-trace-tokens");
	uint64_t c = ttft_log_new_conn(&g_log);
	stream_req(c, 0, MS(1000), 40, 0, gap_mixed);
	ttft_log_close(&g_log);
	char tr[300], cmd[1024], *rows, *rows_traced;
	snprintf(tr, sizeof tr, "%s.trace.json", g_path);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &rows), 0);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json --trace %s %s", tu_build_dir(), tr,
		 g_path);
	ck_assert_int_eq(tu_sh(cmd, &rows_traced), 0);
	ck_assert_str_eq(rows, rows_traced);
	char *t = tu_read_file(tr, NULL);
	unlink(tr);
	unlink(g_path);
	ck_assert_ptr_nonnull(t);
	cJSON *j = cJSON_Parse(t), *e;
	ck_assert_ptr_nonnull(j);
	int instants = 0, tokens = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "traceEvents")) {
		cJSON *cat = cJSON_GetObjectItem(e, "cat");
		if (!cJSON_IsString(cat) || strcmp(cat->valuestring, "token"))
			continue;
		instants++;
		cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "tokens");
		tokens += cJSON_IsNumber(n) ? n->valueint : 1;
	}
	int distinct = 1;
	for (int i = 1; i < 40; i++)
		distinct += gap_mixed(i) != 0;
	ck_assert_int_eq(distinct, 37);
	ck_assert_int_eq(instants, distinct);
	ck_assert_int_eq(tokens, 40);
	cJSON_Delete(j);
	free(t);
	free(rows);
	free(rows_traced);
}
END_TEST

START_TEST(unix_s_does_not_wrap)
{
	const int64_t t0 = INT64_C(1700000000) * 1000000000;
	struct ttft_analysis a;
	memset(&a, 0, sizeof a);
	a.anchor_mono_ns = MS(1000);
	a.anchor_real_ns = t0;
	NEAR(ttft_analysis_unix_s(&a, MS(3000)), 1700000002.0);
	ck_assert(isnan(ttft_analysis_unix_s(&a, INT64_MAX))); /* a damaged record */
	ck_assert(isnan(ttft_analysis_unix_s(&a, 0))); /* 0: not known */
	a.anchor_mono_ns = INT64_MIN + 5; /* a damaged header: t - mono */
	ck_assert(isnan(ttft_analysis_unix_s(&a, MS(3000))));
	a.anchor_mono_ns = MS(1000);
	a.anchor_real_ns = INT64_MAX - MS(500); /* + real */
	ck_assert(isnan(ttft_analysis_unix_s(&a, MS(3000))));
	a.anchor_real_ns = INT64_MIN + MS(500);
	ck_assert(isnan(ttft_analysis_unix_s(&a, 1)));
	/* an anchor never read (0) or damaged (before 1970): no time, not
	 * 1970 (a review's repro: start_unix_s 1 and -4) */
	a.anchor_real_ns = 0;
	ck_assert(isnan(ttft_analysis_unix_s(&a, MS(3000))));
	a.anchor_real_ns = -MS(5000);
	ck_assert(isnan(ttft_analysis_unix_s(&a, MS(3000))));
	a.anchor_real_ns = MS(100); /* real, but the instant lands before 1970 */
	ck_assert(isnan(ttft_analysis_unix_s(&a, MS(500))));

	/* the table: '-', and why */
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.pid = 7, r.conn = 1, r.status = 200;
	r.t_start = r.t_req0 = MS(3000), r.t_req1 = MS(3001), r.t_hdr = MS(3010);
	r.t_end = MS(3100);
	a.anchor_real_ns = INT64_MAX - MS(500);
	a.reqs = &r;
	a.nreqs = 1;
	char *out = NULL, want[64];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ttft_print_table(f, &a);
	fclose(f);
	snprintf(want, sizeof want, "%s %17s ", "3.000000", "-");
	ck_assert_msg(strstr(out, want), "%s", out);
	ck_assert_msg(strstr(out, "start_unix_s '-': its start does not fit on the wall clock"),
		      "%s", out);
	free(out);
	a.anchor_real_ns = t0; /* fits: no such line */
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ttft_print_table(f, &a);
	fclose(f);
	ck_assert_msg(strstr(out, " 1700000002.000000 ") && !strstr(out, "does not fit"), "%s",
		      out);
	free(out);
	ttft_record_free(&r);
}
END_TEST

/* The table cuts a path at 24 characters, never inside one (byte-wise,
 * '/v1/модели/…' had printed as '/v1/модели/мод\xd0': not UTF-8, the row
 * a column short), and a value wider than its column (a 150 s decode:
 * 150000.000 in 9) with fewer decimals: every column stays where its
 * header is. */
START_TEST(table_columns_stay_aligned)
{
	struct ttft_analysis a;
	memset(&a, 0, sizeof a);
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	static int64_t tok[] = {MS(3020), MS(153020)};
	r.pid = 7, r.conn = 1, r.status = 200;
	snprintf(r.method, sizeof r.method, "POST");
	snprintf(r.path, sizeof r.path, "/v1/модели/модели/модели/модели");
	r.t_start = r.t_req0 = MS(3000), r.t_req1 = MS(3001), r.t_hdr = MS(3010);
	r.t_end = MS(153030), r.t_first = tok[0];
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(ttft_record_add_token(&r, tok[k]), 0);
	a.reqs = &r;
	a.nreqs = 1;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ttft_print_table(f, &a);
	fclose(f);
	ck_assert_msg(tu_utf8(out), "%s", out);
	ck_assert_msg(strstr(out, " /v1/модели/модели/модели    200"), "%s", out);
	ck_assert_msg(strstr(out, " 150000.00 "), "%s", out);
	/* the row's columns under the header's */
	ck_assert_int_eq(tu_column_after(out, " 200"), tu_column_after(out, "status"));
	ck_assert_int_eq(tu_column_after(out, " 150000.00"), tu_column_after(out, "decode_ms"));
	ck_assert_int_eq(tu_column_after(out, " 150030.00"), tu_column_after(out, "e2e_ms"));
	free(out);
	ttft_record_free(&r);
}
END_TEST

/* The table's dropped line: the log's two counters are separate atomics
 * (a writer counts unwritable, then dropped), so a live or damaged header
 * can hold more unwritable than dropped: the line says no room, with the
 * larger count, never a full log of 2^64 - n events (the line once
 * subtracted the two). */
START_TEST(dropped_line_with_more_unwritable_than_dropped)
{
	struct ttft_analysis a;
	uint64_t cases[][2] = {{0, 3}, {2, 3}, {5, 2}, {4, 0}};
	const char *want[] = {"dropped: 3 events (no room to write them)",
			      "dropped: 3 events (no room to write them)",
			      "dropped: 5 events (3 the log was full, 2 no room to write)",
			      "dropped: 4 events (the log was full)"};
	for (int i = 0; i < 4; i++) {
		memset(&a, 0, sizeof a);
		a.dropped = cases[i][0];
		a.unwritable = cases[i][1];
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		ck_assert_ptr_nonnull(f);
		ttft_print_table(f, &a);
		fclose(f);
		ck_assert_msg(strstr(out, want[i]), "case %d: %s", i, out);
		free(out);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("analyze");
	TCase *t = tu_tcase(s, "analyze", 120);
	tcase_add_test(t, phases_are_exact);
	tcase_add_test(t, a_run_record_is_its_tokens);
	tcase_add_test(t, a_times_record_is_its_tokens);
	tcase_add_test(t, token_runs_stay_runs);
	tcase_add_test(t, json_shape);
	tcase_add_test(t, tls_rows);
	tcase_add_test(t, percentiles);
	tcase_add_test(t, request_lines_split_into_method_and_path);
	tcase_add_test(t, summary_sorts_like_a_stable_sort);
	tcase_add_test(t, tail_percentiles_need_enough_requests);
	tcase_add_test(t, itl_p99_needs_100_gaps);
	tcase_add_test(t, settled_tokens_give_the_rows_of_all_tokens);
	tcase_add_test(t, a_trace_keeps_every_token_time);
	tcase_add_test(t, usage_errors);
	tcase_add_test(t, one_connection_100k_requests);
	tcase_add_test(t, dns_goes_to_the_connect_that_used_it);
	tcase_add_test(t, far_out_of_order_log_sorts_in_memory);
	tcase_add_test(t, interim_records_come_in_wire_order);
	tcase_add_test(t, stream_numbers_and_traceparent_per_request);
	tcase_add_test(t, timings_of_several_prompts_are_not_one_split);
	tcase_add_test(t, llamacpp_progress_timings_are_not_several_tasks);
	tcase_add_test(t, several_tasks_prompt_counts_are_not_the_requests);
	tcase_add_test(t, several_choices_get_no_split_and_say_why);
	tcase_add_test(t, several_choices_keep_their_prefills_from_neighbours);
	tcase_add_test(t, several_choices_tokens_are_not_one_tasks_usage);
	tcase_add_test(t, a_prompt_said_anew_but_not_whole_is_null);
	tcase_add_test(t, several_choices_cut_short_keep_no_timings);
	tcase_add_test(t, stream_closed_early_says_why_no_split);
	tcase_add_test(t, failed_scrapes_say_their_reason);
	tcase_add_test(t, llamacpp_tokens_from_timings_without_usage);
	tcase_add_test(t, unix_s_does_not_wrap);
	tcase_add_test(t, table_columns_stay_aligned);
	tcase_add_test(t, dropped_line_with_more_unwritable_than_dropped);
	return tu_run(s);
}
