/* ttft_sentinel.h — whether a termination request went to a whole process
 * group or to ttft-run alone. A group's (`kill -TERM -PGID`, a terminal's
 * hangup, CMD's own `kill(0, …)`) reached CMD too: passed on, CMD would
 * take it twice. A sibling process in ttft-run's group keeps SIGTERM and
 * SIGHUP blocked: what it has pending went to the group. */
#ifndef TTFT_SENTINEL_H
#define TTFT_SENTINEL_H

#include <sys/types.h>

struct ttft_sentinel {
	pid_t pid;       /* the sibling, 0: none (every stop is ours alone) */
	int ask, answer; /* pipes: a byte asks, a byte of bits answers */
	unsigned seen;   /* bits answered and not yet asked for */
};

/* Start the sibling, in the caller's process group; with SIGTERM and
 * SIGHUP blocked in the caller (so none lands before the sibling keeps
 * them). Its name (comm) and command line (argv, the caller's main's: its
 * copy is overwritten) are TTFT_SENTINEL_NAME: `pkill ttft-run`, `pkill
 * -f ttft-run`, `killall ttft-run` signal ttft-run alone, not it (it
 * would then say they went to the group). 0, or -1 (s->pid 0: took()
 * says "not known"). */
#define TTFT_SENTINEL_NAME "group-watch"
int ttft_sentinel_start(struct ttft_sentinel *s, char **argv);
/* In a handler of sig (SIGTERM or SIGHUP; the other masked in it): 1 when
 * the sibling took sig too (it was sent to the group, or to each process
 * of it), 0 when it did not (asked twice, 2 ms apart: a group's signal
 * reaches its processes one by one), -1 when not known (no sibling, no
 * answer within 200 ms). Async-signal-safe. */
int ttft_sentinel_took(struct ttft_sentinel *s, int sig);
/* End the sibling and reap it (before a waitpid(-1) for other children). */
void ttft_sentinel_stop(struct ttft_sentinel *s);

#endif
