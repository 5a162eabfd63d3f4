/* ttft_sentinel.c — see ttft_sentinel.h. */
#include "ttft_sentinel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const int ttft_sentinel_sigs[TTFT_SENTINEL_NSIGS] = {
	SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO,
	SIGSTKFLT, SIGPWR,
};

static uint64_t bit_of(int sig)
{
	for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
		if (ttft_sentinel_sigs[i] == sig)
			return 1ull << (sig - 1);
	return 0;
}

/* Who sent it: a process's kill() (SI_USER, SI_QUEUE: its pid), else the
 * kernel (a terminal's hangup: SI_KERNEL, SIGIO's POLL_*), -1. */
static pid_t sender(const siginfo_t *i)
{
	return i && i->si_code <= 0 ? i->si_pid : -1;
}

/* The sibling's answer: what it had pending, and from whom; 48 bytes, one
 * write (under PIPE_BUF: arrives whole). */
struct answer {
	uint64_t bits;
	int32_t from[TTFT_SENTINEL_NSIGS];
};

/* The sibling: only async-signal-safe calls (its parent may have threads).
 * The signals ttft-run passes on stay blocked (pending: what the group was
 * sent); every other signal the group may be sent is ignored (Ctrl-C,
 * Ctrl-\, Ctrl-Z, a terminal's resize), so that it lives as long as CMD;
 * it ends when its parent does. */
static void sibling(pid_t parent, int ask, int answer, char **argv)
{
	prctl(PR_SET_NAME, TTFT_SENTINEL_NAME);
	if (argv && argv[0]) {
		/* the kernel laid the arguments one after another (getopt
		 * may have reordered the pointers, not the strings): the
		 * name, then NULs to the last one's end (ps, pgrep -f read
		 * this) */
		char *b = argv[0], *e = argv[0] + strlen(argv[0]) + 1;
		for (int i = 1; argv[i]; i++) {
			char *end = argv[i] + strlen(argv[i]) + 1;
			if (argv[i] < b)
				b = argv[i];
			if (end > e)
				e = end;
		}
		size_t room = (size_t)(e - b), n = sizeof TTFT_SENTINEL_NAME;
		if (n > room)
			n = room;
		memset(b, 0, room);
		memcpy(b, TTFT_SENTINEL_NAME, n - 1);
	}
	sigset_t keep;
	sigemptyset(&keep);
	for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
		sigaddset(&keep, ttft_sentinel_sigs[i]);
	sigprocmask(SIG_BLOCK, &keep, NULL);
	struct sigaction ign = {.sa_handler = SIG_IGN};
	for (int sig = 1; sig < NSIG; sig++) /* glibc's own two refuse: EINVAL */
		if (!sigismember(&keep, sig) && sig != SIGKILL && sig != SIGSTOP &&
		    sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL &&
		    sig != SIGABRT && sig != SIGSYS && sig != SIGTRAP)
			sigaction(sig, &ign, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* none of the parent's files: a pipe's reader waits for CMD and
	 * ttft-run, not for this */
	int lo = ask < answer ? ask : answer, hi = ask < answer ? answer : ask;
	if (lo > 0)
		close_range(0, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
	for (;;) {
		char c;
		ssize_t n = read(ask, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			_exit(0);
		struct answer a;
		memset(&a, 0, sizeof a);
		struct timespec now = {0, 0};
		siginfo_t si;
		int sig;
		while ((sig = sigtimedwait(&keep, &si, &now)) > 0)
			for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
				if (ttft_sentinel_sigs[i] == sig) {
					a.bits |= bit_of(sig);
					a.from[i] = sender(&si);
				}
		if (write(answer, &a, sizeof a) != (ssize_t)sizeof a)
			_exit(0);
	}
}

int ttft_sentinel_start(struct ttft_sentinel *s, char **argv)
{
	s->pid = 0;
	s->ask = s->answer = -1;
	s->seen = 0;
	s->late = 0;
	int q[2], a[2];
	if (pipe2(q, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(a, O_CLOEXEC) != 0) {
		close(q[0]);
		close(q[1]);
		return -1;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		close(q[1]);
		close(a[0]);
		sibling(parent, q[0], a[1], argv);
	}
	close(q[0]);
	close(a[1]);
	if (pid < 0) {
		close(q[1]);
		close(a[0]);
		return -1;
	}
	s->pid = pid;
	s->ask = q[1];
	s->answer = a[0];
	return 0;
}

/* One question: what the sibling had pending into *a; 0, or -1. */
static int ask_once(struct ttft_sentinel *s, struct answer *a)
{
	char c = '?';
	ssize_t n;
	while ((n = write(s->ask, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -1;
	struct pollfd p = {.fd = s->answer, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, 200)) < 0 && errno == EINTR)
		;
	/* written at once to a pipe, under PIPE_BUF: they arrive at once */
	if (r != 1 || read(s->answer, a, sizeof *a) != (ssize_t)sizeof *a)
		return -1;
	return 0;
}

int ttft_sentinel_took(struct ttft_sentinel *s, int sig, const siginfo_t *info)
{
	uint64_t bit = bit_of(sig);
	if (s->pid <= 0 || s->late || !bit)
		return -1;
	int k = 0;
	while (ttft_sentinel_sigs[k] != sig)
		k++;
	int saved = errno, rc = 0;
	for (int round = 0; round < 2 && rc == 0; round++) {
		if (round) {
			struct timespec d = {0, 2000000};
			nanosleep(&d, NULL);
		}
		struct answer a;
		if (ask_once(s, &a) != 0) {
			/* passed on, as all from now: at worst twice, never
			 * not at all */
			s->late = 1;
			rc = -1;
		} else {
			/* the newest of one signal's copies: the one a group's
			 * just now would be */
			for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
				if (a.bits & bit_of(ttft_sentinel_sigs[i]))
					s->from[i] = a.from[i];
			s->seen |= a.bits;
		}
		if (s->seen & bit) {
			s->seen &= ~bit;
			/* from another: sent to the sibling alone (kill
			 * $(pgrep -P PID)); it ends in no signal of ours */
			if (s->from[k] == sender(info))
				rc = 1;
		}
	}
	errno = saved;
	return rc;
}

void ttft_sentinel_stop(struct ttft_sentinel *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->ask >= 0)
		close(s->ask);
	if (s->answer >= 0)
		close(s->answer);
	s->pid = 0;
	s->ask = s->answer = -1;
}
