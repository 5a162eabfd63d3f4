/* bench_shim — what the shim costs its host, as ratios measured in one run:
 * the same workloads with and without LD_PRELOAD=libttftshim.so.
 *   fast path: write+read of 1 byte through a pipe (an fd the shim skips)
 *   stream:    an HTTP/1.1 request answered by a chunked SSE stream of 2000
 *              token events over loopback TCP, read in 4 KiB reads (the
 *              shim parses and logs every event)
 * usage: bench_shim [SHIM]   (default build/libttftshim.so)
 * Noisy machines: read the ratios, not the absolute times. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIPE_OPS 400000
#define EVENTS 2000
#define ROUNDS 20

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *g_resp;
static size_t g_resp_len;

static void build_response(void)
{
	size_t cap = EVENTS * 300 + 256;
	g_resp = malloc(cap);
	size_t n = (size_t)sprintf(g_resp, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				   "transfer-encoding: chunked\r\n\r\n");
	for (int i = 0; i < EVENTS; i++) {
		char ev[300];
		int el = snprintf(ev, sizeof ev,
				  "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\","
				  "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
				  "\"text\":\" tok%d\",\"logprobs\":null,\"finish_reason\":null,"
				  "\"stop_reason\":null}]}\n\n", i);
		n += (size_t)sprintf(g_resp + n, "%x\r\n%s\r\n", el, ev);
	}
	n += (size_t)sprintf(g_resp + n, "0\r\n\r\n");
	g_resp_len = n;
}

static void *server(void *arg)
{
	int ls = *(int *)arg;
	int fd = accept(ls, NULL, NULL);
	char buf[4096];
	for (int r = 0; r < ROUNDS; r++) {
		size_t got = 0;
		while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0) {
			ssize_t k = recv(fd, buf + got, 1, 0);
			if (k <= 0)
				return NULL;
			got += (size_t)k;
		}
		for (size_t off = 0; off < g_resp_len;) {
			ssize_t w = send(fd, g_resp + off, g_resp_len - off, 0);
			if (w <= 0)
				return NULL;
			off += (size_t)w;
		}
	}
	close(fd);
	return NULL;
}

static void inner(void)
{
	int p[2];
	if (pipe(p) != 0)
		exit(1);
	char c = 'x';
	double t0 = now();
	for (int i = 0; i < PIPE_OPS; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			exit(1);
	}
	double pipe_ns = (now() - t0) / PIPE_OPS * 1e9;

	build_response();
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	bind(ls, (struct sockaddr *)&sa, sizeof sa);
	listen(ls, 1);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	pthread_t th;
	pthread_create(&th, NULL, server, &ls);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		exit(1);
	static const char req[] = "POST /v1/completions HTTP/1.1\r\nHost: b\r\n\r\n";
	char *buf = malloc(4096);
	double best = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		double s = now();
		send(fd, req, sizeof req - 1, 0);
		size_t got = 0;
		while (got < g_resp_len) {
			ssize_t k = recv(fd, buf, 4096, 0);
			if (k <= 0)
				exit(1);
			got += (size_t)k;
		}
		double e = now() - s;
		if (e < best)
			best = e;
	}
	pthread_join(th, NULL);
	printf("%.3f %.3f\n", pipe_ns, best / EVENTS * 1e9);
}

static void run(const char *shim, const char *log, double *pipe_ns, double *ev_ns)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s%s%s /proc/%d/exe inner", shim ? "TTFT_LOG=" : "",
		 shim ? log : "", "", (int)getpid());
	if (shim)
		snprintf(cmd, sizeof cmd, "TTFT_LOG=%s LD_PRELOAD=%s /proc/%d/exe inner",
			 log, shim, (int)getpid());
	else
		snprintf(cmd, sizeof cmd, "/proc/%d/exe inner", (int)getpid());
	FILE *f = popen(cmd, "r");
	if (!f || fscanf(f, "%lf %lf", pipe_ns, ev_ns) != 2) {
		fprintf(stderr, "bench_shim: inner run failed: %s\n", cmd);
		exit(1);
	}
	pclose(f);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "inner")) {
		inner();
		return 0;
	}
	const char *shim = argc > 1 ? argv[1] : "build/libttftshim.so";
	char abs[4096];
	if (!realpath(shim, abs)) {
		fprintf(stderr, "bench_shim: no shim at %s (run make)\n", shim);
		return 1;
	}
	char log[128];
	snprintf(log, sizeof log, "/dev/shm/bench_shim.%d.log", (int)getpid());
	double p0 = 1e9, e0 = 1e9, p1 = 1e9, e1 = 1e9;
	for (int i = 0; i < 3; i++) { /* interleaved, best of 3 */
		double p, e;
		run(NULL, NULL, &p, &e);
		p0 = p < p0 ? p : p0;
		e0 = e < e0 ? e : e0;
		unlink(log);
		run(abs, log, &p, &e);
		p1 = p < p1 ? p : p1;
		e1 = e < e1 ? e : e1;
	}
	unlink(log);
	printf("workload                         without     with shim   ratio\n");
	printf("pipe write+read (untraced fd)  %8.1f ns  %8.1f ns   %.3f\n", p0, p1, p1 / p0);
	printf("SSE stream, per token event    %8.1f ns  %8.1f ns   %.3f\n", e0, e1, e1 / e0);
	printf("shim cost per token event: %+.1f ns\n", e1 - e0);
	return 0;
}
