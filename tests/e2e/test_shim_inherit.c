/* test_shim_inherit.c — connections inherited across exec are traced
 * (shim/preload/ttft_inherit.c): a shell connects and sends, `cat` (a new
 * program image) reads the answer, and the shell's request gets its
 * response, tokens and TTFT; a program exec'd with the connection already
 * open sends requests of its own on it, and each is a row that says the
 * connection was inherited (no connect or DNS time, TTFT from the
 * request's first byte). The host's output is the same with and without
 * the shim. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
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

/* Run the bash script without and with the shim (same stdout), then the
 * analyzer's --json rows of the shim's log. */
static cJSON *run_both(const char *script, char *log, size_t loglen)
{
	char cmd[2048], *out[2];
	tu_tmp_log(log, loglen, "inherit");
	for (int shim = 0; shim < 2; shim++) {
		snprintf(cmd, sizeof cmd, "TTFT_LOG=%s %s%s/libttftshim.so bash -c '%s'",
			 log, shim ? "LD_PRELOAD=" : "TTFT_UNUSED=", tu_build_dir(), script);
		ck_assert_int_eq(tu_sh(cmd, &out[shim]), 0);
	}
	ck_assert_str_eq(out[1], out[0]);
	free(out[0]);
	free(out[1]);
	char *js;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &js), 0);
	cJSON *j = cJSON_Parse(js);
	ck_assert_msg(j != NULL, "%s", js);
	free(js);
	return cJSON_GetObjectItem(j, "requests") ? j : NULL;
}

static double num(const cJSON *r, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(r, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

START_TEST(shell_request_answered_in_a_new_image)
{
	char script[1024], log[256];
	snprintf(script, sizeof script,
		 "exec 3<>/dev/tcp/127.0.0.1/%d; printf \"POST /v1/completions?tokens=4 "
		 "HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\nConnection: close"
		 "\\r\\n\\r\\n{}\" >&3; cat <&3 | grep -c \"text\"",
		 g_port);
	cJSON *j = run_both(script, log, sizeof log);
	ck_assert_ptr_nonnull(j);
	cJSON *rs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(rs), 1);
	cJSON *r = cJSON_GetArrayItem(rs, 0);
	char *txt = cJSON_PrintUnformatted(r);
	/* the shell's own connection: its setup was seen */
	ck_assert_msg(num(r, "status") == 200 && num(r, "tokens") == 4, "%s", txt);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")), "%s", txt);
	ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(r, "inherited")), "%s", txt);
	ck_assert_msg(num(r, "connect_s") >= 0 && num(r, "ttft_s") >= num(r, "connect_s"),
		      "%s", txt);
	free(txt);
	cJSON_Delete(j);
	unlink(log);
}
END_TEST

START_TEST(requests_of_a_program_exec_d_with_the_connection_open)
{
	char script[1024], log[256];
	snprintf(script, sizeof script,
		 "exec 3<>/dev/tcp/127.0.0.1/%d; exec %s/inherit_host 3 2", g_port,
		 tu_build_dir());
	cJSON *j = run_both(script, log, sizeof log);
	ck_assert_ptr_nonnull(j);
	cJSON *rs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(rs), 2);
	for (int i = 0; i < 2; i++) {
		cJSON *r = cJSON_GetArrayItem(rs, i);
		char *txt = cJSON_PrintUnformatted(r);
		ck_assert_msg(num(r, "status") == 200 && num(r, "tokens") == 3, "%s", txt);
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "inherited")), "%s", txt);
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")), "%s", txt);
		/* no setup was seen: none is reported; TTFT from the request */
		ck_assert_msg(isnan(num(r, "connect_s")) && isnan(num(r, "dns_s")), "%s", txt);
		ck_assert_msg(num(r, "ttft_s") > 0 && num(r, "ttft_s") <= num(r, "e2e_s"),
			      "%s", txt);
		const cJSON *note = cJSON_GetObjectItem(r, "note");
		ck_assert_msg(cJSON_IsString(note) &&
			      strstr(note->valuestring, "inherited across exec"), "%s", txt);
		free(txt);
	}
	cJSON_Delete(j);
	unlink(log);
}
END_TEST

/* The parent sends, hands the socket to a program it spawns and closes
 * its own copy before that program reads the answer: the socket lives on
 * in the child, so the parent's close is not the client giving up. The
 * request's row is whole, with its answer's tokens and end (before: "the
 * client closed after [DONE], before the response's own end", not
 * complete, no e2e, where the child had read every byte of it). */
static const char *const handoffs[] = {"--handoff", "--handoff-late"};

START_TEST(request_answered_after_the_sender_closed_its_copy)
{
	/* the parent's close before the child's first use of the socket,
	 * and after it (the heir known then) */
	char script[1024], log[256];
	snprintf(script, sizeof script, "exec %s/inherit_host %s %d", tu_build_dir(),
		 handoffs[_i], g_port);
	cJSON *j = run_both(script, log, sizeof log);
	ck_assert_ptr_nonnull(j);
	cJSON *rs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(rs), 1);
	cJSON *r = cJSON_GetArrayItem(rs, 0);
	char *txt = cJSON_PrintUnformatted(r);
	ck_assert_msg(num(r, "status") == 200 && num(r, "tokens") == 3, "%s", txt);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(r, "complete")), "%s", txt);
	ck_assert_msg(num(r, "e2e_s") >= num(r, "ttft_s") && num(r, "ttft_s") > 0, "%s", txt);
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(r, "note")), "%s", txt);
	free(txt);
	cJSON_Delete(j);
	unlink(log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_inherit");
	TCase *t = tu_tcase(s, "inherit", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, shell_request_answered_in_a_new_image);
	tcase_add_test(t, requests_of_a_program_exec_d_with_the_connection_open);
	tcase_add_loop_test(t, request_answered_after_the_sender_closed_its_copy, 0, 2);
	return tu_run(s);
}
