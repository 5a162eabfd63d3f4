/* test_trace.c — ttft-analyze --trace and --svg on a real log: the probe
 * under the shim against the fixture server (2 streams at once, 6
 * requests of 5 tokens): the trace is JSON with one request slice per
 * request, every token an instant (exactly 6 × 5, 6 of them first
 * tokens, and the probe's 6 marks of seeing them), a named track per
 * connection that carried requests, every
 * phase inside its request, no two slices of a track overlapping (two
 * pipelined requests: a track each); the waterfall names every request
 * with its TTFT. Counts and containment, no timing. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static const char *name(cJSON *e)
{
	cJSON *n = cJSON_GetObjectItem(e, "name");
	return cJSON_IsString(n) ? n->valuestring : "";
}

static double num(cJSON *e, const char *k)
{
	return cJSON_GetObjectItem(e, k)->valuedouble;
}

START_TEST(trace_and_waterfall_from_a_log)
{
	pid_t fx;
	int port = tu_fixture_start("--first-ms 5 --token-ms 2", &fx);
	char log[400], tr[512], svg[512], cmd[4096];
	tu_tmp_log(log, sizeof log, "trace");
	snprintf(tr, sizeof tr, "%s.trace.json", log);
	snprintf(svg, sizeof svg, "%s.svg", log);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- %s/ttft-probe --url "
		 "http://127.0.0.1:%d -q --max-tokens 5 --concurrency 2 --requests 6 --metrics off",
		 tu_build_dir(), log, tu_build_dir(), port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	tu_fixture_stop(fx);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --path /v1/completions --trace %s --svg %s "
		 "%s >/dev/null", tu_build_dir(), tr, svg, log);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	unlink(log);
	char *t = tu_read_file(tr, NULL), *s = tu_read_file(svg, NULL);
	unlink(tr);
	unlink(svg);
	cJSON *j = cJSON_Parse(t);
	ck_assert_msg(j != NULL, "the trace is not JSON");
	cJSON *evs = cJSON_GetObjectItem(j, "traceEvents"), *e;
	int reqs = 0, tokens = 0, firsts = 0, marks = 0, tracks = 0;
	cJSON_ArrayForEach(e, evs) {
		const char *ph = cJSON_GetObjectItem(e, "ph")->valuestring;
		if (!strcmp(ph, "X") && !strcmp(cJSON_GetObjectItem(e, "cat")->valuestring, "request"))
			reqs++;
		if (!strcmp(ph, "i") && !strcmp(cJSON_GetObjectItem(e, "cat")->valuestring, "token")) {
			/* an instant a time: the events one read brought at
			 * once are one, args.tokens of them (a busy machine
			 * reads two 2 ms apart in one read) */
			cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "tokens");
			tokens += cJSON_IsNumber(n) ? n->valueint : 1;
			firsts += !strcmp(name(e), "first token");
		}
		/* the probe marks, under the shim, when it saw each first token */
		marks += !strcmp(ph, "i") && !strcmp(cJSON_GetObjectItem(e, "cat")->valuestring, "mark");
		tracks += !strcmp(name(e), "thread_name");
	}
	ck_assert_int_eq(reqs, 6);
	ck_assert_int_eq(tokens, 6 * 5);
	ck_assert_int_eq(firsts, 6);
	ck_assert_int_eq(marks, 6);
	ck_assert_msg(tracks >= 2 && tracks <= 6, "%d tracks", tracks);
	/* each phase lies inside a request slice of its own track */
	cJSON *p;
	cJSON_ArrayForEach(p, evs) {
		cJSON *cat = cJSON_GetObjectItem(p, "cat");
		if (!cJSON_IsString(cat) || strcmp(cat->valuestring, "phase"))
			continue;
		int inside = 0;
		cJSON_ArrayForEach(e, evs) {
			cJSON *c = cJSON_GetObjectItem(e, "cat");
			if (cJSON_IsString(c) && !strcmp(c->valuestring, "request") &&
			    num(e, "tid") == num(p, "tid") && num(p, "ts") >= num(e, "ts") - 1e-3 &&
			    num(p, "ts") + num(p, "dur") <= num(e, "ts") + num(e, "dur") + 1e-3)
				inside = 1;
		}
		ck_assert_msg(inside, "phase %s at %g outside its request", name(p), num(p, "ts"));
	}
	char why[512];
	ck_assert_msg(tu_trace_nested(evs, why, sizeof why), "%s", why);
	/* the waterfall: a row and a TTFT per request */
	int rows = 0;
	for (const char *q = s; (q = strstr(q, ">TTFT ")); q++)
		rows++;
	ck_assert_int_eq(rows, 6);
	ck_assert(strstr(s, "Where each request") && strstr(s, "POST /v1/completions"));
	cJSON_Delete(j);
	free(t);
	free(s);
}
END_TEST

/* Two requests pipelined on one connection (one sendall of both, a
 * review's repro): the second began before the first ended, so it is on
 * a track of its own, named for its connection; no track holds slices
 * that overlap (they had: [0, 31.0 ms] and [0.6, 31.4 ms] on one). */
START_TEST(pipelined_requests_get_a_track_each)
{
	pid_t fx;
	int port = tu_fixture_start("--first-ms 20 --token-ms 2", &fx);
	char log[400], tr[512], cmd[2048];
	tu_tmp_log(log, sizeof log, "trace-pipe");
	snprintf(tr, sizeof tr, "%s.trace.json", log);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- python3 "
		 "tests/clients/py_pipelined.py %d", tu_build_dir(), log, port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	tu_fixture_stop(fx);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --trace %s %s >/dev/null", tu_build_dir(),
		 tr, log);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	unlink(log);
	char *t = tu_read_file(tr, NULL);
	unlink(tr);
	cJSON *j = cJSON_Parse(t);
	ck_assert_msg(j != NULL, "the trace is not JSON");
	cJSON *evs = cJSON_GetObjectItem(j, "traceEvents"), *e;
	char why[512];
	ck_assert_msg(tu_trace_nested(evs, why, sizeof why), "%s", why);
	double tid[2] = {-1, -1};
	int reqs = 0, lanes = 0;
	cJSON_ArrayForEach(e, evs) {
		cJSON *c = cJSON_GetObjectItem(e, "cat");
		if (cJSON_IsString(c) && !strcmp(c->valuestring, "request") && reqs < 2)
			tid[reqs++] = num(e, "tid");
		if (!strcmp(name(e), "thread_name"))
			lanes += !!strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"),
							      "name")->valuestring, "pipelined 2)");
	}
	ck_assert_int_eq(reqs, 2);
	ck_assert(tid[0] != tid[1]);
	ck_assert_int_eq(lanes, 1);
	cJSON_Delete(j);
	free(t);
}
END_TEST

START_TEST(unwritable_outputs_fail)
{
	char log[400], cmd[1024], *out;
	tu_tmp_log(log, sizeof log, "trace-bad");
	pid_t fx;
	int port = tu_fixture_start("", &fx);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- curl -s -o /dev/null "
		 "http://127.0.0.1:%d/health", tu_build_dir(), log, port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	tu_fixture_stop(fx);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --trace /nonexistent/dir/t.json %s 2>&1 "
		 ">/dev/null", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "cannot write --trace /nonexistent/dir/t.json"), "%s", out);
	free(out);
	unlink(log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *t = tu_tcase(s, "trace", 60);
	tcase_add_test(t, trace_and_waterfall_from_a_log);
	tcase_add_test(t, pipelined_requests_get_a_track_each);
	tcase_add_test(t, unwritable_outputs_fail);
	return tu_run(s);
}
