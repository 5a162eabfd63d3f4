/* bench_analyze — how fast `ttft-analyze --json` reads a log, and how much
 * memory it takes, on synthetic logs of three sizes written with the shim's
 * own writer (shim/core/ttft_log.c): 64 concurrent keep-alive streams, each
 * request a role event, 32 token events and [DONE], a fresh connection
 * every 100 requests, records written slightly out of time order as
 * threads do. Prints records per CPU second (the analyzer's user + system
 * time: wall time on a shared machine measures the neighbours too; the
 * fastest of RUNS runs) and peak RSS against the log's size, then how the
 * CPU time a record grows from the smallest log to the largest; last, the
 * same for a log of short requests (GET /health on keep-alive
 * connections, 3 records each: its request sent by one call, its
 * response's headers, its end), where the analysis' request records weigh
 * most against the log, and where its time goes, in one process: reading
 * the log in time order with nothing done with the records, the analysis
 * (its read included), writing its JSON (the two parts any analyzer of
 * that log has to do: read it, write its rows), and fresh memory for as
 * many request records as it made (what an analyzer that holds each
 * request's record until the end adds to those two).
 * Each log's last column: the same for ttft-analyze's default output, the
 * table (no --json).
 * usage: bench_analyze [BUILD_DIR [RECORDS...]]  (default build; 250000
 * 1000000 4000000). Busy machines: compare runs, not absolute numbers.
 * bench_analyze --write PATH RECORDS [3|4] writes one such log (3 or 4:
 * of short requests, 4 with one token event each) and keeps it, for a
 * profiler (callgrind, perf) or /usr/bin/time to run ttft-analyze on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ttft_analyze.h"
#include "ttft_clock.h"
#include "ttft_json.h"
#include "ttft_log.h"
#include "ttft_logread.h"
#include "ttft_logsort.h"

#define STREAMS 64
#define TOKENS 32
#define PER_CONN 100
#define RUNS 5 /* runs of the analyzer on each log */
#define SHORT_RECORDS 900000 /* the short requests' log: 300000 requests */

struct stream {
	uint64_t conn;
	uint32_t seq;     /* request on this connection */
	int step;         /* the next event of the request */
	int fd, tid;
};

static struct ttft_log g_log;
static int64_t g_t = 1000000000;
static uint64_t g_n;
static int g_short; /* records a short request (3, 4), 0: streams */

static void put_flags(uint16_t kind, uint16_t flags, const struct stream *s, int64_t a,
		      int64_t b, const char *text)
{
	if (ttft_log_put(&g_log, &(struct ttft_event){
		    .kind = kind, .flags = flags, .t_ns = g_t, .pid = 4242, .tid = s->tid,
		    .fd = s->fd,
		    .conn = kind == TTFT_EV_DNS_BEGIN || kind == TTFT_EV_DNS_END ? 0 : s->conn,
		    .a = a, .b = b, .seq = s->seq, .text = text,
		    .text_len = text ? strnlen(text, TTFT_REC_TEXT) : 0}))
		g_n++;
}

static void put(uint16_t kind, const struct stream *s, int64_t a, int64_t b,
		const char *text)
{
	put_flags(kind, 0, s, a, b, text);
}

/* One record of a short request: sent by one call, answered at once. */
static void short_step(struct stream *s, int k)
{
	if (k == 0) {
		put_flags(TTFT_EV_REQ_BEGIN, TTFT_F_SENT, s, 40, g_t + 500, "GET /health");
	} else if (k == 1) {
		put_flags(TTFT_EV_RESP_HEADERS, g_short == 4 ? TTFT_F_SSE : 0, s, 200, 50,
			  NULL);
	} else if (k == 2 && g_short == 4) {
		put(TTFT_EV_SSE_TOKEN, s, 0, 0, NULL);
	} else {
		put(TTFT_EV_RESP_END, s, 20, g_short == 4, NULL);
		s->step = 0;
		if (++s->seq == PER_CONN) {
			put(TTFT_EV_CLOSE, s, 0, 0, NULL);
			s->conn = 0;
		}
	}
}

/* One event of stream s; times advance 1-3 us an event. */
static void step(struct stream *s)
{
	g_t += 1000 + (int64_t)(g_n % 3) * 1000;
	if (s->conn == 0) {
		s->conn = ttft_log_new_conn(&g_log);
		s->seq = 0;
		put(TTFT_EV_DNS_BEGIN, s, 0, 0, "localhost");
		put(TTFT_EV_DNS_END, s, 0, 0, "localhost");
		put(TTFT_EV_CONNECT_BEGIN, s, 0, 0, "127.0.0.1:8000");
		put(TTFT_EV_CONNECT_END, s, 0, 0, NULL);
		put(TTFT_EV_ESTABLISHED, s, 0, 0, NULL);
		return;
	}
	int k = s->step++;
	if (g_short)
		short_step(s, k);
	else if (k == 0)
		put(TTFT_EV_REQ_BEGIN, s, 0, 0, "POST /v1/completions");
	else if (k == 1)
		put(TTFT_EV_REQ_SENT, s, 300, 0, NULL);
	else if (k == 2)
		put(TTFT_EV_RESP_HEADERS, s, 200, 50, NULL);
	else if (k == 3)
		put(TTFT_EV_SSE_EMPTY, s, 0, 0, NULL);
	else if (k < 4 + TOKENS)
		put(TTFT_EV_SSE_TOKEN, s, 0, k - 4, NULL);
	else if (k == 4 + TOKENS)
		put(TTFT_EV_SSE_DONE, s, 0, 0, NULL);
	else {
		put(TTFT_EV_RESP_END, s, 4000, 0, NULL);
		s->step = 0;
		if (++s->seq == PER_CONN) {
			put(TTFT_EV_CLOSE, s, 0, 0, NULL);
			s->conn = 0;
		}
	}
}

static int write_log(const char *path, uint64_t records)
{
	const char *why;
	unlink(path);
	if (ttft_log_open(&g_log, path, (records + 1024) * TTFT_REC_SIZE, &why) != 0) {
		fprintf(stderr, "bench_analyze: cannot create %s: %s\n", path, why);
		return -1;
	}
	struct stream st[STREAMS] = {{0}};
	for (int i = 0; i < STREAMS; i++) {
		st[i].fd = 10 + i;
		st[i].tid = 5000 + i;
	}
	g_n = 0;
	/* round robin, but every 7th turn two streams swap: a thread
	 * preempted between its clock read and its reservation */
	for (uint64_t i = 0; g_n < records; i++) {
		int a = (int)(i % STREAMS);
		if (i % 7 == 3 && a + 1 < STREAMS) {
			int64_t t = g_t;
			g_t += 2000;
			step(&st[a + 1]);
			g_t = t;
			step(&st[a]);
			i++;
		} else {
			step(&st[a]);
		}
	}
	ttft_log_close(&g_log);
	return 0;
}

/* Runs the analyzer on path RUNS times, its output to /dev/null: with
 * --json when json, else its default table. The least CPU time (user +
 * system) and that run's wall time, the largest peak RSS; rc 0. */
static int runs(const char *tool, const char *path, int json, double *best_cpu,
		double *best_wall, double *rss)
{
	/* the best of RUNS: on a shared machine the others' work only ever
	 * adds time */
	int rc = 0;
	*best_cpu = *best_wall = *rss = 0;
	for (int run = 0; run < RUNS && rc == 0; run++) {
		int64_t t0 = ttft_now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(126);
			if (json)
				execl(tool, tool, "--json", path, (char *)NULL);
			else
				execl(tool, tool, path, (char *)NULL);
			_exit(127);
		}
		int st;
		struct rusage ru;
		if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
			perror("bench_analyze");
			rc = 1;
			break;
		}
		double s = (double)(ttft_now_ns() - t0) / 1e9;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench_analyze: %s failed (status %d)\n", tool, st);
			rc = 1;
		}
		double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		if (run == 0 || cpu < *best_cpu)
			*best_cpu = cpu, *best_wall = s;
		if ((double)ru.ru_maxrss / 1024 > *rss)
			*rss = (double)ru.ru_maxrss / 1024;
	}
	return rc;
}

/* Writes a log of `records` and runs the analyzer on it RUNS times with
 * --json, then RUNS times for its table (the default output): one row of
 * the table (rc 0), *ns the CPU ns a record of --json. */
static int row(const char *tool, const char *path, uint64_t records, double *ns)
{
	if (write_log(path, records) != 0)
		return 1;
	double log_mib = (double)(TTFT_LOG_HDR_SIZE + (records + 1024) * TTFT_REC_SIZE) /
			 (1 << 20);
	fflush(stdout);
	double best_cpu, best_wall, rss, t_cpu, t_wall, t_rss;
	int rc = runs(tool, path, 1, &best_cpu, &best_wall, &rss);
	if (rc == 0)
		rc = runs(tool, path, 0, &t_cpu, &t_wall, &t_rss);
	unlink(path);
	if (rc == 0)
		printf("%10llu %9.1f %9.3f %9.3f %14.0f %10.1f %9.2f %14.0f\n",
		       (unsigned long long)g_n, log_mib, best_wall, best_cpu,
		       (double)g_n / best_cpu, rss, rss / log_mib, (double)g_n / t_cpu);
	*ns = best_cpu * 1e9 / (double)g_n;
	return rc;
}

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void count_rec(void *ctx, struct ttft_rec *e)
{
	*(uint64_t *)ctx += e->kind;
}
/* The reader each windowed pass uses for this log where none is asked
 * for (ttft_logsort.h), 0 when the log cannot be read. */
static int picked_reader(const char *path)
{
	struct ttft_log_view v;
	char err[256];
	uint64_t sum = 0;
	int r = 0;
	unsetenv("TTFT_LOG_READER");
	if (ttft_log_view_open(&v, path, err, sizeof err) == 0) {
		if (ttft_log_each(&v, TTFT_LOGSORT_WINDOW, count_rec, &sum) == 0)
			r = v.reader;
		ttft_log_view_close(&v);
	}
	return r;
}

/* The largest log's --json again, read through its mapping and with
 * pread into a ring (TTFT_LOG_READER), each the best of RUNS, and which
 * of the two the analyzer picks on this machine. */
static int readers(const char *tool, const char *path, uint64_t records)
{
	if (write_log(path, records) != 0)
		return 1;
	fflush(stdout); /* a child's freopen would write it again */
	double cpu[2], wall, rss;
	static const char *const how[] = {"map", "pread"};
	int rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++) {
		setenv("TTFT_LOG_READER", how[k], 1);
		rc = runs(tool, path, 1, &cpu[k], &wall, &rss);
	}
	int pick = rc == 0 ? picked_reader(path) : 0;
	unlink(path);
	unsetenv("TTFT_LOG_READER");
	if (rc == 0 && pick)
		printf("  the %llu records read through the log's mapping: %.0f records/cpu_s; "
		       "with pread into a ring: %.0f; picked here: %s\n",
		       (unsigned long long)g_n, (double)g_n / cpu[0], (double)g_n / cpu[1],
		       pick == TTFT_READER_MAP ? "the mapping" : pick == TTFT_READER_RING
		       ? "pread into a ring" : "pread in windows");
	return rc != 0 || !pick;
}


/* The CPU seconds of fresh memory for n request records, as the
 * analysis holds them: pages asked for 1 MiB at a time
 * (MADV_POPULATE_WRITE, as ttft_assemble.c's populate_reqs), each
 * record's first byte written, the memory given back; -1 when mmap
 * fails. */
static double fresh_records_s(size_t n)
{
	size_t len = n * sizeof(struct ttft_record), step = 1u << 20;
	double t0 = cpu_now();
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	for (size_t off = 0; off < len; off += step)
		(void)madvise(m + off, len - off < step ? len - off : step, MADV_POPULATE_WRITE);
	for (size_t off = 0; off < len; off += sizeof(struct ttft_record))
		m[off] = 1;
	munmap(m, len);
	return cpu_now() - t0;
}

/* In a child of its own (fresh memory, as ttft-analyze has): the CPU
 * seconds of reading the log in time order with nothing done with the
 * records (out[0]), of ttft_analyze_file, which reads it too (out[1]),
 * of writing its --json to /dev/null (out[2]), and of fresh memory for
 * as many request records as it made (out[3], after the analysis' own
 * was given back); out[4] is how many. 0 when it ran. */
static int phase_run(const char *path, double out[5])
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		double r[5] = {-1, -1, -1, -1, 0}, t0 = cpu_now();
		struct ttft_log_view v;
		char err[256];
		uint64_t sum = 0;
		if (ttft_log_view_open(&v, path, err, sizeof err) == 0) {
			if (ttft_log_each(&v, TTFT_LOGSORT_WINDOW, count_rec, &sum) == 0)
				r[0] = cpu_now() - t0;
			ttft_log_view_close(&v);
		}
		struct ttft_analysis a;
		t0 = cpu_now();
		if (r[0] >= 0 && ttft_analyze_file(path, NULL, &a, err, sizeof err) == 0) {
			r[1] = cpu_now() - t0;
			FILE *f = fopen("/dev/null", "w");
			struct ttft_json j;
			t0 = cpu_now();
			if (f && ttft_json_init(&j, f, 0) == 0) {
				ttft_analysis_json(&j, &a);
				if (ttft_json_flush(&j) == 0 && fflush(f) == 0)
					r[2] = cpu_now() - t0;
				ttft_json_free(&j);
			}
			if (f)
				fclose(f);
			r[4] = (double)a.nreqs;
			ttft_analysis_free(&a);
			if (r[2] >= 0)
				r[3] = fresh_records_s((size_t)r[4]);
		}
		_exit(write(fd[1], r, sizeof r) == (ssize_t)sizeof r && r[3] >= 0 && sum ? 0 : 1);
	}
	close(fd[1]);
	int st = 0, ok = pid > 0 && read(fd[0], out, 5 * sizeof *out) == 5 * sizeof *out;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Where a short log's time goes, the least of RUNS runs each: the two
 * parts no analyzer of this log can skip (reading it, writing its rows)
 * against the rest, and what holding a record for each of its requests
 * until the end adds to those two (the memory's pages). */
static int phases(const char *path, uint64_t records)
{
	if (write_log(path, records) != 0)
		return 1;
	double best[4] = {0, 0, 0, 0}, r[5];
	int rc = 0;
	for (int run = 0; run < RUNS && rc == 0; run++) {
		if (phase_run(path, r) != 0) {
			fprintf(stderr, "bench_analyze: the phase run failed\n");
			rc = 1;
		}
		for (int k = 0; k < 4 && rc == 0; k++)
			if (run == 0 || r[k] < best[k])
				best[k] = r[k];
	}
	unlink(path);
	if (rc == 0) {
		double floor_s = best[0] + best[2];
		printf("  in one process (CPU s, the least of %d): read in time order %.3f, "
		       "analyse (its read included) %.3f, write the JSON %.3f;\n"
		       "  read + write alone: %.0f records/cpu_s, the most this log's rows "
		       "allow with nothing assembled\n",
		       RUNS, best[0], best[1], best[2], (double)g_n / floor_s);
		printf("  fresh memory for its %.0f request records (%zu bytes each, %.1f MiB, "
		       "their pages asked for and given back): %.3f;\n"
		       "  read + write + that: %.0f records/cpu_s, the most with every "
		       "request's record held until the end\n",
		       r[4], sizeof(struct ttft_record),
		       r[4] * (double)sizeof(struct ttft_record) / (1 << 20), best[3],
		       (double)g_n / (floor_s + best[3]));
	}
	return rc;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "--write")) {
		g_short = argc == 5 ? atoi(argv[4]) : 0;
		if (g_short != 0 && g_short != 3 && g_short != 4) {
			fprintf(stderr, "bench_analyze: records a request: 3 or 4, not %s\n",
				argv[4]);
			return 2;
		}
		return write_log(argv[2], strtoull(argv[3], NULL, 10)) != 0;
	}
	const char *build = argc > 1 ? argv[1] : "build";
	uint64_t sizes[8] = {250000, 1000000, 4000000};
	int nsizes = 3;
	if (argc > 2) {
		nsizes = 0;
		for (int i = 2; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = strtoull(argv[i], NULL, 10);
	}
	char tool[4096], path[256];
	snprintf(tool, sizeof tool, "%s/ttft-analyze", build);
	snprintf(path, sizeof path, "/dev/shm/ttft-bench-analyze.%d.log", (int)getpid());
	printf("ttft-analyze --json on synthetic logs (%d streams, %d tokens a request):\n",
	       STREAMS, TOKENS);
	printf("%10s %9s %9s %9s %14s %10s %9s %14s\n", "records", "log_MiB", "wall_s", "cpu_s",
	       "records/cpu_s", "rss_MiB", "rss/log", "table rec/cpu");
	int rc = 0;
	double first_ns = 0, last_ns = 0, ns; /* CPU ns a record, smallest and largest log */
	for (int i = 0; i < nsizes && rc == 0; i++) {
		rc = row(tool, path, sizes[i], &ns);
		if (i == 0)
			first_ns = ns;
		last_ns = ns;
	}
	if (rc == 0 && nsizes > 1)
		printf("CPU a record: %.0f ns at the smallest log, %.0f ns at the largest (x%.2f: "
		       "1.00 is linear); each row the fastest of %d runs, rss the largest; "
		       "the last column: the same log's default table (no --json), "
		       "records a CPU second\n",
		       first_ns, last_ns, last_ns / first_ns, RUNS);
	if (rc == 0)
		rc = readers(tool, path, sizes[nsizes - 1]);
	if (rc != 0)
		return rc;
	/* the log's size is in its records, the analysis' in its requests:
	 * short ones weigh the request records most against the log */
	g_short = 3;
	printf("short requests (GET /health, 3 records each, keep-alive):\n");
	rc = row(tool, path, SHORT_RECORDS, &ns);
	if (rc == 0)
		rc = phases(path, SHORT_RECORDS);
	g_short = 0;
	return rc;
}
