/* test_sweep.c — ttft-sweep against the fixture server, whose prefix
 * cache and capacity are known exactly: the server's cached-token counts
 * (llama.cpp timings, vLLM metric deltas) for hits and misses; the knee
 * the stated capacity predicts (llama.cpp slots from /props and its log,
 * vLLM's "GPU KV cache size" line) and which requests waited (an exact
 * count, from the slot model); the report's sections replacing a previous
 * run's, with numbers in them; every chart and the HTML page rendered by
 * a real headless Chromium (no console errors, no parse errors, labels
 * and numbers present, ink on the screenshot); bad usage. Order,
 * containment and counts: no timing tolerances. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep.h"
#include "testutil.h"

/* Each test's outputs in a folder of its own inside the suite's scratch
 * directory (tu_run removes it, also after a failure). */
static char g_dir[512];

static void mkdir_out(void)
{
	snprintf(g_dir, sizeof g_dir, "%s/sweep-XXXXXX", tu_scratch());
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void rm_out(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
	tu_sh(cmd, NULL);
}

/* ttft-sweep with the fixture started by it (FIXTURE: its flags); the
 * JSON document, the exit status in *rc, its stderr in *out. */
static cJSON *sweep(const char *fixture, const char *args, int *rc, char **out)
{
	int port = tu_free_port();
	char cmd[4096], js[600];
	snprintf(js, sizeof js, "%s/out.json", g_dir);
	unlink(js);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'exec %s/fixture-server --port %d %s' "
		 "--url http://127.0.0.1:%d --json %s %s 2>&1", tu_build_dir(), tu_build_dir(),
		 port, fixture, port, js, args);
	*rc = tu_sh(cmd, out);
	if (access(js, R_OK) != 0)
		return NULL;
	char *t = tu_read_file(js, NULL);
	cJSON *j = cJSON_Parse(t);
	free(t);
	return j;
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no %s", k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

#define at tu_json_at

/* llama.cpp: misses sent with "cache_prompt": false take nothing from the
 * cache; hits take the whole shared prefix, as timings.cache_n says; and
 * the server's prefill shrinks accordingly. */
START_TEST(prefix_llamacpp_counts_from_timings)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--style llamacpp --prefix-cache --prefill-per-token-ms 0.05 --first-ms 2 "
			 "--token-ms 1", "--experiments prefix --prefix-tokens 32,512 "
			 "--prefix-requests 10 --max-tokens 4", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *p = at(j, "prefix");
	ck_assert(strstr(at(p, "misses_by")->valuestring, "cache_prompt"));
	ck_assert(strstr(at(p, "tokens_counted_by")->valuestring, "/tokenize (llama.cpp)"));
	ck_assert_int_eq(cJSON_GetArraySize(at(p, "points")), 2);
	for (int i = 0; i < 2; i++) {
		cJSON *pt = cJSON_GetArrayItem(at(p, "points"), i);
		double want = num(pt, "prefix_tokens_asked"), got = num(pt, "prefix_tokens");
		/* the length the server's tokenizer counted, near what was asked */
		ck_assert_msg(fabs(got - want) <= 0.05 * want + 2, "asked %g, got %g", want, got);
		cJSON *r;
		int n = 0;
		cJSON_ArrayForEach(r, at(pt, "misses")) {
			cJSON *q = at(r, "request");
			ck_assert(cJSON_IsTrue(at(q, "ok")));
			ck_assert_msg(num(q, "prefix_cache_hit_tokens") == 0, "a miss took %g tokens",
				      num(q, "prefix_cache_hit_tokens"));
			n++;
		}
		ck_assert_int_eq(n, 10);
		n = 0;
		cJSON_ArrayForEach(r, at(pt, "hits")) {
			double h = num(at(r, "request"), "prefix_cache_hit_tokens");
			double pr = num(r, "prompt_tokens");
			/* the whole prefix (and a token or two of the
			 * question: prefix_hits_take_no_question), never more
			 * than the prompt */
			ck_assert_msg(h >= got - 1 && h <= got + 2 && h < pr,
				      "hit took %g of %g (prefix %g)", h, pr, got);
			n++;
		}
		ck_assert_int_eq(n, 10);
		ck_assert_int_eq((int)num(pt, "hit_ttft_n"), 10);
		ck_assert(num(pt, "hit_prefill_p50_s") < num(pt, "miss_prefill_p50_s"));
	}
	/* 512 tokens at 0.05 ms a token: the saving is the prefill */
	cJSON *big = cJSON_GetArrayItem(at(p, "points"), 1);
	ck_assert(num(big, "hit_ttft_p90_s") < num(big, "miss_ttft_p50_s"));
	ck_assert(cJSON_IsTrue(at(big, "pays")));
	ck_assert(num(p, "saved_per_cached_token_fit_s") > 0);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A hit takes the shared prefix from the cache and a token or two of its
 * question (its newline, its number), never the question: the hits asked
 * the misses' questions, and a server that keeps what a "cache_prompt":
 * false miss computed (llama.cpp's slot and RAM prompt cache do; the
 * fixture does) served each hit whole from its miss: 81 cached tokens of
 * 82 for a 65-token prefix, where docs/experiments.md says the prefix
 * within a token or two. One length, so that the misses are still among
 * the fixture's 16 remembered prompts when the hits come. */
START_TEST(prefix_hits_take_no_question)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--style llamacpp --prefix-cache --first-ms 1 --token-ms 1",
			 "--experiments prefix --prefix-tokens 64 --prefix-requests 3 "
			 "--max-tokens 2", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *pt = at(j, "prefix.points.0"), *r;
	double got = num(pt, "prefix_tokens");
	int n = 0;
	cJSON_ArrayForEach(r, at(pt, "hits")) {
		double h = num(at(r, "request"), "prefix_cache_hit_tokens");
		ck_assert_msg(h >= got - 1 && h <= got + 2, "hit took %g of %g (prefix %g)", h,
			      num(r, "prompt_tokens"), got);
		n++;
	}
	ck_assert_int_eq(n, 3);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* --cache-off bust: each miss begins with a line of its own, so that it
 * shares nothing it begins with the misses before it, and the server
 * counts none of it cached. The line was "[case RUN-LEN-%06d]", so every
 * miss shared its first ~6 tokens with the one before (a review: [0, 6,
 * 6, ...] cached in the misses, where docs/experiments.md says 0). The
 * hits still take the whole prefix. */
START_TEST(prefix_bust_misses_share_nothing)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--style llamacpp --prefix-cache --first-ms 1 --token-ms 1",
			 "--experiments prefix --cache-off bust --prefix-tokens 64 "
			 "--prefix-requests 4 --max-tokens 2", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *pt = at(j, "prefix.points.0"), *r;
	ck_assert_msg(strstr(at(j, "prefix.misses_by")->valuestring, "unique first line"), "%s",
		      at(j, "prefix.misses_by")->valuestring);
	double got = num(pt, "prefix_tokens");
	int n = 0;
	cJSON_ArrayForEach(r, at(pt, "misses")) {
		double m = num(at(r, "request"), "prefix_cache_hit_tokens");
		ck_assert_msg(m == 0, "miss %d took %g cached tokens", n, m);
		n++;
	}
	ck_assert_int_eq(n, 4);
	n = 0;
	cJSON_ArrayForEach(r, at(pt, "hits")) {
		double h = num(at(r, "request"), "prefix_cache_hit_tokens");
		ck_assert_msg(h >= got - 1 && h <= got + 8, "hit took %g (prefix %g)", h, got);
		n++;
	}
	ck_assert_int_eq(n, 4);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* The judgements on hand-built points (a review's findings): a KV point
 * where requests failed is no evidence that nobody waited, there or above;
 * "pays" needs 3 or more misses served, 10 hits (their p90), and cached
 * tokens the server counted. */
/* A series the sweep was stopped in between two points (every point run
 * whole, the rest of the grid never begun) is no evidence of where
 * waiting begins: no knee, "not known: … interrupted", as for a point cut
 * in flight (a review: "measured knee 6 … as predicted" from a grid that
 * went to 12). Waiting seen below the cut still counts. */
START_TEST(kv_cut_between_points_judges_no_knee)
{
	static struct sweep_kv_series s;
	memset(&s, 0, sizeof s);
	s.kind = "llamacpp";
	s.want_tokens = 16;
	s.cap.slots = 64;
	s.cap.slot_ctx = 4096;
	for (int c = 1; c <= 6; c++) {
		struct sweep_kv_point *p = &s.pts[s.npts++];
		p->conc = c;
		p->nreq = 4;
		p->prompt_tokens = 16;
		p->ttft_p50 = p->ttft_p90 = 0.001;
		p->queue_share_all = 0;
		p->state.waiting_max = 0;
	}
	s.cut_before = 7; /* 7 to 12 never begun */
	sweep_kv_knee(&s, 2);
	ck_assert(!sweep_kv_knee_known(&s));
	ck_assert_int_eq(s.interrupted_at, 7);
	ck_assert_msg(strstr(s.explain, "not known: the sweep was interrupted at concurrency 7"),
		      "%s", s.explain);
	/* waiting seen before the cut: that is a knee */
	s.pts[5].state.waiting_max = 2;
	sweep_kv_knee(&s, 2);
	ck_assert(sweep_kv_knee_known(&s));
	ck_assert_int_eq(s.waited_from, 6);
	ck_assert_int_eq(s.measured_knee, 5);
}
END_TEST

/* The report's "Flags are capacity commitments" line of a series the
 * sweep was stopped between two points of: its trend ends at the last
 * point run, and it says the sweep was interrupted above it (it had read
 * as a series swept whole). */
START_TEST(kv_cut_between_points_says_so_in_the_lesson)
{
	static struct sweep_run run;
	static struct sweep_opts o;
	memset(&run, 0, sizeof run);
	memset(&o, 0, sizeof o);
	run.o = &o;
	run.kind = "llamacpp";
	run.model = "m";
	run.stop_sig = SIGINT;
	snprintf(run.date, sizeof run.date, "2026-11-30 06:00 UTC");
	run.kv.ran = 1;
	run.kv.ns = 1;
	struct sweep_kv_series *s = &run.kv.s[0];
	snprintf(s->cfg, sizeof s->cfg, "default");
	s->kind = "llamacpp";
	s->want_tokens = 16;
	s->per_request_tokens = 20;
	s->cap.slots = 64;
	s->cap.slot_ctx = 4096;
	static struct sweep_req reqs[3][4]; /* their waterfall's: empty */
	memset(reqs, 0, sizeof reqs);
	for (int c = 1; c <= 3; c++) {
		struct sweep_kv_point *p = &s->pts[s->npts++];
		p->conc = c;
		p->req = reqs[c - 1];
		p->nreq = 4;
		p->prompt_tokens = 16;
		p->ttft_p50 = p->ttft_p90 = 0.001 * c;
		p->state.waiting_max = 0;
	}
	s->cut_before = 4;
	sweep_kv_knee(s, 2);
	mkdir_out();
	char path[700], err[1024];
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	ck_assert_msg(sweep_write_report(&run, path, err, sizeof err) == 0, "%s", err);
	char *md = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(md);
	const char *l = strstr(md, "**Flags are capacity commitments.**");
	ck_assert_msg(l, "%s", md);
	ck_assert_msg(strstr(l, "at concurrency 1 → ") && strstr(l, " at 3 ("), "%s", l);
	ck_assert_msg(strstr(l, "; above it the sweep was interrupted"), "%s", l);
	free(md);
	rm_out();
}
END_TEST

/* A knee told earlier than predicted by a proxy (the queued share) at a
 * point where the server's own count, sampled, never saw a request wait:
 * the share also grows when requests wait for the engine's loop or a busy
 * CPU. CI (2 cores): -np 2, "measured 1, predicted 2", the explanation
 * "something other than KV space ran out first", a guess said as a
 * finding. It says the proxy alone told it, and what told it is in the
 * series (JSON waited_by). */
START_TEST(kv_knee_told_by_a_proxy_alone_says_so)
{
	static struct sweep_kv_series s;
	memset(&s, 0, sizeof s);
	snprintf(s.cfg, sizeof s.cfg, "np2");
	s.kind = "llamacpp";
	s.want_tokens = 128;
	s.cap.slots = 2;
	s.cap.slot_ctx = 2048;
	static struct sweep_req reqs[3][12];
	memset(reqs, 0, sizeof reqs);
	const int conc[3] = {1, 2, 4};
	for (int i = 0; i < 3; i++) {
		struct sweep_kv_point *p = &s.pts[s.npts++];
		p->conc = conc[i];
		p->req = reqs[i];
		p->nreq = i == 2 ? 12 : i == 1 ? 6 : 4;
		p->prompt_tokens = 150;
		p->ttft_p50 = 0.01 * conc[i];
		p->ttft_p90 = p->ttft_p99 = NAN;
		p->queue_share_all = i == 0 ? 0.05 : i == 1 ? 0.30 : 0.60;
		p->state.running_max = i == 0 ? 1 : i == 1 ? 1 : 2; /* 2's: never both */
		p->state.waiting_max = i == 2 ? 2 : 0;
		p->state.kv_usage_max_pct = NAN;
	}
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.predicted_knee, 2);
	ck_assert_int_eq(s.measured_knee, 1);
	ck_assert_int_eq(s.waited_from, 2);
	ck_assert_msg(s.waited_by && strstr(s.waited_by, "queued share"), "waited by %s",
		      s.waited_by ? s.waited_by : "(none)");
	ck_assert_msg(strstr(s.explain, "by a proxy only") &&
		      strstr(s.explain, "never saw one there") &&
		      !strstr(s.explain, "ran out first"), "%s", s.explain);
	/* the same point with a sample that saw a request wait: a finding */
	s.pts[1].state.waiting_max = 1;
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.measured_knee, 1);
	ck_assert_msg(strstr(s.explain, "earlier than predicted: at 2 the server reported") &&
		      !strstr(s.explain, "proxy"), "%s", s.explain);
}
END_TEST

/* The table's "most running / waiting" of a point whose gauge samples
 * caught none of its requests running read "0 / 0" as if the server had
 * been idle (a review: one slot, 38% and 55% of TTFT queued). */
START_TEST(kv_gauge_that_saw_nothing_says_so_in_the_table)
{
	static struct sweep_run run;
	static struct sweep_opts o;
	memset(&run, 0, sizeof run);
	memset(&o, 0, sizeof o);
	run.o = &o;
	run.kind = "llamacpp";
	run.model = "m";
	snprintf(run.date, sizeof run.date, "2026-12-03 16:00 UTC");
	run.kv.ran = 1;
	run.kv.ns = 1;
	struct sweep_kv_series *s = &run.kv.s[0];
	snprintf(s->cfg, sizeof s->cfg, "default");
	s->kind = "llamacpp";
	s->want_tokens = 32;
	s->cap.slots = 1;
	s->cap.slot_ctx = 2048;
	static struct sweep_req reqs[2][6];
	memset(reqs, 0, sizeof reqs);
	for (int c = 1; c <= 2; c++) {
		struct sweep_kv_point *p = &s->pts[s->npts++];
		p->conc = c;
		p->req = reqs[c - 1];
		p->nreq = c == 1 ? 4 : 6;
		p->prompt_tokens = 38;
		p->ttft_p50 = 0.002 * c;
		p->ttft_p90 = p->ttft_p99 = NAN;
		p->queue_share_all = c == 1 ? 0.10 : 0.38;
		p->state.running_max = c == 1 ? 1 : 0; /* the second's samples saw none */
		p->state.waiting_max = 0;
		p->state.kv_usage_max_pct = NAN;
	}
	sweep_kv_knee(s, 2);
	mkdir_out();
	char path[700], err[1024];
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	ck_assert_msg(sweep_write_report(&run, path, err, sizeof err) == 0, "%s", err);
	char *md = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(md);
	ck_assert_msg(strstr(md, "| 1 / 0 | ") && strstr(md, "| 0 / 0 (samples saw none) | ") &&
		      strstr(md, "(most running / waiting 'samples saw none':"), "%s", md);
	free(md);
	rm_out();
}
END_TEST

START_TEST(kv_failed_points_judge_nothing)
{
	static struct sweep_kv_series s;
	memset(&s, 0, sizeof s);
	s.kind = "vllm";
	s.want_tokens = 128;
	const int conc[] = {1, 2, 4, 8}, failed[] = {0, 0, 10, 22};
	for (int i = 0; i < 4; i++) {
		struct sweep_kv_point *p = &s.pts[s.npts++];
		p->conc = conc[i];
		p->nreq = 3 * conc[i] < 4 ? 4 : 3 * conc[i];
		p->failed = failed[i];
		p->prompt_tokens = 134;
		p->ttft_p50 = p->ttft_p90 = 0.047;
		p->queue_share_all = 0;
		p->state.waiting_max = 0; /* the survivors never waited */
	}
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.measured_knee, 2);
	ck_assert_int_eq(s.waited_from, 0);
	ck_assert_int_eq(s.failed_from, 4);
	ck_assert_msg(strstr(s.explain, "not known: requests failed at concurrency 4 (10 of 12)"),
		      "%s", s.explain);
	/* every point served: the knee as before */
	s.pts[2].failed = s.pts[3].failed = 0;
	s.pts[3].state.waiting_max = 3;
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.failed_from, 0);
	ck_assert_int_eq(s.measured_knee, 4);
	ck_assert_int_eq(s.waited_from, 8);
	/* the lowest concurrency failed: nothing is known, and nothing is
	 * said as if it were (a second review's finding: "0 concurrencies
	 * were fully served") */
	s.pts[0].failed = 3;
	s.pts[3].failed = 0;
	s.pts[3].state.waiting_max = 0;
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.failed_from, 1);
	ck_assert_int_eq(s.waited_from, 0);
	ck_assert_msg(strstr(s.explain, "not known: requests failed at concurrency 1 (3 of 4)") &&
		      !strstr(s.explain, "0 concurrencies") && !strstr(s.explain, "none waited"),
		      "%s", s.explain);
	s.pts[0].failed = 0;
	/* waiting seen below a failed point still counts */
	s.pts[3].failed = 5;
	s.pts[2].state.waiting_max = 1;
	sweep_kv_knee(&s, 8);
	ck_assert_int_eq(s.waited_from, 4);
	ck_assert_int_eq(s.failed_from, 0);
}
END_TEST

/* The waiting gauge is sampled every 50 ms: samples that saw no request
 * waiting prove nothing where they did not see the point's requests all
 * running at once (a review, fixture-server with one slot, concurrency
 * 1, 2, 3 over ~50 ms points: the server's own timings queued 39% and 58%
 * of TTFT, its samples read "0 running / 0 waiting", and the report said
 * "measured knee 3 … requests did not wait even at 3, above the predicted
 * 1"). Such a point is judged by the queued share; a point whose samples
 * saw all its requests running and none waiting is the gauge's. */
START_TEST(kv_gauge_that_saw_no_load_is_no_evidence)
{
	static struct sweep_kv_series s;
	memset(&s, 0, sizeof s);
	s.kind = "llamacpp";
	s.want_tokens = 32;
	s.cap.slots = 1;
	s.cap.slot_ctx = 2048;
	const double share[] = {0.10, 0.39, 0.58};
	for (int c = 1; c <= 3; c++) {
		struct sweep_kv_point *p = &s.pts[s.npts++];
		p->conc = c;
		p->nreq = 3 * c < 4 ? 4 : 3 * c;
		p->prompt_tokens = 38;
		p->ttft_p50 = 0.002 * c;
		p->ttft_p90 = NAN;
		p->queue_share_all = share[c - 1];
		p->state.waiting_max = 0;
		p->state.running_max = 0;
	}
	sweep_kv_knee(&s, 2);
	ck_assert_int_eq(s.predicted_knee, 1);
	ck_assert_msg(s.measured_knee == 1 && s.waited_from == 2,
		      "measured knee %d, waited from %d: %s", s.measured_knee, s.waited_from,
		      s.explain);
	ck_assert_msg(strstr(s.explain, "as predicted: from concurrency 2 the queued share of all "
			     "TTFT grew over 10 points"), "%s", s.explain);
	ck_assert_msg(strstr(s.criterion, "never saw a point's requests all running at once"),
		      "%s", s.criterion);
	/* samples that saw the point's load are the gauge's word */
	s.pts[0].state.running_max = 1;
	s.pts[1].state.running_max = 1;
	s.pts[1].state.waiting_max = 1;
	sweep_kv_knee(&s, 2);
	ck_assert_int_eq(s.waited_from, 2);
	ck_assert_str_eq(s.criterion, "the server reported requests waiting");
	ck_assert_msg(strstr(s.explain, "from concurrency 2 the server reported requests waiting"),
		      "%s", s.explain);
}
END_TEST

/* No waiting gauge, no queue share: the knee by the TTFT median grown
 * 1.5x, not by a p90 that 4 to 9 requests a point do not give (a NAN
 * compared as a number said nobody ever waited). */
START_TEST(kv_knee_by_the_median_when_no_p90)
{
	static struct sweep_kv_series s;
	memset(&s, 0, sizeof s);
	s.kind = "vllm";
	s.want_tokens = 128;
	const int conc[] = {1, 2, 4, 8};
	const double p50[] = {0.040, 0.050, 0.090, 0.200};
	for (int i = 0; i < 4; i++) {
		struct sweep_kv_point *p = &s.pts[s.npts++];
		p->conc = conc[i];
		p->nreq = 3 * conc[i] < 4 ? 4 : 3 * conc[i];
		p->prompt_tokens = 134;
		p->ttft_p50 = p50[i];
		p->ttft_p90 = p->nreq >= 10 ? p50[i] * 1.2 : NAN;
		p->ttft_p99 = NAN;
		p->queue_share_all = NAN;
		p->state.waiting_max = NAN;
	}
	sweep_kv_knee(&s, 8);
	ck_assert_msg(strstr(s.criterion, "median"), "%s", s.criterion);
	ck_assert_int_eq(s.measured_knee, 2);
	ck_assert_int_eq(s.waited_from, 4);
}
END_TEST

static void reqs(struct sweep_req *q, int n, int ok, double ttft_s, double hit_tokens)
{
	for (int i = 0; i < n; i++) {
		ttft_record_free(&q[i].rec); /* static: zeros, or the last call's */
		memset(&q[i], 0, sizeof q[i]);
		q[i].rec.ok = ok;
		q[i].rec.t_start = 1000000000;
		q[i].rec.t_first = q[i].rec.t_start + (int64_t)(ttft_s * 1e9) + i * 1000;
		struct ttft_server_split *sp = ttft_record_split_rw(&q[i].rec);
		ck_assert_ptr_nonnull(sp);
		memset(sp, 0, sizeof *sp);
		sp->hit_tokens = hit_tokens;
		sp->prefill_s = NAN;
	}
}

START_TEST(prefix_pays_only_when_it_can_tell)
{
	static struct sweep_prefix px;
	static struct sweep_req miss[10], hit[10];
	memset(&px, 0, sizeof px);
	px.npts = 1;
	struct sweep_prefix_point *p = &px.pts[0];
	p->prefix_tokens = 12;
	p->miss = miss, p->hit = hit;
	p->nmiss = p->nhit = 10;
	/* hits faster, and the server counted their cached tokens: pays */
	reqs(miss, 10, 1, 0.0220, 0);
	reqs(hit, 10, 1, 0.0215, 16);
	sweep_prefix_finish(&px);
	ck_assert(p->pays && !p->pays_why);
	ck_assert_int_eq(px.from_tokens, 12);
	/* as fast, but the server took nothing from its cache: not the
	 * cache's doing */
	reqs(hit, 10, 1, 0.0215, 0);
	sweep_prefix_finish(&px);
	ck_assert(!p->pays);
	ck_assert_msg(p->pays_why && strstr(p->pays_why, "no cached tokens"), "%s",
		      p->pays_why ? p->pays_why : "(none)");
	ck_assert_int_eq(px.from_tokens, 0);
	/* cached tokens unknown (a server that reports none): by the times */
	reqs(hit, 10, 1, 0.0215, NAN);
	sweep_prefix_finish(&px);
	ck_assert(p->pays && !p->pays_why);
	/* 9 hits served: no p90 to judge on (it was their slowest, or near):
	 * not judged, and why, not "does not pay" */
	reqs(hit, 10, 1, 0.0215, 16);
	reqs(hit + 9, 1, 0, 0.0215, 16);
	sweep_prefix_finish(&px);
	ck_assert(isnan(p->hit_p90) && p->hit_served == 9);
	ck_assert(!p->pays);
	ck_assert_msg(p->pays_why && strstr(p->pays_why, "p90 (10 needed"), "%s",
		      p->pays_why ? p->pays_why : "(none)");
	/* two misses served: too few for their median to tell */
	reqs(hit, 10, 1, 0.0215, 16);
	reqs(miss + 2, 8, 0, 0.0220, 0);
	sweep_prefix_finish(&px);
	ck_assert(!p->pays);
	ck_assert_msg(p->pays_why && strstr(p->pays_why, "too few misses"), "%s",
		      p->pays_why ? p->pays_why : "(none)");
	/* three lengths, each paying; one not judged is left out of where
	 * caching pays from, not read as "did not pay" (a second review) */
	static struct sweep_req m3[3][10], h3[3][10];
	memset(&px, 0, sizeof px);
	px.npts = 3;
	for (int i = 0; i < 3; i++) {
		px.pts[i].prefix_tokens = 250L << (2 * i);
		px.pts[i].miss = m3[i], px.pts[i].hit = h3[i];
		px.pts[i].nmiss = px.pts[i].nhit = 10;
		reqs(m3[i], 10, 1, 0.05 * (i + 1), 0);
		reqs(h3[i], 10, 1, 0.01, (double)px.pts[i].prefix_tokens);
	}
	sweep_prefix_finish(&px);
	ck_assert_int_eq(px.from_tokens, 250);
	reqs(h3[2] + 2, 8, 0, 0.01, 4000);
	sweep_prefix_finish(&px);
	ck_assert_ptr_nonnull(px.pts[2].pays_why);
	ck_assert_int_eq(px.from_tokens, 250);
	reqs(h3[2], 10, 1, 0.01, 4000);
	reqs(h3[0] + 2, 8, 0, 0.01, 250);
	sweep_prefix_finish(&px);
	ck_assert_ptr_nonnull(px.pts[0].pays_why);
	ck_assert_int_eq(px.from_tokens, 1000);
}
END_TEST

/* "Misses" the server says it served from its cache (a cache-off
 * configuration that kept its cache on, "cache_prompt": false on a server
 * that ignores it) are hits: nothing about the cache follows from them.
 * They were judged, and the report said caching "did not pay". */
START_TEST(prefix_misses_served_from_the_cache_are_not_judged)
{
	static struct sweep_prefix px;
	static struct sweep_req miss[10], hit[10];
	memset(&px, 0, sizeof px);
	px.npts = 1;
	struct sweep_prefix_point *p = &px.pts[0];
	p->prefix_tokens = 250;
	p->miss = miss, p->hit = hit;
	p->nmiss = p->nhit = p->planned_miss = p->planned_hit = 10;
	reqs(miss, 10, 1, 0.0100, 240);
	reqs(hit, 10, 1, 0.0102, 250);
	sweep_prefix_finish(&px);
	ck_assert(!p->pays);
	ck_assert_msg(p->pays_why && strstr(p->pays_why, "cached tokens in the misses"), "%s",
		      p->pays_why ? p->pays_why : "(none)");
	ck_assert_int_eq(px.from_tokens, 0);
	/* nor is what they saved given per cached token: the misses were
	 * hits (a review found the cell shown while the fit left it out) */
	ck_assert_msg(isnan(p->saved_per_token_s), "saved per cached token %g",
		      p->saved_per_token_s);
	/* a token or two (a BOS the slot kept) is still a miss */
	reqs(miss, 10, 1, 0.0300, 1);
	sweep_prefix_finish(&px);
	ck_assert(p->pays && !p->pays_why);
	ck_assert(p->saved_per_token_s > 0);
}
END_TEST

/* Lengths that disagree: it pays at a short prefix and not at a longer
 * one. The report said "it did not pay at any swept length judged" (pays
 * at 64 and 256, not at 1024) or that below the length it pays from "the
 * saving is within the jitter" (pays at 64, not 256, pays at 1024) while
 * its own table said "yes" there. */
START_TEST(prefix_lengths_that_disagree_are_said_so)
{
	static struct sweep_run run;
	static struct sweep_opts o;
	static struct sweep_req m3[3][10], h3[3][10];
	const int cases[2][3] = {{1, 1, 0}, {1, 0, 1}};
	for (int k = 0; k < 2; k++) {
		memset(&run, 0, sizeof run);
		memset(&o, 0, sizeof o);
		run.o = &o;
		run.kind = "llamacpp";
		run.model = "m";
		o.prefix_requests = 10;
		snprintf(run.date, sizeof run.date, "2026-11-30 06:00 UTC");
		struct sweep_prefix *px = &run.prefix;
		px->ran = 1;
		px->npts = 3;
		px->tokens_how = px->miss_how = px->hits_how = "test";
		for (int i = 0; i < 3; i++) {
			struct sweep_prefix_point *p = &px->pts[i];
			p->prefix_tokens = p->want_tokens = 64L << (2 * i);
			p->miss = m3[i], p->hit = h3[i];
			p->nmiss = p->nhit = p->planned_miss = p->planned_hit = 10;
			reqs(m3[i], 10, 1, 0.050, 0);
			/* a hit that pays is faster; one that does not, slower */
			reqs(h3[i], 10, 1, cases[k][i] ? 0.010 : 0.060, (double)p->prefix_tokens);
		}
		sweep_prefix_finish(px);
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(px->pts[i].pays, cases[k][i]);
		mkdir_out();
		char path[700], err[1024];
		snprintf(path, sizeof path, "%s/r.md", g_dir);
		ck_assert_msg(sweep_write_report(&run, path, err, sizeof err) == 0, "%s", err);
		char *md = tu_read_file(path, NULL);
		const char *l = strstr(md, "**Where caching stops paying:**");
		ck_assert_ptr_nonnull(l);
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
		ck_assert_msg(!strstr(line, "did not pay at any") && !strstr(line, "within the jitter")
			      && !strstr(line, "below "), "%s", line);
		ck_assert_msg(strstr(line, k ? "it paid at 64 tokens but not at 256" :
				     "it paid at 256 tokens but not at 1024"), "%s", line);
		free(md);
		snprintf(path, sizeof path, "%s/r.json", g_dir);
		struct ttft_json j;
		ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
		sweep_json(&j, &run);
		char *js = ttft_json_take(&j);
		ttft_json_free(&j);
		cJSON *doc = cJSON_Parse(js);
		free(js);
		cJSON *pj = cJSON_GetObjectItem(doc, "prefix");
		cJSON *pb = cJSON_GetObjectItem(pj, "paid_below_pays_from");
		ck_assert_msg(cJSON_IsNumber(pb) && pb->valueint == (k ? 64 : 256), "paid below");
		cJSON_Delete(doc);
		rm_out();
	}
}
END_TEST

/* vLLM: misses made unique by their first line; hits counted from the
 * prefix_cache_hits_total deltas around each request, in whole blocks. */
START_TEST(prefix_vllm_counts_from_metrics)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--prefix-cache --prefill-per-token-ms 0.05 --first-ms 2 --token-ms 1",
			 "--experiments prefix --prefix-tokens 300 --prefix-requests 3 --max-tokens 4",
			 &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *p = at(j, "prefix");
	ck_assert_str_eq(at(j, "kind")->valuestring, "vllm");
	ck_assert(strstr(at(p, "misses_by")->valuestring, "unique first line"));
	ck_assert(strstr(at(p, "hits_counted_by")->valuestring, "prefix_cache_hits_total"));
	cJSON *pt = at(p, "points.0"), *r;
	cJSON_ArrayForEach(r, at(pt, "misses"))
		ck_assert(num(at(r, "request"), "prefix_cache_hit_tokens") == 0);
	cJSON_ArrayForEach(r, at(pt, "hits")) {
		double h = num(at(r, "request"), "prefix_cache_hit_tokens");
		/* the hits' shared first line (as long as a miss's) and the
		 * prefix, in whole blocks: never the whole prompt */
		ck_assert_msg(h > 0 && fmod(h, 16) == 0 && h >= num(pt, "prefix_tokens") - 16 &&
			      h < num(r, "prompt_tokens"), "hit tokens %g", h);
	}
	/* a hit's prompt is as long as a miss's: the saving is the cache's */
	ck_assert_double_eq(num(at(pt, "misses.0"), "prompt_tokens"),
			    num(at(pt, "hits.0"), "prompt_tokens"));
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* vLLM's way: cache off and on are two server configurations, started
 * one after the other on the same port (--cache-off-flags,
 * --cache-on-flags). */
START_TEST(prefix_two_configurations)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--prefill-per-token-ms 0.05 --first-ms 2 --token-ms 1",
			 "--experiments prefix --prefix-tokens 200 --prefix-requests 2 --max-tokens 4 "
			 "--cache-on-flags --prefix-cache --cache-off-flags ''", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "[prefix-off] started") && strstr(out, "[prefix-on] started") &&
		      strstr(out, "[prefix-off] started") < strstr(out, "[prefix-on] started"), "%s", out);
	cJSON *p = at(j, "prefix"), *r;
	ck_assert(strstr(at(p, "misses_by")->valuestring, "cache off"));
	ck_assert_str_eq(at(p, "server")->valuestring, "prefix-on");
	cJSON_ArrayForEach(r, at(p, "points.0.misses"))
		ck_assert(num(at(r, "request"), "prefix_cache_hit_tokens") == 0);
	cJSON_ArrayForEach(r, at(p, "points.0.hits"))
		ck_assert(num(at(r, "request"), "prefix_cache_hit_tokens") > 0);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

static int waited(cJSON *pt, double more_than_s)
{
	int n = 0;
	cJSON *r;
	cJSON_ArrayForEach(r, at(pt, "requests_detail"))
		n += num(r, "queue_s") > more_than_s;
	return n;
}

/* llama.cpp with 2 slots: the capacity from /props and the start-up line,
 * the predicted knee 2; at concurrency 2 nobody waits, at 4 every request
 * but the first two does (each arrives while both slots are busy); the
 * queue (request sent → headers, sent when a slot starts the prompt) sits
 * inside TTFT with the prefill. */
START_TEST(kv_llamacpp_knee_on_the_slots)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--style llamacpp --slots 2 --ctx 2048 --prefill-per-token-ms 0.05 "
			 "--first-ms 100 --token-ms 3", "--experiments kv --concurrency 1,2,4 "
			 "--prompt-tokens 128 --max-tokens 8", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *s = at(j, "kv.series.0");
	ck_assert_int_eq((int)num(at(s, "capacity"), "slots"), 2);
	ck_assert_int_eq((int)num(at(s, "capacity"), "slot_ctx"), 2048);
	ck_assert(strstr(at(s, "capacity.source")->valuestring, "/props"));
	ck_assert(strstr(at(s, "capacity.source")->valuestring, "n_slots"));
	/* the log states 2048 cells in each of 2 streams: 4096 in all */
	ck_assert(num(at(s, "capacity"), "kv_tokens") == 4096);
	ck_assert(strstr(at(s, "capacity.source")->valuestring, "llama_kv_cache"));
	ck_assert_int_eq((int)num(s, "predicted_knee"), 2);
	ck_assert_int_eq((int)num(s, "measured_knee"), 2);
	ck_assert_int_eq((int)num(s, "waited_from"), 4);
	ck_assert(strstr(at(s, "explanation")->valuestring, "as predicted"));
	/* Who waited is the server's to say (its waiting gauge gave the
	 * measured knee above); the rows' queue is request sent → headers
	 * read, which a busy machine can stretch for anyone. So: at 4, at
	 * least the 10 requests that found both slots busy show a wait of
	 * half another's 100 ms to its first token (a sleep never ends early);
	 * below the knee the queue is only held inside TTFT. */
	for (int k = 0; k < 2; k++) {
		cJSON *r, *pt = at(s, k ? "points.1" : "points.0");
		cJSON_ArrayForEach(r, at(pt, "requests_detail")) {
			cJSON *q = at(r, "request");
			double qs = num(r, "queue_s"); /* unknown when the headers came
							* with the token */
			ck_assert(isnan(qs) || (qs >= 0 && qs + num(q, "prefill_s") <=
							  num(q, "ttft_s")));
		}
	}
	cJSON *p4 = at(s, "points.2");
	ck_assert_int_eq((int)num(p4, "requests"), 12);
	ck_assert_int_ge(waited(p4, 0.050), 10);
	/* the record's own split comes first: llama.cpp's timings in the
	 * request's last event, joined by the probe (request sent → headers
	 * is the fallback when a stream has none) */
	ck_assert_str_eq(at(p4, "queue_source")->valuestring, "llamacpp-timings");
	cJSON *r;
	cJSON_ArrayForEach(r, at(p4, "requests_detail")) {
		cJSON *q = at(r, "request");
		ck_assert_msg(num(r, "queue_s") + num(q, "prefill_s") <= num(q, "ttft_s"),
			      "queue %g + prefill %g > ttft %g", num(r, "queue_s"),
			      num(q, "prefill_s"), num(q, "ttft_s"));
	}
	ck_assert(num(p4, "queue_share_of_all_ttft") > num(at(s, "points.1"),
							   "queue_share_of_all_ttft"));
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A llama-server that sends its headers with the first token (the one
 * tools/engine.sh builds does: 0.3 ms before a 2.8 ms prefill's token):
 * request sent → headers then holds the prefill, and is no queue. The
 * probe's split says so ("they do not mark where the queue ended"), yet
 * the sweep took it as the queue anyway: on the real engine, one slot,
 * concurrency 1 was "queued 70% of TTFT", and the knee, read from that
 * share, was "requests did not wait even at 2" while TTFT went 4.2 →
 * 10.7 ms. A queue the server's own split refuses is not known. */
START_TEST(kv_llamacpp_headers_with_the_token_are_no_queue)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--style llamacpp --late-headers --slots 1 --ctx 2048 "
			 "--prefill-per-token-ms 0.2 --first-ms 1 --token-ms 2",
			 "--experiments kv --concurrency 1,2 --prompt-tokens 64 --max-tokens 4",
			 &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *s = at(j, "kv.series.0"), *pt;
	int refused = 0;
	cJSON_ArrayForEach(pt, at(s, "points")) {
		cJSON *r;
		cJSON_ArrayForEach(r, at(pt, "requests_detail")) {
			/* the split's verdict on the headers stands: its queue, or
			 * none where it refused them (a busy machine can delay a
			 * first token past the prefill's length: the split then
			 * takes the headers, rightly) */
			cJSON *q = at(r, "request");
			ck_assert_str_eq(at(q, "split_source")->valuestring, "llamacpp-timings");
			double own = num(q, "queue_s"), got = num(r, "queue_s");
			refused += isnan(own);
			ck_assert_msg(isnan(own) ? isnan(got) && cJSON_IsNull(at(r, "queue_source"))
					       : got == own, "concurrency %d: queue %g s (%s) where "
				      "the split's is %g s, of a %g s TTFT whose prefill took %g s",
				      (int)num(pt, "concurrency"), got,
				      cJSON_IsString(at(r, "queue_source")) ?
				      at(r, "queue_source")->valuestring : "-", own,
				      num(q, "ttft_s"), num(q, "prefill_s"));
		}
	}
	/* the headers 1 ms before a 13.8 ms prefill's token: refused, but
	 * for a request a stall delayed */
	ck_assert_int_ge(refused, 5);
	ck_assert(!strstr(at(s, "knee_criterion")->valuestring, "queued share") ||
		  isfinite(num(at(s, "points.0"), "queue_share_of_all_ttft")));
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* Without the server's usage a request's tokens are its token events
 * counted, and one event can carry several tokens: a point's output
 * tokens/s from them is a lower bound. It looked exact: the JSON says how
 * many of the point's requests counted events, the report's cell "≥". */
START_TEST(kv_tokens_per_s_from_events_is_at_least)
{
	mkdir_out();
	int rc;
	char *out, args[1024];
	snprintf(args, sizeof args, "--experiments kv --concurrency 1,2 --prompt-tokens 32 "
		 "--max-tokens 4 --header 'X-Fixture: usage=0' --report %s/r.md", g_dir);
	cJSON *j = sweep("--first-ms 5 --token-ms 1", args, &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	for (int k = 0; k < 2; k++) {
		cJSON *pt = at(j, k ? "kv.series.0.points.1" : "kv.series.0.points.0");
		ck_assert(num(pt, "output_tokens_per_s") > 0);
		ck_assert_int_eq((int)num(pt, "requests_tokens_from_events"),
				 (int)num(pt, "requests"));
	}
	cJSON_Delete(j);
	free(out);
	char path[700];
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(md);
	/* each point's row: "| ≥123.4 | " in the output tok/s cell */
	size_t rows = 0;
	for (const char *p = md; (p = strstr(p, " | ≥")); p++)
		rows++;
	ck_assert_msg(rows == 2, "%zu cells '≥':\n%s", rows, md);
	ck_assert(strstr(md, "(output tok/s '≥': the server gave no usage"));
	free(md);
	/* with the server's usage (include_usage asked): exact, no "≥" */
	snprintf(args, sizeof args, "--experiments kv --concurrency 1 --prompt-tokens 32 "
		 "--max-tokens 4 --report %s/r.md", g_dir);
	j = sweep("--first-ms 5 --token-ms 1", args, &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	ck_assert_int_eq((int)num(at(j, "kv.series.0.points.0"), "requests_tokens_from_events"), 0);
	cJSON_Delete(j);
	free(out);
	md = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(md);
	ck_assert_msg(!strstr(md, " | ≥") && !strstr(md, "(output tok/s '≥'"), "%s", md);
	free(md);
	rm_out();
}
END_TEST

/* A server that answers 200 and streams no token (only [DONE]): the
 * point said "6 (0)" requests served, 0 failed, its TTFT p50 from the 2
 * that had one, and the knee was judged on it (a review). A request
 * without a TTFT was not served as one: it fails, the point is
 * incomplete and judges nothing, and the sweep exits 1. */
START_TEST(kv_no_token_streamed_is_a_failed_request)
{
	mkdir_out();
	int rc;
	char *out, args[1024];
	snprintf(args, sizeof args, "--experiments kv --concurrency 1,2 --prompt-tokens 32 "
		 "--max-tokens 2 --report %s/r.md", g_dir);
	/* the warm-up, 4 at concurrency 1, then 6 at 2: the last 4 empty */
	cJSON *j = sweep("--style llamacpp --slots 2 --ctx 2048 --first-ms 2 --token-ms 0.5 "
			 "--empty-from 8", args, &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	cJSON *p0 = at(j, "kv.series.0.points.0"), *p1 = at(j, "kv.series.0.points.1");
	ck_assert_int_eq((int)num(p0, "failed"), 0);
	ck_assert_msg((int)num(p1, "failed") == 4 && (int)num(p1, "ttft_n") == 2,
		      "failed %g, ttft_n %g: %s", num(p1, "failed"), num(p1, "ttft_n"), out);
	ck_assert_msg(strstr(out, "no token streamed (HTTP 200, no event carried one)"), "%s", out);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A started server's log the disk did not take (--log-dir on a full
 * disk: ttft-cold's review found the log left empty, exit 0; ttft-sweep
 * shares its runner). /dev/full as the log: said, exit 1, the
 * measurement still written. */
START_TEST(server_log_not_written_is_said)
{
	mkdir_out();
	char lnk[700], args[1024], *out;
	snprintf(lnk, sizeof lnk, "%s/sweep-default.log", g_dir);
	ck_assert_int_eq(symlink("/dev/full", lnk), 0);
	snprintf(args, sizeof args, "--experiments kv --concurrency 1 --prompt-tokens 16 "
		 "--max-tokens 2 --log-dir %s", g_dir);
	int rc;
	cJSON *j = sweep("--first-ms 2 --token-ms 0.5", args, &rc, &out);
	ck_assert_msg(rc == 1 && j && strstr(out, "[default] cannot write the server log ") &&
		      strstr(out, "No space left on device"), "exit %d: %s", rc, out);
	ck_assert_int_eq((int)num(at(j, "kv.series.0.points.0"), "failed"), 0);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* vLLM: the capacity from its start-up lines ("GPU KV cache size: 1024
 * tokens"), the prediction floor(1024 / whole 16-token blocks a request),
 * and the server's own KV gauge while the point ran. */
START_TEST(kv_vllm_capacity_from_its_log)
{
	mkdir_out();
	int rc;
	char *out;
	cJSON *j = sweep("--slots 64 --kv-tokens 1024 --ctx 4096 --prefill-per-token-ms 0.05 "
			 "--first-ms 20 --token-ms 3", "--experiments kv --concurrency 1,2,4,8 "
			 "--prompt-tokens 200 --max-tokens 8", &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *s = at(j, "kv.series.0");
	cJSON *c = at(s, "capacity");
	ck_assert(num(c, "kv_tokens") == 1024 && num(c, "max_concurrency") == 0.25 &&
		  num(c, "max_concurrency_tokens") == 4096);
	ck_assert(strstr(at(c, "source")->valuestring, "GPU KV cache size"));
	double per = num(s, "tokens_per_request");
	int predicted = (int)(1024 / (ceil(per / 16) * 16));
	ck_assert_int_eq((int)num(s, "predicted_knee"), predicted);
	ck_assert_msg(predicted >= 2 && predicted < 8, "predicted %d", predicted);
	/* the server's queue where the knee is: nobody waits at 1, someone at 8 */
	ck_assert(num(at(s, "points.0"), "queue_share_of_all_ttft") < 0.10);
	ck_assert(num(at(s, "points.3"), "queue_share_of_all_ttft") > 0.10);
	ck_assert(num(at(s, "points.3.server"), "kv_usage_max_pct") > 0);
	ck_assert(num(s, "waited_from") > predicted);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* vLLM data parallelism: each engine prints its own "GPU KV cache size"
 * (EngineCore_DP0, _DP1), the size of its own cache. A review found the
 * last line taken for the server's whole capacity: the knee predicted for
 * one engine, and a server that spread its requests over two called
 * "later than predicted … held more than its stated capacity". Here each
 * engine states 1024 tokens (4 requests of about 208) and the server (a
 * running one, its start-up log given) holds 8. */
START_TEST(kv_vllm_data_parallel_capacity_is_per_engine)
{
	mkdir_out();
	pid_t srv;
	int port = tu_fixture_start("--slots 8 --ctx 4096 --first-ms 20 --token-ms 3", &srv);
	char log[700], cmd[2048];
	snprintf(log, sizeof log, "%s/dp.log", g_dir);
	FILE *f = fopen(log, "w");
	for (int e = 0; e < 2; e++)
		fprintf(f, "(EngineCore_DP%d pid=2%d) INFO 10-01 10:00:01 [kv_cache_utils.py:1087] "
			   "GPU KV cache size: 1,024 tokens\n"
			   "(EngineCore_DP%d pid=2%d) INFO 10-01 10:00:01 [kv_cache_utils.py:1091] "
			   "Maximum concurrency for 4,096 tokens per request: 0.25x\n", e, e, e, e);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --url http://127.0.0.1:%d --server-log %s "
		 "--experiments kv --concurrency 1,4,8,16 --prompt-tokens 200 --max-tokens 8 "
		 "--report %s/r.md --json %s/s.json 2>&1", tu_build_dir(), port, log, g_dir, g_dir);
	char *out;
	int rc = tu_sh(cmd, &out);
	tu_fixture_stop(srv);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	char path[760];
	snprintf(path, sizeof path, "%s/s.json", g_dir);
	char *t = tu_read_file(path, NULL);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(j);
	cJSON *s = at(j, "kv.series.0"), *c = at(s, "capacity");
	ck_assert(num(c, "kv_tokens") == 1024);
	ck_assert_int_eq((int)num(c, "kv_engines"), 2);
	ck_assert_msg(!strstr(strstr(at(c, "source")->valuestring, "size") + 1, "size"),
		      "%s", at(c, "source")->valuestring); /* named once */
	double per = num(s, "tokens_per_request");
	int one = (int)(1024 / (ceil(per / 16) * 16));
	ck_assert_int_eq(one, 4);
	/* the prediction is one engine's, and said so */
	ck_assert_int_eq((int)num(s, "predicted_knee"), one);
	ck_assert(cJSON_IsTrue(at(s, "predicted_per_engine")));
	const char *why = at(s, "predicted_why")->valuestring;
	ck_assert_msg(strstr(why, "each of the 2 data-parallel engines") &&
		      strstr(why, "= 4 at once in each engine"), "%s", why);
	/* not judged against the whole server's knee as if it were its own */
	const char *ex = at(s, "explanation")->valuestring;
	ck_assert_msg(!strstr(ex, "predicted") && !strstr(ex, "stated capacity") &&
		      strstr(ex, "one engine holds 4") && strstr(ex, "the 2 engines together up to 8"),
		      "%s", ex);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(strstr(md, "| 4 per engine (2 engines) |"), "%s", md);
	free(md);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A --server-log as `vllm serve … > FILE` writes it under data
 * parallelism: vLLM colours each process prefix whatever the output
 * ("\033[1;33m(EngineCore_DP0 pid=N)\033[0;0m ", only NO_COLOR or, in the
 * newest, a non-terminal drops it), and the engines state different
 * sizes. Each engine is still told apart, the smallest cache kept. */
START_TEST(kv_vllm_data_parallel_from_a_coloured_log)
{
	mkdir_out();
	pid_t srv;
	int port = tu_fixture_start("--slots 8 --ctx 4096 --first-ms 20 --token-ms 3", &srv);
	char log[700], cmd[2048];
	snprintf(log, sizeof log, "%s/dp.log", g_dir);
	FILE *f = fopen(log, "w");
	for (int e = 0; e < 2; e++)
		fprintf(f, "\033[1;33m(EngineCore_DP%d pid=2%d)\033[0;0m INFO 10-01 10:00:01 "
			   "[kv_cache_utils.py:1087] GPU KV cache size: %s tokens\n", e, e,
			e ? "2,048" : "1,024");
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --url http://127.0.0.1:%d --server-log %s "
		 "--experiments kv --concurrency 1,2 --prompt-tokens 200 --max-tokens 8 "
		 "--json %s/s.json 2>&1", tu_build_dir(), port, log, g_dir);
	char *out;
	int rc = tu_sh(cmd, &out);
	tu_fixture_stop(srv);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	char path[760];
	snprintf(path, sizeof path, "%s/s.json", g_dir);
	char *t = tu_read_file(path, NULL);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(j);
	cJSON *c = at(at(j, "kv.series.0"), "capacity");
	ck_assert_msg((int)num(c, "kv_engines") == 2 && num(c, "kv_tokens") == 1024,
		      "engines %d, kv_tokens %.0f", (int)num(c, "kv_engines"), num(c, "kv_tokens"));
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A restart inside one log with fewer data-parallel engines: two engines
 * (1,024 and 512 tokens) start, the server dies and starts again with one
 * (2,048). A review found the dead start's second engine still counted:
 * kv_engines 2, the dead engine's 512 kept as the smallest, the knee
 * predicted "per engine". Only the last start's lines state the running
 * server's capacity. */
START_TEST(kv_vllm_restart_with_fewer_engines_counts_the_last_start)
{
	mkdir_out();
	pid_t srv;
	int port = tu_fixture_start("--slots 16 --ctx 4096 --first-ms 20 --token-ms 3", &srv);
	char log[700], cmd[2048];
	snprintf(log, sizeof log, "%s/dp.log", g_dir);
	FILE *f = fopen(log, "w");
	fprintf(f, "(APIServer pid=10) INFO 10-01 10:00:00 [api_server.py:1839] vLLM API server "
		   "version 0.11.0\n");
	for (int e = 0; e < 2; e++)
		fprintf(f, "(EngineCore_DP%d pid=2%d) INFO 10-01 10:00:00 [core.py:77] Initializing "
			   "a V1 LLM engine (v0.11.0) with config: model='q'\n", e, e);
	for (int e = 0; e < 2; e++)
		fprintf(f, "(EngineCore_DP%d pid=2%d) INFO 10-01 10:00:01 [kv_cache_utils.py:1087] "
			   "GPU KV cache size: %s tokens\n"
			   "(EngineCore_DP%d pid=2%d) INFO 10-01 10:00:01 [kv_cache_utils.py:1091] "
			   "Maximum concurrency for 4,096 tokens per request: %s\n", e, e,
			e ? "512" : "1,024", e, e, e ? "0.12x" : "0.25x");
	fprintf(f, "(EngineCore_DP1 pid=21) ERROR 10-01 10:00:02 [core.py:700] EngineCore "
		   "failed to start.\n"
		   "(APIServer pid=30) INFO 10-01 10:00:10 [api_server.py:1839] vLLM API server "
		   "version 0.11.0\n"
		   "(EngineCore_DP0 pid=40) INFO 10-01 10:00:10 [core.py:77] Initializing a V1 LLM "
		   "engine (v0.11.0) with config: model='q'\n"
		   "(EngineCore_DP0 pid=40) INFO 10-01 10:00:11 [kv_cache_utils.py:1087] GPU KV "
		   "cache size: 2,048 tokens\n"
		   "(EngineCore_DP0 pid=40) INFO 10-01 10:00:11 [kv_cache_utils.py:1091] Maximum "
		   "concurrency for 4,096 tokens per request: 0.50x\n");
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --url http://127.0.0.1:%d --server-log %s "
		 "--experiments kv --concurrency 1,2 --prompt-tokens 200 --max-tokens 8 "
		 "--report %s/r.md --json %s/s.json 2>&1", tu_build_dir(), port, log, g_dir, g_dir);
	char *out;
	int rc = tu_sh(cmd, &out);
	tu_fixture_stop(srv);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	char path[760];
	snprintf(path, sizeof path, "%s/s.json", g_dir);
	char *t = tu_read_file(path, NULL);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(j);
	cJSON *s = at(j, "kv.series.0"), *c = at(s, "capacity");
	ck_assert_msg((int)num(c, "kv_engines") == 1 && num(c, "kv_tokens") == 2048 &&
		      num(c, "max_concurrency") == 0.5, "engines %d, kv_tokens %.0f, max %.2f",
		      (int)num(c, "kv_engines"), num(c, "kv_tokens"), num(c, "max_concurrency"));
	/* the report says the log held two starts and these numbers are the
	 * last one's */
	ck_assert_int_eq((int)num(c, "starts"), 2);
	ck_assert_msg(strstr(at(c, "source")->valuestring, "the last of 2 starts"), "%s",
		      at(c, "source")->valuestring);
	/* one engine: the prediction is the whole server's */
	ck_assert(!cJSON_IsTrue(at(s, "predicted_per_engine")));
	double per = num(s, "tokens_per_request");
	ck_assert_int_eq((int)num(s, "predicted_knee"), (int)(2048 / (ceil(per / 16) * 16)));
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(!strstr(md, "per engine") && !strstr(md, "engines (data parallel"), "%s", md);
	free(md);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* The capacity lines a server writes just before /health first answers
 * are read. A review found the capacity read as soon as /health answered,
 * the lines maybe still in the pipe, unread: the sweep went on without
 * them. The fixture writes them on that request, behind 2,000 lines of
 * vLLM's route listing, in one write, and only then answers; the server
 * log (--log-dir) is a FIFO read a byte at a time (bash's read), so the
 * reader of the server's output, which writes each line there, is still
 * far behind when the answer arrives. What the server wrote before its
 * answer is in the pipe by then: reading the pipe empty after the answer
 * takes it, however slow the reader. */
START_TEST(kv_capacity_written_as_health_answers_is_read)
{
	mkdir_out();
	char logs[600], fifo[700], args[1024];
	snprintf(logs, sizeof logs, "%s/logs", g_dir);
	ck_assert_int_eq(mkdir(logs, 0755), 0);
	snprintf(fifo, sizeof fifo, "%s/sweep-default.log", logs);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	pid_t slow = fork();
	ck_assert_int_ge(slow, 0);
	if (slow == 0) {
		execl("/bin/bash", "bash", "-c", "while IFS= read -r l; do :; done < \"$0\"", fifo,
		      (char *)NULL);
		_exit(127);
	}
	snprintf(args, sizeof args, "--experiments kv --concurrency 1 --prompt-tokens 100 "
		 "--max-tokens 4 --log-dir %s", logs);
	int rc;
	char *out;
	cJSON *j = sweep("--slots 64 --kv-tokens 1024 --ctx 4096 --first-ms 2 --token-ms 1 "
			 "--capacity-at-health 2000", args, &rc, &out);
	kill(slow, SIGKILL); /* it ends at the log's end; not if never opened */
	waitpid(slow, NULL, 0);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON *c = at(j, "kv.series.0.capacity");
	ck_assert_msg(num(c, "kv_tokens") == 1024 && num(c, "max_concurrency") == 0.25 &&
		      strstr(at(c, "source")->valuestring, "GPU KV cache size"),
		      "kv_tokens %.0f, max %.2f, source '%s'", num(c, "kv_tokens"),
		      num(c, "max_concurrency"), at(c, "source")->valuestring);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* --cache-off request on vLLM: "cache_prompt": false is ignored there,
 * so every miss would be a hit and no length could be judged (a review
 * found the whole prefix sweep run, then nothing judged). Refused before
 * anything starts when --kind says vLLM; else as soon as the server is
 * found to be vLLM, before a document is built or a miss sent. */
START_TEST(cache_off_request_refused_on_vllm)
{
	mkdir_out();
	char cmd[1024], marker[700], *out;
	int port = tu_free_port();
	snprintf(marker, sizeof marker, "%s/started", g_dir);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --kind vllm --cache-off request --experiments "
		 "prefix --server 'touch %s; exec %s/fixture-server --port %d' --url "
		 "http://127.0.0.1:%d 2>&1", tu_build_dir(), marker, tu_build_dir(), port, port);
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "vLLM ignores") && strstr(out, "--cache-off bust"), "%s", out);
	ck_assert_int_ne(access(marker, F_OK), 0);
	free(out);
	/* the kind found when the server answers (its /version) */
	int rc;
	cJSON *j = sweep("--prefix-cache --first-ms 2 --token-ms 1", "--experiments prefix "
			 "--cache-off request --prefix-tokens 64 --prefix-requests 3 --max-tokens 2",
			 &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "prefix caching: not run: the server is vLLM") &&
		      strstr(out, "vLLM ignores") && !strstr(out, ": 3 misses"), "%s", out);
	ck_assert_str_eq(at(j, "experiments_not_run.0")->valuestring, "prefix");
	ck_assert_ptr_null(cJSON_GetObjectItem(j, "prefix"));
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

static int has_number(const char *s)
{
	for (; *s; s++)
		if (*s >= '0' && *s <= '9' && s[1] == '.' && s[2] >= '0' && s[2] <= '9')
			return 1;
	return 0;
}

/* The text of a section, up to the next "## " heading. */
static char *section(const char *md, const char *heading)
{
	const char *p = strstr(md, heading);
	ck_assert_msg(p != NULL, "no %s", heading);
	const char *e = strstr(p + 3, "\n## ");
	return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

static const char *const g_charts[] = {"r-prefix.svg", "r-kv-1.svg", "r-kv-waterfall.svg"};

static void full_run(void)
{
	char md[600], *out;
	snprintf(md, sizeof md, "%s/r.md", g_dir);
	FILE *f = fopen(md, "w");
	fputs("# First-Token Latency Baseline\n\n## Server Config\n\nkept\n\n## Prefix caching\n\n"
	      "OLD PREFIX\n\n## KV scaling\n\nOLD KV\n", f);
	fclose(f);
	int rc;
	char args[1024];
	snprintf(args, sizeof args, "--prefix-tokens 32,256 --prefix-requests 2 --concurrency 1,4 "
		 "--prompt-tokens 64 --max-tokens 4 --report %s", md);
	cJSON *j = sweep("--style llamacpp --slots 2 --ctx 1024 --prefix-cache "
			 "--prefill-per-token-ms 0.05 --first-ms 10 --token-ms 2", args, &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON_Delete(j);
	free(out);
}

START_TEST(report_sections_hold_numbers)
{
	mkdir_out();
	full_run();
	char path[700];
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	/* replaced, not appended: the old text gone, each heading once */
	ck_assert(!strstr(md, "OLD PREFIX") && !strstr(md, "OLD KV") && strstr(md, "kept"));
	ck_assert(strstr(md, "## Prefix caching") == strstr(md, "## Prefix caching\n") &&
		  !strstr(strstr(md, "## Prefix caching") + 5, "## Prefix caching"));
	char *pc = section(md, "## Prefix caching"), *kv = section(md, "## KV scaling");
	ck_assert(strstr(pc, "Scale: 2 prefix lengths") && has_number(pc));
	ck_assert(strstr(pc, "| prefix tokens |") && strstr(pc, "](r-prefix.svg)"));
	ck_assert(strstr(pc, "**Where caching stops paying:**"));
	ck_assert(strstr(kv, "| config | prompt tokens | concurrency |") && has_number(kv));
	ck_assert(strstr(kv, "predicted knee") && strstr(kv, "**Flags are capacity commitments.**"));
	/* 2 hits a length, 4 and 12 requests a point: p90 / p99 '-', said once */
	ck_assert(strstr(pc, "(p90 needs 10 values and p99 100: '-' below that.)"));
	ck_assert(strstr(kv, "(p90 needs 10 values and p99 100: '-' below that.)"));
	ck_assert(strstr(pc, "not judged") && !strstr(pc, "| no |"));
	ck_assert(strstr(kv, "](r-kv-1.svg)") && strstr(kv, "](r-kv-waterfall.svg)"));
	/* the page: every chart inline */
	snprintf(path, sizeof path, "%s/r.html", g_dir);
	char *html = tu_read_file(path, NULL);
	size_t n = 0;
	for (const char *p = html; (p = strstr(p, "<svg ")); p++)
		n++;
	ck_assert_uint_eq(n, 3);
	ck_assert(!strstr(html, "chart not included"));
	free(html), free(pc), free(kv), free(md);
	rm_out();
}
END_TEST

/* A | in a configuration's flags (here in a shell comment the server
 * never sees) is escaped in the capacity table (\|): the row keeps its 8
 * cells, and the page shows the pipe in the flags' cell. */
START_TEST(kv_flags_with_a_pipe_stay_one_cell)
{
	mkdir_out();
	int rc;
	char *out, args[1024], path[700];
	snprintf(args, sizeof args, "--experiments kv --kv-config 'a=--slots 2 #x|y' "
		 "--concurrency 1 --prompt-tokens 32 --max-tokens 2 --report %s/r.md", g_dir);
	cJSON *j = sweep("--style llamacpp --ctx 1024 --first-ms 2 --token-ms 1", args, &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	cJSON_Delete(j);
	free(out);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	const char *row = strstr(md, "| a | `--slots 2 #x\\|y` |");
	ck_assert_msg(row != NULL, "%s", md);
	int bars = 0;
	for (const char *p = row; *p && *p != '\n'; p++)
		bars += *p == '|' && p[-1] != '\\';
	ck_assert_int_eq(bars - 1, 8);
	snprintf(path, sizeof path, "%s/r.html", g_dir);
	char *html = tu_read_file(path, NULL);
	ck_assert_msg(strstr(html, "<tr><td>a</td><td><code>--slots 2 #x|y</code></td><td>"),
		      "%s", html);
	free(html), free(md);
	rm_out();
}
END_TEST

/* Chromium opens FILE headless: the DOM (parse errors show up in it), its
 * console (on stderr), and a screenshot; 0 when all is well, else why. */
static int render(const char *file, const char *const *want, size_t nwant, char *why, size_t wl)
{
	char cmd[2048], *dom, *err, *ink, cwd[1024];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(cmd, sizeof cmd, "cd %s && timeout 120 chromium --headless --no-sandbox "
		 "--disable-gpu --enable-logging=stderr --v=0 --dump-dom file://%s 2>render.err",
		 g_dir, file);
	int rc = tu_sh(cmd, &dom);
	snprintf(cmd, sizeof cmd, "grep -E ':CONSOLE|Uncaught' %s/render.err", g_dir);
	tu_sh(cmd, &err);
	snprintf(cmd, sizeof cmd, "cd %s && timeout 120 chromium --headless --no-sandbox "
		 "--disable-gpu --hide-scrollbars --window-size=800,700 --screenshot=shot.png "
		 "file://%s >/dev/null 2>&1 && python3 %s/tests/support/png_ink.py shot.png", g_dir,
		 file, cwd);
	int rs = tu_sh(cmd, &ink);
	int w = 0, h = 0, px = 0;
	sscanf(ink, "%d %d %d", &w, &h, &px);
	snprintf(why, wl, "ok");
	if (rc != 0)
		snprintf(why, wl, "chromium exited %d", rc);
	else if (err[0])
		snprintf(why, wl, "console: %.300s", err);
	else if (strstr(dom, "parsererror"))
		snprintf(why, wl, "parse error: %.300s", strstr(dom, "parsererror"));
	else if (rs != 0 || px < 2000)
		snprintf(why, wl, "screenshot blank or missing (%d×%d, %d inked pixels)", w, h, px);
	for (size_t i = 0; !strcmp(why, "ok") && i < nwant; i++)
		if (!strstr(dom, want[i]))
			snprintf(why, wl, "'%s' not in the page", want[i]);
	if (!strcmp(why, "ok") && !has_number(dom))
		snprintf(why, wl, "no number in the page");
	free(dom), free(err), free(ink);
	return strcmp(why, "ok") != 0;
}

START_TEST(chromium_renders_every_chart_and_the_page)
{
	ck_assert_msg(tu_sh("command -v chromium >/dev/null", NULL) == 0,
		      "chromium is not installed (apt-get install -y chromium; .ci/run does)");
	mkdir_out();
	full_run();
	char why[512], path[700];
	static const char *const prefix[] = {"Prefix cache: hit vs miss TTFT", "TTFT (ms)",
					     "shared prefix length (tokens", "miss p50", "hit p50"};
	static const char *const kv[] = {"TTFT and queueing against concurrency", "predicted knee",
					 "requests in flight (concurrency)", "queue share of TTFT (%)"};
	static const char *const wf[] = {"Requests at concurrency 4", "queue", "prefill",
					 "decode", "time since the first request began (ms)"};
	static const char *const page[] = {"Prefix caching", "KV scaling", "<svg",
					   "Flags are capacity commitments"};
	const char *const *want[] = {prefix, kv, wf};
	size_t nwant[] = {5, 4, 5};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", g_dir, g_charts[i]);
		ck_assert_msg(render(path, want[i], nwant[i], why, sizeof why) == 0, "%s: %s",
			      g_charts[i], why);
	}
	snprintf(path, sizeof path, "%s/r.html", g_dir);
	ck_assert_msg(render(path, page, 4, why, sizeof why) == 0, "r.html: %s", why);
	/* and the check can fail: a page with a console error, an SVG that
	 * does not parse */
	snprintf(path, sizeof path, "%s/bad.html", g_dir);
	FILE *f = fopen(path, "w");
	fputs("<!DOCTYPE html><p>1.5 KV scaling</p><script>undefinedFn()</script>", f);
	fclose(f);
	ck_assert(render(path, page, 1, why, sizeof why) != 0 && strstr(why, "console"));
	snprintf(path, sizeof path, "%s/bad.svg", g_dir);
	f = fopen(path, "w");
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>1.5 & 2</text></svg>", f);
	fclose(f);
	ck_assert(render(path, page, 0, why, sizeof why) != 0 && strstr(why, "parse error"));
	rm_out();
}
END_TEST

/* Without a signal, nothing is called interrupted: lengths left short
 * because requests failed (a 600-token context: 1024 and 2048 refused)
 * say why, as before the sweep kept what ran on Ctrl-C (a review found
 * "not run: the sweep was interrupted before it" with no signal sent). */
START_TEST(a_failed_length_is_not_called_interrupted)
{
	mkdir_out();
	int port = tu_free_port();
	char cmd[2048], path[700], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'exec %s/fixture-server --port %d "
		 "--style llamacpp --slots 1 --ctx 600' --url http://127.0.0.1:%d --experiments "
		 "prefix --prefix-tokens 16,1024,2048 --prefix-requests 3 --max-tokens 4 "
		 "--report %s/r.md --json %s/s.json 2>&1", tu_build_dir(), tu_build_dir(), port,
		 port, g_dir, g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	free(out);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(md);
	ck_assert_msg(!strstr(md, "nterrupted"), "%s", md);
	ck_assert_msg(strstr(md, "tokens:* too few misses served"), "%s", md);
	free(md);
	snprintf(path, sizeof path, "%s/s.json", g_dir);
	char *js = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(js);
	/* not interrupted, and no length's status "not_run" */
	ck_assert(strstr(js, "\"interrupted\": false,") && !strstr(js, "\"interrupted\": true"));
	ck_assert(!strstr(js, "\"status\": \"not_run\""));
	free(js);
	rm_out();
}
END_TEST

/* A --kv-config label names its series, its capacity row and its log
 * (sweep-LABEL.log). Two configurations of one label ran, and the report
 * gave one capacity row: the second's flags ("--slots 2") beside the
 * first's capacity (1 slot); the second's log replaced the first's. A
 * label the prefix experiment's server logs under is taken likewise.
 * Refused before anything starts. */
START_TEST(kv_config_labels_are_distinct)
{
	static const char *const bad[] = {
		"--kv-config 'a=-np 1' --kv-config 'b=-np 2' --kv-config 'a=-np 4'",
		"--kv-config 'prefix=-np 1'",
		"--kv-config 'prefix-on=-np 1'",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char cmd[1024], *out;
		/* a server that would start (and say so) if anything ran */
		snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'echo STARTED >&2; sleep 30 #' "
			 "--url http://127.0.0.1:%d --ready-timeout 1 %s 2>&1", tu_build_dir(),
			 tu_free_port(), bad[i]);
		int rc = tu_sh(cmd, &out);
		ck_assert_msg(rc == 2 && strstr(out, "each configuration needs a label of its own") &&
			      !strstr(out, "STARTED") && !strstr(out, "started"),
			      "%s: exit %d: %s", bad[i], rc, out);
		free(out);
	}
}
END_TEST

/* A started server that dies mid-sweep (at its 8th completion: the
 * warm-up was the 1st; it closes that connection and refuses connects,
 * then exits 1.5 s later, so its clients see the close well before the
 * process is gone: a 1 s wait for its exit let the next point run under
 * ThreadSanitizer in CI, and lets it run here). The
 * sweep sent the rest of the grid to a port nobody listened on: 12 and 24
 * "failed" requests, "cannot connect … is the server up? Start vLLM with
 * tools/serve_slm_vllm.sh", and no line said the server had exited; and
 * the check right after a failed point, before the exit was reaped, let
 * one more point run. Now: said (its exit code), one point failed (the one
 * it died in), the rest of the grid listed as not run, exit 1. */
START_TEST(kv_server_that_dies_mid_sweep_is_said)
{
	mkdir_out();
	int rc;
	char *out, args[700];
	snprintf(args, sizeof args, "--experiments kv --concurrency 1,2,4 --prompt-tokens 16,32 "
		 "--max-tokens 2 --report %s/r.md", g_dir);
	cJSON *j = sweep("--style llamacpp --exit-at 8", args, &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	const char *e = cJSON_GetStringValue(at(j, "kv.error"));
	ck_assert_msg(e && strstr(e, "the server [default] exited (exit code 3) while the sweep "
				  "ran: its points from "), "%s", e ? e : out);
	/* the points run: all served but the last, the one it died in */
	int run = 0, failed_at = -1;
	cJSON *s, *pt;
	cJSON_ArrayForEach(s, at(j, "kv.series"))
		cJSON_ArrayForEach(pt, at(s, "points")) {
			if (num(pt, "failed") > 0) {
				ck_assert_msg(failed_at < 0, "a point ran after the one that failed: %s",
					      out);
				failed_at = run;
			}
			run++;
		}
	ck_assert_msg(failed_at == run - 1, "%s", out);
	/* and the rest of the 2 × 3 grid is listed as not run */
	int listed = 0;
	cJSON *nr;
	cJSON_ArrayForEach(nr, at(j, "kv.not_run"))
		listed += cJSON_GetArraySize(at(nr, "concurrency"));
	ck_assert_msg(run + listed == 6 && listed >= 1, "run %d, not run %d: %s", run, listed, out);
	char path[600];
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md && strstr(md, "**Incomplete:** the server [default] exited (exit code 3)"),
		      "%s", md ? md : "no report");
	free(md);
	cJSON_Delete(j);
	free(out);
	/* the prefix experiment's server, dead in its misses (request 4) */
	j = sweep("--style llamacpp --exit-at 4", "--experiments prefix --prefix-tokens 16,32 "
		  "--prefix-requests 3 --max-tokens 2", &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	e = cJSON_GetStringValue(at(j, "prefix.error"));
	ck_assert_msg(e && strstr(e, "the server [prefix] exited (exit code 3)"), "%s",
		      e ? e : out);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* Every request of a point refused (a prompt longer than the slot): no
 * usage came, so the point's prompt length is not known. The report gave
 * "-1" for it, in the table ("| default | -1 | 1 | 4 (4) |"), the chart's
 * title and the page ("-1-token prompts"), and the progress line "TTFT
 * p50 nan ms, queued (unknown) 0% of TTFT". */
START_TEST(kv_point_none_served_has_no_prompt_length)
{
	mkdir_out();
	int rc;
	char *out, args[700];
	snprintf(args, sizeof args, "--experiments kv --concurrency 1,2 --prompt-tokens 200 "
		 "--max-tokens 2 --report %s/r.md", g_dir);
	cJSON *j = sweep("--style llamacpp --slots 1 --ctx 100", args, &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	ck_assert(cJSON_IsNull(at(j, "kv.series.0.points.0.prompt_tokens")));
	ck_assert_msg(!strstr(out, "-1 tokens") && !strstr(out, "nan") &&
		      !strstr(out, "0% of TTFT") && strstr(out, "prompt 200 (asked) tokens"),
		      "%s", out);
	static const char *const files[] = {"r.md", "r.html", "r-kv-1.svg"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[600];
		snprintf(path, sizeof path, "%s/%s", g_dir, files[i]);
		char *t = tu_read_file(path, NULL);
		ck_assert_msg(t && !strstr(t, "-1-token") && !strstr(t, "| -1 |"), "%s: %s",
			      files[i], t ? t : "missing");
		free(t);
	}
	/* no waterfall of a point none of whose requests was served: it drew
	 * each refused request as queue and prefill, as if served */
	char path[600];
	snprintf(path, sizeof path, "%s/r-kv-waterfall.svg", g_dir);
	ck_assert_msg(access(path, F_OK) != 0, "a waterfall of requests none was served: %s", path);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md && !strstr(md, "kv-waterfall") &&
		      strstr(md, "No picture of requests queueing: no point served a request a "
			     "first token."), "%s", md ? md : "no report");
	free(md);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

/* A server that answers /health but is no OpenAI server (a static file
 * server): neither experiment can run. The KV error in the JSON read
 * "[default] " (the reason went to stderr only), and the prefix
 * experiment was in "experiments_not_run" with no reason anywhere in it. */
START_TEST(not_an_openai_server_says_why_in_the_json)
{
	mkdir_out();
	char cmd[1400], log[600], js[600], *out;
	snprintf(cmd, sizeof cmd, "%s/www", g_dir);
	ck_assert_int_eq(mkdir(cmd, 0755), 0);
	snprintf(cmd, sizeof cmd, "echo ok > %s/www/health", g_dir);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	int port = tu_free_port();
	snprintf(log, sizeof log, "%s/www.log", g_dir);
	snprintf(cmd, sizeof cmd, "python3 -m http.server %d --bind 127.0.0.1 --directory %s/www",
		 port, g_dir);
	pid_t srv = tu_spawn(cmd, log);
	snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/health >/dev/null", port);
	for (int i = 0; i < 200 && tu_sh(cmd, NULL) != 0; i++)
		usleep(50000);
	snprintf(js, sizeof js, "%s/g.json", g_dir);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep -q --url http://127.0.0.1:%d --prefix-tokens 16 "
		 "--prefix-requests 2 --prompt-tokens 16 --concurrency 1 --json %s 2>&1",
		 tu_build_dir(), port, js);
	int rc = tu_sh(cmd, &out);
	tu_stop(srv);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	char *t = tu_read_file(js, NULL);
	cJSON *j = cJSON_Parse(t);
	ck_assert_msg(j, "%s", t ? t : "no JSON");
	const char *ke = cJSON_GetStringValue(at(j, "kv.error"));
	const char *pe = cJSON_GetStringValue(at(j, "experiments_not_run_why.prefix"));
	ck_assert_msg(ke && strstr(ke, "/v1/models answered HTTP 404"), "%s", t);
	ck_assert_msg(pe && strstr(pe, "[prefix] GET ") && strstr(pe, "/v1/models answered HTTP 404"),
		      "%s", t);
	cJSON_Delete(j);
	free(t);
	free(out);
	rm_out();
}
END_TEST

/* The prefix experiment asked for and not run (--cache-off request on a
 * server found to be vLLM): the report kept the previous run's "Prefix
 * caching" section, table and all, beside this run's KV section, while
 * the JSON said "experiments_not_run": ["prefix"]. Now the section says
 * it was not run, and why. */
START_TEST(prefix_not_run_replaces_the_old_section)
{
	mkdir_out();
	int rc;
	char *out, args[700], path[600];
	snprintf(args, sizeof args, "--max-tokens 2 --prefix-tokens 16 --prefix-requests 3 "
		 "--prompt-tokens 16 --concurrency 1 --report %s/r.md", g_dir);
	cJSON *j = sweep("--prefix-cache", args, &rc, &out);
	ck_assert_msg(rc == 0 && j, "exit %d: %s", rc, out);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md && strstr(md, "| prefix tokens |"), "%s", md ? md : "no report");
	free(md);
	cJSON_Delete(j);
	free(out);
	strcat(args, " --cache-off request");
	j = sweep("--prefix-cache", args, &rc, &out);
	ck_assert_msg(rc == 1 && j, "exit %d: %s", rc, out);
	ck_assert_str_eq(cJSON_GetArrayItem(at(j, "experiments_not_run"), 0)->valuestring, "prefix");
	md = tu_read_file(path, NULL);
	ck_assert_msg(md && !strstr(md, "| prefix tokens |") &&
		      strstr(md, "## Prefix caching\n\n**Not run** (") &&
		      strstr(md, "not run: the server is vLLM") && strstr(md, "## KV scaling"),
		      "%.700s", md ? md : "no report");
	free(md);
	cJSON_Delete(j);
	free(out);
	rm_out();
}
END_TEST

START_TEST(bad_usage_and_no_server)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --kv-config 'a=-np 2' 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "need --server"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --prefix-tokens 64,x 2>&1", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "bad value '64,x' for --prefix-tokens"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --kv-config 'bad label=x' --server true 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	free(out);
	/* a misspelt experiment is not silently skipped; a timeout is a number */
	static const char *const wrong[][2] = {
		{"--experiments prefx,kv", "bad value 'prefx,kv' for --experiments"},
		{"--experiments kvv", "bad value 'kvv' for --experiments"},
		{"--timeout nan", "bad value 'nan' for --timeout"},
		{"--ready-timeout inf", "bad value 'inf' for --ready-timeout"},
		/* two ways to make the misses: the later one won, silently
		 * (--cache-off-flags then --cache-off bust ran no cache-off
		 * configuration at all) */
		{"--server true --cache-off-flags x --cache-off bust",
		 "--cache-off bust and --cache-off-flags are two ways"},
		{"--server true --cache-off request --cache-off-flags x",
		 "--cache-off request and --cache-off-flags are two ways"},
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s/ttft-sweep %s 2>&1", tu_build_dir(), wrong[i][0]);
		ck_assert_int_eq(tu_sh(cmd, &out), 2);
		ck_assert_msg(strstr(out, wrong[i][1]), "%s: %s", wrong[i][0], out);
		free(out);
	}
	int port = tu_free_port();
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --url http://127.0.0.1:%d 2>&1", tu_build_dir(), port);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "no server answers"), "%s", out);
	free(out);
	/* a configuration that dies at start: its last lines, and exit 1 */
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'echo bad flag >&2; exit 3' --url "
		 "http://127.0.0.1:%d --experiments kv 2>&1", tu_build_dir(), port);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "exited before it was ready (exit code 3)") &&
		      strstr(out, "bad flag"), "%s", out);
	free(out);
}
END_TEST

/* ttft-sweep ARGS against a --server that would say STARTED if anything
 * ran: it must end at once with exit 2 and one line holding want. */
static void refused(const char *args, const char *want)
{
	char cmd[2048], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'echo STARTED >&2; sleep 30 #' "
		 "--url http://127.0.0.1:%d --ready-timeout 1 %s 2>&1", tu_build_dir(),
		 tu_free_port(), args);
	int rc = tu_sh(cmd, &out);
	char *nl = strchr(out, '\n');
	ck_assert_msg(rc == 2 && strstr(out, want) && !strstr(out, "STARTED") &&
		      !strstr(out, "started") && nl && !nl[1],
		      "%s: want exit 2 and one line with \"%s\", got exit %d: %s", args, want, rc,
		      out);
	free(out);
}

/* A list's items are whole numbers in digits alone, as every tool's
 * flags (ttft_cli_long): strtok skipped an empty item ("1,,4" ran 1 and
 * 4), a 512-byte buffer cut a long list short without a word (the 3 of
 * "0…01,3" never ran), and strtol took "+3", " 3" and "08". */
START_TEST(list_items_are_whole_numbers_each)
{
	static const char *const bad[][2] = {
		{"--concurrency 1,,4", "bad value '1,,4' for --concurrency (item 2 is empty)"},
		{"--concurrency 1,", "(item 2 is empty)"},
		{"--concurrency ''", "(item 1 is empty)"},
		{"--concurrency +3", "(item 1, '+3')"},
		{"--prompt-tokens '1, 3'", "(item 2, ' 3')"},
		{"--prefix-tokens 64,08", "(item 2, '08')"},
		{"--concurrency 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "(more than 16 items)"},
		{"--kv-requests +3", "bad value '+3' for --kv-requests"},
		{"--prefix-requests 010", "bad value '010' for --prefix-requests"},
		{"--max-tokens ' 8'", "bad value ' 8' for --max-tokens"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i][0], bad[i][1]);
	/* past 512 bytes: "0…01,3" (509 zeros) was 1 alone */
	char args[700];
	int n = snprintf(args, sizeof args, "--concurrency ");
	memset(args + n, '0', 509);
	snprintf(args + n + 509, sizeof args - (size_t)n - 509, "1,3");
	refused(args, "(item 1, '00000000000000000000…'): want up to 16 whole numbers from 1 "
		      "to 4096, comma-separated, in digits alone");
}
END_TEST

/* An option of an experiment --experiments leaves out was dropped without
 * a word: "--experiments prefix --concurrency 64" ran the prefix
 * experiment and nothing at concurrency 64. Either order of the two. */
START_TEST(options_of_an_experiment_left_out_are_refused)
{
	static const char *const kv[] = {"--concurrency 2", "--prompt-tokens 16",
					 "--kv-requests 4", "--kv-config 'a=-np 2'"};
	static const char *const prefix[] = {"--prefix-tokens 64", "--prefix-requests 4",
					     "--cache-off bust", "--cache-off-flags x",
					     "--cache-on-flags y"};
	char args[256], want[256];
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
		snprintf(args, sizeof args, "--experiments prefix %s", kv[i]);
		snprintf(want, sizeof want, "%.*s is for the kv experiment, which --experiments "
			 "prefix leaves out", (int)strcspn(kv[i], " "), kv[i]);
		refused(args, want);
		snprintf(args, sizeof args, "%s --experiments prefix", kv[i]);
		refused(args, want);
	}
	for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
		snprintf(args, sizeof args, "%s --experiments kv", prefix[i]);
		snprintf(want, sizeof want, "%.*s is for the prefix experiment, which "
			 "--experiments kv leaves out", (int)strcspn(prefix[i], " "), prefix[i]);
		refused(args, want);
	}
}
END_TEST

/* "--experiments prefix,,kv" was taken (strtok skipped the empty item),
 * and so was an experiment named twice. */
START_TEST(experiments_list_has_no_empty_or_twice_named_item)
{
	refused("--experiments prefix,,kv",
		"bad value 'prefix,,kv' for --experiments (an item is empty): want prefix, kv "
		"or prefix,kv");
	refused("--experiments kv,", "(an item is empty)");
	refused("--experiments ,kv", "(an item is empty)");
	refused("--experiments kv,kv", "('kv' is named twice)");
	refused("--experiments kv,prefx", "('prefx' is no experiment)");
}
END_TEST

/* "--kv-config np2=" (an unset shell variable: np2=$FLAGS) started CMD
 * as it is and reported it as np2. */
START_TEST(kv_config_with_no_flags_is_refused)
{
	refused("--kv-config np2=", "bad value 'np2=' for --kv-config: FLAGS is empty");
	refused("--kv-config 'np2= '", "bad value 'np2= ' for --kv-config: FLAGS is empty");
}
END_TEST

/* --header ':' was taken and every request went without it (curl sends
 * no header it cannot name); ': v' and 'A b: v' went as lines a server
 * refuses. Checked as ttft-probe checks its own (one function). */
START_TEST(header_without_a_name_is_refused)
{
	refused("--header :", "bad value ':' for --header: no name before the ':'");
	refused("--header ': v'", "bad value ': v' for --header: no name before the ':'");
	refused("--header 'A b: v'", "the name 'A b' holds a blank");
	refused("--header 'traceparent: 00-bad'", "not a valid W3C traceparent");
}
END_TEST

/* Every output and the --server-log are checked before any server starts
 * or request runs (README: "checks all its flags and output paths before
 * it starts anything"): a mistake costs a second, not a sweep. The server
 * here would answer and run the whole sweep; none may start. */
START_TEST(outputs_checked_before_anything_runs)
{
	pid_t srv;
	mkdir_out();
	int port = tu_fixture_start("--style llamacpp", &srv);
	char cmd[2048], *out;
	static const char *const bad[][2] = {
		{"--json %s/no-such-dir/s.json", "cannot write --json"},
		{"--report %s/no-such-dir/deeper/r.md", "cannot write --report"},
		{"--json %s", "it is a directory"},
		{"--server-log %s/no-such.log", "--server-log"},
		{"--log-dir %s/no-such-dir/deeper", "--log-dir"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char arg[700];
		snprintf(arg, sizeof arg, bad[i][0], g_dir);
		snprintf(cmd, sizeof cmd, "%s/ttft-sweep --url http://127.0.0.1:%d --experiments kv "
			 "--concurrency 1 --prompt-tokens 16 --max-tokens 2 %s 2>&1", tu_build_dir(),
			 port, arg);
		ck_assert_int_eq(tu_sh(cmd, &out), 2);
		ck_assert_msg(strstr(out, bad[i][1]) && !strstr(out, "concurrency 1:"),
			      "%s: %s", arg, out);
		free(out);
	}
	tu_fixture_stop(srv);
	rm_out();
}
END_TEST

/* Outputs are replaced whole (README: "a new file renamed over it"), so a
 * full disk or a crash mid-write leaves the old file, never half of the
 * new one: a hard link to each old file still holds the old text after. */
START_TEST(outputs_replaced_whole)
{
	mkdir_out();
	static const char *const names[] = {"r.md", "r.html", "r-kv-1.svg", "s.json"};
	char path[700], hard[760], cmd[2048], *out;
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
		snprintf(hard, sizeof hard, "%s/old-%s", g_dir, names[i]);
		FILE *f = fopen(path, "w");
		fputs("# OLD\n", f);
		fclose(f);
		ck_assert_int_eq(link(path, hard), 0);
	}
	int port = tu_free_port();
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server 'exec %s/fixture-server --port %d "
		 "--style llamacpp --slots 1' --url http://127.0.0.1:%d --experiments kv "
		 "--concurrency 1 --prompt-tokens 16 --max-tokens 2 --report %s/r.md "
		 "--json %s/s.json 2>&1", tu_build_dir(), tu_build_dir(), port, port, g_dir, g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
		snprintf(hard, sizeof hard, "%s/old-%s", g_dir, names[i]);
		char *now = tu_read_file(path, NULL), *old = tu_read_file(hard, NULL);
		ck_assert_msg(strcmp(now, "# OLD\n") != 0, "%s not written", names[i]);
		ck_assert_msg(!strcmp(old, "# OLD\n"), "%s written in place", names[i]);
		free(now), free(old);
	}
	rm_out();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sweep");
	TCase *u = tu_tcase(s, "judgements", 60);
	tcase_add_test(u, kv_failed_points_judge_nothing);
	tcase_add_test(u, kv_cut_between_points_judges_no_knee);
	tcase_add_test(u, kv_cut_between_points_says_so_in_the_lesson);
	tcase_add_test(u, prefix_pays_only_when_it_can_tell);
	tcase_add_test(u, prefix_lengths_that_disagree_are_said_so);
	tcase_add_test(u, prefix_misses_served_from_the_cache_are_not_judged);
	tcase_add_test(u, kv_knee_by_the_median_when_no_p90);
	tcase_add_test(u, kv_gauge_that_saw_no_load_is_no_evidence);
	tcase_add_test(u, kv_gauge_that_saw_nothing_says_so_in_the_table);
	tcase_add_test(u, kv_knee_told_by_a_proxy_alone_says_so);
	TCase *t = tu_tcase(s, "sweep", 300);
	tcase_add_test(t, prefix_llamacpp_counts_from_timings);
	tcase_add_test(t, prefix_hits_take_no_question);
	tcase_add_test(t, prefix_vllm_counts_from_metrics);
	tcase_add_test(t, prefix_two_configurations);
	tcase_add_test(t, kv_llamacpp_knee_on_the_slots);
	tcase_add_test(t, kv_llamacpp_headers_with_the_token_are_no_queue);
	tcase_add_test(t, kv_tokens_per_s_from_events_is_at_least);
	tcase_add_test(t, kv_no_token_streamed_is_a_failed_request);
	tcase_add_test(t, server_log_not_written_is_said);
	tcase_add_test(t, kv_vllm_capacity_from_its_log);
	tcase_add_test(t, kv_vllm_data_parallel_capacity_is_per_engine);
	tcase_add_test(t, kv_vllm_data_parallel_from_a_coloured_log);
	tcase_add_test(t, kv_vllm_restart_with_fewer_engines_counts_the_last_start);
	tcase_add_test(t, kv_capacity_written_as_health_answers_is_read);
	tcase_add_test(t, report_sections_hold_numbers);
	tcase_add_test(t, kv_flags_with_a_pipe_stay_one_cell);
	tcase_add_test(t, chromium_renders_every_chart_and_the_page);
	tcase_add_test(t, bad_usage_and_no_server);
	tcase_add_test(t, list_items_are_whole_numbers_each);
	tcase_add_test(t, options_of_an_experiment_left_out_are_refused);
	tcase_add_test(t, experiments_list_has_no_empty_or_twice_named_item);
	tcase_add_test(t, kv_config_with_no_flags_is_refused);
	tcase_add_test(t, header_without_a_name_is_refused);
	tcase_add_test(t, kv_config_labels_are_distinct);
	tcase_add_test(t, kv_server_that_dies_mid_sweep_is_said);
	tcase_add_test(t, kv_point_none_served_has_no_prompt_length);
	tcase_add_test(t, not_an_openai_server_says_why_in_the_json);
	tcase_add_test(t, prefix_not_run_replaces_the_old_section);
	tcase_add_test(t, cache_off_request_refused_on_vllm);
	tcase_add_test(t, prefix_bust_misses_share_nothing);
	tcase_add_test(t, a_failed_length_is_not_called_interrupted);
	tcase_add_test(t, outputs_checked_before_anything_runs);
	tcase_add_test(t, outputs_replaced_whole);
	return tu_run(s);
}
