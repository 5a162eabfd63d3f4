/* ttft_shim.c — the shim's state and logic: start-up, the log, the per-fd
 * sniffer table, the connection filter, and record writing.
 *
 * Runs inside other people's processes. On the hot path: no locks, no
 * allocation, no stdio; errno is saved and restored by every caller.
 */
#include "ttft_shim.h"
#include "ttft_clock.h"
#include "ttft_env.h"
#include "ttft_log.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

TTFT_HIDDEN struct shim_fd shim_fds[TTFT_MAX_FD];
TTFT_HIDDEN struct shim_libc shim_libc;

static struct ttft_log g_log;
static pid_t g_pid;
static __thread pid_t t_tid __attribute__((tls_model("initial-exec")));

/* ---- filter: TTFT_FILTER=port:8000,127.0.0.1:8000,[::1]:8000,host:H ---- */

#define MAX_FILTERS 8
static struct filter {
	int family;       /* 0 = any address */
	uint8_t addr[16];
	uint16_t port;    /* host order; 0 = any port */
} g_filters[MAX_FILTERS];
static int g_nfilters;

TTFT_HIDDEN void *shim_resolve(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

TTFT_HIDDEN int64_t shim_now(void)
{
	return ttft_now_ns();
}

static pid_t cur_tid(void)
{
	if (__builtin_expect(t_tid == 0, 0))
		t_tid = (pid_t)syscall(SYS_gettid);
	return t_tid;
}

static void say(const char *a, const char *b, const char *c)
{
	/* stderr without stdio: the host's FILE buffers stay untouched. */
	const char *parts[] = {"ttftshim: ", a, b, c, "\n"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i])
			(void)!LIBC(write, "write")(2, parts[i], strlen(parts[i]));
}

static int parse_filter_item(const char *s, size_t n, struct filter *f)
{
	char buf[80];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(f, 0, sizeof *f);
	char *host = buf, *port = NULL;
	if (strncmp(buf, "port:", 5) == 0) {
		host = NULL;
		port = buf + 5;
	} else if (strncmp(buf, "host:", 5) == 0) {
		host = buf + 5;
	} else if (buf[0] == '[') {
		char *e = strchr(buf, ']');
		if (!e)
			return -1;
		*e = 0;
		host = buf + 1;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else {
		char *colon = strrchr(buf, ':');
		if (colon && strchr(buf, ':') == colon) {
			*colon = 0;
			port = colon + 1;
		}
	}
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (*end || p <= 0 || p > 65535)
			return -1;
		f->port = (uint16_t)p;
	}
	if (host && *host) {
		if (strcmp(host, "localhost") == 0)
			host = "127.0.0.1";
		if (inet_pton(AF_INET, host, f->addr) == 1)
			f->family = AF_INET;
		else if (inet_pton(AF_INET6, host, f->addr) == 1)
			f->family = AF_INET6;
		else
			return -1;
	}
	return 0;
}

static int parse_filters(const char *spec)
{
	const char *p = spec;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n) {
			if (g_nfilters == MAX_FILTERS)
				return -1;
			if (parse_filter_item(p, n, &g_filters[g_nfilters]) != 0)
				return -1;
			/* "localhost" means both loopbacks. */
			if (strncmp(p, "localhost", 9) == 0 ||
			    strncmp(p, "host:localhost", 14) == 0) {
				if (g_nfilters + 1 < MAX_FILTERS) {
					struct filter *f6 = &g_filters[g_nfilters + 1];
					*f6 = g_filters[g_nfilters];
					f6->family = AF_INET6;
					memset(f6->addr, 0, 16);
					f6->addr[15] = 1;
					g_nfilters++;
				}
			}
			g_nfilters++;
		}
		p += n + (e ? 1 : 0);
		if (!e)
			break;
	}
	return 0;
}

static int filter_match(const struct sockaddr *sa)
{
	if (g_nfilters == 0)
		return 1;
	uint16_t port;
	const uint8_t *a;
	int fam = sa->sa_family;
	if (fam == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		port = ntohs(s4->sin_port);
		a = (const uint8_t *)&s4->sin_addr;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		port = ntohs(s6->sin6_port);
		a = s6->sin6_addr.s6_addr;
	}
	for (int i = 0; i < g_nfilters; i++) {
		const struct filter *f = &g_filters[i];
		if (f->port && f->port != port)
			continue;
		if (f->family && (f->family != fam ||
				  memcmp(f->addr, a, fam == AF_INET ? 4 : 16)))
			continue;
		return 1;
	}
	return 0;
}

/* ---- start-up ---- */

static void atfork_child(void)
{
	g_pid = getpid();
	t_tid = 0;
}

TTFT_HIDDEN int shim_in_vfork_child(void)
{
	/* A vfork child shares our memory but has its own pid: it must not
	 * change the parent's fd table (CPython's subprocess closes every fd
	 * in the child). getpid is a real syscall in current glibc. */
	return getpid() != g_pid;
}

__attribute__((constructor)) static void shim_init(void)
{
	static const char *const names[] = {
		"connect", "send", "sendto", "sendmsg", "sendmmsg", "write",
		"writev", "recv", "recvfrom", "recvmsg", "recvmmsg", "read",
		"readv", "__read_chk", "__recv_chk", "__recvfrom_chk", "close",
		"close_range", "dup2", "dup3", "getsockopt", "getaddrinfo",
		"socket", "accept", "accept4", "dup",
	};
	void **slots = (void **)&shim_libc;
	_Static_assert(sizeof shim_libc == sizeof names, "one name a slot");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!slots[i])
			slots[i] = shim_resolve(names[i]);
	g_pid = getpid();
	pthread_atfork(NULL, NULL, atfork_child);

	const char *off = getenv("TTFT_DISABLE");
	if (off && *off && strcmp(off, "0") != 0)
		return;
	const char *flt = getenv("TTFT_FILTER");
	if (flt && *flt && parse_filters(flt) != 0) {
		say("TTFT_FILTER='", flt,
		    "' is not understood (use port:N, HOST:N, [V6]:N or "
		    "host:HOST, comma-separated); tracing is off");
		return;
	}
	char path[4096];
	ttft_log_default_path(path, sizeof path);
	uint64_t mb;
	(void)ttft_env_log_mb(&mb); /* a bad value: the default, as documented */
	const char *why = NULL;
	int e = errno;
	if (ttft_log_open(&g_log, path, mb << 20, &why) != 0) {
		say("cannot open log ", path, ":");
		say("  ", why, NULL);
		say("  tracing is off for this process; it runs normally "
		    "(set TTFT_LOG to a writable path)", NULL, NULL);
	}
	errno = e;
}

/* ---- records ---- */

static void put(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
		uint64_t conn, int64_t a, int64_t b, uint32_t seq,
		const char *text, size_t tlen)
{
	struct ttft_rec *r = ttft_log_reserve(&g_log);
	if (!r)
		return;
	r->kind = kind;
	r->flags = flags;
	r->t_ns = t;
	r->pid = g_pid;
	r->tid = cur_tid();
	r->fd = fd;
	r->err = err;
	r->conn = conn;
	r->a = a;
	r->b = b;
	r->seq = seq;
	if (text) {
		if (tlen > TTFT_REC_TEXT)
			tlen = TTFT_REC_TEXT;
		memcpy(r->text, text, tlen);
	}
	ttft_log_publish(r);
}

struct emit_ctx {
	int fd;
	uint64_t conn;
};

static void emit(void *ctx, const struct ttft_http_event *ev)
{
	const struct emit_ctx *c = ctx;
	int64_t b = ev->b;
	if (ev->kind == TTFT_EV_RESP_HEADERS) {
		/* The network's share of TTFT: one TCP_INFO per response. The
		 * caller restores errno. */
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		if (LIBC(getsockopt, "getsockopt")(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			b = ti.tcpi_rtt;
	}
	put(ev->kind, ev->flags, ev->t_ns, c->fd, 0, c->conn, ev->a, b,
	    ev->seq, ev->text, ev->text_len);
	/* TLS: the token became visible at the TLS read's return; the socket
	 * read that brought its ciphertext is the wire's view. */
	const struct shim_fd *s = &shim_fds[c->fd];
	int64_t tw = __atomic_load_n(&s->t_wire_rx, __ATOMIC_RELAXED);
	if (ev->kind == TTFT_EV_SSE_TOKEN && ev->b == 0 && s->tls && tw)
		put(TTFT_EV_TLS_WIRE, 0, tw, c->fd, 0, c->conn, 0, 0, ev->seq,
		    NULL, 0);
}

TTFT_HIDDEN void shim_put(uint16_t kind, uint16_t flags, int64_t t, int fd,
			  int err, uint64_t conn, int64_t a, int64_t b,
			  uint32_t seq, const char *text, size_t tlen)
{
	put(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
}

TTFT_HIDDEN int shim_tracing(void)
{
	return g_log.hdr != NULL;
}

/* "1.2.3.4:80" / "[::1]:80" without snprintf (connect is async-signal-safe;
 * snprintf is not). */
static size_t put_u(char *p, unsigned v)
{
	char d[10];
	size_t n = 0, k = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		p[k++] = d[--n];
	return k;
}

static size_t fmt_addr(char *out, const struct sockaddr *sa)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned port;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		const uint8_t *a = (const uint8_t *)&s4->sin_addr;
		for (int i = 0; i < 4; i++) {
			n += put_u(out + n, a[i]);
			out[n++] = i < 3 ? '.' : ':';
		}
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *a = s6->sin6_addr.s6_addr;
		/* Longest run of zero groups becomes "::". */
		int best = -1, bestlen = 0;
		for (int i = 0; i < 8;) {
			int j = i;
			while (j < 8 && !a[2 * j] && !a[2 * j + 1])
				j++;
			if (j - i > bestlen && j - i > 1) {
				best = i;
				bestlen = j - i;
			}
			i = j > i ? j : i + 1;
		}
		out[n++] = '[';
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				out[n++] = ':';
				if (i == 0)
					out[n++] = ':';
				i += bestlen - 1;
				continue;
			}
			unsigned g = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
			int started = 0;
			for (int sh = 12; sh >= 0; sh -= 4) {
				unsigned d = (g >> sh) & 15;
				if (d || started || sh == 0) {
					out[n++] = hex[d];
					started = 1;
				}
			}
			if (i < 7)
				out[n++] = ':';
		}
		out[n++] = ']';
		out[n++] = ':';
		port = ntohs(s6->sin6_port);
	}
	n += put_u(out + n, port);
	return n;
}

/* ---- logic behind the wrappers ---- */

TTFT_HIDDEN int shim_wants(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!g_log.hdr || (unsigned)fd >= TTFT_MAX_FD || !sa)
		return 0;
	if (!(sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) &&
	    !(sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)))
		return 0;
	int type = 0;
	socklen_t tl = sizeof type;
	int e = errno;
	int r = LIBC(getsockopt, "getsockopt")(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	errno = e;
	if (r != 0 || type != SOCK_STREAM)
		return 0;
	return filter_match(sa);
}

TTFT_HIDDEN void shim_connect_begin(int fd, const struct sockaddr *sa,
				    int64_t t)
{
	struct shim_fd *s = &shim_fds[fd];
	__atomic_store_n(&s->traced, 0, __ATOMIC_RELAXED);
	s->conn = ttft_log_new_conn(&g_log);
	s->pending = 1;
	s->tx_started = 0;
	s->tls = SHIM_PLAIN;
	s->wire_eof = 0;
	__atomic_store_n(&s->t_wire_rx, 0, __ATOMIC_RELAXED);
	ttft_http_tx_init(&s->tx);
	ttft_http_rx_init(&s->rx);
	char text[64];
	size_t n = fmt_addr(text, sa);
	put(TTFT_EV_CONNECT_BEGIN, sa->sa_family == AF_INET6 ? TTFT_F_V6 : 0,
	    t, fd, 0, s->conn, 0, 0, 0, text, n);
	/* Release: the state above is complete before anyone sees traced. */
	__atomic_store_n(&s->traced, 1, __ATOMIC_RELEASE);
}

TTFT_HIDDEN void shim_established(int fd, int64_t t)
{
	struct shim_fd *s = &shim_fds[fd];
	if (!s->pending)
		return;
	s->pending = 0;
	put(TTFT_EV_ESTABLISHED, 0, t, fd, 0, s->conn, 0, 0, 0, NULL, 0);
}

TTFT_HIDDEN void shim_connect_end(int fd, int ret, int err, int64_t t)
{
	struct shim_fd *s = &shim_fds[fd];
	put(TTFT_EV_CONNECT_END, 0, t, fd, ret ? err : 0, s->conn, ret, 0, 0,
	    NULL, 0);
	if (ret == 0 || err == EISCONN)
		shim_established(fd, t);
	else if (err != EINPROGRESS && err != EINTR && err != EALREADY)
		s->pending = 0; /* failed: the error is in the record above */
}

TTFT_HIDDEN void shim_connect_failed(int fd, int soerr, int64_t t)
{
	struct shim_fd *s = &shim_fds[fd];
	if (!s->pending)
		return;
	s->pending = 0;
	put(TTFT_EV_CONNECT_END, 0, t, fd, soerr, s->conn, -1, 1, 0, NULL, 0);
}

static int hard_error(int err)
{
	return err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
	       err != EINPROGRESS && err != ENOTCONN;
}

TTFT_HIDDEN void shim_on_sent(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int64_t t0, int64_t t1)
{
	struct shim_fd *s = &shim_fds[fd];
	if (ret < 0) {
		if (hard_error(err))
			put(TTFT_EV_IO_ERROR, 0, t1, fd, err, s->conn, ret, 0,
			    s->tx.seq, "send", 4);
		return;
	}
	if (s->pending)
		shim_established(fd, t0);
	if (!s->tx_started && ret > 0) {
		/* A TLS record (0x16 handshake, version 3.x) can never start
		 * an HTTP/1.x request: keep the ciphertext from the sniffer. */
		uint8_t head[TTFT_TLS_HELLO];
		size_t n = 0;
		for (int i = 0; i < iovcnt && n < sizeof head && n < (size_t)ret; i++)
			for (size_t k = 0; k < iov[i].iov_len && n < sizeof head &&
					   n < (size_t)ret; k++)
				head[n++] = ((const uint8_t *)iov[i].iov_base)[k];
		s->tx_started = 1;
		if (n && head[0] == 0x16 && (n == 1 || head[1] == 0x03))
			shim_tls_hello(fd, head, n, t0);
	}
	if (s->tls)
		return; /* ciphertext: the TLS library's plaintext is fed */
	size_t left = (size_t)ret;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		shim_plain_sent(fd, iov[i].iov_base, n, t0, t1);
		left -= n;
	}
}

TTFT_HIDDEN void shim_plain_sent(int fd, const void *p, size_t n, int64_t t0,
				 int64_t t1)
{
	struct shim_fd *s = &shim_fds[fd];
	struct emit_ctx c = {fd, s->conn};
	ttft_http_tx_feed(&s->tx, p, n, t0, t1, emit, &c);
}

TTFT_HIDDEN void shim_plain_recv(int fd, const void *p, size_t n, int64_t t1)
{
	struct shim_fd *s = &shim_fds[fd];
	struct emit_ctx c = {fd, s->conn};
	ttft_http_rx_feed(&s->rx, &s->tx, p, n, t1, emit, &c);
}

TTFT_HIDDEN void shim_plain_eof(int fd, int64_t t1)
{
	struct shim_fd *s = &shim_fds[fd];
	struct emit_ctx c = {fd, s->conn};
	ttft_http_rx_eof(&s->rx, t1, emit, &c);
}

TTFT_HIDDEN void shim_on_recv(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int flags, int64_t t1)
{
	struct shim_fd *s = &shim_fds[fd];
	struct emit_ctx c = {fd, s->conn};
	if (ret < 0) {
		if (hard_error(err))
			put(TTFT_EV_IO_ERROR, 0, t1, fd, err, s->conn, ret, 0,
			    s->rx.seq, "recv", 4);
		return;
	}
	if (flags & MSG_PEEK)
		return; /* the same bytes will be read again */
	if (s->pending)
		shim_established(fd, t1);
	size_t cap = 0;
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	if (s->tls) {
		/* Ciphertext: only when it arrived. */
		if (ret > 0)
			__atomic_store_n(&s->t_wire_rx, t1, __ATOMIC_RELAXED);
		else if (cap)
			s->wire_eof = 1;
		return;
	}
	if (flags & MSG_TRUNC) {
		ttft_http_rx_lost(&s->rx, t1, emit, &c);
		return;
	}
	if (ret == 0) {
		if (cap)
			shim_plain_eof(fd, t1);
		return;
	}
	size_t left = (size_t)ret;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		shim_plain_recv(fd, iov[i].iov_base, n, t1);
		left -= n;
	}
}

TTFT_HIDDEN void shim_on_close(int fd, int64_t t)
{
	struct shim_fd *s = &shim_fds[fd];
	/* Clear before the real close: once the number is free, another
	 * thread's socket()+connect() may claim it. */
	__atomic_store_n(&s->traced, 0, __ATOMIC_RELEASE);
	put(TTFT_EV_CLOSE, 0, t, fd, 0, s->conn, 0, 0, s->tx.seq, NULL, 0);
}

TTFT_HIDDEN void shim_forget(int fd)
{
	if ((unsigned)fd < TTFT_MAX_FD)
		__atomic_store_n(&shim_fds[fd].traced, 0, __ATOMIC_RELEASE);
}

TTFT_HIDDEN void shim_dns(int end, const char *host, int ret, int64_t t)
{
	if (!g_log.hdr)
		return;
	size_t n = host ? strnlen(host, TTFT_REC_TEXT) : 0;
	put(end ? TTFT_EV_DNS_END : TTFT_EV_DNS_BEGIN, 0, t, -1, 0, 0, ret, 0,
	    0, host, n);
}

/* Public: an application's own mark (ttft-probe calls it when it finds the
 * shim loaded), tied to the connection on fd when that fd is traced. */
TTFT_PUBLIC void ttft_mark(int fd, int code)
{
	if (!g_log.hdr)
		return;
	int e = errno;
	uint64_t conn = shim_is_traced(fd) ? shim_fds[fd].conn : 0;
	uint32_t seq = conn ? shim_fds[fd].tx.seq : 0;
	put(TTFT_EV_MARK, 0, shim_now(), fd, 0, conn, 0, code, seq, NULL, 0);
	errno = e;
}
