/* testutil.h — helpers shared by the Check suites: fixture files, an event
 * collector for the sniffer, the fixture server and its ground truth,
 * running commands, a scratch directory that nothing outlives, timeouts. */
#ifndef TTFT_TESTUTIL_H
#define TTFT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fixture_client.h"
#include "ttft_clock.h"
#include "ttft_http.h"
#include "ttft_log.h"

#define TU_MAXEV 8192

struct tu_events {
	struct ttft_http_event ev[TU_MAXEV];
	char text[TU_MAXEV][TTFT_REC_TEXT + 1];
	uint8_t read_end[TU_MAXEV]; /* TTFT_F_READ_END, taken off the flags */
	size_t n;
};

/* Collects one event; a run of token events (TTFT_F_RUN) as the token
 * events it stands for, as the log's readers take it. */
void tu_collect(void *ctx, const struct ttft_http_event *ev);
/* "H T T E D END": one letter-word per event kind, for sequence checks. */
const char *tu_kinds(const struct tu_events *e, char *buf, size_t len);
size_t tu_count(const struct tu_events *e, unsigned kind);

char *tu_read_file(const char *path, size_t *len);
/* Write text into path (made or emptied); the test fails if it cannot. */
void tu_write_file(const char *path, const char *text);
/* tests/fixtures/llamacpp/NAME.http split into request and response. */
void tu_load_http(const char *name, char **req, size_t *reqlen, char **resp,
		  size_t *resplen);

/* A vLLM-format streamed response (uvicorn headers, one chunk per event). */
char *tu_vllm_stream(int chat, int crlf, int chunked, int ntok, int usage,
		     size_t *len);

/* Start build/fixture-server with ARGS, its --truth in the scratch
 * directory; returns its port once it listens. It dies with the test that
 * started it (a failed assertion skips the teardown). */
int tu_fixture_start(const char *args, pid_t *pid);

/* Start tests/support/fd_host.c's server (fd_host serve); returns its port
 * once it listens. It dies with the test (tu_spawn); tu_stop(*pid). */
int tu_fd_host_start(pid_t *pid);
void tu_fixture_stop(pid_t pid);
/* What fixture PID has recorded so far: every request whose response the
 * client has read to its end is there. Free with tu_truth_free. */
void tu_fixture_truth(pid_t pid, struct tu_truth *t);
/* The --truth path of fixture PID (for a client that waits on it). */
void tu_fixture_truth_path(pid_t pid, char *buf, size_t len);
/* A TCP port on 127.0.0.1 that is free now, below the kernel's ephemeral
 * range (so no client's connect() takes it before a server binds it). */
int tu_free_port(void);
/* Run a shell command; stdout (malloc'd) into *out if out; returns the exit
 * status (or -1). */
int tu_sh(const char *cmd, char **out);
const char *tu_build_dir(void);
/* Run every test of s inside a fresh scratch directory (under /dev/shm,
 * $TTFT_TEST_DIR for child processes) that is removed afterwards, whatever
 * the tests did; the exit status for main(). */
struct Suite;
struct TCase;
int tu_run(struct Suite *s);
/* Start `sh -c "exec CMD"` with stdout and stderr into outfile; it dies
 * with the test (PR_SET_PDEATHSIG). Returns its pid. */
pid_t tu_spawn(const char *cmd, const char *outfile);
/* The step through an exhaustive test's cases: $TTFT_TEST_STRIDE (make
 * sanitize and make tsan pass SAN_STRIDE, 1 unless asked: a slower machine
 * may take 1 case in N there), else 1. Above 1 it prints a NOTE line naming
 * what (the test) and the step. */
int tu_stride(const char *what);
/* Start argv (execvp) as a terminal runs a foreground job: in a process
 * group of its own (the pid), SIGINT at its default, stdout and stderr
 * into outfile. */
pid_t tu_spawn_group(char *const argv[], const char *outfile);
/* Wait up to timeout_s for pid to end: 1, its status in *st; else its
 * group is killed (SIGKILL), it is reaped, and 0. */
int tu_wait_exit(pid_t pid, int timeout_s, int *st);
/* Whether pid is gone, or a zombie (an orphan init has yet to reap). */
int tu_pid_gone(pid_t pid);
/* Wait up to timeout_s until a and b are both gone (tu_pid_gone): 1, else 0. */
int tu_wait_gone(pid_t a, pid_t b, int timeout_s);
/* Wait (up to timeout_s) for a line of file that contains marker; the
 * rest of that line after the marker into out. 0, or -1 when the time ran
 * out or pid (if > 0) exited first. */
int tu_wait_line(const char *file, const char *marker, char *out, size_t outlen,
		 int timeout_s, pid_t pid);
/* Wait until PID has taken signal sig off its pending set (its handler
 * has run): /proc/PID/status's ShdPnd. */
void tu_wait_delivered(pid_t pid, int sig);

struct cJSON;
/* The value at a dotted PATH in o ("kv.series.0.points": a member, or an
 * array index where the part is a number); the test fails where there is
 * none. */
struct cJSON *tu_json_at(struct cJSON *o, const char *path);
/* Whether s is all UTF-8 (RFC 3629). */
int tu_utf8(const char *s);
/* The column (in characters, from 0) where what ends in line, the first
 * line of s that holds it; -1 where none does. */
long tu_column_after(const char *s, const char *what);
/* Whether the complete ("X") events of a Chrome trace's traceEvents nest
 * on every track (pid, tid): any two of one track are apart or one holds
 * the other (Perfetto draws a partial overlap wrongly). 0 and why (the
 * two slices) when they do not. */
int tu_trace_nested(struct cJSON *events, char *why, size_t len);
/* SIGTERM, then wait for it. */
void tu_stop(pid_t pid);
/* Send req (len bytes) to 127.0.0.1-style "HOST:PORT" and read until the
 * server closes (30 s at most); the answer (malloc'd, NUL-terminated, *len
 * bytes), or NULL when the connection failed. */
char *tu_http(const char *addr, const char *req, size_t reqlen, size_t *len);
/* A test case of s with a per-test timeout of SECONDS, times
 * $TTFT_TEST_TIMEOUT_SCALE (make sanitize and make tsan raise it): generous,
 * for a loaded 2-core machine; a hang still ends. */
struct TCase *tu_tcase(struct Suite *s, const char *name, double seconds);
/* A fresh unique path in the scratch directory. */
void tu_tmp_log(char *buf, size_t len, const char *tag);
const char *tu_scratch(void);

/* Check's assertions: one that holds calls _mark_point,
 * which writes its place to the test's message file (a system call) for
 * the report of a test that later crashes or runs out of time. Suites
 * that assert on every record, byte or split made millions of them
 * (test_http over 17 M system calls, test_seal 5.4 M), most of make sanitize's
 * time on a 2-core machine. tu_passed marks each place's first 4 passes,
 * then one in 4096: a failing assertion reports as before; a crash or a
 * timeout is reported after a place the test reached, in a hot loop not
 * always the latest one. */
void tu_passed(const char *file, int line);
#undef ck_assert_msg
#define ck_assert_msg(expr, ...)                                             \
	((expr) ? tu_passed(__FILE__, __LINE__)                              \
		: _ck_assert_failed(__FILE__, __LINE__,                      \
				    "Assertion '" #expr "' failed", ##__VA_ARGS__))

#endif
