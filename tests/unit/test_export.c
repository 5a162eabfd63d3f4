/* test_export.c — the exporter's numbers and text (ttft_export.c): every
 * request lands in the right buckets (cumulative, +Inf = count, exact
 * sums), the server's split only with a source, the label sets bounded
 * (folded into peer="other",path="other" and counted), paths normalised,
 * label values escaped, counters named per format, exemplars only in
 * OpenMetrics, the page read back by the Prometheus parser. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ttft_export.h"
#include "ttft_http.h"
#include "ttft_prom.h"

#define MS(x) ((int64_t)((x) * 1000000.0))

static void req(struct ttft_record *r, const char *path, int status, double ttft_ms,
		double e2e_ms, int ntok)
{
	ttft_record_init(r, TTFT_ORIGIN_LOG);
	snprintf(r->method, sizeof r->method, "POST");
	snprintf(r->path, sizeof r->path, "%s", path);
	r->status = status;
	r->t_start = MS(1000);
	r->t_req0 = r->t_start;
	r->t_req1 = r->t_start + MS(0.5);
	for (int k = 0; k < ntok; k++)
		ck_assert_int_eq(ttft_record_add_token(r, MS(1000 + ttft_ms + 10 * k)), 0);
	r->t_end = MS(1000 + e2e_ms);
}

/* The value of the sample name{labels} on a page, via the project's own
 * Prometheus parser; NAN when absent. */
static double sample(const char *page, const char *name, const char *labels)
{
	struct ttft_prom p;
	char err[128];
	ck_assert_int_ge(ttft_prom_parse(page, strlen(page), &p, err, sizeof err), 0);
	ck_assert_uint_eq(p.bad_lines, 0);
	double v = NAN;
	for (size_t i = 0; i < p.n; i++)
		if (!strcmp(p.s[i].name, name) && !strcmp(p.s[i].labels, labels))
			v = p.s[i].value;
	ttft_prom_free(&p);
	return v;
}

#define L(peer, path, src, st) "peer=\"" peer "\",path=\"" path "\",split_source=\"" src "\",status=\"" st "\""

/* The tokens a row counted as events (no usage in its stream: one event
 * can carry several tokens) are a lower bound: the counter of all output
 * tokens says how many of it are such, in a counter of its own with the
 * same labels, 0 where every row had the server's count; a row whose
 * tokens are not known adds to neither. */
START_TEST(tokens_from_events_counted_apart)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 40, 90, 3); /* events: 3 */
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/completions", 200, 40, 90, 3);
	r.usage_tokens = 12; /* the server's usage: 12 */
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/completions", 200, 40, 90, 3);
	r.compressed = 1; /* not known */
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/chat/completions", 200, 40, 90, 2);
	r.usage_tokens = 7;
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	size_t len;
	struct ttft_export_log log = {0};
	for (int om = 0; om < 2; om++) {
		char *page = ttft_export_render(&x, &log, om, &len);
		ck_assert_ptr_nonnull(page);
		const char *a = L("10.1.2.3:8000", "/v1/completions", "none", "200");
		const char *b = L("10.1.2.3:8000", "/v1/chat/completions", "none", "200");
		ck_assert(sample(page, "ttftshim_output_tokens_total", a) == 15);
		ck_assert(sample(page, "ttftshim_output_tokens_from_events_total", a) == 3);
		ck_assert(sample(page, "ttftshim_output_tokens_total", b) == 7);
		ck_assert(sample(page, "ttftshim_output_tokens_from_events_total", b) == 0);
		ck_assert_ptr_nonnull(strstr(page, om ? "# TYPE ttftshim_output_tokens_from_events "
						  "counter\n"
						: "# TYPE ttftshim_output_tokens_from_events_total "
						  "counter\n"));
		free(page);
	}
	ttft_export_free(&x);
}
END_TEST

START_TEST(buckets_sums_and_counters)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	double ttfts[] = {0.7, 3, 40, 40, 99, 120, 2500, 70000};
	for (int i = 0; i < 8; i++) {
		struct ttft_record r;
		req(&r, "/v1/completions", 200, ttfts[i], ttfts[i] + 50, 3);
		ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
		ttft_record_free(&r);
	}
	struct ttft_export_log log = {1234, 2, 3, 4, 5, 6, TTFT_EXPORT_LOG_UP, 7, 9, 11};
	size_t len;
	char *page = ttft_export_render(&x, &log, 0, &len);
	ck_assert_ptr_nonnull(page);
	ck_assert_uint_eq(len, strlen(page));
	const char *lb = L("10.1.2.3:8000", "/v1/completions", "none", "200");
	char k[256];
	/* cumulative counts at each bound; +Inf holds them all */
	struct {
		const char *le;
		double n;
	} want[] = {{"0.001", 1}, {"0.0025", 1}, {"0.005", 2}, {"0.05", 4}, {"0.1", 5},
		    {"0.15", 6}, {"2.0", 6}, {"3.0", 7}, {"60.0", 7}, {"+Inf", 8}};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(k, sizeof k, "%s,le=\"%s\"", lb, want[i].le);
		ck_assert_msg(sample(page, "ttftshim_ttft_seconds_bucket", k) == want[i].n,
			      "le %s: %g", want[i].le, sample(page, "ttftshim_ttft_seconds_bucket", k));
	}
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", lb) == 8);
	double sum = 0;
	for (int i = 0; i < 8; i++)
		sum += (double)MS(ttfts[i]) / 1e9;
	ck_assert(fabs(sample(page, "ttftshim_ttft_seconds_sum", lb) - sum) < 1e-12);
	/* no split: no queue, prefill or other */
	ck_assert_ptr_null(strstr(page, "ttftshim_queue_seconds_count"));
	snprintf(k, sizeof k, "%s,outcome=\"ok\"", lb);
	ck_assert(sample(page, "ttftshim_requests_total", k) == 8);
	ck_assert(sample(page, "ttftshim_output_tokens_total", lb) == 24);
	/* no usage: all 24 are token events counted, a lower bound */
	ck_assert(sample(page, "ttftshim_output_tokens_from_events_total", lb) == 24);
	ck_assert(sample(page, "ttftshim_records_total", "") == 1234);
	ck_assert(sample(page, "ttftshim_late_records_total", "") == 2);
	ck_assert(sample(page, "ttftshim_unreadable_records_total", "reason=\"unpublished\"") == 3);
	ck_assert(sample(page, "ttftshim_unreadable_records_total", "reason=\"damaged\"") == 4);
	ck_assert(sample(page, "ttftshim_dropped_records_total", "") == 5);
	ck_assert(sample(page, "ttftshim_requests_in_flight", "") == 6);
	ck_assert(sample(page, "ttftshim_log_replacements_total", "") == 7);
	ck_assert(sample(page, "ttftshim_log_rereads_total", "") == 9);
	ck_assert(sample(page, "ttftshim_log_refills_total", "") == 11);
	/* Prometheus text: counters' families keep _total; no EOF */
	ck_assert_ptr_nonnull(strstr(page, "# TYPE ttftshim_requests_total counter\n"));
	ck_assert_ptr_null(strstr(page, "# EOF"));
	free(page);
	/* OpenMetrics: the family without _total, the samples with it, EOF last */
	page = ttft_export_render(&x, &log, 1, &len);
	ck_assert_ptr_nonnull(strstr(page, "# TYPE ttftshim_requests counter\n"));
	ck_assert_ptr_nonnull(strstr(page, "\nttftshim_requests_total{"));
	ck_assert_str_eq(page + len - 6, "# EOF\n");
	free(page);
	ck_assert_str_eq(ttft_export_content_type(1),
			 "application/openmetrics-text; version=1.0.0; charset=utf-8");
	ck_assert_str_eq(ttft_export_content_type(0), "text/plain; version=0.0.4; charset=utf-8");
	ttft_export_free(&x);
}
END_TEST

START_TEST(split_and_outcomes)
{
	char k5[256];
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/chat/completions", 200, 80, 200, 4);
	struct ttft_server_split *sp = ttft_record_split_rw(&r);
	ck_assert_ptr_nonnull(sp);
	sp->source = TTFT_SPLIT_VLLM_METRICS;
	sp->queue_s = 0.025;
	sp->prefill_s = 0.040;
	ck_assert_int_eq(ttft_export_request(&x, &r, "h:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/chat/completions", 200, 80, 200, 4);
	r.sse_error = 1;
	ck_assert_int_eq(ttft_export_request(&x, &r, "h:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/chat/completions", 0, 0, 0, 0);
	r.t_end = 0;
	ck_assert_int_eq(ttft_export_request(&x, &r, NULL, 0, NULL, 0), 0);
	ttft_record_free(&r);
	/* a response whose request was not seen (framing lost): never ok, no
	 * path, nothing observed (a review found it counted ok on "/") */
	req(&r, "", 404, 80, 200, 0);
	r.request_unseen = 1;
	ck_assert_int_eq(ttft_export_request(&x, &r, "h:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	/* the server closed before a byte of its answer: its own outcome,
	 * not the truncated body's (nor the client's early close) */
	req(&r, "/v1/models", 0, 0, 0, 0);
	r.end_flags = TTFT_F_TRUNCATED | TTFT_F_NO_ANSWER;
	ck_assert_int_eq(ttft_export_request(&x, &r, "h:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	/* the server answered with an error: a failure, not ok (a review
	 * found a 5xx storm counted ok), its e2e under its status */
	for (int i = 0; i < 3; i++) {
		req(&r, "/v1/completions", i ? 500 : 429, 0, 30, 0);
		ck_assert_int_eq(ttft_export_request(&x, &r, "h:1", 1, NULL, 0), 0);
		ttft_record_free(&r);
	}
	struct ttft_export_log log = {0};
	size_t len;
	char *page = ttft_export_render(&x, &log, 0, &len);
	const char *l5 = L("h:1", "/v1/completions", "none", "500");
	snprintf(k5, sizeof k5, "%s,outcome=\"http_error\"", l5);
	ck_assert(sample(page, "ttftshim_requests_total", k5) == 2);
	snprintf(k5, sizeof k5, "%s,outcome=\"http_error\"", L("h:1", "/v1/completions", "none", "429"));
	ck_assert(sample(page, "ttftshim_requests_total", k5) == 1);
	ck_assert_ptr_null(strstr(page, "status=\"500\",outcome=\"ok\""));
	ck_assert(sample(page, "ttftshim_e2e_seconds_count", l5) == 2);
	ck_assert(isnan(sample(page, "ttftshim_ttft_seconds_count", l5)));
	const char *ls = L("h:1", "/v1/chat/completions", "vllm-metrics", "200");
	ck_assert(sample(page, "ttftshim_queue_seconds_count", ls) == 1);
	ck_assert_double_eq_tol(sample(page, "ttftshim_queue_seconds_sum", ls), 0.025, 1e-15);
	ck_assert_double_eq_tol(sample(page, "ttftshim_prefill_seconds_sum", ls), 0.040, 1e-15);
	/* other = (first token − last byte sent) − queue − prefill */
	ck_assert(fabs(sample(page, "ttftshim_server_other_seconds_sum", ls) -
		       (0.0795 - 0.065)) < 1e-12);
	char k[256];
	snprintf(k, sizeof k, "%s,outcome=\"error_event\"",
		 L("h:1", "/v1/chat/completions", "none", "200"));
	ck_assert(sample(page, "ttftshim_requests_total", k) == 1);
	/* still open at the end: no response, its connect not in the log */
	snprintf(k, sizeof k, "%s,outcome=\"incomplete\"",
		 L("unknown", "/v1/chat/completions", "none", "none"));
	ck_assert(sample(page, "ttftshim_requests_total", k) == 1);
	/* what the analyzer puts in its notes: TLS not read, a failed connect */
	ck_assert_int_eq(ttft_export_desync(&x, "h:1", TTFT_EXPORT_ENCRYPTED), 0);
	/* the sniffer's reason past the exporter's own */
	ck_assert_int_eq(ttft_export_desync(&x, "h:1", TTFT_DESYNC_BAD_LENGTH), 0);
	ck_assert_int_eq(ttft_export_connect_failed(&x, "h:2"), 0);
	ck_assert_int_eq(ttft_export_connect_failed(&x, "h:2"), 0);
	free(page);
	page = ttft_export_render(&x, &log, 0, &len);
	ck_assert(sample(page, "ttftshim_desyncs_total", "peer=\"h:1\",reason=\"encrypted\"") == 1);
	ck_assert(sample(page, "ttftshim_desyncs_total", "peer=\"h:1\",reason=\"bad_length\"") == 1);
	ck_assert(sample(page, "ttftshim_connect_failures_total", "peer=\"h:2\"") == 2);
	/* a log not read is said, not shown as an idle one */
	ck_assert(sample(page, "ttftshim_log_up", "") == 0);
	free(page);
	log.state = TTFT_EXPORT_LOG_UP;
	page = ttft_export_render(&x, &log, 0, &len);
	ck_assert(sample(page, "ttftshim_log_up", "") == 1);
	log.state = TTFT_EXPORT_LOG_CUT;
	free(page);
	page = ttft_export_render(&x, &log, 0, &len);
	ck_assert(sample(page, "ttftshim_log_up", "") == 0);
	const char *un = L("h:1", "unknown", "none", "404");
	snprintf(k, sizeof k, "%s,outcome=\"unseen\"", un);
	ck_assert(sample(page, "ttftshim_requests_total", k) == 1);
	ck_assert(isnan(sample(page, "ttftshim_ttft_seconds_count", un)));
	ck_assert_ptr_null(strstr(page, "path=\"/\""));
	snprintf(k, sizeof k, "%s,outcome=\"no_answer\"", L("h:1", "/v1/models", "none", "none"));
	ck_assert(sample(page, "ttftshim_requests_total", k) == 1);
	ck_assert_ptr_null(strstr(page, "outcome=\"truncated\""));
	free(page);
	ttft_export_free(&x);
}
END_TEST

START_TEST(label_sets_are_bounded)
{
	struct ttft_export x;
	ttft_export_init(&x, 2);
	const char *paths[] = {"/a", "/b", "/c", "/d", "/a"};
	int status[] = {200, 200, 503, 200, 200};
	for (int i = 0; i < 5; i++) {
		struct ttft_record r;
		req(&r, paths[i], status[i], 10, 20, 1);
		ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, NULL, 0), 0);
		ttft_record_free(&r);
	}
	ck_assert_uint_eq(x.n, 4); /* /a, /b, and two folded sets */
	struct ttft_export_log log = {0};
	size_t len;
	char *page = ttft_export_render(&x, &log, 0, &len);
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", L("p:1", "/a", "none", "200")) == 2);
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", L("other", "other", "none", "5xx")) == 1);
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", L("other", "other", "none", "2xx")) == 1);
	ck_assert(sample(page, "ttftshim_label_overflow_total", "") == 2);
	free(page);
	/* desyncs keep a bounded number of peers too */
	for (int i = 0; i < TTFT_EXPORT_MAX_PEERS + 10; i++) {
		char peer[32];
		snprintf(peer, sizeof peer, "10.0.%d.%d:80", i / 250, i % 250);
		ck_assert_int_eq(ttft_export_desync(&x, peer, 1), 0);
	}
	ck_assert_uint_eq(x.nd, TTFT_EXPORT_MAX_PEERS + 1);
	page = ttft_export_render(&x, &log, 0, &len);
	ck_assert(sample(page, "ttftshim_desyncs_total", "peer=\"other\",reason=\"not_http\"") == 10);
	free(page);
	ttft_export_free(&x);
}
END_TEST

START_TEST(paths_are_normalised)
{
	struct {
		const char *in, *out;
	} c[] = {
		{"/v1/completions", "/v1/completions"},
		{"/v1/completions?x=1&y=2", "/v1/completions"},
		{"/v1/models/42", "/v1/models/:id"},
		{"/v1/files/file-abc", "/v1/files/file-abc"},
		{"/v1/batches/0123abcd89ef/cancel", "/v1/batches/:id/cancel"},
		{"/t/123e4567-e89b-12d3-a456-426614174000#frag", "/t/:id"},
		{"/deadbeef", "/deadbeef"}, /* hex letters only: a word */
		{"", "/"},
		{"/\x01\xc3\xa9", "/__\x5f"},
		/* absolute-form (through a proxy): the path, as --path reads it */
		{"http://vllm:8000/v1/completions", "/v1/completions"},
		{"https://h/v1/models/42?x=/y", "/v1/models/:id"},
		{"http://vllm:8000", "/"},
		{"http://h?x=/v1/completions", "/"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char out[64];
		ttft_export_path(out, sizeof out, c[i].in);
		ck_assert_str_eq(out, c[i].out);
	}
	/* a label value keeps its quotes and backslashes, escaped */
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/a\"b\\c", 200, 10, 20, 1);
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	struct ttft_export_log log = {0};
	size_t len;
	char *page = ttft_export_render(&x, &log, 0, &len);
	ck_assert_ptr_nonnull(strstr(page, "path=\"/a\\\"b\\\\c\""));
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", L("p:1", "/a\"b\\c", "none", "200")) == 1);
	free(page);
	ttft_export_free(&x);
}
END_TEST

/* HELP text as both formats read it: OpenMetrics wants a quote there
 * escaped, Prometheus text would keep the backslash, so a HELP line holds
 * neither a quote nor a backslash (one held peer="other", unescaped, a
 * review found). */
START_TEST(help_text_needs_no_escapes)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 10, 20, 1);
	ttft_record_split_rw(&r)->source = TTFT_SPLIT_VLLM_METRICS;
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, NULL, 0), 0);
	ttft_record_free(&r);
	struct ttft_export_log log = {0};
	for (int om = 0; om < 2; om++) {
		size_t len, helps = 0;
		char *page = ttft_export_render(&x, &log, om, &len);
		for (const char *l = page; (l = strstr(l, "# HELP ")); l++) {
			size_t n = strcspn(l, "\n");
			ck_assert_msg(!memchr(l, '"', n) && !memchr(l, '\\', n), "%.*s", (int)n, l);
			helps++;
		}
		ck_assert_uint_ge(helps, 15);
		free(page);
	}
	ttft_export_free(&x);
}
END_TEST

START_TEST(exemplars_only_in_openmetrics)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 42, 60, 2);
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, "4bf92f3577b34da6a3ce929d0e0e4736",
					     1764369600.5), 0);
	ttft_record_free(&r);
	/* a trace id that is not hex is not written into the page */
	req(&r, "/v1/completions", 200, 2, 60, 2);
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, "\"} 1\nevil", 1), 0);
	ttft_record_free(&r);
	struct ttft_export_log log = {0};
	size_t len;
	char *om = ttft_export_render(&x, &log, 1, &len);
	char *txt = ttft_export_render(&x, &log, 0, &len);
	const char *want = "ttftshim_ttft_seconds_bucket{peer=\"p:1\",path=\"/v1/completions\","
			   "split_source=\"none\",status=\"200\",le=\"0.05\"} 2 # "
			   "{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.042 1764369600.5\n";
	ck_assert_msg(strstr(om, want), "%s", om);
	ck_assert_ptr_null(strstr(om, "evil"));
	ck_assert_ptr_null(strstr(txt, "trace_id"));
	free(om);
	free(txt);
	ttft_export_free(&x);
}
END_TEST

/* An exemplar whose request has no wall-clock time (its end did not fit
 * through the log's anchor: a damaged header or record) has none on the
 * page: OpenMetrics lets an exemplar go without, and "NaN" is not a
 * timestamp. */
START_TEST(exemplar_without_a_time_has_no_timestamp)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 42, 60, 2);
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, "4bf92f3577b34da6a3ce929d0e0e4736",
					     NAN), 0);
	ttft_record_free(&r);
	struct ttft_export_log log = {0};
	size_t len;
	char *om = ttft_export_render(&x, &log, 1, &len);
	const char *want = "ttftshim_ttft_seconds_bucket{peer=\"p:1\",path=\"/v1/completions\","
			   "split_source=\"none\",status=\"200\",le=\"0.05\"} 1 # "
			   "{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.042\n";
	const char *ex = strstr(om, "# {trace_id=");
	ck_assert_ptr_nonnull(ex);
	ck_assert_msg(strstr(om, want), "exemplar: %.*s", (int)strcspn(ex, "\n"), ex);
	ck_assert_ptr_null(strstr(om, "NaN"));
	free(om);
	ttft_export_free(&x);
}
END_TEST

/* The exporter's exemplar hook: a request with a trace id (a log's
 * record: from the traceparent the shim captured) puts it on every bucket
 * it lands in; none, a malformed id or W3C's invalid all-zero one gives no
 * exemplar. */
START_TEST(exemplar_carries_the_requests_trace_id)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 42, 60, 2);
	ck_assert_ptr_nonnull(ttft_record_w3c_rw(&r));
	snprintf(r.w3c->trace_id, sizeof r.w3c->trace_id, "%s",
		 "0af7651916cd43dd8448eb211c80319c");
	const char *id = ttft_export_trace_id(&r);
	ck_assert_str_eq(id, "0af7651916cd43dd8448eb211c80319c");
	ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, id, 1764369600.5), 0);
	ttft_record_free(&r);
	static const char *const no_id[] = {
		"",
		"00000000000000000000000000000000",
		"0af7651916cd43dd8448eb211c80319",
		"0af7651916cd43dd8448eb211c80319g",
		"0af7651916cd43dd-448eb211c80319c",
		"0AF7651916CD43DD8448EB211C80319C", /* W3C's hex is lower-case */
	};
	for (size_t i = 0; i < sizeof no_id / sizeof no_id[0]; i++) {
		req(&r, "/v1/completions", 200, 2, 60, 2);
		ck_assert_ptr_nonnull(ttft_record_w3c_rw(&r));
		snprintf(r.w3c->trace_id, sizeof r.w3c->trace_id, "%s", no_id[i]);
		ck_assert_msg(ttft_export_trace_id(&r) == NULL, "an id from '%s'", no_id[i]);
		ck_assert_int_eq(ttft_export_request(&x, &r, "p:1", 1, ttft_export_trace_id(&r), 1),
				 0);
		ttft_record_free(&r);
	}
	struct ttft_export_log log = {0};
	size_t len;
	char *om = ttft_export_render(&x, &log, 1, &len);
	const char *want = "ttftshim_ttft_seconds_bucket{peer=\"p:1\",path=\"/v1/completions\","
			   "split_source=\"none\",status=\"200\",le=\"0.05\"} 7 # "
			   "{trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 0.042 1764369600.5\n";
	ck_assert_msg(strstr(om, want), "%s", om);
	/* the only trace id on the page is that one */
	const char *q = om;
	while ((q = strstr(q, "trace_id=\"")) != NULL) {
		q += strlen("trace_id=\"");
		ck_assert_msg(strncmp(q, "0af7651916cd43dd8448eb211c80319c\"", 33) == 0, "%s", om);
	}
	free(om);
	ttft_export_free(&x);
}
END_TEST

/* A new connection's lookup (its own thread's or a resolver thread's, as
 * the assembler gives it) is a histogram of its own; a reused connection
 * has none. */
START_TEST(dns_of_new_connections)
{
	struct ttft_export x;
	ttft_export_init(&x, 0);
	struct ttft_record r;
	req(&r, "/v1/completions", 200, 40, 90, 3);
	r.new_conn = 1;
	r.t_dns0 = MS(990);
	r.t_dns1 = MS(994);
	r.t_conn0 = MS(995);
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	req(&r, "/v1/completions", 200, 40, 90, 3);
	ck_assert_int_eq(ttft_export_request(&x, &r, "10.1.2.3:8000", 1, NULL, 0), 0);
	ttft_record_free(&r);
	struct ttft_export_log log = {0};
	size_t len;
	char *page = ttft_export_render(&x, &log, 0, &len);
	ck_assert_ptr_nonnull(page);
	const char *lb = L("10.1.2.3:8000", "/v1/completions", "none", "200");
	ck_assert(sample(page, "ttftshim_dns_seconds_count", lb) == 1);
	ck_assert_double_eq_tol(sample(page, "ttftshim_dns_seconds_sum", lb), 0.004, 1e-12);
	ck_assert(sample(page, "ttftshim_ttft_seconds_count", lb) == 2);
	free(page);
	ttft_export_free(&x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("export");
	TCase *t = tu_tcase(s, "export", 30);
	tcase_add_test(t, buckets_sums_and_counters);
	tcase_add_test(t, tokens_from_events_counted_apart);
	tcase_add_test(t, dns_of_new_connections);
	tcase_add_test(t, split_and_outcomes);
	tcase_add_test(t, label_sets_are_bounded);
	tcase_add_test(t, paths_are_normalised);
	tcase_add_test(t, exemplars_only_in_openmetrics);
	tcase_add_test(t, help_text_needs_no_escapes);
	tcase_add_test(t, exemplar_without_a_time_has_no_timestamp);
	tcase_add_test(t, exemplar_carries_the_requests_trace_id);
	return tu_run(s);
}
