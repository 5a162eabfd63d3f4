/* test_prom.c — the Prometheus text parser (labels with escapes, NaN and
 * ±Inf, timestamps, comments, garbage, a last line cut short) and the rules
 * that turn two snapshots into one request's split, or into the reason
 * there is none. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "ttft_prom.h"

#define NEAR(x, want, tol) ck_assert_msg(fabs((x) - (want)) < (tol), "%s = %.6f, want %.6f", #x, (double)(x), (double)(want))

START_TEST(prom_parser)
{
	const char *page =
		"# HELP vllm:request_queue_time_seconds Histogram of time in WAITING.\n"
		"# TYPE vllm:request_queue_time_seconds histogram\n"
		"vllm:request_queue_time_seconds_sum{engine=\"0\",model_name=\"a\"} 0.5\n"
		"vllm:request_queue_time_seconds_bucket{engine=\"0\",le=\"0.3\",model_name=\"a\"} 1.0\n"
		"vllm:request_queue_time_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"a\"} 2.0\n"
		"vllm:request_queue_time_seconds_count{engine=\"0\",model_name=\"a\"} 2.0\n"
		"vllm:request_queue_time_seconds_count{engine=\"1\",model_name=\"b \\\"q\\\" \\\\ \\n x\"} 3.0 1700000000000\n"
		"vllm:gpu_prefix_cache_hits_total{model_name=\"a\"} 7\n"
		"odd_gauge NaN\n"
		"pos +Inf\n"
		"neg -Inf\n"
		"this is not a sample\n"
		"bad{unterminated=\"x 1\n"
		"\n"
		"cut_short 12";
	struct ttft_prom p;
	char err[128];
	int n = ttft_prom_parse(page, strlen(page), &p, err, sizeof err);
	ck_assert_int_eq(n, 9);
	ck_assert_uint_eq(p.bad_lines, 2);
	ck_assert_int_eq(p.truncated, 1);
	int found;
	NEAR(ttft_prom_get(&p, "vllm:request_queue_time_seconds_count", &found), 5.0, 1e-12);
	ck_assert(found);
	ck_assert_str_eq(p.s[4].labels, "engine=\"1\",model_name=\"b \"q\" \\ \n x\"");
	ck_assert(isnan(ttft_prom_get(&p, "odd_gauge", NULL)));
	ck_assert(isinf(ttft_prom_get(&p, "pos", NULL)) && ttft_prom_get(&p, "pos", NULL) > 0);
	ck_assert(isinf(ttft_prom_get(&p, "neg", NULL)) && ttft_prom_get(&p, "neg", NULL) < 0);
	ttft_prom_get(&p, "cut_short", &found);
	ck_assert_int_eq(found, 0); /* a line cut short is not trusted */
	struct ttft_truth t;
	ck_assert_int_eq(ttft_truth_from(&p, &t), 3);
	NEAR(t.v[TR_PC_HITS], 7, 1e-12); /* older name folded in */
	ttft_prom_free(&p);
	/* garbage: no crash, no samples */
	const char *junk = "<html>\x01\x02{{{ }}} \xff\xfe\n==\n";
	ck_assert_int_eq(ttft_prom_parse(junk, strlen(junk), &p, err, sizeof err), 0);
	ck_assert_uint_ge(p.bad_lines, 2);
	ttft_prom_free(&p);
}
END_TEST

START_TEST(split_rules)
{
	struct ttft_truth a = {0}, b = {0};
	for (int i = 0; i < TR__N; i++)
		a.v[i] = b.v[i] = NAN;
	a.have = b.have = (1u << TR_QUEUE_SUM) | (1u << TR_QUEUE_CNT) | (1u << TR_PREFILL_SUM);
	a.v[TR_QUEUE_SUM] = 1.0, a.v[TR_QUEUE_CNT] = 10, a.v[TR_PREFILL_SUM] = 2.0;
	b.v[TR_QUEUE_SUM] = 1.025, b.v[TR_QUEUE_CNT] = 11, b.v[TR_PREFILL_SUM] = 2.04;
	struct ttft_server_split s;
	ck_assert_int_eq(ttft_truth_split(&a, &b, 0, &s), 1);
	NEAR(s.queue_s, 0.025, 1e-12);
	NEAR(s.prefill_s, 0.04, 1e-12);
	ck_assert_str_eq(s.source, "vllm-metrics");
	b.v[TR_QUEUE_CNT] = 13;
	ck_assert_int_eq(ttft_truth_split(&a, &b, 0, &s), 0);
	ck_assert_msg(strstr(s.note, "window holds 3 requests"), "%s", s.note);
	b.v[TR_QUEUE_CNT] = 2; /* a restart */
	ck_assert_int_eq(ttft_truth_split(&a, &b, 0, &s), 0);
	ck_assert_msg(strstr(s.note, "went backwards"), "%s", s.note);
	/* llama.cpp: no request counter, so only when the caller knows */
	struct ttft_truth c = {0}, d = {0};
	c.have = d.have = 1u << TR_LC_PROMPT_S;
	c.v[TR_LC_PROMPT_S] = 1, d.v[TR_LC_PROMPT_S] = 1.04;
	ck_assert_int_eq(ttft_truth_split(&c, &d, 1, &s), 1);
	NEAR(s.prefill_s, 0.04, 1e-12);
	ck_assert_int_eq(ttft_truth_split(&c, &d, 0, &s), 0);
}
END_TEST

/* A value longer than the parser's number buffer is a bad line, never a
 * number read from its first digits (a review: a count of 70 digits read
 * as 1.2e62, a long decimal fraction as 0, both without a word). */
START_TEST(prom_long_number_is_not_cut)
{
	const char *page =
		"vllm:request_queue_time_seconds_sum 0.0000000000000000000000000000"
		"000000000000000000000000000000000000000000012\n"
		"vllm:request_queue_time_seconds_count 123456789012345678901234567890"
		"1234567890123456789012345678901234567890\n"
		"vllm:request_prefill_time_seconds_sum 1.5e-3 1700000000000\n";
	struct ttft_prom p;
	char err[128];
	ck_assert_int_eq(ttft_prom_parse(page, strlen(page), &p, err, sizeof err), 1);
	ck_assert_uint_eq(p.bad_lines, 2);
	int found;
	ttft_prom_get(&p, "vllm:request_queue_time_seconds_sum", &found);
	ck_assert_int_eq(found, 0);
	ttft_prom_get(&p, "vllm:request_queue_time_seconds_count", &found);
	ck_assert_int_eq(found, 0);
	NEAR(ttft_prom_get(&p, "vllm:request_prefill_time_seconds_sum", NULL), 1.5e-3, 1e-15);
	ttft_prom_free(&p);
}
END_TEST

/* The process's start time is read (it tells two processes apart), but a
 * page with it and no request metric is still not a server's page. */
START_TEST(process_start_time_alone_is_no_page)
{
	struct ttft_truth t;
	char why[160];
	const char *only = "process_start_time_seconds 1.7e+09\n";
	ck_assert_int_eq(ttft_truth_page(only, strlen(only), &t, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "none of"), "%s", why);
	const char *page = "process_start_time_seconds 1700000000.25\n"
			   "vllm:request_queue_time_seconds_count{engine=\"0\"} 3\n";
	ck_assert_int_eq(ttft_truth_page(page, strlen(page), &t, why, sizeof why), 1);
	int ps = ttft_truth_id("process_start_time_seconds");
	ck_assert_int_ge(ps, 0);
	ck_assert((t.have >> ps) & 1);
	NEAR(t.v[ps], 1700000000.25, 1e-6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prom");
	TCase *t = tu_tcase(s, "prom", 60);
	tcase_add_test(t, prom_parser);
	tcase_add_test(t, split_rules);
	tcase_add_test(t, prom_long_number_is_not_cut);
	tcase_add_test(t, process_start_time_alone_is_no_page);
	return tu_run(s);
}
