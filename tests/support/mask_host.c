/* mask_host — a client that blocks SIGBUS the ways real programs do while
 * the log under it is emptied (test_shim_mask). Its stdout ("key value"
 * lines) and exit status are compared with and without the shim.
 *
 *   mask_host SCENARIO PORT    against `fd_host serve` on 127.0.0.1:PORT
 *
 * Scenarios (each streams two responses, emptying $TTFT_LOG, when set,
 * after the first read of the first):
 *   thread    a thread blocks SIGBUS with pthread_sigmask, with a SIGBUS
 *             of its own pending (it must still be pending afterwards)
 *   inherit   the main thread blocks it with sigprocmask before creating
 *             the thread, which inherits the mask
 *   longjmp   a thread unblocks it, streams, and siglongjmp()s back to a
 *             mask that blocks it
 *   sighold   the main thread blocks it with sighold
 *   shared    the main thread blocks it and sends the process a SIGBUS
 *             (pending for the process, not a thread); a thread that
 *             inherits the mask streams and ends; the SIGBUS must still be
 *             pending for the main thread afterwards
 *   jump      the main thread blocks it, streams, then sends requests on a
 *             connection of its own while a fast timer's handler
 *             siglongjmp()s out (a jump that restores no mask) whenever it
 *             interrupted a moment when SIGBUS was deliverable: the mask
 *             must still block it afterwards
 */
#include "loopback.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

static int g_port;

static void say(const char *key, long v)
{
	printf("%s %ld\n", key, v);
	fflush(stdout);
}

static int connect_to(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

/* One streamed request; the log is emptied after the first read when cut.
 * Returns the token events of the response, -1 if it ended early. */
static int stream(int cut)
{
	int fd = connect_to();
	static const char req[] = "POST /v1/completions?tokens=8&ms=5 HTTP/1.1\r\n"
				  "Host: x\r\nContent-Length: 15\r\n\r\n{\"stream\":true}";
	if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1)
		return -1;
	static char buf[1 << 16];
	size_t n = 0;
	int first = 1;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0) {
			close(fd);
			return -1;
		}
		n += (size_t)r;
		buf[n] = 0;
		if (first && cut && getenv("TTFT_LOG"))
			if (truncate(getenv("TTFT_LOG"), 0) != 0)
				perror("truncate");
		first = 0;
		if (strstr(buf, "\r\n0\r\n\r\n"))
			break;
	}
	close(fd);
	int tokens = 0;
	for (char *p = buf; (p = strstr(p, "\"text\":\" t")); p++)
		tokens++;
	return tokens;
}

static void traffic(void)
{
	say("tokens", stream(1));
	say("tokens_after", stream(0));
}

static sigset_t bus_set(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGBUS);
	return s;
}

static int bus_blocked(void)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGBUS);
}

static void *th_thread(void *arg)
{
	(void)arg;
	sigset_t b = bus_set();
	pthread_sigmask(SIG_BLOCK, &b, NULL);
	pthread_kill(pthread_self(), SIGBUS); /* pending: blocked */
	traffic();
	sigset_t p;
	sigpending(&p);
	say("bus_pending", sigismember(&p, SIGBUS));
	say("bus_blocked", bus_blocked());
	int sig = 0;
	if (sigismember(&p, SIGBUS))
		sigwait(&b, &sig);
	say("sigwait", sig);
	return NULL;
}

static void *th_plain(void *arg)
{
	(void)arg;
	traffic();
	say("bus_blocked", bus_blocked());
	return NULL;
}

static sigjmp_buf g_jb;

static void *th_longjmp(void *arg)
{
	(void)arg;
	sigset_t b = bus_set();
	pthread_sigmask(SIG_BLOCK, &b, NULL);
	if (sigsetjmp(g_jb, 1) == 0) {
		pthread_sigmask(SIG_UNBLOCK, &b, NULL);
		say("tokens_unblocked", stream(0));
		siglongjmp(g_jb, 1);
	}
	say("bus_blocked_again", bus_blocked());
	traffic();
	return NULL;
}

static sigjmp_buf g_out;

/* The timer's handler: leaves, by a jump that restores no mask, whatever
 * it interrupted while SIGBUS was deliverable (only the shim's window
 * around a log write can be such a moment: the host blocks it). */
static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	if (!sigismember(&((ucontext_t *)uc)->uc_sigmask, SIGBUS))
		siglongjmp(g_out, 1);
}

static void jump_out_of_writes(void)
{
	int l, c = loopback_connect(&l);
	if (c < 0)
		exit(2);
	int s = accept(l, NULL, NULL);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 50}, {0, 50}}, off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static char buf[1 << 16];
	for (volatile long i = 0; i < 200000; i++) {
		if (sigsetjmp(g_out, 0))
			break; /* jumped out of a moment SIGBUS was deliverable */
		if (send(c, req, sizeof req - 1, 0) < 0)
			break;
		if (i % 256 == 0)
			while (recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0)
				;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	close(c);
	close(s);
	close(l);
}

static void run(void *(*fn)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mask_host thread|inherit|longjmp|sighold|shared|jump PORT\n");
		return 2;
	}
	g_port = atoi(argv[2]);
	const char *sc = argv[1];
	sigset_t b = bus_set();
	if (!strcmp(sc, "thread")) {
		run(th_thread);
	} else if (!strcmp(sc, "inherit")) {
		sigprocmask(SIG_BLOCK, &b, NULL);
		run(th_plain);
	} else if (!strcmp(sc, "longjmp")) {
		run(th_longjmp);
	} else if (!strcmp(sc, "jump")) {
		sigprocmask(SIG_BLOCK, &b, NULL);
		traffic();
		jump_out_of_writes();
		say("bus_blocked", bus_blocked());
	} else if (!strcmp(sc, "shared")) {
		sigprocmask(SIG_BLOCK, &b, NULL);
		kill(getpid(), SIGBUS); /* pending for the whole process */
		run(th_plain);
		sigset_t p;
		sigpending(&p);
		say("bus_pending", sigismember(&p, SIGBUS));
		siginfo_t si;
		struct timespec zero = {0, 0};
		int sig = sigismember(&p, SIGBUS) ? sigtimedwait(&b, &si, &zero) : 0;
		say("sigwait", sig);
		say("si_code", sig > 0 ? si.si_code : -99);
		say("si_pid_is_self", sig > 0 ? si.si_pid == getpid() : -1);
	} else if (!strcmp(sc, "sighold")) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		sighold(SIGBUS); /* old programs still call it */
#pragma GCC diagnostic pop
		traffic();
		say("bus_blocked", bus_blocked());
	} else {
		fprintf(stderr, "mask_host: unknown scenario '%s'\n", sc);
		return 2;
	}
	say("done", 1);
	return 0;
}
