/* test_truth.c — the server's own numbers end to end: the per-request
 * split from /metrics deltas (vLLM) and from llama.cpp's timings and
 * counters, for ttft-probe and for a python3 client wrapped with ttft-run
 * --metrics, exactly the queue and prefill the fixture states, what is left
 * against the fixture's record of the request; concurrency windows;
 * garbage, truncated or missing pages and counters that go backwards; the
 * fitted fallback's arithmetic; the scraper's records as the reader reads
 * them back. The Prometheus parser and the split rules
 * alone: tests/unit/test_prom.c. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
#include "ttft_logread.h"
#include "ttft_join.h"
#include "ttft_scrape.h"

#define Q_MS 25.0
#define P_MS 40.0
#define F_MS 5.0

static int g_port;
static pid_t g_srv;

static void start(const char *extra)
{
	char args[256];
	snprintf(args, sizeof args, "--first-ms %g --token-ms 2 %s", F_MS, extra);
	g_port = tu_fixture_start(args, &g_srv);
}

static void stop(void)
{
	tu_fixture_stop(g_srv);
}

/* what the fixture states on /metrics is exact: only float rounding */
#define EXACT_MS 1e-6
#define NEAR(x, want, tol) ck_assert_msg(fabs((x) - (want)) < (tol), "%s = %.6f, want %.6f", #x, (double)(x), (double)(want))

static cJSON *jsonl(const char *cmd, cJSON **recs, int *n)
{
	char *out;
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *summary = NULL;
	*n = 0;
	for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(p);
		if (!o)
			continue;
		if (cJSON_GetObjectItem(o, "summary"))
			summary = o;
		else
			recs[(*n)++] = o;
	}
	free(out);
	return summary;
}

static double f(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

START_TEST(probe_gets_vllm_split)
{
	start("");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 3 --max-tokens 4 "
		 "-q --json - --header 'X-Fixture: queue=%g,prefill=%g,cached=3'", tu_build_dir(),
		 g_port, Q_MS, P_MS);
	cJSON *r[8];
	int n;
	cJSON *sum = jsonl(cmd, r, &n);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		/* the fixture's /metrics state exactly what it injected */
		ck_assert_str_eq(str(r[i], "split_source"), "vllm-metrics");
		NEAR(f(r[i], "queue_s") * 1e3, Q_MS, EXACT_MS);
		NEAR(f(r[i], "prefill_s") * 1e3, P_MS, EXACT_MS);
		NEAR(f(r[i], "prefix_cache_hit_tokens"), 3, 1e-9);
		/* vLLM's own TTFT: arrival to first token, queue + prefill + 5 ms */
		if (strncmp(str(r[i], "split_note"), TTFT_JOIN_NOTE_SERVER_TTFT,
			    strlen(TTFT_JOIN_NOTE_SERVER_TTFT))) /* else curl stamped late */
			NEAR(f(r[i], "server_ttft_s") * 1e3, Q_MS + P_MS + F_MS, EXACT_MS);
		/* what is left is the probe's TTFT less curl's pretransfer,
		 * queue and prefill. The TTFT holds the fixture's read → first
		 * token, so queue + prefill + the injected 5 ms (a sleep never
		 * ends early); curl stamps pretransfer once the request is on
		 * its way (a busy machine may stamp it after the fixture read
		 * it), so the 5 ms are in other + pretransfer. How close other
		 * comes to 5 ms is make bench's figure. */
		double ttft = f(r[i], "ttft_s"), pre = f(r[i], "pretransfer_s");
		double other = f(r[i], "server_other_s");
		NEAR(other, ttft - pre - f(r[i], "prefill_s") - f(r[i], "queue_s"), 1e-9);
		ck_assert_msg((other + pre) * 1e3 >= F_MS - 0.001, "other %.3f ms, pretransfer "
			      "%.3f ms", other * 1e3, pre * 1e3);
		ck_assert(f(r[i], "network_s") >= 0);
		cJSON_Delete(r[i]);
	}
	cJSON_Delete(sum);
	/* concurrency: one window for the run, its aggregate, no invented split */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --concurrency 4 "
		 "--max-tokens 4 -q --json - --header 'X-Fixture: queue=%g,prefill=%g'",
		 tu_build_dir(), g_port, Q_MS, P_MS);
	sum = jsonl(cmd, r, &n);
	ck_assert_int_eq(n, 4);
	for (int i = 0; i < n; i++) {
		ck_assert(isnan(f(r[i], "queue_s")));
		cJSON_Delete(r[i]);
	}
	cJSON *w = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "summary"), "server_window");
	ck_assert_ptr_nonnull(w);
	NEAR(f(w, "requests"), 4, 1e-9);
	NEAR(f(w, "queue_s") * 1e3, 4 * Q_MS, 1e-6);
	ck_assert_msg(strstr(str(w, "note"), "window holds 4 requests"), "%s", str(w, "note"));
	cJSON_Delete(sum);
	stop();
}
END_TEST

/* python3 wrapped with ttft-run --metrics: after each response the client
 * waits until the fixture has served two more /metrics pages, so a
 * snapshot taken after it lies between any two requests and each window
 * holds one request, however slow the machine. The analysis of the kept
 * log, the fixture's record, and what ttft-run printed. */
struct wrapped {
	struct ttft_analysis a;
	struct tu_truth truth;
	size_t before;           /* completions the fixture served earlier */
	cJSON *json;
};

static void wrapped_python(const char *fixture, struct wrapped *w)
{
	char cmd[2048], js[256], log[256], truth[512];
	tu_tmp_log(js, sizeof js, "truth-json");
	tu_tmp_log(log, sizeof log, "truth-log");
	tu_fixture_truth_path(g_srv, truth, sizeof truth);
	tu_fixture_truth(g_srv, &w->truth);
	w->before = tu_truth_count(&w->truth, "/v1/");
	tu_truth_free(&w->truth);
	snprintf(cmd, sizeof cmd,
		 "TTFT_TEST_SCRAPES='%s 2' %s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "--metrics-interval 20 --log %s --json %s -- python3 tests/clients/py_httpclient.py "
		 "%d 3 keepalive x '%s' >/dev/null", truth, tu_build_dir(), g_port, log, js, g_port,
		 fixture);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	w->json = cJSON_Parse(t);
	free(t);
	char err[256];
	struct ttft_filter flt = {0, "/v1/"};
	ck_assert_msg(ttft_analyze_file(log, &flt, &w->a, err, sizeof err) == 0, "%s", err);
	unlink(log);
	tu_fixture_truth(g_srv, &w->truth);
	ck_assert_uint_eq(w->a.nreqs, 3);
	ck_assert_uint_eq(tu_truth_count(&w->truth, "/v1/"), w->before + 3);
}

static void wrapped_free(struct wrapped *w)
{
	ttft_analysis_free(&w->a);
	tu_truth_free(&w->truth);
	cJSON_Delete(w->json);
}

/* What is left of request i's TTFT (from its last request byte) once queue
 * and prefill are taken out holds the injected F_MS: the first token was
 * written F_MS after them, counted from the fixture's read of the request,
 * which came after the client began sending. */
static void check_other(const struct wrapped *w, int i)
{
	const struct ttft_record *q = &w->a.reqs[i];
	const struct tu_treq *s = tu_truth_req(&w->truth, "/v1/", w->before + (size_t)i);
	struct ttft_phases p;
	ttft_record_phases(q, &p);
	const struct ttft_server_split *sp = ttft_record_split(q);
	NEAR(p.server_other_s, (double)(q->t_first - q->t_req1) / 1e9 - sp->prefill_s -
	     (isnan(sp->queue_s) ? 0 : sp->queue_s), 1e-9);
	ck_assert(q->t_req0 <= s->recv_first_ns && s->tok[0] <= q->t_first);
	double late = (double)(q->t_req1 - s->recv_first_ns) / 1e9;
	ck_assert_msg((p.server_other_s + late) * 1e3 >= F_MS, "request %d: other %.3f ms", i,
		      p.server_other_s * 1e3);
}

START_TEST(wrapped_client_gets_vllm_split)
{
	start("");
	char fx[64];
	snprintf(fx, sizeof fx, "queue=%g,prefill=%g", Q_MS, P_MS);
	struct wrapped w;
	wrapped_python(fx, &w);
	cJSON *q;
	int i = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(w.json, "requests")) {
		if (strncmp(str(q, "path"), "/v1/", 4))
			continue;
		ck_assert_msg(!strcmp(str(q, "split_source"), "vllm-metrics"), "note: %s",
			      str(q, "split_note"));
		NEAR(f(q, "queue_s") * 1e3, Q_MS, EXACT_MS);
		NEAR(f(q, "prefill_s") * 1e3, P_MS, EXACT_MS);
		check_other(&w, i++);
	}
	ck_assert_int_eq(i, 3);
	wrapped_free(&w);
	stop();
}
END_TEST

/* ttft-run's --json document at path (removed). */
static cJSON *json_of(const char *path)
{
	char *t = tu_read_file(path, NULL);
	unlink(path);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* The one /v1/completions row of a --json document. */
static cJSON *the_row(cJSON *j)
{
	cJSON *q, *row = NULL;
	int n = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests"))
		if (!strcmp(str(q, "path"), "/v1/completions"))
			row = q, n++;
	ck_assert_int_eq(n, 1);
	return row;
}

/* A client that reads late (a review's finding): request X finished on
 * the server long before the client read it, and another client the shim
 * does not see finished request Z just before that read. X's window by its
 * read holds Z's one finish; X must never be given Z's numbers: its own
 * (its last bytes' arrival, from the kernel, bounds its finish) or none. */
START_TEST(late_reader_never_takes_another_requests_split)
{
	start("");
	char cmd[1024], js[256], *out;
	tu_tmp_log(js, sizeof js, "late-json");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "--metrics-interval 200 --json %s -- python3 tests/clients/py_late_reader.py "
		 "%d 10 77", tu_build_dir(), g_port, js, g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"x_status\": 200"), "%s", out);
	free(out);
	cJSON *j = json_of(js), *q = the_row(j);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")));
	double p = f(q, "prefill_s");
	ck_assert_msg(isnan(p) || fabs(p * 1e3 - 10) < EXACT_MS,
		      "X given prefill %.3f ms (Z's is 77): %s", p * 1e3, str(q, "split_note"));
	cJSON_Delete(j);
	stop();
}
END_TEST

/* A request to another server than the one scraped is never joined with
 * the scraped server's pages (a review's finding: a client the shim does
 * not see, on the scraped server, ended in the same window, and its numbers
 * were given to the request that went elsewhere). */
START_TEST(a_request_elsewhere_is_not_joined)
{
	start("");
	pid_t other;
	int port_b = tu_fixture_start("--first-ms 5 --token-ms 2", &other);
	char cmd[2048], js[256], *out;
	tu_tmp_log(js, sizeof js, "elsewhere-json");
	/* the same request to each at once: the unseen one on the scraped
	 * server ends when the one to the other server does */
	snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u TTFT_LOG curl -sN -o /dev/null "
		 "http://127.0.0.1:%d/v1/completions -H 'X-Fixture: prefill=40' "
		 "-d @tests/clients/completion.json & %s/ttft-run --quiet --metrics "
		 "http://127.0.0.1:%d --metrics-interval 200 --json %s -- curl -sN -o /dev/null "
		 "http://127.0.0.1:%d/v1/completions -H 'X-Fixture: prefill=40' "
		 "-d @tests/clients/completion.json; rc=$?; wait; exit $rc", g_port, tu_build_dir(),
		 g_port, js, port_b);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	cJSON *j = json_of(js), *q = the_row(j);
	ck_assert_msg(!cJSON_IsString(cJSON_GetObjectItem(q, "split_source")),
		      "joined with the other server's pages: %s, prefill %.3f ms",
		      str(q, "split_source"), f(q, "prefill_s") * 1e3);
	ck_assert_msg(strstr(str(q, "split_note"), "another server"), "%s", str(q, "split_note"));
	cJSON_Delete(j);
	tu_fixture_stop(other);
	stop();
}
END_TEST

/* vLLM with n=2, byte for byte (the fixture's X-Fixture n=2: a role
 * chunk and each step's token for choice 0 then 1, usage counting both;
 * /metrics counting two finishes): curl under the shim, scraped. The row
 * says several_choices, gives no split and says why, and counts every
 * token event of both choices, as usage and the fixture's record do. */
START_TEST(several_choices_are_not_one_request)
{
	start("");
	char cmd[2048], js[256], *out;
	tu_tmp_log(js, sizeof js, "choices-json");
	struct tu_truth tr;
	tu_fixture_truth(g_srv, &tr);
	size_t before = tu_truth_count(&tr, "/v1/");
	tu_truth_free(&tr);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "--metrics-interval 20 --json %s -- curl -sN -o /dev/null "
		 "http://127.0.0.1:%d/v1/completions -H 'X-Fixture: n=2,first=0,token=1' "
		 "-d '{\"prompt\":\"hi\",\"max_tokens\":5,\"stream\":true,"
		 "\"stream_options\":{\"include_usage\":true}}'",
		 tu_build_dir(), g_port, js, g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	cJSON *j = json_of(js), *row = the_row(j);
	tu_fixture_truth(g_srv, &tr);
	const struct tu_treq *s = tu_truth_req(&tr, "/v1/", before);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->ntok, 10); /* 5 a choice */
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "complete")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "several_choices")));
	ck_assert_int_eq((int)f(row, "tokens"), s->ntok);
	ck_assert_msg(!cJSON_IsString(cJSON_GetObjectItem(row, "split_source")),
		      "given %s: queue %.3f ms", str(row, "split_source"),
		      f(row, "queue_s") * 1e3);
	ck_assert_msg(strstr(str(row, "split_note"), "several choices"), "%s",
		      str(row, "split_note"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "itl_n")));
	tu_truth_free(&tr);
	cJSON_Delete(j);
	stop();
}
END_TEST

/* A POST that never reaches the engine (vLLM's /tokenize) is counted in
 * no histogram: a window around it whose count grew by one holds another
 * request's finish (a review: a client the shim does not see ended in
 * it, and the /tokenize row was given that request's queue and prefill,
 * labelled vllm-metrics). Such a row gets no split, and its interval
 * keeps no completion's window from being proved. */
START_TEST(a_tokenize_request_is_not_joined)
{
	start("");
	char cmd[2048], js[256], *out;
	tu_tmp_log(js, sizeof js, "tokenize-json");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "--metrics-interval 5000 --json %s -- sh -c 'env -u LD_PRELOAD -u TTFT_LOG "
		 "curl -sN -o /dev/null http://127.0.0.1:%d/v1/completions -H \"X-Fixture: "
		 "queue=0,prefill=0.001,first=0,token=0\" -d @tests/clients/completion.json & "
		 "curl -s -o /dev/null http://127.0.0.1:%d/tokenize -d \"{\\\"prompt\\\":"
		 "\\\"hello there\\\"}\"; rc=$?; wait; sleep 0.05; exit $rc'",
		 tu_build_dir(), g_port, js, g_port, g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	cJSON *j = json_of(js), *q, *row = NULL;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests"))
		if (!strcmp(str(q, "path"), "/tokenize"))
			row = q;
	ck_assert_ptr_nonnull(row);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "complete")));
	ck_assert_msg(!cJSON_IsString(cJSON_GetObjectItem(row, "split_source")),
		      "/tokenize given %s: queue %.3f ms, prefill %.3f ms",
		      str(row, "split_source"), f(row, "queue_s") * 1e3,
		      f(row, "prefill_s") * 1e3);
	cJSON_Delete(j);
	stop();
}
END_TEST

START_TEST(llamacpp_timings_and_counters)
{
	start("--style llamacpp");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs 2 --max-tokens 4 "
		 "-q --json - --header 'X-Fixture: prefill=%g,cached=6'", tu_build_dir(), g_port, P_MS);
	cJSON *r[4];
	int n;
	cJSON *sum = jsonl(cmd, r, &n);
	ck_assert_int_eq(n, 2);
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(str(r[i], "split_source"), "llamacpp-timings");
		NEAR(f(r[i], "prefill_s") * 1e3, P_MS, 1e-6);
		NEAR(f(r[i], "prefix_cache_hit_tokens"), 6, 1e-9);
		cJSON_Delete(r[i]);
	}
	cJSON_Delete(sum);
	/* a stream without timings (an older server, a stream cut short:
	 * X-Fixture timings=0): llama.cpp's counters */
	char fx[64];
	snprintf(fx, sizeof fx, "prefill=%g,timings=0", P_MS);
	struct wrapped w;
	wrapped_python(fx, &w);
	cJSON *q;
	int i = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(w.json, "requests")) {
		if (strncmp(str(q, "path"), "/v1/", 4))
			continue;
		ck_assert_msg(!strcmp(str(q, "split_source"), "llamacpp-metrics"), "note: %s",
			      str(q, "split_note"));
		NEAR(f(q, "prefill_s") * 1e3, P_MS, EXACT_MS);
		ck_assert(isnan(f(q, "queue_s")));
		check_other(&w, i++);
	}
	ck_assert_int_eq(i, 3);
	wrapped_free(&w);
	stop();
}
END_TEST

START_TEST(bad_metrics_pages)
{
	static const char *modes[] = {"garbage", "truncated", "missing"};
	for (int m = 0; m < 3; m++) {
		char extra[64];
		snprintf(extra, sizeof extra, "--metrics-mode %s", modes[m]);
		start(extra);
		char cmd[1024], *out;
		/* the probe: asked for metrics, warns, keeps measuring */
		snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --metrics on "
			 "--runs 1 --max-tokens 3 -q --json - 2>&1", tu_build_dir(), g_port);
		ck_assert_int_eq(tu_sh(cmd, &out), 0);
		ck_assert_msg(strstr(out, "warning: --metrics on, but"), "%s: %s", modes[m], out);
		ck_assert_msg(strstr(out, "\"split_source\":null"), "%s", out);
		free(out);
		/* ttft-run --metrics: a warning, the split null with a reason */
		char js[256];
		tu_tmp_log(js, sizeof js, "badm");
		snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d --json %s "
			 "-- curl -s http://127.0.0.1:%d/v1/completions -d @tests/clients/completion.json "
			 "2>&1 >/dev/null", tu_build_dir(), g_port, js, g_port);
		ck_assert_int_eq(tu_sh(cmd, &out), 0);
		ck_assert_msg(strstr(out, "/metrics snapshots failed"), "%s: %s", modes[m], out);
		free(out);
		char *t = tu_read_file(js, NULL);
		unlink(js);
		cJSON *j = cJSON_Parse(t);
		cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "split_source")));
		ck_assert_msg(strlen(str(q, "split_note")) > 0, "%s", t);
		cJSON_Delete(j);
		free(t);
		stop();
	}
}
END_TEST

START_TEST(counters_going_backwards)
{
	start("");
	/* the fixture "restarts" (zeroes its counters) the moment the third
	 * request arrives; that request ends at once (no delays), so the last
	 * snapshot certainly before its end (± the join's skew) came before
	 * the restart, and its window goes backwards */
	char cmd[4096], js[256], truth[512];
	tu_tmp_log(js, sizeof js, "backwards");
	tu_fixture_truth_path(g_srv, truth, sizeof truth);
	const char *post = "curl -sf http://127.0.0.1:%d/v1/completions "
			   "-d @tests/clients/completion.json";
	char req[256], wait[600];
	snprintf(req, sizeof req, post, g_port);
	/* a snapshot between requests, 20 ms clear of each (as in
	 * py_httpclient.py): outside the join's ±5 ms, however late a busy
	 * machine lets curl stamp its reads */
	snprintf(wait, sizeof wait, "sleep 0.02 && sh tests/clients/wait_scrapes.sh %s 2 && "
		 "sleep 0.02", truth);
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --metrics http://127.0.0.1:%d --metrics-interval 20 --json %s "
		 "-- sh -c '%s -H \"X-Fixture: queue=30\" && %s && %s -H \"X-Fixture: queue=30\" && "
		 "%s && %s -H \"X-Fixture: restart=1,first=0,token=0\"' >/dev/null", tu_build_dir(), g_port, js,
		 req, wait, req, wait, req);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t), *q;
	int i = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		if (strcmp(str(q, "path"), "/v1/completions"))
			continue;
		if (i++ < 2) {
			ck_assert_msg(!strcmp(str(q, "split_source"), "vllm-metrics"), "%s", t);
			NEAR(f(q, "queue_s") * 1e3, 30.0, EXACT_MS);
		} else {
			ck_assert(cJSON_IsNull(cJSON_GetObjectItem(q, "split_source")));
			ck_assert_msg(strstr(str(q, "split_note"), "went backwards"), "%s", t);
		}
	}
	ck_assert_int_eq(i, 3);
	cJSON_Delete(j);
	free(t);
	stop();
}
END_TEST

START_TEST(fitted_fallback)
{
	/* a server that explains nothing; prefill grows 0.5 ms a prompt token */
	start("--metrics-mode missing");
	char cmd[1024], fit[256], *out;
	tu_tmp_log(fit, sizeof fit, "fit");
	/* an old fit there, with a second name: the new one replaces it
	 * whole (renamed over it), so the old name's file is untouched */
	char old[300];
	snprintf(old, sizeof old, "%s.old", fit);
	FILE *of = fopen(fit, "w");
	ck_assert_ptr_nonnull(of);
	fputs("{\"old\":1}\n", of);
	fclose(of);
	ck_assert_int_eq(link(fit, old), 0);
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --header "
		 "'X-Fixture: prefill_per_token=0.5' --calibrate %s 2>/dev/null",
		 tu_build_dir(), g_port, fit);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *was = tu_read_file(old, NULL);
	ck_assert_msg(!strcmp(was, "{\"old\":1}\n"), "the fit was written in place: %s", was);
	free(was);
	unlink(old);
	char *t = tu_read_file(fit, NULL);
	cJSON *j = cJSON_Parse(t);
	/* each point: a prompt length the fixture counted (5 runs of each),
	 * and a median TTFT that holds the fixture's injected prefill */
	struct tu_truth tr;
	tu_fixture_truth(g_srv, &tr);
	ck_assert_uint_eq(tu_truth_count(&tr, "/v1/completions"), 20);
	cJSON *pts = cJSON_GetObjectItem(j, "points"), *pt;
	ck_assert_int_eq(cJSON_GetArraySize(pts), 4);
	double x[4], y[4];
	int k = 0;
	cJSON_ArrayForEach(pt, pts) {
		x[k] = f(pt, "prompt_tokens");
		y[k] = f(pt, "ttft_s");
		for (int i = 0; i < 5; i++)
			ck_assert_int_eq(tu_truth_req(&tr, "/v1/completions", (size_t)(5 * k + i))->prompt_tokens,
					 (int)x[k]);
		ck_assert_msg(y[k] * 1e3 >= F_MS + 0.5 * x[k], "%.0f tokens: ttft %.4f s", x[k], y[k]);
		ck_assert(k == 0 || x[k] > x[k - 1]);
		k++;
	}
	tu_truth_free(&tr);
	/* the line is the least-squares fit of those points */
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < 4; i++)
		sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
	double b = (4 * sxy - sx * sy) / (4 * sxx - sx * sx), a = (sy - b * sx) / 4;
	NEAR(f(j, "b_s_per_token"), b, 1e-12);
	NEAR(f(j, "a_s"), a, 1e-12);
	cJSON_Delete(j);
	free(t);
	/* under load (here: injected queueing) the excess over the line is
	 * estimated queue, labelled as a model; how close it comes to the
	 * injected queue is make bench's figure */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --fit %s --runs 3 "
		 "--max-tokens 3 -q --json - --header 'X-Fixture: prefill_per_token=0.5,queue=%g'",
		 tu_build_dir(), g_port, fit, Q_MS);
	cJSON *r[4];
	int n;
	cJSON *sum = jsonl(cmd, r, &n);
	ck_assert_int_eq(n, 3);
	tu_fixture_truth(g_srv, &tr);
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(str(r[i], "split_source"), "model");
		const struct tu_treq *s = tu_truth_req(&tr, "/v1/completions", (size_t)(20 + i));
		ck_assert_ptr_nonnull(s);
		double excess = f(r[i], "ttft_s") - (a + b * s->prompt_tokens);
		NEAR(f(r[i], "queue_s"), excess > 0 ? excess : 0, 1e-9);
		cJSON_Delete(r[i]);
	}
	tu_truth_free(&tr);
	cJSON_Delete(sum);
	/* a file that is not a calibration */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --fit /etc/hostname 2>&1",
		 tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "is not a calibration file"), "%s", out);
	free(out);
	unlink(fit);
	stop();
}
END_TEST

/* The scraper writes through the log's one writer (ttft_log_put): the
 * reader takes back every record it wrote, sealed and intact, exactly one
 * SCRAPE record for each page the fixture served and as many METRIC
 * records as it says it found, each stamped with the thread that took the
 * snapshot, the page rendered between a snapshot's two stamps. */
START_TEST(scraper_records_read_back)
{
	start("");
	char url[64], log[256], truth[512], cmd[700], err[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", g_port);
	tu_tmp_log(log, sizeof log, "scrape");
	tu_fixture_truth_path(g_srv, truth, sizeof truth);
	static struct ttft_scraper sc;
	ck_assert_msg(ttft_scraper_start(&sc, url, log, 20, err, sizeof err) == 0, "%s", err);
	snprintf(cmd, sizeof cmd, "sh tests/clients/wait_scrapes.sh %s 3", truth);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	ttft_scraper_stop(&sc);
	ck_assert_uint_eq(sc.failures, 0);
	struct tu_truth tr;
	tu_fixture_truth(g_srv, &tr);
	size_t pages = tu_truth_count(&tr, "/metrics");
	ck_assert_uint_ge(pages, 4);
	/* every page taken is written or, nothing having changed, counted
	 * quiet; the first and the last are always written */
	ck_assert_uint_eq(sc.snapshots + sc.quiet, pages);
	ck_assert_uint_ge(sc.snapshots, 2);

	struct ttft_log_view v;
	ck_assert_msg(ttft_log_view_open(&v, log, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(v.dropped, 0);
	unsigned *metrics = calloc(pages + 1, sizeof *metrics);
	int64_t *t0 = calloc(pages + 1, sizeof *t0);
	size_t scrapes = 0, nmetric = 0;
	pid_t me = getpid(), main_tid = gettid();
	for (uint64_t i = 0; i < v.n_slots; i++) {
		struct ttft_rec r;
		ck_assert_msg(ttft_log_view_get(&v, i, &r) == 1, "slot %llu", (unsigned long long)i);
		ck_assert_int_eq(r.pid, me);
		ck_assert_int_ne(r.tid, 0);
		ck_assert_int_eq(r.fd, -1);
		ck_assert(r.b >= 1 && (unsigned)r.b <= sc.snapshots);
		if (r.kind == TTFT_EV_METRIC) {
			metrics[r.b]++;
			nmetric++;
			ck_assert(t0[r.b] == 0 || t0[r.b] == r.t_ns);
			t0[r.b] = r.t_ns;
			continue;
		}
		ck_assert_uint_eq(r.kind, TTFT_EV_SCRAPE);
		scrapes++;
		ck_assert_int_eq(r.err, 0);
		ck_assert_uint_gt(r.a, 0);
		/* every value of the snapshot came before its close */
		ck_assert_uint_eq(metrics[r.b], (unsigned)r.a);
		/* the page the fixture served between the snapshot's stamps */
		int served = 0;
		for (size_t k = 0; k < pages && !served; k++) {
			const struct tu_treq *q = tu_truth_req(&tr, "/metrics", k);
			served = q && t0[r.b] <= q->recv_first_ns && q->hdr_ns <= r.t_ns;
		}
		ck_assert_msg(served, "snapshot %lld: no page served between its stamps",
			      (long long)r.b);
		/* the first snapshot is taken by ttft_scraper_start, the last
		 * by ttft_scraper_stop: this thread */
		if (r.b == 1 || (size_t)r.b == sc.snapshots)
			ck_assert_int_eq(r.tid, main_tid);
	}
	ck_assert_uint_eq(v.unpublished, 0);
	ck_assert_uint_eq(v.corrupt, 0);
	ck_assert_uint_eq(scrapes, sc.snapshots);
	ck_assert_uint_eq(v.n_slots, scrapes + nmetric);
	free(metrics);
	free(t0);
	ttft_log_view_close(&v);
	tu_truth_free(&tr);
	unlink(log);
	stop();
}
END_TEST

/* An idle scraper writes a page only when something could tell it from
 * the last one written (docs/server-truth.md): at 20 ms an idle run had
 * filled the default log with pages in 35 minutes. Requests 1.5 s apart
 * (the quiet between them longer than the second the scraper goes on
 * writing after the log's last record) each still get the server's split,
 * exactly, and the log holds fewer pages than the fixture served. */
START_TEST(idle_pages_are_not_written_and_windows_still_close)
{
	start("");
	char cmd[4096], js[256], log[256], truth[512], fx[64], one[1024];
	tu_tmp_log(js, sizeof js, "idle-json");
	tu_tmp_log(log, sizeof log, "idle-log");
	tu_fixture_truth_path(g_srv, truth, sizeof truth);
	struct tu_truth tr;
	tu_fixture_truth(g_srv, &tr);
	size_t pages0 = tu_truth_count(&tr, "/metrics");
	tu_truth_free(&tr);
	snprintf(fx, sizeof fx, "queue=%g,prefill=%g", Q_MS, P_MS);
	snprintf(one, sizeof one,
		 "TTFT_TEST_SCRAPES='%s 2' python3 tests/clients/py_httpclient.py %d 1 new x '%s'",
		 truth, g_port, fx);
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --metrics http://127.0.0.1:%d --metrics-interval 20 "
		 "--log %s --json %s -- sh -c \"%s && sleep 1.5 && %s && sleep 1.5 && %s\" >/dev/null",
		 tu_build_dir(), g_port, log, js, one, one, one);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	cJSON *j = json_of(js);
	cJSON *q;
	int n = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		if (strcmp(str(q, "path"), "/v1/completions"))
			continue;
		ck_assert_msg(!strcmp(str(q, "split_source"), "vllm-metrics"), "note: %s",
			      str(q, "split_note"));
		NEAR(f(q, "queue_s") * 1e3, Q_MS, EXACT_MS);
		NEAR(f(q, "prefill_s") * 1e3, P_MS, EXACT_MS);
		n++;
	}
	ck_assert_int_eq(n, 3);
	cJSON_Delete(j);
	tu_fixture_truth(g_srv, &tr);
	size_t served = tu_truth_count(&tr, "/metrics") - pages0;
	tu_truth_free(&tr);
	struct ttft_log_view v;
	char err[512];
	ck_assert_msg(ttft_log_view_open(&v, log, err, sizeof err) == 0, "%s", err);
	size_t written = 0;
	for (uint64_t i = 0; i < v.n_slots; i++) {
		struct ttft_rec r;
		if (ttft_log_view_get(&v, i, &r) == 1 && r.kind == TTFT_EV_SCRAPE)
			written++;
	}
	ttft_log_view_close(&v);
	unlink(log);
	/* 3 s of quiet at 20 ms is ~150 pages, of which the ~2 s more than a
	 * second after a record are not written */
	ck_assert_msg(written >= 4 && written + 50 <= served, "%zu of %zu pages written",
		      written, served);
	stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("truth");
	TCase *t = tu_tcase(s, "truth", 300);
	tcase_add_test(t, probe_gets_vllm_split);
	tcase_add_test(t, several_choices_are_not_one_request);
	tcase_add_test(t, wrapped_client_gets_vllm_split);
	tcase_add_test(t, idle_pages_are_not_written_and_windows_still_close);
	tcase_add_test(t, late_reader_never_takes_another_requests_split);
	tcase_add_test(t, a_request_elsewhere_is_not_joined);
	tcase_add_test(t, a_tokenize_request_is_not_joined);
	tcase_add_test(t, llamacpp_timings_and_counters);
	tcase_add_test(t, bad_metrics_pages);
	tcase_add_test(t, counters_going_backwards);
	tcase_add_test(t, fitted_fallback);
	tcase_add_test(t, scraper_records_read_back);
	return tu_run(s);
}
