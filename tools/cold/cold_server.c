/* cold_server.c — see cold_server.h. */
#include "cold_server.h"
#include "ttft_clock.h"
#include "ttft_fetch.h"
#include "cold_phases.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* One line, cleaned of terminal escapes (vLLM colours its process
 * prefix); an empty one (the \n after a progress bar's last \r) is none. */
static void add_line(struct cold_server *s, int err, const char *p, size_t n,
		     int64_t t)
{
	char *text = malloc(n + 1);
	if (!text)
		return;
	memcpy(text, p, n);
	text[n] = 0;
	n = cold_clean_line(text, n);
	if (!n) {
		free(text);
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (s->nlines == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		struct cold_line *l = realloc(s->lines, nc * sizeof *l);
		if (!l) {
			pthread_mutex_unlock(&s->mu);
			free(text);
			return;
		}
		s->lines = l;
		s->cap = nc;
	}
	s->lines[s->nlines++] = (struct cold_line){t, err, text};
	pthread_mutex_unlock(&s->mu);
	if (s->log && fprintf(s->log, "%.6f\t%s\t%s\n", (double)(t - s->t_spawn) / 1e9,
			      err ? "err" : "out", text) < 0 && !s->log_errno)
		s->log_errno = errno ? errno : EIO;
}

/* The end of the next line in p[0..n): a \n, or a \r (a progress bar
 * redrawn in place: each redraw is a line of its own, with its own time). */
static char *line_end(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r')
			return p + i;
	return NULL;
}

/* One read of stream k into its buffer, each line it completes stamped
 * with the read's return; *got: the bytes read. 1: more may come; 0: the
 * stream ended (EOF, an error, or nothing left to read once draining),
 * its last piece taken. */
static int take(struct cold_server *s, int k, int fd, char *buf, size_t *len, size_t cap,
		size_t *got)
{
	ssize_t r = read(fd, buf + *len, cap - *len);
	int64_t t = ttft_now_ns();
	*got = r > 0 ? (size_t)r : 0;
	if (r < 0 && errno == EINTR)
		return 1;
	if (r <= 0) {
		if (*len)
			add_line(s, k, buf, *len, t);
		*len = 0;
		return 0;
	}
	*len += (size_t)r;
	char *start = buf, *nl;
	while ((nl = line_end(start, *len - (size_t)(start - buf)))) {
		add_line(s, k, start, (size_t)(nl - start), t);
		start = nl + 1;
	}
	size_t rest = *len - (size_t)(start - buf);
	if (rest == cap) { /* no newline in 16 KiB */
		add_line(s, k, buf, rest, t);
		rest = 0;
	}
	memmove(buf, start, rest);
	*len = rest;
	return 1;
}

/* Reads both pipes until they close, stamping each line when the read that
 * completed it returned. A line longer than the buffer is cut in pieces.
 * Once the server's group is gone (cold_server_stop writes to the wake
 * pipe), what is in the pipes is read and the reader ends: a process that
 * left the group (setsid: a daemon) may hold them open for ever. */
static void *reader(void *arg)
{
	struct cold_server *s = arg;
	char buf[2][16384];
	size_t len[2] = {0, 0}, got;
	struct pollfd pf[4] = {{s->out_fd, POLLIN, 0}, {s->err_fd, POLLIN, 0},
			       {s->wake[0], POLLIN, 0}, {s->drain[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents) {
			for (int k = 0; k < 2; k++) {
				if (pf[k].fd < 0)
					continue;
				fcntl(pf[k].fd, F_SETFL, fcntl(pf[k].fd, F_GETFL) | O_NONBLOCK);
				while (take(s, k, pf[k].fd, buf[k], &len[k], sizeof buf[k], &got))
					;
				close(pf[k].fd);
				pf[k].fd = -1;
			}
			break;
		}
		if (pf[3].revents) {
			/* cold_server_drain: the requests made so far are
			 * answered once what the pipes hold now is taken */
			/* the wake-ups first, then how many asked: a caller
			 * whose byte is taken here counted itself before it
			 * wrote it; one counted after this read writes its byte
			 * after it too, and wakes the next round */
			char junk[64];
			while (read(s->drain[0], junk, sizeof junk) > 0)
				;
			pthread_mutex_lock(&s->mu);
			unsigned long asked = s->drain_asked;
			pthread_mutex_unlock(&s->mu);
			for (int k = 0; k < 2; k++) {
				int avail = 0;
				if (pf[k].fd < 0 || ioctl(pf[k].fd, FIONREAD, &avail) != 0)
					continue;
				while (avail > 0) {
					if (!take(s, k, pf[k].fd, buf[k], &len[k], sizeof buf[k],
						  &got)) {
						close(pf[k].fd);
						pf[k].fd = -1;
						open_fds--;
						break;
					}
					avail -= (int)got;
				}
			}
			pthread_mutex_lock(&s->mu);
			s->drain_done = asked;
			pthread_cond_broadcast(&s->drained);
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!take(s, k, pf[k].fd, buf[k], &len[k], sizeof buf[k], &got)) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
			}
		}
	}
	if (s->log && fflush(s->log) != 0 && !s->log_errno)
		s->log_errno = errno ? errno : EIO;
	pthread_mutex_lock(&s->mu);
	s->reader_over = 1;
	pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

void cold_server_drain(struct cold_server *s)
{
	pthread_mutex_lock(&s->mu);
	unsigned long want = ++s->drain_asked;
	pthread_mutex_unlock(&s->mu);
	/* a full pipe (EAGAIN) already wakes the reader */
	(void)!write(s->drain[1], "", 1);
	pthread_mutex_lock(&s->mu);
	while (s->drain_done < want && !s->reader_over)
		pthread_cond_wait(&s->drained, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

int cold_server_start(struct cold_server *s, const char *cmd, const char *log_path)
{
	memset(s, 0, sizeof *s);
	s->wake[0] = s->wake[1] = s->drain[0] = s->drain[1] = -1;
	s->reader_over = 1; /* until the reader runs */
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->drained, NULL);
	if (log_path && !(s->log = fopen(log_path, "w")))
		return -1;
	int po[2], pe[2];
	if (pipe2(s->wake, O_CLOEXEC) != 0)
		s->wake[0] = s->wake[1] = -1;
	if (pipe2(s->drain, O_CLOEXEC | O_NONBLOCK) != 0)
		s->drain[0] = s->drain[1] = -1;
	if (s->wake[0] < 0 || s->drain[0] < 0 || pipe2(po, O_CLOEXEC) != 0 ||
	    pipe2(pe, O_CLOEXEC) != 0)
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
	s->reader_over = 0;
	if (pthread_create(&s->reader, NULL, reader, s) != 0)
		s->reader_over = 1;
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

/* A process of the group is still running. kill(-pgid, 0) finds zombies
 * too: a member whose parent died first (the shell of `sh -c 'server …'`)
 * is reparented to the nearest subreaper, and ttft-run, one, reaps only
 * once its own command has ended, so its zombie stood for the stop's
 * whole timeout, SIGKILL, and 5 s more (a review: `ttft-run -- ttft-cold`
 * reported a 20 s stop, and the demo waited that long each cycle). The
 * group's members are found in /proc: alive while one is not a zombie;
 * where /proc shows none of them (hidden), as kill says. */
static int group_alive(pid_t pgid)
{
	if (kill(-pgid, 0) != 0 && errno == ESRCH)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 1;
	int live = 0, zombie = 0;
	struct dirent *e;
	while (!live && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* pid (comm) state ppid pgrp: comm may hold ") " */
		const char *rp = strrchr(buf, ')');
		char st;
		int ppid, pgrp;
		if (!rp || sscanf(rp + 1, " %c %d %d", &st, &ppid, &pgrp) != 3 || pgrp != pgid)
			continue;
		if (st == 'Z' || st == 'X')
			zombie = 1;
		else
			live = 1;
	}
	closedir(d);
	return live || !zombie;
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
	/* the group is gone: what it wrote is in the pipes; the reader takes
	 * it and ends, whoever outside the group still holds them */
	(void)!write(s->wake[1], "", 1);
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

int cold_server_log_close(struct cold_server *s)
{
	if (s->log) {
		errno = 0;
		if (fclose(s->log) != 0 && !s->log_errno)
			s->log_errno = errno ? errno : EIO;
		s->log = NULL;
	}
	return s->log_errno;
}

void cold_server_free(struct cold_server *s)
{
	for (size_t i = 0; i < s->nlines; i++)
		free(s->lines[i].text);
	free(s->lines);
	if (s->log)
		fclose(s->log);
	for (int i = 0; i < 2; i++) {
		if (s->wake[i] >= 0)
			close(s->wake[i]);
		if (s->drain[i] >= 0)
			close(s->drain[i]);
	}
	pthread_cond_destroy(&s->drained);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof *s);
}

/* argv of pid, NUL-separated, *n bytes (malloc'd). */
static char *read_cmdline(long pid, size_t *n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap) {
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	fclose(f);
	if (!b || !len) {
		free(b);
		return NULL;
	}
	b[len] = 0;
	*n = len;
	return b;
}

/* A shell that runs a command (sh -c CMD, bash script) or a Python
 * multiprocessing child: not what the user meant by "the server". */
static int is_wrapper(const char *argv, size_t n)
{
	const char *base = strrchr(argv, '/');
	base = base ? base + 1 : argv;
	if (!strcmp(base, "sh") || !strcmp(base, "bash") || !strcmp(base, "dash"))
		return 1;
	for (size_t i = 0; i < n; i += strlen(argv + i) + 1)
		if (strstr(argv + i, "multiprocessing") || strstr(argv + i, "spawn_main"))
			return 1;
	return 0;
}

char *cold_server_argv(pid_t pgid, int *pid)
{
	DIR *d = opendir("/proc");
	if (!d)
		return NULL;
	long best = -1;
	unsigned long long best_start = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[64], buf[1024];
		snprintf(path, sizeof path, "/proc/%.20s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		long pgrp = 0;
		unsigned long long start = 0;
		/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime cutime cstime priority nice threads
		 * itrealvalue starttime(22) */
		if (!rp || sscanf(rp + 2, "%*c %*d %ld %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
				  "%*d %*d %*d %*d %*d %*d %llu", &pgrp, &start) != 2 ||
		    pgrp != pgid)
			continue;
		long p = atol(e->d_name);
		size_t len;
		char *argv = read_cmdline(p, &len);
		int wrapper = !argv || is_wrapper(argv, len);
		free(argv);
		if (wrapper)
			continue;
		if (best < 0 || start < best_start || (start == best_start && p < best)) {
			best = p;
			best_start = start;
		}
	}
	closedir(d);
	if (best < 0)
		best = pgid;
	size_t len;
	char *argv = read_cmdline(best, &len);
	if (!argv)
		return NULL;
	/* words joined by spaces, quoted where a shell would need it */
	size_t cap = len * 6 + 16, o = 0; /* worst case: every byte a quote */
	char *out = malloc(cap);
	for (size_t i = 0; out && i < len; i += strlen(argv + i) + 1) {
		const char *w = argv + i;
		int plain = *w != 0;
		for (const char *c = w; *c && plain; c++)
			plain = strchr("-_./:=,+@%0123456789", *c) || (*c >= 'a' && *c <= 'z') ||
				(*c >= 'A' && *c <= 'Z');
		if (o)
			out[o++] = ' ';
		if (plain) {
			o += (size_t)snprintf(out + o, cap - o, "%s", w);
			continue;
		}
		out[o++] = '\'';
		for (const char *c = w; *c; c++)
			o += (size_t)snprintf(out + o, cap - o, *c == '\'' ? "'\\''" : "%c", *c);
		out[o++] = '\'';
	}
	if (out)
		out[o] = 0;
	free(argv);
	*pid = (int)best;
	return out;
}

/* A word that is a number ("-1", "0.92"), not a flag. */
static int numeric(const char *w)
{
	char *e;
	strtod(w, &e);
	return e != w && !*e;
}

char *cold_cmdline_flags(const char *cmdline)
{
	char *dup = strdup(cmdline ? cmdline : ""), *words[512];
	if (!dup)
		return NULL;
	int n = 0;
	for (char *p = dup; *p && n < 512;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		char *w = p, *o = p;
		int q = 0;
		for (; *p && (q || *p != ' '); p++) {
			if (*p == '\'')
				q = !q;
			else
				*o++ = *p;
		}
		if (*p)
			p++;
		*o = 0;
		words[n++] = w;
	}
	size_t cap = strlen(cmdline ? cmdline : "") + 16 + 6 * (size_t)n, len = 0;
	char *out = malloc(cap);
	if (!out) {
		free(dup);
		return NULL;
	}
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		const char *w = words[i], *v = NULL;
		if (w[0] != '-' || !w[1] || numeric(w))
			continue;
		if (!strchr(w, '=') && i + 1 < n && (words[i + 1][0] != '-' || numeric(words[i + 1])))
			v = words[++i];
		len += (size_t)snprintf(out + len, cap - len, "%s`%s%s%s`", len ? ", " : "", w,
					v ? " " : "", v ? v : "");
	}
	if (!len)
		snprintf(out, cap, "(none)");
	free(dup);
	return out;
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
