/* fd_host — C clients that use sockets the way real programs do and the
 * shim once got wrong (fd reuse after unseen closes, dup, fork, sendfile,
 * splice, MSG_TRUNC, connect again, Expect: 100-continue, threads and
 * DNS), plus the server they talk to. Run by test_shim_fd and test_shim_log
 * under the shim; what each client did (its pid, its children's pids, what
 * it saw) goes to stdout as "key value" lines, the ground truth the tests
 * compare with.
 *
 *   fd_host serve                 serve until killed; prints "port N"
 *   fd_host SCENARIO PORT [ARG]   one client scenario against that server
 *   fd_host SCENARIO              the same against a server of its own
 *   (burst [N]: the whole response of N token events taken by one recv;
 *   times "MODE K N": see sc_times)
 *
 * The server answers every request with a chunked SSE stream of TOKENS
 * (default 3) vLLM completion events and [DONE]; a path's query may ask for
 * ?tokens=N&ms=M (M ms between tokens; head_delay=H: H ms before the
 * headers). Paths: /oob sends an urgent byte ("!", MSG_OOB) after the
 * headers (a client's urgent byte its reads skip: no SO_OOBINLINE);
 * /expect417 answers 417 to
 * "Expect: 100-continue" without reading the body; /reset sends the headers
 * and one token, then resets the connection. "Connection: close" closes after
 * the response. A request line that is not HTTP is read and ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ttft_clock.h"

#define TOKENS 3

/* ---- the server ---- */

static int read_line_block(int fd, char *buf, size_t cap, size_t *have)
{
	/* Read until the buffer holds "\r\n\r\n"; 0 on EOF or error. */
	while (!memmem(buf, *have, "\r\n\r\n", 4)) {
		if (*have + 1 >= cap)
			return 0;
		ssize_t r = read(fd, buf + *have, cap - 1 - *have);
		if (r <= 0)
			return 0;
		*have += (size_t)r;
	}
	return 1;
}

static int query_int(const char *line, const char *key, int def)
{
	const char *q = strstr(line, key);
	return q ? atoi(q + strlen(key)) : def;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void chunk(int fd, const char *data)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%zx\r\n%s\r\n", strlen(data), data);
	send_all(fd, buf, (size_t)n);
}

static void token_event(int fd, int k)
{
	char ev[400];
	snprintf(ev, sizeof ev,
		 "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\","
		 "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
		 "\"text\":\" t%d\",\"logprobs\":null,\"finish_reason\":null,"
		 "\"stop_reason\":null}]}\n\n", k);
	chunk(fd, ev);
}

static const char sse_head[] =
	"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
	"transfer-encoding: chunked\r\n\r\n";

static void *serve_conn(void *arg)
{
	int fd = (int)(long)arg;
	char buf[65536];
	size_t have = 0;
	for (;;) {
		if (!read_line_block(fd, buf, sizeof buf, &have))
			break;
		buf[have] = 0;
		char *end = strstr(buf, "\r\n\r\n") + 4;
		size_t head = (size_t)(end - buf);
		if (strncmp(buf, "CONNECT ", 8) == 0) {
			/* a proxy's tunnel, to this server itself: what
			 * follows on the connection is served as ever */
			static const char est[] =
				"HTTP/1.1 200 Connection established\r\n\r\n";
			memmove(buf, end, have - head);
			have -= head;
			send_all(fd, est, sizeof est - 1);
			continue;
		}
		if (strncmp(buf, "GET ", 4) && strncmp(buf, "POST ", 5)) {
			have = 0; /* not HTTP: swallow */
			continue;
		}
		const char *cl = strcasestr(buf, "\r\ncontent-length:");
		size_t body = cl ? (size_t)atol(cl + 17) : 0;
		int expect = strcasestr(buf, "\r\nexpect: 100-continue") && cl;
		int close_after = strcasestr(buf, "\r\nconnection: close") != NULL;
		int tokens = query_int(buf, "tokens=", TOKENS);
		int ms = query_int(buf, "ms=", 0);
		int head_delay = query_int(buf, "head_delay=", 0);
		int is417 = strncmp(buf, "POST /expect417", 15) == 0 && expect;
		int reset = strncmp(buf, "POST /reset", 11) == 0;
		int oob = strncmp(buf, "POST /oob", 9) == 0;
		if (!is417) {
			while (have < head + body) {
				ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
				if (r <= 0)
					goto out;
				have += (size_t)r;
			}
		}
		memmove(buf, buf + head + (is417 ? 0 : body),
			have - head - (is417 ? 0 : body));
		have -= head + (is417 ? 0 : body);
		if (is417) {
			static const char r417[] =
				"HTTP/1.1 417 Expectation Failed\r\n"
				"content-length: 0\r\n\r\n";
			send_all(fd, r417, sizeof r417 - 1);
			continue;
		}
		if (head_delay)
			usleep((useconds_t)head_delay * 1000);
		send_all(fd, sse_head, sizeof sse_head - 1);
		if (oob) /* an urgent byte: out of the stream, at its mark */
			(void)!send(fd, "!", 1, MSG_OOB);
		for (int k = 0; k < tokens; k++) {
			if (ms)
				usleep((useconds_t)ms * 1000);
			token_event(fd, k);
			if (reset) {
				struct linger lg = {1, 0};
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
				goto out;
			}
		}
		chunk(fd, "data: [DONE]\n\n");
		send_all(fd, "0\r\n\r\n", 5);
		if (close_after)
			break;
	}
out:
	close(fd);
	return NULL;
}

static void *serve(void *arg)
{
	int ls = (int)(long)arg;
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_t t;
		pthread_create(&t, NULL, serve_conn, (void *)(long)fd);
		pthread_detach(t);
	}
	return NULL;
}

static int start_server(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 64) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl))
		exit(2);
	pthread_t t;
	pthread_create(&t, NULL, serve, (void *)(long)ls);
	pthread_detach(t);
	return ntohs(sa.sin_port);
}

/* ---- client helpers ---- */

static int g_port;

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static void request(int fd, const char *path)
{
	char req[512];
	int n = snprintf(req, sizeof req,
			 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n"
			 "{\"stream\":true}", path);
	send_all(fd, req, (size_t)n);
}

/* Read one whole response on fd (chunked, or content-length: 0); returns
 * the token events seen, -1 if the connection ended first. Streams: keeps
 * only a tail across reads, so any length goes. */
static int response_by(int fd, size_t most)
{
	static const char tok[] = "\"text\":\" t";
	char buf[8192 + 32];
	size_t keep = 0;
	int tokens = 0;
	if (most > 8192)
		most = 8192;
	for (;;) {
		ssize_t r = read(fd, buf + keep, most);
		if (r <= 0)
			return -1;
		size_t n = keep + (size_t)r;
		buf[n] = 0;
		/* count matches that end in the new bytes only */
		for (char *p = buf; (p = strstr(p, tok)); p++)
			if ((size_t)(p - buf) + sizeof tok - 1 > keep)
				tokens++;
		if (strstr(buf, "\r\n0\r\n\r\n") ||
		    strstr(buf, "content-length: 0\r\n\r\n"))
			return tokens;
		keep = n < 24 ? n : 24;
		memmove(buf, buf + n - keep, keep);
	}
}

static int response(int fd)
{
	return response_by(fd, 8192);
}

static void say(const char *key, long v)
{
	printf("%s %ld\n", key, v);
	fflush(stdout);
}

static char g_tmp[256];

static int open_tmp(void)
{
	snprintf(g_tmp, sizeof g_tmp, "/tmp/fd_host.%d.XXXXXX", (int)getpid());
	int fd = mkstemp(g_tmp);
	unlink(g_tmp);
	return fd;
}

/* A program's own log line that happens to look like a request. */
static const char file_text[] = "GET /from-a-file HTTP/1.1\r\nHost: x\r\n\r\n";

/* ---- scenarios ---- */

/* libuv's close: syscall(SYS_close); then the number goes to a file. */
/* The fixture's token events in what was read: its token texts start
 * with " t". */
static int text_tokens(const char *all)
{
	int tokens = 0;
	for (const char *q = all; (q = strstr(q, "\"text\":\" t")); q++)
		tokens++;
	return tokens;
}

static int sc_reuse_raw(void)
{
	int fd = connect_to(g_port);
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	syscall(SYS_close, fd);
	int f = open("/dev/null", O_WRONLY);
	say("reused", f == fd);
	send_all(f, file_text, sizeof file_text - 1);
	close(f);
	return 0;
}

/* A stream over the socket closed with fclose; then open() reuses it. */
static int sc_reuse_fclose(void)
{
	int fd = connect_to(g_port);
	FILE *s = fdopen(fd, "r+");
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	fclose(s);
	int f = open_tmp();
	say("reused", f == fd);
	send_all(f, file_text, sizeof file_text - 1);
	close(f);
	return 0;
}

/* A close the shim cannot see (an io_uring close is another): the
 * syscall instruction itself, past every wrapper. -1 where this file
 * does not know the architecture's. */
static long unseen_close(int fd)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_close), "D"((long)fd)
			 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_close;
	register long x0 __asm__("x0") = fd;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8) : "memory");
	return x0;
#else
	(void)fd;
	return -1;
#endif
}

/* fd passed over s as SCM_RIGHTS */
static int send_fd(int s, int fd)
{
	char c = 'f';
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof u.b;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof fd);
	return sendmsg(s, &m, 0) == 1 ? 0 : -1;
}

/* The fd that came over s, received by HOW: recvmsg, recvmmsg, or
 * syscall(SYS_recvmsg) / syscall(SYS_recvmmsg); -1 if none came. */
static int recv_fd(int s, const char *how)
{
	char c;
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct mmsghdr mm;
	memset(&mm, 0, sizeof mm);
	struct msghdr *m = &mm.msg_hdr;
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = u.b;
	m->msg_controllen = sizeof u.b;
	long r;
	if (!strcmp(how, "recvmsg"))
		r = recvmsg(s, m, 0);
	else if (!strcmp(how, "recvmmsg"))
		r = recvmmsg(s, &mm, 1, 0, NULL) == 1 ? 1 : -1;
	else if (!strcmp(how, "sys-recvmsg"))
		r = syscall(SYS_recvmsg, s, m, 0);
	else if (!strcmp(how, "sys-recvmmsg"))
		r = syscall(SYS_recvmmsg, s, &mm, 1, 0, NULL) == 1 ? 1 : -1;
	else
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(m);
	if (r != 1 || !h || h->cmsg_level != SOL_SOCKET ||
	    h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof fd);
	return fd;
}

/* A request on a socket closed unseen; then the socket's number comes
 * back as an fd received over a socketpair (SCM_RIGHTS, by ARG: recv_fd's
 * HOW), a temp file, which gets a line that looks like a request (a
 * line that is not HTTP first would make the sniffer give the connection
 * up: no row either way). The file was opened before the close and sent, then closed:
 * the lowest free number is the socket's when the fd arrives. */
static int sc_reuse_scm(const char *how)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 3;
	int fd = connect_to(g_port);
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	int f = open_tmp();
	if (f < 0 || send_fd(sv[0], f))
		return 3;
	close(f);
	say("unseen_close", unseen_close(fd) == 0);
	int g = recv_fd(sv[1], how);
	say("received", g >= 0);
	say("reused", g == fd);
	send_all(g, file_text, sizeof file_text - 1);
	close(g);
	return 0;
}

/* A request on a socket closed unseen; then its number comes back from
 * a libc call that opens inside glibc (its own open or pipe2, no
 * wrapper's), by ARG: tmpfile, popen (the write end glibc keeps: a
 * number below the socket's is freed first, so the pipe's read end,
 * which glibc closes, takes it), shm_open, posix_openpt, mkstemps; the
 * fd gets a line that looks like a request. */
static int sc_reuse_libc(const char *how)
{
	int hold = open("/dev/null", O_RDONLY); /* below the socket */
	int fd = connect_to(g_port);
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	if (hold < 0 || hold > fd)
		return 3;
	if (!strcmp(how, "popen"))
		close(hold);
	say("unseen_close", unseen_close(fd) == 0);
	int g = -1;
	FILE *st = NULL;
	char name[64];
	if (!strcmp(how, "tmpfile")) {
		st = tmpfile();
		g = st ? fileno(st) : -1;
	} else if (!strcmp(how, "popen")) {
		st = popen("cat >/dev/null", "w");
		g = st ? fileno(st) : -1;
	} else if (!strcmp(how, "shm_open")) {
		snprintf(name, sizeof name, "/fd_host.%d", (int)getpid());
		g = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		shm_unlink(name);
	} else if (!strcmp(how, "posix_openpt")) {
		g = posix_openpt(O_RDWR | O_NOCTTY);
		if (g >= 0 && (grantpt(g) || unlockpt(g)))
			return 3;
	} else if (!strcmp(how, "mkstemps")) {
		snprintf(g_tmp, sizeof g_tmp, "/tmp/fd_host.%d.XXXXXX.txt", (int)getpid());
		g = mkstemps(g_tmp, 4);
		if (g >= 0)
			unlink(g_tmp);
	} else {
		return 2;
	}
	say("reused", g == fd);
	say("written", write(g, file_text, sizeof file_text - 1) ==
			       (ssize_t)(sizeof file_text - 1));
	if (st && !strcmp(how, "popen"))
		pclose(st);
	else if (st)
		fclose(st);
	else
		close(g);
	if (strcmp(how, "popen"))
		close(hold);
	return 0;
}

/* glibc 2.36's: absent from an older libc (then the "glibc" way is
 * skipped, ENOSYS, as a kernel without the call is) */
extern int pidfd_getfd(int pidfd, int targetfd, unsigned int flags) __attribute__((weak));

/* The same with the number handed back by pidfd_getfd (ARG "glibc": its
 * libc function; "syscall": syscall(SYS_pidfd_getfd)), a copy of our own
 * temp file's fd (our own process: no ptrace permission needed). A
 * kernel or filter that refuses it says "skip ERRNO" and nothing else
 * (test_shim_fd runs it only where the call works, and fails on that). */
static int sc_reuse_getfd(const char *how)
{
	int fd = connect_to(g_port);
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	int p = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int f = open_tmp();
	if (f < 0)
		return 3;
	if (p < 0) {
		say("skip", errno);
		return 0;
	}
	if (!strcmp(how, "glibc") && !pidfd_getfd) {
		say("skip", ENOSYS);
		return 0;
	}
	say("unseen_close", unseen_close(fd) == 0);
	int g = !strcmp(how, "glibc") ? pidfd_getfd(p, f, 0)
				       : (int)syscall(SYS_pidfd_getfd, p, f, 0);
	if (g < 0) {
		say("skip", errno);
		return 0;
	}
	say("reused", g == fd);
	send_all(g, file_text, sizeof file_text - 1);
	close(g);
	close(f);
	close(p);
	return 0;
}

/* Requests through dup, F_DUPFD and dup2 copies of one socket. */
static int sc_dup(void)
{
	int fd = connect_to(g_port);
	int d = dup(fd);
	request(d, "/one");
	say("tokens", response(fd));
	close(fd); /* the connection lives on in d */
	int d2 = fcntl(d, F_DUPFD_CLOEXEC, 50);
	close(d);
	request(d2, "/two");
	int d3 = dup2(d2, 77);
	say("tokens", response(d3));
	close(d2);
	close(d3);
	return 0;
}

/* A connection shared across fork(): each side's requests are its own. */
static int sc_fork(void)
{
	int fd = connect_to(g_port);
	request(fd, "/parent1");
	say("tokens", response(fd));
	pid_t c = fork();
	if (c == 0) {
		request(fd, "/child");
		int t = response(fd);
		close(fd);
		_exit(t == TOKENS ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	say("child", c);
	say("child_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	request(fd, "/parent2");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* A child that only closes its inherited copy, mid-request. */
static int sc_fork_close(void)
{
	int fd = connect_to(g_port);
	request(fd, "/v1/completions?ms=20");
	pid_t c = fork();
	if (c == 0) {
		close(fd);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* A raw child's part: a request on a connection of its own, after closing
 * its copy of the parent's; 0 if its whole response came. */
static int raw_child(int fd)
{
	close(fd); /* its own copy; the parent's connection goes on */
	int f = connect_to(g_port);
	request(f, "/child");
	int t = response(f);
	close(f);
	return t == TOKENS ? 0 : 1;
}

static int clone_child(void *arg)
{
	return raw_child((int)(long)arg);
}

/* A child made by HOW, none of which runs glibc's fork handlers: _Fork,
 * syscall(SYS_fork), or syscall(SYS_clone) with SIGCHLD alone (no
 * CLONE_VM: a copy of the memory, the stack too). 0 in the child. */
static pid_t raw_fork(const char *how)
{
	if (strcmp(how, "_Fork") == 0)
		return _Fork();
	if (strcmp(how, "SYS_clone") == 0)
		return (pid_t)syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	return (pid_t)syscall(SYS_fork);
}

/* Children made without glibc's fork() (raw_fork's, or glibc's clone()
 * without CLONE_VM on a stack of its own): their records carry their
 * pid. */
static int sc_rawfork(const char *how)
{
	static char stack[1 << 16] __attribute__((aligned(16)));
	int fd = connect_to(g_port);
	request(fd, "/parent");
	say("tokens", response(fd));
	pid_t c = !strcmp(how, "clone") ? clone(clone_child, stack + sizeof stack,
						 SIGCHLD, (void *)(long)fd)
					 : raw_fork(how);
	if (c == 0)
		_exit(raw_child(fd));
	int st;
	waitpid(c, &st, 0);
	say("child", c);
	say("child_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	request(fd, "/parent2");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* A request body sent with sendfile(), then another request. */
static int sc_sendfile(void)
{
	static const char body[] = "{\"stream\":true,\"prompt\":\"from a file\"}";
	int f = open_tmp();
	send_all(f, body, sizeof body - 1);
	int fd = connect_to(g_port);
	char head[256];
	int n = snprintf(head, sizeof head,
			 "POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
			 sizeof body - 1);
	send_all(fd, head, (size_t)n);
	off_t off = 0;
	say("sent", (long)sendfile(fd, f, &off, sizeof body - 1));
	say("tokens", response(fd));
	request(fd, "/two");
	say("tokens", response(fd));
	close(fd);
	close(f);
	return 0;
}

/* The response read through splice() into a pipe, as proxies do. */
static int sc_splice(void)
{
	int fd = connect_to(g_port);
	int p[2];
	if (pipe(p))
		return 2;
	request(fd, "/v1/completions?tokens=5&ms=5");
	static char all[1 << 16];
	size_t n = 0;
	while (!strstr(all, "\r\n0\r\n\r\n")) {
		struct pollfd pf = {fd, POLLIN, 0};
		poll(&pf, 1, 5000);
		ssize_t r = splice(fd, NULL, p[1], NULL, 65536, 0);
		if (r <= 0)
			return 3;
		ssize_t g = read(p[0], all + n, sizeof all - 1 - n);
		if (g <= 0)
			return 3;
		n += (size_t)g;
		all[n] = 0;
	}
	say("tokens", text_tokens(all));
	close(fd);
	return 0;
}

/* Discard len bytes of fd's stream into buf with MSG_TRUNC (tcp(7): the
 * kernel drops them, copying none) through HOW: recv, recvfrom, recvmsg
 * or recvmmsg. Returns the bytes dropped, -1 on failure. */
static ssize_t discard(int fd, char *buf, size_t len, const char *how)
{
	struct iovec iov = {buf, len};
	struct mmsghdr m = {0};
	m.msg_hdr.msg_iov = &iov;
	m.msg_hdr.msg_iovlen = 1;
	if (!strcmp(how, "recvfrom"))
		return recvfrom(fd, buf, len, MSG_TRUNC, NULL, NULL);
	if (!strcmp(how, "recvmsg"))
		return recvmsg(fd, &m.msg_hdr, MSG_TRUNC);
	if (!strcmp(how, "recvmmsg"))
		return recvmmsg(fd, &m, 1, MSG_TRUNC, NULL) == 1 ? (ssize_t)m.msg_len : -1;
	return recv(fd, buf, len, MSG_TRUNC);
}

/* A response's first token event dropped unread with MSG_TRUNC (through
 * HOW, see discard): the client reads the headers, peeks at the first
 * chunk to learn its length, discards exactly that chunk, reads the rest;
 * then a second request on the connection. Says whether the kernel
 * dropped the chunk without writing to the buffer, and the tokens read. */
static int sc_msgtrunc(const char *how)
{
	int fd = connect_to(g_port);
	request(fd, "/v1/completions?tokens=3");
	char head[sizeof sse_head];
	size_t got = 0;
	while (got < sizeof sse_head - 1) {
		ssize_t r = read(fd, head + got, sizeof sse_head - 1 - got);
		if (r <= 0)
			return 3;
		got += (size_t)r;
	}
	say("headers", memcmp(head, sse_head, got) == 0);
	/* the first chunk: its size line, its data and their CRLF */
	char peek[1024];
	size_t len = 0;
	for (;;) {
		ssize_t p = recv(fd, peek, sizeof peek - 1, MSG_PEEK);
		if (p <= 0)
			return 3;
		peek[p] = 0;
		char *eol = strstr(peek, "\r\n");
		len = eol ? (size_t)(eol - peek) + 2 + strtoul(peek, NULL, 16) + 2 : 0;
		if (len >= sizeof peek)
			return 3; /* not the fixture's event: none is this long */
		if (len && len <= (size_t)p)
			break;
		usleep(1000);
	}
	char buf[1024];
	memset(buf, 'x', sizeof buf);
	ssize_t d = discard(fd, buf, len, how);
	size_t same = 0;
	while (same < len && buf[same] == 'x')
		same++;
	say("discarded", d == (ssize_t)len);
	say("untouched", same == len);
	say("tokens", response(fd));
	request(fd, "/after-trunc");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* preadv2/pwritev2 at offset -1 on a socket (the current position: a
 * socket's readv/writev), and at offset 0 (ESPIPE): the request written
 * with pwritev2, the response read with preadv2, 3 tokens. */
static int sc_v2(void)
{
	int fd = connect_to(g_port);
	char req[256], b[16];
	int n = snprintf(req, sizeof req, "POST /v1/completions?tokens=3 HTTP/1.1\r\n"
			 "Host: x\r\nContent-Length: 15\r\n\r\n{\"stream\":true}");
	struct iovec w[2] = {{req, 10}, {req + 10, (size_t)n - 10}};
	struct iovec z = {b, sizeof b};
	errno = 0;
	say("espipe", preadv2(fd, &z, 1, 0, 0) == -1 && errno == ESPIPE);
	say("written", pwritev2(fd, w, 2, -1, 0) == n);
	static char buf[65536];
	size_t got = 0;
	while (!strstr(buf, "\r\n0\r\n\r\n")) {
		struct iovec v = {buf + got, sizeof buf - 1 - got};
		ssize_t r = preadv2(fd, &v, 1, -1, 0);
		if (r <= 0)
			return 3;
		got += (size_t)r;
		buf[got] = 0;
	}
	int tokens = 0;
	for (char *p = buf; (p = strstr(p, "\"text\":\" t")); p++)
		tokens++;
	say("tokens", tokens);
	close(fd);
	return 0;
}

/* Urgent data: the server's "!" sent MSG_OOB after a response's headers.
 * The client reads the headers, waits for POLLPRI, takes the byte with
 * recv(MSG_OOB) (it is no part of the stream: the reads stop at its mark
 * and go on after it without it), reads the rest; then a second request.
 * Says the byte and the tokens read. */
static int sc_oob(void)
{
	int fd = connect_to(g_port);
	request(fd, "/oob?tokens=3");
	char head[sizeof sse_head];
	size_t got = 0;
	while (got < sizeof sse_head - 1) {
		ssize_t r = read(fd, head + got, sizeof sse_head - 1 - got);
		if (r <= 0)
			return 3;
		got += (size_t)r;
	}
	say("headers", memcmp(head, sse_head, got) == 0);
	struct pollfd p = {fd, POLLPRI, 0};
	if (poll(&p, 1, -1) != 1 || !(p.revents & POLLPRI))
		return 3;
	char c = 0;
	say("oob", recv(fd, &c, 1, MSG_OOB) == 1 ? c : -1);
	say("tokens", response(fd));
	request(fd, "/after-oob");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* A client's urgent byte: the request and a "!" after it sent by one
 * send(MSG_OOB) (how = "send") or sendmsg(MSG_OOB) ("sendmsg"): the "!",
 * the last byte the call sent, is TCP's urgent byte, out of the stream
 * for the server (no SO_OOBINLINE: its reads skip it); then a second
 * request. Says what the call returned and the tokens read. */
static int sc_send_oob(const char *how)
{
	int fd = connect_to(g_port);
	char req[512];
	int n = snprintf(req, sizeof req,
			 "POST /send-oob?tokens=3 HTTP/1.1\r\nHost: x\r\n"
			 "Content-Length: 15\r\n\r\n{\"stream\":true}!");
	ssize_t w;
	if (!strcmp(how, "sendmsg")) {
		struct iovec iov[2] = {{req, (size_t)n - 1}, {req + n - 1, 1}};
		struct msghdr m = {0};
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		w = sendmsg(fd, &m, MSG_OOB);
	} else {
		w = send(fd, req, (size_t)n, MSG_OOB);
	}
	say("sent", w == n);
	say("tokens", response(fd));
	request(fd, "/after-send-oob");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* The non-blocking connect idiom, and connect() again mid-stream. */
static int sc_eisconn(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&sa, sizeof sa);
	struct pollfd pf = {fd, POLLOUT, 0};
	poll(&pf, 1, 5000);
	/* Linux reports the finished connect once (0), then EISCONN. */
	errno = 0;
	int again = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	say("again_done", again == 0 || errno == EISCONN);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	request(fd, "/v1/completions?tokens=4&ms=10");
	char buf[4096];
	size_t n = 0;
	while (!memmem(buf, n, "\" t0\"", 5)) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r <= 0)
			return 3;
		n += (size_t)r;
	}
	errno = 0;
	say("midstream_eisconn", connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
					 errno == EISCONN);
	say("rest_tokens", response(fd));
	close(fd);
	return 0;
}

/* The filter f[0..n) on this process (no new privileges first): 0, or -1. */
static int seccomp_install(struct sock_filter *f, size_t n)
{
	struct sock_fprog prog = {(unsigned short)n, f};
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
			       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0
		       ? -1
		       : 0;
}

/* A connect to the server with errno 4242 before it: says whether it
 * succeeded and the errno after it (the host's, kept by the shim). */
static int connect_keeping_errno(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 4242;
	int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	say("connect_ok", r == 0);
	say("connect_errno", errno);
	return fd;
}

/* Closes made from a thread of their own, its first record (its thread id
 * asked of the kernel, which the filter below refuses): libuv's
 * syscall(SYS_close), and freopen of a socket's stream. */
static int g_sc_fd;
static FILE *g_sc_stream;

static void *raw_closer(void *arg)
{
	(void)arg;
	errno = 4242;
	long r = syscall(SYS_close, g_sc_fd);
	int e = errno;
	say("raw_close_ok", r == 0);
	say("raw_close_errno", e);
	return NULL;
}

static void *reopener(void *arg)
{
	(void)arg;
	errno = 4242;
	FILE *f = freopen("/dev/null", "w", g_sc_stream);
	int e = errno;
	say("freopen_ok", f != NULL);
	say("freopen_errno", e);
	return NULL;
}

/* A host under a seccomp filter that forbids calls it never makes itself
 * but the shim does (fstat, gettid): its calls succeed, and the errno they
 * leave is the one the host had (a connect changed it to EPERM). */
static int sc_seccomp(void)
{
	say("start", 0); /* stdout set up before the filter */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fstat, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettid, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	if (seccomp_install(f, sizeof f / sizeof f[0]) != 0)
		return 9;
	int fd = connect_keeping_errno();
	request(fd, "/v1/completions?tokens=2");
	say("tokens", response(fd));
	errno = 4242;
	int r = close(fd);
	say("close_ok", r == 0);
	say("close_errno", errno);
	pthread_t t;
	g_sc_fd = connect_to(g_port);
	if (pthread_create(&t, NULL, raw_closer, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 8;
	g_sc_stream = fdopen(connect_to(g_port), "w");
	if (!g_sc_stream || pthread_create(&t, NULL, reopener, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		return 8;
	return 0;
}

/* A seccomp filter refuses rt_sigprocmask with an unknown `how` (EPERM),
 * the question the shim asks the kernel before it reads a connect's
 * address: the shim cannot know, and reads the address only after the
 * kernel has. An unreadable address still fails EFAULT (no SIGSEGV); a
 * good connect is traced as ever, its errno kept. */
static int sc_seccomp_probe(void)
{
	say("start", 0);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigprocmask, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	if (seccomp_install(f, sizeof f / sizeof f[0]) != 0)
		return 9;
	uint64_t set = 0;
	errno = 0;
	long pr = syscall(SYS_rt_sigprocmask, -1L, &set, NULL, (long)sizeof set);
	say("probe_refused", pr == -1 && errno == EPERM);
	volatile uintptr_t bad = 16;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	say("e_connect_bad", connect(s, (const struct sockaddr *)bad,
				     sizeof(struct sockaddr_in)) == -1 ? errno : -1);
	close(s);
	int fd = connect_keeping_errno();
	request(fd, "/after-probe-refused?tokens=2");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* TCP Fast Open: connect and request in one sendto(MSG_FASTOPEN) (no
 * connect() call), twice, then each response read. Prints what the kernel
 * took (tfo_sent: the bytes, -1 and tfo_errno if it refused) and the
 * tokens read. */
static int sc_tfo(void)
{
	for (int k = 0; k < 2; k++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {0};
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)g_port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		char req[256];
		int n = snprintf(req, sizeof req,
				 "POST /v1/completions?tokens=3 HTTP/1.1\r\nHost: x\r\n"
				 "Content-Length: 15\r\n\r\n{\"stream\":true}");
		ssize_t r = sendto(fd, req, (size_t)n, MSG_FASTOPEN,
				   (struct sockaddr *)&sa, sizeof sa);
		say("tfo_sent", (long)r);
		if (r != n) {
			say("tfo_errno", errno);
			close(fd);
			continue;
		}
		say("tokens", response(fd));
		close(fd);
	}
	return 0;
}

/* Plain HTTP through a proxy's tunnel (curl -p -x): CONNECT, the 200
 * that opens the tunnel (no body), then a request through it. */
static int sc_tunnel(void)
{
	int fd = connect_to(g_port);
	char line[128];
	int n = snprintf(line, sizeof line,
			 "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
			 g_port, g_port);
	send_all(fd, line, (size_t)n);
	char buf[256];
	size_t got = 0;
	while (!memmem(buf, got, "\r\n\r\n", 4)) {
		ssize_t r = read(fd, buf + got, sizeof buf - got);
		if (r <= 0 || (got += (size_t)r) == sizeof buf)
			return 3;
	}
	say("tunnel_open", memcmp(buf, "HTTP/1.1 200", 12) == 0);
	request(fd, "/v1/completions?tokens=3");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* Expect: 100-continue refused with 417; the next request must stand. */
static int sc_expect417(void)
{
	int fd = connect_to(g_port);
	static const char head[] =
		"POST /expect417 HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n"
		"Expect: 100-continue\r\n\r\n";
	send_all(fd, head, sizeof head - 1);
	char buf[256];
	ssize_t r = read(fd, buf, sizeof buf - 1);
	buf[r > 0 ? r : 0] = 0;
	say("got_417", strncmp(buf, "HTTP/1.1 417", 12) == 0);
	request(fd, "/after417");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* Not HTTP at all: CPython's test_socket payload. */
static int sc_michael(void)
{
	int fd = connect_to(g_port);
	static const char msg[] = "Michael Gilfix was here\xe1\x88\xb4\r\n";
	send_all(fd, msg, sizeof msg - 1);
	usleep(20000);
	close(fd);
	return 0;
}

/* Thread A resolves a name; thread B connects (no lookup) after A's lookup
 * ended and before A connects. B's row must not take A's lookup. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_step;

static void wait_step(int s)
{
	pthread_mutex_lock(&g_mu);
	while (g_step < s)
		pthread_cond_wait(&g_cv, &g_mu);
	pthread_mutex_unlock(&g_mu);
}

static void set_step(int s)
{
	pthread_mutex_lock(&g_mu);
	g_step = s;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

static void *dns_thread_b(void *arg)
{
	(void)arg;
	wait_step(1);
	int fd = connect_to(g_port);
	request(fd, "/b-no-lookup");
	response(fd);
	close(fd);
	set_step(2);
	return NULL;
}

static int sc_dns_threads(void)
{
	pthread_t b;
	pthread_create(&b, NULL, dns_thread_b, NULL);
	struct addrinfo hints = {0}, *res;
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	char port[16];
	snprintf(port, sizeof port, "%d", g_port);
	/* a numeric name: a lookup all the same, and no /etc/hosts needed
	 * (a fresh debootstrap has none) */
	if (getaddrinfo("127.0.0.1", port, &hints, &res) != 0)
		return 2;
	set_step(1);
	wait_step(2);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		return 2;
	freeaddrinfo(res);
	request(fd, "/a-looked-up");
	response(fd);
	close(fd);
	pthread_join(b, NULL);
	return 0;
}

/* Thread A blocks in recv on fd N; thread B (main) closes N, connects
 * again and gets the number N, sends its request and reads its answer;
 * meanwhile the old socket's response arrives, and A's recv (which holds
 * the old socket) returns it. That response is the old connection's, not
 * the new one's. A reads it whole with MSG_WAITALL (its length from a
 * probe request for the same answer), so its tokens are known. */
static char g_blk_buf[16384];
static ssize_t g_blk_got;
static size_t g_blk_len;
static int g_blk_fd;
static volatile pid_t g_blk_tid;

/* Wait until thread tid sleeps in system call nr, as /proc says (its
 * syscall file names the call it is in, its stat says it sleeps): a
 * guarantee, not a guess of how long it takes to get there. 0 when it
 * does, -1 after 20 s. */
static int wait_blocked_in(pid_t tid, long nr)
{
	char path[64], line[512];
	for (int i = 0; i < 20000; i++) {
		long got = -1;
		char st = 0;
		snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%ld", &got) != 1)
				got = -1;
			fclose(f);
		}
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
		f = fopen(path, "r");
		if (f) {
			const char *c = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
			st = c && c[1] == ' ' ? c[2] : 0;
			fclose(f);
		}
		if (got == nr && st == 'S')
			return 0;
		usleep(1000);
	}
	return -1;
}

static void *blocked_reader(void *arg)
{
	(void)arg;
	g_blk_tid = (pid_t)syscall(SYS_gettid);
	set_step(1);
	g_blk_got = recv(g_blk_fd, g_blk_buf, g_blk_len, MSG_WAITALL);
	return NULL;
}

static int sc_reuse_blocked(void)
{
	/* the length of the old answer (5 tokens) */
	int p = connect_to(g_port);
	request(p, "/probe?tokens=5");
	char buf[16384];
	size_t n = 0;
	while (!memmem(buf, n, "\r\n0\r\n\r\n", 7)) {
		ssize_t r = read(p, buf + n, sizeof buf - n);
		if (r <= 0)
			return 3;
		n += (size_t)r;
	}
	close(p);
	g_blk_len = n;
	g_blk_fd = connect_to(g_port);
	request(g_blk_fd, "/old?tokens=5&head_delay=700");
	pthread_t a;
	pthread_create(&a, NULL, blocked_reader, NULL);
	wait_step(1);
	if (wait_blocked_in(g_blk_tid, SYS_recvfrom) != 0)
		return 4; /* A never slept in its recv */
	close(g_blk_fd);
	int fd = connect_to(g_port);
	say("reused", fd == g_blk_fd);
	request(fd, "/new?tokens=2&head_delay=1200");
	say("new_tokens", response(fd));
	pthread_join(a, NULL);
	if (g_blk_got > 0 && (size_t)g_blk_got < sizeof g_blk_buf)
		g_blk_buf[g_blk_got] = 0;
	else
		g_blk_buf[0] = 0;
	say("old_whole", g_blk_got == (ssize_t)g_blk_len);
	say("old_tokens", text_tokens(g_blk_buf));
	close(fd);
	return 0;
}

/* sendmsg/recvmsg with a msghdr pointer the kernel refuses: -1 and
 * EFAULT, as without the shim (which once read msg->msg_iov after the
 * failed call: SIGSEGV); then a request on the connection as ever. */
static int sc_badmsg(void)
{
	int fd = connect_to(g_port);
	volatile uintptr_t bad = 16;
	errno = 0;
	ssize_t r = sendmsg(fd, (const struct msghdr *)bad, 0);
	say("sendmsg_efault", r == -1 && errno == EFAULT);
	errno = 0;
	r = recvmsg(fd, (struct msghdr *)bad, MSG_DONTWAIT);
	say("recvmsg_efault", r == -1 && errno == EFAULT);
	request(fd, "/after-badmsg");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* connect, and sendto/sendmsg with MSG_FASTOPEN (TCP Fast Open: connect
 * and send in one call), handed an address or msghdr the kernel cannot
 * read: each fails as without the shim (which once read the address
 * before the call: SIGSEGV, where the kernel says EFAULT). Each "e_*"
 * line is the call's errno (-1 if it did not fail); then a request on a
 * good connection as ever. */
static int sc_badaddr(void)
{
	volatile uintptr_t bad = 16;
	const struct sockaddr *sa = (const struct sockaddr *)bad;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	say("e_connect", connect(s, sa, sizeof(struct sockaddr_in)) == -1 ? errno : -1);
	errno = 0;
	say("e_connect_len0", connect(s, sa, 0) == -1 ? errno : -1);
	errno = 0;
	say("e_connect_len200", connect(s, sa, 200) == -1 ? errno : -1);
	close(s);
	/* an IPv6 address whose family is readable and the rest is not:
	 * the last 2 bytes of a page, the next page inaccessible */
	long pg = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || mprotect(two + pg, (size_t)pg, PROT_NONE))
		return 3;
	sa_family_t fam6 = AF_INET6;
	memcpy(two + pg - sizeof fam6, &fam6, sizeof fam6);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	errno = 0;
	say("e_connect_cut6",
	    connect(s, (const struct sockaddr *)(two + pg - sizeof fam6),
		    sizeof(struct sockaddr_in6)) == -1 ? errno : -1);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	say("e_sendto_tfo", sendto(s, "x", 1, MSG_FASTOPEN, sa,
				   sizeof(struct sockaddr_in)) == -1 ? errno : -1);
	errno = 0;
	say("e_sendmsg_tfo",
	    sendmsg(s, (const struct msghdr *)bad, MSG_FASTOPEN) == -1 ? errno : -1);
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr m = {.msg_name = (void *)bad,
			   .msg_namelen = sizeof(struct sockaddr_in),
			   .msg_iov = &iov, .msg_iovlen = 1};
	errno = 0;
	say("e_sendmsg_tfo_name", sendmsg(s, &m, MSG_FASTOPEN) == -1 ? errno : -1);
	close(s);
	munmap(two, (size_t)pg * 2);
	int fd = connect_to(g_port);
	request(fd, "/after-badaddr");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* close_range calls the kernel refuses (EINVAL: an unknown flag), by
 * libc and by syscall(): nothing closes, and the connection's request is
 * a row as ever (the shim once dropped the range from its table first). */
static int sc_close_range_bad(void)
{
	int fd = connect_to(g_port);
	int einval = 0;
	errno = 0;
	if (close_range((unsigned)fd, ~0U, 0x80) == -1 && errno == EINVAL)
		einval++;
	errno = 0;
	if (syscall(SYS_close_range, fd, fd, 0x80) == -1 && errno == EINVAL)
		einval++;
	say("einval", einval);
	request(fd, "/after-close-range");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* The same for a send: thread A blocks in send on fd N (a big request to
 * a listener that never accepts), B closes N, connects to the server onto
 * N and has its request answered; then the listener closes, and A's send
 * returns what it had sent of the old request. */
static char *g_sblk_buf;
static size_t g_sblk_len;
static ssize_t g_sblk_sent;

static void *blocked_sender(void *arg)
{
	(void)arg;
	g_blk_tid = (pid_t)syscall(SYS_gettid);
	set_step(1);
	g_sblk_sent = send(g_blk_fd, g_sblk_buf, g_sblk_len, MSG_NOSIGNAL);
	return NULL;
}

static int sc_reuse_blocked_send(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	/* small fixed buffers (no autotuning): the send blocks however the
	 * host's TCP memory is set */
	int small = 65536;
	setsockopt(ls, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl))
		return 2;
	size_t body = 16u << 20;
	g_sblk_buf = malloc(body + 256);
	if (!g_sblk_buf)
		return 2;
	int h = snprintf(g_sblk_buf, 256,
			 "POST /old-send HTTP/1.1\r\nHost: x\r\n"
			 "Content-Length: %zu\r\n\r\n", body);
	memset(g_sblk_buf + h, 'x', body);
	g_sblk_len = (size_t)h + body;
	g_blk_fd = connect_to(ntohs(sa.sin_port));
	setsockopt(g_blk_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	pthread_t a;
	pthread_create(&a, NULL, blocked_sender, NULL);
	wait_step(1);
	if (wait_blocked_in(g_blk_tid, SYS_sendto) != 0)
		return 4; /* A never slept in its send, the buffers full */
	close(g_blk_fd);
	int fd = connect_to(g_port);
	say("reused", fd == g_blk_fd);
	request(fd, "/new-send?tokens=2");
	say("new_tokens", response(fd));
	close(ls); /* the unaccepted connection is reset: A's send returns */
	pthread_join(a, NULL);
	say("old_partly_sent", g_sblk_sent > 0 && (size_t)g_sblk_sent < g_sblk_len);
	close(fd);
	free(g_sblk_buf);
	return 0;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connection opened 150 ms before its request (undici, eventsource). */
/* The request, then its response read up to the first token: the client's
 * own TTFT (from just before the request) printed, then the rest. */
static int ttft_exchange(int fd, const char *path)
{
	double t0 = mono();
	request(fd, path);
	char buf[4096];
	size_t n = 0;
	while (!memmem(buf, n, "\" t0\"", 5)) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r <= 0)
			return 3;
		n += (size_t)r;
	}
	double t1 = mono();
	printf("client_send_s %.9f\nclient_ttft_s %.6f\n", t0, t1 - t0);
	response(fd);
	close(fd);
	return 0;
}

static int sc_preopen(void)
{
	int fd = connect_to(g_port);
	usleep(150000);
	return ttft_exchange(fd, "/v1/completions?tokens=2&ms=20");
}

/* The same opened the non-blocking way, its end known only from poll()
 * (no SO_ERROR, no second connect: no call shows the shim when the
 * handshake ended). The client's own clock: when poll said writable, and
 * when the request went out. */
static int sc_preopen_nb(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
		return 2;
	struct pollfd p = {fd, POLLOUT, 0};
	if (poll(&p, 1, 5000) != 1)
		return 2;
	double ready = mono();
	usleep(300000);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	printf("client_ready_s %.9f\n", ready);
	/* the headers 30 ms after the request: the shim asks the kernel when
	 * the handshake ended before the response is there (on a busy
	 * machine a response at once was there about half the time, and
	 * the row could only say the setup's end was not known) */
	return ttft_exchange(fd, "/v1/completions?tokens=2&ms=20&head_delay=30");
}

/* One whole exchange, then a second request whose response the client
 * stops reading ten bytes in, in its status line, and closes. */
static int sc_close_mid_head(void)
{
	int fd = connect_to(g_port);
	request(fd, "/v1/completions?tokens=2");
	say("tokens", response(fd));
	request(fd, "/v1/completions?tokens=2");
	char buf[10];
	size_t got = 0;
	while (got < sizeof buf) {
		ssize_t r = read(fd, buf + got, sizeof buf - got);
		if (r <= 0)
			return 3;
		got += (size_t)r;
	}
	say("head_bytes", (long)got);
	close(fd);
	return 0;
}

/* Two requests written with write(), their responses read through stdio
 * input (fgets on an fdopen'ed stream: libc's own reads, which the shim
 * does not see), then closed. */
static int sc_stdio_read(void)
{
	int fd = connect_to(g_port);
	FILE *in = fdopen(dup(fd), "r");
	if (!in)
		return 2;
	int tokens = 0;
	for (int k = 0; k < 2; k++) {
		request(fd, "/v1/completions?tokens=2");
		char line[4096];
		while (fgets(line, sizeof line, in)) {
			tokens += strstr(line, "\"text\":\" t") != NULL;
			if (!strcmp(line, "0\r\n")) {
				fgets(line, sizeof line, in); /* the last CRLF */
				break;
			}
		}
	}
	say("tokens", tokens);
	fclose(in);
	close(fd);
	return 0;
}

/* A dual-stack (AF_INET6) socket reaching the IPv4 server as
 * ::ffff:127.0.0.1, as Node and Java clients do. */
static int sc_v4mapped(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sa = {0};
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)g_port);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa.sin6_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return 2;
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	close(fd);
	return 0;
}

/* The server resets the stream after one token. */
static int sc_reset(void)
{
	int fd = connect_to(g_port);
	request(fd, "/reset?tokens=3");
	char buf[4096];
	ssize_t r;
	errno = 0;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		;
	say("econnreset", r < 0 && errno == ECONNRESET);
	close(fd);
	return 0;
}

/* A plain streamed request with TOKENS tokens M ms apart (log tests). */
/* A burst: the whole response of TOKENS (ARG, default 32) events taken by
 * one recv, once it has all arrived (peeked at, which the shim leaves to
 * the read that takes the bytes): the shim's one read of many token
 * events. */
static int sc_burst(const char *arg)
{
	int fd = connect_to(g_port);
	char path[128];
	snprintf(path, sizeof path, "/v1/completions?tokens=%d", arg ? atoi(arg) : 32);
	request(fd, path);
	static char all[1 << 16];
	ssize_t n = 0;
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		poll(&pf, 1, 5000);
		n = recv(fd, all, sizeof all - 1, MSG_PEEK);
		if (n <= 0)
			return 3;
		all[n] = 0;
		if (strstr(all, "\r\n0\r\n\r\n"))
			break;
		if (n == (ssize_t)sizeof all - 1)
			return 3;
		/* more to come: wait for it without spinning */
		usleep(1000);
	}
	say("read", (long)recv(fd, all, (size_t)n, 0));
	say("tokens", text_tokens(all));
	close(fd);
	return 0;
}

static int sc_stream(const char *arg)
{
	int fd = connect_to(g_port);
	char path[128];
	snprintf(path, sizeof path, "/v1/completions?%s", arg ? arg : "tokens=3");
	request(fd, path);
	/* "&read=N": reads of at most N bytes (a server's key it ignores) */
	const char *rd = arg ? strstr(arg, "read=") : NULL;
	say("tokens", response_by(fd, rd ? (size_t)atoi(rd + 5) : 8192));
	close(fd);
	return 0;
}

/* Token times kept (the shim writes a response's later token times
 * several to a record): "times MODE K N" reads a stream of N token events
 * paced 1 ms apart, printing for each event that ended in a read
 * "tok I BEFORE AFTER" (its number, this process's CLOCK_MONOTONIC just
 * before and after that read: the shim's time for it lies between). MODE
 * says what the host does once K tokens were read: end (nothing: reads
 * to the end, closes), close (closes the socket), exit (exit(), the socket
 * open), exec (execs /bin/true), fork (a child that exits with exit();
 * the parent reads on to the end), rawfork (the same, the child made by
 * syscall(SYS_fork)), thread (another thread reads the rest, the end
 * too, this one waiting for it), sthread (the same under a filter that
 * refuses gettid), child (a fork child reads K more, says
 * how many and ends by exit(); the parent closes its copy). Each read is
 * made with errno 4242; "errno_changed N" says how many that succeeded
 * left another (the shim keeps the host's errno). */
/* This process's anonymous memory in use (kB, /proc/self/status
 * RssAnon), -1 unknown. */
static long rss_anon_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char l[256];
	long v = -1;
	while (f && fgets(l, sizeof l, f))
		if (!strncmp(l, "RssAnon:", 8))
			v = atol(l + 8);
	if (f)
		fclose(f);
	return v;
}

struct times_st {
	int fd, k, n, ends, forked, last, errno_changed;
	const char *mode;
	char prev;
	uint64_t hist, want;
};

static int times_read(struct times_st *s);

static void *times_thread(void *p)
{
	return (void *)(long)times_read(p);
}

/* The reads of sc_times from where s stands (1: the host ended its
 * reads by closing, 0: read to the end, else its exit status). */
static int times_read(struct times_st *s)
{
	char buf[8192];
	while (!s->last) {
		int64_t t0 = ttft_now_ns();
		errno = 4242; /* the host's, which a read that succeeds keeps */
		ssize_t r = read(s->fd, buf, sizeof buf);
		int e = errno;
		int64_t t1 = ttft_now_ns();
		if (r <= 0)
			break;
		s->errno_changed += e != 4242;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == '\n' && s->prev == '\n' && s->ends <= s->n) {
				if (s->ends < s->n)
					printf("tok %d %lld %lld\n", s->ends, (long long)t0,
					       (long long)t1);
				s->ends++;
			}
			s->prev = buf[i];
			s->hist = (s->hist << 8 | (uint8_t)buf[i]) & 0xffffffffffffffull;
			s->last |= s->hist == s->want;
		}
		if (s->ends >= s->k && s->k > 0 && !s->forked && !s->last &&
		    strcmp(s->mode, "end") != 0) {
			if (!strcmp(s->mode, "thread") || !strcmp(s->mode, "sthread")) {
				/* another thread reads the rest; this one
				 * waits for it (the connection handed over,
				 * as a work-stealing runtime moves a task) */
				s->forked = 1;
				pthread_t t;
				void *rc;
				if (pthread_create(&t, NULL, times_thread, s) ||
				    pthread_join(t, &rc))
					return 3;
				return (int)(long)rc;
			}
			say("tokens", s->ends < s->n ? s->ends : s->n);
			say("errno_changed", s->errno_changed);
			if (!strcmp(s->mode, "close")) {
				close(s->fd);
				return 1;
			}
			if (!strcmp(s->mode, "exit"))
				exit(0);
			if (!strcmp(s->mode, "exec")) {
				execl("/bin/true", "true", (char *)NULL);
				return 3;
			}
			fflush(stdout);
			if (!strcmp(s->mode, "child")) {
				/* the child reads K more (the parent's
				 * connection, its request: it keeps its id),
				 * then ends by exit(), the stream unfinished;
				 * the parent waits and closes its copy */
				pid_t c = fork();
				if (c == 0) {
					s->mode = "exit";
					s->k = 2 * s->k;
					return times_read(s);
				}
				waitpid(c, NULL, 0);
				close(s->fd);
				return 1;
			}
			/* fork, rawfork (syscall(SYS_fork): no atfork handler
			 * runs): the child ends at once, by exit(), saying
			 * how much anonymous memory it has that its parent
			 * had not ("forkrss KB": what the fork made it touch) */
			long before = rss_anon_kb();
			pid_t c = !strcmp(s->mode, "rawfork") ? raw_fork("SYS_fork") : fork();
			if (c == 0) {
				/* a traced call: a child no atfork handler
				 * saw finds it is one here */
				close(-1);
				printf("forkrss %ld\n", rss_anon_kb() - before);
				exit(0);
			}
			waitpid(c, NULL, 0);
			s->forked = 1;
		}
	}
	return 0;
}

static int sc_times(const char *arg)
{
	char mode[16] = "end";
	struct times_st s = {.k = 0, .n = 40, .mode = mode};
	if (arg)
		sscanf(arg, "%15s %d %d", mode, &s.k, &s.n);
	s.fd = connect_to(g_port);
	char path[128];
	snprintf(path, sizeof path, "/v1/completions?tokens=%d&ms=1", s.n);
	request(s.fd, path);
	/* the last chunk, "\r\n0\r\n\r\n", found across reads too: the
	 * last 7 bytes read, one a byte */
	for (const char *e = "\r\n0\r\n\r\n"; *e; e++)
		s.want = s.want << 8 | (uint8_t)*e;
	if (!strcmp(mode, "sthread")) {
		/* thread, under a filter that refuses gettid (EPERM): the
		 * reading thread's first record is a token event's, on the
		 * read path that leaves errno unread */
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettid, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		};
		if (seccomp_install(f, sizeof f / sizeof f[0]) != 0)
			return 9;
	}
	int rc = times_read(&s);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	say("tokens", s.ends < s.n ? s.ends : s.n);
	say("errno_changed", s.errno_changed);
	close(s.fd);
	return 0;
}

/* The host's own SIGBUS, from its own truncated mapping: its handler runs
 * and sees its own fault; sigaction shows it its own handler. */
static sigjmp_buf g_jb;
static volatile void *g_fault;

static void own_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	g_fault = si->si_addr;
	siglongjmp(g_jb, 1);
}

static int sc_sigbus_own(const char *arg)
{
	int handled = arg && strcmp(arg, "default") != 0;
	if (handled) {
		struct sigaction sa = {0};
		sa.sa_sigaction = own_bus;
		sa.sa_flags = SA_SIGINFO;
		sigaddset(&sa.sa_mask, SIGKILL); /* the kernel keeps it out */
		sigaddset(&sa.sa_mask, SIGUSR1);
		sigaction(SIGBUS, &sa, NULL);
		struct sigaction q;
		sigaction(SIGBUS, NULL, &q);
		say("handler_is_mine", (q.sa_flags & SA_SIGINFO) && q.sa_sigaction == own_bus);
		/* what reads back is what the kernel holds: every field as
		 * without the shim (the flags libc adds, its restorer, the
		 * mask as the kernel keeps it) */
		say("flags", q.sa_flags);
		say("restorer_set", q.sa_restorer != NULL);
		say("mask_kill", sigismember(&q.sa_mask, SIGKILL));
		say("mask_usr1", sigismember(&q.sa_mask, SIGUSR1));
		struct sigaction old;
		sigaction(SIGBUS, &sa, &old); /* the old one, as the kernel held it */
		say("old_flags", old.sa_flags);
		say("old_restorer_set", old.sa_restorer != NULL);
	}
	int f = open_tmp();
	if (ftruncate(f, 8192))
		return 2;
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	m[0] = 1;
	if (ftruncate(f, 0))
		return 2;
	if (sigsetjmp(g_jb, 1) == 0) {
		m[100] = 1; /* SIGBUS */
		say("not_reached", 1);
		return 1;
	}
	say("own_fault_seen", g_fault == m + 100);
	return 0;
}

/* The process's address space in use, for ulimit -v tests. */
static int sc_vm(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmSize:", 7) == 0)
			say("vmsize_kb", atol(line + 7));
	if (f)
		fclose(f);
	return 0;
}

/* A program that closed its stderr and holds its own data file on fd 2
 * (the lowest free number), streams a request, has its log emptied under
 * it (TTFT_LOG truncated here: the SIGBUS guard's case), streams another
 * and exits: the data file must hold only what it wrote. arg: its path. */
static int sc_stderr_reused(const char *path)
{
	close(2);
	int d = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	say("data_fd", d);
	send_all(d, "data\n", 5);
	int fd = connect_to(g_port);
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	const char *log = getenv("TTFT_LOG");
	if (log)
		say("truncated", truncate(log, 0));
	request(fd, "/v1/completions");
	say("tokens", response(fd));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fd_host serve | SCENARIO [PORT [ARG]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *sc = argv[1];
	if (strcmp(sc, "serve") == 0) {
		/* a client that closes mid-stream (times close) must not end
		 * the server: its write then fails, EPIPE */
		signal(SIGPIPE, SIG_IGN);
		say("port", start_server());
		for (;;)
			pause();
	}
	g_port = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : start_server();
	const char *arg = argc > 3 ? argv[3] : NULL;
	say("pid", getpid());
	if (!strcmp(sc, "reuse-raw")) return sc_reuse_raw();
	if (!strcmp(sc, "reuse-fclose")) return sc_reuse_fclose();
	if (!strcmp(sc, "reuse-scm")) return sc_reuse_scm(arg ? arg : "recvmsg");
	if (!strcmp(sc, "reuse-getfd")) return sc_reuse_getfd(arg ? arg : "glibc");
	if (!strcmp(sc, "reuse-libc")) return sc_reuse_libc(arg ? arg : "tmpfile");
	if (!strcmp(sc, "dup")) return sc_dup();
	if (!strcmp(sc, "fork")) return sc_fork();
	if (!strcmp(sc, "fork-close")) return sc_fork_close();
	if (!strcmp(sc, "rawfork")) return sc_rawfork(arg ? arg : "SYS_fork");
	if (!strcmp(sc, "sendfile")) return sc_sendfile();
	if (!strcmp(sc, "splice")) return sc_splice();
	if (!strcmp(sc, "msgtrunc")) return sc_msgtrunc(arg ? arg : "recv");
	if (!strcmp(sc, "oob")) return sc_oob();
	if (!strcmp(sc, "send-oob")) return sc_send_oob(arg ? arg : "send");
	if (!strcmp(sc, "v2")) return sc_v2();
	if (!strcmp(sc, "eisconn")) return sc_eisconn();
	if (!strcmp(sc, "expect417")) return sc_expect417();
	if (!strcmp(sc, "seccomp")) return sc_seccomp();
	if (!strcmp(sc, "seccomp-probe")) return sc_seccomp_probe();
	if (!strcmp(sc, "tfo")) return sc_tfo();
	if (!strcmp(sc, "tunnel")) return sc_tunnel();
	if (!strcmp(sc, "michael")) return sc_michael();
	if (!strcmp(sc, "dns-threads")) return sc_dns_threads();
	if (!strcmp(sc, "reuse-blocked")) return sc_reuse_blocked();
	if (!strcmp(sc, "reuse-blocked-send")) return sc_reuse_blocked_send();
	if (!strcmp(sc, "badmsg")) return sc_badmsg();
	if (!strcmp(sc, "badaddr")) return sc_badaddr();
	if (!strcmp(sc, "close-range-bad")) return sc_close_range_bad();
	if (!strcmp(sc, "preopen")) return sc_preopen();
	if (!strcmp(sc, "preopen_nb")) return sc_preopen_nb();
	if (!strcmp(sc, "close_mid_head")) return sc_close_mid_head();
	if (!strcmp(sc, "stdio_read")) return sc_stdio_read();
	if (!strcmp(sc, "reset")) return sc_reset();
	if (!strcmp(sc, "v4mapped")) return sc_v4mapped();
	if (!strcmp(sc, "stream")) return sc_stream(arg);
	if (!strcmp(sc, "burst")) return sc_burst(arg);
	if (!strcmp(sc, "times")) return sc_times(arg);
	if (!strcmp(sc, "sigbus")) return sc_sigbus_own(arg);
	if (!strcmp(sc, "vm")) return sc_vm();
	if (!strcmp(sc, "stderr-reused")) return sc_stderr_reused(arg ? arg : "/dev/null");
	fprintf(stderr, "fd_host: unknown scenario '%s'\n", sc);
	return 2;
}
