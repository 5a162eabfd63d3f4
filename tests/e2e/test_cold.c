/* test_cold.c — ttft-cold: a realistic vLLM start-up replayed with the
 * delays its lines state (phases and unaccounted time against what was
 * injected), the llama.cpp patterns against real captured logs, and every
 * way a server can fail: early exit, never ready (nothing left running),
 * port in use, patterns that match nothing, death mid-run, Ctrl-C. */
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

static int free_port(void)
{
	pid_t p;
	int port = tu_fixture_start("", &p); /* let the kernel pick one */
	tu_fixture_stop(p);
	return port;
}

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
		 "--log-dir /tmp --max-tokens 4 %s 2>&1", tu_build_dir(), server, port, js,
		 extra ? extra : "");
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

/* The report's companions (ttft-cold writes its charts and the HTML page
 * beside it): each there and what it claims to be, then removed. */
static void siblings(const char *md)
{
	static const char *const ext[][2] = {{"-cold-start.svg", "<svg"},
					     {"-warm-variance.svg", "<svg"},
					     {".html", "<!DOCTYPE html>"}};
	for (size_t i = 0; i < 3; i++) {
		char p[256];
		snprintf(p, sizeof p, "%.*s%s", (int)strlen(md) - 3, md, ext[i][0]);
		char *t = tu_read_file(p, NULL);
		ck_assert_msg(strstr(t, ext[i][1]) != NULL, "%s is not what it should be", p);
		free(t);
		unlink(p);
	}
}

#define NEAR(x, want, tol) ck_assert_msg(fabs((x) - (want)) < (tol), "%s = %.3f, want %.3f", #x, (x), (want))

START_TEST(vllm_startup_replayed)
{
	int port = free_port();
	char srv[256], *out, rep[256];
	snprintf(srv, sizeof srv, "tests/support/fake_vllm.sh %d", port);
	snprintf(rep, sizeof rep, "--warm-runs 3 --report /tmp/ttft-test-cold-%d.md", (int)getpid());
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, rep, &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle0(j);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"), "kind")->valuestring, "vllm");
	/* by arrival and as stated, against the injected delays */
	NEAR(fnum(phase(c, "weight_load"), "duration_s"), 0.40, 0.05);
	NEAR(fnum(phase(c, "weight_load"), "stated_s"), 0.40, 1e-9);
	NEAR(fnum(phase(c, "model_load"), "duration_s"), 0.45, 0.05);
	NEAR(fnum(phase(c, "model_load"), "stated_s"), 0.46, 1e-9);
	NEAR(fnum(phase(c, "torch_compile"), "stated_s"), 0.30, 1e-9);
	NEAR(fnum(phase(c, "graph_capture"), "stated_s"), 1.0, 1e-9);
	NEAR(fnum(phase(c, "init_engine_profile_kv_warmup"), "stated_s"), 1.30, 1e-9);
	NEAR(fnum(phase(c, "api_server"), "duration_s"), 0.10, 0.05);
	/* weights start after 0.40 s of lines that explain nothing */
	NEAR(fnum(phase(c, "weight_load"), "start_s"), 0.40, 0.08);
	/* unaccounted: 0.30 s silence + 0.10 s + getting ready */
	double un = fnum(c, "unaccounted_s");
	ck_assert_msg(un > 0.38 && un < 0.55, "unaccounted %.3f", un);
	NEAR(fnum(c, "spawn_to_ready_s"), 2.26, 0.15);
	cJSON *info = cJSON_GetObjectItem(c, "info");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_tokens")->valuestring, "3,519,424");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_memory_gib")->valuestring, "116.34");
	/* the cold request: fixture first token after 30 ms */
	NEAR(fnum(cJSON_GetObjectItem(c, "cold"), "ttft_s"), 0.030, 0.003);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "warm")), 3);
	ck_assert(!isnan(fnum(c, "first_request_warmup_s")));
	cJSON_Delete(j);
	free(out);
	/* the report: every placeholder filled, the numbers in it */
	char path[64];
	snprintf(path, sizeof path, "/tmp/ttft-test-cold-%d.md", (int)getpid());
	char *md = tu_read_file(path, NULL);
	unlink(path);
	siblings(path);
	ck_assert_msg(strstr(md, "{{") == NULL, "unfilled placeholder in:\n%s", md);
	ck_assert(strstr(md, "-cold-start.svg)") && strstr(md, "-warm-variance.svg)"));
	ck_assert(strstr(md, "| engine | vLLM |") != NULL);
	ck_assert(strstr(md, "| weight_load | ") != NULL);
	ck_assert(strstr(md, "**unaccounted**") != NULL);
	ck_assert(strstr(md, "Dominant cold phase:** init_engine_profile_kv_warmup") != NULL);
	ck_assert(strstr(md, "| 1 | cold | 0.03") != NULL);
	free(md);
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
	int port = free_port();
	ck_assert_int_eq(cold("echo loading >&2; echo model not found >&2; exit 3", port, NULL, &out, &j), 1);
	ck_assert_msg(strstr(out, "exited before it was ready (exit code 3)") &&
		      strstr(out, "model not found"), "%s", out);
	free(out);
	cJSON_Delete(j);
}
END_TEST

START_TEST(never_ready_leaves_nothing_running)
{
	char *out;
	cJSON *j;
	int port = free_port();
	ck_assert_int_eq(cold("sleep 317 & sleep 318", port, "--ready-timeout 0.5 --stop-timeout 1",
			      &out, &j), 1);
	ck_assert_msg(strstr(out, "not ready after 0 s") || strstr(out, "not ready after 1 s"), "%s", out);
	ck_assert_msg(strstr(out, "port never accepted"), "%s", out);
	free(out);
	cJSON_Delete(j);
	ck_assert_int_ne(tu_sh("pgrep -f 'sleep 31[78]' >/dev/null", NULL), 0);
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
	int port = free_port();
	char pat[256], srv[512], *out;
	snprintf(pat, sizeof pat, "/tmp/ttft-test-pat-%d.tsv", (int)getpid());
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
	int port = free_port();
	char srv[512], *out;
	snprintf(srv, sizeof srv, "%s/fixture-server --port %d --first-ms 100 --token-ms 100 & "
		 "sleep 1.2; kill $!", tu_build_dir(), port);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, "--warm-runs 8 --kind vllm", &out, &j), 1);
	ck_assert_msg(strstr(out, "died during the requests") || strstr(out, "failed"), "%s", out);
	free(out);
	cJSON_Delete(j);
}
END_TEST

START_TEST(interrupt_stops_the_server)
{
	int port = free_port();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "exec %s/ttft-cold --server 'sleep 319' --url http://127.0.0.1:%d "
		 "--ready-timeout 30 >/dev/null 2>&1", tu_build_dir(), port);
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	usleep(500000);
	ck_assert_int_eq(tu_sh("pgrep -f 'sleep 31[9]' >/dev/null", NULL), 0);
	kill(p, SIGINT);
	int st;
	waitpid(p, &st, 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	ck_assert_int_ne(tu_sh("pgrep -f 'sleep 31[9]' >/dev/null", NULL), 0);
}
END_TEST

START_TEST(outlier_and_what_coincided)
{
	/* the 4th completion (run 4, the third warm one) is 40 ms slower, and
	 * the server says so in its log */
	int port = free_port();
	char srv[512], *out, rep[128], extra[256];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request 4 --slow-ms 40", tu_build_dir(), port);
	snprintf(rep, sizeof rep, "/tmp/ttft-test-outlier-%d.md", (int)getpid());
	snprintf(extra, sizeof extra, "--warm-runs 5 --kind vllm --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "**Outlier:** warm run 4, TTFT 0.05") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "fixture: request 4 is slow") != NULL, "%s", md);
	/* only that one */
	ck_assert(strstr(strstr(md, "**Outlier:**") + 1, "**Outlier:**") == NULL);
	free(md);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cold");
	TCase *t = tcase_create("cold");
	tcase_set_timeout(t, 60);
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
	suite_add_tcase(s, t);
	return tu_run(s);
}
