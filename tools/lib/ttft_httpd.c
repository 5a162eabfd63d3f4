/* ttft_httpd.c — see ttft_httpd.h. */
#include "ttft_httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ttft_clock.h"

/* "PORT", ":PORT", "HOST:PORT", "[V6]:PORT" into a socket address. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl,
		      char *err, size_t errlen)
{
	char host[64] = "127.0.0.1";
	const char *port = addr;
	int v6 = 0;
	if (addr[0] == '[') {
		const char *e = strchr(addr, ']');
		if (!e || e[1] != ':' || (size_t)(e - addr - 1) >= sizeof host) {
			snprintf(err, errlen, "'%s': want [IPV6]:PORT", addr);
			return -1;
		}
		memcpy(host, addr + 1, (size_t)(e - addr - 1));
		host[e - addr - 1] = 0;
		port = e + 2;
		v6 = 1;
	} else if (strchr(addr, ':')) {
		const char *c = strrchr(addr, ':');
		if ((size_t)(c - addr) >= sizeof host) {
			snprintf(err, errlen, "'%s': the host is too long", addr);
			return -1;
		}
		if (c > addr) {
			memcpy(host, addr, (size_t)(c - addr));
			host[c - addr] = 0;
		}
		port = c + 1;
	}
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535) {
		snprintf(err, errlen, "'%s': the port is not a number in 0-65535 "
			 "(want PORT, HOST:PORT or [V6]:PORT)", addr);
		return -1;
	}
	memset(ss, 0, sizeof *ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*sl = sizeof *s6;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*sl = sizeof *s4;
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
			return 0;
	}
	snprintf(err, errlen, "'%s': '%s' is not a numeric address (give 127.0.0.1, "
		 "0.0.0.0, [::1] or a host's address)", addr, host);
	return -1;
}

int ttft_httpd_listen(struct ttft_httpd *h, const char *addr, char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	h->lfd = -1;
	for (int i = 0; i < TTFT_HTTPD_CONNS; i++)
		h->c[i].fd = -1;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_addr(addr, &ss, &sl, err, errlen) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s%s", addr, strerror(errno),
			 errno == EADDRINUSE ? " (another exporter? pick another port, "
					       "or 0 for a free one)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char ip[INET6_ADDRSTRLEN] = "?";
	int port;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		port = ntohs(s6->sin6_port);
		snprintf(h->addr, sizeof h->addr, "[%s]:%d", ip, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		port = ntohs(s4->sin_port);
		snprintf(h->addr, sizeof h->addr, "%s:%d", ip, port);
	}
	h->lfd = fd;
	return 0;
}

static void drop(struct ttft_httpd_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->nin = c->nout = c->off = 0;
	c->draining = 0;
}

static void answer(struct ttft_httpd_conn *c, int status, const char *reason,
		   const char *type, char *body, size_t blen, int head)
{
	char hdr[256];
	int hl = snprintf(hdr, sizeof hdr,
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n", status, reason, type, blen);
	size_t n = (size_t)hl + (head ? 0 : blen);
	c->out = malloc(n);
	if (!c->out) {
		free(body);
		drop(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)hl);
	if (!head && blen)
		memcpy(c->out + hl, body, blen);
	free(body);
	c->nout = n;
	c->off = 0;
}

static void error_page(struct ttft_httpd *h, struct ttft_httpd_conn *c, int status,
		       const char *reason, const char *why)
{
	h->errors++;
	char *b = strdup(why);
	answer(c, status, reason, "text/plain; charset=utf-8", b, b ? strlen(b) : 0, 0);
}

/* A qvalue (RFC 9110 12.4.2: "0", "0.5", "1.000") in thousandths; a
 * malformed one is 0, as prometheus/common's parser makes it: a weight
 * that cannot be read is not a reason to send a format. */
static int qvalue(const char *v, size_t n)
{
	if (n == 0 || (v[0] != '0' && v[0] != '1') || (n > 1 && v[1] != '.') || n > 5)
		return 0;
	int q = (v[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? 0 : q;
}

/* How much one Accept header value wants each format: the q (0-1000, -1:
 * not named) of the best-matching range for OpenMetrics 1.0.0 and for
 * the text format 0.0.4, written into om and text when it is named.
 * Media ranges are comma-separated, type/subtype and parameter names
 * case-insensitive, values maybe quoted. A range that names the version
 * we send (OpenMetrics 1.0.0, text 0.0.4) is more specific than one that
 * names none (OpenMetrics also 0.0.1, the parser Prometheus uses for
 * both), and decides when both are there; among equally specific ones the
 * highest q. Wildcards are no request for either: text is the default,
 * and prometheus/common's Negotiate sends OpenMetrics only when named. */
static void accept_ranges(const char *s, int om[2], int text[2])
{
	while (*s) {
		s += strspn(s, " \t,");
		if (!*s)
			break;
		size_t tl = strcspn(s, " \t;,");
		const char *p = s + tl;
		int is_om = tl == 28 && !strncasecmp(s, "application/openmetrics-text", 28);
		int is_text = tl == 10 && !strncasecmp(s, "text/plain", 10);
		int q = 1000, ver = 0; /* 0: none named, 1: ours, -1: another */
		for (;;) {
			p += strspn(p, " \t");
			if (*p != ';')
				break;
			p++;
			p += strspn(p, " \t");
			size_t nl = strcspn(p, " \t=;,");
			const char *name = p;
			p += nl;
			if (*p != '=')
				continue;
			p++;
			const char *v = p;
			size_t vl;
			if (*p == '"') {
				v = ++p;
				while (*p && *p != '"')
					p += (*p == '\\' && p[1]) ? 2 : 1;
				vl = (size_t)(p - v);
				if (*p)
					p++;
			} else {
				vl = strcspn(p, " \t;,");
				p += vl;
			}
			if (nl == 1 && (*name == 'q' || *name == 'Q')) {
				q = qvalue(v, vl);
			} else if (nl == 7 && !strncasecmp(name, "version", 7)) {
				if (is_om)
					ver = (vl == 5 && !strncmp(v, "1.0.0", 5)) ? 1
					    : (vl == 5 && !strncmp(v, "0.0.1", 5)) ? 0 : -1;
				else
					ver = (vl == 5 && !strncmp(v, "0.0.4", 5)) ? 1 : -1;
			}
		}
		/* what is left of the range (junk) up to the next comma */
		s = p + strcspn(p, ",");
		int *w = is_om ? om : is_text ? text : NULL;
		if (!w || ver < 0)
			continue;
		if (w[ver] < q)
			w[ver] = q;
	}
}

/* Whether to send OpenMetrics: only when the Accept headers (all of them,
 * RFC 9110 5.3) make it acceptable (q > 0: a q=0 refuses it) and want it
 * at least as much as the text format. */
static int wants_openmetrics(const char *req)
{
	int om[2] = {-1, -1}, text[2] = {-1, -1};
	for (const char *p = strchr(req, '\n'); p; p = strchr(p, '\n')) {
		p++;
		if (strncasecmp(p, "accept:", 7))
			continue;
		char v[TTFT_HTTPD_REQ_MAX];
		size_t k = strcspn(p + 7, "\r\n");
		memcpy(v, p + 7, k);
		v[k] = 0;
		accept_ranges(v, om, text);
	}
	int omq = om[1] >= 0 ? om[1] : om[0], textq = text[1] >= 0 ? text[1] : text[0];
	return omq > 0 && omq >= textq;
}

/* A whole request head is in c->in: answer it. */
static void handle(struct ttft_httpd *h, struct ttft_httpd_conn *c, ttft_httpd_page_fn page,
		   void *ctx)
{
	char method[16], target[256];
	c->in[c->nin] = 0;
	int head = 0;
	size_t line = strcspn(c->in, "\r\n");
	char *ver = memmem(c->in, line, " HTTP/1.", 8);
	if (!ver || sscanf(c->in, "%15[A-Z] %255[^ \r\n]", method, target) != 2) {
		error_page(h, c, 400, "Bad Request", "not an HTTP/1.x request\n");
		return;
	}
	if (!strcmp(method, "HEAD"))
		head = 1;
	else if (strcmp(method, "GET")) {
		error_page(h, c, 405, "Method Not Allowed", "GET /metrics\n");
		return;
	}
	target[strcspn(target, "?#")] = 0;
	/* the absolute form ("http://host:port/metrics"), which a server
	 * MUST accept (RFC 9112 3.2.2): its path part decides, the scheme's
	 * case and the authority do not */
	const char *path = target;
	if (!strncasecmp(target, "http://", 7) || !strncasecmp(target, "https://", 8)) {
		path = strstr(target, "://") + 3;
		path += strcspn(path, "/");
	}
	if (strcmp(path, "/metrics")) {
		error_page(h, c, 404, "Not Found", "this exporter serves /metrics only\n");
		return;
	}
	int om = wants_openmetrics(c->in);
	size_t len = 0;
	const char *type = "text/plain";
	char *body = page(ctx, om, &len, &type);
	if (!body) {
		error_page(h, c, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	/* only a GET hands the page over (a HEAD had ended --export-linger
	 * before any scraper read the final numbers, a review found) */
	c->page_gen = head ? 0 : h->gen + 1;
	h->pages++;
	answer(c, 200, "OK", type, body, len, head);
}

/* An answered connection: drop what the client still sends, one read a
 * round (a client sending fast cannot hold the loop), until it closes. */
static void drain(struct ttft_httpd_conn *c)
{
	ssize_t r;
	do
		r = recv(c->fd, c->in, sizeof c->in, 0);
	while (r < 0 && errno == EINTR);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		drop(c);
}

/* The bytes of the empty lines (CRLF or LF) at p's start. */
static size_t empty_lines(const char *p, size_t n)
{
	size_t k = 0;
	for (;;) {
		if (k < n && p[k] == '\n')
			k++;
		else if (k + 1 < n && p[k] == '\r' && p[k + 1] == '\n')
			k += 2;
		else
			return k;
	}
}

static void readable(struct ttft_httpd *h, struct ttft_httpd_conn *c, ttft_httpd_page_fn page,
		     void *ctx)
{
	if (c->draining) {
		drain(c);
		return;
	}
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->nin, sizeof c->in - 1 - c->nin, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			drop(c);
			return;
		}
		size_t from = c->nin > 3 ? c->nin - 3 : 0;
		c->nin += (size_t)r;
		c->in[c->nin] = 0;
		/* empty lines before the request line are ignored (RFC 9112
		 * 2.2); a CR alone may be one's first half */
		size_t skip = empty_lines(c->in, c->nin);
		if (skip) {
			memmove(c->in, c->in + skip, c->nin - skip + 1);
			c->nin -= skip;
			from = 0;
		}
		if (c->nin == 0 || (c->nin == 1 && c->in[0] == '\r'))
			continue;
		/* the first byte of a request line is a method's capital; a NUL
		 * is in no request (the C strings below would stop at it: a
		 * review's request with one got no answer) */
		if (c->in[0] < 'A' || c->in[0] > 'Z' || memchr(c->in, 0, c->nin)) {
			error_page(h, c, 400, "Bad Request", "not an HTTP/1.x request\n");
			return;
		}
		if (memmem(c->in + from, c->nin - from, "\r\n\r\n", 4) ||
		    memmem(c->in + from, c->nin - from, "\n\n", 2)) {
			handle(h, c, page, ctx);
			return;
		}
		if (c->nin == sizeof c->in - 1) {
			error_page(h, c, 431, "Request Header Fields Too Large",
				   "request head over 8 KiB\n");
			return;
		}
	}
}

static void writable(struct ttft_httpd *h, struct ttft_httpd_conn *c)
{
	while (c->off < c->nout) {
		ssize_t w = send(c->fd, c->out + c->off, c->nout - c->off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			drop(c);
			return;
		}
		c->off += (size_t)w;
	}
	if (c->page_gen && c->page_gen > h->served_gen)
		h->served_gen = c->page_gen;
	/* the answer is out: end our side (a FIN after it), but close only
	 * when the client has: a close with its bytes unread (a head over
	 * 8 KiB, a body, a next request) sends a reset, which fails the
	 * client's next send and can destroy the answer before it is read */
	free(c->out);
	c->out = NULL;
	c->nout = c->off = 0;
	if (shutdown(c->fd, SHUT_WR) != 0) {
		drop(c);
		return;
	}
	c->draining = 1;
}

static void accept_new(struct ttft_httpd *h, int64_t now)
{
	for (;;) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a connection gone before we took it */
		struct ttft_httpd_conn *c = NULL, *oldest = NULL;
		for (int i = 0; i < TTFT_HTTPD_CONNS && !c; i++) {
			struct ttft_httpd_conn *o = &h->c[i];
			if (o->fd < 0)
				c = o;
			else if (!oldest || o->draining > oldest->draining ||
				 (o->draining == oldest->draining && o->order < oldest->order))
				oldest = o;
		}
		if (!c) {
			/* all taken (slow or idle clients): one that has had its
			 * answer goes first (clients that do not close cannot
			 * push a scraper out), else the oldest */
			drop(oldest);
			h->evicted++;
			c = oldest;
		}
		c->fd = fd;
		c->nin = 0;
		c->page_gen = 0;
		c->order = ++h->accepted;
		c->deadline = now + (int64_t)TTFT_HTTPD_DEADLINE_MS * 1000000;
	}
}

void ttft_httpd_step(struct ttft_httpd *h, int timeout_ms, int wake_fd,
		     ttft_httpd_page_fn page, void *ctx)
{
	struct pollfd p[TTFT_HTTPD_CONNS + 2];
	int idx[TTFT_HTTPD_CONNS];
	nfds_t n = 0;
	p[n++] = (struct pollfd){h->lfd, POLLIN, 0};
	p[n++] = (struct pollfd){wake_fd, POLLIN, 0};
	int64_t now = ttft_now_ns();
	for (int i = 0; i < TTFT_HTTPD_CONNS; i++) {
		struct ttft_httpd_conn *c = &h->c[i];
		if (c->fd < 0)
			continue;
		int64_t left = (c->deadline - now) / 1000000;
		if (left <= 0) {
			h->timed_out += !c->draining; /* a drained one was answered */
			drop(c);
			continue;
		}
		if (left < timeout_ms)
			timeout_ms = (int)left + 1;
		idx[n - 2] = i;
		p[n++] = (struct pollfd){c->fd, c->out ? POLLOUT : POLLIN, 0};
	}
	if (poll(p, n, timeout_ms) <= 0)
		return;
	now = ttft_now_ns();
	for (nfds_t k = 2; k < n; k++) {
		struct ttft_httpd_conn *c = &h->c[idx[k - 2]];
		if (!p[k].revents || c->fd != p[k].fd)
			continue;
		if (!c->out && (p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			readable(h, c, page, ctx);
		else if (c->out && (p[k].revents & (POLLOUT | POLLHUP | POLLERR)))
			writable(h, c);
		/* an answer just made: try to send it now */
		if (c->fd >= 0 && c->out && c->off == 0)
			writable(h, c);
	}
	if (p[0].revents & POLLIN)
		accept_new(h, now);
}

void ttft_httpd_close(struct ttft_httpd *h)
{
	for (int i = 0; i < TTFT_HTTPD_CONNS; i++)
		drop(&h->c[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
}
