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

/* A client whose socket I/O goes through POSIX AIO (glibc's threads do
 * it with system calls inside libc, unseen): its connection's row says so
 * — "aio": true, not complete, the note naming POSIX AIO — and never looks
 * like a timed request; one whose every byte went that way still has its
 * row (before: no row at all for "both", and rows that said nothing of
 * AIO, "aio" absent, for the others). The host sees the same returns and
 * errno as without the shim. One row each: the request by aio_write and
 * the answer read (the answer's row, its request unseen); the request
 * written and the answer by aio_read64 (the request's row); both by AIO
 * (aio_write64, aio_read); the request by lio_listio. */
static const char *const aio_modes[] = {"write", "read", "both", "lio"};

START_TEST(posix_aio_rows_say_so)
{
	const char *m = aio_modes[_i];
	char cmd[1024], *plain, *shimmed, js[256];
	snprintf(cmd, sizeof cmd, "%s/aio_host %d %s", tu_build_dir(), g_port, m);
	ck_assert_int_eq(tu_sh(cmd, &plain), 0);
	ck_assert_msg(strstr(plain, "tokens 3\n") && strstr(plain, "aio failed 0 errno_changed 0\n"),
		      "%s: %s", m, plain);
	tu_tmp_log(js, sizeof js, "aio");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --json %s -- %s/aio_host %d %s",
		 tu_build_dir(), js, tu_build_dir(), g_port, m);
	ck_assert_int_eq(tu_sh(cmd, &shimmed), 0);
	ck_assert_str_eq(plain, shimmed);
	char *text = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(text);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	char *rows = cJSON_PrintUnformatted(reqs);
	ck_assert_msg(cJSON_GetArraySize(reqs) == 1, "%s: %s", m, rows);
	cJSON *q = cJSON_GetArrayItem(reqs, 0);
	cJSON *note = cJSON_GetObjectItem(q, "note");
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(q, "aio")) &&
		      cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")) &&
		      cJSON_IsString(note) && strstr(note->valuestring, "POSIX AIO") &&
		      cJSON_IsNull(cJSON_GetObjectItem(q, "ttft_s")),
		      "%s: %s", m, rows);
	free(rows);
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

START_TEST(log_larger_than_the_filesystem_is_said)
{
	/* A log larger than its filesystem can hold (twice its free space,
	 * whatever the machine, up to TTFT_LOG_MB's 64 GiB): it is created
	 * (its record space is allocated a segment at a time), the shim says
	 * that events which do not fit will be dropped, and the program runs
	 * traced. */
	char cmd[1024], *out, log[256];
	struct statvfs fs;
	ck_assert_int_eq(statvfs(tu_scratch(), &fs), 0);
	unsigned long long free_mb = (unsigned long long)fs.f_bavail * fs.f_frsize >> 20;
	unsigned long long mb = 2 * free_mb + 1 < 65536 ? 2 * free_mb + 1 : 65536;
	tu_tmp_log(log, sizeof log, "huge");
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s TTFT_LOG_MB=%llu LD_PRELOAD=%s/libttftshim.so "
		 "%s/shim_host %d 2>&1", log, mb, tu_build_dir(), tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "threads ok = 4") != NULL, "%s", out);
	if (mb > free_mb) /* a filesystem above 32 GiB free holds even 64 GiB */
		ck_assert_msg(strstr(out, "less free space than the log may grow to") != NULL,
			      "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"count\":7") != NULL, "%s", out);
	free(out);
	unlink(log);
}
END_TEST

/* The shim's start-up leaves the host's dlerror() as it was (NULL): a
 * host whose first call is dlerror() prints the same with and without
 * the shim. fake_vdso.so, preloaded ahead of it, makes the shim's vDSO
 * lookup fail where the kernel gave a vDSO (the NOLOAD dlopen, or the
 * clock's dlvsym), as glibc itself would fail it; its stderr line shows
 * the lookup was made and refused. */
static void no_dlerror_left(const char *how)
{
	char cmd[1024], log[256], *out;
	tu_tmp_log(log, sizeof log, "dlerror");
	snprintf(cmd, sizeof cmd,
		 "cd %s && FAKE_VDSO=%s TTFT_LOG=%s LD_PRELOAD=\"$PWD/fake_vdso.so "
		 "$PWD/libttftshim.so\" ./dlerror_host 2>&1",
		 tu_build_dir(), how, log);
	int rc = tu_sh(cmd, &out);
	unlink(log);
	char said[64];
	snprintf(said, sizeof said, "fake_vdso: %s(", how);
	ck_assert_msg(strstr(out, said) != NULL, "the lookup was not refused: %s", out);
	ck_assert_msg(rc == 0 && strstr(out, "dlerror: none\n"), "%s: exit %d: %s", how, rc, out);
	free(out);
}

START_TEST(failed_vdso_dlopen_leaves_no_dlerror)
{
	no_dlerror_left("dlopen");
}
END_TEST

START_TEST(failed_vdso_dlvsym_leaves_no_dlerror)
{
	no_dlerror_left("dlvsym");
}
END_TEST

/* Under valgrind there is no vDSO (no AT_SYSINFO_EHDR): the host's first
 * dlerror() said "linux-vdso.so.1: cannot open shared object file". The
 * host and the shim are built with plain flags in every build, so the
 * sanitizer builds run this too. */
START_TEST(no_vdso_under_valgrind_leaves_no_dlerror)
{
	if (tu_sh("command -v valgrind >/dev/null", NULL) != 0) {
		printf("SKIP: test_shim: no valgrind on PATH (tools/deps.sh installs it): "
		       "1 test not run\n");
		fflush(stdout);
		return;
	}
	char cmd[1024], log[256], *out;
	tu_tmp_log(log, sizeof log, "dlerror_vg");
	snprintf(cmd, sizeof cmd,
		 "cd %s && TTFT_LOG=%s LD_PRELOAD=$PWD/libttftshim.so "
		 "valgrind -q --error-exitcode=99 ./dlerror_host 2>&1",
		 tu_build_dir(), log);
	int rc = tu_sh(cmd, &out);
	unlink(log);
	ck_assert_msg(rc == 0 && strstr(out, "dlerror: none\n"), "exit %d: %s", rc, out);
	free(out);
}
END_TEST

/* The shim's lookups on the host's thread after start-up (a first TLS
 * call's, a first fortified print's) leave the host's dlerror() as it
 * was: its own failed dlopen's message, or nothing. glibc 2.34 and later
 * drops a pending message at every dynamic-linker call; the shim's
 * failed lookups (the fake libssl has none of the functions the taps
 * look for but SSL_read) left their own. dlerror_host prints what it
 * sees; with and without the shim it must print the same. */
static void dlerror_same(const char *args, const char *expect)
{
	char cmd[1024], log[256], *plain, *shim;
	tu_tmp_log(log, sizeof log, "dlerror_calls");
	snprintf(cmd, sizeof cmd, "cd %s && ./dlerror_host %s 2>&1", tu_build_dir(), args);
	ck_assert_int_eq(tu_sh(cmd, &plain), 0);
	snprintf(cmd, sizeof cmd,
		 "cd %s && TTFT_LOG=%s LD_PRELOAD=$PWD/libttftshim.so ./dlerror_host %s 2>&1",
		 tu_build_dir(), log, args);
	ck_assert_int_eq(tu_sh(cmd, &shim), 0);
	unlink(log);
	ck_assert_msg(strstr(plain, expect) != NULL, "%s, no shim: %s", args, plain);
	ck_assert_msg(strcmp(plain, shim) == 0, "%s: without the shim:\n%swith it:\n%s",
		      args, plain, shim);
	free(plain);
	free(shim);
}

#define OWN "dlerror: libttft-no-such-library.so.9: cannot open shared object file"

START_TEST(first_tls_call_keeps_the_hosts_dlerror)
{
	dlerror_same("tls fake-ssl/libcaller3.so own", "read 4242\n" OWN);
	dlerror_same("tls fake-ssl/libcaller3.so", "read 4242\ndlerror: none\n");
	dlerror_same("tls fake-ssl/libcaller3.so own thread", "read 4242\n" OWN);
	dlerror_same("tls fake-ssl/libcaller3.so thread", "read 4242\ndlerror: none\n");
	dlerror_same("tls fake-ssl/libcallerreal.so own", "read -1\n" OWN);
}
END_TEST

START_TEST(first_fortified_print_keeps_the_hosts_dlerror)
{
	dlerror_same("printf own", OWN);
	dlerror_same("printf", "dlerror: none\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim");
	TCase *t = tu_tcase(s, "behaviour", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, host_sees_no_difference);
	tcase_add_loop_test(t, posix_aio_rows_say_so, 0, 4);
	tcase_add_test(t, unwritable_log_says_so_once_and_runs);
	tcase_add_test(t, log_larger_than_the_filesystem_is_said);
	TCase *d = tu_tcase(s, "dlerror", 120);
	tcase_add_test(d, failed_vdso_dlopen_leaves_no_dlerror);
	tcase_add_test(d, failed_vdso_dlvsym_leaves_no_dlerror);
	tcase_add_test(d, no_vdso_under_valgrind_leaves_no_dlerror);
	tcase_add_test(d, first_tls_call_keeps_the_hosts_dlerror);
	tcase_add_test(d, first_fortified_print_keeps_the_hosts_dlerror);
	return tu_run(s);
}
