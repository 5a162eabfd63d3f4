/* test_gpu_day.c — tools/gpu_day.sh without a GPU or an engine: the
 * accuracy chain (tools/gpu_day/client.py under ttft-run, joined by
 * accuracy.py) against the fixture server's llama.cpp timings, the join's
 * refusal to guess, and the script's time boxes, status record, packing
 * for the device's return folder and its stop on Ctrl-C. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "testutil.h"

static char g_dir[512];

/* A fresh folder for one test, inside the suite's scratch directory (which
 * tu_run removes whatever the tests did). */
static void mkscratch(void)
{
	static int seq;
	char cmd[1024];
	snprintf(g_dir, sizeof g_dir, "%s/gpuday.%d", tu_scratch(), seq++);
	snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
}

static cJSON *load_json(const char *path)
{
	char *text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	cJSON *j = cJSON_Parse(text);
	free(text);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	return j;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Python and curl, 2 at once on one slot, under the shim with /metrics
 * sampled: every request is joined to its own shim record, the server's
 * prefill is the one the fixture injected, and it lies inside the TTFT the
 * shim measured. */
START_TEST(accuracy_chain_on_fixture)
{
	mkscratch();
	pid_t fx;
	int port = tu_fixture_start("--style llamacpp --slots 1 --prefill-per-token-ms 0.2 "
				    "--token-ms 1", &fx);
	const char *via[] = {"python", "curl"};
	char cmd[4096], runs[2048] = "";
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --metrics http://127.0.0.1:%d "
			 "--json %s/%s.shim.json -- python3 tools/gpu_day/client.py --port %d "
			 "--requests 4 --concurrency 2 --via %s --prompt-words 20 --max-tokens 5 "
			 "> %s/%s.client.jsonl", tu_build_dir(), port, g_dir, via[i], port, via[i],
			 g_dir, via[i]);
		ck_assert_msg(tu_sh(cmd, NULL) == 0, "%s", cmd);
		size_t n = strlen(runs);
		snprintf(runs + n, sizeof runs - n, " %s:2:%s/%s.shim.json:%s/%s.client.jsonl",
			 via[i], g_dir, via[i], g_dir, via[i]);
	}
	tu_fixture_stop(fx);
	snprintf(cmd, sizeof cmd, "python3 tools/gpu_day/accuracy.py --json %s/acc.json "
		 "--md %s/acc.md%s 2>&1", g_dir, g_dir, runs);
	char *out;
	ck_assert_msg(tu_sh(cmd, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "2 runs, 8 of 8 requests joined"), "%s", out);
	free(out);

	char path[1024];
	snprintf(path, sizeof path, "%s/acc.json", g_dir);
	cJSON *j = load_json(path), *r;
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")), 2);
	int rows = 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "runs")) {
		cJSON *s = cJSON_GetObjectItem(r, "summary"), *q;
		ck_assert_int_eq((int)num(s, "requests"), 4);
		ck_assert_int_eq((int)num(s, "joined"), 4);
		ck_assert_int_eq((int)num(s, "failed"), 0);
		cJSON_ArrayForEach(q, cJSON_GetObjectItem(r, "requests")) {
			rows++;
			ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "joined")));
			double pn = num(q, "server_prompt_n"), pm = num(q, "server_prompt_ms");
			/* the fixture reports the prefill it injected: 0.2 ms a token */
			ck_assert_msg(pn > 20 && fabs(pm - 0.2 * pn) < 0.002, "prompt_n %g prompt_ms %g",
				      pn, pm);
			ck_assert_msg(num(q, "shim_ttft_ms") >= pm, "ttft %g < prompt_ms %g",
				      num(q, "shim_ttft_ms"), pm);
			ck_assert(fabs(num(q, "ttft_minus_prompt_ms") -
				       (num(q, "shim_ttft_ms") - pm)) < 1e-9);
			ck_assert_int_eq((int)num(q, "shim_tokens"), 5);
			ck_assert_int_eq((int)num(q, "client_tokens"), 5);
			ck_assert_int_eq((int)num(q, "server_predicted_n"), 5);
			/* the client (or curl's pipe) sees the token after the socket */
			ck_assert_msg(num(q, "client_after_shim_ms") >= 0, "client %g ms before the socket",
				      num(q, "client_after_shim_ms"));
		}
	}
	ck_assert_int_eq(rows, 8);
	cJSON_Delete(j);
	snprintf(path, sizeof path, "%s/acc.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(strstr(md, "| python | 2 | 4 / 4 (0) |"), "%s", md);
	ck_assert_msg(strstr(md, "| curl | 2 | 4 / 4 (0) |"), "%s", md);
	free(md);
}
END_TEST

/* A process whose counts differ, a pair outside the client's own window,
 * shim records no client sent: reported, never paired by guess. */
START_TEST(accuracy_never_guesses)
{
	mkscratch();
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "cat > %s/shim.json <<'EOF'\n"
		 "{\"requests\":[\n"
		 "{\"pid\":100,\"method\":\"POST\",\"path\":\"/v1/completions\",\"start_s\":1.0,"
		 "\"ttft_s\":0.010,\"decode_s\":0.020,\"e2e_s\":0.030,\"wait_headers_s\":0.001,\"tokens\":4},\n"
		 "{\"pid\":100,\"method\":\"POST\",\"path\":\"/v1/completions\",\"start_s\":1.1,"
		 "\"ttft_s\":0.010,\"decode_s\":0.020,\"e2e_s\":0.030,\"tokens\":4},\n"
		 "{\"pid\":100,\"method\":\"GET\",\"path\":\"/metrics\",\"start_s\":1.05,\"e2e_s\":0.001},\n"
		 "{\"pid\":200,\"method\":\"POST\",\"path\":\"/v1/completions\",\"start_s\":2.0,"
		 "\"ttft_s\":0.010,\"e2e_s\":0.030,\"tokens\":4},\n"
		 "{\"pid\":300,\"method\":\"POST\",\"path\":\"/v1/completions\",\"start_s\":3.0,"
		 "\"ttft_s\":0.010,\"e2e_s\":0.030,\"tokens\":4}]}\n"
		 "EOF\n"
		 "cat > %s/client.jsonl <<'EOF'\n"
		 "{\"via\":\"python\",\"pid\":100,\"k\":0,\"start_ns\":999000000,\"first_ns\":1010500000,"
		 "\"end_ns\":1031000000,\"tokens\":4,\"status\":200,\"error\":null,"
		 "\"timings\":{\"prompt_n\":30,\"prompt_ms\":7.5,\"predicted_n\":4,\"predicted_ms\":19.5,\"cache_n\":0}}\n"
		 "{\"via\":\"python\",\"pid\":100,\"k\":1,\"start_ns\":1100000001,\"first_ns\":1111000000,"
		 "\"end_ns\":1131000000,\"tokens\":4,\"status\":200,\"error\":null,\"timings\":null}\n"
		 "{\"via\":\"curl\",\"pid\":200,\"k\":0,\"start_ns\":1990000000,\"first_ns\":null,"
		 "\"end_ns\":2040000000,\"tokens\":4,\"status\":200,\"error\":null,\"timings\":null}\n"
		 "{\"via\":\"curl\",\"pid\":200,\"k\":1,\"start_ns\":2050000000,\"first_ns\":null,"
		 "\"end_ns\":2090000000,\"tokens\":4,\"status\":200,\"error\":null,\"timings\":null}\n"
		 "EOF\n"
		 "python3 tools/gpu_day/accuracy.py --json %s/a.json --md %s/a.md "
		 "x:1:%s/shim.json:%s/client.jsonl 2>&1",
		 g_dir, g_dir, g_dir, g_dir, g_dir, g_dir);
	char *out;
	ck_assert_msg(tu_sh(cmd, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "1 runs, 1 of 4 requests joined"), "%s", out);
	free(out);
	char path[1024];
	snprintf(path, sizeof path, "%s/a.json", g_dir);
	cJSON *j = load_json(path);
	cJSON *run = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0);
	cJSON *reqs = cJSON_GetObjectItem(run, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 4);
	cJSON *a = cJSON_GetArrayItem(reqs, 0), *b = cJSON_GetArrayItem(reqs, 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "joined")));
	ck_assert_double_eq_tol(num(a, "shim_ttft_ms"), 10.0, 1e-9);
	ck_assert_double_eq_tol(num(a, "ttft_minus_prompt_ms"), 2.5, 1e-9);
	ck_assert_double_eq_tol(num(a, "decode_minus_predicted_ms"), 0.5, 1e-9);
	ck_assert_double_eq_tol(num(a, "client_after_shim_ms"), 0.5, 1e-6);
	/* the client started after the shim's record began: not the same request */
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(b, "joined")));
	ck_assert_msg(strstr(cJSON_GetObjectItem(b, "why_not")->valuestring, "not inside"), "%s",
		      cJSON_GetObjectItem(b, "why_not")->valuestring);
	ck_assert(!cJSON_GetObjectItem(b, "shim_ttft_ms"));
	for (int i = 2; i < 4; i++) {
		cJSON *c = cJSON_GetArrayItem(reqs, i);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "joined")));
		ck_assert_str_eq(cJSON_GetObjectItem(c, "why_not")->valuestring,
				 "counts differ for this process");
		ck_assert_str_eq(cJSON_GetObjectItem(c, "server_note")->valuestring,
				 "no timings in the response");
	}
	cJSON *notes = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "summary"), "notes");
	ck_assert_int_eq(cJSON_GetArraySize(notes), 2);
	ck_assert_msg(strstr(cJSON_GetArrayItem(notes, 0)->valuestring,
			     "pid 200: the client sent 2 requests, the shim recorded 1"), "%s",
		      cJSON_GetArrayItem(notes, 0)->valuestring);
	ck_assert_msg(strstr(cJSON_GetArrayItem(notes, 1)->valuestring,
			     "pid 300: 1 completion requests in the shim's log from no client record"),
		      "%s", cJSON_GetArrayItem(notes, 1)->valuestring);
	cJSON_Delete(j);
}
END_TEST

/* Past the deadline every step is skipped and says so; the status, run.md
 * and the packed results still reach $OUT; `report` rebuilds run.md from
 * the status files; bad commands and a missing pack say what to do. */
START_TEST(script_boxes_records_and_packs)
{
	mkscratch();
	char cmd[8192], *out;
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/work %s/out && echo gguf > %s/model && "
		 "printf 'SERVER=/bin/true\\nMODEL=%s/model\\nSHAPE=qwen2.5-1.5b\\n' > %s/work/build.ok && "
		 "printf 'ok\\t250\\t-\\n' > %s/work/build.status && : > %s/work/build.tsv && "
		 "GPU_DAY_WORK=%s/work OUT=%s/out GPU_DAY_DEADLINE=$(date +%%s) "
		 "bash tools/gpu_day.sh run env kv 2>&1",
		 g_dir, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir);
	ck_assert_msg(tu_sh(cmd, &out) == 1, "%s", out);
	ck_assert_msg(strstr(out, "step env: skipped"), "%s", out);
	ck_assert_msg(strstr(out, "step kv: skipped"), "%s", out);
	free(out);
	char path[1024];
	snprintf(path, sizeof path, "%s/work/h200/status/kv.tsv", g_dir);
	char *st = tu_read_file(path, NULL);
	ck_assert_msg(st && !strncmp(st, "not run: out of time", 20), "%s", st ? st : "(none)");
	free(st);
	snprintf(path, sizeof path, "%s/work/h200/run.md", g_dir);
	char *md = tu_read_file(path, NULL);
	ck_assert_msg(md && strstr(md, "| build | ok | 250 |") && strstr(md, "| env | not run") &&
		      strstr(md, "| kv | not run") && !strstr(md, "| cold |"), "%s", md ? md : "");
	free(md);
	/* what comes back from the device: run.md, the progress, the tarball */
	snprintf(cmd, sizeof cmd, "ls %s/out && tar -tzf %s/out/h200.tar.gz | sort", g_dir, g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "gpu_day.log\nh200.tar.gz\nrun.md\n"), "%s", out);
	ck_assert_msg(strstr(out, "./status/kv.tsv\n") && strstr(out, "./run.md\n"), "%s", out);
	free(out);
	/* two calls' results in one folder: run.md from every step's status */
	snprintf(cmd, sizeof cmd, "d=%s/work/h200 && printf 'ok\\t12\\t150\\n' > $d/status/cold.tsv && "
		 "rm $d/run.md && bash tools/gpu_day.sh report $d && cat $d/run.md", g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "| cold | ok | 12 | 150 |"), "%s", out);
	ck_assert_msg(strstr(out, "| env | not run"), "%s", out);
	free(out);

	snprintf(cmd, sizeof cmd, "GPU_DAY_WORK=%s/work bash tools/gpu_day.sh run env bogus 2>&1",
		 g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "unknown step 'bogus'"), "%s", out);
	free(out);
	/* on a machine with no build yet, a wrong step is refused before
	 * the build (minutes of it) starts, not after */
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "GPU_DAY_WORK=%s/nobuild GPU_DAY_PACK=%s/nopack "
			 "bash tools/gpu_day.sh %s env bogus 2>&1; echo \"exit $?\"; "
			 "ls %s/nobuild 2>&1", g_dir, g_dir, i ? "all" : "run", g_dir);
		int rc = tu_sh(cmd, &out); /* 2: ls finds no work folder */
		ck_assert_msg(rc == 2 && strstr(out, "unknown step 'bogus'") && strstr(out, "exit 1\n") &&
			      !strstr(out, "building first") && !strstr(out, "build.status"),
			      "%s", out);
		free(out);
	}
	ck_assert_int_eq(tu_sh("bash tools/gpu_day.sh frobnicate 2>&1", &out), 1);
	ck_assert_msg(strstr(out, "unknown command 'frobnicate'"), "%s", out);
	free(out);
	/* an argument a command does not take is refused before it starts
	 * (a review: 'dry-run --full' ran the prebuilt dry run, the typo
	 * unsaid); --version says what it is */
	static const char *const extra[][2] = {
		{"dry-run --full", "dry-run: unexpected argument '--full'"},
		{"pack x", "pack: unexpected argument 'x'"},
		{"build --now", "build: unexpected argument '--now'"},
		{"report /nonexistent x", "usage: tools/gpu_day.sh report DIR"},
	};
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		snprintf(cmd, sizeof cmd, "GPU_DAY_WORK=%s/nobuild GPU_DAY_PACK=%s/nopack "
			 "bash tools/gpu_day.sh %s 2>&1; echo \"exit $?\"; ls %s/nobuild %s/nopack 2>&1",
			 g_dir, g_dir, extra[i][0], g_dir, g_dir);
		int rc = tu_sh(cmd, &out); /* 2: ls finds neither folder */
		ck_assert_msg(rc == 2 && strstr(out, extra[i][1]) && strstr(out, "exit 1\n") &&
			      !strstr(out, "dry run in") && !strstr(out, "packed"),
			      "%s: %s", extra[i][0], out);
		free(out);
	}
	ck_assert_int_eq(tu_sh("bash tools/gpu_day.sh --version 2>&1", &out), 0);
	ck_assert_msg(strstr(out, "gpu_day.sh (ttftshim ") && strstr(out, "llama.cpp "), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "GPU_DAY_WORK=%s/fresh GPU_DAY_PACK=%s/nopack "
		 "bash tools/gpu_day.sh build 2>&1", g_dir, g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 1);
	ck_assert_msg(strstr(out, "run 'tools/gpu_day.sh pack'"), "%s", out);
	free(out);
}
END_TEST

/* Ctrl-C to the run's process group while a step's server runs: that step
 * stops its server and is recorded as interrupted, the steps after it do
 * not start (recorded as not run), the results are still packed into
 * $OUT, and the run exits 130. */
START_TEST(ctrl_c_stops_the_run)
{
	mkscratch();
	char cmd[16384], path[1024], bin[PATH_MAX], *out;
	ck_assert_ptr_nonnull(realpath(tu_build_dir(), bin));
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/work/bin %s/out && echo gguf > %s/model && "
		 "for p in ttft-run ttft-cold ttft-analyze libttftshim.so; do "
		 "ln -s %s/$p %s/work/bin/$p || exit 1; done && "
		 "printf '#!/bin/sh\\necho \"server $$\" >> %s/pids\\nexec sleep 300\\n' > %s/srv && "
		 "chmod +x %s/srv && "
		 "printf 'SERVER=%s/srv\\nMODEL=%s/model\\nSHAPE=qwen2.5-1.5b\\n' > %s/work/build.ok && "
		 "printf 'ok\\t1\\t-\\n' > %s/work/build.status && : > %s/work/build.tsv",
		 g_dir, g_dir, g_dir, bin, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir,
		 g_dir);
	ck_assert_msg(tu_sh(cmd, NULL) == 0, "%s", cmd);
	char work[600], outd[600], log[600], pids[600];
	snprintf(work, sizeof work, "GPU_DAY_WORK=%s/work", g_dir);
	snprintf(outd, sizeof outd, "OUT=%s/out", g_dir);
	snprintf(log, sizeof log, "%s/run.txt", g_dir);
	snprintf(pids, sizeof pids, "%s/pids", g_dir);
	char *argv[] = {"env", work, outd, "bash", "tools/gpu_day.sh", "run", "cold", "accuracy",
			NULL};
	pid_t g = tu_spawn_group(argv, log); /* as a terminal's foreground job */
	char got[64];
	int up = tu_wait_line(pids, "server ", got, sizeof got, 60, g);
	int srv = atoi(got);
	if (up == 0)
		kill(-g, SIGINT);
	int st = 0, done = tu_wait_exit(g, 60, &st);
	out = tu_read_file(log, NULL);
	if (srv > 0)
		kill(srv, SIGKILL); /* (if the run left it) */
	ck_assert_msg(up == 0, "no server started: %s", out);
	ck_assert_msg(done && WIFEXITED(st) && WEXITSTATUS(st) == 130,
		      "%s; status 0x%x: %s", done ? "ended" : "still running after 60 s", st, out);
	ck_assert_msg(strstr(out, "step cold: interrupted (SIGINT") &&
		      !strstr(out, "step accuracy: start"), "%s", out);
	free(out);
	ck_assert_msg(kill(srv, 0) == -1 && errno == ESRCH, "server %d still there", srv);
	snprintf(path, sizeof path, "%s/work/h200/status/accuracy.tsv", g_dir);
	char *acc = tu_read_file(path, NULL);
	ck_assert_msg(acc && !strncmp(acc, "not run: interrupted (SIGINT)", 29), "%s", acc ? acc : "");
	free(acc);
	snprintf(cmd, sizeof cmd, "tar -xOzf %s/out/h200.tar.gz ./run.md", g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "| cold | interrupted (SIGINT; what it wrote is kept) |") &&
		      strstr(out, "| accuracy | not run: interrupted (SIGINT) |"), "%s", out);
	free(out);
}
END_TEST

/* Ctrl-C while llama-server builds (a fake cmake that sleeps, writing its
 * pid): timeout ran the build in a process group of its own, out of the
 * terminal's reach, so the run went on building for its whole time box.
 * Now the build stops, with its cmake, the build is recorded as
 * interrupted in run.md, packed into $OUT, and the run exits 130. */
START_TEST(ctrl_c_stops_the_build)
{
	mkscratch();
	char cmd[16384], path[1024], *out;
	snprintf(cmd, sizeof cmd,
		 "set -e; d=%s; mkdir -p $d/pack $d/t/bin $d/s/models $d/fake $d/out && "
		 "printf '#!/bin/sh\nexit 0\n' > $d/t/bin/ttft-probe && "
		 "cp $d/t/bin/ttft-probe $d/t/bin/curl && chmod +x $d/t/bin/* && "
		 "tar -czf $d/pack/tools.tar.gz -C $d/t bin && "
		 "echo vocab > $d/s/models/ggml-vocab-qwen2.gguf && "
		 "tar -czf $d/pack/llama-80fb11a.tar.gz -C $d/s models && "
		 "printf '#!/bin/sh\n[ \"$1\" = --build ] || exit 0\nsleep 300 &\n"
		 "echo \"cmake $$ $!\" >> %s/pids\nwait\n' > $d/fake/cmake && "
		 "chmod +x $d/fake/cmake",
		 g_dir, g_dir);
	ck_assert_msg(tu_sh(cmd, NULL) == 0, "%s", cmd);
	char work[600], pack[600], outd[600], pathv[700], log[600], pids[600];
	snprintf(work, sizeof work, "GPU_DAY_WORK=%s/work", g_dir);
	snprintf(pack, sizeof pack, "GPU_DAY_PACK=%s/pack", g_dir);
	snprintf(outd, sizeof outd, "OUT=%s/out", g_dir);
	snprintf(pathv, sizeof pathv, "PATH=%s/fake:/usr/bin:/bin", g_dir);
	snprintf(log, sizeof log, "%s/run.txt", g_dir);
	snprintf(pids, sizeof pids, "%s/pids", g_dir);
	char *argv[] = {"env", "-u", "TTFT_LLAMA_SERVER", work, pack, outd, pathv, "bash",
			"tools/gpu_day.sh", "all", "env", NULL};
	pid_t g = tu_spawn_group(argv, log);
	char got[64];
	int up = tu_wait_line(pids, "cmake ", got, sizeof got, 60, g);
	int cm = 0, child = 0;
	sscanf(got, "%d %d", &cm, &child);
	if (up == 0)
		kill(-g, SIGINT);
	int st = 0, done = tu_wait_exit(g, 60, &st);
	int left = !(cm > 0 && child > 0 && tu_wait_gone(cm, child, 10));
	if (cm > 0)
		kill(cm, SIGKILL);
	if (child > 0)
		kill(child, SIGKILL);
	out = tu_read_file(log, NULL);
	ck_assert_msg(up == 0, "the build never started: %s", out);
	ck_assert_msg(done && WIFEXITED(st) && WEXITSTATUS(st) == 130,
		      "%s; status 0x%x: %s", done ? "ended" : "still running after 60 s", st, out);
	ck_assert_msg(!left, "the build (cmake %d, its child %d) still runs: %s", cm, child, out);
	ck_assert_msg(strstr(out, "interrupted (SIGINT) during the build") &&
		      !strstr(out, "step env: start") && !strstr(out, "error: building"),
		      "%s", out);
	free(out);
	snprintf(path, sizeof path, "%s/work/build.status", g_dir);
	char *bs = tu_read_file(path, NULL);
	ck_assert_msg(bs && !strncmp(bs, "interrupted (SIGINT)\t", 21), "%s", bs ? bs : "(none)");
	free(bs);
	snprintf(cmd, sizeof cmd, "tar -xOzf %s/out/h200.tar.gz ./run.md", g_dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "| build | interrupted (SIGINT) |"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gpu_day");
	TCase *t = tu_tcase(s, "gpu_day", 120);
	tcase_add_test(t, accuracy_chain_on_fixture);
	tcase_add_test(t, accuracy_never_guesses);
	tcase_add_test(t, script_boxes_records_and_packs);
	tcase_add_test(t, ctrl_c_stops_the_run);
	tcase_add_test(t, ctrl_c_stops_the_build);
	return tu_run(s);
}
