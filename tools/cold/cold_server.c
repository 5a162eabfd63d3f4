/* cold_server.c — see cold_server.h. */
#include "cold_server.h"
#include "ttft_clock.h"
#include "ttft_fetch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void add_line(struct cold_server *s, int err, const char *p, size_t n,
		     int64_t t)
{
	if (n && p[n - 1] == '\r')
		n--;
	pthread_mutex_lock(&s->mu);
	if (s->nlines == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		struct cold_line *l = realloc(s->lines, nc * sizeof *l);
		if (!l) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
		s->lines = l;
		s->cap = nc;
	}
	char *text = malloc(n + 1);
	if (text) {
		memcpy(text, p, n);
		text[n] = 0;
		s->lines[s->nlines++] = (struct cold_line){t, err, text};
	}
	pthread_mutex_unlock(&s->mu);
	if (s->log)
		fprintf(s->log, "%.6f\t%s\t%.*s\n", (double)(t - s->t_spawn) / 1e9,
			err ? "err" : "out", (int)n, p);
}

/* Reads both pipes until they close, stamping each line when the read that
 * completed it returned. A line longer than the buffer is cut in pieces. */
static void *reader(void *arg)
{
	struct cold_server *s = arg;
	char buf[2][16384];
	size_t len[2] = {0, 0};
	struct pollfd pf[2] = {{s->out_fd, POLLIN, 0}, {s->err_fd, POLLIN, 0}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(pf[k].fd, buf[k] + len[k], sizeof buf[k] - len[k]);
			int64_t t = ttft_now_ns();
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				if (len[k])
					add_line(s, k, buf[k], len[k], t);
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			len[k] += (size_t)r;
			char *start = buf[k], *nl;
			while ((nl = memchr(start, '\n', len[k] - (size_t)(start - buf[k])))) {
				add_line(s, k, start, (size_t)(nl - start), t);
				start = nl + 1;
			}
			size_t rest = len[k] - (size_t)(start - buf[k]);
			if (rest == sizeof buf[k]) { /* no newline in 16 KiB */
				add_line(s, k, buf[k], rest, t);
				rest = 0;
			}
			memmove(buf[k], start, rest);
			len[k] = rest;
		}
	}
	if (s->log)
		fflush(s->log);
	return NULL;
}

int cold_server_start(struct cold_server *s, const char *cmd, const char *log_path)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	if (log_path && !(s->log = fopen(log_path, "w")))
		return -1;
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
		return -1;
	s->t_spawn = ttft_now_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		/* The server is not the measured client: no shim inside it. */
		unsetenv("LD_PRELOAD");
		unsetenv("TTFT_LOG");
		unsetenv("TTFT_FILTER");
		setenv("PYTHONUNBUFFERED", "1", 1);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with the child's own call */
	close(po[1]);
	close(pe[1]);
	s->pid = pid;
	s->out_fd = po[0];
	s->err_fd = pe[0];
	pthread_create(&s->reader, NULL, reader, s);
	return 0;
}

int cold_server_dead(struct cold_server *s)
{
	if (s->reaped)
		return 1;
	if (waitpid(s->pid, &s->status, WNOHANG) == s->pid)
		s->reaped = 1;
	return s->reaped;
}

static int group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno != ESRCH;
}

double cold_server_stop(struct cold_server *s, double timeout_s)
{
	int64_t t0 = ttft_now_ns();
	if (!s->pid)
		return 0;
	kill(-s->pid, SIGTERM);
	int64_t deadline = t0 + (int64_t)(timeout_s * 1e9);
	int killed = 0;
	for (;;) {
		cold_server_dead(s);
		if (s->reaped && !group_alive(s->pid))
			break;
		if (!killed && ttft_now_ns() > deadline) {
			kill(-s->pid, SIGKILL);
			killed = 1;
		}
		if (killed && ttft_now_ns() > deadline + 5000000000LL)
			break; /* unkillable (D state): give up waiting */
		usleep(10000);
	}
	pthread_join(s->reader, NULL);
	return (double)(ttft_now_ns() - t0) / 1e9;
}

size_t cold_server_tail(struct cold_server *s, struct cold_line *out, size_t n)
{
	pthread_mutex_lock(&s->mu);
	size_t k = s->nlines < n ? s->nlines : n;
	for (size_t i = 0; i < k; i++) {
		out[i] = s->lines[s->nlines - k + i];
		out[i].text = strdup(out[i].text);
	}
	pthread_mutex_unlock(&s->mu);
	return k;
}

void cold_server_free(struct cold_server *s)
{
	for (size_t i = 0; i < s->nlines; i++)
		free(s->lines[i].text);
	free(s->lines);
	if (s->log)
		fclose(s->log);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof *s);
}

int cold_port_open(const char *host, int port)
{
	struct addrinfo hints = {0}, *res;
	hints.ai_socktype = SOCK_STREAM;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return 0;
	int open = 0;
	for (struct addrinfo *a = res; a && !open; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		open = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return open;
}

long cold_http_get(const char *url, double timeout_s, char **body)
{
	long status = 0;
	ttft_fetch(url, NULL, timeout_s, 1u << 20, body, &status, NULL, 0);
	return status;
}
