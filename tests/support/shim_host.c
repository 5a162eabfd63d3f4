/* shim_host — a program whose every libc result is printed, run by
 * test_shim with and without the shim: the outputs must be identical.
 * usage: shim_host PORT   (a fixture-server on 127.0.0.1:PORT) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int g_port;

#define SHOW(label, expr)                                                 \
	do {                                                              \
		errno = 0;                                                \
		long r_ = (long)(expr);                                   \
		int e_ = errno;                                           \
		printf("%s = %ld %s\n", label, r_, r_ < 0 ? strerrorname_np(e_) : ""); \
	} while (0)

static int tcp(int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	return fd;
}

static struct sockaddr_in addr(int port)
{
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static const char req[] =
	"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 38\r\n\r\n"
	"{\"max_tokens\":3,\"stream\":true,\"p\":123}";

/* Read one whole chunked response with small reads; returns bytes. */
static long read_response(int fd, size_t step)
{
	char buf[64], all[16384];
	long n = 0;
	for (;;) {
		ssize_t r = read(fd, buf, step);
		if (r <= 0)
			return r < 0 ? -1 : n;
		memcpy(all + n, buf, (size_t)r);
		n += r;
		all[n] = 0;
		if (strstr(all, "\r\n0\r\n\r\n"))
			return n;
	}
}

static int connected(void)
{
	int fd = tcp(0);
	struct sockaddr_in sa = addr(g_port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	return fd;
}

static void *thread_req(void *arg)
{
	(void)arg;
	int fd = connected();
	send(fd, req, sizeof req - 1, 0);
	long n = read_response(fd, 64);
	close(fd);
	return (void *)(long)(n > 0);
}

static void on_alarm(int sig)
{
	(void)sig;
	(void)!write(2, "", 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	g_port = atoi(argv[1]);
	setvbuf(stdout, NULL, _IONBF, 0);
	SHOW("close(-1)", close(-1));
	SHOW("close(9999)", close(9999));
	int dn = open("/dev/null", O_RDONLY);
	char b[16];
	SHOW("read(/dev/null)", read(dn, b, sizeof b));
	close(dn);

	/* non-blocking connect, polled, confirmed with SO_ERROR */
	int fd = tcp(1);
	struct sockaddr_in sa = addr(g_port);
	SHOW("connect(nonblock)", connect(fd, (struct sockaddr *)&sa, sizeof sa));
	struct pollfd p = {fd, POLLOUT, 0};
	poll(&p, 1, 2000);
	int soerr = -1;
	socklen_t sl = sizeof soerr;
	SHOW("getsockopt(SO_ERROR)", getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl));
	printf("soerr = %d\n", soerr);
	SHOW("recv(empty, nonblock)", recv(fd, b, sizeof b, 0));
	/* request in two writes, writev then send */
	struct iovec iov[2] = {{(void *)req, 20}, {(void *)(req + 20), 10}};
	SHOW("writev", writev(fd, iov, 2));
	SHOW("send", send(fd, req + 30, sizeof req - 31, 0));
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	SHOW("recv(MSG_PEEK)", recv(fd, b, 8, MSG_PEEK) > 0);
	SHOW("response(7-byte reads) > 0", read_response(fd, 7) > 0);

	/* EINTR: a blocking read interrupted by a signal without SA_RESTART */
	struct sigaction act = {0};
	act.sa_handler = on_alarm;
	sigaction(SIGALRM, &act, NULL);
	ualarm(50000, 0);
	SHOW("read(interrupted)", read(fd, b, sizeof b));

	/* vfork: the child closes every fd, as CPython's subprocess does; the
	 * parent's connection must keep working, and keep being traced. */
	pid_t c = vfork();
	if (c == 0) {
		close(fd);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	SHOW("send(after vfork)", send(fd, req, sizeof req - 1, 0));
	SHOW("response(after vfork) > 0", read_response(fd, 64) > 0);

	/* fork: the child makes its own request */
	c = fork();
	if (c == 0) {
		int f2 = connected();
		send(f2, req, sizeof req - 1, 0);
		_exit(read_response(f2, 64) > 0 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("fork child exit = %d\n", WEXITSTATUS(st));

	/* exec through posix_spawn */
	char *args[] = {"/bin/true", NULL};
	pid_t sp;
	SHOW("posix_spawn", posix_spawn(&sp, "/bin/true", NULL, NULL, args, environ));
	waitpid(sp, &st, 0);
	printf("spawned exit = %d\n", WEXITSTATUS(st));

	/* dup2 over the traced socket, then close both */
	int dn2 = open("/dev/null", O_RDONLY);
	SHOW("dup2(over socket)", dup2(dn2, fd) == fd);
	SHOW("close(dup)", close(fd));
	SHOW("close", close(dn2));

	/* refused */
	int rf = tcp(0);
	struct sockaddr_in bad = addr(1);
	SHOW("connect(refused)", connect(rf, (struct sockaddr *)&bad, sizeof bad));
	close(rf);

	/* four threads at once */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, thread_req, NULL);
	long ok = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		ok += (long)r;
	}
	printf("threads ok = %ld\n", ok);
	return 0;
}
