/* bench_tls — what the TLS taps cost their host, as ratios in one run: a
 * client reading an SSE stream of 2000 token events over TLS (one TLS
 * record per event, so one SSL_read and its socket reads per event), run
 * without the shim, with it (the connection traced: plaintext tapped and
 * parsed, ciphertext reads timed), and with it but the connection filtered
 * out (every SSL call still passes through the wrappers). The figure is the
 * client's CPU time per event (CLOCK_PROCESS_CPUTIME_ID of a process that
 * only runs the client), best of 3 interleaved runs: the server's speed
 * and the scheduler stay out of it.
 * usage: bench_tls [SHIM]   (default build/libttftshim.so) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EVENTS 2000
#define ROUNDS 10

static char *g_resp;
static size_t g_resp_len;

static void build_response(void)
{
	size_t cap = EVENTS * 300 + 256;
	g_resp = malloc(cap);
	g_resp_len = (size_t)sprintf(g_resp, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				     "transfer-encoding: chunked\r\n\r\n");
}

/* Event i as one HTTP chunk; the server writes each as its own record. */
static size_t event(char *out, int i)
{
	char ev[300];
	int el = snprintf(ev, sizeof ev,
			  "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\","
			  "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
			  "\"text\":\" tok%d\",\"logprobs\":null,\"finish_reason\":null,"
			  "\"stop_reason\":null}]}\n\n", i);
	return (size_t)sprintf(out, "%x\r\n%s\r\n", el, ev);
}

static size_t stream_len(void)
{
	char buf[400];
	size_t n = g_resp_len + 5;
	for (int i = 0; i < EVENTS; i++)
		n += event(buf, i);
	return n;
}

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (!ctx || !key || !x)
		return NULL;
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"bench", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, key, EVP_sha256()) || SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		return NULL;
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* One client connection at a time, each answered ROUNDS times. */
static void serve(int ls, SSL_CTX *ctx)
{
	char buf[4096], ev[400];
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		SSL *s = SSL_new(ctx);
		SSL_set_fd(s, fd);
		if (SSL_accept(s) == 1) {
			for (int r = 0; r < ROUNDS; r++) {
				size_t got = 0;
				while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4)) {
					int k = SSL_read(s, buf + got, 1);
					if (k <= 0)
						goto next;
					got += (size_t)k;
				}
				SSL_write(s, g_resp, (int)g_resp_len);
				for (int i = 0; i < EVENTS; i++)
					SSL_write(s, ev, (int)event(ev, i));
				SSL_write(s, "0\r\n\r\n", 5);
			}
		}
next:
		SSL_free(s);
		close(fd);
	}
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The client: best round's CPU time per event, in ns, on stdout. */
static int client(int port)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!ctx || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return 1;
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	if (SSL_connect(s) != 1)
		return 1;
	static const char req[] = "POST /v1/completions HTTP/1.1\r\nHost: b\r\n\r\n";
	size_t want = stream_len();
	char buf[4096];
	double best = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = cpu_now();
		SSL_write(s, req, sizeof req - 1);
		for (size_t got = 0; got < want;) {
			int k = SSL_read(s, buf, sizeof buf);
			if (k <= 0)
				return 1;
			got += (size_t)k;
		}
		double t = cpu_now() - t0;
		best = t < best ? t : best;
	}
	printf("%.1f\n", best / EVENTS * 1e9);
	SSL_free(s);
	close(fd);
	return 0;
}

static double run(const char *env, int port)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s /proc/%d/exe client %d", env, (int)getpid(), port);
	FILE *f = popen(cmd, "r");
	double ns = 0;
	if (!f || fscanf(f, "%lf", &ns) != 1) {
		fprintf(stderr, "bench_tls: client run failed: %s\n", cmd);
		exit(1);
	}
	pclose(f);
	return ns;
}

int main(int argc, char **argv)
{
	build_response();
	if (argc > 2 && !strcmp(argv[1], "client"))
		return client(atoi(argv[2]));
	const char *shim = argc > 1 ? argv[1] : "build/libttftshim.so";
	char abs[4096];
	if (!realpath(shim, abs)) {
		fprintf(stderr, "bench_tls: no shim at %s (run make)\n", shim);
		return 1;
	}
	SSL_CTX *ctx = server_ctx();
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (!ctx || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
		fprintf(stderr, "bench_tls: cannot set up the TLS server\n");
		return 1;
	}
	int port = ntohs(sa.sin_port);
	pid_t srv = fork();
	if (srv == 0) {
		serve(ls, ctx);
		_exit(0);
	}
	close(ls);
	char log[128], traced[4400], filtered[4400];
	snprintf(log, sizeof log, "/dev/shm/bench_tls.%d.log", (int)getpid());
	snprintf(traced, sizeof traced, "TTFT_LOG=%s LD_PRELOAD=%s", log, abs);
	snprintf(filtered, sizeof filtered, "TTFT_LOG=%s TTFT_FILTER=port:1 LD_PRELOAD=%s",
		 log, abs);
	double b0 = 1e9, b1 = 1e9, b2 = 1e9;
	for (int i = 0; i < 3; i++) { /* interleaved, best of 3 */
		double x = run("", port);
		b0 = x < b0 ? x : b0;
		unlink(log);
		x = run(traced, port);
		b1 = x < b1 ? x : b1;
		unlink(log);
		x = run(filtered, port);
		b2 = x < b2 ? x : b2;
	}
	unlink(log);
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	printf("TLS SSE stream, client CPU per token event (one SSL_read each)\n");
	printf("                                 without     with shim   ratio\n");
	printf("traced (plaintext tapped)      %8.1f ns  %8.1f ns   %.3f\n", b0, b1, b1 / b0);
	printf("filtered out (calls pass)      %8.1f ns  %8.1f ns   %.3f\n", b0, b2, b2 / b0);
	printf("shim cost per TLS token event: %+.1f ns traced, %+.1f ns passing\n",
	       b1 - b0, b2 - b0);
	return 0;
}
