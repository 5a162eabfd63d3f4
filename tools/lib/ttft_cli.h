/* ttft_cli.h — what every ttftshim program shares at its edge: one
 * exit-code convention, flag values checked with a message that names the
 * flag, the version, output paths checked before anything runs, and files
 * replaced atomically. Messages go into err; main() prints them. */
#ifndef TTFT_CLI_H
#define TTFT_CLI_H

#include <pthread.h>
#include <stddef.h>

/* The exit-code convention of ttft-analyze, ttft-run (its own errors),
 * ttft-probe and ttft-cold; every --help states it. */
enum {
	TTFT_EXIT_OK = 0,
	TTFT_EXIT_FAILED = 1,      /* the measurement failed (request, server, output) */
	TTFT_EXIT_USAGE = 2,       /* bad flag or value; a file named on the command
				    * line that cannot be used; found before any run */
	TTFT_EXIT_DAMAGED = 3,     /* damaged input: what could be read was used */
	TTFT_EXIT_INTERRUPTED = 130 /* Ctrl-C / SIGTERM (128 + SIGINT) */
};

/* "ttftshim 0.2 (git d60896a)": for --version. */
const char *ttft_version(void);

/* A whole number in [lo, hi] from a flag's argument, in digits alone (a
 * '-' only where lo < 0; no '+', blank or leading 0: "0" itself is
 * fine); -1 with "bad value 'ARG' for --FLAG: want …" in err. */
int ttft_cli_long(const char *flag, const char *arg, long lo, long hi, long *out,
		  char *err, size_t errlen);
/* The same for a decimal number; lo_open makes lo itself invalid. */
int ttft_cli_double(const char *flag, const char *arg, double lo, int lo_open, double hi,
		    double *out, char *err, size_t errlen);

/* Can PATH be written later (by ttft_write_atomic)? Tries creating a file
 * beside it (beside the file a symbolic link names); a device or a FIFO
 * must be writable as it is; a directory, a block device or a socket is
 * refused. "-" (stdout) is fine. -1 with a message naming flag and path. */
int ttft_output_check(const char *flag, const char *path, char *err, size_t errlen);

/* Replace PATH with data: a temporary file in the same directory, then
 * rename, so a reader sees the old file or the new one, never half of one.
 * A symbolic link to a file stays a link: the file it names is replaced.
 * /dev/stdout, /dev/stderr, /dev/fd/N (or a link to one) are written to
 * that descriptor at its offset. A character device or a FIFO (one with
 * a reader: else -1 at once), or a link to nothing yet, is written in
 * place; a directory, a block device or a socket is refused. "-" writes
 * to stdout. -1 with a message in err. */
int ttft_write_atomic(const char *path, const char *data, size_t len, char *err,
		      size_t errlen);

/* For a signal handler about to end the program at once (a second
 * Ctrl-C): removes the temporary file a ttft_write_atomic under way is
 * filling, so that nothing is left beside PATH (which keeps its old
 * contents). Async-signal-safe. */
void ttft_cli_drop_tmp(void);

/* Ctrl-C and SIGTERM to handler, each blocking the other while it runs;
 * SA_RESTART, so a write they land in goes on (a poll or a sleep is not
 * restarted: it sees the handler's flag at once). The tools that keep
 * what ran (ttft-probe, ttft-sweep) take their stop this way. */
void ttft_cli_catch_stop(void (*handler)(int));

/* pthread_create for a helper thread that takes no signal: a signal sent
 * to the program runs its handler in the thread that called this (main),
 * whose blocking call it interrupts, never in the helper (where it would
 * not end main's waitpid or poll). 0, or pthread_create's error. */
int ttft_cli_thread(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
