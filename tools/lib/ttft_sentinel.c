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

static unsigned bit_of(int sig)
{
	return sig == SIGTERM ? 1u : sig == SIGHUP ? 2u : 0u;
}

/* The sibling: only async-signal-safe calls (its parent may have threads).
 * SIGTERM and SIGHUP stay blocked (pending: what the group was sent),
 * Ctrl-C and Ctrl-\ are ignored; it ends when its parent does. */
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
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigset_t keep;
	sigemptyset(&keep);
	sigaddset(&keep, SIGTERM);
	sigaddset(&keep, SIGHUP);
	sigprocmask(SIG_BLOCK, &keep, NULL);
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
		unsigned char bits = 0;
		struct timespec now = {0, 0};
		int sig;
		while ((sig = sigtimedwait(&keep, NULL, &now)) > 0)
			bits |= (unsigned char)bit_of(sig);
		if (write(answer, &bits, 1) != 1)
			_exit(0);
	}
}

int ttft_sentinel_start(struct ttft_sentinel *s, char **argv)
{
	s->pid = 0;
	s->ask = s->answer = -1;
	s->seen = 0;
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

/* One question: the bits the sibling had pending, or -1. */
static int ask_once(struct ttft_sentinel *s)
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
	unsigned char bits;
	if (r != 1 || read(s->answer, &bits, 1) != 1)
		return -1;
	return bits;
}

int ttft_sentinel_took(struct ttft_sentinel *s, int sig)
{
	unsigned bit = bit_of(sig);
	if (s->pid <= 0 || !bit)
		return -1;
	int saved = errno, rc = 0;
	for (int round = 0; round < 2 && rc == 0; round++) {
		if (round) {
			struct timespec d = {0, 2000000};
			nanosleep(&d, NULL);
		}
		int bits = ask_once(s);
		if (bits < 0)
			rc = -1;
		else
			s->seen |= (unsigned)bits;
		if (s->seen & bit) {
			s->seen &= ~bit;
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
