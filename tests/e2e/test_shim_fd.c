/* test_shim_fd.c — the shim follows a connection through everything a
 * program does with its fd: an unseen close and the number's reuse, dup
 * copies, fork (and raw forks and clones), sendfile and splice, bytes
 * discarded with MSG_TRUNC, connect() again, a refused Expect:
 * 100-continue, and bytes that are not HTTP. Each client
 * (tests/support/fd_host.c, bash, Python, Node) prints what it did; the
 * rows must say exactly that: no invented row, none missing, none merged. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
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

struct run {
	char *out;      /* the client's stdout */
	cJSON *json;    /* ttft-run --json */
	cJSON *reqs;
	int n;
};

/* Run CMD under ttft-run; its stdout and the analysis into r. */
/* cmd under ttft-run, its environment with pre ("NAME=VALUE ", or "") */
static void run_cmd_pre(struct run *r, const char *pre, const char *cmd)
{
	char js[256], line[4096];
	tu_tmp_log(js, sizeof js, "fdjson");
	snprintf(line, sizeof line, "%s%s/ttft-run --quiet --json %s %s%s", pre,
		 tu_build_dir(), js, strncmp(cmd, "--", 2) ? "-- " : "", cmd);
	int rc = tu_sh(line, &r->out);
	ck_assert_msg(rc == 0, "'%s' failed (%d):\n%s", cmd, rc, r->out);
	char *text = tu_read_file(js, NULL);
	unlink(js);
	ck_assert_ptr_nonnull(text);
	r->json = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(r->json);
	r->reqs = cJSON_GetObjectItem(r->json, "requests");
	r->n = cJSON_GetArraySize(r->reqs);
}

static void run_cmd(struct run *r, const char *cmd)
{
	run_cmd_pre(r, "", cmd);
}

static void run_host(struct run *r, const char *scenario, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s/fd_host %s %d %s", tu_build_dir(), scenario,
		 g_port, arg ? arg : "");
	run_cmd(r, cmd);
}

/* The same with ttft-run --filter SPEC. */
static void run_filtered(struct run *r, const char *scenario, const char *spec)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "--filter %s -- %s/fd_host %s %d", spec,
		 tu_build_dir(), scenario, g_port);
	run_cmd(r, cmd);
}

static void run_free(struct run *r)
{
	cJSON_Delete(r->json);
	free(r->out);
}

/* The value of the k-th "key value" line the client printed. */
static long said(const struct run *r, const char *key, int k)
{
	size_t kl = strlen(key);
	for (const char *p = r->out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ' && k-- == 0)
			return atol(p + kl + 1);
	}
	ck_abort_msg("the client did not say '%s':\n%s", key, r->out);
	return 0;
}

static cJSON *row(const struct run *r, int i)
{
	return cJSON_GetArrayItem(r->reqs, i);
}

static cJSON *row_by_path(const struct run *r, const char *path)
{
	for (int i = 0; i < r->n; i++) {
		cJSON *p = cJSON_GetObjectItem(row(r, i), "path");
		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
			return row(r, i);
	}
	ck_abort_msg("no row for %s", path);
	return NULL;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no field %s", k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1e300;
}

static int is_null(const cJSON *o, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItem(o, k));
}

/* A response that ended normally, with all its tokens, and says so. The
 * one note allowed is a pre-opened connection's, where the row's own
 * stamps justify it: on a busy machine a client (Node's event loop) can
 * take more than TTFT_PREOPEN_IDLE_NS between its connect and its send,
 * and the row then rightly says so and times TTFT from the request. */
static void assert_whole(const cJSON *q, int tokens)
{
	char *s = cJSON_PrintUnformatted(q);
	ck_assert_msg(num(q, "tokens") == tokens, "tokens: %s", s);
	ck_assert_msg(num(q, "status") == 200, "status: %s", s);
	ck_assert_msg(!is_null(q, "e2e_s") && !is_null(q, "ttft_s"), "not ended: %s", s);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")), "not complete: %s", s);
	if (cJSON_IsTrue(cJSON_GetObjectItem(q, "preopened"))) {
		/* the note's number is the same span, printed to 0.1 ms */
		const cJSON *note = cJSON_GetObjectItem(q, "note");
		double ms = -1;
		char tail[64] = "";
		ck_assert_msg(num(q, "preopen_idle_s") * 1e9 > TTFT_PREOPEN_IDLE_NS &&
			      cJSON_IsString(note) &&
			      sscanf(note->valuestring, "connection opened %lf ms %63[^\n]", &ms,
				     tail) == 2 &&
			      !strcmp(tail, "before the request") &&
			      fabs(ms - num(q, "preopen_idle_s") * 1e3) <= 0.051,
			      "pre-opened, but not said as such (or more said): %s", s);
	} else {
		ck_assert_msg(is_null(q, "note"), "not complete: %s", s);
	}
	free(s);
}

START_TEST(unseen_raw_close_then_reuse)
{
	struct run r;
	run_host(&r, "reuse-raw", NULL);
	/* the file got the socket's number: the case under test happened */
	ck_assert_int_eq(said(&r, "reused", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 3);
	run_free(&r);
}
END_TEST

START_TEST(fclose_then_reuse)
{
	struct run r;
	run_host(&r, "reuse-fclose", NULL);
	ck_assert_int_eq(said(&r, "reused", 0), 1);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 3);
	run_free(&r);
}
END_TEST

/* Whether the client said KEY at all. */
static int says(const struct run *r, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = r->out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return 1;
	return 0;
}

/* A socket closed unseen (the syscall instruction: an io_uring close is
 * one too), then its number handed out again as an fd received over a
 * Unix socket (SCM_RIGHTS) by recvmsg, recvmmsg, or syscall() for either:
 * the temp file it names gets a line that looks like a request, which
 * must not be a row of the old connection (the shim left its state on
 * the number: two rows). */
/* The case happened (the socket closed unseen, the new fd on its
 * number), and one row came of it: the request's, whole. */
static void assert_reused_once(struct run *r, const char *how)
{
	ck_assert_msg(said(r, "unseen_close", 0) == 1,
		      "fd_host cannot close unseen on this architecture:\n%s", r->out);
	ck_assert_int_eq(said(r, "reused", 0), 1);
	ck_assert_msg(r->n == 1, "%s: %d rows, 1 request made:\n%s", how, r->n, r->out);
	assert_whole(row(r, 0), 3);
	run_free(r);
}

static void reuse_received(const char *how)
{
	struct run r;
	run_host(&r, "reuse-scm", how);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(said(&r, "received", 0), 1);
	assert_reused_once(&r, how);
}

START_TEST(unseen_close_then_fd_received_by_recvmsg)
{
	reuse_received("recvmsg");
}
END_TEST

START_TEST(unseen_close_then_fd_received_by_recvmmsg)
{
	reuse_received("recvmmsg");
}
END_TEST

START_TEST(unseen_close_then_fd_received_by_syscall_recvmsg)
{
	reuse_received("sys-recvmsg");
}
END_TEST

START_TEST(unseen_close_then_fd_received_by_syscall_recvmmsg)
{
	reuse_received("sys-recvmmsg");
}
END_TEST

/* The same with the number handed out by a libc call that opens inside
 * glibc (no wrapper of its open or pipe2 runs): tmpfile, popen's kept
 * end, shm_open, posix_openpt, mkstemps. The line written to it is not
 * the closed connection's request (two rows, before). */
static void reuse_libc(const char *how)
{
	struct run r;
	run_host(&r, "reuse-libc", how);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_msg(said(&r, "written", 0) == 1, "%s:\n%s", how, r.out);
	assert_reused_once(&r, how);
}

START_TEST(unseen_close_then_fd_from_glibcs_own_opens)
{
	reuse_libc("tmpfile");
	reuse_libc("popen");
	reuse_libc("shm_open");
	reuse_libc("posix_openpt");
	reuse_libc("mkstemps");
}
END_TEST

/* The same with the number handed out by pidfd_getfd (a copy of the
 * client's own temp file's fd), through libc's function or syscall().
 * Run only where the kernel and libc have the call (pidfd_usable, at the
 * suite's start: not run, said so, where they do not); here any failure
 * of it fails. */
static void reuse_getfd(const char *how)
{
	struct run r;
	run_host(&r, "reuse-getfd", how);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_msg(!says(&r, "skip"), "pidfd call failed, errno %ld:\n%s",
		      said(&r, "skip", 0), r.out);
	assert_reused_once(&r, how);
}

/* NULL where pidfd_getfd works here, through syscall() and libc's
 * function (on a copy of one of our own fds), else why not. */
static const char *pidfd_usable(void)
{
	static char why[128];
	int p = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int g = p < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, p, 1, 0);
	int e = errno;
	if (g >= 0)
		close(g);
	if (p >= 0)
		close(p);
	if (g < 0) {
		snprintf(why, sizeof why, "refused by the kernel (%s)", strerror(e));
		return why;
	}
	if (!dlsym(RTLD_DEFAULT, "pidfd_getfd"))
		return "not in this libc (glibc 2.36 has it)";
	return NULL;
}

START_TEST(unseen_close_then_fd_from_pidfd_getfd)
{
	reuse_getfd("glibc");
}
END_TEST

/* The library built here preloaded where libc has no pidfd_getfd (glibc
 * before 2.36: no_pidfd.so, after the shim, says ENOSYS as the shim's
 * lookup would): a host that finds the shim's by name gets the system
 * call's answer, as its own fallback would, and the number is fresh. */
START_TEST(pidfd_getfd_without_libcs_is_the_system_call)
{
	struct run r;
	char pre[512], cmd[512];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s/no_pidfd.so ", tu_build_dir());
	snprintf(cmd, sizeof cmd, "%s/fd_host reuse-getfd %d glibc", tu_build_dir(), g_port);
	run_cmd_pre(&r, pre, cmd);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_msg(!says(&r, "skip"), "pidfd_getfd failed, errno %ld:\n%s",
		      said(&r, "skip", 0), r.out);
	assert_reused_once(&r, "no libc pidfd_getfd");
}
END_TEST

START_TEST(unseen_close_then_fd_from_syscall_pidfd_getfd)
{
	reuse_getfd("syscall");
}
END_TEST

START_TEST(dup_copies_stay_traced)
{
	struct run r;
	run_host(&r, "dup", NULL);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(said(&r, "tokens", 1), 3);
	ck_assert_int_eq(r.n, 2);
	cJSON *one = row_by_path(&r, "/one"), *two = row_by_path(&r, "/two");
	assert_whole(one, 3);
	assert_whole(two, 3);
	/* one connection, shared by every copy */
	ck_assert(num(one, "conn") == num(two, "conn"));
	run_free(&r);
}
END_TEST

/* bash on /dev/tcp: the request sent by the shell (or, subshell, by a
 * forked subshell of it), the response read by the shell; it prints the
 * token lines it read. printf writes through stdio; read is bash's own
 * read() (a `cat <&3` would be another program, past an exec:
 * docs/shim.md) */
static void run_devtcp(struct run *r, int subshell)
{
	char script[256];
	snprintf(script, sizeof script, "%s/devtcp.sh", tu_scratch());
	FILE *f = fopen(script, "w");
	fprintf(f, "exec 3<>/dev/tcp/127.0.0.1/%d\n"
		   "%sprintf 'POST /v1/completions HTTP/1.1\\r\\nHost: x\\r\\n"
		   "Connection: close\\r\\nContent-Length: 15\\r\\n\\r\\n{\"stream\":true}' >&3%s\n"
		   "n=0; while IFS= read -r line <&3; do\n"
		   "  case $line in *'\"text\"'*) n=$((n+1));; esac\n"
		   "done; echo $n\n"
		   "exec 3>&-\n", g_port, subshell ? "( " : "", subshell ? " )" : "");
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "bash %s", script);
	run_cmd(r, cmd);
	unlink(script);
}

/* A python3 client written from body (its one %d: the server's port),
 * run under ttft-run. */
static void run_py(struct run *r, const char *name, const char *body)
{
	char script[256];
	snprintf(script, sizeof script, "%s/%s", tu_scratch(), name);
	FILE *f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, body, g_port);
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 %s", script);
	run_cmd(r, cmd);
	unlink(script);
}

START_TEST(bash_dev_tcp)
{
	struct run r;
	run_devtcp(&r, 0);
	ck_assert_int_eq(atoi(r.out), 3); /* bash's cat saw the 3 tokens */
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 3);
	run_free(&r);
}
END_TEST

/* A client that reads its socket's error queue (SO_TIMESTAMPING: after
 * each send, recvmsg(MSG_ERRQUEUE) returns a copy of the packet with its
 * stamp): those bytes are not the stream. They were fed to the response
 * parser ("sniffer lost the framing", then "client retries") although both
 * responses were read whole. Two requests on one connection, each
 * followed by an error-queue read that got bytes (the client checks). */
START_TEST(error_queue_reads_are_not_the_stream)
{
	struct run r;
	run_py(&r, "errq.py",
		"import socket, sys, time\n"
		"s = socket.create_connection(('127.0.0.1', %d))\n"
		"# SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE\n"
		"s.setsockopt(socket.SOL_SOCKET, 37, (1 << 1) | (1 << 4))\n"
		"req = (b'POST /v1/completions HTTP/1.1\\r\\nHost: x\\r\\n'\n"
		"       b'Content-Length: 15\\r\\n\\r\\n{\"stream\":true}')\n"
		"got_errq = 0\n"
		"for k in range(2):\n"
		"    s.sendall(req)\n"
		"    for i in range(200):\n"
		"        try:\n"
		"            d, anc, fl, a = s.recvmsg(4096, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)\n"
		"            got_errq += len(d) > 0\n"
		"            break\n"
		"        except BlockingIOError:\n"
		"            time.sleep(0.005)\n"
		"    buf = b''\n"
		"    while not buf.endswith(b'0\\r\\n\\r\\n'):\n"
		"        c = s.recv(65536)\n"
		"        if not c: sys.exit('closed')\n"
		"        buf += c\n"
		"print('errq', got_errq)\n");
	ck_assert_int_eq(said(&r, "errq", 0), 2); /* the queue did give bytes */
	ck_assert_int_eq(r.n, 2);
	assert_whole(row(&r, 0), 3);
	assert_whole(row(&r, 1), 3);
	run_free(&r);
}
END_TEST

/* A subshell sends the request on the shell's connection and exits; the
 * shell reads the response. One request, one row: the child's request
 * with the response its parent read (they were two rows, "its request
 * was not seen" and "the client retries"). HTTP/1.1 answers in order and
 * every send on the socket was seen, so the pairing is the socket's. */
START_TEST(fork_child_sends_parent_reads)
{
	struct run r;
	run_devtcp(&r, 1);
	ck_assert_int_eq(atoi(r.out), 3);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row(&r, 0);
	char *s = cJSON_PrintUnformatted(q);
	ck_assert_msg(num(q, "tokens") == 3, "%s", s);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")), "%s", s);
	ck_assert_msg(num(q, "ttft_s") > 0 && num(q, "e2e_s") >= num(q, "ttft_s"), "%s", s);
	const char *note = cJSON_GetObjectItem(q, "note")->valuestring;
	ck_assert_msg(note && strstr(note, "its response read by pid") &&
		      strstr(note, "(a connection shared across fork)"), "%s", s);
	free(s);
	run_free(&r);
}
END_TEST

/* Python's os.fork on one keep-alive socket: children send, the parent
 * (maybe) sends and reads. mode: "parent-too" (a child sends /child,
 * exits; the parent then sends /parent and reads both responses: the
 * first answers /child, which the parent's own count cannot know),
 * "two-children" (/child1 and /child2 from two children in turn, the
 * parent reads both), "nobody-reads" (a child sends /c1 and /c2 and
 * exits; the parent reads nothing). */
static void run_fork_py(struct run *r, const char *mode)
{
	char body[2048];
	snprintf(body, sizeof body,
		"import os, socket, sys\n"
		"s = socket.create_connection(('127.0.0.1', %%d))\n"
		"def req(p):\n"
		"    s.sendall(b'POST ' + p + b' HTTP/1.1\\r\\nHost: x\\r\\n'\n"
		"              b'Content-Length: 15\\r\\n\\r\\n{\"stream\":true}')\n"
		"def child(*paths):\n"
		"    pid = os.fork()\n"
		"    if pid == 0:\n"
		"        for p in paths: req(p)\n"
		"        os._exit(0)\n"
		"    os.waitpid(pid, 0)\n"
		"def rd(n):\n"
		"    b = b''\n"
		"    while b.count(b'0\\r\\n\\r\\n') < n:\n"
		"        c = s.recv(65536)\n"
		"        if not c: sys.exit('closed')\n"
		"        b += c\n"
		"mode = '%s'\n"
		"if mode == 'parent-too':\n"
		"    child(b'/child'); req(b'/parent'); rd(2)\n"
		"elif mode == 'two-children':\n"
		"    child(b'/child1'); child(b'/child2'); rd(2)\n"
		"else:\n"
		"    child(b'/c1', b'/c2')\n"
		"s.close()\n"
		"print('done 1')\n", mode);
	run_py(r, "forkpy.py", body);
	ck_assert_int_eq(said(r, "done", 0), 1);
}

/* Several senders' requests due at once on a socket shared across fork:
 * no row gets a response it cannot be shown to own; each says so, with
 * no TTFT (the parent's own request took the child's response: 49 ms
 * against ~350, looking normal). */
START_TEST(fork_several_senders_are_not_paired)
{
	static const char *const modes[] = {"parent-too", "two-children"};
	for (int m = 0; m < 2; m++) {
		struct run r;
		run_fork_py(&r, modes[m]);
		int seen = 0;
		for (int i = 0; i < r.n; i++) {
			cJSON *q = row(&r, i);
			char *s = cJSON_PrintUnformatted(q);
			const cJSON *note = cJSON_GetObjectItem(q, "note");
			ck_assert_msg(cJSON_IsString(note) &&
				      strstr(note->valuestring, "which response answers this "
							    "one is not known"),
				      "%s: %s", modes[m], s);
			ck_assert_msg(is_null(q, "ttft_s") && is_null(q, "e2e_s"), "%s: %s",
				      modes[m], s);
			ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
			seen += !cJSON_IsTrue(cJSON_GetObjectItem(q, "request_unseen"));
			free(s);
		}
		ck_assert_int_eq(seen, 2); /* both requests have their rows */
		run_free(&r);
	}
}
END_TEST

/* A child sends two requests and nobody reads: both rows (the first one
 * too, whose record comes at the instant the child's link to its parent
 * does) say whose they were. */
START_TEST(fork_child_requests_unread_say_so)
{
	struct run r;
	run_fork_py(&r, "nobody-reads");
	ck_assert_int_eq(r.n, 2);
	for (int i = 0; i < 2; i++)
		ck_assert_str_eq(cJSON_GetObjectItem(row(&r, i), "note")->valuestring,
				 "no response read: a forked process's request on a "
				 "connection it shares with its parent, which read no "
				 "response for it either");
	run_free(&r);
}
END_TEST

START_TEST(fork_keeps_rows_apart)
{
	struct run r;
	run_host(&r, "fork", NULL);
	ck_assert_int_eq(said(&r, "child_ok", 0), 1);
	long pid = said(&r, "pid", 0), child = said(&r, "child", 0);
	ck_assert_int_eq(r.n, 3);
	cJSON *p1 = row_by_path(&r, "/parent1"), *c = row_by_path(&r, "/child"),
	      *p2 = row_by_path(&r, "/parent2");
	assert_whole(p1, 3);
	assert_whole(c, 3);
	assert_whole(p2, 3);
	ck_assert_int_eq((long)num(p1, "pid"), pid);
	ck_assert_int_eq((long)num(p2, "pid"), pid);
	ck_assert_int_eq((long)num(c, "pid"), child);
	ck_assert(num(p1, "conn") == num(p2, "conn"));
	ck_assert(num(c, "conn") != num(p1, "conn"));
	run_free(&r);
}
END_TEST

START_TEST(fork_child_closing_its_copy)
{
	struct run r;
	run_host(&r, "fork-close", NULL);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 3);
	run_free(&r);
}
END_TEST

/* A child made by HOW (fd_host sc_rawfork: none runs glibc's fork
 * handlers; the kernel's wiped page tells the shim it is a child): its row
 * and every record of its connection carry its pid, its close() among
 * them; the parent's rows carry the parent's. */
static void raw_fork_case(const char *how)
{
	struct run r;
	char log[256], cmd[1024];
	tu_tmp_log(log, sizeof log, "rawfork");
	snprintf(cmd, sizeof cmd, "--log %s -- %s/fd_host rawfork %d %s", log,
		 tu_build_dir(), g_port, how);
	run_cmd(&r, cmd);
	ck_assert_int_eq(said(&r, "child_ok", 0), 1);
	long pid = said(&r, "pid", 0), child = said(&r, "child", 0);
	ck_assert_int_eq(r.n, 3);
	cJSON *c = row_by_path(&r, "/child"), *p2 = row_by_path(&r, "/parent2");
	assert_whole(c, 3);
	assert_whole(p2, 3);
	ck_assert_int_eq((long)num(c, "pid"), child);
	ck_assert_int_eq((long)num(p2, "pid"), pid);
	struct ttft_log_view v;
	char err[512];
	ck_assert_msg(ttft_log_view_open(&v, log, err, sizeof err) == 0, "%s", err);
	uint64_t conn = (uint64_t)num(c, "conn");
	int recs = 0, closes = 0;
	struct ttft_rec e;
	for (uint64_t i = 0; i < v.n_slots; i++) {
		ck_assert_int_eq(ttft_log_view_get(&v, i, &e), 1);
		if (e.conn != conn)
			continue;
		ck_assert_msg(e.pid == child, "%s: kind %u of the child's connection "
			      "has pid %d, not %ld", how, e.kind, e.pid, child);
		recs++;
		closes += e.kind == TTFT_EV_CLOSE;
	}
	ttft_log_view_close(&v);
	unlink(log);
	ck_assert_int_gt(recs, 1);
	ck_assert_msg(closes == 1, "%s: the child's close: %d records", how, closes);
	run_free(&r);
}

START_TEST(raw_fork_children_log_their_pid)
{
	raw_fork_case("SYS_fork");
	raw_fork_case("_Fork");
	raw_fork_case("SYS_clone");
	raw_fork_case("clone");
}
END_TEST

START_TEST(sendfile_body)
{
	struct run r;
	run_host(&r, "sendfile", NULL);
	ck_assert_int_gt(said(&r, "sent", 0), 0);
	ck_assert_int_eq(r.n, 2);
	cJSON *one = row_by_path(&r, "/one"), *two = row_by_path(&r, "/two");
	assert_whole(one, 3);
	assert_whole(two, 3);
	ck_assert_str_eq(cJSON_GetObjectItem(two, "method")->valuestring, "POST");
	/* each request's phases in order: sent, then headers */
	ck_assert(num(one, "send_s") >= 0 && num(one, "wait_headers_s") >= 0);
	ck_assert(num(two, "send_s") >= 0 && num(two, "wait_headers_s") >= 0);
	run_free(&r);
}
END_TEST

START_TEST(splice_read_side)
{
	struct run r;
	run_host(&r, "splice", NULL);
	ck_assert_int_eq(said(&r, "tokens", 0), 5);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 5);
	run_free(&r);
}
END_TEST

/* fd_host SCENARIO ARG run without the shim against the same server: its
 * output less the first line (its pid), to compare with a run's. */
static char *unshimmed(const char *scenario, const char *arg)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/fd_host %s %d %s", tu_build_dir(), scenario,
		 g_port, arg);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	char *rest = strchr(out, '\n');
	ck_assert_ptr_nonnull(rest);
	memmove(out, rest + 1, strlen(rest));
	return out;
}

/* A response's first token event discarded with MSG_TRUNC (tcp(7): the
 * kernel drops the bytes, copying none) through HOW: the shim never saw
 * them, so neither row on the connection may look whole (the rest alone
 * parses as a stream of two tokens: a made-up row); each says the bytes
 * passed unseen. The host runs as without the shim. */
static void msg_trunc_case(const char *how)
{
	static const char lost[] = "the sniffer lost the framing: bytes passed "
				   "unseen (MSG_TRUNC, sendfile, splice, stdio)";
	struct run r;
	run_host(&r, "msgtrunc", how);
	ck_assert_int_eq(said(&r, "headers", 0), 1);
	ck_assert_int_eq(said(&r, "discarded", 0), 1);
	ck_assert_int_eq(said(&r, "untouched", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 2);
	ck_assert_int_eq(said(&r, "tokens", 1), 3);
	char *plain = unshimmed("msgtrunc", how);
	ck_assert_str_eq(strchr(r.out, '\n') + 1, plain);
	free(plain);
	ck_assert_int_eq(r.n, 2);
	cJSON *q = row_by_path(&r, "/v1/completions?tokens=3");
	cJSON *after = row_by_path(&r, "/after-trunc");
	char *s = cJSON_PrintUnformatted(r.reqs);
	/* the headers were read before the bytes went by: seen */
	ck_assert_msg(num(q, "status") == 200 && num(q, "tokens") == 0 &&
		      num(q, "wait_headers_s") >= 0 && is_null(q, "ttft_s") &&
		      is_null(q, "e2e_s"), "%s: %s", how, s);
	ck_assert_msg(is_null(after, "status") && is_null(after, "e2e_s"), "%s: %s",
		      how, s);
	cJSON *rows[] = {q, after};
	for (int i = 0; i < 2; i++) {
		const cJSON *note = cJSON_GetObjectItem(rows[i], "note");
		ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(rows[i], "complete")) &&
			      cJSON_IsString(note) && !strcmp(note->valuestring, lost),
			      "%s: %s", how, s);
	}
	free(s);
	run_free(&r);
}

START_TEST(msg_trunc_bytes_are_said_unseen)
{
	msg_trunc_case("recv");
	msg_trunc_case("recvfrom");
	msg_trunc_case("recvmsg");
	msg_trunc_case("recvmmsg");
}
END_TEST

/* An urgent byte the server sent (MSG_OOB) and the client took with
 * recv(MSG_OOB) is no part of the stream: the response reads whole, both
 * rows complete with their 3 tokens (before: the byte went into the
 * chunk framing, the row said the sniffer lost the framing and the next
 * request's answer went unread). The host runs as without the shim. */
START_TEST(urgent_byte_is_not_the_stream)
{
	struct run r;
	run_host(&r, "oob", NULL);
	ck_assert_int_eq(said(&r, "headers", 0), 1);
	ck_assert_int_eq(said(&r, "oob", 0), '!');
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(said(&r, "tokens", 1), 3);
	char *plain = unshimmed("oob", "");
	ck_assert_str_eq(strchr(r.out, '\n') + 1, plain);
	free(plain);
	ck_assert_int_eq(r.n, 2);
	char *s = cJSON_PrintUnformatted(r.reqs);
	const char *paths[] = {"/oob?tokens=3", "/after-oob"};
	for (int i = 0; i < 2; i++) {
		cJSON *q = row_by_path(&r, paths[i]);
		ck_assert_msg(num(q, "status") == 200 && num(q, "tokens") == 3 &&
			      cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")), "%s", s);
	}
	free(s);
	run_free(&r);
}
END_TEST

/* preadv2/pwritev2 at offset -1 move a socket's bytes as readv/writev:
 * the request and its answer are a row (before: no row at all, the
 * connection's request and response never seen). */
START_TEST(preadv2_and_pwritev2_are_seen)
{
	struct run r;
	run_host(&r, "v2", NULL);
	ck_assert_int_eq(said(&r, "espipe", 0), 1);
	ck_assert_int_eq(said(&r, "written", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	char *plain = unshimmed("v2", "");
	ck_assert_str_eq(strchr(r.out, '\n') + 1, plain);
	free(plain);
	char *s = cJSON_PrintUnformatted(r.reqs);
	ck_assert_msg(r.n == 1, "%s", s);
	cJSON *q = row_by_path(&r, "/v1/completions?tokens=3");
	ck_assert_msg(num(q, "status") == 200 && num(q, "tokens") == 3 &&
		      cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")), "%s", s);
	free(s);
	run_free(&r);
}
END_TEST

/* A client's own urgent byte (send/sendmsg with MSG_OOB: the last byte
 * the call sent) is no part of the request stream either: the server,
 * without SO_OOBINLINE, reads past it; both rows complete with their 3
 * tokens (before: the "!" was fed as the start of the next request, whose
 * row was lost to "not HTTP"). The host runs as without the shim. */
START_TEST(clients_urgent_byte_is_not_the_stream)
{
	const char *hows[] = {"send", "sendmsg"};
	for (int h = 0; h < 2; h++) {
		struct run r;
		run_host(&r, "send-oob", hows[h]);
		ck_assert_int_eq(said(&r, "sent", 0), 1);
		ck_assert_int_eq(said(&r, "tokens", 0), 3);
		ck_assert_int_eq(said(&r, "tokens", 1), 3);
		char *s = cJSON_PrintUnformatted(r.reqs);
		ck_assert_msg(r.n == 2, "%s: %d rows: %s", hows[h], r.n, s);
		const char *paths[] = {"/send-oob?tokens=3", "/after-send-oob"};
		for (int i = 0; i < 2; i++) {
			cJSON *q = row_by_path(&r, paths[i]);
			ck_assert_msg(num(q, "status") == 200 && num(q, "tokens") == 3 &&
				      cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")) &&
				      cJSON_IsNull(cJSON_GetObjectItem(q, "note")),
				      "%s: %s", hows[h], s);
		}
		free(s);
		run_free(&r);
	}
}
END_TEST

START_TEST(connect_again_is_not_a_new_connection)
{
	struct run r;
	run_host(&r, "eisconn", NULL);
	ck_assert_int_eq(said(&r, "again_done", 0), 1);
	ck_assert_int_eq(said(&r, "midstream_eisconn", 0), 1);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 4);
	run_free(&r);
}
END_TEST

/* A seccomp filter forbids the shim's own fstat and gettid: the host's
 * connect and close succeed and leave the errno it had. */
START_TEST(seccomp_filtered_host_keeps_its_errno)
{
	struct run r;
	run_host(&r, "seccomp", NULL);
	ck_assert_int_eq(said(&r, "connect_ok", 0), 1);
	ck_assert_int_eq(said(&r, "connect_errno", 0), 4242);
	ck_assert_int_eq(said(&r, "tokens", 0), 2);
	ck_assert_int_eq(said(&r, "close_ok", 0), 1);
	ck_assert_int_eq(said(&r, "close_errno", 0), 4242);
	/* a close through syscall() or freopen, from a thread whose first
	 * record it is (before: errno EPERM, the shim's refused gettid) */
	ck_assert_int_eq(said(&r, "raw_close_ok", 0), 1);
	ck_assert_int_eq(said(&r, "raw_close_errno", 0), 4242);
	ck_assert_int_eq(said(&r, "freopen_ok", 0), 1);
	ck_assert_int_eq(said(&r, "freopen_errno", 0), 4242);
	run_free(&r);
}
END_TEST

/* The shim asks the kernel whether a connect's address is readable
 * before it reads it (rt_sigprocmask with an unknown `how`); a seccomp
 * filter that refuses the question leaves it unknown, and the shim then
 * reads the address only after the kernel has: an unreadable one still
 * fails EFAULT, not SIGSEGV, and a good connect is a whole row, errno
 * kept. */
START_TEST(connect_traced_when_the_address_question_is_refused)
{
	struct run r;
	run_host(&r, "seccomp-probe", NULL);
	ck_assert_int_eq(said(&r, "probe_refused", 0), 1);
	ck_assert_int_eq(said(&r, "e_connect_bad", 0), EFAULT);
	ck_assert_int_eq(said(&r, "connect_ok", 0), 1);
	ck_assert_int_eq(said(&r, "connect_errno", 0), 4242);
	ck_assert_int_eq(said(&r, "tokens", 0), 2);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row_by_path(&r, "/after-probe-refused?tokens=2"), 2);
	run_free(&r);
}
END_TEST

/* TCP Fast Open with sendto(MSG_FASTOPEN): no connect() call, and each
 * request was invisible (no row, and the log said nothing was missing).
 * A row for each request the client made, whole, its connection begun by
 * the sendto. */
START_TEST(tcp_fast_open_requests_make_rows)
{
	struct run r;
	run_host(&r, "tfo", NULL);
	int made = 0;
	for (int k = 0; k < 2; k++)
		if (said(&r, "tfo_sent", k) > 0)
			made++;
	/* the kernel refuses only with TFO off (net.ipv4.tcp_fastopen) */
	ck_assert_msg(made == 2, "the client could not use TCP Fast Open here:\n%s",
		      r.out);
	ck_assert_int_eq(r.n, 2);
	for (int i = 0; i < 2; i++) {
		cJSON *q = row(&r, i);
		char *js = cJSON_PrintUnformatted(q);
		const cJSON *note = cJSON_GetObjectItem(q, "note");
		ck_assert_msg(num(q, "tokens") == 3 && num(q, "status") == 200 &&
			      cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")) &&
			      num(q, "connect_s") >= 0 && num(q, "send_s") == 0 &&
			      num(q, "ttft_s") >= num(q, "connect_s") &&
			      cJSON_IsString(note) &&
			      strstr(note->valuestring, "TCP Fast Open"), "%s", js);
		free(js);
	}
	ck_assert_int_ne((int)num(row(&r, 0), "conn"), (int)num(row(&r, 1), "conn"));
	run_free(&r);
}
END_TEST

/* Plain HTTP through a proxy's tunnel: the CONNECT is a row of its own
 * (status 200, no body: 0 tokens), and the request through the tunnel a
 * whole row (the tunnel's 200 was read as a response whose body ran to
 * the connection's end, noted "not HTTP/1.x", and the request was lost). */
START_TEST(requests_through_a_connect_tunnel)
{
	struct run r;
	run_host(&r, "tunnel", NULL);
	ck_assert_int_eq(said(&r, "tunnel_open", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 2);
	cJSON *c = row(&r, 0), *q = row(&r, 1);
	char *js = cJSON_PrintUnformatted(r.reqs);
	ck_assert_msg(!strcmp(cJSON_GetObjectItem(c, "method")->valuestring, "CONNECT") &&
		      num(c, "status") == 200 && num(c, "tokens") == 0 &&
		      is_null(c, "ttft_s"), "%s", js);
	ck_assert_msg(!strcmp(cJSON_GetObjectItem(q, "method")->valuestring, "POST"), "%s", js);
	assert_whole(q, 3);
	free(js);
	run_free(&r);
}
END_TEST

START_TEST(refused_expect_continue)
{
	struct run r;
	run_host(&r, "expect417", NULL);
	ck_assert_int_eq(said(&r, "got_417", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 2);
	cJSON *refused = row_by_path(&r, "/expect417");
	ck_assert(num(refused, "status") == 417);
	ck_assert(!is_null(refused, "e2e_s"));
	assert_whole(row_by_path(&r, "/after417"), 3);
	run_free(&r);
}
END_TEST

START_TEST(not_http_makes_no_row)
{
	struct run r;
	run_host(&r, "michael", NULL);
	ck_assert_int_eq(r.n, 0);
	run_free(&r);
}
END_TEST

START_TEST(filter_matches_v4_mapped_peers)
{
	char spec[64];
	/* the IPv4 form, host:, and the mapped form itself */
	const char *forms[] = {"127.0.0.1:%d", "host:127.0.0.1", "[::ffff:127.0.0.1]:%d"};
	for (int form = 0; form < 3; form++) {
		snprintf(spec, sizeof spec, forms[form], g_port);
		struct run r;
		run_filtered(&r, "v4mapped", spec);
		ck_assert_int_eq(said(&r, "tokens", 0), 3);
		ck_assert_msg(r.n == 1, "filter %s: %d rows", spec, r.n);
		assert_whole(row(&r, 0), 3);
		run_free(&r);
	}
	/* and a filter for another port still leaves it out */
	struct run r;
	snprintf(spec, sizeof spec, "127.0.0.1:%d", g_port == 1 ? 2 : 1);
	run_filtered(&r, "v4mapped", spec);
	ck_assert_int_eq(r.n, 0);
	run_free(&r);
}
END_TEST

/* A connection opened 150 ms before its request: TTFT is the request's
 * own (the client's clock says how long), the idle time is apart. */
START_TEST(preopened_connection_ttft_from_the_request)
{
	struct run r;
	run_host(&r, "preopen", NULL);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row(&r, 0);
	const char *cl = strstr(r.out, "client_ttft_s ");
	ck_assert_ptr_nonnull(cl);
	double client = atof(cl + 14);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "preopened")));
	ck_assert_msg(num(q, "preopen_idle_s") >= 0.150, "idle %f", num(q, "preopen_idle_s"));
	/* the shim's TTFT lies inside the client's own span (the shim's
	 * request starts after the client's clock started; its first token
	 * read returns before the client sees it) */
	ck_assert_msg(num(q, "ttft_s") > 0 && num(q, "ttft_s") <= client,
		      "shim ttft %f, client %f", num(q, "ttft_s"), client);
	ck_assert_msg(strstr(cJSON_GetObjectItem(q, "note")->valuestring,
			     "connection opened"), "%s", r.out);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")));
	run_free(&r);
}
END_TEST

/* The same, opened non-blocking and found writable by poll() alone: no
 * call shows when the handshake ended, and the first send did. The row
 * took the send for the connect's end, and so the 300 ms idle for
 * connect time, inside TTFT, looking normal. The SYN-ACK's arrival, from
 * the kernel (TCP_INFO, to its tick), puts the idle apart: the request
 * starts after the client's poll said ready, the idle is at least the
 * client's own less a tick. */
START_TEST(preopened_nonblocking_connect_unseen_end)
{
	struct run r;
	run_host(&r, "preopen_nb", NULL);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row(&r, 0);
	const char *rd = strstr(r.out, "client_ready_s "), *sd = strstr(r.out, "client_send_s ");
	const char *cl = strstr(r.out, "client_ttft_s ");
	ck_assert_msg(rd && sd && cl, "%s", r.out);
	double ready = atof(rd + 15), send = atof(sd + 14), client = atof(cl + 14);
	char *s = cJSON_PrintUnformatted(q);
	const cJSON *note = cJSON_GetObjectItem(q, "note");
	if (cJSON_IsTrue(cJSON_GetObjectItem(q, "preopened"))) {
		/* a tick: 10 ms at HZ=100, the coarsest */
		ck_assert_msg(num(q, "preopen_idle_s") >= send - ready - 0.011, "%s", s);
		/* the kernel's tick never puts the establishment before the
		 * connect began */
		ck_assert_msg(num(q, "connect_s") >= 0, "%s", s);
	} else {
		/* the response was there before the shim could ask the kernel
		 * (the client's thread stalled 30 ms right after its send):
		 * the setup's end is not known, and the row says so; never the
		 * idle time as connect time (test_rows: setup_end_not_seen) */
		ck_assert_msg(is_null(q, "connect_s") && cJSON_IsString(note) &&
			      strstr(note->valuestring, "setup end was not seen"),
			      "%s", s);
	}
	ck_assert_msg(num(q, "start_s") >= ready, "start %f ready %f", num(q, "start_s"), ready);
	ck_assert_msg(num(q, "ttft_s") > 0 && num(q, "ttft_s") <= client, "%s", s);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")));
	free(s);
	run_free(&r);
}
END_TEST

/* The client reads ten bytes of a response's status line and closes: the
 * row says it closed early in the head (it said "no response on a reused
 * connection: the client retries", which no retry followed). */
START_TEST(closed_in_the_response_head_is_said)
{
	struct run r;
	run_host(&r, "close_mid_head", NULL);
	ck_assert_int_eq(said(&r, "head_bytes", 0), 10);
	ck_assert_int_eq(r.n, 2);
	assert_whole(row(&r, 0), 2);
	cJSON *q = row(&r, 1);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "client closed early, in the response's head (it had begun to arrive)");
	run_free(&r);
}
END_TEST

/* A request line the sniffer cannot read (a control byte in its target):
 * the server answers it and the next request, and those responses' rows
 * say why their requests are unknown (the framing was lost on the
 * connection), not that they were sent by a raw system call. */
START_TEST(responses_after_lost_request_framing_say_why)
{
	struct run r;
	run_py(&r, "lostreq.py",
		"import socket\n"
		"s = socket.create_connection(('127.0.0.1', %d))\n"
		"def rd():\n"
		"    b = b''\n"
		"    while not b.endswith(b'0\\r\\n\\r\\n'):\n"
		"        c = s.recv(65536)\n"
		"        if not c: break\n"
		"        b += c\n"
		"    return b\n"
		"for t in (b'/a\\x01b', b'/after'):\n"
		"    s.sendall(b'POST ' + t + b' HTTP/1.1\\r\\nHost: x\\r\\n'\n"
		"              b'Content-Length: 15\\r\\n\\r\\n{\"stream\":true}')\n"
		"    print('status', rd()[9:12].decode())\n");
	ck_assert_int_eq(said(&r, "status", 0), 200);
	ck_assert_int_eq(said(&r, "status", 1), 200);
	int unseen = 0;
	for (int i = 0; i < r.n; i++) {
		cJSON *q = row(&r, i);
		if (!cJSON_IsTrue(cJSON_GetObjectItem(q, "request_unseen")))
			continue;
		unseen++;
		const char *note = cJSON_GetObjectItem(q, "note")->valuestring;
		ck_assert_msg(!strncmp(note, "its request could not be read: the sniffer lost "
				       "the framing earlier on this connection", 86), "%s", note);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	}
	ck_assert_int_ge(unseen, 1);
	run_free(&r);
}
END_TEST

/* Responses read through stdio input, which the shim does not see: the
 * rows say no response was seen and where it may have been read, not
 * "client closed early" or "the client retries" (no request on the
 * connection had a response seen, so nothing suggests a retry). */
START_TEST(responses_read_unseen_are_said)
{
	struct run r;
	run_host(&r, "stdio_read", NULL);
	ck_assert_int_eq(said(&r, "tokens", 0), 4); /* the client read both */
	ck_assert_int_eq(r.n, 2);
	for (int i = 0; i < 2; i++) {
		cJSON *q = row(&r, i);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
		ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
				 "the client closed before any of the response was seen (it "
				 "read none, or read it where the shim cannot see: stdio "
				 "input, a raw system call)");
	}
	run_free(&r);
}
END_TEST

START_TEST(server_reset_is_said)
{
	struct run r;
	run_host(&r, "reset", NULL);
	ck_assert_int_eq(said(&r, "econnreset", 0), 1);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row(&r, 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the server reset the connection (ECONNRESET)");
	ck_assert(num(q, "tokens") == 1);
	run_free(&r);
}
END_TEST

/* A server that closes without a byte of its answer (a new connection;
 * a kept-alive one after answering the first request): the rows say the
 * server closed unanswered, never that the client closed early, and the
 * answered request is whole. */
START_TEST(server_closing_unanswered_is_said)
{
	struct run r;
	run_py(&r, "unanswered.py",
		"import socket, threading\n"
		"_ = %d\n"
		"ls = socket.socket()\n"
		"ls.bind(('127.0.0.1', 0))\n"
		"ls.listen(4)\n"
		"def head(c):\n"
		"    b = b''\n"
		"    while not b.endswith(b'\\r\\n\\r\\n'):\n"
		"        b += c.recv(1)\n"
		"def serve():\n"
		"    c, _ = ls.accept()\n"
		"    head(c)\n"
		"    c.close()\n"
		"    c, _ = ls.accept()\n"
		"    head(c)\n"
		"    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
		"    head(c)\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve)\n"
		"t.start()\n"
		"def ask(s, path):\n"
		"    s.sendall(b'GET ' + path + b' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
		"    b = b''\n"
		"    while not b.endswith(b'ok'):\n"
		"        c = s.recv(4096)\n"
		"        if not c: break\n"
		"        b += c\n"
		"    return len(b)\n"
		"s = socket.create_connection(ls.getsockname())\n"
		"print('new', ask(s, b'/new'))\n"
		"s.close()\n"
		"s = socket.create_connection(ls.getsockname())\n"
		"print('first', ask(s, b'/first'))\n"
		"print('second', ask(s, b'/second'))\n"
		"s.close()\n"
		"t.join()\n");
	ck_assert_int_eq(said(&r, "new", 0), 0);
	ck_assert_int_eq(said(&r, "first", 0), 40);
	ck_assert_int_eq(said(&r, "second", 0), 0);
	ck_assert_int_eq(r.n, 3);
	cJSON *q = row_by_path(&r, "/new");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the server closed the connection without answering");
	ck_assert(is_null(q, "ttft_s"));
	q = row_by_path(&r, "/second");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the server closed the connection without answering (not "
			 "the connection's first request: clients retry those on a new one)");
	q = row_by_path(&r, "/first");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")));
	ck_assert(num(q, "status") == 200);
	run_free(&r);
}
END_TEST

/* The start of a Python script for run_py: a listening socket ls, and
 * serve() taking one connection c and reading its request's head. */
#define PY_SERVE_ONE                                                   \
	"import socket, threading, http.client\n"                       \
	"_ = %d\n"                                                      \
	"ls = socket.socket()\n"                                        \
	"ls.bind(('127.0.0.1', 0))\n"                                   \
	"ls.listen(4)\n"                                                \
	"def serve():\n"                                                \
	"    c, _ = ls.accept()\n"                                      \
	"    b = b''\n"                                                 \
	"    while not b.endswith(b'\\r\\n\\r\\n'):\n"                \
	"        b += c.recv(1)\n"

/* A response whose status line says HTTP/1.2: CPython's http.client reads
 * it as 1.1 (RFC 9112 2.3), and so does the sniffer, but curl and
 * cpp-httplib refuse it: its row, whole, says what the line said (it
 * looked like any other). */
START_TEST(a_minor_version_above_one_is_noted)
{
	struct run r;
	run_py(&r, "minor.py",
		PY_SERVE_ONE
		"    c.sendall(b'HTTP/1.2 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
		"    c.recv(1)\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve)\n"
		"t.start()\n"
		"h = http.client.HTTPConnection(*ls.getsockname())\n"
		"h.request('GET', '/v')\n"
		"rs = h.getresponse()\n"
		"print('body', len(rs.read()), rs.status)\n"
		"h.close()\n"
		"t.join()\n");
	ck_assert_int_eq(said(&r, "body", 0), 2);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row_by_path(&r, "/v");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")));
	ck_assert(num(q, "status") == 200);
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the response's status line said HTTP/1.2: read as HTTP/1.1 "
			 "(RFC 9112), which some clients refuse (curl, cpp-httplib): "
			 "the client may not have taken it; not an event stream: its "
			 "tokens are not read");
	run_free(&r);
}
END_TEST

/* A request whose only answer was an interim 103 Early Hints, read whole
 * by the client, before the connection closed: by the server (/srv: the
 * client reads on to the close) or by the client after reading it (/cli).
 * Its note said the server closed "without answering" and the client
 * "read none" of the response; both read the 103 (the client says how
 * many bytes). */
START_TEST(interim_only_answer_is_said)
{
	struct run r;
	run_py(&r, "interim.py",
		"import socket, threading\n"
		"_ = %d\n"
		"ls = socket.socket()\n"
		"ls.bind(('127.0.0.1', 0))\n"
		"ls.listen(4)\n"
		"hint = b'HTTP/1.1 103 Early Hints\\r\\nLink: </a.css>\\r\\n\\r\\n'\n"
		"def head(c):\n"
		"    b = b''\n"
		"    while not b.endswith(b'\\r\\n\\r\\n'):\n"
		"        b += c.recv(1)\n"
		"def serve():\n"
		"    c, _ = ls.accept()\n"
		"    head(c)\n"
		"    c.sendall(hint)\n"
		"    c.close()\n"
		"    c, _ = ls.accept()\n"
		"    head(c)\n"
		"    c.sendall(hint)\n"
		"    c.recv(1)\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve)\n"
		"t.start()\n"
		"def ask(path, to_eof):\n"
		"    s = socket.create_connection(ls.getsockname())\n"
		"    s.sendall(b'GET ' + path + b' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
		"    b = b''\n"
		"    while to_eof or not b.endswith(b'\\r\\n\\r\\n'):\n"
		"        c = s.recv(4096)\n"
		"        if not c: break\n"
		"        b += c\n"
		"    s.close()\n"
		"    return len(b)\n"
		"print('srv', ask(b'/srv', 1))\n"
		"print('cli', ask(b'/cli', 0))\n"
		"t.join()\n");
	ck_assert_int_eq(said(&r, "srv", 0), 44);
	ck_assert_int_eq(said(&r, "cli", 0), 44);
	ck_assert_int_eq(r.n, 2);
	cJSON *q = row_by_path(&r, "/srv");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the server closed the connection after only an interim "
			 "103 response, before the final one");
	ck_assert(is_null(q, "ttft_s"));
	q = row_by_path(&r, "/cli");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	ck_assert_str_eq(cJSON_GetObjectItem(q, "note")->valuestring,
			 "the client closed after only an interim 103 response "
			 "was read, before the final one");
	ck_assert(is_null(q, "ttft_s"));
	run_free(&r);
}
END_TEST

/* An interim 103 before the final response, both in one write: Python's
 * http.client skips a 100 only, and returns the 103 as the response (its
 * status 103, its body empty; the 200 stays unread in the socket), where
 * curl, httpx and Node skip it. The sniffer reads on to the 200 (as those
 * do), and its row, whole and normal-looking, said nothing of it. */
START_TEST(interim_other_than_100_is_said)
{
	struct run r;
	run_py(&r, "early.py",
		PY_SERVE_ONE
		"    c.sendall(b'HTTP/1.1 103 Early Hints\\r\\nLink: </a>\\r\\n\\r\\n'\n"
		"              b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
		"    c.recv(1)\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve)\n"
		"t.start()\n"
		"h = http.client.HTTPConnection(*ls.getsockname())\n"
		"h.request('GET', '/e')\n"
		"rs = h.getresponse()\n"
		"print('status', rs.status)\n"
		"print('body', len(rs.read()))\n"
		"h.close()\n"
		"t.join()\n");
	/* the client's own view: the 103 was its answer */
	ck_assert_int_eq(said(&r, "status", 0), 103);
	ck_assert_int_eq(said(&r, "body", 0), 0);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row_by_path(&r, "/e");
	ck_assert(num(q, "status") == 200);
	const char *n = cJSON_GetObjectItem(q, "note")->valuestring;
	ck_assert_msg(n && strstr(n, "an interim 103 response came before it, which "
				     "Python's http.client (urllib3, requests) takes as the "
				     "whole answer"), "%s", n ? n : "(none)");
	run_free(&r);
}
END_TEST

/* A client that cancels its request with its own shutdown (a second
 * thread waking the reader) reads 0 too: the server, still working, is
 * not blamed (a review found "the server closed … without answering");
 * the kernel says who closed. */
START_TEST(clients_own_shutdown_is_not_the_servers_close)
{
	struct run r;
	run_py(&r, "cancel.py",
		"import socket, threading\n"
		"_ = %d\n"
		"ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(4)\n"
		"gate = threading.Event()\n"
		"def serve():\n"
		"    c, _ = ls.accept()\n"
		"    c.recv(4096)\n"
		"    gate.wait()\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve); t.start()\n"
		"s = socket.create_connection(ls.getsockname())\n"
		"s.sendall(b'GET /slow HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
		"threading.Timer(0.2, lambda: s.shutdown(socket.SHUT_RDWR)).start()\n"
		"print('got', len(s.recv(4096)))\n"
		"s.close(); gate.set(); t.join(); ls.close()\n");
	ck_assert_int_eq(said(&r, "got", 0), 0);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row_by_path(&r, "/slow");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(q, "complete")));
	const char *note = cJSON_GetObjectItem(q, "note")->valuestring;
	ck_assert_msg(!strncmp(note, "the client closed before any of the response was seen", 53),
		      "%s", note);
	run_free(&r);
}
END_TEST

/* The parent sends, a forked child reads the whole answer, then the
 * parent reads the server's close: the request was answered, its row
 * stays whole (a review found it overwritten as unanswered). */
START_TEST(an_answer_a_child_read_is_not_unanswered)
{
	struct run r;
	run_py(&r, "forkread.py",
		"import os, socket, threading\n"
		"_ = %d\n"
		"ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(4)\n"
		"def serve():\n"
		"    c, _ = ls.accept()\n"
		"    c.recv(4096)\n"
		"    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n'\n"
		"              b'Connection: close\\r\\n\\r\\nhello')\n"
		"    c.close()\n"
		"t = threading.Thread(target=serve); t.start()\n"
		"s = socket.create_connection(ls.getsockname())\n"
		"s.sendall(b'GET /forked HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
		"t.join()\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    got = b''\n"
		"    while not got.endswith(b'hello'):\n"
		"        got += s.recv(4096)\n"
		"    os._exit(0)\n"
		"os.waitpid(pid, 0)\n"
		"print('parent', len(s.recv(4096)))\n"
		"s.close(); ls.close()\n");
	ck_assert_int_eq(said(&r, "parent", 0), 0);
	ck_assert_int_eq(r.n, 1);
	cJSON *q = row_by_path(&r, "/forked");
	ck_assert(num(q, "status") == 200);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(q, "complete")), "%s",
		      cJSON_GetObjectItem(q, "note")->valuestring);
	run_free(&r);
}
END_TEST

START_TEST(dns_is_the_connecting_threads)
{
	struct run r;
	run_host(&r, "dns-threads", NULL);
	ck_assert_int_eq(r.n, 2);
	ck_assert(is_null(row_by_path(&r, "/b-no-lookup"), "dns_s"));
	ck_assert(num(row_by_path(&r, "/a-looked-up"), "dns_s") >= 0);
	run_free(&r);
}
END_TEST

/* Thread A blocks in recv on fd N; thread B closes N, connects again onto
 * the number N, sends its request (answered 1.2 s later) and reads its
 * answer; the old socket's response (5 tokens, at 0.7 s) comes back from
 * A's recv. Those bytes are the old connection's: the new row has its own
 * TTFT and its 2 tokens (the shim once fed them to the new connection:
 * TTFT 0.5 s, 5 tokens, complete, no note). */
START_TEST(blocked_recv_across_close_and_reuse)
{
	struct run r;
	run_host(&r, "reuse-blocked", NULL);
	/* the case under test happened */
	ck_assert_int_eq(said(&r, "reused", 0), 1);
	ck_assert_int_eq(said(&r, "old_whole", 0), 1);
	ck_assert_int_eq(said(&r, "old_tokens", 0), 5);
	ck_assert_int_eq(said(&r, "new_tokens", 0), 2);
	cJSON *q = row_by_path(&r, "/new?tokens=2&head_delay=1200");
	ck_assert_msg(num(q, "ttft_s") >= 1.2, "ttft_s %g", num(q, "ttft_s"));
	assert_whole(q, 2);
	assert_whole(row_by_path(&r, "/probe?tokens=5"), 5);
	/* and no row for the new answer's bytes as a response unasked */
	ck_assert_msg(r.n == 3, "%d rows", r.n);
	/* the old request's answer went where the shim no longer looks: its
	 * row says it saw none, never a TTFT, and no token count (no answer
	 * seen: null, not 0 of a stream) */
	cJSON *old = row_by_path(&r, "/old?tokens=5&head_delay=700");
	ck_assert(is_null(old, "tokens") && is_null(old, "ttft_s"));
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(old, "complete")));
	ck_assert(!is_null(old, "note"));
	run_free(&r);
}
END_TEST

/* The same for a send: thread A blocks in send on fd N (a 16 MiB request
 * to a listener that never accepts), B closes N, connects onto N and has
 * its request answered; then the listener closes and A's send returns the
 * part of the old request it sent. Those bytes are not the new
 * connection's (the shim once made them a request of its: a row
 * '/old-send' on the new connection). */
START_TEST(blocked_send_across_close_and_reuse)
{
	struct run r;
	run_host(&r, "reuse-blocked-send", NULL);
	ck_assert_int_eq(said(&r, "reused", 0), 1);
	ck_assert_int_eq(said(&r, "new_tokens", 0), 2);
	ck_assert_int_eq(said(&r, "old_partly_sent", 0), 1);
	for (int i = 0; i < r.n; i++) {
		cJSON *p = cJSON_GetObjectItem(row(&r, i), "path");
		ck_assert_msg(!cJSON_IsString(p) || strcmp(p->valuestring, "/old-send"),
			      "a row for the old request's bytes");
	}
	ck_assert_int_eq(r.n, 1);
	assert_whole(row_by_path(&r, "/new-send?tokens=2"), 2);
	run_free(&r);
}
END_TEST

/* sendmsg and recvmsg with an invalid msghdr pointer on a traced socket:
 * -1/EFAULT as without the shim (it once read msg after the failed call:
 * the host died of SIGSEGV), and the connection's request a row as ever. */
START_TEST(msg_calls_refused_by_the_kernel_fail_as_ever)
{
	struct run r;
	run_host(&r, "badmsg", NULL);
	ck_assert_int_eq(said(&r, "sendmsg_efault", 0), 1);
	ck_assert_int_eq(said(&r, "recvmsg_efault", 0), 1);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row_by_path(&r, "/after-badmsg"), 3);
	run_free(&r);
}
END_TEST

/* connect and TCP Fast Open's sendto/sendmsg handed an address (or a
 * msghdr) the kernel cannot read fail as without the shim: EFAULT, or
 * EINVAL for a length out of range (the shim once read the address before
 * the call: the host died of SIGSEGV); nothing is logged for them, and a
 * good connection's request is a row as ever. */
START_TEST(unreadable_addresses_fail_as_ever)
{
	struct run r;
	run_host(&r, "badaddr", NULL);
	ck_assert_int_eq(said(&r, "e_connect", 0), EFAULT);
	ck_assert_int_eq(said(&r, "e_connect_len0", 0), EINVAL);
	ck_assert_int_eq(said(&r, "e_connect_len200", 0), EINVAL);
	ck_assert_int_eq(said(&r, "e_connect_cut6", 0), EFAULT);
	ck_assert_int_eq(said(&r, "e_sendto_tfo", 0), EFAULT);
	ck_assert_int_eq(said(&r, "e_sendmsg_tfo", 0), EFAULT);
	ck_assert_int_eq(said(&r, "e_sendmsg_tfo_name", 0), EFAULT);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row_by_path(&r, "/after-badaddr"), 3);
	run_free(&r);
}
END_TEST

/* close_range refused by the kernel (an unknown flag; libc's and a raw
 * syscall) closes nothing: the connection stays traced, its request a
 * row (the shim once dropped the range first: no row at all). */
START_TEST(failed_close_range_keeps_the_connection)
{
	struct run r;
	run_host(&r, "close-range-bad", NULL);
	ck_assert_int_eq(said(&r, "einval", 0), 2);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row_by_path(&r, "/after-close-range"), 3);
	run_free(&r);
}
END_TEST

START_TEST(python_dup_and_fork)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_fd.py %d", g_port);
	struct run r;
	run_cmd(&r, cmd);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(said(&r, "tokens", 1), 3);
	ck_assert_int_eq(said(&r, "child_ok", 0), 1);
	long child = said(&r, "child", 0);
	ck_assert_int_eq(r.n, 3);
	assert_whole(row_by_path(&r, "/py-dup"), 3);
	assert_whole(row_by_path(&r, "/py-parent"), 3);
	cJSON *c = row_by_path(&r, "/py-child");
	assert_whole(c, 3);
	ck_assert_int_eq((long)num(c, "pid"), child);
	run_free(&r);
}
END_TEST

START_TEST(node_raw_close_then_reuse)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "node tests/clients/node_fdreuse.mjs %d", g_port);
	struct run r;
	run_cmd(&r, cmd);
	ck_assert_int_eq(said(&r, "tokens", 0), 3);
	ck_assert_int_eq(said(&r, "reused", 0), 1);
	ck_assert_int_eq(r.n, 1);
	assert_whole(row(&r, 0), 3);
	run_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_fd");
	TCase *t = tu_tcase(s, "fd", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, unseen_raw_close_then_reuse);
	tcase_add_test(t, fclose_then_reuse);
	tcase_add_test(t, unseen_close_then_fd_received_by_recvmsg);
	tcase_add_test(t, unseen_close_then_fd_received_by_recvmmsg);
	tcase_add_test(t, unseen_close_then_fd_received_by_syscall_recvmsg);
	tcase_add_test(t, unseen_close_then_fd_received_by_syscall_recvmmsg);
	tcase_add_test(t, unseen_close_then_fd_from_glibcs_own_opens);
	/* pidfd_getfd: a kernel before 5.6 or a seccomp filter refuses it
	 * (ENOSYS, EPERM), a libc before glibc 2.36 has no function of
	 * that name: said not run, never passed */
	const char *no_pidfd = pidfd_usable();
	if (!no_pidfd) {
		tcase_add_test(t, unseen_close_then_fd_from_pidfd_getfd);
		tcase_add_test(t, unseen_close_then_fd_from_syscall_pidfd_getfd);
		tcase_add_test(t, pidfd_getfd_without_libcs_is_the_system_call);
	} else {
		printf("SKIP: test_shim_fd: pidfd_getfd %s: 3 tests not run\n", no_pidfd);
	}
	tcase_add_test(t, dup_copies_stay_traced);
	tcase_add_test(t, bash_dev_tcp);
	tcase_add_test(t, error_queue_reads_are_not_the_stream);
	tcase_add_test(t, fork_keeps_rows_apart);
	tcase_add_test(t, fork_child_sends_parent_reads);
	tcase_add_test(t, fork_several_senders_are_not_paired);
	tcase_add_test(t, fork_child_requests_unread_say_so);
	tcase_add_test(t, fork_child_closing_its_copy);
	tcase_add_test(t, raw_fork_children_log_their_pid);
	tcase_add_test(t, sendfile_body);
	tcase_add_test(t, splice_read_side);
	tcase_add_test(t, msg_trunc_bytes_are_said_unseen);
	tcase_add_test(t, urgent_byte_is_not_the_stream);
	tcase_add_test(t, clients_urgent_byte_is_not_the_stream);
	tcase_add_test(t, preadv2_and_pwritev2_are_seen);
	tcase_add_test(t, connect_again_is_not_a_new_connection);
	tcase_add_test(t, refused_expect_continue);
	tcase_add_test(t, requests_through_a_connect_tunnel);
	tcase_add_test(t, tcp_fast_open_requests_make_rows);
	tcase_add_test(t, seccomp_filtered_host_keeps_its_errno);
	tcase_add_test(t, connect_traced_when_the_address_question_is_refused);
	tcase_add_test(t, not_http_makes_no_row);
	tcase_add_test(t, filter_matches_v4_mapped_peers);
	tcase_add_test(t, preopened_connection_ttft_from_the_request);
	tcase_add_test(t, preopened_nonblocking_connect_unseen_end);
	tcase_add_test(t, closed_in_the_response_head_is_said);
	tcase_add_test(t, responses_read_unseen_are_said);
	tcase_add_test(t, responses_after_lost_request_framing_say_why);
	tcase_add_test(t, server_reset_is_said);
	tcase_add_test(t, interim_other_than_100_is_said);
	tcase_add_test(t, server_closing_unanswered_is_said);
	tcase_add_test(t, interim_only_answer_is_said);
	tcase_add_test(t, a_minor_version_above_one_is_noted);
	tcase_add_test(t, clients_own_shutdown_is_not_the_servers_close);
	tcase_add_test(t, an_answer_a_child_read_is_not_unanswered);
	tcase_add_test(t, dns_is_the_connecting_threads);
	tcase_add_test(t, blocked_recv_across_close_and_reuse);
	tcase_add_test(t, blocked_send_across_close_and_reuse);
	tcase_add_test(t, msg_calls_refused_by_the_kernel_fail_as_ever);
	tcase_add_test(t, unreadable_addresses_fail_as_ever);
	tcase_add_test(t, failed_close_range_keeps_the_connection);
	tcase_add_test(t, python_dup_and_fork);
	tcase_add_test(t, node_raw_close_then_reuse);
	return tu_run(s);
}
