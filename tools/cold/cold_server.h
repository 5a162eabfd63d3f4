/* cold_server.h — run a server command in its own process group, stamp
 * every line it prints (CLOCK_MONOTONIC, as it arrives), and stop it. */
#ifndef TTFT_COLD_SERVER_H
#define TTFT_COLD_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct cold_line {
	int64_t t_ns;
	int err;        /* 1: stderr */
	char *text;
};

struct cold_server {
	pid_t pid;      /* also the process group id */
	int64_t t_spawn;
	int out_fd, err_fd;
	int wake[2];    /* cold_server_stop → reader: the group is gone */
	int drain[2];   /* cold_server_drain → reader: take what the pipes hold */
	pthread_cond_t drained;
	unsigned long drain_asked, drain_done; /* under mu */
	int reader_over; /* under mu: the reader has ended (or never ran) */
	FILE *log;      /* every line, "seconds-since-spawn\tstream\tline" */
	int log_errno;  /* the log's first failed write (0: none) */
	pthread_t reader;
	pthread_mutex_t mu;
	struct cold_line *lines;
	size_t nlines, cap;
	int status;     /* wait status once reaped */
	int reaped;
};

/* Start `sh -c CMD` in a new process group with LD_PRELOAD and
 * TTFT_* removed from its environment and PYTHONUNBUFFERED=1. log_path:
 * where to save the stamped lines (NULL: none). Returns 0 or -1 (errno). */
int cold_server_start(struct cold_server *s, const char *cmd, const char *log_path);
/* Returns once every line the server wrote before this call is in
 * s->lines: the reader takes all that the pipes hold now (FIONREAD) and
 * says so. What a process wrote before it answered a request (its
 * capacity lines before /health) is in the pipe when the answer has
 * arrived: read only after it, never missed for the reader's lag. A piece
 * without its newline yet is not a line. */
void cold_server_drain(struct cold_server *s);
/* Nonzero if the server process has exited (reaps it). */
int cold_server_dead(struct cold_server *s);
/* SIGTERM to the group, SIGKILL after timeout_s; waits for the leader and
 * until no process of the group is left. Returns seconds it took. */
double cold_server_stop(struct cold_server *s, double timeout_s);
/* Copy of the last n lines (malloc'd, caller frees each text). */
size_t cold_server_tail(struct cold_server *s, struct cold_line *out, size_t n);
/* Close the log (after cold_server_stop): 0, or the errno of its first
 * failed write (a full disk: the log holds only part of the lines). */
int cold_server_log_close(struct cold_server *s);
void cold_server_free(struct cold_server *s);

/* What the server actually runs: the command line (/proc/PID/cmdline,
 * words shell-quoted where needed) of the first process of the group that
 * is neither a shell running `-c CMD` nor a multiprocessing child; the
 * group leader's when there is no other. malloc'd; NULL if unreadable.
 * *pid gets the process. */
char *cold_server_argv(pid_t pgid, int *pid);

/* The flags of a command line as cold_server_argv writes it (words split
 * on spaces, '…' quoting): single- and double-dash ("-c 4096", "-np 1",
 * "--port 8000", "--dtype=auto"), each with its value, as a Markdown list
 * ("`-c 4096`, `--port 8000`"); "(none)" when there are none. malloc'd. */
char *cold_cmdline_flags(const char *cmdline);

/* Is something accepting TCP connections on host:port? */
int cold_port_open(const char *host, int port);
/* GET url; returns the HTTP status, 0 if no answer. body: optional copy. */
long cold_http_get(const char *url, double timeout_s, char **body);

#endif
