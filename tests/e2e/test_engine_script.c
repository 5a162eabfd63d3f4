/* test_engine_script.c — tools/engine.sh without building anything: the
 * order of preference for llama-server, a failing build step that says
 * which step failed and where its whole log is, and two first builds at
 * once: the second waits for the first instead of sharing its directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "testutil.h"

START_TEST(preference_order)
{
	char *out;
	ck_assert_int_eq(tu_sh("TTFT_LLAMA_SERVER=/bin/true tools/engine.sh server", &out), 0);
	ck_assert_str_eq(out, "/bin/true\n");
	free(out);
	ck_assert_int_eq(tu_sh("TTFT_LLAMA_SERVER=/nonexistent/llama-server tools/engine.sh "
			       "server 2>&1", &out), 1);
	ck_assert_msg(strstr(out, "is not an executable"), "%s", out);
	free(out);
	/* one on PATH wins over building */
	char dir[128], cmd[512];
	tu_tmp_log(dir, sizeof dir, "path");
	snprintf(cmd, sizeof cmd, "mkdir -p %s && cp /bin/true %s/llama-server && "
		 "env -u TTFT_LLAMA_SERVER PATH=%s:$PATH tools/engine.sh server", dir, dir, dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	char want[200];
	snprintf(want, sizeof want, "%s/llama-server\n", dir);
	ck_assert_str_eq(out, want);
	free(out);
	ck_assert_int_eq(tu_sh("tools/engine.sh frobnicate 2>&1", &out), 1);
	ck_assert_msg(strstr(out, "unknown command"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
}
END_TEST

START_TEST(failing_step_names_itself_and_its_log)
{
	char dir[128], cmd[1024], *out;
	tu_tmp_log(dir, sizeof dir, "buildfail");
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/bin && printf '#!/bin/sh\\necho \"npm ERR! network unreachable\" >&2\\n"
		 "exit 1\\n' > %s/bin/npm && chmod +x %s/bin/npm && "
		 "env -u TTFT_LLAMA_SERVER PATH=%s/bin:/usr/bin:/bin TTFT_CACHE=%s/cache "
		 "tools/engine.sh server 2>&1", dir, dir, dir, dir, dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	char want[512];
	snprintf(want, sizeof want, "step 'fetching node-llama-cpp@3.21.1 from npm' failed; "
		 "the whole log is %s/cache/llama-80fb11a/build.log", dir);
	ck_assert_msg(strstr(out, want), "%s", out);
	ck_assert_msg(strstr(out, "npm ERR! network unreachable"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
}
END_TEST

/* The real npm, its registry refusing: npm's own reason is in what the
 * failing step shows (npm pack --silent printed nothing at all: a fresh
 * machine whose npm could not reach the registry, or not trust it, said
 * only that the step failed). */
START_TEST(npm_says_why_it_failed)
{
	char dir[128], cmd[1024], *out;
	tu_tmp_log(dir, sizeof dir, "npmfail");
	snprintf(cmd, sizeof cmd,
		 "env -u TTFT_LLAMA_SERVER PATH=/usr/bin:/bin TTFT_CACHE=%s/cache "
		 "npm_config_registry=http://127.0.0.1:%d/ npm_config_fetch_retries=0 "
		 "npm_config_cache=%s/npm npm_config_userconfig=/dev/null "
		 "tools/engine.sh server 2>&1", dir, tu_free_port(), dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "step 'fetching node-llama-cpp@3.21.1 from npm' failed"), "%s",
		      out);
	ck_assert_msg(strstr(out, "ECONNREFUSED"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
}
END_TEST

START_TEST(two_first_builds_take_turns)
{
	char dir[128], cmd[2048], *a, *b;
	snprintf(dir, sizeof dir, "%s/buildlock", tu_scratch());
	/* an npm that holds the build for a while, writes down when, then fails */
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/bin && printf '#!/bin/sh\\necho start >>%s/order\\nsleep 1\\n"
		 "echo end >>%s/order\\nexit 1\\n' > %s/bin/npm && chmod +x %s/bin/npm",
		 dir, dir, dir, dir, dir);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	const char *env = "env -u TTFT_LLAMA_SERVER PATH=%s/bin:/usr/bin:/bin TTFT_CACHE=%s/cache";
	char envs[512];
	snprintf(envs, sizeof envs, env, dir, dir);
	/* the second starts once the first holds the lock (it is in npm) */
	snprintf(cmd, sizeof cmd, "(%s tools/engine.sh server >%s/a.out 2>&1 &) ; "
		 "until [ -s %s/order ]; do sleep 0.05; done; %s tools/engine.sh server 2>&1",
		 envs, dir, dir, envs);
	ck_assert_int_eq(tu_sh(cmd, &b), 1);
	ck_assert_msg(strstr(b, "another build of llama.cpp 80fb11a is running"), "%s", b);
	ck_assert_msg(strstr(b, "waiting for it"), "%s", b);
	/* one fetch after the other, never two at once */
	snprintf(cmd, sizeof cmd, "for i in 1 2 3 4 5 6 7 8 9 10; do [ $(wc -l <%s/order) -ge 4 ] "
		 "&& break; sleep 0.3; done; tr '\\n' ' ' <%s/order", dir, dir);
	ck_assert_int_eq(tu_sh(cmd, &a), 0);
	ck_assert_str_eq(a, "start end start end ");
	free(a);
	free(b);
}
END_TEST

/* Ctrl-C to a terminal's foreground job running engine.sh while cmake
 * builds: the whole build stops with it (cmake ran as a background job
 * of the script, which ignores SIGINT: the build went on for its minutes
 * after the script died, holding the cache's lock). The fake cmake writes
 * its pid and its child's (ninja, the compilers) and sleeps. */
START_TEST(ctrl_c_stops_the_whole_build)
{
	char dir[200], cmd[4096], pids[300], got[128];
	snprintf(dir, sizeof dir, "%s/buildint", tu_scratch());
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/bin %s/cache/llama-80fb11a/src %s/cache/llama-80fb11a/build && "
		 "touch %s/cache/llama-80fb11a/src/.ttft-ok %s/cache/llama-80fb11a/build/CMakeCache.txt && "
		 "printf '#!/bin/sh\n[ \"$1\" = --build ] || exit 0\nsleep 300 &\n"
		 "echo \"cmake $$ $!\" >> %s/pids\nwait\n' > %s/bin/cmake && chmod +x %s/bin/cmake",
		 dir, dir, dir, dir, dir, dir, dir, dir);
	ck_assert_msg(tu_sh(cmd, NULL) == 0, "%s", cmd);
	snprintf(pids, sizeof pids, "%s/pids", dir);
	char path[512], cache[512], log[512];
	snprintf(path, sizeof path, "PATH=%s/bin:/usr/bin:/bin", dir);
	snprintf(cache, sizeof cache, "TTFT_CACHE=%s/cache", dir);
	snprintf(log, sizeof log, "%s/out", dir);
	char *argv[] = {"env", "-u", "TTFT_LLAMA_SERVER", path, cache, "bash", "tools/engine.sh",
			"server", NULL};
	pid_t g = tu_spawn_group(argv, log);
	int up = tu_wait_line(pids, "cmake ", got, sizeof got, 30, g);
	int cm = 0, child = 0;
	sscanf(got, "%d %d", &cm, &child);
	if (up == 0)
		kill(-g, SIGINT);
	int st = 0, done = tu_wait_exit(g, 30, &st);
	/* the build's group is told before engine.sh exits: it is gone, or
	 * going, at once (up to 10 s for init to reap the orphans) */
	int left = !(cm > 0 && child > 0 && tu_wait_gone(cm, child, 10));
	if (cm > 0)
		kill(cm, SIGKILL);
	if (child > 0)
		kill(child, SIGKILL);
	char *out = tu_read_file(log, NULL);
	ck_assert_msg(up == 0 && cm > 0 && child > 0, "the fake cmake never ran: %s", out);
	ck_assert_msg(!left, "the build (cmake %d, its child %d) still runs after engine.sh "
		      "stopped on Ctrl-C: %s", cm, child, out);
	ck_assert_msg(done && WIFEXITED(st) && WEXITSTATUS(st) == 130,
		      "%s; status 0x%x: %s", done ? "ended" : "still running after 30 s", st, out);
	ck_assert_msg(strstr(out, "interrupted: stopping the build"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine-script");
	TCase *t = tu_tcase(s, "engine-script", 60);
	tcase_add_test(t, preference_order);
	tcase_add_test(t, failing_step_names_itself_and_its_log);
	tcase_add_test(t, two_first_builds_take_turns);
	tcase_add_test(t, ctrl_c_stops_the_whole_build);
	if (tu_sh("command -v npm >/dev/null", NULL) == 0)
		tcase_add_test(t, npm_says_why_it_failed);
	else {
		printf("SKIP: test_engine_script: no npm on PATH (tools/deps.sh installs it): "
		       "1 test not run\n");
		fflush(stdout);
	}
	return tu_run(s);
}
