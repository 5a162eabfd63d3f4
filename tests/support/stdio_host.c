/* stdio_host — requests written with stdio calls whose bytes leave inside
 * libc, where no preloaded library sees a write (test_shim_stdio).
 *
 *   stdio_host exit FD      fdopen(FD) and fprintf the request; return from
 *                           main: libc's exit flush sends it
 *   stdio_host stdout       printf the request to stdout (not a tty: fully
 *                           buffered); exit() sends it
 *   stdio_host dprintf FD   dprintf the request, then read the response
 *                           on FD and print "tokens N"
 *   stdio_host raw FD       the same with syscall(SYS_write): truly unseen
 *   stdio_host putc FD      fdopen(FD) and put a request with a 10000-byte
 *                           body a byte at a time with glibc's inline
 *                           putc_unlocked (__putc_unlocked_body: a full
 *                           buffer goes out through __overflow), fflush,
 *                           then "tokens N" as dprintf's
 *   stdio_host two          on a loopback connection of its own, a child
 *                           leaves bytes in two fdopen'ed streams of one
 *                           socket and exits; prints what the peer got
 *                           (libc's exit flush order: newest stream first)
 *   stdio_host locked       the same with one stream whose lock another
 *                           thread holds at exit (libc's exit flush takes
 *                           no stream lock)
 *   stdio_host puts         stdout (unbuffered) on a loopback connection:
 *                           prints on stderr what one puts returned, then
 *                           two threads puts 10000 lines each and the peer
 *                           says how many lines it got and how many were
 *                           not whole (libc holds one lock over a line)
 */
#include "loopback.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#define REQ "POST /v1/completions?tokens=4 HTTP/1.1\r\nHost: x\r\n" \
	    "Content-Length: 2\r\nConnection: close\r\n\r\n{}"

static int tokens(int fd)
{
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof buf && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	int k = 0;
	for (char *p = buf; (p = strstr(p, "\"text\":\" t")); p++)
		k++;
	return k;
}

static FILE *g_held;
static int g_ready[2];

static void *hold(void *arg)
{
	(void)arg;
	flockfile(g_held);
	char c = 1;
	if (write(g_ready[1], &c, 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

/* A loopback connection: its server end returned, its client end in *c
 * (-1 on failure). */
static int loopback(int *c)
{
	int l;
	*c = loopback_connect(&l);
	if (*c < 0)
		return -1;
	int s = accept(l, NULL, NULL);
	close(l);
	return s;
}

/* A child writes on one end of a loopback connection with `locked` or
 * two streams, and exits; the parent prints what arrived. */
static int peer(int locked)
{
	int c, s = loopback(&c);
	if (s < 0)
		return 2;
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		close(s);
		FILE *f1 = fdopen(c, "w");
		if (!f1)
			_exit(2);
		fputs("GET /first HTTP/1.1\r\nHost: x\r\n", f1);
		if (locked) {
			g_held = f1;
			pthread_t t;
			char ch;
			if (pipe(g_ready) || pthread_create(&t, NULL, hold, NULL) ||
			    read(g_ready[0], &ch, 1) != 1)
				_exit(2);
		} else {
			FILE *f2 = fdopen(c, "w");
			if (!f2)
				_exit(2);
			fputs("X-Second: 2\r\n", f2);
		}
		exit(0); /* the bytes are still in the streams' buffers */
	}
	close(c);
	int st;
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return 2;
	char buf[512];
	size_t k = 0;
	ssize_t r;
	while (k + 1 < sizeof buf && (r = read(s, buf + k, sizeof buf - 1 - k)) > 0)
		k += (size_t)r;
	buf[k] = 0;
	printf("exit %d, got:\n%s", WEXITSTATUS(st), buf);
	return 0;
}

/* A loopback connection: the client end onto stdout, the server end
 * returned (-1 on failure). */
static int stdout_on_socket(void)
{
	int c, s = loopback(&c);
	fflush(stdout);
	if (s < 0 || dup2(c, 1) != 1)
		return -1;
	close(c);
	return s;
}

#define LINE_A "GET /aaaaaaaa HTTP/1.1"
#define LINE_B "GET /bbbbbbbb HTTP/1.1"
#define PUTS_N 10000

static void *puts_lines(void *arg)
{
	for (int i = 0; i < PUTS_N; i++)
		puts((const char *)arg);
	return NULL;
}

static int puts_mode(void)
{
	int s = stdout_on_socket();
	if (s < 0)
		return 2;
	pid_t p = fork();
	if (p == 0) { /* the peer: lines that are not one of the two */
		close(1);
		FILE *in = fdopen(s, "r");
		char line[256];
		long bad = 0, all = 0;
		while (in && fgets(line, sizeof line, in)) {
			all++;
			bad += strcmp(line, LINE_A "\n") && strcmp(line, LINE_B "\n");
		}
		fprintf(stderr, "peer: %ld lines, %ld not whole\n", all, bad);
		_exit(0);
	}
	close(s);
	setvbuf(stdout, NULL, _IONBF, 0);
	fprintf(stderr, "puts returned %d\n", puts(LINE_A));
	pthread_t x, y;
	if (pthread_create(&x, NULL, puts_lines, LINE_A) ||
	    pthread_create(&y, NULL, puts_lines, LINE_B))
		return 2;
	pthread_join(x, NULL);
	pthread_join(y, NULL);
	close(1);
	int st;
	return waitpid(p, &st, 0) == p && WIFEXITED(st) ? 0 : 2;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	int fd = argc > 2 ? atoi(argv[2]) : -1;
	if (!strcmp(m, "exit") && fd >= 0) {
		FILE *f = fdopen(fd, "w");
		if (!f)
			return 2;
		fprintf(f, "%s", REQ);
		return 0; /* the request is still in f's buffer */
	}
	if (!strcmp(m, "stdout")) {
		printf("%s", REQ);
		exit(0);
	}
	if (!strcmp(m, "dprintf") && fd >= 0) {
		if (dprintf(fd, "%s", REQ) < 0)
			return 2;
		printf("tokens %d\n", tokens(fd));
		return 0;
	}
	if (!strcmp(m, "putc") && fd >= 0) {
		static const char head[] = "POST /v1/completions?tokens=4 HTTP/1.1\r\n"
					   "Host: x\r\nContent-Length: 10000\r\n"
					   "Connection: close\r\n\r\n";
		FILE *f = fdopen(dup(fd), "w");
		if (!f)
			return 2;
		for (size_t i = 0; i < sizeof head - 1; i++)
			__putc_unlocked_body(head[i], f);
		for (int i = 0; i < 10000; i++)
			__putc_unlocked_body(i == 0 ? '{' : i == 9999 ? '}' : ' ', f);
		if (fflush(f) != 0)
			return 2;
		printf("tokens %d\n", tokens(fd));
		return 0;
	}
	if (!strcmp(m, "raw") && fd >= 0) {
		if (syscall(SYS_write, fd, REQ, sizeof REQ - 1) != (long)sizeof REQ - 1)
			return 2;
		printf("tokens %d\n", tokens(fd));
		return 0;
	}
	if (!strcmp(m, "two") || !strcmp(m, "locked"))
		return peer(!strcmp(m, "locked"));
	if (!strcmp(m, "puts"))
		return puts_mode();
	fprintf(stderr, "usage: stdio_host exit FD | stdout | dprintf FD | putc FD | raw FD | "
		"two | locked | puts\n");
	return 2;
}
