/* test_stream_numbers.c — what the shim reads from a stream besides its
 * tokens, end to end: llama.cpp's timings in the last chunk give every
 * request of any wrapped client its own prefill / decode / cache hits
 * (split_source llamacpp-timings), also when requests overlap, with no
 * /metrics at all; a request's traceparent reaches its row. Against the
 * fixture in llama.cpp style, whose timings are the injected values. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static double f(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "(null)";
}

START_TEST(overlapping_curls_each_get_their_timings)
{
	pid_t srv;
	int port = tu_fixture_start("--style llamacpp --first-ms 5 --token-ms 20", &srv);
	/* three streams at once, each with its own injected prefill and
	 * cache hits; the timings come in each one's own last chunk */
	static const double prefill[] = {11.125, 23.5, 37.75};
	static const int cached[] = {0, 4, 9};
	char js[256], cmd[4096];
	tu_tmp_log(js, sizeof js, "numbers-json");
	int n = snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --json %s -- sh -c '",
			 tu_build_dir(), js);
	for (int i = 0; i < 3; i++)
		n += snprintf(cmd + n, sizeof cmd - (size_t)n,
			      "curl -sN http://127.0.0.1:%d/v1/completions "
			      "-H \"X-Fixture: prefill=%g,cached=%d\" "
			      "-H \"traceparent: 00-0af7651916cd43dd8448eb211c80319%d-b7ad6b716920333%d-01\" "
			      "-d \"{\\\"prompt\\\":\\\"Explain where the time to first token goes, queue and prefill.\\\",\\\"max_tokens\\\":6,"
			      "\\\"stream\\\":true,\\\"stream_options\\\":{\\\"include_usage\\\":true}}\" "
			      ">/dev/null & ", port, prefill[i], cached[i], i, i);
	snprintf(cmd + n, sizeof cmd - (size_t)n, "wait'");
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	ck_assert_msg(j != NULL, "%s", t);
	free(t);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 3);
	int seen[3] = {0, 0, 0};
	cJSON *q;
	cJSON_ArrayForEach(q, reqs) {
		/* which curl: the traceparent's last digits */
		const char *tp = str(q, "traceparent");
		ck_assert_uint_eq(strlen(tp), 55);
		int i = tp[34] - '0';
		ck_assert(i >= 0 && i < 3);
		ck_assert_int_eq(tp[51] - '0', i);
		seen[i]++;
		ck_assert(f(q, "prompt_tokens") > cached[i]);
		ck_assert_int_eq((int)f(q, "tokens"), 6);
		/* the streams overlap: each row has its own numbers — or, on a
		 * machine so busy that curl's send returned after the server
		 * had begun (sanitizers, CI), its own prefill refused, said with
		 * the numbers that justify it: still this request's prefill */
		if (strcmp(str(q, "split_source"), "llamacpp-timings") != 0) {
			const char *note = str(q, "split_note");
			double qm = 0, pm, wm;
			/* the queue named only where the headers marked it */
			ck_assert_msg((sscanf(note, "refused: the server's queue %lf ms + prefill %lf "
					      "ms is more than the client waited (%lf ms", &qm, &pm,
					      &wm) == 3 ||
				       sscanf(note, "refused: the server's prefill %lf ms is more "
					      "than the client waited (%lf ms", &pm, &wm) == 2) &&
					      fabs(pm - prefill[i]) < 1e-3 && qm + pm > wm,
				      "split_source %s: %s", str(q, "split_source"), note);
			continue;
		}
		ck_assert_msg(fabs(f(q, "prefill_s") * 1e3 - prefill[i]) < 1e-9,
			      "prefill %.6f ms, injected %.3f", f(q, "prefill_s") * 1e3, prefill[i]);
		ck_assert_int_eq((int)f(q, "prefix_cache_hit_tokens"), cached[i]);
		/* llama.cpp's decode as the fixture states it: its planned first
		 * to last token, 5 gaps of 20 ms (not a measured time) */
		ck_assert_double_eq_tol(f(q, "server_decode_s") * 1e3, 100.0, 1e-6);
		/* its queue from its own headers (a slot took it), with no
		 * /metrics sampled: a number inside what the client waited,
		 * or, where the headers came less than the prefill before the
		 * first token (they then mark no queue's end), none, said */
		if (isnan(f(q, "queue_s"))) {
			cJSON *n = cJSON_GetObjectItem(q, "split_note");
			ck_assert_msg(cJSON_IsString(n) && strstr(n->valuestring, "queue unknown"),
				      "queue null without a reason");
		} else {
			ck_assert_msg(f(q, "queue_s") >= 0, "queue %.6f", f(q, "queue_s"));
		}
		/* what the server does not explain is never negative */
		ck_assert_msg(f(q, "server_other_s") >= 0, "other %.6f", f(q, "server_other_s"));
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "compressed")));
	}
	ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	cJSON_Delete(j);
	tu_fixture_stop(srv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream-numbers");
	TCase *t = tu_tcase(s, "numbers", 120);
	tcase_add_test(t, overlapping_curls_each_get_their_timings);
	return tu_run(s);
}
