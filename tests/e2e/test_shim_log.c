/* test_shim_log.c — whatever happens to the log, the host is unharmed:
 * emptied or deleted while a client streams, a filesystem too small for it,
 * an address-space limit, a relative path and a chdir; and the host's own
 * SIGBUS handling is what it was without the shim. */
#include <check.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_logread.h"

static int g_port;
static pid_t g_srv;

/* fd_host's server, which dies with the test (tu_spawn). */
static void setup(void)
{
	g_port = tu_fd_host_start(&g_srv);
}

static void teardown(void)
{
	tu_stop(g_srv);
}

/* Published records in the log at path (0 when it is not a log). */
static uint64_t records(const char *path)
{
	struct ttft_log_view v;
	char err[512];
	if (ttft_log_view_open(&v, path, err, sizeof err) != 0)
		return 0;
	struct ttft_rec r;
	uint64_t n = 0;
	for (uint64_t i = 0; i < v.n_slots; i++)
		n += (uint64_t)ttft_log_view_get(&v, i, &r);
	ttft_log_view_close(&v);
	return n;
}

static int requests_in(const char *path)
{
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), path);
	tu_sh(cmd, &out);
	int n = 0;
	for (char *p = out; (p = strstr(p, "\"method\":")); p++)
		n++;
	free(out);
	return n;
}

/* Start curl streaming 40 tokens 10 ms apart under the shim, wait until it
 * is writing to the log, do something to the log, then check curl got its
 * whole stream and exit status 0. */
static void stream_while(const char *what)
{
	char log[256], out[300], errf[300], cmd[2048];
	tu_tmp_log(log, sizeof log, "cut");
	snprintf(out, sizeof out, "%s.out", log);
	snprintf(errf, sizeof errf, "%s.err", log);
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so curl -sN "
		 "http://127.0.0.1:%d/v1/completions?tokens=40\\&ms=10 -d '{}' "
		 ">%s 2>%s", log, tu_build_dir(), g_port, out, errf);
	pid_t c = fork();
	if (c == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* writing: the request and the first tokens are in the log */
	for (int i = 0; i < 400 && records(log) < 8; i++)
		usleep(5000);
	ck_assert_uint_ge(records(log), 8);
	if (strcmp(what, "empty") == 0)
		ck_assert_int_eq(truncate(log, 0), 0);
	else
		ck_assert_int_eq(unlink(log), 0);
	int st;
	waitpid(c, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "curl did not survive the log being %s: status %d", what, st);
	size_t n;
	char *body = tu_read_file(out, &n);
	int tokens = 0;
	for (char *p = body; (p = strstr(p, "\"text\":\" t")); p++)
		tokens++;
	ck_assert_int_eq(tokens, 40);
	ck_assert_msg(strstr(body, "data: [DONE]") != NULL, "%s", body);
	char *err = tu_read_file(errf, NULL);
	if (strcmp(what, "empty") == 0) {
		/* what was lost is said, with a count */
		ck_assert_msg(strstr(err, "was truncated while in use") &&
			      strstr(err, "later events"), "%s", err);
	} else {
		ck_assert_msg(err[0] == 0, "%s", err);
	}
	free(body);
	free(err);
	unlink(log);
	unlink(out);
	unlink(errf);
}

START_TEST(emptying_a_live_log_harms_no_host)
{
	stream_while("empty");
}
END_TEST

START_TEST(deleting_a_live_log_harms_no_host)
{
	stream_while("delete");
}
END_TEST

/* A program that closed its stderr holds something of its own on fd 2
 * (here its data file: the lowest free number). Its log emptied under it,
 * the shim has something to say at exit; it must not say it into that
 * file. Before: the data file ended in the three "ttftshim: the log …
 * was truncated while in use" lines after the program's "data". The
 * program still gets both streams, and exits 0. */
START_TEST(a_reused_stderr_gets_no_words_of_the_shims)
{
	char log[256], data[300], cmd[2048], *out;
	tu_tmp_log(log, sizeof log, "stderr");
	snprintf(data, sizeof data, "%s.data", log);
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s/fd_host stderr-reused %d %s",
		 log, tu_build_dir(), tu_build_dir(), g_port, data);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	/* it ran as meant: fd 2 was its file, the log was cut between two
	 * whole streams */
	ck_assert_msg(strstr(out, "data_fd 2\n") && strstr(out, "truncated 0\n"), "%s", out);
	char *first = strstr(out, "tokens 3\n");
	ck_assert_msg(first && strstr(first + 1, "tokens 3\n"), "%s", out);
	size_t n;
	char *text = tu_read_file(data, &n);
	ck_assert_msg(n == 5 && memcmp(text, "data\n", 5) == 0,
		      "the program's fd 2 got %zu bytes: '%s'", n, text);
	free(text);
	free(out);
	unlink(data);
	unlink(log);
}
END_TEST

/* The host's own SIGBUS (its own mapped file truncated) reaches its own
 * handler, and sigaction shows it its own handler; with no handler it dies
 * of SIGBUS as before. Same output with and without the shim. */
/* fd_host's stdout without its "pid N" line. */
static void drop_pid_line(char *out)
{
	if (strncmp(out, "pid ", 4) == 0) {
		char *nl = strchr(out, '\n');
		memmove(out, nl ? nl + 1 : out + strlen(out), strlen(nl ? nl + 1 : "") + 1);
	}
}

START_TEST(host_sigbus_handling_is_its_own)
{
	char log[256], shim[512];
	tu_tmp_log(log, sizeof log, "bus");
	snprintf(shim, sizeof shim, "%s/libttftshim.so", tu_build_dir());
	setenv("TTFT_TEST_SHIM", shim, 1);
	setenv("TTFT_LOG", log, 1);
	const char *modes[] = {"handled", "default"};
	for (int i = 0; i < 2; i++) {
		char cmd[1024], *out[2];
		int rc[2];
		for (int shim = 0; shim < 2; shim++) {
			/* "; exit $?": the shell reports a death by signal N
			 * as 128+N instead of exec'ing the command */
			snprintf(cmd, sizeof cmd,
				 "%s %s/fd_host sigbus %d %s 2>/dev/null; exit $?",
				 shim ? "LD_PRELOAD=$TTFT_TEST_SHIM" : "", tu_build_dir(),
				 g_port, modes[i]);
			rc[shim] = tu_sh(cmd, &out[shim]);
			drop_pid_line(out[shim]);
		}
		ck_assert_int_eq(rc[0], rc[1]);
		ck_assert_str_eq(out[0], out[1]);
		if (i == 0) {
			ck_assert_int_eq(rc[0], 0);
			ck_assert_msg(strstr(out[0], "handler_is_mine 1") &&
				      strstr(out[0], "own_fault_seen 1"), "%s", out[0]);
		} else {
			/* no handler: the host dies of SIGBUS, both ways (under
			 * make sanitize, AddressSanitizer's own SIGBUS report
			 * ends it instead, both ways) */
			ck_assert_msg(rc[0] == 128 + SIGBUS ||
				      (getenv("ASAN_OPTIONS") && rc[0] != 0),
				      "status %d", rc[0]);
			ck_assert_msg(!strstr(out[0], "not_reached"), "%s", out[0]);
		}
		free(out[0]);
		free(out[1]);
	}
	unsetenv("TTFT_LOG");
	unlink(log);
}
END_TEST

/* A host that ignores SIGBUS hands the ignore to what it runs: exec keeps
 * an ignored signal ignored (the shim's handler, a caught one, became the
 * default there: a child killed by a SIGBUS its parent meant it to
 * ignore). Through execve (the shell), fork+exec (subprocess), popen()
 * and posix_spawn. */
START_TEST(an_ignored_sigbus_is_inherited)
{
	char log[256], cmd[8192], *out[2], dir[4096];
	int rc[2];
	tu_tmp_log(log, sizeof log, "busign");
	ck_assert_ptr_nonnull(realpath(tu_build_dir(), dir));
	for (int shim = 0; shim < 2; shim++) {
		snprintf(cmd, sizeof cmd,
			 "TTFT_LOG=%s %s=%s/libttftshim.so bash -c \"trap '' BUS; "
			 "sh -c 'kill -BUS \\$\\$; echo exec'; python3 -c '"
			 "import os, subprocess\n"
			 "subprocess.run([\\\"sh\\\", \\\"-c\\\", \\\"kill -BUS \\$\\$; echo fork-exec\\\"])\n"
			 "os.popen(\\\"kill -BUS \\$\\$; echo popen\\\").read() == \\\"popen\\\\n\\\" and print(\\\"popen\\\", flush=True)\n"
			 "os.posix_spawn(\\\"/bin/sh\\\", [\\\"sh\\\", \\\"-c\\\", \\\"kill -BUS \\$\\$; echo spawn\\\"], os.environ)\n"
			 "os.wait()'\" 2>&1",
			 log, shim ? "LD_PRELOAD" : "TTFT_UNUSED", dir);
		rc[shim] = tu_sh(cmd, &out[shim]);
	}
	ck_assert_msg(rc[0] == 0 && !strcmp(out[0], "exec\nfork-exec\npopen\nspawn\n"),
		      "the check itself does not hold here (%d): %s", rc[0], out[0]);
	ck_assert_int_eq(rc[1], rc[0]);
	ck_assert_str_eq(out[1], out[0]);
	free(out[0]);
	free(out[1]);
	unlink(log);
}
END_TEST

/* A relative TTFT_LOG means the directory the program started in, also for
 * what it runs after a chdir. */
START_TEST(relative_log_survives_chdir)
{
	char dir[256], cmd[2048], path[512];
	snprintf(dir, sizeof dir, "%s/rel", tu_scratch());
	snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/sub", dir, dir);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char build[512];
	ck_assert_ptr_nonnull(realpath(tu_build_dir(), build));
	snprintf(cmd, sizeof cmd,
		 "cd %s && TTFT_LOG=rel.log LD_PRELOAD=%s/libttftshim.so sh -c "
		 "'cd sub && curl -s http://127.0.0.1:%d/v1/completions -d x >/dev/null' && "
		 "%s/ttft-run --quiet --log run.log -- sh -c "
		 "'cd sub && curl -s http://127.0.0.1:%d/v1/completions -d x >/dev/null'",
		 dir, build, g_port, build, g_port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	snprintf(path, sizeof path, "%s/rel.log", dir);
	ck_assert_int_eq(requests_in(path), 1);
	snprintf(path, sizeof path, "%s/run.log", dir);
	ck_assert_int_eq(requests_in(path), 1);
	struct stat st;
	snprintf(path, sizeof path, "%s/sub/rel.log", dir);
	ck_assert_int_ne(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/sub/run.log", dir);
	ck_assert_int_ne(stat(path, &st), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
}
END_TEST

static long vmsize_kb(const char *env)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s %s/fd_host vm %d", env, tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	char *p = strstr(out, "vmsize_kb ");
	ck_assert_ptr_nonnull(p);
	long kb = atol(p + 10);
	free(out);
	return kb;
}

/* Under ulimit -v, the shim costs the host its tables and the log segments
 * it writes, not the whole log: a limit 16 MB above what the host needs
 * with the shim loaded leaves tracing on, for the default log and for a
 * 1 GiB one. */
START_TEST(address_space_limit_keeps_tracing)
{
	char env[512];
	snprintf(env, sizeof env, "TTFT_DISABLE=1 LD_PRELOAD=%s/libttftshim.so",
		 tu_build_dir());
	long base = vmsize_kb(env);
	/* 64 MiB: 1 MiB segments, silent. 1024: 2 MiB segments, and the
	 * creator is told that every traced process maps one. 65536: 128 MiB
	 * segments do not fit the limit: the records are dropped (counted:
	 * no room to map, unwritable), the host runs as ever. */
	const char *mbs[] = {"64", "1024", "65536"};
	for (int i = 0; i < 3; i++) {
		char log[256], cmd[2048], *out;
		tu_tmp_log(log, sizeof log, "ulimit");
		snprintf(cmd, sizeof cmd,
			 "ulimit -v %ld && TTFT_LOG_MB=%s TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so "
			 "%s/fd_host stream %d 2>&1", base + 16 * 1024, mbs[i], log,
			 tu_build_dir(), tu_build_dir(), g_port);
		ck_assert_int_eq(tu_sh(cmd, &out), 0);
		ck_assert_msg(strstr(out, "tokens 3"), "%s", out);
		if (i == 0)
			ck_assert_msg(!strstr(out, "ttftshim:"), "%s", out);
		if (i == 1)
			ck_assert_msg(strstr(out, "every traced process maps at least one"),
				      "%s", out);
		free(out);
		if (i < 2) {
			ck_assert_int_eq(requests_in(log), 1);
		} else {
			char an[600], *js;
			snprintf(an, sizeof an, "%s/ttft-analyze --json %s", tu_build_dir(), log);
			tu_sh(an, &js);
			char *d = strstr(js, "\"dropped\":"), *u = strstr(js, "\"dropped_no_room\":");
			ck_assert_msg(d && u && atol(d + 10) > 0 && atol(u + 18) == atol(d + 10),
				      "%s", js);
			free(js);
		}
		unlink(log);
	}
}
END_TEST

/* A filesystem smaller than the log: events that do not fit are counted as
 * dropped (the analyzer says so), none is half-written, the host is fine.
 * A 3 MiB tmpfs in a private mount namespace holds the header and two
 * 1 MiB segments; the stream has 600000 token events, read 150 bytes a
 * read (less than an event: each token read alone, their times kept
 * TTFT_TIMES_MAX to a record, ~35,300 records, as a run needs a read of
 * several). */
/* TTFT_LOG naming a terminal: a session leader that had no controlling
 * terminal still has none (the log was opened without O_NOCTTY, and the
 * terminal became its controlling one); only a regular file is opened. */
START_TEST(a_terminal_log_path_is_not_opened)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_ctty.py %s/libttftshim.so",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "without shim: no controlling tty"),
		      "the check itself does not hold here: %s", out);
	ck_assert_msg(strstr(out, "with shim: no controlling tty"), "%s", out);
	free(out);
}
END_TEST

/* A file size limit (ulimit -f) below the log's size: growing the file
 * past it would raise SIGXFSZ, whose default action had killed the host
 * before its main (exit 153, nothing printed) and left the .tmp file. No
 * log then: the host runs as without the shim, nothing is left beside the
 * path, the reason is said; ttft-run refuses before CMD runs. */
START_TEST(a_file_size_limit_kills_no_host)
{
	char dir[256], cmd[2048], *out;
	snprintf(dir, sizeof dir, "%s/fsize", tu_scratch());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(cmd, sizeof cmd, "ulimit -f 1024; TTFT_LOG=%s/x.log LD_PRELOAD=%s/libttftshim.so "
		 "/bin/echo hello 2>&1", dir, tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "hello") && strstr(out, "file size limit (ulimit -f)"), "%s",
		      out);
	free(out);
	snprintf(cmd, sizeof cmd, "ulimit -f 1024; %s/ttft-run --log %s/y.log -- /bin/echo hi 2>&1",
		 tu_build_dir(), dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 2);
	ck_assert_msg(strstr(out, "file size limit") && !strstr(out, "hi\n"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "ls -A %s", dir);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(out[0] == 0, "left behind: %s", out);
	free(out);
}
END_TEST

START_TEST(log_larger_than_its_filesystem)
{
	char dir[256], cmd[4096], *out;
	/* root makes its own mount namespace (a chroot refuses user
	 * namespaces); a user needs a user namespace for it */
	const char *ns = geteuid() == 0 ? "-m" : "-rm";
	snprintf(dir, sizeof dir, "%s/small", tu_scratch());
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s && unshare %s sh -c 'mount -t tmpfs -o size=4m none %s && "
		 "TTFT_LOG=%s/x.log LD_PRELOAD=%s/libttftshim.so %s/fd_host stream %d "
		 "\"tokens=600000&read=150\" && stat -f -c \"free %%a of %%b\" %s && "
		 "%s/ttft-analyze --json %s/x.log'; echo rc=$?; rmdir %s",
		 dir, ns, dir, dir, tu_build_dir(), tu_build_dir(), g_port, dir,
		 tu_build_dir(), dir, dir);
	tu_sh(cmd, &out);
	ck_assert_msg(strstr(out, "unshare:") == NULL,
		      "this test needs a mount namespace (unshare %s): %s", ns, out);
	/* the host got everything; the log kept what fit and counted the rest */
	ck_assert_msg(strstr(out, "tokens 600000"), "%s", out);
	/* and left a quarter of the filesystem free for the programs (it
	 * filled it: a host's own file there failed with ENOSPC) */
	const char *fr = strstr(out, "free ");
	long avail = -1, blocks = -1;
	ck_assert_msg(fr && sscanf(fr, "free %ld of %ld", &avail, &blocks) == 2 &&
		      blocks > 0 && avail * 4 >= blocks, "%s", out);
	char *d = strstr(out, "\"dropped\":");
	ck_assert_msg(d && atol(d + 10) > 3000, "%s", out);
	/* analyze exits 0 or 1 (data lost), never 2 (unreadable) */
	ck_assert_msg(strstr(out, "rc=0") || strstr(out, "rc=1"), "%s", out);
	free(out);
}
END_TEST

/* A signal that interrupts the allocation of a log segment (tmpfs gives a
 * fallocate up at a pending signal: a host whose interval timer fires
 * faster than the call takes) costs no record: the allocation is tried
 * again. Before, the whole segment failed at the first EINTR and every
 * record meant for it was dropped (a review). eintr_falloc.so, preloaded
 * before the shim, interrupts every other fallocate. */
START_TEST(an_interrupted_segment_allocation_drops_nothing)
{
	char log[256], cmd[2048], *out;
	tu_tmp_log(log, sizeof log, "eintr-falloc");
	unlink(log);
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s TTFT_LOG_MB=4 LD_PRELOAD='%s/eintr_falloc.so %s/libttftshim.so' "
		 "%s/fd_host stream %d \"tokens=30000\" && %s/ttft-analyze --json %s; echo rc=$?",
		 log, tu_build_dir(), tu_build_dir(), tu_build_dir(), g_port, tu_build_dir(), log);
	tu_sh(cmd, &out);
	unlink(log);
	ck_assert_msg(strstr(out, "tokens 30000"), "%s", out);
	char *d = strstr(out, "\"dropped\":");
	ck_assert_msg(d && atol(d + 10) == 0, "records dropped: %.300s", d ? d : out);
	ck_assert_msg(strstr(out, "\"complete\":true") && strstr(out, "rc=0"), "%s", out);
	free(out);
}
END_TEST

/* ttft-run -- sh -c 'curl … &': the shell exits at once, curl streams on.
 * ttft-run waits for it, so its request is in the analysis. */
START_TEST(ttft_run_waits_for_background_children)
{
	char js[256], cmd[2048], *out;
	tu_tmp_log(js, sizeof js, "bgjson");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet --json %s -- sh -c 'curl -s "
		 "http://127.0.0.1:%d/v1/completions?tokens=5\\&ms=60 -d x >/dev/null &' 2>&1",
		 tu_build_dir(), js, g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "still run and write to the log; waiting"), "%s", out);
	free(out);
	char *text = tu_read_file(js, NULL);
	unlink(js);
	ck_assert_msg(strstr(text, "\"count\":1") && strstr(text, "\"tokens\":5"), "%s", text);
	free(text);
}
END_TEST

/* SIGTERM while ttft-run waits for the background: it stops waiting,
 * keeps the log and says so, as on Ctrl-C (it went on waiting, and passed
 * the signal on to CMD's pid, reaped by then: anyone's). Ordering, not
 * time: the background child is still alive when ttft-run has ended. */
START_TEST(ttft_run_sigterm_stops_waiting)
{
	char pidf[256], errf[256], cmd[2048], *out;
	tu_tmp_log(pidf, sizeof pidf, "bgpid");
	tu_tmp_log(errf, sizeof errf, "bgerr");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run -q -- sh -c 'sleep 60 & echo $! > %s' 2>%s & tr=$!; "
		 "for i in $(seq 1 600); do grep -q 'stops waiting' %s && break; "
		 "sleep 0.05; done; kill -TERM $tr; wait $tr; echo rc=$?; "
		 "if kill -0 $(cat %s) 2>/dev/null; then echo child-alive; fi; "
		 "kill $(cat %s) 2>/dev/null; cat %s",
		 tu_build_dir(), pidf, errf, errf, pidf, pidf, errf);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "child-alive"), "%s", out);
	ck_assert_msg(strstr(out, "rc=0"), "%s", out);
	char *kept = strstr(out, "still write to ");
	ck_assert_msg(kept, "%s", out);
	kept += strlen("still write to ");
	kept[strcspn(kept, ":")] = 0;
	ck_assert_msg(!strncmp(kept, "/dev/shm/ttft-run.", 18), "%s", kept);
	ck_assert_int_eq(unlink(kept), 0);
	free(out);
	unlink(pidf);
	unlink(errf);
}
END_TEST

/* A request sent whole by one call is one record (its req_begin flagged
 * sent, carrying the req_sent's bytes and time); one whose body goes out
 * later (here by sendfile, unseen) keeps its two. fd_host sendfile sends
 * "POST /one" (head only, body by sendfile) then "POST /two" whole; the
 * records follow the client's own order (one thread), and the analysis
 * has both requests' send spans. */
START_TEST(a_request_sent_whole_is_one_record)
{
	char log[256], cmd[1024], *out;
	tu_tmp_log(log, sizeof log, "whole");
	snprintf(cmd, sizeof cmd, "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s/fd_host sendfile %d",
		 log, tu_build_dir(), tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "tokens 3\ntokens 3"), "%s", out);
	free(out);
	static const char two[] = "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n"
				  "{\"stream\":true}";
	struct ttft_log_view v;
	char err[512];
	ck_assert_int_eq(ttft_log_view_open(&v, log, err, sizeof err), 0);
	struct ttft_rec r, seen[8];
	int n = 0;
	for (uint64_t i = 0; i < v.n_slots; i++) {
		ck_assert_int_eq(ttft_log_view_get(&v, i, &r), 1);
		if ((r.kind == TTFT_EV_REQ_BEGIN || r.kind == TTFT_EV_REQ_SENT) && n < 8)
			seen[n++] = r;
	}
	ttft_log_view_close(&v);
	ck_assert_int_eq(n, 3);
	/* POST /one: begun by the head's send, sent when sendfile returned */
	ck_assert_uint_eq(seen[0].kind, TTFT_EV_REQ_BEGIN);
	ck_assert_str_eq(seen[0].text, "POST /one");
	ck_assert_uint_eq(seen[0].flags & TTFT_F_SENT, 0);
	ck_assert_uint_eq(seen[1].kind, TTFT_EV_REQ_SENT);
	ck_assert_uint_eq(seen[1].seq, 0);
	ck_assert_int_ge(seen[1].t_ns, seen[0].t_ns);
	/* POST /two: one record, the bytes of the whole request, sent after
	 * it began */
	ck_assert_uint_eq(seen[2].kind, TTFT_EV_REQ_BEGIN);
	ck_assert_str_eq(seen[2].text, "POST /two");
	ck_assert_uint_eq(seen[2].seq, 1);
	ck_assert_uint_eq(seen[2].flags & TTFT_F_SENT, TTFT_F_SENT);
	ck_assert_int_eq(seen[2].a, (int64_t)sizeof two - 1);
	ck_assert_int_ge(seen[2].b, seen[2].t_ns);
	ck_assert_int_ge(seen[2].t_ns, seen[1].t_ns);
	/* the analysis reads it as a req_begin and its req_sent */
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 2);
	cJSON *q;
	cJSON_ArrayForEach(q, reqs) {
		cJSON *send = cJSON_GetObjectItem(q, "send_s");
		ck_assert_msg(cJSON_IsNumber(send) && send->valuedouble >= 0, "%s", out);
		ck_assert_int_eq(cJSON_GetObjectItem(q, "tokens")->valueint, 3);
	}
	ck_assert_double_eq_tol(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "send_s")->valuedouble,
				(double)(seen[2].b - seen[2].t_ns) / 1e9, 1e-9);
	cJSON_Delete(j);
	free(out);
	unlink(log);
}
END_TEST

/* The token events one read delivers whole are one record flagged run
 * (log version 4): fd_host burst takes a response of 40 token events by
 * one recv; the records stand for exactly its 40 tokens, numbered in
 * order, at that read's time, in far fewer records than tokens; the
 * analysis counts 40 tokens, their gaps 0 (one read), as it did with one
 * record a token. */
START_TEST(a_read_of_token_events_is_one_record)
{
	char log[256], cmd[1024], *out;
	tu_tmp_log(log, sizeof log, "run");
	snprintf(cmd, sizeof cmd, "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s/fd_host burst %d 40",
		 log, tu_build_dir(), tu_build_dir(), g_port);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "tokens 40\n"), "%s", out);
	free(out);
	struct ttft_log_view v;
	char err[512];
	ck_assert_int_eq(ttft_log_view_open(&v, log, err, sizeof err), 0);
	struct ttft_rec r;
	int recs = 0, runs = 0;
	int64_t covered = 0, t = 0;
	for (uint64_t i = 0; i < v.n_slots; i++) {
		ck_assert_int_eq(ttft_log_view_get(&v, i, &r), 1);
		if (r.kind != TTFT_EV_SSE_TOKEN)
			continue;
		ck_assert_int_eq(r.b, covered);
		if (recs++ == 0)
			t = r.t_ns;
		ck_assert_int_eq(r.t_ns, t); /* the one read's time */
		if (r.flags & TTFT_F_RUN) {
			runs++;
			ck_assert_int_ge(r.a, 2);
			covered += r.a;
		} else {
			covered++;
		}
	}
	ttft_log_view_close(&v);
	ck_assert_int_eq(covered, 40);
	ck_assert_int_eq(runs, 1);
	ck_assert_int_le(recs, 3); /* the first events make the template */
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	cJSON *j = cJSON_Parse(out);
	ck_assert_ptr_nonnull(j);
	cJSON *reqs = cJSON_GetObjectItem(j, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 1);
	cJSON *q = cJSON_GetArrayItem(reqs, 0);
	ck_assert_msg(cJSON_GetObjectItem(q, "tokens")->valueint == 40, "%s", out);
	/* all 40 at the one read's time: every gap 0 (its p99 needs 100
	 * gaps: null, docs/phases.md) */
	cJSON *itl = cJSON_GetObjectItem(q, "itl_p50_s");
	ck_assert_msg(cJSON_IsNumber(itl) && itl->valuedouble == 0, "%s", out);
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(q, "itl_p99_s")), "%s", out);
	cJSON_Delete(j);
	free(out);
	unlink(log);
}
END_TEST

/* Token times kept: a response's later token events, read one by one,
 * are written several to a record (TTFT_F_TIMES). Against the host's own
 * clock (fd_host times: each token's read, bracketed), for each way a
 * stream can stop being read: every token the host read is in the log
 * once, numbered in order, at a time inside its read's bracket; none it
 * did not read. end: read whole (and in far fewer records than tokens);
 * close: the socket closed mid-stream (the close writes them); exit: the
 * process ends with it open (the exit writes them); exec: the image
 * replaced (the exec writes them); fork: a child made mid-stream ends by
 * exit() (the kept times are its parent's: written once, by the parent);
 * rawfork: the same by syscall(SYS_fork), which no atfork handler sees;
 * thread: another thread reads the rest and the end (times kept by the
 * first, the end read by the second: the end still after every token);
 * child: a fork child reads on (the parent's connection, not adopted)
 * and ends by exit() mid-stream (its exit writes the times it kept).
 * The analysis counts the same tokens. */
static void check_times(const char *mode, int k, int n)
{
	char log[256], cmd[1024], *out;
	tu_tmp_log(log, sizeof log, "times");
	snprintf(cmd, sizeof cmd,
		 "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s/fd_host times %d '%s %d %d'",
		 log, tu_build_dir(), tu_build_dir(), g_port, mode, k, n);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	int seen = -1;
	/* the last count said (fork says one at the fork, one at the end) */
	const char *p = NULL;
	for (const char *q = out; (q = strstr(q, "tokens ")); q++)
		p = q;
	ck_assert_msg(p && sscanf(p, "tokens %d", &seen) == 1 && seen > 0, "%s: %s", mode, out);
	int64_t *lo = calloc((size_t)n, sizeof *lo), *hi = calloc((size_t)n, sizeof *hi);
	int *got = calloc((size_t)n, sizeof *got);
	int64_t *at = calloc((size_t)n, sizeof *at);
	ck_assert(lo && hi && got && at);
	for (const char *q = out; (q = strstr(q, "tok ")); q++) {
		int i;
		long long a, b;
		if (sscanf(q, "tok %d %lld %lld", &i, &a, &b) == 3 && i >= 0 && i < n) {
			lo[i] = a;
			hi[i] = b;
		}
	}
	struct ttft_log_view v;
	char err[512];
	ck_assert_int_eq(ttft_log_view_open(&v, log, err, sizeof err), 0);
	struct ttft_rec r;
	int recs = 0, kept = 0;
	uint64_t end_at = 0; /* the response's end: its slot + 1 */
	for (uint64_t i = 0; i < v.n_slots; i++) {
		ck_assert_int_eq(ttft_log_view_get(&v, i, &r), 1);
		if (r.kind == TTFT_EV_RESP_END && !end_at)
			end_at = i + 1;
		if (r.kind != TTFT_EV_SSE_TOKEN)
			continue;
		/* its end is written after every token of it (a follower
		 * hands the row out at the end) */
		ck_assert_msg(!end_at, "%s: token %lld logged after the response's end",
			      mode, (long long)r.b);
		recs++;
		int64_t cnt = 1;
		uint32_t d[TTFT_TIMES_MAX] = {0};
		if (r.flags & TTFT_F_TIMES) {
			kept++;
			cnt = r.a;
			ck_assert_int_ge(cnt, 2);
			ck_assert_int_le(cnt, TTFT_TIMES_MAX);
			memcpy(d + 1, r.text, sizeof r.text);
		} else if (r.flags & TTFT_F_RUN) {
			cnt = r.a;
		}
		for (int64_t j = 0; j < cnt; j++) {
			int64_t idx = r.b + j;
			ck_assert_msg(idx >= 0 && idx < seen, "%s: token %lld logged, the host read %d",
				      mode, (long long)idx, seen);
			got[idx]++;
			at[idx] = r.t_ns + ((r.flags & TTFT_F_TIMES) ? (int64_t)d[j] : 0);
		}
	}
	ttft_log_view_close(&v);
	for (int i = 0; i < seen; i++) {
		ck_assert_msg(got[i] == 1, "%s: token %d logged %d times: %s", mode, i, got[i], out);
		ck_assert_msg(lo[i] && at[i] >= lo[i] && at[i] <= hi[i],
			      "%s: token %d at %lld, outside its read [%lld, %lld]", mode, i,
			      (long long)at[i], (long long)lo[i], (long long)hi[i]);
	}
	/* every read that succeeded left the host's errno as it was (the
	 * last said: the end's, or the last before a close or exit) */
	const char *ec = NULL;
	for (const char *q = out; (q = strstr(q, "errno_changed ")); q++)
		ec = q;
	int changed = -1;
	ck_assert_msg(ec && sscanf(ec, "errno_changed %d", &changed) == 1 && changed == 0,
		      "%s: reads that changed the host's errno: %d: %s", mode, changed, out);
	/* a fork child's memory: the fork made it touch next to none (the
	 * shim's connection table, ~1 MB, is not written there) */
	const char *fr = strstr(out, "forkrss ");
	long kb;
	if (fr && sscanf(fr, "forkrss %ld", &kb) == 1)
		ck_assert_msg(kb <= 128, /* less: the fork word's page, wiped */
			      "%s: the fork child has %ld kB of anonymous memory its parent had not",
			      mode, kb);
	else
		ck_assert_msg(strcmp(mode, "fork") && strcmp(mode, "rawfork"), "%s: %s", mode, out);
	if (!strcmp(mode, "end")) {
		ck_assert_int_ge(kept, 1);
		ck_assert_int_le(recs, seen / 4);
	}
	free(out);
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze --json %s", tu_build_dir(), log);
	tu_sh(cmd, &out);
	cJSON *j = cJSON_Parse(out);
	ck_assert_msg(j, "%s", out);
	cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert_msg(q && cJSON_GetObjectItem(q, "tokens")->valueint == seen, "%s: %s", mode, out);
	cJSON_Delete(j);
	free(out);
	free(lo), free(hi), free(got), free(at);
	unlink(log);
}

/* A fork child's memory is its own as without the shim: the child drops
 * the kept token times it copied by writing only the entries that hold
 * some (found writing every entry of the ~1 MB table: each child dirtied
 * ~1 MB more than without the shim). The child's private dirty kB right
 * after os.fork(), with the shim and without, within 256 kB (python's own
 * run-to-run spread is ~20 kB). */
static long child_dirty(const char *pre)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s python3 tests/clients/py_fork_memory.py", pre);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	long kb = -1;
	const char *c = strstr(out, "child ");
	ck_assert_msg(c && sscanf(c, "child %ld", &kb) == 1 && kb > 0, "%s", out);
	free(out);
	return kb;
}

START_TEST(a_fork_child_writes_no_table)
{
	char log[256], pre[768];
	tu_tmp_log(log, sizeof log, "forkmem");
	snprintf(pre, sizeof pre, "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so", log,
		 tu_build_dir());
	long plain = child_dirty(""), shim = child_dirty(pre);
	ck_assert_msg(shim <= plain + 256, "a fork child: %ld kB private dirty with the shim, "
		      "%ld without", shim, plain);
	unlink(log);
}
END_TEST

START_TEST(kept_token_times_are_the_reads_own)
{
	check_times("end", 0, 60);
	check_times("close", 25, 60);
	check_times("exit", 25, 60);
	check_times("exec", 25, 60);
	check_times("fork", 25, 60);
	check_times("rawfork", 25, 60);
	check_times("thread", 25, 30);
	check_times("sthread", 25, 60);
	check_times("child", 20, 60);
}
END_TEST

/* A writer in another time namespace (a container's, CRIU's) whose
 * CLOCK_MONOTONIC is 1000 s ahead of the log's: its records would stand
 * 1000 s off among the others', looking normal (seen failing: nothing
 * said, its request written beside the log's own). It writes nothing,
 * says why on stderr, and
 * runs as without the shim: same output, same status. One of the log's
 * own namespace still writes. */
START_TEST(a_writer_of_another_clock_writes_nothing)
{
	char log[256], cmd[2048], *plain, *shim;
	tu_tmp_log(log, sizeof log, "timens");
	const char *curl = "curl -s http://127.0.0.1:%d/v1/completions?tokens=3 -d '{}'";
	char c[256];
	snprintf(c, sizeof c, curl, g_port);
	snprintf(cmd, sizeof cmd, "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s", log,
		 tu_build_dir(), c);
	ck_assert_int_eq(tu_sh(cmd, &shim), 0); /* makes the log */
	free(shim);
	ck_assert_int_eq(requests_in(log), 1);
	snprintf(cmd, sizeof cmd, "unshare -rT --monotonic=1000 --fork %s 2>&1", c);
	int rc_plain = tu_sh(cmd, &plain);
	snprintf(cmd, sizeof cmd, "unshare -rT --monotonic=1000 --fork env TTFT_LOG=%s "
		 "LD_PRELOAD=%s/libttftshim.so %s 2>/dev/null", log, tu_build_dir(), c);
	ck_assert_int_eq(tu_sh(cmd, &shim), rc_plain);
	ck_assert_str_eq(shim, plain);
	ck_assert_msg(strstr(plain, "[DONE]"), "%s", plain);
	free(shim);
	snprintf(cmd, sizeof cmd, "unshare -rT --monotonic=1000 --fork env TTFT_LOG=%s "
		 "LD_PRELOAD=%s/libttftshim.so %s 2>&1 >/dev/null", log, tu_build_dir(), c);
	tu_sh(cmd, &shim);
	ck_assert_msg(strstr(shim, "another time namespace"), "%s", shim);
	free(shim);
	free(plain);
	ck_assert_int_eq(requests_in(log), 1);
	/* a namespace of its own with the log's clock (offset 0) writes */
	snprintf(cmd, sizeof cmd, "unshare -rT --fork env TTFT_LOG=%s "
		 "LD_PRELOAD=%s/libttftshim.so %s >/dev/null", log, tu_build_dir(), c);
	ck_assert_int_eq(tu_sh(cmd, &shim), 0);
	free(shim);
	ck_assert_int_eq(requests_in(log), 2);
	unlink(log);
}
END_TEST


int main(void)
{
	Suite *s = suite_create("shim_log");
	TCase *t = tu_tcase(s, "log", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, emptying_a_live_log_harms_no_host);
	tcase_add_test(t, deleting_a_live_log_harms_no_host);
	tcase_add_test(t, a_reused_stderr_gets_no_words_of_the_shims);
	tcase_add_test(t, host_sigbus_handling_is_its_own);
	tcase_add_test(t, an_ignored_sigbus_is_inherited);
	tcase_add_test(t, relative_log_survives_chdir);
	tcase_add_test(t, address_space_limit_keeps_tracing);
	tcase_add_test(t, an_interrupted_segment_allocation_drops_nothing);
	/* It mounts a small tmpfs in a namespace of its own: where that is
	 * refused (a user where unprivileged user namespaces are off, as on
	 * Ubuntu 24.04's default AppArmor policy), it is said not run, never
	 * passed. */
	if (system(geteuid() == 0 ? "unshare -m true 2>/dev/null"
		   : "unshare -rm sh -c 'mount -t tmpfs none /tmp' 2>/dev/null") == 0)
		tcase_add_test(t, log_larger_than_its_filesystem);
	else
		printf("SKIP: test_shim_log: no mount namespace here (unshare %s was "
		       "refused): 1 test not run\n",
		       geteuid() == 0 ? "-m" : "-rm");
	/* A time namespace of its own (unshare -T, Linux 5.6+, in a user
	 * namespace): where refused, said not run, never passed. */
	if (system("unshare -rT --monotonic=1000 --fork true 2>/dev/null") == 0)
		tcase_add_test(t, a_writer_of_another_clock_writes_nothing);
	else
		printf("SKIP: test_shim_log: no time namespace here (unshare -rT was "
		       "refused): 1 test not run\n");
	tcase_add_test(t, a_terminal_log_path_is_not_opened);
	tcase_add_test(t, a_file_size_limit_kills_no_host);
	tcase_add_test(t, ttft_run_waits_for_background_children);
	tcase_add_test(t, ttft_run_sigterm_stops_waiting);
	tcase_add_test(t, a_request_sent_whole_is_one_record);
	tcase_add_test(t, a_read_of_token_events_is_one_record);
	tcase_add_test(t, kept_token_times_are_the_reads_own);
	tcase_add_test(t, a_fork_child_writes_no_table);
	return tu_run(s);
}
