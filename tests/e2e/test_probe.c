/* test_probe.c — ttft-probe against the fixture server: its TTFT, headers
 * and end hold the fixture's own record of the same request (its --truth),
 * the chat role chunk not counted, usage honoured, every error case kept as
 * a record with its error, 256 concurrent streams complete, in order and
 * in flight at once, and its marks in the shim's log. Also the seed's
 * ttft_probe.py and serve_slm_vllm.sh. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "testutil.h"
#include "ttft_analyze.h"

/* curl times with CLOCK_MONOTONIC_RAW, which NTP does not slew: its spans
 * may differ from CLOCK_MONOTONIC's by up to 500 ppm */
#define CLOCK_RATE 0.0005
#define HDR_MS 20.0
#define FIRST_MS 60.0
#define TOK_MS 10.0

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

struct recs {
	cJSON *r[300];
	int n;
	cJSON *summary, *summary_root;
	int rc;
	char *err;
};

/* Run ttft-probe with ARGS (JSONL to stdout), parse every line. */
static void probe(const char *args, struct recs *out)
{
	memset(out, 0, sizeof *out);
	char cmd[2048], errf[256];
	tu_tmp_log(errf, sizeof errf, "probe-err");
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d -q --json - %s 2>%s",
		 tu_build_dir(), g_port, args, errf);
	char *text;
	out->rc = tu_sh(cmd, &text);
	out->err = tu_read_file(errf, NULL);
	unlink(errf);
	for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(p);
		ck_assert_msg(o != NULL, "bad JSON line: %s", p);
		cJSON *s = cJSON_GetObjectItem(o, "summary");
		if (s) {
			out->summary_root = o;
			out->summary = s;
		}
		else if (out->n < 300)
			out->r[out->n++] = o;
	}
	free(text);
}

static void done(struct recs *r)
{
	for (int i = 0; i < r->n; i++)
		cJSON_Delete(r->r[i]);
	cJSON_Delete(r->summary_root);
	free(r->err);
}

static double f(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no field %s", k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *err_of(cJSON *o)
{
	cJSON *e = cJSON_GetObjectItem(o, "error");
	return cJSON_IsString(e) ? e->valuestring : "";
}

/* A probe record against the fixture's record of the same request. The
 * probe's clock starts before it connects and stops after it read, so each
 * of its spans holds the fixture's: from the fixture's first read of the
 * request to its write of the first token, of the headers, of the last
 * bytes. (How much longer is `make bench`'s to say.) */
static void check_rec(cJSON *o, const struct tu_treq *s, int i, int tokens)
{
	ck_assert_msg(s != NULL, "the fixture has no record of run %d", i);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	ck_assert_int_eq((int)f(o, "tokens"), tokens);
	ck_assert_int_eq(s->ntok, tokens);
	ck_assert_int_eq((int)f(o, "http_status"), s->status);
	double ttft = f(o, "ttft_s"), e2e = f(o, "e2e_s");
	double srv_first = (double)(s->tok[0] - s->recv_first_ns) / 1e9;
	ck_assert_msg(ttft >= srv_first, "run %d: ttft %.6f s < the fixture's %.6f s", i,
		      ttft, srv_first);
	ck_assert(e2e >= (double)(s->fin_ns - s->recv_first_ns) / 1e9);
	/* the injected delays are in it (sleeps never end early) */
	ck_assert(ttft >= (HDR_MS + FIRST_MS) / 1e3);
	/* curl's own marks, in order (a reused connection's connect is 0),
	 * and its starttransfer is the headers: after the fixture wrote them,
	 * no later than the first token */
	double st = f(o, "starttransfer_s");
	double pre = f(o, "pretransfer_s");
	ck_assert(isnan(f(o, "dns_s")) || f(o, "dns_s") <= pre);
	ck_assert(isnan(f(o, "connect_s")) || f(o, "connect_s") <= pre);
	ck_assert(pre <= st);
	ck_assert(st >= (double)(s->hdr_ns - s->recv_first_ns) / 1e9 * (1 - CLOCK_RATE));
	ck_assert_msg(st <= ttft * (1 + CLOCK_RATE), "run %d: starttransfer %.6f s after the "
		      "first token %.6f s", i, st, ttft);
	ck_assert(ttft <= e2e);
	/* fewer than 100 gaps: a median, no p99 (null, not the slowest gap) */
	ck_assert(f(o, "itl_p50_s") >= 0);
	ck_assert(tokens > 100 || isnan(f(o, "itl_p99_s")));
}

START_TEST(ttft_matches_injected_delays)
{
	struct recs r;
	probe("--runs 4 --cold --max-tokens 5", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 4);
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/completions"), 4);
	double warm[3];
	for (int i = 0; i < 4; i++) {
		cJSON *o = r.r[i];
		ck_assert_str_eq(cJSON_GetObjectItem(o, "label")->valuestring, i ? "warm" : "cold");
		check_rec(o, tu_truth_req(&t, "/v1/completions", (size_t)i), i, 5);
		if (i)
			warm[i - 1] = f(o, "ttft_s");
	}
	/* the summary is the median of the warm runs' own numbers */
	cJSON *w = cJSON_GetObjectItem(r.summary, "warm_ttft_s");
	ck_assert(fabs(cJSON_GetObjectItem(w, "median")->valuedouble -
		       ttft_percentile(warm, 3, 0.5)) < 1e-9);
	tu_truth_free(&t);
	done(&r);
}
END_TEST

static double sum_k(cJSON *summary, const char *dist, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(summary, dist), k);
	ck_assert_msg(v != NULL, "no %s.%s", dist, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Under --cold the run-wide summaries are the warm runs' alone: each equals
 * what the warm records' own numbers give (a cold run pooled in moves them:
 * with one warm run, ttft_s would span two values). */
START_TEST(cold_run_left_out_of_the_summaries)
{
	struct recs r;
	probe("--runs 4 --cold --max-tokens 4", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 4);
	double t[3], e[3];
	for (int i = 1; i < 4; i++) {
		t[i - 1] = f(r.r[i], "ttft_s");
		e[i - 1] = f(r.r[i], "e2e_s");
	}
	struct ttft_summary wt, we;
	ttft_summary_of(t, 3, &wt);
	ttft_summary_of(e, 3, &we);
	static const char *const ks[] = {"min", "median", "max"};
	for (int k = 0; k < 3; k++) {
		double want[] = {wt.min, wt.median, wt.max}, wante[] = {we.min, we.median, we.max};
		ck_assert_msg(fabs(sum_k(r.summary, "ttft_s", ks[k]) - want[k]) < 2e-9,
			      "ttft_s.%s %.9f, the warm runs' %.9f", ks[k],
			      sum_k(r.summary, "ttft_s", ks[k]), want[k]);
		ck_assert(fabs(sum_k(r.summary, "warm_ttft_s", ks[k]) - want[k]) < 2e-9);
		ck_assert_msg(fabs(sum_k(r.summary, "e2e_s", ks[k]) - wante[k]) < 2e-9,
			      "e2e_s.%s %.9f, the warm runs' %.9f", ks[k],
			      sum_k(r.summary, "e2e_s", ks[k]), wante[k]);
	}
	done(&r);
	/* one warm run: the ITL summary is that run's own gaps, whose median
	 * and p99 its record gives */
	probe("--runs 2 --cold --max-tokens 4", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert(fabs(sum_k(r.summary, "itl_s", "median") - f(r.r[1], "itl_p50_s")) < 2e-9);
	ck_assert(isnan(sum_k(r.summary, "itl_s", "p99")) && isnan(f(r.r[1], "itl_p99_s")));
	ck_assert(fabs(sum_k(r.summary, "ttft_s", "min") - f(r.r[1], "ttft_s")) < 2e-9);
	ck_assert(fabs(sum_k(r.summary, "ttft_s", "max") - f(r.r[1], "ttft_s")) < 2e-9);
	done(&r);
	/* no warm run at all: no summary, and no table line of nan */
	probe("--runs 1 --cold --max-tokens 4", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert(isnan(sum_k(r.summary, "ttft_s", "median")));
	ck_assert(isnan(sum_k(r.summary, "warm_ttft_s", "median")));
	done(&r);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 1 --cold "
		 "--max-tokens 4 2>/dev/null", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(!strstr(out, "nan") && strstr(out, "no warm runs"), "%s", out);
	free(out);
}
END_TEST

/* --runs 3 --cold: 2 warm runs. Their p90 and p99 are null (10 and 100
 * values needed; from 2 they were the slower run's TTFT, or near it),
 * "n" says from how many each summary is; the concurrency table shows
 * '-' and says why once. */
START_TEST(tail_percentiles_need_enough_runs)
{
	struct recs r;
	probe("--runs 3 --cold --max-tokens 4", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 3);
	static const char *const dist[] = {"ttft_s", "warm_ttft_s", "e2e_s", "itl_s"};
	static const int n[] = {2, 2, 2, 6}; /* 3 gaps a warm run */
	for (int k = 0; k < 4; k++) {
		cJSON *d = cJSON_GetObjectItem(r.summary, dist[k]);
		ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(d, "p90")) &&
			      cJSON_IsNull(cJSON_GetObjectItem(d, "p99")), "%s: p90 / p99 from "
			      "%d values", dist[k], n[k]);
		ck_assert_msg((int)sum_k(r.summary, dist[k], "n") == n[k], "%s.n %g, want %d",
			      dist[k], sum_k(r.summary, dist[k], "n"), n[k]);
		ck_assert(!isnan(sum_k(r.summary, dist[k], "median")));
	}
	done(&r);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --concurrency 4 "
		 "--requests 4 --max-tokens 4 2>/dev/null", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	const char *row = strstr(out, "\nttft ");
	ck_assert_msg(row && !strstr(out, "nan") && !strncmp(row + 18, "          -          -\n",
							       23), "%s", out);
	ck_assert_msg(strstr(out, "p90 needs 10 values and p99 100: '-' below that"), "%s", out);
	free(out);
}
END_TEST

/* The probe's table: both runs' tokens cells are want ("run label ttft_s
 * e2e_s tokens"); counted: the line under it says why "≥N", and the
 * tokens/s "at least", else neither. noinline: gcc 12 takes strstr's
 * results for dangling pointers once inlined. */
static __attribute__((noinline)) void tokens_cells_are(const char *out, const char *want,
						       int counted)
{
	for (int run = 1; run <= 2; run++) {
		char key[16], tok[16] = "";
		snprintf(key, sizeof key, "\n%5d  ", run);
		const char *row = strstr(out, key);
		ck_assert_msg(row && sscanf(row + strlen(key), "%*s %*s %*s %15s", tok) == 1 &&
				      !strcmp(tok, want),
			      "run %d: '%s', want '%s':\n%s", run, tok, want, out);
	}
	const char *why = "(tokens '≥N': token events counted, the stream carried no usage the count could take";
	ck_assert_msg(!strstr(out, why) == !counted, "%s", out);
	ck_assert_msg(!strstr(out, "output tokens/s: at least ") == !counted, "%s", out);
	ck_assert_msg(strstr(out, "output tokens/s: "), "%s", out);
}

START_TEST(chat_role_chunk_not_counted)
{
	/* the role chunk goes out 30 ms before the first token: counted, the
	 * TTFT would end before the fixture wrote the first token */
	struct recs r;
	probe("--chat --runs 2 --max-tokens 5 --header 'X-Fixture: role=30'", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 2);
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	for (int i = 0; i < 2; i++) {
		const struct tu_treq *s = tu_truth_req(&t, "/v1/chat/completions", (size_t)i);
		check_rec(r.r[i], s, i, 5);
		ck_assert(s->role_ns && s->role_ns < s->tok[0]);
	}
	tu_truth_free(&t);
	done(&r);
}
END_TEST

START_TEST(usage_is_honoured_and_nonstream)
{
	struct recs r;
	probe("--max-tokens 5 --header 'X-Fixture: usage_tokens=42'", &r);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 42);
	done(&r);
	probe("--no-stream --max-tokens 5", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 5);
	ck_assert(f(r.r[0], "ttft_s") == f(r.r[0], "e2e_s"));
	/* the whole answer, written once, after every injected delay */
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	const struct tu_treq *s = tu_truth_req(&t, "/v1/completions", 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_ge(s->fin_ns - s->recv_ns, (int64_t)((HDR_MS + FIRST_MS + 4 * TOK_MS) * 1e6));
	ck_assert(f(r.r[0], "e2e_s") >= (double)(s->fin_ns - s->recv_first_ns) / 1e9);
	tu_truth_free(&t);
	done(&r);
}
END_TEST

static int is_null(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no field %s", k);
	return cJSON_IsNull(v);
}

static const char *str_of(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsString(v), "no string %s", k);
	return v->valuestring;
}

/* Without the server's usage the token events are counted, and one event
 * can carry several tokens (vLLM's speculative decoding, stream_interval):
 * at least that many. The probe showed them, and a tokens/s from them, as
 * if exact. Each row's tokens_source says where its count comes from, the
 * table "≥N" (one line under it says why), the tokens/s "at least", and
 * the summary how many requests' counts are events. */
START_TEST(tokens_without_usage_are_a_lower_bound)
{
	struct recs r;
	probe("--concurrency 2 --requests 2 --max-tokens 5 --header 'X-Fixture: usage=0'", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq((int)f(r.r[i], "tokens"), 5);
		ck_assert_str_eq(str_of(r.r[i], "tokens_source"), "events");
	}
	ck_assert_int_eq((int)f(r.summary, "requests_tokens_from_events"), 2);
	ck_assert(!is_null(r.summary, "output_tokens_per_s"));
	done(&r);
	/* the server's usage (asked for with include_usage): exact */
	probe("--concurrency 2 --requests 2 --max-tokens 5", &r);
	ck_assert_int_eq(r.rc, 0);
	for (int i = 0; i < 2; i++)
		ck_assert_str_eq(str_of(r.r[i], "tokens_source"), "usage");
	ck_assert_int_eq((int)f(r.summary, "requests_tokens_from_events"), 0);
	done(&r);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --concurrency 2 "
		 "--requests 2 --max-tokens 5 --header 'X-Fixture: usage=0' 2>/dev/null",
		 tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	tokens_cells_are(out, "≥5", 1);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --concurrency 2 "
		 "--requests 2 --max-tokens 5 2>/dev/null", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	tokens_cells_are(out, "5", 0);
	free(out);
}
END_TEST

/* llama.cpp sends no event for a token that ends inside a UTF-8
 * character (its bytes go with the next one's): without usage (its
 * native /completion) the last event's timings.predicted_n says how many
 * it generated, where the events are fewer; usage still wins (the
 * analyzer's rule, test_analyze llamacpp_tokens_from_timings_without_usage). */
START_TEST(llamacpp_tokens_from_timings_without_usage)
{
	int saved = g_port;
	pid_t srv;
	g_port = tu_fixture_start("--style llamacpp", &srv);
	struct recs r;
	probe("--max-tokens 5 --header 'X-Fixture: usage=0,predicted_n=7'", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 7);
	ck_assert_str_eq(str_of(r.r[0], "tokens_source"), "timings");
	done(&r);
	probe("--max-tokens 5 --header 'X-Fixture: usage=0'", &r);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 5); /* its timings' own 5 */
	ck_assert_str_eq(str_of(r.r[0], "tokens_source"), "timings");
	done(&r);
	probe("--max-tokens 5 --header 'X-Fixture: predicted_n=7'", &r);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 5); /* usage's 5 */
	ck_assert_str_eq(str_of(r.r[0], "tokens_source"), "usage");
	done(&r);
	tu_fixture_stop(srv);
	g_port = saved;
}
END_TEST

/* A non-streamed answer has no token events to count: without the
 * server's usage (or with a usage no count can be) its tokens, and so
 * the run's tokens/s, are not known: null, never 0 */
START_TEST(nonstream_tokens_unknown_without_usage)
{
	struct recs r;
	probe("--no-stream --max-tokens 5 --header 'X-Fixture: usage=0'", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.r[0], "ok")));
	ck_assert_msg(is_null(r.r[0], "tokens"), "tokens %g", f(r.r[0], "tokens"));
	ck_assert(is_null(r.summary, "output_tokens_per_s"));
	done(&r);
	/* streamed, the events are counted: the fixture's 5 */
	probe("--max-tokens 5 --header 'X-Fixture: usage=0'", &r);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 5);
	ck_assert(!is_null(r.summary, "output_tokens_per_s"));
	done(&r);
	/* a usage no count can be: left unknown, not cast (a double above
	 * LONG_MAX cast to long is undefined) */
	static const char *const bad[] = {"1e300", "9.9e18", "-7", "5.5", "4294967296"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char args[256];
		snprintf(args, sizeof args, "--no-stream --max-tokens 5 --header "
			 "'X-Fixture: usage_tokens=%s'", bad[i]);
		probe(args, &r);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_msg(is_null(r.r[0], "tokens"), "usage %s: tokens %g", bad[i],
			      f(r.r[0], "tokens"));
		ck_assert(is_null(r.summary, "output_tokens_per_s"));
		done(&r);
	}
	probe("--no-stream --max-tokens 5 --header 'X-Fixture: usage_tokens=42'", &r);
	ck_assert_int_eq((int)f(r.r[0], "tokens"), 42);
	done(&r);
}
END_TEST

START_TEST(error_cases_keep_their_record)
{
	static const struct {
		const char *args, *want;
		int tokens;
	} cases[] = {
		/* an error's JSON body: no event stream, its tokens not known
		 * (as ttft-analyze has them for the same bytes), not 0
		 * events counted */
		{"--header 'X-Fixture: status=500'", "server answered HTTP 500: injected failure", -2},
		{"--header 'X-Fixture: close_after=2'", "stream ended without [DONE] after 2 tokens", 2},
		{"--header 'X-Fixture: malformed_at=1'", "malformed JSON in stream event 2", -1},
		{"--header 'X-Fixture: error_after=2'",
		 "server error mid-stream after 2 tokens: injected engine failure", 2},
		{"--timeout 0.3 --header 'X-Fixture: first=1000'", "timed out after 0.3 s", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char args[256];
		snprintf(args, sizeof args, "--max-tokens 5 %s", cases[i].args);
		struct recs r;
		probe(args, &r);
		ck_assert_msg(r.rc == 1, "%s: exit %d", cases[i].args, r.rc);
		ck_assert_int_eq(r.n, 1);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.r[0], "ok")));
		ck_assert_msg(strstr(err_of(r.r[0]), cases[i].want) != NULL, "%s: got '%s'",
			      cases[i].args, err_of(r.r[0]));
		if (cases[i].tokens >= 0)
			ck_assert_int_eq((int)f(r.r[0], "tokens"), cases[i].tokens);
		else if (cases[i].tokens == -2) {
			ck_assert_msg(is_null(r.r[0], "tokens") &&
				      is_null(r.r[0], "tokens_source"), "%s: tokens %g",
				      cases[i].args, f(r.r[0], "tokens"));
			/* refused: it output no tokens, exactly; the rate is
			 * not made unknown by it ("not known (1 request without
			 * usage)" was said of a refusal) */
			cJSON *rate = cJSON_GetObjectItem(r.summary, "output_tokens_per_s");
			ck_assert_msg(cJSON_IsNumber(rate) && rate->valuedouble == 0,
				      "%s: output_tokens_per_s %s", cases[i].args,
				      cJSON_IsNumber(rate) ? "not 0" : "not a number");
		}
		done(&r);
	}
}
END_TEST

/* A malformed Anthropic usage event's prompt parts are no parts
 * (ttft_sse.c's prompt_bad), in the probe's row and in ttft-analyze's row
 * of the same request (the shim's log): a message_start cut after two
 * parts, then the API's delta saying only its cache read (anthropic_parts
 * 1; both rows said 25 + 3 + 25186, a sum of a malformed event's parts),
 * and a whole message_start, then a delta cut after "input_tokens":9
 * (anthropic_parts 2; the probe kept message_start's stale 1228, the
 * analyzer said 9 + 3 + 1200), and a whole message_start, then a delta
 * malformed before its usage, which says 30000 after the fault
 * (anthropic_parts 3; both kept message_start's stale 1228): no prompt
 * count is known, null in both. And a whole message_start, then a delta
 * that says its output (7 more than the 3 tokens streamed) and is cut
 * after it (anthropic_parts 4): the probe left that count out, the
 * analyzer took it (tokens 10 from usage): a malformed event's numbers are
 * not taken (ttft_sse.c's dispatch), tokens 3 from the events in both. */
START_TEST(a_malformed_events_prompt_parts_are_no_count)
{
	for (int k = 1; k <= 4; k++) {
		char log[256], cmd[1024], err[256], *out;
		tu_tmp_log(log, sizeof log, "probe-parts");
		snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- %s/ttft-probe "
			 "--url http://127.0.0.1:%d -q --max-tokens 3 --json - --header "
			 "'X-Fixture: anthropic_parts=%d'", tu_build_dir(), log,
			 tu_build_dir(), g_port, k);
		tu_sh(cmd, &out); /* exit 1: its row's error */
		/* the probe's row: its first line */
		cJSON *p = cJSON_Parse(out);
		ck_assert_msg(p != NULL, "%s", out);
		free(out);
		ck_assert_msg(strstr(err_of(p), "malformed JSON in stream event"), "%s",
			      err_of(p));
		ck_assert_msg(is_null(p, "prompt_tokens"), "anthropic_parts=%d: the "
			      "probe's prompt_tokens %g", k, f(p, "prompt_tokens"));
		ck_assert_msg(f(p, "tokens") == 3, "anthropic_parts=%d: the probe's "
			      "tokens %g", k, f(p, "tokens"));
		cJSON_Delete(p);
		/* ttft-analyze's row of the same request, from the shim's log
		 * (the probe's other requests: /v1/models, /metrics) */
		struct ttft_analysis a;
		struct ttft_filter only = {0, "/v1/completions"};
		ck_assert_int_eq(ttft_analyze_file(log, &only, &a, err, sizeof err), 0);
		unlink(log);
		ck_assert_uint_eq(a.nreqs, 1);
		ck_assert_msg(a.reqs[0].prompt_tokens < 0, "anthropic_parts=%d: the "
			      "analyzer's prompt_tokens %lld", k,
			      (long long)a.reqs[0].prompt_tokens);
		ck_assert_uint_eq(a.reqs[0].ntok, 3);
		ck_assert_msg(ttft_record_tokens(&a.reqs[0]) == 3, "anthropic_parts=%d: "
			      "the analyzer's tokens %ld", k, ttft_record_tokens(&a.reqs[0]));
		ttft_analysis_free(&a);
	}
}
END_TEST

START_TEST(oversized_event_is_not_stored)
{
	/* A server's first token event 200 MB long: the token counts and the
	 * probe stays small (it stored every event whole: 200 MB, twice that
	 * with --text); with --text the record says its text was not kept. */
	for (int text = 0; text < 2; text++) {
		char cmd[1024], *out;
		snprintf(cmd, sizeof cmd,
			 "python3 -c 'import resource, subprocess, sys; "
			 "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
			 "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "
			 "%s/ttft-probe --url http://127.0.0.1:%d -q --max-tokens 5 %s "
			 "--header 'X-Fixture: pad=200000000'", tu_build_dir(), g_port,
			 text ? "--text" : "");
		ck_assert_int_eq(tu_sh(cmd, &out), 0);
		int rc = -1;
		long rss_kb = -1;
		ck_assert_int_eq(sscanf(out, "%d %ld", &rc, &rss_kb), 2);
		free(out);
		ck_assert_int_eq(rc, text);
		ck_assert_msg(rss_kb < 64 * 1024, "the probe grew to %ld MB", rss_kb / 1024);
		struct recs r;
		probe(text ? "--max-tokens 5 --text --header 'X-Fixture: pad=200000000'"
			   : "--max-tokens 5 --header 'X-Fixture: pad=200000000'", &r);
		ck_assert_int_eq(r.n, 1);
		ck_assert_int_eq((int)f(r.r[0], "tokens"), 5);
		if (text)
			ck_assert_msg(strstr(err_of(r.r[0]), "stream event 1 is over 4 MiB: "
					     "its text was not kept"), "%s", err_of(r.r[0]));
		else
			ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.r[0], "ok")));
		done(&r);
	}
}
END_TEST

/* Ctrl-C (or SIGTERM) part way: what ran is written, table and --json,
 * marked interrupted, and the exit status is a shell's for the signal.
 * The signal goes once the fixture has answered run 2: run 1 is over (the
 * probe sent run 2 after it); run 2 may be over too, or cut short. */
START_TEST(interrupt_keeps_what_ran)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	for (int k = 0; k < 2; k++) {
		struct tu_truth t;
		tu_fixture_truth(g_srv, &t);
		size_t base = tu_truth_count(&t, "/v1/completions");
		tu_truth_free(&t);
		char json[256], outf[256], cmd[1024];
		tu_tmp_log(json, sizeof json, "probe-int");
		tu_tmp_log(outf, sizeof outf, "probe-int-out");
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 5 "
			 "--max-tokens 3 --header 'X-Fixture: first=300' --json %s",
			 tu_build_dir(), g_port, json);
		pid_t p = tu_spawn(cmd, outf);
		size_t seen = base;
		for (int i = 0; i < 6000 && seen < base + 2; i++) {
			struct timespec ms5 = {0, 5000000};
			nanosleep(&ms5, NULL);
			tu_fixture_truth(g_srv, &t);
			seen = tu_truth_count(&t, "/v1/completions");
			tu_truth_free(&t);
		}
		ck_assert_uint_ge(seen, base + 2);
		kill(p, sigs[k]);
		int st;
		ck_assert_int_eq(waitpid(p, &st, 0), p);
		char *table = tu_read_file(outf, NULL);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k],
			      "signal %d: status %#x: %s", sigs[k], st, table);
		ck_assert_msg(strstr(table, "interrupted by"), "%s", table);
		/* a run without a first token is '-', never nan (a review's) */
		ck_assert_msg(!strstr(table, "nan"), "%s", table);
		struct recs r;
		memset(&r, 0, sizeof r);
		char *text = tu_read_file(json, NULL);
		ck_assert_msg(text != NULL, "no --json %s", json);
		unlink(json);
		unlink(outf);
		for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
			cJSON *o = cJSON_Parse(l);
			ck_assert_msg(o != NULL, "bad JSON line: %s", l);
			if (cJSON_GetObjectItem(o, "summary")) {
				r.summary_root = o;
				r.summary = cJSON_GetObjectItem(o, "summary");
			} else {
				ck_assert_int_lt(r.n, 300);
				r.r[r.n++] = o;
			}
		}
		free(text);
		ck_assert_ptr_nonnull(r.summary);
		ck_assert_msg(r.n == 2 || r.n == 3, "%d records", r.n);
		tu_fixture_truth(g_srv, &t);
		check_rec(r.r[0], tu_truth_req(&t, "/v1/completions", base), 0, 3);
		tu_truth_free(&t);
		int cut = 0;
		for (int i = 1; i < r.n; i++) {
			cJSON *o = r.r[i];
			if (i < r.n - 1 || cJSON_IsTrue(cJSON_GetObjectItem(o, "ok"))) {
				ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
			} else {
				ck_assert_msg(strstr(err_of(o), "interrupted"), "%s", err_of(o));
				cut++;
			}
		}
		/* the table counts the ones cut in flight, as the records have
		 * them (a review found "one in flight" said for four) */
		char said[64];
		snprintf(said, sizeof said, "(%d in flight, marked interrupted)", cut);
		ck_assert_msg(strstr(table, said), "want '%s': %s", said, table);
		free(table);
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.summary, "interrupted")));
		ck_assert_int_eq((int)f(r.summary, "requests"), r.n);
		ck_assert_int_eq((int)f(r.summary, "not_started"), 5 - r.n);
		done(&r);
	}
}
END_TEST

/* A stop before the first request (here while the probe waits for the
 * /metrics check of a server that accepted and never answers: a listening
 * socket nobody accepts on) ends the probe at once, 128 + the signal, and
 * says so; the default action ended it without a word (a review). */
START_TEST(a_stop_before_the_first_request_is_said)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	static const char *const names[] = {"SIGINT (Ctrl-C)", "SIGTERM"};
	for (int k = 0; k < 2; k++) {
		int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t sl = sizeof sa;
		ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
		ck_assert_int_eq(listen(lfd, 4), 0);
		ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
		char outf[256], cmd[512];
		tu_tmp_log(outf, sizeof outf, "probe-early-stop");
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --model m -q",
			 tu_build_dir(), ntohs(sa.sin_port));
		pid_t p = tu_spawn(cmd, outf);
		/* its connection waits in the backlog: the probe is in the check */
		struct pollfd pf = {lfd, POLLIN, 0};
		ck_assert_int_eq(poll(&pf, 1, 20000), 1);
		kill(p, sigs[k]);
		int st;
		ck_assert_int_eq(waitpid(p, &st, 0), p);
		close(lfd);
		char *out = tu_read_file(outf, NULL);
		unlink(outf);
		char want[160];
		snprintf(want, sizeof want, "ttft-probe: stopped by %s before any request was "
			 "sent (while checking whether the server has /metrics)\n", names[k]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k],
			      "signal %d: status %#x: '%s'", sigs[k], st, out);
		ck_assert_msg(out && !strcmp(out, want), "want '%s', got '%s'", want, out);
		free(out);
	}
}
END_TEST

START_TEST(refused_connection)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:1 -q 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2); /* /v1/models: nobody there */
	ck_assert_msg(strstr(out, "is the server up?") != NULL, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-probe --url http://127.0.0.1:1 --model m --runs 2 -q --json - 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "\"ok\":false") && strstr(out, "cannot connect to "
		      "http://127.0.0.1:1: is the server up?"), "%s", out);
	free(out);
}
END_TEST

START_TEST(concurrent_256_streams_complete_and_in_order)
{
	struct recs r;
	probe("--concurrency 256 --requests 256 --max-tokens 16 --text "
	      "--header 'X-Fixture: numbered=1,first=3000,token=5'", &r);
	for (int i = 0; i < r.n; i++)
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r.r[i], "ok")), "stream %d: %s", i,
			      err_of(r.r[i]));
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.n, 256);
	char want[256] = "";
	for (int k = 0; k < 16; k++)
		sprintf(want + strlen(want), " t%d", k);
	double last_start = 0, first_end = INFINITY;
	for (int i = 0; i < 256; i++) {
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.r[i], "ok")));
		ck_assert_int_eq((int)f(r.r[i], "tokens"), 16);
		ck_assert_str_eq(cJSON_GetObjectItem(r.r[i], "text")->valuestring, want);
		double st = f(r.r[i], "start_offset_s");
		last_start = fmax(last_start, st);
		first_end = fmin(first_end, st + f(r.r[i], "e2e_s"));
	}
	/* every stream was in flight at once: the last began before the
	 * first ended */
	ck_assert_msg(last_start < first_end, "last start %.4f s, first end %.4f s",
		      last_start, first_end);
	ck_assert_int_eq((int)cJSON_GetObjectItem(r.summary, "concurrency")->valueint, 256);
	/* 256 values: every percentile given */
	ck_assert_int_eq((int)sum_k(r.summary, "ttft_s", "n"), 256);
	ck_assert(!isnan(sum_k(r.summary, "ttft_s", "p99")));
	ck_assert_int_eq((int)sum_k(r.summary, "itl_s", "n"), 256 * 15);
	/* and the fixture served 256 streams of 16 tokens, one connection each */
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/completions"), 256);
	int conns = 0;
	for (size_t i = 0; i < t.nreq; i++) {
		if (strcmp(t.req[i].path, "/v1/completions"))
			continue;
		ck_assert_int_eq(t.req[i].ntok, 16);
		ck_assert_int_eq(t.req[i].status, 200);
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(t.req[j].path, "/v1/completions") && t.req[j].conn == t.req[i].conn;
		conns += !seen;
	}
	ck_assert_int_eq(conns, 256);
	tu_truth_free(&t);
	done(&r);
}
END_TEST

START_TEST(marks_show_the_app_gap_under_the_shim)
{
	char cmd[1024], log[256], *out;
	tu_tmp_log(log, sizeof log, "probe-marks");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --log %s -- %s/ttft-probe --url http://127.0.0.1:%d "
		 "--runs 3 --max-tokens 3 -q && %s/ttft-analyze --json --path /v1/completions %s",
		 tu_build_dir(), log, tu_build_dir(), g_port, tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	unlink(log);
	cJSON *j = cJSON_Parse(out);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests"), *q;
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 3);
	cJSON_ArrayForEach(q, reqs) {
		/* every request has the probe's mark, made after the socket
		 * read that it marks (how long after: make bench) */
		double gap = f(q, "app_gap_s");
		ck_assert_msg(!isnan(gap) && gap >= 0, "app gap %.6f s", gap);
	}
	cJSON_Delete(j);
	free(out);
}
END_TEST

START_TEST(seed_scripts)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --json - -- python3 tools/ttft_probe.py "
		 "http://127.0.0.1:%d", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	/* its wall time holds the fixture's whole answer */
	double wall = 0;
	const char *w = strstr(out, "wall_s=");
	ck_assert_msg(w && sscanf(w, "wall_s=%lf", &wall) == 1, "%s", out);
	ck_assert_msg(strstr(out, "total_tokens=72"), "%s", out);
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	const struct tu_treq *s = tu_truth_req(&t, "/v1/completions", 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(wall >= (double)(s->fin_ns - s->recv_first_ns) / 1e9 - 0.00005,
		      "wall_s %.4f", wall);
	tu_truth_free(&t);
	/* wrapped: the shim saw its non-streamed completion */
	ck_assert_msg(strstr(out, "\"path\":\"/v1/completions\",\"status\":200"), "%s", out);
	free(out);
	ck_assert_int_eq(tu_sh("python3 tools/ttft_probe.py http://127.0.0.1:1 2>&1", &out), 1);
	ck_assert_msg(strstr(out, "cannot reach"), "%s", out);
	free(out);
	/* a flag, an error answer, an answer without usage: said, never a
	 * traceback, never a made-up count (it took --help for a URL, gave
	 * a 500 as a traceback, a missing usage as a KeyError) */
	ck_assert_int_eq(tu_sh("python3 tools/ttft_probe.py --help 2>&1", &out), 0);
	ck_assert_msg(strstr(out, "usage: ttft_probe.py [URL]"), "%s", out);
	free(out);
	ck_assert_int_eq(tu_sh("python3 tools/ttft_probe.py a b 2>&1", &out), 2);
	free(out);
	pid_t srv;
	int port = tu_fixture_start("--status 500", &srv);
	snprintf(cmd, sizeof cmd, "python3 tools/ttft_probe.py http://127.0.0.1:%d 2>&1", port);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "ttft_probe.py: the completion at") &&
		      strstr(out, "HTTP Error 500") && !strstr(out, "Traceback"), "%s", out);
	free(out);
	tu_fixture_stop(srv);
	port = tu_fixture_start("--no-usage", &srv);
	snprintf(cmd, sizeof cmd, "python3 tools/ttft_probe.py http://127.0.0.1:%d 2>&1", port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "total_tokens=unknown") && !strstr(out, "Traceback"), "%s",
		      out);
	free(out);
	tu_fixture_stop(srv);
	ck_assert_int_eq(tu_sh("VLLM_BIN=/bin/echo PORT=8123 tools/serve_slm_vllm.sh", &out), 0);
	ck_assert_msg(strstr(out, "+ /bin/echo serve Qwen/Qwen2.5-1.5B-Instruct --dtype auto "
			      "--max-model-len 4096 --gpu-memory-utilization 0.92 --port 8123"),
		      "%s", out);
	free(out);
	ck_assert_int_eq(tu_sh("VLLM_BIN=no-such-vllm tools/serve_slm_vllm.sh 2>&1", &out), 127);
	ck_assert_msg(strstr(out, "make demo"), "%s", out);
	free(out);
}
END_TEST

START_TEST(usage_errors)
{
	char cmd[256], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --runs 0 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "bad value '0' for --runs"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --prompt-file /nonexistent 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	free(out);
	/* an empty prompt measures nothing: refused before any request */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:1 --prompt '' 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "bad value '' for --prompt"), "%s", out);
	ck_assert_msg(!strstr(out, "cannot connect"), "%s", out);
	free(out);
	/* a prompt file with a NUL (UTF-16 text) was sent cut at it, "ab";
	 * one without end (/dev/zero, a pipe) was read until the memory ran
	 * out (1.7 GB in 3 s): both refused before any request */
	char cmd2[512];
	snprintf(cmd2, sizeof cmd2, "printf 'ab\\0cd' | %s/ttft-probe --url "
		 "http://127.0.0.1:1 --prompt-file - 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd2, &out), 2);
	ck_assert_msg(strstr(out, "cannot read --prompt-file -: it has a NUL byte") &&
		      !strstr(out, "cannot connect"), "%s", out);
	free(out);
	snprintf(cmd2, sizeof cmd2, "head -c 70000000 /dev/zero | tr '\\0' a | "
		 "%s/ttft-probe --url http://127.0.0.1:1 --prompt-file - 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd2, &out), 2);
	ck_assert_msg(strstr(out, "cannot read --prompt-file -: it is over 64 MiB") &&
		      !strstr(out, "cannot connect"), "%s", out);
	free(out);
}
END_TEST

/* Flags that mean nothing together are refused before any request (no
 * server at port 1: a request would say "cannot connect"), never dropped:
 * --cold labels run 1 of a sequential series, --requests is the total of
 * --concurrency, --runs the count of a sequential series. */
START_TEST(flags_that_do_not_combine_are_refused)
{
	static const struct {
		const char *args, *want;
	} c[] = {
		{"--cold --concurrency 2", "--cold is for sequential --runs"},
		{"--cold --concurrency 2 --requests 4", "--cold is for sequential --runs"},
		{"--requests 5", "--requests is the total for --concurrency"},
		{"--runs 5 --concurrency 2", "--runs is for sequential requests"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char cmd[512], *out;
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:1 --model m %s "
			 "2>&1", tu_build_dir(), c[i].args);
		ck_assert_msg(tu_sh(cmd, &out) == 2, "%s: %s", c[i].args, out);
		ck_assert_msg(strstr(out, c[i].want), "%s: %s", c[i].args, out);
		ck_assert_msg(!strstr(out, "cannot connect"), "%s: %s", c[i].args, out);
		free(out);
	}
}
END_TEST

/* A --header with no name (':') or a name no header may have ('a b: c')
 * went out as curl sent it: no header at all, or a line the server
 * refuses, every request a 400. It is a usage error (exit 2, the message
 * naming the option and what to write) before any request: the fixture
 * sees none. */
START_TEST(header_without_a_valid_name_is_refused)
{
	static const struct {
		const char *h, *say;
	} bad[] = {
		{":", "no name before the ':'"},
		{"a b: c", "the name 'a b' holds a blank"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tu_truth t;
		tu_fixture_truth(g_srv, &t);
		size_t before = t.nreq;
		tu_truth_free(&t);
		char cmd[1024], *out;
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 1 "
			 "--max-tokens 3 --header '%s' 2>&1", tu_build_dir(), g_port, bad[i].h);
		int rc = tu_sh(cmd, &out);
		ck_assert_msg(rc == 2, "--header '%s': exit %d, not 2 (a usage error): %s",
			      bad[i].h, rc, out);
		ck_assert_msg(strstr(out, "for --header") && strstr(out, bad[i].say) &&
			      strstr(out, "want 'Name: value'"),
			      "--header '%s': the message does not say what is wrong: %s",
			      bad[i].h, out);
		free(out);
		tu_fixture_truth(g_srv, &t);
		ck_assert_msg(t.nreq == before, "--header '%s': %zu requests sent, not 0",
			      bad[i].h, t.nreq - before);
		tu_truth_free(&t);
	}
}
END_TEST

/* The user's own traceparent is the row's join key: a valid one (a later
 * version's extra fields included) is kept, its trace id the row's; one
 * W3C calls invalid is refused before any request (no server at port 1:
 * a request would say "cannot connect"). */
START_TEST(user_traceparent_is_checked)
{
	static const char *const bad[] = {
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", /* zero id */
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", /* upper case */
		"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* version ff */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", /* 00 goes on */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",  /* short */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 x", /* text after */
	};
	char cmd[1024], *out;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:1 --header "
			 "'traceparent: %s' 2>&1", tu_build_dir(), bad[i]);
		ck_assert_int_eq(tu_sh(cmd, &out), 2);
		ck_assert_msg(strstr(out, "not a valid W3C traceparent") &&
			      !strstr(out, "cannot connect"), "%s: %s", bad[i], out);
		free(out);
	}
	static const char *const good[] = {
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-later",
	};
	for (size_t i = 0; i < 2; i++) {
		char args[256];
		snprintf(args, sizeof args, "--runs 1 --header 'traceparent: %s'", good[i]);
		struct recs r;
		probe(args, &r);
		ck_assert_msg(r.rc == 0 && r.n == 1, "%s: rc %d: %s", good[i], r.rc, r.err);
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r.r[0], "trace_id"));
		ck_assert_msg(id && !strcmp(id, "0af7651916cd43dd8448eb211c80319c"), "%s",
			      id ? id : "(none)");
		done(&r);
	}
	/* an empty one (curl's "send no such header"): none goes out, the
	 * probe adds none of its own, and the row has no trace id */
	struct recs r;
	probe("--runs 1 --header 'traceparent:'", &r);
	ck_assert_msg(r.rc == 0 && r.n == 1, "rc %d: %s", r.rc, r.err);
	cJSON *id = cJSON_GetObjectItem(r.r[0], "trace_id");
	ck_assert_msg(!id || cJSON_IsNull(id) || !strcmp(cJSON_GetStringValue(id), ""),
		      "trace id %s", cJSON_GetStringValue(id));
	struct tu_truth t;
	tu_fixture_truth(g_srv, &t);
	const struct tu_treq *s = tu_truth_req(&t, "/v1/completions",
					       tu_truth_count(&t, "/v1/completions") - 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(s->trace_id[0] == 0, "the server got traceparent %s", s->trace_id);
	tu_truth_free(&t);
	done(&r);
}
END_TEST

/* --json FILE replaces FILE whole (a new file renamed over it): a full
 * disk or a second Ctrl-C mid-write leaves the old file, never half of the
 * new one. A second name for the old file keeps its text. */
START_TEST(json_file_replaced_whole)
{
	char path[256], old[300], cmd[1024], *out;
	tu_tmp_log(path, sizeof path, "probe-json");
	snprintf(old, sizeof old, "%s.old", path);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("OLD\n", f);
	fclose(f);
	ck_assert_int_eq(link(path, old), 0);
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d -q --runs 2 "
		 "--json %s 2>&1", tu_build_dir(), g_port, path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *now = tu_read_file(path, NULL), *was = tu_read_file(old, NULL);
	ck_assert_msg(strstr(now, "\"summary\""), "no JSON written: %s", now);
	ck_assert_msg(!strcmp(was, "OLD\n"), "--json written in place: %s", was);
	free(now), free(was);
	unlink(path);
	unlink(old);
}
END_TEST

/* The table is the run's results where no --json is: a stdout the disk
 * did not take (/dev/full) is said and fails the run, as ttft-analyze's
 * does; the probe exited 0 with its table lost. -q writes none. */
START_TEST(a_table_the_disk_did_not_take_fails_the_run)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 1 "
		 "2>&1 >/dev/full", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "ttft-probe: writing the table failed: No space left on "
			      "device"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 1 -q "
		 "2>&1 >/dev/full", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(!*out, "%s", out);
	free(out);
}
END_TEST

/* A server (or the proxy before it) may compress an answer whose request
 * named no coding (RFC 9110 12.5.3): a gzip event stream, one token and
 * [DONE] inside. The probe cannot read it: said, its tokens and TTFT not
 * known (null, as docs/phases.md has a compressed row), never the "≥0"
 * token events and "stream ended without [DONE]" it gave. */
/* A server for one request, in a child: it reads the request's head and
 * body, has answer() write what it will on the connection, then reads
 * until the probe closes. Its port in *port; kill and reap the pid. */
static pid_t one_answer(int *port, void (*answer)(int fd, const void *arg), const void *arg)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	pid_t srv = fork();
	ck_assert_int_ge(srv, 0);
	if (srv == 0) {
		int c = accept(lfd, NULL, NULL);
		char in[8192];
		size_t n = 0;
		ssize_t r;
		/* the head and its body (the probe sends them at once, mostly) */
		while (n < sizeof in - 1 && (r = recv(c, in + n, sizeof in - 1 - n, 0)) > 0) {
			n += (size_t)r;
			in[n] = 0;
			char *h = strstr(in, "\r\n\r\n"), *cl = strcasestr(in, "content-length:");
			if (h && cl && n >= (size_t)(h + 4 - in) + strtoul(cl + 15, NULL, 10))
				break;
		}
		answer(c, arg);
		shutdown(c, SHUT_WR);
		while (recv(c, in, sizeof in, 0) > 0)
			;
		_exit(0);
	}
	close(lfd);
	*port = ntohs(sa.sin_port);
	return srv;
}

/* Run the probe (--model m --metrics off, JSON lines and stderr in *out)
 * against port; its exit status. */
static int probe_at(int port, char **out)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --model m "
		 "--metrics off -q --json - 2>&1", tu_build_dir(), port);
	return tu_sh(cmd, out);
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

struct bytes {
	const char *p;
	size_t n;
};

static void send_gz(int c, const void *arg)
{
	const struct bytes *gz = arg;
	char head[256];
	int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\ncontent-type: "
			  "text/event-stream\r\nContent-Encoding: gzip\r\n"
			  "content-length: %zu\r\n\r\n", gz->n);
	write_all(c, head, (size_t)hl);
	write_all(c, gz->p, gz->n);
}

START_TEST(a_compressed_answer_is_said_not_counted)
{
	static const char gz[] =
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\x49\x2c\x49\xb4\x52\xa8\x56"
		"\x4a\xce\xc8\xcf\x4c\x4e\x2d\x56\xb2\x8a\xae\x56\xca\xcc\x4b\x49\xad\x50"
		"\xb2\x32\xd0\x51\x2a\x49\xad\x28\x51\xb2\x52\x4a\x54\xd2\x51\x4a\xcb\xcc"
		"\xcb\x2c\xce\x88\x2f\x4a\x4d\x2c\xce\xcf\x53\xb2\xca\x2b\xcd\xc9\xa9\x8d"
		"\xad\xe5\xe2\x4a\x01\x1b\x10\xed\xe2\xef\xe7\x1a\xcb\xc5\x05\x00\xee\x5c"
		"\x44\x20\x4f\x00\x00\x00";
	const struct bytes body = {gz, sizeof gz - 1};
	int port;
	pid_t srv = one_answer(&port, send_gz, &body);
	char *out;
	int rc = probe_at(port, &out);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "the server compressed its answer (Content-Encoding: gzip)") &&
		      strstr(out, "\"tokens\":null") && strstr(out, "\"ttft_s\":null") &&
		      !strstr(out, "without [DONE]"), "%s", out);
	free(out);
}
END_TEST

static void send_bytes(int c, const void *arg)
{
	const struct bytes *b = arg;
	write_all(c, b->p, b->n);
}

/* Bytes that are not chunked encoding after a valid chunk: the server
 * sent them, it did not close (curl's CURLE_RECV_ERROR "Illegal or
 * missing hexadecimal sequence in chunked-encoding" was said as "the
 * server closed the connection", a review found). */
START_TEST(bad_chunked_bytes_are_not_a_close)
{
	static const char ans[] =
		"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
		"transfer-encoding: chunked\r\n\r\n"
		"2d\r\ndata: {\"choices\":[{\"index\":0,\"text\":\"hi\"}]}\n\n\r\n"
		"zz not a chunk size\r\n\r\n";
	const struct bytes b = {ans, sizeof ans - 1};
	int port;
	pid_t srv = one_answer(&port, send_bytes, &b);
	char *out;
	int rc = probe_at(port, &out);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "stream ended without [DONE] after 1 tokens: the server "
			     "sent bytes that are not valid chunked encoding (") &&
		      !strstr(out, "closed the connection"), "%s", out);
	free(out);
}
END_TEST

/* A status line, then one header line of 20 MB (curl keeps at most
 * 100 KiB of one): the head never completes, there is no answer, so no
 * tokens and no TTFT. It was "transfer failed: Out of memory (curl error
 * 27)" with tokens "≥0" of a stream that never came (a review). */
static void send_giant_head(int c, const void *arg)
{
	(void)arg;
	static char chunk[1 << 16];
	memset(chunk, 'a', sizeof chunk);
	static const char head[] = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				   "X-Big: ";
	write_all(c, head, sizeof head - 1);
	for (int i = 0; i < 20 * 16; i++)
		write_all(c, chunk, sizeof chunk);
}

START_TEST(a_head_over_curls_limit_is_no_answer)
{
	int port;
	pid_t srv = one_answer(&port, send_giant_head, NULL);
	char *out;
	int rc = probe_at(port, &out);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "\"error\":\"the response's head was too large") &&
		      strstr(out, "\"tokens\":null") && strstr(out, "\"tokens_source\":null") &&
		      strstr(out, "\"ttft_s\":null") && !strstr(out, "Out of memory (curl"),
		      "%s", out);
	/* no answer: it output no tokens, and the summary's count stays known */
	ck_assert_msg(strstr(out, "\"output_tokens_per_s\":0"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probe");
	TCase *t = tu_tcase(s, "probe", 300);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, ttft_matches_injected_delays);
	tcase_add_test(t, cold_run_left_out_of_the_summaries);
	tcase_add_test(t, tail_percentiles_need_enough_runs);
	tcase_add_test(t, chat_role_chunk_not_counted);
	tcase_add_test(t, usage_is_honoured_and_nonstream);
	tcase_add_test(t, llamacpp_tokens_from_timings_without_usage);
	tcase_add_test(t, tokens_without_usage_are_a_lower_bound);
	tcase_add_test(t, nonstream_tokens_unknown_without_usage);
	tcase_add_test(t, error_cases_keep_their_record);
	tcase_add_test(t, a_malformed_events_prompt_parts_are_no_count);
	tcase_add_test(t, oversized_event_is_not_stored);
	tcase_add_test(t, interrupt_keeps_what_ran);
	tcase_add_test(t, refused_connection);
	tcase_add_test(t, a_stop_before_the_first_request_is_said);
	tcase_add_test(t, concurrent_256_streams_complete_and_in_order);
	tcase_add_test(t, marks_show_the_app_gap_under_the_shim);
	tcase_add_test(t, seed_scripts);
	tcase_add_test(t, usage_errors);
	tcase_add_test(t, flags_that_do_not_combine_are_refused);
	tcase_add_test(t, json_file_replaced_whole);
	tcase_add_test(t, a_table_the_disk_did_not_take_fails_the_run);
	tcase_add_test(t, a_compressed_answer_is_said_not_counted);
	tcase_add_test(t, bad_chunked_bytes_are_not_a_close);
	tcase_add_test(t, a_head_over_curls_limit_is_no_answer);
	tcase_add_test(t, user_traceparent_is_checked);
	tcase_add_test(t, header_without_a_valid_name_is_refused);
	return tu_run(s);
}
