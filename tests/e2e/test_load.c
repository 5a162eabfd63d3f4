/* test_load.c — attribution under load: the server's own queue and prefill
 * per request while requests overlap. The fixture runs one engine slot
 * (--slots 1: every request beyond the first really waits) and writes what
 * it measured and reported for each request (--truth). Wrapped clients
 * (Python asyncio at once, curl at once, http.client back to back on one
 * keep-alive connection) under ttft-run --metrics: every split the tools
 * give must be the server's own number for that request, every other
 * request must say why it has none, and the join must split some. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_client.h"
#include "testutil.h"

static int g_port;
static pid_t g_srv;

static void start(const char *args)
{
	char a[512];
	snprintf(a, sizeof a, "--slots 1 --first-ms 1 --token-ms 20 %s", args);
	g_port = tu_fixture_start(a, &g_srv);
}

static void stop(void)
{
	tu_fixture_stop(g_srv);
}

/* What the fixture measured and reported for one completion (its --truth
 * line): when it read the request, wrote the headers, took a slot and sent
 * the first token, and the queue and prefill it reported. */
struct truth {
	double recv_s, sched_s, first_s, queue_s, prefill_s;
	char trace_id[33];
	int used;
};

static int read_truth(struct truth *t, int max)
{
	struct tu_truth all;
	tu_fixture_truth(g_srv, &all);
	int n = 0;
	for (size_t k = 0; n < max; k++) {
		const struct tu_treq *r = tu_truth_req(&all, "/v1/completions", k);
		if (!r)
			break;
		ck_assert_msg(r->ntok > 0 && r->sched_ns, "request %d: no first token or no "
			      "slot in the fixture's record", r->n);
		struct truth *x = &t[n++];
		memset(x, 0, sizeof *x);
		x->recv_s = (double)r->recv_ns / 1e9;
		x->sched_s = (double)r->sched_ns / 1e9;
		x->first_s = (double)r->tok[0] / 1e9;
		x->queue_s = r->queue_s;
		x->prefill_s = r->prefill_s;
		snprintf(x->trace_id, sizeof x->trace_id, "%s", r->trace_id);
	}
	tu_truth_free(&all);
	return n;
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One slot serves one request at a time: the truth whose first token went
 * out last before this row's first token was read is this row's. */
static struct truth *match_first(struct truth *t, int n, double first_s)
{
	struct truth *best = NULL;
	for (int k = 0; k < n; k++)
		if (t[k].first_s <= first_s + 1e-6 && (!best || t[k].first_s > best->first_s))
			best = &t[k];
	ck_assert_msg(best && !best->used, "no unclaimed server record for a first token "
		      "read at %.6f s", first_s);
	best->used = 1;
	return best;
}

/* The last null split's note, for the message when none split. */
static char g_why[256];
/* The most a headers-based queue exceeded the server's own (transit), and
 * how many such queues there were. */
static double g_excess;
static int g_queued;
/* Rows refused because the client stamped its send late (proved). */
static int g_late;

/* Hold one row (the analyzer's or the probe's) to the server's record:
 * a split is the server's own number, else there is a note. Returns 1 for
 * a split. */
static int check_row(cJSON *q, const struct truth *t, const char *want_source)
{
	const char *src = str(q, "split_source");
	if (!src) {
		ck_assert_msg(str(q, "split_note") && *str(q, "split_note"),
			      "a null split without a note");
		snprintf(g_why, sizeof g_why, "%s", str(q, "split_note"));
		ck_assert(isnan(num(q, "queue_s")) && isnan(num(q, "prefill_s")));
		if (!strcmp(want_source, "llamacpp-timings")) {
			/* the stream's own timings are refused only when they do
			 * not fit between the client's stamps, request sent →
			 * first token: when the send's return was stamped after
			 * the server had read the request (a busy machine holding
			 * the client up there). The note gives that wait. */
			const char *w = strstr(g_why, "the client waited (");
			double waited_ms;
			ck_assert_msg(!strncmp(g_why, "refused:", 8) && w &&
				      sscanf(w, "the client waited (%lf ms", &waited_ms) == 1,
				      "%s", g_why);
			double sent = num(q, "start_s") + num(q, "ttft_s") - waited_ms / 1e3;
			ck_assert_msg(sent > t->recv_s - 2e-6, "refused, but the client's send "
				      "returned %.6f s before the server read it: %s",
				      t->recv_s - sent, g_why);
			g_late++;
		}
		return 0;
	}
	ck_assert_str_eq(src, want_source);
	if (str(q, "split_note"))
		snprintf(g_why, sizeof g_why, "%s", str(q, "split_note"));
	double prefill = num(q, "prefill_s"), queue = num(q, "queue_s");
	ck_assert_msg(fabs(prefill - t->prefill_s) < 1e-5, "prefill %.6f s, the server's "
		      "own %.6f s (queue %.6f, note %s)", prefill, t->prefill_s, queue,
		      str(q, "split_note"));
	if (!strcmp(want_source, "vllm-metrics"))
		ck_assert_msg(fabs(queue - t->queue_s) < 1e-5, "queue %.6f s, the server's "
			      "own %.6f s", queue, t->queue_s);
	else if (!strcmp(want_source, "llamacpp-metrics"))
		ck_assert(isnan(queue)); /* llama.cpp counts no queue */
	else if (!isnan(queue) && !isnan(num(q, "pretransfer_s"))) {
		/* llamacpp-timings: request sent → headers read (llama.cpp sends
		 * them when a slot takes the request). Never less than the real
		 * queue; more by exactly the time between the client's send and
		 * the fixture's read, and between the slot's start and the
		 * client's read of the headers, measured here from both sides'
		 * clocks (the fixture's record, the probe's). */
		double start = num(q, "start_s");
		double transit = (t->recv_s - (start + num(q, "pretransfer_s"))) +
				 ((start + num(q, "starttransfer_s")) - t->sched_s);
		ck_assert_msg(queue >= t->queue_s - 1e-6, "queue %.6f s < the server's own "
			      "%.6f s", queue, t->queue_s);
		ck_assert_msg(fabs(queue - t->queue_s - transit) < 1e-4, "queue %.6f s = the "
			      "server's own %.6f s + %.6f s, but the bytes were in transit "
			      "%.6f s", queue, t->queue_s, queue - t->queue_s, transit);
		if (queue - t->queue_s > g_excess)
			g_excess = queue - t->queue_s;
		g_queued++;
	} else if (!isnan(queue)) {
		/* the shim's row: last request byte sent → headers read,
		 * exactly. From the first byte (the send's start, before the
		 * server can have read anything) never less than the server's
		 * own queue; from the send's return it can be, when the client
		 * returns late (seen under ASan) */
		ck_assert_msg(fabs(queue - num(q, "wait_headers_s")) < 1e-9, "queue %.9f s, "
			      "headers after %.9f s", queue, num(q, "wait_headers_s"));
		ck_assert_msg(queue + num(q, "send_s") >= t->queue_s - 1e-6, "queue %.6f s + "
			      "send %.6f s < the server's own %.6f s", queue, num(q, "send_s"),
			      t->queue_s);
		if (queue - t->queue_s > g_excess)
			g_excess = queue - t->queue_s;
		g_queued++;
	}
	ck_assert_msg(num(q, "server_other_s") >= 0, "other %.6f s",
		      num(q, "server_other_s"));
	return 1;
}

/* Run CMD under ttft-run --metrics (every interval_ms; 0: its default);
 * hold every completion row to the truth. Returns how many rows got a
 * split; *rows the number of completions. */
static int wrapped(const char *cmd, int interval_ms, const char *source, int *rows)
{
	char js[256], full[2048], every[64] = "";
	tu_tmp_log(js, sizeof js, "load-json");
	if (interval_ms)
		snprintf(every, sizeof every, "--metrics-interval %d", interval_ms);
	snprintf(full, sizeof full, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d "
		 "%s --json %s -- %s >/dev/null", tu_build_dir(), g_port, every, js, cmd);
	ck_assert_int_eq(tu_sh(full, NULL), 0);
	char *text = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	struct truth t[64];
	int nt = read_truth(t, 64), split = 0;
	*rows = 0;
	cJSON *q;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		if (strcmp(str(q, "method"), "POST"))
			continue;
		(*rows)++;
		double first = num(q, "start_s") + num(q, "ttft_s");
		ck_assert(!isnan(first));
		split += check_row(q, match_first(t, nt, first), source);
	}
	ck_assert_int_eq(*rows, nt);
	cJSON_Delete(j);
	free(text);
	return split;
}

/* The queueing was real: with one slot, the last one waited for the rest
 * (each holds the slot for its prefill and its 80 ms of decode). */
static void queued_for_real(int n, double service_s)
{
	struct truth t[64];
	int nt = read_truth(t, 64);
	ck_assert_int_eq(nt, n);
	double most = 0;
	for (int k = 0; k < nt; k++)
		most = t[k].queue_s > most ? t[k].queue_s : most;
	ck_assert_msg(most >= (n - 1) * service_s, "longest queue %.4f s", most);
}

START_TEST(asyncio_at_once_vllm)
{
	start("");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_asyncio.py %d 5 concurrent "
		 "'prefill=20'", g_port);
	int rows, split = wrapped(cmd, 10, "vllm-metrics", &rows);
	ck_assert_int_eq(rows, 5);
	ck_assert_msg(split >= 1, "no request got a split: %s", g_why);
	fprintf(stderr, "asyncio at once, vLLM: %d of %d split\n", split, rows);
	queued_for_real(5, 0.020);
	stop();
}
END_TEST

/* Each stream's own timings, read by the shim, whatever else runs: every
 * request split, its queue from the headers (llama.cpp sends them when a
 * slot takes the request). */
START_TEST(curl_at_once_llamacpp)
{
	start("--style llamacpp");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "sh -c 'for i in 1 2 3 4; do curl -sN "
		 "http://127.0.0.1:%d/v1/completions -H \"X-Fixture: prefill=20\" "
		 "-d @tests/clients/completion.json -o /dev/null & done; wait'", g_port);
	g_queued = g_late = 0;
	int rows, split = wrapped(cmd, 0, "llamacpp-timings", &rows);
	ck_assert_int_eq(rows, 4);
	/* every row split, but for one whose client was provably late */
	ck_assert_msg(split + g_late == 4 && split >= 1, "%d split, %d late: %s", split,
		      g_late, g_why);
	ck_assert_msg(g_queued >= 1, "no llama.cpp queue known: %s", g_why);
	fprintf(stderr, "curl at once, llama.cpp timings: %d of %d split (%d refused: the "
		"client's send stamped late), queue at most %.3f ms above the server's own\n",
		split, rows, g_late, g_excess * 1e3);
	queued_for_real(4, 0.020);
	stop();
}
END_TEST

/* Without timings in the streams (an older server, streams cut short),
 * llama.cpp's counters, at ttft-run's default interval for llama.cpp
 * (20 ms): prefills that end 80 ms apart are told apart. */
START_TEST(curl_at_once_llamacpp_counters)
{
	start("--style llamacpp");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "sh -c 'for i in 1 2 3 4; do curl -sN "
		 "http://127.0.0.1:%d/v1/completions -H \"X-Fixture: prefill=20,timings=0\" "
		 "-d @tests/clients/completion.json -o /dev/null & done; wait'", g_port);
	int rows, split = wrapped(cmd, 0, "llamacpp-metrics", &rows);
	ck_assert_int_eq(rows, 4);
	ck_assert_msg(split >= 1, "no request got a split: %s", g_why);
	fprintf(stderr, "curl at once, llama.cpp counters: %d of %d split\n", split, rows);
	queued_for_real(4, 0.020);
	stop();
}
END_TEST

/* A script's loop: requests one after another on one keep-alive
 * connection, no pause. The next one starts as this one ends. */
START_TEST(keepalive_back_to_back_vllm)
{
	start("");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_httpclient.py %d 4 keepalive x "
		 "'prefill=10'", g_port);
	int rows, split = wrapped(cmd, 10, "vllm-metrics", &rows);
	ck_assert_int_eq(rows, 4);
	ck_assert_msg(split >= 1, "no request got a split: %s", g_why);
	fprintf(stderr, "keep-alive loop, vLLM: %d of %d split\n", split, rows);
	stop();
}
END_TEST

/* The case: llama.cpp's prompt counters move when a prefill ends.
 * Back to back, the next request's prefill ends right after this one ends,
 * before the next scrape: the old join gave this request both prefills,
 * labelled valid. Every split must be the request's own. (No timings in
 * the streams, so the counters are all there is.) */
START_TEST(keepalive_back_to_back_llamacpp)
{
	start("--style llamacpp");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_httpclient.py %d 6 keepalive x "
		 "'prefill=1,timings=0'", g_port);
	int rows, split = wrapped(cmd, 20, "llamacpp-metrics", &rows);
	ck_assert_int_eq(rows, 6);
	ck_assert_msg(split >= 1, "no request got a split: %s", g_why);
	fprintf(stderr, "keep-alive loop, llama.cpp counters: %d of %d split\n", split, rows);
	stop();
}
END_TEST

/* The table's last lines: where the slowest requests' TTFT went, the parts
 * adding up to the TTFT, one line for each of the 4 (5 at most). */
START_TEST(where_ttft_went_lines)
{
	start("");
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run --metrics http://127.0.0.1:%d "
		 "--metrics-interval 10 -- sh -c 'for i in 1 2 3 4; do curl -sN "
		 "http://127.0.0.1:%d/v1/completions -H \"X-Fixture: prefill=20\" "
		 "-d @tests/clients/completion.json -o /dev/null & done; wait' 2>&1 >/dev/null",
		 tu_build_dir(), g_port, g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	char *w = strstr(out, "where TTFT went (the 4 slowest):\n");
	ck_assert_msg(w != NULL, "%s", out);
	int lines = 0, split = 0;
	double last = INFINITY;
	for (char *save, *p = strtok_r(w + 33, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		double total, part, sum = 0;
		char *eq = strstr(p, " ms = ");
		ck_assert_msg(eq && sscanf(strstr(p, "): ") + 3, "%lf", &total) == 1, "%s", p);
		ck_assert_msg(total <= last, "not slowest first: %s", p);
		last = total;
		/* "a connect + b send + q queue + p prefill + o other (src)" */
		for (char *q = eq + 6; sscanf(q, "%lf", &part) == 1; ) {
			sum += part;
			q = strstr(q, " + ");
			if (!q)
				break;
			q += 3;
		}
		ck_assert_msg(fabs(sum - total) <= 0.3, "parts %.1f, total %.1f: %s", sum,
			      total, p);
		split += strstr(p, "(vllm-metrics)") != NULL;
		lines++;
	}
	ck_assert_int_eq(lines, 4);
	ck_assert_msg(split >= 1, "%s", w);
	free(out);
	stop();
}
END_TEST

/* ttft-probe --concurrency: it samples /metrics while its streams run and
 * joins each request by itself; its records carry the trace id it sent, and
 * the fixture recorded the same id with its truth. */
static void probe_at_once(const char *style, const char *source)
{
	start(style);
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --concurrency 4 "
		 "--requests 8 --max-tokens 5 --metrics-interval 10 -q --json - --header "
		 "'X-Fixture: prefill=20'", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	struct truth t[16];
	int nt = read_truth(t, 16), n = 0, split = 0, exact = -1;
	ck_assert_int_eq(nt, 8);
	for (char *save, *p = strtok_r(out, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(p);
		ck_assert_ptr_nonnull(o);
		cJSON *sum = cJSON_GetObjectItem(o, "summary");
		if (sum) {
			exact = (int)num(sum, "exact_splits");
			cJSON_Delete(o);
			continue;
		}
		const char *id = str(o, "trace_id");
		ck_assert_msg(id && strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32,
			      "trace_id %s", id ? id : "null");
		struct truth *x = NULL;
		for (int k = 0; k < nt; k++)
			if (!strcmp(t[k].trace_id, id))
				x = &t[k];
		ck_assert_msg(x && !x->used, "trace id %s: not once in the server's records", id);
		x->used = 1;
		split += check_row(o, x, source);
		n++;
		cJSON_Delete(o);
	}
	free(out);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(exact, split);
	ck_assert_msg(split >= 1, "no request got a split: %s", g_why);
	if (!strcmp(source, "llamacpp-timings")) /* the headers mark the queue's end */
		ck_assert_msg(g_queued >= 1, "no llama.cpp queue known: %s", g_why);
	fprintf(stderr, "probe --concurrency 4, %s: %d of %d split", source, split, n);
	if (g_excess > 0)
		fprintf(stderr, "; queue at most %.3f ms above the server's own (transit)",
			g_excess * 1e3);
	fputc('\n', stderr);
	queued_for_real(8, 0.020);
	stop();
}

START_TEST(probe_at_once_vllm)
{
	probe_at_once("", "vllm-metrics");
}
END_TEST

/* llama.cpp: its own timings in the stream, per request at any concurrency */
START_TEST(probe_at_once_llamacpp)
{
	probe_at_once("--style llamacpp", "llamacpp-timings");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load");
	TCase *t = tu_tcase(s, "load", 60);
	tcase_add_test(t, asyncio_at_once_vllm);
	tcase_add_test(t, curl_at_once_llamacpp);
	tcase_add_test(t, curl_at_once_llamacpp_counters);
	tcase_add_test(t, keepalive_back_to_back_vllm);
	tcase_add_test(t, keepalive_back_to_back_llamacpp);
	tcase_add_test(t, where_ttft_went_lines);
	tcase_add_test(t, probe_at_once_vllm);
	tcase_add_test(t, probe_at_once_llamacpp);
	return tu_run(s);
}
