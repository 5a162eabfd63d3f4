/* test_engine_script.c — tools/engine.sh without building anything: the
 * order of preference for llama-server, and a failing build step that says
 * which step failed and where its whole log is. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(void)
{
	Suite *s = suite_create("engine-script");
	TCase *t = tu_tcase(s, "engine-script", 60);
	tcase_add_test(t, preference_order);
	tcase_add_test(t, failing_step_names_itself_and_its_log);
	return tu_run(s);
}
