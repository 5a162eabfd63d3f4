/* bench_shim — what the shim costs its host, printed as one table in one run.
 *
 * Each row is a workload run with and without LD_PRELOAD=libttftshim.so:
 *   recv      a traced recv() returning exactly one chunked SSE token event
 *             (vLLM completions format, the data line printed in the table)
 *   send      a traced send() of a whole small request (keep-alive GETs)
 *   untraced  write() + read() of 1 byte through a pipe (fds the shim skips)
 *   probe     ttft-probe, per streamed request (64 tokens) against
 *             build/fixture-server, three rows: the server sending the whole
 *             response at once, in one segment (--cork: the probe reads it
 *             in as many reads in every run), one event every 5 ms
 *             (--token-ms 5: one event a read, as from a real server's
 *             decode steps), and the same as a chat stream (--chat: a role
 *             event first, each chunk with "usage":null as
 *             stream_options' include_usage has them); a row whose runs
 *             read the stream in unlike numbers of reads prints no
 *             percentage
 * Instructions come from callgrind (valgrind), as the slope between runs of
 * N and 2N calls, so start-up and exit cancel; "added" is the slope with the
 * shim minus the slope without. Time comes from interleaved runs (without,
 * with, under strace; medians over ROUNDS rounds), the client timing its calls
 * (wall time, and its thread's CPU time); the strace column is
 * `strace -f -e trace=network,read,write` on the same client, and the last
 * columns say how many times cheaper the shim is: strace's added wall time
 * over the shim's added CPU time (the shim's whole cost is work on the
 * calling thread; the CPU time holds less of the machine's noise), and over
 * its added wall time.
 *
 * usage: bench_shim [SHIM [BUILD_DIR]]   (defaults build/libttftshim.so, build)
 *        bench_shim --profile recv|send|untraced [SHIM [BUILD_DIR]]
 *            keeps the with-shim callgrind profile as callgrind.bench.KIND
 *            (read it with callgrind_annotate --inclusive=yes)
 *        bench_shim --profile probe|paced|chat [SHIM [BUILD_DIR]]
 *            prints the row and keeps its four profiles (without and with
 *            the shim, 10 and 20 requests) as callgrind.bench.KIND.MODE.N;
 *            bench/cg_slope.py gives what the shim adds a request, by
 *            function
 *        bench_shim --instr recv|send|untraced|probe|paced|chat [SHIM [BUILD_DIR]]
 *            prints only that row's instructions (base, added; probe,
 *            paced and chat: that ttft-probe row)
 *        bench_shim --time recv|send|exchange|untraced [SHIM [BUILD_DIR]]
 *            prints only that row's times
 *        bench_shim --time send --polling-peer [SHIM [BUILD_DIR]]
 *            the send row with a server that polls instead of sleeping
 *            (g_polling_peer)
 *        bench_shim --clock
 *            prints only what one read of the clock costs (clock_read_ns)
 *        bench_shim --pages
 *            prints only what the kernel adds to a record in fresh log
 *            pages (log_page_ns)
 * Internal: bench_shim client recv|send|exchange|untraced PORT N [TIMED]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ROUNDS 11
#define TIMED_N 20000 /* calls a round under strace */
#define TIMED_MUL 5   /* … and this many times more plain and with the shim */

static const char g_event[] =
	"data: {\"id\":\"cmpl-9a7e\",\"object\":\"text_completion\","
	"\"created\":1735689600,\"model\":\"tiny\","
	"\"choices\":[{\"index\":0,\"text\":\" tok\",\"logprobs\":null,"
	"\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null}\n\n";
static const char g_headers[] =
	"HTTP/1.1 200 OK\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
	"server: uvicorn\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
	"transfer-encoding: chunked\r\n\r\n";
static const char g_stream_req[] =
	"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char g_small_req[] =
	"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";

/* The exchange row's response: a whole one, as short as HTTP has. */
static const char g_small_resp[] =
	"HTTP/1.1 204 No Content\r\nserver: uvicorn\r\n\r\n";

static char g_chunk[512];
static size_t g_chunk_len;

static void make_chunk(void)
{
	size_t el = sizeof g_event - 1;
	int n = snprintf(g_chunk, sizeof g_chunk, "%zx\r\n%s\r\n", el, g_event);
	g_chunk_len = (size_t)n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_shim: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int full_io(int fd, char *buf, size_t n, int wr)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = wr ? send(fd, buf + off, n - off, MSG_NOSIGNAL)
			       : recv(fd, buf + off, n - off, 0);
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* ---- the client: the only process whose calls are measured ---- */

static int client_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("connect");
	return fd;
}

/* The calling thread's CPU time (user and system). */
static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Prints the nanoseconds per measured call when timed: wall, then the
 * thread's CPU time. */
static int client(const char *kind, int port, long n, int timed)
{
	static char buf[4096];
	int64_t t0 = 0, t1 = 0, c0 = 0, c1 = 0;
	if (!strcmp(kind, "untraced")) {
		int p[2];
		if (pipe(p) != 0)
			die("pipe");
		char c = 'x';
		c0 = cpu_ns();
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
				die("pipe i/o");
		t1 = now_ns();
		c1 = cpu_ns();
		n *= 2; /* two calls an iteration */
	} else if (!strcmp(kind, "send")) {
		int fd = client_connect(port);
		size_t len = sizeof g_small_req - 1;
		c0 = cpu_ns();
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (send(fd, g_small_req, len, 0) != (ssize_t)len)
				die("send");
		t1 = now_ns();
		c1 = cpu_ns();
		close(fd);
	} else if (!strcmp(kind, "exchange")) {
		/* A request, then its response, as HTTP clients send: only
		 * the send is timed. The peer sleeps until each request comes,
		 * with the shim or without (in the send row, a peer that
		 * drains back-to-back sends is woken more often when the
		 * client is slower, and that wake-up is the client's work). */
		int fd = client_connect(port);
		size_t len = sizeof g_small_req - 1, rl = sizeof g_small_resp - 1;
		for (long i = 0; i < n; i++) {
			int64_t c = cpu_ns(), t = now_ns();
			if (send(fd, g_small_req, len, 0) != (ssize_t)len)
				die("send");
			t1 += now_ns() - t;
			c1 += cpu_ns() - c;
			if (recv(fd, buf, rl, MSG_WAITALL) != (ssize_t)rl)
				die("recv response");
		}
		close(fd);
	} else if (!strcmp(kind, "recv")) {
		int fd = client_connect(port);
		if (send(fd, g_stream_req, sizeof g_stream_req - 1, 0) < 0)
			die("send");
		size_t hl = sizeof g_headers - 1;
		if (recv(fd, buf, hl, MSG_WAITALL) != (ssize_t)hl)
			die("recv headers");
		c0 = cpu_ns();
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (recv(fd, buf, g_chunk_len, MSG_WAITALL) != (ssize_t)g_chunk_len)
				die("recv event");
		t1 = now_ns();
		c1 = cpu_ns();
		close(fd);
	} else {
		fprintf(stderr, "bench_shim: unknown client kind %s\n", kind);
		return 2;
	}
	if (timed)
		printf("%.2f %.2f\n", (double)(t1 - t0) / (double)n,
		       (double)(c1 - c0) / (double)n);
	return 0;
}

/* ---- the server: a child of the driver, never measured ---- */

/* --polling-peer: the server reads without blocking, in a loop, instead
 * of sleeping in recv until data comes. A peer that sleeps between the
 * client's back-to-back sends is woken by one send in so many, and how
 * many depends on how fast the client is: a client slowed by the shim
 * wakes it more often, and each wake-up is the kernel's work in the
 * client's send. A polling peer takes that out, to show the shim's own
 * time (it needs a core of its own). */
static int g_polling_peer;

static pid_t serve(const char *kind, int *port, long n)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(ls, 1) != 0 || getsockname(ls, (struct sockaddr *)&sa, &sl) != 0)
		die("listen");
	*port = ntohs(sa.sin_port);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		close(ls);
		return pid;
	}
	/* never outlive the driver (one that exits on a failed run) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	int fd = accept(ls, NULL, NULL);
	if (fd < 0)
		_exit(1);
	char buf[65536];
	if (!strcmp(kind, "exchange")) {
		size_t len = sizeof g_small_req - 1, rl = sizeof g_small_resp - 1;
		for (long i = 0; i < n; i++) {
			if (recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len)
				_exit(1);
			memcpy(buf, g_small_resp, rl);
			if (full_io(fd, buf, rl, 1) != 0)
				_exit(1);
		}
	} else if (!strcmp(kind, "recv")) {
		size_t got = 0, want = sizeof g_stream_req - 1;
		while (got < want) {
			ssize_t k = recv(fd, buf + got, want - got, 0);
			if (k <= 0)
				_exit(1);
			got += (size_t)k;
		}
		/* Events in batches of whole chunks, so each of the client's
		 * exact-size reads returns one event. */
		size_t per = sizeof buf / g_chunk_len;
		size_t hl = sizeof g_headers - 1;
		memcpy(buf, g_headers, hl);
		if (full_io(fd, buf, hl, 1) != 0)
			_exit(1);
		for (size_t i = 0; i < per; i++)
			memcpy(buf + i * g_chunk_len, g_chunk, g_chunk_len);
		for (long left = n; left > 0;) {
			size_t k = (size_t)left < per ? (size_t)left : per;
			if (full_io(fd, buf, k * g_chunk_len, 1) != 0)
				_exit(1);
			left -= (long)k;
		}
	}
	if (g_polling_peer) {
		/* --polling-peer: never asleep, so no send wakes it */
		for (;;) {
			ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
		_exit(0);
	}
	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
	_exit(0);
}

/* ---- the driver ---- */

static char g_self[4096], g_shim[4096], g_build[4096];
static int g_have_valgrind, g_have_strace;
static const char *g_keep; /* --profile: keep the callgrind file here */
static int g_keep_all;      /* the runs without the shim too (probe rows) */

enum mode { PLAIN, SHIM, STRACE };

/* Run argv (NULL-terminated) with stdout into out (may be NULL); with the
 * shim preloaded and a fresh private log when mode == SHIM. */
static int run_cmd(char *const argv[], enum mode mode, char *out, size_t outlen)
{
	char log[128];
	snprintf(log, sizeof log, "/dev/shm/bench_shim.%d.log", (int)getpid());
	int pfd[2];
	if (pipe(pfd) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (mode == SHIM) {
			setenv("LD_PRELOAD", g_shim, 1);
			setenv("TTFT_LOG", log, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	ssize_t k;
	char sink[256];
	while ((k = read(pfd[0], out && got + 1 < outlen ? out + got : sink,
			 out && got + 1 < outlen ? outlen - 1 - got : sizeof sink)) > 0)
		if (out && got + 1 < outlen)
			got += (size_t)k;
	if (out)
		out[got] = 0;
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	unlink(log);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The name a callgrind "fn=", "cfn=", "ob=" or "cob=" value stands for:
 * "(id) name" defines id, "(id)" refers to it, a bare name is itself. */
static const char *cg_name(char *v, char ***tab, size_t *n)
{
	if (*v != '(')
		return v;
	char *end;
	long id = strtol(v + 1, &end, 10);
	if (id < 0 || id > 1000000 || *end != ')')
		return "";
	if (end[1] == ' ') { /* a definition */
		if ((size_t)id >= *n) {
			size_t m = (size_t)id * 2 + 16;
			char **t = realloc(*tab, m * sizeof *t);
			if (!t)
				die("realloc");
			memset(t + *n, 0, (m - *n) * sizeof *t);
			*tab = t;
			*n = m;
		}
		free((*tab)[id]);
		(*tab)[id] = strdup(end + 2);
	}
	return (size_t)id < *n && (*tab)[id] ? (*tab)[id] : "";
}

/* How many calls the profiled program made into libc's recv (its reads of
 * a socket: curl's, or the shim's on curl's behalf): the calls= lines whose
 * callee is recv in libc.so.6. -1 when the file cannot be read. */
static long cg_recv_calls(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char **fns = NULL, **obs = NULL, *line = NULL;
	size_t nfn = 0, nob = 0, cap = 0;
	const char *ob = "", *cob = NULL;
	int to_recv = 0;
	long calls = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = 0;
		if (!strncmp(line, "ob=", 3)) {
			ob = cg_name(line + 3, &obs, &nob);
			cob = NULL;
		} else if (!strncmp(line, "cob=", 4)) {
			cob = cg_name(line + 4, &obs, &nob);
		} else if (!strncmp(line, "fn=", 3)) {
			cg_name(line + 3, &fns, &nfn);
			cob = NULL;
		} else if (!strncmp(line, "cfn=", 4)) {
			to_recv = !strcmp(cg_name(line + 4, &fns, &nfn), "recv");
		} else if (!strncmp(line, "calls=", 6)) {
			const char *o = cob ? cob : ob;
			size_t ol = strlen(o);
			if (to_recv && ol >= 10 && !strcmp(o + ol - 10, "/libc.so.6"))
				calls += atol(line + 6);
			cob = NULL;
		}
	}
	for (size_t i = 0; i < nfn; i++)
		free(fns[i]);
	for (size_t i = 0; i < nob; i++)
		free(obs[i]);
	free(fns);
	free(obs);
	free(line);
	fclose(f);
	return calls;
}

static long g_cg_reads; /* the last callgrind run's cg_recv_calls */

/* Total instructions of argv under callgrind (its own process only). */
static double callgrind(char *const argv[], enum mode mode)
{
	char outf[160], opt[200];
	/* a kept profile is written under its own name, in the working
	 * directory (no rename from /tmp, which may be another file system) */
	int keep = g_keep && (mode == SHIM || g_keep_all);
	if (keep)
		snprintf(outf, sizeof outf, "%s", g_keep);
	else
		snprintf(outf, sizeof outf, "/tmp/bench_shim.%d.cg", (int)getpid());
	snprintf(opt, sizeof opt, "--callgrind-out-file=%s", outf);
	char *vg[32] = {"valgrind", "--tool=callgrind", opt, "-q", NULL};
	int k = 4;
	if (g_keep) /* instruction-level counts, for reading against objdump */
		vg[k++] = "--dump-instr=yes";
	for (int i = 0; argv[i] && k < 31; i++)
		vg[k++] = argv[i];
	vg[k] = NULL;
	if (run_cmd(vg, mode, NULL, 0) != 0) {
		fprintf(stderr, "bench_shim: callgrind run of %s failed\n", argv[0]);
		unlink(outf);
		exit(1);
	}
	FILE *f = fopen(outf, "r");
	double total = -1;
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "summary:", 8) || !strncmp(line, "totals:", 7))
			total = atof(strchr(line, ':') + 1);
	if (f)
		fclose(f);
	g_cg_reads = cg_recv_calls(outf);
	if (!keep)
		unlink(outf);
	if (total < 0) {
		fprintf(stderr, "bench_shim: no totals in callgrind output\n");
		exit(1);
	}
	return total;
}

/* One client run of n calls against a fresh server: callgrind's total, or
 * when timed the wall ns per call (and the CPU ns in *cpu). */
static double client_run(const char *kind, long n, enum mode mode, int timed,
			 double *cpu)
{
	int port = 0;
	pid_t srv = strcmp(kind, "untraced") ? serve(kind, &port, n) : -1;
	char ps[16], ns[24];
	snprintf(ps, sizeof ps, "%d", port);
	snprintf(ns, sizeof ns, "%ld", n);
	char *argv[16] = {g_self, "client", (char *)kind, ps, ns,
			  timed ? "timed" : NULL, NULL};
	double v;
	if (timed) {
		char out[128];
		char *st[16] = {"strace", "-f", "-qq", "-o", "/dev/null", "-e",
				"trace=network,read,write"};
		int k = 7;
		for (int i = 0; argv[i]; i++)
			st[k++] = argv[i];
		st[k] = NULL;
		int rc = run_cmd(mode == STRACE ? st : argv, mode, out, sizeof out);
		if (rc != 0) {
			fprintf(stderr, "bench_shim: %s client failed (%d)\n", kind, rc);
			exit(1);
		}
		char *end;
		v = strtod(out, &end);
		if (cpu)
			*cpu = strtod(end, NULL);
	} else {
		v = callgrind(argv, mode);
	}
	if (srv > 0)
		waitpid(srv, NULL, 0);
	return v;
}

/* Instructions per call added by the shim: slopes over n and 2n calls. */
static double added_instr(const char *kind, long n, double *base)
{
	double p1 = client_run(kind, n, PLAIN, 0, NULL);
	double p2 = client_run(kind, 2 * n, PLAIN, 0, NULL);
	double s1 = client_run(kind, n, SHIM, 0, NULL);
	double s2 = client_run(kind, 2 * n, SHIM, 0, NULL);
	long calls = !strcmp(kind, "untraced") ? 2 * n : n;
	*base = (p2 - p1) / (double)calls;
	return ((s2 - s1) - (p2 - p1)) / (double)calls;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per call: plain and with the shim (medians of wall time), what the
 * shim adds in wall time and in the client's CPU time, and what strace adds
 * in wall time (medians of the differences within each round). The shim's
 * cost is work on the calling thread, so its CPU time is its cost with less
 * of the machine's noise; strace's is the tracer's stops and context
 * switches, which the client's CPU time does not hold, so it is wall time. */
struct timing {
	double plain, shim, shim_add, shim_cpu_add, strace_add;
	/* the rounds' spread of the shim's added time (median absolute
	 * deviation), wall and CPU: an added time no larger is noise */
	double shim_add_mad, shim_cpu_add_mad;
};

/* The median absolute deviation of v[0..n) from m (v is reordered). */
static double mad(double *v, int n, double m);

static void timed(const char *kind, struct timing *t)
{
	/* The plain and shim runs are short: more calls, so a round is long
	 * enough that a neighbour's burst is a small part of it. */
	int untraced = !strcmp(kind, "untraced");
	/* an exchange is a round trip (and eight stops under strace) */
	int exchange = !strcmp(kind, "exchange");
	long n = untraced ? 10 * TIMED_N : exchange ? TIMED_N / 5 : TIMED_N;
	long mul = untraced ? 1 : TIMED_MUL;
	double pl[ROUNDS], sh[ROUNDS], sd[ROUNDS], sc[ROUNDS], st[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		/* interleaved, the order turning each round: drift and the
		 * machine's other work hit all three alike */
		double v[3] = {0, 0, 0}, c[3] = {0, 0, 0};
		for (int k = 0; k < 3; k++) {
			int m = (k + r) % 3;
			if (m == STRACE && (!g_have_strace || untraced))
				continue; /* no strace column for untraced fds */
			v[m] = client_run(kind, m == STRACE ? n : mul * n,
					  (enum mode)m, 1, &c[m]);
		}
		pl[r] = v[PLAIN];
		sh[r] = v[SHIM];
		sd[r] = v[SHIM] - v[PLAIN];
		sc[r] = c[SHIM] - c[PLAIN];
		st[r] = v[STRACE] - v[PLAIN];
	}
	t->plain = median(pl, ROUNDS);
	t->shim = median(sh, ROUNDS);
	t->shim_add = median(sd, ROUNDS);
	t->shim_cpu_add = median(sc, ROUNDS);
	t->strace_add = median(st, ROUNDS);
	t->shim_add_mad = mad(sd, ROUNDS, t->shim_add);
	t->shim_cpu_add_mad = mad(sc, ROUNDS, t->shim_cpu_add);
}

static double mad(double *v, int n, double m)
{
	for (int i = 0; i < n; i++)
		v[i] = v[i] > m ? v[i] - m : m - v[i];
	return median(v, n);
}

/* ttft-probe per streamed request, under callgrind, against the fixture
 * server writing its events token_ms apart ("0": the whole response in one
 * segment, --cork); returns instructions per request, plain and added, and
 * the probe's socket reads per request, plain and with the shim. */
static int probe_instr(const char *token_ms, int chat, double *base, double *added,
		       double reads[2])
{
	char cmd[8192], line[128];
	snprintf(cmd, sizeof cmd, "%s/fixture-server", g_build);
	int pfd[2];
	if (pipe(pfd) != 0)
		die("pipe");
	pid_t srv = fork();
	if (srv == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* as serve's */
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		unsetenv("LD_PRELOAD");
		/* at once: one segment, so that every run's probe reads it
		 * in as many reads (64 writes of an event each split into
		 * reads as the two processes happened to run) */
		execl(cmd, cmd, "--port", "0", "--tokens", "64", "--token-ms",
		      token_ms, strcmp(token_ms, "0") ? NULL : "--cork",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	int port = 0;
	if (!f || !fgets(line, sizeof line, f) || sscanf(line, "port %d", &port) != 1) {
		fprintf(stderr, "bench_shim: %s did not start\n", cmd);
		kill(srv, SIGTERM);
		waitpid(srv, NULL, 0);
		return -1;
	}
	char url[64], probe[4200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	snprintf(probe, sizeof probe, "%s/ttft-probe", g_build);
	double v[2][2];
	long r[2][2];
	const char *keep = g_keep;
	for (int m = 0; m < 2; m++)
		for (int k = 0; k < 2; k++) {
			char runs[16], name[96];
			snprintf(runs, sizeof runs, "%d", 10 * (k + 1));
			char *argv[] = {probe, "--url", url, "--runs", runs,
					"--metrics", "off", "-q",
					chat ? "--chat" : NULL, NULL};
			if (keep) { /* --profile: all four, named by what they are */
				snprintf(name, sizeof name, "%s.%s.%s", keep,
					 m ? "shim" : "plain", runs);
				g_keep = name;
			}
			v[m][k] = callgrind(argv, m ? SHIM : PLAIN);
			r[m][k] = g_cg_reads;
		}
	g_keep = keep;
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	fclose(f);
	*base = (v[0][1] - v[0][0]) / 10;
	*added = (v[1][1] - v[1][0]) / 10 - *base;
	for (int m = 0; m < 2; m++)
		reads[m] = r[m][0] < 0 || r[m][1] < 0 ? -1 : (r[m][1] - r[m][0]) / 10.0;
	return 0;
}

/* The probe's row k: 0 the server's 64 events sent at once, 1 one
 * every 5 ms, 2 the same as a chat stream (--chat: its role event
 * first, each chunk with "usage":null, as include_usage has them). */
#define PROBE_TRIES 3
static int probe_row(int k)
{
	static const char *const ms[] = {"0", "5", "5"};
	static const char *const what[] = {"ttft-probe, streamed request",
					   "ttft-probe, paced: a token / 5 ms",
					   "ttft-probe, paced chat stream"};
	double pb, pa, rd[2];
	/* Like for like: the probe's work depends on how many reads the
	 * stream took, and a run with the shim that read it in fewer pieces
	 * than the run without (or more) compares curl's work, not the
	 * shim's: then no percentage. A paced stream's reads depend on how
	 * the two processes happened to run: measured again, up to
	 * PROBE_TRIES times, before the row says n/a. */
	int tries = 0;
	do {
		if (probe_instr(ms[k], k == 2, &pb, &pa, rd) != 0)
			return 1;
	} while (++tries < PROBE_TRIES && rd[0] > 0 && rd[1] > 0 &&
		 (rd[0] - rd[1] > 0.5 || rd[1] - rd[0] > 0.5));
	if (rd[0] <= 0 || rd[1] <= 0) { /* the profiles named no recv: unchecked */
		printf("%-34s %12.0f %+12.0f   (the shim adds %.1f%%; %s; reads not "
		       "counted: the runs' like-for-like unchecked)\n", what[k], pb, pa,
		       100 * pa / pb, k ? "one event every 5 ms" : "64 events in one segment");
		return 0;
	}
	if (rd[0] - rd[1] > 0.5 || rd[1] - rd[0] > 0.5) {
		printf("%-34s %12.0f %+12.0f   (n/a: unlike runs, %d times: the "
		       "probe read each stream in %.1f reads without the shim and "
		       "%.1f with the last time; run it again)\n", what[k], pb, pa,
		       tries, rd[0], rd[1]);
		return 0;
	}
	char again[48] = "";
	if (tries > 1)
		snprintf(again, sizeof again, "; runs alike at try %d", tries);
	printf("%-34s %12.0f %+12.0f   (the shim adds %.1f%%; %s, %.1f reads a "
	       "request%s)\n", what[k], pb, pa, 100 * pa / pb,
	       k ? "one event a read" : "64 events in one segment", rd[1], again);
	return 0;
}

/* What the kernel adds to each record the log gets, apart from the shim's
 * own instructions: 128-byte records written into fresh pages of a
 * /dev/shm file the way the log grows (a 1 MiB segment allocated with
 * fallocate and mapped, each 64 KiB of it populated with
 * MADV_POPULATE_WRITE before its 512 records are written:
 * shim/core/ttft_log.c) against the same records written again into
 * those pages once mapped. ns a record, the fastest of 5 runs of 16 MiB
 * each; -1 if /dev/shm fails. */
static double log_page_ns(void)
{
	const size_t seg = 1u << 20, nseg = 16, per = seg / 128;
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/bench_shim.pages.%d", (int)getpid());
	double best = -1;
	for (int rep = 0; rep < 5; rep++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)(seg * nseg)) != 0) {
			if (fd >= 0)
				close(fd);
			unlink(path);
			return -1;
		}
		char *m[16];
		double t0 = now_ns();
		for (size_t s = 0; s < nseg; s++) {
			if (fallocate(fd, 0, (off_t)(s * seg), (off_t)seg) != 0)
				die("fallocate");
			m[s] = mmap(NULL, seg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				    (off_t)(s * seg));
			if (m[s] == MAP_FAILED)
				die("mmap");
			for (size_t r = 0; r < per; r++) {
				if (r % 512 == 0) /* errors: faults, as the log */
					madvise(m[s] + r * 128, 512 * 128,
						MADV_POPULATE_WRITE);
				volatile uint64_t *w = (volatile uint64_t *)(void *)(m[s] + r * 128);
				for (int k = 0; k < 16; k++)
					w[k] = r + (uint64_t)k;
			}
		}
		double t1 = now_ns();
		for (size_t s = 0; s < nseg; s++)
			for (size_t r = 0; r < per; r++) {
				volatile uint64_t *w = (volatile uint64_t *)(void *)(m[s] + r * 128);
				for (int k = 0; k < 16; k++)
					w[k] = r + (uint64_t)k + 1;
			}
		double t2 = now_ns();
		for (size_t s = 0; s < nseg; s++)
			munmap(m[s], seg);
		close(fd);
		unlink(path);
		double d = ((t1 - t0) - (t2 - t1)) / (double)(nseg * per);
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}

/* What one read of the shim's clock costs here: CLOCK_MONOTONIC through
 * libc (the vDSO, as the shim reads it), ns a read, the fastest of 5 runs
 * of 1,000,000 reads. A traced send reads it twice (before and after the
 * call: its request's start and the instant it was sent), a traced recv
 * once: a floor under each row's added time that no shim code can go
 * below while it stamps those instants. */
static double clock_read_ns(void)
{
	double best = -1;
	for (int rep = 0; rep < 5; rep++) {
		struct timespec ts;
		int64_t sum = 0;
		double t0 = now_ns();
		for (int i = 0; i < 1000000; i++) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			sum += ts.tv_nsec; /* every read used */
		}
		double d = (now_ns() - t0) / 1e6;
		if (sum == 42)
			d += 1e-9;
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}

/* The machine, for the record (docs/performance.md). */
static void machine(void)
{
	char model[256] = "unknown CPU", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	double load = -1;
	f = fopen("/proc/loadavg", "r");
	if (f && fscanf(f, "%lf", &load) != 1)
		load = -1;
	if (f)
		fclose(f);
	printf("machine: %s, %ld cores online, load average %.2f\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), load);
}

/* "how many times" a over b, or why there is no number. */
/* "how many times" a over b, or why there is no number: b not above 0,
 * or not above its rounds' spread (a ratio to noise is no measurement). */
static void ratio(char *out, size_t len, double a, double b, double spread)
{
	if (b <= 0)
		snprintf(out, len, "n/a (<=0)");
	else if (b <= spread)
		snprintf(out, len, "n/a (noise)");
	else
		snprintf(out, len, "%.0f", a / b);
}

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

int main(int argc, char **argv)
{
	make_chunk();
	if (argc > 4 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atol(argv[4]), argc > 5);
	signal(SIGPIPE, SIG_IGN);
	const char *profile = NULL, *only = NULL, *only_time = NULL;
	if (argc > 2 && !strcmp(argv[1], "--profile")) {
		profile = argv[2];
		argc -= 2;
		argv += 2;
	} else if (argc > 2 && !strcmp(argv[1], "--instr")) {
		only = argv[2];
		argc -= 2;
		argv += 2;
	} else if (argc > 1 && !strcmp(argv[1], "--clock")) {
		printf("clock: %.1f ns a CLOCK_MONOTONIC read (a traced send reads "
		       "it twice, a recv once)\n", clock_read_ns());
		return 0;
	} else if (argc > 1 && !strcmp(argv[1], "--pages")) {
		double pg = log_page_ns();
		printf("log pages: %+.1f ns a 128-byte record (fresh pages against "
		       "mapped ones)\n", pg);
		return pg < 0;
	} else if (argc > 2 && !strcmp(argv[1], "--time")) {
		only_time = argv[2];
		if (argc > 3 && !strcmp(argv[3], "--polling-peer")) {
			if (strcmp(only_time, "send")) {
				fprintf(stderr, "bench_shim: --polling-peer is for the "
					"send row (the one whose peer drains "
					"back-to-back sends)\n");
				return 2;
			}
			g_polling_peer = 1;
			argc--;
			argv++;
		}
		argc -= 2;
		argv += 2;
	}
	const char *kind = profile ? profile : only ? only : only_time;
	int probe_kind = kind && (!strcmp(kind, "probe") || !strcmp(kind, "paced") ||
				  !strcmp(kind, "chat"));
	int probe_k = !kind ? 0 : !strcmp(kind, "paced") ? 1 : !strcmp(kind, "chat") ? 2 : 0;
	int exchange_kind = kind && !strcmp(kind, "exchange");
	if (kind && strcmp(kind, "recv") && strcmp(kind, "send") &&
	    strcmp(kind, "untraced") && !((only || profile) && probe_kind) &&
	    !(only_time && exchange_kind)) {
		fprintf(stderr, "bench_shim: no row %s (recv, send, untraced%s)\n",
			kind, only || profile ? ", probe, paced, chat"
			      : only_time ? ", exchange" : "");
		return 2;
	}
	const char *shim = argc > 1 ? argv[1] : "build/libttftshim.so";
	const char *build = argc > 2 ? argv[2] : "build";
	if (!realpath(shim, g_shim) || !realpath(build, g_build) ||
	    !realpath("/proc/self/exe", g_self)) {
		fprintf(stderr, "bench_shim: no shim at %s or no build dir %s (run make)\n",
			shim, build);
		return 1;
	}
	g_have_valgrind = have("valgrind");
	g_have_strace = have("strace");
	if (profile) {
		static char keep[64];
		snprintf(keep, sizeof keep, "callgrind.bench.%s", profile);
		g_keep = keep;
		if (probe_kind) {
			if (!g_have_valgrind) {
				fprintf(stderr, "bench_shim: valgrind is not installed\n");
				return 1;
			}
			g_keep_all = 1;
			if (probe_row(probe_k) != 0)
				return 1;
			printf("%s.{plain,shim}.{10,20} (per function: python3 "
			       "bench/cg_slope.py %s 10)\n", keep, keep);
			return 0;
		}
		client_run(profile, 2000, SHIM, 0, NULL);
		printf("%s\n", keep);
		return 0;
	}
	if (only && probe_kind) {
		if (!g_have_valgrind) {
			printf("instructions: n/a (valgrind is not installed)\n");
			return 1;
		}
		return probe_row(probe_k);
	}
	if (only) {
		double b, a = added_instr(only, strcmp(only, "untraced") ? 2000 : 20000, &b);
		printf("%s: base %.1f, added %+.1f instructions a call\n", only, b, a);
		return 0;
	}

	if (only_time) {
		struct timing t;
		timed(only_time, &t);
		machine();
		printf("%s%s: ns base %.1f, shim %.1f, added %+.1f wall %+.1f cpu "
		       "(rounds' spread %.1f, %.1f), strace %+.0f wall\n", only_time,
		       g_polling_peer ? " (polling peer)" : "", t.plain, t.shim,
		       t.shim_add, t.shim_cpu_add, t.shim_add_mad,
		       t.shim_cpu_add_mad, t.strace_add);
		return 0;
	}
	/* the exchange row: the send row's call, timed between requests and
	 * their responses (its instructions are the send row's) */
	static const char *const kinds[] = {"recv", "send", "exchange", "untraced"};
	static const char *const label[] = {
		"traced recv, one SSE token event", "traced send, whole request",
		"  the same, request then response", "untraced fd call (pipe)"};
	enum { NROW = 4, UNTRACED = 3, EXCHANGE = 2 };
	double ins[NROW] = {0}, base[NROW] = {0};
	struct timing tm[NROW];
	for (int i = 0; i < NROW; i++) {
		if (g_have_valgrind && i != EXCHANGE)
			ins[i] = added_instr(kinds[i], i == UNTRACED ? 20000 : 2000,
					     &base[i]);
		timed(kinds[i], &tm[i]);
	}
	machine();
	printf("token event: %zu-byte data line (vLLM completions chunk, %zu bytes "
	       "with chunk framing); request: %zu bytes\n",
	       sizeof g_event - 3, g_chunk_len, sizeof g_small_req - 1);
	printf("%-34s %11s %11s %9s %9s %9s %9s %11s %9s %9s\n", "per call",
	       "instr base", "instr added", "ns base", "ns shim", "ns added",
	       "cpu added", "ns strace+", "x (cpu)", "x (wall)");
	for (int i = 0; i < NROW; i++) {
		char ib[24] = "n/a", ia[24] = "n/a", st[24] = "n/a";
		char rc[24] = "n/a", rw[24] = "n/a";
		if (g_have_valgrind && i != EXCHANGE) {
			snprintf(ib, sizeof ib, "%.0f", base[i]);
			snprintf(ia, sizeof ia, "%+.0f", ins[i]);
		} else if (g_have_valgrind) {
			snprintf(ib, sizeof ib, "%.0f", base[1]);
			snprintf(ia, sizeof ia, "%+.0f", ins[1]);
		}
		if (g_have_strace && i != UNTRACED) {
			snprintf(st, sizeof st, "%+.0f", tm[i].strace_add);
			ratio(rc, sizeof rc, tm[i].strace_add, tm[i].shim_cpu_add,
			      tm[i].shim_cpu_add_mad);
			ratio(rw, sizeof rw, tm[i].strace_add, tm[i].shim_add,
			      tm[i].shim_add_mad);
		}
		printf("%-34s %11s %11s %9.1f %9.1f %+9.1f %+9.1f %11s %9s %9s\n",
		       label[i], ib, ia, tm[i].plain, tm[i].shim, tm[i].shim_add,
		       tm[i].shim_cpu_add, st, rc, rw);
	}
	if (g_have_valgrind) {
		probe_row(0);
		probe_row(1);
		probe_row(2);
	} else {
		printf("instructions: n/a (valgrind is not installed)\n");
	}
	if (!g_have_strace)
		printf("strace: n/a (not installed)\n");
	double pg = log_page_ns();
	if (pg >= 0)
		printf("log pages: a 128-byte record written to fresh log pages costs "
		       "%+.1f ns more than to pages already mapped (the kernel's "
		       "fallocate, and its pages mapped 64 KiB at a time, in every "
		       "traced call's added time above)\n", pg);
	printf("clock: a CLOCK_MONOTONIC read costs %.1f ns here (a traced send "
	       "reads it twice, before and after the call, a traced recv once: in "
	       "those rows' added time above)\n", clock_read_ns());
	printf("instructions: callgrind slopes over N and 2N calls (start-up cancels; "
	       "under valgrind clock_gettime is a syscall, natively the vDSO adds "
	       "~20-60 a read). time: medians over %d interleaved rounds (%d calls "
	       "plain and with the shim, %d under strace); cpu added: the client "
	       "thread's CPU time; x (cpu): strace's added wall time over the "
	       "shim's added CPU time, x (wall): over its added wall time "
	       "(n/a (noise): that added time is no larger than its rounds' "
	       "median absolute deviation); "
	       "request then response: each send timed alone, %d exchanges "
	       "plain and with the shim, %d under strace, the peer asleep until "
	       "each request, its instructions the send row's\n",
	       ROUNDS, TIMED_MUL * TIMED_N, TIMED_N, TIMED_MUL * TIMED_N / 5,
	       TIMED_N / 5);
	return 0;
}
