/* test_sweep_stop.c — ttft-sweep and SIGINT or SIGTERM in mid-sweep: what
 * was measured is written (report, JSON, charts), marked interrupted; the
 * point in progress and its requests in flight are "interrupted", never a
 * server failure; the points not run are listed as not run; no knee is
 * read from a cut point; exit 128 + the signal. A second signal ends it at
 * once, the server killed with it. The sweep's readiness is the fixture's
 * own: its "request N is slow" line, written when that completion
 * arrives, into a file of the test's (the server command's stderr). */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char g_dir[512];

static void pause_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&t, NULL);
}

#define at tu_json_at

static const char *str(cJSON *o, const char *path)
{
	cJSON *v = at(o, path);
	ck_assert_msg(cJSON_IsString(v), "%s is not a string", path);
	return v->valuestring;
}

/* The pid a line "[LABEL] started '…' (pid N)" of the sweep's stderr names. */
static pid_t server_pid(const char *errfile)
{
	char rest[512];
	ck_assert_int_eq(tu_wait_line(errfile, "(pid ", rest, sizeof rest, 5, 0), 0);
	return (pid_t)atoi(rest);
}

/* Wait until PID is gone: no /proc entry, or a zombie nobody reaped yet. */
static void wait_gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (;;) {
		FILE *f = fopen(path, "r");
		if (!f)
			return;
		char st = 0;
		int got = fscanf(f, "%*d (%*[^)]) %c", &st);
		fclose(f);
		if (got == 1 && (st == 'Z' || st == 'X'))
			return;
		pause_ms(5);
	}
}

/* ttft-sweep running EXPERIMENT on one llama.cpp-style slot whose
 * completion number SLOW is held (--slow-request) so that it is in flight
 * when the signal comes. Its stderr into *errfile; returns its pid once
 * that completion arrived. */
static pid_t start_sweep_with(const char *server_pre, const char *experiment, int slow,
			      char *errfile, size_t len)
{
	snprintf(g_dir, sizeof g_dir, "%s/sweepstop-XXXXXX", tu_scratch());
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	char fx[700], cmd[4096];
	snprintf(fx, sizeof fx, "%s/fixture.err", g_dir);
	snprintf(errfile, len, "%s/sweep.err", g_dir);
	int port = tu_free_port();
	snprintf(cmd, sizeof cmd, "%s/ttft-sweep --server '%sexec %s/fixture-server --port %d "
		 "--style llamacpp --slots 1 --slow-request %d --slow-ms 600000 2>>%s' "
		 "--url http://127.0.0.1:%d %s --max-tokens 4 --json %s/out.json "
		 "--report %s/r.md", tu_build_dir(), server_pre, tu_build_dir(), port, slow, fx,
		 port, experiment, g_dir, g_dir);
	pid_t pid = tu_spawn(cmd, errfile);
	char rest[256], want[64];
	snprintf(want, sizeof want, "request %d is slow", slow);
	int rc = tu_wait_line(fx, want, rest, sizeof rest, 240, pid);
	if (rc != 0) {
		char *e = tu_read_file(errfile, NULL);
		ck_abort_msg("completion %d never arrived: %s", slow, e ? e : "");
	}
	return pid;
}

/* The KV experiment over prompts of 16 and 32 tokens x concurrency 1, 2,
 * 4, 4 requests a point. The completions, in order: 1 the warm-up, 2-13
 * the 16-token series, 14-17 the 32-token series at concurrency 1, 18-21
 * at 2: the 19th is held. */
static pid_t start_sweep(const char *server_pre, char *errfile, size_t len)
{
	return start_sweep_with(server_pre, "--experiments kv --prompt-tokens 16,32 "
				"--concurrency 1,2,4 --kv-requests 4", 19, errfile, len);
}

static void interrupted_run(int sig)
{
	char errfile[600];
	pid_t pid = start_sweep("", errfile, sizeof errfile);
	pid_t srv = server_pid(errfile);
	ck_assert_int_eq(kill(pid, sig), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	char *err = tu_read_file(errfile, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig, "status %#x: %s", st, err);
	wait_gone(srv); /* stopped before the sweep ended, not left behind */
	/* the request in flight was cut by us, not by the server */
	ck_assert_msg(!strstr(err, "closed the connection") && !strstr(err, "without [DONE]"),
		      "%s", err);

	char path[700];
	snprintf(path, sizeof path, "%s/out.json", g_dir);
	char *t = tu_read_file(path, NULL);
	ck_assert_msg(t != NULL, "no JSON after the signal: %s", err);
	cJSON *j = cJSON_Parse(t);
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_IsTrue(at(j, "interrupted")));
	ck_assert_str_eq(str(j, "interrupted_by"), sig == SIGINT ? "SIGINT" : "SIGTERM");
	cJSON *series = at(j, "kv.series");
	ck_assert_int_eq(cJSON_GetArraySize(series), 2);
	/* the 16-token series ran whole, and is judged */
	for (int i = 0; i < 3; i++) {
		cJSON *p = cJSON_GetArrayItem(at(series, "0.points"), i);
		ck_assert_str_eq(str(p, "status"), "complete");
		ck_assert_int_eq(at(p, "failed")->valueint, 0);
	}
	ck_assert(cJSON_IsNumber(at(series, "0.measured_knee")));
	/* the 32-token series: concurrency 1 whole, 2 cut, 4 not run */
	cJSON *s1 = cJSON_GetArrayItem(series, 1);
	ck_assert_int_eq(cJSON_GetArraySize(at(s1, "points")), 2);
	ck_assert_str_eq(str(s1, "points.0.status"), "complete");
	cJSON *cut = at(s1, "points.1");
	ck_assert_str_eq(str(cut, "status"), "interrupted");
	ck_assert_int_eq(at(cut, "failed")->valueint, 0);
	ck_assert_int_eq(at(cut, "requests_planned")->valueint, 4);
	ck_assert(cJSON_IsNull(at(cut, "ttft_p50_s")));
	int cut_reqs = 0, done = 0;
	cJSON *r;
	cJSON_ArrayForEach(r, at(cut, "requests_detail")) {
		if (cJSON_IsTrue(at(r, "interrupted"))) {
			cut_reqs++;
			ck_assert(strstr(str(r, "request.error"), "interrupted"));
		} else {
			ck_assert(cJSON_IsTrue(at(r, "request.ok")));
			done++;
		}
	}
	ck_assert_int_ge(cut_reqs, 1); /* the 19th, at least */
	ck_assert_int_eq(at(cut, "requests_interrupted")->valueint, cut_reqs);
	ck_assert_int_eq(cut_reqs + done + at(cut, "requests_not_started")->valueint, 4);
	/* no knee from a cut series */
	ck_assert(cJSON_IsNull(at(s1, "measured_knee")));
	ck_assert_int_eq(at(s1, "interrupted_at")->valueint, 2);
	/* what was not run, by name */
	cJSON *nr = at(j, "kv.not_run");
	ck_assert_int_eq(cJSON_GetArraySize(nr), 1);
	ck_assert_int_eq(at(nr, "0.prompt_tokens_asked")->valueint, 32);
	ck_assert_int_eq(cJSON_GetArraySize(at(nr, "0.concurrency")), 1);
	ck_assert_int_eq(at(nr, "0.concurrency.0")->valueint, 4);
	cJSON_Delete(j);
	free(t);

	/* the report says so, and draws no conclusion from the cut point */
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md != NULL, "no report after the signal: %s", err);
	ck_assert_msg(strstr(md, "**Interrupted**"), "%s", md);
	ck_assert_msg(strstr(md, "not run: [default] 32-token prompts at concurrency 4"), "%s", md);
	ck_assert_msg(strstr(md, "| interrupted: "), "%s", md);
	ck_assert_msg(strstr(md, "not known: the sweep was interrupted at concurrency 2"), "%s", md);
	snprintf(path, sizeof path, "%s/r.html", g_dir);
	ck_assert_int_eq(access(path, R_OK), 0);
	snprintf(path, sizeof path, "%s/r-kv-2.svg", g_dir);
	ck_assert_int_eq(access(path, R_OK), 0);
	free(md);
	free(err);
}

START_TEST(interrupt_keeps_what_ran)
{
	interrupted_run(SIGINT);
}
END_TEST

START_TEST(terminate_keeps_what_ran)
{
	interrupted_run(SIGTERM);
}
END_TEST

/* A server that ignores SIGTERM: after the first Ctrl-C the sweep would
 * wait for it to stop (15 s, then SIGKILL); a second signal, once the
 * first is delivered, ends the sweep at once, killed by that signal, and
 * the server with it. */
START_TEST(second_signal_ends_it_at_once)
{
	char errfile[600];
	pid_t pid = start_sweep("trap \"\" TERM; ", errfile, sizeof errfile);
	pid_t srv = server_pid(errfile);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	tu_wait_delivered(pid, SIGINT);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
	wait_gone(srv);
}
END_TEST

/* The prefix experiment cut the same way: lengths 16 and 64, ten misses
 * each (completions 2-21), then each length's prime and hits; the 25th
 * (a hit of the 16-token length) is held when the signal comes. What ran
 * is written; the cut length and the one whose hits never ran are marked
 * and not judged; nothing says caching pays or stops paying. */
START_TEST(prefix_interrupt_keeps_what_ran)
{
	char errfile[600];
	pid_t pid = start_sweep_with("", "--experiments prefix --prefix-tokens 16,64", 25,
				     errfile, sizeof errfile);
	pid_t srv = server_pid(errfile);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	char *err = tu_read_file(errfile, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %#x: %s", st, err);
	wait_gone(srv);
	ck_assert_msg(!strstr(err, "closed the connection") && !strstr(err, "without [DONE]"),
		      "%s", err);
	char path[700];
	snprintf(path, sizeof path, "%s/out.json", g_dir);
	char *t = tu_read_file(path, NULL);
	ck_assert_msg(t != NULL, "no JSON after the signal: %s", err);
	cJSON *j = cJSON_Parse(t);
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_IsTrue(at(j, "interrupted")));
	cJSON *pts = at(j, "prefix.points"), *p;
	ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
	int cut = 0;
	cJSON_ArrayForEach(p, pts) {
		/* neither length ran whole: neither is judged */
		ck_assert_str_eq(str(p, "status"), "interrupted");
		ck_assert(cJSON_IsNull(at(p, "pays")));
		ck_assert(strstr(str(p, "pays_not_judged"), "interrupted"));
		/* and shows no figure from what part of it ran */
		static const char *const fig[] = {"miss_ttft_p50_s", "hit_ttft_p50_s",
						  "saved_p50_s"};
		for (int f = 0; f < 3; f++)
			ck_assert_msg(cJSON_IsNull(at(p, fig[f])), "%s of a cut length", fig[f]);
		cut += at(p, "requests_interrupted")->valueint;
		/* every request kept is whole or marked cut: none failed */
		cJSON *r;
		cJSON_ArrayForEach(r, at(p, "misses"))
			ck_assert(cJSON_IsTrue(at(r, "request.ok")) || cJSON_IsTrue(at(r, "interrupted")));
	}
	ck_assert_int_ge(cut, 1); /* the 25th */
	cJSON_Delete(j);
	free(t);
	snprintf(path, sizeof path, "%s/r.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md && strstr(md, "**Interrupted**"), "%s", md ? md : err);
	ck_assert_msg(strstr(md, "not judged at any swept length"), "%s", md);
	free(md);
	free(err);
}
END_TEST

/* Interrupted, and its outputs' directory gone meanwhile: what ran
 * cannot be written, so the exit is 1, not 130 (which says it was), and
 * stderr says why. */
START_TEST(interrupted_and_unwritable_exits_1)
{
	char errfile[700], moved[560];
	pid_t pid = start_sweep_with("", "--experiments kv --prompt-tokens 16 --concurrency 1 "
				     "--kv-requests 4", 3, errfile, sizeof errfile);
	snprintf(moved, sizeof moved, "%s.moved", g_dir);
	ck_assert_int_eq(rename(g_dir, moved), 0); /* its open files go with it */
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	snprintf(errfile, sizeof errfile, "%s/sweep.err", moved);
	char *err = tu_read_file(errfile, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x: %s", st, err);
	ck_assert_msg(strstr(err, "cannot write") && strstr(err, "could not all be written"),
		      "%s", err);
	free(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sweep_stop");
	TCase *t = tu_tcase(s, "stop", 300);
	tcase_add_test(t, interrupt_keeps_what_ran);
	tcase_add_test(t, terminate_keeps_what_ran);
	tcase_add_test(t, second_signal_ends_it_at_once);
	tcase_add_test(t, prefix_interrupt_keeps_what_ran);
	tcase_add_test(t, interrupted_and_unwritable_exits_1);
	return tu_run(s);
}
