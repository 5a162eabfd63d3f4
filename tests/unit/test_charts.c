/* test_charts.c — the pictures' library without a browser: axis ticks,
 * the three chart kinds (what they show, escaping, determinism, NAN
 * leaving a gap), the waterfall from an analysis, the Chrome trace
 * (valid JSON, one track per connection and one per lane of its
 * pipelined requests, every track's slices nested, phases in their
 * request and never overlapping, one instant per token) and the Markdown → HTML
 * page (tables, lists, inline SVG, nothing unescaped); the outputs'
 * writer (ttft_write_atomic) stopped mid-write. Rendering in a real
 * browser: tests/e2e/test_sweep.c. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_charts.h"
#include "ttft_cli.h"
#include "ttft_html.h"
#include "ttft_str.h"
#include "ttft_svg.h"
#include "ttft_trace.h"

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

START_TEST(ticks_are_round_and_cover)
{
	double a, z, st;
	st = ttft_svg_ticks(0, 9.3, 5, &a, &z);
	ck_assert(st == 2 && a == 0 && z == 10);
	st = ttft_svg_ticks(0.0012, 0.0049, 5, &a, &z);
	ck_assert_double_eq_tol(st, 0.001, 1e-12);
	ck_assert_double_eq_tol(a, 0.001, 1e-12);
	ck_assert_double_eq_tol(z, 0.005, 1e-12);
	st = ttft_svg_ticks(30.2, 32.0, 5, &a, &z);
	ck_assert_double_eq_tol(st, 0.5, 1e-12);
	ck_assert(a == 30.0 && z == 32.0);
	st = ttft_svg_ticks(5, 5, 5, &a, &z); /* one value: still an axis */
	ck_assert(st > 0 && a <= 5 && z > 5);
	ck_assert(ttft_svg_ticks(NAN, 1, 5, &a, &z) == 0);
}
END_TEST

START_TEST(lines_show_values_escape_text_and_break_at_nan)
{
	double x[] = {1, 2, 4, 8}, y[] = {3.25, NAN, 12.5, 40}, q[] = {0, 1, 30, 80};
	struct ttft_series s[] = {{"p50 <a&b>", x, y, 4, 0, 0}, {"queue", x, q, 4, 1, 0}};
	struct ttft_mark m[] = {{2, "predicted knee"}, {4, "measured knee"}};
	struct ttft_linechart c = {.title = "TTFT & \"queue\" <vs> concurrency", .subtitle = "sub",
				   .xlabel = "concurrency", .ylabel = "TTFT (ms)", .y2label = "share (%)",
				   .logx = 1, .y2max = 100, .series = s, .nseries = 2, .marks = m,
				   .nmarks = 2};
	char *a = ttft_svg_lines(&c), *b = ttft_svg_lines(&c);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a, b); /* the same data, the same bytes */
	ck_assert(strstr(a, "TTFT &amp; &quot;queue&quot; &lt;vs&gt; concurrency"));
	ck_assert(!strstr(a, "<vs>") && !strstr(a, "<a&b>"));
	ck_assert(strstr(a, "p50 &lt;a&amp;b&gt;"));
	/* the left series breaks at its NAN: two lines, 3 points */
	ck_assert_uint_eq(count(a, "<polyline"), 3);
	ck_assert_uint_eq(count(a, "<circle"), 3 + 1 /* legend */);
	ck_assert(strstr(a, ">3.25<") && strstr(a, ">12.5<") && strstr(a, ">40.0<"));
	ck_assert(strstr(a, "predicted knee") && strstr(a, "measured knee"));
	ck_assert(strstr(a, ">TTFT (ms)<") && strstr(a, ">share (%)<") && strstr(a, ">concurrency<"));
	/* ticks at the swept values of a log axis */
	ck_assert(strstr(a, ">1</text>") && strstr(a, ">8</text>"));
	ck_assert(!strstr(a, "nan") && !strstr(a, "inf"));
	free(a);
	free(b);
}
END_TEST

START_TEST(timeline_legend_names_what_is_drawn)
{
	static const char *const cats[] = {"phase", "unaccounted", "never used"};
	static const char *const col[] = {"#0072B2", "hatch", "#000000"};
	struct ttft_tl_seg s1[] = {{0, 1.5, 0}}, s2[] = {{1.5, 2, 1}, {2.5, 3, 1}};
	struct ttft_tl_row r[] = {{"load", s1, 1, "1.500 s"}, {"gaps", s2, 2, NULL}};
	struct ttft_mark m[] = {{3, "ready"}};
	struct ttft_timeline t = {.title = "T", .xlabel = "s", .cats = cats, .colors = col,
				  .ncats = 3, .rows = r, .nrows = 2, .marks = m, .nmarks = 1};
	char *svg = ttft_svg_timeline(&t);
	ck_assert_ptr_nonnull(svg);
	ck_assert(strstr(svg, ">phase<") && strstr(svg, ">unaccounted<"));
	ck_assert(!strstr(svg, "never used"));
	ck_assert_uint_eq(count(svg, "fill=\"url(#h"), 2 + 1); /* two gaps + the swatch */
	ck_assert(strstr(svg, ">1.500 s<") && strstr(svg, ">ready<"));
	free(svg);
}
END_TEST

START_TEST(dots_give_median_and_range)
{
	double w[] = {30.2, 30.3, 32.0, 30.25}, c[] = {45.0};
	struct ttft_dotgroup g[] = {{"warm", w, 4}, {"cold", c, 1}};
	struct ttft_dotchart d = {.title = "V", .ylabel = "TTFT (ms)", .unit = "ms", .groups = g,
				  .ngroups = 2};
	char *svg = ttft_svg_dots(&d);
	ck_assert_ptr_nonnull(svg);
	ck_assert(strstr(svg, "warm (n=4)") && strstr(svg, "cold (n=1)"));
	ck_assert(strstr(svg, "median 30.3 ms") && strstr(svg, "min 30.2, max 32.0"));
	ck_assert_uint_eq(count(svg, "<circle"), 5);
	free(svg);
}
END_TEST

/* No value in any group (a cold run whose server never became ready):
 * no made-up 0-1 scale with nothing on it, but a chart that says so. */
START_TEST(dots_with_no_value_draw_no_scale)
{
	double nan1[] = {NAN};
	struct ttft_dotgroup g[] = {{"warm", nan1, 1}, {"cold", NULL, 0}};
	struct ttft_dotchart d = {.title = "V", .ylabel = "TTFT (ms)", .unit = "ms", .groups = g,
				  .ngroups = 2};
	char *svg = ttft_svg_dots(&d);
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(!strstr(svg, "class=\"gr\"") && !strstr(svg, ">1.0<") &&
		      !strstr(svg, ">0.0<") && !strstr(svg, "<circle") && !strstr(svg, "median"),
		      "%s", svg);
	ck_assert_uint_eq(count(svg, ">no values to draw</text>"), 1);
	ck_assert(strstr(svg, "warm (n=0)") && strstr(svg, "cold (n=0)"));
	free(svg);
}
END_TEST

/* The box's top is a p75: from fewer values than ttft_quantile_min_n
 * gives one from (4) there is no box, and the chart says why, once; the
 * median and the whiskers (min, max) stand from 1. */
START_TEST(dots_draw_no_box_below_the_quantile_rule)
{
	double three[] = {10, 20, 30}, four[] = {10, 20, 30, 40}, one[] = {45};
	struct ttft_dotgroup g[] = {{"three", three, 3}, {"four", four, 4}, {"one", one, 1}};
	struct ttft_dotchart d = {.title = "V", .ylabel = "ms", .groups = g, .ngroups = 3};
	char *svg = ttft_svg_dots(&d);
	ck_assert_ptr_nonnull(svg);
	ck_assert_uint_eq(count(svg, "fill=\"#dcebf5\""), 1); /* four's box alone */
	ck_assert_uint_eq(count(svg, "p75 needs 4 values: no box below that"), 1);
	ck_assert(strstr(svg, "median 20.0") && strstr(svg, "median 25.0") &&
		  strstr(svg, "median 45.0"));
	ck_assert(strstr(svg, "min 10.0, max 30.0") && strstr(svg, "min 45.0, max 45.0"));
	ck_assert(!strstr(svg, "nan") && !strstr(svg, "inf"));
	free(svg);
	/* every group with enough values: no such line */
	d.ngroups = 1;
	d.groups = g + 1;
	svg = ttft_svg_dots(&d);
	ck_assert_ptr_nonnull(svg);
	ck_assert_uint_eq(count(svg, "fill=\"#dcebf5\""), 1);
	ck_assert(!strstr(svg, "p75 needs"));
	free(svg);
}
END_TEST

/* Two requests of one client: a new connection (dns, connect, 3 tokens,
 * the server's split) and a reused one on another connection. Times in
 * ns since an arbitrary origin. */
static int64_t tok_a[] = {40000000, 45000000, 50000000}, tok_b[] = {90000000, 95000000};

static void analysis(struct ttft_analysis *a, struct ttft_record *r)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < 2; i++)
		ttft_record_init(&r[i], TTFT_ORIGIN_LOG);
	r[0].pid = 7, r[0].fd = 5, r[0].conn = 1, r[0].status = 200, r[0].new_conn = 1;
	snprintf(r[0].method, sizeof r[0].method, "POST");
	snprintf(r[0].path, sizeof r[0].path, "/v1/completions");
	r[0].t_start = 10000000, r[0].t_dns0 = 9000000, r[0].t_dns1 = 9500000;
	r[0].t_conn0 = 10000000, r[0].t_est = 11000000, r[0].t_req0 = 12000000;
	r[0].t_req1 = 13000000, r[0].t_hdr = 15000000, r[0].t_end = 52000000;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ttft_record_add_token(&r[0], tok_a[i]), 0);
	struct ttft_server_split *sp = ttft_record_split_rw(&r[0]);
	ck_assert_ptr_nonnull(sp);
	sp->source = TTFT_SPLIT_VLLM_METRICS;
	sp->queue_s = 0.010, sp->prefill_s = 0.012;
	r[1].pid = 7, r[1].fd = 6, r[1].conn = 2, r[1].status = 200;
	snprintf(r[1].method, sizeof r[1].method, "POST");
	snprintf(r[1].path, sizeof r[1].path, "/v1/chat/\"x\"");
	r[1].t_start = 60000000, r[1].t_req0 = 60000000, r[1].t_req1 = 61000000;
	r[1].t_hdr = 62000000, r[1].t_end = 96000000;
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(ttft_record_add_token(&r[1], tok_b[i]), 0);
	a->reqs = r;
	a->nreqs = 2;
}

static cJSON *event(cJSON *evs, const char *name, double tid, int nth)
{
	cJSON *e;
	cJSON_ArrayForEach(e, evs) {
		cJSON *n = cJSON_GetObjectItem(e, "name");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name) &&
		    cJSON_GetObjectItem(e, "tid")->valuedouble == tid && nth-- == 0)
			return e;
	}
	return NULL;
}

static double f(cJSON *e, const char *k)
{
	return cJSON_GetObjectItem(e, k)->valuedouble;
}

START_TEST(trace_is_valid_with_nested_phases)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	struct ttft_json jw;
	ck_assert_int_eq(ttft_json_init(&jw, NULL, 0), 0);
	ck_assert_int_eq(ttft_trace_json(&jw, &a), 0);
	char *js = ttft_json_take(&jw);
	ttft_json_free(&jw);
	cJSON *j = cJSON_Parse(js);
	ck_assert_msg(j != NULL, "not JSON:\n%s", js);
	cJSON *evs = cJSON_GetObjectItem(j, "traceEvents");
	char why[512];
	ck_assert_msg(tu_trace_nested(evs, why, sizeof why), "%s", why);
	size_t x = 0, inst = 0, meta = 0, threads = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, evs) {
		const char *ph = cJSON_GetObjectItem(e, "ph")->valuestring;
		x += !strcmp(ph, "X");
		inst += !strcmp(ph, "i");
		meta += !strcmp(ph, "M");
		threads += !strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "thread_name");
	}
	ck_assert_uint_eq(inst, 5);                   /* one per token */
	ck_assert_uint_eq(threads, 2);                /* a track per connection */
	ck_assert_uint_eq(meta, 1 + 2 * 2);           /* process + name, sort per track */
	/* request 1: dns connect send wait-headers wait-first decode finish */
	ck_assert_uint_eq(x, 2 + 7 + 5);
	cJSON *req = event(evs, "POST /v1/completions", 1, 0);
	ck_assert_ptr_nonnull(req);
	ck_assert(f(req, "ts") == 0);                 /* the origin: the first dns */
	ck_assert(fabs(f(req, "dur") - 43000) < 1e-6); /* 9 ms → 52 ms, in µs */
	cJSON *args = cJSON_GetObjectItem(req, "args");
	ck_assert(fabs(f(args, "queue_ms") - 10) < 1e-9 && fabs(f(args, "prefill_ms") - 12) < 1e-9);
	ck_assert_str_eq(cJSON_GetObjectItem(args, "split_source")->valuestring, "vllm-metrics");
	ck_assert_ptr_nonnull(event(evs, "POST /v1/chat/\"x\"", 2, 0)); /* escaped and back */
	/* every phase inside its request, in order, never overlapping */
	static const char *const ph[] = {"dns", "connect", "send", "wait headers",
					 "wait first token", "decode", "finish"};
	double prev = f(req, "ts");
	for (size_t i = 0; i < 7; i++) {
		cJSON *p = event(evs, ph[i], 1, 0);
		ck_assert_msg(p != NULL, "no %s", ph[i]);
		ck_assert(f(p, "ts") >= prev - 1e-9);
		prev = f(p, "ts") + f(p, "dur");
		ck_assert(prev <= f(req, "ts") + f(req, "dur") + 1e-9);
	}
	cJSON *first = event(evs, "first token", 1, 0);
	ck_assert(fabs(f(first, "ts") - 31000) < 1e-6);   /* 40 ms − 9 ms */
	/* the reused connection: no dns, no connect */
	ck_assert_ptr_null(event(evs, "connect", 2, 0));
	cJSON_Delete(j);
	free(js);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

static cJSON *trace_of(const struct ttft_analysis *a)
{
	struct ttft_json jw;
	ck_assert_int_eq(ttft_json_init(&jw, NULL, 0), 0);
	ck_assert_int_eq(ttft_trace_json(&jw, a), 0);
	char *js = ttft_json_take(&jw);
	ttft_json_free(&jw);
	cJSON *j = cJSON_Parse(js);
	ck_assert_msg(j != NULL, "not JSON:\n%s", js);
	free(js);
	char why[512];
	ck_assert_msg(tu_trace_nested(cJSON_GetObjectItem(j, "traceEvents"), why, sizeof why),
		      "%s", why);
	return j;
}

/* What the table refuses, the trace does not draw: a request whose
 * response is not known to be its own (fork_unsure) has no wait, no
 * decode, no first token and no e2e-long slice, its TTFT null and its
 * note in the slice's arguments; a response whose request was not seen
 * has tokens but none of them is a "first token". */
START_TEST(trace_draws_no_ttft_the_table_refuses)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	r[0].fork_unsure = 1;
	r[1].request_unseen = 1;
	r[1].t_start = r[1].t_req0 = r[1].t_req1 = 0;
	cJSON *j = trace_of(&a), *evs = cJSON_GetObjectItem(j, "traceEvents");
	for (int tid = 1; tid <= 2; tid++) {
		ck_assert_ptr_null(event(evs, "wait first token", tid, 0));
		ck_assert_ptr_null(event(evs, "first token", tid, 0));
	}
	ck_assert_ptr_null(event(evs, "decode", 1, 0));
	ck_assert_ptr_null(event(evs, "wait headers", 1, 0));
	ck_assert_ptr_null(event(evs, "token", 1, 0));
	ck_assert_ptr_nonnull(event(evs, "send", 1, 0));
	cJSON *req = event(evs, "POST /v1/completions", 1, 0);
	cJSON *args = cJSON_GetObjectItem(req, "args");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(args, "ttft_ms")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(args, "e2e_ms")));
	ck_assert(strstr(cJSON_GetObjectItem(args, "note")->valuestring,
			 "which response answers this one is not known"));
	/* the slice ends with what it sent (9 ms → 13 ms), not its response */
	ck_assert(fabs(f(req, "dur") - 4000) < 1e-6);
	/* the unseen request's tokens are there, plain tokens, and its note;
	 * from its headers to its first token is its own response's part,
	 * not a wait of a TTFT: the slice begins there (a clean CI found
	 * it beginning at the headers with nothing drawn until the first
	 * token) */
	ck_assert_ptr_nonnull(event(evs, "token", 2, 1));
	ck_assert_ptr_nonnull(event(evs, "decode", 2, 0));
	cJSON *h2f = event(evs, "headers to first token", 2, 0);
	ck_assert_ptr_nonnull(h2f);
	ck_assert(fabs(f(event(evs, "POST /v1/chat/\"x\"", 2, 0), "ts") - f(h2f, "ts")) < 1e-9);
	ck_assert_ptr_null(event(evs, "headers to first token", 1, 0));
	args = cJSON_GetObjectItem(event(evs, "POST /v1/chat/\"x\"", 2, 0), "args");
	ck_assert(strstr(cJSON_GetObjectItem(args, "note")->valuestring,
			 "its request was not seen"));
	cJSON_Delete(j);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* A damaged (but sealed) log's instants may be ±9e18 ns apart: no
 * event's time wraps (what does not fit one time line is left out, every
 * ts at or after the origin), an instant not seen (0) is never the
 * latest of negative times, and a trace with no request has no origin
 * (null, not 0). */
/* An encrypted connection (TLS no library showed: connected, nothing
 * seen) is a row but no request: the trace's request count leaves it
 * out, as the table's does, its slice is named (not " ", an empty method
 * and path), and holds its connect (the slice had ended where it began,
 * 0 µs, its 1 ms connect running out of it: no parent of it). So does a
 * request whose sending never ended (the client closed mid-request). */
START_TEST(trace_slice_holds_its_connect)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	ttft_record_free(&r[1]);
	ttft_record_init(&r[1], TTFT_ORIGIN_LOG);
	r[1].pid = 7, r[1].fd = 6, r[1].conn = 2, r[1].encrypted = r[1].tls = 1;
	r[1].new_conn = 1, r[1].t_start = r[1].t_conn0 = 60000000, r[1].t_est = 61000000;
	a.nencrypted = 1;
	/* request 1: its last byte never went out, nothing came back */
	ttft_record_free(&r[0]); /* its tokens and split */
	r[0].t_req1 = r[0].t_hdr = r[0].t_end = 0;
	cJSON *j = trace_of(&a), *evs = cJSON_GetObjectItem(j, "traceEvents");
	ck_assert_int_eq((int)f(cJSON_GetObjectItem(j, "otherData"), "requests"), 1);
	ck_assert_int_eq((int)f(cJSON_GetObjectItem(j, "otherData"), "encrypted_connections"), 1);
	ck_assert_ptr_null(event(evs, " ", 2, 0));
	cJSON *req = event(evs, "encrypted connection (not visible)", 2, 0);
	cJSON *con = event(evs, "connect", 2, 0);
	ck_assert_ptr_nonnull(req);
	ck_assert_ptr_nonnull(con);
	ck_assert_msg(f(req, "ts") <= f(con, "ts") &&
		      f(req, "ts") + f(req, "dur") >= f(con, "ts") + f(con, "dur"),
		      "request [%g +%g], connect [%g +%g]", f(req, "ts"), f(req, "dur"),
		      f(con, "ts"), f(con, "dur"));
	req = event(evs, "POST /v1/completions", 1, 0);
	ck_assert_ptr_nonnull(req);
	/* dns 9 ms, connect 10 → 11, the request's first byte at 12 */
	ck_assert_msg(fabs(f(req, "ts") + f(req, "dur") - 3000) < 1e-6, "%g +%g", f(req, "ts"),
		      f(req, "dur"));
	con = event(evs, "connect", 1, 0);
	ck_assert(f(con, "ts") + f(con, "dur") <= f(req, "ts") + f(req, "dur"));
	cJSON_Delete(j);
}
END_TEST

START_TEST(trace_times_never_wrap)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	int64_t far[] = {90000000, 95000000, INT64_C(9000000000000000000)};
	ttft_record_free(&r[0]);
	r[0].new_conn = 0, r[0].t_first = 0;
	r[0].t_start = r[0].t_req0 = INT64_C(-9000000000000000000);
	r[0].t_req1 = r[0].t_req0 + 1000;
	r[0].t_hdr = r[0].t_end = 0;
	ttft_record_free(&r[1]);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ttft_record_add_token(&r[1], far[i]), 0);
	cJSON *j = trace_of(&a), *evs = cJSON_GetObjectItem(j, "traceEvents"), *e;
	size_t tokens = 0;
	cJSON_ArrayForEach(e, evs) {
		cJSON *ts = cJSON_GetObjectItem(e, "ts");
		if (!ts)
			continue;
		ck_assert_msg(cJSON_IsNumber(ts) && ts->valuedouble >= 0, "ts %g",
			      ts->valuedouble);
		tokens += !strcmp(cJSON_GetObjectItem(e, "cat")->valuestring, "token");
	}
	ck_assert_uint_eq(tokens, 2); /* the third is 18e18 ns after the origin */
	/* the damaged request: first byte → last byte, 1 µs */
	cJSON *req = event(evs, "POST /v1/completions", 1, 0);
	ck_assert(f(req, "ts") == 0 && fabs(f(req, "dur") - 1) < 1e-9);
	cJSON_Delete(j);
	memset(&a, 0, sizeof a);
	j = trace_of(&a);
	cJSON *o = cJSON_GetObjectItem(j, "otherData");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "origin_monotonic_s")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "origin_unix_s")));
	cJSON_Delete(j);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

static const char *track_name(cJSON *evs, double tid)
{
	cJSON *e;
	cJSON_ArrayForEach(e, evs)
		if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "thread_name") &&
		    f(e, "tid") == tid)
			return cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "name")->valuestring;
	return NULL;
}

/* Pipelined requests (HTTP/1.1: the second sent before the first's
 * response ended) overlap in time on one connection: the second goes on
 * a lane of its own, named for its connection, so that no track holds
 * two slices that overlap (Perfetto draws them wrongly: a review's repro,
 * a raw socket's sendall(req + req), had [0, 31.0 ms] and [0.6, 31.4 ms]
 * on one track); a third begun after both ended is back on the
 * connection's own track. Every phase on its request's track. */
START_TEST(trace_puts_pipelined_requests_on_lanes)
{
	struct ttft_analysis a;
	struct ttft_record r[4];
	static int64_t tok_c[] = {110000000, 115000000};
	analysis(&a, r);
	r[1].conn = 1, r[1].fd = 5;
	r[1].t_start = r[1].t_req0 = 12500000, r[1].t_req1 = 13500000;
	r[2] = r[1];
	r[2].t_start = r[2].t_req0 = 100000000, r[2].t_req1 = 101000000;
	r[2].t_hdr = 102000000, r[2].t_end = 116000000;
	r[2].t_first = tok_c[0], r[2].ntok = 0, r[2].ntime = 0; /* r[1]'s were inline */
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(ttft_record_add_token(&r[2], tok_c[k]), 0);
	snprintf(r[2].path, sizeof r[2].path, "/third");
	r[3] = r[2]; /* another connection: its id is no lane's */
	r[3].conn = 2, r[3].fd = 6;
	snprintf(r[3].path, sizeof r[3].path, "/other");
	a.nreqs = 4;
	cJSON *j = trace_of(&a), *evs = cJSON_GetObjectItem(j, "traceEvents");
	cJSON *one = event(evs, "POST /v1/completions", 1, 0), *three = event(evs, "POST /third", 1, 0);
	ck_assert_ptr_nonnull(one);
	ck_assert_ptr_nonnull(three);
	ck_assert_str_eq(track_name(evs, 1), "connection 1 (fd 5)");
	/* the second: on a track of its own, not another connection's */
	cJSON *two = NULL, *e;
	cJSON_ArrayForEach(e, evs)
		if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "POST /v1/chat/\"x\""))
			two = e;
	ck_assert_ptr_nonnull(two);
	double lane = f(two, "tid");
	ck_assert(lane != 1 && lane != 2);
	ck_assert_str_eq(track_name(evs, lane), "connection 1 (fd 5, pipelined 2)");
	ck_assert_ptr_nonnull(event(evs, "send", lane, 0));
	ck_assert_ptr_nonnull(event(evs, "decode", lane, 0));
	ck_assert_ptr_nonnull(event(evs, "first token", lane, 0));
	ck_assert_ptr_null(event(evs, "send", 1, 2)); /* the first's and the third's */
	size_t threads = 0;
	cJSON_ArrayForEach(e, evs)
		threads += !strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "thread_name");
	ck_assert_uint_eq(threads, 3);
	ck_assert_ptr_nonnull(event(evs, "POST /other", 2, 0));
	cJSON_Delete(j);
	ttft_record_free(&r[0]); /* r[1] to r[3] hold nothing allocated */
}
END_TEST

START_TEST(waterfall_splits_the_server_part)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	ck_assert_double_eq_tol(w[0].t_first, 31.0, 1e-9);
	ck_assert_double_eq_tol(w[0].queue_ms, 10, 1e-9);
	ck_assert(isnan(w[1].t_conn0) && isnan(w[1].queue_ms));
	char *svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert_ptr_nonnull(svg);
	/* request 1 split by the server (27 ms: 10 queue, 12 prefill, 5 other);
	 * request 2 not: a plain wait */
	ck_assert(strstr(svg, "<title>queue 10.0</title>") && strstr(svg, "<title>prefill 12.0</title>"));
	ck_assert(strstr(svg, "<title>other (server, unexplained) 5.00</title>"));
	ck_assert(strstr(svg, "<title>wait (no server split) 29.0</title>"));
	ck_assert_uint_eq(count(svg, ">TTFT 30.0 ms<"), 2);
	ck_assert(!strstr(svg, "clipped"));
	free(svg);
	/* a split larger than the wait the client saw is drawn inside it, and
	 * says so */
	w[0].prefill_ms = 20;
	svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert(strstr(svg, ">TTFT 30.0 ms (split clipped)<") && !strstr(svg, "other (server"));
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* What the table refuses, the waterfall does not draw: a request on a
 * connection shared across fork whose response is not known to be its
 * own (fork_unsure: TTFT and decode null) gets no wait, no decode and no
 * TTFT, and its note instead; a response whose request was not seen (2
 * tokens, no TTFT) says so rather than "no first token"; so do an
 * encrypted and a compressed row. The reason is in the picture whole
 * (its visible text is cut to fit, the tooltip keeps it). */
START_TEST(waterfall_shows_no_ttft_the_table_refuses)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	r[0].fork_unsure = 1;
	ttft_record_split_rw(&r[0])->source = NULL;
	r[1].request_unseen = 1;
	r[1].t_start = r[1].t_req0 = r[1].t_req1 = 0;
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	char *svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(!strstr(svg, "TTFT "), "%s", svg);
	ck_assert(!strstr(svg, "<title>wait") && !strstr(svg, "<title>other"));
	ck_assert(!strstr(svg, "no first token"));
	ck_assert(strstr(svg, "which response answers this one is not known"));
	ck_assert(strstr(svg, "its request was not seen"));
	/* the unseen row's decode is the table's (2 tokens, 5 ms); the
	 * fork-tangled row's is refused: one decode bar */
	ck_assert_uint_eq(count(svg, "<title>decode"), 1);
	ck_assert(strstr(svg, "<title>decode 5.00</title>"));
	free(svg);
	/* encrypted, compressed: no tokens seen, each row says why */
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
	analysis(&a, r);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
	r[0].encrypted = 1, r[0].t_first = 0;
	r[1].compressed = 1, r[1].t_first = 0;
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert(strstr(svg, "encrypted: not visible") && strstr(svg, "compressed body"));
	ck_assert(!strstr(svg, "TTFT ") && !strstr(svg, "no first token"));
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* Every bar of a timeline (a <rect> with a <title>) inside its plot: from
 * the x axis's left end to its right end. 0 and why when one is not. */
static int bars_inside(const char *svg, char *why, size_t len)
{
	double p0 = NAN, p1 = NAN, y1, y2;
	for (const char *p = svg; (p = strstr(p, "<line class=\"ax\"")); p++)
		if (sscanf(p, "<line class=\"ax\" x1=\"%lf\" y1=\"%lf\" x2=\"%lf\" y2=\"%lf\"",
			   &p0, &y1, &p1, &y2) == 4 && y1 == y2)
			break;
	if (!isfinite(p0)) {
		snprintf(why, len, "no x axis");
		return 0;
	}
	for (const char *p = svg; (p = strstr(p, "<rect ")); p++) {
		double x, y, w;
		const char *end = strchr(p, '>');
		if (!end || strncmp(end, "><title>", 8) ||
		    sscanf(p, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\"", &x, &y, &w) != 3)
			continue;
		if (!(x >= p0 - 0.05 && x + w <= p1 + 1.05)) {
			snprintf(why, len, "a bar at x %.1f, %.1f wide, outside the plot [%.1f, %.1f]: "
				 "%.60s", x, w, p0, p1, end + 8);
			return 0;
		}
	}
	return 1;
}

/* A damaged (but sealed) log's instants may be ±9e18 ns apart: a row
 * whose times do not fit one time line with the first request's is not
 * drawn, and its note says so; never at a wrapped time (a review's repro
 * drew the second row at x="-3734780455977.9": the difference had
 * overflowed). */
START_TEST(waterfall_times_never_wrap)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	static int64_t far[] = {INT64_C(9000000000003000000), INT64_C(9000000000004000000)};
	r[0].new_conn = 0, r[0].ntok = 0, r[0].ntime = 0, r[0].t_first = 0;
	ttft_record_split_rw(&r[0])->source = NULL;
	r[0].t_start = r[0].t_req0 = INT64_C(-9000000000000000000);
	r[0].t_req1 = r[0].t_req0 + 1000000, r[0].t_hdr = 0, r[0].t_end = r[0].t_req0 + 2000000;
	r[1].t_start = r[1].t_req0 = INT64_C(9000000000000000000);
	r[1].t_req1 = r[1].t_req0 + 1000000, r[1].t_hdr = r[1].t_req0 + 2000000;
	r[1].t_end = r[1].t_req0 + 5000000;
	r[1].ntok = 0, r[1].ntime = 0, r[1].t_first = far[0];
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(ttft_record_add_token(&r[1], far[k]), 0);
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	ck_assert(w[0].t_start == 0 && fabs(w[0].t_req1 - 1) < 1e-9);
	ck_assert(isnan(w[1].t_start) && isnan(w[1].t_req0) && isnan(w[1].t_first));
	char *svg = ttft_waterfall_svg("W", "s", w, 2), why[256];
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(bars_inside(svg, why, sizeof why), "%s", why);
	ck_assert_msg(strstr(svg, "its times do not fit one time line"), "%s", svg);
	ck_assert(!strstr(svg, "TTFT ") && !strstr(svg, "<title>decode"));
	ck_assert_uint_eq(count(svg, "<title>send"), 1); /* the first row's */
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* A pre-opened connection (connected, its request 30 ms later: Node's
 * undici after an aborted stream) starts its TTFT at the request
 * (docs/phases.md): its dns and connect, before that, are not drawn (a
 * review's repro drew the connect at x = -425, over the label column)
 * and its note says so; the chart begins at the first request, not at
 * its dns. No bar anywhere outside the plot, whatever a caller's origin
 * (ttft_wf_of with a later one: the axis begins earlier). */
START_TEST(waterfall_leaves_out_a_preopened_connect)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	r[0].preopened = 1, r[0].t_dns0 = r[0].t_dns1 = 0;
	r[0].t_conn0 = 1000000, r[0].t_est = 2000000;
	r[0].t_start = r[0].t_req0 = 32000000, r[0].t_req1 = 33000000, r[0].t_hdr = 35000000;
	ttft_record_split_rw(&r[0])->source = NULL;
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	ck_assert(w[0].t_start == 0 && w[0].preopened && isnan(w[0].t_conn0));
	char *svg = ttft_waterfall_svg("W", "s", w, 2), why[256];
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(bars_inside(svg, why, sizeof why), "%s", why);
	ck_assert(!strstr(svg, ">connect<") && !strstr(svg, "<title>connect"));
	ck_assert_msg(strstr(svg, "TTFT 8.0 ms (pre-opened: connect not drawn)"), "%s", svg);
	free(svg);
	/* with a dns too: the chart still begins at its request */
	r[0].t_dns0 = 9000000, r[0].t_dns1 = 9500000;
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	ck_assert(w[0].t_start == 0 && isnan(w[0].t_dns0));
	/* a caller's origin after a row's first instant */
	r[0].preopened = 0;
	ttft_wf_of(&r[0], 20000000, &w[0]);
	ck_assert(w[0].t_conn0 < 0);
	svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert_msg(bars_inside(svg, why, sizeof why), "%s", why);
	ck_assert(strstr(svg, "<title>connect"));
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* TCP Fast Open: the request went out with the connection's setup (its
 * first byte stamped where the connect began, established 5 ms later).
 * The table's send runs from the setup's end (docs/phases.md), so the
 * waterfall's does: a send bar from the connect's start (6 ms where the
 * table said 1) had covered the connect bar whole. */
START_TEST(waterfall_sends_after_a_fast_open_connect)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	r[0].t_dns0 = r[0].t_dns1 = 0;
	r[0].t_start = r[0].t_conn0 = r[0].t_req0 = 10000000;
	r[0].t_est = 15000000, r[0].t_req1 = 16000000;
	struct ttft_phases p;
	ttft_record_phases(&r[0], &p);
	ck_assert_double_eq_tol(p.send_s, 0.001, 1e-12);
	ck_assert_double_eq_tol(p.connect_s, 0.005, 1e-12);
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	char *svg = ttft_waterfall_svg("W", "s", w, 2);
	ck_assert_ptr_nonnull(svg);
	/* both rows send for 1 ms; the first connects for 5 */
	ck_assert_msg(strstr(svg, "<title>connect 5.00</title>") &&
		      count(svg, "<title>send 1.00</title>") == 2, "%s", svg);
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* Every byte of doc is UTF-8 (and no U+FFFE/U+FFFF): what an XML parser
 * needs of a document's characters. */
static int all_utf8(const char *doc)
{
	const unsigned char *u = (const unsigned char *)doc;
	size_t n = strlen(doc);
	for (size_t i = 0; i < n;) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = ttft_utf8_len(u + i, n - i);
		if (!l || (l == 3 && u[i] == 0xef && u[i + 1] == 0xbf && u[i + 2] >= 0xbe))
			return 0;
		i += l;
	}
	return 1;
}

/* A request path that is not UTF-8, or whose multi-byte character the
 * label's 40-byte cut splits: the SVG stays well-formed (U+FFFD where the
 * bytes were; expat had refused the file: "not well-formed"). */
START_TEST(svg_text_is_always_utf8)
{
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	snprintf(w[0].label, sizeof w[0].label, "1: conn 1 POST /ff\xff\xfe \xef\xbf\xbe");
	/* 13 euro signs (3 bytes each) cut after 40 bytes of path */
	snprintf(w[1].label, sizeof w[1].label, "2: conn 2 POST /a%.38s",
		 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		 "\xe2\x82\xac");
	char *svg = ttft_waterfall_svg("W \xc3", "s", w, 2);
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(all_utf8(svg), "%s", svg);
	ck_assert(strstr(svg, "POST /ff\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd"));
	ck_assert(strstr(svg, "\xe2\x82\xac\xef\xbf\xbd"));
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

/* A subtitle wrapped where no space is near (a long path of Cyrillic
 * letters, 2 bytes each) is wrapped between characters, never inside
 * one: the path had lost a letter, drawn as U+FFFD at the first line's
 * end and at the second's start. */
START_TEST(svg_subtitle_wraps_between_characters)
{
	char sub[256] = "1 of 1 requests in /tmp/hJ/";
	for (int i = 0; i < 60; i++)
		strcat(sub, "\xd0\xb4");
	strcat(sub, "/x.log");
	struct ttft_analysis a;
	struct ttft_record r[2];
	analysis(&a, r);
	struct ttft_wf w[2];
	ck_assert_uint_eq(ttft_wf_from_analysis(&a, w, 2), 2);
	char *svg = ttft_waterfall_svg("W", sub, w, 2);
	ck_assert_ptr_nonnull(svg);
	ck_assert_msg(!strstr(svg, "\xef\xbf\xbd"), "%.300s", strstr(svg, "class=\"st\""));
	/* the letters of both lines: all 60, once in the title and once drawn */
	ck_assert_uint_eq(count(svg, "\xd0\xb4"), 120);
	free(svg);
	ttft_record_free(&r[0]);
	ttft_record_free(&r[1]);
}
END_TEST

START_TEST(html_page_inlines_charts_and_escapes)
{
	char dir[512], svgp[600];
	snprintf(dir, sizeof dir, "%s/html-XXXXXX", tu_scratch());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(svgp, sizeof svgp, "%s/c.svg", dir);
	FILE *fp = fopen(svgp, "w");
	fputs("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text>42.5</text></svg>\n", fp);
	fclose(fp);
	const char *md = "# Report <b>\n\nSome **bold** and `code <x>` and [a link](other.md) "
			 "and [bad](javascript:alert(1)).\n<!-- a comment\nover lines -->\n"
			 "| a | b |\n|---|---|\n| 1 | <script>x</script> |\n\n- one\n- two\n  goes on\n\n"
			 "![The chart](c.svg)\n\n![Gone](../etc/passwd.svg)\n\n```\nraw <pre>\n```\n";
	char *h = ttft_html_page(md, dir);
	unlink(svgp);
	rmdir(dir);
	ck_assert_ptr_nonnull(h);
	ck_assert(strstr(h, "<title>Report &lt;b&gt;</title>"));
	ck_assert(strstr(h, "<strong>bold</strong>") && strstr(h, "<code>code &lt;x&gt;</code>"));
	ck_assert(strstr(h, "<a href=\"other.md\">a link</a>"));
	ck_assert(!strstr(h, "javascript:alert(1)\""));
	ck_assert(!strstr(h, "a comment"));
	ck_assert(strstr(h, "<th>a</th><th>b</th>") && strstr(h, "<td>&lt;script&gt;x&lt;/script&gt;</td>"));
	ck_assert(strstr(h, "<li>one</li>") && strstr(h, "<li>two   goes on</li>"));
	ck_assert(strstr(h, "<svg xmlns") && strstr(h, "<text>42.5</text>") && !strstr(h, "<?xml"));
	ck_assert(strstr(h, "<figcaption>The chart</figcaption>"));
	ck_assert(strstr(h, "chart not included: ../etc/passwd.svg"));
	ck_assert(strstr(h, "raw &lt;pre&gt;"));
	/* nothing from elsewhere: no script, no linked resource */
	ck_assert(!strstr(h, "<script") && !strstr(h, "src=") && !strstr(h, "<link"));
	free(h);
}
END_TEST

/* Free text in a table cell (a server's logged arguments, a command):
 * its | escaped as GFM's \| and its line ends made spaces, so the row
 * keeps its cells; the page shows the pipe, in one cell. */
/* Text beyond ASCII in a heading, a paragraph, a table cell, a list item
 * and a link stays itself: the page had escaped inline text a byte at a
 * time, so every such character became U+FFFD, one per byte ("TTFT ���
 * ��s": the committed docs/reports/h200/cold.html had 21 of them). A
 * byte that is not UTF-8 still becomes one U+FFFD. */
START_TEST(html_keeps_characters_beyond_ascii)
{
	const char *md = "# TTFT \xe2\x80\x94 \xc2\xb5s\n\nmodel Qwen\xe2\x80\x93" "7B "
			 "\xc2\xb1 3 ms, caf\xc3\xa9 \xff.\n\n| a | b |\n|---|---|\n"
			 "| \xc3\xa9 | **\xe2\x86\x92** |\n\n- \xf0\x9f\x93\x88 [d\xc3\xa9j\xc3\xa0](x.md)\n";
	char *h = ttft_html_page(md, ".");
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(all_utf8(h), "%s", h);
	ck_assert_msg(strstr(h, "<title>TTFT \xe2\x80\x94 \xc2\xb5s</title>") &&
		      strstr(h, "<h1>TTFT \xe2\x80\x94 \xc2\xb5s</h1>"), "%s", h);
	ck_assert_msg(strstr(h, "<p>model Qwen\xe2\x80\x93" "7B \xc2\xb1 3 ms, caf\xc3\xa9 "
			     "\xef\xbf\xbd.</p>"), "%s", h);
	ck_assert_msg(strstr(h, "<td>\xc3\xa9</td><td><strong>\xe2\x86\x92</strong></td>"), "%s",
		      h);
	ck_assert_msg(strstr(h, "<li>\xf0\x9f\x93\x88 <a href=\"x.md\">d\xc3\xa9j\xc3\xa0</a></li>"),
		      "%s", h);
	ck_assert_uint_eq(count(h, "\xef\xbf\xbd"), 1);
	free(h);
}
END_TEST

START_TEST(md_cell_keeps_a_row_whole)
{
	struct ttft_str b = {0};
	ttft_str_md_cell(&b, NULL);
	ck_assert_str_eq(ttft_str_get(&b), "");
	ttft_str_printf(&b, "| args | ");
	ttft_str_md_cell(&b, "{'x': 'a|b'}\r\nnext|");
	ttft_str_printf(&b, " |\n");
	ck_assert_str_eq(ttft_str_get(&b), "| args | {'x': 'a\\|b'}  next\\| |\n");
	char *md = NULL;
	ck_assert_int_ne(asprintf(&md, "| k | v |\n|---|---|\n%s", ttft_str_get(&b)), -1);
	ttft_str_free(&b);
	char *h = ttft_html_page(md, ".");
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strstr(h, "<tr><td>args</td><td>{&#39;x&#39;: &#39;a|b&#39;}  next|</td></tr>"),
		      "%s", h);
	free(h);
	free(md);
}
END_TEST

/* The page's reading of GFM's escaped pipe: no cell ends at \|, and it
 * shows as | (also inside a code span in a cell, as GFM has it); outside
 * a table too (CommonMark's backslash escape). */
START_TEST(html_escaped_pipe_stays_in_its_cell)
{
	const char *md = "| a | b | c |\n|---|---|---|\n| x\\|y | `c\\|d` | z |\n\n"
			 "see p\\|q\n";
	char *h = ttft_html_page(md, ".");
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strstr(h, "<tr><td>x|y</td><td><code>c|d</code></td><td>z</td></tr>"),
		      "%s", h);
	ck_assert_msg(strstr(h, "<p>see p|q</p>"), "%s", h);
	free(h);
}
END_TEST

static void drop_and_die(int sig)
{
	(void)sig;
	ttft_cli_drop_tmp();
	_exit(9);
}

/* A program ended by a signal while ttft_write_atomic fills its
 * temporary file (ttft-probe's and ttft-sweep's second Ctrl-C) leaves
 * nothing beside the output, and the old output whole: the write is
 * stopped inside by the kernel (RLIMIT_FSIZE's SIGXFSZ, at once and
 * every time), the handler doing what the tools' do. */
START_TEST(a_write_ended_by_a_signal_leaves_no_file)
{
	char dir[] = "/tmp/ttft-test-atomic.XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out.json", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("old\n", f);
	fclose(f);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {8192, 8192};
		signal(SIGXFSZ, drop_and_die);
		setrlimit(RLIMIT_FSIZE, &rl);
		static char big[1 << 20];
		memset(big, 'x', sizeof big);
		char err[256];
		int rc = ttft_write_atomic(path, big, sizeof big, err, sizeof err);
		_exit(rc == 0 ? 0 : 1); /* not reached: the handler exits 9 */
	}
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 9, "status %d", st);
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_msg(!strcmp(e->d_name, "out.json"), "left behind: %s", e->d_name);
		files++;
	}
	closedir(d);
	ck_assert_int_eq(files, 1);
	char *old = tu_read_file(path, NULL);
	ck_assert_str_eq(old, "old\n");
	free(old);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("charts");
	TCase *t = tu_tcase(s, "charts", 30);
	tcase_add_test(t, ticks_are_round_and_cover);
	tcase_add_test(t, lines_show_values_escape_text_and_break_at_nan);
	tcase_add_test(t, timeline_legend_names_what_is_drawn);
	tcase_add_test(t, dots_give_median_and_range);
	tcase_add_test(t, dots_with_no_value_draw_no_scale);
	tcase_add_test(t, dots_draw_no_box_below_the_quantile_rule);
	tcase_add_test(t, trace_is_valid_with_nested_phases);
	tcase_add_test(t, trace_draws_no_ttft_the_table_refuses);
	tcase_add_test(t, trace_slice_holds_its_connect);
	tcase_add_test(t, trace_times_never_wrap);
	tcase_add_test(t, trace_puts_pipelined_requests_on_lanes);
	tcase_add_test(t, waterfall_splits_the_server_part);
	tcase_add_test(t, waterfall_shows_no_ttft_the_table_refuses);
	tcase_add_test(t, waterfall_times_never_wrap);
	tcase_add_test(t, waterfall_leaves_out_a_preopened_connect);
	tcase_add_test(t, waterfall_sends_after_a_fast_open_connect);
	tcase_add_test(t, svg_text_is_always_utf8);
	tcase_add_test(t, svg_subtitle_wraps_between_characters);
	tcase_add_test(t, html_page_inlines_charts_and_escapes);
	tcase_add_test(t, html_keeps_characters_beyond_ascii);
	tcase_add_test(t, md_cell_keeps_a_row_whole);
	tcase_add_test(t, html_escaped_pipe_stays_in_its_cell);
	tcase_add_test(t, a_write_ended_by_a_signal_leaves_no_file);
	return tu_run(s);
}
