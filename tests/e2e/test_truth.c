/* test_truth.c — the server's own numbers end to end: the per-request
 * split from /metrics deltas (vLLM) and from llama.cpp's timings and
 * counters, for ttft-probe and for a python3 client wrapped with ttft-run
 * --metrics, against the fixture's injected queue and prefill; concurrency
 * windows; garbage, truncated or missing pages and counters that go
 * backwards. The parser and the split rules alone: tests/unit/test_prom.c. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

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
		ck_assert_str_eq(str(r[i], "split_source"), "vllm-metrics");
		NEAR(f(r[i], "queue_s") * 1e3, Q_MS, 2.0);
		NEAR(f(r[i], "prefill_s") * 1e3, P_MS, 2.0);
		/* what is left: the injected 5 ms before the first token, plus
		 * the HTTP path on loopback and the client's own processing
		 * (slower under the sanitizers) */
		double other = f(r[i], "server_other_s") * 1e3;
		ck_assert_msg(other >= F_MS - 0.1 && other < F_MS + 5.0, "other %.3f ms", other);
		ck_assert(f(r[i], "network_s") >= 0 && f(r[i], "network_s") < 0.01);
		NEAR(f(r[i], "prefix_cache_hit_tokens"), 3, 1e-9);
		/* vLLM's own TTFT: arrival to first token, queue + prefill + 5 ms */
		NEAR(f(r[i], "server_ttft_s") * 1e3, Q_MS + P_MS + F_MS, 1.0);
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

/* python3 wrapped with ttft-run --metrics: requests spaced by more than the
 * scrape interval, so each window holds one request. */
static cJSON *wrapped_python(const char *fixture, int *n)
{
	char cmd[1024], js[256];
	tu_tmp_log(js, sizeof js, "truth-json");
	snprintf(cmd, sizeof cmd,
		 "TTFT_TEST_PAUSE=0.12 %s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "--metrics-interval 20 --json %s -- python3 tests/clients/py_httpclient.py %d 3 "
		 "keepalive x '%s' >/dev/null", tu_build_dir(), g_port, js, g_port, fixture);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	free(t);
	*n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests"));
	return j;
}

START_TEST(wrapped_client_gets_vllm_split)
{
	start("");
	char fx[64];
	snprintf(fx, sizeof fx, "queue=%g,prefill=%g", Q_MS, P_MS);
	int n;
	cJSON *j = wrapped_python(fx, &n), *q;
	ck_assert_int_eq(n, 3);
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		ck_assert_msg(!strcmp(str(q, "split_source"), "vllm-metrics"), "note: %s",
			      str(q, "split_note"));
		NEAR(f(q, "queue_s") * 1e3, Q_MS, 2.0);
		NEAR(f(q, "prefill_s") * 1e3, P_MS, 2.0);
		double other = f(q, "server_other_s") * 1e3;
		ck_assert_msg(other >= F_MS - 0.1 && other < F_MS + 5.0, "other %.3f", other);
	}
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
	/* a client that cannot read timings: llama.cpp's counters */
	char fx[64];
	snprintf(fx, sizeof fx, "prefill=%g", P_MS);
	cJSON *j = wrapped_python(fx, &n), *q;
	ck_assert_int_eq(n, 3);
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		ck_assert_msg(!strcmp(str(q, "split_source"), "llamacpp-metrics"), "note: %s",
			      str(q, "split_note"));
		NEAR(f(q, "prefill_s") * 1e3, P_MS, 2.0);
		ck_assert(isnan(f(q, "queue_s")));
	}
	cJSON_Delete(j);
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
	/* the fixture has served two requests, then "restarts" (zeroes its
	 * counters) inside one long window: the snapshots before and after
	 * the whole run */
	char cmd[1024], js[256];
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/v1/completions -H "
			 "'X-Fixture: queue=30' -d @tests/clients/completion.json >/dev/null",
			 g_port);
		ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	}
	tu_tmp_log(js, sizeof js, "backwards");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --metrics http://127.0.0.1:%d --metrics-interval 60000 --json %s -- "
		 "sh -c 'curl -s http://127.0.0.1:%d/v1/completions -H \"X-Fixture: queue=30\" "
		 "-d @tests/clients/completion.json; curl -s http://127.0.0.1:%d/fixture/restart; "
		 "curl -s http://127.0.0.1:%d/v1/completions -d @tests/clients/completion.json' "
		 ">/dev/null", tu_build_dir(), g_port, js, g_port, g_port, g_port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t), *q;
	int backwards = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests"))
		backwards += strstr(str(q, "split_note"), "went backwards") != NULL;
	ck_assert_msg(backwards == 2, "%s", t);
	cJSON_Delete(j);
	free(t);
	stop();
}
END_TEST

START_TEST(fitted_fallback)
{
	/* a server that explains nothing; prefill grows 0.5 ms a prompt token */
	start("--metrics-mode missing");
	char cmd[1024], fit[128], *out;
	snprintf(fit, sizeof fit, "/tmp/ttft-test-fit-%d.json", (int)getpid());
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --header "
		 "'X-Fixture: prefill_per_token=0.5' --calibrate %s 2>/dev/null",
		 tu_build_dir(), g_port, fit);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *t = tu_read_file(fit, NULL);
	cJSON *j = cJSON_Parse(t);
	NEAR(f(j, "b_s_per_token") * 1e3, 0.5, 0.01);
	NEAR(f(j, "a_s") * 1e3, F_MS, 2.0);
	cJSON_Delete(j);
	free(t);
	/* under load (here: injected queueing) the excess is estimated queue */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --fit %s --runs 3 "
		 "--max-tokens 3 -q --json - --header 'X-Fixture: prefill_per_token=0.5,queue=%g'",
		 tu_build_dir(), g_port, fit, Q_MS);
	cJSON *r[4];
	int n;
	cJSON *sum = jsonl(cmd, r, &n);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		/* an estimate from a fit, labelled so: within 3 ms */
		ck_assert_str_eq(str(r[i], "split_source"), "model");
		NEAR(f(r[i], "queue_s") * 1e3, Q_MS, 3.0);
		cJSON_Delete(r[i]);
	}
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

int main(void)
{
	Suite *s = suite_create("truth");
	TCase *t = tcase_create("truth");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, probe_gets_vllm_split);
	tcase_add_test(t, wrapped_client_gets_vllm_split);
	tcase_add_test(t, llamacpp_timings_and_counters);
	tcase_add_test(t, bad_metrics_pages);
	tcase_add_test(t, counters_going_backwards);
	tcase_add_test(t, fitted_fallback);
	suite_add_tcase(s, t);
	return tu_run(s);
}
