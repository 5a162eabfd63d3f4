/* test_shim_stdio.c — stdio bytes that leave a process inside libc are
 * seen (shim/preload/ttft_stdio_exit.c): a request left in an fdopen'ed
 * stream's buffer when main returns, one left in a fully buffered stdout
 * at exit(), and one written with dprintf. Each is one row with the
 * response the server sent (read by `cat` after the writer exited, or by
 * the writer itself), and the host's output is byte-identical with and
 * without the shim. A request sent by a raw system call stays unseen: its
 * response is a row that says so. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static int g_port;
static pid_t g_srv;

static void setup(void)
{
	g_port = tu_fd_host_start(&g_srv);
}

static void teardown(void)
{
	tu_stop(g_srv);
}

/* The other views of a row whose request (so its start) was not seen:
 * the table shows no start ("-", never nan or a clock's origin); the
 * trace's request slice holds its phases and begins where the first of
 * them does (not at the clock's origin). */
static void unseen_views(const char *log)
{
	char cmd[1024], trace[300], *txt;
	snprintf(trace, sizeof trace, "%s.trace.json", log);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --trace %s %s", tu_build_dir(), trace, log);
	ck_assert_int_eq(tu_sh(cmd, &txt), 0);
	ck_assert_msg(!strstr(txt, "nan"), "%s", txt);
	free(txt);
	char *tj = tu_read_file(trace, NULL);
	cJSON *t = cJSON_Parse(tj);
	ck_assert_msg(t != NULL, "%s", tj);
	double req_ts = -1, req_end = -1, first = -1, last = -1;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, cJSON_GetObjectItem(t, "traceEvents"))
	{
		const cJSON *cat = cJSON_GetObjectItem(ev, "cat");
		if (!cJSON_IsString(cat))
			continue;
		double ts = cJSON_GetObjectItem(ev, "ts")->valuedouble;
		double dur = cJSON_IsNumber(cJSON_GetObjectItem(ev, "dur"))
				     ? cJSON_GetObjectItem(ev, "dur")->valuedouble
				     : 0;
		if (!strcmp(cat->valuestring, "request")) {
			req_ts = ts;
			req_end = ts + dur;
		} else if (!strcmp(cat->valuestring, "phase")) {
			if (first < 0 || ts < first)
				first = ts;
			if (ts + dur > last)
				last = ts + dur;
		}
	}
	ck_assert_msg(first >= 0 && req_ts == first && req_end == last, "%s", tj);
	free(tj);
	cJSON_Delete(t);
	unlink(trace);
}

/* bash: connect on fd 3, then `then`; same stdout with and without the
 * shim; the shim's log must hold exactly one row of 4 tokens: complete,
 * or (unseen) one that says its request was not seen. */
static void row(const char *then, int unseen)
{
	char log[256], cmd[2048], *out[2];
	tu_tmp_log(log, sizeof log, "stdio");
	for (int shim = 0; shim < 2; shim++) {
		snprintf(cmd, sizeof cmd,
			 "cd %s && TTFT_LOG=%s %s$PWD/libttftshim.so bash -c "
			 "'exec 3<>/dev/tcp/127.0.0.1/%d; %s'",
			 tu_build_dir(), log, shim ? "LD_PRELOAD=" : "TTFT_UNUSED=", g_port, then);
		ck_assert_int_eq(tu_sh(cmd, &out[shim]), 0);
	}
	ck_assert_str_eq(out[1], out[0]);
	ck_assert_msg(out[0][0] && strcmp(out[0], "0\n"), "%s: '%s'", then, out[0]);
	free(out[0]);
	free(out[1]);
	char *js;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &js), 0);
	cJSON *j = cJSON_Parse(js);
	ck_assert_msg(j != NULL, "%s", js);
	cJSON *rs = cJSON_GetObjectItem(j, "requests");
	ck_assert_msg(cJSON_GetArraySize(rs) == 1, "%s: %s", then, js);
	cJSON *r = cJSON_GetArrayItem(rs, 0);
	ck_assert_msg(cJSON_GetObjectItem(r, "status")->valuedouble == 200 &&
		      cJSON_GetObjectItem(r, "tokens")->valuedouble == 4, "%s: %s", then, js);
	if (!unseen) {
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")) &&
			      cJSON_IsNumber(cJSON_GetObjectItem(r, "ttft_s")) &&
			      cJSON_IsFalse(cJSON_GetObjectItem(r, "request_unseen")),
			      "%s: %s", then, js);
	} else {
		/* said, with the response's own facts; no TTFT invented */
		const cJSON *note = cJSON_GetObjectItem(r, "note");
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "request_unseen")) &&
			      cJSON_IsFalse(cJSON_GetObjectItem(r, "complete")) &&
			      cJSON_IsNull(cJSON_GetObjectItem(r, "ttft_s")) &&
			      cJSON_IsString(note) &&
			      strstr(note->valuestring, "request was not seen") &&
			      cJSON_IsNull(cJSON_GetObjectItem(r, "start_unix_s")),
			      "%s: %s", then, js);
		unseen_views(log);
	}
	free(js);
	cJSON_Delete(j);
	unlink(log);
}

START_TEST(fdopen_stream_flushed_when_main_returns)
{
	row("./stdio_host exit 3; cat <&3 | grep -c text", 0);
}
END_TEST

START_TEST(buffered_stdout_flushed_by_exit)
{
	row("./stdio_host stdout >&3; cat <&3 | grep -c text", 0);
}
END_TEST

START_TEST(dprintf_request)
{
	row("./stdio_host dprintf 3", 0);
}
END_TEST

/* glibc's inline putc_unlocked writes into the buffer and, when it is
 * full, calls __overflow, which sends it with libc's internal write: the
 * shim watches __overflow as it does the output calls (before, the 8 KiB
 * that went out there were never seen, the rest read as no HTTP: the row
 * had no request and said "not HTTP/1.x (HTTP/2?)"). */
START_TEST(inline_putc_request)
{
	row("./stdio_host putc 3", 0);
}
END_TEST

/* A path no preloaded library can see: the response still makes a row,
 * which says its request was not seen. */
START_TEST(raw_syscall_request_is_said_unseen)
{
	row("./stdio_host raw 3", 1);
}
END_TEST

/* stdio_host MODE with and without the shim: same output, same exit
 * code (a hang ends at the guard's limit: 124, never 0). */
static void same_host(const char *mode)
{
	char log[256], cmd[1024], *out[2];
	int rc[2];
	tu_tmp_log(log, sizeof log, "stdio_same");
	for (int shim = 0; shim < 2; shim++) {
		snprintf(cmd, sizeof cmd,
			 "cd %s && TTFT_LOG=%s %s$PWD/libttftshim.so timeout 60 ./stdio_host %s",
			 tu_build_dir(), log, shim ? "LD_PRELOAD=" : "TTFT_UNUSED=", mode);
		rc[shim] = tu_sh(cmd, &out[shim]);
	}
	ck_assert_int_eq(rc[0], 0);
	ck_assert_int_eq(rc[1], rc[0]);
	ck_assert_str_eq(out[1], out[0]);
	free(out[0]);
	free(out[1]);
	unlink(log);
}

/* Two streams on one socket with bytes pending at exit: libc flushes the
 * newer first; the shim's flush at exit must not reorder the wire. */
START_TEST(exit_flush_keeps_libc_stream_order)
{
	same_host("two");
}
END_TEST

/* Another thread holds the stream's lock when the program exits: libc's
 * exit flush takes no stream lock; the shim's must not wait for it. */
START_TEST(exit_flush_never_waits_for_a_held_stream_lock)
{
	same_host("locked");
}
END_TEST

/* CMD (a host in the build directory) with and without the shim, its
 * stderr too: the same
 * status and output; the output returned (the shim's run). */
static char *same_host_err(const char *mode, int *rc)
{
	char log[256], cmd[1024], *out[2];
	int r[2];
	tu_tmp_log(log, sizeof log, "stdio_err");
	for (int shim = 0; shim < 2; shim++) {
		snprintf(cmd, sizeof cmd,
			 "cd %s && TTFT_LOG=%s %s$PWD/libttftshim.so timeout 60 "
			 "sh -c './%s; echo status $?' 2>&1",
			 tu_build_dir(), log, shim ? "LD_PRELOAD=" : "TTFT_UNUSED=", mode);
		r[shim] = tu_sh(cmd, &out[shim]);
	}
	ck_assert_int_eq(r[1], r[0]);
	ck_assert_str_eq(out[1], out[0]);
	free(out[0]);
	unlink(log);
	*rc = r[1];
	return out[1];
}

/* stdout on a socket: puts returns what libc's does (the string's length
 * plus one, not 1), and two threads' lines arrive whole (the shim called
 * libc twice a line, outside its one lock: lines were torn). */
START_TEST(puts_on_a_socket_is_libcs)
{
	int rc;
	char *out = same_host_err("stdio_host puts", &rc);
	ck_assert_msg(rc == 0 && strstr(out, "puts returned 23\n") &&
		      strstr(out, "peer: 20001 lines, 0 not whole\n") &&
		      strstr(out, "status 0\n"), "%s", out);
	free(out);
}
END_TEST

/* A fortified printf with %n in a writable format: glibc stops the
 * program; under the shim too (it formatted unfortified, and it ran on). */
START_TEST(fortified_printf_checks_stay)
{
	int rc;
	char *out = same_host_err("fortify_host", &rc);
	ck_assert_msg(strstr(out, "%n in writable segment detected") &&
		      !strstr(out, "not stopped") && !strstr(out, "status 0\n"),
		      "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_stdio");
	TCase *t = tu_tcase(s, "stdio", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fdopen_stream_flushed_when_main_returns);
	tcase_add_test(t, buffered_stdout_flushed_by_exit);
	tcase_add_test(t, dprintf_request);
	tcase_add_test(t, inline_putc_request);
	tcase_add_test(t, raw_syscall_request_is_said_unseen);
	tcase_add_test(t, exit_flush_keeps_libc_stream_order);
	tcase_add_test(t, exit_flush_never_waits_for_a_held_stream_lock);
	tcase_add_test(t, puts_on_a_socket_is_libcs);
	tcase_add_test(t, fortified_printf_checks_stay);
	return tu_run(s);
}
