/* ttft_sentinel.h — whether a signal went to a whole process group or to
 * ttft-run alone. A group's (`kill -TERM -PGID`, a terminal's hangup,
 * CMD's own `kill(0, …)`) reached CMD too: passed on, CMD would take it
 * twice. A sibling process in ttft-run's group keeps the signals ttft-run
 * passes on blocked: what it has pending went to the group.
 * Known limits, each a second copy at worst, as before the sibling: a
 * signal sent to the group while the sibling still holds one of the same
 * kind from another sender (sent to it alone), or between CMD's fork and
 * the sibling's, or after the sibling answered late once. And a signal
 * the same process sent first to the sibling alone, then to ttft-run
 * alone, is taken for the group's: not passed on. */
#ifndef TTFT_SENTINEL_H
#define TTFT_SENTINEL_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* The signals ttft-run passes on to CMD while it runs (those whose default
 * ends a process and that are no fault of its own, Ctrl-C's and Ctrl-\'s
 * aside, which a terminal gives CMD itself), and that the sibling keeps. */
extern const int ttft_sentinel_sigs[];
#define TTFT_SENTINEL_NSIGS 10

struct ttft_sentinel {
	pid_t pid;       /* the sibling, 0: none (every signal is ours alone) */
	int ask, answer; /* pipes: a byte asks, the pending signals and their
	                    senders answer (one write, under PIPE_BUF) */
	uint64_t seen;   /* bits (1 << (sig - 1)) answered, not yet asked for */
	/* each one's sender (si_pid; -1: the kernel's, a terminal's hangup),
	 * by its index in ttft_sentinel_sigs */
	pid_t from[TTFT_SENTINEL_NSIGS];
	int late;        /* an answer did not come: asked no more */
};

/* Start the sibling, in the caller's process group; with the signals of
 * ttft_sentinel_sigs blocked in the caller (so none lands before the
 * sibling keeps them). Its name (comm) and command line (argv, the
 * caller's main's: its copy is overwritten) are TTFT_SENTINEL_NAME:
 * `pkill ttft-run`, `pkill -f ttft-run`, `killall ttft-run` signal
 * ttft-run alone, not it (it would then say they went to the group). 0,
 * or -1 (s->pid 0: took() says "not known"). */
#define TTFT_SENTINEL_NAME "group-watch"
int ttft_sentinel_start(struct ttft_sentinel *s, char **argv);
/* In a handler of sig (one of ttft_sentinel_sigs, all of which it masks;
 * info: the handler's, SA_SIGINFO): 1 when the sibling took sig too, from
 * the same sender (it was sent to the group, or to each process of it),
 * 0 when it did not (asked twice, 2 ms apart: a group's signal reaches its
 * processes one by one; one from another sender was sent to the sibling
 * alone, kill $(pgrep -P PID), and is dropped), -1 when not known (no
 * sibling, no answer within 200 ms; from then on: its late answer would
 * be read as the next question's, whose signal it then seemed to have
 * taken, and one to ttft-run alone reached nobody). Async-signal-safe. */
int ttft_sentinel_took(struct ttft_sentinel *s, int sig, const siginfo_t *info);
/* End the sibling and reap it (before a waitpid(-1) for other children). */
void ttft_sentinel_stop(struct ttft_sentinel *s);

#endif
