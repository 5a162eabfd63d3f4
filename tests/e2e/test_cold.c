/* test_cold.c — ttft-cold: a realistic vLLM start-up replayed by the
 * fixture, which stamps each line as it writes it: every line stamped no
 * earlier than it was written, each phase from the right lines, the
 * unaccounted time exactly what no phase covers, the requests against the
 * fixture's record; the llama.cpp patterns against real captured logs; and
 * every way a server can fail: early exit, never ready (nothing left
 * running), port in use, patterns that match nothing, death mid-run,
 * Ctrl-C. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "cold_phases.h"
#include "ttft_analyze.h"

static cJSON *cycle0(cJSON *j)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cycles"), 0);
}

static double fnum(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no %s", k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cJSON *phase(cJSON *c, const char *name)
{
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases"))
		if (!strcmp(cJSON_GetObjectItem(p, "name")->valuestring, name))
			return p;
	ck_abort_msg("no phase %s", name);
	return NULL;
}

static int cold(const char *server, int port, const char *extra, char **out, cJSON **json)
{
	char js[256], cmd[2048];
	tu_tmp_log(js, sizeof js, "cold-json");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-cold --server '%s' --url http://127.0.0.1:%d --json %s "
		 "--log-dir %s --max-tokens 4 %s 2>&1", tu_build_dir(), server, port, js,
		 tu_scratch(), extra ? extra : "");
	int rc = tu_sh(cmd, out);
	*json = NULL;
	if (access(js, R_OK) == 0) {
		char *t = tu_read_file(js, NULL);
		*json = cJSON_Parse(t);
		free(t);
		unlink(js);
	}
	return rc;
}

#define NEAR(x, want, tol) ck_assert_msg(fabs((x) - (want)) < (tol), "%s = %.3f, want %.3f", #x, (x), (want))

/* ttft-cold's own stamp of the first line holding needle, in seconds since
 * spawn (its server log: "seconds\tstream\tline"). */
static double arrival(const char *log, const char *needle)
{
	const char *p = strstr(log, needle);
	ck_assert_msg(p != NULL, "no line '%s' in the server log", needle);
	while (p > log && p[-1] != '\n')
		p--;
	return atof(p);
}

#define EXACT(x, want) NEAR(x, want, 1e-6) /* the server log's µs */

START_TEST(vllm_startup_replayed)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512], truth[256];
	tu_tmp_log(truth, sizeof truth, "vllm-truth");
	tu_tmp_log(rep, sizeof rep, "cold-report");
	snprintf(srv, sizeof srv, "tests/support/fake_vllm.sh %d %s", port, truth);
	snprintf(extra, sizeof extra, "--warm-runs 3 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	free(out);
	cJSON *c = cycle0(j);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"), "kind")->valuestring, "vllm");
	struct tu_truth t;
	char err[600];
	ck_assert_msg(tu_truth_load(truth, &t, err, sizeof err) == 0, "%s", err);
	unlink(truth);
	char *log = tu_read_file(cJSON_GetObjectItem(c, "server_log")->valuestring, NULL);
	/* every line the fixture wrote, stamped no earlier than written: the
	 * spawn came before the fixture started */
	ck_assert_uint_eq(t.nlines, 15);
	for (size_t i = 0; i < t.nlines; i++) {
		double at = arrival(log, t.lines[i].text);
		double wrote = (double)(t.lines[i].t_ns - t.start_ns) / 1e9;
		ck_assert_msg(at >= wrote - 1e-6, "'%s' stamped at %.6f s, written at %.6f s",
			      t.lines[i].text, at, wrote);
	}
	/* as stated by the lines themselves */
	EXACT(fnum(phase(c, "weight_load"), "stated_s"), 0.40);
	EXACT(fnum(phase(c, "model_load"), "stated_s"), 0.46);
	EXACT(fnum(phase(c, "torch_compile"), "stated_s"), 0.30);
	EXACT(fnum(phase(c, "graph_capture"), "stated_s"), 1.0);
	EXACT(fnum(phase(c, "init_engine_profile_kv_warmup"), "stated_s"), 1.30);
	/* by arrival: from the START line's stamp to the END line's */
	static const struct { const char *name, *start, *end; } by_arrival[] = {
		{"weight_load", "Starting to load model", "Loading weights took"},
		{"model_load", "Starting to load model", "Model loading took"},
		{"api_server", "Starting vLLM API server", "Application startup complete"},
	};
	for (size_t i = 0; i < 3; i++) {
		cJSON *p = phase(c, by_arrival[i].name);
		double a = arrival(log, by_arrival[i].start), z = arrival(log, by_arrival[i].end);
		EXACT(fnum(p, "start_s"), a);
		EXACT(fnum(p, "duration_s"), z - a);
	}
	/* no START line: it ended when its line came, and lasted what it says */
	static const struct { const char *name, *end; } stated[] = {
		{"torch_compile", "torch.compile takes"},
		{"graph_capture", "Graph capturing finished"},
		{"init_engine_profile_kv_warmup", "init engine (profile"},
	};
	for (size_t i = 0; i < 3; i++) {
		cJSON *p = phase(c, stated[i].name);
		EXACT(fnum(p, "duration_s"), fnum(p, "stated_s"));
		EXACT(fnum(p, "start_s") + fnum(p, "duration_s"), arrival(log, stated[i].end));
	}
	/* unaccounted: exactly the part of spawn → ready no phase covers; the
	 * 0.30 s of silence before the first line is in it */
	double ready = fnum(c, "spawn_to_ready_s");
	struct cold_phase ph[8];
	int np = 0;
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases")) {
		ck_assert_int_lt(np, 8);
		ph[np] = (struct cold_phase){"", fnum(p, "start_s"), 0, fnum(p, "duration_s"), NAN, 1};
		ph[np].end_s = ph[np].start_s + ph[np].duration_s;
		np++;
	}
	ck_assert_int_eq(np, 6);
	NEAR(fnum(c, "unaccounted_s"), cold_unaccounted(ph, (size_t)np, ready), 1e-9);
	ck_assert(fnum(c, "unaccounted_s") >= (double)(t.lines[0].t_ns - t.start_ns) / 1e9 - 1e-6);
	/* ready after the fixture listened, listening no later than ready */
	ck_assert(ready >= (double)(t.listen_ns - t.start_ns) / 1e9);
	ck_assert(fnum(c, "spawn_to_listen_s") <= ready);
	cJSON *info = cJSON_GetObjectItem(c, "info");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_tokens")->valuestring, "3,519,424");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_memory_gib")->valuestring, "116.34");
	/* the cold request and 3 warm ones, each holding the fixture's own
	 * time to its first token (30 ms injected) */
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/completions"), 4);
	cJSON *warm = cJSON_GetObjectItem(c, "warm");
	ck_assert_int_eq(cJSON_GetArraySize(warm), 3);
	for (int i = 0; i < 4; i++) {
		const struct tu_treq *s = tu_truth_req(&t, "/v1/completions", (size_t)i);
		cJSON *r = i ? cJSON_GetArrayItem(warm, i - 1) : cJSON_GetObjectItem(c, "cold");
		ck_assert_int_eq((int)fnum(r, "tokens"), s->ntok);
		ck_assert(fnum(r, "ttft_s") >= (double)(s->tok[0] - s->recv_first_ns) / 1e9);
		ck_assert(fnum(r, "ttft_s") >= 0.030);
	}
	ck_assert(!isnan(fnum(c, "first_request_warmup_s")));
	tu_truth_free(&t);
	free(log);
	/* the report: every placeholder filled, the numbers in it */
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	ck_assert_msg(strstr(md, "{{") == NULL, "unfilled placeholder in:\n%s", md);
	ck_assert(strstr(md, "| engine | vLLM |") != NULL);
	ck_assert(strstr(md, "| weight_load | ") != NULL);
	ck_assert(strstr(md, "**unaccounted**") != NULL);
	const char *dom = NULL;
	double longest = -1;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases"))
		if (fnum(p, "duration_s") > longest) {
			longest = fnum(p, "duration_s");
			dom = cJSON_GetObjectItem(p, "name")->valuestring;
		}
	char want[160];
	snprintf(want, sizeof want, "Dominant cold phase:** %s", dom);
	ck_assert_msg(strstr(md, want) != NULL, "no '%s' in:\n%s", want, md);
	snprintf(want, sizeof want, "| 1 | cold | %.4f |",
		 fnum(cJSON_GetObjectItem(c, "cold"), "ttft_s"));
	ck_assert_msg(strstr(md, want) != NULL, "no '%s' in:\n%s", want, md);
	free(md);
	cJSON_Delete(j);
}
END_TEST

/* The llama.cpp patterns against real captured logs. Oracle: line times
 * read straight from the log's own timestamps (m.ss.mmm.uuu). */
static double stamp(const char *line)
{
	int m, s, ms, us;
	return sscanf(line, "%d.%d.%d.%d", &m, &s, &ms, &us) == 4
	       ? m * 60.0 + s + ms / 1e3 + us / 1e6 : NAN;
}

static double first_time(char **lines, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], needle))
			return stamp(lines[i]);
	return NAN;
}

START_TEST(llamacpp_patterns_on_real_logs)
{
	const char *files[] = {"tests/fixtures/llamacpp/startup-cpu-lv4.log",
			       "tests/fixtures/llamacpp/startup-h200-lv4.log"};
	struct cold_patterns ps;
	char err[256];
	ck_assert_int_eq(cold_patterns_load(&ps, "tools/patterns/llamacpp.tsv", err, sizeof err), 0);
	for (int f = 0; f < 2; f++) {
		char *text = tu_read_file(files[f], NULL);
		char *raw[4096];
		struct cold_line lines[4096];
		size_t n = 0;
		for (char *p = strtok(text, "\n"); p && n < 4096; p = strtok(NULL, "\n")) {
			double t = stamp(p);
			if (isnan(t))
				continue;
			raw[n] = p;
			lines[n] = (struct cold_line){(long long)(t * 1e9), 1, p};
			n++;
		}
		struct cold_phase ph[32];
		struct cold_info inf[32];
		size_t ni;
		size_t found = cold_phases_match(&ps, lines, n, 0, 1e9, ph, inf, &ni);
		ck_assert_uint_eq(found, 7);
		double want_w = first_time(raw, n, "constructing llama_context") -
				first_time(raw, n, "loading model tensors");
		double want_warm = first_time(raw, n, "load_model: initializing") -
				   first_time(raw, n, "warming up the model");
		for (int i = 0; i < 7; i++) {
			if (!strcmp(ph[i].name, "weight_load"))
				NEAR(ph[i].duration_s, want_w, 1e-6);
			if (!strcmp(ph[i].name, "warmup"))
				NEAR(ph[i].duration_s, want_warm, 1e-6);
			if (!strcmp(ph[i].name, "fit_params"))
				NEAR(ph[i].stated_s, 0.51, 1e-9);
		}
		ck_assert_uint_ge(ni, 3);
		free(text);
	}
	cold_patterns_free(&ps);
}
END_TEST

START_TEST(unaccounted_is_the_uncovered_time)
{
	struct cold_phase ph[3] = {
		{"a", 1.0, 2.0, 1.0, NAN, 1}, {"b", 1.5, 3.0, 1.5, NAN, 1},
		{"c", 4.0, 5.0, 1.0, NAN, 1}};
	/* covered: [1,3] and [4,5] of [0,6] */
	NEAR(cold_unaccounted(ph, 3, 6.0), 3.0, 1e-12);
	ph[2].found = 0;
	NEAR(cold_unaccounted(ph, 3, 6.0), 4.0, 1e-12);
}
END_TEST

START_TEST(server_exits_early)
{
	char *out;
	cJSON *j;
	int port = tu_free_port();
	ck_assert_int_eq(cold("echo loading >&2; echo model not found >&2; exit 3", port, NULL, &out, &j), 1);
	ck_assert_msg(strstr(out, "exited before it was ready (exit code 3)") &&
		      strstr(out, "model not found"), "%s", out);
	free(out);
	cJSON_Delete(j);
}
END_TEST

/* A sleep only this test process runs (other runs of the suite may share
 * the machine), and a pgrep for exactly that command line: not ttft-cold's
 * (its --server argument holds the same words), not the shell's. */
static void unique_sleep(char *cmd, size_t cl, char *pat, size_t pl, int k)
{
	snprintf(cmd, cl, "sleep %d.%d%d", 300 + k, (int)getpid(), k);
	snprintf(pat, pl, "pgrep -x -f 'sleep %d[.]%d%d' >/dev/null", 300 + k, (int)getpid(), k);
}

START_TEST(never_ready_leaves_nothing_running)
{
	char *out, s1[64], s2[64], p1[128], p2[128], srv[160];
	cJSON *j;
	int port = tu_free_port();
	unique_sleep(s1, sizeof s1, p1, sizeof p1, 1);
	unique_sleep(s2, sizeof s2, p2, sizeof p2, 2);
	snprintf(srv, sizeof srv, "%s & %s", s1, s2);
	ck_assert_int_eq(cold(srv, port, "--ready-timeout 0.5 --stop-timeout 1", &out, &j), 1);
	ck_assert_msg(strstr(out, "not ready after 0 s") || strstr(out, "not ready after 1 s"), "%s", out);
	ck_assert_msg(strstr(out, "port never accepted"), "%s", out);
	free(out);
	cJSON_Delete(j);
	ck_assert_int_ne(tu_sh(p1, NULL), 0);
	ck_assert_int_ne(tu_sh(p2, NULL), 0);
}
END_TEST

START_TEST(port_in_use)
{
	pid_t busy;
	int port = tu_fixture_start("", &busy);
	char *out;
	cJSON *j;
	ck_assert_int_eq(cold("sleep 1", port, NULL, &out, &j), 2);
	ck_assert_msg(strstr(out, "already in use"), "%s", out);
	free(out);
	cJSON_Delete(j);
	tu_fixture_stop(busy);
}
END_TEST

START_TEST(patterns_that_match_nothing)
{
	int port = tu_free_port();
	char pat[256], srv[512], *out;
	tu_tmp_log(pat, sizeof pat, "pat");
	FILE *f = fopen(pat, "w");
	fputs("phase\tnever\tno such line\tnor this\t-\ts\n", f);
	fclose(f);
	snprintf(srv, sizeof srv, "sleep 0.2; exec %s/fixture-server --port %d", tu_build_dir(), port);
	char extra[512];
	snprintf(extra, sizeof extra, "--warm-runs 1 --patterns %s", pat);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	ck_assert_msg(strstr(out, "no line of the server's output matched"), "%s", out);
	cJSON *c = cycle0(j);
	NEAR(fnum(c, "unaccounted_s"), fnum(c, "spawn_to_ready_s"), 1e-9);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "phases")), 0);
	free(out);
	cJSON_Delete(j);
	/* a broken pattern file: a clear message, exit 2 */
	f = fopen(pat, "w");
	fputs("phase\tbad\t(unclosed\tx\t-\ts\n", f);
	fclose(f);
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 2);
	ck_assert_msg(strstr(out, "bad regex"), "%s", out);
	free(out);
	cJSON_Delete(j);
	unlink(pat);
}
END_TEST

START_TEST(server_dies_during_the_runs)
{
	/* killed once it has served the cold request and one warm one: by
	 * its own record, not by a clock */
	int port = tu_free_port();
	char srv[1024], *out, truth[256];
	tu_tmp_log(truth, sizeof truth, "dies-truth");
	snprintf(srv, sizeof srv, "%s/fixture-server --port %d --truth %s --first-ms 100 "
		 "--token-ms 100 & until [ $(grep -c /v1/completions %s) -ge 2 ]; do sleep 0.01; "
		 "done; kill $!", tu_build_dir(), port, truth, truth);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, "--warm-runs 8 --kind vllm", &out, &j), 1);
	ck_assert_msg(strstr(out, "died during the requests"), "%s", out);
	free(out);
	cJSON_Delete(j);
	unlink(truth);
}
END_TEST

START_TEST(interrupt_stops_the_server)
{
	int port = tu_free_port();
	char cmd[512], sl[64], pat[128];
	unique_sleep(sl, sizeof sl, pat, sizeof pat, 9);
	snprintf(cmd, sizeof cmd, "exec %s/ttft-cold --server '%s' --url http://127.0.0.1:%d "
		 "--ready-timeout 300 --log-dir %s >/dev/null 2>&1", tu_build_dir(), sl, port,
		 tu_scratch());
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* wait until the server runs (polling: a loaded machine is slow) */
	int64_t deadline = ttft_now_ns() + 60 * (int64_t)1000000000;
	while (tu_sh(pat, NULL) != 0 && ttft_now_ns() < deadline)
		usleep(20000);
	ck_assert_int_eq(tu_sh(pat, NULL), 0);
	kill(p, SIGINT);
	int st;
	waitpid(p, &st, 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	ck_assert_int_ne(tu_sh(pat, NULL), 0);
}
END_TEST

START_TEST(outlier_and_what_coincided)
{
	/* the 4th completion (run 4, the third warm one) is 200 ms slower,
	 * and the server says so in its log */
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request 4 --slow-ms 200", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "outlier");
	snprintf(extra, sizeof extra, "--warm-runs 5 --kind vllm --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	/* the report names exactly the warm runs its rule picks from their
	 * own TTFTs (at least 1.5× the median and 1 ms over it); run 4, which
	 * waited 200 ms more, is one of them */
	cJSON *warm = cJSON_GetObjectItem(cycle0(j), "warm"), *r;
	double t[5], sorted[5];
	int n = 0;
	cJSON_ArrayForEach(r, warm) {
		ck_assert_int_lt(n, 5);
		t[n] = sorted[n] = fnum(r, "ttft_s");
		n++;
	}
	ck_assert_int_eq(n, 5);
	double med = ttft_percentile(sorted, 5, 0.5);
	int outliers = 0;
	for (int i = 0; i < 5; i++) {
		char want[64];
		snprintf(want, sizeof want, "**Outlier:** warm run %d, TTFT %.4f", i + 2, t[i]);
		int is = t[i] >= 1.5 * med && t[i] - med >= 0.001;
		ck_assert_msg(!!strstr(md, want) == is, "run %d (ttft %.4f, median %.4f):\n%s",
			      i + 2, t[i], med, md);
		outliers += is;
	}
	ck_assert_msg(t[2] >= 1.5 * med, "run 4: %.4f s, median %.4f s", t[2], med);
	int listed = 0;
	for (const char *p = md; (p = strstr(p, "**Outlier:**")); p++)
		listed++;
	ck_assert_int_eq(listed, outliers);
	ck_assert_msg(strstr(md, "fixture: request 4 is slow") != NULL, "%s", md);
	free(md);
	cJSON_Delete(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cold");
	TCase *t = tu_tcase(s, "cold", 300);
	tcase_add_test(t, vllm_startup_replayed);
	tcase_add_test(t, llamacpp_patterns_on_real_logs);
	tcase_add_test(t, unaccounted_is_the_uncovered_time);
	tcase_add_test(t, server_exits_early);
	tcase_add_test(t, never_ready_leaves_nothing_running);
	tcase_add_test(t, port_in_use);
	tcase_add_test(t, patterns_that_match_nothing);
	tcase_add_test(t, server_dies_during_the_runs);
	tcase_add_test(t, interrupt_stops_the_server);
	tcase_add_test(t, outlier_and_what_coincided);
	return tu_run(s);
}
