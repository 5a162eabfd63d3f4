/* tls_again — a non-blocking TLS client whose request does not fit the
 * socket: its write returns "again" (OpenSSL's SSL_ERROR_WANT_WRITE,
 * GnuTLS's GNUTLS_E_AGAIN) and is called again, as each library's manual
 * says: OpenSSL with the same buffer, GnuTLS with NULL, 0 (its manual
 * allows it: the data is already in the library). Two streamed requests
 * with a large prompt on one keep-alive connection; one JSON line each with
 * the client's own CLOCK_MONOTONIC stamps: start_ns (before its first
 * write), handed_ns (the return of its first write call, the one that said
 * "again": the request had begun leaving by then), first_ns, tokens, and
 * how often a write said "again".
 *   usage: tls_again openssl|gnutls PORT PROMPT_BYTES
 * GnuTLS has no headers in the build's dependencies: the few calls are
 * declared here and the library is the one git's libcurl-gnutls brings. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* GnuTLS 3 (gnutls/gnutls.h) */
typedef struct gnutls_session_int *gnutls_session_t;
typedef struct gnutls_cert_cred *gnutls_certificate_credentials_t;
int gnutls_global_init(void);
int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *);
int gnutls_init(gnutls_session_t *, unsigned);
int gnutls_set_default_priority(gnutls_session_t);
int gnutls_credentials_set(gnutls_session_t, int, void *);
void gnutls_transport_set_int2(gnutls_session_t, int, int);
int gnutls_handshake(gnutls_session_t);
int gnutls_record_get_direction(gnutls_session_t);
int gnutls_error_is_fatal(int);
ssize_t gnutls_record_send(gnutls_session_t, const void *, size_t);
ssize_t gnutls_record_recv(gnutls_session_t, void *, size_t);
#define GNUTLS_CLIENT 2
#define GNUTLS_NONBLOCK (1 << 3)
#define GNUTLS_CRD_CERTIFICATE 1
#define GNUTLS_E_AGAIN (-28)

static int g_gnutls, g_fd;
static SSL *g_ssl;
static gnutls_session_t g_sess;

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void wait_fd(int out)
{
	struct pollfd p = {g_fd, out ? POLLOUT : POLLIN, 0};
	poll(&p, 1, -1);
}

static void die(const char *what)
{
	fprintf(stderr, "tls_again: %s failed\n", what);
	exit(1);
}

/* One write call: > 0 bytes taken, 0 again (waited for), < 0 failed. */
static long write_once(const void *p, size_t n)
{
	if (g_gnutls) {
		ssize_t r = gnutls_record_send(g_sess, p, n);
		if (r == GNUTLS_E_AGAIN) {
			wait_fd(gnutls_record_get_direction(g_sess));
			return 0;
		}
		return r;
	}
	int r = SSL_write(g_ssl, p, (int)n);
	if (r > 0)
		return r;
	int e = SSL_get_error(g_ssl, r);
	if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
		return -1;
	wait_fd(e == SSL_ERROR_WANT_WRITE);
	return 0;
}

static long read_once(void *p, size_t n)
{
	for (;;) {
		if (g_gnutls) {
			ssize_t r = gnutls_record_recv(g_sess, p, n);
			if (r != GNUTLS_E_AGAIN)
				return r;
			wait_fd(0);
			continue;
		}
		int r = SSL_read(g_ssl, p, (int)n);
		if (r > 0)
			return r;
		int e = SSL_get_error(g_ssl, r);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			return -1;
		wait_fd(e == SSL_ERROR_WANT_WRITE);
	}
}

static void handshake(void)
{
	for (;;) {
		if (g_gnutls) {
			int r = gnutls_handshake(g_sess);
			if (r == 0)
				return;
			if (r != GNUTLS_E_AGAIN)
				die("gnutls_handshake");
			wait_fd(gnutls_record_get_direction(g_sess));
			continue;
		}
		int r = SSL_connect(g_ssl);
		if (r == 1)
			return;
		int e = SSL_get_error(g_ssl, r);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			die("SSL_connect");
		wait_fd(e == SSL_ERROR_WANT_WRITE);
	}
}

/* OpenSSL: the whole request in one write (Python's http.client joins
 * headers and a bytes body). GnuTLS: the headers first, then the body,
 * whose retries pass NULL, 0. */
static void request(size_t prompt, long long t0)
{
	char *req = malloc(prompt + 512);
	static const char head[] = "{\"prompt\":\"",
			  tail[] = "\",\"max_tokens\":5,\"stream\":true}";
	int body = (int)(strlen(head) + prompt + strlen(tail));
	int h = sprintf(req, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			body);
	int len = h + sprintf(req + h, "%s", head);
	memset(req + len, 'x', prompt);
	len += (int)prompt;
	len += sprintf(req + len, "%s", tail);
	long long handed = 0;
	int again = 0, off = 0;
	if (g_gnutls) {
		if (write_once(req, (size_t)h) != h)
			die("the headers' write");
		off = h;
	}
	const char *p = req + off;
	size_t n = (size_t)(len - off);
	while (off < len) {
		long r = write_once(p, n);
		if (!handed)
			handed = now_ns();
		if (r < 0)
			die("write");
		if (r == 0) {
			again++;
			if (g_gnutls) {
				p = NULL;
				n = 0;
			}
			continue;
		}
		off += (int)r;
		p = req + off;
		n = (size_t)(len - off);
	}
	free(req);
	/* the response: chunked SSE; a token is an event whose text is
	 * non-empty; done at the last chunk */
	static char all[1 << 16];
	size_t got = 0;
	long long first = 0;
	int tokens = 0;
	while (!memmem(all, got, "0\r\n\r\n", 5)) {
		long r = read_once(all + got, sizeof all - 1 - got);
		if (r <= 0)
			die("read");
		got += (size_t)r;
		all[got] = 0;
		int k = 0;
		for (const char *q = all; (q = strstr(q, "\"text\":\"")); q += 8)
			k += q[8] != '"';
		if (k > tokens && !first)
			first = now_ns();
		tokens = k;
	}
	printf("{\"client\":\"%s\",\"start_ns\":%lld,\"handed_ns\":%lld,"
	       "\"first_ns\":%lld,\"tokens\":%d,\"again\":%d}\n",
	       g_gnutls ? "gnutls" : "openssl", t0, handed, first, tokens, again);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tls_again openssl|gnutls PORT PROMPT_BYTES\n");
		return 2;
	}
	g_gnutls = strcmp(argv[1], "gnutls") == 0;
	long long t_open = now_ns();
	g_fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096; /* the request must not fit */
	setsockopt(g_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(g_fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect");
	fcntl(g_fd, F_SETFL, O_NONBLOCK);
	if (g_gnutls) {
		gnutls_certificate_credentials_t cred;
		gnutls_global_init();
		gnutls_certificate_allocate_credentials(&cred);
		gnutls_init(&g_sess, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
		gnutls_set_default_priority(g_sess);
		gnutls_credentials_set(g_sess, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int2(g_sess, g_fd, g_fd);
	} else {
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		g_ssl = SSL_new(ctx); /* the test's certificate: not verified */
		SSL_set_fd(g_ssl, g_fd);
	}
	handshake();
	for (int i = 0; i < 2; i++)
		request(strtoul(argv[3], NULL, 10), i ? now_ns() : t_open);
	close(g_fd);
	return 0;
}
