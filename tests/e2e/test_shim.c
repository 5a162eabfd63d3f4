/* test_shim.c — the shim changes nothing the host program sees (return
 * values, errno, EAGAIN, EINTR, MSG_PEEK, vfork/fork/exec, threads), and
 * still records every request correctly, also when it cannot log. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "testutil.h"

static int g_port;
static pid_t g_srv;

static void setup(void)
{
	g_port = tu_fixture_start("--headers-ms 5 --first-ms 10 --token-ms 2", &g_srv);
}

static void teardown(void)
{
	tu_fixture_stop(g_srv);
}

START_TEST(host_sees_no_difference)
{
	char cmd[1024], *plain, *shimmed, js[256];
	snprintf(cmd, sizeof cmd, "%s/shim_host %d", tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &plain), 0);
	tu_tmp_log(js, sizeof js, "host");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --json %s -- %s/shim_host %d",
		 tu_build_dir(), js, tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &shimmed), 0);
	ck_assert_str_eq(plain, shimmed);
	/* the run itself exercised what it claims to */
	ck_assert_msg(strstr(plain, "connect(nonblock) = -1 EINPROGRESS"), "%s", plain);
	ck_assert_msg(strstr(plain, "recv(empty, nonblock) = -1 EAGAIN"), "%s", plain);
	ck_assert_msg(strstr(plain, "read(interrupted) = -1 EINTR"), "%s", plain);
	ck_assert_msg(strstr(plain, "connect(refused) = -1 ECONNREFUSED"), "%s", plain);
	ck_assert_msg(strstr(plain, "close(9999) = -1 EBADF"), "%s", plain);
	ck_assert_msg(strstr(plain, "threads ok = 4"), "%s", plain);
	/* and the shim saw: 2 requests on the first connection (the second
	 * after a vfork child closed its copy of the fd), 1 from the fork
	 * child, 4 from threads; each with its 3 tokens */
	char *text = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(text);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 7);
	cJSON *q;
	int pids = 0, first_pid = -1;
	cJSON_ArrayForEach(q, reqs) {
		ck_assert_int_eq(cJSON_GetObjectItem(q, "tokens")->valueint, 3);
		ck_assert_int_eq(cJSON_GetObjectItem(q, "status")->valueint, 200);
		int pid = cJSON_GetObjectItem(q, "pid")->valueint;
		if (first_pid < 0)
			first_pid = pid;
		pids += pid != first_pid;
	}
	ck_assert_int_eq(pids, 1); /* the fork child's request has its own pid */
	cJSON *second = cJSON_GetArrayItem(reqs, 1);
	ck_assert_double_eq(cJSON_GetObjectItem(second, "conn")->valuedouble,
			    cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "conn")->valuedouble);
	cJSON_Delete(j);
	free(text);
	free(plain);
	free(shimmed);
}
END_TEST

START_TEST(unwritable_log_says_so_once_and_runs)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=/nonexistent-dir/x.log LD_PRELOAD=%s/libttftshim.so "
		 "%s/shim_host %d 2>&1 >/dev/null", tu_build_dir(), tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "ttftshim: cannot open log /nonexistent-dir/x.log"), "%s", out);
	/* once per process (the host forks one child that execs nothing) */
	int n = 0;
	for (char *p = out; (p = strstr(p, "cannot open log")); p++)
		n++;
	ck_assert_int_le(n, 2);
	free(out);
	/* a bad filter: said once, program unaffected */
	snprintf(cmd, sizeof cmd,
		 "TTFT_FILTER=bogus LD_PRELOAD=%s/libttftshim.so /bin/echo fine 2>&1",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "TTFT_FILTER='bogus' is not understood") && strstr(out, "fine"),
		      "%s", out);
	free(out);
}
END_TEST

START_TEST(full_tmpfs_never_breaks_the_program)
{
	/* A log larger than /dev/shm can hold (twice its free space, whatever
	 * the machine): creation fails cleanly. */
	char cmd[1024], *out, log[256];
	struct statvfs fs;
	ck_assert_int_eq(statvfs(tu_scratch(), &fs), 0);
	unsigned long long mb = 2ULL * fs.f_bavail * fs.f_frsize / (1 << 20) + 1;
	tu_tmp_log(log, sizeof log, "huge");
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s TTFT_LOG_MB=%llu LD_PRELOAD=%s/libttftshim.so /bin/echo ran 2>&1",
		 log, mb, tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "ran") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "no space for the log") != NULL, "%s", out);
	ck_assert_int_ne(access(log, F_OK), 0); /* nothing left behind */
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim");
	TCase *t = tu_tcase(s, "behaviour", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, host_sees_no_difference);
	tcase_add_test(t, unwritable_log_says_so_once_and_runs);
	tcase_add_test(t, full_tmpfs_never_breaks_the_program);
	return tu_run(s);
}
