/* test_engine.c — the real engine (llama-server, random-weight Qwen2 tiny)
 * as ground truth: llama.cpp's own final-chunk timings, read in the same
 * run, inside what the shim measured at the socket; queueing with one slot
 * against those timings; the prefix cache;
 * ttft-cold and `make demo` end to end. Slow: needs the engine built
 * (tools/engine.sh); run with TTFT_SLOW=1 make test. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"

static char g_server[1024], g_model[1024];
static int g_port;
static pid_t g_pid;

static void once(void)
{
	char *out;
	ck_assert_int_eq(tu_sh("tools/engine.sh server 2>/dev/null", &out), 0);
	snprintf(g_server, sizeof g_server, "%s", strtok(out, "\n"));
	free(out);
	ck_assert_int_eq(tu_sh("tools/engine.sh src 2>/dev/null", &out), 0);
	char cmd[2048];
	tu_tmp_log(g_model, sizeof g_model, "tiny");
	strcat(g_model, ".gguf");
	snprintf(cmd, sizeof cmd, "%s/ttft-mkmodel --shape tiny --vocab %s/models/ggml-vocab-qwen2.gguf "
		 "--out %s 2>/dev/null", tu_build_dir(), strtok(out, "\n"), g_model);
	free(out);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
}

/* One server thread: llama.cpp's workers spin while decoding, and on a
 * 2-core machine two of them would delay the client's own reads. */
static void start_server(const char *extra)
{
	g_port = tu_free_port();
	char log[256];
	tu_tmp_log(log, sizeof log, "llama-server");
	pid_t parent = getpid();
	g_pid = fork();
	if (g_pid == 0) {
		/* a failed assertion skips stop_server: the server goes with
		 * the test */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		char cmd[4096];
		snprintf(cmd, sizeof cmd, "exec %s -m %s --host 127.0.0.1 --port %d -c 8192 -t 1 "
			 "--metrics %s >%s 2>&1", g_server, g_model, g_port, extra, log);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	char cmd[256];
	snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/health >/dev/null", g_port);
	/* polled, with a deadline far beyond a loaded machine's start-up */
	int64_t deadline = ttft_now_ns() + 300 * (int64_t)1000000000;
	while (tu_sh(cmd, NULL) != 0 && ttft_now_ns() < deadline)
		usleep(100000);
	ck_assert_msg(tu_sh(cmd, NULL) == 0, "llama-server did not become ready (log: %s)", log);
	/* one request so that the measured ones are warm */
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --max-tokens 4 -q",
		 tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
}

static void stop_server(void)
{
	kill(-g_pid, SIGTERM);
	kill(g_pid, SIGTERM);
	waitpid(g_pid, NULL, 0);
}

/* Run ttft-probe ARGS under the shim; the analysis (completions only) and
 * the probe's JSONL records. */
static int run_probe(const char *args, struct ttft_analysis *a, cJSON **recs, int max)
{
	char log[256], js[256], cmd[4096];
	tu_tmp_log(log, sizeof log, "engine");
	tu_tmp_log(js, sizeof js, "engine-jsonl");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- %s/ttft-probe --url "
		 "http://127.0.0.1:%d -q --ignore-eos --json %s %s", tu_build_dir(), log,
		 tu_build_dir(), g_port, js, args);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	struct ttft_filter f = {0, "/v1/completions"};
	char err[256];
	/* every token's time kept: each is checked in order */
	ck_assert_int_eq(ttft_analyze_file_opt(log, &f, TTFT_ANALYZE_ALL_TOKENS, a, err,
					       sizeof err), 0);
	unlink(log);
	/* A request curl sent on a keep-alive connection the server had just
	 * closed gets no response (curl retries it on a new one): real, and
	 * shown by the analyzer, but not one of the probe's records. */
	size_t k = 0;
	for (size_t i = 0; i < a->nreqs; i++) {
		if (a->reqs[i].status)
			a->reqs[k++] = a->reqs[i];
		else
			ttft_record_free(&a->reqs[i]);
	}
	a->nreqs = k;
	char *text = tu_read_file(js, NULL);
	unlink(js);
	int n = 0;
	for (char *p = strtok(text, "\n"); p && n < max; p = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(p);
		if (cJSON_GetObjectItem(o, "summary"))
			cJSON_Delete(o);
		else
			recs[n++] = o;
	}
	free(text);
	return n;
}

static double f(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

START_TEST(shim_agrees_with_llamacpp_timings)
{
	start_server("-np 1 --cache-ram 0");
	struct ttft_analysis a;
	cJSON *r[16];
	int n = run_probe("--runs 8 --max-tokens 32", &a, r, 16);
	ck_assert_int_eq(n, 8);
	ck_assert_uint_eq(a.nreqs, 8);
	int refused = 0;
	for (int i = 0; i < 8; i++) {
		const struct ttft_record *q = &a.reqs[i];
		struct ttft_phases p;
		ttft_record_phases(q, &p);
		double prefill = f(r[i], "prefill_s"), sdec = f(r[i], "server_decode_s");
		ck_assert_msg(!isnan(prefill) && !isnan(sdec), "no timings in request %d", i);
		/* the shim read the same numbers from the stream it saw; or it
		 * refused them, saying why, only where its own stamps leave the
		 * server's prefill no room: a busy machine that stopped the
		 * client after its send and before the stamp (CI once had it
		 * on a cold first request) */
		const struct ttft_server_split *sp = ttft_record_split(q);
		double waited = (double)(q->t_first - q->t_req1) / 1e9;
		if (!sp->source) {
			ck_assert_msg(strstr(sp->note, "refused:") &&
				      strstr(sp->note, "more than the client waited") &&
				      prefill > waited,
				      "request %d: no split, prefill %.6f s, waited %.6f s: %s", i,
				      prefill, waited, sp->note);
			refused++;
		} else {
			ck_assert_msg(!strcmp(sp->source, TTFT_SPLIT_LLAMACPP_TIMINGS),
				      "request %d: shim split %s", i, sp->source);
			ck_assert_msg(fabs(sp->prefill_s - prefill) < 1e-6 &&
				      fabs(sp->decode_s - sdec) < 1e-6,
				      "request %d: shim %.6f/%.6f, probe %.6f/%.6f", i,
				      sp->prefill_s, sp->decode_s, prefill, sdec);
		}
		/* the server's prefill happens inside the client's TTFT, its
		 * prefill and decode inside the whole request (llama.cpp times
		 * them with CLOCK_MONOTONIC too, and sends them last); how much
		 * is left around them is make bench's business */
		ck_assert_msg(p.ttft_s >= prefill, "request %d: ttft %.4f < prompt_ms %.4f",
			      i, p.ttft_s, prefill);
		ck_assert_msg(p.e2e_s >= prefill + sdec, "request %d: e2e %.4f < prompt_ms + "
			      "predicted_ms %.4f", i, p.e2e_s, prefill + sdec);
		/* every token the server predicted, in order */
		ck_assert_int_eq((int)q->ntok, 32);
		ck_assert_int_eq((int)f(r[i], "tokens"), 32);
		ck_assert(q->t_req0 <= q->t_req1 && q->t_req1 <= q->t_hdr && q->t_hdr <= q->t_first);
		for (uint32_t k = 1; k < q->ntok; k++)
			ck_assert(ttft_record_token_at(q, k - 1) <= ttft_record_token_at(q, k));
		ck_assert(ttft_record_last_token(q) <= q->t_end);
	}
	ck_assert_msg(refused < 8, "every split refused");
	for (int i = 0; i < n; i++)
		cJSON_Delete(r[i]);
	ttft_analysis_free(&a);
	stop_server();
}
END_TEST

START_TEST(one_slot_makes_queueing_visible)
{
	start_server("-np 1 --cache-ram 0");
	struct ttft_analysis a;
	cJSON *r[4];
	int n = run_probe("--concurrency 2 --requests 2 --max-tokens 48", &a, r, 4);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(a.nreqs, 2);
	/* One slot: the second request's prefill starts only once the first
	 * has been prefilled and decoded, by llama.cpp's own timings. So the
	 * later first token comes at least both prefills and a decode after
	 * the earlier request began, whichever request was served first. */
	double p0 = f(r[0], "prefill_s"), p1 = f(r[1], "prefill_s");
	double d = fmin(f(r[0], "server_decode_s"), f(r[1], "server_decode_s"));
	ck_assert(!isnan(p0) && !isnan(p1) && !isnan(d));
	int64_t begin = a.reqs[0].t_req0 < a.reqs[1].t_req0 ? a.reqs[0].t_req0 : a.reqs[1].t_req0;
	int64_t later = a.reqs[0].t_first > a.reqs[1].t_first ? a.reqs[0].t_first
							      : a.reqs[1].t_first;
	double waited = (double)(later - begin) / 1e9;
	ck_assert_msg(waited >= p0 + p1 + d, "second first token %.4f s after the first request "
		      "began; prefills %.4f + %.4f s and a decode of %.4f s", waited, p0, p1, d);
	for (int i = 0; i < n; i++)
		cJSON_Delete(r[i]);
	ttft_analysis_free(&a);
	stop_server();
}
END_TEST

/* Python asyncio clients wrapped with ttft-run --metrics (the default
 * interval for llama.cpp): each completion row's split, from llama.cpp's
 * counters joined at each prefill's end, against the timings llama.cpp
 * put in that request's own stream (the client printed them). Returns how
 * many rows got a split. */
static int wrapped_vs_timings(const char *mode, int n)
{
	char js[256], out[256], cmd[4096];
	tu_tmp_log(js, sizeof js, "engine-load-json");
	tu_tmp_log(out, sizeof out, "engine-load-out");
	snprintf(cmd, sizeof cmd, "TTFT_TEST_MAX_TOKENS=32 %s/ttft-run --quiet --metrics "
		 "http://127.0.0.1:%d --json %s -- python3 tests/clients/py_asyncio.py %d %d %s "
		 ">%s", tu_build_dir(), g_port, js, g_port, n, mode, out);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *text = tu_read_file(out, NULL), *jtext = tu_read_file(js, NULL);
	unlink(out);
	unlink(js);
	double first[16], prompt_ms[16], cache_n[16];
	int nc = 0, used[16] = {0};
	for (char *save, *p = strtok_r(text, "\n", &save); p && nc < 16;
	     p = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(p), *t = cJSON_GetObjectItem(o, "timings");
		ck_assert_msg(cJSON_IsObject(t), "no timings in the stream: %s", p);
		first[nc] = f(o, "first_ns") / 1e9;
		prompt_ms[nc] = f(t, "prompt_ms");
		cache_n[nc++] = f(t, "cache_n");
		cJSON_Delete(o);
	}
	free(text);
	ck_assert_int_eq(nc, n);
	cJSON *j = cJSON_Parse(jtext), *q;
	free(jtext);
	int rows = 0, split = 0;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests")) {
		if (!cJSON_IsNumber(cJSON_GetObjectItem(q, "status")))
			continue; /* a retried request on a connection llama.cpp closed */
		rows++;
		/* the client saw its first token after the socket read did */
		double at = f(q, "start_s") + f(q, "ttft_s");
		int k = -1;
		for (int c = 0; c < nc; c++)
			if (!used[c] && first[c] >= at - 1e-6 && (k < 0 || first[c] < first[k]))
				k = c;
		ck_assert_msg(k >= 0, "no client line for the first token read at %.6f", at);
		used[k] = 1;
		cJSON *src = cJSON_GetObjectItem(q, "split_source");
		if (!cJSON_IsString(src)) {
			cJSON *note = cJSON_GetObjectItem(q, "split_note");
			ck_assert_msg(cJSON_IsString(note) && *note->valuestring,
				      "a null split without a note");
			continue;
		}
		split++;
		/* the counters time the prompt's batches, prompt_ms the slot's
		 * prompt phase: the same prefill within 3 ms (1 ms when the
		 * shim reads the timings in the stream itself) */
		int own = !strcmp(src->valuestring, "llamacpp-timings");
		ck_assert_msg(own || !strcmp(src->valuestring, "llamacpp-metrics"), "%s",
			      src->valuestring);
		double d = fabs(f(q, "prefill_s") * 1e3 - prompt_ms[k]);
		ck_assert_msg(d <= (own ? 1.0 : 3.0), "prefill %.3f ms, llama.cpp's own "
			      "prompt_ms %.3f", f(q, "prefill_s") * 1e3, prompt_ms[k]);
		ck_assert_msg(f(q, "prefix_cache_hit_tokens") == cache_n[k], "hits %.0f, "
			      "cache_n %.0f", f(q, "prefix_cache_hit_tokens"), cache_n[k]);
		ck_assert(f(q, "server_other_s") >= 0);
	}
	ck_assert_int_eq(rows, n);
	cJSON_Delete(j);
	fprintf(stderr, "llama-server -np 1, %d wrapped clients (%s): %d split\n", n, mode,
		split);
	return split;
}

/* The case on the real engine: four clients at once on one slot,
 * then five back to back with no pause. llama.cpp's counters move when a
 * prefill ends; no split may hold two prefills. */
START_TEST(one_slot_wrapped_clients_split_per_request)
{
	start_server("-np 1 --cache-ram 0");
	ck_assert_msg(wrapped_vs_timings("concurrent", 4) >= 1, "no request got a split");
	ck_assert_msg(wrapped_vs_timings("new", 5) >= 1, "no request got a split");
	stop_server();
}
END_TEST

START_TEST(prefix_cache_hit_lowers_ttft)
{
	start_server("-np 1 --cache-ram 0");
	char *prompt = malloc(20000), path[256], args[512];
	snprintf(prompt, 20000, "Request %d. ", (int)getpid());
	for (int i = 0; i < 150; i++)
		strcat(prompt, "The quick brown fox jumps over the lazy dog near the river bank. ");
	tu_tmp_log(path, sizeof path, "prompt");
	FILE *pf = fopen(path, "w");
	fputs(prompt, pf);
	fclose(pf);
	free(prompt);
	snprintf(args, sizeof args, "--runs 2 --max-tokens 4 --prompt-file %s", path);
	struct ttft_analysis a;
	cJSON *r[4];
	int n = run_probe(args, &a, r, 4);
	unlink(path);
	ck_assert_int_eq(n, 2);
	double c1 = f(r[0], "prefix_cache_hit_tokens"), c2 = f(r[1], "prefix_cache_hit_tokens");
	ck_assert_msg(c2 > 1000 && c2 > c1, "cache_n %.0f then %.0f", c1, c2);
	struct ttft_phases p1, p2;
	ttft_record_phases(&a.reqs[0], &p1);
	ttft_record_phases(&a.reqs[1], &p2);
	/* each TTFT holds its own prefill; the hit skips more than a
	 * thousand tokens of it, which no load spike on the second request
	 * makes up for (same run, same server) */
	ck_assert(p1.ttft_s >= f(r[0], "prefill_s") && p2.ttft_s >= f(r[1], "prefill_s"));
	ck_assert_msg(p2.ttft_s < p1.ttft_s, "ttft %.4f then %.4f", p1.ttft_s, p2.ttft_s);
	for (int i = 0; i < n; i++)
		cJSON_Delete(r[i]);
	ttft_analysis_free(&a);
	stop_server();
}
END_TEST

START_TEST(demo_end_to_end)
{
	char cmd[1024], *out, dir[256];
	tu_tmp_log(dir, sizeof dir, "demo");
	/* a port of its own: other demos on this host take the first free one
	 * from 18180; its messages kept, for the failure message */
	int port = tu_free_port();
	char shmlog[128];
	snprintf(shmlog, sizeof shmlog, "/dev/shm/ttft-demo.test-%ld.log", (long)getpid());
	snprintf(cmd, sizeof cmd, "DEMO_OUT=%s DEMO_PORT=%d DEMO_WARM=3 DEMO_TOKENS=16 "
		 "DEMO_LOG=%s bash tools/demo.sh 2>%s.err", dir, port, shmlog, dir);
	int rc = tu_sh(cmd, &out);
	if (rc != 0) {
		snprintf(cmd, sizeof cmd, "%s.err", dir);
		char *e = tu_read_file(cmd, NULL);
		size_t el = strlen(e);
		ck_abort_msg("make demo exited %d; its last messages:\n%s", rc,
			     e + (el > 3000 ? el - 3000 : 0));
	}
	char want[300];
	snprintf(want, sizeof want, "%s/first_token_latency.md\n", dir);
	size_t lo = strlen(out), lw = strlen(want);
	ck_assert_msg(lo >= lw && !strcmp(out + lo - lw, want), "last line: %s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/first_token_latency.md", dir);
	char *md = tu_read_file(cmd, NULL);
	ck_assert(strstr(md, "{{") == NULL);
	ck_assert(strstr(md, "| engine | llama.cpp llama-server |") != NULL);
	ck_assert_msg(strstr(md, "(`weight_load`)") && strstr(md, "(`kv_cache_alloc`)") &&
		      strstr(md, "(`warmup`)"), "%s", md);
	/* what the server ran, single-dash capacity flags included */
	ck_assert_msg(strstr(md, "`-np 1`") && strstr(md, "`-c 4096`"), "%s", md);
	/* the model said for what it is */
	ck_assert_msg(strstr(md, "**This model has random weights:**") &&
		      strstr(md, "Its text is meaningless; its timings are real"), "%s", md);
	/* three restarts by default, like for like */
	ck_assert_msg(strstr(md, "**Across 3 restarts:**"), "%s", md);
	ck_assert(strstr(md, "Like for like") && strstr(md, "no warm run found a cached prompt token"));
	ck_assert(strstr(md, "## Knobs That Move TTFT") && strstr(md, "**-np** slots"));
	/* the rest of the day: both sections, with numbers, charts and the page */
	const char *pc = strstr(md, "## Prefix caching"), *kv = strstr(md, "## KV scaling");
	ck_assert_msg(pc && kv && pc < kv, "no Prefix caching / KV scaling sections");
	ck_assert(strstr(pc, "| prefix tokens |") && strstr(pc, "**Where caching stops paying:**"));
	ck_assert(strstr(kv, "| np1 | ") && strstr(kv, "| np2 | "));
	ck_assert(strstr(kv, "**Flags are capacity commitments.**") && strstr(kv, "ms at concurrency 1"));
	free(md);
	snprintf(cmd, sizeof cmd, "%s/sweep.json", dir);
	char *js = tu_read_file(cmd, NULL);
	cJSON *j = cJSON_Parse(js);
	free(js);
	/* llama.cpp's own counts: misses (cache_prompt false) took nothing from
	 * the cache, every hit the whole prefix */
	cJSON *pt, *r;
	cJSON_ArrayForEach(pt, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "prefix"), "points")) {
		double len = f(pt, "prefix_tokens");
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(pt, "misses")) {
			double h = f(cJSON_GetObjectItem(r, "request"), "prefix_cache_hit_tokens");
			ck_assert_msg(h == 0, "a miss took %g tokens from the cache", h);
		}
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(pt, "hits")) {
			double h = f(cJSON_GetObjectItem(r, "request"), "prefix_cache_hit_tokens");
			ck_assert_msg(h >= len - 1, "a hit took %g of a %g-token prefix", h, len);
		}
	}
	/* slots are the capacity: no request waits below -np, by the
	 * server's own count of deferred requests. On a busy machine the
	 * clients may not overlap enough to make one wait at the first
	 * concurrency past it, so the knee can be measured later, never
	 * earlier (test_sweep checks the exact knee against the fixture). */
	cJSON *s;
	int series = 0, sampled = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "kv"), "series")) {
		const char *cfg = cJSON_GetObjectItem(s, "config")->valuestring;
		double pk = f(s, "predicted_knee");
		ck_assert_msg(pk >= 1, "%s: no predicted knee", cfg);
		/* the server's own count, wherever it was sampled: llama-server
		 * defers a request only with every slot busy (get_available_slot) */
		cJSON *pt;
		cJSON_ArrayForEach(pt, cJSON_GetObjectItem(s, "points")) {
			cJSON *sv = cJSON_GetObjectItem(pt, "server");
			ck_assert_msg(cJSON_IsObject(sv), "%s: a point without its server state", cfg);
			double w = f(sv, "waiting_max");
			sampled += !isnan(w);
			ck_assert_msg(f(pt, "concurrency") > pk || isnan(w) || w == 0,
				      "%s: %g waiting at concurrency %g, %g slots", cfg, w,
				      f(pt, "concurrency"), pk);
		}
		/* the knee told by that count is never earlier; one told by a
		 * proxy (the queued share: a busy CPU grows it too, CI on 2
		 * cores measured 1 for -np 2) must say it is the proxy's alone */
		cJSON *by = cJSON_GetObjectItem(s, "waited_by"),
		      *ex = cJSON_GetObjectItem(s, "explanation");
		int gauge = cJSON_IsString(by) && !strcmp(by->valuestring,
							  "the server reported requests waiting");
		ck_assert_msg(f(s, "measured_knee") >= pk ||
			      (!gauge && cJSON_IsString(ex) && strstr(ex->valuestring, "by a proxy only")),
			      "%s: measured %g, predicted %g, waiting told by %s: %s", cfg,
			      f(s, "measured_knee"), pk, cJSON_IsString(by) ? by->valuestring : "-",
			      cJSON_IsString(ex) ? ex->valuestring : "-");
		series++;
	}
	ck_assert_int_eq(series, 4);
	ck_assert_msg(sampled > 0, "no point has the server's count of waiting requests");
	cJSON_Delete(j);
	snprintf(cmd, sizeof cmd, "%s/first_token_latency.html", dir);
	char *html = tu_read_file(cmd, NULL);
	ck_assert(strstr(html, "<svg") && !strstr(html, "chart not included"));
	free(html);
	/* the shim's numbers as JSON; no shim log kept, in out/ or in
	 * /dev/shm (the servers' own text logs, server-cycleN.log from
	 * ttft-cold and sweep-CONFIG.log from ttft-sweep, stay beside the
	 * report on purpose) */
	snprintf(cmd, sizeof cmd, "test -s %s/shim.json && ! ls %s/*.log %s "
		 "2>/dev/null | grep -v -e /server-cycle -e /sweep-", dir, dir, shmlog);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
	/* nothing left running: no server on the demo's port */
	snprintf(cmd, sizeof cmd, "pgrep -f -- '--port %d( |$)' >/dev/null", port);
	ck_assert_int_ne(tu_sh(cmd, NULL), 0);
}
END_TEST

START_TEST(bad_model_file)
{
	char cmd[2048], *out, bad[256];
	tu_tmp_log(bad, sizeof bad, "bad");
	strcat(bad, ".gguf");
	FILE *fp = fopen(bad, "w");
	fputs("this is not a gguf file\n", fp);
	fclose(fp);
	int port = tu_free_port();
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --server '%s -m %s --port %d' --url "
		 "http://127.0.0.1:%d --log-dir %s --kind llamacpp 2>&1", tu_build_dir(),
		 g_server, bad, port, port, tu_scratch());
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "exited before it was ready"), "%s", out);
	free(out);
	unlink(bad);
	/* the generator: a vocab that is not GGUF */
	snprintf(cmd, sizeof cmd, "%s/ttft-mkmodel --vocab /etc/hostname --out %s/x.gguf 2>&1",
		 tu_build_dir(), tu_scratch());
	ck_assert_int_eq(tu_sh(cmd, &out), 2); /* an unusable input: usage */
	ck_assert_msg(strstr(out, "not a GGUF file"), "%s", out);
	free(out);
	/* its flags: each error names what is wrong, before any work */
	static const struct {
		const char *args, *want;
	} bad_args[] = {
		{"--bogus x", "unknown option --bogus"},
		{"--seed abc --vocab /etc/hostname --out /tmp/x.gguf", "bad value 'abc' for --seed"},
		{"--seed -1 --vocab /etc/hostname --out /tmp/x.gguf", "bad value '-1' for --seed"},
		{"--vocab /etc/hostname", "--out MODEL.gguf is missing"},
		{"--out /tmp/x.gguf", "--vocab VOCAB.gguf is missing"},
		{"--vocab /etc/hostname --out /nonexistent/dir/x.gguf",
		 "cannot write --out /nonexistent/dir/x.gguf"},
	};
	for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s/ttft-mkmodel %s 2>&1", tu_build_dir(),
			 bad_args[i].args);
		ck_assert_int_eq(tu_sh(cmd, &out), 2);
		ck_assert_msg(strstr(out, bad_args[i].want), "%s: %s", bad_args[i].args, out);
		free(out);
	}
	/* the generator follows every tool's --version and --help */
	snprintf(cmd, sizeof cmd, "%s/ttft-mkmodel --version && %s/ttft-mkmodel --help",
		 tu_build_dir(), tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(!strncmp(out, "ttft-mkmodel (ttftshim ", 23) && strstr(out, "exit status"),
		      "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *t = tu_tcase(s, "engine", 900);
	tcase_add_unchecked_fixture(t, once, NULL);
	tcase_add_test(t, shim_agrees_with_llamacpp_timings);
	tcase_add_test(t, one_slot_makes_queueing_visible);
	tcase_add_test(t, one_slot_wrapped_clients_split_per_request);
	tcase_add_test(t, prefix_cache_hit_lowers_ttft);
	tcase_add_test(t, demo_end_to_end);
	tcase_add_test(t, bad_model_file);
	return tu_run(s);
}
